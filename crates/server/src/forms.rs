//! Official documents of dossiers (docs/rules.md §3): which forms a dossier has produced, the
//! data each is filled with, and issuing them: rendered with `motcua-pdf` off the async
//! runtime (behind [`AppState::cpu`]), kept in the object store and recorded in
//! `dossier_forms` with their SHA-256.
//!
//! A form is issued after the transition that produces it commits ([`issue_after`], called
//! by the dossier handlers outside the group-committed write): the dossier joins the
//! bounded queue of [`crate::background::FormQueue`] and its documents are rendered on a
//! low-priority thread, so renders never hold up intake or compete with requests. A
//! download of a form not yet stored renders and stores it then ([`document`]). Rendering
//! is deterministic, so both paths give the same bytes.
//!
//! When the issuing agency has a signing key (`signing_keys`, [`crate::signing`]), each
//! document is signed as it is issued (PAdES, a visible stamp), still after the dossier's
//! write has committed and never inside the group commit. A signature carries its time,
//! so the two paths no longer draw the same bytes: issuing takes a lock per document
//! ([`issuing_lock`]) and looks again for a stored copy before drawing one. The signing
//! time is the record's `created_at`, so a lost copy drawn again with an RSA key (whose
//! signatures are deterministic) comes out byte for byte the same.

use std::collections::BTreeMap;

use motcua_core::catalogue::{Agency, ApplicantKind, FeeKind};
use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::{Action, Status, Timeliness};
use motcua_core::lifecycle::{Dossier, NoticeKind};
use motcua_core::money::Vnd;
use motcua_core::rules::RuleBook;
use motcua_pdf::{Form, Renderer};

use motcua_store::batch::{BatchTx, JobFuture};
use motcua_store::catalogue;
use motcua_store::dossiers::{self, EventRecord, Stored};
use motcua_store::forms::{self, FormRecord};
use motcua_store::result_signings::{self, ResultSigning, SignedCopy, SigningState};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::AppError;
use crate::signing::{Issuer, ResultSignError};
use crate::state::AppState;

/// The forms a dossier can have, in the order of the circular: every form but the
/// register, which is of a period, not of a dossier (checked when compiling).
pub const DOSSIER_FORMS: [Form; 6] = {
    assert!(
        matches!(Form::ALL[6], Form::Register),
        "the register must be the last of Form::ALL"
    );
    let mut out = [Form::Receipt; 6];
    let mut i = 0;
    while i < out.len() {
        out[i] = Form::ALL[i];
        i += 1;
    }
    out
};

fn notice_kind(form: Form) -> Option<NoticeKind> {
    match form {
        Form::SupplementRequest => Some(NoticeKind::SupplementRequest),
        Form::Refusal => Some(NoticeKind::Refusal),
        Form::Apology => Some(NoticeKind::Apology),
        Form::StopNotice => Some(NoticeKind::StopNotice),
        Form::Receipt | Form::ControlSheet | Form::Register => None,
    }
}

/// The actions that write a notice of `kind`, in the history.
fn notice_actions(kind: NoticeKind) -> &'static [Action] {
    match kind {
        NoticeKind::SupplementRequest => &[Action::RequestCompletion, Action::RequestSupplement],
        NoticeKind::Refusal => &[Action::Refuse],
        NoticeKind::Apology => &[Action::Apologise],
        NoticeKind::StopNotice => &[Action::Stop],
        NoticeKind::PaymentRequest => &[Action::RequestPayment],
        NoticeKind::Withdrawal => &[Action::Withdraw],
    }
}

/// Whether an event changes the control sheet: a hand-over, or the return that ends the last step.
fn on_control_sheet(e: &EventRecord) -> bool {
    e.to_agency.is_some() || e.action == Action::Return.name()
}

/// How many documents of `form` the dossier has: the receipt once accepted, one per notice
/// of the form's kind, and for the control sheet the `seq` of its last row's event (each
/// hand-over draws a new sheet). `None` when it has none yet.
pub fn latest(form: Form, d: &Dossier, events: &[EventRecord]) -> Option<i64> {
    match form {
        Form::Receipt => d.received_at.map(|_| 1),
        Form::ControlSheet => events.iter().rev().find(|e| on_control_sheet(e)).map(|e| e.seq),
        Form::Register => None,
        other => {
            let kind = notice_kind(other)?;
            let n = d.notices.iter().filter(|n| n.kind == kind).count();
            (n > 0).then(|| i64::try_from(n).unwrap_or(i64::MAX))
        }
    }
}

/// Why a dossier has no such document yet, for the person asking.
pub fn missing_message(form: Form, code: &str) -> String {
    let what = match form {
        Form::Receipt => "chưa được tiếp nhận nên chưa có Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        Form::SupplementRequest => "chưa có Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
        Form::Refusal => "không có Phiếu từ chối tiếp nhận giải quyết hồ sơ",
        Form::Apology => "chưa có Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết",
        Form::StopNotice => "không có Thông báo dừng giải quyết hồ sơ",
        Form::ControlSheet => "chưa được tiếp nhận nên chưa có Phiếu kiểm soát quá trình giải quyết hồ sơ",
        Form::Register => "không có sổ theo dõi",
    };
    format!("Hồ sơ {code} {what}.")
}

/// The agencies of a province and its name: what headings and names on forms need.
pub struct Letterhead {
    /// The province's name (`Ninh Thuận`), for the place on each document.
    pub province_name: String,
    /// Agencies by code.
    pub agencies: BTreeMap<String, Agency>,
}

impl Letterhead {
    /// Loads the letterhead of `province`.
    pub async fn load(state: &AppState, province: &ProvinceCode) -> Result<Self, AppError> {
        let mut tx = state.db.begin_read().await?;
        let name = catalogue::province(&mut tx, province)
            .await?
            .map_or_else(|| province.as_str().to_owned(), |p| p.name);
        let agencies = catalogue::agencies(&mut tx, province)
            .await?
            .into_iter()
            .map(|a| (a.code.as_str().to_owned(), a))
            .collect();
        Ok(Self {
            province_name: name,
            agencies,
        })
    }

    /// The agency's name, or its code when unknown.
    pub fn name(&self, code: &str) -> String {
        self.agencies
            .get(code)
            .map_or_else(|| code.to_owned(), |a| a.name.clone())
    }

    /// The heading block of a document issued by `code`: its parent and itself.
    pub fn issuer(&self, code: &str) -> Value {
        let agency = self.agencies.get(code);
        let parent = agency
            .and_then(|a| a.parent.as_ref())
            .and_then(|p| self.agencies.get(p.as_str()))
            .map(|p| p.name.clone())
            .unwrap_or_default();
        json!({
            "code": code,
            "parent": parent,
            "name": self.name(code),
            "address": agency.map(|a| a.address.clone()).unwrap_or_default(),
            "phone": agency.map(|a| a.phone.clone()).unwrap_or_default(),
        })
    }
}

