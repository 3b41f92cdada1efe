use super::{ConsentPurpose, ErasureReason, FollowUpStatus, Gender, Sealed, TargetGroup};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantCommand {
    /// Takes the person into the registry; `registered_by` is the member that takes them in (none
    /// when consortium staff register them).
    Register {
        gender: Gender,
        target_group: TargetGroup,
        registered_by: Option<String>,
        registered_on: Date,
        personal: Sealed,
    },
    /// The participant starts on a place from `from`.
    TakePlace { place_id: String, agreement_id: String, member_id: String, from: Date },
    /// The participant's last day on the place.
    LeavePlace { place_id: String, last_day: Date },
    /// The person consents to a purpose from a day.
    RecordConsent { purpose: ConsentPurpose, from: Date },
    /// The person withdraws a consent; it no longer holds from `from`.
    WithdrawConsent { purpose: ConsentPurpose, from: Date },
    /// Where the person was on `on`, after leaving a place.
    RecordFollowUp { on: Date, status: FollowUpStatus },
    /// The person's identity is erased (its key destroyed beside this event).
    Erase { reason: ErasureReason, on: Date },
}
