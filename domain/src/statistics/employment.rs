//! Employment-requirement compliance: required → agreed → filled for one agreement.

use crate::agreement::EmploymentRequirement;
use crate::place::{ExitReason, TrainingPlace};
use std::collections::BTreeSet;

/// How an agreement's employment requirement stands (seed 001: 4 required, 2 agreed, 1 filled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compliance {
    pub requirement: EmploymentRequirement,
    /// What the contract demands; zero for a dialogkrav.
    pub required: u32,
    /// What members have committed to.
    pub agreed: u32,
    /// People from the agreement's places who were employed.
    pub filled: u32,
}

/// Distinct participants employed from the agreement's places: employed by the member while on a
/// place, or who left a place for work (by the member or elsewhere). Counted per person, not per
/// stay, so someone who moves between places and is then employed counts once; what the buyer
/// follows up is people in work, not events.
pub fn filled<'a>(places: impl IntoIterator<Item = &'a TrainingPlace>) -> u32 {
    let employed: BTreeSet<&str> = places
        .into_iter()
        .flat_map(|place| place.occupancy.iter())
        .filter(|stay| {
            stay.employed_from.is_some()
                || matches!(stay.exit, Some(ExitReason::EmploymentByMember | ExitReason::EmploymentElsewhere))
        })
        .map(|stay| stay.participant.as_str())
        .collect();
    u32::try_from(employed.len()).unwrap_or(u32::MAX)
}
