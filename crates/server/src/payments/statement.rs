//! Bank statements (issue 24 item 6): the credits of a collecting agency's account, read
//! from an ISO 20022 `camt.053` file (BankToCustomerStatement, any version: elements are
//! found by local name) or from a bank's CSV export, and the payment-order references
//! their descriptions carry. Reading only: what a credit settles is decided by
//! `crate::service::payments` through the same path as a gateway notification.
//!
//! The XML is parsed by `roxmltree`, which refuses a document type declaration, so no
//! entity can expand (no «billion laughs», no external entity).

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use motcua_core::calendar::VIETNAM_OFFSET;

/// One credit to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The bank's reference of the entry (camt `AcctSvcrRef`; the CSV's transaction
    /// number): one bank transaction, whichever file repeats it.
    pub entry_ref: String,
    /// Whole đồng; `None` when the figure is not a whole number of đồng in VND.
    pub amount: Option<u64>,
    /// What the statement wrote, for people.
    pub amount_text: String,
    /// When the bank booked it.
    pub booked_at: OffsetDateTime,
    /// The transfer's description (remittance information).
    pub description: String,
}

/// The credits of one account in a statement file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The account, as the file names it (empty when it does not: a CSV without the column).
    pub account: String,
    /// Its credits, booked, in the file's order.
    pub credits: Vec<Credit>,
    /// Entries that are not booked credits (debits, pending entries), left aside.
    pub skipped: usize,
}

/// Reads `bytes` as a camt.053 file when it starts (after blanks and a byte-order mark)
/// with `<`, otherwise as a CSV export.
pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| "tệp sao kê phải là văn bản UTF-8".to_owned())?;
    if text.trim_start().starts_with('<') {
        parse_camt053(text)
    } else {
        parse_csv(text)
    }
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn path<'a, 'i>(n: roxmltree::Node<'a, 'i>, names: &[&str]) -> Option<roxmltree::Node<'a, 'i>> {
    names.iter().try_fold(n, |n, name| child(n, name))
}

fn text_at(n: roxmltree::Node<'_, '_>, names: &[&str]) -> String {
    path(n, names)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// Reads an ISO 20022 camt.053 statement: every `Stmt`, its account (`Acct/Id/IBAN` or
/// `Acct/Id/Othr/Id`), and every entry (`Ntry`) that is a booked credit.
pub fn parse_camt053(text: &str) -> Result<Vec<Statement>, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("tệp XML không đọc được: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Document" || child(root, "BkToCstmrStmt").is_none() {
        return Err("tệp XML không phải sao kê camt.053 (Document/BkToCstmrStmt)".to_owned());
    }
    let mut out = Vec::new();
    for stmt in root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Stmt")
    {
        let account = match text_at(stmt, &["Acct", "Id", "IBAN"]) {
            a if !a.is_empty() => a,
            _ => text_at(stmt, &["Acct", "Id", "Othr", "Id"]),
        };
        let mut credits = Vec::new();
        let mut skipped = 0;
        for (i, entry) in stmt
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "Ntry")
            .enumerate()
        {
            let status = match text_at(entry, &["Sts", "Cd"]) {
                s if !s.is_empty() => s,
                _ => text_at(entry, &["Sts"]),
            };
            if text_at(entry, &["CdtDbtInd"]) != "CRDT" || !(status.is_empty() || status == "BOOK") {
                skipped += 1;
                continue;
            }
            let amt = child(entry, "Amt").ok_or_else(|| format!("bút toán {} không có số tiền (Amt)", i + 1))?;
            let amount_text = amt.text().unwrap_or_default().trim().to_owned();
            let amount = (amt.attribute("Ccy") == Some("VND"))
                .then(|| whole_dong(&amount_text))
                .flatten();
            let tx = path(entry, &["NtryDtls", "TxDtls"]);
            let entry_ref = [
                text_at(entry, &["AcctSvcrRef"]),
                tx.map(|t| text_at(t, &["Refs", "AcctSvcrRef"])).unwrap_or_default(),
                text_at(entry, &["NtryRef"]),
            ]
            .into_iter()
            .find(|r| !r.is_empty())
            .ok_or_else(|| format!("bút toán {} không có mã tham chiếu của ngân hàng (AcctSvcrRef)", i + 1))?;
            let booked = match text_at(entry, &["BookgDt", "DtTm"]) {
                s if !s.is_empty() => s,
                _ => text_at(entry, &["BookgDt", "Dt"]),
            };
            let booked_at = instant(&booked)
                .ok_or_else(|| format!("bút toán {entry_ref}: ngày ghi sổ «{booked}» không đọc được"))?;
            let description = entry
                .descendants()
                .filter(|n| n.is_element() && matches!(n.tag_name().name(), "Ustrd" | "AddtlNtryInf" | "AddtlTxInf"))
                .filter_map(|n| n.text())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            credits.push(Credit {
                entry_ref,
                amount,
                amount_text,
                booked_at,
                description,
            });
        }
        out.push(Statement {
            account,
            credits,
            skipped,
        });
    }
    if out.is_empty() {
        return Err("sao kê không có tài khoản nào (Stmt)".to_owned());
    }
    Ok(out)
}

