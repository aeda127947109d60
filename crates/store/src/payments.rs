//! Payment orders of dossiers and the notifications gateways send about them
//! (docs/rules.md §5). An order's state moves once, from `pending`, by a conditional update:
//! whoever comes second (a duplicate notification, a late one) changes nothing.

use time::OffsetDateTime;

use crate::{Arg, Filters, Result, StoreError, Tx, exec, fetch_all, from_millis, on, to_millis};

/// Waiting for the gateway's notification.
pub const PENDING: &str = "pending";
/// Paid: the money arrived (authoritative notification or cash at the counter).
pub const PAID: &str = "paid";
/// The gateway reported a failed or cancelled payment.
pub const FAILED: &str = "failed";
/// Not paid in time; can no longer be paid.
pub const EXPIRED: &str = "expired";
/// The method of orders paid by bank transfer (VietQR), settled from the bank's statement.
pub const TRANSFER: &str = "transfer";

/// A payment order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The merchant reference (VNPay's `vnp_TxnRef`).
    pub id: String,
    /// The dossier's row id.
    pub dossier_id: i64,
    /// The dossier's code.
    pub dossier_code: String,
    /// The province.
    pub province_code: String,
    /// The agency that collects (the dossier's receiving agency), for reconciliation.
    pub agency_code: String,
    /// `vnpay` or `cash`.
    pub method: String,
    /// Whole đồng.
    pub amount: i64,
    /// [`PENDING`], [`PAID`], [`FAILED`] or [`EXPIRED`].
    pub state: String,
    /// Who created it (account id).
    pub created_by: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// After this instant it cannot be paid.
    pub expires_at: OffsetDateTime,
    /// The gateway's transaction number (or the cash receipt number).
    pub gateway_txn: Option<String>,
    /// The bank the applicant paid with, as the gateway reports it.
    pub bank_code: Option<String>,
    /// The gateway's response code of the settling notification.
    pub response_code: Option<String>,
    /// When the state left `pending`.
    pub settled_at: Option<OffsetDateTime>,
    /// Who settled it (`gateway:vnpay`, an officer's account id, `system`).
    pub settled_by: Option<String>,
    /// What happened, for people (e.g. why a paid order did not move the dossier on).
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    dossier_id: i64,
    dossier_code: String,
    province_code: String,
    agency_code: String,
    method: String,
    amount: i64,
    state: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    gateway_txn: Option<String>,
    bank_code: Option<String>,
    response_code: Option<String>,
    settled_at: Option<i64>,
    settled_by: Option<String>,
    note: String,
}

impl From<Row> for Order {
    fn from(r: Row) -> Self {
        Order {
            id: r.id,
            dossier_id: r.dossier_id,
            dossier_code: r.dossier_code,
            province_code: r.province_code,
            agency_code: r.agency_code,
            method: r.method,
            amount: r.amount,
            state: r.state,
            created_by: r.created_by,
            created_at: from_millis(r.created_at),
            expires_at: from_millis(r.expires_at),
            gateway_txn: r.gateway_txn,
            bank_code: r.bank_code,
            response_code: r.response_code,
            settled_at: r.settled_at.map(from_millis),
            settled_by: r.settled_by,
            note: r.note,
        }
    }
}

const COLUMNS: &str = "id, dossier_id, dossier_code, province_code, agency_code, method, amount, state, created_by,
    created_at, expires_at, gateway_txn, bank_code, response_code, settled_at, settled_by, note";

/// Stores a new order.
pub async fn insert(tx: &mut Tx, o: &Order) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO payment_orders (id, dossier_id, dossier_code, province_code, agency_code, method, amount,
                 state, created_by, created_at, expires_at, gateway_txn, bank_code, response_code, settled_at,
                 settled_by, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(&o.id)
        .bind(o.dossier_id)
        .bind(&o.dossier_code)
        .bind(&o.province_code)
        .bind(&o.agency_code)
        .bind(&o.method)
        .bind(o.amount)
        .bind(&o.state)
        .bind(&o.created_by)
        .bind(to_millis(o.created_at))
        .bind(to_millis(o.expires_at))
        .bind(o.gateway_txn.as_deref())
        .bind(o.bank_code.as_deref())
        .bind(o.response_code.as_deref())
        .bind(o.settled_at.map(to_millis))
        .bind(o.settled_by.as_deref())
        .bind(&o.note)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// The order `id`, if any.
pub async fn by_id(tx: &mut Tx, id: &str) -> Result<Option<Order>> {
    let sql = format!("SELECT {COLUMNS} FROM payment_orders WHERE id = $1");
    let row: Option<Row> = on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    Ok(row.map(Order::from))
}

/// The order that gateway transaction `txn` of `method` settled, if any.
pub async fn by_gateway_txn(tx: &mut Tx, method: &str, txn: &str) -> Result<Option<Order>> {
    let sql = format!("SELECT {COLUMNS} FROM payment_orders WHERE method = $1 AND gateway_txn = $2");
    let row: Option<Row> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(method)
        .bind(txn)
        .fetch_optional(c)
        .await)?;
    Ok(row.map(Order::from))
}

