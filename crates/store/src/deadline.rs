//! The deadline rules of [`motcua_core::deadline`] as SQL conditions over the columns of
//! `dossiers` (`status`, `due_at`, `finished_at`, epoch milliseconds). Every query that
//! filters or counts by "overdue" or "due soon" (the work lists, the overdue lists and
//! charts, the overview's figures, today's part of the aggregates) takes its condition
//! from here, and each condition is the core predicate written out term by term, with the
//! status sets rendered from core's constants: no status number is written by hand. The
//! tests in `tests/deadline_sql.rs` check on random dossiers and instants, on both
//! backends, that the rows each condition selects are exactly those the predicate accepts.

use motcua_core::deadline::{CLOCK_PAUSED, CLOCK_RUNNING};
use motcua_core::dossier::Status;

/// `a, b, …`: the national codes of `statuses`, for `status IN (…)`.
pub(crate) fn codes(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.code().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `status IN (…)` of [`CLOCK_RUNNING`].
pub(crate) fn status_clock_runs() -> String {
    format!("status IN ({})", codes(&CLOCK_RUNNING))
}

/// Unfinished in a clock-running status: the first branch of
/// [`motcua_core::deadline::clock_runs_at`].
fn running_unfinished() -> String {
    format!("(finished_at IS NULL AND {})", status_clock_runs())
}

/// Finished after `at`: the second branch of [`motcua_core::deadline::clock_runs_at`].
fn finished_after(at: &str) -> String {
    format!("(finished_at IS NOT NULL AND finished_at > {at})")
}

/// [`motcua_core::deadline::clock_runs_at`] at the instant `at` (a placeholder or
/// expression in epoch milliseconds, never NULL). Never NULL itself (each term tests for
/// NULL first), so it can be negated.
pub(crate) fn clock_runs_at(at: &str) -> String {
    format!("({} OR {})", running_unfinished(), finished_after(at))
}

/// [`motcua_core::deadline::is_overdue`] at the instant `at`; never NULL, as
/// [`clock_runs_at`].
pub(crate) fn overdue_at(at: &str) -> String {
    format!("(due_at IS NOT NULL AND due_at < {at} AND {})", clock_runs_at(at))
}

/// The dossiers [`overdue_at`] `at` that have finished since (its second branch alone).
pub(crate) fn overdue_at_and_finished_since(at: &str) -> String {
    format!("(due_at < {at} AND {})", finished_after(at))
}

/// [`overdue_at`] judged now (`now` is the present instant): no dossier has finished after
/// now, so the finished branch of [`clock_runs_at`] selects nothing and is left out, and
/// the condition is the one the index on unfinished dossiers by appointment serves.
pub(crate) fn overdue_now(now: &str) -> String {
    format!("({} AND due_at < {now})", running_unfinished())
}

/// [`motcua_core::deadline::is_due_soon`] judged now (`now`), `soon` being
/// [`motcua_core::deadline::soon_limit`]; as [`overdue_now`], without the finished branch.
pub(crate) fn due_soon_now(now: &str, soon: &str) -> String {
    format!("({} AND due_at >= {now} AND due_at <= {soon})", running_unfinished())
}

/// [`motcua_core::deadline::waited_past_limit`] at `now`: waiting in a status of
/// [`CLOCK_PAUSED`], with a `wait_until` before `now`.
pub(crate) fn waited_past_limit(now: &str) -> String {
    format!(
        "(status IN ({}) AND wait_until IS NOT NULL AND wait_until < {now})",
        codes(&CLOCK_PAUSED)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conditions_name_the_core_statuses() {
        assert_eq!(status_clock_runs(), "status IN (2, 4)");
        assert_eq!(
            overdue_at("$2"),
            "(due_at IS NOT NULL AND due_at < $2 AND ((finished_at IS NULL AND status IN (2, 4)) \
             OR (finished_at IS NOT NULL AND finished_at > $2)))"
        );
        assert_eq!(codes(&Status::WITH_RESULT), "9, 10");
        assert_eq!(
            waited_past_limit("$3"),
            "(status IN (5, 6) AND wait_until IS NOT NULL AND wait_until < $3)"
        );
    }
}
