//! Paying a dossier's fees (issue 7) on the backend the test run selects: the full flow
//! through the built-in sandbox gateway over real HTTP (approve, decline, time out,
//! duplicate IPN), and notifications the gateway never sent as they are: a tampered
//! signature, a wrong amount, an unknown order, a replayed transaction, an expired
//! order; cash at the counter; the reconciliation report; VNPay's published example.

mod common;

use common::api::{dossier, get, post};
use common::files::{download, issued_forms, pdf_text};
use common::intake::judicial_record_intake;
use common::pages::{browser, page, page_ok};
use common::{Session, TestApp, header, sign_in, spawn_app_at_with};
use motcua_server::payments::vnpay;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

/// The sandbox's (and so the merchant's) secret in these tests.
const SECRET: &str = "TESTSECRET0123456789ABCDEFGHIJKL";
const TMN: &str = "MOTCUA01";
const FEE: u64 = 150_000;

async fn app() -> TestApp {
    // A Monday morning; the clock stands still until a test moves it.
    spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.vnpay_tmn_code = TMN.to_owned();
        c.vnpay_hash_secret = SECRET.to_owned();
        c.payment_order_ttl_minutes = 15;
    })
    .await
}

/// A dossier of Sở Xây dựng waiting for `FEE` (status 6).
async fn awaiting_payment(app: &TestApp) -> String {
    common::intake::awaiting_payment(app, FEE).await
}

/// The counter, a dossier waiting for `FEE` and the online order the counter opened for it.
async fn an_open_order(app: &TestApp) -> (Session, String, Value) {
    let counter = sign_in(app, "tiepnhan").await;
    let code = awaiting_payment(app).await;
    let o = open_order(app, &counter, &code).await;
    (counter, code, o)
}

/// Asks to pay dossier `code` as `s` (`{"method": …}`): status and order.
async fn pay(app: &TestApp, s: &Session, code: &str, body: Value) -> (StatusCode, Value) {
    post(app, s, &format!("/api/v1/dossiers/{code}/payments"), body).await
}

/// Opens an online order for `code` as `s`.
async fn open_order(app: &TestApp, s: &Session, code: &str) -> Value {
    let (status, o) = pay(app, s, code, json!({"method": "vnpay"})).await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    o
}

