//! Signing a PDF as an incremental update (PDF 32000-1 §7.5.6, §12.8): the original bytes are
//! kept as they are and followed by the new and changed objects, a cross-reference section
//! for them and a trailer pointing back to the previous one. lopdf reads the original (it
//! follows xref tables and streams and object streams); the update is written here, byte by
//! byte, because the signature needs exact offsets: a `/ByteRange` placeholder of fixed
//! width and a `/Contents` hole of known size, patched after the rest is written.

use std::fmt::Write as _;
use std::io::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId};
use sha2_11::Digest;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::font::StampFont;
use crate::stamp::{self, Stamp};
use crate::token::{KeyAlgorithm, TokenSigner};
use crate::{SignError, cms_sig};

/// What to put in a signature besides the key's own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// The visible stamp; its time is also the signature's claimed time (`/M`).
    pub stamp: Stamp,
    /// Why the document is signed (`/Reason`), e.g. `Cơ quan cấp văn bản`.
    pub reason: Option<String>,
    /// Where (`/Location`), e.g. the province.
    pub location: Option<String>,
}

/// Room kept in `/Contents` beyond the estimated signature: ECDSA signatures vary by a
/// few bytes.
const MARGIN: usize = 64;
/// Room for a time-stamp token and its attribute: a TSA's signed data with its
/// certificate and chain (3 to 8 KiB from the authorities seen), with room to spare.
const TIMESTAMP_ROOM: usize = 16 * 1024;
/// Distance of the stamp from the right and bottom edges of the page, in points.
const EDGE_RIGHT: f32 = 28.0;
const EDGE_BOTTOM: f32 = 10.0;
/// Space between the stamps of several signatures on one page, in points.
const STAMP_GAP: f32 = 6.0;
const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

/// Signs `pdf` with the key of `signer`: a PAdES B-B signature with a visible stamp at the
/// bottom right of the last page, appended as an incremental update.
pub fn sign_pdf(pdf: &[u8], signer: &TokenSigner, options: &SignOptions) -> Result<Vec<u8>, SignError> {
    sign_by_token(pdf, signer, None, options)
}

/// [`sign_with`] the key of `signer`.
fn sign_by_token(
    pdf: &[u8],
    signer: &TokenSigner,
    timestamp: Option<cms_sig::TimeStamper<'_>>,
    options: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    sign_with(
        pdf,
        signer.certificate(),
        signer.chain(),
        signer.algorithm(),
        |data| signer.sign(data),
        timestamp,
        options,
    )
}

/// Sends the DER of an RFC 3161 request to the time-stamp authority and returns its answer
/// (or why there is none, for the log).
pub type PostTimeStampRequest<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, String> + 'a;

/// [`sign_pdf`] with a signature time-stamp (PAdES B-T): `post` sends the DER of an RFC 3161
/// request to the time-stamp authority and returns its answer (or why there is none). The
/// answer is checked (granted, our nonce, the imprint of this signature's value, the
/// authority's signature) before the token goes into the signature; any failure fails the
/// signing, so that no document claims a time-stamp it lacks.
pub fn sign_pdf_timestamped(
    pdf: &[u8],
    signer: &TokenSigner,
    options: &SignOptions,
    post: &PostTimeStampRequest<'_>,
) -> Result<Vec<u8>, SignError> {
    let stamp = |signature: &[u8]| {
        let request = crate::tsp::Request::new(signature)?;
        let response = post(request.der()).map_err(SignError::TimeStamp)?;
        request.accept(&response)
    };
    sign_by_token(pdf, signer, Some(&stamp), options)
}

