//! Where a dossier is received and which agency decides it (docs/map-2025.md §4.1): the
//! receiving centre (the counter officer's, or the one the citizen chose), the competent
//! agency (the procedure's department, or the commune chosen for a commune-level one), and
//! the refusal, with the places, of a procedure that may not be received there.
//!
//! Pure over the province's [`Directory`]: intake and the counter's search ask the same
//! questions of the same tree.

use motcua_core::access::Role;
use motcua_core::catalogue::{Agency, AgencyKind, Level, ProcedureContent, Receivable};
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::map;

use super::directory::Directory;
use crate::auth::Principal;
use crate::error::AppError;

/// Where a dossier is received and who decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reception {
    /// The receiving agency: a centre, or a department that receives its own procedures.
    pub receiving: AgencyCode,
    /// The agency competent to decide it.
    pub competent: AgencyCode,
}

/// Who receives the dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receiver {
    /// A counter officer: the agencies of their counter grants in the province, and whether
    /// one grant covers the whole province (they receive at any place).
    Counter {
        /// The agencies their grants name (not the province's own code).
        agencies: Vec<AgencyCode>,
        /// A grant at the province's root: any place of the province.
        province_wide: bool,
    },
    /// A citizen filing online.
    Online,
}

impl Receiver {
    /// The counter grants of `p` in `province`; `None` when they hold none.
    pub fn counter_of(p: &Principal, province: &ProvinceCode) -> Option<Receiver> {
        let grants: Vec<&AgencyCode> = p
            .access
            .grants()
            .iter()
            .filter(|g| g.role == Role::CounterOfficer && &g.province == province)
            .map(|g| &g.agency)
            .collect();
        if grants.is_empty() {
            return None;
        }
        Some(Receiver::Counter {
            province_wide: grants.iter().any(|a| *a == province.as_agency()),
            agencies: grants
                .into_iter()
                .filter(|a| *a != province.as_agency())
                .cloned()
                .collect(),
        })
    }

    /// Whether this receiver may receive at `agency`.
    fn works_at(&self, agency: &AgencyCode) -> bool {
        match self {
            Receiver::Counter {
                agencies,
                province_wide,
            } => *province_wide || agencies.contains(agency),
            Receiver::Online => true,
        }
    }

    /// The one place this counter officer works at, when there is exactly one.
    fn only_place(&self) -> Option<&AgencyCode> {
        match self {
            Receiver::Counter {
                agencies,
                province_wide: false,
            } if agencies.len() == 1 => agencies.first(),
            _ => None,
        }
    }
}

/// What the request says about the place: the centre chosen and the competent commune,
/// as codes (checked here).
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    /// `centre`: where it is received (a counter officer with several counters, or the
    /// citizen's choice of where to have it checked and the result handed back).
    pub centre: Option<&'a str>,
    /// `commune`: the competent commune of a commune-level procedure.
    pub commune: Option<&'a str>,
}

/// The agency a code names in the directory (aliases followed), working, of one of
/// `kinds`; otherwise a 422 on `field`.
fn named<'d>(
    dir: &'d Directory,
    field: &str,
    code: &str,
    kinds: &[AgencyKind],
    what: &str,
) -> Result<&'d Agency, AppError> {
    let code = AgencyCode::parse(code).map_err(|e| AppError::code(field, e))?;
    dir.resolve(&code)
        .filter(|a| a.is_active() && kinds.contains(&a.kind))
        .ok_or_else(|| {
            AppError::bad(
                "invalid_field",
                field,
                format!("Mã {code} không phải {what} đang hoạt động của tỉnh."),
            )
        })
}

/// The competent agency of a dossier of `content` received at `centre` (when known).
fn competent(
    dir: &Directory,
    content: &ProcedureContent,
    centre: Option<&AgencyCode>,
    commune: Option<&str>,
) -> Result<AgencyCode, AppError> {
    if content.level != Level::Commune {
        if commune.is_some() {
            return Err(AppError::bad(
                "invalid_field",
                "commune",
                "Chỉ thủ tục cấp xã mới chọn xã, phường giải quyết.",
            ));
        }
        return Ok(content.agency.clone());
    }
    let chosen = match commune {
        Some(code) => Some(named(
            dir,
            "commune",
            code,
            &[AgencyKind::Commune],
            "xã, phường, đặc khu",
        )?),
        None => centre.and_then(|c| dir.tree.commune_of(c)).filter(|c| c.is_active()),
    };
    let chosen = match chosen {
        Some(c) => c,
        // One commune only: no choice to make.
        None => match content.communes.as_slice() {
            [only] => dir.resolve(only).filter(|a| a.is_active()).ok_or_else(|| {
                AppError::Conflict(format!(
                    "Xã, phường giải quyết thủ tục «{}» không còn hoạt động.",
                    content.name
                ))
            })?,
            _ => {
                return Err(AppError::bad(
                    "invalid_field",
                    "commune",
                    "Hãy chọn xã, phường, đặc khu có thẩm quyền giải quyết hồ sơ này.",
                ));
            }
        },
    };
    if !content.applies_in(&chosen.code) {
        return Err(AppError::bad(
            "invalid_field",
            "commune",
            format!("Thủ tục «{}» không áp dụng tại {}.", content.name, chosen.name),
        ));
    }
    Ok(chosen.code.clone())
}

