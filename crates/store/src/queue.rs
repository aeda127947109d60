//! The counter queue (migration 0028): a centre's settings, service groups, counters and
//! kiosks; tickets, numbered per group and day, and the claims that move them along.
//!
//! Every change of a ticket is one conditional `UPDATE … WHERE state = …`: whoever updates
//! first wins, and the other sees no row changed. On PostgreSQL the loser's update waits
//! for the winner's row lock and then re-reads the row (read committed), so it never takes
//! a ticket someone else took; on SQLite the single writer serialises them.

use motcua_core::queue::{QueueSettings, TicketState};

use crate::{Arg, Result, StoreError, Tx, exec, execute, fetch_all, on};

// ---------------------------------------------------------------------------------------
// Settings

/// The centre's queue settings, or the defaults.
pub async fn settings(tx: &mut Tx, centre: &str) -> Result<QueueSettings> {
    let row: Option<(String, i64, i64)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT priority_kinds, max_priority_run, recalls_before_no_show FROM queue_settings
             WHERE centre_code = $1",
        )
        .bind(centre)
        .fetch_optional(c)
        .await
    })?;
    Ok(match row {
        Some((kinds, max_priority_run, recalls_before_no_show)) => QueueSettings {
            priority_kinds: serde_json::from_str(&kinds)?,
            max_priority_run,
            recalls_before_no_show,
        },
        None => QueueSettings::default(),
    })
}

/// Stores the centre's queue settings.
pub async fn put_settings(tx: &mut Tx, province: &str, centre: &str, s: &QueueSettings, now_ms: i64) -> Result<()> {
    let kinds = serde_json::to_string(&s.priority_kinds)?;
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO queue_settings (province_code, centre_code, priority_kinds, max_priority_run,
                 recalls_before_no_show, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (centre_code) DO UPDATE SET priority_kinds = excluded.priority_kinds,
                 max_priority_run = excluded.max_priority_run,
                 recalls_before_no_show = excluded.recalls_before_no_show, updated_at = excluded.updated_at",
        )
        .bind(province)
        .bind(centre)
        .bind(&kinds)
        .bind(s.max_priority_run)
        .bind(s.recalls_before_no_show)
        .bind(now_ms)
        .execute(c)
        .await
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Groups

/// A service group of a centre.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Group {
    /// Id.
    pub id: i64,
    /// Province.
    pub province_code: String,
    /// The centre.
    pub centre_code: String,
    /// Name ("Đất đai").
    pub name: String,
    /// Ticket letter.
    pub letter: String,
    /// Order at the kiosk.
    pub position: i64,
    /// Offered at the kiosk.
    pub active: bool,
}

const GROUP_COLUMNS: &str = "id, province_code, centre_code, name, letter, position, active";

/// A group to create or the new state of one.
#[derive(Debug, Clone)]
pub struct GroupFields<'a> {
    /// Name.
    pub name: &'a str,
    /// Ticket letter.
    pub letter: &'a str,
    /// Order at the kiosk.
    pub position: i64,
    /// Offered at the kiosk.
    pub active: bool,
}

/// The groups of a centre, in kiosk order.
pub async fn groups(tx: &mut Tx, centre: &str) -> Result<Vec<Group>> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM queue_groups WHERE centre_code = $1 ORDER BY position, letter");
    fetch_all(tx, &sql, &[Arg::Text(centre)]).await
}

/// Group `id`, if it exists.
pub async fn group(tx: &mut Tx, id: i64) -> Result<Option<Group>> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM queue_groups WHERE id = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Int(id)]).await?.into_iter().next())
}

/// Creates a group; its id. A letter already used at the centre is a conflict.
pub async fn insert_group(tx: &mut Tx, province: &str, centre: &str, g: &GroupFields<'_>, now_ms: i64) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO queue_groups (province_code, centre_code, name, letter, position, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(province)
        .bind(centre)
        .bind(g.name)
        .bind(g.letter)
        .bind(g.position)
        .bind(g.active)
        .bind(now_ms)
        .fetch_one(c)
        .await
    })?)
}

