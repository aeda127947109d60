-- The PostgreSQL floor's table: the same columns as the SQLite floor's (bench/floor).
CREATE TABLE floor_rows (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    province_code TEXT NOT NULL,
    status INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    content TEXT NOT NULL
);
CREATE SEQUENCE floor_code_seq;
