-- Re-issued forms (docs/rules.md §3 forms): an administrator may draw a dossier's forms
-- again (after the public address or a letterhead was corrected). The document issued
-- before is kept, marked replaced, and the new one is a further `revision` of the same
-- kind and ordinal. `revision` counts from 1; `replaced_at` and `replaced_by` (the
-- administrator's actor id) are set on the revision a re-issue replaced. At most one
-- revision of a (dossier, kind, ordinal) is current (not replaced).

ALTER TABLE dossier_forms ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE dossier_forms ADD COLUMN replaced_at BIGINT;
ALTER TABLE dossier_forms ADD COLUMN replaced_by TEXT;
ALTER TABLE dossier_forms DROP CONSTRAINT dossier_forms_pkey;
ALTER TABLE dossier_forms ADD PRIMARY KEY (dossier_id, kind, ordinal, revision);
CREATE UNIQUE INDEX dossier_forms_current ON dossier_forms (dossier_id, kind, ordinal) WHERE replaced_at IS NULL;
