//! Payment of a dossier's fees (docs/rules.md §5): orders, the VNPay browser return and
//! notification (IPN), cash at the counter, re-queries, receipts and the daily
//! reconciliation.
//!
//! Only an IPN whose signature verifies, for the exact amount of an open, unexpired
//! order, marks it paid; the browser return only shows what is known. Paying moves the
//! dossier on with `ConfirmPayment` through [`crate::service::dossiers::transition`], the path
//! every API action takes (history, audit record and outbox event in the same
//! transaction), with the gateway as the actor. The order's state moves once, out of
//! `pending`, by a conditional update, and a gateway transaction number can settle one
//! order only: duplicate, late or replayed notifications change nothing twice.

use motcua_core::access::Role;
use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::{Action, Status};
use motcua_core::lifecycle::{self, ActionInput, Context, Dossier, Person};
use motcua_core::money::Vnd;
use motcua_docs::dossier_xlsx::{Cell, Column, SheetWriter};
use motcua_store::StoreError;
use motcua_store::batch::{BatchTx, JobFuture};
use motcua_store::dossiers::{self, Stored};
use motcua_store::payments::{self, EXPIRED, FAILED, Notification, Order, PAID, PENDING, Settlement};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime, Time};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Actor, Event, OwnedActor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::payments::{Gateway, Notice, PayRequest, Untrusted};
use crate::state::AppState;

mod statements;
pub use statements::{
    CreditView, ImportQuery, ImportReport, OpenCredits, Resolution, import_statement, open_credits, outcome_label,
    resolve_credit,
};

/// `vnpay`, `cash` or `transfer`.
const CASH: &str = "cash";
/// Paid by bank transfer to the collecting agency's account (VietQR, NAPAS 247).
pub const TRANSFER: &str = payments::TRANSFER;
/// Days a transfer order stays open: a transfer needs no gateway session, and people pay
/// when they can (NAPAS 247 runs every day, at any hour).
const TRANSFER_ORDER_DAYS: i64 = 30;

/// How to pay an open transfer order: what its VietQR code carries, and the same written
/// out for whoever types it in.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    /// The collecting bank's BIN (six digits).
    pub bin: String,
    /// The bank's name.
    pub bank: String,
    /// The collecting agency's account number.
    pub account: String,
    /// The account holder.
    pub account_name: String,
    /// The amount in words («Một trăm năm mươi nghìn đồng»).
    pub amount_in_words: String,
    /// What the transfer's description must say (the order's reference).
    pub reference: String,
    /// The VietQR payload (EMVCo merchant-presented, NAPAS `QRIBFTTA`), as the QR code carries it.
    pub payload: String,
    /// The fee notice with the QR code (PDF).
    pub notice_url: String,
}

/// How to pay transfer order `o` into `account`; `None` when the payload cannot carry it.
fn transfer_view(o: &Order, account: &crate::config::BankAccount) -> Option<TransferView> {
    let payload = motcua_core::vietqr::payload(&motcua_core::vietqr::Transfer {
        bin: &account.bin,
        account: &account.account,
        amount: Vnd(amount_of(o)),
        reference: &o.id,
    })
    .map_err(|e| tracing::warn!(order = o.id.as_str(), error = %e, "no VietQR for this order"))
    .ok()?;
    Some(TransferView {
        bin: account.bin.clone(),
        bank: account.bank.clone(),
        account: account.account.clone(),
        account_name: account.name.clone(),
        amount_in_words: Vnd(amount_of(o)).in_words(),
        reference: o.id.clone(),
        payload,
        notice_url: format!("/api/v1/payments/{}/notice.pdf", o.id),
    })
}

/// A payment order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    /// The order's reference (VNPay's `vnp_TxnRef`).
    pub id: String,
    /// The dossier.
    pub dossier_code: String,
    /// The collecting agency (the dossier's receiving agency).
    pub agency_code: String,
    /// `vnpay` or `cash`.
    pub method: String,
    /// Amount, whole đồng.
    pub amount: u64,
    /// `pending`, `paid`, `failed` or `expired` (a pending order past its time shows as expired).
    pub state: String,
    /// The state in Vietnamese.
    pub state_label: String,
    /// When it was created (RFC 3339, Vietnam time).
    pub created_at: String,
    /// When it can no longer be paid.
    pub expires_at: String,
    /// The gateway's transaction number, or the cash receipt number.
    pub gateway_txn: Option<String>,
    /// The bank, as the gateway reported it.
    pub bank_code: Option<String>,
    /// The gateway's response code.
    pub response_code: Option<String>,
    /// When it was settled.
    pub settled_at: Option<String>,
    /// Note (e.g. why a payment could not move the dossier on).
    pub note: String,
    /// Where to send the applicant to pay (open online orders only).
    pub pay_url: Option<String>,
    /// The electronic receipt (PDF), once paid.
    pub receipt_url: Option<String>,
    /// How to pay by bank transfer (open transfer orders only).
    pub transfer: Option<TransferView>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The state to show: a pending order past its time can no longer be paid.
pub fn effective_state(o: &Order, now: OffsetDateTime) -> &str {
    if o.state == PENDING && now >= o.expires_at {
        EXPIRED
    } else {
        &o.state
    }
}

/// The Vietnamese name of an order state.
pub fn state_label(state: &str) -> &'static str {
    match state {
        PENDING => "Chờ thanh toán",
        PAID => "Đã thanh toán",
        FAILED => "Không thành công",
        EXPIRED => "Hết hạn",
        _ => "Không rõ",
    }
}

pub fn amount_of(o: &Order) -> u64 {
    u64::try_from(o.amount).unwrap_or_default()
}

fn order_view(state: &AppState, o: &Order, ip: &str) -> OrderView {
    let now = state.clock.now();
    let shown = effective_state(o, now).to_owned();
    let pay_url = (shown == PENDING && o.method != CASH && o.method != TRANSFER)
        .then(|| crate::payments::vnpay(&state.config))
        .flatten()
        .map(|g| g.pay_url(&pay_request(o, ip)));
    let transfer = (shown == PENDING && o.method == TRANSFER)
        .then(|| state.config.bank_account(&o.agency_code))
        .flatten()
        .and_then(|a| transfer_view(o, &a));
    OrderView {
        id: o.id.clone(),
        dossier_code: o.dossier_code.clone(),
        agency_code: o.agency_code.clone(),
        method: o.method.clone(),
        amount: amount_of(o),
        state_label: state_label(&shown).to_owned(),
        state: shown,
        created_at: rfc3339(o.created_at),
        expires_at: rfc3339(o.expires_at),
        gateway_txn: o.gateway_txn.clone(),
        bank_code: o.bank_code.clone(),
        response_code: o.response_code.clone(),
        settled_at: o.settled_at.map(rfc3339),
        note: o.note.clone(),
        pay_url,
        receipt_url: (o.state == PAID).then(|| format!("/api/v1/payments/{}/receipt.pdf", o.id)),
        transfer,
    }
}

