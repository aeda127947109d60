//! The counter queue's API: a centre's groups, counters, settings and kiosks (system
//! administrators); taking a ticket (a kiosk, by its device token in `X-Kiosk-Token`, or
//! the public portal with the centre's code of the day); a ticket's public view; the
//! counter officer's panel and calls; a served ticket's rating at the kiosk.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use motcua_core::queue::QueueSettings;
use motcua_store::queue::Kiosk;

use crate::auth::{ClientIp, Principal};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::queue::{
    self, CentreParam, CounterInput, CounterPanel, CounterView, GroupInput, GroupView, KioskInput, KioskMenu,
    KioskView, PortalTicket, PublicTicket, QueueSetup, TakeTicket, TicketAction, TicketRatingInput, TicketRatingView,
    TicketView,
};
use crate::state::AppState;

/// The header a kiosk sends its device token in.
pub const KIOSK_HEADER: &str = "x-kiosk-token";

/// The routes of the queue.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/queue/setup", get(setup))
        .route("/api/v1/queue/settings", put(put_settings))
        .route("/api/v1/queue/groups", post(create_group))
        .route("/api/v1/queue/groups/{id}", put(update_group))
        .route("/api/v1/queue/counters", get(my_counters).post(create_counter))
        .route("/api/v1/queue/counters/{id}", put(update_counter))
        .route("/api/v1/queue/kiosks", post(issue_kiosk))
        .route("/api/v1/queue/kiosks/{id}", delete(revoke_kiosk))
        .route("/api/v1/queue/counters/{id}/panel", get(panel))
        .route("/api/v1/queue/counters/{id}/call", post(call_next))
        .route("/api/v1/queue/counters/{id}/tickets/{ticket}", post(act))
        .route("/api/v1/kiosk/menu", get(kiosk_menu))
        .route("/api/v1/kiosk/tickets", post(take_ticket))
        .route("/api/v1/tickets/{token}", get(public_ticket))
        .route("/api/v1/queue/board", get(board))
        .route("/api/v1/queue/figures", get(figures))
        .route("/api/v1/queue/figures.xlsx", get(figures_xlsx))
        .route("/api/v1/queue/portal/tickets", post(portal_ticket))
        .route("/api/v1/kiosk/ticket-ratings", post(rate_ticket))
}

/// The kiosk that sent its device token in `X-Kiosk-Token`; 401 otherwise.
pub struct KioskDevice(pub Kiosk);

impl FromRequestParts<AppState> for KioskDevice {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(KIOSK_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if token.is_empty() {
            return Err(AppError::Unauthorized(
                "Thiếu mã thiết bị của máy lấy số (tiêu đề X-Kiosk-Token).".to_owned(),
            ));
        }
        Ok(KioskDevice(queue::kiosk(state, token).await?))
    }
}

/// `GET /api/v1/queue/setup`: a centre's groups, counters, settings and kiosks.
#[utoipa::path(get, path = "/api/v1/queue/setup", params(CentreParam), tag = "queue",
    responses((status = 200, body = QueueSetup), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
) -> Result<Json<QueueSetup>, AppError> {
    Ok(Json(queue::setup(&state, &principal, &at).await?))
}

