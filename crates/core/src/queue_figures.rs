//! The queue's figures (issue 21 item 8, docs/rules.md §1.1): from the tickets of a
//! period, how many were taken, served and marked absent, how many came from a booking,
//! and the wait (taken → first call) and service (call → finish) times, per group,
//! counter, officer, hour of the day and day of the week, and a heat map of arrivals by
//! day of the week and hour.
//!
//! Definitions: a ticket is *served* when it was finished (`done`); its *wait* is from
//! taken to called (a recall moves the call later, so the wait counted is to the last
//! call), its *service* from called to finished. A ticket counts under the group it was
//! taken for, the counter and officer that called it, and the hour and day it was taken,
//! in Vietnam time. A ticket rated at the kiosk after it was served counts its
//! satisfaction under the same keys (so under the counter and officer that served it).

use serde::Serialize;

use crate::evaluation::Satisfaction;

/// One ticket, as the figures read it (instants in epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFact {
    /// The group it was taken for.
    pub group: i64,
    /// The counter that called it.
    pub counter: Option<i64>,
    /// The officer who called it.
    pub officer: Option<String>,
    /// `waiting`, `called`, `serving`, `done`, `no_show`.
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
    pub rating: Option<Satisfaction>,
}

/// The counts and times of a set of tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Line {
    /// Tickets taken.
    pub taken: i64,
    /// Tickets served (finished).
    pub served: i64,
    /// Tickets marked absent.
    pub no_show: i64,
    /// Tickets from a booking.
    pub booked: i64,
    /// Tickets called (whose wait is known).
    pub called: i64,
    /// Total wait of the called ones, ms.
    pub wait_ms: i64,
    /// Total service time of the served ones, ms.
    pub service_ms: i64,
    /// Tickets rated at the kiosk.
    pub rated: i64,
    /// Rated "very satisfied".
    pub very_satisfied: i64,
    /// Rated "satisfied".
    pub satisfied: i64,
    /// Rated "not satisfied".
    pub not_satisfied: i64,
}

impl Line {
    fn add(&mut self, t: &TicketFact) {
        self.taken += 1;
        self.booked += i64::from(t.booked);
        match t.state.as_str() {
            "done" => self.served += 1,
            "no_show" => self.no_show += 1,
            _ => {}
        }
        if let Some(c) = t.called_at {
            self.called += 1;
            self.wait_ms += (c - t.taken_at).max(0);
            if t.state == "done"
                && let Some(f) = t.finished_at
            {
                self.service_ms += (f - c).max(0);
            }
        }
        if let Some(r) = t.rating {
            self.rated += 1;
            match r {
                Satisfaction::VerySatisfied => self.very_satisfied += 1,
                Satisfaction::Satisfied => self.satisfied += 1,
                Satisfaction::NotSatisfied => self.not_satisfied += 1,
            }
        }
    }

    /// The share of the rated tickets rated satisfied or very satisfied
    /// (`Satisfaction::is_satisfied`), in whole percent (rounded), if any was rated.
    pub fn satisfied_percent(&self) -> Option<i64> {
        (self.rated > 0).then(|| ((self.very_satisfied + self.satisfied) * 200 + self.rated) / (2 * self.rated))
    }

    /// Mean wait in whole minutes (rounded), if any ticket was called.
    pub fn mean_wait_minutes(&self) -> Option<i64> {
        mean_minutes(self.wait_ms, self.called)
    }

    /// Mean service time in whole minutes (rounded), if any ticket was served.
    pub fn mean_service_minutes(&self) -> Option<i64> {
        mean_minutes(self.service_ms, self.served)
    }
}

fn mean_minutes(total_ms: i64, n: i64) -> Option<i64> {
    (n > 0).then(|| (total_ms / n + 30_000) / 60_000)
}

/// A figure for one key (a group, counter or officer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Keyed<K> {
    /// The key.
    pub key: K,
    /// Its figures.
    pub line: Line,
}

/// The queue's figures for a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueFigures {
    /// All tickets.
    pub total: Line,
    /// Per group taken for, by id.
    pub by_group: Vec<Keyed<i64>>,
    /// Per counter that called, by id.
    pub by_counter: Vec<Keyed<i64>>,
    /// Per officer who called, by account id.
    pub by_officer: Vec<Keyed<String>>,
    /// Per hour of the day taken (0–23, Vietnam time).
    pub by_hour: Vec<Line>,
    /// Per day of the week taken (0 Monday … 6 Sunday).
    pub by_weekday: Vec<Line>,
    /// Tickets taken per day of the week (rows, Monday first) and hour (columns).
    pub heat: Vec<Vec<i64>>,
}

/// Vietnam is seven hours ahead of UTC, with no daylight saving.
const OFFSET_MS: i64 = 7 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The hour of the day (0–23) and day of the week (0 Monday … 6 Sunday) of an instant, in
/// Vietnam time.
pub fn hour_and_weekday(ms: i64) -> (usize, usize) {
    let local = ms + OFFSET_MS;
    let hour = usize::try_from(local.rem_euclid(DAY_MS) / 3_600_000).unwrap_or(0);
    // 1970-01-01 was a Thursday (3, counting Monday as 0).
    let weekday = usize::try_from((local.div_euclid(DAY_MS) + 3).rem_euclid(7)).unwrap_or(0);
    (hour, weekday)
}

