//! The reference scenario `ninh-thuan-2019`: the first month of the Ninh Thuận centre
//! (docs/rules.md §1), working days 12/06 to 05/07/2019, simulated on the demo province
//! through the application itself.
//!
//! Every dossier is filed, accepted, transferred, assigned, supplemented, finished and
//! returned by HTTP requests to the real router (`tower::ServiceExt::oneshot`), made by
//! people signed in with real sessions: counter officers of the centre, a leader and
//! officers in each department, citizens filing online with their own accounts. The
//! server's clock is fixed and moved through the simulated days, so the appointments,
//! the control sheets and the figures are those the 2019 calendar gives.
//!
//! Nothing is written in: the people make the choices a centre makes (officers finish
//! before the appointment the receipt promised, the counter transfers late-afternoon
//! dossiers the next morning, applicants collect their results within a couple of days),
//! with times drawn from a seeded random sequence, and the figures the director sees are
//! whatever [`motcua_store::overview::figures`] computes from the dossiers at the end.
//!
//! The cast (accounts) is created the way the demo accounts are
//! ([`motcua_server::bootstrap::create_demo_users`]): the scenario is demo data, with the demo
//! password.

use std::collections::{BTreeMap, BinaryHeap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{Method, Request, StatusCode};
use motcua_core::access::Role;
use motcua_core::calendar::{Calendar, VIETNAM_OFFSET};
use motcua_core::catalogue::{AgencyKind, ApplicantKind, ProcedureContent};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::demo::Rng;
use motcua_core::dossier::Channel;
use motcua_core::lifecycle::Delivery;
use motcua_store::accounts;
use motcua_store::overview::{self, Figures, Period};
use motcua_store::{StoreError, catalogue};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime, Time};
use tower::ServiceExt;

use motcua_server::audit::{self, Actor, Event};
use motcua_server::auth::{CSRF_HEADER, SESSION_COOKIE, hash_password_now};
use motcua_server::bootstrap::{DEMO_PASSWORD, DEMO_USERS, DemoAccount, create_demo_account};
use motcua_server::error::AppError;
use motcua_server::state::{AppState, Clock};

/// The scenario's name, as `motcua demo --scenario` takes it.
pub const NAME: &str = "ninh-thuan-2019";
/// The first simulated day (the centre's trial opening).
pub const FIRST_DAY: Date = date!(2019 - 06 - 12);
/// The last simulated day (the date of the centre's published figures).
pub const LAST_DAY: Date = date!(2019 - 07 - 05);
/// The end of the last day: what the figures are judged at.
pub const JUDGED_AT: OffsetDateTime = datetime!(2019-07-05 23:59:59 +07:00);
/// The seed the CLI and the tests use.
pub const DEFAULT_SEED: u64 = 2019;

/// The unit code of the demo province the scenario runs in.
const UNIT: &str = motcua_core::demo::UNIT;
/// Working minutes are drawn on a five-minute grid, so several people act at each instant.
const GRID: u64 = 5;
/// Dossiers accepted per working day: at least, and how many more at most.
const PER_DAY: (usize, usize) = (80, 10);
/// Scenario counter officers besides the demo's `tiepnhan`.
const COUNTERS: usize = 6;
/// Citizens with an account who file online.
const CITIZENS: usize = 24;

/// The period the centre published its figures for: 12/06 to 05/07/2019 (to its end).
pub fn period() -> Period {
    Period {
        from: FIRST_DAY.midnight().assume_offset(VIETNAM_OFFSET),
        to: LAST_DAY
            .next_day()
            .unwrap_or(LAST_DAY)
            .midnight()
            .assume_offset(VIETNAM_OFFSET),
    }
}

/// The demo province.
pub fn province() -> Result<ProvinceCode, ScenarioError> {
    ProvinceCode::parse(UNIT).map_err(|e| ScenarioError::Setup(e.to_string()))
}

/// Why the scenario did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The database already holds the scenario (or other dossiers of its period).
    #[error(
        "Kịch bản {NAME} đã chạy trên cơ sở dữ liệu này (đã có {0} hồ sơ tiếp nhận từ 12/06 đến 05/07/2019 hoặc đã có tài khoản của kịch bản); hãy chạy trên một cơ sở dữ liệu mới."
    )]
    AlreadyRun(i64),
    /// The database does not hold what the scenario needs.
    #[error("Không chạy được kịch bản {NAME}: {0}")]
    Setup(String),
    /// The application refused a request a person made.
    #[error("Kịch bản {NAME} dừng lại vì {who} gửi {what} bị từ chối ({status}): {body}")]
    Refused {
        /// Who made it.
        who: String,
        /// `METHOD path`.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The response.
        body: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The application failed outside a request.
    #[error(transparent)]
    App(#[from] AppError),
}

type Result<T, E = ScenarioError> = std::result::Result<T, E>;

/// What happened on one simulated day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Day {
    /// The date.
    pub date: Option<Date>,
    /// Dossiers accepted (at the counter, or online and then checked by the counter).
    pub received: usize,
    /// Of those, filed online.
    pub online: usize,
    /// Results signed (finished).
    pub finished: usize,
    /// Results handed over.
    pub returned: usize,
    /// Supplement requests made.
    pub supplements: usize,
    /// Requests made to the application that day.
    pub requests: usize,
}

/// What the whole run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Day by day.
    pub days: Vec<Day>,
    /// Requests made in all.
    pub requests: usize,
    /// Accounts that took part.
    pub people: usize,
    /// Seconds it took.
    pub seconds: f64,
}

