-- The working-day calendar of each province: its work week (sessions and weekdays) and,
-- per year, the administrator's adjustments (announced Tết days, days off, make-up days).
-- Years without a row use the adjustments announced in the code (motcua_core::calendar).

CREATE TABLE calendar_settings (
    province_code TEXT   NOT NULL PRIMARY KEY REFERENCES provinces (code),
    work_week     TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE calendar_years (
    province_code TEXT   NOT NULL REFERENCES provinces (code),
    year          BIGINT NOT NULL,
    adjustments   TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (province_code, year)
);
