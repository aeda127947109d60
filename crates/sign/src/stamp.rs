//! The visible stamp of a signature. Decree 30/2020/NĐ-CP (Annex I) puts an organisation's
//! digital signature where its seal would go, by the signature block at the bottom right of
//! the last page, and shows the organisation and the signing time (date, hour, minute,
//! second and the Vietnamese time zone, ISO 8601). The stamp is a red-framed box there,
//! inside the page's bottom margin, with three lines: who signed, of which organisation,
//! and when.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::font::StampFont;

/// What the stamp says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Who signed: the certificate's subject (a person or the agency itself).
    pub signer: String,
    /// The organisation the signer belongs to.
    pub organisation: String,
    /// When, shown in Vietnam time.
    pub time: OffsetDateTime,
}

/// Width and height of the stamp, in points.
pub(crate) const WIDTH: f32 = 210.0;
pub(crate) const HEIGHT: f32 = 44.0;
const PADDING: f32 = 5.0;
const LEADING: f32 = 11.5;
const MAX_SIZE: f32 = 8.5;
const MIN_SIZE: f32 = 5.0;

impl Stamp {
    /// The lines, in Vietnamese.
    pub(crate) fn lines(&self) -> [String; 3] {
        let vietnam = self
            .time
            .to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
        let when = vietnam
            .format(time::macros::format_description!(
                "[day].[month].[year] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
            ))
            .unwrap_or_default();
        [
            format!("Ký bởi: {}", self.signer),
            format!("Cơ quan: {}", self.organisation),
            format!("Thời gian ký: {when}"),
        ]
    }

    /// The content stream of the appearance (a form XObject of [`WIDTH`] × [`HEIGHT`] using
    /// the font as `/F1`), the glyphs marked used in `font`.
    pub(crate) fn appearance(&self, font: &mut StampFont) -> (Vec<Vec<u16>>, Vec<f32>) {
        let room = WIDTH - 2.0 * PADDING;
        let mut glyphs = Vec::new();
        let mut sizes = Vec::new();
        for line in self.lines() {
            let line = fit(font, &line, room);
            let width = font.width(&line, MAX_SIZE);
            let size = if width > room {
                (MAX_SIZE * room / width).max(MIN_SIZE)
            } else {
                MAX_SIZE
            };
            glyphs.push(font.glyphs(&line));
            sizes.push(size);
        }
        (glyphs, sizes)
    }

    /// The content stream, once the subset's glyph ids are known.
    pub(crate) fn content(remapper: &subsetter::GlyphRemapper, glyphs: &[Vec<u16>], sizes: &[f32]) -> String {
        let mut out = String::new();
        // A red frame, as the seal's colour, and the text in the same red.
        let _ = writeln!(
            out,
            "q 0.78 0.05 0.05 RG 0.9 w 0.45 0.45 {:.2} {:.2} re S Q",
            WIDTH - 0.9,
            HEIGHT - 0.9
        );
        out.push_str("BT 0.78 0.05 0.05 rg\n");
        let mut y = HEIGHT - PADDING - MAX_SIZE;
        for (line, size) in glyphs.iter().zip(sizes) {
            let _ = writeln!(
                out,
                "/F1 {size:.2} Tf 1 0 0 1 {PADDING:.2} {y:.2} Tm {} Tj",
                StampFont::show(remapper, line)
            );
            y -= LEADING;
        }
        out.push_str("ET\n");
        out
    }
}

/// `text` shortened with an ellipsis until it fits `room` points at the smallest size.
fn fit(font: &StampFont, text: &str, room: f32) -> String {
    if font.width(text, MIN_SIZE) <= room {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "…";
        if font.width(&candidate, MIN_SIZE) <= room {
            return candidate;
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_is_written_in_vietnam_time_with_its_zone() {
        let stamp = Stamp {
            signer: "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận".to_owned(),
            organisation: "UBND tỉnh Ninh Thuận".to_owned(),
            time: time::macros::datetime!(2026-11-02 01:30:05 UTC),
        };
        let lines = stamp.lines();
        assert_eq!(lines[2], "Thời gian ký: 02.11.2026 08:30:05 +07:00");
        assert!(lines[0].starts_with("Ký bởi: Trung tâm"));
    }

    #[test]
    fn long_names_are_shrunk_then_shortened_to_fit() {
        let mut font = StampFont::new().expect("font");
        let long = "Ủy ban nhân dân ".repeat(20);
        let fitted = fit(&font, &long, WIDTH - 2.0 * PADDING);
        assert!(fitted.ends_with('…'));
        assert!(font.width(&fitted, MIN_SIZE) <= WIDTH - 2.0 * PADDING);
        let stamp = Stamp {
            signer: long.clone(),
            organisation: "Sở Tư pháp".to_owned(),
            time: OffsetDateTime::UNIX_EPOCH,
        };
        let (glyphs, sizes) = stamp.appearance(&mut font);
        assert_eq!(glyphs.len(), 3);
        assert!(sizes[0] >= MIN_SIZE && sizes[0] < MIN_SIZE + 0.5, "{sizes:?}");
        assert!((sizes[1] - MAX_SIZE).abs() < 0.01, "{sizes:?}");
    }
}
