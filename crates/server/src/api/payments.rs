//! The JSON skin of payments over [`crate::service::payments`]. The gateway's browser
//! return is a page, served by the pages.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use super::forms::{XLSX, attachment};
use crate::auth::{ClientIp, Principal};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::payments::{
    self as service, CreditView, ImportQuery, ImportReport, IpnReply, NewOrder, OpenCredits, OrderView, QueryOutcome,
    Reconciliation, ReconciliationQuery, Resolution,
};
use crate::state::AppState;

/// The routes of payments.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dossiers/{code}/payments", get(list).post(create))
        .route("/api/v1/payments/reconciliation", get(reconciliation))
        .route("/api/v1/payments/reconciliation.xlsx", get(reconciliation_xlsx))
        .route("/api/v1/payments/statements", axum::routing::post(import_statement))
        .route("/api/v1/payments/statement-credits", get(statement_credits))
        .route(
            "/api/v1/payments/statement-credits/{id}/resolve",
            axum::routing::post(resolve_credit),
        )
        .route(crate::payments::IPN_PATH, get(vnpay_ipn))
        .route("/api/v1/payments/{id}", get(get_order))
        .route("/api/v1/payments/{id}/receipt.pdf", get(receipt_pdf))
        .route("/api/v1/payments/{id}/notice.pdf", get(notice_pdf))
        .route("/api/v1/payments/{id}/query", axum::routing::post(query_gateway))
}

/// `GET /api/v1/dossiers/{code}/payments`: the payment orders of a dossier, oldest first.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/payments", tag = "payments",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = [OrderView]), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<Vec<OrderView>>, AppError> {
    Ok(Json(service::orders(&state, &p, &code).await?))
}

/// `POST /api/v1/dossiers/{code}/payments`: pays what the dossier owes (status 6). With
/// `vnpay` an order is opened (or the open one returned) and `pay_url` sends the
/// applicant to the gateway; with `cash` a counter officer records the money received,
/// which confirms the payment at once.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/payments", tag = "payments",
    params(("code" = String, Path, description = "Mã hồ sơ")), request_body = NewOrder,
    responses((status = 201, body = OrderView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<OrderView>), AppError> {
    let (order, created) = service::pay(&state, &p, &code, &req.method, &req.reference).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(order)))
}

/// `GET /api/v1/payments/{id}`: an order, as it stands now (query again at will: the
/// answer changes only when a notification settled it).
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "Mã lệnh thanh toán")),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    Ok(Json(service::order(&state, &p, &id).await?))
}

