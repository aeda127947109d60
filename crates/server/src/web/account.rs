//! Signing in and out, and changing one's password: the pages in front of every area.
//!
//! With the page's script running, the forms call the JSON API; without it the browser
//! posts them here (`POST /dang-nhap`, `/dang-xuat`, `/doi-mat-khau`), and these routes
//! call the same functions, answer with a redirect on success and send the form back
//! with the message otherwise.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::form::{self, FormData, PreSessionForm, page_with_status, redirect_setting_session};
use super::{Frame, SignedIn, Viewer, home_of, page, safe_next};
use crate::auth::{self, ClientIp, Principal};
use crate::error::AppError;
use crate::service::accounts;
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dang-nhap", get(login).post(login_submit))
        .route("/dang-xuat", post(logout_submit))
        .route("/sau-dang-nhap", get(after_login))
        .route("/doi-mat-khau", get(password).post(password_submit))
        .route(form::NEEDS_SCRIPT, post(form::needs_script))
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
    /// Where the script goes once signed in (`/sau-dang-nhap?next=…`).
    next: String,
    /// The page asked for, posted back with the form when the script is not running.
    back: String,
    /// The name typed, when the form comes back with an error (never the password).
    username: String,
    error: String,
    oidc: bool,
}

/// Where a person goes once signed in: `/sau-dang-nhap`, which sends them on to `next`
/// (a path of this site) or to the home of their first area.
fn after_login_url(next: Option<&str>) -> String {
    format!(
        "/sau-dang-nhap{}",
        next.map(|n| format!("?next={}", super::encode(n))).unwrap_or_default()
    )
}

async fn login_page(
    state: &AppState,
    next: Option<String>,
    username: String,
    error: String,
) -> Result<LoginPage, PageError> {
    Ok(LoginPage {
        frame: Frame::new(state, None).await?,
        next: after_login_url(next.as_deref()),
        back: next.unwrap_or_default(),
        username,
        error,
        oidc: !state.config.oidc_issuer.is_empty(),
    })
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
    Ok(page(&login_page(&state, next, String::new(), String::new()).await?))
}

/// `POST /dang-nhap`: the login form sent by the browser itself. Signs in through the
/// API's login (same checks, rate limit, lock-out, audit record and session cookie), then
/// goes on as the script would; a refusal sends the form back with its message and the
/// name typed.
pub async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PreSessionForm { form, user_agent }: PreSessionForm,
) -> Result<Response, PageError> {
    let next = safe_next(form.get("next"));
    let username = form.text("username");
    let password = form.text("password");
    match accounts::login(&state, &ip, &user_agent, &username, &password).await {
        Ok(signed_in) => Ok(redirect_setting_session(
            &state,
            &after_login_url(next.as_deref()),
            &signed_in,
        )?),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            let page_data = login_page(&state, next, username, message).await?;
            Ok(page_with_status(&page_data, status))
        }
    }
}

/// `POST /dang-xuat`: the logout button sent by the browser itself. Checked like every
/// form of a session (cookie and CSRF token), then the API's logout ends the session.
/// A session already gone leaves nothing to end: the cookie is cleared all the same.
pub async fn logout_submit(
    State(state): State<AppState>,
    mut parts: Parts,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = form::parse(&parts.headers, &body)?;
    let principal = match form::principal(&state, &mut parts, &form).await {
        Ok(p) => Some(p),
        Err(AppError::Unauthorized(_)) => None,
        Err(e) => return Err(e.into()),
    };
    accounts::logout(&state, principal.as_ref()).await?;
    let mut to_home = Redirect::to("/").into_response();
    to_home
        .headers_mut()
        .insert(axum::http::header::SET_COOKIE, auth::clear_cookie(&state));
    Ok(to_home)
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
    error: String,
}

/// The password change form of `p`, going on to `next` afterwards.
async fn password_page(
    state: &AppState,
    p: &Principal,
    next: String,
    error: String,
) -> Result<PasswordPage, PageError> {
    Ok(PasswordPage {
        frame: Frame::new(state, Some(p)).await?,
        forced: p.user.as_ref().is_some_and(|u| u.must_change_password),
        next,
        error,
    })
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
    let next = safe_next(q.next.as_deref()).unwrap_or_else(|| home_of(&p).to_owned());
    Ok(page(&password_page(&state, &p, next, String::new()).await?))
}

/// `POST /doi-mat-khau`: the password change sent by the browser itself, through the API's
/// password change (same checks and audit record); then on to `next`. A refusal sends the
/// form back with its message (the passwords are never sent back).
pub async fn password_submit(
    State(state): State<AppState>,
    mut parts: Parts,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: FormData = form::parse(&parts.headers, &body)?;
    let p = match form::principal(&state, &mut parts, &form).await {
        Ok(p) => p,
        Err(e) => return Ok(form::failed(e, "/doi-mat-khau")),
    };
    let next = safe_next(form.get("next")).unwrap_or_else(|| home_of(&p).to_owned());
    let (current, new) = (form.text("current_password"), form.text("new_password"));
    match accounts::change_password(&state, &p, &current, &new).await {
        Ok(_) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            let page_data = password_page(&state, &p, next, message).await?;
            Ok(page_with_status(&page_data, status))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_login_keeps_the_page_asked_for() {
        assert_eq!(after_login_url(None), "/sau-dang-nhap");
        assert_eq!(
            after_login_url(Some("/quay?tab=hen")),
            "/sau-dang-nhap?next=%2Fquay%3Ftab%3Dhen"
        );
    }
}
