-- Dossiers and everything that happens to them.
--
-- `data` holds the whole dossier as JSON (motcua_core::lifecycle::Dossier), the single
-- source the application reads; the other columns repeat what lists, filters and
-- statistics query, written from the same value in the same statement, so they cannot
-- drift apart. Instants are epoch milliseconds. Same columns and types as PostgreSQL
-- (SQLite's INTEGER PRIMARY KEY is its 64-bit row id, PostgreSQL's a BIGINT identity).

CREATE TABLE dossiers (
    id                 INTEGER PRIMARY KEY,
    code               TEXT    NOT NULL UNIQUE,
    province_code      TEXT    NOT NULL REFERENCES provinces (code),
    procedure_code     TEXT    NOT NULL,
    field_code         TEXT    NOT NULL,
    receiving_agency   TEXT    NOT NULL,
    responsible_agency TEXT    NOT NULL,
    current_agency     TEXT    NOT NULL,
    assignee_id        TEXT,
    owner_id           TEXT,
    channel            BIGINT  NOT NULL,
    status             BIGINT  NOT NULL,
    applicant_name     TEXT    NOT NULL,
    tracking_secret    TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    received_at        BIGINT,
    due_at             BIGINT,
    finished_at        BIGINT,
    returned_at        BIGINT,
    version            BIGINT  NOT NULL,
    data               TEXT    NOT NULL
);

-- Work lists: a department's (or the centre's) dossiers by status, newest first.
CREATE INDEX dossiers_by_holder ON dossiers (province_code, current_agency, status, id);
CREATE INDEX dossiers_by_responsible ON dossiers (province_code, responsible_agency, status, id);
CREATE INDEX dossiers_by_status ON dossiers (province_code, status, id);
-- Overdue lists: unfinished dossiers by appointment.
CREATE INDEX dossiers_by_due ON dossiers (province_code, finished_at, due_at);
CREATE INDEX dossiers_by_owner ON dossiers (owner_id, id);
CREATE INDEX dossiers_by_assignee ON dossiers (assignee_id, status, id);

-- The history: one row per action. Hand-overs (to_agency set) are the rows of the
-- processing control sheet; `closed_step` says how the step this hand-over ended
-- finished against its budget (early, on_time, late).
CREATE TABLE dossier_events (
    dossier_id   BIGINT NOT NULL REFERENCES dossiers (id),
    seq          BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    action       TEXT   NOT NULL,
    from_status  BIGINT,
    to_status    BIGINT NOT NULL,
    actor_id     TEXT   NOT NULL,
    actor_name   TEXT   NOT NULL,
    agency_code  TEXT   NOT NULL,
    to_agency    TEXT,
    to_user_id   TEXT,
    to_user_name TEXT,
    step_due_at  BIGINT,
    closed_step  TEXT,
    note         TEXT   NOT NULL,
    PRIMARY KEY (dossier_id, seq)
);

-- Uploaded files. A row is written before the object (state 'pending'), becomes
-- 'staged' once the object is durable, and 'attached' when a dossier takes it; pending
-- and staged rows past `expires_at` are swept with their objects, so nothing is orphaned.
CREATE TABLE dossier_files (
    id            TEXT   NOT NULL PRIMARY KEY,
    province_code TEXT,
    dossier_id    BIGINT REFERENCES dossiers (id),
    state         TEXT   NOT NULL,
    uploader_id   TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    file_type     TEXT   NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT   NOT NULL,
    object_key    TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT
);
CREATE INDEX dossier_files_by_dossier ON dossier_files (dossier_id);
CREATE INDEX dossier_files_by_expiry ON dossier_files (state, expires_at);

-- Events to deliver (notifications, national-portal sync, webhooks), written in the
-- transaction of the change they report, so none is lost and none is sent for a change
-- that rolled back.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    province_code TEXT    NOT NULL,
    dossier_code  TEXT,
    kind          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    available_at  BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL,
    last_error    TEXT,
    delivered_at  BIGINT,
    dead_at       BIGINT
);
CREATE INDEX outbox_pending ON outbox (delivered_at, dead_at, available_at, id);
CREATE INDEX outbox_by_dossier ON outbox (dossier_code, id);
