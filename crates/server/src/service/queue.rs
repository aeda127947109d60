//! The counter queue (issue 21, docs/rules.md §1.1): a centre's service groups, counters,
//! settings and kiosks (system administrators, audited); tickets taken at a kiosk that
//! holds a device token, or on the public portal by someone in the hall who types the
//! centre's code of the day; the counter officer's calls, and the message a ticket with a
//! phone number or email gets when three tickets are ahead; the satisfaction given for a
//! served ticket at the kiosk.
//!
//! Who may do what: a kiosk token only takes tickets for its own centre; it reads no
//! personal data and calls nothing. Calling and moving tickets is for counter officers
//! whose grant is held at the counter's centre. The portal needs the code of the day and
//! is rate-limited per client address.

use motcua_core::access::Role;
use motcua_core::catalogue::AgencyKind;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::evaluation::Satisfaction;
use motcua_core::queue::{self as rules, Pick, QueueSettings, TicketLetter, TicketState};
use motcua_store::Tx;
use motcua_store::queue::{self as store, Counter, Group, GroupFields, Kiosk, Line, Move, Ticket};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::administered_province;
use super::trail::{province_event, record_and_commit};
use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, random_id, random_token, same_secret, secret_hash};
use crate::error::AppError;
use crate::state::AppState;

/// Where a ticket's public page lives: `/so-thu-tu/{token}`.
pub const TICKET_PAGE: &str = "/so-thu-tu/";

fn queue_error(field: &str, e: rules::QueueError) -> AppError {
    AppError::bad("invalid_field", field, e.to_string())
}

/// The Vietnam day of `now`, `YYYY-MM-DD`: tickets are numbered per group and this day.
pub(crate) fn day_of(now: time::OffsetDateTime) -> String {
    let d = now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The centre `requested` of `province` (or its first centre), checked to be an agency of
/// kind centre: its code and name.
pub async fn centre_of(
    state: &AppState,
    province: &ProvinceCode,
    requested: Option<&str>,
) -> Result<(AgencyCode, String), AppError> {
    let mut tx = state.db.begin_read().await?;
    let agencies = motcua_store::catalogue::agencies(&mut tx, province).await?;
    let wanted = requested
        .filter(|c| !c.trim().is_empty())
        .map(|c| AgencyCode::parse(c.trim()).map_err(|e| AppError::code("centre", e)))
        .transpose()?;
    // A centre named may be any working centre, a commune's included; none named is the
    // provincial centre (the first of kind `Centre`).
    agencies
        .into_iter()
        .find(|a| match &wanted {
            Some(w) => a.kind.is_centre() && a.is_active() && *w == a.code,
            None => a.kind == AgencyKind::Centre && a.is_active(),
        })
        .map(|a| (a.code, a.name))
        .ok_or_else(|| AppError::NotFound("Không có Trung tâm phục vụ hành chính công này.".to_owned()))
}

// ---------------------------------------------------------------------------------------
// Views

/// A service group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    /// Id.
    pub id: i64,
    /// Name ("Đất đai").
    pub name: String,
    /// Ticket letter ("A").
    pub letter: String,
    /// Order at the kiosk.
    pub position: i64,
    /// Offered at the kiosk.
    pub active: bool,
    /// Tickets waiting in it now.
    pub waiting: i64,
}

impl GroupView {
    pub(crate) fn of(g: &Group, counts: &[(i64, i64)]) -> Self {
        GroupView {
            id: g.id,
            name: g.name.clone(),
            letter: g.letter.clone(),
            position: g.position,
            active: g.active,
            waiting: counts.iter().find(|(id, _)| *id == g.id).map_or(0, |(_, n)| *n),
        }
    }
}

/// A counter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CounterView {
    /// Id.
    pub id: i64,
    /// Number over the desk.
    pub number: i64,
    /// Name.
    pub name: String,
    /// In use.
    pub active: bool,
    /// The groups it serves (ids).
    pub groups: Vec<i64>,
}

impl CounterView {
    /// Stored counter `c`, serving `groups`.
    fn stored(c: store::Counter, groups: Vec<i64>) -> Self {
        CounterView {
            id: c.id,
            number: c.number,
            name: c.name,
            active: c.active,
            groups,
        }
    }

    /// Counter `id` as `input` makes it, named `name`, serving `groups`.
    fn entered(id: i64, input: &CounterInput, name: String, groups: Vec<i64>) -> Self {
        CounterView {
            id,
            number: input.number,
            name,
            active: input.active,
            groups,
        }
    }
}

/// A kiosk (its token only in the answer that issues it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KioskView {
    /// Id.
    pub id: String,
    /// Where it stands.
    pub name: String,
    /// Who issued it.
    pub created_by: String,
    /// When (epoch ms).
    pub created_at: i64,
    /// When it was revoked (epoch ms).
    pub revoked_at: Option<i64>,
    /// The device token, shown once: typed into `/may-lay-so/kich-hoat` on the kiosk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl KioskView {
    fn of(k: &Kiosk, token: Option<String>) -> Self {
        KioskView {
            id: k.id.clone(),
            name: k.name.clone(),
            created_by: k.created_by.clone(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            token,
        }
    }
}

/// A centre's queue: settings, groups, counters and kiosks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueSetup {
    /// The centre's code.
    pub centre: String,
    /// Its name.
    pub centre_name: String,
    /// Settings.
    pub settings: QueueSettings,
    /// Groups, in kiosk order.
    pub groups: Vec<GroupView>,
    /// Counters, by number.
    pub counters: Vec<CounterView>,
    /// Kiosks, newest first.
    pub kiosks: Vec<KioskView>,
}

/// A ticket as staff and the kiosk see it (no personal data is ever on a ticket).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TicketView {
    /// Id.
    pub id: i64,
    /// As printed (`A015`).
    pub number: String,
    /// The group it waits in.
    pub group_id: i64,
    /// That group's name.
    pub group_name: String,
    /// The priority kind chosen, if any.
    pub priority_kind: Option<String>,
    /// Where it is.
    pub state: TicketState,
    /// The counter's number, once called.
    pub counter: Option<i64>,
    /// Recalls since called.
    pub recalls: i64,
    /// The dossier received from it.
    pub dossier_code: Option<String>,
    /// Taken (epoch ms); a transfer keeps it.
    pub taken_at: i64,
    /// Last called.
    pub called_at: Option<i64>,
    /// Service started.
    pub started_at: Option<i64>,
    /// Service finished or marked absent.
    pub finished_at: Option<i64>,
    /// The ticket's public page (the QR code's address, relative).
    pub page: String,
    /// From an online booking: called first until its slot ends.
    pub booked: bool,
}

pub(crate) async fn ticket_view(tx: &mut Tx, t: &Ticket) -> Result<TicketView, AppError> {
    let group = store::group(tx, t.group_id).await?;
    let counter = match t.counter_id {
        Some(id) => store::counter(tx, id).await?.map(|c| c.number),
        None => None,
    };
    Ok(view_of(t, group.map(|g| g.name).unwrap_or_default(), counter))
}

