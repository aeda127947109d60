//! The two dossier forms (a citizen's online filing, the counter's intake) as the browser
//! sends them by itself, as `multipart/form-data` with the chosen files: the files are
//! stored through the API's upload, the fields become the API's [`NewDossier`] (the same
//! body `app.js` builds from the same field names), and what was typed is kept to send the
//! form back with the message when the filing is refused.
//!
//! Field names, as in the templates: `applicant.kind|name|id_number|phone|email|address`,
//! `delivery`, `fee_option`, `note`, `centre`, `commune` (docs/map-2025.md §4.1); the counter's `province`, `channel`, `sets`, `accept`
//! and its two buttons' `outcome`; per checklist row `documents.N.index` (hidden online, the
//! tick at the counter), `documents.N.originals|copies`, the file input
//! `documents.N.file`, and `documents.N.files[]`, the ids of files already stored (by the
//! script, or by an earlier post that was sent back); `documents.N.stored[]`, documents
//! taken from the applicant's document store («Dùng giấy tờ đã có»), and at the counter
//! `store_consent`, the applicant's consent to that, and `documents.N.checked.original`,
//! the row's scans checked against the original.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use motcua_store::files;
use serde_json::{Map, Value, json};

use super::form::FormData;
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::dossiers::NewDossier;
use crate::state::AppState;

/// Checklist rows a form may name (far above any procedure's document list).
const MAX_ROWS: usize = 200;
/// Room for the form's text fields and multipart framing on top of the files.
const FORM_OVERHEAD: usize = 1024 * 1024;

/// Reads the body of a dossier form: up to the files one dossier may have, plus the rest.
pub async fn read_body(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: Body,
) -> Result<(Bytes, tokio::sync::OwnedSemaphorePermit), AppError> {
    let limit = state.config.max_dossier_upload_bytes.saturating_add(FORM_OVERHEAD);
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::TooLarge(state.config.max_dossier_upload_bytes));
    }
    // The whole form is held in memory until its files are stored: it counts against
    // `max_upload_bytes_in_flight` like the API's uploads, for as long as the caller
    // keeps the permit.
    let share = declared.unwrap_or(limit).min(state.config.max_upload_bytes_in_flight);
    let permit = crate::service::uploads::reserve(state, share).await.ok_or_else(|| {
        AppError::Unavailable(
            "Máy chủ đang nhận quá nhiều tệp cùng lúc. Vui lòng gửi lại biểu mẫu sau ít giây.".to_owned(),
        )
    })?;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AppError::TooLarge(state.config.max_dossier_upload_bytes))?;
    Ok((bytes, permit))
}

/// A filing form posted without the page's script, read and its sender authenticated.
pub struct Posted {
    /// The form's fields and files.
    pub form: FormData,
    /// Who sent it (session and the form's CSRF token checked).
    pub principal: Principal,
    /// The form's share of the in-flight upload bytes, held until it is handled.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// Reads a filing form (online filing, counter intake): a live session before the body is
/// read, the body under the in-flight cap, then the session with the form's CSRF token.
/// `Ok(Err(answer))` when the sender must first sign in (back to `back`) or is refused.
pub async fn receive(
    state: &AppState,
    request: axum::extract::Request,
    back: &str,
) -> Result<Result<Posted, axum::response::Response>, AppError> {
    let (mut parts, body) = request.into_parts();
    if let Err(e) = super::form::signed_in_before_body(state, &parts).await {
        return Ok(Err(super::form::failed(e, back)));
    }
    let (body, permit) = read_body(state, &parts.headers, body).await?;
    let form = super::form::parse(&parts.headers, &body)?;
    match super::form::principal(state, &mut parts, &form).await {
        Ok(principal) => Ok(Ok(Posted {
            form,
            principal,
            _permit: permit,
        })),
        Err(e) => Ok(Err(super::form::failed(e, back))),
    }
}

/// Files the dossier a posted form describes, as the script would: its files through the
/// API's upload (those already stored kept), then the API's filing. What was typed comes
/// back with the new dossier's code, or with why it was not filed (to show the form again).
pub async fn file(
    state: &AppState,
    posted: &Posted,
    procedure: &str,
    desk: Desk,
) -> Result<(Typed, Result<String, AppError>), AppError> {
    let (p, form) = (&posted.principal, &posted.form);
    let mut typed = Typed::of(form);
    typed.keep_stored(state, p, form).await?;
    let problems = typed.store_files(state, p, form).await;
    let filed = if problems.is_empty() {
        match typed.request(procedure, desk) {
            Ok(req) => crate::service::dossiers::file(state, p, req)
                .await
                .map(|view| view.dossier.code.as_str().to_owned()),
            Err(e) => Err(e),
        }
    } else {
        Err(AppError::bad(
            "invalid_file",
            "documents",
            format!("Có tệp chưa tải lên được: {}", problems.join(" ")),
        ))
    };
    Ok((typed, filed))
}

/// Who is filing: the form's rules differ only in which fields count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desk {
    /// A citizen online: every row is sent, a row counts when it has files.
    Online,
    /// The counter: a row counts when ticked (or given a scan), with its counts.
    Counter,
}