/// [`sign_pdf`] with the key given as a function, which signs the DER of the signed
/// attributes.
pub(crate) fn sign_with(
    pdf: &[u8],
    cert: &Certificate,
    chain: &[Certificate],
    algorithm: KeyAlgorithm,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SignError>,
    timestamp: Option<cms_sig::TimeStamper<'_>>,
    options: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    let doc = Document::load_mem(pdf)?;
    if doc.trailer.get(b"Encrypt").is_ok() {
        return Err(SignError::Pdf("encrypted documents are not signed".to_owned()));
    }
    let prev = last_startxref(pdf).ok_or_else(|| SignError::Pdf("no startxref".to_owned()))?;
    let uses_xref_stream = matches!(
        doc.reference_table.cross_reference_type,
        lopdf::xref::XrefType::CrossReferenceStream
    );
    let root_id = doc.trailer.get(b"Root")?.as_reference()?;
    let mut catalog = doc.get_dictionary(root_id)?.clone();
    let pages = doc.get_pages();
    let (_, &page_id) = pages
        .iter()
        .next_back()
        .ok_or_else(|| SignError::Pdf("a document without pages".to_owned()))?;
    let mut page = doc.get_dictionary(page_id)?.clone();
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0)
        .max(doc.max_id + 1);

    // Numbers of the new objects.
    let sig_id = (size, 0);
    let widget_id = (size + 1, 0);
    let appearance_id = (size + 2, 0);
    let type0_id = (size + 3, 0);
    let cid_font_id = (size + 4, 0);
    let descriptor_id = (size + 5, 0);
    let font_file_id = (size + 6, 0);
    let to_unicode_id = (size + 7, 0);
    let mut next_free = size + 8;

    // The stamp's place: bottom right of the last page; a later signature's (a leader's,
    // then the agency's) goes left of the one there, then a row higher, never over it.
    let [llx, lly, urx, _] = page_box(&doc, &page);
    let earlier = signature_widgets(&doc, &page);
    let column = if earlier.is_multiple_of(2) {
        0.0
    } else {
        stamp::WIDTH + STAMP_GAP
    };
    let row = f32::from(u16::try_from(earlier / 2).unwrap_or(u16::MAX)) * (stamp::HEIGHT + STAMP_GAP);
    let x1 = urx - EDGE_RIGHT - stamp::WIDTH - column;
    let y1 = lly + EDGE_BOTTOM + row;
    let rect = [x1.max(llx), y1, x1.max(llx) + stamp::WIDTH, y1 + stamp::HEIGHT];

    // Changed objects: the page gets the widget, the form gets the field.
    let mut changed: Vec<(ObjectId, Vec<u8>)> = Vec::new();
    match page.get(b"Annots") {
        Ok(Object::Reference(annots_id)) => {
            let mut annots = doc.get_object(*annots_id)?.as_array()?.clone();
            annots.push(Object::Reference(widget_id));
            changed.push((*annots_id, serialize(&Object::Array(annots))?));
        }
        Ok(Object::Array(existing)) => {
            let mut annots = existing.clone();
            annots.push(Object::Reference(widget_id));
            page.set("Annots", Object::Array(annots));
        }
        _ => page.set("Annots", Object::Array(vec![Object::Reference(widget_id)])),
    }
    changed.push((page_id, serialize(&Object::Dictionary(page))?));

    let field_count;
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(form_id)) => {
            let mut form = doc.get_dictionary(*form_id)?.clone();
            field_count = add_field(&doc, &mut form, widget_id, &mut changed)?;
            changed.push((*form_id, serialize(&Object::Dictionary(form))?));
        }
        Ok(Object::Dictionary(existing)) => {
            let mut form = existing.clone();
            field_count = add_field(&doc, &mut form, widget_id, &mut changed)?;
            catalog.set("AcroForm", Object::Dictionary(form));
            changed.push((root_id, serialize(&Object::Dictionary(catalog))?));
        }
        _ => {
            let mut form = Dictionary::new();
            field_count = add_field(&doc, &mut form, widget_id, &mut changed)?;
            catalog.set("AcroForm", Object::Dictionary(form));
            changed.push((root_id, serialize(&Object::Dictionary(catalog))?));
        }
    }

    // The appearance and its font.
    let mut font = StampFont::new()?;
    let (glyphs, sizes) = options.stamp.appearance(&mut font);
    let remapper = font.remapper();
    let embedded = font.embed(&remapper)?;
    let content = Stamp::content(&remapper, &glyphs, &sizes);

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(ObjectId, usize)> = Vec::new();
    for (id, body) in &changed {
        offsets.push((*id, out.len()));
        write_object(&mut out, *id, body);
    }

    let widget = format!(
        "<</Type/Annot/Subtype/Widget/FT/Sig/T{}/V {} 0 R/F 132/P {} {} R/Rect[{:.2} {:.2} {:.2} {:.2}]/AP<</N {} 0 R>>>>",
        text_string(&format!("Signature{field_count}")),
        sig_id.0,
        page_id.0,
        page_id.1,
        rect[0],
        rect[1],
        rect[2],
        rect[3],
        appearance_id.0,
    );
    offsets.push((widget_id, out.len()));
    write_object(&mut out, widget_id, widget.as_bytes());

    let appearance_dict = format!(
        "<</Type/XObject/Subtype/Form/BBox[0 0 {:.2} {:.2}]/Resources<</Font<</F1 {} 0 R>>>>",
        stamp::WIDTH,
        stamp::HEIGHT,
        type0_id.0
    );
    offsets.push((appearance_id, out.len()));
    write_stream(&mut out, appearance_id, &appearance_dict, content.as_bytes(), true)?;

    let type0 = format!(
        "<</Type/Font/Subtype/Type0/BaseFont/{}/Encoding/Identity-H/DescendantFonts[{} 0 R]/ToUnicode {} 0 R>>",
        embedded.base_font, cid_font_id.0, to_unicode_id.0
    );
    offsets.push((type0_id, out.len()));
    write_object(&mut out, type0_id, type0.as_bytes());

    let cid_font = format!(
        "<</Type/Font/Subtype/CIDFontType2/BaseFont/{}/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor {} 0 R/DW 0/W[{}]/CIDToGIDMap/Identity>>",
        embedded.base_font, descriptor_id.0, embedded.widths
    );
    offsets.push((cid_font_id, out.len()));
    write_object(&mut out, cid_font_id, cid_font.as_bytes());

    let [bx0, by0, bx1, by1] = embedded.bbox;
    let descriptor = format!(
        "<</Type/FontDescriptor/FontName/{}/Flags 6/FontBBox[{bx0} {by0} {bx1} {by1}]/ItalicAngle 0/Ascent {}/Descent {}/CapHeight {}/StemV 80/FontFile2 {} 0 R>>",
        embedded.base_font, embedded.ascent, embedded.descent, embedded.cap_height, font_file_id.0
    );
    offsets.push((descriptor_id, out.len()));
    write_object(&mut out, descriptor_id, descriptor.as_bytes());

    offsets.push((font_file_id, out.len()));
    write_stream(
        &mut out,
        font_file_id,
        &format!("<</Length1 {}", embedded.program.len()),
        &embedded.program,
        true,
    )?;
    offsets.push((to_unicode_id, out.len()));
    write_stream(&mut out, to_unicode_id, "<<", embedded.to_unicode.as_bytes(), true)?;

    // The signature value, with its holes.
    let reserve =
        cms_sig::estimate(cert, chain, algorithm)? + MARGIN + if timestamp.is_some() { TIMESTAMP_ROOM } else { 0 };
    let signer_name = crate::common_name(cert.tbs_certificate().subject()).unwrap_or_default();
    let mut sig = String::from("<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached");
    let _ = write!(sig, "/M{}", text_string(&pdf_date(options.stamp.time)));
    if !signer_name.is_empty() {
        let _ = write!(sig, "/Name{}", text_string(&signer_name));
    }
    if let Some(reason) = &options.reason {
        let _ = write!(sig, "/Reason{}", text_string(reason));
    }
    if let Some(location) = &options.location {
        let _ = write!(sig, "/Location{}", text_string(location));
    }
    sig.push_str("/ByteRange");
    let byte_range_at = sig.len();
    sig.push_str(BYTE_RANGE_PLACEHOLDER);
    sig.push_str("/Contents");
    let contents_at = sig.len();
    sig.push('<');
    sig.push_str(&"0".repeat(reserve * 2));
    sig.push_str(">>>");
    offsets.push((sig_id, out.len()));
    let sig_start = out.len() + format!("{} {} obj\n", sig_id.0, sig_id.1).len();
    write_object(&mut out, sig_id, sig.as_bytes());
    let byte_range_at = sig_start + byte_range_at;
    let contents_at = sig_start + contents_at;
    let contents_end = contents_at + reserve * 2 + 2;

    // The cross-reference section and trailer.
    let xref_at = out.len();
    let mut trailer = Dictionary::new();
    if uses_xref_stream {
        let xref_id = (next_free, 0);
        next_free += 1;
        offsets.push((xref_id, xref_at));
        trailer.set("Size", Object::Integer(i64::from(next_free)));
        copy_trailer(&doc.trailer, &mut trailer, prev);
        write_xref_stream(&mut out, xref_id, &mut offsets, &trailer)?;
    } else {
        trailer.set("Size", Object::Integer(i64::from(next_free)));
        copy_trailer(&doc.trailer, &mut trailer, prev);
        write_xref_table(&mut out, &mut offsets);
        out.extend_from_slice(b"trailer\n");
        out.extend_from_slice(&serialize(&Object::Dictionary(trailer))?);
        out.push(b'\n');
    }
    let _ = write!(out, "startxref\n{xref_at}\n%%EOF\n");

    // Fill the byte range, then sign what it covers.
    let total = out.len();
    let byte_range = format!("[0 {contents_at} {contents_end} {}]", total - contents_end);
    if byte_range.len() > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(SignError::Pdf("the document is too large to sign".to_owned()));
    }
    let padded = format!("{byte_range:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
    out[byte_range_at..byte_range_at + padded.len()].copy_from_slice(padded.as_bytes());

    let mut hasher = sha2_11::Sha256::new();
    hasher.update(&out[..contents_at]);
    hasher.update(&out[contents_end..]);
    let digest = hasher.finalize();
    let signature = cms_sig::signed_data(&digest, cert, chain, algorithm, sign, timestamp)?;
    if signature.len() > reserve {
        return Err(SignError::Pdf(format!(
            "the signature ({} bytes) is larger than its room ({reserve})",
            signature.len()
        )));
    }
    let hex = hex::encode_upper(&signature);
    out[contents_at + 1..contents_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// Adds the widget (a merged field and annotation) to the form's `/Fields` and sets
/// `/SigFlags` (signatures exist, append only); returns the field's number.
fn add_field(
    doc: &Document,
    form: &mut Dictionary,
    widget_id: ObjectId,
    changed: &mut Vec<(ObjectId, Vec<u8>)>,
) -> Result<usize, SignError> {
    let count = match form.get(b"Fields") {
        Ok(Object::Reference(fields_id)) => {
            let mut fields = doc.get_object(*fields_id)?.as_array()?.clone();
            fields.push(Object::Reference(widget_id));
            let n = fields.len();
            changed.push((*fields_id, serialize(&Object::Array(fields))?));
            n
        }
        Ok(Object::Array(existing)) => {
            let mut fields = existing.clone();
            fields.push(Object::Reference(widget_id));
            let n = fields.len();
            form.set("Fields", Object::Array(fields));
            n
        }
        _ => {
            form.set("Fields", Object::Array(vec![Object::Reference(widget_id)]));
            1
        }
    };
    form.set("SigFlags", Object::Integer(3));
    Ok(count)
}

/// How many signature fields already have their widget on `page`: where the stamps of
/// earlier signatures are.
fn signature_widgets(doc: &Document, page: &Dictionary) -> usize {
    let annots = match page.get(b"Annots") {
        Ok(obj) => doc.dereference(obj).map(|(_, o)| o).unwrap_or(obj),
        Err(_) => return 0,
    };
    let Ok(annots) = annots.as_array() else {
        return 0;
    };
    annots
        .iter()
        .filter_map(|a| doc.dereference(a).ok().map(|(_, o)| o))
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig"))
        .count()
}

/// The page's crop box, else its media box (inherited through the page tree), else A4.
fn page_box(doc: &Document, page: &Dictionary) -> [f32; 4] {
    let mut current = Some(page.clone());
    let mut depth = 0;
    while let Some(dict) = current {
        for key in [&b"CropBox"[..], b"MediaBox"] {
            if let Ok(obj) = dict.get(key) {
                let resolved = doc.dereference(obj).map(|(_, o)| o).unwrap_or(obj);
                if let Ok(arr) = resolved.as_array() {
                    let nums: Vec<f32> = arr.iter().filter_map(|o| o.as_float().ok()).collect();
                    if let [a, b, c, d] = nums[..] {
                        return [a.min(c), b.min(d), a.max(c), b.max(d)];
                    }
                }
            }
        }
        depth += 1;
        current = dict
            .get(b"Parent")
            .and_then(Object::as_reference)
            .and_then(|id| doc.get_dictionary(id))
            .ok()
            .cloned()
            .filter(|_| depth < 32);
    }
    [0.0, 0.0, 595.276, 841.89]
}

/// Copies `/Root`, `/Info` and `/ID` from the previous trailer and points `/Prev` at it.
fn copy_trailer(previous: &Dictionary, trailer: &mut Dictionary, prev: usize) {
    for key in ["Root", "Info", "ID"] {
        if let Ok(value) = previous.get(key.as_bytes()) {
            trailer.set(key, value.clone());
        }
    }
    trailer.set("Prev", Object::Integer(i64::try_from(prev).unwrap_or(i64::MAX)));
}

/// The offset after the last `startxref` keyword.
pub(crate) fn last_startxref(pdf: &[u8]) -> Option<usize> {
    let tail_from = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_from..];
    let at = tail.windows(9).rposition(|w| w == b"startxref")?;
    let rest = std::str::from_utf8(&tail[at + 9..]).ok()?;
    rest.split_whitespace().next()?.parse().ok()
}

fn write_object(out: &mut Vec<u8>, id: ObjectId, body: &[u8]) {
    let _ = writeln!(out, "{} {} obj", id.0, id.1);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nendobj\n");
}

/// Writes a stream object whose dictionary begins with `dict_start` (an open `<<…`).
fn write_stream(
    out: &mut Vec<u8>,
    id: ObjectId,
    dict_start: &str,
    data: &[u8],
    compress: bool,
) -> Result<(), SignError> {
    let (data, filter) = if compress {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).map_err(|e| SignError::Pdf(e.to_string()))?;
        (
            enc.finish().map_err(|e| SignError::Pdf(e.to_string()))?,
            "/Filter/FlateDecode",
        )
    } else {
        (data.to_vec(), "")
    };
    let _ = write!(
        out,
        "{} {} obj\n{dict_start}{filter}/Length {}>>\nstream\n",
        id.0,
        id.1,
        data.len()
    );
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    Ok(())
}

