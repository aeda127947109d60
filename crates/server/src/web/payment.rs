//! Pages of the payment area: a dossier's payments (pay online, record cash at the
//! counter), and the built-in sandbox gateway.
//!
//! The sandbox speaks VNPay 2.1.0 from the gateway's side with the configured terminal
//! code and secret: it checks the signature of the payment request, lets the person
//! choose what happens (approve, decline, time out, or approve and send the IPN twice),
//! then signs its IPN call to this server and the browser's return, as VNPay does. So
//! the demo and the tests go through the real protocol code. It exists only when
//! `sandbox_gateway` is on and no real `vnpay_url` is configured.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use motcua_core::dossier::{Action, Status};
use motcua_core::lifecycle;
use motcua_core::money::Vnd;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Frame, SignedIn, Viewer, page};
use crate::error::AppError;
use crate::payments::vnpay::{self, Message, Vnpay};
use crate::service::payments::{self as service, OrderView};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/thanh-toan/ho-so/{code}", get(dossier_payments))
        .route("/thanh-toan/lenh/{id}", get(go_pay))
        .route(STATEMENTS_PATH, get(statements_page).post(import_statement))
        .route(crate::payments::RETURN_PATH, get(gateway_return))
        .route(crate::payments::SANDBOX_PAY_PATH, get(sandbox_page))
        .route("/sandbox/vnpay/pay", post(sandbox_decide))
        .route(crate::payments::SANDBOX_API_PATH, post(sandbox_query))
}

#[derive(Template)]
#[template(path = "payment/dossier.html")]
struct DossierPayments {
    frame: Frame,
    code: String,
    procedure_name: String,
    status_label: String,
    due: String,
    can_pay_online: bool,
    can_pay_transfer: bool,
    can_take_cash: bool,
    orders: Vec<OrderView>,
    /// The open transfer orders, with their VietQR codes.
    transfers: Vec<TransferBox>,
    /// Fee items waived at intake: name, amount, reason.
    exemptions: Vec<(String, String, String)>,
}

/// An open transfer order as the page shows it: the QR code and the details beside it.
struct TransferBox {
    order_id: String,
    amount: String,
    qr_svg: String,
    t: service::TransferView,
}

/// `GET /thanh-toan/ho-so/{code}`: what the dossier owes, its payment orders, the button
/// to pay online (the applicant, or anyone who may see it) and the cash form (counter).
pub async fn dossier_payments(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let (stored, _) = crate::service::dossiers::load_visible(&state, &p, &code).await?;
    let mut orders = service::orders_of(&state, &stored, &p.ip).await?;
    let transfers = orders
        .iter_mut()
        .filter_map(|o| {
            let t = o.transfer.take()?;
            let qr_svg = motcua_pdf::qr_svg(&t.payload)
                .map_err(|e| tracing::warn!(order = o.id.as_str(), error = %e, "VietQR not drawn"))
                .ok()?;
            Some(TransferBox {
                order_id: o.id.clone(),
                amount: Vnd(o.amount).to_string(),
                qr_svg,
                t,
            })
        })
        .collect::<Vec<_>>();
    let d = &stored.dossier;
    let owes = d.status == Status::AwaitingPayment && d.payment_due.is_some();
    let can_take_cash = owes
        && lifecycle::authorize(
            d,
            Action::ConfirmPayment,
            &p.access,
            crate::service::dossiers::user_id(&p),
        )
        .is_ok();
    Ok(page(&DossierPayments {
        frame: Frame::new(&state, Some(&p)).await?,
        code: d.code.as_str().to_owned(),
        procedure_name: d.procedure_name.clone(),
        status_label: crate::service::rules::now(&state).await?.label(d.status),
        due: d
            .payment_due
            .filter(|_| owes)
            .map(|a| a.to_string())
            .unwrap_or_default(),
        can_pay_online: owes && crate::payments::vnpay(&state.config).is_some(),
        can_pay_transfer: owes
            && transfers.is_empty()
            && state.config.bank_account(d.receiving_agency.as_str()).is_some(),
        can_take_cash,
        orders,
        transfers,
        exemptions: d
            .exemptions
            .iter()
            .map(|e| (e.name.clone(), e.amount.to_string(), e.reason.clone()))
            .collect(),
    }))
}

