//! Vietnamese text rules: NFC at every entrance, and the folded form used for search.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Normalises text to Unicode NFC and trims surrounding whitespace.
///
/// Every string entering motcua (forms, API, imports) passes through here so that
/// `Nguyễn` typed with combining marks compares equal to the precomposed form.
pub fn nfc(input: &str) -> String {
    let trimmed = input.trim();
    if trimmed.is_ascii() {
        return trimmed.to_owned();
    }
    trimmed.nfc().collect()
}

/// Folds Vietnamese text for matching: decomposes, drops every combining mark,
/// maps `đ`/`Đ` to `d`, lowercases, and collapses anything that is not a letter
/// or digit into single spaces.
///
/// `CẤP GIẤY PHÉP XÂY DỰNG`, `cấp giấy phép xây dựng` (in NFC or NFD) and
/// `cap giay phep xay dung` all fold to `cap giay phep xay dung`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            // The only Vietnamese letter that has no canonical decomposition.
            'đ' | 'Đ' => 'd',
            _ => c,
        };
        // The dot keeps procedure codes like `1.000948` searchable as one token.
        if c.is_alphanumeric() || c == '.' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            for l in c.to_lowercase() {
                out.push(l);
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// Splits folded text into its words.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(' ').filter(|w| !w.is_empty())
}

/// Number of characters (not bytes) in a string, the unit of every length limit.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Whether `c` may appear in a name shown to people (a file name): not a control
/// character, and not one of the invisible characters that change the direction text is
/// displayed in (U+061C, U+200E–200F, U+202A–202E, U+2066–2069), with which
/// `anh-cccd\u{202e}gpj.exe.pdf` displays as `anh-cccdfdp.exe.jpg`.
pub fn is_displayable(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_overrides_and_controls_are_not_displayable() {
        let name: String = "anh-cccd\u{202e}gpj.exe.pdf\u{2067}\u{200f}\n"
            .chars()
            .filter(|c| is_displayable(*c))
            .collect();
        assert_eq!(name, "anh-cccdgpj.exe.pdf");
        for c in [
            '\u{061c}', '\u{200e}', '\u{202a}', '\u{202d}', '\u{2066}', '\u{2069}', '\0', '\u{7f}',
        ] {
            assert!(!is_displayable(c), "{c:?}");
        }
        for c in ['a', 'ệ', 'Đ', ' ', '-'] {
            assert!(is_displayable(c), "{c:?}");
        }
    }

    #[test]
    fn folding_ignores_diacritics_case_and_form() {
        let nfd: String = "Cấp giấy phép xây dựng".nfd().collect();
        assert_ne!(nfd, "Cấp giấy phép xây dựng");
        for s in [
            "cap giay phep xay dung",
            "cấp giấy phép xây dựng",
            "CẤP GIẤY PHÉP XÂY DỰNG",
            nfd.as_str(),
            "  Cấp   giấy-phép xây dựng ",
        ] {
            assert_eq!(fold(s), "cap giay phep xay dung", "{s}");
        }
        assert_eq!(fold("Đăng ký ĐẤT đai"), "dang ky dat dai");
        assert_eq!(fold("Sở Tư pháp"), "so tu phap");
        assert_eq!(fold("thủ tục 1.000948"), "thu tuc 1.000948");
    }

    #[test]
    fn nfc_composes_and_trims() {
        let nfd: String = "Nguyễn".nfd().collect();
        assert_eq!(nfc(&format!("  {nfd} ")), "Nguyễn");
        assert_eq!(nfc(" abc "), "abc");
    }
}