fn pay_request<'a>(o: &'a Order, ip: &'a str) -> PayRequest<'a> {
    PayRequest {
        order_id: &o.id,
        amount: amount_of(o),
        description: "Thanh toan phi le phi ho so",
        ip: if ip.is_empty() || ip == "unknown" {
            "127.0.0.1"
        } else {
            ip
        },
        created_at: o.created_at,
        expires_at: o.expires_at,
    }
}

/// A new order's reference: 16 hexadecimal digits, upper case (VNPay accepts
/// alphanumerics; random, so references say nothing about other orders). A transfer
/// order's starts with `MC` (14 digits follow), which is how its reference is found in the
/// free text a bank statement gives a transfer's description.
fn new_order_id(method: &str) -> String {
    let id = crate::auth::random_id().to_ascii_uppercase();
    if method == TRANSFER {
        format!("MC{}", &id[..14])
    } else {
        id[..16].to_owned()
    }
}

/// What to pay with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// `vnpay` (online, the applicant is sent to the gateway), `transfer` (a bank transfer
    /// to the collecting agency's account: the order carries its VietQR code) or `cash` (at
    /// the counter: recorded and confirmed at once by the officer).
    pub method: String,
    /// The receipt number (cash only, required there).
    #[serde(default)]
    pub reference: String,
}

/// The payment orders of a dossier the caller may see, oldest first.
pub async fn orders_of(state: &AppState, stored: &Stored, ip: &str) -> Result<Vec<OrderView>, AppError> {
    let mut tx = state.db.begin_read().await?;
    let orders = payments::of_dossier(&mut tx, stored.id).await?;
    Ok(orders.iter().map(|o| order_view(state, o, ip)).collect())
}

/// The payment orders of dossier `code`, oldest first, for whoever may see it.
pub async fn orders(state: &AppState, p: &Principal, code: &str) -> Result<Vec<OrderView>, AppError> {
    let (stored, _) = crate::service::dossiers::load_visible(state, p, code).await?;
    orders_of(state, &stored, &p.ip).await
}

/// Pays what dossier `code` owes (status 6). With `vnpay` an order is opened (or the open
/// one returned: `false` says it was not created now) and its `pay_url` sends the
/// applicant to the gateway; with `cash` a counter officer records the money received
/// (`reference`: the receipt's number), which confirms the payment at once.
pub async fn pay(
    state: &AppState,
    p: &Principal,
    code: &str,
    method: &str,
    reference: &str,
) -> Result<(OrderView, bool), AppError> {
    let (stored, _) = crate::service::dossiers::load_visible(state, p, code).await?;
    let due = owed(&stored.dossier)?;
    match method {
        "vnpay" => {
            let gateway = crate::payments::vnpay(&state.config).ok_or_else(|| {
                AppError::Refused("Chưa cấu hình cổng thanh toán trực tuyến; xin nộp tại quầy tiếp nhận.".to_owned())
            })?;
            let ttl = time::Duration::minutes(i64::try_from(state.config.payment_order_ttl_minutes).unwrap_or(15));
            create_open(state, p, &stored, due, gateway.method(), ttl).await
        }
        TRANSFER => {
            if state
                .config
                .bank_account(stored.dossier.receiving_agency.as_str())
                .is_none()
            {
                return Err(AppError::Refused(
                    "Cơ quan thu chưa đăng ký tài khoản nhận chuyển khoản; xin chọn hình thức khác.".to_owned(),
                ));
            }
            create_open(
                state,
                p,
                &stored,
                due,
                TRANSFER,
                time::Duration::days(TRANSFER_ORDER_DAYS),
            )
            .await
        }
        CASH => create_cash(state, p, &stored, due, reference).await,
        _ => Err(AppError::bad(
            "invalid_field",
            "method",
            "Hình thức thanh toán phải là vnpay (trực tuyến), transfer (chuyển khoản) hoặc cash (tiền mặt tại quầy).",
        )),
    }
}

/// What the dossier owes now, or why nothing can be paid.
fn owed(d: &Dossier) -> Result<Vnd, AppError> {
    match (d.status, d.payment_due) {
        (Status::AwaitingPayment, Some(due)) if due.0 > 0 => Ok(due),
        _ => Err(AppError::Refused(format!(
            "Hồ sơ {} không có khoản phí, lệ phí đang chờ nộp.",
            d.code
        ))),
    }
}

/// A new pending order of `amount` by `method` for `stored`'s dossier, made by `p`.
fn new_order(
    p: &Principal,
    stored: &Stored,
    method: &str,
    amount: i64,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Order {
    let d = &stored.dossier;
    Order {
        id: new_order_id(method),
        dossier_id: stored.id,
        dossier_code: d.code.as_str().to_owned(),
        province_code: d.province.as_str().to_owned(),
        agency_code: d.receiving_agency.as_str().to_owned(),
        method: method.to_owned(),
        amount,
        state: PENDING.to_owned(),
        created_by: p.actor(),
        created_at: now,
        expires_at,
        gateway_txn: None,
        bank_code: None,
        response_code: None,
        settled_at: None,
        settled_by: None,
        note: String::new(),
    }
}

/// Opens a pending order by `method` (online or transfer) living `ttl`, or returns the open
/// one of the same method and amount (`false`: not created now).
async fn create_open(
    state: &AppState,
    p: &Principal,
    stored: &Stored,
    due: Vnd,
    method: &str,
    ttl: time::Duration,
) -> Result<(OrderView, bool), AppError> {
    let d = &stored.dossier;
    let now = state.clock.now();
    let amount = i64::try_from(due.0).map_err(|_| AppError::Refused("Số tiền không hợp lệ.".to_owned()))?;
    let order = new_order(p, stored, method, amount, now, now + ttl);
    let actor = OwnedActor::of(p);
    let province = d.province.as_str().to_owned();
    let code = d.code.as_str().to_owned();
    let dossier_id = stored.id;
    let (order, made) = state
        .writes
        .submit(
            move |b: &mut BatchTx| -> JobFuture<'_, Result<(Order, bool), AppError>> {
                Box::pin(async move {
                    // An open order for the same amount is reused: clicking «pay» twice opens one order.
                    let open = payments::of_dossier(b.tx().await?, dossier_id)
                        .await?
                        .into_iter()
                        .find(|o| o.method == order.method && o.amount == amount && effective_state(o, now) == PENDING);
                    if let Some(o) = open {
                        return Ok((o, false));
                    }
                    payments::insert(b.tx().await?, &order).await?;
                    audit::record_in_batch(
                        b,
                        &actor.actor(),
                        Event {
                            action: "payment.create",
                            object_type: "payment",
                            object_id: &order.id,
                            province: Some(&province),
                            before: None,
                            after: Some(json!({"dossier": code, "method": order.method, "amount": order.amount})),
                        },
                    )
                    .await?;
                    Ok((order, true))
                })
            },
        )
        .await?;
    Ok((order_view(state, &order, &p.ip), made))
}

