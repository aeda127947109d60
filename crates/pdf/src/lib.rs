//! Official documents of motcua as PDF: the one-stop forms of Circular 03/2025/TT-VPCP
//! (docs/rules.md §3), typeset by typst used as a library.
//!
//! Each form is one typst template (`templates/<file>.typ`) that reads its data from the
//! virtual file `/data.json`; applicant text therefore never becomes markup. The
//! templates are compiled into the binary, and a directory may override any of them (and
//! add files they refer to, such as an emblem) without recompiling. Fonts are embedded
//! (Liberation Serif, metric-compatible with Times New Roman): nothing is downloaded at
//! build or run time.
//!
//! Rendering is deterministic: the same data and instant give the same bytes (the PDF's
//! dates come from the caller, its identifier from the document's own key). It is also
//! CPU-heavy; callers run it on a blocking thread behind a semaphore (see docs/architecture.md, HTTP stack and operations).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde_json::Value;
use time::OffsetDateTime;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The template did not compile (a mistake in an edited template, usually).
    #[error("template {template}: {message}")]
    Template {
        /// The template's file name.
        template: String,
        /// The compiler's messages.
        message: String,
    },
    /// The data could not be encoded.
    #[error("data: {0}")]
    Data(String),
    /// The QR code could not be drawn (text too long).
    #[error("QR code: {0}")]
    Qr(String),
}

pub use motcua_core::forms::Form;

/// The template's file name of `form`.
pub fn template_of(form: Form) -> &'static str {
    match form {
        Form::Receipt => "receipt.typ",
        Form::SupplementRequest => "supplement-request.typ",
        Form::Refusal => "refusal.typ",
        Form::Apology => "apology.typ",
        Form::StopNotice => "stop-notice.typ",
        Form::ControlSheet => "control-sheet.typ",
        Form::Register => "register.typ",
    }
}

/// The templates compiled into the binary, by file name.
const BUILTIN: &[(&str, &str)] = &[
    ("common.typ", include_str!("../templates/common.typ")),
    ("receipt.typ", include_str!("../templates/receipt.typ")),
    (
        "supplement-request.typ",
        include_str!("../templates/supplement-request.typ"),
    ),
    ("refusal.typ", include_str!("../templates/refusal.typ")),
    ("apology.typ", include_str!("../templates/apology.typ")),
    ("stop-notice.typ", include_str!("../templates/stop-notice.typ")),
    ("control-sheet.typ", include_str!("../templates/control-sheet.typ")),
    ("register.typ", include_str!("../templates/register.typ")),
    (
        PAYMENT_RECEIPT_TEMPLATE,
        include_str!("../templates/payment-receipt.typ"),
    ),
    (PAYMENT_NOTICE_TEMPLATE, include_str!("../templates/payment-notice.typ")),
];

/// The template of the electronic receipt of a fee payment («Biên lai thu phí, lệ phí»),
/// which is not one of the circular's forms (see [`Renderer::render_payment_receipt`]).
pub const PAYMENT_RECEIPT_TEMPLATE: &str = "payment-receipt.typ";

/// The template of a fee notice to pay by bank transfer, with its VietQR code («Thông báo
/// nộp phí, lệ phí»; see [`Renderer::render_payment_notice`]).
pub const PAYMENT_NOTICE_TEMPLATE: &str = "payment-notice.typ";

/// The title printed on a fee notice.
pub const PAYMENT_NOTICE_TITLE: &str = "THÔNG BÁO NỘP PHÍ, LỆ PHÍ";

/// The title printed on the electronic receipt of a fee payment.
pub const PAYMENT_RECEIPT_TITLE: &str = "BIÊN LAI THU PHÍ, LỆ PHÍ";