/// `t` in Vietnam time, written by `format` (a `time` format description).
fn local(t: OffsetDateTime, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(format)
        .unwrap_or_default()
}

/// `09 giờ 05 phút, ngày 13 tháng 02 năm 2026`, as the forms write an instant.
pub fn long_time(t: OffsetDateTime) -> String {
    local(
        t,
        time::macros::format_description!("[hour] giờ [minute] phút, ngày [day] tháng [month] năm [year]"),
    )
}

/// `09 giờ 05, ngày 13/02/2026`: the compact form that fits a table cell on one line.
pub fn table_time(t: OffsetDateTime) -> String {
    local(
        t,
        time::macros::format_description!("[hour] giờ [minute], ngày [day]/[month]/[year]"),
    )
}

/// `13/02/2026`.
pub fn short_date(t: OffsetDateTime) -> String {
    local(t, time::macros::format_description!("[day]/[month]/[year]"))
}

/// `Ninh Thuận, ngày 13 tháng 02 năm 2026`.
fn place_date(place: &str, t: OffsetDateTime) -> String {
    let date = local(
        t,
        time::macros::format_description!("ngày [day] tháng [month] năm [year]"),
    );
    format!("{place}, {date}")
}

/// The public tracking address printed (and encoded in the QR code) on the receipt: it
/// carries the second factor, so whoever holds the paper can follow the dossier.
pub fn tracking_url(state: &AppState, d: &Dossier) -> String {
    let base = state.config.public_base();
    format!("{base}/tra-cuu/{}?secret={}", d.code.as_str(), d.tracking_secret)
}

fn applicant(d: &Dossier) -> Value {
    person(&d.applicant)
}

/// The authorised submitter who filed for the applicant, or `null`.
fn submitter(d: &Dossier) -> Value {
    d.submitter.as_ref().map_or(Value::Null, person)
}

fn person(a: &motcua_core::lifecycle::Applicant) -> Value {
    json!({
        "name": a.name,
        "id_label": match a.kind {
            ApplicantKind::Citizen => "Số định danh cá nhân",
            ApplicantKind::Organisation => "Mã số thuế",
        },
        "id_number": a.id_number,
        "phone": a.phone,
        "email": a.email,
        "address": a.address,
    })
}

/// Everything one dossier document is filled from.
pub struct Sources<'a> {
    /// The dossier as it stands.
    pub dossier: &'a Dossier,
    /// Its history.
    pub events: &'a [EventRecord],
    /// Names and headings.
    pub letterhead: &'a Letterhead,
    /// The receipt's tracking address.
    pub tracking_url: String,
    /// The rule versions: a form is numbered and titled by the one in force when issued.
    pub rules: &'a RuleBook,
}

/// The heading data of `form` issued at `issued`: its number ("Mẫu số …", empty when the
/// circular then in force gave it none), title and legal source, from the rule version in
/// force that day (docs/rules.md §9).
pub fn form_heading(rules: &RuleBook, form: Form, issued: OffsetDateTime) -> Value {
    let set = rules.in_force_at(issued);
    let printed = set.form(form);
    json!({"number": printed.number, "title": printed.title, "legal": printed.legal, "rules_version": set.version})
}

/// The data of dossier document `form` number `ordinal`, and the instant it was issued
/// (the PDF's date). Only what was true when it was issued goes in, so the document
/// comes out the same whenever it is drawn.
pub fn dossier_data(form: Form, ordinal: i64, s: &Sources<'_>) -> Result<(Value, OffsetDateTime), AppError> {
    let d = s.dossier;
    let lh = s.letterhead;
    let absent = || AppError::NotFound(missing_message(form, d.code.as_str()));
    let received_at = d.received_at;
    let mut data = json!({
        "code": d.code.as_str(),
        "number": "",
        "applicant": applicant(d),
        "submitter": submitter(d),
        "procedure": {"code": d.procedure.as_str(), "name": d.procedure_name},
        "receiving_agency": lh.name(d.receiving_agency.as_str()),
        "responsible_agency": lh.name(d.responsible_agency.as_str()),
        "received_at": received_at.map(long_time).unwrap_or_default(),
        "received_on": received_at.or(Some(d.created_at)).map(short_date).unwrap_or_default(),
    });
    let (issuer, issued, extra) = match form {
        Form::Receipt => {
            let received = received_at.ok_or_else(absent)?;
            let receiver = s
                .events
                .iter()
                .find(|e| e.action == Action::Accept.name())
                .map(|e| e.actor.name.clone())
                .unwrap_or_default();
            // Waived items count for nothing (their exemption is printed beside them).
            let total = d
                .fees
                .iter()
                .enumerate()
                .filter(|(i, _)| d.exemption(*i).is_none())
                .try_fold(Vnd(0), |sum, (_, f)| sum.checked_add(f.amount))
                .unwrap_or(Vnd::MAX);
            let url = s.tracking_url.clone();
            let qr = motcua_pdf::qr_svg(&url).map_err(|e| AppError::Internal(e.to_string()))?;
            let receiving = lh.issuer(d.receiving_agency.as_str());
            let collect_at = format!(
                "{} — {}{}",
                d.delivery.label(),
                receiving["name"].as_str().unwrap_or_default(),
                receiving["address"]
                    .as_str()
                    .filter(|a| !a.is_empty())
                    .map(|a| format!(", {a}"))
                    .unwrap_or_default()
            );
            let documents: Vec<Value> = d
                .documents
                .iter()
                // Supplements received later are not on the receipt.
                .filter(|doc| doc.index != u16::MAX)
                .enumerate()
                .map(
                    |(i, doc)| json!({"no": i + 1, "name": doc.name, "originals": doc.originals, "copies": doc.copies}),
                )
                .collect();
            let fees: Vec<Value> = d
                .fees
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let name = match &f.option {
                        Some(o) => format!("{} ({o})", f.name),
                        None => f.name.clone(),
                    };
                    let (name, amount) = match d.exemption(i) {
                        Some(e) => (
                            format!("{name} — miễn: {}", e.reason),
                            format!("0 đ (miễn {})", f.amount),
                        ),
                        None => (name, f.amount.to_string()),
                    };
                    json!({
                        "name": name,
                        "kind": match f.kind { FeeKind::Fee => "Phí", FeeKind::Charge => "Lệ phí" },
                        "amount": amount,
                    })
                })
                .collect();
            data["number"] = json!(d.code.as_str());
            (
                receiving,
                received,
                json!({
                    "documents": documents,
                    "sets": d.sets,
                    "statutory_time": d.statutory_label(),
                    "due_at": d.original_due_at.or(d.due_at).map(long_time).unwrap_or_default(),
                    "collect_at": collect_at,
                    "fees": fees,
                    "fees_total": total.to_string(),
                    "receiver": receiver,
                    "tracking": {"url": url, "secret": d.tracking_secret, "qr_svg": qr},
                }),
            )
        }
        Form::SupplementRequest | Form::Refusal | Form::Apology | Form::StopNotice => {
            let kind = notice_kind(form).ok_or_else(absent)?;
            let index = usize::try_from(ordinal)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .ok_or_else(absent)?;
            let notice = d
                .notices
                .iter()
                .filter(|n| n.kind == kind)
                .nth(index)
                .ok_or_else(absent)?;
            // The n-th notice of a kind was written with the n-th event of its actions, which
            // names the agency that issued it.
            let actions = notice_actions(kind);
            let agency = s
                .events
                .iter()
                .filter(|e| actions.iter().any(|a| a.name() == e.action))
                .nth(index)
                .map(|e| e.agency.clone())
                .unwrap_or_else(|| match form {
                    Form::Apology | Form::StopNotice => d.responsible_agency.as_str().to_owned(),
                    _ => d.receiving_agency.as_str().to_owned(),
                });
            let (explanation, missing) = if kind == NoticeKind::StopNotice {
                (notice.missing.join("; "), Vec::new())
            } else {
                (String::new(), notice.missing.clone())
            };
            (
                lh.issuer(&agency),
                notice.at,
                json!({
                    "notice": {
                        "number": ordinal,
                        "at": long_time(notice.at),
                        "by": notice.by.name,
                        "reason": notice.reason,
                        "missing": missing,
                        "explanation": explanation,
                        "old_due": notice.old_due.map(long_time).unwrap_or_default(),
                        "new_due": notice.new_due.map(long_time).unwrap_or_default(),
                    },
                }),
            )
        }
        Form::ControlSheet => {
            let events: Vec<&EventRecord> = s.events.iter().filter(|e| e.seq <= ordinal).collect();
            let last = events
                .iter()
                .rev()
                .find(|e| e.seq == ordinal && on_control_sheet(e))
                .ok_or_else(absent)?;
            let rows = control_rows(&events, lh);
            let mut cooperating: Vec<String> = events
                .iter()
                .filter_map(|e| e.to_agency.as_deref())
                .filter(|a| *a != d.receiving_agency.as_str() && *a != d.responsible_agency.as_str())
                .map(|a| lh.name(a))
                .collect();
            cooperating.dedup();
            data["number"] = json!(d.code.as_str());
            (
                lh.issuer(d.receiving_agency.as_str()),
                last.at,
                json!({
                    "rows": rows,
                    "cooperating": cooperating,
                    "due_at": d.original_due_at.or(d.due_at).map(long_time).unwrap_or_default(),
                }),
            )
        }
        Form::Register => return Err(absent()),
    };
    data["issuer"] = issuer;
    data["form"] = form_heading(s.rules, form, issued);
    data["place_date"] = json!(place_date(&lh.province_name, issued));
    if let (Some(m), Value::Object(e)) = (data.as_object_mut(), extra) {
        m.extend(e);
    }
    Ok((data, issued))
}

