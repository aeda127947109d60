-- Online booking of queue numbers (issue 21 item 3, docs/rules.md §1.5): a centre's
-- booking settings, each group's capacity per slot, the bookings, and two counters kept
-- per slot and per person and day that a conditional upsert bumps, so that neither a
-- slot's capacity nor a person's daily limit can be exceeded by bookings made at the same
-- instant (the row lock on PostgreSQL, the single writer on SQLite).

CREATE TABLE queue_booking_settings (
    centre_code        TEXT   NOT NULL PRIMARY KEY,
    province_code      TEXT   NOT NULL REFERENCES provinces (code),
    slot_minutes       BIGINT NOT NULL,
    per_person_per_day BIGINT NOT NULL,
    days_ahead         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE queue_group_capacity (
    group_id   BIGINT NOT NULL PRIMARY KEY REFERENCES queue_groups (id),
    capacity   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE queue_bookings (
    id            INTEGER PRIMARY KEY,
    code          TEXT    NOT NULL UNIQUE,
    province_code TEXT    NOT NULL REFERENCES provinces (code),
    centre_code   TEXT    NOT NULL,
    group_id      BIGINT  NOT NULL REFERENCES queue_groups (id),
    day           TEXT    NOT NULL,
    slot_start    BIGINT  NOT NULL,
    slot_end      BIGINT  NOT NULL,
    -- The booker's account.
    person        TEXT    NOT NULL,
    -- `booked`, `checked_in`, `cancelled` (a no-show is a `booked` one past its slot).
    state         TEXT    NOT NULL,
    ticket_id     BIGINT  REFERENCES queue_tickets (id),
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX queue_bookings_person ON queue_bookings (person, day);
CREATE INDEX queue_bookings_centre_day ON queue_bookings (centre_code, day);

CREATE TABLE queue_slot_counts (
    group_id   BIGINT NOT NULL REFERENCES queue_groups (id),
    day        TEXT   NOT NULL,
    slot_start BIGINT NOT NULL,
    booked     BIGINT NOT NULL,
    PRIMARY KEY (group_id, day, slot_start)
);

CREATE TABLE queue_person_days (
    person TEXT   NOT NULL,
    day    TEXT   NOT NULL,
    booked BIGINT NOT NULL,
    PRIMARY KEY (person, day)
);

-- A ticket from a booking is called first until this instant (the slot's end, epoch ms).
ALTER TABLE queue_tickets ADD COLUMN booked_until BIGINT;
