use super::MemberCategory;
use crate::money::Percent;
use crate::org_number::OrgNumber;
use crate::sealed::Sealed;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MemberEvent {
    MemberRegistered {
        name: String,
        /// `None` for a sole trader, whose number is its owner's personnummer: it is sealed instead.
        org_number: Option<OrgNumber>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sealed_org_number: Option<Sealed>,
        category: MemberCategory,
        target_group_share: Percent,
        joined_on: Date,
    },
    TargetGroupShareReported {
        share: Percent,
        reported_on: Date,
    },
    CategoryChanged {
        category: MemberCategory,
        changed_on: Date,
    },
    MemberLeft {
        left_on: Date,
    },
}

impl DomainEvent for MemberEvent {
    fn event_type(&self) -> String {
        match self {
            MemberEvent::MemberRegistered { .. } => "MemberRegistered",
            MemberEvent::TargetGroupShareReported { .. } => "TargetGroupShareReported",
            MemberEvent::CategoryChanged { .. } => "CategoryChanged",
            MemberEvent::MemberLeft { .. } => "MemberLeft",
        }
        .to_string()
    }

    /// 2.0: `target_group_share` is in basis points; 1.0 had whole percent in
    /// `target_group_share_percent` (upcast on load).
    fn event_version(&self) -> String {
        "2.0".to_string()
    }
}
