//! Money: Vietnamese đồng, integers only (the currency has no minor unit).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in VND. Never a float: fees are summed and compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vnd(pub u64);

impl Vnd {
    /// Largest amount accepted anywhere (one trillion đồng), far above any fee.
    pub const MAX: Vnd = Vnd(1_000_000_000_000);

    /// Adds two amounts, `None` on overflow.
    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_add(other.0).map(Vnd)
    }
}

impl fmt::Display for Vnd {
    /// Vietnamese grouping: `1.500.000 đ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 2);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        write!(f, "{out} đ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Vnd(0).to_string(), "0 đ");
        assert_eq!(Vnd(500).to_string(), "500 đ");
        assert_eq!(Vnd(1_500_000).to_string(), "1.500.000 đ");
        assert_eq!(Vnd(100_000).to_string(), "100.000 đ");
    }
}
