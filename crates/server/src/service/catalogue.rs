//! The catalogue as people search and read it: procedure search (the index of
//! `crate::catalogue_index`), a procedure with its versions; and as catalogue
//! administrators change it: agencies and fields one at a time, whole files by import.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use motcua_core::catalogue::{
    Agency, AgencyAlias, CatalogueFile, Field, OnlineMode, ProcedureContent, ProcedureSummary, ProcedureVersion,
    ProvinceCatalogue, ResultSignature,
};
use motcua_core::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use motcua_core::search::{MAX_QUERY, Query};
use motcua_core::text::char_len;
use motcua_store::Tx;
use motcua_store::catalogue::{self, ImportReport};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::trail::{province_event, record_and_commit};
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::catalogue_index::{Cursor, SearchParams};
use crate::error::AppError;
use crate::state::AppState;

/// Parses `value` with `parse` unless it is absent or blank; a parse error names `field`.
pub(crate) fn parse_opt<T, E: Into<motcua_core::codes::CodeError>>(
    value: Option<&str>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, AppError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse(v).map_err(|e| AppError::code(field, e.into())))
        .transpose()
}

/// Search parameters of the procedure list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProcedureParams {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// Words of the name or the code, with or without diacritics, any case.
    pub q: Option<String>,
    /// Only this responsible agency (QCVN 102 code).
    pub agency: Option<String>,
    /// Only this field code.
    pub field: Option<String>,
    /// `full` (toàn trình) or `partial` (một phần).
    pub online: Option<String>,
    /// Only procedures received (`true`) or not received (`false`) at the centre.
    pub at_centre: Option<bool>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of procedures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedurePage {
    /// Procedures, best match first (by code when there is no query).
    pub items: Vec<ProcedureSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many procedures match in all.
    pub total: usize,
}

/// Encodes a position as the opaque `cursor` parameter.
pub fn encode_cursor(c: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.score, c.code))
}

