//! Satisfaction ratings (DOMAIN.md §6, issue 8 item 3): once the result of a dossier is
//! ready or returned, its applicant rates the service — very satisfied, satisfied or not
//! satisfied, with an optional comment.
//!
//! One rating per dossier: a second one is refused (409) rather than replacing the first,
//! so the figures per officer and per counter cannot be steered by re-rating, and what a
//! director reads in the "not satisfied" list stays what the citizen first said. Only the
//! dossier's owner rates it online; staff are refused (403). The officer and the counter
//! that handed the result over (the `return` event) are recorded with the rating when
//! known, for the per-officer and per-counter results.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use motcua_core::dossier::Status;
use motcua_store::accounts::UserKind;
use motcua_store::{dossiers, ratings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::dossiers::load_visible;
use super::extract::ApiJson;
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 1_000;

/// How satisfied the applicant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    NotSatisfied,
}

impl Satisfaction {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::NotSatisfied => "not_satisfied",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Satisfaction::VerySatisfied,
            Satisfaction::Satisfied,
            Satisfaction::NotSatisfied,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Rất hài lòng",
            Satisfaction::Satisfied => "Hài lòng",
            Satisfaction::NotSatisfied => "Không hài lòng",
        }
    }
}

/// A rating to give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// `very_satisfied`, `satisfied` or `not_satisfied`.
    #[serde(default)]
    pub rating: Option<Satisfaction>,
    /// Optional comment, at most 1,000 characters.
    #[serde(default)]
    pub comment: String,
}

/// A dossier's rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// The dossier's code.
    pub code: String,
    /// `very_satisfied`, `satisfied` or `not_satisfied`.
    pub rating: String,
    /// Vietnamese label of the rating.
    pub rating_label: &'static str,
    /// What the applicant wrote.
    pub comment: String,
    /// How it was given: `online`, `kiosk` or `link`.
    pub channel: String,
    /// When.
    pub rated_at: String,
    /// The officer who handed the result over, when known.
    pub officer: Option<String>,
    /// The agency (counter) that handed the result over, when known.
    pub counter_agency: Option<String>,
}

fn view(r: ratings::Rating) -> RatingView {
    RatingView {
        rating_label: Satisfaction::parse(&r.rating).map_or("", Satisfaction::label),
        code: r.dossier_code,
        rating: r.rating,
        comment: r.comment,
        channel: r.channel,
        rated_at: r
            .rated_at
            .to_offset(motcua_core::calendar::VIETNAM_OFFSET)
            .format(&Rfc3339)
            .unwrap_or_default(),
        officer: r.officer_name,
        counter_agency: r.counter_agency,
    }
}

/// Whether the result of a dossier in `status` is there to be rated.
pub fn ratable(status: Status) -> bool {
    matches!(status, Status::Done | Status::Returned)
}

/// `GET /api/v1/dossiers/{code}/rating`: the dossier's rating, for its applicant and the
/// staff who may see the dossier; 404 (`not_rated`) while there is none.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/rating", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = RatingView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<RatingView>, AppError> {
    let (stored, _) = load_visible(&state, &p, &code).await?;
    let mut tx = state.db.begin_read().await?;
    let rating = ratings::of_dossier(&mut tx, stored.id).await?;
    rating
        .map(view)
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("Hồ sơ {} chưa được đánh giá.", stored.dossier.code.as_str())))
}

/// `POST /api/v1/dossiers/{code}/rating`: the applicant rates the service once the result
/// is ready (status 9) or returned (10). Once per dossier: a second rating is refused
/// with 409; staff are refused with 403.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/rating", tag = "dossiers", request_body = NewRating,
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 201, body = RatingView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn rate(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewRating>,
) -> Result<(StatusCode, Json<RatingView>), AppError> {
    let (stored, _) = load_visible(&state, &p, &code).await?;
    let user = p.user.as_ref().filter(|u| u.kind == UserKind::Citizen);
    let is_owner = user.is_some_and(|u| stored.dossier.owner.as_deref() == Some(u.id.as_str()));
    if !is_owner {
        return Err(AppError::Forbidden(
            "Chỉ người nộp hồ sơ mới được đánh giá mức độ hài lòng với hồ sơ của mình.".to_owned(),
        ));
    }
    let rating = body
        .rating
        .ok_or_else(|| AppError::bad("invalid_field", "rating", "Hãy chọn mức độ hài lòng của bạn."))?;
    let comment = motcua_core::text::nfc(body.comment.trim());
    if comment.chars().count() > MAX_COMMENT {
        return Err(AppError::bad(
            "invalid_field",
            "comment",
            format!("Ý kiến góp ý dài quá {MAX_COMMENT} ký tự."),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    // Re-read in the write: the status decides on the committed state.
    let current = dossiers::by_id(&mut tx, stored.id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")))?;
    if !ratable(current.status) {
        return Err(AppError::Refused(format!(
            "Chỉ đánh giá được khi hồ sơ đã có kết quả; hồ sơ đang ở trạng thái «{}».",
            current.status.label()
        )));
    }
    if let Some(before) = ratings::of_dossier(&mut tx, stored.id).await? {
        return Err(already_rated(&before));
    }
    let returned_by = dossiers::events(&mut tx, stored.id)
        .await?
        .into_iter()
        .rev()
        .find(|e| e.action == motcua_core::dossier::Action::Return.name());
    let record = ratings::Rating {
        dossier_id: stored.id,
        dossier_code: current.code.as_str().to_owned(),
        province_code: current.province.as_str().to_owned(),
        rating: rating.as_str().to_owned(),
        comment,
        channel: "online".to_owned(),
        rater_id: user.map(|u| u.id.clone()),
        officer_id: returned_by.as_ref().map(|e| e.actor.id.clone()),
        officer_name: returned_by.as_ref().map(|e| e.actor.name.clone()),
        counter_agency: returned_by.as_ref().map(|e| e.agency.clone()),
        rated_at: now,
    };
    ratings::insert(&mut tx, &record).await?;
    audit::record(
        &mut tx,
        &Actor::of(&p),
        Event {
            action: "dossier.rate",
            object_type: "dossier",
            object_id: current.code.as_str(),
            province: Some(current.province.as_str()),
            before: None,
            after: Some(json!({
                "rating": record.rating,
                "channel": record.channel,
                "comment": !record.comment.is_empty(),
                "officer": record.officer_id,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view(record))))
}

fn already_rated(before: &ratings::Rating) -> AppError {
    AppError::Conflict(format!(
        "Hồ sơ này đã được đánh giá ({}) lúc {}; mỗi hồ sơ chỉ được đánh giá một lần.",
        Satisfaction::parse(&before.rating).map_or("", Satisfaction::label),
        crate::web::when(before.rated_at)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_round_trip_their_stored_text() {
        for r in [
            Satisfaction::VerySatisfied,
            Satisfaction::Satisfied,
            Satisfaction::NotSatisfied,
        ] {
            assert_eq!(Satisfaction::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).expect("json"), json!(r.as_str()));
        }
        assert_eq!(Satisfaction::parse("happy"), None);
        assert!(ratable(Status::Done) && ratable(Status::Returned));
        assert!(!ratable(Status::InProgress) && !ratable(Status::Withdrawn));
    }
}
