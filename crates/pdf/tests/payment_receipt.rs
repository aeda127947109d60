//! The electronic receipt of a fee payment renders the payment's facts, deterministically.

use std::process::Command;

use motcua_pdf::{PAYMENT_RECEIPT_TITLE, Renderer};
use serde_json::json;
use time::macros::datetime;

fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_payment_receipt_prints_payer_dossier_items_and_transaction() {
    let data = json!({
        "form": {"title": PAYMENT_RECEIPT_TITLE},
        "issuer": {"parent": "Ủy ban nhân dân tỉnh Ninh Thuận", "name": "Trung tâm Phục vụ hành chính công tỉnh",
                   "address": "450 Thống Nhất, Phan Rang - Tháp Chàm", "phone": ""},
        "place_date": "Ninh Thuận, ngày 02 tháng 11 năm 2026",
        "number": "BL-0A1B2C3D4E5F6071",
        "code": "000.00.16.H43-261102-0001",
        "applicant": {"name": "Nguye\u{302}\u{303}n Văn An", "id_label": "Số định danh cá nhân",
                      "id_number": "058190000123", "address": "Phan Rang - Tháp Chàm"},
        "procedure": {"code": "1.009794", "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ"},
        "items": [{"no": 1, "name": "Lệ phí cấp giấy phép xây dựng", "kind": "Lệ phí", "amount": "75.000 đ"},
                  {"no": 2, "name": "Phí thẩm định", "kind": "Phí", "amount": "1.075.000 đ"}],
        "total": "1.150.000 đ",
        "exempted": "",
        "method": "Trực tuyến qua cổng thanh toán VNPay",
        "txn_label": "Mã giao dịch VNPay",
        "txn": "14123456",
        "bank": "NCB",
        "paid_at": "08 giờ 10 phút, ngày 02 tháng 11 năm 2026",
        "order_id": "0A1B2C3D4E5F6071",
        "collector": "Cổng thanh toán VNPay",
    });
    let r = Renderer::new(None);
    let issued = datetime!(2026-11-02 08:10 +07:00);
    let pdf = r
        .render_payment_receipt(&data, issued, "x/payment-receipt/1")
        .expect("renders");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        pdf,
        r.render_payment_receipt(&data, issued, "x/payment-receipt/1")
            .expect("again")
    );
    if let Some(text) = pdftotext(&pdf) {
        for want in [
            "BIÊN LAI THU PHÍ, LỆ PHÍ",
            "000.00.16.H43-261102-0001",
            "Nguyễn Văn An",
            "1.150.000 đ",
            "1.075.000 đ",
            "14123456",
            "Trung tâm Phục vụ hành chính công tỉnh",
        ] {
            assert!(text.contains(want), "{want} missing:\n{text}");
        }
    }
}