/// The rows of the control sheet: each hand-over starts a step, the next hand-over (or
/// the return of the result) ends it and says how it finished against its budget.
fn control_rows(events: &[&EventRecord], lh: &Letterhead) -> Vec<Value> {
    let mut rows: Vec<(Value, Option<Timeliness>)> = Vec::new();
    for e in events {
        let ends_step =
            (e.to_agency.is_some() && e.action != Action::Accept.name()) || e.action == Action::Return.name();
        if ends_step && let Some(last) = rows.last_mut() {
            last.1 = e.closed_step;
        }
        if let Some(to) = &e.to_agency {
            let note = if e.action == Action::Accept.name() {
                "Tiếp nhận hồ sơ".to_owned()
            } else if e.note.is_empty() {
                Action::from_name(&e.action).map_or_else(String::new, |a| a.label().to_owned())
            } else {
                e.note.clone()
            };
            rows.push((
                json!({
                    "no": rows.len() + 1,
                    "from_agency": lh.name(&e.agency),
                    "to_agency": lh.name(to),
                    "handed_at": table_time(e.at),
                    "giver": e.actor.name,
                    "receiver": e.to_user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                    "note": note,
                }),
                None,
            ));
        }
    }
    rows.into_iter()
        .map(|(mut row, result)| {
            row["result"] = json!(result.map(Timeliness::label).unwrap_or_default());
            row
        })
        .collect()
}

fn renderer(state: &AppState) -> Renderer {
    let dir = state.config.forms_dir.clone();
    Renderer::new((!dir.as_os_str().is_empty()).then_some(dir))
}

/// Renders on a blocking thread, at most as many at once as [`AppState::cpu`] allows.
pub async fn render(
    state: &AppState,
    form: Form,
    data: Value,
    issued: OffsetDateTime,
    ident: String,
) -> Result<Vec<u8>, AppError> {
    run_render(state, Rendering::Now, form.slug(), move |r| {
        r.render(form, &data, issued, &ident)
    })
    .await
}

/// Runs `job` with the configured renderer — now (a blocking thread behind the `cpu`
/// semaphore) or on the low-priority thread — and records how long it took.
async fn run_render(
    state: &AppState,
    when: Rendering,
    kind: &'static str,
    job: impl FnOnce(Renderer) -> Result<Vec<u8>, motcua_pdf::PdfError> + Send + 'static,
) -> Result<Vec<u8>, AppError> {
    let renderer = renderer(state);
    let started = std::time::Instant::now();
    let pdf = match when {
        Rendering::Now => state.on_cpu(move || job(renderer)).await?,
        Rendering::Idle => state.idle.run(move || job(renderer)).await?,
    }
    .map_err(|e| AppError::Internal(e.to_string()))?;
    metrics::histogram!("motcua_form_render_seconds", "form" => kind).record(started.elapsed().as_secs_f64());
    Ok(pdf)
}

/// Who waits for a render: someone downloading it (now, on the request threads) or
/// nobody (issued after a transition, on the low-priority thread, [`crate::background`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rendering {
    Now,
    Idle,
}

/// Where a form is kept: `forms/<province>/<code>/<kind>-<ordinal>.pdf`, and for a
/// re-issue `…-<ordinal>-r<revision>.pdf` (the replaced copy stays where it was).
fn object_key(d: &Dossier, kind: &str, ordinal: i64, revision: i64) -> String {
    let stem = format!("forms/{}/{}/{kind}-{ordinal}", d.province.as_str(), d.code.as_str());
    if revision > 1 {
        format!("{stem}-r{revision}.pdf")
    } else {
        format!("{stem}.pdf")
    }
}

