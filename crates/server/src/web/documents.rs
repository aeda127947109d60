//! The document store's pages (docs/documents.md): «Kho giấy tờ của tôi» (`/kho-giay-to`:
//! a person's stores with their documents to download, an upload form, their own uploads
//! to remove, and who among staff looked into them), and the store of a dossier's
//! applicant for the staff handling it (`/ho-so/{code}/kho-giay-to`, every look audited);
//! the counter's link of a citizen account to an owner (`/quay/lien-ket-kho-giay-to`); the
//! administrator's kind list (`/quan-tri/loai-giay-to`). Forms post without script;
//! downloads are the API's `/api/v1/documents/{id}/file`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use motcua_core::documents::DocumentKind;
use serde::Deserialize;

use super::form::{self, FormData};
use super::{Frame, SignedIn, filters, page};
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::documents::{self, KindList, LinkRequest, LinkView, NewStoredDocument, StoreView, ViewRecord};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kho-giay-to", get(mine).post(upload))
        .route("/kho-giay-to/{id}/xoa", post(remove))
        .route("/ho-so/{code}/kho-giay-to", get(of_dossier))
        .route("/quay/lien-ket-kho-giay-to", get(link_form).post(link))
        .route("/quan-tri/loai-giay-to", get(kinds_form).post(save_kinds))
}

/// The checklist documents a dossier took from the applicant's store (docs/documents.md),
/// with the signature status each had when it entered the store: the part of a dossier's
/// page (the applicant's and the desk's) that lists them.
pub struct ReusedDocuments {
    /// The documents taken, in checklist order.
    pub list: Vec<motcua_core::documents::Reuse>,
    /// The signature status of each, by its id.
    signatures: std::collections::HashMap<i64, documents::SignatureStatusView>,
}

impl ReusedDocuments {
    /// The documents dossier `d` took, with their signature status.
    pub async fn of(state: &AppState, d: &motcua_core::lifecycle::Dossier) -> Result<Self, AppError> {
        let ids: Vec<i64> = d.reused.iter().map(|r| r.document).collect();
        Ok(ReusedDocuments {
            signatures: documents::signature_status(state, &ids).await?,
            list: d.reused.clone(),
        })
    }

    /// The signature status of stored document `id`, if it was checked.
    pub fn signature(&self, id: &i64) -> Option<&documents::SignatureStatusView> {
        self.signatures.get(id)
    }
}

/// A staff look, as the owner is shown it.
struct ViewLine {
    at: String,
    who: String,
    label: &'static str,
    dossier: Option<String>,
}

impl ViewLine {
    fn of(v: ViewRecord) -> Self {
        let at = time::OffsetDateTime::parse(&v.at, &time::format_description::well_known::Rfc3339)
            .map(super::when)
            .unwrap_or(v.at);
        ViewLine {
            at,
            who: v.who,
            label: v.label,
            dossier: v.dossier,
        }
    }
}

#[derive(Template)]
#[template(path = "documents/mine.html")]
struct MinePage {
    frame: Frame,
    stores: Vec<StoreView>,
    views: Vec<ViewLine>,
    kinds: Vec<DocumentKind>,
    /// What happened (after a post), or why it was refused.
    notice: String,
    error: String,
}

/// `?da=`: what the last post did.
#[derive(Debug, Deserialize)]
pub struct Done {
    da: Option<String>,
}

/// `GET /kho-giay-to`: «Kho giấy tờ của tôi».
pub async fn mine(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match q.da.as_deref() {
        Some("them") => "Đã thêm giấy tờ vào kho.",
        Some("xoa") => "Đã xóa giấy tờ khỏi kho.",
        _ => "",
    };
    mine_page(&state, &p, notice.to_owned(), String::new(), StatusCode::OK).await
}

async fn mine_page(
    state: &AppState,
    p: &Principal,
    notice: String,
    error: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let t = MinePage {
        frame: Frame::new(state, Some(p)).await?,
        stores: documents::mine(state, p).await?,
        views: documents::views(state, p)
            .await?
            .into_iter()
            .map(ViewLine::of)
            .collect(),
        kinds: documents::kinds(state, None).await?,
        notice,
        error,
    };
    Ok(form::page_with_status(&t, status))
}

/// The form's fields as the service's command, the file stored first (as the API's
/// upload stores it).
async fn new_document(state: &AppState, p: &Principal, form: &FormData) -> Result<NewStoredDocument, AppError> {
    let file = form
        .files
        .iter()
        .find(|f| f.field == "file" && !f.bytes.is_empty())
        .ok_or_else(|| AppError::bad("invalid_field", "file", "Hãy chọn tệp giấy tờ (PDF, ảnh) để tải lên."))?;
    let stored = crate::service::uploads::upload_bytes(state, p, &file.name, file.bytes.clone()).await?;
    let opt = |name: &str| Some(form.text(name)).filter(|v| !v.trim().is_empty());
    Ok(NewStoredDocument {
        owner: opt("owner"),
        file: stored.id,
        kind: opt("kind"),
        title: form.text("title"),
        number: form.text("number"),
        issuer: form.text("issuer"),
        issued_on: opt("issued_on"),
        expires_on: opt("expires_on"),
    })
}

