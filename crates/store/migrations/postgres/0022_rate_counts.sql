-- Rate-limit counts shared by every node of a deployment: how many times `key` (a client
-- address or network, a dossier code) used the budget named `scope` in the minute that
-- starts at `window_start` (epoch ms). Each node also keeps its own in-memory limiter in
-- front, so a flood from one address never reaches the database; this table makes the
-- budget the deployment's, not each node's. Rows older than two minutes are purged.
CREATE TABLE rate_counts (
    scope        TEXT   NOT NULL,
    key          TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (scope, key, window_start)
);
CREATE INDEX rate_counts_by_window ON rate_counts (window_start);
