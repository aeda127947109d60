-- Guaranteed delivery of outbox events: one row per (event, destination), so a failing
-- destination (the portal down, one webhook refusing) neither blocks nor repeats the
-- others. A worker fans an event out ("plans" it) in one transaction: it inserts the
-- event's deliveries and sets `outbox.planned_at`. Deliveries are claimed with a lease
-- (`claimed_until`): a worker that dies mid-send leaves a lease that expires, and the
-- delivery is claimed again. Instants are epoch milliseconds. Same columns and types as
-- PostgreSQL (SQLite's INTEGER PRIMARY KEY is its 64-bit row id, PostgreSQL's a BIGINT identity).

ALTER TABLE outbox ADD COLUMN planned_at BIGINT;
CREATE INDEX outbox_unplanned ON outbox (planned_at, id);

-- Webhook subscriptions of other systems: events whose kind is listed (or all, `*`) are
-- POSTed to `url`, signed with HMAC-SHA256 of the body under `secret`.
CREATE TABLE webhook_subscriptions (
    id            INTEGER PRIMARY KEY,
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    url           TEXT    NOT NULL,
    events        TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX webhook_subscriptions_by_province ON webhook_subscriptions (province_code, deleted_at);

-- `destination`: `email`, `sms`, `portal` or `webhook:<subscription id>`.
-- `state`: `pending` (waiting, being sent, or failed and waiting for its next attempt),
-- `delivered` or `dead` (gave up after the configured attempts; an operator may retry).
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        BIGINT  NOT NULL REFERENCES outbox (id),
    province_code   TEXT    NOT NULL,
    dossier_code    TEXT,
    kind            TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL,
    available_at    BIGINT  NOT NULL,
    claimed_until   BIGINT,
    claimed_by      TEXT,
    last_error      TEXT,
    last_attempt_at BIGINT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT,
    dead_at         BIGINT,
    UNIQUE (event_id, destination)
);
-- The worker's scan: pending deliveries that are due.
CREATE INDEX deliveries_due ON deliveries (state, available_at, id);
-- Per-dossier order: earlier deliveries of the same dossier to the same destination.
CREATE INDEX deliveries_in_order ON deliveries (dossier_code, destination, event_id);
-- The operations page: a province's deliveries by state, newest first.
CREATE INDEX deliveries_by_province ON deliveries (province_code, state, id);
