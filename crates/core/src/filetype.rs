//! Recognising an uploaded file by its content. The name a person gave the file and the
//! type their browser declared are never trusted: a renamed program must not become a
//! "PDF" in a dossier that officers open. Only six kinds are accepted ([`FileType`]);
//! everything else is refused with a [`Rejected`] that says, in Vietnamese, what the
//! file looks like instead.
//!
//! The checks are signatures at known offsets, plus, for the office formats (which are
//! ZIP containers), a walk of the ZIP structure: the central directory at the end of the
//! file is read (the only place that always has the entry sizes, whether the writer used
//! data descriptors or zip64), and every entry's local header is checked against it, so a
//! truncated or spliced archive is refused rather than half-read. An archive that would be
//! accepted is inflated once (the output counted and discarded, 64 KiB at a time) and
//! refused when it expands past a sane size or ratio: a ZIP bomb.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of file accepted in a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FileType {
    /// A PDF document.
    Pdf,
    /// A JPEG image (scans, phone photos).
    Jpeg,
    /// A PNG image.
    Png,
    /// A Word document (Office Open XML).
    Docx,
    /// An Excel workbook (Office Open XML).
    Xlsx,
    /// An OpenDocument text document.
    Odt,
}

impl FileType {
    /// Every accepted kind, in the order they are listed to people.
    pub const ALL: [FileType; 6] = [
        FileType::Pdf,
        FileType::Jpeg,
        FileType::Png,
        FileType::Docx,
        FileType::Xlsx,
        FileType::Odt,
    ];

    /// The snake_case name used in JSON and in the database (`pdf`, `docx`, …).
    pub fn name(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Odt => "odt",
        }
    }

    /// The kind named by its snake_case name (exactly as [`FileType::name`] spells it).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The media type to serve the file with.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Odt => "application/vnd.oasis.opendocument.text",
        }
    }

    /// The usual file name extension, without the dot (`jpg` for JPEG).
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Odt => "odt",
        }
    }

    /// A short name for people, e.g. `PDF`, `Word (DOCX)`.
    pub fn label(self) -> &'static str {
        match self {
            FileType::Pdf => "PDF",
            FileType::Jpeg => "JPEG",
            FileType::Png => "PNG",
            FileType::Docx => "Word (DOCX)",
            FileType::Xlsx => "Excel (XLSX)",
            FileType::Odt => "OpenDocument (ODT)",
        }
    }
}

/// A file that is none of the accepted kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// What the content looks like, in Vietnamese, e.g. "tệp chương trình (ELF)",
    /// "tệp rỗng", "định dạng không nhận dạng được".
    pub found: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tệp bị từ chối: xét theo nội dung, đây là {}. Chỉ chấp nhận các loại tệp ",
            self.found
        )?;
        let last = FileType::ALL.len() - 1;
        for (i, t) in FileType::ALL.iter().enumerate() {
            let sep = match i {
                0 => "",
                i if i == last => " và ",
                _ => ", ",
            };
            write!(f, "{sep}{}", t.label())?;
        }
        f.write_str(".")
    }
}

impl std::error::Error for Rejected {}

fn reject<T>(found: impl Into<String>) -> Result<T, Rejected> {
    Err(Rejected { found: found.into() })
}

/// How far into the file the `%PDF-` header may start. PDF readers (Acrobat among them)
/// accept a header anywhere in the first 1024 bytes, after junk that some scanners and
/// mail gateways prepend; a file they open is accepted here too.
const PDF_HEADER_WINDOW: usize = 1024;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const OLE_SIGNATURE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";
const ODT_MIME: &[u8] = b"application/vnd.oasis.opendocument.text";

/// Recognises the file's type from its bytes alone.
///
/// A signature at the very start of the file decides first; only a file that starts
/// with no known signature is searched for a PDF header further in, within its first
/// 1024 bytes as PDF readers allow. Office documents must be whole, unencrypted ZIP
/// archives with the parts their format requires; macro-enabled Word and Excel files are
/// refused.
pub fn detect(bytes: &[u8]) -> Result<FileType, Rejected> {
    if bytes.is_empty() {
        return reject("tệp rỗng");
    }
    if bytes.starts_with(b"%PDF-") {
        return if pdf_header_at(bytes, 0) {
            Ok(FileType::Pdf)
        } else {
            reject("tệp PDF bị hỏng hoặc không trọn vẹn")
        };
    }
    if bytes.starts_with(b"\xff\xd8\xff") {
        return Ok(FileType::Jpeg);
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return check_png(bytes);
    }
    if bytes.starts_with(ZIP_LOCAL) {
        return zip::classify(bytes);
    }
    if let Some(found) = known_other(bytes) {
        return reject(found);
    }
    if (1..=PDF_HEADER_WINDOW).any(|at| pdf_header_at(bytes, at)) {
        return Ok(FileType::Pdf);
    }
    reject(sniff_text(bytes).unwrap_or("định dạng không nhận dạng được"))
}

/// `%PDF-` followed by a version digit at `at`.
fn pdf_header_at(bytes: &[u8], at: usize) -> bool {
    bytes
        .get(at..)
        .is_some_and(|b| b.starts_with(b"%PDF-") && b.get(5).is_some_and(u8::is_ascii_digit))
}

/// The signature must be followed by the IHDR chunk (13 bytes of data, non-zero
/// dimensions): a PNG without it cannot be drawn.
fn check_png(bytes: &[u8]) -> Result<FileType, Rejected> {
    let be32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let ihdr = be32(8) == Some(13)
        && bytes.get(12..16) == Some(b"IHDR")
        && be32(16).is_some_and(|w| w > 0)
        && be32(20).is_some_and(|h| h > 0)
        // The chunk's 13 data bytes and its CRC are all present.
        && bytes.len() >= 8 + 8 + 13 + 4;
    if ihdr {
        Ok(FileType::Png)
    } else {
        reject("ảnh PNG bị hỏng hoặc không trọn vẹn")
    }
}