/// `GET /thanh-toan/lenh/{id}`: sends the browser to the gateway for an open online
/// order (where the «pay» form goes once the order exists), else back to the dossier's
/// payments.
pub async fn go_pay(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let order = service::order(&state, &p, &id).await?;
    let to = order
        .pay_url
        .unwrap_or_else(|| format!("/thanh-toan/ho-so/{}", order.dossier_code));
    Ok(Redirect::to(&to).into_response())
}

#[derive(Template, Default)]
#[template(path = "payment/result.html")]
struct ResultPage {
    frame: Frame,
    verified: bool,
    order_id: String,
    dossier_code: String,
    amount: String,
    state: String,
    state_label: String,
    gateway_says_paid: bool,
    response_code: String,
    gateway_txn: String,
    dossier_link: String,
}

/// `GET /api/v1/payments/vnpay/return` (the address VNPay is given): where the gateway
/// sends the applicant's browser back. Checks the signature and shows the order as the
/// notification left it (400 when the signature does not verify); it changes nothing.
pub async fn gateway_return(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let frame = Frame::new(&state, viewer.0.as_ref()).await?;
    let now = state.clock.now();
    let page_of = match service::browser_return(&state, raw.as_deref()).await {
        Some((n, o)) => ResultPage {
            frame,
            verified: true,
            order_id: o.id.clone(),
            dossier_code: o.dossier_code.clone(),
            amount: Vnd(service::amount_of(&o)).to_string(),
            state: service::effective_state(&o, now).to_owned(),
            state_label: service::state_label(service::effective_state(&o, now)).to_owned(),
            gateway_says_paid: n.success,
            response_code: n.response_code.clone(),
            gateway_txn: n.gateway_txn.clone(),
            dossier_link: format!("/thanh-toan/ho-so/{}", o.dossier_code),
        },
        None => ResultPage {
            frame,
            ..ResultPage::default()
        },
    };
    Ok(page_or_400(page_of.verified, &page_of))
}

/// `p`, answered with 400 when what it was asked to show did not check out (`ok` false).
fn page_or_400(ok: bool, p: &impl Template) -> Response {
    let status = if ok { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    (status, page(p)).into_response()
}

/// The sandbox terminal, or 404 when the sandbox is off.
fn sandbox(state: &AppState) -> Result<Vnpay, PageError> {
    let off = || {
        PageError::from(AppError::NotFound(
            "Cổng thanh toán thử nghiệm không được bật.".to_owned(),
        ))
    };
    if !state.config.sandbox_gateway_enabled() || !state.config.vnpay_url.trim().is_empty() {
        return Err(off());
    }
    crate::payments::vnpay(&state.config).ok_or_else(off)
}

/// Reads and checks a payment request as VNPay does: parsed once (a repeated or variant
/// `vnp_` name is refused, as for the messages motcua receives), the terminal's signature,
/// our terminal, the command and version, a whole amount, not expired.
fn check_request(g: &Vnpay, raw: &str, now: OffsetDateTime) -> Result<Message, String> {
    let message =
        Message::parse_query(raw).map_err(|e| format!("Yêu cầu thanh toán không hợp lệ (mã lỗi 03): {e}."))?;
    if !message.signed_with(&g.secret) {
        // VNPay's own page says «Sai chữ ký» (code 70).
        return Err("Sai chữ ký (mã lỗi 70): yêu cầu thanh toán không hợp lệ.".to_owned());
    }
    if message.get("vnp_TmnCode") != g.tmn_code {
        return Err("Mã website (vnp_TmnCode) không tồn tại.".to_owned());
    }
    if message.get("vnp_Command") != "pay" || message.get("vnp_Version") != vnpay::VERSION {
        return Err("Yêu cầu không đúng phiên bản 2.1.0, lệnh pay.".to_owned());
    }
    match message.get("vnp_Amount").parse::<u64>() {
        Ok(a) if a > 0 && a.is_multiple_of(100) => {}
        _ => return Err("Số tiền không hợp lệ.".to_owned()),
    }
    let expire = message.get("vnp_ExpireDate");
    if !expire.is_empty() && expire < vnpay::timestamp(now).as_str() {
        return Err("Giao dịch đã quá thời gian chờ thanh toán (mã lỗi 11).".to_owned());
    }
    Ok(message)
}

#[derive(Template)]
#[template(path = "payment/sandbox.html")]
struct SandboxPage {
    frame: Frame,
    error: String,
    request: String,
    amount: String,
    order_id: String,
    order_info: String,
    tmn_code: String,
}

/// `GET /sandbox/vnpay/paymentv2/vpcpay.html?…`: the sandbox's payment page.
pub async fn sandbox_page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let g = sandbox(&state)?;
    let raw = raw.unwrap_or_default();
    let (message, error) = match check_request(&g, &raw, state.clock.now()) {
        Ok(m) => (Some(m), String::new()),
        Err(e) => (None, e),
    };
    // Only a request that checked out is shown.
    let field = |name: &str| message.as_ref().map_or("", |m| m.get(name)).to_owned();
    let amount = field("vnp_Amount").parse::<u64>().unwrap_or_default() / 100;
    let page_data = SandboxPage {
        frame: Frame::new(&state, viewer.0.as_ref()).await?,
        error,
        request: raw.clone(),
        amount: Vnd(amount).to_string(),
        order_id: field("vnp_TxnRef"),
        order_info: field("vnp_OrderInfo"),
        tmn_code: field("vnp_TmnCode"),
    };
    Ok(page_or_400(page_data.error.is_empty(), &page_data))
}

