//! Catalogue endpoints: provinces, agencies, fields, procedure search and versions,
//! import and export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use motcua_core::catalogue::{
    Agency, CatalogueFile, CatalogueSummary, Field, ProcedureContent, ProcedureSummary, Province, ResultSignature,
};
use motcua_core::codes::{AgencyCode, ProcedureCode};
use motcua_core::text::char_len;
use motcua_store::catalogue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::forms::XLSX;
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, parse_json};
use crate::service::catalogue::{
    self as service, ProcedureDetail, ProcedurePage, ProcedureParams, encode_cursor, parse_opt, search_params,
    to_detail,
};
use crate::state::AppState;

/// Which province a request is about.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProvinceParam {
    /// Province code (`H43` or `000.00.00.H43`); the default province when omitted.
    pub province: Option<String>,
}

/// `GET /api/v1/catalogue/summary`
#[utoipa::path(get, path = "/api/v1/catalogue/summary", params(ProvinceParam), tag = "catalogue",
    responses((status = 200, body = CatalogueSummary), (status = 404, body = ErrorBody)), security(()))]
pub async fn summary(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<CatalogueSummary>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    let mut tx = state.db.begin_read().await?;
    Ok(Json(catalogue::summary(&mut tx, &province).await?))
}

/// A list of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    /// The items.
    pub items: Vec<T>,
}

/// `GET /api/v1/provinces`
#[utoipa::path(get, path = "/api/v1/provinces", tag = "catalogue", responses((status = 200, body = Items<Province>)), security(()))]
pub async fn provinces(State(state): State<AppState>) -> Result<Json<Items<Province>>, AppError> {
    let mut tx = state.db.begin_read().await?;
    Ok(Json(Items {
        items: catalogue::provinces(&mut tx).await?,
    }))
}

/// `GET /api/v1/agencies`
#[utoipa::path(get, path = "/api/v1/agencies", params(ProvinceParam), tag = "catalogue",
    responses((status = 200, body = Items<Agency>)), security(()))]
pub async fn agencies(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<Items<Agency>>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    let mut tx = state.db.begin_read().await?;
    Ok(Json(Items {
        items: catalogue::agencies(&mut tx, &province).await?,
    }))
}

/// Filters of the field list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FieldParams {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// Only the fields of this agency.
    pub agency: Option<String>,
}

/// `GET /api/v1/fields`
#[utoipa::path(get, path = "/api/v1/fields", params(FieldParams), tag = "catalogue",
    responses((status = 200, body = Items<Field>)), security(()))]
pub async fn fields(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<FieldParams>,
) -> Result<Json<Items<Field>>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    let agency = parse_opt(p.agency.as_deref(), "agency", AgencyCode::parse)?;
    let mut tx = state.db.begin_read().await?;
    let mut items = catalogue::fields(&mut tx, &province).await?;
    if let Some(a) = agency {
        items.retain(|f| f.agency == a);
    }
    Ok(Json(Items { items }))
}

/// `GET /api/v1/procedures`: search and list, keyset-paginated.
#[utoipa::path(get, path = "/api/v1/procedures", params(ProcedureParams), tag = "catalogue",
    responses((status = 200, body = ProcedurePage)), security(()))]
pub async fn list_procedures(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ProcedureParams>,
) -> Result<Response, AppError> {
    let params = search_params(&p)?;
    let province = state.province(p.province.as_deref()).await?;
    let index = state.index.get(&state.db, &province).await?;
    let key = params.key();
    let body = match index.answer(&key) {
        Some(body) => body,
        None => {
            let page = index.search(&params);
            let answer = ProcedurePageRef {
                items: page.items,
                next_cursor: page.next.as_ref().map(encode_cursor),
                total: page.total,
            };
            let body = Bytes::from(
                serde_json::to_vec(&answer).map_err(|e| AppError::Internal(format!("search answer: {e}")))?,
            );
            index.keep_answer(key, body.clone());
            body
        }
    };
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// [`ProcedurePage`] as sent, borrowing the index's summaries.
#[derive(Serialize)]
struct ProcedurePageRef<'a> {
    items: Vec<&'a ProcedureSummary>,
    next_cursor: Option<String>,
    total: usize,
}

/// `GET /api/v1/procedures/{code}`: the current version.
#[utoipa::path(get, path = "/api/v1/procedures/{code}", params(("code" = String, Path, description = "Procedure code"), ProvinceParam),
    tag = "catalogue", responses((status = 200, body = ProcedureDetail), (status = 404, body = ErrorBody)), security(()))]
pub async fn get_procedure(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<ProcedureDetail>, AppError> {
    Ok(Json(
        service::procedure(&state, p.province.as_deref(), &code, None).await?,
    ))
}

/// `GET /api/v1/procedures/{code}/versions/{version}`: an older (or the current) version.
#[utoipa::path(get, path = "/api/v1/procedures/{code}/versions/{version}",
    params(("code" = String, Path, description = "Procedure code"), ("version" = i64, Path, description = "Version number"), ProvinceParam),
    tag = "catalogue", responses((status = 200, body = ProcedureDetail), (status = 404, body = ErrorBody)), security(()))]
