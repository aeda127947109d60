//! Where a dossier stands against its appointment (docs/rules.md §4, §6): the one
//! definition of *overdue*, *due soon*, the clock-running statuses and the overdue age
//! buckets.
//!
//! Everything that says "quá hạn" or "sắp đến hạn" asks this module: the API's `overdue`
//! flag ([`crate::lifecycle::Dossier::is_overdue`]), the work lists and their filters, the
//! overdue lists, the overview's figures and their maintained aggregates
//! ([`crate::stats`]), the badges of the pages and the dashboards' age chart. Where the
//! store must filter in SQL, it renders these rules from [`CLOCK_RUNNING`] and the
//! functions' conditions (`motcua_store::deadline`), and its agreement tests check, on
//! random dossiers and instants, that the SQL counts equal the counts by these functions.
//!
//! The meaning (docs/rules.md §4): the statutory clock runs only while the dossier is
//! accepted or being handled; it stands still while the applicant supplements or pays, so
//! a paused dossier is not overdue; an unfinished dossier whose appointment has passed
//! with its clock running is *overdue*; a finished one is *early*, *on time* or *late*
//! ([`crate::dossier::Timeliness`]), never overdue. Judged at an instant in the past (the
//! end of a period, docs/rules.md §6), a dossier finished only after that instant was still
//! being handled then and counts as overdue then if its appointment had passed; its
//! status at that instant is not stored, so its clock is taken to have run (only a pause
//! still going on is known).

use time::OffsetDateTime;

use crate::calendar::{Calendar, CalendarError};
use crate::dossier::{Status, Timeliness};
use crate::lifecycle::Dossier;

/// The statuses in which the statutory clock runs: accepted, and being handled.
pub const CLOCK_RUNNING: [Status; 2] = [Status::Accepted, Status::InProgress];

/// The statuses in which the clock stands still waiting for the applicant: a supplement,
/// or a payment.
pub const CLOCK_PAUSED: [Status; 2] = [Status::SupplementRequested, Status::AwaitingPayment];

/// When the applicant's time to answer a request that pauses the clock (a completion or
/// supplement request, a payment request) made at `from` runs out: `days` working days
/// later on the province's calendar; `None` when there is no limit (`days` = 0).
pub fn wait_limit(
    calendar: &Calendar,
    from: OffsetDateTime,
    days: u32,
) -> Result<Option<OffsetDateTime>, CalendarError> {
    if days == 0 {
        return Ok(None);
    }
    calendar.add_working_days(from, u64::from(days)).map(Some)
}

/// Whether a dossier has waited for the applicant past the time given at `now`: it waits
/// (a status of [`CLOCK_PAUSED`]) and its `wait_until` ([`wait_limit`]) has passed. Such a
/// dossier may be stopped (refused, when it was never accepted), and the work lists show
/// it (docs/rules.md §3).
pub fn waited_past_limit(status: Status, wait_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    CLOCK_PAUSED.contains(&status) && wait_until.is_some_and(|w| w < now)
}

/// How far ahead an appointment is "due soon": within this many working days from now.
pub const DUE_SOON_WORKING_DAYS: u64 = 1;

/// Whether the clock of a dossier in `status`, finished at `finished_at` (if at all), runs
/// at `at`: unfinished in a status of [`CLOCK_RUNNING`], or finished only after `at` (so
/// still being handled then). A dossier finished at or before `at` has stopped.
pub fn clock_runs_at(status: Status, finished_at: Option<OffsetDateTime>, at: OffsetDateTime) -> bool {
    match finished_at {
        None => CLOCK_RUNNING.contains(&status),
        Some(finished) => finished > at,
    }
}

/// Whether a dossier is overdue at `at`: its appointment `due_at` passed before `at` while
/// its clock runs at `at` ([`clock_runs_at`]). Paused, finished and unreceived dossiers
/// are never overdue.
pub fn is_overdue(
    status: Status,
    due_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> bool {
    due_at.is_some_and(|due| due < at) && clock_runs_at(status, finished_at, at)
}

/// The instant up to which an appointment is "due soon" at `now`: [`DUE_SOON_WORKING_DAYS`]
/// working days later on the province's calendar.
pub fn soon_limit(calendar: &Calendar, now: OffsetDateTime) -> Result<OffsetDateTime, CalendarError> {
    calendar.add_working_days(now, DUE_SOON_WORKING_DAYS)
}

/// Whether a dossier is due soon at `now`: its clock runs, and its appointment has not
/// passed (`now` ≤ due) but comes by `soon` ([`soon_limit`]).
pub fn is_due_soon(
    status: Status,
    due_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    soon: OffsetDateTime,
) -> bool {
    due_at.is_some_and(|due| now <= due && due <= soon) && clock_runs_at(status, finished_at, now)
}

/// How a dossier whose clock runs stands against its appointment now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DueState {
    /// The appointment is more than [`DUE_SOON_WORKING_DAYS`] working days away.
    OnTime,
    /// Due soon ([`is_due_soon`]).
    DueSoon,
    /// Overdue ([`is_overdue`]).
    Overdue,
}

