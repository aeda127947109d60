-- Monthly reports (issue 8 item 5): the XLSX report on the results of handling
-- administrative procedures, generated once per province (agency NULL) and per
-- responsible agency for each past month, kept in the object store.
--
-- A row is first claimed (object_key, sha256, size NULL), then completed once the file is
-- stored; the unique index makes the claim happen once whatever the number of servers or
-- restarts, and a claim left incomplete (a crash between the two) is completed by the
-- next run. Periods are whole days in Vietnam time, `YYYY-MM-DD`, both ends included.

CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    province_code TEXT   NOT NULL,
    agency        TEXT,
    period_from   TEXT   NOT NULL,
    period_to     TEXT   NOT NULL,
    object_key    TEXT,
    sha256        TEXT,
    size          BIGINT,
    created_at    BIGINT NOT NULL,
    completed_at  BIGINT
);

CREATE UNIQUE INDEX reports_once ON reports (province_code, COALESCE(agency, ''), period_from, period_to);
CREATE INDEX reports_by_period ON reports (province_code, period_from DESC);
