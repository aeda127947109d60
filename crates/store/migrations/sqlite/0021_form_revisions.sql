-- Re-issued forms (docs/rules.md §3 forms): an administrator may draw a dossier's forms
-- again (after the public address or a letterhead was corrected). The document issued
-- before is kept, marked replaced, and the new one is a further `revision` of the same
-- kind and ordinal. `revision` counts from 1; `replaced_at` and `replaced_by` (the
-- administrator's actor id) are set on the revision a re-issue replaced. At most one
-- revision of a (dossier, kind, ordinal) is current (not replaced).
-- SQLite cannot change a primary key in place: the table is rebuilt.

CREATE TABLE dossier_forms_new (
    dossier_id  BIGINT NOT NULL REFERENCES dossiers (id),
    kind        TEXT   NOT NULL,
    ordinal     BIGINT NOT NULL,
    revision    BIGINT NOT NULL DEFAULT 1,
    object_key  TEXT   NOT NULL,
    sha256      TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    replaced_at BIGINT,
    replaced_by TEXT,
    PRIMARY KEY (dossier_id, kind, ordinal, revision)
);
INSERT INTO dossier_forms_new (dossier_id, kind, ordinal, revision, object_key, sha256, size, created_at)
SELECT dossier_id, kind, ordinal, 1, object_key, sha256, size, created_at FROM dossier_forms;
DROP TABLE dossier_forms;
ALTER TABLE dossier_forms_new RENAME TO dossier_forms;
CREATE UNIQUE INDEX dossier_forms_current ON dossier_forms (dossier_id, kind, ordinal) WHERE replaced_at IS NULL;
