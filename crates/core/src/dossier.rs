//! Dossiers: the legal code format, the national status codes, and the rules of the
//! lifecycle (which action may follow which status, and who may take it), with the time
//! rules that move the appointment (docs/rules.md §3–§4).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::access::Role;
use crate::calendar::{Calendar, CalendarError};
use crate::codes::{AgencyCode, CodeError};

/// A dossier code, `<agency code>-YYMMDD-XXXX` (Circular 01/2018/TT-VPCP art. 19): the
/// receiving agency, the date received, and a 4-digit sequence within that agency and day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierCode(String);

/// Largest sequence number of one agency on one day that the 4-digit format can carry.
pub const MAX_DAILY_SEQUENCE: u32 = 9999;

impl DossierCode {
    const EXPECTED: &'static str = "<mã cơ quan>-YYMMDD-XXXX, ví dụ 000.00.16.H43-190612-0001";

    /// Builds the code of the `sequence`-th dossier received by `agency` on `date`.
    pub fn new(agency: &AgencyCode, date: Date, sequence: u32) -> Result<Self, CodeError> {
        if !(1..=MAX_DAILY_SEQUENCE).contains(&sequence) {
            return Err(CodeError {
                kind: "Số thứ tự hồ sơ",
                value: sequence.to_string(),
                expected: "từ 0001 đến 9999 trong một ngày của một cơ quan",
            });
        }
        Ok(Self(format!(
            "{}-{:02}{:02}{:02}-{sequence:04}",
            agency.as_str(),
            date.year().rem_euclid(100),
            u8::from(date.month()),
            date.day()
        )))
    }

    /// Parses and validates a code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        let err = || CodeError {
            kind: "Mã hồ sơ",
            value: input.chars().take(64).collect(),
            expected: Self::EXPECTED,
        };
        let mut parts = s.rsplitn(3, '-');
        let (Some(seq), Some(day), Some(agency)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(seq, 4) || !digits(day, 6) || seq == "0000" || AgencyCode::parse(agency).is_err() {
            return Err(err());
        }
        let month: u8 = day[2..4].parse().map_err(|_| err())?;
        let dom: u8 = day[4..6].parse().map_err(|_| err())?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&dom) {
            return Err(err());
        }
        Ok(Self(s))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The receiving agency's code.
    pub fn agency(&self) -> &str {
        &self.0[..self.0.len() - 12]
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for DossierCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DossierCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DossierCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for DossierCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(DossierCode::EXPECTED))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for DossierCode {}

/// The national status codes used when syncing to the National Public Service Portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    /// 1 — filed online, not yet checked by the centre.
    New,
    /// 2 — accepted; receipt with appointment issued.
    Accepted,
    /// 3 — refused at reception (reason given).
    Refused,
    /// 4 — being handled by a department.
    InProgress,
    /// 5 — the applicant must supplement; the clock stops.
    SupplementRequested,
    /// 6 — waiting for fees or taxes to be paid.
    AwaitingPayment,
    /// 7 — withdrawn at the applicant's request.
    Withdrawn,
    /// 8 — handling stopped (legal ground given).
    Stopped,
    /// 9 — result ready, not yet handed over.
    Done,
    /// 10 — result returned.
    Returned,
}

impl Status {
    /// Every status, by code.
    pub const ALL: [Status; 10] = [
        Status::New,
        Status::Accepted,
        Status::Refused,
        Status::InProgress,
        Status::SupplementRequested,
        Status::AwaitingPayment,
        Status::Withdrawn,
        Status::Stopped,
        Status::Done,
        Status::Returned,
    ];

    /// The national code, 1–10.
    pub fn code(self) -> u8 {
        match self {
            Status::New => 1,
            Status::Accepted => 2,
            Status::Refused => 3,
            Status::InProgress => 4,
            Status::SupplementRequested => 5,
            Status::AwaitingPayment => 6,
            Status::Withdrawn => 7,
            Status::Stopped => 8,
            Status::Done => 9,
            Status::Returned => 10,
        }
    }