/// A file stored for a row: its id and name.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The upload's id.
    pub id: String,
    /// Its name, to show.
    pub name: String,
}

/// What was typed for one checklist row.
#[derive(Debug, Clone, Default)]
pub struct RowTyped {
    /// `documents.N.index` was sent (hidden online; ticked at the counter).
    pub ticked: bool,
    /// Originals, as typed.
    pub originals: String,
    /// Copies, as typed.
    pub copies: String,
    /// Files stored for the row.
    pub kept: Vec<Kept>,
    /// Documents of the applicant's store taken for the row (their ids).
    pub stored: Vec<i64>,
    /// Counter: the row's scans were checked against the original (`original`) or a
    /// certified copy (`certified_copy`); empty when not.
    pub checked: String,
}

/// Everything typed in a dossier form.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// `citizen` or `organisation`.
    pub kind: String,
    /// Applicant's name.
    pub name: String,
    /// Applicant's ID or tax number.
    pub id_number: String,
    /// Applicant's phone.
    pub phone: String,
    /// Applicant's email.
    pub email: String,
    /// Applicant's address.
    pub address: String,
    /// How the result is delivered.
    pub delivery: String,
    /// The fee option chosen.
    pub fee_option: String,
    /// The note.
    pub note: String,
    /// Counter: the province (hidden).
    pub province: String,
    /// Counter: `counter` or `post`.
    pub channel: String,
    /// Counter: sets received, as typed.
    pub sets: String,
    /// Counter: accept at once (default), or only register for checking.
    pub accept: bool,
    /// Counter: the applicant agreed that their document store be consulted and used.
    pub store_consent: bool,
    /// Counter: the queue ticket (its id) the applicant was called with.
    pub ticket: Option<i64>,
    /// Where it is received (a counter officer with several counters), or online the
    /// centre chosen to hand the result back: an agency code, empty for the default.
    pub centre: String,
    /// Commune-level procedures: the competent commune's code, empty for the default.
    pub commune: String,
    /// The checklist rows named by the form, by index.
    pub rows: BTreeMap<usize, RowTyped>,
    /// Someone filing for the applicant under an authorisation (all empty: nobody).
    pub submitter: SubmitterTyped,
}

/// The authorised submitter's part of a dossier form (`submitter.…` fields).
#[derive(Debug, Clone, Default)]
pub struct SubmitterTyped {
    /// Name.
    pub name: String,
    /// Citizen ID.
    pub id_number: String,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
    /// Counter: originals of the authorisation received, as typed.
    pub originals: String,
    /// Counter: copies, as typed.
    pub copies: String,
    /// Scans of the authorisation stored.
    pub kept: Vec<Kept>,
}

/// The field of the authorisation's scans (`files[]`: stored ids; `file`: chosen files).
const AUTHORISATION_FILES: &str = "submitter.authorisation.files[]";
const AUTHORISATION_FILE: &str = "submitter.authorisation.file";

