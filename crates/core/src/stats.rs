//! Statistics as maintained aggregates (issue 8, docs/rules.md §6): what one dossier, as it
//! stands now, contributes to the counters, as a small set of facts "+n of kind K on day
//! X for dimension value V". The store keeps the sums of these facts per day and per
//! month; each change of a dossier adds `contributions(new) − contributions(old)` in the
//! transaction that writes it, and a recount from scratch applies this same function to
//! every dossier, so the two agree by construction and the check is meaningful.
//!
//! Every figure of a period `[S, E)` (whole days, Vietnam time) is a sum of facts:
//! - *received, resolved early / on time / late, returned, refused, withdrawn, stopped,
//!   supplement requests*: facts dated inside the period;
//! - *in progress at E* (and *carried over* = in progress at S): `Received` facts dated
//!   before E minus `Exited` facts (any end of handling of a received dossier: result
//!   ready, withdrawn, stopped) dated before E — exact, since a dossier ends after it
//!   starts;
//! - *overdue at E*: [`crate::deadline::is_overdue`] judged at E: the appointment before
//!   E, and the clock running at E (unfinished and not waiting for a supplement or a
//!   payment, or finished only after E). A pair condition, made cumulative by dating one
//!   fact `DueEntered` on the due day and one `DueExited` on the later of the due day and
//!   the day of the finish's last instant before it (a finish at midnight exactly ends the
//!   day before, as finished *at* E is not overdue at E): `Σ DueEntered(< E) −
//!   Σ DueExited(< E)` = due before E and not finished by E. Exact at day boundaries (a
//!   test checks it against the predicate); when the period has not ended, unfinished
//!   dossiers are judged *now*, and the store corrects today's part from the dossiers (a
//!   one-day window on an index), so the figure stays exact to the millisecond.
//!
//! Dimensions: receiving agency (centre), responsible agency (department), field,
//! procedure and officer. Every fact also carries the channel, and every dimension but
//! the centre's the department, so any grouping can be filtered by channel and any but
//! the centres' by department. The centres' counters leave the department out
//! ([`Dimension::keeps_department`]): on the 2025 map a centre receives for its commune
//! and several departments, and keyed by both the centre dimension held four times the
//! department dimension's rows, which the director's page read every time
//! (bench/RESULTS.md, 2026-12-08). The officer is the current
//! assignee: a finished dossier has none (the finish hands it back to the counter and
//! the snapshot does not say who signed), so it counts under the empty officer.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use crate::calendar::VIETNAM_OFFSET;
use crate::dossier::{Status, Timeliness};
use crate::lifecycle::{Dossier, NoticeKind};

/// What a figure can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// The agency that received the dossier (the centre).
    Centre,
    /// The agency responsible for resolving it (the department).
    Department,
    /// The procedure's field.
    Field,
    /// The procedure.
    Procedure,
    /// The officer who holds it now (empty when nobody does).
    Officer,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 5] = [
        Dimension::Centre,
        Dimension::Department,
        Dimension::Field,
        Dimension::Procedure,
        Dimension::Officer,
    ];

    /// The code stored in the aggregate tables.
    pub fn code(self) -> u8 {
        match self {
            Dimension::Centre => 1,
            Dimension::Department => 2,
            Dimension::Field => 3,
            Dimension::Procedure => 4,
            Dimension::Officer => 5,
        }
    }

    /// Whether its counters carry the responsible agency, so that its figures can be
    /// narrowed to one department: every dimension but the receiving centre's.
    pub fn keeps_department(self) -> bool {
        self != Dimension::Centre
    }

    /// The dimension of a stored code.
    pub fn from_code(code: u8) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.code() == code)
    }

    /// Name used in URLs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Centre => "centre",
            Dimension::Department => "department",
            Dimension::Field => "field",
            Dimension::Procedure => "procedure",
            Dimension::Officer => "officer",
        }
    }

    /// The dimension named `name`.
    pub fn parse(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The value of this dimension for `d`.
    pub fn value_of(self, d: &Dossier) -> String {
        match self {
            Dimension::Centre => d.receiving_agency.as_str().to_owned(),
            Dimension::Department => d.responsible_agency.as_str().to_owned(),
            Dimension::Field => d.field.as_str().to_owned(),
            Dimension::Procedure => d.procedure.as_str().to_owned(),
            Dimension::Officer => officer(d).map(|p| p.id.clone()).unwrap_or_default(),
        }
    }
}