/// Ticket `t` as staff see it, in group `group_name`, at the counter numbered `counter`.
pub(crate) fn view_of(t: &Ticket, group_name: String, counter: Option<i64>) -> TicketView {
    TicketView {
        id: t.id,
        number: t.number.clone(),
        group_id: t.group_id,
        group_name,
        priority_kind: t.priority_kind.clone(),
        state: t.state().unwrap_or(TicketState::Waiting),
        counter,
        recalls: t.recalls,
        dossier_code: t.dossier_code.clone(),
        taken_at: t.taken_at,
        called_at: t.called_at,
        started_at: t.started_at,
        finished_at: t.finished_at,
        page: format!("{TICKET_PAGE}{}", t.public_token),
        booked: t.booked_until.is_some(),
    }
}

// ---------------------------------------------------------------------------------------
// Administration

/// Which centre a request is about.
#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CentreParam {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// The centre's agency code; the province's first centre when omitted.
    pub centre: Option<String>,
}

/// A service group to create, or the new state of one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// Name ("Tư pháp – Hộ tịch").
    pub name: String,
    /// Ticket letter, one of A–Z, unique at the centre.
    pub letter: String,
    /// Order at the kiosk (default 0).
    #[serde(default)]
    pub position: i64,
    /// Offered at the kiosk (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

/// A counter to create, or the new state of one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterInput {
    /// Number over the desk, 1–999, unique at the centre.
    pub number: i64,
    /// Name (default "Quầy <number>").
    #[serde(default)]
    pub name: String,
    /// The groups it serves (ids of the centre's groups).
    pub groups: Vec<i64>,
    /// In use (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

/// A kiosk to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskInput {
    /// Where it stands ("Sảnh tầng 1").
    pub name: String,
}

fn yes() -> bool {
    true
}

/// An administrator's view of a centre's queue.
pub(crate) struct Admin {
    day: String,
    pub(crate) province: ProvinceCode,
    pub(crate) centre: AgencyCode,
    centre_name: String,
}

/// The centre `at` of the province the caller administers (system administrators).
pub(crate) async fn administered(state: &AppState, principal: &Principal, at: &CentreParam) -> Result<Admin, AppError> {
    admin(state, principal, at).await
}

async fn admin(state: &AppState, principal: &Principal, at: &CentreParam) -> Result<Admin, AppError> {
    let province = administered_province(state, principal, at.province.as_deref()).await?;
    let (centre, centre_name) = centre_of(state, &province, at.centre.as_deref()).await?;
    Ok(Admin {
        day: day_of(state.clock.now()),
        province,
        centre,
        centre_name,
    })
}

/// The centre's queue setup (system administrators).
pub async fn setup(state: &AppState, principal: &Principal, at: &CentreParam) -> Result<QueueSetup, AppError> {
    let a = admin(state, principal, at).await?;
    let mut tx = state.db.begin_read().await?;
    load_setup(&mut tx, &a).await
}

async fn load_setup(tx: &mut Tx, a: &Admin) -> Result<QueueSetup, AppError> {
    let centre = a.centre.as_str();
    let counts = store::waiting_counts(tx, centre, &a.day).await?;
    let groups = store::groups(tx, centre)
        .await?
        .iter()
        .map(|g| GroupView::of(g, &counts))
        .collect();
    let mut counters = Vec::new();
    for c in store::counters(tx, centre).await? {
        let groups = store::counter_groups(tx, c.id).await?;
        counters.push(CounterView::stored(c, groups));
    }
    let kiosks = store::kiosks(tx, centre)
        .await?
        .iter()
        .map(|k| KioskView::of(k, None))
        .collect();
    Ok(QueueSetup {
        centre: centre.to_owned(),
        centre_name: a.centre_name.clone(),
        settings: store::settings(tx, centre).await?,
        groups,
        counters,
        kiosks,
    })
}

fn group_fields(input: &GroupInput) -> Result<(String, TicketLetter), AppError> {
    let name = motcua_core::text::nfc(input.name.trim());
    rules::check_name(&name).map_err(|e| queue_error("name", e))?;
    let letter = TicketLetter::parse(&input.letter).map_err(|e| queue_error("letter", e))?;
    Ok((name, letter))
}

fn group_json(name: &str, letter: TicketLetter, input: &GroupInput) -> serde_json::Value {
    serde_json::json!({"name": name, "letter": String::from(letter), "position": input.position, "active": input.active})
}

/// Creates a service group (system administrators; audited `queue.group.create`).
pub async fn create_group(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    input: GroupInput,
) -> Result<GroupView, AppError> {
    let a = admin(state, principal, at).await?;
    let (name, letter) = group_fields(&input)?;
    let letter_text = String::from(letter);
    let fields = GroupFields {
        name: &name,
        letter: &letter_text,
        position: input.position,
        active: input.active,
    };
    let mut tx = state.db.begin_write().await?;
    let id = store::insert_group(
        &mut tx,
        a.province.as_str(),
        a.centre.as_str(),
        &fields,
        crate::now_ms(),
    )
    .await
    .map_err(|e| letter_taken(e, letter))?;
    let object_id = id.to_string();
    let event = Event {
        after: Some(group_json(&name, letter, &input)),
        ..province_event(&a.province, "queue.group.create", "queue_group", &object_id)
    };
    audit::record(&mut tx, &Actor::of(principal), event).await?;
    let g = store::group(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("group vanished".to_owned()))?;
    tx.commit().await?;
    Ok(GroupView::of(&g, &[]))
}

fn letter_taken(e: motcua_store::StoreError, letter: TicketLetter) -> AppError {
    match e {
        motcua_store::StoreError::Conflict(_) => AppError::Conflict(format!(
            "Chữ cái «{}» đã dùng cho một nhóm khác của Trung tâm.",
            letter.as_char()
        )),
        e => e.into(),
    }
}

/// Changes service group `id` (system administrators; audited `queue.group.update`).
pub async fn update_group(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    id: i64,
    input: GroupInput,
) -> Result<GroupView, AppError> {
    let a = admin(state, principal, at).await?;
    let (name, letter) = group_fields(&input)?;
    let letter_text = String::from(letter);
    let mut tx = state.db.begin_write().await?;
    let before = centre_group(&mut tx, &a, id).await?;
    let fields = GroupFields {
        name: &name,
        letter: &letter_text,
        position: input.position,
        active: input.active,
    };
    store::update_group(&mut tx, id, &fields, crate::now_ms())
        .await
        .map_err(|e| letter_taken(e, letter))?;
    let object_id = id.to_string();
    let event = Event {
        before: Some(
            serde_json::json!({"name": before.name, "letter": before.letter, "position": before.position,
            "active": before.active}),
        ),
        after: Some(group_json(&name, letter, &input)),
        ..province_event(&a.province, "queue.group.update", "queue_group", &object_id)
    };
    audit::record(&mut tx, &Actor::of(principal), event).await?;
    let g = centre_group(&mut tx, &a, id).await?;
    tx.commit().await?;
    Ok(GroupView::of(&g, &[]))
}

async fn centre_group(tx: &mut Tx, a: &Admin, id: i64) -> Result<Group, AppError> {
    store::group(tx, id)
        .await?
        .filter(|g| g.centre_code == a.centre.as_str())
        .ok_or_else(|| AppError::NotFound(format!("Không có nhóm dịch vụ số {id} ở Trung tâm này.")))
}

