//! Catalogue administration: the procedure list, the procedure form (new and edit, saved
//! as a new version through the catalogue API), and the agency tree with its fields.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use motcua_core::catalogue::{
    Agency, AgencyKind, ApplicantKind, DocumentRequirement, FeeItem, Field, ProcedureContent, ProcessingStep,
    Receivable, ResultSignature,
};
use serde::{Deserialize, Serialize};

use super::{Admin, Choice};
use crate::service::catalogue::{self as catalogue_service, ProcedureParams};
use crate::state::AppState;
use crate::web::pages::PageError;
use crate::web::{Frame, SignedIn, filters, page, when};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/quan-tri/thu-tuc", get(list))
        .route("/quan-tri/thu-tuc/moi", get(new_procedure))
        .route("/quan-tri/thu-tuc/{code}", get(edit_procedure))
        .route("/quan-tri/co-quan", get(agencies))
}

/// The stable text of a serde enum value (`"working_days"`).
fn tag<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `?q=&co-quan=&cursor=` of the procedure list.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    #[serde(rename = "co-quan")]
    agency: Option<String>,
    cursor: Option<String>,
}

struct ProcedureRow {
    code: String,
    name: String,
    agency: String,
    online: &'static str,
    days: String,
    version: u32,
}

#[derive(Template)]
#[template(path = "admin/procedures.html")]
struct ListPage {
    frame: Frame,
    q: String,
    agency: String,
    agencies: Vec<Choice>,
    rows: Vec<ProcedureRow>,
    total: usize,
    next: Option<String>,
    error: String,
}

fn days_label(days: f64) -> String {
    if days.fract() == 0.0 {
        format!("{days:.0} ngày")
    } else {
        format!("{days:.1} ngày").replace('.', ",")
    }
}

/// `GET /quan-tri/thu-tuc`: procedures with search and paging.
async fn list(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let a = Admin::catalogue(state, p).await?;
    let agency_list = load_agencies(&a).await?;
    let names: HashMap<String, String> = agency_list
        .iter()
        .map(|x| (x.code.to_string(), x.name.clone()))
        .collect();
    let params = ProcedureParams {
        province: None,
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        agency: q.agency.clone().filter(|s| !s.is_empty()),
        field: None,
        online: None,
        at_centre: None,
        limit: Some(50),
        cursor: q.cursor.clone().filter(|s| !s.is_empty()),
    };
    // A malformed filter shows the API's message above an empty list, not an error page.
    let (rows, total, next, error) = match catalogue_service::procedure_page(&a.state, &params).await {
        Ok(page) => (
            page.items
                .into_iter()
                .map(|s| ProcedureRow {
                    code: s.code.to_string(),
                    agency: names
                        .get(s.agency_code.as_str())
                        .cloned()
                        .unwrap_or_else(|| s.agency_code.to_string()),
                    name: s.name,
                    online: s.online_mode.label(),
                    days: days_label(s.processing_days),
                    version: s.version,
                })
                .collect(),
            page.total,
            page.next_cursor.map(|c| {
                format!(
                    "/quan-tri/thu-tuc?q={}&co-quan={}&cursor={}",
                    crate::web::encode(q.q.as_deref().unwrap_or_default()),
                    crate::web::encode(q.agency.as_deref().unwrap_or_default()),
                    crate::web::encode(&c)
                )
            }),
            String::new(),
        ),
        Err(e) => (Vec::new(), 0, None, e.parts().2),
    };
    Ok(page(&ListPage {
        frame: a.frame().await?,
        q: q.q.unwrap_or_default(),
        agency: q.agency.unwrap_or_default(),
        agencies: agency_choices(&agency_list),
        rows,
        total,
        next,
        error,
    }))
}

async fn load_agencies(a: &Admin) -> Result<Vec<Agency>, PageError> {
    let mut tx = a.state.db.begin_read().await?;
    Ok(motcua_store::catalogue::agencies(&mut tx, &a.province).await?)
}

async fn load_fields(a: &Admin) -> Result<Vec<Field>, PageError> {
    let mut tx = a.state.db.begin_read().await?;
    Ok(motcua_store::catalogue::fields(&mut tx, &a.province).await?)
}

