//! Swedish personal identity numbers (personnummer) and co-ordination numbers (samordningsnummer):
//! how the authorities that refer participants identify them. A value of this type has a valid date
//! and check digit; it is personal data and never enters the event log in clear.

use std::fmt;
use time::{Date, Month};

/// Twelve digits, `YYYYMMDDNNNC`; for a samordningsnummer the day is the birth day + 60.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Personnummer(String);

/// Why a text is not a personnummer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPersonnummer {
    #[error("a personnummer is written YYYYMMDD-NNNN or YYMMDD-NNNN")]
    Format,
    #[error("the date in the personnummer does not exist")]
    Date,
    #[error("the check digit of the personnummer is wrong")]
    CheckDigit,
}

impl Personnummer {
    /// Accepts `YYYYMMDD-NNNN`, `YYYYMMDDNNNN`, `YYMMDD-NNNN`, `YYMMDDNNNN` and `YYMMDD+NNNN` (the `+`
    /// marks a person aged 100 or more). A two-digit year is read as the latest year not after
    /// `today` (or a century earlier with `+`). Never echoes the input in its errors: it is personal
    /// data and errors are logged.
    pub fn parse(text: &str, today: Date) -> Result<Personnummer, InvalidPersonnummer> {
        let text = text.trim();
        let centenarian = text.contains('+');
        let digits: String = text.chars().filter(|c| !matches!(c, '-' | '+')).collect();
        let separators = text.chars().filter(|c| matches!(c, '-' | '+')).count();
        let separator_in_place = text.find(['-', '+']).is_none_or(|at| at + 5 == text.len());
        if !digits.chars().all(|c| c.is_ascii_digit()) || separators > 1 || !separator_in_place {
            return Err(InvalidPersonnummer::Format);
        }
        let full = match digits.len() {
            12 if !centenarian => digits,
            10 => {
                let yy: i32 = digits[..2].parse().map_err(|_| InvalidPersonnummer::Format)?;
                let this_year = today.year();
                let mut year = this_year - (this_year - yy).rem_euclid(100);
                if centenarian {
                    year -= 100;
                }
                format!("{year:04}{}", &digits[2..])
            }
            _ => return Err(InvalidPersonnummer::Format),
        };
        birth_date(&full).ok_or(InvalidPersonnummer::Date)?;
        if !luhn_valid(&full[2..]) {
            return Err(InvalidPersonnummer::CheckDigit);
        }
        Ok(Personnummer(full))
    }

    /// The number of a person born on `born` with a three-digit birth serial (`serial` modulo 1 000),
    /// its check digit computed: for test data, demo data and data set generators, which must not
    /// invent a number that fails the check. `samordningsnummer` adds 60 to the day.
    pub fn generate(born: Date, serial: u16, samordningsnummer: bool) -> Personnummer {
        let day = born.day() + if samordningsnummer { 60 } else { 0 };
        let body = format!("{:04}{:02}{day:02}{:03}", born.year(), u8::from(born.month()), serial % 1_000);
        let check = (0..10).find(|c| luhn_valid(&format!("{}{c}", &body[2..]))).unwrap_or(0);
        Personnummer(format!("{body}{check}"))
    }

    /// The twelve digits.
    pub fn digits(&self) -> &str {
        &self.0
    }

    pub fn birth_year(&self) -> i32 {
        self.0[..4].parse().unwrap_or_default()
    }

    /// A co-ordination number, given to people not (yet) registered in Sweden.
    pub fn is_samordningsnummer(&self) -> bool {
        self.0[6..8].parse::<u8>().is_ok_and(|day| day > 60)
    }
}