fn decode_cursor(s: &str) -> Result<Cursor, AppError> {
    let bad = || {
        AppError::bad(
            "invalid_cursor",
            "cursor",
            "Con trỏ phân trang không hợp lệ; hãy tải lại từ trang đầu.",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(s.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (score, code) = text.split_once(':').ok_or_else(bad)?;
    let score: u32 = score.parse().map_err(|_| bad())?;
    let code = ProcedureCode::parse(code).map_err(|_| bad())?;
    Ok(Cursor {
        score,
        code: code.to_string(),
    })
}

/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

/// Turns query parameters into search parameters, refusing anything malformed.
pub fn search_params(p: &ProcedureParams) -> Result<SearchParams, AppError> {
    let query = match p.q.as_deref() {
        Some(q) if char_len(q) > MAX_QUERY => {
            return Err(AppError::bad(
                "invalid_parameter",
                "q",
                format!("Từ khóa dài quá {MAX_QUERY} ký tự."),
            ));
        }
        Some(q) => Query::new(q),
        None => None,
    };
    let online = match p.online.as_deref().filter(|o| !o.is_empty()) {
        None => None,
        Some(o) => Some(OnlineMode::parse(o).ok_or_else(|| {
            AppError::bad(
                "invalid_parameter",
                "online",
                "Giá trị «online» phải là «full» hoặc «partial».",
            )
        })?),
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad(
            "invalid_parameter",
            "limit",
            format!("«limit» phải từ 1 đến {MAX_LIMIT}."),
        ));
    }
    Ok(SearchParams {
        query,
        agency: parse_opt(p.agency.as_deref(), "agency", AgencyCode::parse)?,
        field: parse_opt(p.field.as_deref(), "field", FieldCode::parse)?,
        online,
        at_centre: p.at_centre,
        after: p
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?,
        limit,
    })
}

/// One page of the procedure search (the JSON skin answers the same page from the
/// index's cache of serialised answers).
pub async fn procedure_page(state: &AppState, p: &ProcedureParams) -> Result<ProcedurePage, AppError> {
    let params = search_params(p)?;
    let province = state.province(p.province.as_deref()).await?;
    let index = state.index.get(&state.db, &province).await?;
    let page = index.search(&params);
    Ok(ProcedurePage {
        items: page.items.into_iter().cloned().collect(),
        next_cursor: page.next.as_ref().map(encode_cursor),
        total: page.total,
    })
}

/// Metadata of one version.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionMeta {
    /// Version number.
    pub version: i64,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Why it changed.
    pub note: String,
}

/// A procedure: the summary of the version shown, its full content, and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureDetail {
    /// Summary of the version shown.
    #[serde(flatten)]
    pub summary: ProcedureSummary,
    /// Province code.
    pub province: String,
    /// When this version was created (RFC 3339).
    pub created_at: String,
    /// Why this version was made.
    pub note: String,
    /// Everything the procedure says in this version.
    pub content: ProcedureContent,
    /// All versions, oldest first.
    pub versions: Vec<VersionMeta>,
    /// Whether a finish needs signed results (`optional`, `required`): a setting of the
    /// procedure, whichever version is shown (docs/operations.md, "Results that must be signed").
    pub result_signature: ResultSignature,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Procedure `code` of `province`: its current version, or `version`.
pub async fn detail(
    state: &AppState,
    province: &ProvinceCode,
    code: &ProcedureCode,
    version: Option<i64>,
) -> Result<ProcedureDetail, AppError> {
    let mut tx = state.db.begin_read().await?;
    let found = match version {
        Some(v) => catalogue::procedure_version(&mut tx, province, code, v).await?,
        None => catalogue::procedure(&mut tx, province, code).await?,
    };
    let v = found.ok_or_else(|| {
        AppError::NotFound(match version {
            Some(n) => format!("Không tìm thấy phiên bản {n} của thủ tục {code}."),
            None => format!("Không tìm thấy thủ tục {code}."),
        })
    })?;
    let versions = catalogue::procedure_versions(&mut tx, province, code).await?;
    let setting = catalogue::result_signature(&mut tx, province, code).await?;
    let mut detail = to_detail(province, code, v, versions);
    detail.result_signature = setting.unwrap_or_default();
    Ok(detail)
}

/// Sets whether procedure `code` of `province` needs signed results to `wanted`, in the
/// caller's write `tx`, and records a change in the audit trail (`procedure.result_signature`,
/// before and after). `None` leaves it as it is. Answers the setting as it stands.
pub async fn apply_result_signature(
    tx: &mut Tx,
    principal: &Principal,
    province: &ProvinceCode,
    code: &ProcedureCode,
    wanted: Option<ResultSignature>,
) -> Result<ResultSignature, AppError> {
    let before = catalogue::result_signature(tx, province, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Không tìm thấy thủ tục {code}.")))?;
    let Some(after) = wanted.filter(|w| *w != before) else {
        return Ok(before);
    };
    catalogue::set_result_signature(tx, province, code, after).await?;
    let event = Event {
        before: Some(serde_json::json!({"result_signature": before})),
        after: Some(serde_json::json!({"result_signature": after})),
        ..province_event(province, "procedure.result_signature", "procedure", code.as_str())
    };
    audit::record(tx, &Actor::of(principal), event).await?;
    Ok(after)
}

/// The answer about procedure `code` of `province` showing version `v`, with the history
/// `versions`.
pub fn to_detail(
    province: &ProvinceCode,
    code: &ProcedureCode,
    v: ProcedureVersion,
    versions: Vec<catalogue::VersionInfo>,
) -> ProcedureDetail {
    ProcedureDetail {
        summary: ProcedureSummary::of(code.clone(), v.version, &v.content),
        province: province.to_string(),
        created_at: rfc3339(v.created_at),
        note: v.note,
        content: v.content,
        versions: versions
            .into_iter()
            .map(|i| VersionMeta {
                version: i.version,
                created_at: rfc3339(motcua_store::from_millis(i.created_at)),
                note: i.note,
            })
            .collect(),
        result_signature: ResultSignature::default(),
    }
}

/// Procedure `code` of the province asked for: its current version, or `version` (a
/// positive number as typed).
pub async fn procedure(
    state: &AppState,
    province: Option<&str>,
    code: &str,
    version: Option<&str>,
) -> Result<ProcedureDetail, AppError> {
    let code = ProcedureCode::parse(code).map_err(|e| AppError::code("code", e))?;
    let version = version
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| AppError::bad("invalid_parameter", "version", "Số phiên bản phải là số nguyên dương."))
        })
        .transpose()?;
    let province = state.province(province).await?;
    detail(state, &province, &code, version).await
}

