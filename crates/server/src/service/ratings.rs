//! Satisfaction ratings (docs/rules.md §6, issue 8 item 3): once the result of a dossier is
//! ready or returned, its applicant rates the service — very satisfied, satisfied or not
//! satisfied, with an optional comment and optional answers to the survey indices of the
//! per-dossier evaluation (contacts needed, agencies gone to, public information, conduct).
//!
//! Three ways in, one rule ([`record`]):
//! - online, by the signed-in owner (`POST /api/v1/dossiers/{code}/rating`);
//! - by the link on the result-ready notice, without login (`POST
//!   /api/v1/track/{code}/rating`), with the rating code that notice sent to the
//!   applicant's own email or phone alone (never printed, never shown to staff, kept
//!   hashed): rate-limited and answering a wrong dossier code or rating code with the same
//!   404 as public tracking;
//! - on the counter's kiosk screen, run by a counter officer of the receiving agency for
//!   the citizen at the desk (`POST /api/v1/kiosk/rating`), which records that officer.
//!
//! One rating per dossier: a second one is refused (409) rather than replacing the first,
//! so the figures per officer and per counter cannot be steered by re-rating, and what a
//! director reads in the "not satisfied" list stays what the citizen first said. The
//! officer and the counter that handed the result over (the `return` event) are recorded
//! with the rating when known, for the per-officer and per-counter results.

use motcua_core::access::Role;
use motcua_core::dossier::{DossierCode, Status};
use motcua_core::evaluation::{Conduct, PublicInfo};
use motcua_store::accounts::UserKind;
use motcua_store::{dossiers, ratings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::dossiers::load_visible;
use crate::state::AppState;

pub use motcua_core::evaluation::Satisfaction;

/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 1_000;
/// Largest count a survey answer may give.
pub const MAX_COUNT: u32 = 50;

/// Declares a rating body: its own leading fields, then the rating and the optional survey
/// answers that every way in shares (one definition of their names, defaults and
/// meanings). Unknown fields are refused.
macro_rules! rating_body {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// `very_satisfied`, `satisfied` or `not_satisfied`.
            #[serde(default)]
            pub rating: Option<Satisfaction>,
            /// Optional comment, at most 1,000 characters.
            #[serde(default)]
            pub comment: String,
            /// Optional: how many times the applicant had to contact the place of reception to
            /// complete the dossier (0–50).
            #[serde(default)]
            pub contacts: Option<u32>,
            /// Optional: how many agencies the applicant had to go to (0–50).
            #[serde(default)]
            pub agencies: Option<u32>,
            /// Optional: whether the procedure's public information was complete.
            #[serde(default)]
            pub public_info: Option<PublicInfo>,
            /// Optional: the officers' conduct.
            #[serde(default)]
            pub conduct: Option<Conduct>,
        }
    };
}

/// The rating and the survey answers of a body that names its dossier its own way (the
/// rating code of a link, the code typed at the kiosk).
macro_rules! into_new_rating {
    ($($name:ident),*) => {$(
        impl From<$name> for NewRating {
            fn from(b: $name) -> Self {
                NewRating {
                    rating: b.rating,
                    comment: b.comment,
                    contacts: b.contacts,
                    agencies: b.agencies,
                    public_info: b.public_info,
                    conduct: b.conduct,
                }
            }
        }
    )*};
}

rating_body! {
    /// The rating and the optional survey answers, as every way in sends them.
    pub struct NewRating {}
}

rating_body! {
    /// A rating by the link on the result: the rating code, then the rating.
    pub struct LinkRating {
        /// The rating code sent to the applicant's own email or phone with the "result ready"
        /// notice (not the tracking secret printed on the receipt, which staff see too).
        #[serde(default)]
        pub rating_code: String,
    }
}

rating_body! {
    /// A rating on the counter's kiosk screen: the dossier's code, then the rating.
    pub struct KioskRating {
        /// The dossier whose result was just handed over.
        #[serde(default)]
        pub code: String,
    }
}

into_new_rating!(LinkRating, KioskRating);

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
    /// The counter officer whose kiosk took the rating (kiosk ratings).
    pub recorded_by: Option<String>,
    /// Survey answer: contacts needed.
    pub contacts: Option<i64>,
    /// Survey answer: agencies gone to.
    pub agencies: Option<i64>,
    /// Survey answer: public information.
    pub public_info: Option<String>,
    /// Survey answer: conduct.
    pub conduct: Option<String>,
}

/// The JSON view of a stored rating.
pub fn view(r: ratings::Rating) -> RatingView {
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
        recorded_by: r.recorded_by_name,
        contacts: r.contacts,
        agencies: r.agencies,
        public_info: r.public_info,
        conduct: r.conduct,
    }
}

