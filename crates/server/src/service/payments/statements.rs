//! Fees paid by bank transfer, settled from the collecting agency's bank statement (issue
//! 24 item 6; docs/rules.md §5).
//!
//! A statement file settles money, so it is read as hostile input. It is imported only by
//! staff who may collect for the agencies of the credited account (the account must be one
//! configured in `bank_accounts`); each credit is stored once per account and bank
//! reference (a repeated entry, in the same file or another, changes nothing); a credit
//! settles an order only when its description carries exactly one transfer-order
//! reference, the order's agency collects into this very account, and the amount is the
//! order's, exactly. The settlement goes through [`super::decide`], the function a VNPay
//! notification goes through (same checks; the bank reference can settle one order only),
//! in the same transaction as the credit's record and its audit record. Every other
//! credit is listed for an officer, who resolves it with a note (audited).

use motcua_core::access::Role;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_store::batch::{BatchTx, JobFuture};
use motcua_store::payments::{self, PAID, StatementEntry};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{Decision, TRANSFER, decide, rfc3339};
use crate::audit::{self, Event, OwnedActor};
use crate::auth::Principal;
use crate::config::BankAccount;
use crate::error::AppError;
use crate::payments::Notice;
use crate::payments::statement::{self, Credit};
use crate::state::AppState;

/// A credit of a bank statement as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditView {
    /// Its number.
    pub id: i64,
    /// The credited account.
    pub account: String,
    /// The bank's reference of the entry.
    pub entry_ref: String,
    /// When the bank booked it (RFC 3339, Vietnam time).
    pub booked_at: String,
    /// Amount, whole đồng (0 when the statement's figure was not a whole number of đồng).
    pub amount: i64,
    /// The transfer's description.
    pub description: String,
    /// The order its description names, if any.
    pub order_id: Option<String>,
    /// `paid` (it settled the order), or why it is listed: `unmatched`, `already_paid`,
    /// `wrong_amount`, `expired`, `other_account`, `replayed_transaction`, `paid_unapplied`.
    pub outcome: String,
    /// The outcome in Vietnamese.
    pub outcome_label: String,
    /// Explanation.
    pub detail: String,
    /// When it was imported.
    pub imported_at: String,
    /// Who resolved it (listed credits), once resolved.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<String>,
    /// What the officer did about it.
    pub resolution: String,
}

/// The Vietnamese name of a credit's outcome.
pub fn outcome_label(outcome: &str) -> &'static str {
    match outcome {
        PAID => "Đã xác nhận thanh toán",
        "unmatched" => "Không khớp lệnh thanh toán nào",
        "already_paid" => "Lệnh đã được thanh toán trước đó",
        "wrong_amount" => "Số tiền khác số tiền của lệnh",
        "expired" => "Lệnh đã hết hạn hoặc không còn chờ thanh toán",
        "other_account" => "Lệnh thuộc tài khoản thu khác",
        "replayed_transaction" => "Giao dịch đã thanh toán lệnh khác",
        "paid_unapplied" => "Đã nhận tiền nhưng hồ sơ không còn chờ nộp phí",
        _ => "Khác",
    }
}

fn view(e: &StatementEntry) -> CreditView {
    CreditView {
        id: e.id,
        account: e.account.clone(),
        entry_ref: e.entry_ref.clone(),
        booked_at: rfc3339(motcua_store::from_millis(e.booked_at)),
        amount: e.amount,
        description: e.description.clone(),
        order_id: e.order_id.clone(),
        outcome_label: outcome_label(&e.outcome).to_owned(),
        outcome: e.outcome.clone(),
        detail: e.detail.clone(),
        imported_at: rfc3339(motcua_store::from_millis(e.imported_at)),
        resolved_by: e.resolved_by.clone(),
        resolved_at: e.resolved_at.map(|t| rfc3339(motcua_store::from_millis(t))),
        resolution: e.resolution.clone(),
    }
}