    /// The status of a national code.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The national label as shipped: the labels of both shipped rule versions. What the
    /// pages and the API show comes from the version in force (`crate::rules`).
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "Mới đăng ký",
            Status::Accepted => "Được tiếp nhận",
            Status::Refused => "Không được tiếp nhận",
            Status::InProgress => "Đang xử lý",
            Status::SupplementRequested => "Yêu cầu bổ sung giấy tờ",
            Status::AwaitingPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Status::Withdrawn => "Công dân yêu cầu rút hồ sơ",
            Status::Stopped => "Dừng xử lý",
            Status::Done => "Đã xử lý xong",
            Status::Returned => "Đã trả kết quả",
        }
    }

    /// No action follows a final status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
        )
    }

    /// Whether the statutory clock runs in this status (it stops while the applicant
    /// supplements or pays, and before acceptance): one of [`crate::deadline::CLOCK_RUNNING`].
    pub fn clock_runs(self) -> bool {
        crate::deadline::CLOCK_RUNNING.contains(&self)
    }

    /// The statuses of a dossier that has its result (ready, or handed over): what is
    /// resolved, and what the result indices and rates count.
    pub const WITH_RESULT: [Status; 2] = [Status::Done, Status::Returned];

    /// Whether a dossier in this status has its result (one of [`Status::WITH_RESULT`]).
    pub fn has_result(self) -> bool {
        Status::WITH_RESULT.contains(&self)
    }

    /// Whether a department is handling the dossier (status 4): it may be assigned,
    /// forwarded, finished.
    pub fn is_being_handled(self) -> bool {
        self == Status::InProgress
    }

    /// Whether the result is ready and waits to be handed over (the status
    /// [`Action::Return`] is taken from).
    pub fn awaits_hand_over(self) -> bool {
        Action::Return.allowed_from().contains(&self)
    }
}

/// How the dossier was filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// 1 — at the counter.
    Counter,
    /// 2 — online.
    Online,
    /// 3 — by public post.
    Post,
}

impl Channel {
    /// The national code, 1–3.
    pub fn code(self) -> u8 {
        match self {
            Channel::Counter => 1,
            Channel::Online => 2,
            Channel::Post => 3,
        }
    }
}

