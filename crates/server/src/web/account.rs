//! Signing in and out, and changing one's password: the pages in front of every area.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Frame, SignedIn, Viewer, home_of, page, safe_next};
use crate::pages::PageError;
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dang-nhap", get(login))
        .route("/sau-dang-nhap", get(after_login))
        .route("/doi-mat-khau", get(password))
}

/// `?next=`: where to go afterwards.
#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    frame: Frame,
    next: String,
    oidc: bool,
}

/// `GET /dang-nhap`: the login form. Already signed in: straight on.
pub async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    if let Some(p) = &viewer.0 {
        return Ok(Redirect::to(&next.unwrap_or_else(|| home_of(p).to_owned())).into_response());
    }
    Ok(page(&LoginPage {
        frame: Frame::new(&state, None).await?,
        next: format!(
            "/sau-dang-nhap{}",
            next.map(|n| format!("?next={}", super::encode(&n))).unwrap_or_default()
        ),
        oidc: !state.config.oidc_issuer.is_empty(),
    }))
}

/// `GET /sau-dang-nhap`: where the login form goes once the session exists: the page
/// asked for, or the home of the person's first area.
pub async fn after_login(SignedIn(p): SignedIn, Query(q): Query<Next>) -> Response {
    let to = safe_next(q.next.as_deref()).unwrap_or_else(|| home_of(&p).to_owned());
    Redirect::to(&to).into_response()
}

#[derive(Template)]
#[template(path = "web/password.html")]
struct PasswordPage {
    frame: Frame,
    forced: bool,
    next: String,
}

/// `GET /doi-mat-khau`: the password change form (also where a person who must change
/// their password is sent before anything else).
pub async fn password(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    let Some(p) = viewer.0 else {
        return Ok(Redirect::to(&super::login_url("/doi-mat-khau")).into_response());
    };
    let forced = p.user.as_ref().is_some_and(|u| u.must_change_password);
    let next = safe_next(q.next.as_deref()).unwrap_or_else(|| home_of(&p).to_owned());
    Ok(page(&PasswordPage {
        frame: Frame::new(&state, Some(&p)).await?,
        forced,
        next,
    }))
}
