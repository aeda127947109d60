//! Identifier newtypes with their legal formats. Raw strings never travel into the core:
//! each code is parsed once at the edge and carried as its type afterwards.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} không hợp lệ: «{value}» (định dạng đúng: {expected})")]
pub struct CodeError {
    /// What kind of code was being parsed, in Vietnamese.
    pub kind: &'static str,
    /// The offending input (truncated).
    pub value: String,
    /// The expected format, for the person who typed it.
    pub expected: &'static str,
}

fn code_error(kind: &'static str, value: &str, expected: &'static str) -> CodeError {
    CodeError {
        kind,
        value: value.chars().take(64).collect(),
        expected,
    }
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// An agency code in the QCVN 102:2016 form `V1V2V3.Z1Z2.Y1Y2.MX1X2`,
/// e.g. `000.00.00.H43` for a province's People's Committee.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

impl AgencyCode {
    const EXPECTED: &'static str = "V1V2V3.Z1Z2.Y1Y2.MX1X2, ví dụ 000.00.16.H43";

    /// Parses and validates an agency code (surrounding whitespace ignored, letter uppercased).
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        let parts: Vec<&str> = s.split('.').collect();
        let ok = parts.len() == 4
            && all_digits(parts[0], 3)
            && all_digits(parts[1], 2)
            && all_digits(parts[2], 2)
            && parts[3].len() == 3
            && parts[3].as_bytes()[0].is_ascii_uppercase()
            && all_digits(&parts[3][1..], 2);
        if ok {
            Ok(Self(s))
        } else {
            Err(code_error("Mã cơ quan", input, Self::EXPECTED))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last group, `MX1X2`: the province (or ministry) the agency belongs to, e.g. `H43`.
    pub fn unit(&self) -> &str {
        &self.0[self.0.len() - 3..]
    }

    /// The People's Committee code of the province this agency belongs to: `000.00.00.MX1X2`.
    pub fn province(&self) -> ProvinceCode {
        ProvinceCode(AgencyCode(format!("000.00.00.{}", self.unit())))
    }
}

/// A province, identified by its People's Committee agency code (`000.00.00.H43`).
/// Every row that belongs to a province carries this code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProvinceCode(AgencyCode);

impl ProvinceCode {
    const EXPECTED: &'static str = "000.00.00.Hxx hoặc Hxx, ví dụ 000.00.00.H43";

    /// Parses either the full code `000.00.00.H43` or the short unit `H43`.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        let full = if s.len() == 3 { format!("000.00.00.{s}") } else { s };
        match AgencyCode::parse(&full) {
            Ok(code) if code.as_str().starts_with("000.00.00.") => Ok(Self(code)),
            _ => Err(code_error("Mã tỉnh", input, Self::EXPECTED)),
        }
    }

    /// The full code as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The short unit, e.g. `H43`.
    pub fn unit(&self) -> &str {
        self.0.unit()
    }

    /// The province's People's Committee as an agency.
    pub fn as_agency(&self) -> &AgencyCode {
        &self.0
    }
}

/// A procedure code: national (`1.000948`) or localised with an agency code
/// (`2.001218.000.00.00.H38`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureCode(String);

impl ProcedureCode {
    const EXPECTED: &'static str = "N.NNNNNN hoặc N.NNNNNN.<mã cơ quan>, ví dụ 1.000948";

    /// Parses and validates a procedure code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        let err = || code_error("Mã thủ tục", input, Self::EXPECTED);
        let national = s.get(..8).ok_or_else(err)?;
        let national_ok = matches!(national.as_bytes()[0], b'1'..=b'3')
            && national.as_bytes()[1] == b'.'
            && all_digits(&national[2..], 6);
        if !national_ok {
            return Err(err());
        }
        match &s[8..] {
            "" => Ok(Self(s)),
            rest => match rest.strip_prefix('.').map(AgencyCode::parse) {
                Some(Ok(_)) => Ok(Self(s)),
                _ => Err(err()),
            },
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field (lĩnh vực) code: letters, digits, `-`, `_` and `.`, 1–40 characters,
/// as national catalogues use (`G09-TP01`, `XD-01`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldCode(String);

impl FieldCode {
    const EXPECTED: &'static str = "1–40 ký tự gồm chữ, số, '-', '_' hoặc '.'";

    /// Parses and validates a field code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        let ok = (1..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Self(s))
        } else {
            Err(code_error("Mã lĩnh vực", input, Self::EXPECTED))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! code_traits {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $ty::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, CodeError> {
                $ty::parse(s)
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($ty::EXPECTED))
                    .into()
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    )*};
}
code_traits!(AgencyCode, ProvinceCode, ProcedureCode, FieldCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes() {
        let a = AgencyCode::parse(" 000.00.16.h43 ").expect("valid");
        assert_eq!(a.as_str(), "000.00.16.H43");
        assert_eq!(a.unit(), "H43");
        assert_eq!(a.province().as_str(), "000.00.00.H43");
        for bad in [
            "",
            "000.00.16",
            "00.00.16.H43",
            "000.00.16.443",
            "000.00.1X.H43",
            "000.00.16.H4",
        ] {
            assert!(AgencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn province_codes() {
        assert_eq!(ProvinceCode::parse("h43").expect("short").as_str(), "000.00.00.H43");
        assert_eq!(ProvinceCode::parse("000.00.00.H43").expect("full").unit(), "H43");
        assert!(ProvinceCode::parse("000.00.16.H43").is_err());
        assert!(ProvinceCode::parse("X").is_err());
    }

    #[test]
    fn procedure_codes() {
        assert!(ProcedureCode::parse("1.000948").is_ok());
        assert!(ProcedureCode::parse("2.001218.000.00.00.H38").is_ok());
        for bad in [
            "",
            "1.00094",
            "4.000948",
            "1-000948",
            "1.000948.",
            "1.000948.H38",
            "1.0009488",
        ] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_codes() {
        assert_eq!(FieldCode::parse("g09-tp01").expect("ok").as_str(), "G09-TP01");
        assert!(FieldCode::parse("").is_err());
        assert!(FieldCode::parse("a b").is_err());
    }
}
