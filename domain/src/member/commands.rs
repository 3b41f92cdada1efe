use super::MemberCategory;
use crate::money::Percent;
use crate::org_number::OrgNumber;
use crate::sealed::Sealed;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MemberCommand {
    /// A legal person gives its `org_number`; a sole trader (enskild firma), whose number is its
    /// owner's personnummer, gives it sealed instead.
    Register {
        name: String,
        org_number: Option<OrgNumber>,
        sealed_org_number: Option<Sealed>,
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
