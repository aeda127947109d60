-- The catalogue: provinces, agencies, fields and versioned procedures.
-- Every row that belongs to a province carries province_code (its People's Committee
-- agency code), the natural shard key for a distributed PostgreSQL later.
-- Instants are BIGINT milliseconds since the Unix epoch (UTC) on both backends.

CREATE TABLE provinces (
    code        TEXT    NOT NULL PRIMARY KEY,
    unit        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE agencies (
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    code          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    parent_code   TEXT,
    address       TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    position      BIGINT  NOT NULL,
    PRIMARY KEY (province_code, code)
);

CREATE TABLE fields (
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    code          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    agency_code   TEXT    NOT NULL,
    position      BIGINT  NOT NULL,
    PRIMARY KEY (province_code, code),
    FOREIGN KEY (province_code, agency_code) REFERENCES agencies (province_code, code)
);

-- One row per procedure: the identity plus a summary of its current version, so lists
-- and search never parse version documents.
CREATE TABLE procedures (
    province_code    TEXT    NOT NULL REFERENCES provinces (code),
    code             TEXT    NOT NULL,
    current_version  BIGINT  NOT NULL,
    name             TEXT    NOT NULL,
    agency_code      TEXT    NOT NULL,
    field_code       TEXT    NOT NULL,
    level            TEXT    NOT NULL,
    processing_hours BIGINT  NOT NULL,
    at_centre        BOOLEAN NOT NULL,
    online_mode      TEXT    NOT NULL,
    service_level    BIGINT  NOT NULL,
    fees             TEXT    NOT NULL,
    updated_at       BIGINT  NOT NULL,
    PRIMARY KEY (province_code, code),
    FOREIGN KEY (province_code, agency_code) REFERENCES agencies (province_code, code),
    FOREIGN KEY (province_code, field_code) REFERENCES fields (province_code, code)
);
CREATE INDEX procedures_by_agency ON procedures (province_code, agency_code, code);
CREATE INDEX procedures_by_field ON procedures (province_code, field_code, code);

-- Immutable versions; a dossier keeps the version it was filed under.
CREATE TABLE procedure_versions (
    province_code TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    version       BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    note          TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    PRIMARY KEY (province_code, code, version),
    FOREIGN KEY (province_code, code) REFERENCES procedures (province_code, code)
);

-- Bumped by every catalogue write, so caches on any node know when to reload.
CREATE TABLE catalogue_generations (
    province_code TEXT    NOT NULL PRIMARY KEY REFERENCES provinces (code),
    generation    BIGINT  NOT NULL
);
