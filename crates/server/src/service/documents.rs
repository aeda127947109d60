//! The document store of citizens and organisations (issue 24 items 1–3,
//! docs/documents.md): the kind list the administrator keeps; a person's or
//! organisation's store as its owner sees it (list, upload, download, delete an upload, who
//! viewed it); the store as staff see it while handling the owner's dossier (every view
//! audited); the documents a procedure's checklist may take from it; and what intake and
//! the finish action write into it (uses by reference, checked scans, results).

use std::collections::HashMap;

use motcua_core::catalogue::{ApplicantKind, ProcedureContent};
use motcua_core::codes::{ProcedureCode, ProvinceCode};
use motcua_core::documents::{self, DocumentKind, DocumentSource, Original, Reuse};
use motcua_core::lifecycle::Dossier;
use motcua_store::accounts::User;
use motcua_store::documents::{self as store, NewDocument, Owner, SignatureStatus, StoredDocument};
use motcua_store::{Tx, catalogue, files};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, hex_encode};
use crate::error::AppError;
use crate::state::AppState;

/// The object type of store events in the audit trail; the object id is the owner's id.
pub const OWNER_OBJECT: &str = "document_owner";

/// The audit actions that are staff looking into a store (what its owner is shown).
pub const STAFF_VIEWS: [&str; 3] = ["documents.view", "documents.consult", "documents.file"];

const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

fn day(d: Date) -> String {
    d.format(DAY).unwrap_or_default()
}

/// The kind of `kinds` whose code is `code`, or `None` when no code is given; an unknown
/// code is an error of `field`.
fn chosen_kind<'a>(
    kinds: &'a [DocumentKind],
    code: Option<&str>,
    field: impl Into<String>,
) -> Result<Option<&'a DocumentKind>, AppError> {
    match code.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(code) => kinds.iter().find(|k| k.code == code).map(Some).ok_or_else(|| {
            AppError::bad(
                "invalid_field",
                field,
                format!("Không có loại giấy tờ «{code}» trong danh mục của tỉnh."),
            )
        }),
    }
}

/// [`documents::check_details`], its problems reported under the request's field names
/// (`field` of each detail's name).
fn check_details(
    title: &str,
    number: &str,
    issuer: &str,
    issued_on: Option<Date>,
    expires_on: Option<Date>,
    field: impl Fn(&str) -> String,
) -> Result<(String, String, String), AppError> {
    documents::check_details(title, number, issuer, issued_on, expires_on).map_err(|all| {
        AppError::fields(
            "invalid",
            all.into_iter()
                .map(|mut i| {
                    i.field = field(&i.field);
                    i
                })
                .collect(),
        )
    })
}

fn parse_day(field: &str, s: Option<&str>) -> Result<Option<Date>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s, DAY).map(Some).map_err(|_| {
            AppError::bad(
                "invalid_field",
                field,
                format!("«{s}» không phải ngày dạng YYYY-MM-DD."),
            )
        }),
    }
}

fn instant(t: OffsetDateTime) -> String {
    crate::outbox::rfc3339_ms(motcua_store::to_millis(t))
}

fn today(state: &AppState) -> Date {
    state
        .clock
        .now()
        .to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .date()
}

fn not_found() -> AppError {
    AppError::NotFound("Không tìm thấy giấy tờ trong kho.".to_owned())
}

// ---------------------------------------------------------------------------------------
// Kinds

/// The kind list of `province`: the administrator's, or the built-in one.
pub async fn kinds_in(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<DocumentKind>, AppError> {
    Ok(store::kinds(tx, province.as_str())
        .await?
        .unwrap_or_else(documents::default_kinds))
}

/// The kind list of `province`.
pub async fn kinds(state: &AppState, province: Option<&str>) -> Result<Vec<DocumentKind>, AppError> {
    let province = state.province(province).await?;
    let mut tx = state.db.begin_read().await?;
    kinds_in(&mut tx, &province).await
}

/// A new kind list for a province.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindList {
    /// Province code; the default province when omitted.
    #[serde(default)]
    pub province: Option<String>,
    /// The whole list, in the order to show it.
    pub kinds: Vec<DocumentKind>,
}

/// Replaces a province's kind list (its system administrator), checked whole and audited
/// (`document_kinds.update`, the list before and after).
pub async fn put_kinds(state: &AppState, p: &Principal, req: KindList) -> Result<Vec<DocumentKind>, AppError> {
    let province = state.province(req.province.as_deref()).await?;
    p.require_admin(&province)?;
    let kinds = documents::check_kinds(req.kinds).map_err(|all| AppError::fields("invalid", all))?;
    let mut tx = state.db.begin_write().await?;
    let before = kinds_in(&mut tx, &province).await?;
    store::put_kinds(&mut tx, province.as_str(), &kinds, &p.actor(), state.clock.now()).await?;
    crate::service::trail::record_and_commit(
        tx,
        p,
        Event {
            before: Some(json!(before)),
            after: Some(json!(kinds)),
            ..crate::service::trail::province_event(&province, "document_kinds.update", "province", province.as_str())
        },
    )
    .await?;
    Ok(kinds)
}

// ---------------------------------------------------------------------------------------
// Views

/// Who checked a scan against the original at the counter, and when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckedView {
    /// The officer.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// What the scan was compared with: `original` or `certified_copy`.
    pub original: Original,
    /// The same in Vietnamese.
    pub original_label: &'static str,
}

/// A document of a store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// Id (download at `/api/v1/documents/{id}/file`).
    pub id: i64,
    /// Where it came from: `result`, `checked` or `upload`.
    pub source: DocumentSource,
    /// The same in Vietnamese.
    pub source_label: &'static str,
    /// Its kind's code, if classified.
    pub kind: Option<String>,
    /// Its kind's name (empty if unclassified).
    pub kind_name: String,
    /// Title.
    pub title: String,
    /// Number, if any.
    pub number: String,
    /// Issuer, if known.
    pub issuer: String,
    /// Day of issue, `YYYY-MM-DD`.
    pub issued_on: Option<String>,
    /// Expiry date it carries, `YYYY-MM-DD`.
    pub expires_on: Option<String>,
    /// Last day it is valid (its own expiry, or its issue plus the kind's validity).
    pub valid_until: Option<String>,
    /// Whether it is expired today.
    pub expired: bool,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// The file's name.
    pub file_name: String,
    /// The file's type, detected from its content.
    pub file_type: String,
    /// Bytes.
    pub size: i64,
    /// The dossier it was issued in (a result) or checked at.
    pub dossier: Option<String>,
    /// Checked against the original at the counter.
    pub checked: Option<CheckedView>,
    /// When it entered the store (RFC 3339).
    pub entered_at: String,
    /// How many checklist rows of dossiers took it.
    pub uses: i64,
    /// Whether its owner may remove it: their own upload that no dossier took.
    pub removable: bool,
    /// Its digital signatures as checked when it entered the store (`None`: it entered
    /// before signatures were checked).
    pub signature: Option<SignatureStatusView>,
}