/// How a dossier stands against its appointment at `now` (`soon` from [`soon_limit`]),
/// when its clock runs and it has an appointment; `None` otherwise (not received, paused,
/// finished).
pub fn due_state(
    status: Status,
    due_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    soon: OffsetDateTime,
) -> Option<DueState> {
    due_at?;
    if !clock_runs_at(status, finished_at, now) {
        return None;
    }
    Some(if is_overdue(status, due_at, finished_at, now) {
        DueState::Overdue
    } else if is_due_soon(status, due_at, finished_at, now, soon) {
        DueState::DueSoon
    } else {
        DueState::OnTime
    })
}

/// How a dossier stands at `now`, whatever its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Finished: how, against its appointment.
    Finished(Timeliness),
    /// Waiting for the applicant (a supplement or a payment): the clock stands still.
    Paused,
    /// The clock runs ([`due_state`]).
    Running(DueState),
}

/// Whether the clock of a dossier in `status` stands still now waiting for the applicant
/// (unfinished, in a status of [`CLOCK_PAUSED`]).
pub fn is_paused(status: Status, finished_at: Option<OffsetDateTime>) -> bool {
    finished_at.is_none() && CLOCK_PAUSED.contains(&status)
}

/// How `d` stands at `now` (`soon` from [`soon_limit`]); `None` without an appointment,
/// or in a status that has no clock.
pub fn standing(d: &Dossier, now: OffsetDateTime, soon: OffsetDateTime) -> Option<Standing> {
    d.due_at?;
    if d.finished_at.is_some() || d.status.is_final() {
        return d.timeliness(now).map(Standing::Finished);
    }
    if is_paused(d.status, d.finished_at) {
        return Some(Standing::Paused);
    }
    due_state(d.status, d.due_at, d.finished_at, now, soon).map(Standing::Running)
}

/// An age bucket of overdue dossiers, by working days late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeBucket {
    /// Stable key (URLs: `?age=`).
    pub key: &'static str,
    /// Vietnamese label.
    pub label: &'static str,
    /// The most working days late it holds (a started day counting as one); `None` for
    /// the last, open bucket.
    pub up_to_days: Option<u64>,
}

/// The age buckets of overdue dossiers, in working days late: ≤ 2, 3–5, 6–10, > 10.
pub const AGE_BUCKETS: [AgeBucket; 4] = [
    AgeBucket {
        key: "1",
        label: "≤ 2 ngày",
        up_to_days: Some(2),
    },
    AgeBucket {
        key: "2",
        label: "3–5 ngày",
        up_to_days: Some(5),
    },
    AgeBucket {
        key: "3",
        label: "6–10 ngày",
        up_to_days: Some(10),
    },
    AgeBucket {
        key: "4",
        label: "> 10 ngày",
        up_to_days: None,
    },
];

/// The age buckets as (key, label), the shape the dashboards' charts take.
pub const AGES: [(&str, &str); 4] = [
    (AGE_BUCKETS[0].key, AGE_BUCKETS[0].label),
    (AGE_BUCKETS[1].key, AGE_BUCKETS[1].label),
    (AGE_BUCKETS[2].key, AGE_BUCKETS[2].label),
    (AGE_BUCKETS[3].key, AGE_BUCKETS[3].label),
];

/// Working days from the appointment `due` to `now` on `calendar`, a started day counting
/// as one (0 when `now` is not after `due`).
pub fn working_days_late(calendar: &Calendar, due: OffsetDateTime, now: OffsetDateTime) -> u64 {
    let minutes = calendar.working_minutes_between(due, now);
    let per_day = u64::from(calendar.minutes_per_working_day().max(1));
    minutes.div_ceil(per_day)
}

/// The bucket (index into [`AGE_BUCKETS`]) of a dossier due at `due` and overdue at `now`.
pub fn age_bucket(calendar: &Calendar, due: OffsetDateTime, now: OffsetDateTime) -> usize {
    let days = working_days_late(calendar, due, now);
    AGE_BUCKETS
        .iter()
        .position(|b| b.up_to_days.is_none_or(|max| days <= max))
        .unwrap_or(AGE_BUCKETS.len() - 1)
}

