//! What a file holds after the bytes a signature covers: nothing, only later signatures, or
//! other changes.
//!
//! A signature covers its own revision: the file as it was when it was signed, up to the end
//! of its byte range. Each later signature appends a revision (an incremental update, PDF
//! 32000-1 §7.5.6) with its signature dictionary, its field and widget, the widget's
//! appearance and fonts, and updates of the form, the page's `/Annots` and perhaps the
//! catalog. Such revisions change nothing a reader sees of the signed document but the new
//! stamps, and do not make an earlier signature doubtful (pyHanko says the same).
//!
//! Each state of the document is read with lopdf from the bytes up to the end of a
//! signature's byte range, and consecutive states are compared object by object. Only
//! changes that signing makes are accepted; anything else (a content stream, a page or its
//! resources, the page tree, a new annotation that is not a signature widget, an action, a
//! catalog entry besides `/AcroForm`, an object removed) makes the later changes `Other`.
//! Every later revision must end where an intact signature's byte range ends: an update
//! nobody signed is never taken for a signature.

use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

/// What the file holds after the bytes a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaterChanges {
    /// Nothing: the signature covers the whole file.
    None,
    /// Only later signatures: every update after this signature is covered by an intact
    /// signature of its own and only adds signature fields, their widgets, appearances and
    /// fonts, and the entries of the form, the pages' `/Annots` and the catalog's
    /// `/AcroForm` that lead to them.
    SignaturesOnly,
    /// Something else was added or changed after this signature, or the later updates could
    /// not be read or are not all signed.
    Other,
}

impl LaterChanges {
    /// `none`, `signatures_only` or `other`: the value a JSON answer carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SignaturesOnly => "signatures_only",
            Self::Other => "other",
        }
    }
}

/// The states of a document at the ends of its intact signatures, read once.
pub(crate) struct Revisions<'a> {
    pdf: &'a [u8],
    /// Where the intact signatures' byte ranges end, ascending.
    ends: Vec<usize>,
    states: BTreeMap<usize, Option<Document>>,
}

impl<'a> Revisions<'a> {
    /// `signed_ends`: where the byte ranges of the file's intact signatures end.
    pub(crate) fn new(pdf: &'a [u8], signed_ends: impl IntoIterator<Item = usize>) -> Self {
        let mut ends: Vec<usize> = signed_ends.into_iter().filter(|e| *e <= pdf.len()).collect();
        ends.sort_unstable();
        ends.dedup();
        Self {
            pdf,
            ends,
            states: BTreeMap::new(),
        }
    }

    /// What the file holds after a signature whose byte range ends at `end`.
    pub(crate) fn after(&mut self, end: usize) -> LaterChanges {
        if end == self.pdf.len() {
            return LaterChanges::None;
        }
        match self.why_not_signatures_only(end) {
            Ok(()) => LaterChanges::SignaturesOnly,
            Err(why) => {
                tracing::debug!(end, why, "changes after a signature are not only signatures");
                LaterChanges::Other
            }
        }
    }

    /// `Ok` when every revision after `end` only adds signatures, else what else it does.
    fn why_not_signatures_only(&mut self, end: usize) -> Result<(), String> {
        if !self.ends.contains(&end) {
            return Err("the signature does not end a revision".to_owned());
        }
        if self.ends.last() != Some(&self.pdf.len()) {
            return Err("the last update is not signed".to_owned());
        }
        let later: Vec<usize> = self.ends.iter().copied().filter(|e| *e >= end).collect();
        for pair in later.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            for at in [from, to] {
                if !self.states.contains_key(&at) {
                    let state = load(&self.pdf[..at]);
                    self.states.insert(at, state);
                }
            }
            let (Some(Some(old)), Some(Some(new))) = (self.states.get(&from), self.states.get(&to)) else {
                return Err(format!("the revision ending at {from} or {to} does not read"));
            };
            signing_only(old, new).map_err(|why| format!("revision ending at {to}: {why}"))?;
        }
        Ok(())
    }
}

/// The document as the bytes `pdf` give it; `None` when lopdf had to rebuild the
/// cross-reference data (what it then reads may not be what a viewer shows) or the file is
/// encrypted.
fn load(pdf: &[u8]) -> Option<Document> {
    let doc = Document::load_mem(pdf).ok()?;
    (doc.xref_recovery.is_none() && !doc.trailer.has(b"Encrypt")).then_some(doc)
}