/// Replaces group `id`'s fields; false when there is no such group.
pub async fn update_group(tx: &mut Tx, id: i64, g: &GroupFields<'_>, now_ms: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE queue_groups SET name = $2, letter = $3, position = $4, active = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(g.name)
        .bind(g.letter)
        .bind(g.position)
        .bind(g.active)
        .bind(now_ms)
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

// ---------------------------------------------------------------------------------------
// Counters

/// A counter of a centre.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Counter {
    /// Id.
    pub id: i64,
    /// Province.
    pub province_code: String,
    /// The centre.
    pub centre_code: String,
    /// Its number over the desk ("Quầy 3").
    pub number: i64,
    /// Name.
    pub name: String,
    /// In use.
    pub active: bool,
    /// Priority tickets it called in a row just before.
    pub priority_run: i64,
}

const COUNTER_COLUMNS: &str = "id, province_code, centre_code, number, name, active, priority_run";

/// The counters of a centre, by number.
pub async fn counters(tx: &mut Tx, centre: &str) -> Result<Vec<Counter>> {
    let sql = format!("SELECT {COUNTER_COLUMNS} FROM queue_counters WHERE centre_code = $1 ORDER BY number");
    fetch_all(tx, &sql, &[Arg::Text(centre)]).await
}

/// Counter `id`, if it exists.
pub async fn counter(tx: &mut Tx, id: i64) -> Result<Option<Counter>> {
    let sql = format!("SELECT {COUNTER_COLUMNS} FROM queue_counters WHERE id = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Int(id)]).await?.into_iter().next())
}

/// The groups counter `id` serves.
pub async fn counter_groups(tx: &mut Tx, id: i64) -> Result<Vec<i64>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT group_id FROM queue_counter_groups WHERE counter_id = $1 ORDER BY group_id")
            .bind(id)
            .fetch_all(c)
            .await
    })?)
}

/// Creates a counter; its id. A number already used at the centre is a conflict.
pub async fn insert_counter(
    tx: &mut Tx,
    province: &str,
    centre: &str,
    number: i64,
    name: &str,
    active: bool,
    now_ms: i64,
) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO queue_counters (province_code, centre_code, number, name, active, priority_run, created_at,
                 updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id",
        )
        .bind(province)
        .bind(centre)
        .bind(number)
        .bind(name)
        .bind(active)
        .bind(now_ms)
        .fetch_one(c)
        .await
    })?)
}

