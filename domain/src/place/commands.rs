use super::{ExitReason, ParticipantId};
use crate::calendar::DateRange;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PlaceCommand {
    /// Opens a place under an allocation. The slot it takes is the split's to grant
    /// (`SplitCommand::OpenPlace`), committed together with this.
    Open {
        agreement_id: String,
        member_id: String,
        allocation_id: String,
        /// The allocation's period: the place can be filled only inside it.
        allocation_period: DateRange,
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
    /// `closed_on` is the first day the place is no longer open.
    Close {
        closed_on: Date,
    },
}