/// `POST /kho-giay-to`: enters an upload in the store (multipart, with the file).
pub async fn upload(State(state): State<AppState>, request: Request) -> Result<Response, PageError> {
    let posted = match super::filing::receive(&state, request, "/kho-giay-to").await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let p = &posted.principal;
    let done = match new_document(&state, p, &posted.form).await {
        Ok(req) => documents::upload(&state, p, req).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to("/kho-giay-to?da=them").into_response()),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            mine_page(&state, p, String::new(), message, status).await
        }
    }
}

/// `POST /kho-giay-to/{id}/xoa`: removes one's own upload (not one a dossier took).
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Request,
) -> Result<Response, PageError> {
    let posted = match super::filing::receive(&state, request, "/kho-giay-to").await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let p = &posted.principal;
    match documents::remove(&state, p, id).await {
        Ok(()) => Ok(Redirect::to("/kho-giay-to?da=xoa").into_response()),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            mine_page(&state, p, String::new(), message, status).await
        }
    }
}

/// How a document offered for a checklist row is named on the filing forms: title,
/// number, issuer and validity.
pub fn offer_label(d: &crate::service::documents::DocumentView) -> String {
    let mut label = d.title.clone();
    if !d.number.is_empty() {
        label.push_str(&format!(", số {}", d.number));
    }
    if !d.issuer.is_empty() {
        label.push_str(&format!(", {}", d.issuer));
    }
    if let Some(day) = d.issued_on.as_deref().and_then(super::dates::parse) {
        label.push_str(&format!(", cấp ngày {}", super::dates::dmy(day)));
    }
    if let Some(day) = d.valid_until.as_deref().and_then(super::dates::parse) {
        label.push_str(&format!(" (hiệu lực đến {})", super::dates::dmy(day)));
    }
    label
}

#[derive(Template)]
#[template(path = "documents/dossier.html")]
struct DossierStorePage {
    frame: Frame,
    code: String,
    store: StoreView,
}

/// `GET /ho-so/{code}/kho-giay-to`: the applicant's store, for the staff handling dossier
/// `code` now (audited; 404 for anyone else).
pub async fn of_dossier(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let store = documents::of_dossier(&state, &p, &code).await?;
    Ok(page(&DossierStorePage {
        frame: Frame::new(&state, Some(&p)).await?,
        code,
        store,
    }))
}

// ---------------------------------------------------------------------------------------
// The counter: linking an account to an owner

/// What the officer typed in the link form.
#[derive(Debug, Default)]
struct LinkTyped {
    kind: String,
    id_number: String,
    name: String,
    account: String,
}

#[derive(Template)]
#[template(path = "documents/link.html")]
struct LinkPage {
    frame: Frame,
    typed: LinkTyped,
    done: Option<LinkView>,
    error: String,
}

async fn link_page(
    state: &AppState,
    p: &Principal,
    typed: LinkTyped,
    done: Option<LinkView>,
    error: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let t = LinkPage {
        frame: Frame::new(state, Some(p)).await?,
        typed,
        done,
        error,
    };
    Ok(form::page_with_status(&t, status))
}

fn may_link(state_province: &motcua_core::codes::ProvinceCode, p: &Principal) -> Result<(), PageError> {
    super::require(
        p.access
            .has_role_in(motcua_core::access::Role::CounterOfficer, state_province),
        "liên kết tài khoản với kho giấy tờ",
    )
}

/// `GET /quay/lien-ket-kho-giay-to`: the counter's form linking a citizen account to the
/// store of the person whose identity document the officer checked.
pub async fn link_form(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    may_link(&state.province(None).await?, &p)?;
    let typed = LinkTyped {
        kind: "citizen".to_owned(),
        ..LinkTyped::default()
    };
    link_page(&state, &p, typed, None, String::new(), StatusCode::OK).await
}

