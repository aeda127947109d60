-- The counter queue (issue 21, docs/rules.md §1.5): per centre, service groups with a
-- ticket letter, numbered counters serving a set of groups, kiosks holding a device token
-- (its SHA-256 only), the tickets and their numbering per group and day.
-- Ids are SQLite row ids (INTEGER PRIMARY KEY) here and BIGINT identities on PostgreSQL.

CREATE TABLE queue_settings (
    province_code          TEXT   NOT NULL REFERENCES provinces (code),
    centre_code            TEXT   NOT NULL PRIMARY KEY,
    priority_kinds         TEXT   NOT NULL,
    max_priority_run       BIGINT NOT NULL,
    recalls_before_no_show BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);

CREATE TABLE queue_groups (
    id            INTEGER PRIMARY KEY,
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    centre_code   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    letter        TEXT    NOT NULL,
    position      BIGINT  NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX queue_groups_letter ON queue_groups (centre_code, letter);

CREATE TABLE queue_counters (
    id            INTEGER PRIMARY KEY,
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    centre_code   TEXT    NOT NULL,
    number        BIGINT  NOT NULL,
    name          TEXT    NOT NULL,
    active        BOOLEAN NOT NULL,
    -- Priority tickets this counter called in a row (the fair rule's run).
    priority_run  BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX queue_counters_number ON queue_counters (centre_code, number);

CREATE TABLE queue_counter_groups (
    counter_id BIGINT NOT NULL REFERENCES queue_counters (id),
    group_id   BIGINT NOT NULL REFERENCES queue_groups (id),
    PRIMARY KEY (counter_id, group_id)
);

CREATE TABLE queue_kiosks (
    id            TEXT   NOT NULL PRIMARY KEY,
    province_code TEXT   NOT NULL REFERENCES provinces (code),
    centre_code   TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    token_hash    TEXT   NOT NULL UNIQUE,
    created_by    TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

-- The last number issued per group and Vietnam day, bumped in the ticket's transaction.
CREATE TABLE queue_sequences (
    group_id BIGINT NOT NULL REFERENCES queue_groups (id),
    day      TEXT   NOT NULL,
    last     BIGINT NOT NULL,
    PRIMARY KEY (group_id, day)
);

CREATE TABLE queue_tickets (
    id             INTEGER PRIMARY KEY,
    province_code  TEXT    NOT NULL REFERENCES provinces (code),
    centre_code    TEXT    NOT NULL,
    -- The group it waits in now (a transfer changes it) and the one it was taken for.
    group_id       BIGINT  NOT NULL REFERENCES queue_groups (id),
    taken_group_id BIGINT  NOT NULL REFERENCES queue_groups (id),
    day            TEXT    NOT NULL,
    seq            BIGINT  NOT NULL,
    number         TEXT    NOT NULL,
    -- The public page's address (random); the number is not a secret.
    public_token   TEXT    NOT NULL UNIQUE,
    priority_kind  TEXT,
    state          TEXT    NOT NULL,
    kiosk_id       TEXT,
    counter_id     BIGINT  REFERENCES queue_counters (id),
    officer_id     TEXT,
    recalls        BIGINT  NOT NULL,
    dossier_code   TEXT,
    -- Arrival order: when it was taken; a transfer keeps it.
    taken_at       BIGINT  NOT NULL,
    called_at      BIGINT,
    started_at     BIGINT,
    finished_at    BIGINT,
    updated_at     BIGINT  NOT NULL,
    UNIQUE (taken_group_id, day, seq)
);
-- The next call: waiting tickets of a group, oldest first.
CREATE INDEX queue_tickets_waiting ON queue_tickets (group_id, state, taken_at, id);
CREATE INDEX queue_tickets_centre_day ON queue_tickets (centre_code, day, state);
CREATE INDEX queue_tickets_counter ON queue_tickets (counter_id, state);
-- A dossier's ticket, for its receipt.
CREATE INDEX queue_tickets_dossier ON queue_tickets (dossier_code);
