//! The document store of citizens and organisations (migration 0030, docs/documents.md):
//! the province's kind list, owners and the accounts linked to them, stored documents (each
//! a reference to a row of `dossier_files`, never a copy of its bytes) and the dossiers
//! that reused them.

use motcua_core::documents::{DocumentKind, DocumentSource, Original};
use time::{Date, OffsetDateTime};

use crate::{Arg, Result, StoreError, Tx, exec, fetch_all, from_millis, on, to_millis};

const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

fn day_text(d: Option<Date>) -> Option<String> {
    d.and_then(|d| d.format(DAY).ok())
}

fn day_of(s: Option<String>) -> Result<Option<Date>> {
    s.map(|s| Date::parse(&s, DAY).map_err(|e| StoreError::Io(format!("bad date «{s}» in stored_documents: {e}"))))
        .transpose()
}

// ---------------------------------------------------------------------------------------
// Kinds

/// The kind list the province's administrator set, if any (else the built-in one applies).
pub async fn kinds(tx: &mut Tx, province: &str) -> Result<Option<Vec<DocumentKind>>> {
    let row: Option<(String,)> = on!(tx, |c| {
        sqlx::query_as("SELECT kinds FROM document_kind_lists WHERE province_code = $1")
            .bind(province)
            .fetch_optional(c)
            .await
    })?;
    row.map(|(json,)| serde_json::from_str(&json).map_err(StoreError::from))
        .transpose()
}

/// Replaces the province's kind list (checked by the caller with
/// `motcua_core::documents::check_kinds`).
pub async fn put_kinds(
    tx: &mut Tx,
    province: &str,
    kinds: &[DocumentKind],
    by: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let json = serde_json::to_string(kinds)?;
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO document_kind_lists (province_code, kinds, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (province_code) DO UPDATE SET kinds = excluded.kinds, updated_by = excluded.updated_by,
                 updated_at = excluded.updated_at",
        )
        .bind(province)
        .bind(&json)
        .bind(by)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Owners

/// A person or organisation with a store.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Owner {
    /// Id.
    pub id: i64,
    /// Citizen ID or tax code.
    pub id_number: String,
    /// `citizen` or `organisation`.
    pub kind: String,
    /// Name as last given.
    pub name: String,
}

const OWNER_COLUMNS: &str = "id, id_number, kind, name";

/// The owner keyed `id_number`, created if new (the name kept up to date); its id.
pub async fn ensure_owner(tx: &mut Tx, id_number: &str, kind: &str, name: &str, now: OffsetDateTime) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO document_owners (id_number, kind, name, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id_number) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(id_number)
        .bind(kind)
        .bind(name)
        .bind(to_millis(now))
        .fetch_one(c)
        .await
    })?)
}