/// What importing a statement came to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// SHA-256 of the file.
    pub sha256: String,
    /// The accounts it covered.
    pub accounts: Vec<String>,
    /// Booked credits read.
    pub credits: usize,
    /// Entries left aside (debits, entries not booked).
    pub skipped: usize,
    /// Credits already imported before (from this file or another): nothing changed.
    pub already_imported: usize,
    /// Credits that settled an order now.
    pub settled: Vec<CreditView>,
    /// Credits listed for an officer to resolve.
    pub listed: Vec<CreditView>,
}

/// Which statement to import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The credited account, for a CSV export that does not name it (a camt.053 file
    /// names it; when both do, they must agree).
    pub account: Option<String>,
}

/// The collecting accounts: the configured ones, or the demo's with the demo.
fn collecting_accounts(state: &AppState) -> Vec<BankAccount> {
    if state.config.bank_accounts.is_empty() {
        state.config.bank_account("*").into_iter().collect()
    } else {
        state.config.bank_accounts.clone()
    }
}

/// Whether `p` may collect fees for `agency` of `province`: the centre's director, its
/// counter officers and the system administrator of the province, or a leader of that
/// very agency.
fn may_collect(p: &Principal, province: &ProvinceCode, agency: &str) -> bool {
    [Role::CentreDirector, Role::CounterOfficer, Role::SystemAdmin]
        .into_iter()
        .any(|r| p.access.has_role_in(r, province))
        || p.access
            .grants()
            .iter()
            .any(|g| g.role == Role::DepartmentLeader && &g.province == province && g.agency.as_str() == agency)
}

/// The province of a configured agency (`*`: the default province).
async fn province_of(state: &AppState, agency: &str) -> Result<ProvinceCode, AppError> {
    if agency.trim() == "*" {
        return state.province(None).await;
    }
    AgencyCode::parse(agency.trim()).map(|a| a.province()).map_err(|_| {
        AppError::Internal(format!(
            "bank_accounts names agency «{agency}», which is no agency code"
        ))
    })
}

/// What one credit came to, and what to do once committed.
struct Applied {
    entry: Option<StatementEntry>,
    dossier_code: Option<String>,
}