/// The figures the director sees for the scenario's period, judged at its end: the sum
/// over every department of [`overview::figures`].
pub async fn figures(state: &AppState) -> Result<Figures> {
    let mut tx = state.db.begin_read().await?;
    let per_agency = overview::figures(&mut tx, &province()?, period(), JUDGED_AT).await?;
    Ok(overview::total(&per_agency))
}

// ---------------------------------------------------------------------------------------
// Requests through the router.

/// A person signed in: their session cookie, CSRF token and workstation address.
struct Login {
    username: String,
    cookie: String,
    csrf: String,
    ip: SocketAddr,
}

/// The application as its users reach it.
#[derive(Clone)]
struct Api {
    app: Router,
}

fn workstation(n: usize) -> SocketAddr {
    let n = u32::try_from(n).unwrap_or(0);
    let ip = Ipv4Addr::from(0x0A2B_0000 + n + 1); // 10.43.x.y: the centre's network
    SocketAddr::new(IpAddr::V4(ip), 443)
}

impl Api {
    async fn raw(
        &self,
        who: Option<&Login>,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        ip: SocketAddr,
    ) -> Result<(StatusCode, axum::http::HeaderMap, Vec<u8>)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(CONTENT_TYPE, content_type)
            .extension(ConnectInfo(ip));
        if let Some(w) = who {
            req = req
                .header(COOKIE, format!("{SESSION_COOKIE}={}", w.cookie))
                .header(CSRF_HEADER, &w.csrf);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| ScenarioError::Setup(e.to_string()))?;
        let response = self
            .app
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| ScenarioError::Setup(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| ScenarioError::Setup(e.to_string()))?;
        Ok((status, headers, bytes.to_vec()))
    }

    /// Sends `body` as `who`; the JSON answer, or the refusal.
    async fn send(&self, who: &Login, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Result<Value> {
        let what = format!("{method} {path}");
        let (status, _, bytes) = self.raw(Some(who), method, path, content_type, body, who.ip).await?;
        if !status.is_success() {
            return Err(ScenarioError::Refused {
                who: who.username.clone(),
                what,
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ScenarioError::Setup(format!("{what}: {e}")))
    }

    async fn post(&self, who: &Login, path: &str, body: &Value) -> Result<Value> {
        self.send(
            who,
            Method::POST,
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Uploads a file; its id.
    async fn upload(&self, who: &Login, name: &str, bytes: Vec<u8>) -> Result<String> {
        let path = format!(
            "/api/v1/uploads?name={}",
            form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        );
        let v = self
            .send(who, Method::POST, &path, "application/octet-stream", bytes)
            .await?;
        text(&v, "id")
    }

    /// Signs `username` in through the login endpoint, from workstation `n`.
    async fn login(&self, username: &str, n: usize) -> Result<Login> {
        let ip = workstation(n);
        let body = json!({ "username": username, "password": DEMO_PASSWORD }).to_string();
        let (status, headers, bytes) = self
            .raw(
                None,
                Method::POST,
                "/api/v1/auth/login",
                "application/json",
                body.into_bytes(),
                ip,
            )
            .await?;
        let refused = |body: String| ScenarioError::Refused {
            who: username.to_owned(),
            what: "POST /api/v1/auth/login".to_owned(),
            status: status.as_u16(),
            body,
        };
        if !status.is_success() {
            return Err(refused(String::from_utf8_lossy(&bytes).into_owned()));
        }
        let prefix = format!("{SESSION_COOKIE}=");
        let cookie = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find_map(|v| v.strip_prefix(&prefix))
            .map(str::to_owned)
            .ok_or_else(|| refused("no session cookie".to_owned()))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| refused(e.to_string()))?;
        Ok(Login {
            username: username.to_owned(),
            cookie,
            csrf: text(&v, "csrf_token")?,
            ip,
        })
    }
}

fn text(v: &Value, field: &str) -> Result<String> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ScenarioError::Setup(format!("the answer has no «{field}»: {v}")))
}

fn instant(v: &Value, field: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(&text(v, field)?, &Rfc3339).map_err(|e| ScenarioError::Setup(format!("{field}: {e}")))
}

/// A small but well-formed PDF standing for a scanned or signed document.
fn pdf(title: &str) -> Vec<u8> {
    let safe: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let content = format!("BT /F1 12 Tf 72 760 Td ({safe}) Tj ET");
    format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
         3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n\
         4 0 obj<</Length {}>>stream\n{content}\nendstream endobj\n\
         5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Times-Roman>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
        content.len()
    )
    .into_bytes()
}

// ---------------------------------------------------------------------------------------
// The cast.

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Huỳnh", "Ngô", "Dương", "Lý", "Phan", "Trương",
];
const MIDDLE: &[&str] = &[
    "Văn", "Thị", "Minh", "Quốc", "Thanh", "Ngọc", "Hữu", "Đức", "Thu", "Hoài",
];
const GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dung", "Đức", "Hạnh", "Huy", "Lan", "Minh", "Ngọc", "Phương", "Quân", "Sơn", "Tâm", "Thảo",
    "Trung", "Uyên", "Vinh", "Xuân", "Yến",
];
const PLACES: &[&str] = &[
    "Phan Rang - Tháp Chàm",
    "Ninh Hải",
    "Ninh Phước",
    "Ninh Sơn",
    "Bác Ái",
    "Thuận Bắc",
    "Thuận Nam",
];
const COMPANY: &[&str] = &[
    "Công ty TNHH Thương mại",
    "Công ty Cổ phần Xây dựng",
    "Công ty TNHH Du lịch",
    "Công ty Cổ phần Nông sản",
    "Công ty TNHH Vận tải",
    "Doanh nghiệp tư nhân Dịch vụ",
];