/// The owner keyed `id_number`, if it has a store.
pub async fn owner_by_key(tx: &mut Tx, id_number: &str) -> Result<Option<Owner>> {
    let sql = format!("SELECT {OWNER_COLUMNS} FROM document_owners WHERE id_number = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Text(id_number)]).await?.into_iter().next())
}

/// The owner `id`.
pub async fn owner(tx: &mut Tx, id: i64) -> Result<Option<Owner>> {
    let sql = format!("SELECT {OWNER_COLUMNS} FROM document_owners WHERE id = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Int(id)]).await?.into_iter().next())
}

/// The owners whose stores account `user` may open: the one keyed by the account's own
/// citizen ID (`citizen_id`, empty when unknown) and those linked to it.
pub async fn owners_of_account(tx: &mut Tx, user: &str, citizen_id: &str) -> Result<Vec<Owner>> {
    let sql = format!(
        "SELECT {OWNER_COLUMNS} FROM document_owners
         WHERE (id_number = $1 AND $1 <> '')
            OR id IN (SELECT owner_id FROM document_owner_accounts WHERE user_id = $2)
         ORDER BY id"
    );
    fetch_all(tx, &sql, &[Arg::Text(citizen_id), Arg::Text(user)]).await
}

/// An account linked to an owner by an officer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkedAccount {
    /// The account's id.
    pub user_id: String,
    /// Its login name (empty if the account is gone).
    pub username: String,
    /// Its display name.
    pub display_name: String,
    /// The officer who linked it (id).
    pub linked_by: String,
    /// When.
    pub linked_at: i64,
}

/// The accounts linked to owner `owner`, oldest link first.
pub async fn linked_accounts(tx: &mut Tx, owner: i64) -> Result<Vec<LinkedAccount>> {
    fetch_all(
        tx,
        "SELECT a.user_id, COALESCE(u.username, '') AS username, COALESCE(u.display_name, '') AS display_name,
                a.linked_by, a.linked_at
         FROM document_owner_accounts a LEFT JOIN users u ON u.id = a.user_id
         WHERE a.owner_id = $1 ORDER BY a.linked_at, a.user_id",
        &[Arg::Int(owner)],
    )
    .await
}

/// Links account `user` to owner `owner` (nothing changes if linked already).
/// True when the link is new.
pub async fn link_account(tx: &mut Tx, owner: i64, user: &str, by: &str, now: OffsetDateTime) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO document_owner_accounts (owner_id, user_id, linked_by, linked_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (owner_id, user_id) DO NOTHING",
        )
        .bind(owner)
        .bind(user)
        .bind(by)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

// ---------------------------------------------------------------------------------------
// Documents

/// What the signature verifier said of a document's file when it entered the store
/// (migration 0033).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureStatus {
    /// The worst verdict of its signatures (`valid`, `changed_after_signing`,
    /// `unknown_issuer`, `altered`, `invalid`), or `unsigned`.
    pub verdict: String,
    /// The first signature's signer (CN of the certificate).
    pub signer: Option<String>,
    /// The first signature's claimed signing time.
    pub signed_at: Option<OffsetDateTime>,
    /// Every signature's verdict in words.
    pub text: String,
}

/// A document to enter in a store.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// The owner.
    pub owner_id: i64,
    /// The province where it entered.
    pub province: &'a str,
    /// Where it came from.
    pub source: DocumentSource,
    /// Its kind's code, if classified.
    pub kind: Option<&'a str>,
    /// Title.
    pub title: &'a str,
    /// Number (may be empty).
    pub number: &'a str,
    /// Issuer (may be empty).
    pub issuer: &'a str,
    /// Day of issue.
    pub issued_on: Option<Date>,
    /// Day it expires.
    pub expires_on: Option<Date>,
    /// The file (a row of `dossier_files`).
    pub file_id: &'a str,
    /// The file's SHA-256.
    pub sha256: &'a str,
    /// The dossier it was issued in or checked at.
    pub dossier_code: Option<&'a str>,
    /// Checked at the counter: by whom (id, name), when, against what.
    pub checked: Option<(&'a str, &'a str, OffsetDateTime, Original)>,
    /// What its signatures are (`None`: not checked).
    pub signature: Option<&'a SignatureStatus>,
    /// Who entered it.
    pub created_by: &'a str,
    /// When.
    pub created_at: OffsetDateTime,
}

/// Enters a document; its id. A file already in a store is a conflict.
pub async fn insert(tx: &mut Tx, d: &NewDocument<'_>) -> Result<i64> {
    let (checked_by, checked_by_name, checked_at, original) = match d.checked {
        Some((id, name, at, original)) => (Some(id), Some(name), Some(to_millis(at)), Some(original.as_str())),
        None => (None, None, None, None),
    };
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO stored_documents (owner_id, province_code, source, kind, title, number, issuer, issued_on,
                 expires_on, file_id, sha256, dossier_code, checked_by, checked_by_name, checked_at, original,
                 created_by, created_at, signature, signature_signer, signature_signed_at, signature_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                 $22) RETURNING id",
        )
        .bind(d.owner_id)
        .bind(d.province)
        .bind(d.source.as_str())
        .bind(d.kind)
        .bind(d.title)
        .bind(d.number)
        .bind(d.issuer)
        .bind(day_text(d.issued_on))
        .bind(day_text(d.expires_on))
        .bind(d.file_id)
        .bind(d.sha256)
        .bind(d.dossier_code)
        .bind(checked_by)
        .bind(checked_by_name)
        .bind(checked_at)
        .bind(original)
        .bind(d.created_by)
        .bind(to_millis(d.created_at))
        .bind(d.signature.map(|s| s.verdict.as_str()))
        .bind(d.signature.and_then(|s| s.signer.as_deref()))
        .bind(d.signature.and_then(|s| s.signed_at).map(to_millis))
        .bind(d.signature.map(|s| s.text.as_str()))
        .fetch_one(c)
        .await
    })?)
}