/// What the signature verifier said of a stored document's file when it entered the store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignatureStatusView {
    /// The worst verdict of its signatures, in the verifier's categories: `valid`,
    /// `changed_after_signing`, `unknown_issuer` (signed by a certificate no configured
    /// trust anchor vouches for), `altered`, `invalid`; or `unsigned` (no signature).
    pub verdict: String,
    /// The same in Vietnamese.
    pub label: &'static str,
    /// The first signature's signer (CN of the certificate).
    pub signer: Option<String>,
    /// The first signature's claimed signing time (RFC 3339).
    pub signed_at: Option<String>,
    /// Every signature's verdict, one Vietnamese sentence each.
    pub text: String,
}

/// A signature verdict in Vietnamese.
fn signature_label(verdict: &str) -> &'static str {
    match verdict {
        "valid" => "Có chữ ký số hợp lệ",
        "changed_after_signing" => "Có chữ ký số; nội dung được thêm sau khi ký",
        "unknown_issuer" => "Ký bằng chứng thư số không được tin cậy",
        "altered" => "Đã bị sửa sau khi ký",
        "invalid" => "Chữ ký số không hợp lệ",
        "revoked" => "Chứng thư số của người ký đã bị thu hồi",
        _ => "Không có chữ ký số",
    }
}

impl SignatureStatusView {
    fn of(s: SignatureStatus) -> Self {
        SignatureStatusView {
            label: signature_label(&s.verdict),
            verdict: s.verdict,
            signer: s.signer,
            signed_at: s.signed_at.map(instant),
            text: s.text,
        }
    }
}

/// The recorded signature status of stored documents `ids` (those taken by a dossier, for
/// its page), by id; documents entered before signatures were checked are left out.
pub async fn signature_status(state: &AppState, ids: &[i64]) -> Result<HashMap<i64, SignatureStatusView>, AppError> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut tx = state.db.begin_read().await?;
    for id in ids {
        if let Some(s) = store::get(&mut tx, *id).await?.and_then(|d| d.signature) {
            out.insert(*id, SignatureStatusView::of(s));
        }
    }
    Ok(out)
}

/// The signature status of each of `file_ids` (uploads with their objects stored), by file
/// id, checked before the write that enters them in a store (verifying is CPU work and
/// reads the object: not while holding the write lock). A PDF is checked by the verifier
/// of `POST /api/v1/verify`; any other file carries no signature. A file whose record or
/// object cannot be read is left out (logged), and enters unchecked.
pub async fn signatures_of(
    state: &AppState,
    file_ids: &[String],
) -> Result<HashMap<String, SignatureStatus>, AppError> {
    let mut out = HashMap::new();
    if file_ids.is_empty() {
        return Ok(out);
    }
    let records = {
        let mut tx = state.db.begin_read().await?;
        let mut records = Vec::with_capacity(file_ids.len());
        for id in file_ids {
            if let Some(f) = files::get(&mut tx, id).await? {
                records.push(f);
            }
        }
        records
    };
    for f in records {
        if f.file_type != "pdf" {
            out.insert(
                f.id.clone(),
                SignatureStatus {
                    verdict: "unsigned".to_owned(),
                    signer: None,
                    signed_at: None,
                    text: "Không có chữ ký số.".to_owned(),
                },
            );
            continue;
        }
        let bytes = match state.objects.get(&f.object_key).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                tracing::warn!(file = f.id, "the object of a file entering a store is missing");
                continue;
            }
            Err(e) => {
                tracing::warn!(file = f.id, error = %e, "cannot read a file entering a store to check its signatures");
                continue;
            }
        };
        let views = crate::service::verify::signatures(state, bytes).await?;
        out.insert(f.id.clone(), status_of(&views));
    }
    Ok(out)
}

/// The signature status a stored document records, from its file's signatures.
pub fn status_of(views: &[crate::service::verify::SignatureView]) -> SignatureStatus {
    let shown = crate::service::verify::summarise(views);
    let first = views.first();
    SignatureStatus {
        verdict: shown.verdict.to_owned(),
        signer: first.and_then(|v| v.signer.clone()),
        signed_at: first.and_then(|v| v.signed_at),
        text: shown.text,
    }
}

impl DocumentView {
    fn of(d: StoredDocument, kinds: &[DocumentKind], today: Date) -> Self {
        let kind = d.kind.as_deref().and_then(|k| kinds.iter().find(|x| x.code == k));
        let until = documents::valid_until(d.issued_on, d.expires_on, kind);
        DocumentView {
            id: d.id,
            source: d.source,
            source_label: d.source.label(),
            kind_name: kind.map(|k| k.name.clone()).unwrap_or_default(),
            kind: d.kind,
            title: d.title,
            number: d.number,
            issuer: d.issuer,
            issued_on: d.issued_on.map(day),
            expires_on: d.expires_on.map(day),
            valid_until: until.map(day),
            expired: documents::is_expired(until, today),
            sha256: d.sha256,
            file_name: d.file_name,
            file_type: d.file_type,
            size: d.size,
            dossier: d.dossier_code,
            checked: match (d.checked_by_name, d.checked_at, d.original) {
                (Some(by), Some(at), Some(original)) => Some(CheckedView {
                    by,
                    at: instant(at),
                    original,
                    original_label: original.label(),
                }),
                _ => None,
            },
            entered_at: instant(d.created_at),
            removable: d.source == DocumentSource::Upload && d.uses == 0,
            uses: d.uses,
            signature: d.signature.map(SignatureStatusView::of),
        }
    }
}

/// The owner of a store.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerView {
    /// Citizen ID or tax code.
    pub id_number: String,
    /// `citizen` or `organisation`.
    pub kind: String,
    /// Name.
    pub name: String,
}

/// One owner's store.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    /// Whose it is.
    pub owner: OwnerView,
    /// Its documents, newest first.
    pub documents: Vec<DocumentView>,
    /// The accounts an officer linked to the owner at the counter (shown to the owner;
    /// empty in the staff's view).
    pub accounts: Vec<LinkedAccountView>,
}

/// An account linked to an owner at the counter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkedAccountView {
    /// The account's login name (a username, an email address or a phone number).
    pub username: String,
    /// Its display name.
    pub name: String,
    /// When it was linked (RFC 3339).
    pub linked_at: String,
}

fn linked_view(a: store::LinkedAccount) -> LinkedAccountView {
    LinkedAccountView {
        username: a.username,
        name: a.display_name,
        linked_at: crate::outbox::rfc3339_ms(a.linked_at),
    }
}