/// `Ok` when `new` differs from `old` only by what signing adds, else what else changed.
pub(crate) fn signing_only(old: &Document, new: &Document) -> Result<(), String> {
    let root = old
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| "no catalog".to_owned())?;
    if new.trailer.get(b"Root").and_then(Object::as_reference).ok() != Some(root) {
        return Err("the catalog was replaced".to_owned());
    }
    if let Some(id) = old.objects.keys().find(|id| !new.objects.contains_key(id)) {
        return Err(format!("object {} {} was removed", id.0, id.1));
    }
    let changed: BTreeSet<ObjectId> = old
        .objects
        .iter()
        .filter(|(id, o)| !same(o, &new.objects[*id]))
        .map(|(id, _)| *id)
        .collect();
    // A reference of the signed revision to an object it did not have leads nowhere (null);
    // an update must not make it lead to new content.
    let mut referenced = BTreeSet::new();
    for object in old.objects.values() {
        references(object, &mut referenced);
    }
    if let Some(id) = referenced
        .iter()
        .find(|id| !old.objects.contains_key(id) && new.objects.contains_key(id))
    {
        return Err(format!(
            "object {} {}, referred to but missing when signed, was added",
            id.0, id.1
        ));
    }
    let mut checked = BTreeSet::new();

    // The catalog: only its form may change, the version it declares (pyHanko adds the
    // ESIC extension level of PAdES, `/Extensions<</ESIC<<…>>>>`; plain values only) and its
    // XMP metadata (pyHanko updates it; a viewer does not show it on a page).
    let old_catalog = old.get_dictionary(root).map_err(|_| "no catalog".to_owned())?;
    let new_catalog = new
        .get_dictionary(root)
        .map_err(|_| "the catalog is not a dictionary".to_owned())?;
    equal_except(
        old_catalog,
        new_catalog,
        &[b"AcroForm", b"Extensions", b"Version", b"Metadata"],
    )
    .map_err(|key| format!("the catalog's /{key} changed"))?;
    match new_catalog.get(b"Metadata") {
        Err(_) if old_catalog.has(b"Metadata") => return Err("the catalog's /Metadata was removed".to_owned()),
        Err(_) => {}
        Ok(Object::Reference(id)) if is_metadata(new.get_object(*id).ok()) => {
            if old_catalog.get(b"Metadata").ok() == Some(&Object::Reference(*id)) {
                checked.insert(*id);
            }
        }
        Ok(_) => return Err("the catalog's /Metadata is not an XMP stream".to_owned()),
    }
    for key in [&b"Extensions"[..], b"Version"] {
        let value = new_catalog.get(key).ok();
        if value != old_catalog.get(key).ok() && !value.is_none_or(plain) {
            return Err(format!(
                "the catalog's /{} is not a plain value",
                String::from_utf8_lossy(key)
            ));
        }
    }
    if new_catalog.get(b"Version").is_ok_and(|v| !matches!(v, Object::Name(_))) {
        return Err("the catalog's /Version is not a name".to_owned());
    }
    checked.insert(root);
    check_form(
        old,
        new,
        old_catalog.get(b"AcroForm").ok(),
        new_catalog.get(b"AcroForm").ok(),
        &mut checked,
    )?;

    // The pages: the same ones, each changed in its annotations only.
    let pages = old.get_pages();
    if new.get_pages() != pages {
        return Err("the pages changed".to_owned());
    }
    for (number, page_id) in pages {
        check_page(old, new, page_id, &mut checked).map_err(|why| format!("page {number}: {why}"))?;
    }

    // The document information dictionary (metadata a signing tool may update).
    if let Ok(Object::Reference(info)) = old.trailer.get(b"Info")
        && changed.contains(info)
        && new.get_dictionary(*info).is_ok()
    {
        checked.insert(*info);
    }

    // A signature field made empty before and now signed: only its value and appearance.
    for id in changed.difference(&checked.clone()) {
        let (Ok(before), Ok(after)) = (old.get_dictionary(*id), new.get_dictionary(*id)) else {
            continue;
        };
        if is_name(before.get(b"FT").ok(), b"Sig") && !before.has(b"V") {
            equal_except(before, after, &[b"V", b"AP"])
                .map_err(|key| format!("signature field {} {}: /{key} changed", id.0, id.1))?;
            checked.insert(*id);
        }
    }

    match changed.difference(&checked).next() {
        Some(id) => Err(format!("object {} {} changed", id.0, id.1)),
        None => Ok(()),
    }
}

