use super::MemberCategory;
use crate::money::Percent;
use crate::org_number::OrgNumber;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MemberCommand {
    Register {
        name: String,
        org_number: OrgNumber,
        category: MemberCategory,
        /// Share of the member's staff from the target group, as last reported.
        target_group_share: Percent,
        joined_on: Date,
    },
    /// Members report their staff composition again when it changes; reserved agreements depend on it.
    ReportTargetGroupShare {
        share: Percent,
        reported_on: Date,
    },
    /// A member proves ASF status (new statutes) or loses it.
    ChangeCategory {
        category: MemberCategory,
        changed_on: Date,
    },
    Leave {
        left_on: Date,
    },
}
