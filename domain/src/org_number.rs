//! Swedish organisation numbers (organisationsnummer), the identity of sellers and buyers on an invoice
//! (Peppol scheme 0007).
//!
//! A legal person's number has 20 or more in its third and fourth digits (aktiebolag 55…, kommuner
//! 212000-…, föreningar 7…/8…). A sole trader (enskild firma) has no number of its own: its
//! organisation number is the owner's personnummer or samordningsnummer, whose third and fourth
//! digits are a month. Anything else passes the Luhn check by chance only.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A ten-digit organisation number whose last digit is a valid Luhn check digit and whose digits can
/// belong to a legal person or a sole trader.
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
    #[error(
        "{0} cannot be an organisation number: its third and fourth digits must be 20 or more (a legal \
         person) or the month and day of a personnummer (a sole trader)"
    )]
    NotAnOrganisation(String),
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
        let bytes = <[u8; 10]>::try_from(digits.as_bytes()).map_err(|_| InvalidOrgNumber::Format(text.to_string()))?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(InvalidOrgNumber::Format(text.to_string()));
        }
        let values = bytes.map(|b| b - b'0');
        if !luhn_valid(&values) {
            return Err(InvalidOrgNumber::CheckDigit(text.to_string()));
        }
        if !could_be_an_organisation(&values) {
            return Err(InvalidOrgNumber::NotAnOrganisation(text.to_string()));
        }
        Ok(OrgNumber(digits))
    }

    /// The ten digits without a hyphen, as Peppol's scheme 0007 wants them.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// A sole trader's number is its owner's personnummer, so it is personal data (GDPR): it may be
    /// shown on the invoices it belongs to but not listed or kept beyond what they need.
    pub fn is_personal_identity_number(&self) -> bool {
        matches!(self.0.get(2..4).and_then(|month| month.parse::<u8>().ok()), Some(1..=12))
    }
}

/// The third and fourth digits are 20 or more for a legal person and a month for a person; `values`
/// are single digits.
fn could_be_an_organisation(values: &[u8; 10]) -> bool {
    let month = values[2] * 10 + values[3];
    let day = values[4] * 10 + values[5];
    // A samordningsnummer adds 60 to the day of birth.
    month >= 20 || ((1..=12).contains(&month) && ((1..=31).contains(&day) || (61..=91).contains(&day)))
}

/// The Luhn check of Swedish organisation and personal identity numbers (the same algorithm for
/// both); `values` are single digits, so no sum can overflow.
pub(crate) fn luhn_valid(values: &[u8; 10]) -> bool {
    let sum: u32 = values
        .iter()
        .map(|&d| u32::from(d))
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
        match (self.0.get(..6), self.0.get(6..)) {
            (Some(head), Some(tail)) => write!(f, "{head}-{tail}"),
            _ => f.write_str(&self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The nine digits followed by the Luhn digit that makes them valid.
    fn with_check_digit(body: &str) -> String {
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 0 {
                    (d * 2) / 10 + (d * 2) % 10
                } else {
                    d
                }
            })
            .sum();
        format!("{body}{}", (10 - sum % 10) % 10)
    }

    #[test]
    fn real_organisation_numbers_pass_the_luhn_check() {
        for text in ["556002-1361", "5560021361", "212000-0142", "2120002411", "716422-1231", "556677-8899"] {
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
        for text in [
            "",
            "55600213",
            "556002-13610",
            "55600-21361",
            "556OO21361",
            "+556002136",
            "556002--361",
            "５５６００２１３６１",
        ] {
            assert!(matches!(OrgNumber::parse(text), Err(InvalidOrgNumber::Format(_))), "{text}");
        }
    }

    #[test]
    fn all_zeros_is_not_an_organisation() {
        assert_eq!(OrgNumber::parse("000000-0000"), Err(InvalidOrgNumber::NotAnOrganisation("000000-0000".into())));
    }

    #[test]
    fn a_number_whose_third_and_fourth_digits_are_neither_a_month_nor_20_or_more_is_refused() {
        for body in ["551302136", "550002136", "551900000", "640132323", "640100323", "640160323", "640192323"] {
            let text = with_check_digit(body);
            assert_eq!(OrgNumber::parse(&text), Err(InvalidOrgNumber::NotAnOrganisation(text.clone())), "{text}");
        }
    }

    #[test]
    fn a_sole_traders_number_is_a_personal_identity_number() {
        for body in ["640823323", "640131323", "640861323", "641291323"] {
            let number = OrgNumber::parse(&with_check_digit(body)).unwrap_or_else(|e| panic!("{e}"));
            assert!(number.is_personal_identity_number(), "{number}");
        }
        let company = OrgNumber::parse("556002-1361").unwrap_or_else(|e| panic!("{e}"));
        assert!(!company.is_personal_identity_number());
    }

    #[test]
    fn deserialising_checks_the_number_too() {
        assert!(serde_json::from_str::<OrgNumber>("\"5560021362\"").is_err());
        assert!(serde_json::from_str::<OrgNumber>("\"0000000000\"").is_err());
        assert!(serde_json::from_str::<OrgNumber>("\"5560021361\"").is_ok());
    }

    fn legal_person_body() -> impl Strategy<Value = String> {
        (2_u8..=9, prop::collection::vec(0_u8..=9, 8)).prop_map(|(third, rest)| {
            let mut digits: Vec<u8> = rest;
            digits.insert(2, third);
            digits.into_iter().map(|d| char::from(b'0' + d)).collect()
        })
    }

    proptest! {
        #[test]
        fn every_legal_persons_number_reads_back_as_display_writes_it(body in legal_person_body()) {
            let text = with_check_digit(&body);
            let number = OrgNumber::parse(&text);
            prop_assert!(number.is_ok(), "{}", text);
            let number = number.unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(number.digits(), text.as_str());
            prop_assert!(!number.is_personal_identity_number());
            prop_assert_eq!(OrgNumber::parse(&number.to_string()), Ok(number.clone()));
            prop_assert_eq!(OrgNumber::parse(number.digits()), Ok(number));
        }

        #[test]
        fn a_changed_check_digit_is_refused(body in legal_person_body(), change in 1_u8..=9) {
            let text = with_check_digit(&body);
            let check = text.as_bytes()[9] - b'0';
            let wrong = format!("{body}{}", (check + change) % 10);
            prop_assert_eq!(OrgNumber::parse(&wrong), Err(InvalidOrgNumber::CheckDigit(wrong.clone())));
        }

        #[test]
        fn parsing_an_organisation_number_never_panics(text in any::<String>()) {
            if let Ok(number) = OrgNumber::parse(&text) {
                prop_assert_eq!(number.digits().len(), 10);
            }
        }

        #[test]
        fn parsing_digit_like_text_never_panics(text in "[0-9-]{0,12}") {
            if let Ok(number) = OrgNumber::parse(&text) {
                prop_assert_eq!(OrgNumber::parse(&number.to_string()), Ok(number));
            }
        }
    }
}