async fn counter_fields(tx: &mut Tx, a: &Admin, input: &CounterInput) -> Result<(String, Vec<i64>), AppError> {
    rules::check_counter_number(input.number).map_err(|e| queue_error("number", e))?;
    let mut name = motcua_core::text::nfc(input.name.trim());
    if name.is_empty() {
        name = format!("Quầy {}", input.number);
    }
    rules::check_name(&name).map_err(|e| queue_error("name", e))?;
    let mut groups = input.groups.clone();
    groups.sort_unstable();
    groups.dedup();
    for g in &groups {
        if store::group(tx, *g)
            .await?
            .is_none_or(|g| g.centre_code != a.centre.as_str())
        {
            return Err(AppError::bad(
                "invalid_field",
                "groups",
                format!("Không có nhóm dịch vụ số {g} ở Trung tâm này."),
            ));
        }
    }
    Ok((name, groups))
}

fn number_taken(e: motcua_store::StoreError, number: i64) -> AppError {
    match e {
        motcua_store::StoreError::Conflict(_) => AppError::Conflict(format!("Trung tâm đã có quầy số {number}.")),
        e => e.into(),
    }
}

/// Creates a counter (system administrators; audited `queue.counter.create`).
pub async fn create_counter(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    input: CounterInput,
) -> Result<CounterView, AppError> {
    let a = admin(state, principal, at).await?;
    let mut tx = state.db.begin_write().await?;
    let (name, groups) = counter_fields(&mut tx, &a, &input).await?;
    let now = crate::now_ms();
    let id = store::insert_counter(
        &mut tx,
        a.province.as_str(),
        a.centre.as_str(),
        input.number,
        &name,
        input.active,
        now,
    )
    .await
    .map_err(|e| number_taken(e, input.number))?;
    let view = CounterView::entered(id, &input, name, groups);
    save_counter(tx, principal, &a, None, view, "queue.counter.create").await
}

/// Changes counter `id` (system administrators; audited `queue.counter.update`).
pub async fn update_counter(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    id: i64,
    input: CounterInput,
) -> Result<CounterView, AppError> {
    let a = admin(state, principal, at).await?;
    let mut tx = state.db.begin_write().await?;
    let old = store::counter(&mut tx, id)
        .await?
        .filter(|c| c.centre_code == a.centre.as_str())
        .ok_or_else(|| AppError::NotFound(format!("Không có quầy mã {id} ở Trung tâm này.")))?;
    let before = CounterView::stored(old, store::counter_groups(&mut tx, id).await?);
    let (name, groups) = counter_fields(&mut tx, &a, &input).await?;
    store::update_counter(&mut tx, id, input.number, &name, input.active, crate::now_ms())
        .await
        .map_err(|e| number_taken(e, input.number))?;
    let view = CounterView::entered(id, &input, name, groups);
    save_counter(tx, principal, &a, Some(before), view, "queue.counter.update").await
}

/// Stores `view`'s groups, records `action` with the counter before and after, commits.
async fn save_counter(
    mut tx: Tx,
    principal: &Principal,
    a: &Admin,
    before: Option<CounterView>,
    view: CounterView,
    action: &'static str,
) -> Result<CounterView, AppError> {
    store::set_counter_groups(&mut tx, view.id, &view.groups).await?;
    let object_id = view.id.to_string();
    let event = Event {
        before: before.and_then(|b| serde_json::to_value(&b).ok()),
        after: serde_json::to_value(&view).ok(),
        ..province_event(&a.province, action, "queue_counter", &object_id)
    };
    record_and_commit(tx, principal, event).await?;
    Ok(view)
}

/// Replaces the centre's queue settings (system administrators; audited
/// `queue.settings.update`).
pub async fn put_settings(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    mut settings: QueueSettings,
) -> Result<QueueSettings, AppError> {
    let a = admin(state, principal, at).await?;
    settings.priority_kinds = settings
        .priority_kinds
        .iter()
        .map(|k| motcua_core::text::nfc(k.trim()))
        .collect();
    settings.validate().map_err(|e| {
        let field = match e {
            rules::QueueError::InvalidPriorityRun => "max_priority_run",
            rules::QueueError::InvalidRecalls => "recalls_before_no_show",
            _ => "priority_kinds",
        };
        queue_error(field, e)
    })?;
    let mut tx = state.db.begin_write().await?;
    let before = store::settings(&mut tx, a.centre.as_str()).await?;
    store::put_settings(
        &mut tx,
        a.province.as_str(),
        a.centre.as_str(),
        &settings,
        crate::now_ms(),
    )
    .await?;
    let event = Event {
        before: serde_json::to_value(&before).ok(),
        after: serde_json::to_value(&settings).ok(),
        ..province_event(&a.province, "queue.settings.update", "agency", a.centre.as_str())
    };
    record_and_commit(tx, principal, event).await?;
    Ok(settings)
}

/// Issues a kiosk token for the centre (system administrators; audited
/// `queue.kiosk.create`). The answer shows the token, this once; the database keeps its
/// SHA-256, like an API token's.
pub async fn issue_kiosk(
    state: &AppState,
    principal: &Principal,
    at: &CentreParam,
    input: KioskInput,
) -> Result<KioskView, AppError> {
    let a = admin(state, principal, at).await?;
    let name = motcua_core::text::nfc(input.name.trim());
    rules::check_name(&name).map_err(|e| queue_error("name", e))?;
    let token = format!("mk_{}", random_token(32));
    let kiosk = Kiosk {
        id: random_id(),
        province_code: a.province.as_str().to_owned(),
        centre_code: a.centre.as_str().to_owned(),
        name,
        created_by: principal.actor(),
        created_at: crate::now_ms(),
        revoked_at: None,
    };
    let mut tx = state.db.begin_write().await?;
    store::insert_kiosk(&mut tx, &kiosk, &secret_hash(&token)).await?;
    let event = Event {
        after: Some(serde_json::json!({"name": kiosk.name, "centre": kiosk.centre_code})),
        ..province_event(&a.province, "queue.kiosk.create", "queue_kiosk", &kiosk.id)
    };
    record_and_commit(tx, principal, event).await?;
    Ok(KioskView::of(&kiosk, Some(token)))
}