/// Agencies in tree order (parents first), with their depth.
fn tree(agencies: &[Agency]) -> Vec<(usize, &Agency)> {
    fn walk<'a>(all: &'a [Agency], parent: Option<&str>, depth: usize, out: &mut Vec<(usize, &'a Agency)>) {
        for a in all.iter().filter(|a| a.parent.as_ref().map(|p| p.as_str()) == parent) {
            out.push((depth, a));
            if depth < 20 {
                walk(all, Some(a.code.as_str()), depth + 1, out);
            }
        }
    }
    let mut out = Vec::with_capacity(agencies.len());
    walk(agencies, None, 0, &mut out);
    // Anything whose parent is missing still shows, at the end.
    for a in agencies {
        if !out.iter().any(|(_, x)| x.code == a.code) {
            out.push((0, a));
        }
    }
    out
}

fn agency_choices(agencies: &[Agency]) -> Vec<Choice> {
    tree(agencies)
        .into_iter()
        .map(|(depth, a)| Choice::new(a.code.to_string(), format!("{}{}", "— ".repeat(depth), a.name)))
        .collect()
}

/// `?rows=&phien-ban=&da-luu=` of the procedure form.
#[derive(Debug, Default, Deserialize)]
struct FormQuery {
    /// Empty rows to offer in each repeating table.
    rows: Option<usize>,
    /// Load this older version into the form.
    #[serde(rename = "phien-ban")]
    version: Option<i64>,
    /// The version just saved (a notice).
    #[serde(rename = "da-luu")]
    saved: Option<u32>,
}

struct DocRow {
    i: usize,
    name: String,
    originals: String,
    copies: String,
    required: &'static str,
    note: String,
    form_name: String,
    form_url: String,
}

struct FeeRow {
    i: usize,
    kind: String,
    name: String,
    option: String,
    amount: String,
}

struct StepRow {
    i: usize,
    name: String,
    role: String,
    budget: String,
    agency: String,
}

struct VersionRow {
    version: i64,
    current: bool,
    created: String,
    note: String,
}

#[derive(Template)]
#[template(path = "admin/procedure_form.html")]
struct FormPage {
    frame: Frame,
    /// Empty for a new procedure.
    code: String,
    /// The version the form starts from (0 for a new procedure).
    current: u32,
    /// The older version loaded into the form, if any.
    loaded: Option<i64>,
    saved: Option<u32>,
    draft: String,
    more_rows: String,
    name: String,
    agency: String,
    field: String,
    level: String,
    amount: String,
    unit: String,
    sets: String,
    online_mode: String,
    service_level: String,
    at_centre: bool,
    /// `competent` or `anywhere` (docs/map-2025.md §3).
    receivable: &'static str,
    /// The province's working communes, those the procedure lists ticked (none ticked:
    /// every commune).
    communes: Vec<Tick>,
    citizen: bool,
    organisation: bool,
    results: String,
    legal_basis: String,
    description: String,
    conditions: String,
    /// Whether results must be signed (`optional`, `required`): a setting of the
    /// procedure, not of its versions.
    result_signature: &'static str,
    documents: Vec<DocRow>,
    fees: Vec<FeeRow>,
    steps: Vec<StepRow>,
    agencies: Vec<Choice>,
    fields: Vec<Choice>,
    step_roles: Vec<Choice>,
    fee_kinds: Vec<Choice>,
    service_levels: Vec<Choice>,
    versions: Vec<VersionRow>,
}

/// How many empty rows each repeating table offers.
fn extra_rows(q: &FormQuery) -> usize {
    q.rows.unwrap_or(2).clamp(1, 6)
}

fn doc_rows(docs: &[DocumentRequirement], extra: usize) -> Vec<DocRow> {
    let mut out: Vec<DocRow> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| DocRow {
            i,
            name: d.name.clone(),
            originals: d.originals.to_string(),
            copies: d.copies.to_string(),
            required: if d.required { "true" } else { "false" },
            note: d.note.clone(),
            form_name: d.form.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
            form_url: d.form.as_ref().map(|f| f.url.clone()).unwrap_or_default(),
        })
        .collect();
    for i in docs.len()..docs.len() + extra {
        out.push(DocRow {
            i,
            name: String::new(),
            originals: String::new(),
            copies: String::new(),
            required: "",
            note: String::new(),
            form_name: String::new(),
            form_url: String::new(),
        });
    }
    out
}