/// The form (`/AcroForm`, direct or not): only `/Fields` (new signature fields added at the
/// end), `/SigFlags` and `/DR` may change.
fn check_form(
    old: &Document,
    new: &Document,
    old_entry: Option<&Object>,
    new_entry: Option<&Object>,
    checked: &mut BTreeSet<ObjectId>,
) -> Result<(), String> {
    let empty = Dictionary::new();
    let (old_id, old_form) = match old_entry {
        None => (None, &empty),
        Some(entry) => resolve_dict(old, entry).ok_or("the old form is not a dictionary")?,
    };
    let (new_id, new_form) = match new_entry {
        None if old_entry.is_none() => return Ok(()),
        None => return Err("the form was removed".to_owned()),
        Some(entry) => resolve_dict(new, entry).ok_or("the form is not a dictionary")?,
    };
    equal_except(old_form, new_form, &[b"Fields", b"SigFlags", b"DR"])
        .map_err(|key| format!("the form's /{key} changed"))?;
    if new_form
        .get(b"SigFlags")
        .is_ok_and(|f| !matches!(f, Object::Integer(_)))
    {
        return Err("the form's /SigFlags is not a number".to_owned());
    }
    let (old_fields_id, old_fields) = array_at(old, old_form.get(b"Fields").ok())?;
    let (new_fields_id, new_fields) = array_at(new, new_form.get(b"Fields").ok())?;
    check_added(old, new, &old_fields, &new_fields, false).map_err(|why| format!("form fields: {why}"))?;
    if let Some(id) = new_id.filter(|id| old_id == Some(*id)) {
        checked.insert(id);
    }
    if let Some(id) = new_fields_id.filter(|id| old_fields_id == Some(*id)) {
        checked.insert(id);
    }
    Ok(())
}

/// A page: unchanged but for its `/Annots`, where only signature widgets are added at the
/// end.
fn check_page(old: &Document, new: &Document, id: ObjectId, checked: &mut BTreeSet<ObjectId>) -> Result<(), String> {
    let before = old.get_dictionary(id).map_err(|_| "not a dictionary".to_owned())?;
    let after = new
        .get_dictionary(id)
        .map_err(|_| "no longer a dictionary".to_owned())?;
    equal_except(before, after, &[b"Annots"]).map_err(|key| format!("/{key} changed"))?;
    let (old_annots_id, old_annots) = array_at(old, before.get(b"Annots").ok())?;
    let (new_annots_id, new_annots) = array_at(new, after.get(b"Annots").ok())?;
    check_added(old, new, &old_annots, &new_annots, true).map_err(|why| format!("annotations: {why}"))?;
    checked.insert(id);
    if let Some(annots) = new_annots_id.filter(|a| old_annots_id == Some(*a)) {
        checked.insert(annots);
    }
    Ok(())
}

/// `new_list` is `old_list` followed by new signature fields (or, with `widgets`, their
/// widget annotations), none of them an object that existed before.
fn check_added(
    old: &Document,
    new: &Document,
    old_list: &[Object],
    new_list: &[Object],
    widgets: bool,
) -> Result<(), String> {
    let kept = new_list
        .get(..old_list.len())
        .is_some_and(|head| head.iter().zip(old_list).all(|(a, b)| same(a, b)));
    if !kept {
        return Err("entries were removed or reordered".to_owned());
    }
    for entry in &new_list[old_list.len()..] {
        let Object::Reference(id) = entry else {
            return Err("a direct entry was added".to_owned());
        };
        if old.objects.contains_key(id) {
            return Err(format!("object {} {}, which existed before, was added", id.0, id.1));
        }
        let dict = new
            .get_dictionary(*id)
            .map_err(|_| format!("object {} {} is not a dictionary", id.0, id.1))?;
        signature_field(new, dict, widgets).map_err(|why| format!("object {} {}: {why}", id.0, id.1))?;
    }
    Ok(())
}

