use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParticipantCommand {
    /// The participant starts on a place from `from`.
    TakePlace { place_id: String, agreement_id: String, member_id: String, from: Date },
    /// The participant's last day on the place.
    LeavePlace { place_id: String, last_day: Date },
}
