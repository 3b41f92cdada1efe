//! A member's monthly report (månadsrapport) for one agreement: the filled days per place, derived
//! from the place events rather than typed in, plus deliveries on goods-and-services agreements.
//! Staff approve or reject it; after approval a correction is a new version; once invoiced it is
//! locked and only a credit note can correct it.

mod aggregate;
mod commands;
mod events;
pub mod rule;

pub use aggregate::{figures, ApprovedVersion, MonthlyReimbursement, ReimbursementError, ReportStatus, MAX_DELIVERY};
pub use commands::{PlaceReport, ReimbursementCommand, ReportInput};
pub use events::{DeliveryLine, PlaceLine, ReimbursementEvent, ReportFigures};

/// The aggregate id of a member's report for an agreement and month.
pub fn report_id(agreement_id: &str, member_id: &str, month: crate::calendar::Month) -> String {
    format!("{agreement_id}:{member_id}:{month}")
}
