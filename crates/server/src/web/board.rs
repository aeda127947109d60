//! The hall's display board (issue 21 item 6): a page for the TV (`/bang-hien-thi`), no
//! login — it holds a device token an administrator issues (the same kind as a kiosk's, in
//! its own cookie limited to `/bang-hien-thi`). It shows the current calls (ticket →
//! counter), the last calls and the waiting count per group, and follows a server-sent
//! event stream (`/bang-hien-thi/su-kien`) that sends the board again whenever the
//! centre's queue changes on any node; the page's script announces each new call in
//! Vietnamese through the browser's speech synthesis, or with a chime when the browser has
//! no Vietnamese voice. Without a script the page shows the board and reloads itself.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use motcua_store::queue::Kiosk;

use super::form::PreSessionForm;
use super::page;
use super::queue::{DeviceCookie, activated, device_of};
use crate::error::AppError;
use crate::service::board::Board;
use crate::service::queue_live;
use crate::state::AppState;
use crate::web::pages::PageError;

/// The cookie a board keeps its device token in.
const BOARD_COOKIE: &str = "motcua_board";

/// The routes of the board.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bang-hien-thi", get(board_page))
        .route("/bang-hien-thi/kich-hoat", get(activate_page).post(activate))
        .route("/bang-hien-thi/su-kien", get(events))
        .route("/bang-hien-thi/board.js", get(script))
        .route("/bang-hien-thi/board.css", get(style))
}

/// The board's cookie.
const BOARD: DeviceCookie = DeviceCookie {
    name: BOARD_COOKIE,
    path: "/bang-hien-thi",
};

async fn device(state: &AppState, headers: &HeaderMap) -> Result<Option<Kiosk>, AppError> {
    device_of(state, headers, &BOARD).await
}

#[derive(Template)]
#[template(path = "queue/board.html")]
struct BoardPage {
    b: Board,
    /// The QR code of the portal's page with the centre's code of the day.
    hall_qr: String,
}

impl BoardPage {
    /// The portal's page, to type.
    fn portal(&self) -> &str {
        super::queue::portal_address(&self.b.hall)
    }
}

/// `GET /bang-hien-thi`: the board (a device without a token is sent to be activated).
async fn board_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some(k) = device(&state, &headers).await? else {
        return Ok(Redirect::to("/bang-hien-thi/kich-hoat").into_response());
    };
    let b = crate::service::board::board(&state, &k).await?;
    let hall_qr = motcua_pdf::qr_svg(&b.hall.url).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(page(&BoardPage { b, hall_qr }))
}

#[derive(Template)]
#[template(path = "queue/board-activate.html")]
struct ActivatePage {
    error: String,
}

/// `GET /bang-hien-thi/kich-hoat`: where an administrator types the device token.
async fn activate_page() -> Response {
    page(&ActivatePage { error: String::new() })
}

/// `POST /bang-hien-thi/kich-hoat` (`ma`): checks the token and keeps it in the board's
/// cookie (HttpOnly, SameSite=Strict, only sent to `/bang-hien-thi`).
async fn activate(State(state): State<AppState>, form: PreSessionForm) -> Result<Response, PageError> {
    Ok(activated(&state, &form.form.text("ma"), &BOARD)
        .await?
        .unwrap_or_else(|| {
            page(&ActivatePage {
                error: "Mã thiết bị không đúng hoặc đã bị thu hồi.".to_owned(),
            })
        }))
}

/// What a board stream shows of a board: the current calls (a new call is sent at once)
/// and the board's JSON.
fn board_shown(b: &Board) -> Option<Shown<Vec<(String, i64, i64)>>> {
    let calls = b
        .current
        .iter()
        .map(|c| (c.number.clone(), c.counter, c.called_at))
        .collect();
    Some((calls, serde_json::to_string(b).ok()?))
}

/// `GET /bang-hien-thi/su-kien`: the board now, then again after every change of the
/// centre's queue (a new call at once, other changes at most four times a second), with a
/// keep-alive comment every 15 seconds. A device whose token was revoked gets 401.
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let Some(k) = device(&state, &headers).await? else {
        return Err(AppError::Unauthorized("Thiết bị chưa được cấp mã hoặc mã đã bị thu hồi.".to_owned()).into());
    };
    let view = queue_live::board(&state, &k);
    Ok(follow(view, "board", None, Duration::from_millis(250), board_shown))
}

/// What a stream shows of a view: a key whose change is sent at once (a call), and the
/// event's JSON.
pub(super) type Shown<K> = (K, String);

/// A stream follows a view (`service::queue_live`: built once per change of the centre's
/// queue and shared by every stream) and sends events named `name`: `first` at once when
/// given, then what `look` shows of each new view, unless it is what was sent last. A
/// change of the key is sent at once; any other change at most once per `calm` (the
/// latest then), so that a thousand phones watching their place in line do not each get
/// every step of it. A keep-alive comment every 15 seconds. What the board and a ticket's
/// phone page follow.
pub(super) fn follow<T, K>(
    view: queue_live::View<T>,
    name: &'static str,
    first: Option<Shown<K>>,
    calm: Duration,
    look: impl FnMut(&T) -> Option<Shown<K>> + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    T: Send + Sync + 'static,
    K: PartialEq + Send + 'static,
{
    let follower = Follower {
        view,
        look,
        first,
        fresh: true,
        last: None,
        sent_at: tokio::time::Instant::now(),
        pending: None,
    };
    let stream = stream::unfold(follower, move |mut f| async move {
        let shown = f.next(calm).await?;
        let event = Event::default().event(name).data(shown.1.clone());
        f.last = Some(shown);
        f.sent_at = tokio::time::Instant::now();
        Some((Ok(event), f))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A stream's state: the view, what it sent last and when, and a change held back.
struct Follower<T, K, L> {
    view: queue_live::View<T>,
    look: L,
    first: Option<Shown<K>>,
    /// Not yet looked at the view current when the stream opened.
    fresh: bool,
    last: Option<Shown<K>>,
    sent_at: tokio::time::Instant,
    pending: Option<Shown<K>>,
}

impl<T, K: PartialEq, L: FnMut(&T) -> Option<Shown<K>>> Follower<T, K, L> {
    /// What to send next; `None` once the view is gone.
    async fn next(&mut self, calm: Duration) -> Option<Shown<K>> {
        if let Some(first) = self.first.take() {
            // The first event told what the view current at opening tells.
            self.fresh = false;
            return Some(first);
        }
        loop {
            if self.fresh {
                self.fresh = false;
            } else if let Some(held) = self.pending.take() {
                tokio::select! {
                    changed = self.view.changed() => {
                        changed.ok()?;
                    }
                    () = tokio::time::sleep_until(self.sent_at + calm) => return Some(held),
                }
            } else {
                self.view.changed().await.ok()?;
            }
            let latest = self.view.borrow_and_update().clone();
            let Some(shown) = latest.as_deref().and_then(&mut self.look) else {
                continue;
            };
            match &self.last {
                Some((_, json)) if *json == shown.1 => {}
                Some((key, _)) if *key == shown.0 && self.sent_at.elapsed() < calm => self.pending = Some(shown),
                _ => return Some(shown),
            }
        }
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /bang-hien-thi/board.js`: follows the events, redraws, announces.
async fn script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/board.js"))
}

/// `GET /bang-hien-thi/board.css`: large type, high contrast, readable across a hall.
async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../static/board.css"))
}
