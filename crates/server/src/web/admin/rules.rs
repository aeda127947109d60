//! `/quan-tri/quy-dinh`: the rule versions (docs/rules.md §9): each with the legal texts it
//! comes from and the day it takes effect, the one in force today marked, its indices,
//! service index sub-criteria, forms and status labels; and the form that loads a new
//! version from a file. The browser posts the file itself (multipart); the load goes
//! through `crate::service::rules::load`, as the API's does.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use motcua_core::rules::RuleSet;
use serde::Deserialize;

use super::{Admin, SignedIn};
use crate::error::AppError;
use crate::service::rules::{self as service, Version};
use crate::state::AppState;
use crate::web::form::{self, Problems, page_with_status};
use crate::web::pages::PageError;
use crate::web::{Frame, page};

/// The address of the page.
const PATH: &str = "/quan-tri/quy-dinh";

/// The routes of this page.
pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(show).post(load))
}

/// A version with its content, as the page lists it.
struct Entry {
    v: Version,
    set: RuleSet,
}

#[derive(Template)]
#[template(path = "admin/rules.html")]
struct RulesPage {
    frame: Frame,
    entries: Vec<Entry>,
    problems: Problems,
    loaded: String,
}

/// `?da-nap=`: the version just loaded, announced once.
#[derive(Debug, Default, Deserialize)]
struct Shown {
    #[serde(rename = "da-nap")]
    loaded: Option<String>,
}

async fn rules_page(
    state: &AppState,
    frame: Frame,
    problems: Problems,
    loaded: String,
) -> Result<RulesPage, PageError> {
    let book = service::book(state).await?;
    let entries = service::versions(state)
        .await?
        .into_iter()
        .rev()
        .filter_map(|v| book.version(&v.version).cloned().map(|set| Entry { v, set }))
        .collect();
    Ok(RulesPage {
        frame,
        entries,
        problems,
        loaded,
    })
}

/// `GET /quan-tri/quy-dinh` (system administrators).
async fn show(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<Shown>,
) -> Result<Response, PageError> {
    let a = Admin::system(state, p).await?;
    let frame = a.frame().await?;
    let loaded = q.loaded.unwrap_or_default();
    Ok(page(&rules_page(&a.state, frame, Problems::default(), loaded).await?))
}

/// `POST /quan-tri/quy-dinh`: a rule file sent by the page's form (its `file` input).
/// Loaded, it is announced on the page; refused, the page comes back with every problem.
async fn load(State(state): State<AppState>, mut parts: Parts, body: Bytes) -> Result<Response, PageError> {
    let form = form::parse(&parts.headers, &body)?;
    let p = match form::principal(&state, &mut parts, &form).await {
        Ok(p) => p,
        Err(e) => return Ok(form::failed(e, PATH)),
    };
    let text = match form.files.iter().find(|f| f.field == "file") {
        None => Err(AppError::bad(
            "invalid_field",
            "file",
            "Hãy chọn tệp quy định (JSON) để nạp.",
        )),
        Some(f) => std::str::from_utf8(&f.bytes)
            .map_err(|_| AppError::bad("invalid_body", "file", "Tệp quy định phải là văn bản UTF-8.")),
    };
    let loaded = match text {
        Ok(text) => service::load(&state, &p, text).await,
        Err(e) => Err(e),
    };
    match loaded {
        Ok(v) => {
            let version = form_urlencoded::byte_serialize(v.version.as_bytes()).collect::<String>();
            Ok(Redirect::to(&format!("{PATH}?da-nap={version}")).into_response())
        }
        Err(e) => refused(&state, &p, e).await,
    }
}

/// The page again with the problems of a refused file (a refusal of the person itself,
/// such as a missing right, is the error page).
async fn refused(state: &AppState, p: &crate::auth::Principal, e: AppError) -> Result<Response, PageError> {
    let status = match &e {
        AppError::Fields { .. } | AppError::Invalid(_) | AppError::BadRequest { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => return Err(e.into()),
    };
    let mut problems = Problems::of(&e);
    if problems.items.is_empty() {
        problems.items.push(form::Problem {
            field: "file".to_owned(),
            message: e.to_string(),
            anchor: "rules-file".to_owned(),
        });
    }
    for item in &mut problems.items {
        item.anchor = "rules-file".to_owned();
    }
    let frame = Frame::new(state, Some(p)).await?;
    Ok(page_with_status(
        &rules_page(state, frame, problems, String::new()).await?,
        status,
    ))
}
