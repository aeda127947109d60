-- Statistics as maintained aggregates (issue 8; motcua_core::stats). Each counter is the
-- sum of the facts the province's dossiers contribute, by dimension (1 centre,
-- 2 department, 3 field, 4 procedure, 5 officer) and its value, the responsible agency
-- (so any grouping filters by department), the channel (1 counter, 2 online, 3 post),
-- what it counts (motcua_core::stats::Kind) and when: `stats_days` by day (days since
-- 1970-01-01 in Vietnam time), `stats_months` by month (year * 12 + month - 1), the same
-- facts summed, so a year or "everything before" reads a few thousand rows. Both change
-- in the transaction that writes the dossier; `motcua stats verify` recomputes them.
CREATE TABLE stats_days (
    province_code TEXT   NOT NULL,
    dimension     BIGINT NOT NULL,
    kind          BIGINT NOT NULL,
    bucket        BIGINT NOT NULL,
    value         TEXT   NOT NULL,
    department    TEXT   NOT NULL,
    channel       BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    minutes       BIGINT NOT NULL,
    PRIMARY KEY (province_code, dimension, kind, bucket, value, department, channel)
);

CREATE TABLE stats_months (
    province_code TEXT   NOT NULL,
    dimension     BIGINT NOT NULL,
    kind          BIGINT NOT NULL,
    bucket        BIGINT NOT NULL,
    value         TEXT   NOT NULL,
    department    TEXT   NOT NULL,
    channel       BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    minutes       BIGINT NOT NULL,
    PRIMARY KEY (province_code, dimension, kind, bucket, value, department, channel)
);

-- Whether the counters hold the dossiers written before this migration: 0 until the
-- first start after it fills them (Db::migrate calls motcua_store::stats::backfill).
CREATE TABLE stats_state (
    id     BIGINT NOT NULL PRIMARY KEY,
    filled BIGINT NOT NULL
);
INSERT INTO stats_state (id, filled) VALUES (1, 0);
