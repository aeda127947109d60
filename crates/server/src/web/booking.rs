//! Booking a queue number online, as pages that work without a script: choose a group and
//! a working day, then a slot with places left (`/dat-lich`); the booking with its code and
//! QR (`/dat-lich/{code}`), to show at the kiosk; one's bookings and their cancellation
//! (`/dat-lich/cua-toi`). The kiosk's check-in of a code is in [`super::queue`].

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::form::{self, FormData};
use super::{Frame, SignedIn, Viewer, login_url, page};
use crate::error::AppError;
use crate::service::booking::{self, BookingOffer, BookingView, NewBooking, OfferGroup, SlotView};
use crate::service::queue::CentreParam;
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of the booking pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dat-lich", get(choose_page).post(book))
        .route("/dat-lich/cua-toi", get(mine_page))
        .route("/dat-lich/{code}", get(booking_page))
        .route("/dat-lich/{code}/huy", post(cancel))
}

/// The group and day chosen so far.
#[derive(Debug, Default, Deserialize)]
struct Choice {
    /// The group's id.
    nhom: Option<i64>,
    /// The day, `YYYY-MM-DD`.
    ngay: Option<String>,
}

#[derive(Template)]
#[template(path = "queue/booking.html")]
struct ChoosePage {
    frame: Frame,
    offer: BookingOffer,
    group: Option<OfferGroup>,
    day: String,
    slots: Vec<SlotView>,
    error: String,
    login: String,
}

impl ChoosePage {
    fn day_label(&self, day: &str) -> String {
        let parts: Vec<&str> = day.split('-').collect();
        match parts.as_slice() {
            [y, m, d] => format!("{d}/{m}/{y}"),
            _ => day.to_owned(),
        }
    }
}

async fn choose_view(
    state: &AppState,
    viewer: Option<&crate::auth::Principal>,
    choice: &Choice,
    error: String,
) -> Result<ChoosePage, PageError> {
    let at = CentreParam::default();
    let offer = booking::offer(state, &at).await?;
    let group = choice
        .nhom
        .and_then(|id| offer.groups.iter().find(|g| g.id == id).cloned());
    let day = choice
        .ngay
        .clone()
        .filter(|d| offer.days.contains(d))
        .unwrap_or_default();
    let slots = match (&group, day.is_empty()) {
        (Some(g), false) => booking::slots(state, &at, g.id, &day).await?,
        _ => Vec::new(),
    };
    let back = match (&group, day.is_empty()) {
        (Some(g), false) => format!("/dat-lich?nhom={}&ngay={day}", g.id),
        _ => "/dat-lich".to_owned(),
    };
    Ok(ChoosePage {
        frame: Frame::new(state, viewer).await?,
        offer,
        group,
        day,
        slots,
        error,
        login: login_url(&back),
    })
}

/// `GET /dat-lich?nhom=&ngay=`: the groups and days one may book, then the slots of the
/// chosen group and day (anyone may look; booking needs signing in).
async fn choose_page(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Query(choice): Query<Choice>,
) -> Result<Response, PageError> {
    Ok(page(&choose_view(&state, v.as_ref(), &choice, String::new()).await?))
}

/// `POST /dat-lich` (`nhom`, `ngay`, `gio`): books the slot and shows the booking; a full
/// slot or the daily limit shows the choice again with the reason.
async fn book(State(state): State<AppState>, mut parts: Parts, body: Bytes) -> Result<Response, PageError> {
    let form = form::parse(&parts.headers, &body)?;
    let p = match form::principal(&state, &mut parts, &form).await {
        Ok(p) => p,
        Err(e) => return Ok(form::failed(e, "/dat-lich")),
    };
    let choice = Choice {
        nhom: form.text("nhom").parse().ok(),
        ngay: Some(form.text("ngay")),
    };
    let req = NewBooking {
        centre: None,
        group: choice.nhom.unwrap_or_default(),
        day: form.text("ngay"),
        start: form.text("gio"),
    };
    match booking::book(&state, &p, req).await {
        Ok(b) => Ok(Redirect::to(&format!("/dat-lich/{}", b.code)).into_response()),
        Err(e @ (AppError::BadRequest { .. } | AppError::Conflict(_))) => {
            let status = if matches!(e, AppError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            let view = choose_view(&state, Some(&p), &choice, e.to_string()).await?;
            Ok((status, page(&view)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "queue/booked.html")]
struct BookingPage {
    frame: Frame,
    b: BookingView,
    qr: String,
    error: String,
}

async fn booking_view(
    state: &AppState,
    p: &crate::auth::Principal,
    code: &str,
    error: String,
) -> Result<BookingPage, PageError> {
    let b = booking::get(state, p, code).await?;
    let qr = motcua_pdf::qr_svg(&b.code).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(BookingPage {
        frame: Frame::new(state, Some(p)).await?,
        b,
        qr,
        error,
    })
}

/// `GET /dat-lich/{code}`: one's booking, its code and the QR code the kiosk reads.
async fn booking_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    Ok(page(&booking_view(&state, &p, &code, String::new()).await?))
}

/// `POST /dat-lich/{code}/huy`: cancels one's booking before its slot.
async fn cancel(
    State(state): State<AppState>,
    Path(code): Path<String>,
    mut parts: Parts,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: FormData = form::parse(&parts.headers, &body)?;
    let back = format!("/dat-lich/{code}");
    let p = match form::principal(&state, &mut parts, &form).await {
        Ok(p) => p,
        Err(e) => return Ok(form::failed(e, &back)),
    };
    match booking::cancel(&state, &p, &code).await {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(e @ AppError::Refused(_)) => {
            let view = booking_view(&state, &p, &code, e.to_string()).await?;
            Ok((StatusCode::CONFLICT, page(&view)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "queue/my-bookings.html")]
struct MinePage {
    frame: Frame,
    bookings: Vec<BookingView>,
}

/// `GET /dat-lich/cua-toi`: one's bookings from today on.
async fn mine_page(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    let bookings = booking::mine(&state, &p).await?;
    Ok(page(&MinePage {
        frame: Frame::new(&state, Some(&p)).await?,
        bookings,
    }))
}
