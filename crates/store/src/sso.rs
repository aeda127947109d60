//! Single sign-on repository: the accounts linked to identities of an OpenID Connect
//! provider, and the logins on their way through the provider.

use time::OffsetDateTime;

use crate::{Result, Tx, exec, on, to_millis};

/// A login started at motcua and not yet back from the provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SsoState {
    /// SHA-256 (hex) of the `state` parameter; the parameter itself is never stored.
    pub state_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier, sent with the code to the token endpoint.
    pub pkce_verifier: String,
    /// Local path to return to after login.
    pub next_path: String,
    /// Start of the login (epoch ms).
    pub created_at: i64,
    /// After this instant (epoch ms) the state is refused.
    pub expires_at: i64,
}

/// Stores a login in progress.
pub async fn create_state(tx: &mut Tx, s: &SsoState) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO sso_states (state_hash, nonce, pkce_verifier, next_path, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.state_hash)
        .bind(&s.nonce)
        .bind(&s.pkce_verifier)
        .bind(&s.next_path)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Takes a login in progress out of the table: the row is deleted whatever happens next,
/// so a state works once. Returns `None` when there is no such state or it has expired.
///
/// `DELETE … RETURNING` makes taking atomic on both backends: of two callbacks racing
/// with the same state, exactly one gets the row.
pub async fn take_state(tx: &mut Tx, state_hash: &str, now_ms: i64) -> Result<Option<SsoState>> {
    let row: Option<SsoState> = on!(tx, |c| {
        sqlx::query_as(
            "DELETE FROM sso_states WHERE state_hash = $1
             RETURNING state_hash, nonce, pkce_verifier, next_path, created_at, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(c)
        .await
    })?;
    Ok(row.filter(|s| s.expires_at > now_ms))
}

/// Removes logins that expired before `now_ms` (abandoned at the provider).
pub async fn purge_states(tx: &mut Tx, now_ms: i64) -> Result<u64> {
    Ok(exec!(tx, |c| {
        sqlx::query("DELETE FROM sso_states WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(c)
            .await
    })?)
}

/// The account linked to the identity `subject` of `issuer`, if any.
pub async fn user_for_identity(tx: &mut Tx, issuer: &str, subject: &str) -> Result<Option<String>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(c)
            .await
    })?)
}

/// Links the identity `subject` of `issuer` to an account. An identity already linked is
/// a conflict: an identity belongs to one account.
pub async fn link_identity(tx: &mut Tx, issuer: &str, subject: &str, user_id: &str, now: OffsetDateTime) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query("INSERT INTO sso_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(issuer)
            .bind(subject)
            .bind(user_id)
            .bind(to_millis(now))
            .execute(c)
            .await
    })?;
    Ok(())
}