/// Everything that can happen to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Action {
    /// Reception: the dossier is complete; the receipt and appointment are issued.
    Accept,
    /// Reception: not eligible; refused in writing.
    Refuse,
    /// Reception: incomplete; everything missing is listed once, in writing.
    RequestCompletion,
    /// The centre hands the dossier to the responsible department.
    Transfer,
    /// A department leader assigns it to an officer.
    Assign,
    /// The department passes it to another agency (inter-agency procedure).
    ForwardOut,
    /// The other agency hands it back.
    ForwardBack,
    /// The department asks the applicant to supplement; the clock stops.
    RequestSupplement,
    /// The supplement arrives; the clock restarts and the appointment moves.
    ReceiveSupplement,
    /// The department asks for fees or taxes.
    RequestPayment,
    /// Payment confirmed.
    ConfirmPayment,
    /// The agency apologises and sets a new appointment.
    Apologise,
    /// The applicant withdraws the dossier.
    Withdraw,
    /// Handling stops on legal grounds.
    Stop,
    /// Approved and signed: the result is ready.
    Finish,
    /// The result is handed over (counter, post or online).
    Return,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 16] = [
        Action::Accept,
        Action::Refuse,
        Action::RequestCompletion,
        Action::Transfer,
        Action::Assign,
        Action::ForwardOut,
        Action::ForwardBack,
        Action::RequestSupplement,
        Action::ReceiveSupplement,
        Action::RequestPayment,
        Action::ConfirmPayment,
        Action::Apologise,
        Action::Withdraw,
        Action::Stop,
        Action::Finish,
        Action::Return,
    ];

    /// Name used in URLs (`/actions/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Refuse => "refuse",
            Action::RequestCompletion => "request-completion",
            Action::Transfer => "transfer",
            Action::Assign => "assign",
            Action::ForwardOut => "forward",
            Action::ForwardBack => "forward-back",
            Action::RequestSupplement => "request-supplement",
            Action::ReceiveSupplement => "receive-supplement",
            Action::RequestPayment => "request-payment",
            Action::ConfirmPayment => "confirm-payment",
            Action::Apologise => "apologise",
            Action::Withdraw => "withdraw",
            Action::Stop => "stop",
            Action::Finish => "finish",
            Action::Return => "return",
        }
    }

    /// The action named `name`.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Action::Accept => "Tiếp nhận hồ sơ",
            Action::Refuse => "Từ chối tiếp nhận",
            Action::RequestCompletion => "Yêu cầu bổ sung, hoàn thiện khi tiếp nhận",
            Action::Transfer => "Chuyển hồ sơ đến cơ quan giải quyết",
            Action::Assign => "Phân công xử lý",
            Action::ForwardOut => "Chuyển cơ quan phối hợp (liên thông)",
            Action::ForwardBack => "Cơ quan phối hợp trả lại",
            Action::RequestSupplement => "Yêu cầu bổ sung giấy tờ",
            Action::ReceiveSupplement => "Nhận hồ sơ bổ sung",
            Action::RequestPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Action::ConfirmPayment => "Xác nhận đã nộp phí, lệ phí",
            Action::Apologise => "Xin lỗi và hẹn lại ngày trả kết quả",
            Action::Withdraw => "Rút hồ sơ theo yêu cầu",
            Action::Stop => "Dừng giải quyết hồ sơ",
            Action::Finish => "Phê duyệt, hoàn thành xử lý",
            Action::Return => "Trả kết quả",
        }
    }

    /// The statuses the action may be taken from.
    pub fn allowed_from(self) -> &'static [Status] {
        use Status::*;
        match self {
            Action::Accept | Action::RequestCompletion => &[New],
            // Also after a completion request the applicant left unanswered past the time
            // given (`crate::lifecycle::apply` checks the wait).
            Action::Refuse => &[New, SupplementRequested],
            Action::Transfer => &[Accepted],
            Action::Assign | Action::ForwardOut | Action::ForwardBack | Action::RequestSupplement => &[InProgress],
            Action::RequestPayment | Action::Apologise | Action::Finish => &[InProgress],
            // Also after a supplement or payment request left unanswered past the time given.
            Action::Stop => &[InProgress, SupplementRequested, AwaitingPayment],
            Action::ReceiveSupplement => &[SupplementRequested],
            Action::ConfirmPayment => &[AwaitingPayment],
            Action::Withdraw => &[New, Accepted, InProgress, SupplementRequested, AwaitingPayment],
            Action::Return => &[Done],
        }
    }

    /// The roles that may take the action (always also scoped to the dossier's agency by
    /// the caller: counter staff of the receiving centre, department staff of the
    /// department holding the dossier, the applicant of their own dossier).
    pub fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::Accept | Action::Refuse | Action::RequestCompletion | Action::Transfer | Action::Return => {
                &[CounterOfficer]
            }
            Action::Assign | Action::Finish | Action::Stop | Action::Apologise => &[DepartmentLeader],
            Action::ForwardOut | Action::ForwardBack | Action::RequestSupplement | Action::RequestPayment => {
                &[DepartmentOfficer, DepartmentLeader]
            }
            Action::ReceiveSupplement | Action::Withdraw => &[Citizen, CounterOfficer],
            Action::ConfirmPayment => &[CounterOfficer, DepartmentOfficer, DepartmentLeader],
        }
    }
}