/// The sandbox form: the original request and what should happen.
#[derive(Debug, Deserialize)]
pub struct Decision {
    /// The payment request's query string, as received.
    request: String,
    /// `approve`, `decline`, `timeout`, `approve_twice`, or `approve_no_ipn` and
    /// `decline_no_ipn` (the IPN is lost: only a re-query tells the merchant).
    outcome: String,
}

/// A transaction number for the sandbox: unique in practice (time and randomness).
fn sandbox_txn() -> String {
    let id = crate::auth::random_id();
    let n = u64::from_str_radix(&id[..12], 16).unwrap_or_default() % 100_000_000;
    format!("{:08}", n + 10_000_000 * u64::from(n < 10_000_000))
}

/// `POST /sandbox/vnpay/pay`: carries out the choice: signs the result, calls the IPN
/// (zero, one or two times) and sends the browser back to the merchant's return URL.
pub async fn sandbox_decide(State(state): State<AppState>, Form(d): Form<Decision>) -> Result<Response, PageError> {
    let g = sandbox(&state)?;
    let now = state.clock.now();
    let message = check_request(&g, &d.request, now).map_err(|m| AppError::bad("invalid_request", "request", m))?;
    let param = |name: &str| message.get(name);
    let (response, status, ipn_calls) = match d.outcome.as_str() {
        "approve" => ("00", "00", 1),
        "approve_twice" => ("00", "00", 2),
        "approve_no_ipn" => ("00", "00", 0),
        "decline_no_ipn" => ("24", "02", 0),
        // 24: the customer cancelled the transaction.
        "decline" => ("24", "02", 1),
        // 11: the wait for payment ran out; VNPay then sends no IPN for a pay request.
        "timeout" => ("11", "02", 0),
        _ => {
            return Err(AppError::bad("invalid_field", "outcome", "Lựa chọn không hợp lệ.").into());
        }
    };
    let txn = sandbox_txn();
    let pay_date = vnpay::timestamp(now);
    let result: Vec<(&str, &str)> = vec![
        ("vnp_Amount", param("vnp_Amount")),
        ("vnp_BankCode", "NCB"),
        ("vnp_BankTranNo", if response == "00" { "VNP" } else { "" }),
        ("vnp_CardType", "ATM"),
        ("vnp_OrderInfo", param("vnp_OrderInfo")),
        ("vnp_PayDate", &pay_date),
        ("vnp_ResponseCode", response),
        ("vnp_TmnCode", &g.tmn_code),
        ("vnp_TransactionNo", if response == "11" { "0" } else { &txn }),
        ("vnp_TransactionStatus", status),
        ("vnp_TxnRef", param("vnp_TxnRef")),
    ];
    let query = vnpay::signed_query(&g.secret, &result);
    if response != "11" {
        // What a later re-query (`querydr`) finds.
        crate::payments::sandbox::record(
            &g.tmn_code,
            param("vnp_TxnRef"),
            crate::payments::sandbox::Transaction {
                amount: param("vnp_Amount").to_owned(),
                transaction_no: txn.clone(),
                bank_code: "NCB".to_owned(),
                pay_date: pay_date.clone(),
                status: status.to_owned(),
                order_info: param("vnp_OrderInfo").to_owned(),
            },
        );
    }
    let ipn = ipn_url(&state);
    for _ in 0..ipn_calls {
        match reqwest::Client::new().get(format!("{ipn}?{query}")).send().await {
            Ok(r) => {
                let answer = r.text().await.unwrap_or_default();
                tracing::info!(
                    order = param("vnp_TxnRef"),
                    answer = answer.as_str(),
                    "sandbox IPN sent"
                );
            }
            Err(e) => tracing::warn!(error = %e, "sandbox IPN failed"),
        }
    }
    let back = param("vnp_ReturnUrl");
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("{back}{sep}{query}"))],
    )
        .into_response())
}

