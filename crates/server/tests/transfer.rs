//! Fees paid by bank transfer (issue 24 items 5 and 6) on the backend the test run selects:
//! the VietQR code on the payment order, the page and the fee notice (read back from the
//! PDF by zbarimg, an independent decoder), and the bank's statements settling orders.

mod common;

use std::process::Command;

use common::api::{get, post};
use common::files::{download, pdf_text};
use common::pages::page_ok;
use common::{Session, TestApp, sign_in, spawn_app_at_with};
use motcua_server::config::BankAccount;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

const FEE: u64 = 150_000;
/// The centre, which receives counter dossiers and so collects their fees.
const CENTRE: &str = "000.00.16.H43";
const BIN: &str = "970415";
const ACCOUNT: &str = "113000123456";
const HOLDER: &str = "TRUNG TAM PHUC VU HANH CHINH CONG TINH NINH THUAN";

async fn app() -> TestApp {
    spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.bank_accounts = vec![BankAccount {
            agency: CENTRE.to_owned(),
            bin: BIN.to_owned(),
            bank: "VietinBank".to_owned(),
            account: ACCOUNT.to_owned(),
            name: HOLDER.to_owned(),
        }];
    })
    .await
}

/// A dossier of Sở Xây dựng waiting for `FEE` (status 6).
async fn awaiting_payment(app: &TestApp) -> String {
    common::intake::awaiting_payment(app, FEE).await
}

/// Opens (or finds) the transfer order of dossier `code` as `s`.
async fn transfer_order(app: &TestApp, s: &Session, code: &str) -> (StatusCode, Value) {
    post(
        app,
        s,
        &format!("/api/v1/dossiers/{code}/payments"),
        json!({"method": "transfer"}),
    )
    .await
}

/// Every QR code zbarimg (zbar-tools, see scripts/deps.sh) reads on the first page of `pdf`.
fn zbar_codes_of_pdf(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (poppler-utils, see scripts/deps.sh)");
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(dir.path().join("page.png"))
        .output()
        .expect("zbarimg (zbar-tools, see scripts/deps.sh)");
    assert!(
        out.status.success(),
        "zbarimg found no code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The TLV fields of an EMVCo payload, read apart from the code that wrote it.
fn tlv(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while rest.len() >= 4 {
        let tag = rest[..2].to_owned();
        let len: usize = rest[2..4].parse().expect("length");
        out.push((tag, rest[4..4 + len].to_owned()));
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty(), "trailing bytes in {s}");
    out
}

fn field<'a>(fields: &'a [(String, String)], tag: &str) -> &'a str {
    fields
        .iter()
        .find(|(t, _)| t == tag)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("tag {tag} missing"))
}

