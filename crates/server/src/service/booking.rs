//! Booking a queue number online (issue 21 item 3; the rules in `motcua_core::booking`,
//! docs/rules.md §1.5). The administrator sets the slot length, the daily limit per person,
//! how far ahead one may book and each group's places per slot; a signed-in person books a
//! group, a working day and a slot and gets a code (and its QR); at the kiosk the code, in
//! the slot's window, gives a ticket that is called before the others of its groups until
//! the slot ends. The booker may cancel before the slot; a booking never checked in is a
//! no-show once its slot is over.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use motcua_core::booking::{self as rules, BookingSettings, BookingState, Slot, Window};
use motcua_core::codes::ProvinceCode;
use motcua_store::booking::{self as store, Booking};
use motcua_store::queue::{self as queue_store, Kiosk};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use super::queue::{CentreParam, Issue, TicketView, centre_of, day_of, is_open, issue, ticket_view};
use super::trail::{province_event, record_and_commit};
use crate::audit::Event;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

fn rule_error(field: &str, e: rules::BookingError) -> AppError {
    AppError::bad("invalid_field", field, e.to_string())
}

/// A group's places per slot.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCapacity {
    /// The group's id.
    pub group: i64,
    /// Places per slot; 0: the group takes no bookings.
    pub capacity: i64,
}

/// A centre's booking setup.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingSetup {
    /// Slot length, daily limit per person, days ahead.
    pub settings: BookingSettings,
    /// Places per slot of each group that takes bookings (the others take none).
    pub capacities: Vec<GroupCapacity>,
}

/// The centre's booking setup (system administrators).
pub async fn setup(state: &AppState, principal: &Principal, at: &CentreParam) -> Result<BookingSetup, AppError> {
    let a = super::queue::administered(state, principal, at).await?;
    let mut tx = state.db.begin_read().await?;
    load_setup(&mut tx, a.centre.as_str()).await
}

async fn load_setup(tx: &mut motcua_store::Tx, centre: &str) -> Result<BookingSetup, AppError> {
    let settings = store::settings(tx, centre).await?;
    let capacities = store::capacities(tx, centre)
        .await?
        .into_iter()
        .filter(|(_, c)| *c > 0)
        .map(|(group, capacity)| GroupCapacity { group, capacity })
        .collect();
    Ok(BookingSetup { settings, capacities })
}

/// Replaces the centre's booking setup (system administrators; audited
/// `queue.booking.update`). Groups not listed keep their capacity; list one with 0 to
/// stop its bookings (those already made stand).
pub async fn put_setup(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    input: BookingSetup,
) -> Result<BookingSetup, AppError> {
    let a = super::queue::administered(state, principal, at).await?;
    input.settings.validate().map_err(|e| rule_error("settings", e))?;
    for c in &input.capacities {
        rules::check_capacity(c.capacity).map_err(|e| rule_error("capacities", e))?;
    }
    let mut tx = state.db.begin_write().await?;
    let groups = queue_store::groups(&mut tx, a.centre.as_str()).await?;
    if let Some(c) = input
        .capacities
        .iter()
        .find(|c| !groups.iter().any(|g| g.id == c.group))
    {
        return Err(AppError::bad(
            "invalid_field",
            "capacities",
            format!("Nhóm dịch vụ mã {} không có ở Trung tâm này.", c.group),
        ));
    }
    let before = load_setup(&mut tx, a.centre.as_str()).await?;
    let now = crate::now_ms();
    store::put_settings(&mut tx, a.province.as_str(), a.centre.as_str(), &input.settings, now).await?;
    for c in &input.capacities {
        store::set_capacity(&mut tx, c.group, c.capacity, now).await?;
    }
    let after = load_setup(&mut tx, a.centre.as_str()).await?;
    let event = Event {
        before: serde_json::to_value(&before).ok(),
        after: serde_json::to_value(&after).ok(),
        ..province_event(&a.province, "queue.booking.update", "agency", a.centre.as_str())
    };
    record_and_commit(tx, principal, event).await?;
    Ok(after)
}

/// A group one may book.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferGroup {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Ticket letter.
    pub letter: String,
}

/// What a centre offers for booking: the groups, and the working days one may book.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingOffer {
    /// The centre's code.
    pub centre: String,
    /// Its name.
    pub centre_name: String,
    /// Groups that take bookings.
    pub groups: Vec<OfferGroup>,
    /// Working days from today to the last day one may book, `YYYY-MM-DD`.
    pub days: Vec<String>,
}