/// `POST /sandbox/vnpay/merchant_webapi/api/transaction`: the sandbox's merchant API,
/// answering `querydr` as VNPay does (JSON in, signed JSON out).
pub async fn sandbox_query(
    State(state): State<AppState>,
    axum::Json(request): axum::Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response, PageError> {
    let g = sandbox(&state)?;
    let answer = crate::payments::sandbox::answer_query(&g, &request, &crate::auth::random_id()[..16]);
    Ok(axum::Json(answer).into_response())
}

/// Where the sandbox sends its IPN: `vnpay_ipn_url`, or this server at its own listening
/// address (never an address taken from the request: a `Host` header is the caller's to
/// choose).
fn ipn_url(state: &AppState) -> String {
    let configured = state.config.vnpay_ipn_url.trim();
    if !configured.is_empty() {
        return configured.to_owned();
    }
    format!("http://{}{}", state.config.own_address(), crate::payments::IPN_PATH)
}

/// The page where staff import the collecting account's bank statements.
const STATEMENTS_PATH: &str = "/thanh-toan/sao-ke";

#[derive(Template)]
#[template(path = "payment/statements.html")]
struct StatementsPage {
    frame: Frame,
    /// The report of the import just made, if any.
    report: Option<service::ImportReport>,
    /// Why the file was refused, if it was.
    error: String,
    /// Credits listed for an officer, not yet resolved.
    open: Vec<service::CreditView>,
}

async fn statements_view(
    state: &AppState,
    p: &crate::auth::Principal,
    report: Option<service::ImportReport>,
    error: String,
) -> Result<StatementsPage, PageError> {
    let open = service::open_credits(state, p, &service::OpenCredits::default()).await?;
    Ok(StatementsPage {
        frame: Frame::new(state, Some(p)).await?,
        report,
        error,
        open,
    })
}

/// `GET /thanh-toan/sao-ke`: the import form and the credits waiting for an officer (staff
/// who reconcile payments).
pub async fn statements_page(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    Ok(page(&statements_view(&state, &p, None, String::new()).await?))
}

/// `POST /thanh-toan/sao-ke`: a statement file (`file`, multipart) and, for a CSV export
/// that does not name it, the credited `account`; imported through the service the API
/// uses, and the page shows what it came to.
pub async fn import_statement(
    State(state): State<AppState>,
    mut parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let form = crate::web::form::parse(&parts.headers, &body)?;
    let p = match crate::web::form::principal(&state, &mut parts, &form).await {
        Ok(p) => p,
        Err(e) => return Ok(crate::web::form::failed(e, STATEMENTS_PATH)),
    };
    let Some(file) = form.files.iter().find(|f| f.field == "file" && !f.bytes.is_empty()) else {
        let v = statements_view(&state, &p, None, "Hãy chọn tệp sao kê (camt.053 hoặc CSV).".to_owned()).await?;
        return Ok(page_or_400(false, &v));
    };
    match service::import_statement(&state, &p, &file.bytes, form.get("account")).await {
        Ok(report) => Ok(page(&statements_view(&state, &p, Some(report), String::new()).await?)),
        Err(AppError::BadRequest { message, .. }) => {
            let v = statements_view(&state, &p, None, message).await?;
            Ok(page_or_400(false, &v))
        }
        Err(e) => Err(e.into()),
    }
}