/// The record of `pdf`, stored at `object_key`, as revision `revision` of document
/// `kind` number `ordinal` of dossier `dossier_id`.
fn form_record(
    state: &AppState,
    dossier_id: i64,
    kind: &str,
    ordinal: i64,
    revision: i64,
    object_key: String,
    pdf: &[u8],
) -> FormRecord {
    FormRecord {
        dossier_id,
        kind: kind.to_owned(),
        ordinal,
        revision,
        object_key,
        sha256: crate::auth::hex_encode(Sha256::digest(pdf)),
        size: i64::try_from(pdf.len()).unwrap_or(i64::MAX),
        created_at: state.clock.now(),
        replaced_at: None,
        replaced_by: None,
    }
}

/// One dossier document to draw: which form, which of its kind, from what.
struct Drawing<'a> {
    stored: &'a Stored,
    events: &'a [EventRecord],
    letterhead: &'a Letterhead,
    form: Form,
    ordinal: i64,
    when: Rendering,
}

/// Draws a dossier document (not stored), and says who issues it.
async fn render_dossier_form(state: &AppState, w: Drawing<'_>) -> Result<(Vec<u8>, Issuer), AppError> {
    let Drawing {
        stored,
        events,
        letterhead,
        form,
        ordinal,
        when,
    } = w;
    let d = &stored.dossier;
    let rules = crate::service::rules::book(state).await?;
    let sources = Sources {
        dossier: d,
        events,
        letterhead,
        tracking_url: tracking_url(state, d),
        rules: &rules,
    };
    let (mut data, issued) = dossier_data(form, ordinal, &sources)?;
    if matches!(form, Form::Receipt) {
        // The queue ticket the applicant was served with (issue 21), when there was one.
        let mut tx = state.db.begin_read().await?;
        if let Some(n) = motcua_store::queue::ticket_of_dossier(&mut tx, d.code.as_str()).await? {
            data["ticket"] = Value::String(n);
        }
    }
    let issuer = Issuer {
        agency: data["issuer"]["code"].as_str().unwrap_or_default().to_owned(),
        name: data["issuer"]["name"].as_str().unwrap_or_default().to_owned(),
        place: letterhead.province_name.clone(),
    };
    let ident = format!("{}/{}/{ordinal}", d.code.as_str(), form.slug());
    let pdf = run_render(state, when, form.slug(), move |r| r.render(form, &data, issued, &ident)).await?;
    Ok((pdf, issuer))
}

/// Issuing a document is check-then-store. Signed documents differ from one signing to
/// the next, so the queue and a download must not both issue the same one: each takes the
/// lock its object key hashes to (64 stripes; a collision only makes two issues wait for
/// each other).
fn issuing_lock(key: &str) -> &'static tokio::sync::Mutex<()> {
    static STRIPES: [tokio::sync::Mutex<()>; 64] = [const { tokio::sync::Mutex::const_new(()) }; 64];
    &STRIPES[usize::try_from(key_hash(key) % 64).unwrap_or(0)]
}

/// FNV-1a of an object key, for the issuing locks.
fn key_hash(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// [`issuing_lock`] across the nodes sharing a PostgreSQL database, each with its own
/// stripes: a dossier filed through one node and handed over through another is queued on
/// both, and each would draw the documents the other has not yet recorded. The lock is an
/// advisory lock held by the returned transaction, released when it is dropped. `None` on
/// SQLite, where one process serves.
async fn issuing_lock_across_nodes(state: &AppState, key: &str) -> Result<Option<motcua_store::Tx>, AppError> {
    if state.db.backend() != motcua_store::Backend::Postgres {
        return Ok(None);
    }
    let mut tx = state.db.begin_read().await?;
    let lock = i64::from_ne_bytes(key_hash(key).to_ne_bytes());
    tx.serialize_with(lock).await?;
    Ok(Some(tx))
}

/// The stored copy of the current revision of document `kind` number `ordinal` of the
/// dossier, when it has one and its object is there.
async fn already_issued(
    state: &AppState,
    dossier_id: i64,
    kind: &str,
    ordinal: i64,
) -> Result<Option<(FormRecord, Option<Vec<u8>>)>, AppError> {
    let record = {
        let mut tx = state.db.begin_read().await?;
        forms::get(&mut tx, dossier_id, kind, ordinal).await?
    };
    let Some(record) = record else {
        return Ok(None);
    };
    match state.objects.get(&record.object_key).await {
        Ok(Some(bytes)) => {
            let bytes = checked(&record, bytes)?;
            Ok(Some((record, Some(bytes))))
        }
        Ok(None) => Ok(Some((record, None))),
        Err(e) => Err(AppError::Internal(format!("object store: {e}"))),
    }
}

/// `pdf` signed at `at` with the key of its issuing agency, when it has one; as it is
/// otherwise. Runs where `when` says, like rendering.
async fn sign(
    state: &AppState,
    when: Rendering,
    pdf: Vec<u8>,
    issuer: Issuer,
    at: OffsetDateTime,
) -> Result<Vec<u8>, AppError> {
    if !state.signing.enabled() {
        return Ok(pdf);
    }
    let signing = std::sync::Arc::clone(&state.signing);
    let job = move || match signing.sign(&pdf, &issuer, at) {
        Ok(Some(signed)) => Ok(signed),
        Ok(None) => Ok(pdf),
        Err(e) => Err(e),
    };
    match when {
        Rendering::Now => state.on_cpu(job).await?,
        Rendering::Idle => state.idle.run(job).await?,
    }
}

/// Renders a dossier document, stores it and records it. Returns the bytes. When another
/// path stored the same document meanwhile, its record stands (the bytes are the same).
async fn issue(state: &AppState, w: Drawing<'_>) -> Result<Vec<u8>, AppError> {
    let (stored, form, ordinal, when) = (w.stored, w.form, w.ordinal, w.when);
    let d = &stored.dossier;
    let key = object_key(d, form.slug(), ordinal, 1);
    let _issuing = issuing_lock(&key).lock().await;
    let _issuing_across_nodes = issuing_lock_across_nodes(state, &key).await?;
    // Issued by the other path (or node) meanwhile; or recorded, its copy lost: drawn again as of then.
    let at = match already_issued(state, stored.id, form.slug(), ordinal).await? {
        Some((_, Some(bytes))) => return Ok(bytes),
        Some((record, None)) => record.created_at,
        None => state.clock.now(),
    };
    let (pdf, issuer) = render_dossier_form(state, w).await?;
    let pdf = sign(state, when, pdf, issuer, at).await?;
    state
        .objects
        .put(&key, pdf.clone())
        .await
        .map_err(|e| AppError::Internal(format!("object store: {e}")))?;
    let mut record = form_record(state, stored.id, form.slug(), ordinal, 1, key, &pdf);
    record.created_at = at;
    let inserted = record_form(state, record).await?;
    if inserted {
        tracing::info!(dossier = d.code.as_str(), form = form.slug(), ordinal, "form issued");
    }
    Ok(pdf)
}

/// Records an issued form in the next group commit: a transaction of its own would wait
/// for the write lock and flush to disk alone, holding up intake (motcua_store::batch).
/// `false` when it was recorded already.
async fn record_form(state: &AppState, record: FormRecord) -> Result<bool, AppError> {
    state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<bool, AppError>> {
            Box::pin(async move { Ok(forms::insert(b.tx().await?, &record).await?) })
        })
        .await
}