/// The survey answers of a stored rating, for the score sheet.
pub fn answers(r: &ratings::Rating) -> motcua_core::evaluation::Answers {
    motcua_core::evaluation::Answers {
        contacts: r.contacts.and_then(|n| u32::try_from(n).ok()),
        agencies: r.agencies.and_then(|n| u32::try_from(n).ok()),
        public_info: r.public_info.as_deref().and_then(PublicInfo::parse),
        conduct: r.conduct.as_deref().and_then(Conduct::parse),
        satisfaction: Satisfaction::parse(&r.rating),
    }
}

/// Whether the result of a dossier in `status` is there to be rated.
pub fn ratable(status: Status) -> bool {
    status.has_result()
}

/// The rating of dossier `code`, for its applicant and the staff who may see the dossier;
/// not found (`not_rated`) while there is none.
pub async fn rating(state: &AppState, p: &Principal, code: &str) -> Result<RatingView, AppError> {
    let (stored, _) = load_visible(state, p, code).await?;
    let mut tx = state.db.begin_read().await?;
    let rating = ratings::of_dossier(&mut tx, stored.id).await?;
    rating
        .map(view)
        .ok_or_else(|| AppError::NotFound(format!("Hồ sơ {} chưa được đánh giá.", stored.dossier.code.as_str())))
}

/// The applicant rates the service of dossier `code` once the result is ready (status 9)
/// or returned (10). Once per dossier: a second rating is a conflict; staff are refused.
pub async fn rate(state: &AppState, p: &Principal, code: &str, body: NewRating) -> Result<RatingView, AppError> {
    let (stored, _) = load_visible(state, p, code).await?;
    let user = p.user.as_ref().filter(|u| u.kind == UserKind::Citizen);
    let is_owner = user.is_some_and(|u| stored.dossier.owner.as_deref() == Some(u.id.as_str()));
    if !is_owner {
        return Err(AppError::Forbidden(
            "Chỉ người nộp hồ sơ mới được đánh giá mức độ hài lòng với hồ sơ của mình.".to_owned(),
        ));
    }
    let how = How {
        channel: "online",
        rater_id: user.map(|u| u.id.clone()),
        recorded_by: None,
    };
    let record = record(state, stored.id, code, body, how, &Actor::of(p)).await?;
    Ok(view(record))
}

/// A rating by the link on the result-ready notice, without login, from `ip`. The rating
/// code proves the rater received that notice on the applicant's own email or phone; a
/// wrong dossier code or rating code gets the same answer as public tracking and counts
/// against the same limits.
pub async fn rate_by_link(state: &AppState, ip: &str, code: &str, body: LinkRating) -> Result<RatingView, AppError> {
    let stored = by_rating_code(state, ip, code, &body.rating_code).await?;
    let actor = Actor {
        id: "anonymous".to_owned(),
        name: "Người dân (đường dẫn đánh giá)".to_owned(),
        ip,
    };
    let how = How {
        channel: "link",
        rater_id: None,
        recorded_by: None,
    };
    let record = record(state, stored.id, code, body.into(), how, &actor).await?;
    Ok(view(record))
}

/// A rating at the counter's kiosk screen, where the citizen at the desk rates the dossier
/// whose result was just handed over. Only a counter officer of the dossier's receiving
/// agency (or of the whole province) runs it; the officer is recorded.
pub async fn rate_at_kiosk(state: &AppState, p: &Principal, body: KioskRating) -> Result<RatingView, AppError> {
    if !p.access.has_role(Role::CounterOfficer) {
        return Err(AppError::Forbidden(
            "Chỉ cán bộ tiếp nhận, trả kết quả tại quầy mới mở được màn hình đánh giá tại quầy.".to_owned(),
        ));
    }
    let code = body.code.trim().to_owned();
    if code.is_empty() {
        return Err(AppError::bad(
            "invalid_field",
            "code",
            "Hãy chọn hoặc nhập mã hồ sơ vừa trả kết quả.",
        ));
    }
    let (stored, _) = load_visible(state, p, &code).await?;
    let d = &stored.dossier;
    let province_agency = d.province.as_agency();
    let at_this_counter = p.access.grants().iter().any(|g| {
        g.role == Role::CounterOfficer
            && g.province == d.province
            && (g.agency == d.receiving_agency || &g.agency == province_agency)
    });
    if !at_this_counter {
        return Err(AppError::Forbidden(format!(
            "Hồ sơ {} do {} tiếp nhận; chỉ cán bộ tiếp nhận của nơi đó mới lấy đánh giá tại quầy.",
            d.code.as_str(),
            d.receiving_agency
        )));
    }
    let officer = crate::service::dossiers::person_of(p);
    let how = How {
        channel: "kiosk",
        rater_id: None,
        recorded_by: Some(officer),
    };
    let record = record(state, stored.id, &code, body.into(), how, &Actor::of(p)).await?;
    Ok(view(record))
}

