use super::{ExitReason, ParticipantId};
use crate::calendar::DateRange;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PlaceEvent {
    PlaceOpened {
        agreement_id: String,
        member_id: String,
        allocation_id: String,
        allocation_period: DateRange,
        opened_on: Date,
    },
    PlaceFilled {
        participant: ParticipantId,
        from: Date,
    },
    ParticipantEmployed {
        participant: ParticipantId,
        from: Date,
    },
    PlaceVacated {
        participant: ParticipantId,
        last_day: Date,
        reason: ExitReason,
    },
    PlaceClosed {
        closed_on: Date,
    },
}

impl DomainEvent for PlaceEvent {
    fn event_type(&self) -> String {
        match self {
            PlaceEvent::PlaceOpened { .. } => "PlaceOpened",
            PlaceEvent::PlaceFilled { .. } => "PlaceFilled",
            PlaceEvent::ParticipantEmployed { .. } => "ParticipantEmployed",
            PlaceEvent::PlaceVacated { .. } => "PlaceVacated",
            PlaceEvent::PlaceClosed { .. } => "PlaceClosed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
