-- Results signed at finish (issue 22, docs/operations.md "Results signed at finish").
--
-- `procedures.result_signature`: whether a department may finish a dossier of the
-- procedure with a result file that carries no valid signature: `optional` (the default,
-- what every procedure was before) or `required`. A setting of the procedure, not of one
-- of its versions: it applies to every finish from the moment the catalogue administrator
-- changes it.
-- `result_signings`: the result files of finished dossiers that motcua signs with the
-- agency's key (and the finishing leader's, when configured), one row per file, written
-- in the finish's own transaction so that none is forgotten when the process stops before
-- the form queue signs it. `state` is `pending`, then `signed` (the file's row in
-- `dossier_files` then names the signed object and its SHA-256; the unsigned original
-- stays at `original_object_key`, `original_sha256`) or `failed` (a PDF that cannot be
-- signed, `error` says why; the file stays as it was). `signers` lists who signed, in
-- order (`leader:<username>`, `agency:<code>`). Instants in milliseconds since the epoch.
-- Same columns and types on SQLite and PostgreSQL.

ALTER TABLE procedures ADD COLUMN result_signature TEXT NOT NULL DEFAULT 'optional';

CREATE TABLE result_signings (
    file_id             TEXT   NOT NULL PRIMARY KEY REFERENCES dossier_files (id),
    dossier_id          BIGINT NOT NULL REFERENCES dossiers (id),
    agency_code         TEXT   NOT NULL,
    leader              TEXT,
    requested_at        BIGINT NOT NULL,
    state               TEXT   NOT NULL,
    signed_at           BIGINT,
    original_object_key TEXT,
    original_sha256     TEXT,
    signers             TEXT   NOT NULL DEFAULT '',
    error               TEXT
);
CREATE INDEX result_signings_by_dossier ON result_signings (dossier_id);
CREATE INDEX result_signings_by_state ON result_signings (state, requested_at);