/// The officer a dossier counts for: who handled it in the responsible department, or,
/// before that department assigned it (and for dossiers stored before `handled_by`
/// existed), whoever holds it now. Stored in `dossiers.officer_id` for the queries that
/// read dossiers directly.
pub fn officer(d: &Dossier) -> Option<&crate::lifecycle::Person> {
    d.handled_by.as_ref().or(d.assignee.as_ref())
}

/// What a fact counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Accepted (dated the day received).
    Received,
    /// A received dossier stopped being in progress (dated the finish day).
    Exited,
    /// A received dossier with its clock running now has its appointment (due day).
    DueEntered,
    /// The same dossier finished (dated the later of the due day and the finish day).
    DueExited,
    /// Resolved before the due day (finish day; carries the handling minutes).
    Early,
    /// Resolved on the due day, not after the appointment (finish day; minutes).
    OnTime,
    /// Resolved after the appointment or after more than one supplement request
    /// (finish day; minutes).
    Late,
    /// Result handed over (return day).
    Returned,
    /// Refused at reception (finish day).
    Refused,
    /// Withdrawn at the applicant's request (finish day).
    Withdrawn,
    /// Handling stopped (finish day).
    Stopped,
    /// One supplement request (at reception or during handling; the request's day).
    Supplement,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 12] = [
        Kind::Received,
        Kind::Exited,
        Kind::DueEntered,
        Kind::DueExited,
        Kind::Early,
        Kind::OnTime,
        Kind::Late,
        Kind::Returned,
        Kind::Refused,
        Kind::Withdrawn,
        Kind::Stopped,
        Kind::Supplement,
    ];

    /// The code stored in the aggregate tables.
    pub fn code(self) -> u8 {
        match self {
            Kind::Received => 1,
            Kind::Exited => 2,
            Kind::DueEntered => 3,
            Kind::DueExited => 4,
            Kind::Early => 5,
            Kind::OnTime => 6,
            Kind::Late => 7,
            Kind::Returned => 8,
            Kind::Refused => 9,
            Kind::Withdrawn => 10,
            Kind::Stopped => 11,
            Kind::Supplement => 12,
        }
    }

    /// The kind of a stored code.
    pub fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A day in Vietnam time, as a number: days since 1970-01-01.
pub type Day = i32;

/// A month as a number: `year * 12 + month - 1`.
pub type MonthNo = i32;

/// The day (Vietnam time) of an instant.
pub fn day_of(t: OffsetDateTime) -> Day {
    day_number(t.to_offset(VIETNAM_OFFSET).date())
}

/// The number of a date.
pub fn day_number(d: Date) -> Day {
    d.to_julian_day() - EPOCH_JULIAN_DAY
}

/// The date of a day number (`None` far outside the calendar's range).
pub fn date_of(day: Day) -> Option<Date> {
    Date::from_julian_day(day + EPOCH_JULIAN_DAY).ok()
}

/// The month a day falls in.
pub fn month_of(day: Day) -> MonthNo {
    date_of(day).map_or(0, |d| d.year() * 12 + i32::from(u8::from(d.month())) - 1)
}

/// The first day of a month.
pub fn first_day_of_month(m: MonthNo) -> Day {
    let year = m.div_euclid(12);
    let month = u8::try_from(m.rem_euclid(12) + 1).unwrap_or(1);
    time::Month::try_from(month)
        .ok()
        .and_then(|mo| Date::from_calendar_date(year, mo, 1).ok())
        .map_or(0, day_number)
}

/// 1970-01-01.
const EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// One fact of a dossier, before it is spread over the dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base {
    /// What it counts.
    pub kind: Kind,
    /// Its day.
    pub day: Day,
    /// How many.
    pub n: i64,
    /// Minutes of handling (resolved kinds only): received to finished, elapsed time.
    pub minutes: i64,
}

