//! The queue's figures for a period (issue 21 item 8; definitions in
//! `motcua_core::queue_figures` and docs/rules.md §1.1): per group, counter, officer, hour
//! and day of the week, and the arrivals' heat map, for the centre's director and the
//! system administrators, as a view and as a workbook; with the satisfaction given per
//! ticket at the kiosk.

use motcua_core::codes::AgencyCode;
use motcua_core::queue_figures::{self as rules, Line, TicketFact};
use motcua_docs::dossier_xlsx::{Cell, Column, SheetWriter};
use motcua_store::queue as store;
use serde::Serialize;
use utoipa::ToSchema;

use super::period::{Choice, PeriodQuery};
use super::queue::centre_of;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// A named row of figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Row {
    /// What the row is about (a group, a counter, an officer, an hour, a day).
    pub label: String,
    /// Tickets taken.
    pub taken: i64,
    /// Served.
    pub served: i64,
    /// Marked absent.
    pub no_show: i64,
    /// From a booking.
    pub booked: i64,
    /// Mean wait, minutes (null: none called).
    pub mean_wait_minutes: Option<i64>,
    /// Mean service, minutes (null: none served).
    pub mean_service_minutes: Option<i64>,
    /// Tickets rated at the kiosk after service.
    pub rated: i64,
    /// Rated "Rất hài lòng".
    pub very_satisfied: i64,
    /// Rated "Hài lòng".
    pub satisfied: i64,
    /// Rated "Không hài lòng".
    pub not_satisfied: i64,
    /// Share rated satisfied or very satisfied, whole percent (null: none rated).
    pub satisfied_percent: Option<i64>,
}

impl Row {
    fn of(label: String, l: &Line) -> Self {
        Row {
            label,
            taken: l.taken,
            served: l.served,
            no_show: l.no_show,
            booked: l.booked,
            mean_wait_minutes: l.mean_wait_minutes(),
            mean_service_minutes: l.mean_service_minutes(),
            rated: l.rated,
            very_satisfied: l.very_satisfied,
            satisfied: l.satisfied,
            not_satisfied: l.not_satisfied,
            satisfied_percent: l.satisfied_percent(),
        }
    }
}

/// The queue's figures of a centre for a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueReport {
    /// The centre's code.
    pub centre: String,
    /// The centre's name.
    pub centre_name: String,
    /// The period, in words.
    pub period: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// All tickets.
    pub total: Row,
    /// Per service group.
    pub groups: Vec<Row>,
    /// Per counter.
    pub counters: Vec<Row>,
    /// Per officer.
    pub officers: Vec<Row>,
    /// Per hour of the day with tickets (07:00, …).
    pub hours: Vec<Row>,
    /// Per day of the week (Thứ Hai … Chủ nhật).
    pub weekdays: Vec<Row>,
    /// Arrivals per day of the week (rows, Monday first) and hour (columns 0–23).
    pub heat: Vec<Vec<i64>>,
}

/// The names of the days of the week, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
];