/// The built-in template (or shared file) called `name`, if there is one.
pub fn builtin_template(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The embedded fonts (SIL Open Font License, see `fonts/LICENSE`).
const FONT_FILES: &[&[u8]] = &[
    include_bytes!("../fonts/LiberationSerif-Regular.ttf"),
    include_bytes!("../fonts/LiberationSerif-Bold.ttf"),
    include_bytes!("../fonts/LiberationSerif-Italic.ttf"),
    include_bytes!("../fonts/LiberationSerif-BoldItalic.ttf"),
];

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

/// Parsed once per process: fonts and the standard library are the same for every document.
static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// Renders forms from their templates: the built-in ones, or those of an override
/// directory where it holds a file of the same name.
#[derive(Debug, Clone, Default)]
pub struct Renderer {
    overrides: Option<PathBuf>,
}

impl Renderer {
    /// A renderer with the built-in templates, overridden by the files of `dir` (if any).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            overrides: dir.filter(|d| !d.as_os_str().is_empty()),
        }
    }

    /// The text of template `name`: the override's if it has one, else the built-in.
    fn template_text(&self, name: &str) -> FileResult<String> {
        if let Some(dir) = &self.overrides {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read_to_string(&path).map_err(|e| FileError::from_io(e, &path));
            }
        }
        builtin_template(name)
            .map(str::to_owned)
            .ok_or_else(|| FileError::NotFound(PathBuf::from(name)))
    }

    /// Renders `form` with `data` (every text in it is put in NFC first, so Vietnamese
    /// typed in any Unicode form prints the same). `issued` becomes the PDF's creation
    /// date and typst's `today`; `ident` (e.g. the dossier code and form) its identifier.
    pub fn render(&self, form: Form, data: &Value, issued: OffsetDateTime, ident: &str) -> Result<Vec<u8>, PdfError> {
        self.render_template(template_of(form), data, issued, ident)
    }

    /// Renders the electronic receipt of one fee payment (template
    /// [`PAYMENT_RECEIPT_TEMPLATE`]), as [`Renderer::render`] renders a form.
    pub fn render_payment_receipt(
        &self,
        data: &Value,
        issued: OffsetDateTime,
        ident: &str,
    ) -> Result<Vec<u8>, PdfError> {
        self.render_template(PAYMENT_RECEIPT_TEMPLATE, data, issued, ident)
    }

    /// Renders the notice of a fee to pay by bank transfer, with its VietQR code (template
    /// [`PAYMENT_NOTICE_TEMPLATE`]), as [`Renderer::render`] renders a form.
    pub fn render_payment_notice(
        &self,
        data: &Value,
        issued: OffsetDateTime,
        ident: &str,
    ) -> Result<Vec<u8>, PdfError> {
        self.render_template(PAYMENT_NOTICE_TEMPLATE, data, issued, ident)
    }

    fn render_template(
        &self,
        template: &str,
        data: &Value,
        issued: OffsetDateTime,
        ident: &str,
    ) -> Result<Vec<u8>, PdfError> {
        let data = normalise(data.clone());
        let json = serde_json::to_vec(&data).map_err(|e| PdfError::Data(e.to_string()))?;
        let main = self.template_text(template).map_err(|e| PdfError::Template {
            template: template.to_owned(),
            message: e.to_string(),
        })?;
        let world = FormWorld {
            renderer: self,
            main: file_id("/main.typ")?,
            main_source: Source::new(file_id("/main.typ")?, main),
            data: Bytes::new(json),
            today: issued.to_offset(VIETNAM),
        };
        let compiled = typst::compile::<PagedDocument>(&world);
        let result = compiled
            .output
            .map_err(|errors| template_error(template, &errors))
            .and_then(|document| {
                let options = PdfOptions {
                    ident: Smart::Custom(ident.to_owned()),
                    creator: Smart::Custom(Some("motcua".to_owned())),
                    timestamp: timestamp(issued),
                    ..PdfOptions::default()
                };
                typst_pdf::pdf(&document, &options).map_err(|errors| template_error(template, &errors))
            });
        // Keep the compiler's memo cache from growing without bound in a long-running server.
        typst::comemo::evict(10);
        result
    }
}