/// The key of one aggregate counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The province.
    pub province: String,
    /// The dimension.
    pub dimension: Dimension,
    /// Its value (agency, field, procedure code or officer id; may be empty).
    pub value: String,
    /// The responsible agency (for filtering any grouping by department).
    pub department: String,
    /// The channel's national code.
    pub channel: u8,
    /// What it counts.
    pub kind: Kind,
    /// Its day.
    pub day: Day,
}

/// The value of one aggregate counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    /// How many dossiers (or requests).
    pub n: i64,
    /// Minutes of handling (resolved kinds).
    pub minutes: i64,
}

impl Amount {
    /// Whether this adds nothing.
    pub fn is_zero(self) -> bool {
        self.n == 0 && self.minutes == 0
    }
}

/// How a resolved dossier is judged (docs/rules.md §6): more than one supplement request
/// counts as late; otherwise [`Timeliness::judge`] of the finish against the appointment
/// (which already excludes supplement time).
pub fn judgement(d: &Dossier) -> Option<Timeliness> {
    let finished = d.finished_at?;
    if !d.status.has_result() {
        return None;
    }
    match d.due_at {
        _ if d.supplements > 1 => Some(Timeliness::Late),
        Some(due) => Some(Timeliness::judge(finished, due)),
        None => None,
    }
}

/// The facts of `d` as it stands, before they are spread over the dimensions.
pub fn base_facts(d: &Dossier) -> Vec<Base> {
    let fact = |kind, day, minutes| Base {
        kind,
        day,
        n: 1,
        minutes,
    };
    let mut out = Vec::new();
    if let Some(received) = d.received_at {
        out.push(fact(Kind::Received, day_of(received), 0));
        if let Some(finished) = d.finished_at {
            out.push(fact(Kind::Exited, day_of(finished), 0));
        }
        // Counted overdue at E from the due day on while its clock runs at E
        // (`deadline::is_overdue`): never while paused now; a finished dossier until its
        // finish (judged at an instant, a dossier finished at that instant is not overdue,
        // hence the finish's last millisecond before it).
        let counted = d.finished_at.is_some() || d.status.clock_runs();
        if let Some(due) = d.due_at.filter(|_| counted) {
            out.push(fact(Kind::DueEntered, day_of(due), 0));
            if let Some(finished) = d.finished_at {
                let last_open = day_of(finished - time::Duration::milliseconds(1));
                out.push(fact(Kind::DueExited, day_of(due).max(last_open), 0));
            }
        }
    }
    if let (Some(t), Some(finished)) = (judgement(d), d.finished_at) {
        let kind = match t {
            Timeliness::Early => Kind::Early,
            Timeliness::OnTime => Kind::OnTime,
            Timeliness::Late => Kind::Late,
        };
        // Working time without the supplement and payment waits (dossiers finished before
        // the lifecycle recorded it: elapsed time).
        let minutes = d.working_minutes.map_or_else(
            || d.received_at.map_or(0, |r| (finished - r).whole_minutes().max(0)),
            |m| i64::try_from(m).unwrap_or(i64::MAX),
        );
        out.push(fact(kind, day_of(finished), minutes));
    }
    if let Some(returned) = d.returned_at {
        out.push(fact(Kind::Returned, day_of(returned), 0));
    }
    let ended = match d.status {
        Status::Refused => Some(Kind::Refused),
        Status::Withdrawn => Some(Kind::Withdrawn),
        Status::Stopped => Some(Kind::Stopped),
        _ => None,
    };
    if let (Some(kind), Some(finished)) = (ended, d.finished_at) {
        out.push(fact(kind, day_of(finished), 0));
    }
    for n in d.notices.iter().filter(|n| n.kind == NoticeKind::SupplementRequest) {
        out.push(fact(Kind::Supplement, day_of(n.at), 0));
    }
    out
}

/// Everything `d` contributes: its facts on every dimension, summed by key.
pub fn contributions(d: &Dossier) -> BTreeMap<Key, Amount> {
    let mut out = BTreeMap::new();
    add(&mut out, d, 1);
    out
}

