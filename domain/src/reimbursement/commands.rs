use super::events::DeliveryLine;
use super::rule::FirstDays;
use crate::agreement::FrameworkAgreement;
use crate::calendar::{DateRange, Month};
use crate::member::MemberStanding;
use crate::place::Occupancy;
use serde::{Deserialize, Serialize};
use time::Date;

/// One place's stays, as the place aggregate recorded them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceReport {
    pub place_id: String,
    pub occupancy: Vec<Occupancy>,
    /// The allocation's period as the split has it now: a stay left open after the allocation ended
    /// is not paid beyond it.
    pub allocation_period: DateRange,
}

/// What a report is computed from, gathered by the application from the other aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    pub agreement_id: String,
    pub member_id: String,
    pub month: Month,
    pub agreement: FrameworkAgreement,
    /// The member's category history: each day is paid at the category in force that day.
    pub member: MemberStanding,
    pub places: Vec<PlaceReport>,
    /// When each participant on the places first came to the agreement, across places.
    pub first_days: FirstDays,
    /// Goods or services delivered (goods-and-services agreements only).
    pub deliveries: Vec<DeliveryLine>,
    /// Today in Sweden: a month can be reported once it is over there.
    pub submitted_on: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReimbursementCommand {
    /// The member confirms the month (again, after a rejection).
    Submit(ReportInput),
    /// A new version of an approved month, before it is invoiced.
    Correct(ReportInput),
    /// Staff approve the version they saw.
    Approve { version: u32 },
    /// Staff send the version they saw back.
    Reject { version: u32, reason: String },
    /// The month is on an issued invoice; from now on only a credit note corrects it.
    MarkInvoiced { invoice_id: String },
    /// The month's invoice was credited: the month may be corrected and invoiced again.
    Reopen { credit_note: String },
}
