-- While a dossier waits for the applicant (a completion, supplement or payment request),
-- when the time given to answer runs out (`motcua_core::deadline::wait_limit`), written
-- from the dossier with the other columns (`dossiers::dossier_row`, `dossiers::save`); the
-- work list of dossiers waiting past it filters on it (`deadline::waited_past_limit`).
-- Dossiers paused before this column was kept have no limit recorded (NULL), as in their
-- JSON document.
ALTER TABLE dossiers ADD COLUMN wait_until BIGINT;
