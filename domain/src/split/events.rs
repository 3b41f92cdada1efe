use crate::calendar::DateRange;
use crate::money::Percent;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SplitEvent {
    PlacesAllocated { allocation_id: String, member_id: String, places: u32, period: DateRange },
    RoleAllocated { allocation_id: String, member_id: String, role: String, share: Percent, period: DateRange },
    PlacesRevised { allocation_id: String, effective_from: Date, places: u32 },
    ShareRevised { allocation_id: String, effective_from: Date, share: Percent },
    AllocationEnded { allocation_id: String, last_day: Date },
    SharesConfirmed { on: Date },
    PlaceOpened { allocation_id: String, place_id: String, opened_on: Date },
    PlaceClosed { place_id: String, closed_on: Date },
    CapacityAdopted { effective_from: Date, places: u32 },
    EmploymentsAgreed { member_id: String, employments: u32 },
}

impl DomainEvent for SplitEvent {
    fn event_type(&self) -> String {
        match self {
            SplitEvent::PlacesAllocated { .. } => "PlacesAllocated",
            SplitEvent::RoleAllocated { .. } => "RoleAllocated",
            SplitEvent::PlacesRevised { .. } => "PlacesRevised",
            SplitEvent::ShareRevised { .. } => "ShareRevised",
            SplitEvent::AllocationEnded { .. } => "AllocationEnded",
            SplitEvent::SharesConfirmed { .. } => "SharesConfirmed",
            SplitEvent::PlaceOpened { .. } => "PlaceOpened",
            SplitEvent::PlaceClosed { .. } => "PlaceClosed",
            SplitEvent::CapacityAdopted { .. } => "CapacityAdopted",
            SplitEvent::EmploymentsAgreed { .. } => "EmploymentsAgreed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
