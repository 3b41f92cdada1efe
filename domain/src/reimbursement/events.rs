use super::rule::PlaceMonth;
use crate::calendar::Month;
use crate::money::Ore;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Stored flat (`place_id` beside the month's fields). Read through [`PlaceLineFields`] rather than
/// `#[serde(flatten)]`, which buffers every field of every line in a generic tree first: a
/// national month-end run reads millions of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PlaceLineFields")]
pub struct PlaceLine {
    pub place_id: String,
    #[serde(flatten)]
    pub month: PlaceMonth,
}

/// A [`PlaceLine`] as stored.
#[derive(Deserialize)]
struct PlaceLineFields {
    place_id: String,
    days_filled: u32,
    days_in_month: u8,
    segments: Vec<super::rule::Segment>,
    amount: Ore,
}

impl From<PlaceLineFields> for PlaceLine {
    fn from(f: PlaceLineFields) -> PlaceLine {
        PlaceLine {
            place_id: f.place_id,
            month: PlaceMonth {
                days_filled: f.days_filled,
                days_in_month: f.days_in_month,
                segments: f.segments,
                amount: f.amount,
            },
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::ParticipantId;
    use crate::reimbursement::rule::{RateKind, Segment};
    use time::macros::date;

    /// The flat reader and the flattened writer must agree field for field: a field one of them
    /// missed would be dropped from every stored report without an error.
    #[test]
    fn a_place_line_reads_back_as_written() {
        let participant = ParticipantId::parse("p-anna-7f3a").unwrap_or_else(|e| panic!("{e}"));
        let line = PlaceLine {
            place_id: "place-1".into(),
            month: PlaceMonth {
                days_filled: 20,
                days_in_month: 30,
                segments: vec![Segment {
                    participant,
                    from: date!(2024 - 11 - 11),
                    to: date!(2024 - 11 - 30),
                    days: 20,
                    kind: RateKind::Training,
                    rate: Ore(600_000),
                }],
                amount: Ore(400_000),
            },
        };
        let json = serde_json::to_value(&line).unwrap_or_else(|e| panic!("{e}"));
        let fields: Vec<&str> = json.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(fields, ["amount", "days_filled", "days_in_month", "place_id", "segments"]);
        assert_eq!(serde_json::from_value::<PlaceLine>(json).ok(), Some(line));
    }
}
