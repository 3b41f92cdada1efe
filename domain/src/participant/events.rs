use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantEvent {
    PlaceTaken { place_id: String, agreement_id: String, member_id: String, from: Date },
    PlaceLeft { place_id: String, last_day: Date },
}

impl DomainEvent for ParticipantEvent {
    fn event_type(&self) -> String {
        match self {
            ParticipantEvent::PlaceTaken { .. } => "PlaceTaken",
            ParticipantEvent::PlaceLeft { .. } => "PlaceLeft",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
