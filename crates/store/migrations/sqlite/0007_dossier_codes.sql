-- Dossier codes: the last sequence issued per receiving agency and day
-- (`<agency>-YYMMDD-XXXX`). A row per agency and day, bumped in the transaction that
-- creates the dossier, so concurrent intakes serialise on that one row and never share a
-- number; a rolled-back intake issued nothing, so its number may be issued again.

CREATE TABLE dossier_sequences (
    province_code TEXT   NOT NULL REFERENCES provinces (code),
    agency_code   TEXT   NOT NULL,
    day           TEXT   NOT NULL,
    last          BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day)
);