pub async fn get_procedure_version(
    State(state): State<AppState>,
    Path((code, version)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<ProcedureDetail>, AppError> {
    Ok(Json(
        service::procedure(&state, p.province.as_deref(), &code, Some(&version)).await?,
    ))
}

/// Body of a new procedure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProcedure {
    /// Procedure code.
    pub code: ProcedureCode,
    /// Content of version 1.
    pub content: ProcedureContent,
    /// Note for the version.
    #[serde(default)]
    pub note: String,
    /// Whether a finish needs signed results (default `optional`).
    #[serde(default)]
    pub result_signature: Option<ResultSignature>,
}

/// `POST /api/v1/procedures`: create a procedure (catalogue administrators).
#[utoipa::path(post, path = "/api/v1/procedures", params(ProvinceParam), request_body = NewProcedure, tag = "catalogue", 
    responses((status = 201, body = ProcedureDetail),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_procedure(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<NewProcedure>,
) -> Result<(StatusCode, Json<ProcedureDetail>), AppError> {
    check_note(&body.note)?;
    let province = state.province(p.province.as_deref()).await?;
    principal.require_catalogue(&province)?;
    let mut tx = state.db.begin_write().await?;
    let v = catalogue::create_procedure(
        &mut tx,
        &province,
        &body.code,
        body.content,
        &body.note,
        OffsetDateTime::now_utc(),
    )
    .await?;
    let versions = catalogue::procedure_versions(&mut tx, &province, &body.code).await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "procedure.create",
            object_type: "procedure",
            object_id: body.code.as_str(),
            province: Some(province.as_str()),
            before: None,
            after: Some(json_of(&v.content)?),
        },
    )
    .await?;
    let setting =
        service::apply_result_signature(&mut tx, &principal, &province, &body.code, body.result_signature).await?;
    tx.commit().await?;
    state.catalogue_changed(&province);
    tracing::info!(code = %body.code, "procedure created");
    let mut detail = to_detail(&province, &body.code, v, versions);
    detail.result_signature = setting;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Body of a procedure edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditProcedure {
    /// The new content.
    pub content: ProcedureContent,
    /// Why it changed.
    #[serde(default)]
    pub note: String,
    /// The version the editor started from; a later edit by someone else is a 409.
    pub expected_version: Option<u32>,
    /// Whether a finish needs signed results; absent: unchanged. Not part of the version:
    /// a change applies at once and is audited as `procedure.result_signature`.
    #[serde(default)]
    pub result_signature: Option<ResultSignature>,
}

fn json_of<T: Serialize>(v: &T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))
}

fn check_note(note: &str) -> Result<(), AppError> {
    if char_len(note) > 1000 {
        return Err(AppError::bad("invalid_field", "note", "Ghi chú dài quá 1000 ký tự."));
    }
    Ok(())
}

/// `PUT /api/v1/procedures/{code}`: edit, creating a new version (catalogue administrators).
#[utoipa::path(put, path = "/api/v1/procedures/{code}", params(("code" = String, Path, description = "Procedure code"), ProvinceParam),
    request_body = EditProcedure, tag = "catalogue", 
    responses((status = 200, body = ProcedureDetail),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_procedure(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<EditProcedure>,
) -> Result<Json<ProcedureDetail>, AppError> {
    let code = ProcedureCode::parse(&code).map_err(|e| AppError::code("code", e))?;
    check_note(&body.note)?;
    let province = state.province(p.province.as_deref()).await?;
    principal.require_catalogue(&province)?;
    let mut tx = state.db.begin_write().await?;
    let before = catalogue::procedure(&mut tx, &province, &code).await?;
    let v = catalogue::update_procedure(
        &mut tx,
        &province,
        &code,
        body.content,
        &body.note,
        body.expected_version,
        OffsetDateTime::now_utc(),
    )
    .await?;
    let versions = catalogue::procedure_versions(&mut tx, &province, &code).await?;
    if before.as_ref().is_none_or(|b| b.version != v.version) {
        audit::record(
            &mut tx,
            &Actor::of(&principal),
            Event {
                action: "procedure.update",
                object_type: "procedure",
                object_id: code.as_str(),
                province: Some(province.as_str()),
                before: before.as_ref().map(|b| json_of(&b.content)).transpose()?,
                after: Some(json_of(&v.content)?),
            },
        )
        .await?;
    }
    let setting = service::apply_result_signature(&mut tx, &principal, &province, &code, body.result_signature).await?;
    tx.commit().await?;
    state.catalogue_changed(&province);
    tracing::info!(code = %code, version = v.version, "procedure edited");
    let mut detail = to_detail(&province, &code, v, versions);
    detail.result_signature = setting;
    Ok(Json(detail))
}

/// Export parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// `json` (default) or `xlsx`.
    pub format: Option<String>,
}