fn store_view(owner: &Owner, docs: Vec<StoredDocument>, kinds: &[DocumentKind], today: Date) -> StoreView {
    StoreView {
        owner: OwnerView {
            id_number: owner.id_number.clone(),
            kind: owner.kind.clone(),
            name: owner.name.clone(),
        },
        documents: docs.into_iter().map(|d| DocumentView::of(d, kinds, today)).collect(),
        accounts: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// The owner's side

fn account(p: &Principal) -> Result<&User, AppError> {
    p.user
        .as_ref()
        .ok_or_else(|| AppError::Forbidden("Kho giấy tờ chỉ mở cho tài khoản đã đăng nhập.".to_owned()))
}

/// The owners whose stores `p`'s account opens: the one keyed by the account's own
/// citizen ID, and those an officer linked to it.
async fn owners_of(tx: &mut Tx, p: &Principal) -> Result<Vec<Owner>, AppError> {
    let u = account(p)?;
    Ok(store::owners_of_account(tx, &u.id, &u.citizen_id).await?)
}

/// The stores of the caller (their own, and those of organisations linked to their
/// account), unaudited: an owner reading their own papers.
pub async fn mine(state: &AppState, p: &Principal) -> Result<Vec<StoreView>, AppError> {
    let u = account(p)?;
    let province = state.province(None).await?;
    let mut tx = state.db.begin_read().await?;
    let kinds = kinds_in(&mut tx, &province).await?;
    let owners = owners_of(&mut tx, p).await?;
    let today = today(state);
    let mut out = Vec::with_capacity(owners.len() + 1);
    if !u.citizen_id.is_empty() && !owners.iter().any(|o| o.id_number == u.citizen_id) {
        // The account's own store, empty until its first document.
        out.push(StoreView {
            owner: OwnerView {
                id_number: u.citizen_id.clone(),
                kind: "citizen".to_owned(),
                name: u.display_name.clone(),
            },
            documents: Vec::new(),
            accounts: Vec::new(),
        });
    }
    for o in owners {
        let docs = store::of_owner(&mut tx, o.id).await?;
        let mut view = store_view(&o, docs, &kinds, today);
        view.accounts = store::linked_accounts(&mut tx, o.id)
            .await?
            .into_iter()
            .map(linked_view)
            .collect();
        out.push(view);
    }
    Ok(out)
}

/// A document the owner enters in their store: a file uploaded first with
/// `POST /api/v1/uploads`, and what it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStoredDocument {
    /// Whose store: a citizen ID or tax code the account opens (default: the account's own).
    #[serde(default)]
    pub owner: Option<String>,
    /// The upload's id.
    pub file: String,
    /// Its kind's code (from `GET /api/v1/documents/kinds`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Title (default: the kind's name).
    #[serde(default)]
    pub title: String,
    /// Number, if any.
    #[serde(default)]
    pub number: String,
    /// Issuer.
    #[serde(default)]
    pub issuer: String,
    /// Day of issue, `YYYY-MM-DD`.
    #[serde(default)]
    pub issued_on: Option<String>,
    /// Expiry date, `YYYY-MM-DD`.
    #[serde(default)]
    pub expires_on: Option<String>,
}

/// Enters the caller's own upload in a store they open (audited `documents.upload`).
pub async fn upload(state: &AppState, p: &Principal, req: NewStoredDocument) -> Result<DocumentView, AppError> {
    let u = account(p)?;
    let province = state.province(None).await?;
    let issued_on = parse_day("issued_on", req.issued_on.as_deref())?;
    let expires_on = parse_day("expires_on", req.expires_on.as_deref())?;
    // Before the write: reading and verifying the file is slow. Only entered if the
    // write below finds the file is the caller's own staged upload.
    let signatures = signatures_of(state, std::slice::from_ref(&req.file)).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let kinds = kinds_in(&mut tx, &province).await?;
    let kind = chosen_kind(&kinds, req.kind.as_deref(), "kind")?;
    let title = if req.title.trim().is_empty() {
        kind.map(|k| k.name.clone()).unwrap_or_default()
    } else {
        req.title.clone()
    };
    let (title, number, issuer) =
        check_details(&title, &req.number, &req.issuer, issued_on, expires_on, str::to_owned)?;
    let key = req
        .owner
        .as_deref()
        .map_or_else(|| u.citizen_id.clone(), |k| k.trim().replace([' ', '-'], ""));
    let owners = owners_of(&mut tx, p).await?;
    let owner_id = match owners.iter().find(|o| o.id_number == key) {
        Some(o) => o.id,
        None if !key.is_empty() && key == u.citizen_id => {
            store::ensure_owner(&mut tx, &key, "citizen", &u.display_name, now).await?
        }
        None => {
            return Err(AppError::Forbidden(
                "Tài khoản của bạn chưa được liên kết với chủ sở hữu kho giấy tờ này.".to_owned(),
            ));
        }
    };
    let file = files::get(&mut tx, &req.file).await?.ok_or_else(|| {
        AppError::bad(
            "invalid_field",
            "file",
            "Tệp không tồn tại, đã hết hạn hoặc không do bạn tải lên.",
        )
    })?;
    if !store::keep_file(&mut tx, &file.id, &p.actor(), now).await? {
        return Err(AppError::bad(
            "invalid_field",
            "file",
            "Tệp không tồn tại, đã hết hạn, đã thuộc hồ sơ khác hoặc không do bạn tải lên.",
        ));
    }
    let id = store::insert(
        &mut tx,
        &NewDocument {
            owner_id,
            province: province.as_str(),
            source: DocumentSource::Upload,
            kind: kind.map(|k| k.code.as_str()),
            title: &title,
            number: &number,
            issuer: &issuer,
            issued_on,
            expires_on,
            file_id: &file.id,
            sha256: &file.sha256,
            dossier_code: None,
            checked: None,
            signature: signatures.get(&file.id),
            created_by: &p.actor(),
            created_at: now,
        },
    )
    .await?;
    let owner_key = owner_id.to_string();
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            after: Some(json!({
                "document": id,
                "kind": kind.map(|k| &k.code),
                "sha256": file.sha256,
                "signature": signatures.get(&file.id).map(|s| s.verdict.as_str()),
            })),
            ..crate::service::trail::province_event(&province, "documents.upload", OWNER_OBJECT, &owner_key)
        },
    )
    .await?;
    let doc = store::get(&mut tx, id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(DocumentView::of(doc, &kinds, today(state)))
}

