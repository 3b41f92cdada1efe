//! Calendar months and date ranges: reimbursement is per place and calendar month, split by days.
//!
//! Dates from outside come in through [`parse_date`], [`parse_end_date`] and [`Month::parse`], which
//! accept only [`EARLIEST_DATE`]`..=`[`LATEST_DATE`]: a year such as 20224 or 0024 is a typo, and
//! keeping every date far from `time`'s limits means no later arithmetic can run off the calendar.
//! The arithmetic below still saturates for any `Date`, because events and tests can hold others.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::macros::date;
use time::Date;

/// The earliest date the API accepts: older than any agreement, member or participant's stay.
pub const EARLIEST_DATE: Date = date!(1900 - 01 - 01);
/// The latest date the API accepts: later than any agreement will run.
pub const LATEST_DATE: Date = date!(2200 - 12 - 31);

/// A calendar month (`2026-01`), the unit members report and buyers are invoiced for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: time::Month,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a month is written YYYY-MM between 1900-01 and 2200-12, got {0:?}")]
pub struct InvalidMonth(pub String);

impl Month {
    /// Strictly `YYYY-MM` with a year in 1900–2200; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Month, InvalidMonth> {
        let bad = || InvalidMonth(text.to_string());
        let (year, month) = match text.trim().as_bytes() {
            [y1, y2, y3, y4, b'-', m1, m2] => (digits([*y1, *y2, *y3, *y4]), digits([*m1, *m2])),
            _ => return Err(bad()),
        };
        let (year, month) = year.zip(month).ok_or_else(bad)?;
        let year = i32::try_from(year).map_err(|_| bad())?;
        if !(EARLIEST_DATE.year()..=LATEST_DATE.year()).contains(&year) {
            return Err(bad());
        }
        let month = u8::try_from(month).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(bad)?;
        Ok(Month { year, month })
    }

    pub fn of(date: Date) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    pub fn last_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, self.days()).unwrap_or(Date::MAX)
    }

    pub fn days(self) -> u8 {
        self.month.length(self.year)
    }

    /// The following month. The last month `time` can represent is its own successor: a loop
    /// "until month X" stops there anyway, and no parsed month comes near it.
    pub fn next(self) -> Month {
        next_day(self.last_day()).map_or(self, Month::of)
    }

    pub fn as_range(self) -> DateRange {
        DateRange { start: self.first_day(), end: Some(self.last_day()) }
    }
}

/// The number the ASCII digits spell, or `None` if one is not a digit.
fn digits<const N: usize>(bytes: [u8; N]) -> Option<u32> {
    bytes.iter().try_fold(0_u32, |number, &b| {
        let digit = char::from(b).to_digit(10)?;
        number.checked_mul(10)?.checked_add(digit)
    })
}

impl TryFrom<String> for Month {
    type Error = InvalidMonth;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Month::parse(&value)
    }
}