/// Groups sorted object numbers into runs of consecutive numbers.
fn runs(offsets: &mut [(ObjectId, usize)]) -> Vec<Vec<(ObjectId, usize)>> {
    offsets.sort_by_key(|(id, _)| id.0);
    let mut runs: Vec<Vec<(ObjectId, usize)>> = Vec::new();
    for entry in offsets.iter() {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|(id, _)| id.0 + 1 == entry.0.0) => run.push(*entry),
            _ => runs.push(vec![*entry]),
        }
    }
    runs
}

fn write_xref_table(out: &mut Vec<u8>, offsets: &mut [(ObjectId, usize)]) {
    out.extend_from_slice(b"xref\n");
    for run in runs(offsets) {
        let _ = writeln!(out, "{} {}", run[0].0.0, run.len());
        for ((_, generation), offset) in run {
            // Each entry is exactly 20 bytes, ending in CR LF.
            let _ = write!(out, "{offset:010} {generation:05} n\r\n");
        }
    }
}

fn write_xref_stream(
    out: &mut Vec<u8>,
    xref_id: ObjectId,
    offsets: &mut [(ObjectId, usize)],
    trailer: &Dictionary,
) -> Result<(), SignError> {
    let runs = runs(offsets);
    let mut index = String::new();
    let mut data = Vec::new();
    for run in &runs {
        let _ = write!(index, "{} {} ", run[0].0.0, run.len());
        for ((_, generation), offset) in run {
            let offset = u32::try_from(*offset).map_err(|_| SignError::Pdf("offset beyond 4 GiB".to_owned()))?;
            data.push(1u8);
            data.extend_from_slice(&offset.to_be_bytes());
            data.extend_from_slice(&generation.to_be_bytes());
        }
    }
    let mut dict = String::from("<<");
    for (key, value) in trailer.iter() {
        dict.push('/');
        dict.push_str(&String::from_utf8_lossy(key));
        dict.push(' ');
        dict.push_str(&String::from_utf8_lossy(&serialize(value)?));
    }
    let _ = write!(dict, "/Type/XRef/W[1 4 2]/Index[{}]", index.trim_end());
    write_stream(out, xref_id, &dict, &data, false)
}