async fn create_cash(
    state: &AppState,
    p: &Principal,
    stored: &Stored,
    due: Vnd,
    reference: &str,
) -> Result<(OrderView, bool), AppError> {
    let d = &stored.dossier;
    let acting = lifecycle::authorize(
        d,
        Action::ConfirmPayment,
        &p.access,
        crate::service::dossiers::user_id(p),
    )
    .map_err(|r| AppError::Refused(r.0))?;
    let reference = lifecycle::required_text("reference", reference).map_err(AppError::Invalid)?;
    let calendar = crate::service::calendar::calendar(state, &d.province).await?;
    let now = state.clock.now();
    let amount = i64::try_from(due.0).map_err(|_| AppError::Refused("Số tiền không hợp lệ.".to_owned()))?;
    let order = new_order(p, stored, CASH, amount, now, now);
    let code = d.code.clone();
    let rules = crate::service::dossiers::delay_rules(state);
    let actor = crate::service::dossiers::person_of(p);
    let by = p.actor();
    let ip = p.ip.clone();
    let agency = acting.agency;
    // One job of the group commit: the order, its settlement and the dossier's transition.
    let (dossier, order) = state
        .writes
        .submit(
            move |b: &mut BatchTx| -> JobFuture<'_, Result<(Dossier, Order), AppError>> {
                Box::pin(async move {
                    let tx = b.tx().await?;
                    payments::insert(tx, &order).await?;
                    let settled = payments::settle(
                        tx,
                        &order.id,
                        &Settlement {
                            state: PAID,
                            gateway_txn: Some(&reference),
                            bank_code: None,
                            response_code: None,
                            at: now,
                            by: &by,
                            note: "",
                        },
                    )
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => AppError::bad(
                            "duplicate_receipt",
                            "reference",
                            format!("Số biên lai {reference} đã được dùng cho một khoản nộp khác."),
                        ),
                        other => other.into(),
                    })?;
                    debug_assert!(settled);
                    let Stored { id, mut dossier } = dossiers::by_code(tx, &code)
                        .await?
                        .ok_or_else(|| AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")))?;
                    let ctx = Context {
                        now,
                        calendar: &calendar,
                        rules,
                        actor,
                        agency,
                    };
                    let input = ActionInput::ConfirmPayment {
                        amount: due,
                        reference: format!("Biên lai {reference} (tiền mặt, lệnh {})", order.id),
                    };
                    crate::service::dossiers::transition(b, id, &mut dossier, input, &ctx, &ip).await?;
                    let order = payments::by_id(b.tx().await?, &order.id)
                        .await?
                        .ok_or_else(|| AppError::Internal("order vanished".to_owned()))?;
                    Ok((dossier, order))
                })
            },
        )
        .await?;
    state.tracking_cache.forget(dossier.code.as_str());
    crate::forms::issue_after(state, &dossier);
    crate::forms::issue_payment_receipt_after(state, &order.id);
    Ok((order_view(state, &order, &p.ip), true))
}

/// Order `id` as it stands now, for whoever may see its dossier (someone else's order is
/// indistinguishable from no order).
pub async fn order(state: &AppState, p: &Principal, id: &str) -> Result<OrderView, AppError> {
    let (order, _) = visible_order(state, p, id).await?;
    Ok(order_view(state, &order, &p.ip))
}

/// The order `id` if the caller may see its dossier; someone else's order is
/// indistinguishable from no order (404).
async fn visible_order(state: &AppState, p: &Principal, id: &str) -> Result<(Order, Stored), AppError> {
    let not_found = || AppError::NotFound(format!("Không tìm thấy lệnh thanh toán {id}."));
    let order = {
        let mut tx = state.db.begin_read().await?;
        payments::by_id(&mut tx, id).await?.ok_or_else(not_found)?
    };
    let (stored, _) = crate::service::dossiers::load_visible(state, p, &order.dossier_code)
        .await
        .map_err(|_| not_found())?;
    Ok((order, stored))
}

/// The electronic receipt («Biên lai thu phí, lệ phí», PDF) of paid order `id`, for whoever
/// may see the dossier; not found while the order is not paid. Anyone's download but the
/// applicant's own is audited: the receipt names the applicant.
pub async fn receipt(state: &AppState, p: &Principal, id: &str) -> Result<Vec<u8>, AppError> {
    let (order, stored) = visible_order(state, p, id).await?;
    if order.state != PAID {
        return Err(AppError::NotFound(format!(
            "Lệnh thanh toán {id} chưa được thanh toán nên chưa có biên lai."
        )));
    }
    let pdf = crate::forms::payment_receipt(state, &order.id).await?;
    let d = &stored.dossier;
    if !crate::service::dossiers::reads_own(p, d) {
        // The receipt names the applicant: staff (and API token) downloads are audited like views.
        let event = Event {
            action: "payment.receipt",
            object_type: "payment",
            object_id: &order.id,
            province: Some(d.province.as_str()),
            before: None,
            after: Some(json!({"dossier": d.code.as_str()})),
        };
        audit::record_alone(state, p, event).await?;
    }
    Ok(pdf)
}