fn keyed<K: PartialEq + Clone>(list: &mut Vec<Keyed<K>>, key: &K) -> usize {
    match list.iter().position(|k| k.key == *key) {
        Some(i) => i,
        None => {
            list.push(Keyed {
                key: key.clone(),
                line: Line::default(),
            });
            list.len() - 1
        }
    }
}

/// The figures of `tickets`.
pub fn figures(tickets: &[TicketFact]) -> QueueFigures {
    let mut f = QueueFigures {
        by_hour: vec![Line::default(); 24],
        by_weekday: vec![Line::default(); 7],
        heat: vec![vec![0; 24]; 7],
        ..QueueFigures::default()
    };
    for t in tickets {
        f.total.add(t);
        let i = keyed(&mut f.by_group, &t.group);
        f.by_group[i].line.add(t);
        if let Some(c) = t.counter {
            let i = keyed(&mut f.by_counter, &c);
            f.by_counter[i].line.add(t);
        }
        if let Some(o) = &t.officer {
            let i = keyed(&mut f.by_officer, o);
            f.by_officer[i].line.add(t);
        }
        let (hour, weekday) = hour_and_weekday(t.taken_at);
        f.by_hour[hour].add(t);
        f.by_weekday[weekday].add(t);
        f.heat[weekday][hour] += 1;
    }
    f.by_group.sort_by_key(|k| k.key);
    f.by_counter.sort_by_key(|k| k.key);
    f.by_officer.sort_by(|a, b| a.key.cmp(&b.key));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(group: i64, state: &str, taken: i64, called: Option<i64>, finished: Option<i64>) -> TicketFact {
        TicketFact {
            group,
            counter: called.map(|_| 1),
            officer: called.map(|_| "u-1".to_owned()),
            state: state.to_owned(),
            booked: false,
            taken_at: taken,
            called_at: called,
            finished_at: finished,
            rating: None,
        }
    }

    #[test]
    fn hours_and_weekdays_are_in_vietnam_time() {
        // 2026-11-02 08:00 +07:00 is a Monday: 01:00 UTC.
        let monday_8 = 1_793_581_200_000;
        assert_eq!(hour_and_weekday(monday_8), (8, 0));
        // 2026-11-01 23:30 UTC is Monday 06:30 in Vietnam.
        assert_eq!(hour_and_weekday(monday_8 - 90 * 60_000), (6, 0));
        assert_eq!(hour_and_weekday(monday_8 + 6 * DAY_MS), (8, 6));
    }

    #[test]
    fn counts_and_means() {
        let m = 60_000;
        let base = 1_793_581_200_000;
        let tickets = [
            t(1, "done", base, Some(base + 10 * m), Some(base + 20 * m)),
            t(1, "done", base, Some(base + 20 * m), Some(base + 25 * m)),
            t(2, "no_show", base, Some(base + 30 * m), Some(base + 40 * m)),
            t(2, "waiting", base + 60 * m, None, None),
        ];
        let f = figures(&tickets);
        assert_eq!(
            (f.total.taken, f.total.served, f.total.no_show, f.total.called),
            (4, 2, 1, 3)
        );
        assert_eq!(f.total.mean_wait_minutes(), Some(20));
        assert_eq!(f.total.mean_service_minutes(), Some(8));
        assert_eq!(f.by_group.len(), 2);
        assert_eq!(f.by_group[0].line.served, 2);
        assert_eq!(f.by_hour[8].taken, 3);
        assert_eq!(f.by_hour[9].taken, 1);
        assert_eq!(f.heat[0][8], 3);
        assert_eq!(f.by_counter[0].line.taken, 3);
        assert_eq!(Line::default().mean_wait_minutes(), None);
    }

    #[test]
    fn satisfaction_counts_under_the_counter_and_officer_that_served() {
        let m = 60_000;
        let base = 1_793_581_200_000;
        let rated = |r| TicketFact {
            rating: Some(r),
            ..t(1, "done", base, Some(base + m), Some(base + 2 * m))
        };
        let mut other = rated(Satisfaction::NotSatisfied);
        other.counter = Some(2);
        other.officer = Some("u-2".to_owned());
        let tickets = [
            rated(Satisfaction::VerySatisfied),
            rated(Satisfaction::Satisfied),
            rated(Satisfaction::NotSatisfied),
            other,
            t(1, "done", base, Some(base + m), Some(base + 2 * m)),
        ];
        let f = figures(&tickets);
        assert_eq!(
            (
                f.total.rated,
                f.total.very_satisfied,
                f.total.satisfied,
                f.total.not_satisfied
            ),
            (4, 1, 1, 2)
        );
        assert_eq!(f.total.satisfied_percent(), Some(50));
        assert_eq!(f.by_counter[0].line.rated, 3);
        assert_eq!(f.by_counter[0].line.satisfied_percent(), Some(67));
        assert_eq!(f.by_officer[1].line.not_satisfied, 1);
        assert_eq!(f.by_officer[1].line.satisfied_percent(), Some(0));
        assert_eq!(Line::default().satisfied_percent(), None);
    }
}
