-- The counters of the receiving centre's dimension (1) no longer carry the responsible
-- agency (motcua_core::stats::Dimension::keeps_department): nothing narrows a centre's
-- figures to one department, and on the 2025 map keying them by both made the centre
-- dimension four times the department dimension's size, read by every director's page
-- (bench/RESULTS.md, 2026-12-08). The existing rows are merged into one per centre, kind,
-- day or month and channel, with an empty department; sums that cancel out are dropped,
-- as the store drops a counter that reaches zero.
CREATE TABLE stats_centre_days AS
    SELECT province_code, dimension, kind, bucket, value, channel,
           CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(minutes) AS BIGINT) AS minutes
    FROM stats_days WHERE dimension = 1
    GROUP BY province_code, dimension, kind, bucket, value, channel;
DELETE FROM stats_days WHERE dimension = 1;
INSERT INTO stats_days (province_code, dimension, kind, bucket, value, department, channel, n, minutes)
    SELECT province_code, dimension, kind, bucket, value, '', channel, n, minutes
    FROM stats_centre_days WHERE n <> 0 OR minutes <> 0;
DROP TABLE stats_centre_days;

CREATE TABLE stats_centre_months AS
    SELECT province_code, dimension, kind, bucket, value, channel,
           CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(minutes) AS BIGINT) AS minutes
    FROM stats_months WHERE dimension = 1
    GROUP BY province_code, dimension, kind, bucket, value, channel;
DELETE FROM stats_months WHERE dimension = 1;
INSERT INTO stats_months (province_code, dimension, kind, bucket, value, department, channel, n, minutes)
    SELECT province_code, dimension, kind, bucket, value, '', channel, n, minutes
    FROM stats_centre_months WHERE n <> 0 OR minutes <> 0;
DROP TABLE stats_centre_months;