/// `POST /quay/lien-ket-kho-giay-to`: makes the link (audited), and shows what it did.
pub async fn link(State(state): State<AppState>, request: Request) -> Result<Response, PageError> {
    let posted = match super::filing::receive(&state, request, "/quay/lien-ket-kho-giay-to").await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let (p, f) = (&posted.principal, &posted.form);
    may_link(&state.province(None).await?, p)?;
    let typed = LinkTyped {
        kind: if f.text("kind") == "organisation" {
            "organisation"
        } else {
            "citizen"
        }
        .to_owned(),
        id_number: f.text("id_number"),
        name: f.text("name"),
        account: f.text("account"),
    };
    let req = LinkRequest {
        province: None,
        kind: if typed.kind == "organisation" {
            motcua_core::catalogue::ApplicantKind::Organisation
        } else {
            motcua_core::catalogue::ApplicantKind::Citizen
        },
        id_number: typed.id_number.clone(),
        name: typed.name.clone(),
        account: typed.account.clone(),
    };
    match documents::link_account(&state, p, req).await {
        Ok(done) => {
            let fresh = LinkTyped {
                kind: "citizen".to_owned(),
                ..LinkTyped::default()
            };
            link_page(&state, p, fresh, Some(done), String::new(), StatusCode::OK).await
        }
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            link_page(&state, p, typed, None, message, status).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The administrator: the kind list

/// One row of the kind table as typed (phrases one per line).
#[derive(Debug, Clone, Default)]
struct KindRow {
    code: String,
    name: String,
    phrases: String,
    validity_months: String,
}

impl KindRow {
    fn of(k: &DocumentKind) -> Self {
        KindRow {
            code: k.code.clone(),
            name: k.name.clone(),
            phrases: k.phrases.join("\n"),
            validity_months: k.validity_months.map(|m| m.to_string()).unwrap_or_default(),
        }
    }

    fn is_blank(&self) -> bool {
        self.code.trim().is_empty()
            && self.name.trim().is_empty()
            && self.phrases.trim().is_empty()
            && self.validity_months.trim().is_empty()
    }
}

/// Blank rows the table offers for new kinds.
const BLANK_ROWS: usize = 2;

#[derive(Template)]
#[template(path = "documents/kinds.html")]
struct KindsPage {
    frame: Frame,
    rows: Vec<KindRow>,
    notice: String,
    error: String,
}

async fn kinds_page(
    state: &AppState,
    p: &Principal,
    mut rows: Vec<KindRow>,
    notice: String,
    error: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    rows.extend(std::iter::repeat_n(KindRow::default(), BLANK_ROWS));
    let t = KindsPage {
        frame: Frame::new(state, Some(p)).await?,
        rows,
        notice,
        error,
    };
    Ok(form::page_with_status(&t, status))
}

/// `GET /quan-tri/loai-giay-to`: the province's kind list as a table to edit (system
/// administrator).
pub async fn kinds_form(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    super::require(
        p.access.can_administer(&state.province(None).await?),
        "sửa danh mục loại giấy tờ",
    )?;
    let rows = documents::kinds(&state, None).await?.iter().map(KindRow::of).collect();
    let notice = if q.da.as_deref() == Some("luu") {
        "Đã lưu danh mục loại giấy tờ."
    } else {
        ""
    };
    kinds_page(&state, &p, rows, notice.to_owned(), String::new(), StatusCode::OK).await
}

/// The rows of the posted table (`kinds.N.*`, `N` below `rows`), with those marked
/// `kinds.N.remove` left out.
fn posted_rows(f: &FormData) -> Vec<KindRow> {
    let n: usize = f.text("rows").trim().parse().unwrap_or(0);
    (0..n.min(1000))
        .filter(|i| !f.has(&format!("kinds.{i}.remove")))
        .map(|i| KindRow {
            code: f.text(&format!("kinds.{i}.code")),
            name: f.text(&format!("kinds.{i}.name")),
            phrases: f.text(&format!("kinds.{i}.phrases")),
            validity_months: f.text(&format!("kinds.{i}.validity_months")),
        })
        .filter(|r| !r.is_blank())
        .collect()
}

/// The typed rows as the service's kinds; a validity that is not a number is refused here.
fn kinds_of(rows: &[KindRow]) -> Result<Vec<DocumentKind>, AppError> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let months = r.validity_months.trim();
            let validity_months = if months.is_empty() {
                None
            } else {
                Some(months.parse::<u32>().map_err(|_| {
                    AppError::bad(
                        "invalid_field",
                        format!("kinds[{i}].validity_months"),
                        format!("Dòng {}: thời hạn hiệu lực phải là số tháng (ví dụ 6).", i + 1),
                    )
                })?)
            };
            Ok(DocumentKind {
                code: r.code.trim().to_owned(),
                name: r.name.trim().to_owned(),
                phrases: r
                    .phrases
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
                validity_months,
            })
        })
        .collect()
}

/// `POST /quan-tri/loai-giay-to`: saves the table as the province's kind list (checked
/// whole and audited by the service), or, with «Thêm dòng», shows it again with one more
/// blank row and nothing saved.
pub async fn save_kinds(State(state): State<AppState>, request: Request) -> Result<Response, PageError> {
    let posted = match super::filing::receive(&state, request, "/quan-tri/loai-giay-to").await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let (p, f) = (&posted.principal, &posted.form);
    super::require(
        p.access.can_administer(&state.province(None).await?),
        "sửa danh mục loại giấy tờ",
    )?;
    let mut rows = posted_rows(f);
    if f.text("action") == "add" {
        rows.push(KindRow::default());
        return kinds_page(&state, p, rows, String::new(), String::new(), StatusCode::OK).await;
    }
    let saved = match kinds_of(&rows) {
        Ok(kinds) => documents::put_kinds(&state, p, KindList { province: None, kinds }).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/quan-tri/loai-giay-to?da=luu").into_response()),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            kinds_page(&state, p, rows, String::new(), message, status).await
        }
    }
}
