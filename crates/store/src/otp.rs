//! Pending citizen registrations and their one-time codes.
//!
//! A registration waits here until its code is confirmed; only then does the account
//! exist. Codes never reach this module in clear: it stores a salt and a hash, and the
//! caller compares. Counters are updated with single atomic statements, so two
//! concurrent confirmations cannot both slip under the attempt limit or both use the code.

use crate::{Result, Tx, exec, on};

/// A pending registration as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Registration {
    /// Random identifier, given to the citizen.
    pub id: String,
    /// Province where the citizen role will be granted.
    pub province_code: String,
    /// The login name the account will get (email lowercased, or phone as `0XXXXXXXXX`).
    pub username: String,
    /// Name shown to people (NFC).
    pub display_name: String,
    /// Email address, may be empty.
    pub email: String,
    /// Phone number (`0XXXXXXXXX`), may be empty.
    pub phone: String,
    /// Argon2id hash of the chosen password.
    pub password_hash: String,
    /// Where the code went: `email` or `sms`.
    pub channel: String,
    /// Random salt of the code hash.
    pub code_salt: String,
    /// SHA-256 (hex) of salt, id and code.
    pub code_hash: String,
    /// Wrong codes entered so far.
    pub attempts: i64,
    /// Codes sent so far (first send and resends).
    pub sends: i64,
    /// When the current code was sent (epoch ms).
    pub sent_at: i64,
    /// When the current code stops being valid (epoch ms).
    pub expires_at: i64,
    /// The code was confirmed and the account created.
    pub confirmed: bool,
    /// The account created, once confirmed.
    pub user_id: Option<String>,
    /// Client address at registration.
    pub ip: String,
    /// Creation instant (epoch ms).
    pub created_at: i64,
}

const COLUMNS: &str = "id, province_code, username, display_name, email, phone, password_hash, channel, \
     code_salt, code_hash, attempts, sends, sent_at, expires_at, confirmed, user_id, ip, created_at";

/// Stores a new pending registration.
pub async fn create(tx: &mut Tx, r: &Registration) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO citizen_registrations (id, province_code, username, display_name, email, phone,
                password_hash, channel, code_salt, code_hash, attempts, sends, sent_at, expires_at, confirmed,
                user_id, ip, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&r.id)
        .bind(&r.province_code)
        .bind(&r.username)
        .bind(&r.display_name)
        .bind(&r.email)
        .bind(&r.phone)
        .bind(&r.password_hash)
        .bind(&r.channel)
        .bind(&r.code_salt)
        .bind(&r.code_hash)
        .bind(r.attempts)
        .bind(r.sends)
        .bind(r.sent_at)
        .bind(r.expires_at)
        .bind(r.confirmed)
        .bind(&r.user_id)
        .bind(&r.ip)
        .bind(r.created_at)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Finds a registration by id.
pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<Registration>> {
    let sql = format!("SELECT {COLUMNS} FROM citizen_registrations WHERE id = $1");
    Ok(on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
}

/// Counts a wrong code, unless the registration is used up (confirmed or at `max_attempts`).
/// Returns the attempts made after counting, or `None` when nothing was counted.
pub async fn record_wrong_code(tx: &mut Tx, id: &str, max_attempts: i64) -> Result<Option<i64>> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE citizen_registrations SET attempts = attempts + 1
             WHERE id = $1 AND NOT confirmed AND attempts < $2",
        )
        .bind(id)
        .bind(max_attempts)
        .execute(c)
        .await
    })?;
    if n == 0 {
        return Ok(None);
    }
    let attempts: i64 = on!(tx, |c| {
        sqlx::query_scalar("SELECT attempts FROM citizen_registrations WHERE id = $1")
            .bind(id)
            .fetch_one(c)
            .await
    })?;
    Ok(Some(attempts))
}

/// Marks the registration confirmed by `user_id`. False when it was already confirmed,
/// used up or expired meanwhile: the caller must then not create the account.
pub async fn mark_confirmed(tx: &mut Tx, id: &str, user_id: &str, max_attempts: i64, now_ms: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE citizen_registrations SET confirmed = TRUE, user_id = $2
             WHERE id = $1 AND NOT confirmed AND attempts < $3 AND expires_at > $4",
        )
        .bind(id)
        .bind(user_id)
        .bind(max_attempts)
        .bind(now_ms)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Replaces the code of a registration that is still open (a resend): new salt and hash,
/// attempts back to zero, a new validity window. False when it is confirmed.
pub async fn replace_code(
    tx: &mut Tx,
    id: &str,
    code_salt: &str,
    code_hash: &str,
    sent_at: i64,
    expires_at: i64,
) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE citizen_registrations
             SET code_salt = $2, code_hash = $3, attempts = 0, sends = sends + 1, sent_at = $4, expires_at = $5
             WHERE id = $1 AND NOT confirmed",
        )
        .bind(id)
        .bind(code_salt)
        .bind(code_hash)
        .bind(sent_at)
        .bind(expires_at)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Codes sent to the login name `username` by registrations created since `since_ms`:
/// bounds how often one address or phone can be sent codes, whoever asks.
pub async fn sends_to(tx: &mut Tx, username: &str, since_ms: i64) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(sends), 0) AS BIGINT) FROM citizen_registrations
             WHERE username = $1 AND created_at > $2",
        )
        .bind(username)
        .bind(since_ms)
        .fetch_one(c)
        .await
    })?)
}

/// Deletes registrations whose code expired before `before_ms`; returns how many.
pub async fn purge_expired(tx: &mut Tx, before_ms: i64) -> Result<u64> {
    exec!(tx, |c| {
        sqlx::query("DELETE FROM citizen_registrations WHERE expires_at < $1")
            .bind(before_ms)
            .execute(c)
            .await
    })
    .map_err(Into::into)
}
