//! Calendar months and date ranges: reimbursement is per place and calendar month, split by days.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Duration};

/// A calendar month (`2026-01`), the unit members report and buyers are invoiced for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: time::Month,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a month is written YYYY-MM, got {0:?}")]
pub struct InvalidMonth(pub String);

impl Month {
    pub fn parse(text: &str) -> Result<Month, InvalidMonth> {
        let bad = || InvalidMonth(text.to_string());
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        Ok(Month { year, month })
    }

    pub fn of(date: Date) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    pub fn last_day(self) -> Date {
        self.first_day() + Duration::days(i64::from(self.days()) - 1)
    }

    pub fn days(self) -> u8 {
        self.month.length(self.year)
    }

    pub fn next(self) -> Month {
        Month::of(self.last_day() + Duration::days(1))
    }

    pub fn as_range(self) -> DateRange {
        DateRange { start: self.first_day(), end: Some(self.last_day()) }
    }
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

    /// Number of days in a range that is known to be closed.
    pub fn days(&self) -> Option<i64> {
        self.end.map(|end| (end - self.start).whole_days() + 1)
    }
}

/// The same day `months` calendar months later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb).
/// Caps such as "at most 3 months" end the day before this date.
pub fn add_months(date: Date, months: u32) -> Date {
    let index =
        date.year() * 12 + i32::from(u8::from(date.month())) - 1 + i32::try_from(months).unwrap_or(i32::MAX / 2);
    let (year, month) = (index.div_euclid(12), u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1));
    let month = time::Month::try_from(month).unwrap_or(time::Month::January);
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MAX)
}

/// Parses `YYYY-MM-DD`, the only date format the API accepts.
pub fn parse_date(text: &str) -> Result<Date, InvalidDate> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), format).map_err(|_| InvalidDate(text.to_string()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a date is written YYYY-MM-DD, got {0:?}")]
pub struct InvalidDate(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_know_their_length() {
        assert_eq!(Month::parse("2026-02").map(Month::days), Ok(28));
        assert_eq!(Month::parse("2028-02").map(Month::days), Ok(29));
        assert_eq!(Month::parse("2026-11").map(Month::last_day), Ok(date!(2026 - 11 - 30)));
        assert_eq!(Month::parse("2026-12").map(|m| m.next().to_string()), Ok("2027-01".into()));
        assert!(Month::parse("2026-13").is_err());
        assert!(Month::parse("26-01").is_err());
    }

    #[test]
    fn months_are_added_by_the_calendar() {
        assert_eq!(add_months(date!(2025 - 03 - 15), 6), date!(2025 - 09 - 15));
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2025 - 11 - 01), 3), date!(2026 - 02 - 01));
    }

    #[test]
    fn a_range_may_not_end_before_it_starts() {
        assert!(DateRange::new(date!(2024 - 09 - 01), Some(date!(2024 - 08 - 31))).is_err());
        assert!(DateRange::new(date!(2024 - 09 - 01), Some(date!(2024 - 09 - 01))).is_ok());
    }

    #[test]
    fn open_ended_ranges_intersect() {
        let agreement = DateRange::new(date!(2024 - 09 - 01), None).unwrap_or_else(|e| panic!("{e}"));
        let november = Month::parse("2026-11").map(Month::as_range).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(agreement.intersect(&november), Some(november));
    }
}