/// Removes the caller's own upload `id` from their store, unless a dossier took it
/// (audited `documents.delete`); its file goes with it.
pub async fn remove(state: &AppState, p: &Principal, id: i64) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    let doc = store::get(&mut tx, id).await?.ok_or_else(not_found)?;
    let owners = owners_of(&mut tx, p).await?;
    if !owners.iter().any(|o| o.id == doc.owner_id) {
        return Err(not_found());
    }
    if doc.source != DocumentSource::Upload {
        return Err(AppError::Conflict(
            "Kết quả giải quyết và giấy tờ đã đối chiếu bản chính được lưu giữ, không xóa được.".to_owned(),
        ));
    }
    let Some(key) = store::delete_upload(&mut tx, id, doc.owner_id).await? else {
        return Err(AppError::Conflict(
            "Giấy tờ này đã được dùng trong hồ sơ nên được lưu giữ, không xóa được.".to_owned(),
        ));
    };
    let owner_key = doc.owner_id.to_string();
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            action: "documents.delete",
            object_type: OWNER_OBJECT,
            object_id: &owner_key,
            province: Some(&doc.province_code),
            before: Some(json!({"document": id, "title": doc.title, "sha256": doc.sha256})),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    // After the commit: a crash before this leaves an orphan object, never a row without one.
    if let Err(e) = state.objects.delete(&key).await {
        tracing::warn!(key, error = %e, "could not delete the object of a removed stored document");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Linking an account to an owner at the counter

/// A counter officer's link of a citizen account to the owner of a store, made after
/// checking the identity document of the person in front of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// Province code; the default province when omitted.
    #[serde(default)]
    pub province: Option<String>,
    /// `citizen` (the ID number is a citizen ID, 12 digits) or `organisation` (a tax code,
    /// 10 or 13 digits); default `citizen`.
    #[serde(default = "citizen")]
    pub kind: ApplicantKind,
    /// The citizen ID or tax code on the identity document checked.
    pub id_number: String,
    /// The owner's name as on the document (required when the owner has no store yet;
    /// else it updates the name).
    #[serde(default)]
    pub name: String,
    /// The account: its login name, or the phone number or email address it registered
    /// with.
    pub account: String,
}

fn citizen() -> ApplicantKind {
    ApplicantKind::Citizen
}

/// What a link did.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    /// The owner.
    pub owner: OwnerView,
    /// The account now linked.
    pub account: LinkedAccountView,
    /// False when the account was linked already (nothing changed).
    pub created: bool,
}

/// The account `typed` names: by login name, else by the phone number or email address a
/// citizen registered with (their login name, normalised as registration normalises it).
async fn account_named(tx: &mut Tx, typed: &str) -> Result<Option<User>, AppError> {
    let typed = motcua_core::text::nfc(typed.trim()).to_lowercase();
    if typed.is_empty() {
        return Ok(None);
    }
    let mut names = vec![typed.clone()];
    names.extend(crate::service::citizens::normalize_phone(&typed));
    names.extend(crate::service::citizens::normalize_email(&typed));
    for name in names {
        if let Some((u, _)) = motcua_store::accounts::user_by_username(tx, &name).await? {
            return Ok(Some(u));
        }
    }
    Ok(None)
}

/// Links a citizen account to the owner keyed by `req.id_number` (created if new): for a
/// counter officer of the province, who has checked the person's identity document; audited
/// `documents.link`. The account then opens the store (`GET /api/v1/documents`).
pub async fn link_account(state: &AppState, p: &Principal, req: LinkRequest) -> Result<LinkView, AppError> {
    let province = state.province(req.province.as_deref()).await?;
    p.require(
        p.access
            .has_role_in(motcua_core::access::Role::CounterOfficer, &province),
        "liên kết tài khoản với kho giấy tờ",
    )?;
    let key = documents::owner_key(req.kind, &req.id_number).map_err(|e| AppError::fields("invalid", vec![e]))?;
    let name = motcua_core::text::nfc(req.name.trim());
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::bad(
            "invalid_field",
            "name",
            "Họ tên, tên tổ chức dài quá 200 ký tự.",
        ));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let user = account_named(&mut tx, &req.account).await?.ok_or_else(|| {
        AppError::bad(
            "invalid_field",
            "account",
            format!(
                "Không có tài khoản «{}» (tên đăng nhập, số điện thoại hoặc email).",
                req.account.trim()
            ),
        )
    })?;
    if user.kind != motcua_store::accounts::UserKind::Citizen || user.disabled {
        return Err(AppError::bad(
            "invalid_field",
            "account",
            "Chỉ liên kết được tài khoản công dân đang hoạt động.",
        ));
    }
    let existing = store::owner_by_key(&mut tx, &key).await?;
    let owner_id = match (&existing, name.is_empty()) {
        (Some(o), true) => o.id,
        (None, true) => {
            return Err(AppError::bad(
                "invalid_field",
                "name",
                "Người này chưa có kho giấy tờ: hãy nhập họ tên (tên tổ chức) như trên giấy tờ đã kiểm tra.",
            ));
        }
        (_, false) => store::ensure_owner(&mut tx, &key, applicant_kind(req.kind), &name, now).await?,
    };
    let owner = store::owner(&mut tx, owner_id).await?.ok_or_else(not_found)?;
    let created = store::link_account(&mut tx, owner_id, &user.id, &p.actor(), now).await?;
    let object = owner_id.to_string();
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            after: Some(json!({
                "account": user.username,
                "user_id": user.id,
                "owner_kind": owner.kind,
                "created": created,
            })),
            ..crate::service::trail::province_event(&province, "documents.link", OWNER_OBJECT, &object)
        },
    )
    .await?;
    let linked = store::linked_accounts(&mut tx, owner_id)
        .await?
        .into_iter()
        .find(|a| a.user_id == user.id)
        .ok_or_else(|| AppError::Internal("a link vanished in its own write".to_owned()))?;
    tx.commit().await?;
    Ok(LinkView {
        owner: OwnerView {
            id_number: owner.id_number,
            kind: owner.kind,
            name: owner.name,
        },
        account: linked_view(linked),
        created,
    })
}

/// A look of staff into a store, as its owner is shown it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Who (name and username, as the audit trail names them).
    pub who: String,
    /// What: `documents.view` (the store, handling a dossier), `documents.consult` (at
    /// the counter's intake, with consent), `documents.file` (a document downloaded).
    pub action: String,
    /// The same in Vietnamese.
    pub label: &'static str,
    /// The dossier they were handling, if any.
    pub dossier: Option<String>,
}

fn view_label(action: &str) -> &'static str {
    match action {
        "documents.consult" => "Xem kho khi tiếp nhận hồ sơ (có sự đồng ý của bạn)",
        "documents.file" => "Tải về một giấy tờ",
        _ => "Xem kho khi giải quyết hồ sơ",
    }
}

/// Most look-ups listed per store.
const MAX_VIEWS: usize = 200;

