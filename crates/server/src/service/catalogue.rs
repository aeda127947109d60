//! The catalogue as people search and read it: procedure search (the index of
//! `crate::catalogue_index`), a procedure with its versions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use motcua_core::catalogue::{OnlineMode, ProcedureContent, ProcedureSummary, ProcedureVersion};
use motcua_core::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use motcua_core::search::{MAX_QUERY, Query};
use motcua_core::text::char_len;
use motcua_store::catalogue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::catalogue_index::{Cursor, SearchParams};
use crate::error::AppError;
use crate::state::AppState;

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
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

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
    Ok(to_detail(province, code, v, versions))
}

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