/// Revokes kiosk `id` (system administrators; audited `queue.kiosk.revoke`).
pub async fn revoke_kiosk(state: &AppState, principal: &Principal, at: &CentreParam, id: &str) -> Result<(), AppError> {
    let a = admin(state, principal, at).await?;
    let mut tx = state.db.begin_write().await?;
    if !store::revoke_kiosk(&mut tx, a.centre.as_str(), id, crate::now_ms()).await? {
        return Err(AppError::NotFound("Không có máy lấy số này.".to_owned()));
    }
    record_and_commit(
        tx,
        principal,
        province_event(&a.province, "queue.kiosk.revoke", "queue_kiosk", id),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// The kiosk

/// The kiosk a device token belongs to; 401 for a token that is unknown or revoked.
pub async fn kiosk(state: &AppState, token: &str) -> Result<Kiosk, AppError> {
    let mut tx = state.db.begin_read().await?;
    store::kiosk_by_hash(&mut tx, &secret_hash(token.trim()))
        .await?
        .ok_or_else(|| AppError::Unauthorized("Máy lấy số chưa được cấp mã hoặc mã đã bị thu hồi.".to_owned()))
}

/// What a kiosk offers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KioskMenu {
    /// The centre's name.
    pub centre_name: String,
    /// Whether the centre is in a working session now (tickets are issued only then).
    pub open: bool,
    /// The groups offered, in order.
    pub groups: Vec<GroupView>,
    /// The priority kinds a person may choose.
    pub priority_kinds: Vec<String>,
    /// The centre's code of the day and the portal's address with it (for a phone).
    pub hall: HallCode,
}

/// What kiosk `k` offers now.
pub async fn kiosk_menu(state: &AppState, k: &Kiosk) -> Result<KioskMenu, AppError> {
    let province = ProvinceCode::parse(&k.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let (_, centre_name) = centre_of(state, &province, Some(&k.centre_code)).await?;
    let open = is_open(state, &province).await?;
    let mut tx = state.db.begin_read().await?;
    let counts = store::waiting_counts(&mut tx, &k.centre_code, &day_of(state.clock.now())).await?;
    let groups = store::groups(&mut tx, &k.centre_code)
        .await?
        .iter()
        .filter(|g| g.active)
        .map(|g| GroupView::of(g, &counts))
        .collect();
    let settings = store::settings(&mut tx, &k.centre_code).await?;
    drop(tx);
    Ok(KioskMenu {
        centre_name,
        open,
        groups,
        priority_kinds: settings.priority_kinds,
        hall: hall_code(state, &k.centre_code).await?,
    })
}

/// Whether `province`'s calendar has a working session now.
pub(crate) async fn is_open(state: &AppState, province: &ProvinceCode) -> Result<bool, AppError> {
    let cal = super::calendar::calendar(state, province).await?;
    let now = state.clock.now();
    Ok(cal.next_working_moment(now).is_ok_and(|t| t == now))
}

/// A ticket asked for at a kiosk.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeTicket {
    /// The group's id.
    pub group: i64,
    /// One of the centre's priority kinds, for a priority ticket.
    #[serde(default)]
    pub priority_kind: Option<String>,
}

/// Takes a ticket at kiosk `k`: the group's next number of the day, in one transaction.
/// Only groups of the kiosk's own centre, only in a working session.
pub async fn take_ticket(state: &AppState, k: &Kiosk, req: TakeTicket) -> Result<TicketView, AppError> {
    let at = TakenAt {
        province: &k.province_code,
        centre: &k.centre_code,
        kiosk: Some(&k.id),
    };
    take(state, &at, req, &store::Contact::default()).await
}

/// Where a ticket is taken: the centre, and the kiosk (none on the portal).
struct TakenAt<'a> {
    province: &'a str,
    centre: &'a str,
    kiosk: Option<&'a str>,
}

/// Takes a ticket of `req`'s group at `at`'s centre, with `contact` (the portal's
/// optional phone number and email): the one path of the kiosk and the portal. Only
/// active groups of that centre, only in a working session.
async fn take(
    state: &AppState,
    at: &TakenAt<'_>,
    req: TakeTicket,
    contact: &store::Contact,
) -> Result<TicketView, AppError> {
    let province = ProvinceCode::parse(at.province).map_err(|e| AppError::Internal(e.to_string()))?;
    if !is_open(state, &province).await? {
        return Err(AppError::Refused(
            "Ngoài giờ làm việc của Trung tâm: chưa cấp số thứ tự.".to_owned(),
        ));
    }
    let priority = req
        .priority_kind
        .as_deref()
        .map(|p| motcua_core::text::nfc(p.trim()))
        .filter(|p| !p.is_empty());
    let now = state.clock.now();
    let day = day_of(now);
    // The group and the centre's list change only by an administrator's hand: read before
    // the writer is taken, so that it is held for the ticket's rows alone.
    let mut read = state.db.begin_read().await?;
    let group = store::group(&mut read, req.group)
        .await?
        .filter(|g| g.centre_code == at.centre && g.active)
        .ok_or_else(|| AppError::bad("invalid_field", "group", "Nhóm dịch vụ không có ở Trung tâm này."))?;
    if let Some(p) = &priority {
        let settings = store::settings(&mut read, at.centre).await?;
        if !settings.priority_kinds.contains(p) {
            return Err(AppError::bad(
                "invalid_field",
                "priority_kind",
                "Đối tượng ưu tiên không có trong danh sách của Trung tâm.",
            ));
        }
    }
    drop(read);
    let mut tx = state.db.begin_write().await?;
    let ticket = issue(
        &mut tx,
        &group,
        Issue {
            day: &day,
            priority_kind: priority.as_deref(),
            kiosk_id: at.kiosk,
            booked_until: None,
            phone: contact.phone.as_deref(),
            email: contact.email.as_deref(),
            now,
        },
    )
    .await?;
    super::board::commit(state, tx, at.centre, ticket.id).await?;
    Ok(view_of(&ticket, group.name, None))
}

/// What a new ticket is, besides its group.
pub(crate) struct Issue<'a> {
    /// Vietnam day.
    pub day: &'a str,
    /// The priority kind chosen, if any.
    pub priority_kind: Option<&'a str>,
    /// The issuing kiosk (none on the portal).
    pub kiosk_id: Option<&'a str>,
    /// From a booking: called first until then.
    pub booked_until: Option<time::OffsetDateTime>,
    /// The portal's optional mobile number, for the message three tickets ahead.
    pub phone: Option<&'a str>,
    /// The portal's optional email address, for the same.
    pub email: Option<&'a str>,
    /// Now.
    pub now: time::OffsetDateTime,
}

/// Issues `group`'s next number of the day in `tx`.
pub(crate) async fn issue(tx: &mut Tx, group: &Group, i: Issue<'_>) -> Result<Ticket, AppError> {
    let letter = TicketLetter::parse(&group.letter).map_err(|e| AppError::Internal(e.to_string()))?;
    let token = random_token(24);
    let ticket = store::take(
        tx,
        &store::NewTicket {
            group,
            day: i.day,
            public_token: &token,
            priority_kind: i.priority_kind,
            kiosk_id: i.kiosk_id,
            booked_until: i.booked_until.map(motcua_store::to_millis),
            phone: i.phone,
            email: i.email,
            now_ms: motcua_store::to_millis(i.now),
        },
        |n| rules::ticket_number(letter, n),
    )
    .await?;
    Ok(ticket)
}

/// A ticket as its public page shows it: the number, the line, the counter; nothing
/// about the person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicTicket {
    /// The ticket.
    pub ticket: TicketView,
    /// The centre's name.
    pub centre_name: String,
    /// Tickets of its group waiting ahead of it (0 once called).
    pub ahead: i64,
    /// While it waits: the estimated wait in minutes, from the gaps between the group's
    /// latest calls today (`core::queue::estimated_wait_minutes`); null when it cannot be
    /// estimated yet.
    pub estimated_wait_minutes: Option<i64>,
    /// The centre, whose queue changes the page follows.
    #[serde(skip)]
    pub centre_code: String,
}