/// The fee notice («Thông báo nộp phí, lệ phí», PDF) of open transfer order `id`, with its
/// VietQR code, for whoever may see the dossier; not found once the order is settled or
/// expired (a new order carries a new code).
pub async fn transfer_notice(state: &AppState, p: &Principal, id: &str) -> Result<Vec<u8>, AppError> {
    let (order, stored) = visible_order(state, p, id).await?;
    let gone = || AppError::NotFound(format!("Lệnh {id} không phải lệnh chuyển khoản đang chờ thanh toán."));
    if order.method != TRANSFER || effective_state(&order, state.clock.now()) != PENDING {
        return Err(gone());
    }
    let view = order_view(state, &order, &p.ip).transfer.ok_or_else(gone)?;
    crate::forms::payment_notice(state, &order, &stored.dossier, &view).await
}

/// The answer to `POST /api/v1/payments/{id}/query`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueryOutcome {
    /// The order as it stands after the query.
    pub order: OrderView,
    /// Whether the gateway was asked (not for cash or orders already settled).
    pub asked: bool,
    /// The gateway's `vnp_ResponseCode` for the query (`00` found, `91` no such transaction).
    pub response_code: String,
    /// The gateway's `vnp_TransactionStatus` (`00` paid, `01` not completed, `02` failed).
    pub transaction_status: String,
    /// What came of it: `paid` (the payment was applied now), `duplicate` (already
    /// applied), `not_paid` (nothing changes), or a refusal as for notifications
    /// (`wrong_amount`, `expired`, `replayed_transaction`…), or `settled` when not asked.
    pub outcome: String,
    /// Explanation.
    pub detail: String,
}

/// Asks the gateway how `order` stands and, when it says paid, applies the payment as its
/// IPN would have. Returns the gateway's answer and what applying it came to.
async fn requery(
    state: &AppState,
    order: &Order,
) -> Result<(crate::payments::vnpay::QueryAnswer, Option<Outcome>), AppError> {
    let gateway = crate::payments::vnpay(&state.config)
        .ok_or_else(|| AppError::Refused("Chưa cấu hình cổng thanh toán trực tuyến.".to_owned()))?;
    let api_url = crate::payments::vnpay_api_url(&state.config).ok_or_else(|| {
        AppError::Refused("Chưa cấu hình địa chỉ truy vấn giao dịch của VNPay (vnpay_api_url).".to_owned())
    })?;
    let now = state.clock.now();
    let request_id = crate::auth::random_id()[..16].to_ascii_uppercase();
    let ip = match state.config.listen.ip() {
        a if a.is_unspecified() => "127.0.0.1".to_owned(),
        a => a.to_string(),
    };
    let q = crate::payments::vnpay::QueryRequest {
        order_id: &order.id,
        order_created_at: order.created_at,
        request_id: &request_id,
        ip: &ip,
        now,
    };
    let answer = match gateway.query(&reqwest::Client::new(), &api_url, &q).await {
        Ok(a) => a,
        Err(crate::payments::vnpay::QueryError::Transport(why)) => {
            tracing::warn!(
                order = order.id.as_str(),
                error = why.as_str(),
                "payment re-query failed"
            );
            return Err(AppError::Unavailable(format!(
                "Không truy vấn được cổng thanh toán, xin thử lại sau ({why})."
            )));
        }
        Err(crate::payments::vnpay::QueryError::Untrusted(u)) => {
            let (kind, rsp) = match &u {
                Untrusted::BadSignature => ("bad_signature", "97"),
                Untrusted::Invalid(_) => ("invalid", "99"),
            };
            let outcome = Outcome::new(rsp, "Invalid Checksum", kind, format!("Trả lời truy vấn: {u}"), true);
            let params = vec![("vnp_TxnRef".to_owned(), order.id.clone())];
            record_refused(state, &params, &order.id, &outcome, "querydr").await?;
            tracing::warn!(
                order = order.id.as_str(),
                outcome = kind,
                "payment re-query answer refused"
            );
            return Err(AppError::Refused(format!(
                "Câu trả lời của cổng thanh toán bị từ chối: {u}."
            )));
        }
    };
    let outcome = match &answer.notice {
        Some(notice) if notice.success => {
            // Money taken before the order expired is good, whenever we learn of it.
            let paid_at = answer.paid_at.map(|t| t.min(now));
            Some(settle_notice(state, &gateway, notice, "querydr", paid_at).await?)
        }
        _ => None,
    };
    Ok((answer, outcome))
}

/// Asks the gateway (VNPay `querydr`) how online order `id` stands, for when its
/// notification never came. When the gateway says it was paid, for the exact amount, the
/// payment is applied exactly as the notification applies it (the same checks; applying
/// twice changes nothing). For the applicant and the staff who may see the dossier.
pub async fn query(state: &AppState, p: &Principal, id: &str) -> Result<QueryOutcome, AppError> {
    let (order, _) = visible_order(state, p, id).await?;
    if order.method == CASH || order.method == TRANSFER || order.state != PENDING {
        let detail = if order.method == CASH {
            "Khoản nộp tiền mặt không qua cổng thanh toán.".to_owned()
        } else if order.method == TRANSFER {
            "Khoản chuyển khoản được xác nhận theo sao kê của ngân hàng, không qua cổng thanh toán.".to_owned()
        } else {
            format!("Lệnh đã ở trạng thái «{}».", state_label(&order.state))
        };
        return Ok(QueryOutcome {
            order: order_view(state, &order, &p.ip),
            asked: false,
            response_code: String::new(),
            transaction_status: String::new(),
            outcome: "settled".to_owned(),
            detail,
        });
    }
    let (answer, outcome) = requery(state, &order).await?;
    let order = {
        let mut tx = state.db.begin_read().await?;
        payments::by_id(&mut tx, id).await?.unwrap_or(order)
    };
    let (kind, detail) = match outcome {
        Some(o) => (o.kind.to_owned(), o.detail),
        None if answer.response_code == "00" => (
            "not_paid".to_owned(),
            format!(
                "Cổng thanh toán cho biết giao dịch chưa thành công (mã trạng thái {}).",
                answer.transaction_status
            ),
        ),
        None => (
            "not_paid".to_owned(),
            format!(
                "Cổng thanh toán không có giao dịch thành công cho lệnh này (mã {}: {}).",
                answer.response_code, answer.message
            ),
        ),
    };
    Ok(QueryOutcome {
        order: order_view(state, &order, &p.ip),
        asked: true,
        response_code: answer.response_code,
        transaction_status: answer.transaction_status,
        outcome: kind,
        detail,
    })
}

