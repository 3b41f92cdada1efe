use super::{AgreementTerms, RateCard};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

/// The registration carries the whole terms and is far larger than the other events. It is not
/// boxed: an agreement is registered once and its events are few and short-lived in memory, so the
/// size costs nothing, while a box would change every match on stored registrations.
#[allow(clippy::large_enum_variant)]
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