struct Centre {
    province: ProvinceCode,
    code: String,
    name: String,
}

async fn centre(state: &AppState, at: &CentreParam) -> Result<Centre, AppError> {
    let province = state.province(at.province.as_deref()).await?;
    let (code, name) = centre_of(state, &province, at.centre.as_deref()).await?;
    Ok(Centre {
        province,
        code: code.as_str().to_owned(),
        name,
    })
}

fn vietnam_date(t: OffsetDateTime) -> Date {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date()
}

fn minute_of_day(t: OffsetDateTime) -> u16 {
    let t = t.to_offset(motcua_core::calendar::VIETNAM_OFFSET);
    u16::from(t.hour()) * 60 + u16::from(t.minute())
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn dmy(day: &str) -> String {
    match parse_day(day) {
        Ok(d) => format!("{:02}/{:02}/{:04}", d.day(), u8::from(d.month()), d.year()),
        Err(_) => day.to_owned(),
    }
}

fn parse_day(day: &str) -> Result<Date, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(day.trim(), &format).map_err(|_| AppError::bad("invalid_field", "day", "Ngày phải có dạng YYYY-MM-DD."))
}

/// The working days one may book at `c` now.
async fn bookable_days(state: &AppState, c: &Centre, s: &BookingSettings) -> Result<Vec<Date>, AppError> {
    let cal = super::calendar::calendar(state, &c.province).await?;
    let today = vietnam_date(state.clock.now());
    let mut days = Vec::new();
    let mut d = today;
    for _ in 0..=s.days_ahead {
        if cal.is_working_day(d) {
            days.push(d);
        }
        d = d
            .next_day()
            .ok_or_else(|| AppError::Internal("date out of range".to_owned()))?;
    }
    Ok(days)
}

/// What the centre `at` offers for booking (public).
pub async fn offer(state: &AppState, at: &CentreParam) -> Result<BookingOffer, AppError> {
    let c = centre(state, at).await?;
    let mut tx = state.db.begin_read().await?;
    let settings = store::settings(&mut tx, &c.code).await?;
    let capacities = store::capacities(&mut tx, &c.code).await?;
    let groups = queue_store::groups(&mut tx, &c.code)
        .await?
        .into_iter()
        .filter(|g| g.active && capacities.iter().any(|(id, n)| *id == g.id && *n > 0))
        .map(|g| OfferGroup {
            id: g.id,
            name: g.name,
            letter: g.letter,
        })
        .collect();
    drop(tx);
    let days = bookable_days(state, &c, &settings)
        .await?
        .into_iter()
        .map(iso)
        .collect();
    Ok(BookingOffer {
        centre: c.code,
        centre_name: c.name,
        groups,
        days,
    })
}

/// A slot of a day, with its free places.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotView {
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
    /// `HH:MM–HH:MM`.
    pub label: String,
    /// Places in all.
    pub capacity: i64,
    /// Places left.
    pub free: i64,
}

/// The slots of group `group` on `day` at centre `at` that may still be booked (public):
/// a working day within the booking horizon, slots not yet started.
pub async fn slots(state: &AppState, at: &CentreParam, group: i64, day: &str) -> Result<Vec<SlotView>, AppError> {
    let c = centre(state, at).await?;
    let date = parse_day(day)?;
    let mut tx = state.db.begin_read().await?;
    let settings = store::settings(&mut tx, &c.code).await?;
    let capacity = group_capacity(&mut tx, &c.code, group).await?;
    let taken = store::taken(&mut tx, group, &iso(date)).await?;
    drop(tx);
    if !bookable_days(state, &c, &settings).await?.contains(&date) {
        return Ok(Vec::new());
    }
    let cal = super::calendar::calendar(state, &c.province).await?;
    let now = state.clock.now();
    let started = |s: &Slot| vietnam_date(now) == date && s.start <= minute_of_day(now);
    Ok(rules::slots(&cal.work_week().sessions, settings.slot_minutes)
        .into_iter()
        .filter(|s| !started(s))
        .map(|s| {
            let used = taken
                .iter()
                .find(|(start, _)| *start == i64::from(s.start))
                .map_or(0, |(_, n)| *n);
            SlotView {
                start: rules::hhmm(s.start),
                end: rules::hhmm(s.end),
                label: s.label(),
                capacity,
                free: (capacity - used).max(0),
            }
        })
        .collect())
}