/// Replaces counter `id`'s number, name and state; false when there is no such counter.
pub async fn update_counter(tx: &mut Tx, id: i64, number: i64, name: &str, active: bool, now_ms: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query("UPDATE queue_counters SET number = $2, name = $3, active = $4, updated_at = $5 WHERE id = $1")
            .bind(id)
            .bind(number)
            .bind(name)
            .bind(active)
            .bind(now_ms)
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Sets the groups counter `id` serves.
pub async fn set_counter_groups(tx: &mut Tx, id: i64, groups: &[i64]) -> Result<()> {
    execute(
        tx,
        "DELETE FROM queue_counter_groups WHERE counter_id = $1",
        &[Arg::Int(id)],
    )
    .await?;
    for g in groups {
        execute(
            tx,
            "INSERT INTO queue_counter_groups (counter_id, group_id) VALUES ($1, $2)",
            &[Arg::Int(id), Arg::Int(*g)],
        )
        .await?;
    }
    Ok(())
}

/// Sets counter `id`'s run of priority calls.
pub async fn set_priority_run(tx: &mut Tx, id: i64, run: i64) -> Result<()> {
    execute(
        tx,
        "UPDATE queue_counters SET priority_run = $2 WHERE id = $1",
        &[Arg::Int(id), Arg::Int(run)],
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Kiosks

/// A kiosk: a device allowed to take tickets for one centre.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Kiosk {
    /// Id.
    pub id: String,
    /// Province.
    pub province_code: String,
    /// The centre it takes tickets for.
    pub centre_code: String,
    /// Where it stands.
    pub name: String,
    /// Who issued it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

const KIOSK_COLUMNS: &str = "id, province_code, centre_code, name, created_by, created_at, revoked_at";

/// Stores a kiosk with the SHA-256 of its token.
pub async fn insert_kiosk(tx: &mut Tx, k: &Kiosk, token_hash: &str) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO queue_kiosks (id, province_code, centre_code, name, token_hash, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.id)
        .bind(&k.province_code)
        .bind(&k.centre_code)
        .bind(&k.name)
        .bind(token_hash)
        .bind(&k.created_by)
        .bind(k.created_at)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// The kiosk whose token hashes to `token_hash`, unless revoked.
pub async fn kiosk_by_hash(tx: &mut Tx, token_hash: &str) -> Result<Option<Kiosk>> {
    let sql = format!("SELECT {KIOSK_COLUMNS} FROM queue_kiosks WHERE token_hash = $1 AND revoked_at IS NULL");
    Ok(fetch_all(tx, &sql, &[Arg::Text(token_hash)]).await?.into_iter().next())
}

/// The kiosks of a centre, newest first.
pub async fn kiosks(tx: &mut Tx, centre: &str) -> Result<Vec<Kiosk>> {
    let sql = format!("SELECT {KIOSK_COLUMNS} FROM queue_kiosks WHERE centre_code = $1 ORDER BY created_at DESC, id");
    fetch_all(tx, &sql, &[Arg::Text(centre)]).await
}

/// Revokes kiosk `id` of `centre`; false when there is no such live kiosk.
pub async fn revoke_kiosk(tx: &mut Tx, centre: &str, id: &str, now_ms: i64) -> Result<bool> {
    let n = execute(
        tx,
        "UPDATE queue_kiosks SET revoked_at = $3 WHERE id = $1 AND centre_code = $2 AND revoked_at IS NULL",
        &[Arg::Text(id), Arg::Text(centre), Arg::Int(now_ms)],
    )
    .await?;
    Ok(n > 0)
}

// ---------------------------------------------------------------------------------------
// Tickets

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Ticket {
    /// Id.
    pub id: i64,
    /// Province.
    pub province_code: String,
    /// The centre.
    pub centre_code: String,
    /// The group it waits in now.
    pub group_id: i64,
    /// The group it was taken for.
    pub taken_group_id: i64,
    /// Vietnam day it was taken (`YYYY-MM-DD`).
    pub day: String,
    /// Its number in the group's day.
    pub seq: i64,
    /// As printed (`A015`).
    pub number: String,
    /// The public page's token.
    pub public_token: String,
    /// The priority kind chosen, if any.
    pub priority_kind: Option<String>,
    /// `waiting`, `called`, `serving`, `done`, `no_show`.
    pub state: String,
    /// The kiosk that issued it.
    pub kiosk_id: Option<String>,
    /// The counter that called it.
    pub counter_id: Option<i64>,
    /// The officer who called it.
    pub officer_id: Option<String>,
    /// Recalls since it was called.
    pub recalls: i64,
    /// The dossier received from it.
    pub dossier_code: Option<String>,
    /// Taken (arrival order; kept by a transfer).
    pub taken_at: i64,
    /// Last called.
    pub called_at: Option<i64>,
    /// Service started.
    pub started_at: Option<i64>,
    /// Service finished, or marked absent.
    pub finished_at: Option<i64>,
    /// From a booking: called first until this instant (the slot's end).
    pub booked_until: Option<i64>,
    /// The satisfaction given for it at the kiosk (`very_satisfied`, `satisfied`,
    /// `not_satisfied`), once served.
    pub rating: Option<String>,
    /// When it was rated.
    pub rated_at: Option<i64>,
}

impl Ticket {
    /// Its state.
    pub fn state(&self) -> Option<TicketState> {
        TicketState::parse(&self.state)
    }
}

const TICKET_COLUMNS: &str = "id, province_code, centre_code, group_id, taken_group_id, day, seq, number, public_token,
    priority_kind, state, kiosk_id, counter_id, officer_id, recalls, dossier_code, taken_at, called_at, started_at,
    finished_at, booked_until, rating, rated_at";

/// A ticket to issue.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    /// The group.
    pub group: &'a Group,
    /// Vietnam day (`YYYY-MM-DD`).
    pub day: &'a str,
    /// The public page's token.
    pub public_token: &'a str,
    /// The priority kind, if any.
    pub priority_kind: Option<&'a str>,
    /// The issuing kiosk.
    pub kiosk_id: Option<&'a str>,
    /// From a booking: called first until this instant.
    pub booked_until: Option<i64>,
    /// A mobile number for the message when three tickets are ahead (portal tickets).
    pub phone: Option<&'a str>,
    /// An email address for the same.
    pub email: Option<&'a str>,
    /// Now.
    pub now_ms: i64,
}

/// Issues the group's next number of the day and stores the ticket, in `tx`. The sequence
/// row is bumped by an upsert whose row lock (PostgreSQL) or the single writer (SQLite)
/// makes concurrent takers wait for each other, so no number is issued twice.
pub async fn take(tx: &mut Tx, t: &NewTicket<'_>, number: impl Fn(i64) -> String) -> Result<Ticket> {
    let seq: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO queue_sequences (group_id, day, last) VALUES ($1, $2, 1)
             ON CONFLICT (group_id, day) DO UPDATE SET last = queue_sequences.last + 1
             RETURNING last",
        )
        .bind(t.group.id)
        .bind(t.day)
        .fetch_one(c)
        .await
    })?;
    let printed = number(seq);
    let sql = format!(
        "INSERT INTO queue_tickets (province_code, centre_code, group_id, taken_group_id, day, seq, number,
             public_token, priority_kind, state, kiosk_id, recalls, taken_at, updated_at, booked_until, phone, email)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, 'waiting', $9, 0, $10, $10, $11, $12, $13) RETURNING {TICKET_COLUMNS}"
    );
    let ticket: Ticket = on!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(&t.group.province_code)
            .bind(&t.group.centre_code)
            .bind(t.group.id)
            .bind(t.day)
            .bind(seq)
            .bind(&printed)
            .bind(t.public_token)
            .bind(t.priority_kind)
            .bind(t.kiosk_id)
            .bind(t.now_ms)
            .bind(t.booked_until)
            .bind(t.phone)
            .bind(t.email)
            .fetch_one(c)
            .await
    })?;
    Ok(ticket)
}