/// Online orders older than this whose notification never came are re-queried.
const REQUERY_AFTER_MINUTES: i64 = 5;

/// Housekeeping: re-queries the online orders created in the last day, at least
/// [`REQUERY_AFTER_MINUTES`] ago, still pending (their IPN never came), and applies
/// those the gateway says were paid. Returns how many were paid now.
pub async fn requery_pending(state: &AppState) -> Result<usize, AppError> {
    let Some(gateway) = crate::payments::vnpay(&state.config) else {
        return Ok(0);
    };
    if crate::payments::vnpay_api_url(&state.config).is_none() {
        return Ok(0);
    }
    let now = state.clock.now();
    let pending = {
        let mut tx = state.db.begin_read().await?;
        payments::pending_created_between(
            &mut tx,
            gateway.method(),
            now - time::Duration::days(1),
            now - time::Duration::minutes(REQUERY_AFTER_MINUTES),
        )
        .await?
    };
    let mut paid = 0;
    for order in &pending {
        match requery(state, order).await {
            Ok((_, Some(o))) if o.kind == PAID => paid += 1,
            Ok(_) => {}
            Err(e) => tracing::warn!(order = order.id.as_str(), error = %e, "re-query of a pending payment failed"),
        }
    }
    Ok(paid)
}

/// VNPay's answer to an IPN.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpnReply {
    /// `00` confirmed, `01` order not found, `02` already confirmed, `04` invalid amount,
    /// `97` bad checksum, `99` other error.
    #[serde(rename = "RspCode")]
    pub rsp_code: &'static str,
    /// Short English message, as VNPay's reference code answers.
    #[serde(rename = "Message")]
    pub message: &'static str,
}

/// What handling a notification came to.
#[derive(Debug, Clone)]
struct Outcome {
    rsp: &'static str,
    message: &'static str,
    /// Recorded as the notification's outcome.
    kind: &'static str,
    detail: String,
    /// Whether the administrator should look at it.
    incident: bool,
}

impl Outcome {
    fn new(rsp: &'static str, message: &'static str, kind: &'static str, detail: String, incident: bool) -> Self {
        Self {
            rsp,
            message,
            kind,
            detail,
            incident,
        }
    }
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The system actor a gateway's notification (or a bank statement's credit) acts as.
fn gateway_actor(method: &str) -> Person {
    Person {
        id: format!("gateway:{method}"),
        name: if method == TRANSFER {
            "Sao kê ngân hàng (chuyển khoản)"
        } else {
            "Cổng thanh toán VNPay"
        }
        .to_owned(),
    }
}

/// VNPay's server-to-server notification (IPN) with query `raw` from `ip`: the only
/// message that settles an order. Whatever the outcome, the answer is VNPay's reply.
pub async fn vnpay_notification(state: &AppState, ip: &str, raw: Option<&str>) -> IpnReply {
    let params = query_pairs(raw);
    let Some(gateway) = crate::payments::vnpay(&state.config) else {
        return IpnReply {
            rsp_code: "99",
            message: "Unknow error",
        };
    };
    let verified = gateway.verify(raw.unwrap_or_default());
    let outcome = match &verified {
        Err(Untrusted::BadSignature) => Outcome::new(
            "97",
            "Invalid Checksum",
            "bad_signature",
            "Chữ ký không hợp lệ".to_owned(),
            true,
        ),
        Err(Untrusted::Invalid(why)) => Outcome::new("99", "Unknow error", "invalid", why.clone(), true),
        Ok(notice) => match settle_notice(state, &gateway, notice, ip, None).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(order = notice.order_id.as_str(), error = %e, "payment notification failed");
                Outcome::new("99", "Unknow error", "error", e.to_string(), true)
            }
        },
    };
    // For a refusal (every refusal is an incident), the order the message names, read by the
    // same one parse as the check (nothing when it cannot be read one way); a settled
    // notification needs no second parse.
    let order_id = if outcome.incident {
        crate::payments::vnpay::Message::parse_query(raw.unwrap_or_default())
            .map(|m| m.get("vnp_TxnRef").to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    if outcome.incident {
        // Never the signature or the secret: which order, what was wrong.
        tracing::warn!(
            order = order_id.as_str(),
            outcome = outcome.kind,
            rsp = outcome.rsp,
            ip = ip,
            "payment notification refused"
        );
    } else {
        tracing::info!(outcome = outcome.kind, rsp = outcome.rsp, "payment notification");
    }
    // Settled notifications were recorded with the settlement; the others on their own,
    // as many a minute per address as `gateway_refusals_per_minute` allows: anyone can
    // send a refused message, and each one is an audit record that stays.
    if verified.is_err() || outcome.kind == "error" {
        if state.gateway_refusals.count(&crate::limits::address_key(ip)).is_err() {
            tracing::warn!(
                ip = ip,
                "payment notification refused and not recorded: too many from this address"
            );
        } else if let Err(e) = record_refused(state, &params, &order_id, &outcome, ip).await {
            tracing::error!(error = %e, "recording a payment notification failed");
        }
    }
    IpnReply {
        rsp_code: outcome.rsp,
        message: outcome.message,
    }
}

/// Records a notification that settled nothing (bad signature, invalid, an error), with
/// an audit record for the administrator when the order's province is known.
///
/// `order_id` is the order the message names as the one parse of it reads it (empty when
/// it could not be read one way): never the first of two copies of a name.
async fn record_refused(
    state: &AppState,
    params: &[(String, String)],
    order_id: &str,
    outcome: &Outcome,
    ip: &str,
) -> Result<(), AppError> {
    let fallback = state.province(None).await?.as_str().to_owned();
    let (params, order_id, ip) = (params.to_vec(), order_id.to_owned(), ip.to_owned());
    let outcome = outcome.clone();
    let now = state.clock.now();
    state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<(), AppError>> {
            Box::pin(async move {
                let province = match payments::by_id(b.tx().await?, &order_id).await? {
                    Some(o) => o.province_code,
                    None => fallback,
                };
                let n = notification(&province, &params, &order_id, &outcome, &ip, now);
                payments::record_notification(b.tx().await?, &n).await?;
                audit_incident(b, &n).await
            })
        })
        .await
}