/// Who looked into the caller's stores, newest first (from the audit trail).
pub async fn views(state: &AppState, p: &Principal) -> Result<Vec<ViewRecord>, AppError> {
    let mut tx = state.db.begin_read().await?;
    let owners = owners_of(&mut tx, p).await?;
    let mut out = Vec::new();
    for o in owners {
        let entries = motcua_store::audit::list(
            &mut tx,
            &motcua_store::audit::AuditFilter {
                object_type: Some(OWNER_OBJECT.to_owned()),
                object_id: Some(o.id.to_string()),
                limit: MAX_VIEWS,
                ..motcua_store::audit::AuditFilter::default()
            },
        )
        .await?;
        out.extend(
            entries
                .into_iter()
                .filter(|e| STAFF_VIEWS.contains(&e.action.as_str()))
                .map(|e| ViewRecord {
                    at: crate::outbox::rfc3339_ms(e.at_ms),
                    who: e.actor_name,
                    label: view_label(&e.action),
                    dossier: e
                        .after
                        .as_ref()
                        .and_then(|a| a.get("dossier"))
                        .and_then(|d| d.as_str())
                        .map(str::to_owned),
                    action: e.action,
                }),
        );
    }
    out.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Staff

/// The dossier `code` if `p` handles it now (else 404, as for a dossier one may not see).
async fn handled(state: &AppState, p: &Principal, code: &str) -> Result<Dossier, AppError> {
    let code = motcua_core::dossier::DossierCode::parse(code).map_err(|e| AppError::code("dossier", e))?;
    let mut tx = state.db.begin_read().await?;
    let d = motcua_store::dossiers::by_code(&mut tx, &code)
        .await?
        .map(|s| s.dossier)
        .filter(|d| documents::handles(d, &p.access))
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Không tìm thấy hồ sơ {code} trong số hồ sơ bạn đang giải quyết; chỉ cán bộ đang giải quyết hồ sơ mới xem được kho giấy tờ của người nộp."
            ))
        })?;
    Ok(d)
}

/// Records that `p` looked into `owner`'s store (`action`, one of [`STAFF_VIEWS`]).
async fn audit_look(
    state: &AppState,
    p: &Principal,
    action: &'static str,
    owner: i64,
    province: &str,
    after: serde_json::Value,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    let owner = owner.to_string();
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            action,
            object_type: OWNER_OBJECT,
            object_id: &owner,
            province: Some(province),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The store of dossier `code`'s applicant, for staff who handle the dossier now; every
/// look is audited (`documents.view`) and shown to the owner.
pub async fn of_dossier(state: &AppState, p: &Principal, code: &str) -> Result<StoreView, AppError> {
    let d = handled(state, p, code).await?;
    let mut tx = state.db.begin_read().await?;
    let kinds = kinds_in(&mut tx, &d.province).await?;
    let owner = store::owner_by_key(&mut tx, &d.applicant.id_number).await?;
    let Some(owner) = owner else {
        drop(tx);
        // Nothing to see; the look is recorded all the same, against the dossier.
        let mut tx = state.db.begin_write().await?;
        audit::record(
            &mut tx,
            &Actor::of(p),
            Event {
                action: "documents.view",
                object_type: "dossier",
                object_id: d.code.as_str(),
                province: Some(d.province.as_str()),
                before: None,
                after: Some(json!({"owner": null})),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(StoreView {
            owner: OwnerView {
                id_number: d.applicant.id_number.clone(),
                kind: applicant_kind(d.applicant.kind).to_owned(),
                name: d.applicant.name.clone(),
            },
            documents: Vec::new(),
            accounts: Vec::new(),
        });
    };
    let docs = store::of_owner(&mut tx, owner.id).await?;
    drop(tx);
    audit_look(
        state,
        p,
        "documents.view",
        owner.id,
        d.province.as_str(),
        json!({"dossier": d.code.as_str()}),
    )
    .await?;
    Ok(store_view(&owner, docs, &kinds, today(state)))
}

/// How a dossier was filed, as `document_uses` stores it.
fn channel_text(c: motcua_core::dossier::Channel) -> &'static str {
    match c {
        motcua_core::dossier::Channel::Counter => "counter",
        motcua_core::dossier::Channel::Online => "online",
        motcua_core::dossier::Channel::Post => "post",
    }
}

/// The store of dossier `d`'s applicant (its owner's id), created if new.
async fn applicant_store(tx: &mut Tx, d: &Dossier, now: OffsetDateTime) -> Result<i64, AppError> {
    Ok(store::ensure_owner(
        tx,
        &d.applicant.id_number,
        applicant_kind(d.applicant.kind),
        &d.applicant.name,
        now,
    )
    .await?)
}

fn applicant_kind(k: ApplicantKind) -> &'static str {
    match k {
        ApplicantKind::Citizen => "citizen",
        ApplicantKind::Organisation => "organisation",
    }
}

/// A stored document and its bytes, for its owner (unaudited) or for staff handling
/// `dossier`, a dossier of its owner (audited `documents.file`). The bytes are checked
/// against the SHA-256 recorded when the file was received.
pub async fn download(
    state: &AppState,
    p: &Principal,
    id: i64,
    dossier: Option<&str>,
) -> Result<(StoredDocument, Vec<u8>), AppError> {
    let mut tx = state.db.begin_read().await?;
    let doc = store::get(&mut tx, id).await?.ok_or_else(not_found)?;
    let own = p.user.is_some() && owners_of(&mut tx, p).await?.iter().any(|o| o.id == doc.owner_id);
    let owner = store::owner(&mut tx, doc.owner_id).await?.ok_or_else(not_found)?;
    drop(tx);
    if !own {
        let Some(code) = dossier else {
            return Err(not_found());
        };
        let d = handled(state, p, code).await?;
        if d.applicant.id_number != owner.id_number {
            return Err(not_found());
        }
        audit_look(
            state,
            p,
            "documents.file",
            owner.id,
            d.province.as_str(),
            json!({"dossier": d.code.as_str(), "document": id}),
        )
        .await?;
    }
    let bytes = state
        .objects
        .get(&doc.object_key)
        .await
        .map_err(|e| AppError::Internal(format!("object store: {e}")))?
        .ok_or_else(|| AppError::Internal(format!("object {} of stored document {id} is missing", doc.object_key)))?;
    if hex_encode(Sha256::digest(&bytes)) != doc.sha256 {
        tracing::error!(
            document = id,
            key = doc.object_key,
            "stored document does not match its SHA-256"
        );
        return Err(AppError::Internal(format!(
            "object {} of stored document {id} does not match its SHA-256",
            doc.object_key
        )));
    }
    Ok((doc, bytes))
}

// ---------------------------------------------------------------------------------------
// Offers: what a procedure's checklist may take from a store

/// The stored documents one checklist row may take.
#[derive(Debug, Serialize, ToSchema)]
pub struct Offer {
    /// Position in the procedure's document list.
    pub index: u16,
    /// The checklist document.
    pub requirement: String,
    /// Valid documents of a kind the row asks for, newest first.
    pub documents: Vec<DocumentView>,
}

/// The rows of `content`'s checklist that documents of the store may fill: valid (not
/// expired) documents of a kind the row's name speaks of.
pub fn offers_for(content: &ProcedureContent, kinds: &[DocumentKind], docs: &[DocumentView]) -> Vec<Offer> {
    content
        .documents
        .iter()
        .enumerate()
        .filter_map(|(i, req)| {
            let wanted = documents::kinds_for_requirement(kinds, req);
            let fits: Vec<&DocumentView> = docs
                .iter()
                .filter(|d| !d.expired && d.kind.as_ref().is_some_and(|k| wanted.iter().any(|w| &w.code == k)))
                .collect();
            (!fits.is_empty()).then(|| Offer {
                index: u16::try_from(i).unwrap_or(u16::MAX),
                requirement: req.name.clone(),
                documents: fits.into_iter().cloned().collect(),
            })
        })
        .collect()
}

/// What to offer for a filing: the procedure and whose store.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    /// Procedure code.
    pub procedure: String,
    /// Province code; the default province when omitted.
    #[serde(default)]
    pub province: Option<String>,
    /// The applicant's citizen ID or tax code (default: the account's own citizen ID).
    #[serde(default)]
    pub id_number: Option<String>,
    /// At the counter: the applicant agreed that the officer consult their store (required
    /// for staff; recorded in the audit trail as `documents.consult`).
    #[serde(default)]
    pub consent: bool,
}