/// `D:20261102083005+07'00'`, the PDF date of `t` in Vietnam time.
fn pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    t.format(time::macros::format_description!(
        "D:[year][month][day][hour][minute][second][offset_hour sign:mandatory]'[offset_minute]'"
    ))
    .unwrap_or_default()
}

/// A PDF text string: literal when plain ASCII, else UTF-16BE with its byte order mark, in hex.
fn text_string(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let mut out = String::from("(");
        for c in s.chars() {
            if matches!(c, '(' | ')' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push(')');
        out
    } else {
        let mut out = String::from("<FEFF");
        for unit in s.encode_utf16() {
            let _ = write!(out, "{unit:04X}");
        }
        out.push('>');
        out
    }
}

/// PDF syntax for an object read by lopdf (never a stream: only dictionaries and arrays are
/// rewritten).
pub(crate) fn serialize(obj: &Object) -> Result<Vec<u8>, SignError> {
    let mut out = Vec::new();
    write_value(&mut out, obj)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, obj: &Object) -> Result<(), SignError> {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Object::Real(r) => {
            let text = format!("{r:.6}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            out.extend_from_slice(if text.is_empty() || text == "-" {
                b"0"
            } else {
                text.as_bytes()
            });
        }
        Object::Name(name) => {
            out.push(b'/');
            for &b in name {
                if b.is_ascii_alphanumeric() || b"-_.+*".contains(&b) {
                    out.push(b);
                } else {
                    let _ = write!(out, "#{b:02X}");
                }
            }
        }
        Object::String(bytes, _) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode_upper(bytes).as_bytes());
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => {
            out.extend_from_slice(b"<<");
            for (key, value) in dict.iter() {
                write_value(out, &Object::Name(key.clone()))?;
                out.push(b' ');
                write_value(out, value)?;
            }
            out.extend_from_slice(b">>");
        }
        Object::Reference((number, generation)) => {
            let _ = write!(out, "{number} {generation} R");
        }
        Object::Stream(_) => return Err(SignError::Pdf("a stream where a dictionary was expected".to_owned())),
    }
    Ok(())
}