/// Ticket `id`.
pub async fn ticket(tx: &mut Tx, id: i64) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Int(id)]).await?.into_iter().next())
}

/// The ticket whose public page is `token`.
pub async fn ticket_by_token(tx: &mut Tx, token: &str) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE public_token = $1");
    Ok(fetch_all(tx, &sql, &[Arg::Text(token)]).await?.into_iter().next())
}

/// Which waiting tickets a call looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Tickets from a booking whose slot has not ended at this instant (epoch ms).
    Booked(i64),
    /// Priority tickets.
    Priority,
    /// Ordinary tickets.
    Ordinary,
}

/// The oldest waiting ticket (arrival order, then id) of `groups` taken on `day` in
/// `line`. Tickets left waiting on an earlier day are not called.
pub async fn oldest_waiting(tx: &mut Tx, groups: &[i64], day: &str, line: Line) -> Result<Option<Ticket>> {
    oldest_in_line(tx, groups, day, line, "").await
}

/// [`oldest_waiting`] for claiming it: on PostgreSQL the ticket is locked for this
/// transaction and tickets that other counters' calls are claiming at this moment are
/// skipped (`FOR UPDATE SKIP LOCKED`), so simultaneous calls take the next tickets in line
/// instead of queueing behind one row lock and retrying; `None` when every waiting ticket of
/// the line is being claimed. On SQLite the one writer already serialises calls.
pub async fn oldest_waiting_to_claim(tx: &mut Tx, groups: &[i64], day: &str, line: Line) -> Result<Option<Ticket>> {
    let lock = crate::skip_locked(tx, "queue_tickets");
    oldest_in_line(tx, groups, day, line, &lock).await
}