/// A stored document with its file's name, type and size and how many dossiers used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Id.
    pub id: i64,
    /// The owner.
    pub owner_id: i64,
    /// The province where it entered.
    pub province_code: String,
    /// Where it came from.
    pub source: DocumentSource,
    /// Its kind's code, if classified.
    pub kind: Option<String>,
    /// Title.
    pub title: String,
    /// Number.
    pub number: String,
    /// Issuer.
    pub issuer: String,
    /// Day of issue.
    pub issued_on: Option<Date>,
    /// Day it expires.
    pub expires_on: Option<Date>,
    /// The file.
    pub file_id: String,
    /// Its SHA-256.
    pub sha256: String,
    /// The dossier it was issued in or checked at.
    pub dossier_code: Option<String>,
    /// Checked at the counter by (id).
    pub checked_by: Option<String>,
    /// Checked by (name).
    pub checked_by_name: Option<String>,
    /// Checked when.
    pub checked_at: Option<OffsetDateTime>,
    /// Checked against.
    pub original: Option<Original>,
    /// Who entered it.
    pub created_by: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// The file's name.
    pub file_name: String,
    /// The file's detected type.
    pub file_type: String,
    /// The file's size in bytes.
    pub size: i64,
    /// The file's key in the object store.
    pub object_key: String,
    /// How many checklist rows of dossiers took it.
    pub uses: i64,
    /// What its signatures were when it entered (`None`: entered before they were checked).
    pub signature: Option<SignatureStatus>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    owner_id: i64,
    province_code: String,
    source: String,
    kind: Option<String>,
    title: String,
    number: String,
    issuer: String,
    issued_on: Option<String>,
    expires_on: Option<String>,
    file_id: String,
    sha256: String,
    dossier_code: Option<String>,
    checked_by: Option<String>,
    checked_by_name: Option<String>,
    checked_at: Option<i64>,
    original: Option<String>,
    created_by: String,
    created_at: i64,
    file_name: String,
    file_type: String,
    size: i64,
    object_key: String,
    uses: i64,
    signature: Option<String>,
    signature_signer: Option<String>,
    signature_signed_at: Option<i64>,
    signature_text: Option<String>,
}

impl Row {
    fn into_document(self) -> Result<StoredDocument> {
        let bad = |what: &str, v: &str| StoreError::Io(format!("unknown {what} «{v}» in stored_documents"));
        Ok(StoredDocument {
            id: self.id,
            owner_id: self.owner_id,
            province_code: self.province_code,
            source: DocumentSource::parse(&self.source).ok_or_else(|| bad("source", &self.source))?,
            kind: self.kind,
            title: self.title,
            number: self.number,
            issuer: self.issuer,
            issued_on: day_of(self.issued_on)?,
            expires_on: day_of(self.expires_on)?,
            file_id: self.file_id,
            sha256: self.sha256,
            dossier_code: self.dossier_code,
            checked_by: self.checked_by,
            checked_by_name: self.checked_by_name,
            checked_at: self.checked_at.map(from_millis),
            original: match self.original {
                Some(o) => Some(Original::parse(&o).ok_or_else(|| bad("original", &o))?),
                None => None,
            },
            created_by: self.created_by,
            created_at: from_millis(self.created_at),
            file_name: self.file_name,
            file_type: self.file_type,
            size: self.size,
            object_key: self.object_key,
            uses: self.uses,
            signature: self.signature.map(|verdict| SignatureStatus {
                verdict,
                signer: self.signature_signer,
                signed_at: self.signature_signed_at.map(from_millis),
                text: self.signature_text.unwrap_or_default(),
            }),
        })
    }
}

