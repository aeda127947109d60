-- Evaluation (docs/rules.md §6, issue 8 items 3–4).
--
-- Ratings get the kiosk's counter officer (`recorded_by_*`: who ran the counter screen the
-- citizen rated on; NULL for online and link ratings) and the citizen's optional answers to
-- the survey indices of the per-dossier evaluation (Circular 01/2018 art. 13): contacts
-- needed to complete the dossier, agencies gone to, whether the procedure's public
-- information was complete (full/partial/missing), the officers' conduct (good/fair/poor).
-- All nullable, so the ratings of 0011 stay valid (they simply answered nothing).

ALTER TABLE dossier_ratings ADD COLUMN recorded_by_id TEXT;
ALTER TABLE dossier_ratings ADD COLUMN recorded_by_name TEXT;
ALTER TABLE dossier_ratings ADD COLUMN contacts BIGINT;
ALTER TABLE dossier_ratings ADD COLUMN agencies BIGINT;
ALTER TABLE dossier_ratings ADD COLUMN public_info TEXT;
ALTER TABLE dossier_ratings ADD COLUMN conduct TEXT;

-- Per-counter results.
CREATE INDEX dossier_ratings_by_counter ON dossier_ratings (province_code, counter_agency, rated_at);

-- The sub-criteria of the Decision 766 service index: each group's points split over what
-- the system measures, with a target rate (per mille). Below the target a criterion scores
-- rate × max / target. National data (the decision is national), edited by an
-- administrator when the rules change. The split and the targets are unconfirmed; the
-- group totals (18/20/22/22/18) are the decision's.
CREATE TABLE service_index_criteria (
    code            TEXT   NOT NULL PRIMARY KEY,
    group_code      TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    measure         TEXT   NOT NULL,
    max_points      BIGINT NOT NULL,
    target_permille BIGINT NOT NULL,
    confirmed       BIGINT NOT NULL,
    position        BIGINT NOT NULL,
    updated_at      BIGINT,
    updated_by      TEXT
);

INSERT INTO service_index_criteria (code, group_code, name, measure, max_points, target_permille, confirmed, position) VALUES
    ('public_info', 'transparency', 'Thông tin thủ tục hành chính được công khai đầy đủ', 'public_info', 18, 1000, 0, 1),
    ('on_time', 'progress', 'Tỷ lệ hồ sơ giải quyết trước hạn, đúng hạn', 'on_time', 20, 1000, 0, 2),
    ('online_share', 'online', 'Tỷ lệ hồ sơ nộp trực tuyến', 'online_share', 11, 800, 0, 3),
    ('online_payment', 'online', 'Tỷ lệ thanh toán trực tuyến', 'online_payment', 11, 500, 0, 4),
    ('digitised_files', 'digitisation', 'Tỷ lệ hồ sơ được số hóa thành phần', 'digitised_files', 11, 1000, 0, 5),
    ('digitised_results', 'digitisation', 'Tỷ lệ kết quả giải quyết được số hóa', 'digitised_results', 11, 1000, 0, 6),
    ('satisfied', 'satisfaction', 'Tỷ lệ người dân hài lòng', 'satisfied', 18, 1000, 0, 7);
