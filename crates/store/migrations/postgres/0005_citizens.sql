-- Citizen self-registration waiting for its one-time code. The account is created only
-- when the code is confirmed, so an address nobody controls never becomes a login name.
-- The code is stored as SHA-256 over a per-row salt; the password as its argon2id hash.
-- Rows are kept after use or expiry for a day (attempt counting, audit), then purged.

CREATE TABLE citizen_registrations (
    id            TEXT    NOT NULL PRIMARY KEY,
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    username      TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    code_salt     TEXT    NOT NULL,
    code_hash     TEXT    NOT NULL,
    attempts      BIGINT  NOT NULL,
    sends         BIGINT  NOT NULL,
    sent_at       BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    confirmed     BOOLEAN NOT NULL,
    user_id       TEXT,
    ip            TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX citizen_registrations_by_expiry ON citizen_registrations (expires_at);
CREATE INDEX citizen_registrations_by_username ON citizen_registrations (username);
