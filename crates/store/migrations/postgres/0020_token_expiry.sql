-- API tokens expire. Every token made through the administration API carries its
-- `expires_at` (epoch ms), chosen at creation within a bound; tokens made before this
-- migration get one year from the moment it runs. A NULL `expires_at` (never expires) is
-- left only for a token stored by something other than the administration API.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) + 31536000000
WHERE expires_at IS NULL;

-- Failed logins under names that belong to no account, counted and locked as an account's
-- are (`users.failed_logins`, `users.locked_until`), so that the lock-out's answer (423)
-- does not tell which names exist. A row is forgotten once it is as old as an account's
-- failures are remembered.
CREATE TABLE unknown_login_failures (
    username      TEXT   NOT NULL PRIMARY KEY,
    failed_logins BIGINT NOT NULL,
    locked_until  BIGINT,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX unknown_login_failures_by_age ON unknown_login_failures (updated_at);
