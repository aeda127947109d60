//! The built-in sandbox gateway's side of VNPay 2.1.0 that is not a web page: what it
//! remembers of the transactions it carried out, and its answer to a re-query
//! (`querydr`), checked and signed as VNPay documents it. The pages and the payment
//! choice are in `crate::web::payment`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::{Map, Value};

use super::vnpay::{self, QUERY_REQUEST_FIELDS, QUERY_RESPONSE_FIELDS, Vnpay};

/// One transaction as the sandbox carried it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// `vnp_Amount` (đồng × 100), as requested.
    pub amount: String,
    /// `vnp_TransactionNo`.
    pub transaction_no: String,
    /// `vnp_BankCode`.
    pub bank_code: String,
    /// `vnp_PayDate`.
    pub pay_date: String,
    /// `vnp_TransactionStatus` (`00` paid, `02` failed).
    pub status: String,
    /// `vnp_OrderInfo`.
    pub order_info: String,
}

/// The transactions of this process, by terminal and merchant reference. The sandbox
/// exists for demos and tests; its memory ends with the process, as its secret does.
static LEDGER: LazyLock<Mutex<HashMap<(String, String), Transaction>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Remembers the outcome of the payment of `txn_ref` at terminal `tmn_code`.
pub fn record(tmn_code: &str, txn_ref: &str, t: Transaction) {
    if let Ok(mut ledger) = LEDGER.lock() {
        ledger.insert((tmn_code.to_owned(), txn_ref.to_owned()), t);
    }
}

fn text(msg: &Map<String, Value>, name: &str) -> String {
    msg.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The sandbox's answer to a `querydr` request, signed over the documented fields:
/// `97` for a bad checksum, `99` for a request that is not a 2.1.0 `querydr` of this
/// terminal, `91` for an unknown transaction, else `00` with the transaction's state.
pub fn answer_query(g: &Vnpay, request: &Map<String, Value>, response_id: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_owned(), Value::String(v));
    };
    put("vnp_ResponseId", response_id.to_owned());
    put("vnp_Command", "querydr".to_owned());
    put("vnp_TmnCode", g.tmn_code.clone());
    let txn_ref = text(request, "vnp_TxnRef");
    put("vnp_TxnRef", txn_ref.clone());
    let (code, message) = if !vnpay::verify_pipe(&g.secret, &QUERY_REQUEST_FIELDS, request) {
        ("97", "Invalid Checksum")
    } else if text(request, "vnp_TmnCode") != g.tmn_code
        || text(request, "vnp_Command") != "querydr"
        || text(request, "vnp_Version") != vnpay::VERSION
    {
        ("99", "Invalid request")
    } else {
        let found = LEDGER
            .lock()
            .ok()
            .and_then(|l| l.get(&(g.tmn_code.clone(), txn_ref.clone())).cloned());
        match found {
            None => ("91", "Transaction not found"),
            Some(t) => {
                put("vnp_Amount", t.amount);
                put("vnp_BankCode", t.bank_code);
                put("vnp_PayDate", t.pay_date);
                put("vnp_TransactionNo", t.transaction_no);
                // 01: a payment.
                put("vnp_TransactionType", "01".to_owned());
                put("vnp_TransactionStatus", t.status);
                put("vnp_OrderInfo", t.order_info);
                ("00", "QueryDR Success")
            }
        }
    };
    put("vnp_ResponseCode", code.to_owned());
    put("vnp_Message", message.to_owned());
    vnpay::sign_pipe(&g.secret, &QUERY_RESPONSE_FIELDS, &mut out);
    out
}
