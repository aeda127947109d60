-- Satisfaction ratings (docs/rules.md §6, issue 8 item 3): the applicant rates the dossier
-- once its result is ready or returned. One rating per dossier (the primary key): a
-- second is refused, so the figures per officer and per counter count each dossier once.
-- `rating` is very_satisfied, satisfied or not_satisfied; `channel` how it was given
-- (online, kiosk, link); `officer_*` and `counter_agency` who handed the result over
-- (the `return` event), when known at rating time. Same columns and types on SQLite and
-- PostgreSQL.

CREATE TABLE dossier_ratings (
    dossier_id     BIGINT NOT NULL PRIMARY KEY REFERENCES dossiers (id),
    dossier_code   TEXT   NOT NULL,
    province_code  TEXT   NOT NULL,
    rating         TEXT   NOT NULL,
    comment        TEXT   NOT NULL,
    channel        TEXT   NOT NULL,
    rater_id       TEXT,
    officer_id     TEXT,
    officer_name   TEXT,
    counter_agency TEXT,
    rated_at       BIGINT NOT NULL
);

-- The director's lists and the per-officer results: by province and rating over a period.
CREATE INDEX dossier_ratings_by_province ON dossier_ratings (province_code, rating, rated_at);
CREATE INDEX dossier_ratings_by_officer ON dossier_ratings (officer_id, rated_at);