/// `PUT /api/v1/queue/settings`: the centre's priority kinds, the fair rule's K and the
/// recalls before a no-show.
#[utoipa::path(put, path = "/api/v1/queue/settings", params(CentreParam), request_body = QueueSettings, tag = "queue",
    responses((status = 200, body = QueueSettings),
        (status = 403, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<QueueSettings>,
) -> Result<Json<QueueSettings>, AppError> {
    Ok(Json(queue::put_settings(&state, &principal, &at, req).await?))
}

/// `POST /api/v1/queue/groups`: a new service group.
#[utoipa::path(post, path = "/api/v1/queue/groups", params(CentreParam), request_body = GroupInput, tag = "queue",
    responses((status = 201, body = GroupView),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_group(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<GroupInput>,
) -> Result<(StatusCode, Json<GroupView>), AppError> {
    let g = queue::create_group(&state, &principal, &at, req).await?;
    Ok((StatusCode::CREATED, Json(g)))
}

/// `PUT /api/v1/queue/groups/{id}`: changes a service group.
#[utoipa::path(put, path = "/api/v1/queue/groups/{id}", params(("id" = i64, Path), CentreParam),
    request_body = GroupInput, tag = "queue",
    responses((status = 200, body = GroupView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_group(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<GroupInput>,
) -> Result<Json<GroupView>, AppError> {
    Ok(Json(queue::update_group(&state, &principal, &at, id, req).await?))
}

/// `GET /api/v1/queue/counters`: the counters of the caller's centre (counter officers).
#[utoipa::path(get, path = "/api/v1/queue/counters", tag = "queue",
    responses((status = 200, body = Vec<CounterView>), (status = 403, body = ErrorBody)))]
pub async fn my_counters(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<CounterView>>, AppError> {
    Ok(Json(queue::officer_counters(&state, &principal).await?))
}

/// `POST /api/v1/queue/counters`: a new counter.
#[utoipa::path(post, path = "/api/v1/queue/counters", params(CentreParam), request_body = CounterInput, tag = "queue",
    responses((status = 201, body = CounterView),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_counter(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<CounterInput>,
) -> Result<(StatusCode, Json<CounterView>), AppError> {
    let c = queue::create_counter(&state, &principal, &at, req).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `PUT /api/v1/queue/counters/{id}`: changes a counter and the groups it serves.
#[utoipa::path(put, path = "/api/v1/queue/counters/{id}", params(("id" = i64, Path), CentreParam),
    request_body = CounterInput, tag = "queue",
    responses((status = 200, body = CounterView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_counter(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<CounterInput>,
) -> Result<Json<CounterView>, AppError> {
    Ok(Json(queue::update_counter(&state, &principal, &at, id, req).await?))
}

/// `POST /api/v1/queue/kiosks`: issues a kiosk's device token (shown once).
#[utoipa::path(post, path = "/api/v1/queue/kiosks", params(CentreParam), request_body = KioskInput, tag = "queue",
    responses((status = 201, body = KioskView),
        (status = 403, body = ErrorBody)))]
pub async fn issue_kiosk(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<KioskInput>,
) -> Result<(StatusCode, Json<KioskView>), AppError> {
    let k = queue::issue_kiosk(&state, &principal, &at, req).await?;
    Ok((StatusCode::CREATED, Json(k)))
}

/// `DELETE /api/v1/queue/kiosks/{id}`: revokes a kiosk's token.
#[utoipa::path(delete, path = "/api/v1/queue/kiosks/{id}", params(("id" = String, Path), CentreParam), tag = "queue",
    responses((status = 204), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_kiosk(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(at): ApiQuery<CentreParam>,
) -> Result<StatusCode, AppError> {
    queue::revoke_kiosk(&state, &principal, &at, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/kiosk/menu`: what the kiosk offers (its device token in `X-Kiosk-Token`).
#[utoipa::path(get, path = "/api/v1/kiosk/menu", tag = "queue",
    params(("X-Kiosk-Token" = String, Header, description = "The kiosk's device token")),
    responses((status = 200, body = KioskMenu)), security(()))]
pub async fn kiosk_menu(
    State(state): State<AppState>,
    KioskDevice(k): KioskDevice,
) -> Result<Json<KioskMenu>, AppError> {
    Ok(Json(queue::kiosk_menu(&state, &k).await?))
}

/// `POST /api/v1/kiosk/tickets`: takes a ticket for a group of the kiosk's centre.
#[utoipa::path(post, path = "/api/v1/kiosk/tickets", request_body = TakeTicket, tag = "queue",
    params(("X-Kiosk-Token" = String, Header, description = "The kiosk's device token")),
    responses((status = 201, body = TicketView),
        (status = 422, body = ErrorBody)), security(()))]
pub async fn take_ticket(
    State(state): State<AppState>,
    KioskDevice(k): KioskDevice,
    ApiJson(req): ApiJson<TakeTicket>,
) -> Result<(StatusCode, Json<TicketView>), AppError> {
    let t = queue::take_ticket(&state, &k, req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// `GET /api/v1/tickets/{token}`: a ticket by its public token (no personal data).
#[utoipa::path(get, path = "/api/v1/tickets/{token}", params(("token" = String, Path)), tag = "queue",
    responses((status = 200, body = PublicTicket), (status = 404, body = ErrorBody)), security(()))]
pub async fn public_ticket(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<PublicTicket>, AppError> {
    Ok(Json(queue::public_ticket(&state, &token).await?))
}

/// `GET /api/v1/queue/counters/{id}/panel`: the counter's queue panel.
#[utoipa::path(get, path = "/api/v1/queue/counters/{id}/panel", params(("id" = i64, Path)), tag = "queue",
    responses((status = 200, body = CounterPanel), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn panel(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<CounterPanel>, AppError> {
    Ok(Json(queue::panel(&state, &principal, id).await?))
}

/// `POST /api/v1/queue/counters/{id}/call`: "Gọi số tiếp theo"; `204` when nobody waits.
#[utoipa::path(post, path = "/api/v1/queue/counters/{id}/call", params(("id" = i64, Path)), tag = "queue",
    responses((status = 200, body = TicketView), (status = 204),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn call_next(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    Ok(match queue::call_next(&state, &principal, id).await? {
        Some(t) => Json(t).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `POST /api/v1/queue/counters/{id}/tickets/{ticket}`: recall, no-show, start, finish or
/// transfer a ticket the counter holds.
#[utoipa::path(post, path = "/api/v1/queue/counters/{id}/tickets/{ticket}",
    params(("id" = i64, Path), ("ticket" = i64, Path)), request_body = TicketAction, tag = "queue",
    responses((status = 200, body = TicketView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, ticket)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<TicketAction>,
) -> Result<Json<TicketView>, AppError> {
    Ok(Json(queue::act(&state, &principal, id, ticket, req).await?))
}

/// `GET /api/v1/queue/board`: what the hall's display board of the device's centre shows:
/// the current calls, the last calls, the waiting count per group (the page
/// `/bang-hien-thi` follows the same as server-sent events).
#[utoipa::path(get, path = "/api/v1/queue/board", tag = "queue",
    params(("X-Kiosk-Token" = String, Header, description = "The device's token")),
    responses((status = 200, body = crate::service::board::Board)), security(()))]
pub async fn board(
    State(state): State<AppState>,
    KioskDevice(k): KioskDevice,
) -> Result<Json<crate::service::board::Board>, AppError> {
    Ok(Json(crate::service::board::board(&state, &k).await?))
}

/// `GET /api/v1/queue/figures`: the queue's figures of the province's centre for a period
/// (this month by default): tickets taken, served, absent, from a booking, mean wait and
/// service, per group, counter, officer, hour and day of the week, and the arrivals' heat
/// map (director, system administrators).
#[utoipa::path(get, path = "/api/v1/queue/figures", params(crate::service::period::PeriodQuery, crate::service::oversight::CentreQuery), tag = "queue",
    responses((status = 200, body = crate::service::queue_figures::QueueReport), (status = 403, body = ErrorBody)))]
pub async fn figures(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<crate::service::period::PeriodQuery>,
    ApiQuery(c): ApiQuery<crate::service::oversight::CentreQuery>,
) -> Result<Json<crate::service::queue_figures::QueueReport>, AppError> {
    Ok(Json(
        crate::service::queue_figures::figures(&state, &principal, &q, c.centre.as_deref())
            .await?
            .0,
    ))
}

/// `GET /api/v1/queue/figures.xlsx`: the same as a workbook.
#[utoipa::path(get, path = "/api/v1/queue/figures.xlsx", params(crate::service::period::PeriodQuery, crate::service::oversight::CentreQuery), tag = "queue",
    responses((status = 200, description = "Số liệu xếp hàng (XLSX)",
        content_type = super::forms::XLSX),
        (status = 403, body = ErrorBody)))]
pub async fn figures_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<crate::service::period::PeriodQuery>,
    ApiQuery(c): ApiQuery<crate::service::oversight::CentreQuery>,
) -> Result<axum::response::Response, AppError> {
    let (f, _) = crate::service::queue_figures::figures(&state, &principal, &q, c.centre.as_deref()).await?;
    let bytes = tokio::task::spawn_blocking(move || crate::service::queue_figures::workbook(&f))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    Ok(super::reports::attachment(bytes, "so-lieu-xep-hang.xlsx"))
}

/// `POST /api/v1/queue/portal/tickets`: takes a ticket on the portal, for someone in the
/// centre's hall: the centre's code of the day (shown on the hall's board and kiosk) is
/// required, and each client address may take few tickets and type few wrong codes a
/// minute (429). An optional phone number or email gets one message when three tickets
/// are ahead.
#[utoipa::path(post, path = "/api/v1/queue/portal/tickets", request_body = PortalTicket, tag = "queue",
    responses((status = 201, body = TicketView), (status = 400, body = ErrorBody),
        (status = 403, description = "Mã của ngày không đúng (`wrong_hall_code`)", body = ErrorBody),
        (status = 409, description = "Ngoài giờ làm việc", body = ErrorBody),
        (status = 429, body = ErrorBody)), security(()))]
pub async fn portal_ticket(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PortalTicket>,
) -> Result<(StatusCode, Json<TicketView>), AppError> {
    let t = queue::take_portal_ticket(&state, &ip, req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// `POST /api/v1/kiosk/ticket-ratings`: the satisfaction given at the kiosk for a served
/// ticket of its centre (by its number of today or its QR code), once per ticket.
#[utoipa::path(post, path = "/api/v1/kiosk/ticket-ratings", request_body = TicketRatingInput, tag = "queue",
    params(("X-Kiosk-Token" = String, Header, description = "The kiosk's device token")),
    responses((status = 201, body = TicketRatingView), (status = 404, body = ErrorBody),
        (status = 409, description = "Chưa phục vụ xong, hoặc đã đánh giá", body = ErrorBody)), security(()))]
pub async fn rate_ticket(
    State(state): State<AppState>,
    KioskDevice(k): KioskDevice,
    ApiJson(req): ApiJson<TicketRatingInput>,
) -> Result<(StatusCode, Json<TicketRatingView>), AppError> {
    let r = queue::rate_ticket(&state, &k, req).await?;
    Ok((StatusCode::CREATED, Json(r)))
}