const SELECT: &str = "SELECT d.id, d.owner_id, d.province_code, d.source, d.kind, d.title, d.number, d.issuer,
        d.issued_on, d.expires_on, d.file_id, d.sha256, d.dossier_code, d.checked_by, d.checked_by_name,
        d.checked_at, d.original, d.created_by, d.created_at, f.name AS file_name, f.file_type, f.size,
        f.object_key, d.signature, d.signature_signer, d.signature_signed_at, d.signature_text,
        (SELECT COUNT(*) FROM document_uses u WHERE u.document_id = d.id) AS uses
    FROM stored_documents d JOIN dossier_files f ON f.id = d.file_id";

/// The store of owner `owner`, newest first.
pub async fn of_owner(tx: &mut Tx, owner: i64) -> Result<Vec<StoredDocument>> {
    let sql = format!("{SELECT} WHERE d.owner_id = $1 ORDER BY d.created_at DESC, d.id DESC");
    let rows: Vec<Row> = fetch_all(tx, &sql, &[Arg::Int(owner)]).await?;
    rows.into_iter().map(Row::into_document).collect()
}

/// Stored document `id`.
pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<StoredDocument>> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    let rows: Vec<Row> = fetch_all(tx, &sql, &[Arg::Int(id)]).await?;
    rows.into_iter().next().map(Row::into_document).transpose()
}

/// Whether file `file_id` is in a store already.
pub async fn in_store(tx: &mut Tx, file_id: &str) -> Result<bool> {
    let n: i64 = on!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM stored_documents WHERE file_id = $1")
            .bind(file_id)
            .fetch_one(c)
            .await
    })?;
    Ok(n > 0)
}

/// Keeps a staged upload of `uploader` for a store: attached (no longer swept) though it
/// belongs to no dossier. False if it is not a staged, unexpired upload of `uploader`.
pub async fn keep_file(tx: &mut Tx, file_id: &str, uploader: &str, now: OffsetDateTime) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE dossier_files SET state = 'attached', expires_at = NULL
             WHERE id = $1 AND state = 'staged' AND uploader_id = $2 AND dossier_id IS NULL
               AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(file_id)
        .bind(uploader)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// Removes the owner's upload `id` from the store, unless a dossier refers to it; its
/// file row goes too, and its object key is returned for the caller to delete after the
/// commit. `None` when there is no such upload or a dossier refers to it.
pub async fn delete_upload(tx: &mut Tx, id: i64, owner: i64) -> Result<Option<String>> {
    let found: Option<(String, String)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT d.file_id, f.object_key FROM stored_documents d JOIN dossier_files f ON f.id = d.file_id
             WHERE d.id = $1 AND d.owner_id = $2 AND d.source = 'upload' AND f.dossier_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM document_uses u WHERE u.document_id = d.id)",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(c)
        .await
    })?;
    let Some((file_id, key)) = found else {
        return Ok(None);
    };
    exec!(tx, |c| sqlx::query("DELETE FROM stored_documents WHERE id = $1")
        .bind(id)
        .execute(c)
        .await)?;
    exec!(tx, |c| sqlx::query(
        "DELETE FROM dossier_files WHERE id = $1 AND dossier_id IS NULL"
    )
    .bind(&file_id)
    .execute(c)
    .await)?;
    Ok(Some(key))
}

// ---------------------------------------------------------------------------------------
// Uses

