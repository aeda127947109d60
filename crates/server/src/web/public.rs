//! Pages of the public area: tracking a dossier with its code and the secret printed on
//! the receipt (also what the receipt's QR code opens), and the centre's statistics.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use motcua_store::overview::{Figures, Metric};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::director::{overview_figures, rate};
use super::{Frame, Viewer, filters, page, when};
use crate::auth::ClientIp;
use crate::service::dossiers::{Tracking, directory, tracking};
use crate::service::period::{this_month, this_year};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tra-cuu", get(track_form))
        .route("/tra-cuu/{code}", get(track_code))
        .route("/thong-ke", get(statistics))
}

/// `?code=&secret=` of the tracking form; the receipt's address (`/tra-cuu/{code}`) gives
/// only `secret`.
#[derive(Debug, Default, Deserialize)]
pub struct TrackQuery {
    code: Option<String>,
    secret: Option<String>,
}

/// One step of the dossier as the public sees it.
pub struct Step {
    /// When.
    pub at: String,
    /// What happened.
    pub label: String,
    /// Where it went.
    pub agency: String,
    /// Status after.
    pub status: String,
    /// How the step that ended here finished.
    pub result: &'static str,
}

/// The public view of a dossier.
pub struct Shown {
    /// Code.
    pub code: String,
    /// Procedure.
    pub procedure: String,
    /// Status label.
    pub status: String,
    /// National status code.
    pub status_code: u8,
    /// Accepted.
    pub received: String,
    /// Appointment.
    pub due: String,
    /// Result ready.
    pub finished: String,
    /// Handed over.
    pub returned: String,
    /// Where it is now.
    pub agency: String,
    /// History.
    pub steps: Vec<Step>,
}

fn shown_time(s: Option<&str>) -> String {
    s.and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .map(when)
        .unwrap_or_default()
}

