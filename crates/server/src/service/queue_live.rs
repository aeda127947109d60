//! Live views of a centre's queue, shared by every event stream that follows the centre
//! (issue 21 items 6 and 7; bench W6): the display board, and the place in line of every
//! ticket of the day for the tickets' phone pages.
//!
//! A view is built once per change of the centre's queue, by one task per centre and view,
//! and handed to the streams through a `watch` channel: with a thousand phones and boards
//! open, a call costs one rebuild, not a thousand reads. Changes that come while a view is
//! being built are folded into the next build, and builds are at least a gap apart
//! ([`BOARD_GAP`], [`TICKETS_GAP`]), so a busy centre costs at most a fixed number of reads
//! and wake-ups a second whatever the number of streams. A stream that falls behind skips to the latest view (each is whole). The task
//! stops at the first change after its last stream has gone.
//!
//! Changes come from `AppState::queue_events`: this node's commits at once, and on
//! PostgreSQL every node's (`crate::changes`), so every node's views follow every node's
//! calls. A change names the ticket it changed: the tickets view keeps the day's tickets
//! between builds and reads again only those that changed (the whole day when a change is
//! not about one ticket, when changes were missed, and at least every [`FULL_READ`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use motcua_core::codes::ProvinceCode;
use motcua_core::queue::{self as rules, TicketState};
use motcua_store::Tx;
use motcua_store::changes::QueueChange;
use motcua_store::queue::{self as store, Kiosk, Ticket};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;

use super::board::{self, Board};
use super::queue::{PublicTicket, centre_of, day_of, view_of};
use crate::error::AppError;
use crate::state::AppState;

/// The least time between two builds of a board: under a stream of calls a board is built
/// at most 40 times a second, and a call reaches the hall's screens at most this much later.
pub const BOARD_GAP: Duration = Duration::from_millis(25);

/// The least time between two builds of the tickets view. Every build wakes every phone
/// following the centre (a thousand in the W6 benchmark); a phone shows its place in line
/// at most once a second anyway, and its own call this much later at most, well inside
/// the second a person looking at it would notice. Measured on 2 cores (W6, 990 phones):
/// at 25 ms the phones' wake-ups took enough CPU to hold calls back (call p99 54 ms).
pub const TICKETS_GAP: Duration = Duration::from_millis(100);

/// The tickets view reads the centre's whole day at least this often, whatever the changes
/// told (a ticket linked to a dossier inside intake's group commit is not told at once).
pub const FULL_READ: Duration = Duration::from_secs(5);

/// What a stream receives: the latest view (`None` until the first build, or when the
/// last build failed).
pub type View<T> = watch::Receiver<Option<Arc<T>>>;

/// Where a view's task publishes it.
type Publish<T> = Arc<watch::Sender<Option<Arc<T>>>>;

/// One kind of view, per centre followed.
pub struct Followed<T> {
    followed: Mutex<HashMap<String, Publish<T>>>,
}

impl<T> Default for Followed<T> {
    fn default() -> Self {
        Followed {
            followed: Mutex::new(HashMap::new()),
        }
    }
}

/// The places in line of a centre's tickets of the day, by their public token. A ticket
/// that did not change since the previous build is the same `Arc`, so that a phone's stream
/// sees at a pointer's cost that its ticket did not move.
pub type Tickets = HashMap<String, Arc<PublicTicket>>;

/// The live views of every centre this node's streams follow.
#[derive(Default)]
pub struct Live {
    /// The display boards.
    boards: Followed<Board>,
    /// The tickets' phone pages.
    tickets: Followed<Tickets>,
}

/// What changed in a centre's queue since a view was last built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Anything may have: read it all.
    Everything,
    /// These tickets (ids) and nothing else.
    Tickets(HashSet<i64>),
}

impl Changed {
    fn nothing() -> Self {
        Changed::Tickets(HashSet::new())
    }

    /// Adds `change` if it concerns `centre`; whether it did.
    fn add(&mut self, centre: &str, change: &QueueChange) -> bool {
        match (&change.centre, change.ticket) {
            (Some(c), _) if c != centre => false,
            (Some(_), Some(id)) => {
                if let Changed::Tickets(ids) = self {
                    ids.insert(id);
                }
                true
            }
            _ => {
                *self = Changed::Everything;
                true
            }
        }
    }
}

/// How a view is built for a centre, given the view built before (if any) and what changed
/// since.
type Build<T> = Arc<dyn Fn(AppState, Option<Arc<T>>, Changed) -> BoxFuture<'static, Result<T, AppError>> + Send + Sync>;

/// The board of kiosk `k`'s centre, as it changes.
pub fn board(state: &AppState, k: &Kiosk) -> View<Board> {
    let kiosk = k.clone();
    follow(
        state,
        |live| &live.boards,
        &k.centre_code,
        BOARD_GAP,
        Arc::new(move |state, _, _| {
            let kiosk = kiosk.clone();
            Box::pin(async move { board::board(&state, &kiosk).await })
        }),
    )
}