fn fee_rows(fees: &[FeeItem], extra: usize) -> Vec<FeeRow> {
    let mut out: Vec<FeeRow> = fees
        .iter()
        .enumerate()
        .map(|(i, f)| FeeRow {
            i,
            kind: tag(&f.kind),
            name: f.name.clone(),
            option: f.option.clone().unwrap_or_default(),
            amount: f.amount.0.to_string(),
        })
        .collect();
    for i in fees.len()..fees.len() + extra {
        out.push(FeeRow {
            i,
            kind: String::new(),
            name: String::new(),
            option: String::new(),
            amount: String::new(),
        });
    }
    out
}

fn step_rows(steps: &[ProcessingStep], extra: usize) -> Vec<StepRow> {
    let mut out: Vec<StepRow> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepRow {
            i,
            name: s.name.clone(),
            role: tag(&s.role),
            budget: s.budget_hours.to_string(),
            agency: s.agency.as_ref().map(ToString::to_string).unwrap_or_default(),
        })
        .collect();
    for i in steps.len()..steps.len() + extra {
        out.push(StepRow {
            i,
            name: String::new(),
            role: String::new(),
            budget: String::new(),
            agency: String::new(),
        });
    }
    out
}

fn field_choices(fields: &[Field], agencies: &[Agency]) -> Vec<Choice> {
    let names: HashMap<&str, &str> = agencies.iter().map(|a| (a.code.as_str(), a.name.as_str())).collect();
    let mut out: Vec<Choice> = fields
        .iter()
        .map(|f| {
            Choice::new(
                f.code.to_string(),
                format!(
                    "{} ({})",
                    f.name,
                    names.get(f.agency.as_str()).copied().unwrap_or(f.agency.as_str())
                ),
            )
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

#[allow(clippy::too_many_arguments, reason = "one place that fills the whole form")]
fn form_page(
    frame: Frame,
    code: String,
    current: u32,
    content: Option<&ProcedureContent>,
    q: &FormQuery,
    agencies: &[Agency],
    fields: &[Field],
    versions: Vec<VersionRow>,
) -> FormPage {
    let extra = extra_rows(q);
    let more = (extra + 2).min(6);
    // A draft belongs to the version it was typed over (and to the older version loaded).
    let draft = match (code.is_empty(), q.version) {
        (true, _) => "procedure-new".to_owned(),
        (false, None) => format!("procedure-{code}-v{current}"),
        (false, Some(v)) => format!("procedure-{code}-v{current}-from{v}"),
    };
    let base = if code.is_empty() {
        "/quan-tri/thu-tuc/moi".to_owned()
    } else {
        format!("/quan-tri/thu-tuc/{code}")
    };
    let more_rows = match q.version {
        Some(v) => format!("{base}?rows={more}&phien-ban={v}#danh-sach"),
        None => format!("{base}?rows={more}#danh-sach"),
    };
    let step_roles = vec![
        Choice::new("counter", "Bộ phận Một cửa"),
        Choice::new("officer", "Chuyên viên xử lý"),
        Choice::new("leader", "Lãnh đạo phê duyệt"),
        Choice::new("other_agency", "Cơ quan phối hợp"),
    ];
    let fee_kinds = vec![Choice::new("charge", "Lệ phí"), Choice::new("fee", "Phí")];
    let c = content;
    FormPage {
        frame,
        current,
        loaded: q.version.filter(|v| content.is_some() && i64::from(current) != *v),
        saved: q.saved,
        draft,
        more_rows,
        name: c.map(|c| c.name.clone()).unwrap_or_default(),
        agency: c.map(|c| c.agency.to_string()).unwrap_or_default(),
        field: c.map(|c| c.field.to_string()).unwrap_or_default(),
        level: c.map_or_else(|| "province".to_owned(), |c| tag(&c.level)),
        amount: c.map(|c| c.processing_time.amount.to_string()).unwrap_or_default(),
        unit: c.map_or_else(|| "working_days".to_owned(), |c| tag(&c.processing_time.unit)),
        sets: c.map_or_else(|| "1".to_owned(), |c| c.sets.to_string()),
        online_mode: c.map_or_else(|| "partial".to_owned(), |c| c.online_mode.as_str().to_owned()),
        service_level: c.map_or_else(|| "2".to_owned(), |c| c.service_level.to_string()),
        at_centre: c.is_none_or(|c| c.at_centre),
        receivable: c.map_or(Receivable::Competent, |c| c.receivable).as_str(),
        communes: agencies
            .iter()
            .filter(|a| a.kind == AgencyKind::Commune && a.is_active())
            .map(|a| Tick {
                value: a.code.to_string(),
                label: a.name.clone(),
                ticked: c.is_some_and(|c| c.communes.contains(&a.code)),
            })
            .collect(),
        citizen: c.is_none_or(|c| c.applicants.contains(&ApplicantKind::Citizen)),
        organisation: c.is_some_and(|c| c.applicants.contains(&ApplicantKind::Organisation)),
        results: c.map(|c| c.results.join("\n")).unwrap_or_default(),
        legal_basis: c.map(|c| c.legal_basis.join("\n")).unwrap_or_default(),
        description: c.map(|c| c.description.clone()).unwrap_or_default(),
        conditions: c.map(|c| c.conditions.clone()).unwrap_or_default(),
        result_signature: ResultSignature::Optional.as_str(),
        documents: doc_rows(c.map_or(&[][..], |c| c.documents.as_slice()), extra),
        fees: fee_rows(c.map_or(&[][..], |c| c.fees.as_slice()), extra),
        steps: step_rows(c.map_or(&[][..], |c| c.steps.as_slice()), extra),
        agencies: agency_choices(agencies),
        fields: field_choices(fields, agencies),
        step_roles,
        fee_kinds,
        service_levels: (1..=4)
            .map(|l| Choice::new(l.to_string(), format!("Mức độ {l}")))
            .collect(),
        versions,
        code,
    }
}

/// A checkbox of a list: its value, its label and whether it is ticked.
struct Tick {
    value: String,
    label: String,
    ticked: bool,
}

/// `GET /quan-tri/thu-tuc/moi`: the form of a new procedure.
async fn new_procedure(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<FormQuery>,
) -> Result<Response, PageError> {
    let a = Admin::catalogue(state, p).await?;
    let agencies = load_agencies(&a).await?;
    let fields = load_fields(&a).await?;
    Ok(page(&form_page(
        a.frame().await?,
        String::new(),
        0,
        None,
        &q,
        &agencies,
        &fields,
        Vec::new(),
    )))
}

fn rfc3339_label(s: &str) -> String {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(when)
        .unwrap_or_else(|_| s.to_owned())
}

/// `GET /quan-tri/thu-tuc/{code}`: the procedure form, saving a new version; its versions.
async fn edit_procedure(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<FormQuery>,
) -> Result<Response, PageError> {
    let a = Admin::catalogue(state, p).await?;
    let current = catalogue_service::procedure(&a.state, None, &code, None).await?;
    let shown = match q.version {
        Some(v) if v != i64::from(current.summary.version) => {
            let old = catalogue_service::procedure(&a.state, None, &code, Some(&v.to_string())).await?;
            old.content
        }
        _ => current.content.clone(),
    };
    let agencies = load_agencies(&a).await?;
    let fields = load_fields(&a).await?;
    let versions = current
        .versions
        .iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            current: v.version == i64::from(current.summary.version),
            created: rfc3339_label(&v.created_at),
            note: v.note.clone(),
        })
        .collect();
    let mut form = form_page(
        a.frame().await?,
        current.summary.code.to_string(),
        current.summary.version,
        Some(&shown),
        &q,
        &agencies,
        &fields,
        versions,
    );
    form.result_signature = current.result_signature.as_str();
    Ok(page(&form))
}

struct FieldLink {
    code: String,
    name: String,
}

struct AgencyRow {
    depth: usize,
    code: String,
    name: String,
    kind: &'static str,
    contact: String,
    fields: Vec<FieldLink>,
    procedures: usize,
    /// When it stopped working and who took over, as text; empty while it works.
    retired: String,
}

/// `?sua=` (an agency to edit) and `?linh-vuc=` (a field to edit) of the agency page.
#[derive(Debug, Default, Deserialize)]
struct AgencyQuery {
    sua: Option<String>,
    #[serde(rename = "linh-vuc")]
    field: Option<String>,
}

/// What the agency form starts with.
#[derive(Default)]
struct AgencyFormValues {
    code: String,
    name: String,
    kind: String,
    parent: String,
    address: String,
    phone: String,
    email: String,
    admin_code: String,
    /// The agency edited still works (it may be retired).
    working: bool,
}

#[derive(Default)]
struct FieldFormValues {
    code: String,
    name: String,
    agency: String,
}

#[derive(Template)]
#[template(path = "admin/agencies.html")]
struct AgenciesPage {
    frame: Frame,
    rows: Vec<AgencyRow>,
    agencies: Vec<Choice>,
    kinds: Vec<Choice>,
    agency: AgencyFormValues,
    field: FieldFormValues,
    /// The working agencies a retired one may pass to (code, name).
    successors: Vec<Choice>,
}

fn kind_label(kind: motcua_core::catalogue::AgencyKind) -> &'static str {
    use motcua_core::catalogue::AgencyKind;
    match kind {
        AgencyKind::Province => "UBND tỉnh",
        AgencyKind::Centre => "Trung tâm Phục vụ hành chính công",
        AgencyKind::Department => "Sở, ban, ngành",
        AgencyKind::CommuneCentre => "Bộ phận Một cửa cấp xã",
        AgencyKind::Commune => "UBND xã, phường, đặc khu",
        AgencyKind::Other => "Cơ quan khác",
    }
}