impl From<Tracking> for Shown {
    fn from(t: Tracking) -> Shown {
        Shown {
            received: shown_time(t.received_at.as_deref()),
            due: shown_time(t.due_at.as_deref()),
            finished: shown_time(t.finished_at.as_deref()),
            returned: shown_time(t.returned_at.as_deref()),
            code: t.code,
            procedure: t.procedure_name,
            status: t.status_label,
            status_code: t.status_code,
            agency: t.current_agency,
            steps: t
                .steps
                .into_iter()
                .map(|s| Step {
                    at: shown_time(Some(&s.at)),
                    label: s.label,
                    agency: s.agency.unwrap_or_default(),
                    status: s.status_label,
                    result: s.result.map_or("", |r| r.label()),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "public/track.html")]
struct TrackPage {
    frame: Frame,
    code: String,
    secret: String,
    error: Option<String>,
    shown: Option<Shown>,
}

/// `GET /tra-cuu`: the tracking form; with `?code=&secret=` (the form sent), the result.
pub async fn track_form(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Query(q): Query<TrackQuery>,
) -> Result<Response, PageError> {
    match q.code.filter(|c| !c.trim().is_empty()) {
        Some(code) => lookup(state, viewer, ip, code, q.secret.unwrap_or_default()).await,
        None => Ok(page(&TrackPage {
            frame: Frame::new(&state, viewer.0.as_ref()).await?,
            code: String::new(),
            secret: q.secret.unwrap_or_default(),
            error: None,
            shown: None,
        })),
    }
}

/// `GET /tra-cuu/{code}?secret=`: the address printed (and in the QR code) on the receipt.
pub async fn track_code(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Path(code): Path<String>,
    Query(q): Query<TrackQuery>,
) -> Result<Response, PageError> {
    lookup(state, viewer, ip, code, q.secret.unwrap_or_default()).await
}

/// Looks the dossier up through the public tracking API's own function (same checks,
/// same identical 404 for a wrong code or secret, same rate limit) and shows the result,
/// or the form again with the message and what was typed.
async fn lookup(
    state: AppState,
    viewer: Viewer,
    ip: ClientIp,
    code: String,
    secret: String,
) -> Result<Response, PageError> {
    let frame = Frame::new(&state, viewer.0.as_ref()).await?;
    let answer = tracking(&state, &ip.0, code.trim(), &secret).await;
    match answer {
        Ok(t) => {
            let view = t.view()?;
            Ok(page(&TrackPage {
                frame,
                code: view.code.clone(),
                secret,
                error: None,
                shown: Some(view.into()),
            }))
        }
        Err(e) => {
            let (status, _, message, _) = e.parts();
            if status != StatusCode::NOT_FOUND && status != StatusCode::TOO_MANY_REQUESTS {
                return Err(e.into());
            }
            let body = page(&TrackPage {
                frame,
                code,
                secret,
                error: Some(message),
                shown: None,
            });
            Ok((status, body).into_response())
        }
    }
}

/// One department's public figures.
pub struct DepartmentStats {
    /// Name.
    pub name: String,
    /// This year: received, resolved, on-time rate.
    pub year: (i64, i64, String),
    /// This month: received, resolved, on-time rate.
    pub month: (i64, i64, String),
}

/// The headline figures of one period.
pub struct Headline {
    /// "Năm 2026".
    pub label: String,
    /// Received.
    pub received: i64,
    /// Resolved.
    pub resolved: i64,
    /// Resolved early or on time.
    pub on_time: i64,
    /// On-time rate.
    pub rate: String,
    /// Returned.
    pub returned: i64,
    /// In progress (judged now).
    pub in_progress: i64,
}

fn headline(label: String, f: &Figures) -> Headline {
    Headline {
        label,
        received: f.get(Metric::Received),
        resolved: f.resolved(),
        on_time: f.get(Metric::ResolvedEarly) + f.get(Metric::ResolvedOnTime),
        rate: rate(f.on_time_permille()),
        returned: f.get(Metric::Returned),
        in_progress: f.in_progress(),
    }
}

#[derive(Template)]
#[template(path = "public/statistics.html")]
struct StatisticsPage {
    frame: Frame,
    periods: Vec<Headline>,
    year_label: String,
    month_label: String,
    departments: Vec<DepartmentStats>,
    now: String,
    trend: String,
    ontime: String,
    year: i32,
    current_year: i32,
    year_error: Option<String>,
}

/// `?nam=` of the public statistics: a past year instead of this one.
#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    nam: Option<String>,
}

/// The first day of the month eleven months before `now`'s (Vietnam time) and the first
/// day of the month after it: twelve whole months.
fn twelve_months(now: OffsetDateTime) -> (time::Date, time::Date) {
    let d = now.to_offset(super::VN).date();
    let index = d.year() * 12 + i32::from(u8::from(d.month())) - 1;
    let first_of = |i: i32| {
        time::Month::try_from(u8::try_from(i.rem_euclid(12) + 1).unwrap_or(1))
            .ok()
            .and_then(|m| time::Date::from_calendar_date(i.div_euclid(12), m, 1).ok())
            .unwrap_or(d)
    };
    (first_of(index - 11), first_of(index + 1))
}

/// `GET /thong-ke`: the centre's public statistics (this year and this month, in all and
/// per department). Counts only; nothing personal.
pub async fn statistics(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let now = state.clock.now();
    let current_year = now.to_offset(super::VN).year();
    // A past year is shown as of its last day: the year, its December, its twelve months.
    let year_asked = q.nam.as_deref().and_then(|y| y.trim().parse::<i32>().ok());
    let at = match year_asked {
        Some(y) if (2000..current_year).contains(&y) => time::Date::from_calendar_date(y, time::Month::December, 31)
            .map_or(now, |d| {
                d.midnight().assume_offset(super::VN) + time::Duration::hours(12)
            }),
        _ => now,
    };
    let year_error = match year_asked {
        None if q.nam.as_deref().is_none_or(|y| y.trim().is_empty()) => None,
        Some(y) if (2000..=current_year).contains(&y) => None,
        _ => Some(format!("Hãy nhập năm từ 2000 đến {current_year}.")),
    };
    let (year_choice, month_choice) = (this_year(at), this_month(at));
    let year = overview_figures(&state, &province, year_choice.period, now).await?;
    let month = overview_figures(&state, &province, month_choice.period, now).await?;
    let dir = directory(&state, &province).await?;
    let month_by: BTreeMap<&str, &Figures> = month.iter().map(|f| (f.agency.as_str(), f)).collect();
    let empty = Figures::default();
    let triple = |f: &Figures| (f.get(Metric::Received), f.resolved(), rate(f.on_time_permille()));
    let mut departments: Vec<DepartmentStats> = year
        .iter()
        .map(|y| DepartmentStats {
            name: dir.name(&y.agency),
            year: triple(y),
            month: triple(month_by.get(y.agency.as_str()).copied().unwrap_or(&empty)),
        })
        .collect();
    departments.sort_by(|a, b| b.year.0.cmp(&a.year.0).then_with(|| a.name.cmp(&b.name)));
    // The last twelve months (this one included), from the aggregates; counts only.
    let (first, next) = twelve_months(at);
    let months = motcua_store::overview::Period {
        from: first.midnight().assume_offset(super::VN),
        to: next.midnight().assume_offset(super::VN),
    };
    let grain = super::director::dashboard::Grain::Month;
    let points = super::director::dashboard::trend(&state, &province, months, grain, None).await?;
    let trend = super::charts::time_chart(
        "trend",
        &if at == now {
            "Hồ sơ tiếp nhận và đã giải quyết, 12 tháng gần nhất".to_owned()
        } else {
            format!(
                "Hồ sơ tiếp nhận và đã giải quyết theo tháng, năm {}",
                at.to_offset(super::VN).year()
            )
        },
        &points
            .iter()
            .map(|p| format!("{:02}/{}", u8::from(p.first.month()), p.first.year()))
            .collect::<Vec<_>>(),
        &[
            super::charts::Series {
                name: "Tiếp nhận".into(),
                points: points.iter().map(|p| super::charts::Mark::plain(p.received)).collect(),
            },
            super::charts::Series {
                name: "Đã giải quyết".into(),
                points: points.iter().map(|p| super::charts::Mark::plain(p.resolved)).collect(),
            },
        ],
    );
    let mut by_size: Vec<&Figures> = year.iter().collect();
    by_size.sort_by_key(|f| (-f.resolved(), dir.name(&f.agency)));
    let bars: Vec<super::charts::Bar> = by_size
        .iter()
        .filter_map(|f| {
            f.on_time_permille().map(|p| super::charts::Bar {
                label: dir.name(&f.agency),
                text: rate(Some(p)),
                permille: p,
                low: p < 900,
                note: "dưới 90 %".into(),
                href: None,
            })
        })
        .collect();
    let ontime = super::charts::bar_chart(
        "ontime",
        &format!("Tỉ lệ giải quyết đúng hạn theo đơn vị, {}", year_choice.label),
        &bars,
    );
    Ok(page(&StatisticsPage {
        year: at.to_offset(super::VN).year(),
        current_year,
        year_error,
        trend,
        ontime,
        frame: Frame::new(&state, viewer.0.as_ref()).await?,
        year_label: year_choice.label.clone(),
        month_label: month_choice.label.clone(),
        periods: vec![
            headline(year_choice.label, &motcua_store::overview::total(&year)),
            headline(month_choice.label, &motcua_store::overview::total(&month)),
        ],
        departments,
        now: when(now),
    }))
}