async fn oldest_in_line(tx: &mut Tx, groups: &[i64], day: &str, line: Line, lock: &str) -> Result<Option<Ticket>> {
    if groups.is_empty() {
        return Ok(None);
    }
    let list: Vec<String> = groups.iter().map(i64::to_string).collect();
    let (kind, now) = match line {
        Line::Booked(now) => ("booked_until >= $2", Some(now)),
        Line::Priority => ("priority_kind IS NOT NULL", None),
        Line::Ordinary => ("priority_kind IS NULL", None),
    };
    // The ids are numbers from the database, not text from outside.
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE group_id IN ({}) AND day = $1 AND state = 'waiting' AND {kind}
         ORDER BY taken_at, id LIMIT 1{lock}",
        list.join(", ")
    );
    let mut args = vec![Arg::Text(day)];
    args.extend(now.map(Arg::Int));
    Ok(fetch_all(tx, &sql, &args).await?.into_iter().next())
}

/// Claims waiting ticket `id` for a counter and officer: the ticket as claimed, or `None`
/// when someone else took it first (it is no longer waiting).
pub async fn claim(tx: &mut Tx, id: i64, counter: i64, officer: &str, now_ms: i64) -> Result<Option<Ticket>> {
    let sql = format!(
        "UPDATE queue_tickets SET state = 'called', counter_id = $2, officer_id = $3, recalls = 0, called_at = $4,
             updated_at = $4 WHERE id = $1 AND state = 'waiting' RETURNING {TICKET_COLUMNS}"
    );
    let claimed = fetch_all(
        tx,
        &sql,
        &[Arg::Int(id), Arg::Int(counter), Arg::Text(officer), Arg::Int(now_ms)],
    )
    .await?;
    Ok(claimed.into_iter().next())
}

/// Whether [`oldest_waiting_to_claim`] can answer otherwise than [`oldest_waiting`] in the
/// same transaction: on PostgreSQL it skips tickets other transactions are claiming; on
/// SQLite the one writer serialises calls, so the ticket [`oldest_waiting`] found is the one
/// to claim and asking again would only repeat the query.
pub fn claims_skip_locked(tx: &Tx) -> bool {
    !crate::skip_locked(tx, "queue_tickets").is_empty()
}

/// The tickets counter `id` holds (called or being served), oldest call first.
pub async fn at_counter(tx: &mut Tx, counter: i64) -> Result<Vec<Ticket>> {
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE counter_id = $1 AND state IN ('called', 'serving')
         ORDER BY called_at, id"
    );
    fetch_all(tx, &sql, &[Arg::Int(counter)]).await
}

/// A move of a ticket held by a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Call it again.
    Recall,
    /// It did not come: `no_show`.
    NoShow,
    /// Service starts: `serving`.
    Start,
    /// Service ends: `done`.
    Finish,
    /// Back to the line of another group, keeping its arrival time.
    Transfer(i64),
}