/// Imports a bank statement (camt.053 or CSV) of a collecting account: settles the orders
/// its credits pay, lists the rest, and records every credit once (see the module).
pub async fn import_statement(
    state: &AppState,
    p: &Principal,
    bytes: &[u8],
    declared: Option<&str>,
) -> Result<ImportReport, AppError> {
    let declared = declared.map(str::trim).filter(|a| !a.is_empty());
    let statements = statement::parse(bytes).map_err(|m| AppError::bad("invalid_statement", "file", m))?;
    let sha256 = hex::encode(Sha256::digest(bytes));
    let accounts = collecting_accounts(state);
    // Every account of the file is checked before anything is written.
    let mut plan = Vec::new();
    for s in &statements {
        let account = match (s.account.as_str(), declared) {
            ("", Some(d)) => d.to_owned(),
            ("", None) => {
                return Err(AppError::bad(
                    "invalid_field",
                    "account",
                    "Tệp sao kê không ghi số tài khoản: hãy cho biết tài khoản được ghi có.",
                ));
            }
            (a, Some(d)) if a != d => {
                return Err(AppError::bad(
                    "invalid_field",
                    "account",
                    format!("Tệp sao kê là của tài khoản {a}, không phải {d}."),
                ));
            }
            (a, _) => a.to_owned(),
        };
        let collecting: Vec<&BankAccount> = accounts.iter().filter(|b| b.account == account).collect();
        if collecting.is_empty() {
            return Err(AppError::bad(
                "unknown_account",
                "account",
                format!("Tài khoản {account} không phải tài khoản thu phí đã đăng ký của cơ quan nào."),
            ));
        }
        let mut allowed = false;
        let mut province = None;
        for b in &collecting {
            let pr = province_of(state, &b.agency).await?;
            allowed |= may_collect(p, &pr, b.agency.trim());
            province.get_or_insert(pr);
        }
        p.require(allowed, "nhập sao kê của tài khoản thu này")?;
        let province = province.ok_or_else(|| AppError::Internal("no province".to_owned()))?;
        plan.push((account, collecting[0].bin.clone(), province, s));
    }
    let mut report = ImportReport {
        sha256: sha256.clone(),
        accounts: plan.iter().map(|(a, ..)| a.clone()).collect(),
        credits: 0,
        skipped: 0,
        already_imported: 0,
        settled: Vec::new(),
        listed: Vec::new(),
    };
    for (account, bin, province, s) in &plan {
        report.skipped += s.skipped;
        for credit in &s.credits {
            report.credits += 1;
            let applied = apply_credit(state, p, account, bin, province, credit, &sha256).await?;
            match applied.entry {
                None => report.already_imported += 1,
                Some(e) if e.outcome == PAID => report.settled.push(view(&e)),
                Some(e) => report.listed.push(view(&e)),
            }
            if let Some(code) = applied.dossier_code {
                state.tracking_cache.forget(&code);
                if let Ok(code) = motcua_core::dossier::DossierCode::parse(&code) {
                    state.form_queue.push(state, code);
                }
            }
        }
    }
    let province = plan.first().map(|(_, _, pr, _)| pr.as_str());
    let after = json!({
        "sha256": sha256, "accounts": report.accounts, "credits": report.credits,
        "settled": report.settled.len(), "listed": report.listed.len(),
        "already_imported": report.already_imported,
    });
    let event = Event {
        action: "payment.statement_import",
        object_type: "bank_statement",
        object_id: &sha256,
        province: Some(province.unwrap_or_default()),
        before: None,
        after: Some(after),
    };
    audit::record_alone(state, p, event).await?;
    tracing::info!(
        credits = report.credits,
        settled = report.settled.len(),
        listed = report.listed.len(),
        already_imported = report.already_imported,
        "bank statement imported"
    );
    Ok(report)
}

