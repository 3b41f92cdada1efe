use super::rule::PlaceMonth;
use crate::calendar::Month;
use crate::money::Ore;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceLine {
    pub place_id: String,
    #[serde(flatten)]
    pub month: PlaceMonth,
}

/// A delivery on a goods-and-services agreement (fruit baskets packed, routes driven).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub description: String,
    pub amount: Ore,
}

/// Everything a version of the report says about money, fixed when it is submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFigures {
    pub places: Vec<PlaceLine>,
    pub deliveries: Vec<DeliveryLine>,
    /// The member's reimbursement before commission.
    pub total: Ore,
    /// The consortium's provision, rounded half-up once for the member and month.
    pub commission: Ore,
    /// What the member is paid: total less commission.
    pub payout: Ore,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReimbursementEvent {
    ReportSubmitted {
        agreement_id: String,
        member_id: String,
        month: Month,
        version: u32,
        figures: ReportFigures,
    },
    ReportApproved {
        version: u32,
    },
    ReportRejected {
        version: u32,
        reason: String,
    },
    ReportCorrected {
        version: u32,
        figures: ReportFigures,
    },
    ReportInvoiced {
        version: u32,
        invoice_id: String,
    },
    /// A credit note cancelled the month's invoice; the approved version stands again, uninvoiced.
    ReportReopened {
        version: u32,
        credit_note: String,
    },
}

impl DomainEvent for ReimbursementEvent {
    fn event_type(&self) -> String {
        match self {
            ReimbursementEvent::ReportSubmitted { .. } => "ReportSubmitted",
            ReimbursementEvent::ReportApproved { .. } => "ReportApproved",
            ReimbursementEvent::ReportRejected { .. } => "ReportRejected",
            ReimbursementEvent::ReportCorrected { .. } => "ReportCorrected",
            ReimbursementEvent::ReportInvoiced { .. } => "ReportInvoiced",
            ReimbursementEvent::ReportReopened { .. } => "ReportReopened",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
