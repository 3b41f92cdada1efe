use super::{AgreementTerms, RateCard};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgreementEvent {
    AgreementRegistered(AgreementTerms),
    RatesChanged { effective_from: Date, rates: RateCard },
    CapacityChanged { effective_from: Date, places: u32 },
    AgreementExtended { new_end: Date },
    AgreementTerminated { last_day: Date, reason: String },
    BuyerReferenceChanged { reference: String },
}

impl DomainEvent for AgreementEvent {
    fn event_type(&self) -> String {
        match self {
            AgreementEvent::AgreementRegistered(_) => "AgreementRegistered",
            AgreementEvent::RatesChanged { .. } => "RatesChanged",
            AgreementEvent::CapacityChanged { .. } => "CapacityChanged",
            AgreementEvent::AgreementExtended { .. } => "AgreementExtended",
            AgreementEvent::AgreementTerminated { .. } => "AgreementTerminated",
            AgreementEvent::BuyerReferenceChanged { .. } => "BuyerReferenceChanged",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