fn name(rng: &mut Rng) -> String {
    format!("{} {} {}", rng.pick(FAMILY), rng.pick(MIDDLE), rng.pick(GIVEN))
}

/// A citizen with an account.
struct Citizen {
    login: Arc<Login>,
    name: String,
    id_number: String,
    phone: String,
    place: &'static str,
}

/// Everyone who takes part.
struct Cast {
    counters: Vec<Arc<Login>>,
    /// Department code → its leader.
    leaders: BTreeMap<String, Arc<Login>>,
    /// Department code → its officers.
    officers: BTreeMap<String, Vec<Arc<Login>>>,
    citizens: Vec<Arc<Citizen>>,
}

/// The account to create: username, name, role, agency.
struct Account {
    username: String,
    name: String,
    role: Role,
    agency: Option<AgencyCode>,
    citizen: Option<(String, String)>,
}

/// The demo account holding `role` at `agency`, if the demo has one.
fn demo_account(role: Role, agency: &AgencyCode) -> Option<&'static str> {
    DEMO_USERS
        .iter()
        .find(|(_, _, r, n)| *r == role && n.is_some_and(|n| agency.as_str().starts_with(&format!("000.00.{n:02}."))))
        .map(|(u, ..)| *u)
}

/// Creates the scenario's accounts (skipping existing usernames), in one transaction.
async fn create_accounts(state: &AppState, province: &ProvinceCode, accounts: &[Account]) -> Result<usize> {
    let hash = tokio::task::spawn_blocking(|| hash_password_now(DEMO_PASSWORD))
        .await
        .map_err(|e| ScenarioError::Setup(e.to_string()))??;
    let mut tx = state.db.begin_write().await?;
    let mut created = 0;
    for a in accounts {
        let (citizen_id, phone) = a
            .citizen
            .clone()
            .unwrap_or_else(|| (String::new(), "0259383855".to_owned()));
        let account = DemoAccount {
            username: &a.username,
            name: &a.name,
            role: a.role,
            agency: a.agency.clone().unwrap_or_else(|| province.as_agency().clone()),
            citizen_id: &citizen_id,
            phone: &phone,
        };
        if !create_demo_account(&mut tx, province, &account, &hash).await? {
            continue;
        }
        created += 1;
    }
    let event = Event {
        after: Some(json!({ "scenario": NAME, "created": created })),
        ..motcua_server::service::trail::province_event(
            province,
            "user.create_scenario_accounts",
            "province",
            province.as_str(),
        )
    };
    audit::record(&mut tx, &Actor::system(), event).await?;
    tx.commit().await?;
    Ok(created)
}

/// Creates the cast and signs everyone in.
async fn cast(
    state: &AppState,
    api: &Api,
    province: &ProvinceCode,
    centre: &AgencyCode,
    departments: &[AgencyCode],
    rng: &mut Rng,
) -> Result<Cast> {
    motcua_server::bootstrap::create_demo_users(&state.db, province).await?;
    let mut accounts = Vec::new();
    let mut counter_names = vec!["tiepnhan".to_owned()];
    for i in 1..=COUNTERS {
        let username = format!("tn.{i:02}");
        accounts.push(Account {
            username: username.clone(),
            name: name(rng),
            role: Role::CounterOfficer,
            agency: Some(centre.clone()),
            citizen: None,
        });
        counter_names.push(username);
    }
    let mut leader_names = BTreeMap::new();
    let mut officers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for dept in departments {
        let n = &dept.as_str()[7..9];
        let leader = match demo_account(Role::DepartmentLeader, dept) {
            Some(u) => u.to_owned(),
            None => {
                let username = format!("ld.so{n}");
                accounts.push(Account {
                    username: username.clone(),
                    name: name(rng),
                    role: Role::DepartmentLeader,
                    agency: Some(dept.clone()),
                    citizen: None,
                });
                username
            }
        };
        leader_names.insert(dept.as_str().to_owned(), leader);
        let mut staff: Vec<String> = demo_account(Role::DepartmentOfficer, dept)
            .map(str::to_owned)
            .into_iter()
            .collect();
        for k in 1..=2 - staff.len().min(1) {
            let username = format!("cv.so{n}.{k}");
            accounts.push(Account {
                username: username.clone(),
                name: name(rng),
                role: Role::DepartmentOfficer,
                agency: Some(dept.clone()),
                citizen: None,
            });
            staff.push(username);
        }
        officers.insert(dept.as_str().to_owned(), staff);
    }
    let mut citizen_data = Vec::new();
    for i in 1..=CITIZENS {
        let username = format!("cd.{i:03}");
        let full = name(rng);
        let id_number = format!("058{}{:08}", 1 + i % 2, 19_000_000 + i * 7_919);
        let phone = format!("09{:08}", 12_000_000 + i * 104_729);
        let place = *rng.pick(PLACES);
        accounts.push(Account {
            username: username.clone(),
            name: full.clone(),
            role: Role::Citizen,
            agency: None,
            citizen: Some((id_number.clone(), phone.clone())),
        });
        citizen_data.push((username, full, id_number, phone, place));
    }
    create_accounts(state, province, &accounts).await?;

    // Everyone signs in at their own workstation.
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut counters = Vec::new();
    for u in &counter_names {
        counters.push(Arc::new(api.login(u, next()).await?));
    }
    let mut leaders = BTreeMap::new();
    for (dept, u) in &leader_names {
        leaders.insert(dept.clone(), Arc::new(api.login(u, next()).await?));
    }
    let mut officer_logins = BTreeMap::new();
    for (dept, staff) in &officers {
        let mut logins = Vec::new();
        for u in staff {
            logins.push(Arc::new(api.login(u, next()).await?));
        }
        officer_logins.insert(dept.clone(), logins);
    }
    let mut citizens = Vec::new();
    for (username, name, id_number, phone, place) in citizen_data {
        let login = Arc::new(api.login(&username, next()).await?);
        citizens.push(Arc::new(Citizen {
            login,
            name,
            id_number,
            phone,
            place,
        }));
    }
    Ok(Cast {
        counters,
        leaders,
        officers: officer_logins,
        citizens,
    })
}