/// `GET /api/v1/catalogue/export`: the province's whole catalogue with every version.
#[utoipa::path(get, path = "/api/v1/catalogue/export", params(ExportParams), tag = "catalogue",
    responses((status = 200, description = "JSON catalogue file or XLSX workbook")), security(()))]
pub async fn export(State(state): State<AppState>, ApiQuery(p): ApiQuery<ExportParams>) -> Result<Response, AppError> {
    let xlsx = match p.format.as_deref().unwrap_or("json") {
        "json" => false,
        "xlsx" => true,
        _ => {
            return Err(AppError::bad(
                "invalid_parameter",
                "format",
                "«format» phải là «json» hoặc «xlsx».",
            ));
        }
    };
    let province = state.province(p.province.as_deref()).await?;
    let mut tx = state.db.begin_read().await?;
    let cat = catalogue::export_province(&mut tx, &province).await?;
    drop(tx);
    let file = CatalogueFile::new(vec![cat]);
    let name = format!("danh-muc-{}", province.unit());
    if xlsx {
        // Building the workbook is CPU work: keep it off the async workers.
        let bytes = tokio::task::spawn_blocking(move || motcua_docs::catalogue_xlsx::write(&file))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((
            [
                (header::CONTENT_TYPE, XLSX.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.xlsx\""),
                ),
            ],
            bytes,
        )
            .into_response())
    } else {
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.json\""),
                ),
            ],
            bytes,
        )
            .into_response())
    }
}

/// What an import did, per province.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// One report per province in the file.
    pub provinces: Vec<ProvinceImport>,
}

/// What an import did to one province.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceImport {
    /// Province code.
    pub province: String,
    /// Agencies created or updated.
    pub agencies: usize,
    /// Fields created or updated.
    pub fields: usize,
    /// Procedures created.
    pub procedures_created: usize,
    /// Versions added.
    pub versions_added: usize,
    /// Versions already present and identical.
    pub versions_unchanged: usize,
}

/// Parses a catalogue file in either format, chosen by content type.
pub fn parse_catalogue(content_type: &str, bytes: &[u8]) -> Result<CatalogueFile, AppError> {
    let mut file: CatalogueFile = if content_type.starts_with(XLSX) {
        // The same content check as uploads (a whole, macro-free workbook that does not
        // expand past reason) before calamine unpacks every sheet into memory.
        match motcua_core::filetype::detect(bytes) {
            Ok(motcua_core::filetype::FileType::Xlsx) => {}
            Ok(other) => {
                return Err(AppError::bad(
                    "invalid_file",
                    "file",
                    format!("Tệp gửi lên là {}, không phải bảng tính XLSX.", other.label()),
                ));
            }
            Err(rejected) => return Err(AppError::bad("invalid_file", "file", rejected.to_string())),
        }
        motcua_docs::catalogue_xlsx::read(bytes).map_err(|e| AppError::bad("invalid_file", "file", e.to_string()))?
    } else if content_type.starts_with("application/json") {
        parse_json(bytes)?
    } else {
        return Err(AppError::BadRequest {
            code: "invalid_content_type",
            message: format!("Tệp danh mục phải là JSON hoặc XLSX ({XLSX})."),
            field: None,
        });
    };
    file.check_header()?;
    // Each province's audit records go to its own chain: importing them in a fixed order
    // keeps two imports from locking the chains in opposite orders.
    file.provinces.sort_by(|a, b| a.province.code.cmp(&b.province.code));
    Ok(file)
}

/// `POST /api/v1/catalogue/import`: import a JSON or XLSX catalogue file
/// (catalogue administrators). All provinces in the file are imported, or none.
#[utoipa::path(post, path = "/api/v1/catalogue/import", tag = "catalogue", 
    request_body(content = String, description = "JSON catalogue file or XLSX workbook", content_type = "application/json"),
    responses((status = 200, body = ImportResponse),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ImportResponse>, AppError> {
    // Nothing is unpacked for a caller who may import into no province at all.
    principal.require(principal.access.can_edit_some_catalogue(), "nhập danh mục thủ tục")?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(state.config.max_import_bytes)
        } else {
            AppError::bad("invalid_body", "file", "Không đọc được tệp gửi lên.")
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // Unpacking a workbook is CPU work: keep it off the async workers.
    let file = tokio::task::spawn_blocking(move || parse_catalogue(&content_type, &body))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    for cat in &file.provinces {
        principal.require_catalogue(&cat.province.code)?;
    }
    let reports = service::import_file(&state, &file, &Actor::of(&principal)).await?;
    Ok(Json(ImportResponse {
        provinces: reports
            .into_iter()
            .map(|(p, r)| ProvinceImport {
                province: p.to_string(),
                agencies: r.agencies,
                fields: r.fields,
                procedures_created: r.procedures_created,
                versions_added: r.versions_added,
                versions_unchanged: r.versions_unchanged,
            })
            .collect(),
    }))
}