/// Hashes the parts of `pdf` a byte range covers; `None` when the range lies outside it.
pub(crate) fn covered<'a>(pdf: &'a [u8], range: &[usize; 4]) -> Option<[&'a [u8]; 2]> {
    let [a, la, b, lb] = *range;
    let first = pdf.get(a..a.checked_add(la)?)?;
    let second = pdf.get(b..b.checked_add(lb)?)?;
    Some([first, second])
}

/// SHA-256 of `data`, hex: the fingerprint of a document as issued.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2_11::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_in_pdf_syntax() {
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"Page".to_vec()));
        dict.set(
            "Kids",
            Object::Array(vec![Object::Reference((3, 0)), Object::Integer(-2)]),
        );
        dict.set("Box", Object::Real(419.5));
        dict.set("T", Object::String(b"a(b".to_vec(), lopdf::StringFormat::Literal));
        dict.set("N", Object::Name(b"A B".to_vec()));
        let text = String::from_utf8(serialize(&Object::Dictionary(dict)).expect("serialises")).expect("ascii");
        assert_eq!(text, "<</Type /Page/Kids [3 0 R -2]/Box 419.5/T <612862>/N /A#20B>>");
    }

    #[test]
    fn text_strings_use_utf16_beyond_ascii() {
        assert_eq!(text_string("a(b)"), "(a\\(b\\))");
        assert_eq!(text_string("Ký"), "<FEFF004B00FD>");
        assert_eq!(
            pdf_date(time::macros::datetime!(2026-11-02 01:30:05 UTC)),
            "D:20261102083005+07'00'"
        );
    }

    #[test]
    fn xref_runs_group_consecutive_numbers() {
        let mut offsets = vec![((7, 0), 70), ((5, 0), 50), ((6, 0), 60), ((9, 1), 90)];
        let runs = runs(&mut offsets);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 3);
        assert_eq!(runs[1][0], ((9, 1), 90));
        let mut out = Vec::new();
        write_xref_table(&mut out, &mut offsets);
        let text = String::from_utf8(out).expect("ascii");
        assert!(text.starts_with("xref\n5 3\n0000000050 00000 n\r\n"), "{text}");
        assert!(text.ends_with("9 1\n0000000090 00001 n\r\n"));
    }

    #[test]
    fn startxref_is_read_from_the_end() {
        assert_eq!(
            last_startxref(b"%PDF\nstartxref\n12\n%%EOF\nstartxref\n345\n%%EOF\n"),
            Some(345)
        );
        assert_eq!(last_startxref(b"%PDF nothing"), None);
    }
}
