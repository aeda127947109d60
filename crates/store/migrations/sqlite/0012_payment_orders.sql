-- Payment orders (docs/rules.md §5, issue 7): one row per attempt to pay what a dossier owes,
-- online through a gateway (VNPay 2.1.0) or in cash at the counter. `id` is the merchant
-- reference sent to the gateway (vnp_TxnRef). `state` moves once, pending → paid, failed
-- or expired, by a conditional update, so a duplicate or late notification changes
-- nothing twice. `gateway_txn` is the gateway's transaction number: unique per gateway, so
-- one transaction can never pay two orders. Amounts are whole đồng. Same columns and
-- types on SQLite and PostgreSQL.

CREATE TABLE payment_orders (
    id             TEXT   NOT NULL PRIMARY KEY,
    dossier_id     BIGINT NOT NULL REFERENCES dossiers (id),
    dossier_code   TEXT   NOT NULL,
    province_code  TEXT   NOT NULL,
    agency_code    TEXT   NOT NULL,
    method         TEXT   NOT NULL,
    amount         BIGINT NOT NULL,
    state          TEXT   NOT NULL,
    created_by     TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    gateway_txn    TEXT,
    bank_code      TEXT,
    response_code  TEXT,
    settled_at     BIGINT,
    settled_by     TEXT,
    note           TEXT   NOT NULL
);

CREATE UNIQUE INDEX payment_orders_gateway_txn ON payment_orders (method, gateway_txn);
CREATE INDEX payment_orders_by_dossier ON payment_orders (dossier_id, created_at);
CREATE INDEX payment_orders_by_agency ON payment_orders (province_code, agency_code, created_at);

-- Every notification a gateway sent (IPN), accepted or refused, for the administrator and
-- the reconciliation: what arrived (the parameters without the signature), what was
-- answered and why. A refused one (bad signature, wrong amount, unknown order, replayed
-- transaction) is an incident to look at.
CREATE TABLE payment_notifications (
    id             INTEGER PRIMARY KEY,
    province_code  TEXT   NOT NULL,
    order_id       TEXT   NOT NULL,
    gateway_txn    TEXT   NOT NULL,
    amount         BIGINT NOT NULL,
    rsp_code       TEXT   NOT NULL,
    outcome        TEXT   NOT NULL,
    detail         TEXT   NOT NULL,
    params         TEXT   NOT NULL,
    ip             TEXT   NOT NULL,
    received_at    BIGINT NOT NULL
);

CREATE INDEX payment_notifications_by_time ON payment_notifications (province_code, received_at);
CREATE INDEX payment_notifications_by_order ON payment_notifications (order_id, received_at);
