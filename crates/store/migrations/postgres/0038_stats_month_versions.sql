-- A version of each province's month of counters (issue 28): every write that changes a
-- row of `stats_months` gives its month a new random version in the same transaction
-- (crate::stats), so a reader that summed a range of months can keep the sum in memory
-- and trust it while the versions of those months are the ones it read. Random values,
-- not a counter: a database emptied and refilled never repeats a version another held.
-- Every month that already has counters gets its first version here.
CREATE TABLE stats_month_versions (
    province_code TEXT    NOT NULL,
    bucket        BIGINT  NOT NULL,
    version       BIGINT  NOT NULL,
    PRIMARY KEY (province_code, bucket)
);
INSERT INTO stats_month_versions (province_code, bucket, version)
    SELECT province_code, bucket, CAST(floor((random() - 0.5) * 9.0e18) AS BIGINT)
    FROM (SELECT DISTINCT province_code, bucket FROM stats_months) AS months;
