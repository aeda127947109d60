//! Generated dossiers for benchmarks and demonstrations: a year (or several) of a province's work,
//! spread over its centres ([`Places`]: the provincial centre alone in a province like
//! Ninh Thuận 2019; with commune centres, as the 2025 map has them, 30% at the provincial
//! centre and 70% at the commune centres, each where its procedure may be received), built
//! by the real lifecycle (`lifecycle::apply` on the province's calendar) and written
//! through the real repository functions (codes, dossier rows, history), in large
//! transactions.
//!
//! The generated past has no audit records or outbox events: nothing happened in this
//! system to record, and nothing should be sent to citizens or the national portal for it.

use std::time::Instant;

use motcua_core::calendar::{Calendar, VIETNAM_OFFSET};
use motcua_core::catalogue::{ApplicantKind, Level, ProcedureContent, Receivable};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::demo::Rng;
use motcua_core::dossier::{Channel, DelayRules, DossierCode, Status};
use motcua_core::lifecycle::{
    self, ActionInput, Applicant, Context, Delivery, Dossier, Filing, Person, ReceivedDocument, Transition,
};
use motcua_core::map::AgencyTree;
use motcua_store::dossiers::{self, EventRecord};
use motcua_store::{Db, StoreError, catalogue};
use time::{Duration, OffsetDateTime};

/// Dossiers written per transaction.
const CHUNK: usize = 2_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The province.
    pub province: ProvinceCode,
    /// How many dossiers.
    pub count: usize,
    /// The last instant of the generated span (dossiers are received in the years before).
    pub until: OffsetDateTime,
    /// How many years (of 365 days) before `until` the dossiers are spread over, at least 1.
    pub years: u32,
    /// Seed of the random choices (the same seed gives the same dossiers).
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Dossiers written.
    pub dossiers: usize,
    /// History rows written.
    pub events: usize,
    /// Seconds it took.
    pub seconds: f64,
}

struct Procedure {
    code: ProcedureCode,
    version: u32,
    content: ProcedureContent,
}

/// Where generated dossiers are received and decided: the province's working centres and
/// communes, and which procedures each kind of centre may receive.
struct Places {
    /// The provincial centre.
    provincial: AgencyCode,
    /// The commune centres, each with its commune.
    communes: Vec<(AgencyCode, AgencyCode)>,
    /// The procedures (indexes) the provincial centre receives.
    at_provincial: Vec<usize>,
    /// The procedures (indexes) a commune centre receives (for its own commune, or any).
    at_commune: Vec<usize>,
}

impl Places {
    fn of(tree: &AgencyTree, procedures: &[Procedure]) -> Option<Places> {
        let provincial = tree.provincial_centre()?.code.clone();
        let communes = tree
            .centres()
            .into_iter()
            .filter_map(|c| {
                tree.commune_of(&c.code)
                    .map(|commune| (c.code.clone(), commune.code.clone()))
            })
            .collect();
        let anywhere = |p: &Procedure| p.content.receivable == Receivable::Anywhere;
        let commune_level = |p: &Procedure| p.content.level == Level::Commune;
        let at_provincial = (0..procedures.len())
            .filter(|&i| !commune_level(&procedures[i]) || anywhere(&procedures[i]))
            .collect();
        let at_commune = (0..procedures.len())
            .filter(|&i| commune_level(&procedures[i]) || anywhere(&procedures[i]))
            .collect();
        Some(Places {
            provincial,
            communes,
            at_provincial,
            at_commune,
        })
    }