/// The date a twelve-digit number encodes, reading day + 60 as a samordningsnummer.
fn birth_date(digits: &str) -> Option<Date> {
    let year: i32 = digits.get(..4)?.parse().ok()?;
    let month: u8 = digits.get(4..6)?.parse().ok()?;
    let day: u8 = digits.get(6..8)?.parse().ok()?;
    let day = if day > 60 { day - 60 } else { day };
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The last ten digits pass the Luhn check organisation numbers use too.
fn luhn_valid(ten: &str) -> bool {
    let digits: Option<Vec<u8>> = ten.bytes().map(|b| b.is_ascii_digit().then(|| b - b'0')).collect();
    digits.and_then(|d| <[u8; 10]>::try_from(d).ok()).is_some_and(|d| crate::org_number::luhn_valid(&d))
}

/// Shows the birth date only: a personnummer does not belong in a log line.
impl fmt::Debug for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Personnummer({}-****)", &self.0[..8])
    }
}

/// The usual written form, `YYYYMMDD-NNNN`.
impl fmt::Display for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..8], &self.0[8..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    #[test]
    fn the_tax_agencys_test_numbers_are_accepted_in_every_written_form() {
        // Skatteverket's published test personnummer 19121212-1212 (Tolvan Tolvansson).
        for text in ["19121212-1212", "191212121212", "121212+1212"] {
            assert_eq!(Personnummer::parse(text, TODAY).map(|p| p.to_string()), Ok("19121212-1212".into()), "{text}");
        }
        assert_eq!(Personnummer::parse("121212-1212", TODAY).map(|p| p.birth_year()), Ok(2012));
    }

    #[test]
    fn a_wrong_check_digit_or_date_is_refused() {
        assert_eq!(Personnummer::parse("19121212-1213", TODAY), Err(InvalidPersonnummer::CheckDigit));
        assert_eq!(Personnummer::parse("19121312-1212", TODAY), Err(InvalidPersonnummer::Date));
        assert_eq!(Personnummer::parse("1912121-21212", TODAY), Err(InvalidPersonnummer::Format));
        assert_eq!(Personnummer::parse("p-anna", TODAY), Err(InvalidPersonnummer::Format));
        assert_eq!(Personnummer::parse("19121212--1212", TODAY), Err(InvalidPersonnummer::Format));
    }

    #[test]
    fn a_samordningsnummer_has_sixty_added_to_the_day() {
        // 1912-12-12 as a co-ordination number: day 72; the check digit is recomputed for it.
        let number = Personnummer::parse("19121272-1219", TODAY);
        assert_eq!(number.as_ref().map(Personnummer::is_samordningsnummer), Ok(true), "{number:?}");
    }

    #[test]
    fn debug_output_hides_the_last_four_digits() {
        let number = Personnummer::parse("19121212-1212", TODAY).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(format!("{number:?}"), "Personnummer(19121212-****)");
    }

    #[test]
    fn a_generated_number_passes_the_check_and_keeps_its_birth_date() {
        let number = Personnummer::generate(date!(1985 - 03 - 12), 123, false);
        assert_eq!(Personnummer::parse(&number.to_string(), TODAY).map(|p| p.birth_year()), Ok(1985));
        let coordination = Personnummer::generate(date!(1990 - 07 - 04), 7, true);
        let parsed = Personnummer::parse(&coordination.to_string(), TODAY);
        assert_eq!(parsed.as_ref().map(Personnummer::is_samordningsnummer), Ok(true), "{coordination}");
        assert!(coordination.digits().starts_with("19900764"), "{coordination}");
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,20}") {
            let _ = Personnummer::parse(&text, TODAY);
        }

        #[test]
        fn a_valid_number_round_trips_through_its_written_form(days in 0i32..40_000, serial in 0u32..1_000) {
            let born = date!(1920 - 01 - 01) + time::Duration::days(i64::from(days));
            let body = format!("{:02}{:02}{:02}{serial:03}", born.year() % 100, u8::from(born.month()), born.day());
            let check = (0..10).find(|c| luhn_valid(&format!("{body}{c}"))).unwrap_or(0);
            let text = format!("{:04}{:02}{:02}-{serial:03}{check}", born.year(), u8::from(born.month()), born.day());
            let parsed = Personnummer::parse(&text, TODAY);
            prop_assert_eq!(parsed.map(|p| p.to_string()), Ok(text));
        }
    }
}
