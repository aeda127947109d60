//! The stamp's font: Liberation Serif (the forms' own font, which covers Vietnamese),
//! subset to the glyphs of the stamp and embedded as a CID font (Identity-H) with a
//! ToUnicode map, so that the stamp's text can be copied and searched.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::SignError;

static REGULAR: &[u8] = include_bytes!("../../pdf/fonts/LiberationSerif-Regular.ttf");

/// Text laid out in the stamp font: glyphs by character, and their advances.
pub(crate) struct StampFont {
    face: ttf_parser::Face<'static>,
    /// Original glyph id → the character it shows (first seen).
    used: BTreeMap<u16, char>,
}

/// The PDF objects of an embedded subset font, as dictionaries and streams still to number.
pub(crate) struct EmbeddedFont {
    /// The subset font program (TrueType), uncompressed.
    pub program: Vec<u8>,
    /// `/W` array content: `0 [w0 w1 …]` in glyph space (1000 units per em).
    pub widths: String,
    /// The ToUnicode CMap.
    pub to_unicode: String,
    /// The PostScript name with its subset tag.
    pub base_font: String,
    /// `/FontBBox`, `/Ascent`, `/Descent`, `/CapHeight` in 1000 units.
    pub bbox: [i32; 4],
    pub ascent: i32,
    pub descent: i32,
    pub cap_height: i32,
}

impl StampFont {
    pub(crate) fn new() -> Result<Self, SignError> {
        let face = ttf_parser::Face::parse(REGULAR, 0).map_err(|e| SignError::Pdf(format!("font: {e}")))?;
        Ok(Self {
            face,
            used: BTreeMap::new(),
        })
    }

    fn units(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    /// The width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let total: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map_or(0.0, f32::from)
            })
            .sum();
        total / self.units() * size
    }

    /// Marks the glyphs of `text` as used and returns them (original ids). A character the
    /// font lacks is shown as `?`.
    pub(crate) fn glyphs(&mut self, text: &str) -> Vec<u16> {
        text.chars()
            .map(|c| {
                let (g, c) = match self.face.glyph_index(c) {
                    Some(g) => (g, c),
                    None => (self.face.glyph_index('?').unwrap_or(ttf_parser::GlyphId(0)), '?'),
                };
                self.used.entry(g.0).or_insert(c);
                g.0
            })
            .collect()
    }

    /// The remapping from original glyph ids to the subset's, in which `.notdef` is 0 and the
    /// used glyphs follow in order; the hex string to show `glyphs` with it.
    pub(crate) fn remapper(&self) -> subsetter::GlyphRemapper {
        let mut ids: Vec<u16> = self.used.keys().copied().collect();
        ids.sort_unstable();
        subsetter::GlyphRemapper::new_from_glyphs_sorted(&ids)
    }

    /// `<0001000A…>`: the text string of `glyphs` under `remapper` (Identity-H, two bytes per CID).
    pub(crate) fn show(remapper: &subsetter::GlyphRemapper, glyphs: &[u16]) -> String {
        let mut out = String::from("<");
        for g in glyphs {
            let _ = write!(out, "{:04X}", remapper.get(*g).unwrap_or(0));
        }
        out.push('>');
        out
    }

    /// Subsets the font to the used glyphs and describes it for embedding.
    pub(crate) fn embed(&self, remapper: &subsetter::GlyphRemapper) -> Result<EmbeddedFont, SignError> {
        let program =
            subsetter::subset(REGULAR, 0, remapper).map_err(|e| SignError::Pdf(format!("font subset: {e}")))?;
        let scale = 1000.0 / self.units();
        let to_1000 = |v: f32| (v * scale).round() as i32;
        let mut by_new: BTreeMap<u16, (u16, char)> = BTreeMap::new();
        for (old, c) in &self.used {
            if let Some(new) = remapper.get(*old) {
                by_new.insert(new, (*old, *c));
            }
        }
        let mut widths = String::from("0 [");
        for new in 0..remapper.num_gids() {
            let old = remapper.remapped_gids().nth(usize::from(new)).unwrap_or(0);
            let advance = self.face.glyph_hor_advance(ttf_parser::GlyphId(old)).unwrap_or(0);
            let _ = write!(widths, "{} ", to_1000(f32::from(advance)));
        }
        widths.push(']');
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        // At most 100 entries per bfchar block (PDF 32000-1 §9.10.3).
        let entries: Vec<_> = by_new.iter().collect();
        for block in entries.chunks(100) {
            let _ = writeln!(cmap, "{} beginbfchar", block.len());
            for (new, (_, c)) in block {
                let mut utf16 = [0u16; 2];
                let hex: String = c.encode_utf16(&mut utf16).iter().map(|u| format!("{u:04X}")).collect();
                let _ = writeln!(cmap, "<{new:04X}> <{hex}>");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        let bbox = self.face.global_bounding_box();
        // A subset tag derived from the glyph set: six capital letters (PDF 32000-1 §9.6.4).
        let mut tag_seed: u32 = 2_166_136_261;
        for g in self.used.keys() {
            tag_seed = (tag_seed ^ u32::from(*g)).wrapping_mul(16_777_619);
        }
        let tag: String = (0..6)
            .map(|i| char::from(b'A' + u8::try_from((tag_seed >> (i * 5)) % 26).unwrap_or(0)))
            .collect();
        Ok(EmbeddedFont {
            program,
            widths,
            to_unicode: cmap,
            base_font: format!("{tag}+LiberationSerif"),
            bbox: [
                to_1000(f32::from(bbox.x_min)),
                to_1000(f32::from(bbox.y_min)),
                to_1000(f32::from(bbox.x_max)),
                to_1000(f32::from(bbox.y_max)),
            ],
            ascent: to_1000(f32::from(self.face.ascender())),
            descent: to_1000(f32::from(self.face.descender())),
            cap_height: to_1000(f32::from(self.face.capital_height().unwrap_or(self.face.ascender()))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_letters_have_their_own_glyphs() {
        let mut font = StampFont::new().expect("font");
        let glyphs = font.glyphs("Ký bởi: Nguyễn Thị Hường");
        assert!(glyphs.iter().all(|g| *g != 0), "{glyphs:?}");
        let remapper = font.remapper();
        let embedded = font.embed(&remapper).expect("subset");
        assert!(embedded.program.len() < REGULAR.len() / 4);
        assert!(embedded.to_unicode.contains("<1EC5>"), "ễ maps back to U+1EC5");
        assert!(font.width("Ký bởi", 10.0) > 20.0);
    }
}
