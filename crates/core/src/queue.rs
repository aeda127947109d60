//! The counter queue's rules (docs/rules.md §1.1): ticket letters and numbers, the priority
//! kinds, and which waiting ticket a counter calls next under the fair priority rule.
//!
//! Pure: the store reads the oldest waiting ticket of each kind, [`next_call`] chooses, and
//! the store claims the chosen ticket with a conditional update.

use serde::{Deserialize, Serialize};

/// A service group's ticket letter: one capital ASCII letter (`A`, `B`, …), printed before
/// the ticket's number (`A015`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TicketLetter(char);

impl TicketLetter {
    /// Parses `s`: exactly one letter A–Z (a lowercase one is raised).
    pub fn parse(s: &str) -> Result<TicketLetter, QueueError> {
        let mut chars = s.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Ok(TicketLetter(c.to_ascii_uppercase())),
            _ => Err(QueueError::InvalidLetter),
        }
    }

    /// The letter.
    pub fn as_char(self) -> char {
        self.0
    }
}

impl TryFrom<String> for TicketLetter {
    type Error = QueueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TicketLetter::parse(&s)
    }
}

impl From<TicketLetter> for String {
    fn from(l: TicketLetter) -> String {
        l.0.to_string()
    }
}

/// What the queue's rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// A ticket letter that is not one letter A–Z.
    #[error("Chữ cái của số thứ tự phải là một chữ cái từ A đến Z.")]
    InvalidLetter,
    /// A group or counter name that is empty or too long.
    #[error("Tên phải có từ 1 đến {MAX_NAME} ký tự.")]
    InvalidName,
    /// A counter number outside 1–999.
    #[error("Số quầy phải từ 1 đến 999.")]
    InvalidCounterNumber,
    /// A priority run limit outside 1–20.
    #[error("Số lượt ưu tiên liên tiếp phải từ 1 đến 20.")]
    InvalidPriorityRun,
    /// A number of recalls before a no-show outside 0–10.
    #[error("Số lần gọi lại trước khi coi là vắng mặt phải từ 0 đến 10.")]
    InvalidRecalls,
    /// A priority list with an empty, too long or repeated entry, or more than 20.
    #[error("Danh sách đối tượng ưu tiên có từ 0 đến 20 mục, mỗi mục từ 1 đến {MAX_NAME} ký tự, không trùng nhau.")]
    InvalidPriorityKinds,
}

/// Longest name of a group, counter or priority kind, in characters.
pub const MAX_NAME: usize = 100;

/// Checks a group's or counter's name (already trimmed and in NFC).
pub fn check_name(name: &str) -> Result<(), QueueError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME {
        return Err(QueueError::InvalidName);
    }
    Ok(())
}

/// Checks a counter's number.
pub fn check_counter_number(n: i64) -> Result<(), QueueError> {
    if (1..=999).contains(&n) {
        Ok(())
    } else {
        Err(QueueError::InvalidCounterNumber)
    }
}

/// The printed ticket number: the letter and the day's number, at least three digits
/// (`A015`, `B123`, `A1000`).
pub fn ticket_number(letter: TicketLetter, n: i64) -> String {
    format!("{}{n:03}", letter.as_char())
}

/// The people served first, by law and common practice (Law on the Elderly 2009 art. 10,
/// Law on Persons with Disabilities 2010 art. 4, Ordinance on people with meritorious
/// service): the default list of a centre, which its administrator may change.
pub const DEFAULT_PRIORITY_KINDS: &[&str] = &[
    "Người cao tuổi",
    "Người khuyết tật",
    "Phụ nữ mang thai",
    "Người đi cùng trẻ nhỏ dưới 36 tháng tuổi",
    "Người có công với cách mạng",
];

/// A centre's queue settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueSettings {
    /// Who may take a priority ticket (shown at the kiosk).
    pub priority_kinds: Vec<String>,
    /// At most this many priority tickets are called in a row at a counter while an
    /// ordinary ticket of its groups waits (the fair rule, K).
    pub max_priority_run: i64,
    /// A called ticket may be marked absent after this many recalls (N).
    pub recalls_before_no_show: i64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            priority_kinds: DEFAULT_PRIORITY_KINDS.iter().map(|s| (*s).to_owned()).collect(),
            max_priority_run: 3,
            recalls_before_no_show: 2,
        }
    }
}