    /// A dossier's procedure (index), receiving centre and competent agency, where the
    /// procedure may be received (docs/map-2025.md §3): 30% at the provincial centre, 70%
    /// at a commune centre when the province has them; a commune-level procedure for the
    /// receiving centre's own commune four times in five (always, unless receivable
    /// anywhere), else for another commune.
    fn choose(&self, rng: &mut Rng, procedures: &[Procedure]) -> (usize, AgencyCode, AgencyCode) {
        let at_commune = !self.communes.is_empty() && !self.at_commune.is_empty() && rng.below(10) < 7;
        let (p, receiving, own) = if at_commune || self.at_provincial.is_empty() {
            let (centre, commune) = rng.pick(&self.communes).clone();
            (*rng.pick(&self.at_commune), centre, Some(commune))
        } else {
            (*rng.pick(&self.at_provincial), self.provincial.clone(), None)
        };
        let content = &procedures[p].content;
        if content.level != Level::Commune {
            return (p, receiving, content.agency.clone());
        }
        let competent = match own {
            Some(commune) if content.receivable == Receivable::Competent || rng.below(5) != 0 => commune,
            _ => rng.pick(&self.communes).1.clone(),
        };
        (p, receiving, competent)
    }
}

const NAMES: &[&str] = &[
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Hoàng Minh Đức",
    "Võ Thị Hạnh",
    "Đặng Quốc Huy",
    "Bùi Thị Lan",
    "Đỗ Văn Minh",
    "Huỳnh Thị Ngọc",
];