/// Finds the dossier a rating by link names, with the rating code sent to its applicant:
/// the same rate limits on misses as public tracking, and the same answer for a wrong
/// dossier code and a wrong rating code.
pub async fn by_rating_code(
    state: &AppState,
    ip: &str,
    code: &str,
    rating_code: &str,
) -> Result<dossiers::Stored, AppError> {
    let given = code;
    let found = match DossierCode::parse(code.trim()) {
        Ok(code) if !rating_code.trim().is_empty() => {
            let hash = motcua_core::evaluation::rating_code_hash(rating_code);
            let mut tx = state.db.begin_read().await?;
            match dossiers::by_code(&mut tx, &code).await? {
                Some(stored) if ratings::code_matches(&mut tx, stored.id, &hash).await? => Some(stored),
                _ => None,
            }
        }
        _ => None,
    };
    match found {
        Some(stored) => Ok(stored),
        None => Err(crate::service::dossiers::tracking_miss(state, ip, given).await),
    }
}

/// How a rating came in.
struct How {
    channel: &'static str,
    rater_id: Option<String>,
    recorded_by: Option<motcua_core::lifecycle::Person>,
}

fn check(body: &NewRating) -> Result<(Satisfaction, String), AppError> {
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
    for (field, value) in [("contacts", body.contacts), ("agencies", body.agencies)] {
        if value.is_some_and(|n| n > MAX_COUNT) {
            return Err(AppError::bad(
                "invalid_field",
                field,
                format!("Số lần, số cơ quan phải từ 0 đến {MAX_COUNT}."),
            ));
        }
    }
    Ok((rating, comment))
}

/// Checks and stores a rating of dossier `id` with its audit record: the one rule every
/// way in goes through (result there, once per dossier, who handed the result over).
async fn record(
    state: &AppState,
    id: i64,
    code: &str,
    body: NewRating,
    how: How,
    actor: &Actor<'_>,
) -> Result<ratings::Rating, AppError> {
    let (rating, comment) = check(&body)?;
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    // Re-read in the write: the status decides on the committed state.
    let current = dossiers::by_id(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")))?;
    if !ratable(current.status) {
        return Err(AppError::Refused(format!(
            "Chỉ đánh giá được khi hồ sơ đã có kết quả; hồ sơ đang ở trạng thái «{}».",
            crate::service::rules::now(state).await?.label(current.status)
        )));
    }
    if let Some(before) = ratings::of_dossier(&mut tx, id).await? {
        return Err(already_rated(&before));
    }
    let returned_by = dossiers::events(&mut tx, id)
        .await?
        .into_iter()
        .rev()
        .find(|e| e.action == motcua_core::dossier::Action::Return.name());
    let record = ratings::Rating {
        dossier_id: id,
        dossier_code: current.code.as_str().to_owned(),
        province_code: current.province.as_str().to_owned(),
        rating: rating.as_str().to_owned(),
        comment,
        channel: how.channel.to_owned(),
        rater_id: how.rater_id,
        officer_id: returned_by.as_ref().map(|e| e.actor.id.clone()),
        officer_name: returned_by.as_ref().map(|e| e.actor.name.clone()),
        counter_agency: returned_by.as_ref().map(|e| e.agency.clone()),
        rated_at: now,
        recorded_by_id: how.recorded_by.as_ref().map(|p| p.id.clone()),
        recorded_by_name: how.recorded_by.map(|p| p.name),
        contacts: body.contacts.map(i64::from),
        agencies: body.agencies.map(i64::from),
        public_info: body.public_info.map(|x| x.as_str().to_owned()),
        conduct: body.conduct.map(|x| x.as_str().to_owned()),
    };
    ratings::insert(&mut tx, &record).await?;
    audit::record(
        &mut tx,
        actor,
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
                "recorded_by": record.recorded_by_id,
                "survey": record.contacts.is_some() || record.agencies.is_some()
                    || record.public_info.is_some() || record.conduct.is_some(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

fn already_rated(before: &ratings::Rating) -> AppError {
    AppError::Conflict(format!(
        "Hồ sơ này đã được đánh giá ({}) lúc {}; mỗi hồ sơ chỉ được đánh giá một lần.",
        Satisfaction::parse(&before.rating).map_or("", Satisfaction::label),
        motcua_core::calendar::vn_datetime(before.rated_at)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_round_trip_their_stored_text() {
        for r in Satisfaction::ALL {
            assert_eq!(Satisfaction::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).expect("json"), json!(r.as_str()));
        }
        assert_eq!(Satisfaction::parse("happy"), None);
        assert!(ratable(Status::Done) && ratable(Status::Returned));
        assert!(!ratable(Status::InProgress) && !ratable(Status::Withdrawn));
    }

    #[test]
    fn survey_counts_are_bounded() {
        let body = NewRating {
            rating: Some(Satisfaction::Satisfied),
            contacts: Some(MAX_COUNT + 1),
            ..NewRating::default()
        };
        assert!(check(&body).is_err());
        let body = NewRating {
            rating: Some(Satisfaction::Satisfied),
            contacts: Some(1),
            agencies: Some(2),
            ..NewRating::default()
        };
        assert!(check(&body).is_ok());
    }
}
