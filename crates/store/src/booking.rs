//! Online bookings of queue numbers (`queue_bookings`, migration 0031): a centre's booking
//! settings, each group's capacity per slot, the bookings, and the two counters that keep a
//! slot within its capacity and a person within their daily limit under concurrent
//! bookings.

use motcua_core::booking::BookingSettings;

use crate::{Arg, Result, Tx, exec, fetch_all, on};

/// The centre's booking settings (the defaults until an administrator saves some).
pub async fn settings(tx: &mut Tx, centre: &str) -> Result<BookingSettings> {
    let row: Option<(i64, i64, i64)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT slot_minutes, per_person_per_day, days_ahead FROM queue_booking_settings WHERE centre_code = $1",
        )
        .bind(centre)
        .fetch_optional(c)
        .await
    })?;
    Ok(match row {
        Some((slot_minutes, per_person_per_day, days_ahead)) => BookingSettings {
            slot_minutes: u16::try_from(slot_minutes).unwrap_or(30),
            per_person_per_day,
            days_ahead,
        },
        None => BookingSettings::default(),
    })
}

/// Stores the centre's booking settings.
pub async fn put_settings(tx: &mut Tx, province: &str, centre: &str, s: &BookingSettings, now_ms: i64) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO queue_booking_settings (centre_code, province_code, slot_minutes, per_person_per_day,
                 days_ahead, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (centre_code) DO UPDATE SET slot_minutes = excluded.slot_minutes,
                 per_person_per_day = excluded.per_person_per_day, days_ahead = excluded.days_ahead,
                 updated_at = excluded.updated_at",
        )
        .bind(centre)
        .bind(province)
        .bind(i64::from(s.slot_minutes))
        .bind(s.per_person_per_day)
        .bind(s.days_ahead)
        .bind(now_ms)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Each group's capacity per slot at `centre` (groups absent take no bookings).
pub async fn capacities(tx: &mut Tx, centre: &str) -> Result<Vec<(i64, i64)>> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "SELECT k.group_id, k.capacity FROM queue_group_capacity k
             JOIN queue_groups g ON g.id = k.group_id WHERE g.centre_code = $1",
        )
        .bind(centre)
        .fetch_all(c)
        .await
    })?)
}

/// Sets group `group`'s capacity per slot.
pub async fn set_capacity(tx: &mut Tx, group: i64, capacity: i64, now_ms: i64) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO queue_group_capacity (group_id, capacity, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (group_id) DO UPDATE SET capacity = excluded.capacity, updated_at = excluded.updated_at",
        )
        .bind(group)
        .bind(capacity)
        .bind(now_ms)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// How many places of each slot of `group` on `day` are taken: (slot start, taken).
pub async fn taken(tx: &mut Tx, group: i64, day: &str) -> Result<Vec<(i64, i64)>> {
    Ok(on!(tx, |c| {
        sqlx::query_as("SELECT slot_start, booked FROM queue_slot_counts WHERE group_id = $1 AND day = $2")
            .bind(group)
            .bind(day)
            .fetch_all(c)
            .await
    })?)
}

/// Takes a place of the slot `(group, day, start)` if fewer than `capacity` are taken:
/// false when it is full. The upsert's condition is checked on the locked row, so two
/// bookings at the same instant cannot both take the last place.
pub async fn take_place(tx: &mut Tx, group: i64, day: &str, start: i64, capacity: i64) -> Result<bool> {
    if capacity < 1 {
        return Ok(false);
    }
    let n: Option<i64> = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO queue_slot_counts (group_id, day, slot_start, booked) VALUES ($1, $2, $3, 1)
             ON CONFLICT (group_id, day, slot_start) DO UPDATE SET booked = queue_slot_counts.booked + 1
             WHERE queue_slot_counts.booked < $4 RETURNING booked",
        )
        .bind(group)
        .bind(day)
        .bind(start)
        .bind(capacity)
        .fetch_optional(c)
        .await
    })?;
    Ok(n.is_some())
}

/// Counts one more booking of `person` for `day` if they hold fewer than `limit`: false
/// when they have reached it (the same conditional upsert as [`take_place`]).
pub async fn count_person(tx: &mut Tx, person: &str, day: &str, limit: i64) -> Result<bool> {
    let n: Option<i64> = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO queue_person_days (person, day, booked) VALUES ($1, $2, 1)
             ON CONFLICT (person, day) DO UPDATE SET booked = queue_person_days.booked + 1
             WHERE queue_person_days.booked < $3 RETURNING booked",
        )
        .bind(person)
        .bind(day)
        .bind(limit)
        .fetch_optional(c)
        .await
    })?;
    Ok(n.is_some())
}