/// Formats people are likely to send by mistake, named so they know what to convert.
fn known_other(bytes: &[u8]) -> Option<&'static str> {
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    let found = if starts(ZIP_EMPTY) {
        "tệp nén ZIP rỗng"
    } else if starts(b"PK\x07\x08") || starts(b"PK00PK\x03\x04") {
        "tệp nén ZIP chia nhiều phần"
    } else if starts(OLE_SIGNATURE) {
        "tài liệu Office đời cũ (.doc, .xls, .ppt) hoặc tài liệu Office có đặt mật khẩu"
    } else if starts(b"\x7fELF") {
        "tệp chương trình (ELF)"
    } else if starts(b"MZ") {
        "tệp chương trình Windows (EXE, DLL)"
    } else if [
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    ]
    .iter()
    .any(|sig| starts(*sig))
    {
        "tệp chương trình macOS (Mach-O)"
    } else if starts(b"#!") {
        "tệp lệnh (script)"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "ảnh GIF"
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        "ảnh WebP"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "ảnh TIFF"
    } else if starts(b"BM")
        && bytes
            .get(2..6)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .is_some_and(|n| usize::try_from(n).is_ok_and(|n| n == bytes.len()))
    {
        "ảnh BMP"
    } else if bytes.get(4..8) == Some(b"ftyp") {
        match bytes.get(8..12) {
            Some(b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1") => {
                "ảnh HEIC (định dạng ảnh của iPhone)"
            }
            Some(b"avif" | b"avis") => "ảnh AVIF",
            _ => "tệp video hoặc âm thanh (MP4, MOV)",
        }
    } else if starts(b"Rar!\x1a\x07") {
        "tệp nén RAR"
    } else if starts(b"7z\xbc\xaf\x27\x1c") {
        "tệp nén 7z"
    } else if starts(b"\x1f\x8b") {
        "tệp nén gzip"
    } else if starts(b"{\\rtf") {
        "tài liệu RTF"
    } else if starts(b"\xff\xfe") || starts(b"\xfe\xff") {
        "văn bản thuần (UTF-16), không phải tài liệu"
    } else {
        return None;
    };
    Some(found)
}

/// Web pages, XML and plain text, judged on the first few kilobytes.
fn sniff_text(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(8192)];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = match std::str::from_utf8(head) {
        Ok(s) => s,
        // Cut in the middle of a character by the 8 KiB window: the part before is text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
    {
        return None;
    }
    let start: String = text
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    Some(if start.starts_with("<!doctype html") || start.starts_with("<html") {
        "trang web (HTML)"
    } else if start.starts_with("<svg") || (start.starts_with("<?xml") && text.contains("<svg")) {
        "ảnh SVG"
    } else if start.starts_with("<?xml") {
        "tệp XML"
    } else {
        "văn bản thuần, không phải tài liệu"
    })
}

/// The ZIP container of DOCX, XLSX and ODT.
mod zip {
    use super::{FileType, ODT_MIME, Rejected, reject};

    const CORRUPT: &str = "tệp nén ZIP bị hỏng hoặc không trọn vẹn";
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD64: &[u8] = b"PK\x06\x06";
    const EOCD64_LOCATOR: &[u8] = b"PK\x06\x07";
    const CENTRAL: &[u8] = b"PK\x01\x02";
    const LOCAL: &[u8] = b"PK\x03\x04";
    /// The fixed part of the end of central directory record.
    const EOCD_LEN: usize = 22;
    const CENTRAL_LEN: usize = 46;
    const LOCAL_LEN: usize = 30;

    fn le16(b: &[u8], at: usize) -> Option<u16> {
        b.get(at..at.checked_add(2)?)?.try_into().ok().map(u16::from_le_bytes)
    }

    fn le32(b: &[u8], at: usize) -> Option<u32> {
        b.get(at..at.checked_add(4)?)?.try_into().ok().map(u32::from_le_bytes)
    }

    fn le64(b: &[u8], at: usize) -> Option<u64> {
        b.get(at..at.checked_add(8)?)?.try_into().ok().map(u64::from_le_bytes)
    }

    fn index(n: u64) -> Option<usize> {
        usize::try_from(n).ok()
    }

