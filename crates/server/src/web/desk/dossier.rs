//! `GET /ho-so/{code}`: the staff dossier page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use motcua_core::access::Role;
use motcua_core::catalogue::{AgencyKind, ApplicantKind, FeeKind};
use motcua_core::dossier::{Action, DossierCode};
use motcua_core::lifecycle::{self, Delivery, NoticeKind};
use motcua_store::accounts::{self, UserKind};
use motcua_store::{dossiers, files, forms};

use super::{Badge, Choice, agency_choices, at_text, channel_label, due_badge};
use crate::error::AppError;
use crate::forms::{DOSSIER_FORMS, latest};
use crate::service::dossiers::{self as api, FileView};
use crate::state::AppState;
use crate::web::pages::PageError;
use crate::web::{Frame, SignedIn, page, require, when};

/// A file to download.
struct FileLink {
    id: String,
    name: String,
    size: String,
    /// For a PDF: the verdict of its digital signatures (`unsigned` without any) and what
    /// they say (`crate::service::verify::file_signatures`); empty for other files.
    signature: Option<crate::service::verify::FileSignatures>,
}

/// One document of the checklist.
struct DocRow {
    name: String,
    originals: u16,
    copies: u16,
    files: Vec<FileLink>,
}

/// One fee item.
struct FeeRow {
    kind: &'static str,
    name: String,
    amount: String,
}

/// A written notice to the applicant.
struct NoticeRow {
    title: &'static str,
    at: String,
    by: String,
    reason: String,
    missing: Vec<String>,
    extra: String,
}

/// One row of the history.
struct EventRow {
    at: String,
    who: String,
    label: String,
    change: String,
    note: String,
}

/// One row of the control sheet.
struct ControlLine {
    giver: String,
    receiver: String,
    handed: String,
    due: String,
    finished: String,
    result: Option<Badge>,
    note: String,
}

/// An official form of the dossier.
struct FormLink {
    href: String,
    title: &'static str,
}

/// One drawing of an issued document, for the administrator's list.
struct IssuedRow {
    title: String,
    ordinal: i64,
    revision: i64,
    issued: String,
    sha256: String,
    replaced: String,
    href: String,
}

/// What a re-issue just did, shown above the list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ShowParams {
    /// Documents drawn again.
    reissued: Option<usize>,
    /// Documents that came out the same.
    unchanged: Option<usize>,
}

/// An action the viewer may take now.
struct ActionForm {
    name: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "desk/dossier.html")]
struct DossierPage {
    frame: Frame,
    code: String,
    procedure: String,
    procedure_name: String,
    status_code: u8,
    status_label: String,
    channel: &'static str,
    applicant_kind: &'static str,
    applicant: lifecycle::Applicant,
    /// Who filed it for the applicant under an authorisation, if anyone.
    submitter: Option<lifecycle::Applicant>,
    receiving: String,
    current: String,
    responsible: String,
    assignee: String,
    received: String,
    due: String,
    original_due: String,
    due_badge: Option<Badge>,
    delivery: &'static str,
    sets: u16,
    note: String,
    documents: Vec<DocRow>,
    /// Checklist documents taken from the applicant's store.
    reused: crate::web::documents::ReusedDocuments,
    /// The province's document kinds, for the finish form's result kind.
    result_kinds: Vec<motcua_core::documents::DocumentKind>,
    /// Whether the viewer handles the dossier now, and so may open the applicant's store.
    handles: bool,
    fees: Vec<FeeRow>,
    fee_total: String,
    payment_due: Option<String>,
    payment_due_amount: u64,
    payments: Vec<(String, String)>,
    notices: Vec<NoticeRow>,
    results: Vec<FileLink>,
    finished: String,
    returned: String,
    handed: String,
    receipt: Option<String>,
    forms: Vec<FormLink>,
    may_reissue: bool,
    issued: Vec<IssuedRow>,
    reissue_message: String,
    actions: Vec<ActionForm>,
    officers: Vec<Choice>,
    agencies: Vec<Choice>,
    delivery_value: &'static str,
    events: Vec<EventRow>,
    control: Vec<ControlLine>,
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn notice_title(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::SupplementRequest => "Yêu cầu bổ sung, hoàn thiện hồ sơ",
        NoticeKind::Refusal => "Từ chối tiếp nhận hồ sơ",
        NoticeKind::Apology => "Xin lỗi và hẹn lại ngày trả kết quả",
        NoticeKind::StopNotice => "Thông báo dừng giải quyết hồ sơ",
        NoticeKind::PaymentRequest => "Yêu cầu thực hiện nghĩa vụ tài chính",
        NoticeKind::Withdrawal => "Rút hồ sơ theo yêu cầu",
    }
}