/// What a CSV column holds, from its heading (folded: no diacritics, lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Reference,
    Date,
    Credit,
    Description,
    Account,
}

fn column_of(heading: &str) -> Option<Column> {
    let h = motcua_core::text::fold(heading);
    let h = h.trim();
    Some(match h {
        "so tham chieu" | "ma giao dich" | "so giao dich" | "ma tham chieu" | "so but toan" | "reference"
        | "transaction id" | "transaction no" | "ref" => Column::Reference,
        "ngay giao dich" | "ngay hach toan" | "ngay ghi so" | "ngay" | "thoi gian" | "date" | "booking date"
        | "transaction date" => Column::Date,
        "so tien ghi co" | "ghi co" | "so tien co" | "phat sinh co" | "credit" | "credit amount" => Column::Credit,
        "noi dung" | "noi dung giao dich" | "dien giai" | "mo ta" | "description" | "remark" | "details" => {
            Column::Description
        }
        "so tai khoan" | "tai khoan" | "account" | "account number" => Column::Account,
        _ => return None,
    })
}

/// Reads a bank's CSV export: a heading row naming at least the transaction reference,
/// the date, the credit amount and the description (in Vietnamese or English, with or
/// without diacritics), separated by commas or semicolons. Rows without a credit are
/// debits and are left aside. With an account column, one statement per account.
pub fn parse_csv(text: &str) -> Result<Vec<Statement>, String> {
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headings = reader
        .headers()
        .map_err(|e| format!("dòng tiêu đề không đọc được: {e}"))?;
    let columns: Vec<Option<Column>> = headings.iter().map(column_of).collect();
    let at = |c: Column| columns.iter().position(|x| *x == Some(c));
    let (Some(reference), Some(date), Some(credit), Some(description)) = (
        at(Column::Reference),
        at(Column::Date),
        at(Column::Credit),
        at(Column::Description),
    ) else {
        return Err(
            "tệp CSV cần các cột số tham chiếu, ngày giao dịch, số tiền ghi có và nội dung (dòng đầu là tiêu đề)"
                .to_owned(),
        );
    };
    let account = at(Column::Account);
    let mut out: Vec<Statement> = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("dòng {} không đọc được: {e}", i + 2))?;
        let get = |j: usize| row.get(j).unwrap_or_default().trim().to_owned();
        let acct = account.map(get).unwrap_or_default();
        let k = match out.iter().position(|s| s.account == acct) {
            Some(k) => k,
            None => {
                out.push(Statement {
                    account: acct,
                    credits: Vec::new(),
                    skipped: 0,
                });
                out.len() - 1
            }
        };
        let amount_text = get(credit);
        if amount_text.is_empty() || whole_dong(&amount_text) == Some(0) {
            out[k].skipped += 1;
            continue;
        }
        let entry_ref = get(reference);
        if entry_ref.is_empty() {
            return Err(format!("dòng {}: thiếu số tham chiếu của ngân hàng", i + 2));
        }
        let booked = get(date);
        let booked_at = instant(&booked).ok_or_else(|| format!("dòng {}: ngày «{booked}» không đọc được", i + 2))?;
        out[k].credits.push(Credit {
            entry_ref,
            amount: whole_dong(&amount_text),
            amount_text,
            booked_at,
            description: get(description),
        });
    }
    if out.is_empty() {
        return Err("tệp CSV không có dòng giao dịch nào".to_owned());
    }
    Ok(out)
}

/// An amount as statements write it, in whole đồng: `150000`, `150.000`, `150,000`,
/// `150000.00`, `150,000.00`; `None` for anything else (a fraction of a đồng, a sign, text).
pub fn whole_dong(s: &str) -> Option<u64> {
    let s = s.trim();
    let (int, frac) = match s.rfind(['.', ',']) {
        Some(i) if s.len() - i - 1 <= 2 => (&s[..i], &s[i + 1..]),
        _ => (s, ""),
    };
    if !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    let groups: Vec<&str> = int.split(['.', ',']).collect();
    let grouped_ok = groups.len() == 1
        || (groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3)
            // One kind of separator inside the integer part.
            && !(int.contains('.') && int.contains(',')));
    if !grouped_ok
        || groups
            .iter()
            .any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    groups.concat().parse().ok()
}

/// A booking date or instant: `2026-11-02`, `2026-11-02T09:30:00(+07:00)`, `02/11/2026`,
/// `02/11/2026 09:30(:00)`; without an offset, Vietnam time.
fn instant(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let local = |t: PrimitiveDateTime| Some(t.assume_offset(VIETNAM_OFFSET));
    for f in [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[day]/[month]/[year] [hour]:[minute]:[second]"),
    ] {
        if let Ok(t) = PrimitiveDateTime::parse(s, f) {
            return local(t);
        }
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, format_description!("[day]/[month]/[year] [hour]:[minute]")) {
        return local(t);
    }
    for f in [
        format_description!("[year]-[month]-[day]"),
        format_description!("[day]/[month]/[year]"),
    ] {
        if let Ok(d) = Date::parse(s, f) {
            return local(d.with_time(Time::MIDNIGHT));
        }
    }
    None
}