impl From<Month> for String {
    fn from(value: Month) -> String {
        value.to_string()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// Inclusive date range; an open end means "until further notice", as many agreements are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub start: Date,
    pub end: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the period ends ({end}) before it starts ({start})")]
pub struct EndBeforeStart {
    pub start: Date,
    pub end: Date,
}

impl DateRange {
    pub fn new(start: Date, end: Option<Date>) -> Result<DateRange, EndBeforeStart> {
        match end {
            Some(end) if end < start => Err(EndBeforeStart { start, end }),
            _ => Ok(DateRange { start, end }),
        }
    }

    pub fn contains(&self, date: Date) -> bool {
        date >= self.start && self.end.is_none_or(|end| date <= end)
    }

    /// The days both ranges cover, if any.
    pub fn intersect(&self, other: &DateRange) -> Option<DateRange> {
        let start = self.start.max(other.start);
        let end = match (self.end, other.end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match end {
            Some(end) if end < start => None,
            _ => Some(DateRange { start, end }),
        }
    }

    /// Number of days in a range that is known to be closed. The fields are public, so a range built
    /// by hand may end before it starts: it covers no days.
    pub fn days(&self) -> Option<i64> {
        self.end.map(|end| {
            let span = i64::from(end.to_julian_day()) - i64::from(self.start.to_julian_day());
            span.saturating_add(1).max(0)
        })
    }
}

/// The same day `months` calendar months later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb).
/// Caps such as "at most 3 months" end the day before this date.
///
/// Past the last date `time` can represent the answer is `Date::MAX`: a cap that long never ends,
/// which is what such a number can only mean. It never panics, for any date and any `u32`.
pub fn add_months(date: Date, months: u32) -> Date {
    let index = i64::from(date.year())
        .checked_mul(12)
        .and_then(|index| index.checked_add(i64::from(u8::from(date.month())) - 1))
        .and_then(|index| index.checked_add(i64::from(months)));
    let Some(index) = index else { return Date::MAX };
    let Ok(year) = i32::try_from(index.div_euclid(12)) else { return Date::MAX };
    let month = u8::try_from(index.rem_euclid(12) + 1).ok().and_then(|m| time::Month::try_from(m).ok());
    let Some(month) = month else { return Date::MAX };
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MAX)
}

/// The day after `date`, or `None` after the last date `time` can represent; `Date + Duration` would
/// panic there instead.
pub fn next_day(date: Date) -> Option<Date> {
    date.next_day()
}

/// Parses `YYYY-MM-DD`, the only date format the API accepts: exactly four digits for the year, two
/// for month and day, and a date in [`EARLIEST_DATE`]`..=`[`LATEST_DATE`]. Surrounding whitespace is
/// ignored.
pub fn parse_date(text: &str) -> Result<Date, InvalidDate> {
    let format = || InvalidDate::Format(text.to_string());
    let (year, month, day) = match text.trim().as_bytes() {
        [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] => {
            (digits([*y1, *y2, *y3, *y4]), digits([*m1, *m2]), digits([*d1, *d2]))
        }
        _ => return Err(format()),
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else { return Err(format()) };
    let month = u8::try_from(month).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(format)?;
    let day = u8::try_from(day).map_err(|_| format())?;
    let year = i32::try_from(year).map_err(|_| format())?;
    // Every four-digit year is within `time`'s calendar, so only the range is left to check.
    let date = Date::from_calendar_date(year, month, day).map_err(|_| format())?;
    if !(EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        return Err(InvalidDate::OutOfRange(text.to_string()));
    }
    Ok(date)
}

/// The text agreements and registers use for "until further notice" instead of leaving the end empty.
const OPEN_END: &str = "9999-12-31";

/// Parses the end of a period: `9999-12-31`, the usual way to write "until further notice", is an
/// open end (`None`); anything else is read as by [`parse_date`].
pub fn parse_end_date(text: &str) -> Result<Option<Date>, InvalidDate> {
    if text.trim() == OPEN_END {
        return Ok(None);
    }
    parse_date(text).map(Some)
}

/// Why a text is not a date the API accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDate {
    #[error("a date is written YYYY-MM-DD, got {0:?}")]
    Format(String),
    #[error("{0:?} is outside 1900-01-01 – 2200-12-31")]
    OutOfRange(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn months_know_their_length() {
        assert_eq!(Month::parse("2026-02").map(Month::days), Ok(28));
        assert_eq!(Month::parse("2028-02").map(Month::days), Ok(29));
        assert_eq!(Month::parse("2026-11").map(Month::last_day), Ok(date!(2026 - 11 - 30)));
        assert_eq!(Month::parse("2026-12").map(|m| m.next().to_string()), Ok("2027-01".into()));
    }

    #[test]
    fn a_month_is_written_with_four_digits_a_hyphen_and_two_digits() {
        assert_eq!(Month::parse(" 2026-01 "), Ok(month("2026-01")));
        for text in ["2026-13", "2026-00", "26-01", "2026-1", "+202-01", "2026/01", "2026-01-01", "٢٠٢٦-01", ""] {
            assert!(Month::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_month_before_1900_or_after_2200_is_refused() {
        assert!(Month::parse("1899-12").is_err());
        assert!(Month::parse("2201-01").is_err());
        assert!(Month::parse("1900-01").is_ok());
        assert!(Month::parse("2200-12").is_ok());
    }

    #[test]
    fn the_last_representable_month_is_its_own_successor() {
        assert_eq!(Month::of(Date::MAX).next(), Month::of(Date::MAX));
        assert_eq!(Month::of(Date::MIN).next().first_day(), add_months(Date::MIN, 1));
    }

    #[test]
    fn months_are_added_by_the_calendar() {
        assert_eq!(add_months(date!(2025 - 03 - 15), 6), date!(2025 - 09 - 15));
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 11 - 01), 3), date!(2026 - 02 - 01));
        assert_eq!(add_months(date!(2025 - 11 - 01), 0), date!(2025 - 11 - 01));
    }

    #[test]
    fn a_cap_beyond_the_calendar_never_ends() {
        assert_eq!(add_months(date!(2025 - 11 - 01), u32::MAX), Date::MAX);
        assert_eq!(add_months(Date::MAX, 1), Date::MAX);
        assert_eq!(add_months(Date::MIN, u32::MAX), Date::MAX);
    }

    #[test]
    fn the_day_after_the_last_date_is_none() {
        assert_eq!(next_day(date!(2024 - 02 - 28)), Some(date!(2024 - 02 - 29)));
        assert_eq!(next_day(Date::MAX), None);
    }

    #[test]
    fn a_range_may_not_end_before_it_starts() {
        assert!(DateRange::new(date!(2024 - 09 - 01), Some(date!(2024 - 08 - 31))).is_err());
        assert!(DateRange::new(date!(2024 - 09 - 01), Some(date!(2024 - 09 - 01))).is_ok());
    }

    #[test]
    fn a_range_counts_its_days_and_a_backwards_one_has_none() {
        assert_eq!(month("2024-02").as_range().days(), Some(29));
        assert_eq!(DateRange { start: date!(2024 - 09 - 01), end: None }.days(), None);
        assert_eq!(DateRange { start: Date::MAX, end: Some(Date::MIN) }.days(), Some(0));
        assert!(DateRange { start: Date::MIN, end: Some(Date::MAX) }.days().is_some_and(|d| d > 7_000_000));
    }

    #[test]
    fn open_ended_ranges_intersect() {
        let agreement = DateRange::new(date!(2024 - 09 - 01), None).unwrap_or_else(|e| panic!("{e}"));
        let november = month("2026-11").as_range();
        assert_eq!(agreement.intersect(&november), Some(november));
    }

    #[test]
    fn a_date_is_written_yyyy_mm_dd() {
        assert_eq!(parse_date("2024-09-01"), Ok(date!(2024 - 09 - 01)));
        assert_eq!(parse_date(" 2024-09-01\n"), Ok(date!(2024 - 09 - 01)));
        for text in
            ["+2024-01-01", "2024-1-01", "2024-01-1", " 2024-01-01x", "20240101", "2024/01/01", "2024-02-30", ""]
        {
            assert_eq!(parse_date(text), Err(InvalidDate::Format(text.into())), "{text}");
        }
        for text in ["-2024-01-01", "02024-01-01", "2024-01-01T00:00", "２０２４-01-01"] {
            assert!(matches!(parse_date(text), Err(InvalidDate::Format(_))), "{text}");
        }
    }

    #[test]
    fn a_date_before_1900_is_refused() {
        assert_eq!(parse_date("1899-12-31"), Err(InvalidDate::OutOfRange("1899-12-31".into())));
        assert_eq!(parse_date("0000-01-01"), Err(InvalidDate::OutOfRange("0000-01-01".into())));
        assert_eq!(parse_date("1900-01-01"), Ok(EARLIEST_DATE));
    }

    #[test]
    fn a_date_after_2200_is_refused() {
        assert_eq!(parse_date("2201-01-01"), Err(InvalidDate::OutOfRange("2201-01-01".into())));
        assert_eq!(parse_date("9999-12-31"), Err(InvalidDate::OutOfRange("9999-12-31".into())));
        assert_eq!(parse_date("2200-12-31"), Ok(LATEST_DATE));
    }

    #[test]
    fn an_end_of_9999_12_31_means_until_further_notice() {
        assert_eq!(parse_end_date("9999-12-31"), Ok(None));
        assert_eq!(parse_end_date(" 9999-12-31 "), Ok(None));
        assert_eq!(parse_end_date("2027-12-31"), Ok(Some(date!(2027 - 12 - 31))));
        assert!(matches!(parse_end_date("9999-12-30"), Err(InvalidDate::OutOfRange(_))));
        assert!(matches!(parse_end_date("9999-12-31x"), Err(InvalidDate::Format(_))));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
            .prop_map(|day| Date::from_julian_day(day).unwrap_or_else(|e| panic!("{e}")))
    }

    fn accepted_date() -> impl Strategy<Value = Date> {
        (EARLIEST_DATE.to_julian_day()..=LATEST_DATE.to_julian_day())
            .prop_map(|day| Date::from_julian_day(day).unwrap_or_else(|e| panic!("{e}")))
    }

    proptest! {
        #[test]
        fn every_month_reads_back_as_display_writes_it(year in 1900_i32..=2200, number in 1_u8..=12) {
            let first = time::Month::try_from(number).and_then(|m| Date::from_calendar_date(year, m, 1));
            let month = Month::of(first.unwrap_or_else(|e| panic!("{e}")));
            prop_assert_eq!(Month::parse(&month.to_string()), Ok(month));
            prop_assert!(month.next() > month);
            prop_assert_eq!(next_day(month.last_day()), Some(month.next().first_day()));
        }

        #[test]
        fn parsing_a_month_never_panics(text in any::<String>()) {
            if let Ok(month) = Month::parse(&text) {
                let _ = month.next().next();
            }
        }

        #[test]
        fn parsing_a_month_like_text_never_panics(text in "[0-9+-]{0,8}") {
            if let Ok(month) = Month::parse(&text) {
                prop_assert!(month.next() > month);
            }
        }

        #[test]
        fn every_accepted_date_reads_back_as_display_writes_it(date in accepted_date()) {
            prop_assert_eq!(parse_date(&date.to_string()), Ok(date));
            prop_assert_eq!(parse_end_date(&date.to_string()), Ok(Some(date)));
        }

        #[test]
        fn a_date_outside_the_range_is_refused(date in any_date()) {
            let parsed = parse_date(&date.to_string());
            prop_assert_eq!(parsed.is_ok(), (EARLIEST_DATE..=LATEST_DATE).contains(&date));
        }

        #[test]
        fn parsing_a_date_never_panics(text in any::<String>()) {
            let _ = parse_date(&text);
            let _ = parse_end_date(&text);
        }

        #[test]
        fn parsing_a_date_like_text_never_panics(text in "[0-9+ -]{0,12}") {
            if let Ok(date) = parse_date(&text) {
                prop_assert!((EARLIEST_DATE..=LATEST_DATE).contains(&date));
            }
        }

        #[test]
        fn adding_months_never_panics_and_never_goes_back(date in any_date(), a in any::<u32>(), b in any::<u32>()) {
            let (fewer, more) = (a.min(b), a.max(b));
            prop_assert!(add_months(date, fewer) <= add_months(date, more));
            prop_assert!(add_months(date, fewer) >= date);
        }

        #[test]
        fn adding_a_few_months_never_goes_back(date in any_date(), a in 0_u32..300, b in 0_u32..300) {
            let (fewer, more) = (a.min(b), a.max(b));
            prop_assert!(add_months(date, fewer) <= add_months(date, more));
        }

        #[test]
        fn every_month_of_any_date_has_a_successor_or_is_the_last(date in any_date()) {
            let month = Month::of(date);
            prop_assert!(month.next() > month || month == Month::of(Date::MAX));
            prop_assert!(month.first_day() <= date && date <= month.last_day());
        }
    }
}