fn form_title(form: motcua_pdf::Form) -> &'static str {
    use motcua_pdf::Form;
    match form {
        Form::Receipt => "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        Form::SupplementRequest => "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
        Form::Refusal => "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
        Form::Apology => "Văn bản xin lỗi và hẹn lại ngày trả kết quả",
        Form::StopNotice => "Thông báo dừng giải quyết hồ sơ",
        Form::ControlSheet => "Phiếu kiểm soát quá trình giải quyết hồ sơ",
        Form::Register => "Sổ theo dõi hồ sơ",
    }
}

fn issued_row(code: &str, r: forms::FormRecord) -> IssuedRow {
    let title = motcua_pdf::Form::from_slug(&r.kind).map_or_else(
        || {
            if r.kind == crate::forms::PAYMENT_RECEIPT_KIND {
                "Biên lai thu phí, lệ phí điện tử".to_owned()
            } else {
                r.kind.clone()
            }
        },
        |f| form_title(f).to_owned(),
    );
    let href = if r.kind == crate::forms::PAYMENT_RECEIPT_KIND {
        String::new()
    } else {
        format!(
            "/api/v1/dossiers/{code}/forms/{}.pdf?n={}&r={}",
            r.kind, r.ordinal, r.revision
        )
    };
    IssuedRow {
        title,
        ordinal: r.ordinal,
        revision: r.revision,
        issued: when(r.created_at),
        sha256: r.sha256,
        replaced: r.replaced_at.map(when).unwrap_or_default(),
        href,
    }
}

/// `POST /ho-so/{code}/cap-lai-van-ban`: the administrator's button that draws the
/// dossier's documents again (`service::dossiers::reissue`), then back to the dossier
/// page, which says what changed.
pub async fn reissue_submit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    mut parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let back = format!("/ho-so/{code}");
    let form = crate::web::form::parse(&parts.headers, &body)?;
    let p = match crate::web::form::principal(&state, &mut parts, &form).await {
        Ok(p) => p,
        Err(e) => return Ok(crate::web::form::failed(e, &back)),
    };
    let done = api::reissue(&state, &p, &code).await?;
    let to = format!(
        "/ho-so/{}?reissued={}&unchanged={}#h-issued",
        done.code,
        done.reissued.len(),
        done.unchanged
    );
    Ok(axum::response::Redirect::to(&to).into_response())
}

fn delivery_value(d: Delivery) -> &'static str {
    match d {
        Delivery::Counter => "counter",
        Delivery::Post => "post",
        Delivery::Online => "online",
    }
}