async fn procedure_content(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &str,
) -> Result<motcua_core::catalogue::ProcedureVersion, AppError> {
    let code = ProcedureCode::parse(code).map_err(|e| AppError::code("procedure", e))?;
    catalogue::procedure(tx, province, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Không có thủ tục {code} trong danh mục của tỉnh.")))
}

/// The documents of the applicant's store that `q.procedure`'s checklist may take. For the
/// owner's account (online filing), unaudited; for a counter officer of the province, only
/// with the applicant's consent, and audited (`documents.consult`).
pub async fn offers(state: &AppState, p: &Principal, q: &OfferQuery) -> Result<Vec<Offer>, AppError> {
    let province = state.province(q.province.as_deref()).await?;
    let mut tx = state.db.begin_read().await?;
    let version = procedure_content(&mut tx, &province, &q.procedure).await?;
    let kinds = kinds_in(&mut tx, &province).await?;
    let counter = p
        .access
        .has_role_in(motcua_core::access::Role::CounterOfficer, &province);
    let own_key = p.user.as_ref().map(|u| u.citizen_id.clone()).unwrap_or_default();
    let key = q
        .id_number
        .as_deref()
        .map_or(own_key, |k| k.trim().replace([' ', '-'], ""));
    let mine = p.user.is_some() && owners_of(&mut tx, p).await?.iter().any(|o| o.id_number == key);
    if !mine && !counter {
        return Err(AppError::Forbidden(
            "Bạn chỉ xem được kho giấy tờ của chính mình (hoặc của tổ chức đã liên kết với tài khoản).".to_owned(),
        ));
    }
    if !mine && !q.consent {
        return Err(AppError::bad(
            "consent_required",
            "consent",
            "Cần sự đồng ý của người nộp hồ sơ trước khi xem kho giấy tờ của họ.",
        ));
    }
    let Some(owner) = store::owner_by_key(&mut tx, &key).await? else {
        return Ok(Vec::new());
    };
    let docs = store::of_owner(&mut tx, owner.id).await?;
    drop(tx);
    if !mine {
        audit_look(
            state,
            p,
            "documents.consult",
            owner.id,
            province.as_str(),
            json!({"procedure": q.procedure, "consent": true}),
        )
        .await?;
    }
    let today = today(state);
    let docs: Vec<DocumentView> = docs.into_iter().map(|d| DocumentView::of(d, &kinds, today)).collect();
    Ok(offers_for(&version.content, &kinds, &docs))
}

// ---------------------------------------------------------------------------------------
// Intake and finish

/// One checklist row's request to take stored documents, as intake received it.
pub struct Wanted {
    /// The checklist row.
    pub index: u16,
    /// The stored documents' ids.
    pub ids: Vec<i64>,
}

/// Checks the stored documents a new dossier takes: each is in the store of the applicant,
/// which the filer may open (their own account's, or, at the counter, with the
/// applicant's consent); valid today; of a kind the row asks for. Returns the reuses to
/// record in the dossier.
pub async fn check_reuse(
    state: &AppState,
    p: &Principal,
    content: &ProcedureContent,
    province: &ProvinceCode,
    applicant_id: &str,
    wanted: &[Wanted],
    consent: bool,
) -> Result<Vec<Reuse>, AppError> {
    if wanted.iter().all(|w| w.ids.is_empty()) {
        return Ok(Vec::new());
    }
    let mut tx = state.db.begin_read().await?;
    let kinds = kinds_in(&mut tx, province).await?;
    let owner = store::owner_by_key(&mut tx, applicant_id).await?;
    let mine = p.user.is_some() && owners_of(&mut tx, p).await?.iter().any(|o| o.id_number == applicant_id);
    let counter = p
        .access
        .has_role_in(motcua_core::access::Role::CounterOfficer, province);
    // The owner's own account, or the counter with the applicant's consent.
    let allowed = mine || (counter && consent);
    if !allowed {
        return Err(AppError::bad(
            if counter { "consent_required" } else { "invalid_field" },
            if counter { "store_consent" } else { "documents" },
            if counter {
                "Cần ghi nhận sự đồng ý của người nộp trước khi dùng giấy tờ trong kho của họ."
            } else {
                "Chỉ dùng được giấy tờ trong kho của chính người đứng tên hồ sơ, khi tài khoản của bạn mở được kho đó."
            },
        ));
    }
    let today = today(state);
    let consent_by = (!mine).then(|| p.actor());
    let mut out = Vec::new();
    for w in wanted {
        let req = content
            .documents
            .get(usize::from(w.index))
            .ok_or_else(|| AppError::bad("invalid_field", "documents", "Thành phần hồ sơ không có trong thủ tục."))?;
        let allowed = documents::kinds_for_requirement(&kinds, req);
        for id in &w.ids {
            let field = format!("documents[{}]", w.index);
            let refuse = |m: String| AppError::bad("invalid_field", field.clone(), m);
            let doc = store::get(&mut tx, *id)
                .await?
                .filter(|d| owner.as_ref().is_some_and(|o| o.id == d.owner_id))
                .ok_or_else(|| refuse(format!("Giấy tờ số {id} không có trong kho của người đứng tên hồ sơ.")))?;
            let kind = doc.kind.as_deref().and_then(|k| allowed.iter().find(|a| a.code == k));
            let Some(kind) = kind else {
                return Err(refuse(format!(
                    "«{}» không phải loại giấy tờ mà «{}» yêu cầu.",
                    doc.title, req.name
                )));
            };
            let until = documents::valid_until(doc.issued_on, doc.expires_on, Some(kind));
            if documents::is_expired(until, today) {
                return Err(refuse(format!(
                    "«{}» đã hết hạn; hãy tải lên bản còn hiệu lực.",
                    doc.title
                )));
            }
            out.push(Reuse {
                index: w.index,
                document: doc.id,
                kind: kind.code.clone(),
                title: doc.title,
                number: doc.number,
                sha256: doc.sha256,
                consent_by: consent_by.clone(),
            });
        }
    }
    Ok(out)
}

/// Records, in the intake's write, that dossier `d` took the documents of `d.reused`.
pub async fn record_reuse(tx: &mut Tx, d: &Dossier, now: OffsetDateTime) -> Result<(), AppError> {
    for r in &d.reused {
        store::record_use(
            tx,
            &store::Use {
                document_id: r.document,
                dossier_code: d.code.as_str(),
                province: d.province.as_str(),
                item_index: r.index,
                channel: channel_text(d.channel),
                consent_by: r.consent_by.as_deref(),
                at: now,
            },
        )
        .await?;
    }
    Ok(())
}

/// A scan an officer checked against the original at the counter, to enter in the
/// applicant's store.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckedInput {
    /// What the scan was compared with (default: the original).
    #[serde(default = "original")]
    pub original: Original,
    /// Its kind's code (default: the kind the checklist row's name speaks of).
    #[serde(default)]
    pub kind: Option<String>,
    /// Number, if any.
    #[serde(default)]
    pub number: String,
    /// Issuer.
    #[serde(default)]
    pub issuer: String,
    /// Day of issue, `YYYY-MM-DD`.
    #[serde(default)]
    pub issued_on: Option<String>,
    /// Expiry date, `YYYY-MM-DD`.
    #[serde(default)]
    pub expires_on: Option<String>,
}

