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
use futures_util::future::BoxFuture;
use futures_util::stream::{self, Stream};
use motcua_store::queue::Kiosk;
use tokio::sync::broadcast::error::RecvError;

use super::form::PreSessionForm;
use super::page;
use super::queue::{DeviceCookie, activated, device_of};
use crate::error::AppError;
use crate::service::board::{self, Board};
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
}

/// `GET /bang-hien-thi`: the board (a device without a token is sent to be activated).
async fn board_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some(k) = device(&state, &headers).await? else {
        return Ok(Redirect::to("/bang-hien-thi/kich-hoat").into_response());
    };
    Ok(page(&BoardPage {
        b: board::board(&state, &k).await?,
    }))
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

/// The board as an event named `board` (its JSON).
async fn board_event(state: &AppState, k: &Kiosk) -> Event {
    match board::board(state, k).await {
        Ok(b) => Event::default()
            .event("board")
            .json_data(&b)
            .unwrap_or_else(|_| Event::default().comment("unserialisable board")),
        Err(e) => {
            tracing::warn!(error = %e, "display board not read");
            Event::default().comment("board not read")
        }
    }
}

/// `GET /bang-hien-thi/su-kien`: the board now, then again after every change of the
/// centre's queue (changes that come together are sent once), with a keep-alive comment
/// every 15 seconds. A device whose token was revoked gets 401.
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let Some(k) = device(&state, &headers).await? else {
        return Err(AppError::Unauthorized("Thiết bị chưa được cấp mã hoặc mã đã bị thu hồi.".to_owned()).into());
    };
    let centre = k.centre_code.clone();
    Ok(follow(state, centre, move |state| {
        let k = k.clone();
        Box::pin(async move { board_event(&state, &k).await })
    }))
}

/// An event stream that sends `render`'s event at once and again after every change of
/// `centre`'s queue (changes that come together are sent once; a receiver that lagged
/// behind gets the event anyway, since each one is a whole snapshot), with a keep-alive
/// comment every 15 seconds. What the board and a ticket's phone page follow.
pub(super) fn follow(
    state: AppState,
    centre: String,
    render: impl Fn(AppState) -> BoxFuture<'static, Event> + Send + Sync + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.queue_events.subscribe();
    let stream = stream::unfold((state, rx, true, render), move |(state, mut rx, first, render)| {
        let centre = centre.clone();
        async move {
            if !first {
                loop {
                    match rx.recv().await {
                        Ok(c) if c == centre => break,
                        Ok(_) => {}
                        // Missed some: the snapshot is sent whole anyway.
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return None,
                    }
                }
                // Coalesce what came with it.
                while rx.try_recv().is_ok() {}
            }
            let event = render(state.clone()).await;
            Some((Ok(event), (state, rx, false, render)))
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
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