/// `GET /api/v1/payments/{id}/receipt.pdf`: the electronic receipt («Biên lai thu phí, lệ
/// phí») of a paid order, for whoever may see the dossier (the applicant who filed it
/// online, the staff concerned). Drawn once when the payment is confirmed and stored with
/// its SHA-256 among the dossier's documents; 404 while the order is not paid.
#[utoipa::path(get, path = "/api/v1/payments/{id}/receipt.pdf", tag = "payments",
    params(("id" = String, Path, description = "Mã lệnh thanh toán")),
    responses((status = 200, description = "Biên lai điện tử (PDF)", content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
pub async fn receipt_pdf(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let pdf = service::receipt(&state, &p, &id).await?;
    let name = format!("bien-lai-{id}.pdf");
    Ok(attachment(pdf, "application/pdf", "inline", &name))
}

/// `GET /api/v1/payments/{id}/notice.pdf`: the fee notice («Thông báo nộp phí, lệ phí») of
/// an open bank-transfer order, with its VietQR code and the same details written out,
/// for whoever may see the dossier; 404 once the order is settled or expired.
#[utoipa::path(get, path = "/api/v1/payments/{id}/notice.pdf", tag = "payments",
    params(("id" = String, Path, description = "Mã lệnh thanh toán")),
    responses((status = 200, description = "Thông báo nộp phí, lệ phí (PDF)", content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
pub async fn notice_pdf(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let pdf = service::transfer_notice(&state, &p, &id).await?;
    let name = format!("thong-bao-nop-phi-{id}.pdf");
    Ok(attachment(pdf, "application/pdf", "inline", &name))
}

/// `POST /api/v1/payments/{id}/query`: asks the gateway (VNPay `querydr`) how an online
/// order stands, for when its notification never came. When the gateway says it was
/// paid, for the exact amount, the payment is applied exactly as the IPN applies it (the
/// same checks; applying twice changes nothing). For the applicant and the staff who may
/// see the dossier.
#[utoipa::path(post, path = "/api/v1/payments/{id}/query", tag = "payments",
    params(("id" = String, Path, description = "Mã lệnh thanh toán")),
    responses((status = 200, body = QueryOutcome), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn query_gateway(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<QueryOutcome>, AppError> {
    Ok(Json(service::query(&state, &p, &id).await?))
}

/// `GET /api/v1/payments/vnpay/ipn`: VNPay's server-to-server notification (IPN), the
/// only message that settles an order. Answers VNPay's JSON (`RspCode`, `Message`) with
/// HTTP 200 whatever the outcome, as the gateway expects.
#[utoipa::path(get, path = "/api/v1/payments/vnpay/ipn", tag = "payments",
    params(("vnp_TxnRef" = String, Query, description = "Mã lệnh thanh toán; các tham số vnp_* khác theo VNPay 2.1.0")),
    responses((status = 200, body = IpnReply)), security(()))]
pub async fn vnpay_ipn(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> Json<IpnReply> {
    Json(service::vnpay_notification(&state, &ip, raw.as_deref()).await)
}

/// `GET /api/v1/payments/reconciliation`: the day's orders of a province or agency,
/// totals paid by method, and the notifications that did not add up (for the centre's
/// director, counter officers and the administrator).
#[utoipa::path(get, path = "/api/v1/payments/reconciliation", tag = "payments", params(ReconciliationQuery),
    responses((status = 200, body = Reconciliation),
        (status = 403, body = ErrorBody)))]
pub async fn reconciliation(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ReconciliationQuery>,
) -> Result<Json<Reconciliation>, AppError> {
    Ok(Json(service::reconciliation(&state, &p, &q).await?))
}

/// `GET /api/v1/payments/reconciliation.xlsx`: the same report as an Excel workbook: one
/// line per order, then one line per notification that did not add up.
#[utoipa::path(get, path = "/api/v1/payments/reconciliation.xlsx", tag = "payments", params(ReconciliationQuery),
    responses((status = 200, description = "Bảng đối soát (XLSX)",
        content_type = XLSX), (status = 403, body = ErrorBody)))]
pub async fn reconciliation_xlsx(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ReconciliationQuery>,
) -> Result<Response, AppError> {
    let (date, bytes) = service::reconciliation_workbook(&state, &p, &q).await?;
    let name = format!("doi-soat-thanh-toan-{date}.xlsx");
    Ok(super::reports::attachment(bytes, &name))
}

/// `POST /api/v1/payments/statements`: imports a bank statement of a collecting account —
/// an ISO 20022 camt.053 file, or a bank's CSV export (with `account` when the file does
/// not name it). Each credit whose description carries a transfer order's reference and
/// whose amount is the order's settles it, as a gateway notification would; every other
/// credit is listed for an officer. A credit already imported (same account and bank
/// reference, from this file or another) changes nothing. For staff who may collect for
/// the account's agencies.
#[utoipa::path(post, path = "/api/v1/payments/statements", tag = "payments", params(ImportQuery),
    request_body(content = String, description = "camt.053 (XML) or CSV statement", content_type = "application/xml"),
    responses((status = 200, body = ImportReport),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_statement(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, AppError> {
    Ok(Json(
        service::import_statement(&state, &p, &body, q.account.as_deref()).await?,
    ))
}

/// `GET /api/v1/payments/statement-credits`: the statement credits of a province listed
/// for an officer and not yet resolved, oldest first.
#[utoipa::path(get, path = "/api/v1/payments/statement-credits", tag = "payments", params(OpenCredits),
    responses((status = 200, body = [CreditView]), (status = 403, body = ErrorBody)))]
pub async fn statement_credits(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<OpenCredits>,
) -> Result<Json<Vec<CreditView>>, AppError> {
    Ok(Json(service::open_credits(&state, &p, &q).await?))
}

/// `POST /api/v1/payments/statement-credits/{id}/resolve`: records what an officer did
/// about a listed credit (refund, matched by hand…); audited. 409 when it settled an
/// order or was resolved already.
#[utoipa::path(post, path = "/api/v1/payments/statement-credits/{id}/resolve", tag = "payments",
    params(("id" = i64, Path, description = "Số của khoản ghi có")), request_body = Resolution,
    responses((status = 200, body = CreditView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resolve_credit(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<Resolution>,
) -> Result<Json<CreditView>, AppError> {
    Ok(Json(service::resolve_credit(&state, &p, id, &r.resolution).await?))
}