/// The places in line of `centre`'s tickets of the day, as they change.
pub fn tickets(state: &AppState, centre: &str) -> View<Tickets> {
    let code = centre.to_owned();
    // The day's tickets as last read, kept between builds by the view's one task.
    let kept: Arc<Mutex<Option<Day>>> = Arc::default();
    follow(
        state,
        |live| &live.tickets,
        centre,
        TICKETS_GAP,
        Arc::new(move |state, before: Option<Arc<Tickets>>, changed| {
            let code = code.clone();
            let kept = kept.clone();
            Box::pin(async move {
                // Taken out while building: a failed build leaves nothing, and the next
                // reads the whole day.
                let day = kept.lock().expect("kept tickets").take();
                // One snapshot for the tickets and the names they show.
                let mut tx = state.db.begin_read().await?;
                let (day, reread) = read_day(&state, &mut tx, &code, day, changed).await?;
                let out = tickets_of(&state, &mut tx, &code, &day, &reread, before.as_deref()).await;
                *kept.lock().expect("kept tickets") = Some(day);
                out
            })
        }),
    )
}

/// A centre's tickets of one day, by id, and when the whole day was last read.
struct Day {
    day: String,
    tickets: BTreeMap<i64, Ticket>,
    read_at: tokio::time::Instant,
}

/// The tickets read again by a build: `None` when it read the whole day.
type Reread = Option<HashSet<i64>>;

/// `kept` brought up to date with `changed`: only the changed tickets read again, or the
/// whole of today (see the module documentation).
async fn read_day(
    state: &AppState,
    tx: &mut Tx,
    centre: &str,
    kept: Option<Day>,
    changed: Changed,
) -> Result<(Day, Reread), AppError> {
    let today = day_of(state.clock.now());
    match (kept, changed) {
        (Some(mut d), Changed::Tickets(ids)) if d.day == today && d.read_at.elapsed() < FULL_READ => {
            let ids: Vec<i64> = ids.into_iter().collect();
            for t in store::tickets_of_day_by_id(tx, centre, &today, &ids).await? {
                d.tickets.insert(t.id, t);
            }
            Ok((d, Some(ids.into_iter().collect())))
        }
        _ => {
            let read_at = tokio::time::Instant::now();
            let all = store::tickets_of_day(tx, centre, &today).await?;
            let tickets = all.into_iter().map(|t| (t.id, t)).collect();
            Ok((
                Day {
                    day: today,
                    tickets,
                    read_at,
                },
                None,
            ))
        }
    }
}

/// The view of `centre` that `pick` names: the one being kept, or a new one with its task,
/// built at most once per `gap`.
fn follow<T: Send + Sync + 'static>(
    state: &AppState,
    pick: fn(&Live) -> &Followed<T>,
    centre: &str,
    gap: Duration,
    build: Build<T>,
) -> View<T> {
    let mut followed = pick(&state.queue_live).followed.lock().expect("live views");
    if let Some(sender) = followed.get(centre) {
        return sender.subscribe();
    }
    let (sender, view) = watch::channel(None);
    let sender = Arc::new(sender);
    followed.insert(centre.to_owned(), sender.clone());
    // Subscribed before the first build, so no change after it is missed.
    let changes = state.queue_events.subscribe();
    tokio::spawn(keep(
        state.clone(),
        pick,
        centre.to_owned(),
        gap,
        sender,
        build,
        changes,
    ));
    view
}