    /// One entry as the central directory describes it.
    struct Entry<'a> {
        name: &'a [u8],
        flags: u16,
        method: u16,
        compressed: u64,
        /// Where the entry's data starts (after its local header).
        data_at: usize,
    }

    impl Entry<'_> {
        fn encrypted(&self) -> bool {
            self.flags & 1 != 0
        }
    }

    /// Where the central directory is and how many entries it declares.
    struct Directory {
        offset: usize,
        size: usize,
        entries: u64,
        /// Where the end records begin: nothing of the directory may lie beyond.
        end: usize,
    }

    /// The last end of central directory record, as readers find it: scanning back over
    /// at most a maximal comment.
    fn find_directory(bytes: &[u8]) -> Option<Directory> {
        let last = bytes.len().checked_sub(EOCD_LEN)?;
        let first = last.saturating_sub(usize::from(u16::MAX));
        let at = (first..=last).rev().find(|&i| {
            bytes[i..].starts_with(EOCD)
                && le16(bytes, i + 20).is_some_and(|c| i + EOCD_LEN + usize::from(c) <= bytes.len())
        })?;
        let (disk, directory_disk) = (le16(bytes, at + 4)?, le16(bytes, at + 6)?);
        let entries = le16(bytes, at + 10)?;
        let size = le32(bytes, at + 12)?;
        let offset = le32(bytes, at + 16)?;
        // zip64: a locator right before the record points at the zip64 end record, whose
        // values replace the 32-bit ones (which are then 0xFFFF… placeholders).
        let locator = at.checked_sub(20).filter(|&l| bytes[l..].starts_with(EOCD64_LOCATOR));
        if let Some(l) = locator {
            let record = index(le64(bytes, l + 8)?)?;
            if !bytes.get(record..)?.starts_with(EOCD64) || record >= l || le32(bytes, record + 16)? != 0 {
                return None;
            }
            return Some(Directory {
                entries: le64(bytes, record + 32)?,
                size: index(le64(bytes, record + 40)?)?,
                offset: index(le64(bytes, record + 48)?)?,
                end: record,
            });
        }
        if disk != 0 || directory_disk != 0 || entries == u16::MAX || size == u32::MAX || offset == u32::MAX {
            return None;
        }
        Some(Directory {
            entries: u64::from(entries),
            size: index(u64::from(size))?,
            offset: index(u64::from(offset))?,
            end: at,
        })
    }

    /// Reads every central directory entry and checks that its local header and data
    /// are where it says, before the directory.
    fn entries(bytes: &[u8]) -> Option<Vec<Entry<'_>>> {
        let dir = find_directory(bytes)?;
        let dir_end = dir.offset.checked_add(dir.size)?;
        if dir_end > dir.end {
            return None;
        }
        let directory = bytes.get(dir.offset..dir_end)?;
        let mut found = Vec::new();
        let mut at = 0usize;
        while at < directory.len() {
            if !directory[at..].starts_with(CENTRAL) {
                return None;
            }
            let flags = le16(directory, at + 8)?;
            let method = le16(directory, at + 10)?;
            let mut compressed = u64::from(le32(directory, at + 20)?);
            let uncompressed = le32(directory, at + 24)?;
            let name_len = usize::from(le16(directory, at + 28)?);
            let extra_len = usize::from(le16(directory, at + 30)?);
            let comment_len = usize::from(le16(directory, at + 32)?);
            let disk = le16(directory, at + 34)?;
            let mut local = u64::from(le32(directory, at + 42)?);
            let name_at = at + CENTRAL_LEN;
            let name = directory.get(name_at..name_at + name_len)?;
            let extra = directory.get(name_at + name_len..name_at + name_len + extra_len)?;
            // zip64 extended information: the 64-bit values of the fields that are
            // 0xFFFFFFFF, in this order, and only those.
            if uncompressed == u32::MAX || compressed == u64::from(u32::MAX) || local == u64::from(u32::MAX) {
                let zip64 = extra_field(extra, 0x0001)?;
                let mut next = 0;
                if uncompressed == u32::MAX {
                    next += 8;
                }
                if compressed == u64::from(u32::MAX) {
                    compressed = le64(zip64, next)?;
                    next += 8;
                }
                if local == u64::from(u32::MAX) {
                    local = le64(zip64, next)?;
                }
            }
            if disk != 0 && disk != u16::MAX {
                return None;
            }
            let local = index(local)?;
            if !bytes.get(local..)?.starts_with(LOCAL) {
                return None;
            }
            let local_name_len = usize::from(le16(bytes, local + 26)?);
            let local_extra_len = usize::from(le16(bytes, local + 28)?);
            let local_name_at = local + LOCAL_LEN;
            if bytes.get(local_name_at..local_name_at + local_name_len)? != name {
                return None;
            }
            let data_at = local_name_at + local_name_len + local_extra_len;
            if data_at.checked_add(index(compressed)?)? > dir.offset {
                return None;
            }
            found.push(Entry {
                name,
                flags,
                method,
                compressed,
                data_at,
            });
            at = name_at + name_len + extra_len + comment_len;
        }
        (u64::try_from(found.len()).ok()? == dir.entries).then_some(found)
    }

    /// The data of the extra field with this header id.
    fn extra_field(extra: &[u8], id: u16) -> Option<&[u8]> {
        let mut at = 0;
        while at + 4 <= extra.len() {
            let size = usize::from(le16(extra, at + 2)?);
            if le16(extra, at)? == id {
                return extra.get(at + 4..at + 4 + size);
            }
            at += 4 + size;
        }
        None
    }

    /// The most an archive may expand to, in all.
    pub const MAX_EXPANDED: u64 = 256 * 1024 * 1024;
    /// The most an archive may expand by (its parts together against the file's size, which
    /// counts as at least 64 KiB so that small documents are not held to it). Office
    /// documents expand by 2–20 times; an archive built to expand by hundreds is a bomb.
    pub const MAX_RATIO: u64 = 100;

    /// Inflates every part (discarding the output, 64 KiB at a time) and refuses the
    /// archive when its parts expand past [`MAX_EXPANDED`] or [`MAX_RATIO`] times its size,
    /// whatever the directory declares, or are not stored or deflated.
    fn check_expansion(bytes: &[u8], entries: &[Entry<'_>]) -> Result<(), Rejected> {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX).max(64 * 1024);
        let budget = MAX_EXPANDED.min(size.saturating_mul(MAX_RATIO));
        let mut total = 0u64;
        for e in entries {
            let Some(data) = index(e.compressed).and_then(|len| bytes.get(e.data_at..e.data_at.checked_add(len)?))
            else {
                return reject(CORRUPT);
            };
            let left = budget.saturating_sub(total);
            let expanded = match e.method {
                0 => u64::try_from(data.len()).unwrap_or(u64::MAX),
                8 => {
                    let mut inflate =
                        std::io::Read::take(flate2::read::DeflateDecoder::new(data), left.saturating_add(1));
                    match std::io::copy(&mut inflate, &mut std::io::sink()) {
                        Ok(n) => n,
                        Err(_) => return reject(CORRUPT),
                    }
                }
                _ => return reject("tệp nén ZIP dùng phương thức nén mà tài liệu Office không dùng"),
            };
            total = total.saturating_add(expanded);
            if total > budget {
                return reject(format!(
                    "tệp nén ZIP giải nén ra quá lớn (hơn {} MB, gấp hơn {MAX_RATIO} lần kích thước tệp): có thể là «bom nén»",
                    budget / (1024 * 1024)
                ));
            }
        }
        Ok(())
    }

    /// Which accepted document, if any, the archive holds; an accepted one must also
    /// expand within bounds.
    pub(super) fn classify(bytes: &[u8]) -> Result<FileType, Rejected> {
        let Some(entries) = entries(bytes) else {
            return reject(CORRUPT);
        };
        let kind = classify_entries(bytes, &entries)?;
        check_expansion(bytes, &entries)?;
        Ok(kind)
    }

    fn classify_entries(bytes: &[u8], entries: &[Entry<'_>]) -> Result<FileType, Rejected> {
        if entries.iter().any(Entry::encrypted) {
            return reject("tệp nén ZIP có đặt mật khẩu (đã mã hoá)");
        }
        // Office Open XML part names compare without regard to ASCII case.
        let has = |name: &str| entries.iter().any(|e| e.name.eq_ignore_ascii_case(name.as_bytes()));
        let mimetype = entries.iter().find(|e| e.name == b"mimetype");
        let open_document = match mimetype {
            Some(e) if e.method == 0 => {
                let data = index(e.compressed)
                    .and_then(|len| bytes.get(e.data_at..e.data_at.checked_add(len)?))
                    .unwrap_or_default();
                Some(data)
            }
            // A compressed `mimetype` breaks the OpenDocument rule that it be readable
            // at a fixed place without decompressing.
            Some(_) => return reject("tài liệu OpenDocument bị hỏng (mục mimetype bị nén)"),
            None => None,
        };
        let office = has("[Content_Types].xml");
        let word = office && has("word/document.xml");
        let excel = office && has("xl/workbook.xml");
        let odt = open_document == Some(ODT_MIME);
        if usize::from(word) + usize::from(excel) + usize::from(odt) > 1 {
            return reject("tệp nén ZIP chứa lẫn nhiều loại tài liệu");
        }
        if odt {
            return Ok(FileType::Odt);
        }
        if word {
            return if has("word/vbaProject.bin") {
                reject("tài liệu Word có macro (DOCM)")
            } else {
                Ok(FileType::Docx)
            };
        }
        if excel {
            return if has("xl/vbaProject.bin") {
                reject("bảng tính Excel có macro (XLSM)")
            } else {
                Ok(FileType::Xlsx)
            };
        }
        if let Some(mime) = open_document {
            return reject(match mime {
                b"application/vnd.oasis.opendocument.spreadsheet" => "bảng tính OpenDocument (ODS)",
                b"application/vnd.oasis.opendocument.presentation" => "bản trình chiếu OpenDocument (ODP)",
                b"application/epub+zip" => "sách điện tử (EPUB)",
                // The ODT type with stray whitespace: a damaged ODT, not another kind.
                m if m
                    .strip_prefix(ODT_MIME)
                    .is_some_and(|rest| rest.iter().all(u8::is_ascii_whitespace)) =>
                {
                    "tài liệu OpenDocument bị hỏng (mục mimetype sai)"
                }
                m if m.starts_with(b"application/vnd.oasis.opendocument.") => {
                    "tài liệu OpenDocument không phải văn bản ODT"
                }
                _ => "tệp nén ZIP không phải tài liệu Word, Excel hay OpenDocument",
            });
        }
        if office {
            return reject(if has("xl/workbook.bin") {
                "bảng tính Excel dạng nhị phân (XLSB)"
            } else if has("ppt/presentation.xml") {
                "bản trình chiếu PowerPoint (PPTX)"
            } else {
                "tài liệu Office Open XML không phải Word hay Excel"
            });
        }
        reject("tệp nén ZIP không phải tài liệu Word, Excel hay OpenDocument")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A ZIP writer for the tests: stored entries, with the knobs real writers turn.
    #[derive(Default)]
    struct ZipWriter {
        /// Mark every entry encrypted (general purpose flag bit 0).
        encrypted: bool,
        /// Leave sizes out of the local headers and put them in data descriptors after
        /// the data, as streaming writers do.
        descriptors: bool,
        /// End with zip64 end records (and 0xFFFF… placeholders in the classic one).
        zip64: bool,
        /// Compression method written for entries (0 = stored; the data is stored anyway).
        method: u16,
    }

    impl ZipWriter {
        fn write(&self, entries: &[(&str, &[u8])]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut central = Vec::new();
            let flags: u16 = u16::from(self.encrypted) | if self.descriptors { 8 } else { 0 };
            for (name, data) in entries {
                let offset = u32::try_from(out.len()).expect("small");
                let size = u32::try_from(data.len()).expect("small");
                let name_len = u16::try_from(name.len()).expect("small");
                let crc = crc32(data);
                let (local_crc, local_size) = if self.descriptors { (0, 0) } else { (crc, size) };
                out.extend_from_slice(b"PK\x03\x04");
                out.extend_from_slice(&20u16.to_le_bytes());
                out.extend_from_slice(&flags.to_le_bytes());
                out.extend_from_slice(&self.method.to_le_bytes());
                out.extend_from_slice(&[0; 4]); // time, date
                out.extend_from_slice(&local_crc.to_le_bytes());
                out.extend_from_slice(&local_size.to_le_bytes());
                out.extend_from_slice(&local_size.to_le_bytes());
                out.extend_from_slice(&name_len.to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes());
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(data);
                if self.descriptors {
                    out.extend_from_slice(b"PK\x07\x08");
                    out.extend_from_slice(&crc.to_le_bytes());
                    out.extend_from_slice(&size.to_le_bytes());
                    out.extend_from_slice(&size.to_le_bytes());
                }
                central.extend_from_slice(b"PK\x01\x02");
                central.extend_from_slice(&20u16.to_le_bytes());
                central.extend_from_slice(&20u16.to_le_bytes());
                central.extend_from_slice(&flags.to_le_bytes());
                central.extend_from_slice(&self.method.to_le_bytes());
                central.extend_from_slice(&[0; 4]);
                central.extend_from_slice(&crc.to_le_bytes());
                central.extend_from_slice(&size.to_le_bytes());
                central.extend_from_slice(&size.to_le_bytes());
                central.extend_from_slice(&name_len.to_le_bytes());
                if self.zip64 {
                    // The local header offset moves into a zip64 extra field.
                    central.extend_from_slice(&12u16.to_le_bytes());
                } else {
                    central.extend_from_slice(&0u16.to_le_bytes());
                }
                central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
                central.extend_from_slice(&[0; 4]); // external attributes
                if self.zip64 {
                    central.extend_from_slice(&u32::MAX.to_le_bytes());
                } else {
                    central.extend_from_slice(&offset.to_le_bytes());
                }
                central.extend_from_slice(name.as_bytes());
                if self.zip64 {
                    central.extend_from_slice(&1u16.to_le_bytes());
                    central.extend_from_slice(&8u16.to_le_bytes());
                    central.extend_from_slice(&u64::from(offset).to_le_bytes());
                }
            }
            let directory_at = out.len();
            out.extend_from_slice(&central);
            let count = entries.len();
            if self.zip64 {
                let record_at = out.len();
                out.extend_from_slice(b"PK\x06\x06");
                out.extend_from_slice(&44u64.to_le_bytes());
                out.extend_from_slice(&45u16.to_le_bytes());
                out.extend_from_slice(&45u16.to_le_bytes());
                out.extend_from_slice(&[0; 8]); // disk numbers
                out.extend_from_slice(&(count as u64).to_le_bytes());
                out.extend_from_slice(&(count as u64).to_le_bytes());
                out.extend_from_slice(&(central.len() as u64).to_le_bytes());
                out.extend_from_slice(&(directory_at as u64).to_le_bytes());
                out.extend_from_slice(b"PK\x06\x07");
                out.extend_from_slice(&0u32.to_le_bytes());
                out.extend_from_slice(&(record_at as u64).to_le_bytes());
                out.extend_from_slice(&1u32.to_le_bytes());
            }
            out.extend_from_slice(b"PK\x05\x06");
            out.extend_from_slice(&[0; 4]);
            if self.zip64 {
                out.extend_from_slice(&u16::MAX.to_le_bytes());
                out.extend_from_slice(&u16::MAX.to_le_bytes());
                out.extend_from_slice(&u32::MAX.to_le_bytes());
                out.extend_from_slice(&u32::MAX.to_le_bytes());
            } else {
                let count = u16::try_from(count).expect("small");
                out.extend_from_slice(&count.to_le_bytes());
                out.extend_from_slice(&count.to_le_bytes());
                out.extend_from_slice(&u32::try_from(central.len()).expect("small").to_le_bytes());
                out.extend_from_slice(&u32::try_from(directory_at).expect("small").to_le_bytes());
            }
            out.extend_from_slice(&0u16.to_le_bytes());
            out
        }
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
        ZipWriter::default().write(entries)
    }

    const CONTENT_TYPES: (&str, &[u8]) = ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>");

    fn docx() -> Vec<u8> {
        stored(&[
            CONTENT_TYPES,
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
        ])
    }

    fn xlsx() -> Vec<u8> {
        stored(&[CONTENT_TYPES, ("xl/workbook.xml", b"<workbook/>")])
    }

    fn odt() -> Vec<u8> {
        stored(&[("mimetype", ODT_MIME), ("content.xml", b"<office:document-content/>")])
    }

    fn found(bytes: &[u8]) -> String {
        detect(bytes).expect_err("rejected").found
    }

    // Real archives from real writers (hex of the files). The DOCX was written by Info-ZIP
    // `zip -X -9` (deflated); the XLSX by Info-ZIP writing to a pipe, so every entry has
    // a data descriptor and no sizes in its local header; the ODT by Python's `zipfile`
    // to an unseekable stream with `force_zip64` (a stored `mimetype` behind a data
    // descriptor, then an entry with zip64 fields in its local header).
    const DOCX_INFOZIP: &str = concat!(
        "504b0304140002000800ac997c5dc866dfd0ec000000af010000130000005b436f6e74656e745f54797065735d2e786d6c7d",
        "50c96ec23010bdf31596af2871e8a1aaaa241cba1cdb1ee8078cec4962e14d1e43e1ef3b01caa1a23dcebc55af5d1fbc137b",
        "cc6463e8e4aa6ea4c0a0a3b161ece4e7e6b57a90820a04032e06ece41149aefb45bb392624c1e2409d9c4a498f4a919ed003",
        "d53161606488d943e1338f2a81dec288eaae69ee958ea1602855993d64df3ee3003b57c4cb81dfe722191d49f17426ce599d",
        "84949cd5501857fb607ea55497849a95270e4d36d1920952dd4c9891bf032eba775e265b83e203727903cf2cf515b35126ea",
        "9d6765fdbfcd8d9e7118acc6ab7e764b396a24e2c9bdabaf88071b7efaabd3dcfde21b504b0304140002000800ac997c5d3a",
        "491b80b10000002b0100000b0000005f72656c732f2e72656c738dcf3b0ec2300c06e0bda788bcd3b40c08a1a65d10525754",
        "0e10256e1ad13c9484476f4f06068a18186dfffe2c37ddd3cce48e216a6719d4650504ad70525bc5e0329c367b2031712bf9",
        "ec2c32583042d716cd19679ef24e9cb48f242336329852f2074aa398d0f0583a8f364f46170c4fb90c8a7a2eae5c21dd56d5",
        "8e864f03da95497ac920f4b206322c1effb1dd386a8147276e066dfa71e22b91651e1426060f172495ef769959a06d43572f",
        "b6c50b504b0304140002000800ac997c5d0cb13960b5000000dd00000011000000776f72642f646f63756d656e742e786d6c",
        "458ebd0dc2301085fb4c61b9270e140845f9e998000630b14922c577966d0829a9696004e6481bb14736c10e05cd777aef74",
        "ef5e56de5447aed2d81621a7eb38a1444285a2853aa7c7c37eb5a3c43a0e82770832a783b4b42ca2ac4f05561725c1119f00",
        "36ed73da38a753c66cd548c56d8c5a82df9dd128eebc3435ebd1086db092d6fa07aa639b24d932c55ba0858f3ca118c2d401",
        "26c015d3f3f30632bde6f14ea06ee6f191b1e0079a857ae1ef96fd7b15d117504b01021e03140002000800ac997c5dc866df",
        "d0ec000000af010000130000000000000001000000a481000000005b436f6e74656e745f54797065735d2e786d6c504b0102",
        "1e03140002000800ac997c5d3a491b80b10000002b0100000b0000000000000001000000a4811d0100005f72656c732f2e72",
        "656c73504b01021e03140002000800ac997c5d0cb13960b5000000dd000000110000000000000001000000a481f701000077",
        "6f72642f646f63756d656e742e786d6c504b05060000000003000300b9000000db0200000000",
    );
    const XLSX_INFOZIP_STREAMED: &str = concat!(
        "504b0304140008000800b0997c5d000000000000000034010000130000005b436f6e74656e745f54797065735d2e786d6c7d",
        "50bd4ec33010defb149657145f60400825e950600486f200877d49acd83ecb764b787b9c968981e974f7fdeabafdea9d3853",
        "ca96432f6f552b0505cdc686a9971fc797e641ee875d77fc8e9445e586dccbb994f80890f54c1eb3e248a12223278fa5ae69",
        "82887ac189e0ae6def417328144a53360f39744f34e2c915f1bcd6f335b7caa5385c795b542f31466735960ac386c2d0bdd5",
        "9ac91a12ef98ca2bfaca82d5c117a7e5937951ff9b9c83f9d3b4e171b49a0ceb93af129563223479262adea9cb541e6db8f9",
        "cd87cb1386dd0f504b0708776f5cc0d000000034010000504b0304140008000800b0997c5d0000000000000000b00000000f",
        "000000786c2f776f726b626f6f6b2e786d6c358e410ac2301444f73d45f87bfbab0b1149d29de05a3d406cbf6db1f9bf2441",
        "bd88a7f134dec450ec6a98990733ba7ef9513d28c441d8c0baac401137d20edc19b89c0fab1dd4b6d04f09f7abc85d659ca3",
        "813ea5698f189b9ebc8ba54cc4b9b949f02e651b3a8c5320d7c69e28f9113755b545ef0606abe72cfe55b1f364e0f4fdbc41",
        "cdc9b1cd3f00adc605c465dd163f504b07081eacdebb92000000b0000000504b01021e03140008000800b0997c5d776f5cc0",
        "d000000034010000130000000000000001000000a481000000005b436f6e74656e745f54797065735d2e786d6c504b01021e",
        "03140008000800b0997c5d1eacdebb92000000b00000000f0000000000000001000000a48111010000786c2f776f726b626f",
        "6f6b2e786d6c504b050600000000020002007e000000e00100000000",
    );
    const ODT_PYTHON_STREAMED_ZIP64: &str = concat!(
        "504b030414000800000000002100000000000000000000000000080000006d696d65747970656170706c69636174696f6e2f",
        "766e642e6f617369732e6f70656e646f63756d656e742e74657874504b07085ec6320c2700000027000000504b03042d0008",
        "0000000000210000000000ffffffffffffffff0b001400636f6e74656e742e786d6c01001000000000000000000000000000",
        "000000003c3f786d6c2076657273696f6e3d22312e302220656e636f64696e673d225554462d38223f3e3c6f66666963653a",
        "646f63756d656e742d636f6e74656e7420786d6c6e733a6f66666963653d2275726e3a6f617369733a6e616d65733a74633a",
        "6f70656e646f63756d656e743a786d6c6e733a6f66666963653a312e30223e3c6f66666963653a626f64793e3c6f66666963",
        "653a746578743e54e1bb9d206b6861693c2f6f66666963653a746578743e3c2f6f66666963653a626f64793e3c2f6f666669",
        "63653a646f63756d656e742d636f6e74656e743e504b0708e8f65d78d800000000000000d800000000000000504b01021403",
        "140008000000000021005ec6320c27000000270000000800000000000000000000008001000000006d696d6574797065504b",
        "01022d032d000800000000002100e8f65d78d8000000d80000000b000000000000000000000080015d000000636f6e74656e",
        "742e786d6c504b050600000000020002006f0000008a0100000000",
    );

    fn real(hex_text: &str) -> Vec<u8> {
        hex::decode(hex_text).expect("hex")
    }

    #[test]
    fn names_parse_back_and_serde_uses_them() {
        for t in FileType::ALL {
            assert_eq!(FileType::parse(t.name()), Some(t));
            assert_eq!(serde_json::to_string(&t).expect("json"), format!("\"{}\"", t.name()));
            assert!(t.mime().contains('/'));
            assert!(!t.extension().starts_with('.'));
        }
        assert_eq!(FileType::parse("PDF"), None);
        assert_eq!(FileType::parse("doc"), None);
        assert_eq!(FileType::Docx.label(), "Word (DOCX)");
    }

    #[test]
    fn the_message_says_rejected_what_it_is_and_what_is_accepted() {
        let message = Rejected {
            found: "tệp chương trình (ELF)".to_owned(),
        }
        .to_string();
        assert!(message.starts_with("Tệp bị từ chối"), "{message}");
        assert!(message.contains("tệp chương trình (ELF)"), "{message}");
        for t in FileType::ALL {
            assert!(message.contains(t.label()), "{message} lists {}", t.label());
        }
        assert!(message.ends_with("OpenDocument (ODT)."), "{message}");
    }

    #[test]
    fn pdf_jpeg_and_png_by_signature() {
        assert_eq!(detect(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), Ok(FileType::Pdf));
        // Junk before the header, as some scanners write, up to 1024 bytes.
        let mut prefixed = vec![b' '; 1024];
        prefixed.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(detect(&prefixed), Ok(FileType::Pdf));
        let mut too_far = vec![b'x'; 1025];
        too_far.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(found(&too_far), "văn bản thuần, không phải tài liệu");
        assert_eq!(found(b"%PDF-"), "tệp PDF bị hỏng hoặc không trọn vẹn");

        assert_eq!(detect(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"), Ok(FileType::Jpeg));

        let mut png = PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&crc32(&png[12..]).to_be_bytes());
        assert_eq!(detect(&png), Ok(FileType::Png));
        assert_eq!(found(&png[..20]), "ảnh PNG bị hỏng hoặc không trọn vẹn");
        assert_eq!(found(PNG_SIGNATURE), "ảnh PNG bị hỏng hoặc không trọn vẹn");
    }

    #[test]
    fn office_documents_built_by_hand() {
        assert_eq!(detect(&docx()), Ok(FileType::Docx));
        assert_eq!(detect(&xlsx()), Ok(FileType::Xlsx));
        assert_eq!(detect(&odt()), Ok(FileType::Odt));
        // Part names in Office Open XML are case-insensitive.
        assert_eq!(
            detect(&stored(&[("[content_types].xml", b"x"), ("Word/Document.xml", b"x")])),
            Ok(FileType::Docx)
        );
        let streamed = ZipWriter {
            descriptors: true,
            ..ZipWriter::default()
        };
        assert_eq!(detect(&streamed.write(&[("mimetype", ODT_MIME)])), Ok(FileType::Odt));
        let zip64 = ZipWriter {
            zip64: true,
            descriptors: true,
            ..ZipWriter::default()
        };
        assert_eq!(
            detect(&zip64.write(&[CONTENT_TYPES, ("xl/workbook.xml", b"<workbook/>")])),
            Ok(FileType::Xlsx)
        );
        assert_eq!(detect(&zip64.write(&[("mimetype", ODT_MIME)])), Ok(FileType::Odt));
    }

    #[test]
    fn office_documents_written_by_real_tools() {
        assert_eq!(detect(&real(DOCX_INFOZIP)), Ok(FileType::Docx));
        assert_eq!(detect(&real(XLSX_INFOZIP_STREAMED)), Ok(FileType::Xlsx));
        assert_eq!(detect(&real(ODT_PYTHON_STREAMED_ZIP64)), Ok(FileType::Odt));
        for sample in [DOCX_INFOZIP, XLSX_INFOZIP_STREAMED, ODT_PYTHON_STREAMED_ZIP64] {
            let bytes = real(sample);
            // An upload cut short anywhere is refused, not half-read.
            for cut in [1, 10, 21, 22, 100, bytes.len() / 2, bytes.len() - 30] {
                assert_eq!(
                    found(&bytes[..bytes.len() - cut]),
                    "tệp nén ZIP bị hỏng hoặc không trọn vẹn"
                );
            }
        }
    }

    #[test]
    fn other_zip_archives_are_refused_with_what_they_are() {
        let not_office = "tệp nén ZIP không phải tài liệu Word, Excel hay OpenDocument";
        assert_eq!(found(&stored(&[("photo.jpg", b"\xff\xd8\xff")])), not_office);
        assert_eq!(
            found(&stored(&[("word/document.xml", b"x")])),
            not_office,
            "no [Content_Types].xml"
        );
        assert_eq!(
            found(&stored(&[CONTENT_TYPES])),
            "tài liệu Office Open XML không phải Word hay Excel"
        );
        assert_eq!(
            found(&stored(&[CONTENT_TYPES, ("ppt/presentation.xml", b"x")])),
            "bản trình chiếu PowerPoint (PPTX)"
        );
        assert_eq!(
            found(&stored(&[
                CONTENT_TYPES,
                ("word/document.xml", b"x"),
                ("word/vbaProject.bin", b"x")
            ])),
            "tài liệu Word có macro (DOCM)"
        );
        assert_eq!(
            found(&stored(&[
                CONTENT_TYPES,
                ("xl/workbook.xml", b"x"),
                ("xl/vbaProject.bin", b"x")
            ])),
            "bảng tính Excel có macro (XLSM)"
        );
        assert_eq!(
            found(&stored(&[
                CONTENT_TYPES,
                ("word/document.xml", b"x"),
                ("xl/workbook.xml", b"x")
            ])),
            "tệp nén ZIP chứa lẫn nhiều loại tài liệu"
        );
        assert_eq!(
            found(&stored(&[(
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet"
            )])),
            "bảng tính OpenDocument (ODS)"
        );
        assert_eq!(
            found(&stored(&[(
                "mimetype",
                b"application/vnd.oasis.opendocument.text-template"
            )])),
            "tài liệu OpenDocument không phải văn bản ODT"
        );
        // Exactly the ODT type: a trailing newline is not it.
        assert_eq!(
            found(&stored(&[("mimetype", b"application/vnd.oasis.opendocument.text\n")])),
            "tài liệu OpenDocument bị hỏng (mục mimetype sai)"
        );
        let deflated = ZipWriter {
            method: 8,
            ..ZipWriter::default()
        };
        assert_eq!(
            found(&deflated.write(&[("mimetype", ODT_MIME)])),
            "tài liệu OpenDocument bị hỏng (mục mimetype bị nén)"
        );
        let encrypted = ZipWriter {
            encrypted: true,
            ..ZipWriter::default()
        };
        assert_eq!(
            found(&encrypted.write(&[CONTENT_TYPES, ("word/document.xml", b"x")])),
            "tệp nén ZIP có đặt mật khẩu (đã mã hoá)"
        );
        assert_eq!(
            found(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
            "tệp nén ZIP rỗng"
        );
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).expect("deflate");
        e.finish().expect("deflate")
    }

    #[test]
    fn an_archive_that_expands_past_reason_is_refused() {
        let deflated = ZipWriter {
            method: 8,
            ..ZipWriter::default()
        };
        let types = deflate(CONTENT_TYPES.1);
        // A document of ordinary text expands by a few times: accepted.
        let text = "<w:p>Đơn đề nghị cấp giấy phép xây dựng</w:p>".repeat(2_000);
        let normal = deflated.write(&[
            (CONTENT_TYPES.0, &types),
            ("word/document.xml", &deflate(text.as_bytes())),
        ]);
        assert_eq!(detect(&normal), Ok(FileType::Docx));
        // 40 MiB of spaces in a file of a few dozen KiB, whatever the directory says.
        let spaces = vec![b' '; 40 << 20];
        let bomb = deflated.write(&[(CONTENT_TYPES.0, &types), ("word/document.xml", &deflate(&spaces))]);
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let why = found(&bomb);
        assert!(why.contains("bom nén"), "{why}");
        // Deflate data that does not inflate is a damaged archive.
        let broken = deflated.write(&[(CONTENT_TYPES.0, &types), ("word/document.xml", b"\xff\xff\xff\xff")]);
        assert_eq!(found(&broken), "tệp nén ZIP bị hỏng hoặc không trọn vẹn");
    }

    #[test]
    fn spliced_or_inconsistent_archives_are_refused() {
        let corrupt = "tệp nén ZIP bị hỏng hoặc không trọn vẹn";
        // A local header whose name differs from the directory's.
        let mut renamed = docx();
        let at = renamed
            .windows(17)
            .position(|w| w == b"word/document.xml")
            .expect("local name");
        renamed[at] = b'W';
        assert_eq!(found(&renamed), corrupt);
        // The directory says more entries than it holds.
        let mut miscounted = xlsx();
        let eocd = miscounted.len() - 22;
        miscounted[eocd + 10] = 3;
        assert_eq!(found(&miscounted), corrupt);
        // Junk appended after the archive: readers still find the end record, and so do we.
        let mut trailing = odt();
        trailing.extend_from_slice(b"junk");
        assert_eq!(detect(&trailing), Ok(FileType::Odt));
        // A directory pointing outside the file.
        let mut outside = docx();
        let eocd = outside.len() - 22;
        outside[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(found(&outside), corrupt);
    }

    #[test]
    fn other_kinds_are_named() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "tệp rỗng"),
            (b"\x7fELF\x02\x01\x01\0", "tệp chương trình (ELF)"),
            (b"MZ\x90\0\x03\0", "tệp chương trình Windows (EXE, DLL)"),
            (b"\xcf\xfa\xed\xfe\x07\0", "tệp chương trình macOS (Mach-O)"),
            (b"#!/bin/sh\nrm -rf /\n", "tệp lệnh (script)"),
            (b"GIF89a\x01\0\x01\0", "ảnh GIF"),
            (b"RIFF\x24\0\0\0WEBPVP8 ", "ảnh WebP"),
            (b"II*\0\x08\0\0\0", "ảnh TIFF"),
            (b"BM\x0a\0\0\0\0\0\0\0", "ảnh BMP"),
            (b"\0\0\0\x18ftypheic\0\0\0\0", "ảnh HEIC (định dạng ảnh của iPhone)"),
            (b"\0\0\0\x18ftypisom\0\0\0\0", "tệp video hoặc âm thanh (MP4, MOV)"),
            (b"Rar!\x1a\x07\x01\0", "tệp nén RAR"),
            (b"7z\xbc\xaf\x27\x1c\0\x04", "tệp nén 7z"),
            (b"\x1f\x8b\x08\0", "tệp nén gzip"),
            (b"{\\rtf1\\ansi", "tài liệu RTF"),
            (
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0",
                "tài liệu Office đời cũ (.doc, .xls, .ppt) hoặc tài liệu Office có đặt mật khẩu",
            ),
            (b"\n  <!DOCTYPE html><html><body>", "trang web (HTML)"),
            (b"\xef\xbb\xbf<HTML>", "trang web (HTML)"),
            (
                b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                "ảnh SVG",
            ),
            (b"<?xml version=\"1.0\"?><root/>", "tệp XML"),
            (
                "Đơn đề nghị cấp giấy phép xây dựng\n".as_bytes(),
                "văn bản thuần, không phải tài liệu",
            ),
            (b"\0\x01\x02\x03\x04", "định dạng không nhận dạng được"),
            (b"\xc3\x28 not utf-8", "định dạng không nhận dạng được"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(found(bytes), *expected, "{bytes:?}");
        }
        // Text cut in the middle of a character by the sniffing window is still text.
        let mut long = "ệ".repeat(8192 / 3).into_bytes();
        long.extend_from_slice("ệệ".as_bytes());
        assert_eq!(found(&long), "văn bản thuần, không phải tài liệu");
    }

    /// One of six archives (three built here, three made by real tools) for the
    /// property tests, by number.
    fn archive_sample(sample: usize) -> Vec<u8> {
        match sample {
            0 => docx(),
            1 => xlsx(),
            2 => odt(),
            3 => real(DOCX_INFOZIP),
            4 => real(XLSX_INFOZIP_STREAMED),
            _ => real(ODT_PYTHON_STREAMED_ZIP64),
        }
    }

    proptest! {
        #[test]
        fn detect_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = detect(&bytes);
        }

        #[test]
        fn damaged_archives_never_panic(
            sample in 0usize..6,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
            keep in any::<prop::sample::Index>(),
        ) {
            let mut bytes = archive_sample(sample);
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let kept = keep.index(bytes.len());
            let _ = detect(&bytes);
            let _ = detect(&bytes[..kept]);
        }

        #[test]
        fn cutting_an_archive_short_always_rejects_it(sample in 0usize..6, keep in any::<prop::sample::Index>()) {
            let bytes = archive_sample(sample);
            prop_assert!(detect(&bytes[..keep.index(bytes.len())]).is_err());
        }
    }
}