fn person(id: &str, name: &str) -> Person {
    Person {
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

fn applicant(rng: &mut Rng, content: &ProcedureContent) -> Applicant {
    let kind = *rng.pick(&content.applicants);
    let n = rng.next_u64();
    match kind {
        ApplicantKind::Citizen => Applicant {
            kind,
            name: (*rng.pick(NAMES)).to_owned(),
            id_number: format!("0581{:08}", n % 100_000_000),
            phone: format!("09{:08}", (n >> 8) % 100_000_000),
            email: String::new(),
            address: "Phan Rang - Tháp Chàm, Ninh Thuận".to_owned(),
        },
        ApplicantKind::Organisation => Applicant {
            kind,
            name: format!("Công ty TNHH Thương mại số {}", n % 10_000),
            id_number: format!("45{:08}", n % 100_000_000),
            phone: format!("0259{:06}", (n >> 8) % 1_000_000),
            email: String::new(),
            address: "Phan Rang - Tháp Chàm, Ninh Thuận".to_owned(),
        },
    }
}

/// One dossier's life up to `until`: accepted at `received`, then handled with the
/// mix a centre sees (most on time, some early, some late, some supplemented, a few
/// refused, withdrawn or stopped, the recent ones still in progress).
fn life(
    rng: &mut Rng,
    d: &mut Dossier,
    calendar: &Calendar,
    received: OffsetDateTime,
    until: OffsetDateTime,
) -> Vec<(Transition, OffsetDateTime, Person, AgencyCode)> {
    let counter = person("generated-counter", "Cán bộ tiếp nhận");
    let leader = person("generated-leader", "Lãnh đạo phòng chuyên môn");
    let officer = person("generated-officer", "Chuyên viên thụ lý");
    let mut out = Vec::new();
    let mut step = |d: &mut Dossier, input: ActionInput, at: OffsetDateTime, who: &Person| -> bool {
        if at > until {
            return false;
        }
        let agency = d.current_agency.clone();
        let ctx = Context {
            now: at,
            calendar,
            rules: DelayRules::default(),
            actor: who.clone(),
            agency: agency.clone(),
        };
        match lifecycle::apply(d, input, &ctx) {
            Ok(t) => {
                out.push((t, at, who.clone(), agency));
                true
            }
            Err(_) => false,
        }
    };
    let later = |t: OffsetDateTime, minutes: u64| calendar.add_working_minutes(t, minutes).unwrap_or(t);
    if d.channel == Channel::Online && rng.below(100) < 3 {
        step(
            d,
            ActionInput::Refuse {
                reason: "Hồ sơ không thuộc thẩm quyền giải quyết".to_owned(),
            },
            received,
            &counter,
        );
        return out;
    }
    if !step(d, ActionInput::Accept, received, &counter) {
        return out;
    }
    let t = later(received, 60 + rng.below(180) as u64);
    if !step(d, ActionInput::Transfer, t, &counter) {
        return out;
    }
    let t = later(t, 30 + rng.below(240) as u64);
    if !step(d, ActionInput::Assign { to: officer.clone() }, t, &leader) {
        return out;
    }
    let total = u64::from(d.processing_hours.max(1)) * 60;
    let mut t = t;
    if rng.below(100) < 8 {
        let asked = later(t, total / 3);
        let missing = vec!["Bản sao giấy tờ chứng minh".to_owned()];
        let reason = "Thiếu giấy tờ".to_owned();
        if !step(d, ActionInput::RequestSupplement { missing, reason }, asked, &officer) {
            return out;
        }
        let back = later(asked, 480 * (1 + rng.below(5) as u64));
        if !step(
            d,
            ActionInput::ReceiveSupplement {
                files: Vec::new(),
                note: String::new(),
            },
            back,
            &counter,
        ) {
            return out;
        }
        t = back;
    }
    match rng.below(100) {
        0 => {
            step(
                d,
                ActionInput::Withdraw {
                    reason: "Người nộp xin rút hồ sơ".to_owned(),
                },
                later(t, 120),
                &counter,
            );
            return out;
        }
        1 => {
            let input = ActionInput::Stop {
                legal_ground: "Điều 19 Nghị định 61/2018/NĐ-CP".to_owned(),
                reason: String::new(),
            };
            step(d, input, later(t, 240), &leader);
            return out;
        }
        _ => {}
    }
    // When the result is ready: mostly within the time, some early, about 4% late.
    let share = match rng.below(100) {
        0..=3 => 100 + 5 + rng.below(40) as u64,
        4..=30 => 30 + rng.below(40) as u64,
        _ => 70 + rng.below(30) as u64,
    };
    let elapsed = calendar.working_minutes_between(received, t);
    let target = (total * share / 100).saturating_sub(elapsed).max(30);
    let finished = later(t, target);
    let result = vec![format!("generated-result-{}", d.code)];
    if !step(
        d,
        ActionInput::Finish {
            result_files: result,
            note: String::new(),
        },
        finished,
        &leader,
    ) {
        return out;
    }
    let handed = later(finished, 60 + rng.below(2_000) as u64);
    let method = if d.channel == Channel::Online {
        Delivery::Online
    } else {
        Delivery::Counter
    };
    step(
        d,
        ActionInput::Return {
            method,
            tracking_number: String::new(),
        },
        handed,
        &counter,
    );
    out
}

/// Generates `plan.count` dossiers; `progress` is called after each transaction with the
/// number written so far.
pub async fn generate(db: &Db, plan: &Plan, mut progress: impl FnMut(usize)) -> Result<Report, StoreError> {
    let started = Instant::now();
    let (procedures, calendar, places) = {
        let mut tx = db.begin_read().await?;
        let calendar = motcua_store::calendar::calendar(&mut tx, &plan.province).await?;
        let tree = AgencyTree::new(&catalogue::agencies(&mut tx, &plan.province).await?);
        let mut procedures = Vec::new();
        for s in catalogue::procedure_summaries(&mut tx, &plan.province).await? {
            if !s.at_centre {
                continue;
            }
            if let Some(v) = catalogue::procedure(&mut tx, &plan.province, &s.code).await? {
                procedures.push(Procedure {
                    code: s.code,
                    version: v.version,
                    content: v.content,
                });
            }
        }
        let places = Places::of(&tree, &procedures)
            .ok_or_else(|| StoreError::NotFound(format!("Trung tâm của tỉnh {}", plan.province)))?;
        (procedures, calendar, places)
    };
    if procedures.is_empty() || (places.at_provincial.is_empty() && places.communes.is_empty()) {
        return Err(StoreError::NotFound(format!(
            "thủ tục nào tiếp nhận tại Trung tâm của tỉnh {}",
            plan.province
        )));
    }
    let mut rng = Rng(plan.seed);
    let span = Duration::days(365 * i64::from(plan.years.max(1)));
    let start = plan.until - span;
    // Receipt instants: random instants of the span that fall in a working session (others
    // are drawn again), in order, so codes follow the days as they would. (Moving an
    // instant to the next working moment instead piled a holiday's worth of dossiers on
    // the day after it: over 9,999 on one day at a million a year, more than a day's codes.)
    let mut received: Vec<OffsetDateTime> = Vec::with_capacity(plan.count);
    while received.len() < plan.count {
        let offset = Duration::seconds((rng.next_u64() % span.whole_seconds().unsigned_abs()) as i64);
        let at = (start + offset).to_offset(VIETNAM_OFFSET);
        let moment = calendar.next_working_moment(at).unwrap_or(at);
        if moment == at && moment <= plan.until {
            received.push(moment);
        }
    }
    received.sort_unstable();
    // PostgreSQL takes concurrent writers: two parts of the span, split at a day boundary
    // (each day's codes come from one writer), written at once, keep both cores busy while
    // each waits on the database. SQLite has one writer.
    let parts = match db.backend() {
        motcua_store::Backend::Sqlite => 1,
        motcua_store::Backend::Postgres => 2,
    };
    let mut split = received.len() / parts;
    while split > 0 && split < received.len() && received[split].date() == received[split - 1].date() {
        split += 1;
    }
    let (first, second) = received.split_at(split);
    let setting = Setting {
        db,
        plan,
        procedures: &procedures,
        calendar: &calendar,
        places: &places,
        written: std::cell::Cell::new(0),
        progress: std::cell::RefCell::new(&mut progress),
    };
    let second_rng = Rng(plan.seed.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15);
    let (a, b) = tokio::try_join!(setting.write(first, rng), setting.write(second, second_rng))?;
    Ok(Report {
        dossiers: a.dossiers + b.dossiers,
        events: a.events + b.events,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What the writers of [`generate`] share.
struct Setting<'a, F> {
    db: &'a Db,
    plan: &'a Plan,
    procedures: &'a [Procedure],
    calendar: &'a Calendar,
    places: &'a Places,
    /// Dossiers written so far by all the writers.
    written: std::cell::Cell<usize>,
    progress: std::cell::RefCell<&'a mut F>,
}

impl<F: FnMut(usize)> Setting<'_, F> {
    /// Writes dossiers received at `received` (in order), `CHUNK` per transaction.
    async fn write(&self, received: &[OffsetDateTime], mut rng: Rng) -> Result<Report, StoreError> {
        let mut report = Report::default();
        for chunk in received.chunks(CHUNK) {
            let mut tx = self.db.begin_write().await?;
            // Each dossier's procedure and place first: codes are numbered per receiving
            // centre and day.
            let chosen: Vec<(usize, AgencyCode, AgencyCode)> = chunk
                .iter()
                .map(|_| self.places.choose(&mut rng, self.procedures))
                .collect();
            // One statement per centre and day of the chunk (the instants are in order).
            let mut order: Vec<usize> = (0..chunk.len()).collect();
            order.sort_by(|&a, &b| (&chosen[a].1, chunk[a].date()).cmp(&(&chosen[b].1, chunk[b].date())));
            let mut codes: Vec<Option<DossierCode>> = vec![None; chunk.len()];
            for group in order.chunk_by(|&a, &b| chosen[a].1 == chosen[b].1 && chunk[a].date() == chunk[b].date()) {
                let n = u32::try_from(group.len()).unwrap_or(u32::MAX);
                let first = group[0];
                let reserved =
                    dossiers::reserve_codes(&mut tx, &self.plan.province, &chosen[first].1, chunk[first].date(), n)
                        .await?;
                for (&i, code) in group.iter().zip(reserved) {
                    codes[i] = Some(code);
                }
            }
            let mut counted = motcua_store::stats::Batch::default();
            let mut made = Vec::with_capacity(chunk.len());
            let mut events = Vec::with_capacity(chunk.len());
            for ((&received, code), (p, receiving, competent)) in chunk.iter().zip(codes).zip(chosen) {
                let code = code.ok_or_else(|| StoreError::Io("a generated dossier got no code".to_owned()))?;
                let (history, dossier) = one(
                    &mut rng,
                    self.plan,
                    &self.procedures[p],
                    self.calendar,
                    (&receiving, competent),
                    received,
                    code,
                );
                counted.add(&dossier);
                made.push(dossier);
                events.push(history);
            }
            // Dossier rows and their histories many per statement: a statement per row made
            // generation wait on the database eight times per dossier.
            let ids = dossiers::insert_many_uncounted(&mut tx, &made).await?;
            let histories: Vec<(i64, Vec<EventRecord>)> = ids.into_iter().zip(events).collect();
            report.dossiers += made.len();
            report.events += dossiers::insert_histories(&mut tx, &histories).await?;
            counted.write(&mut tx).await?;
            tx.commit().await?;
            self.written.set(self.written.get() + made.len());
            (self.progress.borrow_mut())(self.written.get());
        }
        Ok(report)
    }
}

/// Makes one dossier of `p` received at `received` under `code` by `centre` for the
/// competent agency, and its history.
fn one(
    rng: &mut Rng,
    plan: &Plan,
    p: &Procedure,
    calendar: &Calendar,
    (centre, competent): (&AgencyCode, AgencyCode),
    received: OffsetDateTime,
    code: DossierCode,
) -> (Vec<EventRecord>, Dossier) {
    let channel = match rng.below(100) {
        0..=64 => Channel::Counter,
        65..=94 => Channel::Online,
        _ => Channel::Post,
    };
    let documents = p
        .content
        .documents
        .iter()
        .enumerate()
        .filter(|(_, r)| r.required)
        .map(|(i, r)| ReceivedDocument {
            index: u16::try_from(i).unwrap_or(u16::MAX),
            name: r.name.clone(),
            originals: r.originals,
            copies: r.copies,
            files: Vec::new(),
        })
        .collect();
    let mut secret = [0u8; 8];
    secret.copy_from_slice(&rng.next_u64().to_le_bytes());
    let filed_at = received - Duration::minutes(if channel == Channel::Online { 600 } else { 0 });
    let mut d = Dossier::file(Filing {
        code,
        province: plan.province.clone(),
        procedure: &p.code,
        version: p.version,
        content: &p.content,
        receiving: centre.clone(),
        competent,
        channel,
        applicant: applicant(rng, &p.content),
        documents,
        tracking_secret: lifecycle::tracking_secret(secret),
        now: filed_at,
    });
    let history = life(rng, &mut d, calendar, received, plan.until);
    let counter = person("generated-counter", "Cán bộ tiếp nhận");
    let filing = EventRecord {
        seq: 0,
        at: filed_at,
        action: "file".to_owned(),
        from_status: None,
        to_status: Status::New,
        actor: counter,
        agency: centre.as_str().to_owned(),
        to_agency: None,
        to_user: None,
        step_due_at: None,
        closed_step: None,
        note: String::new(),
    };
    let mut events = Vec::with_capacity(1 + history.len());
    events.push(filing);
    for (t, at, who, agency) in &history {
        let handover = t.handover.as_ref();
        events.push(EventRecord {
            seq: 0,
            at: *at,
            action: t.action.name().to_owned(),
            from_status: Some(t.from),
            to_status: t.to,
            actor: who.clone(),
            agency: agency.as_str().to_owned(),
            to_agency: handover.map(|h| h.to_agency.as_str().to_owned()),
            to_user: handover.and_then(|h| h.to_person.clone()),
            step_due_at: handover.and_then(|h| h.step_due),
            closed_step: t.closed_step,
            note: t.note.clone(),
        });
    }
    (events, d)
}

/// A dossier code and its tracking secret, for load tests of public tracking.
pub async fn sample_codes(db: &Db, limit: i64) -> Result<Vec<(DossierCode, String)>, StoreError> {
    let mut tx = db.begin_read().await?;
    dossiers::tracking_sample(&mut tx, limit).await
}