/// The province asked for (the default one when `requested` is `None`), once `principal`
/// is shown to edit its catalogue.
async fn edited_province(
    state: &AppState,
    principal: &Principal,
    requested: Option<&str>,
) -> Result<ProvinceCode, AppError> {
    let province = state.province(requested).await?;
    principal.require_catalogue(&province)?;
    Ok(province)
}

/// Refuses a body that names a code other than the path's (it may name none).
fn same_code(path: &str, body: Option<&str>) -> Result<(), AppError> {
    if body.is_some_and(|b| b.trim() != path) {
        return Err(AppError::bad(
            "invalid_field",
            "code",
            "Mã trong nội dung khác mã trên địa chỉ.",
        ));
    }
    Ok(())
}

/// A row of the catalogue that catalogue administrators create or update one at a time,
/// by its code: an agency or a field.
trait EditedRow: Serialize + Sized {
    /// The kind of object, as the audit trail names it; its action is `<kind>.upsert`.
    const KIND: &'static str;
    /// The row's code.
    fn code(&self) -> &str;
    /// The rows of this kind in `province`.
    async fn stored(tx: &mut Tx, province: &ProvinceCode) -> motcua_store::Result<Vec<Self>>;
    /// Creates or updates `row` in `province`.
    async fn upsert(tx: &mut Tx, province: &ProvinceCode, row: &Self) -> motcua_store::Result<()>;
}

impl EditedRow for Agency {
    const KIND: &'static str = "agency";
    fn code(&self) -> &str {
        self.code.as_str()
    }
    async fn stored(tx: &mut Tx, province: &ProvinceCode) -> motcua_store::Result<Vec<Self>> {
        catalogue::agencies(tx, province).await
    }
    async fn upsert(tx: &mut Tx, province: &ProvinceCode, row: &Self) -> motcua_store::Result<()> {
        catalogue::upsert_agency(tx, province, row).await
    }
}

impl EditedRow for Field {
    const KIND: &'static str = "field";
    fn code(&self) -> &str {
        self.code.as_str()
    }
    async fn stored(tx: &mut Tx, province: &ProvinceCode) -> motcua_store::Result<Vec<Self>> {
        catalogue::fields(tx, province).await
    }
    async fn upsert(tx: &mut Tx, province: &ProvinceCode, row: &Self) -> motcua_store::Result<()> {
        catalogue::upsert_field(tx, province, row).await
    }
}

/// The row of kind `R` and code `code` in `province`, if there is one.
async fn stored_row<R: EditedRow>(tx: &mut Tx, province: &ProvinceCode, code: &str) -> Result<Option<R>, AppError> {
    Ok(R::stored(tx, province).await?.into_iter().find(|r| r.code() == code))
}

