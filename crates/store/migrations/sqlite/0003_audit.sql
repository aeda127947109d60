-- The audit trail: one row per state change, written in the same transaction as the
-- change. Rows are chained by SHA-256 (see motcua_core::audit): each row's hash covers
-- the previous row's hash, so an edit, deletion or reordering is detectable by
-- `motcua audit verify`. Same columns and types as the PostgreSQL migration.

CREATE TABLE audit_log (
    chain         TEXT    NOT NULL,
    seq           BIGINT  NOT NULL,
    at            BIGINT  NOT NULL,
    actor         TEXT    NOT NULL,
    actor_name    TEXT    NOT NULL,
    ip            TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    object_type   TEXT    NOT NULL,
    object_id     TEXT    NOT NULL,
    province_code TEXT,
    before_json   TEXT,
    after_json    TEXT,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL,
    PRIMARY KEY (chain, seq)
);

-- Browsing is newest first, keyset-paginated on (at, chain, seq); each index ends in
-- those columns so a filtered page is read in order without sorting.
CREATE INDEX audit_log_by_at ON audit_log (at, chain, seq);
CREATE INDEX audit_log_by_object ON audit_log (object_type, object_id, at, chain, seq);
CREATE INDEX audit_log_by_actor ON audit_log (actor, at, chain, seq);
CREATE INDEX audit_log_by_action ON audit_log (action, at, chain, seq);

-- The last record of each chain. Appends read and update it, which serialises them
-- within a chain; verification compares it with the last stored row, so a deleted tail
-- is detected.
CREATE TABLE audit_heads (
    chain TEXT   NOT NULL PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT   NOT NULL
);

-- Append-only at the database level too. Anyone with write access to the file can drop
-- these triggers; the hash chain is what detects that kind of tampering.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