/// A signature field (or, with `widget`, a signature field's widget annotation) without
/// actions.
fn signature_field(doc: &Document, dict: &Dictionary, widget: bool) -> Result<(), String> {
    if widget && !is_name(dict.get(b"Subtype").ok(), b"Widget") {
        return Err("an annotation that is not a widget".to_owned());
    }
    if dict.has(b"A") || dict.has(b"AA") {
        return Err("a field with an action".to_owned());
    }
    let parent = dict
        .get(b"Parent")
        .ok()
        .and_then(|p| resolve_dict(doc, p))
        .map(|(_, d)| d);
    let field_type = dict.get(b"FT").ok().or_else(|| parent.and_then(|p| p.get(b"FT").ok()));
    if !is_name(field_type, b"Sig") {
        return Err("a field that is not a signature field".to_owned());
    }
    if parent.is_some_and(|p| p.has(b"A") || p.has(b"AA")) {
        return Err("a field with an action".to_owned());
    }
    Ok(())
}

/// The array `entry` is or refers to (empty when there is none), and its object.
fn array_at(doc: &Document, entry: Option<&Object>) -> Result<(Option<ObjectId>, Vec<Object>), String> {
    match entry {
        None => Ok((None, Vec::new())),
        Some(Object::Array(items)) => Ok((None, items.clone())),
        Some(Object::Reference(id)) => match doc.get_object(*id) {
            Ok(Object::Array(items)) => Ok((Some(*id), items.clone())),
            _ => Err(format!("object {} {} is not an array", id.0, id.1)),
        },
        Some(_) => Err("not an array".to_owned()),
    }
}

/// The dictionary `entry` is or refers to, and its object.
fn resolve_dict<'d>(doc: &'d Document, entry: &'d Object) -> Option<(Option<ObjectId>, &'d Dictionary)> {
    match entry {
        Object::Dictionary(d) => Some((None, d)),
        Object::Reference(id) => doc.get_dictionary(*id).ok().map(|d| (Some(*id), d)),
        _ => None,
    }
}

/// Whether both dictionaries hold the same values for every key but `except`; else the
/// first key that differs.
fn equal_except(a: &Dictionary, b: &Dictionary, except: &[&[u8]]) -> Result<(), String> {
    let differs = a
        .iter()
        .map(|(k, _)| k)
        .chain(b.iter().map(|(k, _)| k))
        .filter(|k| !except.contains(&k.as_slice()))
        .find(|k| match (a.get(k), b.get(k)) {
            (Ok(x), Ok(y)) => !same(x, y),
            (Err(_), Err(_)) => false,
            _ => true,
        });
    match differs {
        Some(key) => Err(String::from_utf8_lossy(key).into_owned()),
        None => Ok(()),
    }
}

/// Equal values; streams by their dictionary and bytes, wherever they are in the file.
fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(x), Object::Stream(y)) => x.dict == y.dict && x.content == y.content,
        _ => a == b,
    }
}

/// Adds the objects `value` refers to to `out`.
fn references(value: &Object, out: &mut BTreeSet<ObjectId>) {
    match value {
        Object::Reference(id) => {
            out.insert(*id);
        }
        Object::Array(items) => items.iter().for_each(|item| references(item, out)),
        Object::Dictionary(dict) => dict.iter().for_each(|(_, v)| references(v, out)),
        Object::Stream(stream) => stream.dict.iter().for_each(|(_, v)| references(v, out)),
        _ => {}
    }
}

/// An XMP metadata stream (`/Type/Metadata/Subtype/XML`).
fn is_metadata(value: Option<&Object>) -> bool {
    match value {
        Some(Object::Stream(stream)) => {
            is_name(stream.dict.get(b"Type").ok(), b"Metadata") && is_name(stream.dict.get(b"Subtype").ok(), b"XML")
        }
        _ => false,
    }
}

/// A value without references or streams: nothing in it leads elsewhere.
fn plain(value: &Object) -> bool {
    match value {
        Object::Reference(_) | Object::Stream(_) => false,
        Object::Array(items) => items.iter().all(plain),
        Object::Dictionary(dict) => dict.iter().all(|(_, v)| plain(v)),
        _ => true,
    }
}

