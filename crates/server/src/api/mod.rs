//! The JSON API under `/api/v1`, and its OpenAPI document.

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};

use crate::state::AppState;

pub mod admin;
pub mod auth;
pub mod booking;
pub mod calendar;
pub mod catalogue;
pub mod citizens;
pub mod deliveries;
pub mod documents;
pub mod dossiers;
pub mod evaluation;
pub mod forms;
pub mod oidc;
pub mod payments;
pub mod queue;
pub mod ratings;
pub mod reports;
pub mod rules;
pub mod uploads;
pub mod verify;

/// The OpenAPI document of the whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "motcua API", description = "API của hệ thống một cửa motcua: danh mục thủ tục hành chính."),
    paths(
        catalogue::summary,
        catalogue::provinces,
        catalogue::agencies,
        catalogue::fields,
        catalogue::list_procedures,
        catalogue::get_procedure,
        catalogue::get_procedure_version,
        catalogue::create_procedure,
        catalogue::edit_procedure,
        catalogue::export,
        catalogue::import,
        auth::login,
        auth::logout,
        auth::current,
        auth::change_password,
        admin::create_user,
        admin::list_users,
        admin::reset_password,
        admin::unlock,
        admin::set_grants,
        admin::create_token,
        admin::list_tokens,
        admin::revoke_token,
        admin::audit_trail,
        admin::put_agency,
        admin::retire_agency,
        admin::put_agency_alias,
        admin::put_field,
        deliveries::list,
        deliveries::retry,
        deliveries::create_webhook,
        deliveries::list_webhooks,
        deliveries::delete_webhook,
        calendar::deadline,
        calendar::days,
        calendar::edit_day,
        calendar::week,
        calendar::edit_week,
        citizens::register,
        citizens::confirm,
        citizens::resend,
        dossiers::create,
        dossiers::get,
        dossiers::list,
        dossiers::act,
        dossiers::history,
        dossiers::track,
        payments::list,
        payments::create,
        payments::get_order,
        payments::receipt_pdf,
        payments::notice_pdf,
        payments::query_gateway,
        payments::vnpay_ipn,
        payments::reconciliation,
        payments::reconciliation_xlsx,
        payments::import_statement,
        payments::statement_credits,
        payments::resolve_credit,
        ratings::get,
        ratings::rate,
        ratings::rate_by_link,
        ratings::rate_at_kiosk,
        evaluation::dossier_sheet,
        evaluation::service_index_api,
        rules::list,
        rules::one,
        rules::load,
        forms::dossier_form,
        forms::reissue,
        forms::register_pdf,
        forms::register_xlsx,
        forms::dossiers_xlsx,
        uploads::upload,
        uploads::download,
        reports::results_xlsx,
        reports::monthly,
        reports::monthly_file,
        queue::setup,
        queue::put_settings,
        queue::create_group,
        queue::update_group,
        queue::my_counters,
        queue::create_counter,
        queue::update_counter,
        queue::issue_kiosk,
        queue::revoke_kiosk,
        queue::kiosk_menu,
        queue::take_ticket,
        queue::public_ticket,
        queue::panel,
        queue::call_next,
        queue::act,
        queue::board,
        queue::figures,
        queue::figures_xlsx,
        queue::portal_ticket,
        queue::rate_ticket,
        booking::setup,
        booking::put_setup,
        booking::today,
        booking::offer,
        booking::slots,
        booking::book,
        booking::mine,
        booking::one,
        booking::cancel,
        booking::check_in,
        documents::kinds,
        documents::put_kinds,
        documents::mine,
        documents::upload,
        documents::remove,
        documents::download,
        documents::views,
        documents::offers,
        documents::of_dossier,
        documents::figures,
        documents::link,
        verify::check_pdf,
        verify::check_code,
    ),
    modifiers(&Security, &CommonResponses),
    tags(
        (name = "catalogue", description = "Danh mục cơ quan, lĩnh vực và thủ tục hành chính"),
        (name = "auth", description = "Đăng nhập, đăng xuất, đổi mật khẩu"),
        (name = "admin", description = "Quản trị tài khoản, vai trò và mã truy cập API"),
        (name = "calendar", description = "Lịch làm việc: ngày nghỉ, ngày làm bù, tính hạn xử lý"),
        (name = "citizens", description = "Đăng ký tài khoản công dân, xác nhận bằng mã một lần"),
        (name = "dossiers", description = "Hồ sơ: tiếp nhận, xử lý, chuyển, bổ sung, trả kết quả, tra cứu"),
        (name = "evaluation", description = "Đánh giá giải quyết hồ sơ (9 chỉ số), chỉ số phục vụ theo Quyết định 766/QĐ-TTg"),
        (name = "rules", description = "Các phiên bản quy định: chỉ số đánh giá, chỉ số phục vụ, biểu mẫu, tên trạng thái, theo ngày có hiệu lực"),
        (name = "reports", description = "Báo cáo tình hình, kết quả giải quyết thủ tục hành chính (XLSX), báo cáo tháng"),
        (name = "payments", description = "Thanh toán phí, lệ phí: lệnh thanh toán, VNPay (IPN, trang trả về), tiền mặt tại quầy, đối soát"),
        (name = "queue", description = "Xếp hàng tại quầy: nhóm dịch vụ, quầy, máy lấy số, số thứ tự, gọi số"),
        (name = "documents", description = "Kho giấy tờ của công dân, tổ chức: kết quả đã cấp, giấy tờ đã đối chiếu bản chính, giấy tờ tự tải lên; dùng lại khi nộp hồ sơ; ai đã xem"),
        (name = "verify", description = "Xác thực văn bản: văn bản có do motcua cấp không, chữ ký số còn nguyên vẹn không, ai ký")
    )
)]
pub struct ApiDoc;