/// Follows `pay_url` to the sandbox's page, chooses `outcome`, and returns where the
/// gateway sends the browser back (the return URL with the signed result).
async fn through_sandbox(app: &TestApp, pay_url: &str, outcome: &str) -> String {
    let page = app.client.get(app.url(pay_url)).send().await.expect("sandbox page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("150.000 đ"), "{html}");
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).expect("request field") + marker.len();
    // The page escapes `&` (askama writes `&#38;`).
    let request = html[start..][..html[start..].find('"').expect("end")]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("request", &request)
        .append_pair("outcome", outcome)
        .finish();
    let r = browser()
        .post(app.url("/sandbox/vnpay/pay"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("decide");
    let status = r.status();
    let location = header(&r, "location");
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{request}: {}",
        r.text().await.unwrap_or_default()
    );
    location.expect("location")
}

/// The return page for `location` and its outcome (`data-state` of the message).
async fn return_page(app: &TestApp, location: &str) -> (StatusCode, String) {
    assert!(location.starts_with("/api/v1/payments/vnpay/return?"), "{location}");
    let r = app.client.get(app.url(location)).send().await.expect("return");
    let status = r.status();
    let html = r.text().await.expect("html");
    let state = html
        .split("id=\"payment-outcome\" data-state=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned();
    (status, state)
}

/// Sends a notification as the gateway would (GET with the query) and returns `RspCode`.
async fn ipn(app: &TestApp, query: &str) -> String {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/payments/vnpay/ipn?{query}")))
        .send()
        .await
        .expect("ipn");
    assert_eq!(r.status(), StatusCode::OK, "VNPay expects 200 whatever the outcome");
    let v: Value = r.json().await.expect("json");
    assert!(v["Message"].is_string(), "{v}");
    v["RspCode"].as_str().expect("RspCode").to_owned()
}

/// A notification signed with the merchant's secret, as the gateway signs it.
fn signed_ipn(order: &str, amount_vnd: u64, txn: &str, success: bool) -> String {
    let amount = (amount_vnd * 100).to_string();
    let code = if success { "00" } else { "24" };
    let status = if success { "00" } else { "02" };
    vnpay::signed_query(
        SECRET,
        &[
            ("vnp_Amount", amount.as_str()),
            ("vnp_BankCode", "NCB"),
            ("vnp_OrderInfo", "thanh toan phi le phi ho so"),
            ("vnp_PayDate", "20261102081000"),
            ("vnp_ResponseCode", code),
            ("vnp_TmnCode", TMN),
            ("vnp_TransactionNo", txn),
            ("vnp_TransactionStatus", status),
            ("vnp_TxnRef", order),
        ],
    )
}

async fn order(app: &TestApp, s: &Session, id: &str) -> Value {
    let (status, o) = get(app, s, &format!("/api/v1/payments/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    o
}

#[tokio::test]
async fn an_approved_payment_moves_the_dossier_on_once_however_often_the_gateway_says_so() {
    let app = app().await;
    let (counter, code, o) = an_open_order(&app).await;
    assert_eq!(o["state"], "pending");
    assert_eq!(o["amount"], FEE);
    assert_eq!(o["method"], "vnpay");
    let pay_url = o["pay_url"].as_str().expect("pay_url").to_owned();
    assert!(
        pay_url.starts_with("/sandbox/vnpay/paymentv2/vpcpay.html?"),
        "{pay_url}"
    );
    assert!(pay_url.contains("vnp_Amount=15000000"), "amount × 100: {pay_url}");
    // Clicking «pay» twice opens one order.
    let (status, again) = pay(&app, &counter, &code, json!({"method": "vnpay"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], o["id"]);

    // Approved, and the sandbox sends its IPN twice.
    let back = through_sandbox(&app, &pay_url, "approve_twice").await;
    let (status, shown) = return_page(&app, &back).await;
    assert_eq!((status, shown.as_str()), (StatusCode::OK, "paid"));
    let id = o["id"].as_str().expect("id");
    let paid = order(&app, &counter, id).await;
    assert_eq!(paid["state"], "paid");
    assert!(paid["pay_url"].is_null());
    let txn = paid["gateway_txn"].as_str().expect("txn").to_owned();
    let d = dossier(&app, &counter, &code).await;
    assert_eq!(d["status_code"], 4, "handling resumes");
    assert_eq!(d["payments"].as_array().expect("payments").len(), 1, "{d}");
    assert_eq!(d["payments"][0][0], FEE);
    let (_, h) = get(&app, &counter, &format!("/api/v1/dossiers/{code}/history")).await;
    let confirmations: Vec<&Value> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "confirm-payment")
        .collect();
    assert_eq!(confirmations.len(), 1, "{h}");
    assert_eq!(confirmations[0]["actor"], "Cổng thanh toán VNPay");
    assert!(confirmations[0]["note"].as_str().expect("note").contains(&txn));

    // The same notification again (the return carries the same signed result): 02.
    let result = back.split_once('?').expect("query").1.to_owned();
    assert_eq!(ipn(&app, &result).await, "02");
    // Tampered: the amount changed after signing.
    let tampered = result.replace("vnp_Amount=15000000", "vnp_Amount=100");
    assert_ne!(tampered, result);
    assert_eq!(ipn(&app, &tampered).await, "97");
    // A tampered return shows nothing as paid.
    let (status, shown) = return_page(&app, &format!("/api/v1/payments/vnpay/return?{tampered}")).await;
    assert_eq!((status, shown.as_str()), (StatusCode::BAD_REQUEST, "invalid"));
    let d = dossier(&app, &counter, &code).await;
    assert_eq!(d["payments"].as_array().expect("payments").len(), 1);

    // The reconciliation shows the payment, and the refused notification as a mismatch.
    let director = sign_in(&app, "giamdoc").await;
    let (status, r) = get(&app, &director, "/api/v1/payments/reconciliation?date=2026-11-02").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["orders"].as_array().expect("orders").len(), 1);
    assert_eq!(
        r["totals"],
        json!([{"method": "vnpay", "paid_count": 1, "paid_amount": FEE}])
    );
    let kinds: Vec<&str> = r["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .map(|m| m["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["bad_signature"], "{r}");
    let (status, headers, xlsx) = download(
        &app,
        Some(&director),
        "/api/v1/payments/reconciliation.xlsx?date=2026-11-02",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().expect("ct").contains("spreadsheetml"));
    assert!(xlsx.starts_with(b"PK"));
    // Not for department staff.
    let officer = sign_in(&app, "cv.xaydung").await;
    let (status, _) = get(&app, &officer, "/api/v1/payments/reconciliation").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_declined_or_abandoned_payment_leaves_the_dossier_waiting() {
    let app = app().await;
    let (counter, code, o) = an_open_order(&app).await;
    let back = through_sandbox(&app, o["pay_url"].as_str().expect("url"), "decline").await;
    let (_, shown) = return_page(&app, &back).await;
    assert_eq!(shown, "failed");
    let id = o["id"].as_str().expect("id");
    assert_eq!(order(&app, &counter, id).await["state"], "failed");
    assert_eq!(dossier(&app, &counter, &code).await["status_code"], 6);
    // A late success for the failed order changes nothing.
    let result = back.split_once('?').expect("query").1;
    assert_eq!(ipn(&app, result).await, "02");

    // A minute later a new order; the applicant leaves the gateway waiting: no IPN.
    app.clock.set(datetime!(2026-11-02 08:01 +07:00));
    let o2 = open_order(&app, &counter, &code).await;
    assert_ne!(o2["id"], o["id"]);
    let back = through_sandbox(&app, o2["pay_url"].as_str().expect("url"), "timeout").await;
    let (_, shown) = return_page(&app, &back).await;
    assert_eq!(shown, "pending");
    let id2 = o2["id"].as_str().expect("id");
    assert_eq!(order(&app, &counter, id2).await["state"], "pending");
    // Re-querying gives the same answer until something happens.
    assert_eq!(order(&app, &counter, id2).await["state"], "pending");
    assert_eq!(dossier(&app, &counter, &code).await["status_code"], 6);
    // The orders of the dossier, oldest first.
    let (_, list) = get(&app, &counter, &format!("/api/v1/dossiers/{code}/payments")).await;
    let states: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|o| o["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["failed", "pending"]);
    // The dossier's payments page shows them, with the button to pay online.
    let html = page_ok(&app, &counter, &format!("/thanh-toan/ho-so/{code}")).await;
    assert!(html.contains("id=\"pay-online\""), "{html}");
    assert!(html.contains("id=\"pay-cash\""), "the counter may take cash: {html}");
    assert!(html.contains(id2));
}

#[tokio::test]
async fn forged_wrong_replayed_and_late_notifications_are_refused_and_recorded() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let first = awaiting_payment(&app).await;
    let second = awaiting_payment(&app).await;
    let o1 = open_order(&app, &counter, &first).await;
    let o2 = open_order(&app, &counter, &second).await;
    let id1 = o1["id"].as_str().expect("id").to_owned();
    let id2 = o2["id"].as_str().expect("id").to_owned();

    // Wrong amount, correctly signed: 04, nothing paid.
    assert_eq!(ipn(&app, &signed_ipn(&id1, FEE - 1_000, "90000001", true)).await, "04");
    // An amount that is not whole đồng.
    let odd = signed_ipn(&id1, FEE, "90000001", true).replace("vnp_Amount=15000000", "vnp_Amount=15000050");
    assert_eq!(ipn(&app, &odd).await, "97", "changed after signing");
    // Unknown order.
    assert_eq!(ipn(&app, &signed_ipn("NOSUCHORDER", FEE, "90000002", true)).await, "01");
    // Signed with another secret.
    let forged = vnpay::signed_query(
        "NOT-THE-SECRET",
        &[
            ("vnp_Amount", "15000000"),
            ("vnp_ResponseCode", "00"),
            ("vnp_TmnCode", TMN),
            ("vnp_TransactionNo", "90000003"),
            ("vnp_TransactionStatus", "00"),
            ("vnp_TxnRef", id1.as_str()),
        ],
    );
    assert_eq!(ipn(&app, &forged).await, "97");
    // No signature at all.
    assert_eq!(ipn(&app, &format!("vnp_TxnRef={id1}&vnp_Amount=15000000")).await, "97");
    assert_eq!(order(&app, &counter, &id1).await["state"], "pending");
    assert_eq!(dossier(&app, &counter, &first).await["status_code"], 6);

    // The real payment of the first order.
    assert_eq!(ipn(&app, &signed_ipn(&id1, FEE, "90000010", true)).await, "00");
    assert_eq!(order(&app, &counter, &id1).await["state"], "paid");
    assert_eq!(dossier(&app, &counter, &first).await["status_code"], 4);
    // Its transaction number replayed for the second order: refused.
    assert_eq!(ipn(&app, &signed_ipn(&id2, FEE, "90000010", true)).await, "99");
    assert_eq!(order(&app, &counter, &id2).await["state"], "pending");
    assert_eq!(dossier(&app, &counter, &second).await["status_code"], 6);

    // Fifteen minutes later the second order has expired: it cannot be paid.
    app.clock.set(datetime!(2026-11-02 08:16 +07:00));
    assert_eq!(order(&app, &counter, &id2).await["state"], "expired");
    let stale_url = o2["pay_url"].as_str().expect("url");
    let page = app.client.get(app.url(stale_url)).send().await.expect("page");
    assert_eq!(
        page.status(),
        StatusCode::BAD_REQUEST,
        "the gateway refuses an expired request"
    );
    assert_eq!(ipn(&app, &signed_ipn(&id2, FEE, "90000011", true)).await, "02");
    assert_eq!(order(&app, &counter, &id2).await["state"], "expired");
    assert_eq!(dossier(&app, &counter, &second).await["status_code"], 6);
    assert_eq!(dossier(&app, &counter, &second).await["payments"], json!([]));
    // A new order for it can be paid.
    let o3 = open_order(&app, &counter, &second).await;
    assert_ne!(o3["id"], o2["id"]);
    let back = through_sandbox(&app, o3["pay_url"].as_str().expect("url"), "approve").await;
    assert_eq!(return_page(&app, &back).await.1, "paid");
    assert_eq!(dossier(&app, &counter, &second).await["status_code"], 4);

    // Everything refused is there for the administrator, in the audit trail and the report.
    let director = sign_in(&app, "giamdoc").await;
    let (_, r) = get(&app, &director, "/api/v1/payments/reconciliation?date=2026-11-02").await;
    let mut kinds: Vec<&str> = r["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .map(|m| m["kind"].as_str().expect("kind"))
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "bad_signature",
            "bad_signature",
            "bad_signature",
            "expired",
            "replayed_transaction",
            "unknown_order",
            "wrong_amount"
        ],
        "{r}"
    );
    assert_eq!(r["totals"][0]["paid_count"], 2);
    let admin = sign_in(&app, "quantri").await;
    let (status, audit) = get(&app, &admin, "/api/v1/admin/audit?action=payment.notification_refused").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let text = audit.to_string();
    assert!(text.contains("payment.notification_refused"), "{text}");
    assert!(!text.contains(SECRET), "no secret anywhere");
}

/// Issue 19: a genuine message for an unpaid order (the customer's own cancelled payment)
/// with success codes, another transaction, another order or amount put in front of or
/// behind it, or any of its names repeated or spelt another way: each is refused with
/// `99`, changes nothing, and is on the reconciliation report and in the audit trail.
#[tokio::test]
async fn a_genuine_unpaid_message_with_parameters_added_settles_nothing() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let code = awaiting_payment(&app).await;
    let other_code = awaiting_payment(&app).await;
    let o = open_order(&app, &counter, &code).await;
    let other = open_order(&app, &counter, &other_code).await;
    let id = o["id"].as_str().expect("id").to_owned();
    let other_id = other["id"].as_str().expect("id").to_owned();
    let cancelled = signed_ipn(&id, FEE, "0", false);
    let forgeries = [
        format!("vnp_ResponseCode=00&vnp_TransactionStatus=00&vnp_TransactionNo=14000001&{cancelled}"),
        format!("vnp_TxnRef={other_id}&vnp_Amount=15000000&vnp_ResponseCode=00&vnp_TransactionStatus=00&{cancelled}"),
        format!("{cancelled}&vnp_ResponseCode=00&vnp_TransactionStatus=00"),
        format!("VNP_RESPONSECODE=00&VNP_TRANSACTIONSTATUS=00&{cancelled}"),
        format!("vnp%5FResponseCode=00&vnp%5FTransactionStatus=00&{cancelled}"),
        format!("{cancelled}&vnp_SecureHashType=SHA256"),
    ];
    for forged in &forgeries {
        assert_eq!(ipn(&app, forged).await, "99", "{forged}");
    }
    // The genuine message itself: believed, and it says not paid.
    assert_eq!(ipn(&app, &cancelled).await, "00");
    assert_eq!(order(&app, &counter, &id).await["state"], "failed");
    assert_eq!(order(&app, &counter, &other_id).await["state"], "pending");
    for dossier_code in [&code, &other_code] {
        assert_eq!(
            dossier(&app, &counter, dossier_code).await["status_code"],
            6,
            "nothing applied"
        );
    }
    let (_, r) = get(&app, &counter, "/api/v1/payments/reconciliation?date=2026-11-02").await;
    let invalid = r["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .filter(|m| m["kind"] == "invalid")
        .count();
    assert_eq!(invalid, forgeries.len(), "{r}");
    let admin = sign_in(&app, "quantri").await;
    let (_, audit) = get(&app, &admin, "/api/v1/admin/audit?action=payment.notification_refused").await;
    let refused = audit["items"].as_array().map_or(0, Vec::len);
    assert!(refused >= forgeries.len(), "every refusal audited: {audit}");

    // Anyone can send refused messages: each address gets a bounded number of records a
    // minute (they are audit records that stay); the answer is the same for all.
    let before = r["mismatches"].as_array().map_or(0, Vec::len);
    for _ in 0..40 {
        assert_eq!(ipn(&app, &format!("vnp_TxnRef={id}&vnp_TxnRef={other_id}")).await, "99");
    }
    let (_, r) = get(&app, &counter, "/api/v1/payments/reconciliation?date=2026-11-02").await;
    let after = r["mismatches"].as_array().map_or(0, Vec::len);
    let limit = motcua_server::state::GATEWAY_REFUSALS_PER_MINUTE as usize;
    assert!(
        after > before && after - before + forgeries.len() <= limit + 2,
        "{before} → {after}"
    );

    // The sandbox gateway reads a payment request the same way: one genuine pay URL with
    // another order (or return address) put in front is refused.
    let pay_url = other["pay_url"].as_str().expect("pay_url");
    let (path, query) = pay_url.split_once('?').expect("query");
    for spliced in [
        format!("{path}?vnp_TxnRef={id}&{query}"),
        format!("{path}?vnp_ReturnUrl=https%3A%2F%2Fevil.example&{query}"),
        format!("{path}?{query}&vnp_Amount=100"),
    ] {
        let r = app.client.get(app.url(&spliced)).send().await.expect("sandbox page");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{spliced}");
    }
}

#[tokio::test]
async fn the_same_notification_arriving_at_once_pays_once() {
    let app = app().await;
    let (counter, code, o) = an_open_order(&app).await;
    let query = signed_ipn(o["id"].as_str().expect("id"), FEE, "90000100", true);
    let answers = futures_join(&app, &query, 6).await;
    let mut sorted = answers.clone();
    sorted.sort();
    assert_eq!(sorted, ["00", "02", "02", "02", "02", "02"], "{answers:?}");
    let d = dossier(&app, &counter, &code).await;
    assert_eq!(d["status_code"], 4);
    assert_eq!(d["payments"].as_array().expect("payments").len(), 1);
}

/// Sends `query` to the IPN `n` times at once.
async fn futures_join(app: &TestApp, query: &str, n: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let url = app.url(&format!("/api/v1/payments/vnpay/ipn?{query}"));
        let client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let v: Value = client.get(url).send().await.expect("ipn").json().await.expect("json");
            v["RspCode"].as_str().expect("code").to_owned()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn cash_at_the_counter_is_recorded_as_an_order_and_confirms_the_payment() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let code = awaiting_payment(&app).await;
    let (status, e) = pay(&app, &counter, &code, json!({"method": "cash"})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the receipt number is required: {e}"
    );
    let (status, o) = pay(&app, &counter, &code, json!({"method": "cash", "reference": "BL-0001"})).await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    assert_eq!(o["state"], "paid");
    assert_eq!(o["method"], "cash");
    assert_eq!(o["gateway_txn"], "BL-0001");
    let d = dossier(&app, &counter, &code).await;
    assert_eq!(d["status_code"], 4);
    assert_eq!(d["payments"][0][0], FEE);
    // Nothing owed any more.
    let (status, _) = pay(&app, &counter, &code, json!({"method": "vnpay"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // One receipt number pays once.
    let other = awaiting_payment(&app).await;
    let (status, e) = pay(
        &app,
        &counter,
        &other,
        json!({"method": "cash", "reference": "BL-0001"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "reference");
    assert_eq!(dossier(&app, &counter, &other).await["status_code"], 6);
    // Staff of another department do not see the dossier at all.
    let justice = sign_in(&app, "cv.tuphap").await;
    let (status, _) = pay(
        &app,
        &justice,
        &other,
        json!({"method": "cash", "reference": "BL-0002"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn the_signature_covers_vnpays_published_example_exactly() {
    // VNPay's integration guide (https://sandbox.vnpayment.vn/apis/docs/huong-dan-tich-hop/,
    // «Tạo URL Thanh toán») shows this payment URL; the string signed is its query without
    // vnp_SecureHash, built here from the unsorted parameters. The demo terminal's secret is
    // not published, so the signature itself is checked against an independent HMAC-SHA512
    // computation (Python's hmac module) with a test secret.
    let params = [
        ("vnp_Version", "2.1.0"),
        ("vnp_TxnRef", "5"),
        ("vnp_TmnCode", "DEMOV210"),
        ("vnp_ReturnUrl", "https://domainmerchant.vn/ReturnUrl"),
        ("vnp_OrderType", "other"),
        ("vnp_OrderInfo", "Thanh toan don hang :5"),
        ("vnp_Locale", "vn"),
        ("vnp_IpAddr", "127.0.0.1"),
        ("vnp_CurrCode", "VND"),
        ("vnp_CreateDate", "20210801153333"),
        ("vnp_Command", "pay"),
        ("vnp_Amount", "1806000"),
    ];
    assert_eq!(
        vnpay::hash_data(params),
        "vnp_Amount=1806000&vnp_Command=pay&vnp_CreateDate=20210801153333&vnp_CurrCode=VND&vnp_IpAddr=127.0.0.1\
         &vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+%3A5&vnp_OrderType=other\
         &vnp_ReturnUrl=https%3A%2F%2Fdomainmerchant.vn%2FReturnUrl&vnp_TmnCode=DEMOV210&vnp_TxnRef=5&vnp_Version=2.1.0"
    );
    assert_eq!(
        vnpay::sign("SECRETKEYFORTESTONLY0123456789AB", params),
        "ad7f27c7d981f14af5c48ff15e2ed60a86d0a279b6b4a7b0f42d66699c76d7ef79e78e7c1595ebc4e6c9004aba9d12302f44c58a545e151571a241e5c5d39e6a"
    );
}

/// The `dossier_forms` rows of kind `payment-receipt` of dossier `code`, polled until one
/// exists (the receipt is issued in the background once the payment is confirmed).
async fn receipt_records(app: &TestApp, code: &str) -> Vec<(i64, String, i64)> {
    issued_forms(app, code, "a payment receipt", |r| r.kind == "payment-receipt")
        .await
        .into_iter()
        .filter(|r| r.kind == "payment-receipt")
        .map(|r| (r.ordinal, r.sha256, r.size))
        .collect()
}

#[tokio::test]
async fn a_confirmed_payment_has_an_electronic_receipt_for_those_who_may_see_the_dossier() {
    let app = app().await;
    let (counter, code, o) = an_open_order(&app).await;
    let id = o["id"].as_str().expect("id").to_owned();
    assert!(o["receipt_url"].is_null(), "no receipt before payment: {o}");
    let receipt = format!("/api/v1/payments/{id}/receipt.pdf");
    let (status, _, _) = download(&app, Some(&counter), &receipt).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not paid yet");

    let back = through_sandbox(&app, o["pay_url"].as_str().expect("pay_url"), "approve").await;
    assert_eq!(return_page(&app, &back).await.1, "paid");
    let paid = order(&app, &counter, &id).await;
    assert_eq!(paid["receipt_url"], receipt.as_str());
    let txn = paid["gateway_txn"].as_str().expect("txn").to_owned();

    // Issued once confirmed, recorded with its hash, and what is served is what was stored.
    let records = receipt_records(&app, &code).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let (status, headers, pdf) = download(&app, Some(&counter), &receipt).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let digest = motcua_server::auth::hex_encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    assert_eq!(records[0].1, digest, "the stored receipt is served");
    let text = pdf_text(&pdf);
    for want in [
        "BIÊN LAI THU PHÍ, LỆ PHÍ",
        code.as_str(),
        "150.000 đ",
        txn.as_str(),
        id.as_str(),
        "VNPay",
    ] {
        assert!(text.contains(want), "«{want}» missing: {text}");
    }
    // The payment page links it.
    let (_, page) = page(&app, Some(&counter), &format!("/thanh-toan/ho-so/{code}")).await;
    assert!(page.contains(&format!("href=\"{receipt}\"")), "{page}");

    // Strangers: a citizen who did not file it, staff of another department.
    for stranger in ["congdan", "cv.tuphap"] {
        let s = sign_in(&app, stranger).await;
        let (status, _, body) = download(&app, Some(&s), &receipt).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{stranger}: {status}"
        );
        assert!(!body.starts_with(b"%PDF-"));
    }
}

#[tokio::test]
async fn a_cash_payment_has_a_receipt_naming_the_receipt_number() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let code = awaiting_payment(&app).await;
    let (status, o) = pay(&app, &counter, &code, json!({"method": "cash", "reference": "BL-7777"})).await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    let receipt = o["receipt_url"].as_str().expect("receipt_url").to_owned();
    let (status, _, pdf) = download(&app, Some(&counter), &receipt).await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    for want in [code.as_str(), "150.000 đ", "BL-7777", "Tiền mặt"] {
        assert!(text.contains(want), "«{want}» missing: {text}");
    }
}

/// Asks the gateway about order `id` as `s`.
async fn requery(app: &TestApp, s: &Session, id: &str) -> (StatusCode, Value) {
    post(app, s, &format!("/api/v1/payments/{id}/query"), json!({})).await
}

#[tokio::test]
async fn a_payment_whose_ipn_was_lost_is_found_by_re_querying_the_gateway() {
    let app = app().await;
    let (counter, code, o) = an_open_order(&app).await;
    let id = o["id"].as_str().expect("id").to_owned();
    // Nothing happened at the gateway yet: it knows no such transaction.
    let (status, q) = requery(&app, &counter, &id).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["asked"], true);
    assert_eq!(q["response_code"], "91");
    assert_eq!(q["outcome"], "not_paid");
    assert_eq!(q["order"]["state"], "pending");

    // Paid, but the IPN never arrives: the browser's return changes nothing.
    let back = through_sandbox(&app, o["pay_url"].as_str().expect("pay_url"), "approve_no_ipn").await;
    let (status, shown) = return_page(&app, &back).await;
    assert_eq!((status, shown.as_str()), (StatusCode::OK, "pending"));
    assert_eq!(dossier(&app, &counter, &code).await["status_code"], 6);

    // A re-query learns it, and applies it as the IPN would have.
    let (status, q) = requery(&app, &counter, &id).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["response_code"], "00");
    assert_eq!(q["transaction_status"], "00");
    assert_eq!(q["outcome"], "paid", "{q}");
    assert_eq!(q["order"]["state"], "paid");
    assert!(q["order"]["gateway_txn"].as_str().is_some_and(|t| !t.is_empty()));
    let d = dossier(&app, &counter, &code).await;
    assert_eq!(d["status_code"], 4, "handling resumes");
    assert_eq!(d["payments"].as_array().expect("payments").len(), 1);
    // Again: nothing more happens.
    let (status, q) = requery(&app, &counter, &id).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["asked"], false);
    assert_eq!(q["outcome"], "settled");
    assert_eq!(
        dossier(&app, &counter, &code).await["payments"]
            .as_array()
            .expect("p")
            .len(),
        1
    );
    // A stranger cannot ask.
    let stranger = sign_in(&app, "cv.tuphap").await;
    let (status, _) = requery(&app, &stranger, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_declined_payment_stays_unpaid_after_a_re_query() {
    let app = app().await;
    let (counter, code, o) = an_open_order(&app).await;
    let id = o["id"].as_str().expect("id").to_owned();
    through_sandbox(&app, o["pay_url"].as_str().expect("pay_url"), "decline_no_ipn").await;
    let (status, q) = requery(&app, &counter, &id).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["response_code"], "00");
    assert_eq!(q["transaction_status"], "02");
    assert_eq!(q["outcome"], "not_paid");
    assert_eq!(q["order"]["state"], "pending");
    assert_eq!(dossier(&app, &counter, &code).await["status_code"], 6);
}

/// A gateway that answers every `querydr` with "paid" for the order asked about, signed
/// with `secret` over the documented fields, then altered by `tamper`.
async fn fake_gateway(secret: &'static str, tamper: fn(&mut serde_json::Map<String, Value>)) -> String {
    use axum::routing::post as axum_post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://{}/merchant_webapi/api/transaction",
        listener.local_addr().expect("addr")
    );
    let router = axum::Router::new().route(
        "/merchant_webapi/api/transaction",
        axum_post(
            move |axum::Json(req): axum::Json<serde_json::Map<String, Value>>| async move {
                let mut out = serde_json::Map::new();
                for (k, v) in [
                    ("vnp_ResponseId", "R1".to_owned()),
                    ("vnp_Command", "querydr".to_owned()),
                    ("vnp_ResponseCode", "00".to_owned()),
                    ("vnp_Message", "QueryDR Success".to_owned()),
                    ("vnp_TmnCode", TMN.to_owned()),
                    ("vnp_TxnRef", req["vnp_TxnRef"].as_str().unwrap_or_default().to_owned()),
                    ("vnp_Amount", (FEE * 100).to_string()),
                    ("vnp_BankCode", "NCB".to_owned()),
                    ("vnp_PayDate", "20261102080500".to_owned()),
                    ("vnp_TransactionNo", "14999999".to_owned()),
                    ("vnp_TransactionType", "01".to_owned()),
                    ("vnp_TransactionStatus", "00".to_owned()),
                    ("vnp_OrderInfo", "thanh toan".to_owned()),
                ] {
                    out.insert(k.to_owned(), Value::String(v));
                }
                vnpay::sign_pipe(secret, &vnpay::QUERY_RESPONSE_FIELDS, &mut out);
                tamper(&mut out);
                axum::Json(out)
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

async fn query_against(api_url: String) -> (StatusCode, Value, TestApp, String) {
    let app = spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), move |c| {
        c.vnpay_tmn_code = TMN.to_owned();
        c.vnpay_hash_secret = SECRET.to_owned();
        c.vnpay_api_url = api_url;
    })
    .await;
    let (counter, code, o) = an_open_order(&app).await;
    let id = o["id"].as_str().expect("id").to_owned();
    let (status, q) = requery(&app, &counter, &id).await;
    (status, q, app, code)
}

#[tokio::test]
async fn a_query_answer_with_a_wrong_checksum_is_refused() {
    // The control: the same answer, correctly signed, is believed.
    let (status, q, _, _) = query_against(fake_gateway(SECRET, |_| {}).await).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["outcome"], "paid", "{q}");
    // Altered after signing (the amount), or signed with another secret.
    let raise = |m: &mut serde_json::Map<String, Value>| {
        m.insert("vnp_Amount".into(), Value::String("99900000".into()));
    };
    for url in [
        fake_gateway(SECRET, raise).await,
        fake_gateway("NOT-THE-SECRET", |_| {}).await,
    ] {
        let (status, e, app, code) = query_against(url).await;
        assert!(status.is_client_error(), "{status}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| m.contains("chữ ký")), "{e}");
        let counter = sign_in(&app, "tiepnhan").await;
        assert_eq!(
            dossier(&app, &counter, &code).await["status_code"],
            6,
            "nothing applied"
        );
        // The refusal is on the day's reconciliation.
        let (_, r) = get(&app, &counter, "/api/v1/payments/reconciliation?date=2026-11-02").await;
        assert!(
            r["mismatches"]
                .as_array()
                .expect("mismatches")
                .iter()
                .any(|m| m["kind"] == "bad_signature"),
            "{r}"
        );
    }
}

/// A listener for a host that must never be contacted: it counts the connections made to
/// it (and drops them).
async fn tripwire() -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let contacts = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&contacts);
    tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(connection);
        }
    });
    (addr, contacts)
}

#[tokio::test]
async fn a_forged_host_header_does_not_choose_where_payments_are_re_queried() {
    use std::sync::atomic::Ordering;
    let (forged, contacts) = tripwire().await;
    let app = app().await;
    let (counter, _, o) = an_open_order(&app).await;
    let id = o["id"].as_str().expect("id");
    // The re-query of the sandbox goes to this server's own address, whatever the request
    // says it was sent to.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/payments/{id}/query")))
        .header("host", forged.to_string())
        .header("x-forwarded-host", forged.to_string())
        .header("forwarded", format!("host={forged}"))
        .header("cookie", &counter.cookie)
        .header("x-csrf-token", &counter.csrf)
        .json(&json!({}))
        .send()
        .await
        .expect("query");
    assert_eq!(r.status(), StatusCode::OK);
    let q: Value = r.json().await.expect("json");
    assert_eq!(
        (q["asked"].as_bool(), q["response_code"].as_str()),
        (Some(true), Some("91")),
        "{q}"
    );
    assert_eq!(
        contacts.load(Ordering::SeqCst),
        0,
        "the forged host was never contacted"
    );
    // The control: named where the server is told to re-query, the tripwire is reached, so
    // it would have shown a re-query sent where the Host header said.
    let (status, e, _, _) = query_against(format!("http://{forged}/merchant_webapi/api/transaction")).await;
    assert!(!status.is_success(), "{status}: {e}");
    assert!(contacts.load(Ordering::SeqCst) >= 1, "the tripwire counts connections");
}

#[tokio::test]
async fn intake_refuses_post_without_an_address_and_records_fee_exemptions_with_their_reason() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let good = judicial_record_intake(&app).await;

    // The result by post needs somewhere to go.
    let mut by_post = good.clone();
    by_post["delivery"] = json!("post");
    by_post["applicant"]["address"] = json!(" ");
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", by_post).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "applicant.address");
    assert!(e["message"].as_str().is_some_and(|m| m.contains("bưu chính")), "{e}");

    // An exemption needs its reason, and an item that exists.
    let mut no_reason = good.clone();
    no_reason["exemptions"] = json!([{"item": 0}]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", no_reason).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "exemptions[0].reason");
    let mut no_item = good.clone();
    no_item["exemptions"] = json!([{"item": 7, "reason": "Hộ nghèo"}]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", no_item).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "exemptions[0].item");

    // Waived: recorded on the dossier, audited, on receipt form 01, and nothing due for it.
    let mut waived = good.clone();
    waived["exemptions"] = json!([{"reason": "Người có công với cách mạng"}]);
    let (status, d) = post(&app, &counter, "/api/v1/dossiers", waived).await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    let code = d["code"].as_str().expect("code").to_owned();
    let exemptions = d["exemptions"].as_array().expect("exemptions");
    assert_eq!(exemptions.len(), d["fees"].as_array().expect("fees").len());
    assert_eq!(exemptions[0]["reason"], "Người có công với cách mạng");
    assert_eq!(exemptions[0]["amount"], 200_000);
    assert!(
        exemptions[0]["by"]["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{d}"
    );
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let audited = motcua_store::audit::list(
        &mut tx,
        &motcua_store::audit::AuditFilter {
            chain: None,
            actor: None,
            action: Some("dossier.fee_exemption".to_owned()),
            object_type: None,
            object_id: Some(code.clone()),
            province_code: None,
            from_ms: None,
            to_ms: None,
            after: None,
            limit: 10,
        },
    )
    .await
    .expect("audit");
    drop(tx);
    assert_eq!(audited.len(), 1, "the exemption is audited");
    let (status, _, pdf) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("miễn: Người có công với cách mạng"), "{text}");
    assert!(text.contains("Tổng cộng 0"), "{text}");
    assert!(text.contains("miễn 200.000 đ"), "{text}");
    // Citizens cannot waive their own fees.
    let citizen = sign_in(&app, "congdan").await;
    let mut own = good;
    own["exemptions"] = json!([{"reason": "Tự miễn"}]);
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", own).await;
    assert!(status.is_client_error(), "{status}: {e}");
}

#[tokio::test]
async fn the_maintenance_re_query_finds_payments_whose_ipn_never_came() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let lost = awaiting_payment(&app).await;
    let declined = awaiting_payment(&app).await;
    let lost_order = open_order(&app, &counter, &lost).await;
    let declined_order = open_order(&app, &counter, &declined).await;
    through_sandbox(&app, lost_order["pay_url"].as_str().expect("pay_url"), "approve_no_ipn").await;
    through_sandbox(
        &app,
        declined_order["pay_url"].as_str().expect("pay_url"),
        "decline_no_ipn",
    )
    .await;
    // The housekeeping of a server like the one under test (same database, terminal and
    // clock), which reaches the sandbox at its own listening address.
    let mut state = motcua_server::AppState::new(
        app.test_db.db.clone(),
        motcua_server::Config {
            vnpay_tmn_code: TMN.to_owned(),
            vnpay_hash_secret: SECRET.to_owned(),
            sandbox_gateway: Some(true),
            listen: app.base.trim_start_matches("http://").parse().expect("address"),
            data_dir: app.test_db.dir.path().to_owned(),
            ..motcua_server::Config::default()
        },
    )
    .expect("state");
    state.set_clock(app.clock.clone());
    // Too recent: the IPN may still come.
    assert_eq!(
        motcua_server::service::payments::requery_pending(&state)
            .await
            .expect("requery"),
        0
    );
    assert_eq!(dossier(&app, &counter, &lost).await["status_code"], 6);
    // Six minutes later (the orders are still open: 15 minutes), the lost one is found paid.
    app.clock.set(datetime!(2026-11-02 08:06 +07:00));
    assert_eq!(
        motcua_server::service::payments::requery_pending(&state)
            .await
            .expect("requery"),
        1
    );
    assert_eq!(dossier(&app, &counter, &lost).await["status_code"], 4);
    assert_eq!(
        order(&app, &counter, lost_order["id"].as_str().expect("id")).await["state"],
        "paid"
    );
    assert_eq!(dossier(&app, &counter, &declined).await["status_code"], 6);
    assert_eq!(
        order(&app, &counter, declined_order["id"].as_str().expect("id")).await["state"],
        "pending"
    );
    // Nothing more to find.
    assert_eq!(
        motcua_server::service::payments::requery_pending(&state)
            .await
            .expect("requery"),
        0
    );
}