fn is_name(value: Option<&Object>, name: &[u8]) -> bool {
    matches!(value, Some(Object::Name(n)) if n == name)
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use std::io::Write as _;
    use std::path::Path;
    use std::process::{Command, Stdio};

    use time::OffsetDateTime;

    use super::*;
    use crate::testing::{Party, Pki};
    use crate::{KeyAlgorithm, SignError, SignOptions, SignatureReport, Stamp, TrustAnchors, Verdict, verify_pdf};

    /// A one-page A5 PDF with a classic cross-reference table.
    fn minimal_pdf() -> Vec<u8> {
        pdf_with_contents("4 0 R")
    }

    /// [`minimal_pdf`] whose page has the `/Contents` given.
    fn pdf_with_contents(contents: &str) -> Vec<u8> {
        let content = b"BT /F1 14 Tf 60 520 Td (GIAY TIEP NHAN HO SO) Tj ET";
        let objects = [
            "<</Type/Catalog/Pages 2 0 R>>".to_owned(),
            "<</Type/Pages/Kids[3 0 R]/Count 1>>".to_owned(),
            format!(
                "<</Type/Page/Parent 2 0 R/MediaBox[0 0 419.528 595.276]/Resources<</Font<</F1 5 0 R>>>>/Contents {contents}>>"
            ),
            format!(
                "<</Length {}>>\nstream\n{}\nendstream",
                content.len(),
                String::from_utf8_lossy(content)
            ),
            "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_owned(),
        ];
        crate::testing::pdf_of_objects(&objects, "")
    }

    /// Signs the DER of the signed attributes with `key` (SHA-256; PKCS#1 v1.5 for RSA, DER
    /// for ECDSA: what the token signer returns).
    fn openssl_sign(key: &Path, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| SignError::Token(e.to_string()))?;
        child
            .stdin
            .take()
            .ok_or_else(|| SignError::Token("no stdin".to_owned()))?
            .write_all(data)
            .map_err(|e| SignError::Token(e.to_string()))?;
        let out = child.wait_with_output().map_err(|e| SignError::Token(e.to_string()))?;
        if !out.status.success() {
            return Err(SignError::Token("openssl failed".to_owned()));
        }
        Ok(out.stdout)
    }

    /// `pdf` signed by `party` through the crate's signing path, the key used by openssl.
    fn sign(pdf: &[u8], party: &Party, algorithm: KeyAlgorithm) -> Vec<u8> {
        let cert = crate::testing::certificate(&party.cert).expect("certificate");
        let options = SignOptions {
            stamp: Stamp {
                signer: party.common_name.clone(),
                organisation: party.organisation.clone(),
                time: OffsetDateTime::now_utc(),
            },
            reason: Some("Cơ quan cấp văn bản".to_owned()),
            location: None,
        };
        crate::pdf::sign_with(
            pdf,
            &cert,
            &[],
            algorithm,
            |data| openssl_sign(&party.key, data),
            None,
            &options,
        )
        .expect("signed")
    }

    /// The objects an update writes: number and body (without `obj`/`endobj`).
    type Update = Vec<(u32, Vec<u8>)>;

    /// Appends an unsigned incremental update writing `objects` (number, body without
    /// `obj`/`endobj`).
    fn append(pdf: &[u8], objects: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let doc = Document::load_mem(pdf).expect("reads");
        let prev = crate::pdf::last_startxref(pdf).expect("startxref");
        let root = doc.trailer.get(b"Root").and_then(Object::as_reference).expect("root");
        let size = objects
            .iter()
            .map(|(n, _)| n + 1)
            .chain([doc.max_id + 1])
            .max()
            .unwrap_or_default();
        let mut out = pdf.to_vec();
        let mut offsets = Vec::new();
        for (number, body) in objects {
            offsets.push((*number, out.len()));
            out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n");
        for (number, offset) in offsets {
            out.extend_from_slice(format!("{number} 1\n{offset:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<</Size {size}/Root {} {} R/Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n",
                root.0, root.1
            )
            .as_bytes(),
        );
        out
    }

    /// Object `id` of `pdf` (a dictionary), changed by `edit`, in PDF syntax.
    fn edited(pdf: &[u8], id: u32, edit: impl FnOnce(&mut Dictionary)) -> Vec<u8> {
        let doc = Document::load_mem(pdf).expect("reads");
        let mut dict = doc.get_dictionary((id, 0)).expect("a dictionary").clone();
        edit(&mut dict);
        crate::pdf::serialize(&Object::Dictionary(dict)).expect("serialises")
    }

    fn stream(data: &str) -> Vec<u8> {
        format!("<</Length {}>>\nstream\n{data}\nendstream", data.len()).into_bytes()
    }

    fn verify(pdf: &[u8], anchors: &TrustAnchors) -> Vec<SignatureReport> {
        verify_pdf(pdf, anchors, OffsetDateTime::now_utc())
    }

    /// Why the later changes after the first signature are not only signatures.
    fn why_not(pdf: &[u8]) -> Result<(), String> {
        let reports = verify(pdf, &TrustAnchors::default());
        let ends: Vec<usize> = reports
            .iter()
            .filter(|r| r.intact)
            .map(|r| r.byte_range[2] + r.byte_range[3])
            .collect();
        Revisions::new(pdf, ends.iter().copied()).why_not_signatures_only(ends[0])
    }

    #[test]
    fn later_signatures_leave_an_earlier_one_valid() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let pki = Pki::create(tmp.path()).expect("test PKI (openssl, softhsm2-util)");
        let anchors = pki.trust_anchors().expect("anchors");

        let once = sign(&minimal_pdf(), &pki.leader, KeyAlgorithm::Ecdsa);
        let reports = verify(&once, &anchors);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
        assert_eq!(reports[0].later_changes, LaterChanges::None);

        // The leader, then the agency: the leader's signature stays valid, saying so.
        let twice = sign(&once, &pki.agency, KeyAlgorithm::Rsa);
        let reports = verify(&twice, &anchors);
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
        assert!(!reports[0].covers_whole_file);
        assert_eq!(reports[0].later_changes, LaterChanges::SignaturesOnly);
        assert_eq!(reports[1].verdict, Verdict::Valid, "{:?}", reports[1]);
        assert_eq!(reports[1].later_changes, LaterChanges::None);

        // A third signature (the form's /Fields and the page's /Annots grow again).
        let thrice = sign(&twice, &pki.leader, KeyAlgorithm::Ecdsa);
        let reports = verify(&thrice, &anchors);
        assert_eq!(reports.len(), 3);
        for r in &reports[..2] {
            assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
            assert_eq!(r.later_changes, LaterChanges::SignaturesOnly);
        }
        assert_eq!(reports[2].later_changes, LaterChanges::None);

        // A document with a cross-reference stream and object streams: signed twice, the
        // updates written with cross-reference streams.
        let mut modern = Document::load_mem(&minimal_pdf()).expect("reads");
        let mut compact = Vec::new();
        modern.save_modern(&mut compact).expect("saved with object streams");
        let modern = Document::load_mem(&compact).expect("reads");
        assert!(matches!(
            modern.reference_table.cross_reference_type,
            lopdf::xref::XrefType::CrossReferenceStream
        ));
        let once = sign(&compact, &pki.leader, KeyAlgorithm::Ecdsa);
        let twice = sign(&once, &pki.agency, KeyAlgorithm::Rsa);
        let reports = verify(&twice, &anchors);
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
        assert_eq!(reports[0].later_changes, LaterChanges::SignaturesOnly);
        let once = sign(&minimal_pdf(), &pki.leader, KeyAlgorithm::Ecdsa);

        // A later signature by a stranger: the earlier one keeps its verdict, the stranger's
        // is of an unknown issuer.
        let countersigned = sign(&once, &pki.stranger, KeyAlgorithm::Rsa);
        let reports = verify(&countersigned, &anchors);
        assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
        assert_eq!(reports[0].later_changes, LaterChanges::SignaturesOnly);
        assert_eq!(reports[1].verdict, Verdict::UnknownIssuer);

        // An update nobody signed, even one that changes nothing, is not a signature.
        let unsigned = append(
            &once,
            &[(5, b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_vec())],
        );
        let reports = verify(&unsigned, &anchors);
        assert_eq!(reports[0].verdict, Verdict::ChangedAfterSigning);
        assert_eq!(reports[0].later_changes, LaterChanges::Other);
        // Nor are bytes after the last signature's revision.
        let mut trailing = twice.clone();
        trailing.extend_from_slice(b"% a comment\n");
        let reports = verify(&trailing, &anchors);
        assert_eq!(reports[0].later_changes, LaterChanges::Other);
        assert_eq!(reports[0].verdict, Verdict::ChangedAfterSigning);
        // A broken later signature does not count either.
        let mut broken = twice.clone();
        let at = twice.len() - 40;
        broken[at] = if broken[at] == b' ' { b'\n' } else { b' ' };
        let reports = verify(&broken, &anchors);
        assert!(!reports[1].intact);
        assert_eq!(reports[0].verdict, Verdict::ChangedAfterSigning, "{:?}", reports[0]);
    }

    #[test]
    fn content_added_after_signing_is_never_taken_for_a_signature() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let pki = Pki::create(tmp.path()).expect("test PKI (openssl, softhsm2-util)");
        let anchors = pki.trust_anchors().expect("anchors");
        let once = sign(&minimal_pdf(), &pki.leader, KeyAlgorithm::Ecdsa);
        // After one signature: 1 catalog, 2 pages, 3 page, 4 content, 5 font, 6 signature,
        // 7 widget, 8 appearance, 9 to 13 the stamp's font.
        let doc = Document::load_mem(&once).expect("reads");
        assert!(doc.get_dictionary((7, 0)).is_ok_and(|w| w.has(b"FT")));
        let text = "BT /F1 30 Tf 60 300 Td (DA DUYET) Tj ET";
        let freetext = b"<</Type/Annot/Subtype/FreeText/Rect[50 280 350 340]/Contents(DA DUYET)/DA(/Helv 24 Tf 0 g)>>";
        let js = b"<</S/JavaScript/JS(app.alert\\(1\\))>>";
        let push = |dict: &mut Dictionary, key: &str, id: u32| {
            let mut items = dict
                .get(key.as_bytes())
                .and_then(Object::as_array)
                .cloned()
                .unwrap_or_default();
            items.push(Object::Reference((id, 0)));
            dict.set(key, Object::Array(items));
        };
        let attacks: Vec<(&str, Update, &str)> = vec![
            (
                "a content stream appended to the page",
                vec![
                    (20, stream(text)),
                    (
                        3,
                        edited(&once, 3, |p| {
                            p.set(
                                "Contents",
                                Object::Array(vec![Object::Reference((4, 0)), Object::Reference((20, 0))]),
                            )
                        }),
                    ),
                ],
                "page 1: /Contents changed",
            ),
            (
                "the page's contents replaced",
                vec![
                    (20, stream(text)),
                    (3, edited(&once, 3, |p| p.set("Contents", Object::Reference((20, 0))))),
                ],
                "page 1: /Contents changed",
            ),
            (
                "the content stream rewritten in place",
                vec![(4, stream(text))],
                "object 4 0 changed",
            ),
            (
                "an existing object's value changed",
                vec![(5, b"<</Type/Font/Subtype/Type1/BaseFont/Courier>>".to_vec())],
                "object 5 0 changed",
            ),
            (
                "a page added",
                vec![
                    (20, stream(text)),
                    (
                        21,
                        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 419.528 595.276]/Contents 20 0 R>>".to_vec(),
                    ),
                    (2, b"<</Type/Pages/Kids[3 0 R 21 0 R]/Count 2>>".to_vec()),
                ],
                "the pages changed",
            ),
            (
                "a FreeText annotation",
                vec![
                    (22, freetext.to_vec()),
                    (3, edited(&once, 3, |p| push(p, "Annots", 22))),
                ],
                "not a widget",
            ),
            (
                "a FreeText annotation posing as a signature field",
                vec![
                    (
                        22,
                        b"<</Type/Annot/Subtype/FreeText/FT/Sig/Rect[50 280 350 340]/Contents(DA DUYET)>>".to_vec(),
                    ),
                    (3, edited(&once, 3, |p| push(p, "Annots", 22))),
                ],
                "not a widget",
            ),
            (
                "a widget of a text field",
                vec![
                    (
                        22,
                        b"<</Type/Annot/Subtype/Widget/FT/Tx/T(x)/V(DA DUYET)/Rect[50 280 350 340]>>".to_vec(),
                    ),
                    (3, edited(&once, 3, |p| push(p, "Annots", 22))),
                ],
                "not a signature field",
            ),
            (
                "a signature widget with a JavaScript action",
                vec![
                    (23, js.to_vec()),
                    (
                        22,
                        b"<</Type/Annot/Subtype/Widget/FT/Sig/T(x)/Rect[0 0 0 0]/A 23 0 R>>".to_vec(),
                    ),
                    (3, edited(&once, 3, |p| push(p, "Annots", 22))),
                ],
                "with an action",
            ),
            (
                "an existing annotation removed",
                vec![(3, edited(&once, 3, |p| p.set("Annots", Object::Array(Vec::new()))))],
                "removed or reordered",
            ),
            (
                "an OpenAction with JavaScript",
                vec![
                    (23, js.to_vec()),
                    (1, edited(&once, 1, |c| c.set("OpenAction", Object::Reference((23, 0))))),
                ],
                "the catalog's /OpenAction changed",
            ),
            (
                "a catalog extension leading to an action",
                vec![
                    (23, js.to_vec()),
                    (
                        1,
                        edited(&once, 1, |c| {
                            let mut ext = Dictionary::new();
                            ext.set("ESIC", Object::Reference((23, 0)));
                            c.set("Extensions", Object::Dictionary(ext));
                        }),
                    ),
                ],
                "the catalog's /Extensions is not a plain value",
            ),
            (
                "catalog metadata that is not XMP",
                vec![
                    (20, stream(text)),
                    (1, edited(&once, 1, |c| c.set("Metadata", Object::Reference((20, 0))))),
                ],
                "the catalog's /Metadata is not an XMP stream",
            ),
            (
                "the form asking viewers to redraw its fields",
                vec![(
                    1,
                    edited(&once, 1, |c| {
                        if let Ok(Object::Dictionary(form)) = c.get_mut(b"AcroForm") {
                            form.set("NeedAppearances", Object::Boolean(true));
                        }
                    }),
                )],
                "the form's /NeedAppearances changed",
            ),
            (
                "the page's media box changed",
                vec![(
                    3,
                    edited(&once, 3, |p| {
                        p.set(
                            "MediaBox",
                            Object::Array(vec![0.into(), 0.into(), 200.into(), 200.into()]),
                        )
                    }),
                )],
                "page 1: /MediaBox changed",
            ),
        ];
        // A reference that led nowhere when signed, now leading to new content.
        let dangling = sign(&pdf_with_contents("[4 0 R 30 0 R]"), &pki.leader, KeyAlgorithm::Ecdsa);
        assert_eq!(verify(&dangling, &anchors)[0].verdict, Verdict::Valid);
        let filled = sign(
            &append(&dangling, &[(30, stream(text))]),
            &pki.agency,
            KeyAlgorithm::Rsa,
        );
        let reports = verify(&filled, &anchors);
        assert_eq!(reports[0].later_changes, LaterChanges::Other);
        assert_eq!(reports[0].verdict, Verdict::ChangedAfterSigning);
        let err = why_not(&filled).expect_err("a dangling reference filled");
        assert!(
            err.contains("object 30 0, referred to but missing when signed"),
            "{err}"
        );
        // Signing such a file again is still only a signature.
        let twice = sign(&dangling, &pki.agency, KeyAlgorithm::Rsa);
        assert_eq!(verify(&twice, &anchors)[0].later_changes, LaterChanges::SignaturesOnly);

        for (name, objects, why) in attacks {
            let attacked = append(&once, &objects);
            let reports = verify(&attacked, &anchors);
            assert_eq!(reports.len(), 1, "{name}");
            assert!(reports[0].intact, "{name}: the signed bytes are untouched");
            assert_eq!(reports[0].later_changes, LaterChanges::Other, "{name}");
            assert_eq!(reports[0].verdict, Verdict::ChangedAfterSigning, "{name}");
            // Signed again on top, by a trusted signer or not: still a change.
            for (signer, algorithm) in [(&pki.agency, KeyAlgorithm::Rsa), (&pki.stranger, KeyAlgorithm::Rsa)] {
                let resigned = sign(&attacked, signer, algorithm);
                let reports = verify(&resigned, &anchors);
                assert_eq!(reports.len(), 2, "{name}");
                assert_eq!(reports[0].later_changes, LaterChanges::Other, "{name}");
                assert_eq!(reports[0].verdict, Verdict::ChangedAfterSigning, "{name}");
                assert_eq!(reports[1].later_changes, LaterChanges::None, "{name}");
                let err = why_not(&resigned).expect_err(name);
                assert!(err.contains(why), "{name}: refused for {err:?}, not {why:?}");
            }
        }
    }
}