/// A booking as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Booking {
    /// Id.
    pub id: i64,
    /// The code on the citizen's phone.
    pub code: String,
    /// Province.
    pub province_code: String,
    /// The centre.
    pub centre_code: String,
    /// The group.
    pub group_id: i64,
    /// Vietnam day (`YYYY-MM-DD`).
    pub day: String,
    /// Slot start, minutes after midnight.
    pub slot_start: i64,
    /// Slot end (exclusive).
    pub slot_end: i64,
    /// The booker's account id.
    pub person: String,
    /// `booked`, `checked_in` or `cancelled`.
    pub state: String,
    /// The ticket issued at check-in.
    pub ticket_id: Option<i64>,
    /// Booked (epoch ms).
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, code, province_code, centre_code, group_id, day, slot_start, slot_end, person, state, ticket_id, created_at";

/// Stores a booking whose place and daily count were taken in the same transaction.
pub async fn insert(tx: &mut Tx, b: &Booking) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO queue_bookings (code, province_code, centre_code, group_id, day, slot_start, slot_end,
                 person, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', $9, $9) RETURNING id",
        )
        .bind(&b.code)
        .bind(&b.province_code)
        .bind(&b.centre_code)
        .bind(b.group_id)
        .bind(&b.day)
        .bind(b.slot_start)
        .bind(b.slot_end)
        .bind(&b.person)
        .bind(b.created_at)
        .fetch_one(c)
        .await
    })?)
}

/// The booking with `code`.
pub async fn by_code(tx: &mut Tx, code: &str) -> Result<Option<Booking>> {
    let sql = format!("SELECT {COLUMNS} FROM queue_bookings WHERE code = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Text(code)]).await?.into_iter().next())
}

/// `person`'s bookings from `day` on, soonest first.
pub async fn of_person(tx: &mut Tx, person: &str, from_day: &str) -> Result<Vec<Booking>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM queue_bookings WHERE person = $1 AND day >= $2 ORDER BY day, slot_start, id LIMIT 100"
    );
    fetch_all(tx, &sql, &[Arg::Text(person), Arg::Text(from_day)]).await
}

/// The bookings of `centre` for `day`.
pub async fn of_day(tx: &mut Tx, centre: &str, day: &str) -> Result<Vec<Booking>> {
    let sql =
        format!("SELECT {COLUMNS} FROM queue_bookings WHERE centre_code = $1 AND day = $2 ORDER BY slot_start, id");
    fetch_all(tx, &sql, &[Arg::Text(centre), Arg::Text(day)]).await
}

/// Cancels booking `id` while it is `booked`, giving back its place and the person's daily
/// count: false when it was no longer booked.
pub async fn cancel(tx: &mut Tx, b: &Booking, now_ms: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query("UPDATE queue_bookings SET state = 'cancelled', updated_at = $2 WHERE id = $1 AND state = 'booked'")
            .bind(b.id)
            .bind(now_ms)
            .execute(c)
            .await
    })?;
    if n == 0 {
        return Ok(false);
    }
    exec!(tx, |c| {
        sqlx::query(
            "UPDATE queue_slot_counts SET booked = booked - 1
             WHERE group_id = $1 AND day = $2 AND slot_start = $3 AND booked > 0",
        )
        .bind(b.group_id)
        .bind(&b.day)
        .bind(b.slot_start)
        .execute(c)
        .await
    })?;
    exec!(tx, |c| {
        sqlx::query("UPDATE queue_person_days SET booked = booked - 1 WHERE person = $1 AND day = $2 AND booked > 0")
            .bind(&b.person)
            .bind(&b.day)
            .execute(c)
            .await
    })?;
    Ok(true)
}

/// Marks booking `id` checked in with `ticket`: false when it was no longer `booked` (a
/// second check-in of the same code, at this or another kiosk).
pub async fn check_in(tx: &mut Tx, id: i64, ticket: i64, now_ms: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE queue_bookings SET state = 'checked_in', ticket_id = $2, updated_at = $3
             WHERE id = $1 AND state = 'booked'",
        )
        .bind(id)
        .bind(ticket)
        .bind(now_ms)
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}
