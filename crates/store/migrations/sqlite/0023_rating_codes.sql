-- Rating codes: the proof a rating "by link" asks for, sent only to the applicant's own
-- email or phone with the "result ready" notice, never shown to staff. Only the SHA-256
-- of each code is kept here; a dossier may have several (one per notice planned).
CREATE TABLE rating_codes (
    dossier_id BIGINT NOT NULL REFERENCES dossiers (id),
    code_hash  TEXT   NOT NULL,
    issued_at  BIGINT NOT NULL,
    PRIMARY KEY (dossier_id, code_hash)
);

-- The plain rating code a notice carries to the applicant, held with its email or SMS
-- delivery only until that delivery is sent (then set to NULL). Read by the outbox worker
-- alone; no listing of deliveries selects it.
ALTER TABLE deliveries ADD COLUMN secret TEXT;