/// Group `group`'s places per slot, checked to be an active group of `centre` that takes
/// bookings.
async fn group_capacity(tx: &mut motcua_store::Tx, centre: &str, group: i64) -> Result<i64, AppError> {
    let g = queue_store::group(tx, group)
        .await?
        .filter(|g| g.centre_code == centre && g.active);
    let capacity = store::capacities(tx, centre)
        .await?
        .into_iter()
        .find(|(id, _)| *id == group)
        .map_or(0, |(_, n)| n);
    if g.is_none() || capacity < 1 {
        return Err(AppError::bad(
            "invalid_field",
            "group",
            "Nhóm dịch vụ này không nhận đặt lịch trực tuyến.",
        ));
    }
    Ok(capacity)
}

/// A booking to make.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBooking {
    /// The centre's agency code; the province's first centre when omitted.
    #[serde(default)]
    pub centre: Option<String>,
    /// The group's id.
    pub group: i64,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The slot's start, `HH:MM`.
    pub start: String,
}

/// A booking as its booker sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingView {
    /// The code to type or scan at the kiosk.
    pub code: String,
    /// The centre's name.
    pub centre_name: String,
    /// The group's name.
    pub group_name: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The day, `DD/MM/YYYY`.
    pub day_label: String,
    /// The slot, `HH:MM–HH:MM`.
    pub slot: String,
    /// Where it is.
    pub state: BookingState,
    /// In Vietnamese.
    pub state_label: String,
    /// The ticket's number, once checked in.
    pub ticket: Option<String>,
    /// Whether its booker may still cancel it.
    pub cancellable: bool,
}

fn slot_of(b: &Booking) -> Slot {
    Slot {
        start: u16::try_from(b.slot_start).unwrap_or(0),
        end: u16::try_from(b.slot_end).unwrap_or(0),
    }
}