/// Why an action was refused: a message for the person, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The status after `action`, or why it may not be taken from `status`. `resume` is the
/// status to return to after a supplement (reception or handling).
pub fn next_status(status: Status, action: Action, resume: Option<Status>) -> Result<Status, Refusal> {
    if !action.allowed_from().contains(&status) {
        return Err(Refusal(format!(
            "Không thể «{}» khi hồ sơ đang ở trạng thái «{}».",
            action.label(),
            status.label()
        )));
    }
    Ok(match action {
        Action::Accept => Status::Accepted,
        Action::Refuse => Status::Refused,
        Action::RequestCompletion | Action::RequestSupplement => Status::SupplementRequested,
        Action::Transfer
        | Action::Assign
        | Action::ForwardOut
        | Action::ForwardBack
        | Action::Apologise
        | Action::ConfirmPayment => Status::InProgress,
        Action::ReceiveSupplement => resume.unwrap_or(Status::InProgress),
        Action::RequestPayment => Status::AwaitingPayment,
        Action::Withdraw => Status::Withdrawn,
        Action::Stop => Status::Stopped,
        Action::Finish => Status::Done,
        Action::Return => Status::Returned,
    })
}

/// The appointment after a pause: the supplement (or payment) time is not counted, so
/// the appointment moves by exactly the working time the clock stood still.
pub fn resume_appointment(
    calendar: &Calendar,
    appointment: OffsetDateTime,
    paused_at: OffsetDateTime,
    resumed_at: OffsetDateTime,
) -> Result<OffsetDateTime, CalendarError> {
    let paused = calendar.working_minutes_between(paused_at, resumed_at);
    calendar.add_working_minutes(appointment, paused)
}

/// The limits on apologies and extensions (Decree 61/2018; configurable, docs/rules.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayRules {
    /// The apology must come at least this many working days before the appointment.
    pub min_notice_working_days: u32,
    /// How many times the appointment may be moved.
    pub max_extensions: u32,
    /// How long an applicant is given to supplement or pay, in working days, before an
    /// unanswered dossier may be stopped (or, before acceptance, refused); 0 for no limit
    /// (docs/rules.md §3).
    pub max_wait_working_days: u32,
}

impl Default for DelayRules {
    fn default() -> Self {
        Self {
            min_notice_working_days: 1,
            max_extensions: 1,
            max_wait_working_days: 30,
        }
    }
}

/// Checks an apology: a later appointment, early enough, not more often than allowed.
pub fn check_apology(
    calendar: &Calendar,
    rules: DelayRules,
    now: OffsetDateTime,
    appointment: OffsetDateTime,
    new_appointment: OffsetDateTime,
    extensions_so_far: u32,
) -> Result<(), Refusal> {
    if extensions_so_far >= rules.max_extensions {
        return Err(Refusal(format!(
            "Ngày hẹn trả kết quả chỉ được điều chỉnh tối đa {} lần.",
            rules.max_extensions
        )));
    }
    if new_appointment <= appointment {
        return Err(Refusal("Ngày hẹn mới phải sau ngày hẹn hiện tại.".to_owned()));
    }
    let notice = u64::from(rules.min_notice_working_days) * u64::from(calendar.minutes_per_working_day());
    if calendar.working_minutes_between(now, appointment) < notice {
        return Err(Refusal(format!(
            "Văn bản xin lỗi phải gửi trước ngày hẹn ít nhất {} ngày làm việc.",
            rules.min_notice_working_days
        )));
    }
    Ok(())
}

/// How a step (or the whole dossier) finished against its due instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Timeliness {
    /// Finished on a working day before the due day.
    Early,
    /// Finished on the due day, not after the due instant.
    OnTime,
    /// Finished after the due instant.
    Late,
}