/// `GET /ho-so/{code}`: the dossier for the staff who may see it (404 otherwise, as for a
/// code that does not exist).
pub async fn show(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<ShowParams>,
) -> Result<Response, PageError> {
    let code = DossierCode::parse(&code).map_err(|_| AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")))?;
    let citizen = p.user.as_ref().is_some_and(|u| u.kind == UserKind::Citizen);
    require(
        !citizen,
        "xem trang hồ sơ dành cho cán bộ; hãy mở hồ sơ trong mục «Hồ sơ của tôi»",
    )?;
    let (stored, file_records, events) = {
        let mut tx = state.db.begin_read().await?;
        let stored = dossiers::by_code(&mut tx, &code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")))?;
        let viewer = p.user.as_ref().map(|u| u.id.as_str());
        if !lifecycle::can_view(&stored.dossier, &p.access, viewer) {
            // Another agency's dossier answers as no dossier: the answer must not tell
            // which codes exist.
            return Err(AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")).into());
        }
        let file_records = files::of_dossier(&mut tx, stored.id).await?;
        let events = dossiers::events(&mut tx, stored.id).await?;
        (stored, file_records, events)
    };
    api::audit_view(&state, &p, &stored.dossier).await?;
    let dir = api::directory(&state, &stored.dossier.province).await?;
    let labels = crate::service::rules::now(&state).await?;
    let now = state.clock.now();
    let soon = api::soon_after(&state, &stored.dossier.province, now).await?;
    let stored_id = stored.id;
    let signatures = crate::service::verify::file_signatures(&state, &file_records).await?;
    let v = api::view(&state, stored.dossier, file_records, &p).await?;
    let d = &v.dossier;
    let by_id: HashMap<&str, &FileView> = v.files.iter().map(|f| (f.id.as_str(), f)).collect();
    let link = |id: &String| {
        let f = by_id.get(id.as_str());
        FileLink {
            id: id.clone(),
            name: f.map_or_else(|| id.clone(), |f| f.name.clone()),
            size: f.map(|f| size_text(f.size)).unwrap_or_default(),
            signature: signatures.get(id.as_str()).cloned(),
        }
    };
    let code_text = d.code.as_str().to_owned();
    let forms: Vec<FormLink> = DOSSIER_FORMS
        .into_iter()
        .filter(|f| latest(*f, d, &events).is_some())
        .map(|f| FormLink {
            href: format!("/api/v1/dossiers/{code_text}/forms/{}.pdf", f.slug()),
            title: form_title(f),
        })
        .collect();
    let receipt = d
        .received_at
        .map(|_| format!("/api/v1/dossiers/{code_text}/forms/receipt.pdf"));
    let actions: Vec<ActionForm> = v
        .actions
        .iter()
        .filter_map(|name| Action::from_name(name))
        .map(|a| ActionForm {
            name: a.name(),
            label: a.label(),
        })
        .collect();
    let wants = |a: Action| actions.iter().any(|f| f.name == a.name());
    let result_kinds = if wants(Action::Finish) {
        crate::service::documents::kinds(&state, Some(d.province.as_str())).await?
    } else {
        Vec::new()
    };
    let reused = crate::web::documents::ReusedDocuments::of(&state, d).await?;
    let officers = if wants(Action::Assign) {
        let mut tx = state.db.begin_read().await?;
        accounts::staff_at(
            &mut tx,
            &d.province,
            &d.current_agency,
            &[Role::DepartmentOfficer, Role::DepartmentLeader],
        )
        .await?
        .into_iter()
        .map(|(u, roles)| Choice {
            label: if roles.contains(&Role::DepartmentOfficer) {
                format!("{} (chuyên viên)", u.display_name)
            } else {
                format!("{} (lãnh đạo)", u.display_name)
            },
            value: u.id,
        })
        .collect()
    } else {
        Vec::new()
    };
    let agencies = if wants(Action::ForwardOut) {
        agency_choices(&dir, |code, kind| {
            code != d.current_agency.as_str() && !matches!(kind, AgencyKind::Province | AgencyKind::Centre)
        })
    } else {
        Vec::new()
    };
    let control = api::control_sheet(&events, &dir)
        .into_iter()
        .map(|r| ControlLine {
            giver: format!("{} ({})", r.giver, dir.name(&r.from_agency)),
            receiver: match &r.receiver {
                Some(who) => format!("{who} ({})", r.to_agency_name),
                None => r.to_agency_name.clone(),
            },
            handed: at_text(&r.handed_at),
            due: r.due_at.as_deref().map(at_text).unwrap_or_default(),
            finished: r.finished_at.as_deref().map(at_text).unwrap_or_default(),
            result: r.result.map(|t| Badge {
                class: if t == motcua_core::dossier::Timeliness::Late {
                    "due-late"
                } else {
                    "due-ok"
                },
                label: t.label(),
            }),
            note: r.note,
        })
        .collect();
    let events = events
        .into_iter()
        .map(|e| EventRow {
            at: when(e.at),
            who: format!("{} ({})", e.actor.name, dir.name(&e.agency)),
            label: api::action_label(&e.action),
            change: match e.from_status {
                Some(from) if from != e.to_status => format!("{} → {}", labels.label(from), labels.label(e.to_status)),
                Some(_) | None => labels.label(e.to_status),
            },
            note: e.note,
        })
        .collect();
    let notices = d
        .notices
        .iter()
        .map(|n| NoticeRow {
            title: notice_title(n.kind),
            at: when(n.at),
            by: n.by.name.clone(),
            reason: n.reason.clone(),
            missing: n.missing.clone(),
            extra: match (n.amount, n.old_due, n.new_due) {
                (Some(a), _, _) => format!("Số tiền: {a}"),
                (_, Some(old), Some(new)) => format!("Hẹn cũ: {} · Hẹn mới: {}", when(old), when(new)),
                _ => String::new(),
            },
        })
        .collect();
    let handed = d.handed.as_ref().map_or_else(String::new, |h| {
        if h.tracking_number.is_empty() {
            h.method.label().to_owned()
        } else {
            format!("{} (số hiệu bưu gửi {})", h.method.label(), h.tracking_number)
        }
    });
    let may_reissue = p.access.can_administer(&d.province);
    let issued = if may_reissue {
        let mut tx = state.db.begin_read().await?;
        forms::of_dossier(&mut tx, stored_id)
            .await?
            .into_iter()
            .map(|r| issued_row(&code_text, r))
            .collect()
    } else {
        Vec::new()
    };
    let reissue_message = match (q.reissued, q.unchanged) {
        (Some(0), Some(_)) => "Các văn bản vẽ lại giống hệt bản đã cấp: không cấp lại văn bản nào.".to_owned(),
        (Some(n), Some(m)) => format!("Đã cấp lại {n} văn bản; {m} văn bản không thay đổi."),
        _ => String::new(),
    };
    let page_data = DossierPage {
        frame: Frame::new(&state, Some(&p)).await?,
        code: code_text,
        procedure: d.procedure.as_str().to_owned(),
        procedure_name: d.procedure_name.clone(),
        status_code: v.status_code,
        status_label: v.status_label,
        channel: channel_label(d.channel),
        applicant_kind: match d.applicant.kind {
            ApplicantKind::Citizen => "Công dân",
            ApplicantKind::Organisation => "Tổ chức, doanh nghiệp",
        },
        applicant: d.applicant.clone(),
        submitter: d.submitter.clone(),
        receiving: dir.name(d.receiving_agency.as_str()),
        current: dir.name(d.current_agency.as_str()),
        responsible: dir.name(d.responsible_agency.as_str()),
        assignee: d.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        received: d.received_at.map(when).unwrap_or_default(),
        due: d.due_at.map(when).unwrap_or_default(),
        original_due: d
            .original_due_at
            .filter(|o| Some(*o) != d.due_at)
            .map(when)
            .unwrap_or_default(),
        due_badge: due_badge(d, now, soon),
        delivery: d.delivery.label(),
        sets: d.sets,
        note: d.note.clone(),
        documents: d
            .documents
            .iter()
            .map(|doc| DocRow {
                name: doc.name.clone(),
                originals: doc.originals,
                copies: doc.copies,
                files: doc.files.iter().map(&link).collect(),
            })
            .collect(),
        reused,
        result_kinds,
        handles: motcua_core::documents::handles(d, &p.access),
        fees: d
            .fees
            .iter()
            .map(|f| FeeRow {
                kind: match f.kind {
                    FeeKind::Fee => "Phí",
                    FeeKind::Charge => "Lệ phí",
                },
                name: f.name.clone(),
                amount: f.amount.to_string(),
            })
            .collect(),
        fee_total: d.fee_total().to_string(),
        payment_due: d.payment_due.map(|a| a.to_string()),
        payment_due_amount: d.payment_due.map_or(0, |a| a.0),
        payments: d.payments.iter().map(|(a, r)| (a.to_string(), r.clone())).collect(),
        notices,
        results: d.result_files.iter().map(&link).collect(),
        finished: d
            .finished_at
            .filter(|_| crate::forms::has_result(d.status))
            .map(when)
            .unwrap_or_default(),
        returned: d.returned_at.map(when).unwrap_or_default(),
        handed,
        receipt,
        forms,
        may_reissue,
        issued,
        reissue_message,
        actions,
        officers,
        agencies,
        delivery_value: delivery_value(d.delivery),
        events,
        control,
    };
    Ok(page(&page_data))
}