/// Records `credit` of `account` and, when it pays an open order, settles it, in one job
/// of the group commit. `entry` is `None` when the account already had this bank reference.
async fn apply_credit(
    state: &AppState,
    p: &Principal,
    account: &str,
    bin: &str,
    province: &ProvinceCode,
    credit: &Credit,
    sha256: &str,
) -> Result<Applied, AppError> {
    let now = state.clock.now();
    let refs = statement::references(&credit.description);
    // What the settlement needs, read before the write: a job reads only through the batch.
    let order = match refs.as_slice() {
        [one] => {
            let mut tx = state.db.begin_read().await?;
            payments::by_id(&mut tx, one).await?
        }
        _ => None,
    };
    let order_province = order.as_ref().and_then(|o| ProvinceCode::parse(&o.province_code).ok());
    let calendar = match &order_province {
        Some(pr) => Some(crate::service::calendar::calendar(state, pr).await?),
        None => None,
    };
    // The order's agency must collect into this account, and the importer for that agency.
    let own_account = order.as_ref().is_some_and(|o| {
        state
            .config
            .bank_account(&o.agency_code)
            .is_some_and(|b| b.account == account)
            && order_province
                .as_ref()
                .is_some_and(|pr| may_collect(p, pr, &o.agency_code))
    });
    let rules = crate::service::dossiers::delay_rules(state);
    let entry = StatementEntry {
        id: 0,
        province_code: province.as_str().to_owned(),
        bin: bin.to_owned(),
        account: account.to_owned(),
        entry_ref: credit.entry_ref.clone(),
        booked_at: motcua_store::to_millis(credit.booked_at),
        amount: credit.amount.and_then(|a| i64::try_from(a).ok()).unwrap_or(0),
        description: credit.description.clone(),
        order_id: match refs.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        },
        outcome: "pending".to_owned(),
        detail: String::new(),
        file_sha256: sha256.to_owned(),
        imported_by: p.actor(),
        imported_at: motcua_store::to_millis(now),
        resolved_by: None,
        resolved_at: None,
        resolution: String::new(),
    };
    let notice = Notice {
        order_id: refs.first().cloned().unwrap_or_default(),
        amount: credit.amount,
        gateway_txn: credit.entry_ref.clone(),
        bank_code: bin.to_owned(),
        response_code: "00".to_owned(),
        success: true,
        params: vec![
            ("account".to_owned(), account.to_owned()),
            ("entry_ref".to_owned(), credit.entry_ref.clone()),
            ("amount".to_owned(), credit.amount_text.clone()),
            ("description".to_owned(), credit.description.clone()),
        ],
    };
    let actor = OwnedActor::of(p);
    let amount_text = credit.amount_text.clone();
    let judged_at = credit.booked_at.min(now);
    state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<Applied, AppError>> {
            Box::pin(async move {
                let Some(id) = payments::insert_entry(b.tx().await?, &entry).await? else {
                    return Ok(Applied {
                        entry: None,
                        dossier_code: None,
                    });
                };
                // The order as it stands now, inside the write.
                let order = match &entry.order_id {
                    Some(o) => payments::by_id(b.tx().await?, o).await?,
                    None => None,
                };
                let (outcome, detail, paid_dossier): (&str, String, Option<String>) = match (&order, &calendar) {
                    _ if refs.len() > 1 => (
                        "unmatched",
                        format!("Nội dung ghi nhiều mã lệnh: {}", refs.join(", ")),
                        None,
                    ),
                    _ if refs.is_empty() => ("unmatched", "Nội dung không ghi mã lệnh thanh toán".to_owned(), None),
                    (None, _) | (_, None) => ("unmatched", format!("Không có lệnh thanh toán {}", refs[0]), None),
                    (Some(o), _) if o.method != TRANSFER => {
                        ("unmatched", format!("Lệnh {} không phải lệnh chuyển khoản", o.id), None)
                    }
                    (Some(o), _) if !own_account => (
                        "other_account",
                        format!("Lệnh {} không thu vào tài khoản {}", o.id, entry.account),
                        None,
                    ),
                    (Some(_), _) if notice.amount.is_none() => (
                        "wrong_amount",
                        format!("Số tiền «{amount_text}» không phải số đồng nguyên"),
                        None,
                    ),
                    (Some(o), Some(calendar)) => {
                        let j = Decision {
                            method: TRANSFER,
                            notice: &notice,
                            now,
                            judged_at,
                            calendar,
                            rules,
                        };
                        let out = decide(b, o, &j).await?;
                        let kind = match out.kind {
                            "duplicate" if o.state == PAID => "already_paid",
                            "duplicate" | "failed" => "expired",
                            "unknown_order" => "unmatched",
                            k => k,
                        };
                        let paid = (kind == PAID).then(|| o.dossier_code.clone());
                        (kind, out.detail, paid)
                    }
                };
                payments::set_entry_outcome(b.tx().await?, id, outcome, &detail).await?;
                audit::record_in_batch(
                    b,
                    &actor.actor(),
                    Event {
                        action: "payment.statement_credit",
                        object_type: "bank_statement_entry",
                        object_id: &id.to_string(),
                        province: Some(&entry.province_code),
                        before: None,
                        after: Some(json!({
                            "account": entry.account, "entry_ref": entry.entry_ref, "amount": entry.amount,
                            "order": entry.order_id, "outcome": outcome, "detail": detail,
                        })),
                    },
                )
                .await?;
                let stored = payments::entry_by_id(b.tx().await?, id).await?;
                Ok(Applied {
                    entry: stored,
                    dossier_code: paid_dossier,
                })
            })
        })
        .await
        .inspect(|a| {
            if let Some(e) = &a.entry
                && matches!(e.outcome.as_str(), PAID | "paid_unapplied")
                && let Some(o) = &e.order_id
            {
                crate::forms::issue_payment_receipt_after(state, o);
            }
        })
}