fn original() -> Original {
    Original::Original
}

/// A checked scan ready to enter: the row, its files, and what it is.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The checklist row (its files are the scans).
    pub index: u16,
    /// The kind's code, if any.
    pub kind: Option<String>,
    /// Title (the checklist document's name).
    pub title: String,
    /// Number.
    pub number: String,
    /// Issuer.
    pub issuer: String,
    /// Day of issue.
    pub issued_on: Option<Date>,
    /// Expiry.
    pub expires_on: Option<Date>,
    /// Compared with.
    pub original: Original,
    /// The signature status of the row's files, by file id ([`verify_checked`]).
    pub signatures: HashMap<String, SignatureStatus>,
}

/// Checks a counter officer's marks of scans checked against the original.
pub fn check_checked(
    content: &ProcedureContent,
    kinds: &[DocumentKind],
    index: u16,
    input: CheckedInput,
) -> Result<Checked, AppError> {
    let field = |f: &str| format!("documents[{index}].checked.{f}");
    let req = content.documents.get(usize::from(index)).ok_or_else(|| {
        AppError::bad(
            "invalid_field",
            field("index"),
            "Thành phần hồ sơ không có trong thủ tục.",
        )
    })?;
    let kind = match chosen_kind(kinds, input.kind.as_deref(), field("kind"))? {
        Some(k) => Some(k.code.clone()),
        None => documents::kinds_for_requirement(kinds, req)
            .first()
            .map(|k| k.code.clone()),
    };
    let issued_on = parse_day(&field("issued_on"), input.issued_on.as_deref())?;
    let expires_on = parse_day(&field("expires_on"), input.expires_on.as_deref())?;
    let (title, number, issuer) = check_details(&req.name, &input.number, &input.issuer, issued_on, expires_on, field)?;
    Ok(Checked {
        index,
        kind,
        title,
        number,
        issuer,
        issued_on,
        expires_on,
        original: input.original,
        signatures: HashMap::new(),
    })
}

/// Checks the signatures of the files of `d`'s rows marked checked, before the intake's
/// write enters them in the applicant's store.
pub async fn verify_checked(state: &AppState, d: &Dossier, checked: &mut [Checked]) -> Result<(), AppError> {
    for c in checked.iter_mut() {
        if let Some(row) = d.documents.iter().find(|r| r.index == c.index) {
            c.signatures = signatures_of(state, &row.files).await?;
        }
    }
    Ok(())
}