impl SubmitterTyped {
    /// Whether anything of a submitter was typed (or a scan kept).
    pub fn given(&self) -> bool {
        ![
            &self.name,
            &self.id_number,
            &self.phone,
            &self.email,
            &self.originals,
            &self.copies,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
            || !self.kept.is_empty()
    }
}

/// The row index and the rest of a `documents.N.rest` field name.
fn row_field(name: &str) -> Option<(usize, &str)> {
    let (index, rest) = name.strip_prefix("documents.")?.split_once('.')?;
    let index: usize = index.parse().ok()?;
    (index < MAX_ROWS).then_some((index, rest))
}

impl Typed {
    /// What the form carries (files already stored are looked up by [`Typed::keep_stored`]).
    pub fn of(form: &FormData) -> Typed {
        let mut typed = Typed {
            kind: form.text("applicant.kind"),
            name: form.text("applicant.name"),
            id_number: form.text("applicant.id_number"),
            phone: form.text("applicant.phone"),
            email: form.text("applicant.email"),
            address: form.text("applicant.address"),
            delivery: form.text("delivery"),
            fee_option: form.text("fee_option"),
            note: form.text("note"),
            province: form.text("province"),
            channel: form.text("channel"),
            sets: form.text("sets"),
            // The pressed button decides (the hidden `accept` is the script's).
            accept: match form.get("outcome") {
                Some(outcome) => outcome != "register",
                None => form.get("accept") != Some("false"),
            },
            // `true` from the intake form (the script sends it as a JSON boolean).
            store_consent: form.get("store_consent").is_some_and(|v| v == "true" || v == "1"),
            ticket: form.get("ticket").and_then(|t| t.trim().parse().ok()),
            centre: form.text("centre"),
            commune: form.text("commune"),
            rows: BTreeMap::new(),
            submitter: SubmitterTyped {
                name: form.text("submitter.name"),
                id_number: form.text("submitter.id_number"),
                phone: form.text("submitter.phone"),
                email: form.text("submitter.email"),
                originals: form.text("submitter.authorisation.originals"),
                copies: form.text("submitter.authorisation.copies"),
                kept: Vec::new(),
            },
        };
        for (name, value) in &form.fields {
            let Some((index, rest)) = row_field(name) else {
                continue;
            };
            let row = typed.rows.entry(index).or_default();
            match rest {
                "index" => row.ticked = true,
                "originals" => row.originals.clone_from(value),
                "copies" => row.copies.clone_from(value),
                // A value that is not an id cannot name a stored document: dropped, as a
                // checkbox never sends one.
                "stored[]" => row.stored.extend(value.trim().parse::<i64>().ok()),
                "checked.original" => row.checked.clone_from(value),
                _ => {}
            }
        }
        typed
    }

    /// Adds the files an earlier post already stored (`documents.N.files[]`) that are
    /// still staged uploads of `p`; anything else is dropped (the filing would refuse it).
    pub async fn keep_stored(&mut self, state: &AppState, p: &Principal, form: &FormData) -> Result<(), AppError> {
        let uploader = p.actor();
        let mut tx = state.db.begin_read().await?;
        for (name, id) in &form.fields {
            let row = match row_field(name) {
                Some((index, "files[]")) => Some(index),
                _ if name == AUTHORISATION_FILES => None,
                _ => continue,
            };
            let Some(f) = files::get(&mut tx, id).await? else {
                continue;
            };
            if f.uploader_id != uploader || f.state != files::FileState::Staged {
                continue;
            }
            let kept = match row {
                Some(index) => &mut self.rows.entry(index).or_default().kept,
                None => &mut self.submitter.kept,
            };
            if !kept.iter().any(|k| k.id == f.id) {
                kept.push(Kept { id: f.id, name: f.name });
            }
        }
        Ok(())
    }

    /// Stores each file chosen in the form through the API's upload (type detected from
    /// the content, size limit, staged for this person). Returns what went wrong, one
    /// message per refused file; the files stored are kept either way.
    pub async fn store_files(&mut self, state: &AppState, p: &Principal, form: &FormData) -> Vec<String> {
        let mut problems = Vec::new();
        for file in &form.files {
            let row = match row_field(&file.field) {
                Some((index, "file")) => Some(index),
                _ if file.field == AUTHORISATION_FILE => None,
                _ => continue,
            };
            if file.bytes.len() > state.config.max_upload_bytes {
                problems.push(format!(
                    "{}: tệp lớn hơn giới hạn {} byte.",
                    file.name, state.config.max_upload_bytes
                ));
                continue;
            }
            let stored = crate::service::uploads::upload_bytes(state, p, &file.name, file.bytes.clone()).await;
            match stored {
                Ok(view) => {
                    let kept = Kept {
                        id: view.id,
                        name: view.name,
                    };
                    match row {
                        Some(index) => self.rows.entry(index).or_default().kept.push(kept),
                        None => self.submitter.kept.push(kept),
                    }
                }
                Err(e) => problems.push(format!("{}: {}", file.name, e.parts().2)),
            }
        }
        problems
    }