/// The payment-order references (`MC` and 14 hexadecimal digits, as transfer orders are
/// numbered) a transfer's description carries, upper-cased, each once. Banks keep the
/// payer's description but may add text around it, join words or change case.
pub fn references(description: &str) -> Vec<String> {
    let upper = description.to_ascii_uppercase();
    let b = upper.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 16 <= b.len() {
        if &b[i..i + 2] == b"MC" && b[i + 2..i + 16].iter().all(|c| c.is_ascii_hexdigit()) {
            let r = upper[i..i + 16].to_owned();
            if !out.contains(&r) {
                out.push(r);
            }
            i += 16;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAMT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-11-03T06:00:00+07:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>1</Id>
      <Acct><Id><Othr><Id>113000123456</Id></Othr></Id><Ccy>VND</Ccy></Acct>
      <Ntry>
        <Amt Ccy="VND">150000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2026-11-02T10:15:00+07:00</DtTm></BookgDt>
        <AcctSvcrRef>FT2630612345</AcctSvcrRef>
        <NtryDtls><TxDtls><RmtInf><Ustrd>NGUYEN VAN A chuyen tien mc0123456789abcd</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="VND">20000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-02</Dt></BookgDt><AcctSvcrRef>FEE1</AcctSvcrRef>
      </Ntry>
      <Ntry>
        <Amt Ccy="VND">99000.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-02</Dt></BookgDt>
        <NtryDtls><TxDtls><Refs><AcctSvcrRef>FT2</AcctSvcrRef></Refs></TxDtls></NtryDtls>
        <AddtlNtryInf>khong ro</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <Amt Ccy="VND">5000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
        <BookgDt><Dt>2026-11-02</Dt></BookgDt><AcctSvcrRef>FT3</AcctSvcrRef>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>"#;

    #[test]
    fn a_camt053_statement_gives_its_booked_credits() {
        let s = parse(CAMT.as_bytes()).expect("parses");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].account, "113000123456");
        assert_eq!(s[0].skipped, 2, "a debit and a pending credit");
        let c = &s[0].credits;
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].entry_ref, "FT2630612345");
        assert_eq!(c[0].amount, Some(150_000));
        assert_eq!(c[0].booked_at, time::macros::datetime!(2026-11-02 10:15 +07:00));
        assert_eq!(references(&c[0].description), vec!["MC0123456789ABCD".to_owned()]);
        assert_eq!(c[1].entry_ref, "FT2");
        assert_eq!(c[1].amount, None, "half a đồng is no amount");
        assert_eq!(c[1].description, "khong ro");
    }

    #[test]
    fn a_document_type_declaration_is_refused() {
        let evil = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document><BkToCstmrStmt/></Document>"#;
        assert!(parse(evil.as_bytes()).is_err());
        assert!(parse(b"<Document><Other/></Document>").is_err());
    }

    #[test]
    fn a_csv_export_gives_its_credits() {
        let csv = "\u{feff}Ngày giao dịch;Số tham chiếu;Số tiền ghi nợ;Số tiền ghi có;Nội dung\n\
                   02/11/2026 10:15;FT1;;150.000;CK MC0123456789ABCD\n\
                   02/11/2026;FT2;20.000;;phi\n\
                   03/11/2026;FT3;;1,000,000;khong co ma\n";
        let s = parse(csv.as_bytes()).expect("parses");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].account, "");
        assert_eq!(s[0].skipped, 1);
        assert_eq!(s[0].credits.len(), 2);
        assert_eq!(s[0].credits[0].amount, Some(150_000));
        assert_eq!(
            s[0].credits[0].booked_at,
            time::macros::datetime!(2026-11-02 10:15 +07:00)
        );
        assert_eq!(s[0].credits[1].amount, Some(1_000_000));
        assert!(parse(b"a,b\n1,2\n").is_err(), "columns it cannot place");
    }

    #[test]
    fn amounts_are_whole_dong_or_nothing() {
        for (s, v) in [
            ("150000", Some(150_000)),
            ("150.000", Some(150_000)),
            ("150,000", Some(150_000)),
            ("150000.00", Some(150_000)),
            ("1,500,000.00", Some(1_500_000)),
            ("150000.5", None),
            ("15.00.00", None),
            ("-150000", None),
            ("1.500,000", None),
            ("", None),
        ] {
            assert_eq!(whole_dong(s), v, "{s}");
        }
    }

    #[test]
    fn references_are_found_in_free_text() {
        assert_eq!(references("IBFT mc0123456789abcdNGUYEN"), vec!["MC0123456789ABCD"]);
        assert_eq!(
            references("MC0123456789ABCD MC0123456789ABCD MCFFFFFFFFFFFFFF"),
            vec!["MC0123456789ABCD", "MCFFFFFFFFFFFFFF"]
        );
        assert!(references("MC0123456789ABC").is_empty());
        assert!(references("thanh toan phi").is_empty());
    }
}
