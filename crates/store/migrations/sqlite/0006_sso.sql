-- Login through the national single sign-on (OpenID Connect).

-- Which account a person of an identity provider is. The pair (issuer, subject) is the
-- stable identity OpenID Connect promises; an email address or a name is not, so neither
-- links accounts.
CREATE TABLE sso_identities (
    issuer     TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    user_id    TEXT   NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_by_user ON sso_identities (user_id);

-- Logins on their way through the provider: kept in the database so that whichever node
-- receives the callback can finish them. Only a SHA-256 of the state is the key; a row is
-- deleted when the callback uses it (single use) and ignored after expires_at.
CREATE TABLE sso_states (
    state_hash    TEXT   NOT NULL PRIMARY KEY,
    nonce         TEXT   NOT NULL,
    pkce_verifier TEXT   NOT NULL,
    next_path     TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sso_states_by_expiry ON sso_states (expires_at);
