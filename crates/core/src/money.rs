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

const DIGITS: [&str; 10] = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];

/// Reads a group of three digits (`0..1000`); `full` reads the hundreds and a lone
/// unit's «linh» even when they are zero (any group after the first).
fn read_group(n: u64, full: bool, out: &mut Vec<&'static str>) {
    let (h, t, u) = ((n / 100) as usize, ((n / 10) % 10) as usize, (n % 10) as usize);
    if h > 0 || full {
        out.extend([DIGITS[h], "trăm"]);
    }
    match t {
        0 if u > 0 && (h > 0 || full) => out.push("linh"),
        0 => {}
        1 => out.push("mười"),
        _ => out.extend([DIGITS[t], "mươi"]),
    }
    match u {
        0 => {}
        1 if t > 1 => out.push("mốt"),
        4 if t > 1 => out.push("tư"),
        5 if t > 0 => out.push("lăm"),
        _ => out.push(DIGITS[u]),
    }
}

impl Vnd {
    /// The amount in Vietnamese words, as written on receipts and transfer slips:
    /// `150000` → «Một trăm năm mươi nghìn đồng».
    pub fn in_words(self) -> String {
        const SCALES: [&str; 5] = ["", "nghìn", "triệu", "tỷ", "nghìn tỷ"];
        let mut groups = Vec::new();
        let mut n = self.0;
        while n > 0 {
            groups.push(n % 1000);
            n /= 1000;
        }
        let mut words: Vec<&'static str> = Vec::new();
        if groups.is_empty() {
            words.push("không");
        }
        for (i, &g) in groups.iter().enumerate().rev() {
            if g == 0 {
                continue;
            }
            read_group(g, i + 1 < groups.len(), &mut words);
            // Amounts above Vnd::MAX never reach here; the last scale stands for the rest.
            let scale = SCALES[i.min(SCALES.len() - 1)];
            if !scale.is_empty() {
                words.push(scale);
            }
        }
        words.push("đồng");
        let text = words.join(" ");
        let mut chars = text.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
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

    #[test]
    fn amounts_read_in_words() {
        for (n, words) in [
            (0, "Không đồng"),
            (5, "Năm đồng"),
            (15, "Mười lăm đồng"),
            (21, "Hai mươi mốt đồng"),
            (105, "Một trăm linh năm đồng"),
            (150_000, "Một trăm năm mươi nghìn đồng"),
            (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
            (2_024_000, "Hai triệu không trăm hai mươi tư nghìn đồng"),
            (1_000_000_000_000, "Một nghìn tỷ đồng"),
        ] {
            assert_eq!(Vnd(n).in_words(), words, "{n}");
        }
    }
}