/// The stored bytes of `record`, refused when they are not what was issued (its SHA-256):
/// an issued document altered in the store is never handed out as the original.
fn checked(record: &FormRecord, bytes: Vec<u8>) -> Result<Vec<u8>, AppError> {
    if crate::auth::hex_encode(Sha256::digest(&bytes)) == record.sha256 {
        Ok(bytes)
    } else {
        tracing::error!(key = record.object_key, "stored form does not match its SHA-256");
        Err(AppError::Internal(format!(
            "stored form {} does not match the SHA-256 recorded when it was issued",
            record.object_key
        )))
    }
}

/// A dossier document: the stored copy when there is one, otherwise rendered, stored and
/// recorded now. `ordinal` `None` means the latest of its kind; `revision` `None` the
/// current drawing of it, `Some` an earlier one a re-issue replaced (kept as issued:
/// never drawn again).
pub async fn document(
    state: &AppState,
    stored: &Stored,
    form: Form,
    ordinal: Option<i64>,
    revision: Option<i64>,
) -> Result<(Vec<u8>, i64), AppError> {
    let d = &stored.dossier;
    let events = {
        let mut tx = state.db.begin_read().await?;
        dossiers::events(&mut tx, stored.id).await?
    };
    let latest = latest(form, d, &events).ok_or_else(|| AppError::NotFound(missing_message(form, d.code.as_str())))?;
    let ordinal = match ordinal {
        Some(n) if n < 1 || (form != Form::ControlSheet && n > latest) => {
            return Err(AppError::NotFound(format!(
                "Hồ sơ {} không có văn bản số {n} của loại này (có {latest}).",
                d.code.as_str()
            )));
        }
        Some(n) => n,
        None => latest,
    };
    let record = {
        let mut tx = state.db.begin_read().await?;
        match revision {
            None => forms::get(&mut tx, stored.id, form.slug(), ordinal).await?,
            Some(r) => forms::get_revision(&mut tx, stored.id, form.slug(), ordinal, r).await?,
        }
    };
    if let Some(r) = revision {
        let Some(record) = record else {
            return Err(AppError::NotFound(format!(
                "Hồ sơ {} không có lần cấp thứ {r} của văn bản này.",
                d.code.as_str()
            )));
        };
        return match state.objects.get(&record.object_key).await {
            Ok(Some(bytes)) => Ok((checked(&record, bytes)?, ordinal)),
            Ok(None) => Err(AppError::Internal(format!("stored form {} missing", record.object_key))),
            Err(e) => Err(AppError::Internal(format!("object store: {e}"))),
        };
    }
    if let Some(r) = record {
        match state.objects.get(&r.object_key).await {
            Ok(Some(bytes)) => return Ok((checked(&r, bytes)?, ordinal)),
            // A lost object is drawn again: the bytes are the same.
            Ok(None) => tracing::warn!(key = r.object_key, "stored form missing; rendering it again"),
            Err(e) => return Err(AppError::Internal(format!("object store: {e}"))),
        }
    }
    let letterhead = Letterhead::load(state, &d.province).await?;
    let drawing = Drawing {
        stored,
        events: &events,
        letterhead: &letterhead,
        form,
        ordinal,
        when: Rendering::Now,
    };
    let pdf = issue(state, drawing).await?;
    Ok((pdf, ordinal))
}

/// A re-issue planned for one document: the current record, and the new drawing already
/// in the object store, to be recorded in its place ([`motcua_store::forms::replace`]).
#[derive(Debug, Clone)]
pub struct Redrawn {
    /// The record it replaces.
    pub old: FormRecord,
    /// The new revision.
    pub new: FormRecord,
}

/// Draws every document `stored` has been issued again, with today's settings and
/// letterhead (the public address in the QR code, the agencies' names), and stores each
/// whose bytes differ from the current copy under a new key as its next revision. Returns
/// those to record, and how many came out the same (nothing to re-issue: rendering is
/// deterministic). Documents never issued are left to [`issue_missing`].
pub async fn redraw(state: &AppState, stored: &Stored) -> Result<(Vec<Redrawn>, usize), AppError> {
    use motcua_store::payments;
    let (events, have, orders) = {
        let mut tx = state.db.begin_read().await?;
        let events = dossiers::events(&mut tx, stored.id).await?;
        let have = forms::of_dossier(&mut tx, stored.id).await?;
        let orders = payments::of_dossier(&mut tx, stored.id).await?;
        (events, have, orders)
    };
    let letterhead = Letterhead::load(state, &stored.dossier.province).await?;
    let mut redrawn = Vec::new();
    let mut same = 0;
    for old in have.iter().filter(|r| r.replaced_at.is_none()) {
        let (pdf, issuer) = if old.kind == PAYMENT_RECEIPT_KIND {
            let Some(order) = orders.iter().find(|o| receipt_ordinal(o, &orders) == Some(old.ordinal)) else {
                continue;
            };
            let pdf = render_payment_receipt(state, order, stored, &events, &letterhead, old.ordinal).await?;
            (pdf, receipt_issuer(order, &letterhead))
        } else {
            let Some(form) = Form::from_slug(&old.kind).filter(|f| DOSSIER_FORMS.contains(f)) else {
                continue;
            };
            render_dossier_form(
                state,
                Drawing {
                    stored,
                    events: &events,
                    letterhead: &letterhead,
                    form,
                    ordinal: old.ordinal,
                    when: Rendering::Now,
                },
            )
            .await?
        };
        let sha256 = crate::auth::hex_encode(Sha256::digest(&pdf));
        if sha256 == old.sha256 || signed_copy_of(state, old, &pdf).await? {
            same += 1;
            continue;
        }
        let at = state.clock.now();
        let pdf = sign(state, Rendering::Now, pdf, issuer, at).await?;
        // The next revision after every one recorded (replaced ones included).
        let revision = have
            .iter()
            .filter(|r| r.kind == old.kind && r.ordinal == old.ordinal)
            .map(|r| r.revision)
            .max()
            .unwrap_or(old.revision)
            + 1;
        let key = object_key(&stored.dossier, &old.kind, old.ordinal, revision);
        state
            .objects
            .put(&key, pdf.clone())
            .await
            .map_err(|e| AppError::Internal(format!("object store: {e}")))?;
        let mut new = form_record(state, stored.id, &old.kind, old.ordinal, revision, key, &pdf);
        new.created_at = at;
        redrawn.push(Redrawn { old: old.clone(), new });
    }
    Ok((redrawn, same))
}

