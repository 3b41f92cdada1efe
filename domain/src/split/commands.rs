use crate::agreement::FrameworkAgreement;
use crate::calendar::DateRange;
use crate::member::MemberStanding;
use crate::money::Percent;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SplitCommand {
    /// Places for one member over a period (training-place agreements). An open end means until the
    /// agreement ends.
    AllocatePlaces {
        allocation_id: String,
        agreement: FrameworkAgreement,
        member: MemberStanding,
        places: u32,
        period: DateRange,
    },
    /// A role (purchasing, packing, delivery…) with a share of the value (goods and services).
    AllocateRole {
        allocation_id: String,
        agreement: FrameworkAgreement,
        member: MemberStanding,
        role: String,
        share: Percent,
        period: DateRange,
    },
    /// New number of places from a date; earlier days keep the old number.
    RevisePlaces { allocation_id: String, agreement: FrameworkAgreement, effective_from: Date, places: u32 },
    /// New share of the value from a date.
    ReviseShare { allocation_id: String, agreement: FrameworkAgreement, effective_from: Date, share: Percent },
    /// The allocation ends after `last_day`.
    EndAllocation { allocation_id: String, last_day: Date },
    /// Staff confirm that a goods-and-services split is complete on a day: the role shares then add up
    /// to exactly 100 % of the value, so nothing of the contract is left without a member to deliver it.
    ConfirmShares { on: Date },
}
