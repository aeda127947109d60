-- The document store of citizens and organisations (issue 24 items 1–3, docs/documents.md).
--
-- `document_kind_lists`: the kinds of document a province's administrator keeps (CCCD,
-- birth certificate, land use right certificate, …), one validated JSON list per province;
-- a province without a row uses the list built into `core::documents`.
-- `document_owners`: a person or organisation keyed by their identity number (CCCD, 12
-- digits) or tax code (10 or 13 digits); `document_owner_accounts` links accounts to an
-- owner besides the account whose own citizen ID is the key (an officer's link, made
-- after checking identity at the counter).
-- `stored_documents`: one document of an owner's store, its file a row of `dossier_files`
-- (the object store's bytes are never copied): a result motcua issued, a scan an officer
-- checked against the original, or the owner's upload. Dates are `YYYY-MM-DD`, instants
-- milliseconds since the epoch.
-- `document_uses`: which dossier took which stored document for which checklist row. A
-- document referred to here is never deleted (the foreign key refuses it too).
-- Same columns and types on SQLite and PostgreSQL.

CREATE TABLE document_kind_lists (
    province_code TEXT   NOT NULL PRIMARY KEY,
    kinds         TEXT   NOT NULL,
    updated_by    TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE document_owners (
    id         INTEGER PRIMARY KEY,
    id_number  TEXT   NOT NULL UNIQUE,
    kind       TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE document_owner_accounts (
    owner_id  BIGINT NOT NULL REFERENCES document_owners (id),
    user_id   TEXT   NOT NULL,
    linked_by TEXT   NOT NULL,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, user_id)
);

CREATE INDEX document_owner_accounts_by_user ON document_owner_accounts (user_id);

CREATE TABLE stored_documents (
    id              INTEGER PRIMARY KEY,
    owner_id        BIGINT NOT NULL REFERENCES document_owners (id),
    province_code   TEXT   NOT NULL,
    source          TEXT   NOT NULL,
    kind            TEXT,
    title           TEXT   NOT NULL,
    number          TEXT   NOT NULL,
    issuer          TEXT   NOT NULL,
    issued_on       TEXT,
    expires_on      TEXT,
    file_id         TEXT   NOT NULL UNIQUE REFERENCES dossier_files (id),
    sha256          TEXT   NOT NULL,
    dossier_code    TEXT,
    checked_by      TEXT,
    checked_by_name TEXT,
    checked_at      BIGINT,
    original        TEXT,
    created_by      TEXT   NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE INDEX stored_documents_by_owner ON stored_documents (owner_id, kind, id);
CREATE INDEX stored_documents_by_time ON stored_documents (province_code, source, created_at);

CREATE TABLE document_uses (
    document_id   BIGINT NOT NULL REFERENCES stored_documents (id),
    dossier_code  TEXT   NOT NULL,
    province_code TEXT   NOT NULL,
    item_index    BIGINT NOT NULL,
    channel       TEXT   NOT NULL,
    consent_by    TEXT,
    used_at       BIGINT NOT NULL,
    PRIMARY KEY (dossier_code, item_index, document_id)
);

CREATE INDEX document_uses_by_document ON document_uses (document_id);
CREATE INDEX document_uses_by_time ON document_uses (province_code, used_at);
