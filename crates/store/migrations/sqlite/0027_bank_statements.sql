-- Credits read from the collecting agencies' bank statements (issue 24 item 6): ISO 20022
-- camt.053 files and the banks' CSV exports. One row per credit entry of an account, keyed
-- by the bank's own reference of the entry: importing the same statement again, or
-- another file repeating an entry, finds the row and changes nothing. `outcome` says what
-- the credit came to (`paid`: it settled order `order_id`; otherwise why it was listed
-- for an officer: `unmatched`, `already_paid`, `wrong_amount`, `expired`,
-- `other_account`, `replayed_transaction`, `paid_unapplied`); an officer's resolution
-- of a listed credit is kept beside it (who, when, what). Amounts are whole đồng; instants
-- milliseconds since the epoch. Same columns and types on SQLite and PostgreSQL.

CREATE TABLE bank_statement_entries (
    id             INTEGER PRIMARY KEY,
    province_code  TEXT   NOT NULL,
    bin            TEXT   NOT NULL,
    account        TEXT   NOT NULL,
    entry_ref      TEXT   NOT NULL,
    booked_at      BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    description    TEXT   NOT NULL,
    order_id       TEXT,
    outcome        TEXT   NOT NULL,
    detail         TEXT   NOT NULL,
    file_sha256    TEXT   NOT NULL,
    imported_by    TEXT   NOT NULL,
    imported_at    BIGINT NOT NULL,
    resolved_by    TEXT,
    resolved_at    BIGINT,
    resolution     TEXT   NOT NULL
);

CREATE UNIQUE INDEX bank_statement_entries_by_ref ON bank_statement_entries (account, entry_ref);
CREATE INDEX bank_statement_entries_by_time ON bank_statement_entries (province_code, imported_at);