/// Creates or updates `row` in `province` and records the change, with the row as it was
/// before (if it was) and as it is after, in the audit trail. Answers the row as stored.
async fn upsert_recorded<R: EditedRow>(
    state: &AppState,
    principal: &Principal,
    province: &ProvinceCode,
    row: &R,
) -> Result<R, AppError> {
    let code = row.code();
    let mut tx = state.db.begin_write().await?;
    let before: Option<R> = stored_row(&mut tx, province, code).await?;
    R::upsert(&mut tx, province, row).await?;
    let after: R = stored_row(&mut tx, province, code)
        .await?
        .ok_or_else(|| AppError::Internal(format!("{} {code} vanished", R::KIND)))?;
    let action = format!("{}.upsert", R::KIND);
    let event = Event {
        before: before.map(|b| serde_json::json!(b)),
        after: Some(serde_json::json!(after)),
        ..province_event(province, &action, R::KIND, code)
    };
    record_and_commit(tx, principal, event).await?;
    state.catalogue_changed(province);
    Ok(after)
}

/// An agency as an administrator enters it (the code is in the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyEdit {
    /// The same code as the path, optional: a form that puts the code in the address may
    /// send it too. A different code is refused.
    #[serde(default)]
    pub code: Option<String>,
    /// Full name, e.g. `Sở Xây dựng`.
    pub name: String,
    /// Role in the one-stop organisation.
    pub kind: motcua_core::catalogue::AgencyKind,
    /// Parent in the tree; only the province itself has none.
    #[serde(default)]
    pub parent: Option<AgencyCode>,
    /// Postal address.
    #[serde(default)]
    pub address: String,
    /// Public phone number.
    #[serde(default)]
    pub phone: String,
    /// Public email address.
    #[serde(default)]
    pub email: String,
    /// The 5-digit national code of a commune's People's Committee (kind `commune`, e.g.
    /// `22366`); empty for the others.
    #[serde(default)]
    pub admin_code: String,
}

/// Creates or updates agency `code` of the province asked for as `edit` says (catalogue
/// administrators). Its parent must exist; the tree stays a tree.
pub async fn put_agency(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    code: &str,
    edit: AgencyEdit,
) -> Result<Agency, AppError> {
    same_code(code, edit.code.as_deref())?;
    let code = AgencyCode::parse(code).map_err(|e| AppError::code("code", e))?;
    let province = edited_province(state, principal, province).await?;
    let agency = Agency {
        code,
        name: edit.name,
        kind: edit.kind,
        parent: edit.parent,
        address: edit.address,
        phone: edit.phone,
        email: edit.email,
        admin_code: edit.admin_code,
        // Retirement is its own operation; an edit keeps it as stored.
        retired_at: None,
        successor: None,
    };
    upsert_recorded(state, principal, &province, &agency).await
}

/// A retirement as an administrator asks for it: the agency merged into another, or
/// dissolved (docs/map-2025.md §2.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyRetirement {
    /// The working agency that takes over (its old code then resolves to this one); none
    /// for a unit dissolved without a successor.
    #[serde(default)]
    pub successor: Option<AgencyCode>,
}

/// Retires agency `code` of the province asked for (catalogue administrators): it receives
/// and issues nothing from now on, keeps its dossiers and history, and with a successor
/// its code resolves to that agency. Its working units must have retired first. Audited
/// (`agency.retire`, the agency before and after).
pub async fn retire_agency(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    code: &str,
    retirement: AgencyRetirement,
) -> Result<Agency, AppError> {
    let code = AgencyCode::parse(code).map_err(|e| AppError::code("code", e))?;
    let province = edited_province(state, principal, province).await?;
    let at = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let before: Option<Agency> = stored_row(&mut tx, &province, code.as_str()).await?;
    if before.is_none() {
        return Err(AppError::NotFound(format!(
            "Không có cơ quan mã {code} trong danh mục."
        )));
    }
    catalogue::retire_agency(&mut tx, &province, &code, retirement.successor.as_ref(), at).await?;
    let after: Agency = stored_row(&mut tx, &province, code.as_str())
        .await?
        .ok_or_else(|| AppError::Internal(format!("agency {code} vanished")))?;
    let event = Event {
        before: before.map(|b| serde_json::json!(b)),
        after: Some(serde_json::json!(after)),
        ..province_event(&province, "agency.retire", "agency", code.as_str())
    };
    record_and_commit(tx, principal, event).await?;
    state.catalogue_changed(&province);
    Ok(after)
}