/// A stored document taken by a dossier for one checklist row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use<'a> {
    /// The stored document.
    pub document_id: i64,
    /// The dossier.
    pub dossier_code: &'a str,
    /// Its province.
    pub province: &'a str,
    /// The checklist row.
    pub item_index: u16,
    /// How the dossier was filed (`online`, `counter`, `post`).
    pub channel: &'a str,
    /// At the counter: the officer who recorded the applicant's consent.
    pub consent_by: Option<&'a str>,
    /// When.
    pub at: OffsetDateTime,
}

/// Records a use.
pub async fn record_use(tx: &mut Tx, u: &Use<'_>) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO document_uses (document_id, dossier_code, province_code, item_index, channel, consent_by, used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(u.document_id)
        .bind(u.dossier_code)
        .bind(u.province)
        .bind(i64::from(u.item_index))
        .bind(u.channel)
        .bind(u.consent_by)
        .bind(to_millis(u.at))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// The dossiers that took document `id` (codes, oldest first).
pub async fn dossiers_using(tx: &mut Tx, id: i64) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT dossier_code FROM document_uses WHERE document_id = $1 GROUP BY dossier_code
             ORDER BY MIN(used_at), dossier_code",
        )
        .bind(id)
        .fetch_all(c)
        .await
    })?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

// ---------------------------------------------------------------------------------------
// Figures

/// One receiving agency's digitisation figures over a period (docs/documents.md): the
/// counts of the Decision 766 sub-criteria 4.1–4.3, by the same definitions as
/// `motcua_core::evaluation::ServiceCounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CentreFigures {
    /// The agency that received the dossiers (the centre, or a department receiving its
    /// own procedures).
    pub agency: String,
    /// Dossiers accepted in the period.
    pub received: i64,
    /// Of those, with a digitised document (`has_digitised_documents`).
    pub received_digitised: i64,
    /// Of those, taking a document from the applicant's store (`reuses_stored_documents`).
    pub received_reused: i64,
    /// Dossiers whose result was ready in the period.
    pub results: i64,
    /// Of those, with an electronic result (`has_electronic_result`).
    pub results_electronic: i64,
}

/// The figures of every receiving agency of `province` over `[from, to)`, by agency code.
pub async fn figures(
    tx: &mut Tx,
    province: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<CentreFigures>> {
    let (from, to) = (to_millis(from), to_millis(to));
    let received: Vec<(String, i64, Option<i64>, Option<i64>)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT d.receiving_agency, COUNT(*), CAST(SUM(d.has_digitised_documents) AS BIGINT),
                    CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM document_uses u WHERE u.dossier_code = d.code)
                             THEN 1 ELSE 0 END) AS BIGINT)
             FROM dossiers d WHERE d.province_code = $1 AND d.received_at >= $2 AND d.received_at < $3
             GROUP BY d.receiving_agency",
        )
        .bind(province)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await
    })?;
    let sql = format!(
        "SELECT receiving_agency, COUNT(*), CAST(SUM(has_electronic_result) AS BIGINT) FROM dossiers
         WHERE province_code = $1 AND finished_at >= $2 AND finished_at < $3 AND status IN ({})
         GROUP BY receiving_agency",
        crate::deadline::codes(&motcua_core::dossier::Status::WITH_RESULT)
    );
    let results: Vec<(String, i64, Option<i64>)> = on!(tx, |c| sqlx::query_as(&sql)
        .bind(province)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await)?;
    let mut by_agency: std::collections::BTreeMap<String, CentreFigures> = std::collections::BTreeMap::new();
    for (agency, n, digitised, reused) in received {
        let f = by_agency.entry(agency.clone()).or_insert_with(|| CentreFigures {
            agency,
            ..CentreFigures::default()
        });
        f.received = n;
        f.received_digitised = digitised.unwrap_or(0);
        f.received_reused = reused.unwrap_or(0);
    }
    for (agency, n, electronic) in results {
        let f = by_agency.entry(agency.clone()).or_insert_with(|| CentreFigures {
            agency,
            ..CentreFigures::default()
        });
        f.results = n;
        f.results_electronic = electronic.unwrap_or(0);
    }
    Ok(by_agency.into_values().collect())
}