/// The instant booking `b`'s slot ends.
fn slot_end(b: &Booking) -> Result<OffsetDateTime, AppError> {
    let date = parse_day(&b.day)?;
    let end = slot_of(b).end;
    let t = time::Time::from_hms(
        u8::try_from(end / 60).unwrap_or(23),
        u8::try_from(end % 60).unwrap_or(59),
        0,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(date.with_time(t).assume_offset(motcua_core::calendar::VIETNAM_OFFSET))
}

/// The name of booking `b`'s centre (empty if it cannot be read).
async fn centre_name(state: &AppState, b: &Booking) -> String {
    match ProvinceCode::parse(&b.province_code) {
        Ok(p) => centre_of(state, &p, Some(&b.centre_code))
            .await
            .map(|c| c.1)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn view(state: &AppState, tx: &mut motcua_store::Tx, b: &Booking) -> Result<BookingView, AppError> {
    let name = centre_name(state, b).await;
    view_named(state, tx, b, name).await
}

/// [`view`] with the centre's name already known.
async fn view_named(
    state: &AppState,
    tx: &mut motcua_store::Tx,
    b: &Booking,
    centre_name: String,
) -> Result<BookingView, AppError> {
    let now = state.clock.now();
    let over = slot_end(b)? <= now;
    let st = BookingState::of(&b.state, over).unwrap_or(BookingState::Cancelled);
    let group_name = queue_store::group(tx, b.group_id)
        .await?
        .map(|g| g.name)
        .unwrap_or_default();
    let ticket = match b.ticket_id {
        Some(id) => queue_store::ticket(tx, id).await?.map(|t| t.number),
        None => None,
    };
    let started = {
        let date = parse_day(&b.day)?;
        let today = vietnam_date(now);
        date < today || (date == today && i64::from(minute_of_day(now)) >= b.slot_start)
    };
    Ok(BookingView {
        code: b.code.clone(),
        centre_name,
        group_name,
        day: b.day.clone(),
        day_label: dmy(&b.day),
        slot: slot_of(b).label(),
        state: st,
        state_label: st.label().to_owned(),
        ticket,
        cancellable: st == BookingState::Booked && !started,
    })
}

fn booker(p: &Principal) -> Result<String, AppError> {
    p.user
        .as_ref()
        .map(|u| u.id.clone())
        .ok_or_else(|| AppError::Unauthorized("Vui lòng đăng nhập để đặt lịch.".to_owned()))
}

/// Books a slot for the signed-in person: the slot must be one the group offers that day
/// and not started, with a place left; the person within the centre's daily limit.
pub async fn book(state: &AppState, p: &Principal, req: NewBooking) -> Result<BookingView, AppError> {
    let person = booker(p)?;
    let at = CentreParam {
        province: None,
        centre: req.centre.clone(),
    };
    let c = centre(state, &at).await?;
    let date = parse_day(&req.day)?;
    let day = iso(date);
    let start = req.start.trim();
    let offered = slots(state, &at, req.group, &day).await?;
    let Some(slot) = offered.iter().find(|s| s.start == start) else {
        return Err(AppError::bad(
            "invalid_field",
            "start",
            "Khung giờ này không có hoặc không còn nhận đặt lịch trong ngày đã chọn.",
        ));
    };
    let minutes = |hm: &str| -> i64 {
        let (h, m) = hm.split_once(':').unwrap_or(("0", "0"));
        h.parse::<i64>().unwrap_or(0) * 60 + m.parse::<i64>().unwrap_or(0)
    };
    let mut tx = state.db.begin_write().await?;
    let settings = store::settings(&mut tx, &c.code).await?;
    let capacity = group_capacity(&mut tx, &c.code, req.group).await?;
    if !store::take_place(&mut tx, req.group, &day, minutes(&slot.start), capacity).await? {
        return Err(AppError::Conflict(format!(
            "Khung giờ {} ngày {} đã hết chỗ; vui lòng chọn khung giờ khác.",
            slot.label,
            dmy(&day)
        )));
    }
    if !store::count_person(&mut tx, &person, &day, settings.per_person_per_day).await? {
        return Err(AppError::Conflict(format!(
            "Mỗi người được đặt tối đa {} lịch hẹn trong một ngày tại Trung tâm.",
            settings.per_person_per_day
        )));
    }
    let mut random = [0u8; rules::CODE_LENGTH];
    OsRng.fill_bytes(&mut random);
    let mut b = Booking {
        id: 0,
        code: rules::code_from(&random),
        province_code: c.province.as_str().to_owned(),
        centre_code: c.code.clone(),
        group_id: req.group,
        day,
        slot_start: minutes(&slot.start),
        slot_end: minutes(&slot.end),
        person,
        state: "booked".to_owned(),
        ticket_id: None,
        created_at: motcua_store::to_millis(state.clock.now()),
    };
    b.id = store::insert(&mut tx, &b).await?;
    let v = view(state, &mut tx, &b).await?;
    tx.commit().await?;
    Ok(v)
}

/// The signed-in person's bookings from today on.
pub async fn mine(state: &AppState, p: &Principal) -> Result<Vec<BookingView>, AppError> {
    let person = booker(p)?;
    let today = iso(vietnam_date(state.clock.now()));
    let mut tx = state.db.begin_read().await?;
    let mut out = Vec::new();
    // The centres' names, read once per centre rather than once per booking.
    let mut names: Vec<(String, String)> = Vec::new();
    for b in store::of_person(&mut tx, &person, &today).await? {
        let name = match names.iter().find(|(c, _)| *c == b.centre_code) {
            Some((_, n)) => n.clone(),
            None => {
                let n = centre_name(state, &b).await;
                names.push((b.centre_code.clone(), n.clone()));
                n
            }
        };
        out.push(view_named(state, &mut tx, &b, name).await?);
    }
    Ok(out)
}

/// Booking `code` of the signed-in person (not found for anyone else's).
async fn own(tx: &mut motcua_store::Tx, p: &Principal, code: &str) -> Result<Booking, AppError> {
    let person = booker(p)?;
    let code = rules::parse_code(code).map_err(|e| rule_error("code", e))?;
    store::by_code(tx, &code)
        .await?
        .filter(|b| b.person == person)
        .ok_or_else(|| AppError::NotFound(format!("Không có lịch hẹn mã {code}.")))
}

/// Booking `code` of the signed-in person.
pub async fn get(state: &AppState, p: &Principal, code: &str) -> Result<BookingView, AppError> {
    let mut tx = state.db.begin_read().await?;
    let b = own(&mut tx, p, code).await?;
    view(state, &mut tx, &b).await
}

/// Cancels booking `code` of the signed-in person before its slot starts: its place and
/// the person's daily count are given back.
pub async fn cancel(state: &AppState, p: &Principal, code: &str) -> Result<BookingView, AppError> {
    let mut tx = state.db.begin_write().await?;
    let b = own(&mut tx, p, code).await?;
    if !view(state, &mut tx, &b).await?.cancellable
        || !store::cancel(&mut tx, &b, motcua_store::to_millis(state.clock.now())).await?
    {
        return Err(AppError::Refused(
            "Lịch hẹn này không thể hủy: đã đến giờ hẹn, đã lấy số hoặc đã hủy.".to_owned(),
        ));
    }
    let b = store::by_code(&mut tx, &b.code).await?.unwrap_or(b);
    let v = view(state, &mut tx, &b).await?;
    tx.commit().await?;
    Ok(v)
}

/// Checks in booking `code` at kiosk `k`: on its day, at its centre, within its slot's
/// window, once. The ticket is of the booked group, called first until the slot ends.
pub async fn check_in(state: &AppState, k: &Kiosk, code: &str) -> Result<TicketView, AppError> {
    let code = rules::parse_code(code).map_err(|e| rule_error("code", e))?;
    let province = ProvinceCode::parse(&k.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    if !is_open(state, &province).await? {
        return Err(AppError::Refused(
            "Ngoài giờ làm việc của Trung tâm: máy chưa cấp số thứ tự.".to_owned(),
        ));
    }
    let now = state.clock.now();
    let day = day_of(now);
    let mut tx = state.db.begin_write().await?;
    let not_here = || AppError::NotFound(format!("Không có lịch hẹn mã {code} tại Trung tâm này."));
    let b = store::by_code(&mut tx, &code)
        .await?
        .filter(|b| b.centre_code == k.centre_code)
        .ok_or_else(not_here)?;
    if b.state != "booked" {
        return Err(AppError::Refused(format!(
            "Lịch hẹn {code} đã được dùng để lấy số hoặc đã hủy."
        )));
    }
    if b.day != day {
        return Err(AppError::Refused(format!(
            "Lịch hẹn {code} là của ngày {}, không phải hôm nay.",
            dmy(&b.day)
        )));
    }
    match rules::window(slot_of(&b), minute_of_day(now)) {
        Window::Open => {}
        Window::Early(opens) => {
            return Err(AppError::Refused(format!(
                "Chưa đến giờ hẹn ({}): vui lòng quay lại từ {}.",
                slot_of(&b).label(),
                rules::hhmm(opens)
            )));
        }
        Window::Over => {
            return Err(AppError::Refused(format!(
                "Khung giờ hẹn {} đã qua: vui lòng lấy số thường.",
                slot_of(&b).label()
            )));
        }
    }
    let group = queue_store::group(&mut tx, b.group_id)
        .await?
        .filter(|g| g.active)
        .ok_or_else(|| AppError::Refused("Nhóm dịch vụ đã đặt lịch hiện tạm ngừng.".to_owned()))?;
    let ticket = issue(
        &mut tx,
        &group,
        Issue {
            day: &day,
            priority_kind: None,
            kiosk_id: Some(&k.id),
            booked_until: Some(slot_end(&b)?),
            phone: None,
            email: None,
            now,
        },
    )
    .await?;
    if !store::check_in(&mut tx, b.id, ticket.id, motcua_store::to_millis(now)).await? {
        // Another kiosk checked it in between our read and our update: nothing is issued.
        return Err(AppError::Refused(format!("Lịch hẹn {code} đã được dùng để lấy số.")));
    }
    let v = ticket_view(&mut tx, &ticket).await?;
    super::board::commit(state, tx, &k.centre_code, ticket.id).await?;
    Ok(v)
}

/// A day's bookings at a centre, counted.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DayBookings {
    /// Booked, still to come.
    pub booked: i64,
    /// Checked in.
    pub checked_in: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// Not come, their slot over.
    pub no_show: i64,
}

/// Today's bookings at the centre, counted (system administrators).
pub async fn today(state: &AppState, principal: &Principal, at: &CentreParam) -> Result<DayBookings, AppError> {
    let a = super::queue::administered(state, principal, at).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin_read().await?;
    let mut d = DayBookings::default();
    for b in store::of_day(&mut tx, a.centre.as_str(), &day_of(now)).await? {
        match BookingState::of(&b.state, slot_end(&b)? <= now) {
            Some(BookingState::Booked) => d.booked += 1,
            Some(BookingState::CheckedIn) => d.checked_in += 1,
            Some(BookingState::Cancelled) => d.cancelled += 1,
            Some(BookingState::NoShow) => d.no_show += 1,
            None => {}
        }
    }
    Ok(d)
}