fn notification(
    province: &str,
    params: &[(String, String)],
    order_id: &str,
    outcome: &Outcome,
    ip: &str,
    now: OffsetDateTime,
) -> Notification {
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let kept: serde_json::Map<String, Value> = params
        .iter()
        .filter(|(k, _)| k != crate::payments::vnpay::SECURE_HASH && k != crate::payments::vnpay::SECURE_HASH_TYPE)
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Notification {
        id: 0,
        province_code: province.to_owned(),
        order_id: order_id.to_owned(),
        gateway_txn: get("vnp_TransactionNo"),
        amount: get("vnp_Amount").parse::<i64>().map_or(0, |a| a / 100),
        rsp_code: outcome.rsp.to_owned(),
        outcome: outcome.kind.to_owned(),
        detail: outcome.detail.clone(),
        params: Value::Object(kept).to_string(),
        ip: ip.to_owned(),
        received_at: now,
    }
}

async fn audit_incident(b: &mut BatchTx, n: &Notification) -> Result<(), AppError> {
    audit::record_in_batch(
        b,
        &Actor {
            id: "gateway:vnpay".to_owned(),
            name: "Cổng thanh toán VNPay".to_owned(),
            ip: &n.ip,
        },
        Event {
            action: "payment.notification_refused",
            object_type: "payment",
            object_id: &n.order_id,
            province: Some(&n.province_code),
            before: None,
            after: Some(json!({
                "outcome": n.outcome, "rsp_code": n.rsp_code, "detail": n.detail,
                "gateway_txn": n.gateway_txn, "amount": n.amount,
            })),
        },
    )
    .await
}

/// Settles an order from a verified notification, in one transaction with the dossier's
/// transition and the notification's record. `judged_at` is the instant the order's
/// expiry is judged at: the arrival (`None`) for an IPN, the gateway's payment time for
/// the answer to a re-query (money taken before the order expired is good).
async fn settle_notice(
    state: &AppState,
    gateway: &dyn Gateway,
    notice: &Notice,
    ip: &str,
    judged_at: Option<OffsetDateTime>,
) -> Result<Outcome, AppError> {
    let now = state.clock.now();
    let method = gateway.method().to_owned();
    let known = {
        let mut tx = state.db.begin_read().await?;
        payments::by_id(&mut tx, &notice.order_id).await?
    };
    let Some(known) = known else {
        let outcome = Outcome::new(
            "01",
            "Order not found",
            "unknown_order",
            format!("Không có lệnh thanh toán {}", notice.order_id),
            true,
        );
        record_refused(state, &notice.params, &notice.order_id, &outcome, ip).await?;
        return Ok(outcome);
    };
    // What the transition needs, read before the write: a job reads only through the batch.
    let province = ProvinceCode::parse(&known.province_code)
        .map_err(|_| AppError::Internal(format!("order {} names no province", known.id)))?;
    let calendar = crate::service::calendar::calendar(state, &province).await?;
    let rules = crate::service::dossiers::delay_rules(state);
    let (notice, ip) = (notice.clone(), ip.to_owned());
    let judged_at = judged_at.unwrap_or(now);
    // One job of the group commit: the order's settlement, the dossier's transition and
    // the notification's record.
    let (outcome, order) = state
        .writes
        .submit(
            move |b: &mut BatchTx| -> JobFuture<'_, Result<(Outcome, Order), AppError>> {
                Box::pin(async move {
                    let order = payments::by_id(b.tx().await?, &notice.order_id)
                        .await?
                        .ok_or_else(|| AppError::Internal(format!("order {} vanished", notice.order_id)))?;
                    let rules_of = Decision {
                        method: &method,
                        notice: &notice,
                        now,
                        judged_at,
                        calendar: &calendar,
                        rules,
                    };
                    let outcome = decide(b, &order, &rules_of).await?;
                    let n = notification(&order.province_code, &notice.params, &order.id, &outcome, &ip, now);
                    payments::record_notification(b.tx().await?, &n).await?;
                    if outcome.incident {
                        audit_incident(b, &n).await?;
                    }
                    Ok((outcome, order))
                })
            },
        )
        .await?;
    if outcome.kind == PAID {
        // The dossier moved on (decide applied confirm-payment).
        state.tracking_cache.forget(&order.dossier_code);
        if let Ok(code) = motcua_core::dossier::DossierCode::parse(&order.dossier_code) {
            state.form_queue.push(state, code);
        }
    }
    if matches!(outcome.kind, PAID | "paid_unapplied") {
        crate::forms::issue_payment_receipt_after(state, &order.id);
    }
    Ok(outcome)
}

/// What [`decide`] judges a notification by.
struct Decision<'a> {
    method: &'a str,
    notice: &'a Notice,
    now: OffsetDateTime,
    judged_at: OffsetDateTime,
    calendar: &'a motcua_core::calendar::Calendar,
    rules: motcua_core::dossier::DelayRules,
}