// ---------------------------------------------------------------------------------------
// The catalogue as the centre sees it.

struct Procedure {
    code: ProcedureCode,
    content: ProcedureContent,
    /// Index of the department in the cast's order.
    dept: usize,
}

/// How often a department's dossiers came to the centre in its first month: business
/// registration, driving licences and judicial records were the bulk (by department
/// number in the demo: 01 planning and investment, 02 justice, 05 transport).
fn department_weight(n: u32) -> u64 {
    match n {
        1 => 9,
        5 => 8,
        2 => 4,
        3 | 4 | 6 | 9 => 2,
        _ => 1,
    }
}

/// Procedures with short statutory times are filed far more often than long ones.
fn time_weight(hours: u32) -> u64 {
    match hours / 8 {
        0..=3 => 12,
        4..=5 => 6,
        6..=10 => 2,
        _ => 1,
    }
}

/// Each department's common procedures come first in the demo catalogue.
const COMMON: usize = 4;

/// The procedures received at the centre with their weights (cumulative).
fn weighted(procedures: &[Procedure]) -> Vec<u64> {
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let mut total = 0;
    procedures
        .iter()
        .map(|p| {
            let rank = seen.entry(p.dept).or_default();
            let hours = p.content.processing_time.working_hours();
            // Long procedures (licences of big projects, land titles) come rarely, even
            // the well-known ones.
            let common = if *rank < COMMON && hours <= 80 { 10 } else { 1 };
            *rank += 1;
            let dept_no = p.content.agency.as_str()[7..9].parse::<u32>().unwrap_or(0);
            total += department_weight(dept_no) * time_weight(hours) * common;
            total
        })
        .collect()
}

fn pick_weighted(rng: &mut Rng, cumulative: &[u64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1).max(1);
    let x = rng.next_u64() % total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len().saturating_sub(1))
}

// ---------------------------------------------------------------------------------------
// The simulation.

/// What a dossier waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    File,
    Accept,
    Transfer,
    Assign,
    AskSupplement,
    AnswerSupplement,
    Finish,
    Return,
    Nothing,
}

/// One dossier's story.
struct Case {
    procedure: usize,
    channel: Channel,
    delivery: Delivery,
    counter: usize,
    citizen: Option<usize>,
    /// The officer the leader assigned.
    officer: Option<Arc<Login>>,
    applicant: Value,
    /// Online filings: when the counter checks and accepts it.
    accept_at: Option<OffsetDateTime>,
    supplement: bool,
    code: String,
    received: Option<OffsetDateTime>,
    due: Option<OffsetDateTime>,
    /// When the leader means to sign the result.
    finish_at: Option<OffsetDateTime>,
    /// When the supplement request was made.
    asked_at: Option<OffsetDateTime>,
    next: Next,
}

/// A request (or two) one person makes.
enum Job {
    CounterIntake {
        who: Arc<Login>,
        body: Value,
    },
    OnlineFiling {
        who: Arc<Citizen>,
        body: Value,
        uploads: Vec<(usize, String)>,
    },
    Act {
        who: Arc<Login>,
        path: String,
        body: Value,
        /// A file to upload first, and the field of the body that names it.
        upload: Option<(String, &'static str)>,
    },
}

async fn perform(api: Api, job: Job) -> Result<(Value, usize)> {
    match job {
        Job::CounterIntake { who, body } => Ok((api.post(&who, "/api/v1/dossiers", &body).await?, 1)),
        Job::OnlineFiling { who, mut body, uploads } => {
            let mut documents = Vec::new();
            let n = uploads.len();
            for (index, doc) in uploads {
                let id = api.upload(&who.login, &format!("{doc}.pdf"), pdf(&doc)).await?;
                documents.push(json!({ "index": index, "files": [id] }));
            }
            body["documents"] = Value::Array(documents);
            Ok((api.post(&who.login, "/api/v1/dossiers", &body).await?, n + 1))
        }
        Job::Act {
            who,
            path,
            mut body,
            upload,
        } => {
            let mut n = 1;
            if let Some((name, field)) = upload {
                let id = api.upload(&who, &name, pdf(&name)).await?;
                body[field] = json!([id]);
                n += 1;
            }
            Ok((api.post(&who, &path, &body).await?, n))
        }
    }
}

/// Rounds up to the next point of the grid.
fn on_grid(t: OffsetDateTime) -> OffsetDateTime {
    let t = t
        .to_offset(VIETNAM_OFFSET)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .replace_second(0)
        .unwrap_or(t);
    let over = i64::from(t.minute()) % GRID as i64;
    if over == 0 {
        t
    } else {
        t + time::Duration::minutes(GRID as i64 - over)
    }
}

fn key(t: OffsetDateTime) -> i64 {
    motcua_store::to_millis(t)
}

struct Sim<'a> {
    rng: Rng,
    calendar: &'a Calendar,
    procedures: &'a [Procedure],
    cast: &'a Cast,
    cases: Vec<Case>,
    /// (instant, order, case), earliest first.
    queue: BinaryHeap<std::cmp::Reverse<(i64, u64, usize)>>,
    order: u64,
}