/// Builds the view again after every change of `centre`'s queue until nobody follows it.
async fn keep<T: Send + Sync + 'static>(
    state: AppState,
    pick: fn(&Live) -> &Followed<T>,
    centre: String,
    gap: Duration,
    sender: Publish<T>,
    build: Build<T>,
    mut changes: tokio::sync::broadcast::Receiver<QueueChange>,
) {
    let mut changed = Changed::Everything;
    loop {
        let started = tokio::time::Instant::now();
        let before = sender.borrow().clone();
        let view = match build(
            state.clone(),
            before,
            std::mem::replace(&mut changed, Changed::nothing()),
        )
        .await
        {
            Ok(view) => Some(Arc::new(view)),
            Err(e) => {
                tracing::warn!(error = %e, centre = %centre, "live queue view not built");
                None
            }
        };
        sender.send_replace(view);
        loop {
            match changes.recv().await {
                Ok(c) if changed.add(&centre, &c) => break,
                Ok(_) => {}
                // Missed some: build anyway, from scratch.
                Err(RecvError::Lagged(_)) => {
                    changed = Changed::Everything;
                    break;
                }
                Err(RecvError::Closed) => return,
            }
        }
        tokio::time::sleep_until(started + gap).await;
        // What came meanwhile is in the next build.
        loop {
            match changes.try_recv() {
                Ok(c) => {
                    changed.add(&centre, &c);
                }
                Err(TryRecvError::Lagged(_)) => changed = Changed::Everything,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        // Nobody follows any more: stop (under the lock, so that nobody subscribes to a
        // view about to stop).
        let mut followed = pick(&state.queue_live).followed.lock().expect("live views");
        if sender.receiver_count() == 0 {
            followed.remove(&centre);
            return;
        }
    }
}

/// Every ticket of `day` with its place in line and estimated wait, as
/// [`super::queue::public_ticket`] gives them one at a time (places by
/// `core::queue::places`, estimates from each group's latest calls). A ticket that is not
/// in `reread` and whose place and estimate did not move keeps its `Arc` from `before`
/// without being drawn again.
async fn tickets_of(
    state: &AppState,
    tx: &mut Tx,
    centre: &str,
    day: &Day,
    reread: &Reread,
    before: Option<&Tickets>,
) -> Result<Tickets, AppError> {
    let all: Vec<&Ticket> = day.tickets.values().collect();
    let Some(first) = all.first() else {
        return Ok(Tickets::new());
    };
    let groups: HashMap<i64, String> = store::groups(tx, centre)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let counters: HashMap<i64, i64> = store::counters(tx, centre)
        .await?
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    let province = ProvinceCode::parse(&first.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let (_, centre_name) = centre_of(state, &province, Some(centre)).await?;

    // Each group's waiting tickets (indices into `all`) and its calls, latest first.
    let mut waiting: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut calls: HashMap<i64, Vec<i64>> = HashMap::new();
    for (i, t) in all.iter().enumerate() {
        if t.state() == Some(TicketState::Waiting) {
            waiting.entry(t.group_id).or_default().push(i);
        }
        if let Some(at) = t.called_at {
            calls.entry(t.group_id).or_default().push(at);
        }
    }
    for c in calls.values_mut() {
        c.sort_unstable_by(|a, b| b.cmp(a));
        c.truncate(rules::ESTIMATE_CALLS);
    }
    let mut ahead = vec![0; all.len()];
    for line in waiting.values() {
        let keys: Vec<(i64, i64)> = line.iter().map(|&i| (all[i].taken_at, all[i].id)).collect();
        for (place, &i) in rules::places(&keys).into_iter().zip(line) {
            ahead[i] = place;
        }
    }
    let mut out = Tickets::with_capacity(all.len());
    for (t, ahead) in all.iter().zip(ahead) {
        let is_waiting = t.state() == Some(TicketState::Waiting);
        let ahead = if is_waiting { ahead } else { 0 };
        let group_calls = calls.get(&t.group_id).map_or(&[][..], Vec::as_slice);
        let estimate = if is_waiting {
            rules::estimated_wait_minutes(ahead, group_calls)
        } else {
            None
        };
        let old = before.and_then(|b| b.get(&t.public_token));
        let unread = reread.as_ref().is_some_and(|ids| !ids.contains(&t.id));
        if let Some(old) = old.filter(|o| unread && o.ahead == ahead && o.estimated_wait_minutes == estimate) {
            out.insert(t.public_token.clone(), old.clone());
            continue;
        }
        let group_name = groups.get(&t.group_id).cloned().unwrap_or_default();
        let counter = t.counter_id.and_then(|id| counters.get(&id).copied());
        let now = PublicTicket {
            ticket: view_of(t, group_name, counter),
            centre_name: centre_name.clone(),
            ahead,
            estimated_wait_minutes: estimate,
            centre_code: t.centre_code.clone(),
        };
        // Drawn again but the same: the same `Arc`, so that its phone sees nothing new.
        let shown = match old.filter(|o| ***o == now) {
            Some(o) => o.clone(),
            None => Arc::new(now),
        };
        out.insert(t.public_token.clone(), shown);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{Changed, QueueChange};

    #[test]
    fn changes_gather_the_tickets_of_their_centre() {
        let mut c = Changed::nothing();
        assert!(c.add("A", &QueueChange::ticket("A", 1)));
        assert!(!c.add("A", &QueueChange::ticket("B", 2)));
        assert!(c.add("A", &QueueChange::ticket("A", 3)));
        assert_eq!(c, Changed::Tickets([1, 3].into_iter().collect()));
        // A change not about one ticket, or about every centre, reads everything.
        let mut whole = Changed::nothing();
        let centre_only = QueueChange {
            centre: Some("A".to_owned()),
            ticket: None,
        };
        assert!(whole.add("A", &centre_only));
        assert_eq!(whole, Changed::Everything);
        let mut any = c.clone();
        assert!(any.add("A", &QueueChange::everything()));
        assert_eq!(any, Changed::Everything);
        // Once everything, more tickets change nothing.
        assert!(any.add("A", &QueueChange::ticket("A", 9)));
        assert_eq!(any, Changed::Everything);
    }
}