/// Applies `m` to ticket `id` held by `counter`, if it is in a state that allows it
/// (recall and no-show: called; start: called; finish: serving; transfer: called or
/// serving). False when it is not (someone moved it first, or it is not this counter's).
/// A ticket finished or marked absent loses its phone number and email address.
pub async fn move_ticket(tx: &mut Tx, id: i64, counter: i64, m: Move, now_ms: i64) -> Result<bool> {
    let (sql, group) = match m {
        Move::Recall => (
            "UPDATE queue_tickets SET recalls = recalls + 1, called_at = $3, updated_at = $3
             WHERE id = $1 AND counter_id = $2 AND state = 'called'",
            None,
        ),
        Move::NoShow => (
            "UPDATE queue_tickets SET state = 'no_show', finished_at = $3, updated_at = $3, phone = NULL, email = NULL
             WHERE id = $1 AND counter_id = $2 AND state = 'called'",
            None,
        ),
        Move::Start => (
            "UPDATE queue_tickets SET state = 'serving', started_at = $3, updated_at = $3
             WHERE id = $1 AND counter_id = $2 AND state = 'called'",
            None,
        ),
        Move::Finish => (
            "UPDATE queue_tickets SET state = 'done', finished_at = $3, updated_at = $3, phone = NULL, email = NULL
             WHERE id = $1 AND counter_id = $2 AND state = 'serving'",
            None,
        ),
        Move::Transfer(g) => (
            "UPDATE queue_tickets SET state = 'waiting', group_id = $4, counter_id = NULL, officer_id = NULL,
                 recalls = 0, called_at = NULL, started_at = NULL, updated_at = $3
             WHERE id = $1 AND counter_id = $2 AND state IN ('called', 'serving')",
            Some(g),
        ),
    };
    let mut args = vec![Arg::Int(id), Arg::Int(counter), Arg::Int(now_ms)];
    if let Some(g) = group {
        args.push(Arg::Int(g));
    }
    Ok(execute(tx, sql, &args).await? == 1)
}

/// Links ticket `id` (being served) to the dossier received from it; false when it was
/// not being served or is already linked.
pub async fn link_dossier(tx: &mut Tx, id: i64, dossier_code: &str, now_ms: i64) -> Result<bool> {
    let n = execute(
        tx,
        "UPDATE queue_tickets SET dossier_code = $2, updated_at = $3
         WHERE id = $1 AND state IN ('called', 'serving') AND dossier_code IS NULL",
        &[Arg::Int(id), Arg::Text(dossier_code), Arg::Int(now_ms)],
    )
    .await?;
    Ok(n == 1)
}

/// How many tickets of `day` wait in each group of a centre (group id, count).
pub async fn waiting_counts(tx: &mut Tx, centre: &str, day: &str) -> Result<Vec<(i64, i64)>> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "SELECT group_id, CAST(COUNT(*) AS BIGINT) FROM queue_tickets
             WHERE centre_code = $1 AND day = $2 AND state = 'waiting' GROUP BY group_id",
        )
        .bind(centre)
        .bind(day)
        .fetch_all(c)
        .await
    })?)
}

/// How many tickets of `group` taken on `day` wait ahead of one taken at `taken_at` with
/// id `id` (tickets left waiting on an earlier day are never called, so they are not
/// ahead of anyone).
pub async fn ahead_of(tx: &mut Tx, group: i64, day: &str, taken_at: i64, id: i64) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM queue_tickets WHERE group_id = $1 AND day = $4
             AND state = 'waiting' AND (taken_at < $2 OR (taken_at = $2 AND id < $3))",
        )
        .bind(group)
        .bind(taken_at)
        .bind(id)
        .bind(day)
        .fetch_one(c)
        .await
    })?)
}

/// The number of the ticket dossier `code` was received from, if it was.
pub async fn ticket_of_dossier(tx: &mut Tx, code: &str) -> Result<Option<String>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT number FROM queue_tickets WHERE dossier_code = $1 ORDER BY id LIMIT 1")
            .bind(code)
            .fetch_optional(c)
            .await
    })?)
}

/// A call as the hall's display board shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BoardCall {
    /// The ticket's id.
    pub id: i64,
    /// As printed (`A015`).
    pub number: String,
    /// The counter's number.
    pub counter: i64,
    /// `called`, `serving`, `done`, `no_show`.
    pub state: String,
    /// Last called (epoch ms).
    pub called_at: i64,
    /// Recalls since called.
    pub recalls: i64,
}