    /// The API's request for what was typed, exactly as `app.js` builds it from the same
    /// form: empty optional fields left out, numbers as numbers.
    pub fn request(&self, procedure: &str, desk: Desk) -> Result<NewDossier, AppError> {
        let mut applicant = Map::new();
        let put = |m: &mut Map<String, Value>, key: &str, value: &str, required: bool| {
            if required || !value.trim().is_empty() {
                m.insert(key.to_owned(), Value::String(value.to_owned()));
            }
        };
        put(&mut applicant, "kind", &self.kind, false);
        put(&mut applicant, "name", &self.name, true);
        put(&mut applicant, "id_number", &self.id_number, true);
        put(&mut applicant, "phone", &self.phone, false);
        put(&mut applicant, "email", &self.email, false);
        put(&mut applicant, "address", &self.address, false);
        let mut documents = Vec::new();
        for (index, row) in &self.rows {
            let files: Vec<&str> = row.kept.iter().map(|k| k.id.as_str()).collect();
            let mut doc = json!({ "index": index, "files": files, "stored": row.stored });
            match desk {
                Desk::Online if !row.ticked => continue,
                Desk::Online => {}
                // A scan ticks its row, as choosing one does on the page.
                Desk::Counter if !row.ticked && row.kept.is_empty() && row.stored.is_empty() => continue,
                Desk::Counter => {
                    let field = |what: &str| format!("documents[{}].{what}", documents.len());
                    if let Some(n) = count(&row.originals, || field("originals"))? {
                        doc["originals"] = n.into();
                    }
                    if let Some(n) = count(&row.copies, || field("copies"))? {
                        doc["copies"] = n.into();
                    }
                    if !row.checked.trim().is_empty() {
                        doc["checked"] = json!({ "original": row.checked.trim() });
                    }
                }
            }
            documents.push(doc);
        }
        let mut body = Map::new();
        body.insert("procedure".to_owned(), Value::String(procedure.to_owned()));
        body.insert("applicant".to_owned(), Value::Object(applicant));
        body.insert("documents".to_owned(), Value::Array(documents));
        if self.submitter.given() {
            let s = &self.submitter;
            let mut submitter = Map::new();
            put(&mut submitter, "name", &s.name, true);
            put(&mut submitter, "id_number", &s.id_number, true);
            put(&mut submitter, "phone", &s.phone, false);
            put(&mut submitter, "email", &s.email, false);
            let files: Vec<&str> = s.kept.iter().map(|k| k.id.as_str()).collect();
            let mut authorisation = json!({ "files": files });
            if desk == Desk::Counter {
                if let Some(n) = count(&s.originals, || "submitter.authorisation.originals".to_owned())? {
                    authorisation["originals"] = n.into();
                }
                if let Some(n) = count(&s.copies, || "submitter.authorisation.copies".to_owned())? {
                    authorisation["copies"] = n.into();
                }
            }
            submitter.insert("authorisation".to_owned(), authorisation);
            body.insert("submitter".to_owned(), Value::Object(submitter));
        }
        put(&mut body, "delivery", &self.delivery, false);
        put(&mut body, "fee_option", &self.fee_option, false);
        put(&mut body, "note", &self.note, false);
        put(&mut body, "centre", &self.centre, false);
        put(&mut body, "commune", &self.commune, false);
        if desk == Desk::Counter {
            put(&mut body, "province", &self.province, false);
            put(&mut body, "channel", &self.channel, false);
            if let Some(n) = count(&self.sets, || "sets".to_owned())? {
                body.insert("sets".to_owned(), n.into());
            }
            body.insert("accept".to_owned(), Value::Bool(self.accept));
            if self.store_consent {
                body.insert("store_consent".to_owned(), Value::Bool(true));
            }
            if let Some(ticket) = self.ticket {
                body.insert("ticket".to_owned(), ticket.into());
            }
        }
        let bytes = serde_json::to_vec(&body).map_err(|e| AppError::Internal(e.to_string()))?;
        crate::extract::parse_json(&bytes)
    }
}

/// A count typed in a number field: empty is left out (the API's default applies).
fn count(typed: &str, field: impl FnOnce() -> String) -> Result<Option<u16>, AppError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    typed.parse().map(Some).map_err(|_| {
        AppError::bad(
            "invalid_field",
            field(),
            format!("«{typed}» không phải là một số nguyên không âm."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> FormData {
        FormData {
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            files: Vec::new(),
        }
    }

    #[test]
    fn online_rows_are_those_the_form_lists() {
        let mut typed = Typed::of(&form(&[
            ("applicant.kind", "citizen"),
            ("applicant.name", "Nguyễn Văn A"),
            ("applicant.id_number", "058190000123"),
            ("applicant.phone", ""),
            ("documents.0.index", "0"),
            ("documents.1.index", "1"),
            ("delivery", "post"),
            ("note", ""),
        ]));
        typed.rows.entry(0).or_default().kept.push(Kept {
            id: "f1".to_owned(),
            name: "a.pdf".to_owned(),
        });
        let req = typed.request("1.900141", Desk::Online).expect("request");
        assert_eq!(req.procedure, "1.900141");
        assert_eq!(req.applicant.name, "Nguyễn Văn A");
        assert_eq!(req.applicant.phone, "");
        assert_eq!(req.documents.len(), 2);
        assert_eq!(req.documents[0].files, ["f1"]);
        assert!(req.documents[1].files.is_empty());
        assert!(req.accept.is_none() && req.channel.is_none() && req.sets.is_none());
        assert!(req.note.is_empty());
    }

    #[test]
    fn rows_take_stored_documents_and_the_counter_records_consent() {
        let typed = Typed::of(&form(&[
            ("applicant.kind", "citizen"),
            ("applicant.name", "C"),
            ("applicant.id_number", "058190000123"),
            ("documents.0.index", "0"),
            ("documents.0.stored[]", "7"),
            ("documents.0.stored[]", "không phải số"),
            ("documents.1.index", "1"),
        ]));
        let req = typed.request("1.900141", Desk::Online).expect("request");
        assert_eq!(req.documents[0].stored, [7], "ids only");
        assert!(req.documents[1].stored.is_empty());
        assert!(!req.store_consent);
        // At the counter a row taken from the store counts without a tick, and consent is
        // sent when given.
        let typed = Typed::of(&form(&[
            ("applicant.kind", "citizen"),
            ("applicant.name", "C"),
            ("applicant.id_number", "058190000123"),
            ("documents.2.stored[]", "9"),
            ("documents.3.index", "3"),
            ("documents.3.checked.original", "certified_copy"),
            ("store_consent", "true"),
        ]));
        let req = typed.request("1.900141", Desk::Counter).expect("request");
        assert_eq!(req.documents.len(), 2);
        assert_eq!(
            (req.documents[0].index, req.documents[0].stored.as_slice()),
            (2, &[9][..])
        );
        let checked = req.documents[1].checked.as_ref().expect("checked");
        assert_eq!(checked.original, motcua_core::documents::Original::CertifiedCopy);
        assert!(req.store_consent);
        assert_eq!(req.ticket, None);
    }

    #[test]
    fn the_counter_sends_the_queue_ticket_served() {
        let fields = [
            ("applicant.kind", "citizen"),
            ("applicant.name", "C"),
            ("applicant.id_number", "058190000123"),
            ("ticket", "42"),
        ];
        let typed = Typed::of(&form(&fields));
        assert_eq!(
            typed.request("1.900141", Desk::Counter).expect("request").ticket,
            Some(42)
        );
        // Online there is no ticket, whatever the form says.
        assert_eq!(typed.request("1.900141", Desk::Online).expect("request").ticket, None);
    }

    #[test]
    fn counter_rows_count_when_ticked_and_the_button_decides() {
        let typed = Typed::of(&form(&[
            ("applicant.kind", "citizen"),
            ("applicant.name", "B"),
            ("applicant.id_number", "058190000123"),
            ("accept", "true"),
            ("documents.0.index", "0"),
            ("documents.0.originals", "1"),
            ("documents.0.copies", ""),
            ("documents.1.originals", "2"),
            ("sets", "2"),
            ("channel", "post"),
            ("outcome", "register"),
        ]));
        let req = typed.request("1.900141", Desk::Counter).expect("request");
        assert_eq!(req.documents.len(), 1, "the unticked row is not sent");
        assert_eq!(req.documents[0].originals, 1);
        assert_eq!(req.documents[0].copies, 0);
        assert_eq!(req.sets, Some(2));
        assert_eq!(req.accept, Some(false));
        let bad = Typed::of(&form(&[("documents.0.index", "0"), ("documents.0.copies", "hai")]));
        let e = bad.request("1.900141", Desk::Counter).expect_err("not a number");
        assert_eq!(e.parts().3.as_deref(), Some("documents[0].copies"));
    }
}