/// Which credits to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OpenCredits {
    /// The province's code; the default province by default.
    pub province: Option<String>,
}

/// The listed credits of a province not yet resolved, oldest first, for the staff who
/// reconcile payments (the centre's director, counter officers, the administrator).
pub async fn open_credits(state: &AppState, p: &Principal, q: &OpenCredits) -> Result<Vec<CreditView>, AppError> {
    let province = state.province(q.province.as_deref()).await?;
    p.require(
        may_collect(p, &province, ""),
        "xem sao kê chưa đối chiếu được của tỉnh này",
    )?;
    let mut tx = state.db.begin_read().await?;
    Ok(payments::open_entries(&mut tx, province.as_str())
        .await?
        .iter()
        .map(view)
        .collect())
}

/// What an officer did about a listed credit (refunded it, matched it by hand against a
/// cash receipt, …).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// What was done, for the record.
    pub resolution: String,
}

/// Marks listed credit `id` resolved with `resolution` (audited); 409 when it settled an
/// order or was resolved already.
pub async fn resolve_credit(
    state: &AppState,
    p: &Principal,
    id: i64,
    resolution: &str,
) -> Result<CreditView, AppError> {
    let text = motcua_core::lifecycle::required_text("resolution", resolution).map_err(AppError::Invalid)?;
    let entry = {
        let mut tx = state.db.begin_read().await?;
        payments::entry_by_id(&mut tx, id).await?
    }
    .ok_or_else(|| AppError::NotFound(format!("Không có khoản ghi có số {id}.")))?;
    let province = ProvinceCode::parse(&entry.province_code)
        .map_err(|_| AppError::Internal(format!("credit {id} names no province")))?;
    if !may_collect(p, &province, "") {
        return Err(AppError::NotFound(format!("Không có khoản ghi có số {id}.")));
    }
    let actor = OwnedActor::of(p);
    let by = p.actor();
    let now: OffsetDateTime = state.clock.now();
    let changed = state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<bool, AppError>> {
            Box::pin(async move {
                if !payments::resolve_entry(b.tx().await?, id, &by, now, &text).await? {
                    return Ok(false);
                }
                audit::record_in_batch(
                    b,
                    &actor.actor(),
                    Event {
                        action: "payment.statement_credit_resolve",
                        object_type: "bank_statement_entry",
                        object_id: &id.to_string(),
                        province: Some(&entry.province_code),
                        before: Some(json!({"outcome": entry.outcome, "detail": entry.detail})),
                        after: Some(json!({"resolution": text})),
                    },
                )
                .await?;
                Ok(true)
            })
        })
        .await?;
    if !changed {
        return Err(AppError::Refused(format!(
            "Khoản ghi có số {id} đã xác nhận thanh toán hoặc đã được xử lý."
        )));
    }
    let mut tx = state.db.begin_read().await?;
    let e = payments::entry_by_id(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("credit vanished".to_owned()))?;
    Ok(view(&e))
}

/// The credits imported into `province` in `[from, to)`, for the day's reconciliation,
/// of the accounts `agency` collects into when one is given.
pub(super) async fn credits_between(
    state: &AppState,
    province: &str,
    agency: Option<&str>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<CreditView>, AppError> {
    let account = agency.map(|a| state.config.bank_account(a).map(|b| b.account));
    let mut tx = state.db.begin_read().await?;
    Ok(payments::entries_between(&mut tx, province, from, to)
        .await?
        .iter()
        .filter(|e| match &account {
            None => true,
            Some(a) => a.as_deref() == Some(e.account.as_str()),
        })
        .map(view)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::outcome_label;

    #[test]
    fn every_outcome_has_a_label() {
        for o in [
            "paid",
            "unmatched",
            "already_paid",
            "wrong_amount",
            "expired",
            "other_account",
            "replayed_transaction",
            "paid_unapplied",
        ] {
            assert_ne!(outcome_label(o), "Khác", "{o}");
        }
    }
}