/// The latest `limit` calls at `centre` on `day`, newest first.
pub async fn recent_calls(tx: &mut Tx, centre: &str, day: &str, limit: i64) -> Result<Vec<BoardCall>> {
    fetch_all(
        tx,
        "SELECT t.id, t.number, c.number AS counter, t.state, t.called_at, t.recalls
         FROM queue_tickets t JOIN queue_counters c ON c.id = t.counter_id
         WHERE t.centre_code = $1 AND t.day = $2 AND t.called_at IS NOT NULL
         ORDER BY t.called_at DESC, t.id DESC LIMIT $3",
        &[Arg::Text(centre), Arg::Text(day), Arg::Int(limit)],
    )
    .await
}

/// When the latest `limit` tickets of `group` were called on `day` (epoch ms, newest
/// first): what a wait estimate looks back on.
pub async fn recent_call_times(tx: &mut Tx, group: i64, day: &str, limit: i64) -> Result<Vec<i64>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "SELECT called_at FROM queue_tickets WHERE group_id = $1 AND day = $2 AND called_at IS NOT NULL
             ORDER BY called_at DESC LIMIT $3",
        )
        .bind(group)
        .bind(day)
        .bind(limit)
        .fetch_all(c)
        .await
    })?)
}

/// Every ticket of `centre` taken on `day` (`YYYY-MM-DD`), oldest first: what the live
/// views of the centre's queue are built from, in one read.
pub async fn tickets_of_day(tx: &mut Tx, centre: &str, day: &str) -> Result<Vec<Ticket>> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE centre_code = $1 AND day = $2 ORDER BY id");
    fetch_all(tx, &sql, &[Arg::Text(centre), Arg::Text(day)]).await
}

/// Tickets `ids` of `centre` taken on `day` (those of other centres or days are left out),
/// by id.
pub async fn tickets_of_day_by_id(tx: &mut Tx, centre: &str, day: &str, ids: &[i64]) -> Result<Vec<Ticket>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are numbers, not text from outside.
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id IN ({}) AND centre_code = $1 AND day = $2 ORDER BY id",
        list.join(", ")
    );
    fetch_all(tx, &sql, &[Arg::Text(centre), Arg::Text(day)]).await
}

/// A ticket as the figures read it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FactRow {
    /// The group it was taken for.
    pub taken_group_id: i64,
    /// The counter that called it.
    pub counter_id: Option<i64>,
    /// The officer who called it.
    pub officer_id: Option<String>,
    /// Its state.
    pub state: String,
    /// From a booking.
    pub booked: bool,
    /// Taken.
    pub taken_at: i64,
    /// Last called.
    pub called_at: Option<i64>,
    /// Finished or marked absent.
    pub finished_at: Option<i64>,
    /// The satisfaction given for it at the kiosk.
    pub rating: Option<String>,
}

/// The tickets of `centre` taken on the Vietnam days `first` to `last` (`YYYY-MM-DD`,
/// inclusive).
pub async fn facts(tx: &mut Tx, centre: &str, first: &str, last: &str) -> Result<Vec<FactRow>> {
    fetch_all(
        tx,
        "SELECT taken_group_id, counter_id, officer_id, state, booked_until IS NOT NULL AS booked, taken_at,
             called_at, finished_at, rating
         FROM queue_tickets WHERE centre_code = $1 AND day >= $2 AND day <= $3",
        &[Arg::Text(centre), Arg::Text(first), Arg::Text(last)],
    )
    .await
}

/// The ticket of `centre` and `day` printed `number` (`A015`; group letters are unique
/// at a centre, so the printed number names one ticket of a day).
pub async fn ticket_by_number(tx: &mut Tx, centre: &str, day: &str, number: &str) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE centre_code = $1 AND day = $2 AND number = $3");
    Ok(
        fetch_all(tx, &sql, &[Arg::Text(centre), Arg::Text(day), Arg::Text(number)])
            .await?
            .into_iter()
            .next(),
    )
}