/// The ticket whose public page is `token`.
pub async fn public_ticket(state: &AppState, token: &str) -> Result<PublicTicket, AppError> {
    let not_found = || AppError::NotFound("Không tìm thấy số thứ tự này.".to_owned());
    let mut tx = state.db.begin_read().await?;
    let t = store::ticket_by_token(&mut tx, token).await?.ok_or_else(not_found)?;
    let (ahead, estimated_wait_minutes) = if t.state() == Some(TicketState::Waiting) {
        let ahead = store::ahead_of(&mut tx, t.group_id, &t.day, t.taken_at, t.id).await?;
        let limit = i64::try_from(rules::ESTIMATE_CALLS).unwrap_or(10);
        let calls = store::recent_call_times(&mut tx, t.group_id, &t.day, limit).await?;
        (ahead, rules::estimated_wait_minutes(ahead, &calls))
    } else {
        (0, None)
    };
    let ticket = ticket_view(&mut tx, &t).await?;
    drop(tx);
    let province = ProvinceCode::parse(&t.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let (_, centre_name) = centre_of(state, &province, Some(&t.centre_code)).await?;
    Ok(PublicTicket {
        ticket,
        centre_name,
        ahead,
        estimated_wait_minutes,
        centre_code: t.centre_code,
    })
}

// ---------------------------------------------------------------------------------------
// The counter

/// Counter `id`, if the caller is a counter officer of its centre.
async fn officer_counter(state: &AppState, principal: &Principal, id: i64) -> Result<Counter, AppError> {
    let mut tx = state.db.begin_read().await?;
    officer_counter_in(&mut tx, principal, id).await
}

/// [`officer_counter`] read in `tx`.
async fn officer_counter_in(tx: &mut Tx, principal: &Principal, id: i64) -> Result<Counter, AppError> {
    let counter = store::counter(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Không có quầy mã {id}.")))?;
    let allowed = principal.user.is_some()
        && principal.access.grants().iter().any(|g| {
            g.role == Role::CounterOfficer
                && g.province.as_str() == counter.province_code
                && g.agency.as_str() == counter.centre_code
        });
    principal.require(allowed, "gọi số tại quầy của Trung tâm này")?;
    Ok(counter)
}

/// A counter's queue panel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CounterPanel {
    /// The counter.
    pub counter: CounterView,
    /// The groups it serves, with how many wait.
    pub groups: Vec<GroupView>,
    /// Every group of the centre (transfer targets).
    pub all_groups: Vec<GroupView>,
    /// The tickets it holds (called or being served).
    pub current: Vec<TicketView>,
    /// Recalls before a ticket may be marked absent.
    pub recalls_before_no_show: i64,
}

/// The counters of the caller's centre (counter officers): where they may sit.
pub async fn officer_counters(state: &AppState, principal: &Principal) -> Result<Vec<CounterView>, AppError> {
    let centres: std::collections::BTreeSet<&str> = principal
        .access
        .grants()
        .iter()
        .filter(|g| g.role == Role::CounterOfficer)
        .map(|g| g.agency.as_str())
        .collect();
    principal.require(!centres.is_empty(), "gọi số tại quầy")?;
    let mut tx = state.db.begin_read().await?;
    let mut out = Vec::new();
    for centre in centres {
        for c in store::counters(&mut tx, centre).await? {
            let groups = store::counter_groups(&mut tx, c.id).await?;
            out.push(CounterView::stored(c, groups));
        }
    }
    Ok(out)
}

/// Counter `id`'s panel (counter officers of its centre).
pub async fn panel(state: &AppState, principal: &Principal, id: i64) -> Result<CounterPanel, AppError> {
    let c = officer_counter(state, principal, id).await?;
    let mut tx = state.db.begin_read().await?;
    let served = store::counter_groups(&mut tx, id).await?;
    let counts = store::waiting_counts(&mut tx, &c.centre_code, &day_of(state.clock.now())).await?;
    let all = store::groups(&mut tx, &c.centre_code).await?;
    let mut current = Vec::new();
    for t in store::at_counter(&mut tx, id).await? {
        current.push(ticket_view(&mut tx, &t).await?);
    }
    let settings = store::settings(&mut tx, &c.centre_code).await?;
    Ok(CounterPanel {
        groups: all
            .iter()
            .filter(|g| served.contains(&g.id))
            .map(|g| GroupView::of(g, &counts))
            .collect(),
        all_groups: all.iter().map(|g| GroupView::of(g, &counts)).collect(),
        counter: CounterView::stored(c, served),
        current,
        recalls_before_no_show: settings.recalls_before_no_show,
    })
}

/// How many times a call retries when another counter claimed the chosen ticket first.
const CLAIM_ATTEMPTS: usize = 20;

/// "Gọi số tiếp theo": claims the next ticket of the groups counter `id` serves, by the
/// fair rule ([`rules::next_call`]) and then arrival order (counter officers of its
/// centre). `None` when nobody waits.
pub async fn call_next(state: &AppState, principal: &Principal, id: i64) -> Result<Option<TicketView>, AppError> {
    // What the counter serves and the centre's rule change only by an administrator's
    // hand: read before the writer is taken, so that it is held for the claim alone.
    let mut read = state.db.begin_read().await?;
    let c = officer_counter_in(&mut read, principal, id).await?;
    if !c.active {
        return Err(AppError::Refused(format!("Quầy số {} đang tạm ngừng.", c.number)));
    }
    let officer = principal.actor();
    let day = day_of(state.clock.now());
    let groups = store::counter_groups(&mut read, id).await?;
    let settings = store::settings(&mut read, &c.centre_code).await?;
    let mut names: std::collections::HashMap<i64, String> = store::groups(&mut read, &c.centre_code)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    drop(read);
    let mut tx = state.db.begin_write().await?;
    // The run is read inside the transaction: two calls at the same counter see each other's.
    let run = store::counter(&mut tx, id).await?.map_or(0, |c| c.priority_run);
    let skip_locked = store::claims_skip_locked(&tx);
    for _ in 0..CLAIM_ATTEMPTS {
        let now = motcua_store::to_millis(state.clock.now());
        // A ticket checked in from a booking goes first while its slot lasts; it does not
        // count in the fair rule's run.
        let (t, run_after) = match store::oldest_waiting_to_claim(&mut tx, &groups, &day, Line::Booked(now)).await? {
            Some(t) => (t, run),
            None => {
                // Which line the fair rule calls from, then the oldest ticket of that line
                // no other counter is claiming this instant (PostgreSQL; on SQLite the same
                // ticket); if all of that line's are being claimed, the other line's.
                let mut priority = store::oldest_waiting(&mut tx, &groups, &day, Line::Priority).await?;
                let mut ordinary = store::oldest_waiting(&mut tx, &groups, &day, Line::Ordinary).await?;
                let Some(pick) =
                    rules::next_call(priority.is_some(), ordinary.is_some(), run, settings.max_priority_run)
                else {
                    tx.commit().await?;
                    return Ok(None);
                };
                let other = match pick {
                    Pick::Priority => Pick::Ordinary,
                    Pick::Ordinary => Pick::Priority,
                };
                let mut claimable = None;
                for pick in [pick, other] {
                    let (line, seen) = match pick {
                        Pick::Priority => (Line::Priority, priority.take()),
                        Pick::Ordinary => (Line::Ordinary, ordinary.take()),
                    };
                    let found = if skip_locked {
                        store::oldest_waiting_to_claim(&mut tx, &groups, &day, line).await?
                    } else {
                        seen
                    };
                    if let Some(t) = found {
                        claimable = Some((t, rules::run_after(run, pick)));
                        break;
                    }
                }
                // Everyone waiting is being called by other counters right now.
                let Some(found) = claimable else {
                    tx.commit().await?;
                    return Ok(None);
                };
                found
            }
        };
        if let Some(t) = store::claim(&mut tx, t.id, id, &officer, now).await? {
            store::set_priority_run(&mut tx, id, run_after).await?;
            // The line of the group called from moved: who is now three from the front?
            notify_near(&mut tx, t.group_id, &day, state.clock.now()).await?;
            super::board::commit(state, tx, &c.centre_code, t.id).await?;
            let name = names.remove(&t.group_id).unwrap_or_default();
            return Ok(Some(view_of(&t, name, Some(c.number))));
        }
        // Another counter took it between our read and our update: look again.
    }
    Err(AppError::Conflict(
        "Nhiều quầy cùng gọi số lúc này; vui lòng bấm lại.".to_owned(),
    ))
}

/// What an officer does with a ticket their counter holds.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketAction {
    /// `recall`, `no_show`, `start`, `finish` or `transfer`.
    pub action: String,
    /// The target group, for `transfer`.
    #[serde(default)]
    pub group: Option<i64>,
}