/// `GET /quan-tri/co-quan`: the agency tree with each agency's fields; forms to add or
/// edit an agency or a field.
async fn agencies(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<AgencyQuery>,
) -> Result<Response, PageError> {
    use motcua_core::catalogue::AgencyKind;
    let a = Admin::catalogue(state, p).await?;
    let agencies = load_agencies(&a).await?;
    let fields = load_fields(&a).await?;
    let mut tx = a.state.db.begin_read().await?;
    let summaries = motcua_store::catalogue::procedure_summaries(&mut tx, &a.province).await?;
    drop(tx);
    let rows = tree(&agencies)
        .into_iter()
        .map(|(depth, ag)| AgencyRow {
            depth,
            code: ag.code.to_string(),
            name: ag.name.clone(),
            kind: kind_label(ag.kind),
            contact: [ag.address.as_str(), ag.phone.as_str(), ag.email.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            fields: fields
                .iter()
                .filter(|f| f.agency == ag.code)
                .map(|f| FieldLink {
                    code: f.code.to_string(),
                    name: f.name.clone(),
                })
                .collect(),
            procedures: summaries.iter().filter(|s| s.agency_code == ag.code).count(),
            retired: ag
                .retired_at
                .map(|at| {
                    let heir = ag
                        .successor
                        .as_ref()
                        .and_then(|h| agencies.iter().find(|x| &x.code == h))
                        .map(|h| format!(", chuyển cho {}", h.name))
                        .unwrap_or_default();
                    format!("Ngừng hoạt động từ {}{heir}", crate::web::day(at))
                })
                .unwrap_or_default(),
        })
        .collect();
    let agency = q
        .sua
        .as_deref()
        .and_then(|c| agencies.iter().find(|x| x.code.as_str() == c))
        .map_or_else(
            || AgencyFormValues {
                kind: tag(&AgencyKind::Department),
                parent: a.province.as_agency().to_string(),
                ..AgencyFormValues::default()
            },
            |x| AgencyFormValues {
                code: x.code.to_string(),
                name: x.name.clone(),
                kind: tag(&x.kind),
                parent: x.parent.as_ref().map(ToString::to_string).unwrap_or_default(),
                address: x.address.clone(),
                phone: x.phone.clone(),
                email: x.email.clone(),
                admin_code: x.admin_code.clone(),
                working: x.is_active(),
            },
        );
    let field = q
        .field
        .as_deref()
        .and_then(|c| fields.iter().find(|x| x.code.as_str() == c))
        .map(|f| FieldFormValues {
            code: f.code.to_string(),
            name: f.name.clone(),
            agency: f.agency.to_string(),
        })
        .unwrap_or_default();
    let kinds = [
        AgencyKind::Department,
        AgencyKind::Centre,
        AgencyKind::CommuneCentre,
        AgencyKind::Commune,
        AgencyKind::Other,
        AgencyKind::Province,
    ]
    .into_iter()
    .map(|k| Choice::new(tag(&k), kind_label(k)))
    .collect();
    Ok(page(&AgenciesPage {
        frame: a.frame().await?,
        rows,
        agencies: agency_choices(&agencies),
        kinds,
        successors: tree(&agencies)
            .into_iter()
            .filter(|(_, x)| x.is_active() && x.code.as_str() != agency.code)
            .map(|(depth, x)| Choice::new(x.code.to_string(), format!("{}{}", "— ".repeat(depth), x.name)))
            .collect(),
        agency,
        field,
    }))
}