/// Issues, in the background, every document the dossier's last transition produced (and
/// any an earlier attempt failed to store). Called by the dossier handlers right after
/// their write commits; returns at once.
pub fn issue_after(state: &AppState, dossier: &Dossier) {
    state.form_queue.push(state, dossier.code.clone());
}

pub(crate) async fn issue_missing(state: &AppState, code: &motcua_core::dossier::DossierCode) -> Result<(), AppError> {
    let (stored, events, have) = {
        let mut tx = state.db.begin_read().await?;
        let Some(stored) = dossiers::by_code(&mut tx, code).await? else {
            return Ok(());
        };
        let events = dossiers::events(&mut tx, stored.id).await?;
        let have = forms::of_dossier(&mut tx, stored.id).await?;
        (stored, events, have)
    };
    // A key that cannot be used now leaves the results for the next turn; the forms go on.
    if let Err(e) = sign_results(state, &stored).await {
        tracing::warn!(dossier = code.as_str(), error = %e, "signing the results failed; will retry");
    }
    let mut letterhead = None;
    for form in DOSSIER_FORMS {
        let Some(latest) = latest(form, &stored.dossier, &events) else {
            continue;
        };
        // The control sheet is drawn once per hand-over; notices once each.
        let wanted: Vec<i64> = if form == Form::ControlSheet || form == Form::Receipt {
            vec![latest]
        } else {
            (1..=latest).collect()
        };
        for ordinal in wanted {
            if have.iter().any(|r| r.kind == form.slug() && r.ordinal == ordinal) {
                continue;
            }
            if letterhead.is_none() {
                letterhead = Some(Letterhead::load(state, &stored.dossier.province).await?);
            }
            if let Some(lh) = &letterhead {
                issue(
                    state,
                    Drawing {
                        stored: &stored,
                        events: &events,
                        letterhead: lh,
                        form,
                        ordinal,
                        when: Rendering::Idle,
                    },
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Signs the results of dossier `stored` that wait for their signature (`result_signings`,
/// asked for in the finish's write): each with the key of the leader who finished it (when
/// configured) and then the agency's, on the low-priority thread, as of the finish. The
/// signed copy is stored beside the original, and the file's row (and its entry in the
/// applicant's store) then names it and its SHA-256 in one group commit: what is served
/// and downloaded from then on. The unsigned original is kept.
pub(crate) async fn sign_results(state: &AppState, stored: &Stored) -> Result<(), AppError> {
    let pending: Vec<ResultSigning> = {
        let mut tx = state.db.begin_read().await?;
        result_signings::of_dossier(&mut tx, stored.id).await?
    };
    let pending: Vec<ResultSigning> = pending
        .into_iter()
        .filter(|s| s.state == SigningState::Pending)
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let letterhead = Letterhead::load(state, &stored.dossier.province).await?;
    for job in pending {
        sign_result(state, stored, &letterhead, &job.file_id).await?;
    }
    Ok(())
}

/// Signs result file `file_id` of `stored` if it still waits; see [`sign_results`].
async fn sign_result(state: &AppState, stored: &Stored, lh: &Letterhead, file_id: &str) -> Result<(), AppError> {
    let d = &stored.dossier;
    let key = format!(
        "results/{}/{}/{file_id}-signed.pdf",
        d.province.as_str(),
        d.code.as_str()
    );
    // One signer at a time per file, across nodes: two would store different bytes.
    let _signing = issuing_lock(&key).lock().await;
    let _signing_across_nodes = issuing_lock_across_nodes(state, &key).await?;
    let (job, file) = {
        let mut tx = state.db.begin_read().await?;
        (
            result_signings::get(&mut tx, file_id).await?,
            motcua_store::files::get(&mut tx, file_id).await?,
        )
    };
    let (Some(job), Some(file)) = (job.filter(|j| j.state == SigningState::Pending), file) else {
        return Ok(());
    };
    let original = state
        .objects
        .get(&file.object_key)
        .await
        .map_err(|e| AppError::Internal(format!("object store: {e}")))?
        .ok_or_else(|| {
            AppError::Internal(format!(
                "object {} of result file {file_id} is missing",
                file.object_key
            ))
        })?;
    if crate::auth::hex_encode(Sha256::digest(&original)) != file.sha256 {
        return Err(AppError::Internal(format!(
            "object {} of result file {file_id} does not match its SHA-256",
            file.object_key
        )));
    }
    let issuer = Issuer {
        agency: job.agency_code.clone(),
        name: lh.name(&job.agency_code),
        place: lh.province_name.clone(),
    };
    let signing = std::sync::Arc::clone(&state.signing);
    let leader = job.leader.clone();
    let at = job.requested_at;
    let outcome = state
        .idle
        .run(move || signing.sign_result(&original, &issuer, leader.as_deref(), at))
        .await?;
    let signed = match outcome {
        Ok(Some(signed)) => signed,
        Ok(None) => return result_unsigned(state, file_id, "no signing key is configured for the agency").await,
        Err(ResultSignError::Unsignable(why)) => return result_unsigned(state, file_id, &why).await,
        Err(ResultSignError::Unavailable(e)) => return Err(e),
    };
    state
        .objects
        .put(&key, signed.pdf.clone())
        .await
        .map_err(|e| AppError::Internal(format!("object store: {e}")))?;
    let sha256 = crate::auth::hex_encode(Sha256::digest(&signed.pdf));
    let size = i64::try_from(signed.pdf.len()).unwrap_or(i64::MAX);
    let views = crate::service::verify::signatures(state, signed.pdf).await?;
    let status = crate::service::documents::status_of(&views);
    let signers = signed.signers.join(",");
    let now = state.clock.now();
    let (code, province) = (d.code.as_str().to_owned(), d.province.as_str().to_owned());
    let id = file_id.to_owned();
    let recorded = state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<bool, AppError>> {
            Box::pin(async move {
                let copy = SignedCopy {
                    file_id: &id,
                    original_object_key: &file.object_key,
                    original_sha256: &file.sha256,
                    object_key: &key,
                    sha256: &sha256,
                    size,
                    signers: &signers,
                    signature: Some(&status),
                    at: now,
                };
                if !result_signings::record_signed(b.tx().await?, &copy).await? {
                    return Ok(false);
                }
                let after = json!({"file": id, "sha256": sha256, "original_sha256": file.sha256, "signers": signers});
                crate::audit::record_in_batch(
                    b,
                    &crate::audit::Actor::system(),
                    crate::audit::Event {
                        action: "dossier.result_signed",
                        object_type: "dossier",
                        object_id: &code,
                        province: Some(&province),
                        before: None,
                        after: Some(after),
                    },
                )
                .await?;
                Ok(true)
            })
        })
        .await?;
    if recorded {
        state.tracking_cache.forget(d.code.as_str());
        tracing::info!(dossier = d.code.as_str(), file = file_id, "result signed");
    }
    Ok(())
}

/// Records that result file `file_id` stays unsigned, and why (logged too).
async fn result_unsigned(state: &AppState, file_id: &str, why: &str) -> Result<(), AppError> {
    tracing::warn!(
        file = file_id,
        reason = why,
        "a result file cannot be signed; it stays as it is"
    );
    let (id, why) = (file_id.to_owned(), why.to_owned());
    state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<(), AppError>> {
            Box::pin(async move { Ok(result_signings::record_failed(b.tx().await?, &id, &why).await?) })
        })
        .await
}

/// Queues for the form queue every dossier whose results still wait for their signature
/// (at most 1,000 a call): what a stop between a finish's commit and its signing left.
/// Called when the server starts and every ten minutes. Returns how many were queued.
pub async fn queue_unsigned_results(state: &AppState) -> Result<usize, AppError> {
    let codes = {
        let mut tx = state.db.begin_read().await?;
        let mut codes = Vec::new();
        for id in result_signings::pending_dossiers(&mut tx, 1000).await? {
            if let Some(d) = dossiers::by_id(&mut tx, id).await? {
                codes.push(d.code);
            }
        }
        codes
    };
    let n = codes.len();
    for code in codes {
        state.form_queue.push(state, code);
    }
    Ok(n)
}

/// Whether a dossier in `status` is finished with a result (for the register's columns).
pub fn has_result(status: Status) -> bool {
    status.has_result()
}

/// The `dossier_forms` kind of the electronic receipt of a fee payment.
pub const PAYMENT_RECEIPT_KIND: &str = "payment-receipt";

/// Which payment receipt of its dossier `order` is: its place (from 1) among the
/// dossier's paid orders by the time they were settled. `None` when it is not paid.
fn receipt_ordinal(order: &motcua_store::payments::Order, all: &[motcua_store::payments::Order]) -> Option<i64> {
    use motcua_store::payments::PAID;
    if order.state != PAID {
        return None;
    }
    let mut paid: Vec<&motcua_store::payments::Order> = all.iter().filter(|o| o.state == PAID).collect();
    paid.sort_by(|a, b| (a.settled_at, &a.id).cmp(&(b.settled_at, &b.id)));
    let i = paid.iter().position(|o| o.id == order.id)?;
    i64::try_from(i + 1).ok()
}

/// The data of the electronic receipt of `order` (paid) of dossier `d`. The fee items
/// are the dossier's (less those waived) when they add up to what was paid; otherwise one
/// line names what the payment request asked for. Exemptions are listed with their reasons.
pub fn payment_receipt_data(
    order: &motcua_store::payments::Order,
    d: &Dossier,
    events: &[EventRecord],
    lh: &Letterhead,
) -> (Value, OffsetDateTime) {
    let paid_at = order.settled_at.unwrap_or(order.created_at);
    let amount = Vnd(u64::try_from(order.amount).unwrap_or_default());
    let kind_label = |k: FeeKind| match k {
        FeeKind::Fee => "Phí",
        FeeKind::Charge => "Lệ phí",
    };
    let items: Vec<Value> = if d.fee_due().0 > 0 && d.fee_due() == amount {
        d.fees
            .iter()
            .enumerate()
            .filter(|(i, _)| d.exemption(*i).is_none())
            .enumerate()
            .map(|(i, (_, f))| {
                json!({
                    "no": i + 1,
                    "name": match &f.option { Some(o) => format!("{} ({o})", f.name), None => f.name.clone() },
                    "kind": kind_label(f.kind),
                    "amount": f.amount.to_string(),
                })
            })
            .collect()
    } else {
        let asked = payment_reason(d);
        vec![json!({"no": 1, "name": asked, "kind": "Phí, lệ phí", "amount": amount.to_string()})]
    };
    let cash = order.method == "cash";
    let transfer = order.method == motcua_store::payments::TRANSFER;
    let collector = if cash {
        events
            .iter()
            .rev()
            .find(|e| e.action == Action::ConfirmPayment.name() && e.at == paid_at)
            .map(|e| e.actor.name.clone())
            .unwrap_or_default()
    } else if transfer {
        lh.name(&order.agency_code)
    } else {
        "Cổng thanh toán VNPay".to_owned()
    };
    let (method, txn_label) = match (cash, transfer) {
        (true, _) => ("Tiền mặt tại Bộ phận Một cửa", "Số biên lai thu tiền"),
        (_, true) => (
            "Chuyển khoản ngân hàng (VietQR, đối chiếu sao kê)",
            "Mã giao dịch ngân hàng",
        ),
        _ => ("Trực tuyến qua cổng thanh toán VNPay", "Mã giao dịch VNPay"),
    };
    let data = json!({
        "form": {"title": motcua_pdf::PAYMENT_RECEIPT_TITLE},
        "issuer": lh.issuer(&order.agency_code),
        "place_date": place_date(&lh.province_name, paid_at),
        "number": order.id,
        "code": d.code.as_str(),
        "applicant": applicant(d),
        "procedure": {"code": d.procedure.as_str(), "name": d.procedure_name},
        "items": items,
        "total": amount.to_string(),
        "exempted": d
            .exemptions
            .iter()
            .map(|e| format!("{} ({}): {}", e.name, e.amount, e.reason))
            .collect::<Vec<_>>()
            .join("; "),
        "method": method,
        "txn_label": txn_label,
        "txn": order.gateway_txn.clone().unwrap_or_default(),
        "bank": order.bank_code.clone().unwrap_or_default(),
        "paid_at": long_time(paid_at),
        "order_id": order.id,
        "collector": collector,
    });
    (data, paid_at)
}

/// Draws the electronic receipt of paid `order`, receipt number `ordinal` of its dossier
/// (not stored).
async fn render_payment_receipt(
    state: &AppState,
    order: &motcua_store::payments::Order,
    stored: &Stored,
    events: &[EventRecord],
    letterhead: &Letterhead,
    ordinal: i64,
) -> Result<Vec<u8>, AppError> {
    let d = &stored.dossier;
    let (data, issued) = payment_receipt_data(order, d, events, letterhead);
    let ident = format!("{}/{PAYMENT_RECEIPT_KIND}/{ordinal}", d.code.as_str());
    run_render(state, Rendering::Now, PAYMENT_RECEIPT_KIND, move |r| {
        r.render_payment_receipt(&data, issued, &ident)
    })
    .await
}

/// The electronic receipt of payment order `order_id`: the stored copy when there is
/// one, otherwise rendered from the order and its dossier, stored in the object store
/// and recorded in `dossier_forms` (kind [`PAYMENT_RECEIPT_KIND`]) with its SHA-256.
/// Not found when the order is unknown or not paid.
pub async fn payment_receipt(state: &AppState, order_id: &str) -> Result<Vec<u8>, AppError> {
    use motcua_store::payments;
    let (order, stored, events, ordinal, record) = {
        let mut tx = state.db.begin_read().await?;
        let order = payments::by_id(&mut tx, order_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Không tìm thấy lệnh thanh toán {order_id}.")))?;
        let all = payments::of_dossier(&mut tx, order.dossier_id).await?;
        let ordinal = receipt_ordinal(&order, &all).ok_or_else(|| {
            AppError::NotFound(format!(
                "Lệnh thanh toán {order_id} chưa được thanh toán nên chưa có biên lai."
            ))
        })?;
        let dossier = dossiers::by_id(&mut tx, order.dossier_id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("dossier of order {order_id} missing")))?;
        let events = dossiers::events(&mut tx, order.dossier_id).await?;
        let record = forms::get(&mut tx, order.dossier_id, PAYMENT_RECEIPT_KIND, ordinal).await?;
        let stored = Stored {
            id: order.dossier_id,
            dossier,
        };
        (order, stored, events, ordinal, record)
    };
    if let Some(r) = record {
        match state.objects.get(&r.object_key).await {
            Ok(Some(bytes)) => return checked(&r, bytes),
            Ok(None) => tracing::warn!(key = r.object_key, "stored payment receipt missing; rendering it again"),
            Err(e) => return Err(AppError::Internal(format!("object store: {e}"))),
        }
    }
    let d = &stored.dossier;
    let key = object_key(d, PAYMENT_RECEIPT_KIND, ordinal, 1);
    let _issuing = issuing_lock(&key).lock().await;
    let at = match already_issued(state, stored.id, PAYMENT_RECEIPT_KIND, ordinal).await? {
        Some((_, Some(bytes))) => return Ok(bytes),
        Some((record, None)) => record.created_at,
        None => state.clock.now(),
    };
    let letterhead = Letterhead::load(state, &d.province).await?;
    let pdf = render_payment_receipt(state, &order, &stored, &events, &letterhead, ordinal).await?;
    let pdf = sign(state, Rendering::Now, pdf, receipt_issuer(&order, &letterhead), at).await?;
    state
        .objects
        .put(&key, pdf.clone())
        .await
        .map_err(|e| AppError::Internal(format!("object store: {e}")))?;
    let mut record = form_record(state, stored.id, PAYMENT_RECEIPT_KIND, ordinal, 1, key, &pdf);
    record.created_at = at;
    if record_form(state, record).await? {
        tracing::info!(
            dossier = d.code.as_str(),
            order = order_id,
            ordinal,
            "payment receipt issued"
        );
    }
    Ok(pdf)
}

/// The fee notice of open transfer order `order` of dossier `d`: what is owed, and how
/// to pay it by bank transfer (`transfer`), with its VietQR code. Drawn on each download
/// from the order (not stored: it records nothing that happened); dated when the order
/// was opened, so the same order draws the same bytes.
pub async fn payment_notice(
    state: &AppState,
    order: &motcua_store::payments::Order,
    d: &Dossier,
    transfer: &crate::service::payments::TransferView,
) -> Result<Vec<u8>, AppError> {
    let letterhead = Letterhead::load(state, &d.province).await?;
    let qr = motcua_pdf::qr_svg(&transfer.payload).map_err(|e| AppError::Internal(e.to_string()))?;
    let amount = Vnd(u64::try_from(order.amount).unwrap_or_default());
    let reason = payment_reason(d);
    let bank = if transfer.bank.is_empty() {
        format!("BIN {}", transfer.bin)
    } else {
        format!("{} (BIN {})", transfer.bank, transfer.bin)
    };
    let issued = order.created_at;
    let data = json!({
        "form": {"title": motcua_pdf::PAYMENT_NOTICE_TITLE},
        "issuer": letterhead.issuer(&order.agency_code),
        "place_date": place_date(&letterhead.province_name, issued),
        "code": d.code.as_str(),
        "applicant": applicant(d),
        "procedure": {"code": d.procedure.as_str(), "name": d.procedure_name},
        "reason": reason,
        "amount": amount.to_string(),
        "amount_words": transfer.amount_in_words,
        "order_id": order.id,
        "expires_at": long_time(order.expires_at),
        "transfer": {
            "bank": bank,
            "account": transfer.account,
            "account_name": transfer.account_name,
            "reference": transfer.reference,
            "qr_svg": qr,
        },
    });
    let ident = format!("{}/payment-notice/{}", d.code.as_str(), order.id);
    run_render(state, Rendering::Now, "payment-notice", move |r| {
        r.render_payment_notice(&data, issued, &ident)
    })
    .await
}

/// Who issues the receipt of `order`: its collecting agency.
fn receipt_issuer(order: &motcua_store::payments::Order, lh: &Letterhead) -> Issuer {
    Issuer {
        agency: order.agency_code.clone(),
        name: lh.name(&order.agency_code),
        place: lh.province_name.clone(),
    }
}

/// Whether the stored copy of `old` is `pdf` signed: a signature is an incremental update,
/// so the signed file begins with the bytes that were signed. A document issued signed is
/// the same document as today's unsigned drawing when it begins with it.
async fn signed_copy_of(state: &AppState, old: &FormRecord, pdf: &[u8]) -> Result<bool, AppError> {
    match state.objects.get(&old.object_key).await {
        Ok(Some(bytes)) => Ok(bytes.len() > pdf.len() && bytes.starts_with(pdf)),
        Ok(None) => Ok(false),
        Err(e) => Err(AppError::Internal(format!("object store: {e}"))),
    }
}

/// Issues, in the background, the electronic receipt of payment order `order_id` (just
/// confirmed). Called after the confirming write commits; returns at once. A failure is
/// logged: the receipt is drawn on its first download instead.
pub fn issue_payment_receipt_after(state: &AppState, order_id: &str) {
    let state = state.clone();
    let id = order_id.to_owned();
    tokio::spawn(async move {
        if let Err(e) = payment_receipt(&state, &id).await {
            tracing::warn!(order = id.as_str(), error = %e, "issuing the payment receipt failed");
        }
    });
}

/// What a payment is for: the reason of the latest payment request that gave one, or the
/// procedure's fees.
fn payment_reason(d: &Dossier) -> String {
    d.notices
        .iter()
        .rev()
        .find(|n| n.kind == NoticeKind::PaymentRequest && !n.reason.trim().is_empty())
        .map_or_else(
            || format!("Phí, lệ phí giải quyết thủ tục «{}»", d.procedure_name),
            |n| n.reason.clone(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_are_written_as_the_forms_write_them_in_vietnam_time() {
        let t = datetime!(2026-02-13 02:05 UTC);
        assert_eq!(long_time(t), "09 giờ 05 phút, ngày 13 tháng 02 năm 2026");
        assert_eq!(table_time(t), "09 giờ 05, ngày 13/02/2026");
        assert_eq!(short_date(datetime!(2026-02-12 17:30 UTC)), "13/02/2026");
        assert_eq!(place_date("Ninh Thuận", t), "Ninh Thuận, ngày 13 tháng 02 năm 2026");
    }
}