#[tokio::test]
async fn a_transfer_order_carries_a_vietqr_code_on_the_api_the_page_and_the_notice() {
    let app = app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let code = awaiting_payment(&app).await;

    let (status, o) = transfer_order(&app, &counter, &code).await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("MC") && id.len() == 16, "{id}");
    assert_eq!(o["method"], "transfer");
    assert_eq!(o["state"], "pending");
    assert!(o["pay_url"].is_null(), "no gateway for a transfer: {o}");
    let t = &o["transfer"];
    assert_eq!(t["bin"], BIN);
    assert_eq!(t["account"], ACCOUNT);
    assert_eq!(t["account_name"], HOLDER);
    assert_eq!(t["reference"], id.as_str());
    assert_eq!(t["amount_in_words"], "Một trăm năm mươi nghìn đồng");
    // Asking again gives the same open order.
    let (status, again) = transfer_order(&app, &counter, &code).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], id.as_str());

    // The payload, field by field.
    let payload = t["payload"].as_str().expect("payload").to_owned();
    let fields = tlv(&payload);
    assert_eq!(field(&fields, "00"), "01");
    assert_eq!(field(&fields, "01"), "12");
    let napas = tlv(field(&fields, "38"));
    assert_eq!(field(&napas, "00"), "A000000727");
    assert_eq!(field(&napas, "02"), "QRIBFTTA");
    let beneficiary = tlv(field(&napas, "01"));
    assert_eq!(field(&beneficiary, "00"), BIN);
    assert_eq!(field(&beneficiary, "01"), ACCOUNT);
    assert_eq!(field(&fields, "53"), "704");
    assert_eq!(field(&fields, "54"), "150000");
    assert_eq!(field(&fields, "58"), "VN");
    assert_eq!(field(&tlv(field(&fields, "62")), "08"), id);
    let crc = field(&fields, "63");
    let body = &payload[..payload.len() - 4];
    assert!(body.ends_with("6304"));
    assert_eq!(crc, motcua_core::vietqr::crc16(body));

    // The payment page shows the code, the bank, the holder and the amount in words.
    let html = page_ok(&app, &counter, &format!("/thanh-toan/ho-so/{code}")).await;
    for want in [
        format!("id=\"vietqr-{id}\""),
        format!("data-payload=\"{payload}\""),
        "<svg".to_owned(),
        ACCOUNT.to_owned(),
        HOLDER.to_owned(),
        "Một trăm năm mươi nghìn đồng".to_owned(),
        format!("/api/v1/payments/{id}/notice.pdf"),
    ] {
        assert!(html.contains(&want), "«{want}» missing from the page");
    }
    assert!(
        !html.contains("id=\"pay-transfer\""),
        "no second order offered while one is open"
    );

    // The fee notice: the same code, read back by zbarimg, and the details in words.
    let (status, headers, pdf) = download(&app, Some(&counter), &format!("/api/v1/payments/{id}/notice.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(zbar_codes_of_pdf(&pdf), vec![payload.clone()]);
    let text = pdf_text(&pdf);
    for want in [
        "THÔNG BÁO NỘP PHÍ, LỆ PHÍ",
        code.as_str(),
        "150.000 đ",
        "Một trăm năm mươi nghìn đồng",
        ACCOUNT,
        HOLDER,
        id.as_str(),
        "VietinBank",
    ] {
        assert!(text.contains(want), "«{want}» missing from the notice: {text}");
    }

    // Someone who may not see the dossier sees no order and no notice.
    let stranger = sign_in(&app, "congdan").await;
    let (status, _, body) = download(&app, Some(&stranger), &format!("/api/v1/payments/{id}/notice.pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.starts_with(b"%PDF-"));
    let (status, _) = get(&app, &stranger, &format!("/api/v1/payments/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_transfer_is_offered_where_the_agency_has_no_account() {
    let app = spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.bank_accounts = vec![BankAccount {
            agency: "000.00.01.H43".to_owned(),
            bin: BIN.to_owned(),
            bank: String::new(),
            account: ACCOUNT.to_owned(),
            name: HOLDER.to_owned(),
        }];
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;
    let code = awaiting_payment(&app).await;
    let (status, v) = transfer_order(&app, &counter, &code).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let html = page_ok(&app, &counter, &format!("/thanh-toan/ho-so/{code}")).await;
    assert!(!html.contains("id=\"pay-transfer\""));
}

/// A second collecting account, of Sở Tư pháp (`000.00.01.H43`), beside the centre's.
const OTHER_ACCOUNT: &str = "0421000777888";

async fn app_with_two_accounts() -> TestApp {
    spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.bank_accounts = vec![
            BankAccount {
                agency: CENTRE.to_owned(),
                bin: BIN.to_owned(),
                bank: "VietinBank".to_owned(),
                account: ACCOUNT.to_owned(),
                name: HOLDER.to_owned(),
            },
            BankAccount {
                agency: "000.00.01.H43".to_owned(),
                bin: "970436".to_owned(),
                bank: "Vietcombank".to_owned(),
                account: OTHER_ACCOUNT.to_owned(),
                name: "SO TU PHAP".to_owned(),
            },
        ];
    })
    .await
}

/// Posts a statement file as `s`: status and body.
async fn import(app: &TestApp, s: &Session, file: &str, account: Option<&str>) -> (StatusCode, Value) {
    let path = match account {
        Some(a) => format!("/api/v1/payments/statements?account={a}"),
        None => "/api/v1/payments/statements".to_owned(),
    };
    let r = app
        .client
        .post(app.url(&path))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/xml")
        .body(file.to_owned())
        .send()
        .await
        .expect("import");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// One camt.053 entry: a booked credit.
fn camt_entry(entry_ref: &str, amount: &str, description: &str) -> String {
    format!(
        "<Ntry><Amt Ccy=\"VND\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><DtTm>2026-11-02T10:15:00+07:00</DtTm></BookgDt><AcctSvcrRef>{entry_ref}</AcctSvcrRef>\
         <NtryDtls><TxDtls><RmtInf><Ustrd>{description}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
}

/// A camt.053 statement of `account` with `entries`.
fn camt(account: &str, id: &str, entries: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>{id}</MsgId><CreDtTm>2026-11-02T18:00:00+07:00</CreDtTm></GrpHdr>\
         <Stmt><Id>{id}</Id><Acct><Id><Othr><Id>{account}</Id></Othr></Id></Acct>\
         <Ntry><Amt Ccy=\"VND\">11000</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><Dt>2026-11-02</Dt></BookgDt><AcctSvcrRef>FEE-{id}</AcctSvcrRef></Ntry>\
         {}</Stmt></BkToCstmrStmt></Document>",
        entries.concat()
    )
}

/// A dossier waiting for `FEE` and its open transfer order's reference.
async fn open_transfer(app: &TestApp, counter: &Session) -> (String, String) {
    let code = awaiting_payment(app).await;
    let (status, o) = transfer_order(app, counter, &code).await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    (code, o["id"].as_str().expect("id").to_owned())
}

async fn status_of(app: &TestApp, s: &Session, code: &str) -> i64 {
    let (_, d) = get(app, s, &format!("/api/v1/dossiers/{code}")).await;
    d["status_code"].as_i64().expect("status")
}

async fn order_of(app: &TestApp, s: &Session, id: &str) -> Value {
    let (status, o) = get(app, s, &format!("/api/v1/payments/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    o
}

fn outcomes(report: &Value, list: &str) -> Vec<(String, String)> {
    report[list]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["entry_ref"].as_str().unwrap_or_default().to_owned(),
                c["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_camt053_statement_settles_the_matching_order_once_and_lists_the_rest() {
    let app = app_with_two_accounts().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (code, id) = open_transfer(&app, &counter).await;
    let (other_code, other_id) = open_transfer(&app, &counter).await;
    let (paid_code, paid_id) = open_transfer(&app, &counter).await;
    // The third is paid in cash first: a transfer for it arrives when nothing is owed (the
    // money is real: its order is paid and listed for a refund, as a late gateway payment is).
    let (status, v) = post(
        &app,
        &counter,
        &format!("/api/v1/dossiers/{paid_code}/payments"),
        json!({"method": "cash", "reference": "BL-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");

    let file = camt(
        ACCOUNT,
        "S1",
        &[
            // Pays `id`, the bank having added text around the reference and lower-cased it.
            camt_entry(
                "FT26306001",
                "150000",
                &format!("IBFT NGUYEN VAN A {} phi", id.to_lowercase()),
            ),
            camt_entry("FT26306002", "15000", &format!("CK {other_id}")),
            camt_entry("FT26306003", "150000", "chuyen tien khong ghi ma"),
            camt_entry("FT26306004", "150000", &paid_id),
            camt_entry("FT26306005", "150000", "MCFFFFFFFFFFFFFF"),
            // The same order paid a second time, by another transaction.
            camt_entry("FT26306006", "150000", &id),
        ],
    );
    let (status, r) = import(&app, &counter, &file, None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["credits"], 6);
    assert_eq!(r["skipped"], 1, "the debit");
    assert_eq!(
        outcomes(&r, "settled"),
        vec![("FT26306001".to_owned(), "paid".to_owned())]
    );
    assert_eq!(
        outcomes(&r, "listed"),
        vec![
            ("FT26306002".to_owned(), "wrong_amount".to_owned()),
            ("FT26306003".to_owned(), "unmatched".to_owned()),
            ("FT26306004".to_owned(), "paid_unapplied".to_owned()),
            ("FT26306005".to_owned(), "unmatched".to_owned()),
            ("FT26306006".to_owned(), "already_paid".to_owned()),
        ]
    );
    // The order is paid by the bank's transaction, the dossier moved on, the receipt says so.
    let o = order_of(&app, &counter, &id).await;
    assert_eq!(o["state"], "paid");
    assert_eq!(o["gateway_txn"], "FT26306001");
    assert_eq!(status_of(&app, &counter, &code).await, 4);
    assert_eq!(
        order_of(&app, &counter, &other_id).await["state"],
        "pending",
        "amount differs"
    );
    assert_eq!(status_of(&app, &counter, &other_code).await, 6);
    let receipt = o["receipt_url"].as_str().expect("receipt").to_owned();
    let (status, _, pdf) = download(&app, Some(&counter), &receipt).await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    for want in ["Chuyển khoản", "FT26306001", id.as_str()] {
        assert!(text.contains(want), "«{want}» missing from the receipt: {text}");
    }

    // The same statement again, and another file repeating an entry for another order: nothing changes.
    let (_, history_before) = get(&app, &counter, &format!("/api/v1/dossiers/{code}/history")).await;
    let (status, again) = import(&app, &counter, &file, None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["already_imported"], 6);
    assert!(again["settled"].as_array().expect("settled").is_empty());
    assert!(again["listed"].as_array().expect("listed").is_empty());
    let replay = camt(
        ACCOUNT,
        "S2",
        &[camt_entry("FT26306001", "150000", &format!("CK {other_id}"))],
    );
    let (_, r2) = import(&app, &counter, &replay, None).await;
    assert_eq!(r2["already_imported"], 1, "{r2}");
    assert_eq!(order_of(&app, &counter, &other_id).await["state"], "pending");
    let (_, history_after) = get(&app, &counter, &format!("/api/v1/dossiers/{code}/history")).await;
    assert_eq!(history_before, history_after);

    // The day's reconciliation counts the transfer beside the cash, and lists the credits.
    let director = sign_in(&app, "giamdoc").await;
    let (status, rec) = get(
        &app,
        &director,
        &format!("/api/v1/payments/reconciliation?date=2026-11-02&agency={CENTRE}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    let totals = rec["totals"].as_array().expect("totals");
    // Two transfers (one of them the late one, to refund) and the cash.
    for (method, n) in [("transfer", 2), ("cash", 1)] {
        let t = totals.iter().find(|t| t["method"] == method).expect(method);
        assert_eq!(t["paid_count"], n, "{method}");
        assert_eq!(t["paid_amount"], FEE * n, "{method}");
    }
    assert_eq!(rec["statement_credits"].as_array().expect("credits").len(), 6);

    // Listed credits wait for an officer; resolving one is recorded once.
    let (status, open) = get(&app, &counter, "/api/v1/payments/statement-credits").await;
    assert_eq!(status, StatusCode::OK, "{open}");
    let open = open.as_array().expect("open").clone();
    assert_eq!(open.len(), 5);
    let credit = open[0]["id"].as_i64().expect("id");
    let path = format!("/api/v1/payments/statement-credits/{credit}/resolve");
    let (status, v) = post(
        &app,
        &counter,
        &path,
        json!({"resolution": "Đã hoàn tiền cho người nộp"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["resolution"], "Đã hoàn tiền cho người nộp");
    let (status, _) = post(&app, &counter, &path, json!({"resolution": "lần nữa"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, open) = get(&app, &counter, "/api/v1/payments/statement-credits").await;
    assert_eq!(open.as_array().expect("open").len(), 4);
    let admin = sign_in(&app, "quantri").await;
    for action in [
        "payment.statement_import",
        "payment.statement_credit",
        "payment.statement_credit_resolve",
    ] {
        let (status, audit) = get(&app, &admin, &format!("/api/v1/admin/audit?action={action}")).await;
        assert_eq!(status, StatusCode::OK, "{audit}");
        assert!(audit.to_string().contains(action), "{action}: {audit}");
    }
}

#[tokio::test]
async fn a_csv_statement_settles_the_matching_order_and_lists_the_rest() {
    let app = app_with_two_accounts().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (code, id) = open_transfer(&app, &counter).await;
    let csv = format!(
        "Ngày giao dịch;Số tham chiếu;Số tiền ghi nợ;Số tiền ghi có;Nội dung giao dịch\n\
         02/11/2026 10:15;TT1;;150.000;{id} NGUYEN VAN A\n\
         02/11/2026 11:00;TT2;;150.000;khong ro\n\
         02/11/2026 12:00;TT3;5.000;;phi dich vu\n"
    );
    // A CSV export names no account: the importer says which.
    let (status, v) = import(&app, &counter, &csv, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, r) = import(&app, &counter, &csv, Some(ACCOUNT)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(outcomes(&r, "settled"), vec![("TT1".to_owned(), "paid".to_owned())]);
    assert_eq!(outcomes(&r, "listed"), vec![("TT2".to_owned(), "unmatched".to_owned())]);
    assert_eq!(r["skipped"], 1);
    assert_eq!(status_of(&app, &counter, &code).await, 4);
    let (_, again) = import(&app, &counter, &csv, Some(ACCOUNT)).await;
    assert_eq!(again["already_imported"], 2);
    assert_eq!(order_of(&app, &counter, &id).await["gateway_txn"], "TT1");
}

#[tokio::test]
async fn a_statement_settles_nothing_for_the_wrong_people_accounts_or_amounts() {
    let app = app_with_two_accounts().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (code, id) = open_transfer(&app, &counter).await;
    let good = camt(ACCOUNT, "S1", &[camt_entry("FT1", "150000", &id)]);

    // Only staff who may collect for the account's agency import it.
    for who in ["congdan", "cv.tuphap", "ld.xaydung"] {
        let s = sign_in(&app, who).await;
        let (status, v) = import(&app, &s, &good, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    // An account that collects for nobody is refused whole.
    let (status, v) = import(
        &app,
        &counter,
        &camt("999999999", "S0", &[camt_entry("FT0", "150000", &id)]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    // A credit to another agency's account does not settle the centre's order.
    let (status, r) = import(
        &app,
        &counter,
        &camt(OTHER_ACCOUNT, "S2", &[camt_entry("FT2", "150000", &id)]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        outcomes(&r, "listed"),
        vec![("FT2".to_owned(), "other_account".to_owned())]
    );
    // Amounts must match exactly: a đồng more, a fraction, another currency.
    let (_, r) = import(
        &app,
        &counter,
        &camt(
            ACCOUNT,
            "S3",
            &[
                camt_entry("FT3", "150001", &id),
                camt_entry("FT4", "150000.50", &id),
                camt_entry("FT5", "149999", &id),
            ],
        ),
        None,
    )
    .await;
    assert_eq!(
        outcomes(&r, "listed"),
        vec![
            ("FT3".to_owned(), "wrong_amount".to_owned()),
            ("FT4".to_owned(), "wrong_amount".to_owned()),
            ("FT5".to_owned(), "wrong_amount".to_owned()),
        ]
    );
    let usd = good
        .replace("Ccy=\"VND\">150000", "Ccy=\"USD\">150000")
        .replace("FT1", "FT6");
    let (_, r) = import(&app, &counter, &usd, None).await;
    assert_eq!(
        outcomes(&r, "listed"),
        vec![("FT6".to_owned(), "wrong_amount".to_owned())]
    );
    // A description naming two orders settles neither.
    let (_, r) = import(
        &app,
        &counter,
        &camt(
            ACCOUNT,
            "S4",
            &[camt_entry("FT7", "150000", &format!("{id} MC0000000000000A"))],
        ),
        None,
    )
    .await;
    assert_eq!(outcomes(&r, "listed"), vec![("FT7".to_owned(), "unmatched".to_owned())]);
    assert_eq!(order_of(&app, &counter, &id).await["state"], "pending");
    assert_eq!(status_of(&app, &counter, &code).await, 6);

    // The genuine credit settles it; the same bank transaction under another account
    // (a crafted file) settles nothing more.
    let (_, r) = import(&app, &counter, &good, None).await;
    assert_eq!(outcomes(&r, "settled"), vec![("FT1".to_owned(), "paid".to_owned())]);
    let (_, id2) = open_transfer(&app, &counter).await;
    let (_, r) = import(
        &app,
        &counter,
        &camt(ACCOUNT, "S5", &[camt_entry("FT1", "150000", &id2)]),
        None,
    )
    .await;
    assert_eq!(r["already_imported"], 1, "{r}");
    assert_eq!(order_of(&app, &counter, &id2).await["state"], "pending");
}