/// Records `rating` for ticket `id` if it was served and not rated yet; false otherwise.
pub async fn rate(tx: &mut Tx, id: i64, rating: &str, now_ms: i64) -> Result<bool> {
    let n = execute(
        tx,
        "UPDATE queue_tickets SET rating = $2, rated_at = $3 WHERE id = $1 AND state = 'done' AND rating IS NULL",
        &[Arg::Int(id), Arg::Text(rating), Arg::Int(now_ms)],
    )
    .await?;
    Ok(n == 1)
}

// ---------------------------------------------------------------------------------------
// Contacts and the message when three tickets are ahead

/// A ticket's phone number and email address (personal data: read only to send its
/// message, never shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Contact {
    /// Mobile number (`0XXXXXXXXX`).
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

/// Ticket `id`'s contact, if the ticket exists (both fields empty once erased).
pub async fn contact(tx: &mut Tx, id: i64) -> Result<Option<Contact>> {
    Ok(fetch_all(
        tx,
        "SELECT phone, email FROM queue_tickets WHERE id = $1",
        &[Arg::Int(id)],
    )
    .await?
    .into_iter()
    .next())
}

/// A waiting ticket near the head of its line.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NearTicket {
    /// Id.
    pub id: i64,
    /// As printed.
    pub number: String,
    /// Province.
    pub province_code: String,
    /// It holds a phone number or an email address.
    pub reachable: bool,
    /// When its message was queued, if it was.
    pub near_notified_at: Option<i64>,
}

/// The first `limit` tickets waiting in `group` on `day`, in arrival order (the order
/// [`ahead_of`] counts in): the one at index `i` has `i` tickets ahead.
pub async fn first_waiting(tx: &mut Tx, group: i64, day: &str, limit: i64) -> Result<Vec<NearTicket>> {
    fetch_all(
        tx,
        "SELECT id, number, province_code, (phone IS NOT NULL OR email IS NOT NULL) AS reachable, near_notified_at
         FROM queue_tickets WHERE group_id = $1 AND day = $2 AND state = 'waiting'
         ORDER BY taken_at, id LIMIT $3",
        &[Arg::Int(group), Arg::Text(day), Arg::Int(limit)],
    )
    .await
}

/// Marks ticket `id`'s message as queued at `now_ms`; false when it already was.
pub async fn mark_near_notified(tx: &mut Tx, id: i64, now_ms: i64) -> Result<bool> {
    let n = execute(
        tx,
        "UPDATE queue_tickets SET near_notified_at = $2 WHERE id = $1 AND near_notified_at IS NULL",
        &[Arg::Int(id), Arg::Int(now_ms)],
    )
    .await?;
    Ok(n == 1)
}

/// Erases the phone numbers and email addresses of the tickets taken before `day`
/// (`YYYY-MM-DD`, Vietnam): the end of a ticket's day ends its need for them. How many
/// tickets lost one.
pub async fn erase_contacts_before(tx: &mut Tx, day: &str) -> Result<u64> {
    execute(
        tx,
        "UPDATE queue_tickets SET phone = NULL, email = NULL
         WHERE day < $1 AND (phone IS NOT NULL OR email IS NOT NULL)",
        &[Arg::Text(day)],
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Server secrets

/// The secret named `name` (migration 0032's `server_secrets`), if it was made.
pub async fn server_secret(tx: &mut Tx, name: &str) -> Result<Option<String>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(c)
            .await
    })?)
}

/// Keeps `value` as the secret `name` unless one is kept already (two nodes making it at
/// once keep the first), and returns the one kept.
pub async fn keep_server_secret(tx: &mut Tx, name: &str, value: &str, now_ms: i64) -> Result<String> {
    execute(
        tx,
        "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        &[Arg::Text(name), Arg::Text(value), Arg::Int(now_ms)],
    )
    .await?;
    server_secret(tx, name)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("server secret {name}")))
}
