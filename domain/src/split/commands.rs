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
    /// A place opens under an allocation and takes one of its slots from `opened_on`: the split owns
    /// the slots, so two places racing for the last one meet on this aggregate's optimistic lock.
    OpenPlace { allocation_id: String, place_id: String, opened_on: Date },
    /// The place gives its slot back from `closed_on` (the first day it is no longer open).
    ClosePlace { place_id: String, closed_on: Date },
    /// The agreement's capacity changes from a day; `agreement` is its state after the change. The
    /// split refuses a cut below what members hold, and recording it here makes a cut and an
    /// allocation at the same moment collide on this aggregate's lock instead of both passing.
    AdoptCapacity { agreement: FrameworkAgreement, effective_from: Date, places: u32 },
    /// Staff confirm that a goods-and-services split is complete on a day: the role shares then add up
    /// to exactly 100 % of the value, so nothing of the contract is left without a member to deliver it.
    ConfirmShares { on: Date },
    /// A member commits to employ or place this many people from the target group towards the
    /// agreement's employment requirement (skallkrav or dialogkrav); a new number replaces its
    /// earlier one, and zero withdraws it. `agreement` is its current state: only an agreement that
    /// carries a requirement takes commitments.
    AgreeEmployments { agreement: FrameworkAgreement, member_id: String, employments: u32 },
}