impl Sim<'_> {
    fn at(&mut self, case: usize, t: OffsetDateTime, next: Next) {
        self.cases[case].next = next;
        self.order += 1;
        self.queue.push(std::cmp::Reverse((key(t), self.order, case)));
    }

    /// `t` plus `minutes` of working time, on the grid.
    fn later(&self, t: OffsetDateTime, minutes: u64) -> OffsetDateTime {
        let m = minutes.div_ceil(GRID) * GRID;
        self.calendar.add_working_minutes(t, m).map(on_grid).unwrap_or(t)
    }

    /// A number of grid steps in `lo..=hi` minutes.
    fn minutes(&mut self, lo: u64, hi: u64) -> u64 {
        let steps = (hi.saturating_sub(lo)) / GRID + 1;
        lo + GRID * (self.rng.next_u64() % steps)
    }

    fn session_start(&self, day: Date) -> OffsetDateTime {
        let midnight = day.midnight().assume_offset(VIETNAM_OFFSET);
        self.calendar.next_working_moment(midnight).unwrap_or(midnight)
    }

    fn applicant(&mut self, content: &ProcedureContent, citizen: Option<&Citizen>) -> Value {
        let kind = match citizen {
            Some(_) if content.applicants.contains(&ApplicantKind::Citizen) => ApplicantKind::Citizen,
            _ => *self.rng.pick(&content.applicants),
        };
        let place = *self.rng.pick(PLACES);
        let n = self.rng.next_u64();
        match (kind, citizen) {
            (ApplicantKind::Citizen, Some(c)) => json!({
                "kind": kind, "name": c.name, "id_number": c.id_number, "phone": c.phone,
                "email": format!("{}@demo.motcua.invalid", c.login.username),
                "address": format!("{}, Ninh Thuận", c.place),
            }),
            (ApplicantKind::Citizen, None) => json!({
                "kind": kind, "name": name(&mut self.rng),
                "id_number": format!("0581{:08}", n % 100_000_000),
                "phone": format!("09{:08}", (n >> 20) % 100_000_000),
                "email": "", "address": format!("{place}, Ninh Thuận"),
            }),
            (ApplicantKind::Organisation, _) => json!({
                "kind": kind,
                "name": format!("{} {} {}", self.rng.pick(COMPANY), place, n % 1000),
                "id_number": format!("4500{:06}", n % 1_000_000),
                "phone": format!("0259{:06}", (n >> 20) % 1_000_000),
                "email": "", "address": format!("{place}, Ninh Thuận"),
            }),
        }
    }

    /// Plans the dossiers accepted on `day`: intake instants at the counters, and the
    /// online filings the counter will check that day.
    fn plan_day(&mut self, day: Date, cumulative: &[u64]) {
        let start = self.session_start(day);
        let slots = u64::from(self.calendar.minutes_per_working_day()) / GRID;
        let count = PER_DAY.0 + self.rng.below(PER_DAY.1 + 1);
        let mut planned = Vec::with_capacity(count);
        for _ in 0..count {
            let p = pick_weighted(&mut self.rng, cumulative);
            let content = &self.procedures[p].content;
            let online = content.accepts_online_filing() && self.rng.below(100) < 35;
            let channel = if online {
                Channel::Online
            } else if self.rng.below(100) < 6 {
                Channel::Post
            } else {
                Channel::Counter
            };
            let delivery = match channel {
                Channel::Post => Delivery::Post,
                Channel::Online => match self.rng.below(100) {
                    0..=59 => Delivery::Online,
                    60..=84 => Delivery::Counter,
                    _ => Delivery::Post,
                },
                Channel::Counter => {
                    if self.rng.below(100) < 20 {
                        Delivery::Post
                    } else {
                        Delivery::Counter
                    }
                }
            };
            let dept = self.procedures[p].dept;
            let counter = dept % self.cast.counters.len();
            let citizen = online.then(|| self.rng.below(self.cast.citizens.len()));
            let applicant = {
                let c = citizen.map(|i| Arc::clone(&self.cast.citizens[i]));
                let content = self.procedures[p].content.clone();
                self.applicant(&content, c.as_deref())
            };
            let supplement =
                self.procedures[p].content.processing_time.working_hours() >= 24 && self.rng.below(100) < 6;
            // The counter's instant: a slot of the day; an online filing is checked
            // between ten minutes and two hours after it arrived (overnight filings in
            // the morning).
            let (first, accept_at) = if online {
                let accept_slot = 2 + self.rng.next_u64() % (slots - 3);
                let accept = self.later(start, accept_slot * GRID);
                let filed = if day > FIRST_DAY && self.rng.below(100) < 40 {
                    // The evening or night before.
                    start - time::Duration::minutes(i64::try_from(30 + self.minutes(0, 600)).unwrap_or(30))
                } else {
                    let back = accept_slot.clamp(2, 24);
                    let back = 1 + self.rng.next_u64() % (back - 1);
                    self.calendar
                        .add_working_minutes(start, (accept_slot - back) * GRID)
                        .map(on_grid)
                        .unwrap_or(start)
                };
                (on_grid(filed), Some(accept))
            } else {
                let slot = self.rng.next_u64() % (slots - 1);
                (self.later(start, slot * GRID), None)
            };
            planned.push((
                first,
                Case {
                    procedure: p,
                    channel,
                    delivery,
                    counter,
                    citizen,
                    officer: None,
                    applicant,
                    accept_at,
                    supplement,
                    code: String::new(),
                    received: None,
                    due: None,
                    finish_at: None,
                    asked_at: None,
                    next: Next::File,
                },
            ));
        }
        for (first, case) in planned {
            self.cases.push(case);
            let i = self.cases.len() - 1;
            self.at(i, first, Next::File);
        }
    }

    /// The request the next step of case `i` makes, at `now`.
    fn job(&mut self, i: usize) -> Result<Job> {
        let c = &self.cases[i];
        let p = &self.procedures[c.procedure];
        let counter = Arc::clone(&self.cast.counters[c.counter]);
        let dept = p.content.agency.as_str().to_owned();
        let leader = self
            .cast
            .leaders
            .get(&dept)
            .cloned()
            .ok_or_else(|| ScenarioError::Setup(format!("no leader for {dept}")))?;
        let act = |who: Arc<Login>, action: &str, body: Value| Job::Act {
            who,
            path: format!("/api/v1/dossiers/{}/actions/{action}", c.code),
            body,
            upload: None,
        };
        Ok(match c.next {
            Next::File => {
                let mut body = json!({
                    "procedure": p.code.as_str(),
                    "applicant": c.applicant,
                    "delivery": c.delivery,
                });
                // Fees that depend on the case: the applicant's case is one of the options.
                let mut options: Vec<&str> = p.content.fees.iter().filter_map(|f| f.option.as_deref()).collect();
                options.dedup();
                if !options.is_empty() {
                    body["fee_option"] = json!(options[self.rng.below(options.len())]);
                }
                match c.citizen {
                    Some(k) => {
                        let uploads = p
                            .content
                            .documents
                            .iter()
                            .enumerate()
                            .filter(|(_, d)| d.required)
                            .map(|(i, d)| (i, d.name.clone()))
                            .collect();
                        Job::OnlineFiling {
                            who: Arc::clone(&self.cast.citizens[k]),
                            body,
                            uploads,
                        }
                    }
                    None => {
                        let mut documents = Vec::new();
                        for (index, d) in p.content.documents.iter().enumerate() {
                            if d.required || self.rng.below(2) == 0 {
                                let copies = if d.originals + d.copies == 0 { 1 } else { d.copies };
                                documents.push(json!({ "index": index, "originals": d.originals, "copies": copies }));
                            }
                        }
                        body["documents"] = Value::Array(documents);
                        body["channel"] = json!(c.channel);
                        Job::CounterIntake { who: counter, body }
                    }
                }
            }
            Next::Accept => act(counter, "accept", json!({})),
            Next::Transfer => act(counter, "transfer", json!({})),
            Next::Assign => {
                let staff = self
                    .cast
                    .officers
                    .get(&dept)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| ScenarioError::Setup(format!("no officer in {dept}")))?;
                let officer = Arc::clone(&staff[self.rng.below(staff.len())]);
                let user = officer.username.clone();
                self.cases[i].officer = Some(officer);
                let c = &self.cases[i];
                let act = |who: Arc<Login>, action: &str, body: Value| Job::Act {
                    who,
                    path: format!("/api/v1/dossiers/{}/actions/{action}", c.code),
                    body,
                    upload: None,
                };
                act(leader, "assign", json!({ "user": user }))
            }
            Next::AskSupplement => {
                let docs: Vec<&str> = p.content.documents.iter().map(|d| d.name.as_str()).collect();
                let doc = (*self.rng.pick(&docs)).to_owned();
                let body = json!({
                    "missing": [format!("{doc} (bản rõ nét, đủ chữ ký và dấu)")],
                    "reason": "Thành phần hồ sơ nộp chưa đủ căn cứ để thẩm định.",
                });
                // The officer examining it asks, once, for everything missing.
                let officer = c.officer.clone().unwrap_or(leader);
                act(officer, "request-supplement", body)
            }
            Next::AnswerSupplement => match c.citizen {
                Some(k) => {
                    let who = Arc::clone(&self.cast.citizens[k].login);
                    Job::Act {
                        who,
                        path: format!("/api/v1/dossiers/{}/actions/receive-supplement", c.code),
                        body: json!({ "note": "Bổ sung theo phiếu yêu cầu." }),
                        upload: Some((format!("bo-sung-{}.pdf", c.code), "files")),
                    }
                }
                None => act(
                    counter,
                    "receive-supplement",
                    json!({ "note": "Người nộp đã bổ sung bản giấy tại quầy." }),
                ),
            },
            Next::Finish => Job::Act {
                who: leader,
                path: format!("/api/v1/dossiers/{}/actions/finish", c.code),
                body: json!({ "note": "Đã thẩm định, phê duyệt và ký kết quả." }),
                upload: Some((format!("ket-qua-{}.pdf", c.code), "result_files")),
            },
            Next::Return => {
                let body = match c.delivery {
                    Delivery::Post => json!({
                        "method": "post",
                        "tracking_number": format!("RR{:09}VN", self.rng.next_u64() % 1_000_000_000),
                    }),
                    Delivery::Online => json!({ "method": "online" }),
                    Delivery::Counter => json!({ "method": "counter" }),
                };
                act(counter, "return", body)
            }
            Next::Nothing => return Err(ScenarioError::Setup("nothing to do".to_owned())),
        })
    }

    /// Records what the step of case `i` at `now` gave, and plans the next one.
    fn after(&mut self, i: usize, now: OffsetDateTime, v: &Value, day: &mut Day) -> Result<()> {
        let step = self.cases[i].next;
        match step {
            Next::File => {
                self.cases[i].code = text(v, "code")?;
                match self.cases[i].accept_at {
                    Some(t) => self.at(i, t, Next::Accept),
                    None => self.accepted(i, now, v, day)?,
                }
            }
            Next::Accept => self.accepted(i, now, v, day)?,
            Next::Transfer => {
                let total = self.total(i);
                let wait = self.minutes(15, 240).min((total / 16).max(GRID));
                let t = self.later(now, wait);
                self.at(i, t, Next::Assign);
            }
            Next::Assign => {
                let c = &self.cases[i];
                let (received, total) = (c.received.unwrap_or(now), self.total(i));
                // When the result is signed, as a share of the time the receipt promised:
                // mostly well before the appointment, some on the due day, never after.
                let permille = match self.rng.below(100) {
                    0..=69 => 200 + self.rng.next_u64() % 400,
                    70..=94 => 600 + self.rng.next_u64() % 300,
                    _ => 900 + self.rng.next_u64() % 90,
                };
                let spent = self.calendar.working_minutes_between(received, now);
                let target = (total * permille / 1000).max(spent + 30).min(total.saturating_sub(10));
                let finish = self.later(received, target / GRID * GRID).max(self.later(now, GRID));
                self.cases[i].finish_at = Some(finish);
                if self.cases[i].supplement {
                    let span = self.calendar.working_minutes_between(now, finish);
                    let share = 20 + self.rng.next_u64() % 30;
                    let ask = self.later(now, span * share / 100);
                    self.at(i, ask, Next::AskSupplement);
                } else {
                    self.at(i, finish, Next::Finish);
                }
            }
            Next::AskSupplement => {
                day.supplements += 1;
                self.cases[i].asked_at = Some(now);
                // The applicant brings or uploads what was missing within half a day to three days.
                let wait = self.minutes(240, 1440);
                let t = self.later(now, wait);
                self.at(i, t, Next::AnswerSupplement);
            }
            Next::AnswerSupplement => {
                let c = &self.cases[i];
                let (asked, finish) = (c.asked_at.unwrap_or(now), c.finish_at.unwrap_or(now));
                // The clock stood still meanwhile: the appointment moved, and so does the plan.
                self.cases[i].due = Some(instant(v, "due_at")?);
                let remaining = self.calendar.working_minutes_between(asked, finish);
                let t = self.later(now, remaining);
                self.cases[i].finish_at = Some(t);
                self.at(i, t, Next::Finish);
            }
            Next::Finish => {
                day.finished += 1;
                let t = match self.cases[i].delivery {
                    Delivery::Online => {
                        let m = self.minutes(5, 30);
                        self.later(now, m)
                    }
                    Delivery::Post => {
                        // Handed to the post office with the next morning's round.
                        let next_day = self.later(now, u64::from(self.calendar.minutes_per_working_day()));
                        let m = self.minutes(0, 120);
                        self.later(self.session_start(next_day.date()), m)
                    }
                    Delivery::Counter => {
                        // The applicant comes for it the same or the next working day,
                        // some later.
                        let m = if self.rng.below(100) < 75 {
                            self.minutes(30, 480)
                        } else {
                            self.minutes(480, 1440)
                        };
                        self.later(now, m)
                    }
                };
                self.at(i, t, Next::Return);
            }
            Next::Return => {
                day.returned += 1;
                self.cases[i].next = Next::Nothing;
            }
            Next::Nothing => {}
        }
        Ok(())
    }

    /// The working minutes from acceptance to the appointment.
    fn total(&self, i: usize) -> u64 {
        let c = &self.cases[i];
        match (c.received, c.due) {
            (Some(r), Some(d)) => self.calendar.working_minutes_between(r, d),
            _ => 0,
        }
    }

    fn accepted(&mut self, i: usize, now: OffsetDateTime, v: &Value, day: &mut Day) -> Result<()> {
        day.received += 1;
        if self.cases[i].channel == Channel::Online {
            day.online += 1;
        }
        self.cases[i].received = Some(instant(v, "received_at")?);
        self.cases[i].due = Some(instant(v, "due_at")?);
        // Dossiers accepted late in the afternoon go to the department the next morning.
        let late = now.to_offset(VIETNAM_OFFSET).time() >= Time::from_hms(15, 0, 0).unwrap_or(Time::MIDNIGHT);
        let t = if late {
            let tomorrow = self.later(now, u64::from(self.calendar.minutes_per_working_day()));
            let m = self.minutes(0, 60);
            self.later(self.session_start(tomorrow.date()), m)
        } else {
            let m = self.minutes(15, 120);
            self.later(now, m)
        };
        self.at(i, t, Next::Transfer);
        Ok(())
    }
}