/// The orders of dossier `dossier_id`, oldest first.
pub async fn of_dossier(tx: &mut Tx, dossier_id: i64) -> Result<Vec<Order>> {
    let sql = format!("SELECT {COLUMNS} FROM payment_orders WHERE dossier_id = $1 ORDER BY created_at, id");
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(&sql).bind(dossier_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// The orders of `province` created in `[from, to)`, of one agency when given, oldest first.
pub async fn created_between(
    tx: &mut Tx,
    province: &str,
    agency: Option<&str>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<Order>> {
    let mut w = Filters::new(vec![
        Arg::Text(province),
        Arg::Int(to_millis(from)),
        Arg::Int(to_millis(to)),
    ]);
    w.and_if("agency_code =", agency.map(Arg::Text));
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_orders WHERE province_code = $1 AND created_at >= $2 AND created_at < $3{}
         ORDER BY created_at, id",
        w.and_all()
    );
    let rows: Vec<Row> = fetch_all(tx, &sql, &w.args).await?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// The orders paid through `method` that are still pending and were created in
/// `[from, to)`, oldest first (those whose notification never came, for re-querying).
pub async fn pending_created_between(
    tx: &mut Tx,
    method: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<Order>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_orders
         WHERE state = 'pending' AND method = $1 AND created_at >= $2 AND created_at < $3
         ORDER BY created_at, id"
    );
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(method)
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// How a pending order was settled.
#[derive(Debug, Clone)]
pub struct Settlement<'a> {
    /// The new state: [`PAID`], [`FAILED`] or [`EXPIRED`].
    pub state: &'a str,
    /// The gateway's transaction number (or the cash receipt number).
    pub gateway_txn: Option<&'a str>,
    /// The bank.
    pub bank_code: Option<&'a str>,
    /// The gateway's response code.
    pub response_code: Option<&'a str>,
    /// When.
    pub at: OffsetDateTime,
    /// Who.
    pub by: &'a str,
    /// Why, for people.
    pub note: &'a str,
}

/// Moves order `id` out of `pending`. `false` when it was no longer pending (someone
/// settled it first): nothing changed. A gateway transaction number already used by
/// another order is a [`StoreError::Conflict`].
pub async fn settle(tx: &mut Tx, id: &str, s: &Settlement<'_>) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE payment_orders SET state = $1, gateway_txn = $2, bank_code = $3, response_code = $4,
                 settled_at = $5, settled_by = $6, note = $7
             WHERE id = $8 AND state = 'pending'",
        )
        .bind(s.state)
        .bind(s.gateway_txn)
        .bind(s.bank_code)
        .bind(s.response_code)
        .bind(to_millis(s.at))
        .bind(s.by)
        .bind(s.note)
        .bind(id)
        .execute(c)
        .await
    })
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "giao dịch {} đã được dùng cho lệnh thanh toán khác",
            s.gateway_txn.unwrap_or_default()
        )),
        other => other,
    })?;
    Ok(n == 1)
}

/// Adds to the note of order `id` (e.g. that a paid order could not move its dossier on).
pub async fn annotate(tx: &mut Tx, id: &str, note: &str) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query("UPDATE payment_orders SET note = $1 WHERE id = $2")
            .bind(note)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// One notification as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Row id (0 before insertion).
    pub id: i64,
    /// The province of the order (the configured default when the order is unknown).
    pub province_code: String,
    /// The merchant reference it named.
    pub order_id: String,
    /// The gateway's transaction number it carried.
    pub gateway_txn: String,
    /// The amount it carried, in đồng (the gateway's figure ÷ 100, rounded down).
    pub amount: i64,
    /// What was answered (`00`, `01`, `02`, `04`, `97`, `99`).
    pub rsp_code: String,
    /// `paid`, `failed`, `expired`, `duplicate`, or why it was refused: `bad_signature`,
    /// `wrong_amount`, `unknown_order`, `replayed_transaction`, `invalid`.
    pub outcome: String,
    /// Explanation for people.
    pub detail: String,
    /// The parameters received, without the signature, as JSON.
    pub params: String,
    /// The sender's address.
    pub ip: String,
    /// When.
    pub received_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: i64,
    province_code: String,
    order_id: String,
    gateway_txn: String,
    amount: i64,
    rsp_code: String,
    outcome: String,
    detail: String,
    params: String,
    ip: String,
    received_at: i64,
}

/// Records a notification.
pub async fn record_notification(tx: &mut Tx, n: &Notification) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO payment_notifications (province_code, order_id, gateway_txn, amount, rsp_code, outcome,
                 detail, params, ip, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&n.province_code)
        .bind(&n.order_id)
        .bind(&n.gateway_txn)
        .bind(n.amount)
        .bind(&n.rsp_code)
        .bind(&n.outcome)
        .bind(&n.detail)
        .bind(&n.params)
        .bind(&n.ip)
        .bind(to_millis(n.received_at))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// The notifications of `province` received in `[from, to)`, oldest first.
