//! The consortium as seller: what every invoice says about who sends it and where to pay.

use crate::org_number::OrgNumber;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// The aggregate id of the one consortium a deployment invoices as.
pub const CONSORTIUM_ID: &str = "consortium";

/// The seller (BG-4) as invoices name it. The Peppol endpoint is the organisation number (scheme 0007).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub name: String,
    pub org_number: OrgNumber,
    /// Momsregistreringsnummer: `SE` + the organisation number + `01` (SE-R-001, SE-R-002).
    pub vat_number: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// Bankgiro number, digits only (7 or 8, SE-R-009).
    pub bankgiro: Option<String>,
    /// IBAN without spaces.
    pub iban: Option<String>,
    pub email: String,
    /// Days from issue to due date (default 30).
    pub payment_terms_days: u32,
}

/// The longest payment terms accepted: a year.
pub const MAX_PAYMENT_TERMS_DAYS: u32 = 365;

impl Seller {
    /// The rules a seller must meet for its invoices to pass Peppol's Swedish rules.
    pub fn check(&self) -> Result<(), ConsortiumError> {
        let required = [("name", &self.name), ("street", &self.street), ("city", &self.city)];
        if let Some((field, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
            return Err(ConsortiumError::Missing { field: (*field).to_string() });
        }
        let postal: String = self.postal_code.chars().filter(|c| !c.is_whitespace()).collect();
        if postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConsortiumError::PostalCode);
        }
        if self.vat_number != format!("SE{}01", self.org_number.digits()) {
            return Err(ConsortiumError::VatNumber { expected: format!("SE{}01", self.org_number.digits()) });
        }
        if self.bankgiro.is_none() && self.iban.is_none() {
            return Err(ConsortiumError::NoPaymentMeans);
        }
        if let Some(bankgiro) = &self.bankgiro {
            if !(7..=8).contains(&bankgiro.len()) || !bankgiro.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConsortiumError::Bankgiro);
            }
        }
        if let Some(iban) = &self.iban {
            if !iban_valid(iban) {
                return Err(ConsortiumError::Iban);
            }
        }
        let email_ok = self.email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !self.email.chars().any(char::is_whitespace)
        });
        if !email_ok {
            return Err(ConsortiumError::Email);
        }
        if !(1..=MAX_PAYMENT_TERMS_DAYS).contains(&self.payment_terms_days) {
            return Err(ConsortiumError::PaymentTerms { max: MAX_PAYMENT_TERMS_DAYS });
        }
        Ok(())
    }
}

/// ISO 13616: two letters, two check digits, up to 30 alphanumerics; modulus 97 of the rearranged
/// number is 1.
fn iban_valid(iban: &str) -> bool {
    let bytes = iban.as_bytes();
    if !(15..=34).contains(&bytes.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return false;
    }
    let rearranged = bytes[4..].iter().chain(&bytes[..4]);
    let remainder = rearranged.fold(0u32, |acc, &b| match b {
        b'0'..=b'9' => (acc * 10 + u32::from(b - b'0')) % 97,
        _ => (acc * 100 + u32::from(b - b'A' + 10)) % 97,
    });
    remainder == 1
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consortium {
    pub seller: Option<Seller>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConsortiumCommand {
    Register(Seller),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConsortiumEvent {
    ConsortiumRegistered(Seller),
}

impl DomainEvent for ConsortiumEvent {
    fn event_type(&self) -> String {
        match self {
            ConsortiumEvent::ConsortiumRegistered(_) => "ConsortiumRegistered".to_string(),
        }
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsortiumError {
    #[error("the consortium is already registered")]
    AlreadyRegistered,
    #[error("register the consortium (the seller) before invoicing")]
    NotRegistered,
    #[error("the seller's {field} is required on every invoice")]
    Missing { field: String },
    #[error("a Swedish postal code has five digits")]
    PostalCode,
    #[error("the VAT number of a Swedish seller is {expected}: SE, the organisation number and 01")]
    VatNumber { expected: String },
    #[error("invoices need a bankgiro or an IBAN to be paid to")]
    NoPaymentMeans,
    #[error("a bankgiro number has 7 or 8 digits")]
    Bankgiro,
    #[error("the IBAN's check digits are wrong")]
    Iban,
    #[error("the e-mail address is not one")]
    Email,
    #[error("payment terms are 1 to {max} days")]
    PaymentTerms { max: u32 },
}

impl Aggregate for Consortium {
    const TYPE: &'static str = "Consortium";
    type Command = ConsortiumCommand;
    type Event = ConsortiumEvent;
    type Error = ConsortiumError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ConsortiumCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ConsortiumError> {
        match command {
            ConsortiumCommand::Register(seller) => {
                if self.seller.is_some() {
                    return Err(ConsortiumError::AlreadyRegistered);
                }
                seller.check()?;
                sink.write(ConsortiumEvent::ConsortiumRegistered(seller), self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: ConsortiumEvent) {
        match event {
            ConsortiumEvent::ConsortiumRegistered(seller) => self.seller = Some(seller),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iban_is_checked_by_modulus_97() {
        assert!(iban_valid("SE4550000000058398257466"));
        assert!(!iban_valid("SE4550000000058398257467"));
        assert!(!iban_valid("se4550000000058398257466"));
    }
}