impl QueueSettings {
    /// Checks the settings (names already in NFC and trimmed).
    pub fn validate(&self) -> Result<(), QueueError> {
        if !(1..=20).contains(&self.max_priority_run) {
            return Err(QueueError::InvalidPriorityRun);
        }
        if !(0..=10).contains(&self.recalls_before_no_show) {
            return Err(QueueError::InvalidRecalls);
        }
        let kinds = &self.priority_kinds;
        let bad = kinds.len() > 20
            || kinds.iter().any(|k| check_name(k).is_err())
            || kinds.iter().enumerate().any(|(i, k)| kinds[..i].contains(k));
        if bad {
            return Err(QueueError::InvalidPriorityKinds);
        }
        Ok(())
    }
}

/// What a counter's next call takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The oldest waiting priority ticket.
    Priority,
    /// The oldest waiting ordinary ticket.
    Ordinary,
}

/// The fair rule (docs/rules.md §1.1): which kind of ticket a counter calls next, given
/// whether a priority and an ordinary ticket of its groups wait, how many priority tickets
/// it called in a row just before (`run`) and the limit `max_run` (K).
///
/// Priority tickets go first, but after K of them in a row an ordinary ticket that waits is
/// called; so an ordinary ticket is called within K + 1 calls of reaching the head of its
/// line, and a priority ticket at most one call later than otherwise. `None` when nothing
/// waits.
pub fn next_call(priority_waiting: bool, ordinary_waiting: bool, run: i64, max_run: i64) -> Option<Pick> {
    match (priority_waiting, ordinary_waiting) {
        (false, false) => None,
        (true, false) => Some(Pick::Priority),
        (false, true) => Some(Pick::Ordinary),
        (true, true) if run >= max_run => Some(Pick::Ordinary),
        (true, true) => Some(Pick::Priority),
    }
}

/// A counter's run of priority calls after it called `pick`.
pub fn run_after(run: i64, pick: Pick) -> i64 {
    match pick {
        Pick::Priority => run + 1,
        Pick::Ordinary => 0,
    }
}

/// Places in one group's line: for each of the group's waiting tickets of a day, given as
/// `(taken_at, id)`, how many of them wait ahead of it: those taken earlier, or at the
/// same instant with a smaller id (arrival order; a transfer keeps the arrival time). The
/// same count as `motcua_store::queue::ahead_of` gives for one ticket; the live views count
/// the whole line at once with this.
pub fn places(waiting: &[(i64, i64)]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..waiting.len()).collect();
    order.sort_by_key(|&i| waiting[i]);
    let mut out = vec![0; waiting.len()];
    for (place, i) in order.into_iter().enumerate() {
        out[i] = i64::try_from(place).unwrap_or(i64::MAX);
    }
    out
}

/// Calls of a group the wait estimate looks back on.
pub const ESTIMATE_CALLS: usize = 10;

/// The estimated wait, in whole minutes, of a ticket with `ahead` tickets before it in its
/// group, from the instants (epoch ms, any order) of the group's latest calls of the day:
/// the mean gap between consecutive calls, times the tickets to be called up to and
/// including this one. `None` with fewer than two calls to measure a gap (the page then
/// says it cannot estimate yet). A rough guide for the person waiting, not a promise.
pub fn estimated_wait_minutes(ahead: i64, recent_calls_ms: &[i64]) -> Option<i64> {
    let mut calls: Vec<i64> = recent_calls_ms.iter().copied().take(ESTIMATE_CALLS).collect();
    if calls.len() < 2 || ahead < 0 {
        return None;
    }
    calls.sort_unstable();
    let span = calls[calls.len() - 1] - calls[0];
    let gaps = i64::try_from(calls.len() - 1).ok()?;
    let mean_gap_ms = span / gaps;
    let wait_ms = mean_gap_ms.saturating_mul(ahead + 1);
    Some((wait_ms + 59_999) / 60_000)
}