pub async fn notifications_between(
    tx: &mut Tx,
    province: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<Notification>> {
    let rows: Vec<NotificationRow> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT id, province_code, order_id, gateway_txn, amount, rsp_code, outcome, detail, params, ip,
                    received_at
             FROM payment_notifications
             WHERE province_code = $1 AND received_at >= $2 AND received_at < $3
             ORDER BY received_at, id",
        )
        .bind(province)
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(c)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Notification {
            id: r.id,
            province_code: r.province_code,
            order_id: r.order_id,
            gateway_txn: r.gateway_txn,
            amount: r.amount,
            rsp_code: r.rsp_code,
            outcome: r.outcome,
            detail: r.detail,
            params: r.params,
            ip: r.ip,
            received_at: from_millis(r.received_at),
        })
        .collect())
}

/// A credit read from a bank statement (issue 24 item 6), as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatementEntry {
    /// Row id (0 before insertion).
    pub id: i64,
    /// The province of the account's agency.
    pub province_code: String,
    /// The bank's BIN.
    pub bin: String,
    /// The credited account.
    pub account: String,
    /// The bank's reference of the entry: one transaction, whichever file repeats it.
    pub entry_ref: String,
    /// When the bank booked it (milliseconds since the epoch).
    pub booked_at: i64,
    /// Whole đồng.
    pub amount: i64,
    /// The transfer's description as the statement gives it.
    pub description: String,
    /// The order whose reference the description carries, if any.
    pub order_id: Option<String>,
    /// `paid`, or why the credit is listed for an officer.
    pub outcome: String,
    /// Explanation for people.
    pub detail: String,
    /// SHA-256 of the file it first came in.
    pub file_sha256: String,
    /// Who imported it (account id).
    pub imported_by: String,
    /// When (milliseconds since the epoch).
    pub imported_at: i64,
    /// Who resolved it, once an officer has.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<i64>,
    /// What the officer did about it.
    pub resolution: String,
}

const ENTRY_COLUMNS: &str = "id, province_code, bin, account, entry_ref, booked_at, amount, description, order_id,
    outcome, detail, file_sha256, imported_by, imported_at, resolved_by, resolved_at, resolution";

/// Records credit `e` unless the account already has an entry of the same bank reference:
/// its new id, or `None` when it was already there (nothing changed).
pub async fn insert_entry(tx: &mut Tx, e: &StatementEntry) -> Result<Option<i64>> {
    let id: Option<(i64,)> = on!(tx, |c| {
        sqlx::query_as(
            "INSERT INTO bank_statement_entries (province_code, bin, account, entry_ref, booked_at, amount,
                 description, order_id, outcome, detail, file_sha256, imported_by, imported_at, resolved_by,
                 resolved_at, resolution)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, '')
             ON CONFLICT (account, entry_ref) DO NOTHING
             RETURNING id",
        )
        .bind(&e.province_code)
        .bind(&e.bin)
        .bind(&e.account)
        .bind(&e.entry_ref)
        .bind(e.booked_at)
        .bind(e.amount)
        .bind(&e.description)
        .bind(e.order_id.as_deref())
        .bind(&e.outcome)
        .bind(&e.detail)
        .bind(&e.file_sha256)
        .bind(&e.imported_by)
        .bind(e.imported_at)
        .fetch_optional(c)
        .await
    })?;
    Ok(id.map(|(id,)| id))
}

/// Records what credit `id` came to.
pub async fn set_entry_outcome(tx: &mut Tx, id: i64, outcome: &str, detail: &str) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query("UPDATE bank_statement_entries SET outcome = $1, detail = $2 WHERE id = $3")
            .bind(outcome)
            .bind(detail)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// The credit `id`, if any.
pub async fn entry_by_id(tx: &mut Tx, id: i64) -> Result<Option<StatementEntry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM bank_statement_entries WHERE id = $1");
    Ok(on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
}

/// The credits of `province` imported in `[from, to)`, oldest first.
pub async fn entries_between(
    tx: &mut Tx,
    province: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<StatementEntry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM bank_statement_entries
         WHERE province_code = $1 AND imported_at >= $2 AND imported_at < $3 ORDER BY imported_at, id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(province)
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(c)
        .await)?)
}

/// The credits of `province` listed for an officer and not yet resolved, oldest first.
pub async fn open_entries(tx: &mut Tx, province: &str) -> Result<Vec<StatementEntry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM bank_statement_entries
         WHERE province_code = $1 AND outcome <> 'paid' AND resolved_at IS NULL ORDER BY imported_at, id"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql).bind(province).fetch_all(c).await)?)
}

/// Marks listed credit `id` resolved by `by` at `at` with `resolution`; `false` when it
/// was not open (settled an order, or resolved already): nothing changed.
pub async fn resolve_entry(tx: &mut Tx, id: i64, by: &str, at: OffsetDateTime, resolution: &str) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE bank_statement_entries SET resolved_by = $1, resolved_at = $2, resolution = $3
             WHERE id = $4 AND outcome <> 'paid' AND resolved_at IS NULL",
        )
        .bind(by)
        .bind(to_millis(at))
        .bind(resolution)
        .bind(id)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}