/// Applies `action` to ticket `ticket` held by counter `id` (counter officers of its
/// centre). A no-show needs the centre's number of recalls first; a transfer puts the
/// ticket back in line in another group of the centre with its arrival time.
pub async fn act(
    state: &AppState,
    principal: &Principal,
    id: i64,
    ticket: i64,
    action: TicketAction,
) -> Result<TicketView, AppError> {
    let c = officer_counter(state, principal, id).await?;
    let mut tx = state.db.begin_write().await?;
    let t = store::ticket(&mut tx, ticket)
        .await?
        .filter(|t| t.counter_id == Some(id))
        .ok_or_else(|| AppError::NotFound("Quầy này không giữ số thứ tự đó.".to_owned()))?;
    let m = match action.action.as_str() {
        "recall" => Move::Recall,
        "start" => Move::Start,
        "finish" => Move::Finish,
        "no_show" => {
            let settings = store::settings(&mut tx, &c.centre_code).await?;
            if t.recalls < settings.recalls_before_no_show {
                return Err(AppError::Refused(format!(
                    "Cần gọi lại ít nhất {} lần trước khi ghi nhận vắng mặt.",
                    settings.recalls_before_no_show
                )));
            }
            Move::NoShow
        }
        "transfer" => {
            let g = action
                .group
                .ok_or_else(|| AppError::bad("invalid_field", "group", "Chọn nhóm dịch vụ để chuyển số."))?;
            let target = store::group(&mut tx, g)
                .await?
                .filter(|x| x.centre_code == c.centre_code);
            if target.is_none() || g == t.group_id {
                return Err(AppError::bad(
                    "invalid_field",
                    "group",
                    "Chọn một nhóm dịch vụ khác của Trung tâm để chuyển số.",
                ));
            }
            Move::Transfer(g)
        }
        _ => {
            return Err(AppError::bad(
                "invalid_field",
                "action",
                "Thao tác phải là recall, no_show, start, finish hoặc transfer.",
            ));
        }
    };
    let now = motcua_store::to_millis(state.clock.now());
    if !store::move_ticket(&mut tx, ticket, id, m, now).await? {
        let label = t.state().map_or("", TicketState::label);
        return Err(AppError::Refused(format!(
            "Số {} đang ở trạng thái «{label}»: không làm được thao tác này.",
            t.number
        )));
    }
    // A transfer puts the ticket in another group's line (it may now be near the front
    // there); a no-show ends a call. Either way, look at the line it affects.
    match m {
        Move::Transfer(g) => notify_near(&mut tx, g, &t.day, state.clock.now()).await?,
        Move::NoShow => notify_near(&mut tx, t.group_id, &t.day, state.clock.now()).await?,
        Move::Recall | Move::Start | Move::Finish => {}
    }
    let t = store::ticket(&mut tx, ticket)
        .await?
        .ok_or_else(|| AppError::Internal("ticket vanished".to_owned()))?;
    let view = ticket_view(&mut tx, &t).await?;
    super::board::commit(state, tx, &t.centre_code, t.id).await?;
    Ok(view)
}

/// The number of the queue ticket dossier `code` was received from, if any. For a caller
/// already allowed to see the dossier (the receipt's page reads the dossier first).
pub async fn ticket_number_of(state: &AppState, code: &str) -> Result<Option<String>, AppError> {
    let mut tx = state.db.begin_read().await?;
    Ok(store::ticket_of_dossier(&mut tx, code).await?)
}

/// Ticket `id`, checked for an intake at `receiving` by `principal`: a counter officer of
/// the ticket's centre, the ticket called or being served at a counter and not yet linked
/// to a dossier, and the dossier received by that centre. Its id and number.
pub async fn ticket_for_intake(
    state: &AppState,
    principal: &Principal,
    id: i64,
    receiving: &AgencyCode,
) -> Result<(i64, String), AppError> {
    let bad = |m: &str| AppError::bad("invalid_field", "ticket", m);
    let mut tx = state.db.begin_read().await?;
    let t = store::ticket(&mut tx, id)
        .await?
        .ok_or_else(|| bad("Không có số thứ tự này."))?;
    let officer = principal.user.is_some()
        && principal.access.grants().iter().any(|g| {
            g.role == Role::CounterOfficer
                && g.province.as_str() == t.province_code
                && g.agency.as_str() == t.centre_code
        });
    principal.require(officer, "tiếp nhận hồ sơ theo số thứ tự của Trung tâm này")?;
    if t.centre_code != receiving.as_str() {
        return Err(bad(
            "Hồ sơ của thủ tục này không tiếp nhận tại Trung tâm đã cấp số thứ tự.",
        ));
    }
    let at_counter = matches!(t.state(), Some(TicketState::Called | TicketState::Serving));
    if !at_counter || t.dossier_code.is_some() {
        return Err(bad(&format!(
            "Số thứ tự {} không còn ở quầy hoặc đã gắn với hồ sơ khác.",
            t.number
        )));
    }
    Ok((t.id, t.number))
}

// ---------------------------------------------------------------------------------------
// The centre's code of the day and the portal

/// The name of the secret codes of the day derive from (`server_secrets`).
const HALL_SECRET: &str = "queue_hall";

/// Where a ticket is taken on the portal: `/lay-so`.
pub const PORTAL_PAGE: &str = "/lay-so";

/// Wrong codes of the day a client address may type per minute; then 429. Someone in the
/// hall mistypes a few times at most; guessing six digits takes hundreds of thousands.
pub const HALL_CODE_MISSES_PER_MINUTE: u32 = 10;

/// Tickets a client address may take on the portal per minute; then 429. A family takes
/// a few; a script filling the line is held to this many, with the right code of the day.
pub const PORTAL_TICKETS_PER_MINUTE: u32 = 5;

/// A centre's code of the day, as the hall shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HallCode {
    /// Six digits, typed on the portal (`/lay-so`); a new one every Vietnam day.
    pub code: String,
    /// The portal's page with the centre and the code filled in (what the hall's QR code
    /// opens).
    pub url: String,
}

/// The deployment's key of the codes of the day: made once (random) and kept in the
/// database, so every node derives the same codes and a restart changes nothing.
async fn hall_secret(state: &AppState) -> Result<String, AppError> {
    let mut tx = state.db.begin_read().await?;
    if let Some(s) = store::server_secret(&mut tx, HALL_SECRET).await? {
        return Ok(s);
    }
    drop(tx);
    let mut tx = state.db.begin_write().await?;
    let s = store::keep_server_secret(&mut tx, HALL_SECRET, &random_token(32), crate::now_ms()).await?;
    tx.commit().await?;
    Ok(s)
}

