-- pgbench script of the PostgreSQL floor: one ~1 KB row per transaction (autocommit, so
-- one commit, and with synchronous_commit=on one WAL flush, per row; concurrent clients
-- share flushes through group commit). 30 x md5 = 960 random hex characters, below the
-- ~2 KB size at which PostgreSQL would compress or TOAST the value.
INSERT INTO floor_rows (code, province_code, status, created_at, content)
VALUES ('000.00.16.H43-190101-' || nextval('floor_code_seq'), '000.00.00.H43', 2, 1546300800000,
        repeat(md5(random()::text), 30));
