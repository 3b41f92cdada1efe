//! Turning what a user typed into domain values. Every error names the field it came from, so the API
//! and the web page can show it next to that field.

use crate::error::AppError;
use konsortium_domain::calendar::{parse_date, parse_end_date, Month};
use konsortium_domain::money::Percent;
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::personnummer::Personnummer;
use konsortium_domain::place::ParticipantId;
use konsortium_domain::text;
use time::Date;

pub use konsortium_domain::text::{NAME_MAX, REASON_MAX, REFERENCE_MAX};

/// A day, `YYYY-MM-DD`, between 1900 and 2200.
pub fn date(field: &str, value: &str) -> Result<Date, AppError> {
    parse_date(value).map_err(|e| AppError::invalid(field, e))
}

/// The last day of a period; absent or `9999-12-31` means "until further notice".
pub fn end_date(field: &str, value: Option<&str>) -> Result<Option<Date>, AppError> {
    match value {
        Some(value) => parse_end_date(value).map_err(|e| AppError::invalid(field, e)),
        None => Ok(None),
    }
}

pub fn month(field: &str, value: &str) -> Result<Month, AppError> {
    Month::parse(value).map_err(|e| AppError::invalid(field, e))
}

pub fn org_number(field: &str, value: &str) -> Result<OrgNumber, AppError> {
    OrgNumber::parse(value).map_err(|e| AppError::invalid(field, e))
}

pub fn percent(field: &str, value: &str) -> Result<Percent, AppError> {
    Percent::parse(value).map_err(|e| AppError::invalid(field, e))
}

pub fn participant(field: &str, value: &str) -> Result<ParticipantId, AppError> {
    ParticipantId::parse(value).map_err(|e| AppError::invalid(field, e))
}

/// Required single-line text: trimmed, not empty, no control characters, at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    text::required(value, max).map_err(|e| AppError::invalid(field, e))
}

/// Optional single-line text; blank counts as absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    text::optional(value, max).map_err(|e| AppError::invalid(field, e))
}

/// Free text that may span lines (a reason for a rejection).
pub fn reason(field: &str, value: &str) -> Result<String, AppError> {
    text::multiline(value, REASON_MAX).map_err(|e| AppError::invalid(field, e))
}

/// An id the server issued; anything longer or stranger cannot be one, so it is refused before a
/// database sees it.
pub fn id(field: &str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    let plausible = !value.is_empty()
        && value.len() <= 200
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    match plausible {
        true => Ok(value.to_string()),
        false => Err(AppError::invalid(field, "not an id this server issued")),
    }
}

/// A person's identity as typed: the name, a personnummer or samordningsnummer (checked, Luhn), the
/// year of birth it must agree with, and the referring authority. No error repeats what was typed.
pub fn personal_data(
    name: &str,
    personnummer: &str,
    year_of_birth: i32,
    referring_authority: &str,
) -> Result<crate::vault::PersonalData, AppError> {
    let number = Personnummer::parse(personnummer, super::today()).map_err(|e| AppError::invalid("personnummer", e))?;
    if year_of_birth != number.birth_year() {
        return Err(AppError::invalid("yearOfBirth", "does not agree with the personnummer"));
    }
    Ok(crate::vault::PersonalData {
        name: text("name", name, NAME_MAX)?,
        personnummer: number.digits().to_string(),
        year_of_birth,
        referring_authority: text("referringAuthority", referring_authority, NAME_MAX)?,
    })
}
