//! The operations page for system administrators (`/van-hanh/chuyen-phat`): deliveries
//! pending, failed and dead-lettered with their errors, and a retry button that works
//! without JavaScript (a form carrying the session's CSRF token).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use motcua_store::outbox::StateFilter;
use serde::Deserialize;

use crate::auth::{CSRF_HEADER, Credential, Principal};
use crate::error::AppError;
use crate::service::deliveries::{DeliveryList, load_list, parse_state, retry_delivery};
use crate::state::AppState;
use crate::web::pages::PageError;

/// Rows per page.
const PAGE: i64 = 50;

/// One row of the table.
struct Row {
    id: i64,
    kind: String,
    dossier: String,
    destination: String,
    attempts: i64,
    error: String,
    when: String,
    retry: bool,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    frame: crate::web::Frame,
    max_attempts: u32,
    pending: i64,
    failed: i64,
    dead: i64,
    state: &'static str,
    state_label: &'static str,
    notice: Option<String>,
    items: Vec<Row>,
    csrf_token: String,
    next_url: Option<String>,
}

/// The page's query: which state, which page, and what was just done.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    state: Option<String>,
    before: Option<i64>,
    retried: Option<i64>,
}

fn label(state: StateFilter) -> &'static str {
    match state {
        StateFilter::Pending => "Chờ gửi",
        StateFilter::Failed => "Gửi lỗi, đang chờ thử lại",
        StateFilter::Dead => "Đã dừng gửi (cần xử lý)",
        StateFilter::Delivered => "Đã gửi",
    }
}

fn destination_label(destination: &str) -> String {
    match destination {
        crate::outbox::EMAIL => "Thư điện tử người nộp".to_owned(),
        crate::outbox::SMS => "Tin nhắn người nộp".to_owned(),
        crate::outbox::SUBMITTER_EMAIL => "Thư điện tử người được ủy quyền".to_owned(),
        crate::outbox::SUBMITTER_SMS => "Tin nhắn người được ủy quyền".to_owned(),
        crate::outbox::PORTAL => "Cổng Dịch vụ công quốc gia".to_owned(),
        other => other
            .strip_prefix(crate::outbox::WEBHOOK_PREFIX)
            .map_or_else(|| other.to_owned(), |id| format!("Webhook số {id}")),
    }
}

/// `GET /van-hanh/chuyen-phat`
pub async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    // The director sees what is stuck (the overview links here); only administrators retry.
    let may_retry = principal.access.can_administer(&province);
    principal.require(
        may_retry
            || principal
                .access
                .has_role_in(motcua_core::access::Role::CentreDirector, &province),
        "xem tình trạng chuyển phát của tỉnh này",
    )?;
    let filter = parse_state(Some(q.state.as_deref().unwrap_or("failed")))?;
    let DeliveryList {
        counts,
        items,
        next_before,
    } = load_list(&state, &province, filter, q.before, PAGE).await?;
    let csrf_token = match &principal.credential {
        Credential::Session { csrf_token, .. } => csrf_token.clone(),
        Credential::ApiToken { .. } => String::new(),
    };
    let rows = items
        .into_iter()
        .map(|d| Row {
            retry: may_retry && (d.state == "failed" || d.state == "dead") && !d.in_flight,
            when: match d.state.as_str() {
                "delivered" => d.delivered_at.clone(),
                "dead" => d.dead_at.clone(),
                _ => d.next_attempt_at.clone().map(|t| format!("thử lại lúc {t}")),
            }
            .unwrap_or_default(),
            id: d.id,
            kind: d.kind,
            dossier: d.dossier_code.unwrap_or_default(),
            destination: destination_label(&d.destination),
            attempts: d.attempts,
            error: d.last_error.unwrap_or_default(),
        })
        .collect();
    let page = DeliveriesPage {
        frame: crate::web::Frame::new(&state, Some(&principal)).await?,
        max_attempts: state.config.outbox_max_attempts,
        pending: counts.pending,
        failed: counts.failed,
        dead: counts.dead,
        state: filter.name(),
        state_label: label(filter),
        notice: q
            .retried
            .map(|id| format!("Đã đặt lượt gửi số {id} gửi lại ngay; kết quả sẽ hiện sau ít giây.")),
        items: rows,
        csrf_token,
        next_url: next_before.map(|b| format!("/van-hanh/chuyen-phat?state={}&before={b}", filter.name())),
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}

/// The retry form's fields.
#[derive(Debug, Deserialize)]
struct RetryForm {
    csrf_token: String,
    #[serde(default)]
    state: String,
}

/// `POST /van-hanh/chuyen-phat/{id}/gui-lai`: the retry button. The form carries the
/// session's CSRF token, which is checked like the API's header.
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    mut parts: Parts,
    body: String,
) -> Result<Response, PageError> {
    let form: RetryForm = serde_urlencoded::from_str(&body).map_err(|_| {
        AppError::bad(
            "invalid_form",
            "csrf_token",
            "Biểu mẫu không hợp lệ. Hãy tải lại trang.",
        )
    })?;
    let token = axum::http::HeaderValue::from_str(&form.csrf_token).map_err(|_| {
        AppError::bad(
            "invalid_form",
            "csrf_token",
            "Biểu mẫu không hợp lệ. Hãy tải lại trang.",
        )
    })?;
    parts.headers.insert(CSRF_HEADER, token);
    let principal =
        <Principal as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state).await?;
    let province = state.province(None).await?;
    principal.require_admin(&province)?;
    retry_delivery(&state, &principal, &province, id).await?;
    let back = StateFilter::parse(&form.state).unwrap_or(StateFilter::Dead);
    Ok(Redirect::to(&format!("/van-hanh/chuyen-phat?state={}&retried={id}", back.name())).into_response())
}
