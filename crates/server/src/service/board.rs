//! The hall's display board (issue 21 item 6): the current calls (ticket → counter), the
//! last calls and the waiting count per group of a centre, and the events that tell a
//! board to look again. A change to a centre's queue is committed with a notification
//! (`motcua_store::changes::notify_queue`, PostgreSQL: every node's listener hears it) and
//! told at once to this node's boards (`AppState::queue_events`).

use motcua_core::codes::ProvinceCode;
use motcua_core::queue::TicketState;
use motcua_store::Tx;
use motcua_store::changes::QueueChange;
use motcua_store::queue::{self as store, Kiosk};
use serde::Serialize;
use utoipa::ToSchema;

use super::queue::{GroupView, HallCode, centre_of, day_of, hall_code};
use crate::error::AppError;
use crate::state::AppState;

/// How many calls the board lists under the current ones.
const LAST_CALLS: usize = 8;

/// Commits `tx`, which changed ticket `ticket` of `centre`'s queue, and tells the boards
/// and phone pages: every node's on PostgreSQL (the notification is delivered with the
/// commit), this node's at once.
pub(crate) async fn commit(state: &AppState, mut tx: Tx, centre: &str, ticket: i64) -> Result<(), AppError> {
    let change = QueueChange::ticket(centre, ticket);
    motcua_store::changes::notify_queue(&mut tx, &change).await?;
    tx.commit().await?;
    // No board listening is not an error.
    drop(state.queue_events.send(change));
    Ok(())
}

/// A call on the board.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Call {
    /// The ticket's id.
    pub id: i64,
    /// As printed (`A015`).
    pub number: String,
    /// The counter's number.
    pub counter: i64,
    /// Last called (epoch ms): a recall calls again.
    pub called_at: i64,
    /// Recalls since the first call.
    pub recalls: i64,
    /// What the board says: «Mời công dân có số thứ tự A015 đến quầy số 3».
    pub announcement: String,
}

/// What a centre's display board shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    /// The centre's name.
    pub centre_name: String,
    /// The tickets called and not yet finished, newest first, one per counter.
    pub current: Vec<Call>,
    /// The calls before them, newest first.
    pub last: Vec<Call>,
    /// The active groups and how many wait in each.
    pub waiting: Vec<GroupView>,
    /// The centre's code of the day, for taking a ticket on a phone in the hall.
    pub hall: HallCode,
}

/// The words a call is announced with.
pub fn announcement(number: &str, counter: i64) -> String {
    format!("Mời công dân có số thứ tự {number} đến quầy số {counter}")
}

/// The board of kiosk (device) `k`'s centre now.
pub async fn board(state: &AppState, k: &Kiosk) -> Result<Board, AppError> {
    let province = ProvinceCode::parse(&k.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let (_, centre_name) = centre_of(state, &province, Some(&k.centre_code)).await?;
    let day = day_of(state.clock.now());
    let mut tx = state.db.begin_read().await?;
    let counts = store::waiting_counts(&mut tx, &k.centre_code, &day).await?;
    let waiting = store::groups(&mut tx, &k.centre_code)
        .await?
        .iter()
        .filter(|g| g.active)
        .map(|g| GroupView::of(g, &counts))
        .collect();
    // Enough rows for one current call per counter and the last calls under them.
    let calls = store::recent_calls(&mut tx, &k.centre_code, &day, 200).await?;
    drop(tx);
    let mut current: Vec<Call> = Vec::new();
    let mut last = Vec::new();
    for c in calls {
        let call = Call {
            id: c.id,
            announcement: announcement(&c.number, c.counter),
            number: c.number,
            counter: c.counter,
            called_at: c.called_at,
            recalls: c.recalls,
        };
        let live = matches!(
            TicketState::parse(&c.state),
            Some(TicketState::Called | TicketState::Serving)
        );
        if live && !current.iter().any(|x| x.counter == call.counter) {
            current.push(call);
        } else if last.len() < LAST_CALLS {
            last.push(call);
        }
    }
    Ok(Board {
        centre_name,
        current,
        last,
        waiting,
        hall: hall_code(state, &k.centre_code).await?,
    })
}