/// Enters, in the intake's write, the scans of `d`'s rows an officer checked against the
/// original, in the applicant's store (created if new).
pub async fn enter_checked(
    tx: &mut Tx,
    d: &Dossier,
    checked: &[Checked],
    officer: &motcua_core::lifecycle::Person,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    if checked.is_empty() {
        return Ok(());
    }
    let owner = applicant_store(tx, d, now).await?;
    for c in checked {
        let Some(row) = d.documents.iter().find(|r| r.index == c.index) else {
            continue;
        };
        for file_id in &row.files {
            let f = files::get(tx, file_id)
                .await?
                .ok_or_else(|| AppError::Internal(format!("file {file_id} vanished")))?;
            store::insert(
                tx,
                &NewDocument {
                    owner_id: owner,
                    province: d.province.as_str(),
                    source: DocumentSource::Checked,
                    kind: c.kind.as_deref(),
                    title: &c.title,
                    number: &c.number,
                    issuer: &c.issuer,
                    issued_on: c.issued_on,
                    expires_on: c.expires_on,
                    file_id,
                    sha256: &f.sha256,
                    dossier_code: Some(d.code.as_str()),
                    checked: Some((&officer.id, &officer.name, now, c.original)),
                    signature: c.signatures.get(file_id),
                    created_by: &officer.id,
                    created_at: now,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// What the officer finishing a dossier says of its result (all optional): its kind, its
/// number and its expiry, for the applicant's store.
#[derive(Debug, Clone, Default)]
pub struct ResultChoice {
    /// A kind code of the province's list (default: the kind the result's name speaks of).
    pub kind: Option<String>,
    /// The result's number (default: none).
    pub number: String,
    /// Its expiry, `YYYY-MM-DD` (default: none; then its kind's validity applies).
    pub expires_on: Option<String>,
}

/// What a finish needs to enter its results in the applicant's store, read before the
/// write: the result's title, kind, number and expiry (the officer's choice, else from the
/// procedure's version), the issuer, and the signature status of the result files.
#[derive(Debug, Clone)]
pub struct ResultPlan {
    /// Title (the procedure's first result, or its name).
    pub title: String,
    /// Kind code: the officer's, else the one the result's name speaks of.
    pub kind: Option<String>,
    /// Number (empty: none given).
    pub number: String,
    /// Expiry, if given.
    pub expires_on: Option<Date>,
    /// The responsible agency's name.
    pub issuer: String,
    /// The result files' signature status, by file id.
    pub signatures: HashMap<String, SignatureStatus>,
}

/// The [`ResultPlan`] of dossier `d` finished today with `result_files`: `choice` checked
/// (a kind of the province's list, a date, an expiry not before the day of finish).
pub async fn result_plan(
    state: &AppState,
    d: &Dossier,
    result_files: &[String],
    choice: ResultChoice,
) -> Result<ResultPlan, AppError> {
    let mut tx = state.db.begin_read().await?;
    let kinds = kinds_in(&mut tx, &d.province).await?;
    let version =
        catalogue::procedure_version(&mut tx, &d.province, &d.procedure, i64::from(d.procedure_version)).await?;
    drop(tx);
    let title = version
        .and_then(|v| v.content.results.first().cloned())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| format!("Kết quả giải quyết: {}", d.procedure_name));
    let kind = match chosen_kind(&kinds, choice.kind.as_deref(), "result_kind")? {
        Some(k) => Some(k.code.clone()),
        None => documents::kind_of_result(&kinds, &title).map(|k| k.code.clone()),
    };
    let today = today(state);
    let expires_on = parse_day("result_expires_on", choice.expires_on.as_deref())?;
    if let Some(e) = expires_on
        && e < today
    {
        return Err(AppError::bad(
            "invalid_field",
            "result_expires_on",
            format!(
                "Ngày hết hạn của kết quả ({}) không được trước ngày trả kết quả ({}).",
                day(e),
                day(today)
            ),
        ));
    }
    let dir = crate::service::dossiers::directory(state, &d.province).await?;
    let issuer = dir.name(d.responsible_agency.as_str());
    let (title, number, issuer) = check_details(&title, &choice.number, &issuer, Some(today), expires_on, |f| {
        format!("result_{f}")
    })?;
    Ok(ResultPlan {
        title,
        kind,
        number,
        expires_on,
        issuer,
        signatures: signatures_of(state, result_files).await?,
    })
}

/// Enters, in the finish's write, dossier `d`'s result files in its applicant's store
/// (created if new): issued today by the responsible agency, in the dossier named. A file
/// already in a store is left as it is.
pub async fn enter_results(tx: &mut Tx, d: &Dossier, plan: &ResultPlan, now: OffsetDateTime) -> Result<(), AppError> {
    if d.result_files.is_empty() {
        return Ok(());
    }
    let owner = applicant_store(tx, d, now).await?;
    let issued = now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date();
    let by = d.handled_by.as_ref().map_or("system", |p| p.id.as_str());
    for file_id in &d.result_files {
        let f = files::get(tx, file_id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("result file {file_id} vanished")))?;
        if store::in_store(tx, file_id).await? {
            continue;
        }
        store::insert(
            tx,
            &NewDocument {
                owner_id: owner,
                province: d.province.as_str(),
                source: DocumentSource::Result,
                kind: plan.kind.as_deref(),
                title: &plan.title,
                number: &plan.number,
                issuer: &plan.issuer,
                issued_on: Some(issued),
                expires_on: plan.expires_on,
                file_id,
                sha256: &f.sha256,
                dossier_code: Some(d.code.as_str()),
                checked: None,
                signature: plan.signatures.get(file_id),
                created_by: by,
                created_at: now,
            },
        )
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Figures (docs/documents.md, Decision 766 sub-criteria 4.1–4.3)

/// What a figures request covers.
#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FiguresQuery {
    /// Province code; the default province when omitted.
    #[serde(default)]
    pub province: Option<String>,
    /// `hom-nay`, `thang` (default), `nam` or `khoang` with `from` and `to`.
    #[serde(default)]
    pub period: Option<String>,
    /// First day (`YYYY-MM-DD` or `dd/mm/yyyy`).
    #[serde(default)]
    pub from: Option<String>,
    /// Last day, inclusive.
    #[serde(default)]
    pub to: Option<String>,
}

/// One rate: hits of a total, and the share.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Rate {
    /// Dossiers that count.
    pub hits: i64,
    /// Of how many.
    pub of: i64,
    /// Share in per mille (`None` when there is nothing to count).
    pub permille: Option<i64>,
}

impl Rate {
    fn of(hits: i64, of: i64) -> Self {
        Rate {
            hits,
            of,
            permille: (of > 0).then(|| hits * 1000 / of),
        }
    }
}

/// One receiving agency's digitisation figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CentreFiguresView {
    /// The receiving agency's code.
    pub agency: String,
    /// Its name.
    pub name: String,
    /// 4.3: dossiers received taking a document from the applicant's store.
    pub reused: Rate,
    /// 4.1: results with an electronic result file.
    pub results_digitised: Rate,
    /// 4.2: dossiers received with a digitised document.
    pub received_digitised: Rate,
}

/// The definition of one figure: its sub-criterion, the official formula, how motcua
/// counts it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FigureDefinition {
    /// The figure's field (`reused`, `results_digitised`, `received_digitised`).
    pub figure: &'static str,
    /// The Decision 766 sub-criterion.
    pub criterion: &'static str,
    /// The official formula (the national portal's).
    pub formula: &'static str,
    /// How motcua counts it.
    pub method: &'static str,
}

/// The digitisation figures per receiving agency over a period, and the province's total.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// The period, in words.
    pub period: String,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// One row per receiving agency with dossiers in the period.
    pub centres: Vec<CentreFiguresView>,
    /// The province.
    pub total: CentreFiguresView,
    /// What each figure means.
    pub definitions: Vec<FigureDefinition>,
}

/// The digitisation figures of Decision 766's group 4 (4.1 results digitised, 4.2
/// received documents digitised, 4.3 reuse of stored documents), per receiving agency and
/// period: for the centre's director and administrators (`may_oversee`).
pub async fn figures(state: &AppState, p: &Principal, q: &FiguresQuery) -> Result<Figures, AppError> {
    use motcua_core::evaluation::Measure;
    let province = state.province(q.province.as_deref()).await?;
    p.require(p.access.may_oversee(&province), "xem số liệu số hóa của tỉnh này")?;
    let choice = crate::service::period::PeriodQuery {
        period: q.period.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
    }
    .choice(state.clock.now());
    if let Some(e) = &choice.error {
        return Err(AppError::bad("invalid_field", "from", e.clone()));
    }
    let rows = {
        let mut tx = state.db.begin_read().await?;
        store::figures(&mut tx, province.as_str(), choice.period.from, choice.period.to).await?
    };
    let dir = crate::service::dossiers::directory(state, &province).await?;
    let view = |f: &store::CentreFigures, name: String| CentreFiguresView {
        agency: f.agency.clone(),
        name,
        reused: Rate::of(f.received_reused, f.received),
        results_digitised: Rate::of(f.results_electronic, f.results),
        received_digitised: Rate::of(f.received_digitised, f.received),
    };
    let mut sum = store::CentreFigures {
        agency: province.as_str().to_owned(),
        ..store::CentreFigures::default()
    };
    for f in &rows {
        sum.received += f.received;
        sum.received_digitised += f.received_digitised;
        sum.received_reused += f.received_reused;
        sum.results += f.results;
        sum.results_electronic += f.results_electronic;
    }
    let definition = |figure, criterion, m: Measure| FigureDefinition {
        figure,
        criterion,
        formula: m.formula(),
        method: m.method(),
    };
    Ok(Figures {
        period: choice.label.clone(),
        from: choice.from.clone(),
        to: choice.to.clone(),
        centres: rows.iter().map(|f| view(f, dir.name(&f.agency))).collect(),
        total: view(&sum, dir.name(province.as_str())),
        definitions: vec![
            definition("results_digitised", "4.1", Measure::DigitisedResults),
            definition("received_digitised", "4.2", Measure::DigitisedFiles),
            definition("reused", "4.3", Measure::ReusedData),
        ],
    })
}