/// The bucket keyed `key` of [`AGE_BUCKETS`].
pub fn age_of_key(key: &str) -> Option<usize> {
    AGE_BUCKETS.iter().position(|b| b.key == key)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-02 08:00 +07:00);

    fn status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }

    fn instant() -> impl Strategy<Value = OffsetDateTime> {
        (0i64..60 * 24 * 60).prop_map(|m| T0 + Duration::minutes(m))
    }

    #[test]
    fn the_clock_runs_when_accepted_or_handled_and_nowhere_else() {
        for s in Status::ALL {
            assert_eq!(s.clock_runs(), CLOCK_RUNNING.contains(&s), "{s:?}");
            assert!(!(CLOCK_RUNNING.contains(&s) && CLOCK_PAUSED.contains(&s)), "{s:?}");
        }
        assert_eq!(CLOCK_RUNNING.map(Status::code), [2, 4]);
        assert_eq!(CLOCK_PAUSED.map(Status::code), [5, 6]);
    }

    #[test]
    fn paused_and_finished_dossiers_are_not_overdue() {
        let due = Some(T0);
        let later = T0 + Duration::days(3);
        assert!(is_overdue(Status::InProgress, due, None, later));
        assert!(is_overdue(Status::Accepted, due, None, later));
        assert!(
            !is_overdue(Status::InProgress, due, None, T0),
            "due at this very instant"
        );
        for paused in CLOCK_PAUSED {
            assert!(
                !is_overdue(paused, due, None, later),
                "{paused:?}: the clock stands still"
            );
        }
        // Finished late: late, not overdue, from the instant it finished.
        let finished = Some(T0 + Duration::days(1));
        assert!(!is_overdue(Status::Done, due, finished, later));
        assert!(!is_overdue(Status::Done, due, finished, T0 + Duration::days(1)));
        // Judged before it finished (a period's end): it was overdue then.
        assert!(is_overdue(Status::Done, due, finished, T0 + Duration::hours(5)));
        assert!(!is_overdue(Status::InProgress, None, None, later), "no appointment");
    }

    #[test]
    fn age_buckets_hold_two_five_ten_and_more_working_days() {
        let cal = Calendar::standard();
        // Monday 08:00 due; a week of working days later.
        let due = datetime!(2026-11-02 08:00 +07:00);
        let cases = [
            (datetime!(2026-11-02 08:01 +07:00), 0, 1),
            (datetime!(2026-11-04 08:00 +07:00), 0, 2),
            (datetime!(2026-11-04 08:01 +07:00), 1, 3),
            (datetime!(2026-11-09 08:00 +07:00), 1, 5),
            (datetime!(2026-11-16 08:00 +07:00), 2, 10),
            (datetime!(2026-11-16 09:00 +07:00), 3, 11),
        ];
        for (now, bucket, days) in cases {
            assert_eq!(working_days_late(&cal, due, now), days, "{now}");
            assert_eq!(age_bucket(&cal, due, now), bucket, "{now}");
        }
        for (i, (key, label)) in AGES.iter().enumerate() {
            assert_eq!(age_of_key(key), Some(i));
            assert_eq!(AGE_BUCKETS[i].label, *label);
        }
        assert_eq!(age_of_key("5"), None);
    }

    proptest! {
        /// Overdue, due soon and on time split the dossiers whose clock runs, and none of
        /// the others has a due state.
        #[test]
        fn due_states_partition_the_running_dossiers(
            s in status(),
            due in proptest::option::of(instant()),
            finished in proptest::option::of(instant()),
            now in instant(),
            ahead in 0i64..3 * 24 * 60,
        ) {
            let soon = now + Duration::minutes(ahead);
            let state = due_state(s, due, finished, now, soon);
            let overdue = is_overdue(s, due, finished, now);
            let dsoon = is_due_soon(s, due, finished, now, soon);
            prop_assert!(!(overdue && dsoon));
            prop_assert_eq!(state == Some(DueState::Overdue), overdue);
            prop_assert_eq!(state == Some(DueState::DueSoon), dsoon);
            prop_assert_eq!(state.is_some(), due.is_some() && clock_runs_at(s, finished, now));
            if overdue || dsoon {
                prop_assert!(clock_runs_at(s, finished, now));
            }
        }

        /// Every number of working days late falls in exactly one bucket, and later is
        /// never in a younger bucket.
        #[test]
        fn age_buckets_are_ordered(due in instant(), a in 0i64..40 * 24 * 60, b in 0i64..40 * 24 * 60) {
            let cal = Calendar::standard();
            let (early, late) = (a.min(b), a.max(b));
            let x = age_bucket(&cal, due, due + Duration::minutes(early));
            let y = age_bucket(&cal, due, due + Duration::minutes(late));
            prop_assert!(x <= y);
            prop_assert!(y < AGE_BUCKETS.len());
        }
    }
}