/// The code of `centre` on Vietnam `day`: HMAC-SHA256 of the centre and the day under the
/// deployment's key, as six digits (`core::queue::hall_code`). Nothing is stored per day.
async fn hall_code_on(state: &AppState, centre: &str, day: &str) -> Result<String, AppError> {
    use hmac::{Hmac, Mac};
    let secret = hall_secret(state).await?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    mac.update(rules::hall_code_input(centre, day).as_bytes());
    Ok(rules::hall_code(&mac.finalize().into_bytes()))
}

/// `centre`'s code of today and the portal's address with it.
pub async fn hall_code(state: &AppState, centre: &str) -> Result<HallCode, AppError> {
    let code = hall_code_on(state, centre, &day_of(state.clock.now())).await?;
    // An agency code is digits, dots and capitals: nothing to escape in a query.
    let url = format!("{}{PORTAL_PAGE}?tt={centre}&ma={code}", state.config.public_base());
    Ok(HallCode { code, url })
}

/// A centre the portal offers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortalCentre {
    /// Its agency code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// What the portal's page offers for a centre.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortalMenu {
    /// The centre chosen.
    pub centre: PortalCentre,
    /// Every centre of the province (a choice when there are several).
    pub centres: Vec<PortalCentre>,
    /// Whether the centre is in a working session now.
    pub open: bool,
    /// Its active groups, in kiosk order, with how many wait.
    pub groups: Vec<GroupView>,
}

/// The portal's page for `centre` (the province's first centre when none is named).
pub async fn portal_menu(state: &AppState, centre: Option<&str>) -> Result<PortalMenu, AppError> {
    let province = state.province(None).await?;
    let (code, name) = centre_of(state, &province, centre).await?;
    let centres = {
        let mut tx = state.db.begin_read().await?;
        motcua_store::catalogue::agencies(&mut tx, &province)
            .await?
            .into_iter()
            .filter(|a| a.kind.is_centre() && a.is_active())
            .map(|a| PortalCentre {
                code: a.code.as_str().to_owned(),
                name: a.name,
            })
            .collect()
    };
    let open = is_open(state, &province).await?;
    let mut tx = state.db.begin_read().await?;
    let counts = store::waiting_counts(&mut tx, code.as_str(), &day_of(state.clock.now())).await?;
    let groups = store::groups(&mut tx, code.as_str())
        .await?
        .iter()
        .filter(|g| g.active)
        .map(|g| GroupView::of(g, &counts))
        .collect();
    Ok(PortalMenu {
        centre: PortalCentre {
            code: code.as_str().to_owned(),
            name,
        },
        centres,
        open,
        groups,
    })
}

/// A ticket asked for on the portal by someone in the hall.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalTicket {
    /// The centre's agency code; the province's first centre when omitted.
    #[serde(default)]
    pub centre: Option<String>,
    /// The centre's code of the day, shown in its hall (six digits).
    pub code: String,
    /// The group's id.
    pub group: i64,
    /// Optional mobile number (`0912345678` or `+84912345678`): one SMS when three
    /// tickets are ahead. Erased once the ticket is finished, and at the end of the day.
    #[serde(default)]
    pub phone: Option<String>,
    /// Optional email address, for the same message by email.
    #[serde(default)]
    pub email: Option<String>,
}

/// The checked contact of a portal ticket.
fn portal_contact(req: &PortalTicket) -> Result<store::Contact, AppError> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let phone = given(&req.phone)
        .map(|p| {
            super::citizens::normalize_phone(&p).ok_or_else(|| {
                AppError::bad(
                    "invalid_phone",
                    "phone",
                    "Số điện thoại di động không hợp lệ: cần 10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09 (ví dụ 0912345678).",
                )
            })
        })
        .transpose()?;
    let email = given(&req.email)
        .map(|e| {
            super::citizens::normalize_email(&e).ok_or_else(|| {
                AppError::bad(
                    "invalid_email",
                    "email",
                    "Địa chỉ email không hợp lệ (ví dụ đúng: nguyenvana@example.vn).",
                )
            })
        })
        .transpose()?;
    Ok(store::Contact { phone, email })
}

fn too_many(message: &str, wait: std::time::Duration) -> AppError {
    AppError::too_many(
        format!("{message} Vui lòng thử lại sau {} giây.", wait.as_secs().max(1)),
        wait,
    )
}

/// Takes a ticket on the portal from client address `ip`: the same path as the kiosk's
/// (`take`), once the centre's code of today is right. A wrong code counts against the
/// address's budget of misses ([`HALL_CODE_MISSES_PER_MINUTE`]), every ticket against its
/// budget of tickets ([`PORTAL_TICKETS_PER_MINUTE`]); both are the deployment's.
pub async fn take_portal_ticket(state: &AppState, ip: &str, req: PortalTicket) -> Result<TicketView, AppError> {
    let contact = portal_contact(&req)?;
    let province = state.province(None).await?;
    let (centre, _) = centre_of(state, &province, req.centre.as_deref()).await?;
    let now = crate::now_ms();
    let expected = hall_code_on(state, centre.as_str(), &day_of(state.clock.now())).await?;
    let right = rules::parse_hall_code(&req.code).is_some_and(|typed| same_secret(&typed, &expected));
    if !right {
        if let Err(wait) = state.hall_code_misses.count(&state.db, ip, now).await? {
            return Err(too_many("Nhập sai mã của ngày quá nhiều lần.", wait));
        }
        return Err(AppError::ForbiddenCode {
            code: "wrong_hall_code",
            message: "Mã của ngày không đúng. Mã gồm 6 chữ số, hiển thị trên bảng hiển thị và máy lấy số tại sảnh của Trung tâm hôm nay.".to_owned(),
        });
    }
    if let Err(wait) = state.portal_tickets.count(&state.db, ip, now).await? {
        return Err(too_many("Đã lấy quá nhiều số thứ tự từ thiết bị này.", wait));
    }
    let at = TakenAt {
        province: province.as_str(),
        centre: centre.as_str(),
        kiosk: None,
    };
    let req = TakeTicket {
        group: req.group,
        priority_kind: None,
    };
    take(state, &at, req, &contact).await
}

// ---------------------------------------------------------------------------------------
// The message when three tickets are ahead

/// The outbox event of a ticket's message (`server::outbox` sends it by SMS and email).
pub const TURN_NEAR_KIND: &str = "queue.turn-near";

/// Queues, in `tx`, the message of each ticket waiting in `group` on `day` with a phone
/// number or email that now has [`rules::NOTIFY_AHEAD`] tickets ahead, or fewer and never
/// got it: once per ticket (the flag is set by a conditional update). The event carries
/// the ticket's id, number and place, never the number or address it goes to.
pub(crate) async fn notify_near(tx: &mut Tx, group: i64, day: &str, now: time::OffsetDateTime) -> Result<(), AppError> {
    let near = store::first_waiting(tx, group, day, rules::NOTIFY_AHEAD + 1).await?;
    for (ahead, t) in near.iter().enumerate() {
        if !t.reachable || t.near_notified_at.is_some() {
            continue;
        }
        if store::mark_near_notified(tx, t.id, motcua_store::to_millis(now)).await? {
            let payload = serde_json::json!({"ticket": t.id, "number": t.number, "ahead": ahead});
            let event = motcua_store::outbox::NewEvent {
                province: &t.province_code,
                dossier_code: None,
                kind: TURN_NEAR_KIND,
                payload: &payload,
            };
            motcua_store::outbox::enqueue(tx, &event, now).await?;
        }
    }
    Ok(())
}