/// Adds `sign` × the contributions of `d` to `into`, dropping counters that reach zero.
pub fn add(into: &mut BTreeMap<Key, Amount>, d: &Dossier, sign: i64) {
    let facts = base_facts(d);
    for dimension in Dimension::ALL {
        let value = dimension.value_of(d);
        for f in &facts {
            let key = Key {
                province: d.province.as_str().to_owned(),
                dimension,
                value: value.clone(),
                department: if dimension.keeps_department() {
                    d.responsible_agency.as_str().to_owned()
                } else {
                    String::new()
                },
                channel: d.channel.code(),
                kind: f.kind,
                day: f.day,
            };
            let a = into.entry(key.clone()).or_default();
            a.n += sign * f.n;
            a.minutes += sign * f.minutes;
            if a.is_zero() {
                into.remove(&key);
            }
        }
    }
}

/// What changes in the aggregates when `old` (none for a new dossier) becomes `new`.
pub fn difference(old: Option<&Dossier>, new: &Dossier) -> BTreeMap<Key, Amount> {
    let mut out = BTreeMap::new();
    add(&mut out, new, 1);
    if let Some(old) = old {
        add(&mut out, old, -1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use time::macros::datetime;

    fn sample() -> Dossier {
        let catalogue = demo::ninh_thuan();
        let record = &catalogue.procedures[0];
        let version = record.versions.last().expect("a version");
        let received = datetime!(2026-11-02 08:00 +07:00);
        let centre = catalogue.agencies[1].code.clone();
        Dossier::file(crate::lifecycle::Filing {
            code: crate::dossier::DossierCode::new(&centre, received.date(), 1).expect("code"),
            province: catalogue.province.code.clone(),
            procedure: &record.code,
            version: version.version,
            content: &version.content,
            receiving: centre,
            competent: version.content.agency.clone(),
            channel: crate::dossier::Channel::Counter,
            applicant: crate::lifecycle::Applicant {
                kind: crate::catalogue::ApplicantKind::Citizen,
                name: "Nguyễn Văn An".into(),
                id_number: "058190000123".into(),
                phone: String::new(),
                email: String::new(),
                address: String::new(),
            },
            documents: Vec::new(),
            tracking_secret: "ABCDEFGH".into(),
            now: received,
        })
    }

    #[test]
    fn day_numbers_follow_vietnam_time() {
        // 17:30 UTC on 1 January is 00:30 on 2 January in Vietnam.
        assert_eq!(day_of(datetime!(1970-01-01 16:59 UTC)), 0);
        assert_eq!(day_of(datetime!(1970-01-01 17:00 UTC)), 1);
        let d = day_of(datetime!(2026-11-02 08:00 +07:00));
        assert_eq!(date_of(d), Some(time::macros::date!(2026 - 11 - 02)));
        let m = month_of(d);
        assert_eq!(
            date_of(first_day_of_month(m)),
            Some(time::macros::date!(2026 - 11 - 01))
        );
        assert_eq!(month_of(first_day_of_month(m) - 1), m - 1);
    }

    #[test]
    fn a_dossier_in_progress_counts_received_and_due_only() {
        let mut d = sample();
        d.received_at = Some(datetime!(2026-11-02 08:00 +07:00));
        d.due_at = Some(datetime!(2026-11-06 17:00 +07:00));
        d.finished_at = None;
        d.returned_at = None;
        d.status = Status::InProgress;
        d.notices.clear();
        let kinds: Vec<Kind> = base_facts(&d).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![Kind::Received, Kind::DueEntered]);
        // Waiting for a supplement: the clock stands still, never overdue.
        d.status = Status::SupplementRequested;
        let kinds: Vec<Kind> = base_facts(&d).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![Kind::Received]);
    }

    #[test]
    fn a_resolved_dossier_is_judged_and_leaves_the_counts_of_work_in_progress() {
        let mut d = sample();
        d.received_at = Some(datetime!(2026-11-02 08:00 +07:00));
        d.due_at = Some(datetime!(2026-11-06 17:00 +07:00));
        d.finished_at = Some(datetime!(2026-11-09 08:00 +07:00));
        d.returned_at = None;
        d.status = Status::Done;
        d.supplements = 0;
        d.notices.clear();
        let facts = base_facts(&d);
        let late = facts.iter().find(|f| f.kind == Kind::Late).expect("late");
        assert_eq!(late.minutes, 7 * 24 * 60);
        let exit = facts.iter().find(|f| f.kind == Kind::DueExited).expect("due exit");
        assert_eq!(exit.day, day_of(datetime!(2026-11-09 08:00 +07:00)), "the later day");
        d.finished_at = Some(datetime!(2026-11-05 08:00 +07:00));
        assert_eq!(judgement(&d), Some(Timeliness::Early));
        d.supplements = 2;
        assert_eq!(judgement(&d), Some(Timeliness::Late), "two supplement requests");
        d.status = Status::Withdrawn;
        assert_eq!(judgement(&d), None);
        assert!(base_facts(&d).iter().any(|f| f.kind == Kind::Withdrawn));
    }

    proptest::proptest! {
        /// The overdue facts summed over the days before any day D equal
        /// `deadline::is_overdue` judged at D's midnight: the aggregates and the predicate
        /// agree at every day boundary.
        #[test]
        fn the_overdue_facts_agree_with_the_deadline_rule(
            status in proptest::sample::select(Status::ALL.to_vec()),
            due in 0i64..40 * 24 * 60,
            finished in proptest::option::of(0i64..40 * 24 * 60),
            midnight_finish in proptest::bool::ANY,
            judged in 0i64..45,
        ) {
            let t0 = datetime!(2026-11-01 00:00 +07:00);
            let mut d = sample();
            d.received_at = Some(t0);
            d.due_at = Some(t0 + time::Duration::minutes(due));
            d.status = status;
            d.supplements = 0;
            d.notices.clear();
            d.returned_at = None;
            // Finished dossiers are in a final status or have their result; unfinished ones
            // are not. Some finish at midnight exactly, the boundary case.
            d.finished_at = finished.map(|m| {
                if midnight_finish {
                    t0 + time::Duration::days(m / (24 * 60))
                } else {
                    t0 + time::Duration::minutes(m)
                }
            });
            let finished_status = d.status.is_final() || d.status.has_result();
            proptest::prop_assume!(finished_status == d.finished_at.is_some());
            let day = day_of(t0) + i32::try_from(judged).expect("day");
            let at = date_of(day).expect("date").midnight().assume_offset(VIETNAM_OFFSET);
            let sum: i64 = base_facts(&d)
                .iter()
                .filter(|f| f.day < day)
                .map(|f| match f.kind {
                    Kind::DueEntered => f.n,
                    Kind::DueExited => -f.n,
                    _ => 0,
                })
                .sum();
            let expected = crate::deadline::is_overdue(d.status, d.due_at, d.finished_at, at);
            proptest::prop_assert_eq!(sum, i64::from(expected), "{:?} judged at {}", d.finished_at, at);
        }
    }

    #[test]
    fn the_difference_of_a_change_is_new_minus_old_and_nothing_for_no_change() {
        let mut old = sample();
        old.received_at = Some(datetime!(2026-11-02 08:00 +07:00));
        old.due_at = Some(datetime!(2026-11-06 17:00 +07:00));
        old.status = Status::InProgress;
        old.finished_at = None;
        old.returned_at = None;
        assert!(difference(Some(&old), &old).is_empty());
        let mut new = old.clone();
        new.assignee = Some(crate::lifecycle::Person {
            id: "u1".into(),
            name: "A".into(),
        });
        let diff = difference(Some(&old), &new);
        // Only the officer's counters move: two facts, out of "" and into "u1".
        assert!(diff.keys().all(|k| k.dimension == Dimension::Officer));
        assert_eq!(diff.values().map(|a| a.n).sum::<i64>(), 0);
        assert_eq!(diff.len(), 4);
        // Applying the difference to the old contributions gives the new ones.
        let mut sum = contributions(&old);
        for (k, a) in diff {
            let e = sum.entry(k.clone()).or_default();
            e.n += a.n;
            e.minutes += a.minutes;
            if e.is_zero() {
                sum.remove(&k);
            }
        }
        assert_eq!(sum, contributions(&new));
    }
}
