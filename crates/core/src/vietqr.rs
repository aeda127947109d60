//! VietQR: the bank-transfer QR code of the NAPAS 247 network (docs/rules.md §5).
//!
//! The payload follows the EMVCo QR Code Specification for Payment Systems, Merchant-
//! Presented Mode (EMV QRCPS-MPM 1.1), as profiled by NAPAS's «VietQR» specification
//! (Quy cách kỹ thuật mã QR hiển thị thanh toán, chuyển tiền qua NAPAS, 2021): a string of
//! tag-length-value fields (two-digit tag, two-digit length, value), ending with a
//! CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection; catalogued as
//! CRC-16/IBM-3740) over everything before it, the CRC's own `6304` included.
//!
//! | tag | value |
//! |---|---|
//! | 00 | payload format indicator `01` |
//! | 01 | point of initiation: `12` (dynamic: one amount, one payment) |
//! | 38 | NAPAS: 00 GUID `A000000727`; 01 beneficiary (00 bank BIN, 01 account); 02 service `QRIBFTTA` (transfer to an account) |
//! | 53 | currency `704` (VND, ISO 4217) |
//! | 54 | amount, whole đồng |
//! | 58 | country `VN` |
//! | 62 | additional data: 08 purpose of the transfer (our reference) |
//! | 63 | CRC, four upper-case hexadecimal digits |

use crate::money::Vnd;

/// NAPAS's globally unique identifier (tag 38, sub-tag 00).
pub const NAPAS_GUID: &str = "A000000727";
/// NAPAS's service code for a transfer to an account (tag 38, sub-tag 02).
pub const TRANSFER_TO_ACCOUNT: &str = "QRIBFTTA";
/// ISO 4217 numeric code of the đồng (tag 53).
pub const CURRENCY_VND: &str = "704";
/// Longest reference accepted: banking apps cut transfer descriptions, and a reference
/// cut short would match nothing on the statement.
pub const MAX_REFERENCE: usize = 25;

const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// What a bank transfer should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer<'a> {
    /// The beneficiary bank's BIN (six digits, NAPAS's list of banks).
    pub bin: &'a str,
    /// The beneficiary account number.
    pub account: &'a str,
    /// The exact amount.
    pub amount: Vnd,
    /// What the payer's bank writes as the transfer's description: it identifies the
    /// payment order on the collecting agency's statement.
    pub reference: &'a str,
}

/// Why a payload cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VietQrError {
    /// The BIN is not six digits.
    #[error("mã ngân hàng (BIN) phải gồm đúng 6 chữ số")]
    Bin,
    /// The account is empty, too long, or not letters and digits.
    #[error("số tài khoản phải gồm 1–19 chữ cái hoặc chữ số")]
    Account,
    /// The amount is zero or above [`Vnd::MAX`].
    #[error("số tiền phải lớn hơn 0 và không quá {}", Vnd::MAX)]
    Amount,
    /// The reference is empty, too long, or not ASCII letters and digits.
    #[error("nội dung chuyển khoản phải gồm 1–{MAX_REFERENCE} chữ cái (không dấu) hoặc chữ số")]
    Reference,
}

