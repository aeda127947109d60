-- Official documents issued for dossiers (docs/rules.md §3 forms): one row per rendered
-- PDF, written after the object is stored, so a row always names a durable object.
-- `ordinal` tells documents of the same kind apart: 1 for the receipt, the notice's
-- number among the dossier's notices of that kind (1, 2, …) for supplement requests,
-- refusals, apologies and stop notices, and the history's `seq` up to which the
-- processing control sheet was drawn. `sha256` (hex) lets anyone check a printed copy
-- against the stored one. Same columns and types on SQLite and PostgreSQL.

CREATE TABLE dossier_forms (
    dossier_id BIGINT NOT NULL REFERENCES dossiers (id),
    kind       TEXT   NOT NULL,
    ordinal    BIGINT NOT NULL,
    object_key TEXT   NOT NULL,
    sha256     TEXT   NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (dossier_id, kind, ordinal)
);

-- The register (sổ theo dõi hồ sơ) lists the dossiers received in a period, in order.
CREATE INDEX dossiers_by_received ON dossiers (province_code, received_at, id);