/// A waiting ticket with a phone number or email address gets one message when this many
/// tickets (or fewer, if it never got it) are ahead of it in its group.
pub const NOTIFY_AHEAD: i64 = 3;

/// Digits of a centre's code of the day.
pub const HALL_CODE_DIGITS: usize = 6;

/// The code of the day shown in a centre's hall, from the HMAC (at least 8 bytes) of the
/// centre and the day under the deployment's secret: six digits, easy to type on a phone.
/// Someone who was not in the hall that day does not know it (docs/rules.md §1.1).
pub fn hall_code(mac: &[u8]) -> String {
    let mut first = [0u8; 8];
    for (d, s) in first.iter_mut().zip(mac) {
        *d = *s;
    }
    // 2^64 is so much larger than 10^6 that the remainder's bias is negligible.
    format!("{:06}", u64::from_be_bytes(first) % 1_000_000)
}

/// The input that message authenticates for `centre` on `day` (`YYYY-MM-DD`): a label,
/// so the key derives nothing else by accident, and the two values, separated.
pub fn hall_code_input(centre: &str, day: &str) -> String {
    format!("motcua-queue-hall\u{0}{centre}\u{0}{day}")
}

/// A typed code of the day, its digits only (spaces and dashes people put in are
/// dropped); `None` when it is not six digits.
pub fn parse_hall_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-' | '.')).collect();
    (digits.len() == HALL_CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TicketState {
    /// In line.
    Waiting,
    /// Called to a counter, not there yet.
    Called,
    /// Being served at the counter.
    Serving,
    /// Served.
    Done,
    /// Called and recalled, did not come.
    NoShow,
}

impl TicketState {
    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Serving => "serving",
            TicketState::Done => "done",
            TicketState::NoShow => "no_show",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<TicketState> {
        [
            TicketState::Waiting,
            TicketState::Called,
            TicketState::Serving,
            TicketState::Done,
            TicketState::NoShow,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            TicketState::Waiting => "Đang chờ",
            TicketState::Called => "Đã gọi",
            TicketState::Serving => "Đang phục vụ",
            TicketState::Done => "Đã phục vụ xong",
            TicketState::NoShow => "Vắng mặt",
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn places_count_the_tickets_taken_before() {
        // Taken at 5, 3, 5 (ids 9, 4, 2) and 1: ahead 3, 1, 2, 0.
        assert_eq!(places(&[(5, 9), (3, 4), (5, 2), (1, 7)]), [3, 1, 2, 0]);
        assert!(places(&[]).is_empty());
    }

    #[test]
    fn letters_and_numbers() {
        let a = TicketLetter::parse("a").expect("letter");
        assert_eq!(a.as_char(), 'A');
        assert_eq!(ticket_number(a, 15), "A015");
        assert_eq!(ticket_number(a, 999), "A999");
        assert_eq!(ticket_number(a, 1000), "A1000");
        for bad in ["", "AB", "1", "Đ", " "] {
            assert_eq!(TicketLetter::parse(bad), Err(QueueError::InvalidLetter), "{bad:?}");
        }
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(QueueSettings::default().validate(), Ok(()));
        let mut s = QueueSettings {
            max_priority_run: 0,
            ..QueueSettings::default()
        };
        assert_eq!(s.validate(), Err(QueueError::InvalidPriorityRun));
        s.max_priority_run = 3;
        s.priority_kinds.push("Người cao tuổi".to_owned());
        assert_eq!(s.validate(), Err(QueueError::InvalidPriorityKinds));
    }

    #[test]
    fn priority_first_but_not_more_than_k_in_a_row() {
        assert_eq!(next_call(false, false, 0, 3), None);
        assert_eq!(next_call(true, true, 0, 3), Some(Pick::Priority));
        assert_eq!(next_call(true, true, 2, 3), Some(Pick::Priority));
        assert_eq!(next_call(true, true, 3, 3), Some(Pick::Ordinary));
        // With no ordinary ticket waiting, priority tickets are not held back.
        assert_eq!(next_call(true, false, 7, 3), Some(Pick::Priority));
        assert_eq!(run_after(3, Pick::Ordinary), 0);
        assert_eq!(run_after(1, Pick::Priority), 2);
    }

    /// Simulates one counter over a stream of arrivals (`true` = priority), one arrival
    /// and one call per step, then calls until the line is empty: returns, per ticket, how
    /// many calls were made between its reaching the head of its own line and its call.
    fn simulate(arrivals: &[bool], k: i64) -> Vec<usize> {
        use std::collections::VecDeque;
        let (mut pri, mut ord): (VecDeque<usize>, VecDeque<usize>) = (VecDeque::new(), VecDeque::new());
        let mut head_since = vec![0usize; arrivals.len()];
        let mut waited = vec![usize::MAX; arrivals.len()];
        let mut run = 0;
        let mut calls = 0usize;
        let mut next = 0;
        while next < arrivals.len() || !pri.is_empty() || !ord.is_empty() {
            // Two arrivals per call, so the line grows and priority tickets keep coming.
            for _ in 0..2 {
                if let Some(&p) = arrivals.get(next) {
                    let line = if p { &mut pri } else { &mut ord };
                    if line.is_empty() {
                        head_since[next] = calls;
                    }
                    line.push_back(next);
                    next += 1;
                }
            }
            let Some(pick) = next_call(!pri.is_empty(), !ord.is_empty(), run, k) else {
                continue;
            };
            let line = if pick == Pick::Priority { &mut pri } else { &mut ord };
            let Some(t) = line.pop_front() else { continue };
            waited[t] = calls - head_since[t];
            if let Some(&h) = line.front() {
                head_since[h] = calls + 1;
            }
            run = run_after(run, pick);
            calls += 1;
        }
        waited
    }

    proptest! {
        /// No ticket waits forever: every ticket is called, and once at the head of its
        /// line an ordinary ticket is called within K further calls, however many priority
        /// tickets keep arriving.
        #[test]
        fn no_ticket_waits_forever(arrivals in proptest::collection::vec(any::<bool>(), 1..300), k in 1i64..6) {
            let waited = simulate(&arrivals, k);
            for (i, w) in waited.iter().enumerate() {
                prop_assert!(*w != usize::MAX, "ticket {i} never called");
                if !arrivals[i] {
                    prop_assert!(*w as i64 <= k, "ordinary ticket {i} waited {w} calls at the head");
                }
            }
        }
    }

    #[test]
    fn an_endless_stream_of_priority_tickets_does_not_hold_ordinary_ones() {
        let mut arrivals = vec![false; 3];
        arrivals.extend(std::iter::repeat_n(true, 200));
        let waited = simulate(&arrivals, 3);
        assert!(waited[..3].iter().all(|w| *w <= 3), "{:?}", &waited[..3]);
    }

    #[test]
    fn hall_codes_are_six_digits_and_typing_is_forgiving() {
        assert_eq!(hall_code(&[0; 32]), "000000");
        assert_eq!(hall_code(&[0xff; 32]), format!("{:06}", u64::MAX % 1_000_000));
        assert_eq!(hall_code(&[0, 0, 0, 0, 0, 0, 0x30, 0x39]), "012345");
        assert_ne!(
            hall_code_input("000.00.16.H43", "2026-11-02"),
            hall_code_input("000.00.16.H43", "2026-11-03")
        );
        assert_eq!(parse_hall_code(" 012 345 "), Some("012345".to_owned()));
        assert_eq!(parse_hall_code("012-345"), Some("012345".to_owned()));
        for bad in ["", "12345", "1234567", "12a456"] {
            assert_eq!(parse_hall_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn states_round_trip() {
        for s in ["waiting", "called", "serving", "done", "no_show"] {
            assert_eq!(TicketState::parse(s).map(TicketState::as_str), Some(s));
        }
        assert_eq!(TicketState::parse("x"), None);
    }
}
