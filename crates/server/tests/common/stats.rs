//! The statistics' figures, added up by hand (independently of the store's own sums).

use motcua_store::stats::Counts;

/// Adds every figure of `c` to `into`.
pub fn add_counts(into: &mut Counts, c: &Counts) {
    into.carried_over += c.carried_over;
    for i in 0..3 {
        into.received[i] += c.received[i];
    }
    into.in_progress_on_time += c.in_progress_on_time;
    into.overdue += c.overdue;
    into.early += c.early;
    into.on_time += c.on_time;
    into.late += c.late;
    into.returned += c.returned;
    into.refused += c.refused;
    into.withdrawn += c.withdrawn;
    into.stopped += c.stopped;
    into.supplements += c.supplements;
    into.resolved_minutes += c.resolved_minutes;
}
