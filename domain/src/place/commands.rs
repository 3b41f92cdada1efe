use super::{ExitReason, ParticipantId};
use crate::calendar::DateRange;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PlaceCommand {
    /// Opens a place under an allocation. The application counts the places already open under it.
    Open {
        agreement_id: String,
        member_id: String,
        allocation_id: String,
        /// The allocation's period: the place can be filled only inside it.
        allocation_period: DateRange,
        /// Places the allocation grants on `opened_on`, and how many are open under it already.
        allocated_places: u32,
        open_places: u32,
        opened_on: Date,
    },
    Fill {
        participant: ParticipantId,
        from: Date,
    },
    /// The member employs the participant: the employment rate applies from `from`.
    Employ {
        from: Date,
    },
    /// The participant leaves; `last_day` is the last filled (and paid) day.
    Vacate {
        last_day: Date,
        reason: ExitReason,
    },
    Close {
        closed_on: Date,
    },
}