/// Whether the scenario already ran here: dossiers received in its period, or its accounts.
pub async fn already_run(state: &AppState) -> Result<Option<i64>> {
    let received = figures(state).await?.get(overview::Metric::Received);
    let mut tx = state.db.begin_read().await?;
    let accounts = accounts::user_by_username(&mut tx, "tn.01").await?.is_some();
    Ok((received > 0 || accounts).then_some(received))
}

/// Runs the scenario on `state`'s database (which must hold the demo province), with its
/// own fixed clock moved from 12/06 to the end of 05/07/2019. `progress` is called at the
/// end of each simulated day. Refuses to run twice on one database.
pub async fn run(state: &AppState, seed: u64, mut progress: impl FnMut(&Day)) -> Result<Report> {
    let started = Instant::now();
    if let Some(n) = already_run(state).await? {
        return Err(ScenarioError::AlreadyRun(n));
    }
    let province = province()?;
    let start = FIRST_DAY
        .with_time(Time::from_hms(7, 0, 0).unwrap_or(Time::MIDNIGHT))
        .assume_offset(VIETNAM_OFFSET);
    let clock = Clock::fixed(start);
    let mut state = state.clone();
    state.set_clock(clock.clone());
    let api = Api {
        app: motcua_server::router(state.clone()),
    };

    // What the demo province offers at the centre, and its calendar.
    let (centre, departments, procedures) = {
        let mut tx = state.db.begin_read().await?;
        let agencies = catalogue::agencies(&mut tx, &province).await?;
        let centre = agencies
            .iter()
            .find(|a| a.kind == AgencyKind::Centre)
            .map(|a| a.code.clone())
            .ok_or_else(|| ScenarioError::Setup(format!("tỉnh {province} chưa có Trung tâm (hãy nạp tỉnh mẫu)")))?;
        let departments: Vec<AgencyCode> = agencies
            .iter()
            .filter(|a| a.kind == AgencyKind::Department)
            .map(|a| a.code.clone())
            .collect();
        let mut procedures = Vec::new();
        for s in catalogue::procedure_summaries(&mut tx, &province).await? {
            if !s.at_centre {
                continue;
            }
            if let Some(v) = catalogue::procedure(&mut tx, &province, &s.code).await? {
                let Some(dept) = departments.iter().position(|d| *d == v.content.agency) else {
                    continue;
                };
                procedures.push(Procedure {
                    code: s.code,
                    content: v.content,
                    dept,
                });
            }
        }
        (centre, departments, procedures)
    };
    if procedures.is_empty() {
        return Err(ScenarioError::Setup(format!(
            "tỉnh {province} không có thủ tục nào tiếp nhận tại Trung tâm (hãy nạp tỉnh mẫu)"
        )));
    }
    let calendar = motcua_server::service::calendar::calendar(&state, &province).await?;
    let days: Vec<Date> = std::iter::successors(Some(FIRST_DAY), |d| d.next_day())
        .take_while(|d| *d <= LAST_DAY)
        .filter(|d| calendar.is_working_day(*d))
        .collect();

    let mut rng = Rng(seed);
    let cast = cast(&state, &api, &province, &centre, &departments, &mut rng).await?;
    let people = cast.counters.len() + cast.leaders.len() + cast.citizens.len();
    let cumulative = weighted(&procedures);
    let mut sim = Sim {
        rng,
        calendar: &calendar,
        procedures: &procedures,
        cast: &cast,
        cases: Vec::new(),
        queue: BinaryHeap::new(),
        order: 0,
    };
    for d in &days {
        sim.plan_day(*d, &cumulative);
    }

    let mut report = Report {
        people,
        ..Report::default()
    };
    let mut day = Day {
        date: days.first().copied(),
        ..Day::default()
    };
    let end = key(JUDGED_AT);
    while let Some(std::cmp::Reverse((t, ..))) = sim.queue.peek().copied() {
        if t > end {
            break;
        }
        let now = motcua_store::from_millis(t).to_offset(VIETNAM_OFFSET);
        while day.date.is_some_and(|d| d < now.date()) {
            progress(&day);
            report.requests += day.requests;
            let next = days.iter().find(|d| **d > day.date.unwrap_or(LAST_DAY)).copied();
            report.days.push(std::mem::take(&mut day));
            day.date = next;
        }
        // Everything due at this instant.
        let mut due = Vec::new();
        while let Some(std::cmp::Reverse((u, _, i))) = sim.queue.peek().copied() {
            if u != t {
                break;
            }
            sim.queue.pop();
            due.push(i);
        }
        clock.set(now);
        // Filings first, one after the other (codes follow the order of arrival); then
        // the other steps, each person at their own desk, concurrently.
        let (filings, others): (Vec<usize>, Vec<usize>) =
            due.into_iter().partition(|i| sim.cases[*i].next == Next::File);
        let mut results: Vec<(usize, Value)> = Vec::with_capacity(filings.len() + others.len());
        for i in filings {
            let job = sim.job(i)?;
            let (v, n) = perform(api.clone(), job).await?;
            day.requests += n;
            results.push((i, v));
        }
        let mut set = tokio::task::JoinSet::new();
        for i in others {
            let job = sim.job(i)?;
            let api = api.clone();
            set.spawn(async move { (i, perform(api, job).await) });
        }
        let mut done = Vec::new();
        while let Some(joined) = set.join_next().await {
            let (i, r) = joined.map_err(|e| ScenarioError::Setup(e.to_string()))?;
            let (v, n) = r?;
            day.requests += n;
            done.push((i, v));
        }
        done.sort_by_key(|(i, _)| *i);
        results.extend(done);
        for (i, v) in results {
            sim.after(i, now, &v, &mut day)?;
        }
    }
    while let Some(d) = day.date {
        progress(&day);
        report.requests += day.requests;
        let next = days.iter().find(|x| **x > d).copied();
        report.days.push(std::mem::take(&mut day));
        day.date = next;
    }
    clock.set(JUDGED_AT);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