/// Erases the phone numbers and email addresses of tickets of the days before today
/// (the end of their day; a ticket finished or absent lost them already). How many.
pub async fn erase_stale_contacts(state: &AppState) -> Result<u64, AppError> {
    let mut tx = state.db.begin_write().await?;
    let n = store::erase_contacts_before(&mut tx, &day_of(state.clock.now())).await?;
    tx.commit().await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------
// Satisfaction per ticket at the kiosk

/// A served ticket's rating, given at the kiosk.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRatingInput {
    /// The ticket's printed number of today (`A015`), or what its QR code holds (the
    /// ticket page's address).
    pub ticket: String,
    /// `very_satisfied`, `satisfied` or `not_satisfied` (the levels of the dossier ratings).
    pub rating: Satisfaction,
}

/// A ticket's rating, as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketRatingView {
    /// The ticket's number.
    pub number: String,
    /// The level given.
    pub rating: Satisfaction,
    /// Its Vietnamese label.
    pub rating_label: &'static str,
    /// The counter that served it.
    pub counter: Option<i64>,
}

/// The ticket of kiosk `k`'s centre that `typed` names: a public page's address or token
/// (the QR code, read by a scanner), or today's printed number.
async fn ticket_named(tx: &mut Tx, k: &Kiosk, typed: &str, day: &str) -> Result<Option<Ticket>, AppError> {
    let typed = typed.trim();
    let by_token = match typed.rsplit_once(TICKET_PAGE) {
        Some((_, token)) => Some(token),
        None if typed.len() > 16 => Some(typed),
        None => None,
    };
    let t = match by_token {
        Some(token) => {
            let token = token.split(['?', '#', '/']).next().unwrap_or_default();
            store::ticket_by_token(tx, token).await?
        }
        None => store::ticket_by_number(tx, &k.centre_code, day, &typed.to_ascii_uppercase()).await?,
    };
    Ok(t.filter(|t| t.centre_code == k.centre_code))
}

/// Records the satisfaction given at kiosk `k` for a ticket of its centre, once the ticket
/// was served (`done`), once per ticket; it counts for the counter and officer that served
/// it (`core::queue_figures`).
pub async fn rate_ticket(state: &AppState, k: &Kiosk, req: TicketRatingInput) -> Result<TicketRatingView, AppError> {
    let day = day_of(state.clock.now());
    let mut tx = state.db.begin_write().await?;
    let t = ticket_named(&mut tx, k, &req.ticket, &day).await?.ok_or_else(|| {
        AppError::NotFound(
            "Không tìm thấy số thứ tự này. Nhập số in trên phiếu (ví dụ A015) hoặc quét mã QR.".to_owned(),
        )
    })?;
    if t.rating.is_some() {
        return Err(AppError::Conflict(format!(
            "Số thứ tự {} đã được đánh giá. Cảm ơn ông/bà!",
            t.number
        )));
    }
    if t.state() != Some(TicketState::Done) {
        return Err(AppError::Refused(format!(
            "Số thứ tự {} chưa được phục vụ xong: ông/bà đánh giá sau khi được phục vụ.",
            t.number
        )));
    }
    if !store::rate(
        &mut tx,
        t.id,
        req.rating.as_str(),
        motcua_store::to_millis(state.clock.now()),
    )
    .await?
    {
        // Rated at another kiosk between our read and our update.
        return Err(AppError::Conflict(format!(
            "Số thứ tự {} đã được đánh giá. Cảm ơn ông/bà!",
            t.number
        )));
    }
    let counter = match t.counter_id {
        Some(id) => store::counter(&mut tx, id).await?.map(|c| c.number),
        None => None,
    };
    tx.commit().await?;
    Ok(TicketRatingView {
        number: t.number,
        rating: req.rating,
        rating_label: req.rating.label(),
        counter,
    })
}

// ---------------------------------------------------------------------------------------
// The demo province

/// The demo centre's groups (name, letter) and counters (number, letters served).
const DEMO_GROUPS: &[(&str, &str)] = &[
    ("Đất đai", "A"),
    ("Tư pháp – Hộ tịch", "B"),
    ("Xây dựng", "C"),
    ("Kế hoạch – Đầu tư, doanh nghiệp", "D"),
    ("Các lĩnh vực khác", "E"),
];
const DEMO_COUNTERS: &[(i64, &[&str])] = &[
    (1, &["A"]),
    (2, &["A", "C"]),
    (3, &["B"]),
    (4, &["B", "E"]),
    (5, &["D", "E"]),
];

/// The groups and counters of a commune centre in the demo: two counters, civil status
/// and justice at one, the rest at the other.
const COMMUNE_GROUPS: &[(&str, &str)] = &[("Tư pháp – Hộ tịch", "A"), ("Đất đai, xây dựng và lĩnh vực khác", "B")];
const COMMUNE_COUNTERS: &[(i64, &[&str])] = &[(1, &["A"]), (2, &["A", "B"])];

/// Seeds the demo province's centres with service groups and counters (first start of the
/// demo; audited as the system): the provincial centre, and each commune centre with a
/// smaller set. Leaves a centre that already has groups as it is.
pub async fn seed_demo(db: &motcua_store::Db, province: &ProvinceCode) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let agencies = motcua_store::catalogue::agencies(&mut tx, province).await?;
    if let Some(centre) = agencies.iter().find(|a| a.kind == AgencyKind::Centre) {
        seed_centre(&mut tx, province, centre.code.as_str(), DEMO_GROUPS, DEMO_COUNTERS).await?;
    }
    for centre in agencies
        .iter()
        .filter(|a| a.kind == AgencyKind::CommuneCentre && a.is_active())
    {
        seed_centre(
            &mut tx,
            province,
            centre.code.as_str(),
            COMMUNE_GROUPS,
            COMMUNE_COUNTERS,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Gives `centre` the `groups` (name, letter) and the `counters` (number, letters served),
/// unless it has groups already.
async fn seed_centre(
    tx: &mut motcua_store::Tx,
    province: &ProvinceCode,
    centre: &str,
    groups: &[(&str, &str)],
    counters: &[(i64, &[&str])],
) -> Result<(), AppError> {
    if !store::groups(tx, centre).await?.is_empty() {
        return Ok(());
    }
    let now = crate::now_ms();
    let mut ids = Vec::new();
    for (i, (name, letter)) in groups.iter().enumerate() {
        let fields = GroupFields {
            name,
            letter,
            position: i64::try_from(i).unwrap_or(0),
            active: true,
        };
        ids.push((
            *letter,
            store::insert_group(tx, province.as_str(), centre, &fields, now).await?,
        ));
    }
    for (number, letters) in counters {
        let id = store::insert_counter(
            tx,
            province.as_str(),
            centre,
            *number,
            &format!("Quầy {number}"),
            true,
            now,
        )
        .await?;
        let served: Vec<i64> = ids
            .iter()
            .filter(|(l, _)| letters.contains(l))
            .map(|(_, id)| *id)
            .collect();
        store::set_counter_groups(tx, id, &served).await?;
    }
    let event = Event {
        after: Some(serde_json::json!({"groups": groups.len(), "counters": counters.len()})),
        ..province_event(province, "queue.seed_demo", "agency", centre)
    };
    audit::record(tx, &Actor::system(), event).await?;
    Ok(())
}
