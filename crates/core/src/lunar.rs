//! The Vietnamese lunisolar calendar (âm lịch), converted to and from the Gregorian calendar.
//!
//! Several public holidays are lunar dates (Tết, Hùng Kings' day, docs/rules.md §4), so the
//! working-day calendar needs the conversion. The method is Hồ Ngọc Đức's published
//! algorithm: new moons and the sun's longitude from Meeus-style series in Julian day numbers,
//! evaluated at Vietnam's time zone, UTC+7. The time zone matters: the Chinese calendar uses
//! UTC+8 and the two disagree in some years (Tết 1985 was on 21 January in Vietnam and on
//! 20 February in China).
//!
//! The rules of the calendar, as the algorithm implements them:
//! - a lunar month starts on the local day of a new moon;
//! - month 11 is the month containing the winter solstice;
//! - a lunar year with 13 months (between two months 11) has a leap month: the first month
//!   after month 11 in which the sun enters no new 30° zodiac sector (no major solar term);
//!   it takes the number of the month before it.
//!
//! The series are accurate for the years the author publishes tables for (1800–2199); outside
//! them the functions still answer, with decreasing accuracy.

use std::f64::consts::PI;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

/// Vietnam's offset from UTC in hours, used to decide on which local day a new moon falls.
const TIME_ZONE_HOURS: f64 = 7.0;

/// Mean length of a synodic month in days.
const SYNODIC_MONTH: f64 = 29.530_588_853;

/// Julian day of the new moon of 1900-01-01 (k = 0 in the new-moon series).
const NEW_MOON_EPOCH: f64 = 2_415_021.076_998_695;

/// A date in the Vietnamese lunar calendar.
///
/// Fields are declared year, month, leap, day so that the derived ordering is chronological:
/// a leap month follows the regular month of the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LunarDate {
    /// Lunar year, numbered like the Gregorian year in which it starts (its Tết).
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Whether this is the leap (intercalary, nhuận) month that repeats `month`.
    pub leap: bool,
    /// Day of the month, 1–30.
    pub day: u8,
}

impl fmt::Display for LunarDate {
    /// `10/03/2025 âm lịch`, with `(nhuận)` after the month of a leap month.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leap = if self.leap { " (nhuận)" } else { "" };
        write!(f, "{:02}/{:02}{leap}/{} âm lịch", self.day, self.month, self.year)
    }
}

/// Converts a Gregorian date to the Vietnamese lunar calendar.
pub fn solar_to_lunar(date: Date) -> LunarDate {
    let day_number = i64::from(date.to_julian_day());
    lunar_from_julian_day(day_number, i64::from(date.year()))
}