/// The figures of a centre of the province for the period asked (this month by default):
/// `centre`, or the provincial centre; a commune centre's head gets theirs
/// ([`crate::service::oversight::centre_asked`]).
pub async fn figures(
    state: &AppState,
    p: &Principal,
    asked: &PeriodQuery,
    centre: Option<&str>,
) -> Result<(QueueReport, Choice), AppError> {
    let province = state.province(None).await?;
    let dir = crate::service::dossiers::directory(state, &province).await?;
    let centre = crate::service::oversight::centre_asked(&dir, p, &province, centre, "số liệu xếp hàng")?;
    let choice = asked.choice(state.clock.now());
    if let Some(e) = &choice.error {
        return Err(AppError::bad("invalid_field", "from", e.clone()));
    }
    let (centre, centre_name) = centre_of(state, &province, centre.as_ref().map(AgencyCode::as_str)).await?;
    let mut tx = state.db.begin_read().await?;
    let rows = store::facts(&mut tx, centre.as_str(), &choice.from, &choice.to).await?;
    let groups = store::groups(&mut tx, centre.as_str()).await?;
    let counters = store::counters(&mut tx, centre.as_str()).await?;
    let mut names = Vec::new();
    for r in &rows {
        if let Some(o) = &r.officer_id
            && !names.iter().any(|(id, _): &(String, String)| id == o)
        {
            let name = motcua_store::accounts::user_by_id(&mut tx, o)
                .await?
                .map_or_else(|| o.clone(), |u| u.display_name);
            names.push((o.clone(), name));
        }
    }
    drop(tx);
    let facts: Vec<TicketFact> = rows
        .into_iter()
        .map(|r| TicketFact {
            group: r.taken_group_id,
            counter: r.counter_id,
            officer: r.officer_id,
            state: r.state,
            booked: r.booked,
            taken_at: r.taken_at,
            called_at: r.called_at,
            finished_at: r.finished_at,
            rating: r
                .rating
                .as_deref()
                .and_then(motcua_core::evaluation::Satisfaction::parse),
        })
        .collect();
    let f = rules::figures(&facts);
    let group_name = |id: i64| {
        groups
            .iter()
            .find(|g| g.id == id)
            .map_or_else(|| format!("Nhóm {id}"), |g| format!("{} ({})", g.name, g.letter))
    };
    let counter_name = |id: i64| {
        counters
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("Quầy {id}"), |c| format!("Quầy số {}", c.number))
    };
    let officer_name = |id: &str| {
        names
            .iter()
            .find(|(o, _)| o == id)
            .map_or_else(|| id.to_owned(), |(_, n)| n.clone())
    };
    let figures = QueueReport {
        centre: centre.as_str().to_owned(),
        centre_name,
        period: choice.label.clone(),
        from: choice.from.clone(),
        to: choice.to.clone(),
        total: Row::of("Tất cả".to_owned(), &f.total),
        groups: f.by_group.iter().map(|k| Row::of(group_name(k.key), &k.line)).collect(),
        counters: f
            .by_counter
            .iter()
            .map(|k| Row::of(counter_name(k.key), &k.line))
            .collect(),
        officers: f
            .by_officer
            .iter()
            .map(|k| Row::of(officer_name(&k.key), &k.line))
            .collect(),
        hours: f
            .by_hour
            .iter()
            .enumerate()
            .filter(|(_, l)| l.taken > 0)
            .map(|(h, l)| Row::of(format!("{h:02}:00–{h:02}:59"), l))
            .collect(),
        weekdays: f
            .by_weekday
            .iter()
            .zip(WEEKDAYS)
            .map(|(l, d)| Row::of(d.to_owned(), l))
            .collect(),
        heat: f.heat,
    };
    Ok((figures, choice))
}

const COLUMNS: &[Column] = &[
    Column {
        header: "Mục",
        width: 34.0,
    },
    Column {
        header: "Số đã lấy",
        width: 11.0,
    },
    Column {
        header: "Đã phục vụ",
        width: 11.0,
    },
    Column {
        header: "Vắng mặt",
        width: 10.0,
    },
    Column {
        header: "Đặt lịch",
        width: 10.0,
    },
    Column {
        header: "Chờ trung bình (phút)",
        width: 14.0,
    },
    Column {
        header: "Phục vụ trung bình (phút)",
        width: 16.0,
    },
    Column {
        header: "Số lượt đánh giá",
        width: 12.0,
    },
    Column {
        header: "Rất hài lòng",
        width: 11.0,
    },
    Column {
        header: "Hài lòng",
        width: 10.0,
    },
    Column {
        header: "Không hài lòng",
        width: 12.0,
    },
    Column {
        header: "Tỷ lệ hài lòng (%)",
        width: 13.0,
    },
];

/// The figures as a workbook: one table, its sections headed by a row of their own.
pub fn workbook(f: &QueueReport) -> Result<Vec<u8>, AppError> {
    let internal = |e: motcua_docs::dossier_xlsx::ExportError| AppError::Internal(e.to_string());
    let mut sheet = SheetWriter::new("Xếp hàng", COLUMNS).map_err(internal)?;
    let heading = format!("{} — {}", f.centre_name, f.period);
    sheet.push(&[Cell::text(heading)]).map_err(internal)?;
    let sections: [(&str, &[Row]); 6] = [
        ("Tổng", std::slice::from_ref(&f.total)),
        ("Theo nhóm dịch vụ", &f.groups),
        ("Theo quầy", &f.counters),
        ("Theo cán bộ", &f.officers),
        ("Theo giờ lấy số", &f.hours),
        ("Theo ngày trong tuần", &f.weekdays),
    ];
    let optional = |m: Option<i64>| m.map_or(Cell::Empty, Cell::Number);
    for (title, rows) in sections {
        sheet.push(&[Cell::text(title)]).map_err(internal)?;
        for r in rows {
            sheet
                .push(&[
                    Cell::text(r.label.clone()),
                    Cell::Number(r.taken),
                    Cell::Number(r.served),
                    Cell::Number(r.no_show),
                    Cell::Number(r.booked),
                    optional(r.mean_wait_minutes),
                    optional(r.mean_service_minutes),
                    Cell::Number(r.rated),
                    Cell::Number(r.very_satisfied),
                    Cell::Number(r.satisfied),
                    Cell::Number(r.not_satisfied),
                    optional(r.satisfied_percent),
                ])
                .map_err(internal)?;
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    sheet.finish(&mut out).map_err(internal)?;
    Ok(out.into_inner())
}