async fn decide(b: &mut BatchTx, order: &Order, j: &Decision<'_>) -> Result<Outcome, AppError> {
    let Decision {
        method,
        notice,
        now,
        judged_at,
        calendar,
        rules,
    } = *j;
    if order.method != method {
        return Ok(Outcome::new(
            "01",
            "Order not found",
            "unknown_order",
            format!("Lệnh {} không phải lệnh thanh toán qua {method}", order.id),
            true,
        ));
    }
    if notice.amount != Some(amount_of(order)) {
        return Ok(Outcome::new(
            "04",
            "Invalid amount",
            "wrong_amount",
            format!("Số tiền thông báo khác số tiền của lệnh ({} đồng)", order.amount),
            true,
        ));
    }
    if notice.gateway_txn.is_empty() {
        return Ok(Outcome::new(
            "99",
            "Unknow error",
            "invalid",
            "Thiếu mã giao dịch của cổng thanh toán".to_owned(),
            true,
        ));
    }
    let tx = b.tx().await?;
    if let Some(other) = payments::by_gateway_txn(tx, method, &notice.gateway_txn).await?
        && other.id != order.id
    {
        return Ok(Outcome::new(
            "99",
            "Unknow error",
            "replayed_transaction",
            format!("Giao dịch {} đã thanh toán lệnh {}", notice.gateway_txn, other.id),
            true,
        ));
    }
    if order.state != PENDING {
        return Ok(Outcome::new(
            "02",
            "Order already confirmed",
            "duplicate",
            format!("Lệnh đã ở trạng thái «{}»", state_label(&order.state)),
            false,
        ));
    }
    let by = format!("gateway:{method}");
    let settle = |state_to: &'static str, note: &'static str| Settlement {
        state: state_to,
        gateway_txn: Some(&notice.gateway_txn),
        bank_code: Some(&notice.bank_code),
        response_code: Some(&notice.response_code),
        at: now,
        by: &by,
        note,
    };
    if judged_at >= order.expires_at {
        let note = if notice.success {
            "Cổng báo đã thanh toán sau khi lệnh hết hạn: cần hoàn tiền"
        } else {
            ""
        };
        payments::settle(tx, &order.id, &settle(EXPIRED, note)).await?;
        return Ok(Outcome::new(
            "02",
            "Order already confirmed",
            "expired",
            "Lệnh thanh toán đã hết hạn".to_owned(),
            notice.success,
        ));
    }
    if !notice.success {
        if !payments::settle(tx, &order.id, &settle(FAILED, "")).await? {
            return Ok(duplicate());
        }
        return Ok(Outcome::new(
            "00",
            "Confirm Success",
            "failed",
            format!("Giao dịch không thành công (mã {})", notice.response_code),
            false,
        ));
    }
    if !payments::settle(tx, &order.id, &settle(PAID, "")).await? {
        // Another notification settled it between the read and the update.
        return Ok(duplicate());
    }
    // The money arrived: the dossier moves on, through the same path as the API's action.
    let Some(Stored { id, mut dossier }) = dossiers::by_id(tx, order.dossier_id).await?.map(|dossier| Stored {
        id: order.dossier_id,
        dossier,
    }) else {
        return Err(AppError::Internal(format!("dossier of order {} missing", order.id)));
    };
    let ctx = Context {
        now,
        calendar,
        rules,
        actor: gateway_actor(method),
        agency: dossier.receiving_agency.clone(),
    };
    let input = ActionInput::ConfirmPayment {
        amount: Vnd(amount_of(order)),
        reference: if method == TRANSFER {
            format!("Chuyển khoản {} (lệnh {})", notice.gateway_txn, order.id)
        } else {
            format!("VNPay {} (lệnh {})", notice.gateway_txn, order.id)
        },
    };
    match crate::service::dossiers::transition(b, id, &mut dossier, input, &ctx, "").await {
        Ok(_) => {
            // Its documents are issued, and its tracking answer cleared, once the caller
            // commits (settle_notice).
            Ok(Outcome::new(
                "00",
                "Confirm Success",
                PAID,
                format!("Đã thanh toán, giao dịch {}", notice.gateway_txn),
                false,
            ))
        }
        Err(AppError::Refused(why)) => {
            // The money is real: the order stays paid, and the administrator sees that the
            // dossier did not move (paid twice, or no longer waiting) and refunds.
            let note = format!("Đã nhận tiền nhưng không xác nhận được cho hồ sơ: {why}");
            payments::annotate(b.tx().await?, &order.id, &note).await?;
            Ok(Outcome::new("00", "Confirm Success", "paid_unapplied", note, true))
        }
        Err(e) => Err(e),
    }
}

fn duplicate() -> Outcome {
    Outcome::new(
        "02",
        "Order already confirmed",
        "duplicate",
        "Lệnh đã được xác nhận".to_owned(),
        false,
    )
}

/// What the browser return with query `raw` shows: the gateway's signed word and the
/// order as the notification left it; `None` when the signature does not verify or the
/// order is unknown. Changes nothing: the browser's word is not authoritative.
pub async fn browser_return(state: &AppState, raw: Option<&str>) -> Option<(Notice, Order)> {
    let notice = crate::payments::vnpay(&state.config).and_then(|g| g.verify(raw.unwrap_or_default()).ok())?;
    let mut tx = state.db.begin_read().await.ok()?;
    let order = payments::by_id(&mut tx, &notice.order_id).await.ok().flatten()?;
    Some((notice, order))
}

/// Which day and agency to reconcile.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// The day (`YYYY-MM-DD`, Vietnam time); today by default.
    pub date: Option<String>,
    /// The collecting agency's code; all agencies of the province by default.
    pub agency: Option<String>,
    /// The province's code; the default province by default.
    pub province: Option<String>,
}

/// A notification that did not settle an order as expected.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mismatch {
    /// When it arrived.
    pub at: String,
    /// The order it named.
    pub order_id: String,
    /// The gateway's transaction number it carried.
    pub gateway_txn: String,
    /// The amount it carried (đồng).
    pub amount: i64,
    /// `bad_signature`, `wrong_amount`, `unknown_order`, `replayed_transaction`,
    /// `expired`, `paid_unapplied`, `invalid`, `error`.
    pub kind: String,
    /// What was answered to the gateway.
    pub rsp_code: String,
    /// Explanation.
    pub detail: String,
}

/// Totals of one payment method.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MethodTotal {
    /// `vnpay`, `transfer` or `cash`.
    pub method: String,
    /// Orders paid.
    pub paid_count: u64,
    /// Amount paid (đồng).
    pub paid_amount: u64,
}

/// The daily reconciliation of an agency (or a whole province).
#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    /// The day.
    pub date: String,
    /// The province.
    pub province: String,
    /// The agency, when one was asked for.
    pub agency: Option<String>,
    /// Every order created that day.
    pub orders: Vec<OrderView>,
    /// Paid totals by method.
    pub totals: Vec<MethodTotal>,
    /// Refused or unexpected notifications received that day.
    pub mismatches: Vec<Mismatch>,
    /// The bank statements' credits imported that day (of the agency's account when an
    /// agency was asked for): those that settled orders and those listed for an officer.
    pub statement_credits: Vec<CreditView>,
}

