//! A member enterprise of the consortium (medlemsföretag): an ASF or another association that fills
//! training places and delivers services under the consortium's agreements.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{Member, MemberError};
pub use commands::MemberCommand;
pub use events::MemberEvent;

use crate::money::Percent;
use serde::{Deserialize, Serialize};

/// Which rate a member is paid: Östersund reserves its places for ASF and admits other non-profit
/// associations "till en lägre ersättning".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberCategory {
    /// Arbetsintegrerande socialt företag, proven through its statutes (Tillväxtverket's definition).
    Wise,
    /// Ideell förening that is not an ASF.
    OtherAssociation,
}

/// Reserved procurement (reserverad upphandling) requires at least 30 % of the supplier's workforce to
/// come from the target group.
pub const RESERVED_PROCUREMENT_MIN_TARGET_GROUP_SHARE: Percent = Percent::from_whole(30);

/// The facts about a member that other aggregates need to decide, passed in by the application
/// because the domain does no IO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStanding {
    pub member_id: String,
    pub category: MemberCategory,
    pub target_group_share: Percent,
    pub active: bool,
}

impl MemberStanding {
    /// May this member take part in a reserved agreement?
    pub fn qualifies_for_reserved(&self) -> bool {
        self.category == MemberCategory::Wise && self.target_group_share >= RESERVED_PROCUREMENT_MIN_TARGET_GROUP_SHARE
    }
}
