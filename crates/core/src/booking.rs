//! Booking a queue number online (issue 21 item 3, docs/rules.md §1.5): a citizen books a
//! service group, a working day and a time slot; on arrival the booking's code, typed or
//! scanned at the kiosk within the slot's window, gives a ticket that is called before the
//! other tickets of its groups until the slot ends.
//!
//! What is pure lives here: the slots a working day offers, the window in which a booking
//! may be checked in, the code's alphabet, the settings' limits and a booking's state.

use serde::{Deserialize, Serialize};

use crate::calendar::Session;

/// A centre's booking settings; each group's capacity per slot is set beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingSettings {
    /// Length of a slot, in minutes (10–240).
    pub slot_minutes: u16,
    /// Bookings one person may hold for one day (1–10).
    pub per_person_per_day: i64,
    /// How many days ahead a slot may be booked (1–60).
    pub days_ahead: i64,
}

impl Default for BookingSettings {
    fn default() -> Self {
        BookingSettings {
            slot_minutes: 30,
            per_person_per_day: 1,
            days_ahead: 14,
        }
    }
}

/// What the booking rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// Settings out of their ranges.
    #[error(
        "Thời lượng khung giờ từ 10 đến 240 phút, số lịch hẹn mỗi người mỗi ngày từ 1 đến 10, đặt trước tối đa từ 1 đến 60 ngày."
    )]
    InvalidSettings,
    /// A capacity outside 0–500.
    #[error("Số người mỗi khung giờ phải từ 0 đến 500 (0: không nhận đặt lịch).")]
    InvalidCapacity,
    /// The code typed is not of the booking code's form.
    #[error("Mã lịch hẹn gồm 8 ký tự chữ và số.")]
    InvalidCode,
}

impl BookingSettings {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), BookingError> {
        let ok = (10..=240).contains(&self.slot_minutes)
            && (1..=10).contains(&self.per_person_per_day)
            && (1..=60).contains(&self.days_ahead);
        if ok { Ok(()) } else { Err(BookingError::InvalidSettings) }
    }
}

/// Checks a group's capacity per slot (0: the group takes no bookings).
pub fn check_capacity(capacity: i64) -> Result<(), BookingError> {
    if (0..=500).contains(&capacity) {
        Ok(())
    } else {
        Err(BookingError::InvalidCapacity)
    }
}

/// A time slot of a day, in minutes after midnight, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// Start.
    pub start: u16,
    /// End (exclusive).
    pub end: u16,
}

impl Slot {
    /// `HH:MM–HH:MM`.
    pub fn label(self) -> String {
        format!("{}–{}", hhmm(self.start), hhmm(self.end))
    }
}

/// Minutes after midnight as `HH:MM`.
pub fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The slots of a working day: each session cut into slots of `minutes`, a last piece
/// shorter than a slot left out (nobody is booked into a session's closing minutes).
pub fn slots(sessions: &[Session], minutes: u16) -> Vec<Slot> {
    let mut out = Vec::new();
    if minutes == 0 {
        return out;
    }
    for s in sessions {
        let mut start = s.start;
        while start.saturating_add(minutes) <= s.end {
            out.push(Slot {
                start,
                end: start + minutes,
            });
            start += minutes;
        }
    }
    out
}

/// How long before its slot a booking may be checked in, in minutes.
pub const EARLY_CHECK_IN_MINUTES: u16 = 30;

/// Where a check-in at `now` (minutes after midnight of the booked day) stands against
/// the slot's window: from [`EARLY_CHECK_IN_MINUTES`] before the slot starts until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Too early: the check-in opens at this minute.
    Early(u16),
    /// Within the window.
    Open,
    /// The slot has ended.
    Over,
}

/// The check-in window's verdict for `now` (minutes after midnight, on the booked day).
pub fn window(slot: Slot, now: u16) -> Window {
    let opens = slot.start.saturating_sub(EARLY_CHECK_IN_MINUTES);
    if now < opens {
        Window::Early(opens)
    } else if now < slot.end {
        Window::Open
    } else {
        Window::Over
    }
}

/// The characters of a booking code: capitals and digits without the look-alikes
/// (0/O, 1/I/L), so a code read aloud or typed from paper is not mistaken.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Length of a booking code.
pub const CODE_LENGTH: usize = 8;