/// Whether `bin` is a bank identification number as NAPAS assigns them (six digits).
pub fn is_bin(bin: &str) -> bool {
    bin.len() == 6 && bin.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `account` can be carried as a beneficiary account (1–19 letters or digits).
pub fn is_account(account: &str) -> bool {
    (1..=19).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One field: tag, length on two digits, value. Every value here is checked ASCII and at
/// most 99 bytes, so the length is its byte count.
fn field(out: &mut String, tag: &str, value: &str) {
    debug_assert!(value.len() <= 99 && value.is_ascii());
    out.push_str(tag);
    out.push_str(&format!("{:02}", value.len()));
    out.push_str(value);
}

/// The CRC of `data` as four upper-case hexadecimal digits.
pub fn crc16(data: &str) -> String {
    format!("{:04X}", CRC.checksum(data.as_bytes()))
}

/// The VietQR payload of a transfer of `t.amount` to `t.account` at bank `t.bin`, whose
/// description is `t.reference`.
pub fn payload(t: &Transfer<'_>) -> Result<String, VietQrError> {
    if !is_bin(t.bin) {
        return Err(VietQrError::Bin);
    }
    if !is_account(t.account) {
        return Err(VietQrError::Account);
    }
    if t.amount.0 == 0 || t.amount > Vnd::MAX {
        return Err(VietQrError::Amount);
    }
    if t.reference.is_empty()
        || t.reference.len() > MAX_REFERENCE
        || !t.reference.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(VietQrError::Reference);
    }
    let mut beneficiary = String::new();
    field(&mut beneficiary, "00", t.bin);
    field(&mut beneficiary, "01", t.account);
    let mut napas = String::new();
    field(&mut napas, "00", NAPAS_GUID);
    field(&mut napas, "01", &beneficiary);
    field(&mut napas, "02", TRANSFER_TO_ACCOUNT);
    let mut additional = String::new();
    field(&mut additional, "08", t.reference);

    let mut out = String::with_capacity(160);
    field(&mut out, "00", "01");
    field(&mut out, "01", "12");
    field(&mut out, "38", &napas);
    field(&mut out, "53", CURRENCY_VND);
    field(&mut out, "54", &t.amount.0.to_string());
    field(&mut out, "58", "VN");
    field(&mut out, "62", &additional);
    out.push_str("6304");
    let crc = crc16(&out);
    out.push_str(&crc);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crc_is_ccitt_false() {
        // The catalogue's check value of CRC-16/CCITT-FALSE (= CRC-16/IBM-3740).
        assert_eq!(crc16("123456789"), "29B1");
    }

    #[test]
    fn a_payload_worked_by_hand() {
        let got = payload(&Transfer {
            bin: "970436",
            account: "0011001932418",
            amount: Vnd(150_000),
            reference: "MC0123456789ABCD",
        })
        .expect("payload");
        // Worked field by field; the CRC computed apart (bitwise, MSB first, poly 0x1021,
        // init 0xFFFF) over everything up to and including "6304".
        let expected = concat!(
            "000201",               // 00 format indicator "01"
            "010212",               // 01 dynamic
            "3857",                 // 38 NAPAS, 57 bytes:
            "0010A000000727",       //    00 GUID
            "0127",                 //    01 beneficiary, 27 bytes:
            "0006970436",           //       00 BIN
            "01130011001932418",    //       01 account (13)
            "0208QRIBFTTA",         //    02 service
            "5303704",              // 53 VND
            "5406150000",           // 54 amount
            "5802VN",               // 58 country
            "6220",                 // 62 additional data, 20 bytes:
            "0816MC0123456789ABCD", //    08 purpose (16)
            "6304",                 // 63 CRC, 4 bytes:
            "22C6",
        );
        assert_eq!(got, expected);
    }

    #[test]
    fn what_cannot_be_carried_is_refused() {
        let ok = Transfer {
            bin: "970436",
            account: "0011001932418",
            amount: Vnd(1),
            reference: "MC1",
        };
        assert!(payload(&ok).is_ok());
        for (t, e) in [
            (
                Transfer {
                    bin: "97043",
                    ..ok.clone()
                },
                VietQrError::Bin,
            ),
            (
                Transfer {
                    bin: "97043a",
                    ..ok.clone()
                },
                VietQrError::Bin,
            ),
            (
                Transfer {
                    account: "",
                    ..ok.clone()
                },
                VietQrError::Account,
            ),
            (
                Transfer {
                    account: "00110019324180011001",
                    ..ok.clone()
                },
                VietQrError::Account,
            ),
            (
                Transfer {
                    account: "0011-0019",
                    ..ok.clone()
                },
                VietQrError::Account,
            ),
            (
                Transfer {
                    amount: Vnd(0),
                    ..ok.clone()
                },
                VietQrError::Amount,
            ),
            (
                Transfer {
                    amount: Vnd(Vnd::MAX.0 + 1),
                    ..ok.clone()
                },
                VietQrError::Amount,
            ),
            (
                Transfer {
                    reference: "",
                    ..ok.clone()
                },
                VietQrError::Reference,
            ),
            (
                Transfer {
                    reference: "MC 1",
                    ..ok.clone()
                },
                VietQrError::Reference,
            ),
            (
                Transfer {
                    reference: "Phí",
                    ..ok.clone()
                },
                VietQrError::Reference,
            ),
            (
                Transfer {
                    reference: "A234567890123456789012345X",
                    ..ok.clone()
                },
                VietQrError::Reference,
            ),
        ] {
            assert_eq!(payload(&t), Err(e), "{t:?}");
        }
    }
}