/// The two ways to sign in, and the default that every operation needs one of them.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Phiên đăng nhập; các lệnh thay đổi dữ liệu phải kèm tiêu đề X-CSRF-Token.",
            ))),
        );
        // Signed in by either, unless an operation says otherwise (the public ones say
        // `security(())`).
        openapi.security = Some(vec![
            SecurityRequirement::new("session", Vec::<String>::new()),
            SecurityRequirement::new("api_token", Vec::<String>::new()),
        ]);
    }
}

/// The answers every operation can give besides its own, documented once (so an operation
/// lists only its particular refusals): a request that
/// does not parse (400, including a malformed path parameter or header), a malformed or
/// unknown credential (401), a body over the limit (413, operations with a body), and the
/// database out of reach or the request out of time (503). All in the JSON error shape
/// (see [`json_errors`]).
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let with_body = op.request_body.is_some();
                let responses = &mut op.responses.responses;
                let mut add = |code: &str, description: &str| {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                add("400", "Yêu cầu không hợp lệ");
                add("401", "Thông tin xác thực sai dạng hoặc không còn hiệu lực");
                add("503", "Hệ thống tạm thời không xử lý được");
                if with_body {
                    add("413", "Nội dung gửi lên quá lớn");
                }
            }
        }
    }
}

/// The OpenAPI document as pretty JSON (what `/api/openapi.json` serves and the snapshot holds).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The API routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let import_limit = state.config.max_import_bytes;
    // The import takes whole catalogue files, so it gets its own, larger body limit.
    let import = Router::new()
        .route("/api/v1/catalogue/import", post(catalogue::import))
        .layer(DefaultBodyLimit::max(import_limit))
        .layer(axum::Extension(crate::extract::BodyLimit(import_limit)));
    let upload_limit = state.config.max_upload_bytes;
    let uploads = Router::new()
        .route("/api/v1/uploads", post(uploads::upload))
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(axum::Extension(crate::extract::BodyLimit(upload_limit)));
    Router::new()
        .merge(import)
        .merge(uploads)
        .route("/api/v1/dossiers", get(dossiers::list).post(dossiers::create))
        .route("/api/v1/dossiers/{code}", get(dossiers::get))
        .route("/api/v1/dossiers/{code}/history", get(dossiers::history))
        .route("/api/v1/dossiers/{code}/rating", get(ratings::get).post(ratings::rate))
        .route("/api/v1/dossiers/{code}/actions/{action}", post(dossiers::act))
        .route("/api/v1/track/{code}", get(dossiers::track))
        .route("/api/v1/dossiers/{code}/forms/{file}", get(forms::dossier_form))
        .route("/api/v1/dossiers/{code}/reissue-forms", post(forms::reissue))
        .route("/api/v1/register.pdf", get(forms::register_pdf))
        .route("/api/v1/register.xlsx", get(forms::register_xlsx))
        .route("/api/v1/dossiers.xlsx", get(forms::dossiers_xlsx))
        .route("/api/v1/files/{id}", get(uploads::download))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/catalogue/summary", get(catalogue::summary))
        .route("/api/v1/catalogue/export", get(catalogue::export))
        .route("/api/v1/provinces", get(catalogue::provinces))
        .route("/api/v1/agencies", get(catalogue::agencies))
        .route("/api/v1/fields", get(catalogue::fields))
        .route(
            "/api/v1/procedures",
            get(catalogue::list_procedures).post(catalogue::create_procedure),
        )
        .route(
            "/api/v1/procedures/{code}",
            get(catalogue::get_procedure).put(catalogue::edit_procedure),
        )
        .route(
            "/api/v1/procedures/{code}/versions/{version}",
            get(catalogue::get_procedure_version),
        )
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::current))
        .route("/api/v1/auth/password", post(auth::change_password))
        .route("/api/v1/admin/users", get(admin::list_users).post(admin::create_user))
        .route("/api/v1/admin/users/{id}/reset-password", post(admin::reset_password))
        .route("/api/v1/admin/users/{id}/unlock", post(admin::unlock))
        .route("/api/v1/admin/users/{id}/grants", put(admin::set_grants))
        .route(
            "/api/v1/admin/tokens",
            get(admin::list_tokens).post(admin::create_token),
        )
        .route("/api/v1/admin/tokens/{id}", delete(admin::revoke_token))
        .route("/api/v1/admin/audit", get(admin::audit_trail))
        .route("/api/v1/admin/agencies/{code}", put(admin::put_agency))
        .route("/api/v1/admin/agencies/{code}/retire", post(admin::retire_agency))
        .route("/api/v1/admin/agency-aliases/{old_code}", put(admin::put_agency_alias))
        .route("/api/v1/admin/fields/{code}", put(admin::put_field))
        .route("/api/v1/admin/deliveries", get(deliveries::list))
        .route("/api/v1/admin/deliveries/{id}/retry", post(deliveries::retry))
        .route(
            "/api/v1/admin/webhooks",
            get(deliveries::list_webhooks).post(deliveries::create_webhook),
        )
        .route("/api/v1/admin/webhooks/{id}", delete(deliveries::delete_webhook))
        .route("/api/v1/calendar/deadline", get(calendar::deadline))
        .route("/api/v1/calendar/days", get(calendar::days))
        .route("/api/v1/calendar/days/{date}", put(calendar::edit_day))
        .route("/api/v1/calendar/week", get(calendar::week).put(calendar::edit_week))
        .merge(citizens::routes())
        .merge(oidc::routes())
        .merge(payments::routes())
        .merge(queue::routes())
        .merge(booking::routes())
        .merge(documents::routes())
        .merge(verify::routes())
        .merge(evaluation::routes())
        .merge(rules::routes())
        .merge(reports::routes())
        .layer(axum::middleware::map_response(json_errors))
}

/// Every error of the API speaks its JSON shape ([`crate::error::ErrorBody`]), also those
/// axum answers before a handler runs, in plain text or with no body: a body over the
/// route's limit, a method the route does not take, a path parameter that does not parse.
/// Headers such as `Allow` and `Retry-After` are kept; HTML and JSON answers pass as they
/// are.
async fn json_errors(response: axum::response::Response) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "Nội dung gửi lên vượt quá giới hạn cho phép."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Địa chỉ này không nhận phương thức HTTP này."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("invalid_content_type", "Kiểu nội dung gửi lên không được chấp nhận."),
        StatusCode::NOT_FOUND => ("not_found", "Không tìm thấy."),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "Quá nhiều yêu cầu. Vui lòng thử lại sau."),
        s if s.is_server_error() => (
            "unavailable",
            "Hệ thống tạm thời không xử lý được yêu cầu. Vui lòng thử lại sau.",
        ),
        _ => ("invalid_request", "Yêu cầu không hợp lệ."),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = crate::error::ErrorBody {
        code: code.to_owned(),
        message: message.to_owned(),
        field: None,
        errors: Vec::new(),
        places: Vec::new(),
    };
    let mut json = axum::Json(body).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    *json.status_mut() = status;
    json
}