/// A booking code from `CODE_LENGTH` random bytes (each mapped into the alphabet; the
/// small bias of a modulo over 31 letters is irrelevant to a code that is not a secret by
/// itself: cancelling needs the signed-in booker, checking in needs the kiosk and the day).
pub fn code_from(random: &[u8; CODE_LENGTH]) -> String {
    random
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// A code as typed or scanned: spaces and dashes dropped, letters raised; refused unless
/// it has the code's length and alphabet.
pub fn parse_code(typed: &str) -> Result<String, BookingError> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
    if ok { Ok(code) } else { Err(BookingError::InvalidCode) }
}

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BookingState {
    /// Booked, not yet checked in, its slot not over.
    Booked,
    /// Checked in at the kiosk: a ticket was issued.
    CheckedIn,
    /// Cancelled by the citizen.
    Cancelled,
    /// Its slot ended without a check-in.
    NoShow,
}

impl BookingState {
    /// The stored state and whether the slot is over give the state: a booking still
    /// `booked` after its slot is a no-show (counted, never written by a background job).
    pub fn of(stored: &str, slot_over: bool) -> Option<BookingState> {
        Some(match stored {
            "booked" if slot_over => BookingState::NoShow,
            "booked" => BookingState::Booked,
            "checked_in" => BookingState::CheckedIn,
            "cancelled" => BookingState::Cancelled,
            _ => return None,
        })
    }

    /// In Vietnamese.
    pub fn label(self) -> &'static str {
        match self {
            BookingState::Booked => "Đã đặt",
            BookingState::CheckedIn => "Đã đến, đã lấy số",
            BookingState::Cancelled => "Đã hủy",
            BookingState::NoShow => "Không đến",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_each_session_and_drop_a_short_tail() {
        let sessions = [Session::new(7 * 60, 11 * 60 + 30), Session::new(13 * 60 + 30, 17 * 60)];
        let s = slots(&sessions, 60);
        assert_eq!(s.len(), 4 + 3);
        assert_eq!(s[0].label(), "07:00–08:00");
        assert_eq!(s[3].label(), "10:00–11:00");
        assert_eq!(s[4].label(), "13:30–14:30");
        assert_eq!(s[6].label(), "15:30–16:30");
        assert!(
            s.iter()
                .all(|x| sessions.iter().any(|ss| ss.start <= x.start && x.end <= ss.end))
        );
        assert_eq!(slots(&sessions, 30).len(), 9 + 7);
        assert!(slots(&sessions, 0).is_empty());
    }

    #[test]
    fn the_window_opens_half_an_hour_early_and_closes_with_the_slot() {
        let slot = Slot { start: 540, end: 570 };
        assert_eq!(window(slot, 509), Window::Early(510));
        assert_eq!(window(slot, 510), Window::Open);
        assert_eq!(window(slot, 569), Window::Open);
        assert_eq!(window(slot, 570), Window::Over);
        assert_eq!(window(Slot { start: 10, end: 40 }, 0), Window::Open);
    }

    #[test]
    fn codes_are_of_the_alphabet_and_parse_back() {
        let code = code_from(&[0, 1, 30, 31, 255, 128, 7, 99]);
        assert_eq!(code.len(), CODE_LENGTH);
        assert_eq!(parse_code(&code), Ok(code.clone()));
        let spaced = format!(" {}-{} ", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(parse_code(&spaced), Ok(code));
        assert_eq!(parse_code("ABCD0000"), Err(BookingError::InvalidCode));
        assert_eq!(parse_code("ABC"), Err(BookingError::InvalidCode));
        assert_eq!(parse_code("ABCDEFGHJ"), Err(BookingError::InvalidCode));
    }

    #[test]
    fn a_booking_left_booked_after_its_slot_is_a_no_show() {
        assert_eq!(BookingState::of("booked", false), Some(BookingState::Booked));
        assert_eq!(BookingState::of("booked", true), Some(BookingState::NoShow));
        assert_eq!(BookingState::of("checked_in", true), Some(BookingState::CheckedIn));
        assert_eq!(BookingState::of("cancelled", true), Some(BookingState::Cancelled));
        assert_eq!(BookingState::of("other", false), None);
    }

    #[test]
    fn settings_ranges() {
        assert!(BookingSettings::default().validate().is_ok());
        let bad = BookingSettings {
            slot_minutes: 5,
            ..BookingSettings::default()
        };
        assert_eq!(bad.validate(), Err(BookingError::InvalidSettings));
        assert!(check_capacity(0).is_ok() && check_capacity(500).is_ok());
        assert!(check_capacity(-1).is_err() && check_capacity(501).is_err());
    }
}