/// Converts a Vietnamese lunar date to the Gregorian calendar.
///
/// `None` when the lunar date does not exist: month outside 1–12, day 30 of a 29-day month,
/// `leap` set for a month that is not the leap month of that year, or a result the `time`
/// crate cannot represent.
pub fn lunar_to_solar(day: u8, month: u8, year: i32, leap: bool) -> Option<Date> {
    if !(1..=30).contains(&day) || !(1..=12).contains(&month) || !representable_year(year) {
        return None;
    }
    let year = i64::from(year);
    let month_i = i64::from(month);
    // The lunar year runs from one month 11 to the next, but is numbered from Tết (month 1):
    // months 1–10 of lunar year Y lie between the months 11 that start in Gregorian Y-1 and Y.
    let (a11, b11) = if month_i < 11 {
        (lunar_month_11(year - 1), lunar_month_11(year))
    } else {
        (lunar_month_11(year), lunar_month_11(year + 1))
    };
    let k = ((a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut offset = (month_i - 11).rem_euclid(12);
    if b11 - a11 > 365 {
        // Thirteen months this year: every month from the leap month on is one further along,
        // and the leap month itself sits right after its namesake.
        let leap_offset = leap_month_offset(a11);
        if leap || offset >= leap_offset {
            offset += 1;
        }
    }
    let month_start = new_moon_day(k + offset);
    let julian_day = i32::try_from(month_start + i64::from(day) - 1).ok()?;
    let date = Date::from_julian_day(julian_day).ok()?;
    // Converting back is the simplest complete validity check: it rejects day 30 of a short
    // month and a `leap` flag on a month that is not leap, which the forward formula ignores.
    let expected = LunarDate {
        year: i32::try_from(year).ok()?,
        month,
        leap,
        day,
    };
    (solar_to_lunar(date) == expected).then_some(date)
}

/// The first day of lunar year `year` (mùng 1 Tết), in the Gregorian calendar.
///
/// Every year representable by the `time` crate has one; years beyond its range saturate to
/// `Date::MIN` / `Date::MAX` rather than panic (the astronomy means nothing there anyway).
pub fn tet(year: i32) -> Date {
    if !representable_year(year) {
        return if year < 0 { Date::MIN } else { Date::MAX };
    }
    let year = i64::from(year);
    // Month 1 is two months after the month 11 of the previous Gregorian year, three if the
    // leap month falls in between (a leap month 11 or 12).
    let a11 = lunar_month_11(year - 1);
    let b11 = lunar_month_11(year);
    let k = ((a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut offset = 2;
    if b11 - a11 > 365 && leap_month_offset(a11) <= 2 {
        offset += 1;
    }
    date_from_julian_day_saturating(new_moon_day(k + offset))
}

/// Years well inside the `time` crate's range; beyond it the series overflow and no result
/// could be represented anyway.
fn representable_year(year: i32) -> bool {
    (Date::MIN.year() + 1..Date::MAX.year()).contains(&year)
}

fn date_from_julian_day_saturating(julian_day: i64) -> Date {
    let clamped = julian_day.clamp(
        i64::from(Date::MIN.to_julian_day()),
        i64::from(Date::MAX.to_julian_day()),
    );
    // After clamping the conversion cannot fail; fall back to the bounds instead of panicking.
    i32::try_from(clamped)
        .ok()
        .and_then(|jd| Date::from_julian_day(jd).ok())
        .unwrap_or(if julian_day < 0 { Date::MIN } else { Date::MAX })
}

/// The lunar date of Julian day number `day_number`, which lies in Gregorian year `solar_year`.
fn lunar_from_julian_day(day_number: i64, solar_year: i64) -> LunarDate {
    // The mean-motion estimate can be a day or so off the true new moon, so step until
    // new moon k is on or before the day and new moon k + 1 after it. (The published code
    // steps back once only; that leaves day "0" on a few dates, e.g. 2054-05-07.)
    let mut k = ((day_number as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).floor() as i64;
    while new_moon_day(k) > day_number {
        k -= 1;
    }
    while new_moon_day(k + 1) <= day_number {
        k += 1;
    }
    let month_start = new_moon_day(k);
    // Find the two months 11 around the date: a11 at or before the month, b11 after it.
    let mut a11 = lunar_month_11(solar_year);
    let mut b11 = a11;
    let mut lunar_year;
    if a11 >= month_start {
        lunar_year = solar_year;
        a11 = lunar_month_11(solar_year - 1);
    } else {
        lunar_year = solar_year + 1;
        b11 = lunar_month_11(solar_year + 1);
    }
    let day = day_number - month_start + 1;
    // Months elapsed since month 11; 29 days is short enough that the division never
    // undercounts (a month is at least 29 days, 12 months at most 355).
    let diff = (month_start - a11).div_euclid(29);
    let mut leap = false;
    let mut month = diff + 11;
    if b11 - a11 > 365 {
        let leap_diff = leap_month_offset(a11);
        if diff >= leap_diff {
            month = diff + 10;
            leap = diff == leap_diff;
        }
    }
    if month > 12 {
        month -= 12;
    }
    // Months 11 and 12 right after a11 still belong to the lunar year before.
    if month >= 11 && diff < 4 {
        lunar_year -= 1;
    }
    LunarDate {
        year: saturate_i32(lunar_year),
        // Both are small by construction (1–12 and 1–30); saturate rather than panic.
        month: u8::try_from(month).unwrap_or(u8::MAX),
        leap,
        day: u8::try_from(day).unwrap_or(u8::MAX),
    }
}

fn saturate_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

/// Julian day number of a proleptic Gregorian date (integer arithmetic, never fails).
fn julian_day_from_ymd(year: i64, month: i64, day: i64) -> i64 {
    let a = (14 - month) / 12;
    let y = year + 4800 - a;
    let m = month + 12 * a - 3;
    day + (153 * m + 2) / 5 + 365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) - 32045
}

/// Julian date (fractional, UT) of the `k`-th new moon after 1900-01-01.
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85; // Julian centuries since 1900-01-01 12:00
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    // Mean anomalies of the sun and moon, and the moon's argument of latitude.
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    // ΔT (terrestrial minus universal time), in days.
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// Julian day number of the local (UTC+7) day on which the `k`-th new moon falls.
fn new_moon_day(k: i64) -> i64 {
    (new_moon(k) + 0.5 + TIME_ZONE_HOURS / 24.0).floor() as i64
}

/// The sun's apparent longitude in radians, in [0, 2π), at Julian date `jdn` (UT).
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2_451_545.0) / 36_525.0; // Julian centuries since J2000.0
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let mut dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin();
    dl += (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin() + 0.000_290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - 2.0 * PI * (l / (2.0 * PI)).floor()
}

/// Which 30° sector (0–11) the sun is in at the start of local day `day_number`.
/// Sector 9 starts at the winter solstice (270°).
fn sun_sector(day_number: i64) -> i64 {
    (sun_longitude(day_number as f64 - 0.5 - TIME_ZONE_HOURS / 24.0) / PI * 6.0).floor() as i64
}

/// Julian day number of the first day of lunar month 11 that starts in Gregorian `year`
/// (the month containing the winter solstice of that year).
fn lunar_month_11(year: i64) -> i64 {
    let off = julian_day_from_ymd(year, 12, 31) - 2_415_021;
    let k = (off as f64 / SYNODIC_MONTH).floor() as i64;
    let new_moon = new_moon_day(k);
    // If the sun is already past the solstice at that new moon, the solstice month began at
    // the new moon before.
    if sun_sector(new_moon) >= 9 {
        new_moon_day(k - 1)
    } else {
        new_moon
    }
}

/// For a 13-month lunar year starting with month 11 at `a11`: the offset (in months after
/// month 11) of the leap month, the first month without a major solar term.
fn leap_month_offset(a11: i64) -> i64 {
    let k = ((a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i));
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i));
        // Same sector at the start of two consecutive months: no solar term in between.
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    /// First days of the lunar year, from docs/rules.md §4 (government holiday announcements).
    const TET: [(i32, Date); 8] = [
        (2019, date!(2019 - 02 - 05)),
        (2020, date!(2020 - 01 - 25)),
        (2021, date!(2021 - 02 - 12)),
        (2022, date!(2022 - 02 - 01)),
        (2023, date!(2023 - 01 - 22)),
        (2024, date!(2024 - 02 - 10)),
        (2025, date!(2025 - 01 - 29)),
        (2026, date!(2026 - 02 - 17)),
    ];

    #[test]
    fn tet_matches_announced_dates() {
        for (year, expected) in TET {
            assert_eq!(tet(year), expected, "Tết {year}");
            assert_eq!(lunar_to_solar(1, 1, year, false), Some(expected), "1/1 âm lịch {year}");
            assert_eq!(
                solar_to_lunar(expected),
                LunarDate {
                    year,
                    month: 1,
                    leap: false,
                    day: 1
                }
            );
        }
    }

    #[test]
    fn tet_1985_follows_vietnam_time_zone() {
        // The well-known divergence: at UTC+7 month 11 of 1984 starts a month later than at
        // UTC+8, so Vietnam celebrated Tết Ất Sửu on 21/01/1985, China on 20/02/1985.
        assert_eq!(tet(1985), date!(1985 - 01 - 21));
    }

    #[test]
    fn hung_kings_day() {
        // 10/3 âm lịch; dates from the government's annual holiday announcements
        // (2026: docs/rules.md §4, "Hùng Kings' day falls on Sunday 26/04").
        for expected in [
            date!(2019 - 04 - 14),
            date!(2024 - 04 - 18),
            date!(2025 - 04 - 07),
            date!(2026 - 04 - 26),
        ] {
            assert_eq!(lunar_to_solar(10, 3, expected.year(), false), Some(expected));
        }
    }

    #[test]
    fn leap_months() {
        // Leap month 4 in 2020 (Canh Tý), 2 in 2023 (Quý Mão), 6 in 2025 (Ất Tỵ).
        let first_of_leap = |year, month| lunar_to_solar(1, month, year, true);
        assert_eq!(first_of_leap(2020, 4), Some(date!(2020 - 05 - 23)));
        assert_eq!(first_of_leap(2023, 2), Some(date!(2023 - 03 - 22)));
        assert_eq!(first_of_leap(2025, 6), Some(date!(2025 - 07 - 25)));
        // A leap flag on a month that is not leap that year, or a year without a leap month.
        assert_eq!(lunar_to_solar(1, 5, 2025, true), None);
        assert_eq!(lunar_to_solar(1, 1, 2026, true), None);
        let leap = solar_to_lunar(date!(2025 - 08 - 01));
        assert_eq!(
            leap,
            LunarDate {
                year: 2025,
                month: 6,
                leap: true,
                day: 8
            }
        );
        assert_eq!(leap.to_string(), "08/06 (nhuận)/2025 âm lịch");
    }

    #[test]
    fn mid_autumn() {
        // Tết Trung thu (15/8 âm lịch).
        assert_eq!(lunar_to_solar(15, 8, 2024, false), Some(date!(2024 - 09 - 17)));
        assert_eq!(lunar_to_solar(15, 8, 2025, false), Some(date!(2025 - 10 - 06)));
    }

    #[test]
    fn invalid_lunar_dates() {
        assert_eq!(lunar_to_solar(0, 1, 2025, false), None);
        assert_eq!(lunar_to_solar(31, 1, 2025, false), None);
        assert_eq!(lunar_to_solar(1, 13, 2025, false), None);
        // Exactly one of 29/30 exists for the last day of every month; count 30-day months.
        let thirty = (1..=12)
            .filter(|&m| lunar_to_solar(30, m, 2025, false).is_some())
            .count();
        assert!((4..=9).contains(&thirty), "{thirty} months of 30 days");
    }

    #[test]
    fn extreme_years_do_not_panic() {
        let _ = tet(i32::MIN);
        let _ = tet(i32::MAX);
        let _ = lunar_to_solar(1, 1, i32::MAX, false);
        let _ = solar_to_lunar(Date::MIN);
        let _ = solar_to_lunar(Date::MAX);
    }

    #[test]
    fn month_lengths_and_year_lengths_1900_2199() {
        let start = date!(1900 - 01 - 31).to_julian_day();
        let end = date!(2199 - 12 - 31).to_julian_day();
        let mut previous = solar_to_lunar(date!(1900 - 01 - 30));
        // The first Tết seen (1900) has no complete year before it in the loop.
        let mut months_in_year: Option<u32> = None;
        for jd in start..=end {
            let d = Date::from_julian_day(jd).expect("in range");
            let l = solar_to_lunar(d);
            if l.day == 1 {
                assert!(previous.day == 29 || previous.day == 30, "{previous} before {l}");
                months_in_year = months_in_year.map(|n| n + 1);
                if l.month == 1 && !l.leap {
                    assert_eq!(l.year, previous.year + 1, "{d}");
                    if let Some(n) = months_in_year {
                        assert!(n == 12 || n == 13, "{d}: {n} months");
                    }
                    assert_eq!(tet(l.year), d);
                    months_in_year = Some(0);
                }
            } else {
                assert_eq!(l.day, previous.day + 1, "{d}");
                assert_eq!(
                    (l.month, l.leap, l.year),
                    (previous.month, previous.leap, previous.year)
                );
            }
            previous = l;
        }
    }

    proptest! {
        #[test]
        fn round_trip_1900_2100(offset in 0..=(date!(2100 - 12 - 31).to_julian_day() - date!(1900 - 01 - 01).to_julian_day())) {
            let d = Date::from_julian_day(date!(1900 - 01 - 01).to_julian_day() + offset).expect("in range");
            let l = solar_to_lunar(d);
            prop_assert!((1..=12).contains(&l.month) && (1..=30).contains(&l.day));
            prop_assert_eq!(lunar_to_solar(l.day, l.month, l.year, l.leap), Some(d));
        }
    }
}