/// The day's orders of a province or agency, totals paid by method, and the notifications
/// that did not add up (for the centre's director, counter officers and the administrator).
pub async fn reconciliation(
    state: &AppState,
    p: &Principal,
    q: &ReconciliationQuery,
) -> Result<Reconciliation, AppError> {
    let province: ProvinceCode = state.province(q.province.as_deref()).await?;
    p.require(
        [Role::CentreDirector, Role::SystemAdmin, Role::CounterOfficer]
            .into_iter()
            .any(|r| p.access.has_role_in(r, &province)),
        "xem đối soát thanh toán của tỉnh này",
    )?;
    let now = state.clock.now().to_offset(motcua_core::calendar::VIETNAM_OFFSET);
    let day = match q.date.as_deref() {
        None | Some("") => now.date(),
        Some(s) => Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| AppError::bad("invalid_field", "date", "Ngày phải có dạng YYYY-MM-DD."))?,
    };
    let from = day
        .with_time(Time::MIDNIGHT)
        .assume_offset(motcua_core::calendar::VIETNAM_OFFSET);
    let to = from + time::Duration::days(1);
    let agency = q.agency.as_deref().filter(|a| !a.is_empty());
    let mut tx = state.db.begin_read().await?;
    let orders = payments::created_between(&mut tx, province.as_str(), agency, from, to).await?;
    let notes = payments::notifications_between(&mut tx, province.as_str(), from, to).await?;
    drop(tx);
    let statement_credits = statements::credits_between(state, province.as_str(), agency, from, to).await?;
    let mut totals: Vec<MethodTotal> = Vec::new();
    for o in orders.iter().filter(|o| o.state == PAID) {
        let i = match totals.iter().position(|t| t.method == o.method) {
            Some(i) => i,
            None => {
                totals.push(MethodTotal {
                    method: o.method.clone(),
                    ..MethodTotal::default()
                });
                totals.len() - 1
            }
        };
        totals[i].paid_count += 1;
        totals[i].paid_amount += amount_of(o);
    }
    let ids: std::collections::HashSet<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    let mismatches = notes
        .into_iter()
        .filter(|n| !matches!(n.outcome.as_str(), PAID | FAILED | "duplicate"))
        .filter(|n| agency.is_none() || ids.contains(n.order_id.as_str()))
        .map(|n| Mismatch {
            at: rfc3339(n.received_at),
            order_id: n.order_id,
            gateway_txn: n.gateway_txn,
            amount: n.amount,
            kind: n.outcome,
            rsp_code: n.rsp_code,
            detail: n.detail,
        })
        .collect();
    Ok(Reconciliation {
        date: day.to_string(),
        province: province.as_str().to_owned(),
        agency: agency.map(str::to_owned),
        orders: orders
            .iter()
            .map(|o| order_view(state, o, ""))
            .map(|mut v| {
                v.pay_url = None;
                v
            })
            .collect(),
        totals,
        mismatches,
        statement_credits,
    })
}

const RECONCILIATION_COLUMNS: &[Column] = &[
    Column {
        header: "Mã lệnh",
        width: 18.0,
    },
    Column {
        header: "Mã hồ sơ",
        width: 26.0,
    },
    Column {
        header: "Cơ quan thu",
        width: 16.0,
    },
    Column {
        header: "Hình thức",
        width: 10.0,
    },
    Column {
        header: "Số tiền (đồng)",
        width: 14.0,
    },
    Column {
        header: "Trạng thái",
        width: 16.0,
    },
    Column {
        header: "Mã giao dịch / biên lai",
        width: 22.0,
    },
    Column {
        header: "Ngân hàng",
        width: 10.0,
    },
    Column {
        header: "Tạo lúc",
        width: 17.0,
    },
    Column {
        header: "Xác nhận lúc",
        width: 17.0,
    },
    Column {
        header: "Chênh lệch, ghi chú",
        width: 50.0,
    },
];

/// The reconciliation of [`reconciliation`] as an Excel workbook: one line per order, then
/// one line per notification that did not add up. Returns the day and the workbook.
pub async fn reconciliation_workbook(
    state: &AppState,
    p: &Principal,
    q: &ReconciliationQuery,
) -> Result<(String, Vec<u8>), AppError> {
    let r = reconciliation(state, p, q).await?;
    let at = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
    };
    let mut rows: Vec<Vec<Cell>> = r
        .orders
        .iter()
        .map(|o| {
            vec![
                Cell::text(o.id.clone()),
                Cell::text(o.dossier_code.clone()),
                Cell::text(o.agency_code.clone()),
                Cell::text(o.method.clone()),
                Cell::Money(Vnd(o.amount)),
                Cell::text(o.state_label.clone()),
                Cell::text(o.gateway_txn.clone().unwrap_or_default()),
                Cell::text(o.bank_code.clone().unwrap_or_default()),
                Cell::datetime(at(&Some(o.created_at.clone()))),
                Cell::datetime(at(&o.settled_at)),
                Cell::text(o.note.clone()),
            ]
        })
        .collect();
    rows.extend(r.mismatches.iter().map(|m| {
        vec![
            Cell::text(m.order_id.clone()),
            Cell::Empty,
            Cell::Empty,
            Cell::text("vnpay"),
            Cell::Money(Vnd(u64::try_from(m.amount).unwrap_or_default())),
            Cell::text(format!("Thông báo bị từ chối ({})", m.kind)),
            Cell::text(m.gateway_txn.clone()),
            Cell::Empty,
            Cell::datetime(at(&Some(m.at.clone()))),
            Cell::Empty,
            Cell::text(format!("Mã trả lời {}: {}", m.rsp_code, m.detail)),
        ]
    }));
    // Statement credits that settled nothing: the orders they paid are already listed above.
    rows.extend(r.statement_credits.iter().filter(|c| c.outcome != PAID).map(|c| {
        vec![
            Cell::text(c.order_id.clone().unwrap_or_default()),
            Cell::Empty,
            Cell::Empty,
            Cell::text(TRANSFER),
            Cell::Money(Vnd(u64::try_from(c.amount).unwrap_or_default())),
            Cell::text(format!("Sao kê: {}", c.outcome_label)),
            Cell::text(c.entry_ref.clone()),
            Cell::text(c.account.clone()),
            Cell::datetime(at(&Some(c.booked_at.clone()))),
            Cell::datetime(at(&c.resolved_at)),
            Cell::text(format!("{} {}", c.detail, c.resolution).trim().to_owned()),
        ]
    }));
    let bytes = state
        .on_cpu(move || -> Result<Vec<u8>, AppError> {
            let fail = |e: motcua_docs::dossier_xlsx::ExportError| AppError::Internal(e.to_string());
            let mut w = SheetWriter::new("Đối soát thanh toán", RECONCILIATION_COLUMNS).map_err(fail)?;
            for row in &rows {
                w.push(row).map_err(fail)?;
            }
            let mut out = std::io::Cursor::new(Vec::new());
            w.finish(&mut out).map_err(fail)?;
            Ok(out.into_inner())
        })
        .await??;
    Ok((r.date, bytes))
}
