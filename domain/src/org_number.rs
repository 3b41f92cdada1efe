//! Swedish organisation numbers (organisationsnummer), the identity of sellers and buyers on an invoice
//! (Peppol scheme 0007).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A ten-digit organisation number whose last digit is a valid Luhn check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNumber(String);

/// Why a text is not an organisation number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrgNumber {
    #[error("an organisation number has 10 digits (NNNNNN-NNNN), got {0:?}")]
    Format(String),
    #[error("the check digit of organisation number {0} is wrong")]
    CheckDigit(String),
}

impl OrgNumber {
    /// Accepts `5560021361` or `556002-1361`.
    pub fn parse(text: &str) -> Result<OrgNumber, InvalidOrgNumber> {
        let trimmed = text.trim();
        let digits: String = match trimmed.split_once('-') {
            Some((head, tail)) if head.len() == 6 && tail.len() == 4 => format!("{head}{tail}"),
            Some(_) => return Err(InvalidOrgNumber::Format(text.to_string())),
            None => trimmed.to_string(),
        };
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(InvalidOrgNumber::Format(text.to_string()));
        }
        if !luhn_valid(&digits) {
            return Err(InvalidOrgNumber::CheckDigit(text.to_string()));
        }
        Ok(OrgNumber(digits))
    }

    /// The ten digits without a hyphen, as Peppol's scheme 0007 wants them.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl TryFrom<String> for OrgNumber {
    type Error = InvalidOrgNumber;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrgNumber::parse(&value)
    }
}

impl From<OrgNumber> for String {
    fn from(value: OrgNumber) -> String {
        value.0
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..6], &self.0[6..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_organisation_numbers_pass_the_luhn_check() {
        for text in ["556002-1361", "5560021361", "212000-0142", "2120002411"] {
            assert!(OrgNumber::parse(text).is_ok(), "{text}");
        }
        assert_eq!(OrgNumber::parse("556002-1361").map(|o| o.to_string()), Ok("556002-1361".into()));
    }

    #[test]
    fn a_wrong_check_digit_is_rejected() {
        assert_eq!(OrgNumber::parse("5560021362"), Err(InvalidOrgNumber::CheckDigit("5560021362".into())));
    }

    #[test]
    fn malformed_numbers_are_rejected() {
        for text in ["", "55600213", "556002-13610", "55600-21361", "556OO21361"] {
            assert!(matches!(OrgNumber::parse(text), Err(InvalidOrgNumber::Format(_))), "{text}");
        }
    }

    #[test]
    fn deserialising_checks_the_number_too() {
        assert!(serde_json::from_str::<OrgNumber>("\"5560021362\"").is_err());
    }
}
