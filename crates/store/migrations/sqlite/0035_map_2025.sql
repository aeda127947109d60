-- The 2025 map: communes and their centres, merged and renamed agencies, procedures
-- receivable anywhere in the province (issue 23, docs/map-2025.md §2.3).
--
-- `agencies.admin_code`: the 5-digit national code of a commune's People's Committee
-- (kind `commune`), empty for every other agency.
-- `agencies.retired_at`, `agencies.successor_code`: a merged or dissolved agency is retired,
-- never deleted (dossiers, statistics rows and audit records name it); it receives nothing
-- and issues no dossier code. `successor_code` names the agency that took over, if any.
-- `agency_aliases`: an old code that resolves to a current agency, one hop (chains are
-- flattened when written), so requests that name the old code still find its successor.
-- `procedures.receivable`: `competent` (received at the competent level only, what every
-- procedure was before) or `anywhere` (at any working centre of the province).
-- `dossiers_by_receiving`: a centre's dossiers, for work lists scoped to several agencies.
-- Instants in milliseconds since the epoch. Same columns and types on SQLite and PostgreSQL.

ALTER TABLE agencies ADD COLUMN admin_code TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN retired_at BIGINT;
ALTER TABLE agencies ADD COLUMN successor_code TEXT;

CREATE TABLE agency_aliases (
    province_code TEXT   NOT NULL REFERENCES provinces (code),
    old_code      TEXT   NOT NULL,
    code          TEXT   NOT NULL,
    at            BIGINT NOT NULL,
    PRIMARY KEY (province_code, old_code)
);

ALTER TABLE procedures ADD COLUMN receivable TEXT NOT NULL DEFAULT 'competent';

CREATE INDEX dossiers_by_receiving ON dossiers (province_code, receiving_agency, status, id);