/// Vietnam time, in which every date on a form is written.
const VIETNAM: time::UtcOffset = match time::UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => time::UtcOffset::UTC,
};

fn file_id(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|e| PdfError::Data(format!("{path}: {e:?}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

fn template_error(template: &str, errors: &[SourceDiagnostic]) -> PdfError {
    PdfError::Template {
        template: template.to_owned(),
        message: errors
            .iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn typst_datetime(t: OffsetDateTime) -> Option<Datetime> {
    Datetime::from_ymd_hms(t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

fn timestamp(issued: OffsetDateTime) -> Option<Timestamp> {
    let local = issued.to_offset(VIETNAM);
    Timestamp::new_local(typst_datetime(local)?, 7 * 60)
}

/// Puts every string of `value` (keys included) in NFC.
fn normalise(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(motcua_core::text::nfc(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (motcua_core::text::nfc(&k), normalise(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The little world one document is compiled in: the template as `/main.typ`, the
/// shared templates beside it, the data as `/data.json`, the embedded fonts.
struct FormWorld<'a> {
    renderer: &'a Renderer,
    main: FileId,
    main_source: Source,
    data: Bytes,
    today: OffsetDateTime,
}

impl FormWorld<'_> {
    fn path_of(id: FileId) -> FileResult<&'static str> {
        let rooted = id.get();
        if *rooted.root() != VirtualRoot::Project {
            // No packages: nothing may be fetched from the network.
            return Err(FileError::AccessDenied);
        }
        Ok(rooted.vpath().get_without_slash())
    }

    fn read(&self, id: FileId) -> FileResult<Bytes> {
        let name = Self::path_of(id)?;
        if name == "data.json" {
            return Ok(self.data.clone());
        }
        if let Some(text) = builtin_template(name)
            && self.overrides_dir().is_none_or(|d| !d.join(name).is_file())
        {
            return Ok(Bytes::from_string(text.to_owned()));
        }
        let Some(dir) = self.overrides_dir() else {
            return Err(FileError::NotFound(PathBuf::from(name)));
        };
        // VirtualPath is normalised and rooted: `..` cannot climb out of the directory.
        let path = dir.join(name);
        std::fs::read(&path)
            .map(Bytes::new)
            .map_err(|e| FileError::from_io(e, &path))
    }

    fn overrides_dir(&self) -> Option<&Path> {
        self.renderer.overrides.as_deref()
    }
}

impl World for FormWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            return Ok(self.main_source.clone());
        }
        let bytes = self.read(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_owned()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main {
            return Ok(Bytes::from_string(self.main_source.text().to_owned()));
        }
        self.read(id)
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        let t = match offset {
            None => self.today,
            Some(d) => {
                // Offsets are whole hours; anything else is not a real time zone.
                let offset = time::UtcOffset::from_whole_seconds(d.seconds().round() as i32).ok()?;
                self.today.to_offset(offset)
            }
        };
        Datetime::from_ymd(t.year(), u8::from(t.month()), t.day())
    }
}

/// An SVG drawing of a QR code for `text` (medium error correction, with the quiet zone).
pub fn qr_svg(text: &str) -> Result<String, PdfError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PdfError::Qr(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_every_form_has_a_template() {
        for f in Form::ALL {
            assert_eq!(Form::from_slug(f.slug()), Some(f));
            assert!(builtin_template(template_of(f)).is_some(), "{f:?}");
        }
        assert_eq!(Form::from_slug("nope"), None);
    }

    #[test]
    fn strings_are_normalised_to_nfc_everywhere() {
        let nfd = "Nguye\u{302}\u{303}n";
        let v = normalise(serde_json::json!({"a": [nfd], nfd: {"b": nfd}}));
        let text = v.to_string();
        assert!(text.contains("Nguyễn"), "{text}");
        assert!(!text.contains('\u{302}'), "{text}");
    }

    #[test]
    fn qr_codes_are_svg() {
        let svg = qr_svg("http://127.0.0.1:8080/tra-cuu/X?secret=Y").expect("qr");
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
    }
}
