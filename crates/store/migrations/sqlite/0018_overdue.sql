-- PostgreSQL gets a partial covering index for the dossiers overdue now (see its 0018): it
-- visited the table for every unfinished dossier already due. SQLite's planner keeps
-- `dossiers_by_due` for that query even with such an index (measured at 1,000,000
-- dossiers: 517 rows, under a millisecond), so nothing changes here; the migration exists
-- so that both backends have the same versions.
SELECT 1;
