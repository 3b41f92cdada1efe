use super::{ConsentPurpose, ErasureReason, FollowUpStatus, Gender, Sealed, TargetGroup};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantEvent {
    /// In clear only what statistics need (gender, target group); the identity is sealed.
    ParticipantRegistered {
        gender: Gender,
        target_group: TargetGroup,
        registered_by: Option<String>,
        registered_on: Date,
        personal: Sealed,
    },
    PlaceTaken {
        place_id: String,
        agreement_id: String,
        member_id: String,
        from: Date,
    },
    PlaceLeft {
        place_id: String,
        last_day: Date,
    },
    ConsentRecorded {
        purpose: ConsentPurpose,
        from: Date,
    },
    ConsentWithdrawn {
        purpose: ConsentPurpose,
        from: Date,
    },
    ParticipantErased {
        reason: ErasureReason,
        on: Date,
    },
    /// Where the person was on a day after leaving a place; no personal data, only the status.
    FollowUpRecorded {
        on: Date,
        status: FollowUpStatus,
    },
}

impl DomainEvent for ParticipantEvent {
    fn event_type(&self) -> String {
        match self {
            ParticipantEvent::ParticipantRegistered { .. } => "ParticipantRegistered",
            ParticipantEvent::PlaceTaken { .. } => "PlaceTaken",
            ParticipantEvent::PlaceLeft { .. } => "PlaceLeft",
            ParticipantEvent::ConsentRecorded { .. } => "ConsentRecorded",
            ParticipantEvent::ConsentWithdrawn { .. } => "ConsentWithdrawn",
            ParticipantEvent::ParticipantErased { .. } => "ParticipantErased",
            ParticipantEvent::FollowUpRecorded { .. } => "FollowUpRecorded",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