impl Timeliness {
    /// Judges `finished` against `due` (both compared in Vietnam time).
    pub fn judge(finished: OffsetDateTime, due: OffsetDateTime) -> Self {
        let vn = crate::calendar::VIETNAM_OFFSET;
        if finished > due {
            Timeliness::Late
        } else if finished.to_offset(vn).date() < due.to_offset(vn).date() {
            Timeliness::Early
        } else {
            Timeliness::OnTime
        }
    }

    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Timeliness::Early => "early",
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [Timeliness::Early, Timeliness::OnTime, Timeliness::Late]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// Vietnamese label as the control sheet prints it.
    pub fn label(self) -> &'static str {
        match self {
            Timeliness::Early => "Trước hạn",
            Timeliness::OnTime => "Đúng hạn",
            Timeliness::Late => "Quá hạn",
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn codes_follow_the_legal_format() {
        let agency = AgencyCode::parse("000.00.16.H43").expect("agency");
        let c = DossierCode::new(&agency, date!(2019 - 06 - 12), 1).expect("code");
        assert_eq!(c.as_str(), "000.00.16.H43-190612-0001");
        assert_eq!(c.agency(), "000.00.16.H43");
        assert_eq!(DossierCode::parse(" 000.00.16.h43-190612-0001 ").expect("parse"), c);
        assert!(DossierCode::new(&agency, date!(2019 - 06 - 12), 10_000).is_err());
        assert!(DossierCode::new(&agency, date!(2019 - 06 - 12), 0).is_err());
        for bad in [
            "",
            "000.00.16.H43-190612-0000",
            "000.00.16.H43-191312-0001",
            "000.00.16.H43-190612-001",
            "H43-190612-0001",
        ] {
            assert!(DossierCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_carry_the_national_codes() {
        for (i, s) in Status::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(s.code()), i + 1);
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(Status::from_code(11), None);
    }

    #[test]
    fn every_transition_follows_the_table() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(action));
            for status in Status::ALL {
                let r = next_status(status, action, None);
                assert_eq!(
                    r.is_ok(),
                    action.allowed_from().contains(&status),
                    "{action:?} from {status:?}"
                );
                if status.is_final() {
                    assert!(r.is_err(), "nothing follows {status:?}");
                }
            }
        }
        assert_eq!(next_status(Status::New, Action::Accept, None), Ok(Status::Accepted));
        assert_eq!(
            next_status(
                Status::SupplementRequested,
                Action::ReceiveSupplement,
                Some(Status::New)
            ),
            Ok(Status::New)
        );
        let refusal = next_status(Status::Returned, Action::Finish, None).expect_err("final");
        assert!(refusal.0.contains("Đã trả kết quả"));
    }

    #[test]
    fn a_supplement_moves_the_appointment_by_the_paused_working_time() {
        let cal = Calendar::standard();
        let appointment = datetime!(2026-12-10 16:00 +07:00);
        // Paused Monday 09:00, resumed Wednesday 09:00: two working days.
        let moved = resume_appointment(
            &cal,
            appointment,
            datetime!(2026-11-30 09:00 +07:00),
            datetime!(2026-12-02 09:00 +07:00),
        )
        .expect("moved");
        assert_eq!(moved, datetime!(2026-12-14 16:00 +07:00));
    }

    #[test]
    fn apologies_are_limited() {
        let cal = Calendar::standard();
        let rules = DelayRules::default();
        let appointment = datetime!(2026-12-10 16:00 +07:00);
        let later = datetime!(2026-12-15 16:00 +07:00);
        assert!(check_apology(&cal, rules, datetime!(2026-12-08 09:00 +07:00), appointment, later, 0).is_ok());
        assert!(
            check_apology(&cal, rules, datetime!(2026-12-10 09:00 +07:00), appointment, later, 0).is_err(),
            "too late"
        );
        assert!(
            check_apology(
                &cal,
                rules,
                datetime!(2026-12-08 09:00 +07:00),
                appointment,
                appointment,
                0
            )
            .is_err(),
            "not later"
        );
        assert!(
            check_apology(&cal, rules, datetime!(2026-12-08 09:00 +07:00), appointment, later, 1).is_err(),
            "only once"
        );
    }

    #[test]
    fn timeliness() {
        let due = datetime!(2026-12-10 16:00 +07:00);
        assert_eq!(
            Timeliness::judge(datetime!(2026-12-09 10:00 +07:00), due),
            Timeliness::Early
        );
        assert_eq!(
            Timeliness::judge(datetime!(2026-12-10 09:00 +07:00), due),
            Timeliness::OnTime
        );
        assert_eq!(
            Timeliness::judge(datetime!(2026-12-10 16:01 +07:00), due),
            Timeliness::Late
        );
    }
}