/// Where a dossier of `content` is received by `receiver` and who decides it; refused
/// (with the places where it may be received) when it may not be received there.
pub fn receive(
    dir: &Directory,
    content: &ProcedureContent,
    receiver: &Receiver,
    asked: Asked<'_>,
) -> Result<Reception, AppError> {
    let chosen = asked
        .centre
        .map(|code| {
            named(
                dir,
                "centre",
                code,
                &[AgencyKind::Centre, AgencyKind::CommuneCentre, AgencyKind::Department],
                "nơi tiếp nhận",
            )
        })
        .transpose()?
        .map(|a| a.code.clone());
    if let Some(c) = &chosen
        && !receiver.works_at(c)
    {
        return Err(AppError::Forbidden(format!(
            "Anh/chị không làm việc tại quầy của {}.",
            dir.name(c.as_str())
        )));
    }
    let known = chosen.or_else(|| receiver.only_place().cloned());
    let competent = competent(dir, content, known.as_ref(), asked.commune)?;
    let rule = content.receipt_rule();
    let receiving = match known {
        Some(k) => k,
        None => {
            let places = map::receipt_places(rule, &dir.tree, &competent);
            let first = places.iter().find(|p| receiver.works_at(&p.code));
            match (first, receiver) {
                (Some(p), _) => p.code.clone(),
                // No place this officer works at: refused below with the places.
                (None, Receiver::Counter { agencies, .. }) if !agencies.is_empty() => agencies[0].clone(),
                (None, _) => {
                    return Err(AppError::not_here(&content.name, map::NotHere { places: Vec::new() }));
                }
            }
        }
    };
    map::check_receivable(rule, &dir.tree, &competent, &receiving).map_err(|n| AppError::not_here(&content.name, n))?;
    if let Receiver::Counter { .. } = receiver
        && !receiver.works_at(&receiving)
    {
        return Err(AppError::Forbidden(format!(
            "Chỉ cán bộ tiếp nhận của {} mới được tiếp nhận hồ sơ thủ tục này.",
            dir.name(receiving.as_str())
        )));
    }
    Ok(Reception { receiving, competent })
}

/// Whether the counter at `counter` receives a procedure under `rule` whose department is
/// `agency`, taking the counter's own commune as competent for a commune-level one: what
/// the counter's search marks. Intake decides exactly (the commune chosen, the communes the
/// procedure applies in).
pub fn receives_at(dir: &Directory, rule: map::ReceiptRule, agency: &AgencyCode, counter: &AgencyCode) -> bool {
    map::check_receivable(rule, &dir.tree, counter_competent(dir, rule, agency, counter), counter).is_ok()
}

/// The competent agency the counter at `counter` assumes: its own commune for a
/// commune-level procedure (the counter itself when it serves none), else the department.
fn counter_competent<'a>(
    dir: &'a Directory,
    rule: map::ReceiptRule,
    agency: &'a AgencyCode,
    counter: &'a AgencyCode,
) -> &'a AgencyCode {
    match rule.level {
        Level::Commune => dir.tree.commune_of(counter).map_or(counter, |c| &c.code),
        Level::Province => agency,
    }
}

/// Where a procedure under `rule` may be received for a counter at `counter` (its own
/// commune competent for a commune-level one), by name: the counter's guidance.
pub fn places_for(dir: &Directory, rule: map::ReceiptRule, agency: &AgencyCode, counter: &AgencyCode) -> Vec<String> {
    map::receipt_places(rule, &dir.tree, counter_competent(dir, rule, agency, counter))
        .into_iter()
        .map(|a| a.name.clone())
        .collect()
}

/// What a citizen filing a procedure online chooses where the province gives a choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineChoices {
    /// The communes that may decide a commune-level procedure (when more than one): the
    /// citizen names theirs.
    pub communes: Vec<(AgencyCode, String)>,
    /// The centres that may receive it and hand the result back (when more than one): the
    /// citizen picks where to collect it. Empty for a commune-level procedure received only
    /// at its commune's centre: the commune chosen decides the centre.
    pub centres: Vec<(AgencyCode, String)>,
}

/// The choices of [`OnlineChoices`] for `content` in the province of `dir`: none in a
/// province with a single centre.
pub fn online_choices(dir: &Directory, content: &ProcedureContent) -> OnlineChoices {
    let named = |a: &Agency| (a.code.clone(), a.name.clone());
    let communes: Vec<(AgencyCode, String)> = match content.level {
        Level::Commune => dir
            .tree
            .communes()
            .filter(|c| content.applies_in(&c.code))
            .map(named)
            .collect(),
        Level::Province => Vec::new(),
    };
    let rule = content.receipt_rule();
    let centres: Vec<(AgencyCode, String)> = match (rule.level, rule.receivable) {
        (Level::Commune, Receivable::Competent) => Vec::new(),
        _ => map::receipt_places(rule, &dir.tree, &content.agency)
            .into_iter()
            .map(named)
            .collect(),
    };
    OnlineChoices {
        communes: if communes.len() > 1 { communes } else { Vec::new() },
        centres: if centres.len() > 1 { centres } else { Vec::new() },
    }
}