/// An old code that should resolve to a working agency (e.g. a former province's code
/// after a merger).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasEdit {
    /// The agency it resolves to (an alias or a merged agency's code is followed).
    pub code: AgencyCode,
}

/// Makes `old` resolve to `edit.code` in the province asked for (catalogue
/// administrators); `old` may not be a working agency's code. Audited (`agency.alias`).
pub async fn alias_agency(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    old: &str,
    edit: AliasEdit,
) -> Result<AgencyAlias, AppError> {
    let old_code = AgencyCode::parse(old).map_err(|e| AppError::code("old_code", e))?;
    let province = edited_province(state, principal, province).await?;
    let alias = AgencyAlias {
        old_code,
        code: edit.code,
        at: state.clock.now(),
    };
    let mut tx = state.db.begin_write().await?;
    catalogue::alias_agency(&mut tx, &province, &alias).await?;
    let stored = catalogue::agency_aliases(&mut tx, &province)
        .await?
        .into_iter()
        .find(|a| a.old_code == alias.old_code)
        .ok_or_else(|| AppError::Internal(format!("alias {} vanished", alias.old_code)))?;
    let event = Event {
        after: Some(serde_json::json!(stored)),
        ..province_event(&province, "agency.alias", "agency", stored.old_code.as_str())
    };
    record_and_commit(tx, principal, event).await?;
    state.catalogue_changed(&province);
    Ok(stored)
}

/// A field as an administrator enters it (the code is in the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldEdit {
    /// The same code as the path, optional (see [`AgencyEdit::code`]).
    #[serde(default)]
    pub code: Option<String>,
    /// Name, e.g. `Hoạt động xây dựng`.
    pub name: String,
    /// The agency whose procedures the field groups.
    pub agency: AgencyCode,
}

/// Creates or updates field `code` of the province asked for as `edit` says (catalogue
/// administrators). Its agency must exist.
pub async fn put_field(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    code: &str,
    edit: FieldEdit,
) -> Result<Field, AppError> {
    same_code(code, edit.code.as_deref())?;
    let code = FieldCode::parse(code).map_err(|e| AppError::code("code", e))?;
    let province = edited_province(state, principal, province).await?;
    let field = Field {
        code,
        name: edit.name,
        agency: edit.agency,
    };
    upsert_recorded(state, principal, &province, &field).await
}

/// Imports one province's catalogue `cat` into `tx` and records the import as `actor`'s
/// in the audit trail (`catalogue.import`, with the report as the state after). The caller
/// commits: [`import_file`] for the API, and the command line's `motcua import`.
pub async fn import_province_audited(
    tx: &mut Tx,
    cat: &ProvinceCatalogue,
    actor: &Actor<'_>,
) -> Result<ImportReport, AppError> {
    let code = &cat.province.code;
    let report = catalogue::import_province(tx, cat, OffsetDateTime::now_utc()).await?;
    let event = Event {
        after: Some(serde_json::json!(report)),
        ..province_event(code, "catalogue.import", "catalogue", code.as_str())
    };
    audit::record(tx, actor, event).await?;
    Ok(report)
}

/// Imports a catalogue file in one transaction: all of it, or nothing.
pub async fn import_file(
    state: &AppState,
    file: &CatalogueFile,
    actor: &Actor<'_>,
) -> Result<Vec<(ProvinceCode, ImportReport)>, AppError> {
    let mut tx = state.db.begin_write().await?;
    let mut reports = Vec::new();
    for cat in &file.provinces {
        let report = import_province_audited(&mut tx, cat, actor).await?;
        reports.push((cat.province.code.clone(), report));
    }
    tx.commit().await?;
    for (p, _) in &reports {
        state.catalogue_changed(p);
    }
    Ok(reports)
}
