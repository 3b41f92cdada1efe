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
use time::Date;

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

/// A value in force from a day until the next version: a member's category and target-group share
/// change on running agreements, and every day is judged by what was true that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dated<T> {
    pub from: Date,
    pub value: T,
}

/// The version in force on `date` of a history sorted by `from`; before the first version, the first.
pub fn in_force_on<T: Copy>(history: &[Dated<T>], date: Date) -> Option<T> {
    history.iter().rev().find(|v| v.from <= date).or(history.first()).map(|v| v.value)
}

/// Inserts a version so the history stays sorted; a second version on the same day replaces the first.
pub fn insert_version<T>(history: &mut Vec<Dated<T>>, version: Dated<T>) {
    history.retain(|v| v.from != version.from);
    let at = history.partition_point(|v| v.from < version.from);
    history.insert(at, version);
}

/// The facts about a member that other aggregates need to decide, passed in by the application
/// because the domain does no IO. Histories, not current values: a report for September must use
/// September's category even when it is submitted after a change on 1 October.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStanding {
    pub member_id: String,
    pub joined_on: Date,
    pub left_on: Option<Date>,
    /// Sorted by `from`; never empty.
    pub categories: Vec<Dated<MemberCategory>>,
    /// Sorted by `from`; never empty.
    pub shares: Vec<Dated<Percent>>,
}

impl MemberStanding {
    /// A standing that never changed, as of `joined_on`.
    pub fn constant(member_id: &str, joined_on: Date, category: MemberCategory, share: Percent) -> MemberStanding {
        MemberStanding {
            member_id: member_id.to_string(),
            joined_on,
            left_on: None,
            categories: vec![Dated { from: joined_on, value: category }],
            shares: vec![Dated { from: joined_on, value: share }],
        }
    }

    pub fn category_on(&self, date: Date) -> MemberCategory {
        in_force_on(&self.categories, date).unwrap_or(MemberCategory::OtherAssociation)
    }

    pub fn share_on(&self, date: Date) -> Percent {
        in_force_on(&self.shares, date).unwrap_or_default()
    }

    /// Still a member: one that has left takes no new allocations.
    pub fn is_active(&self) -> bool {
        self.left_on.is_none()
    }

    /// May this member take part in a reserved agreement on this day?
    pub fn qualifies_for_reserved_on(&self, date: Date) -> bool {
        self.category_on(date) == MemberCategory::Wise
            && self.share_on(date) >= RESERVED_PROCUREMENT_MIN_TARGET_GROUP_SHARE
    }

    /// The days on which the category may change, within and after `from`.
    pub fn category_changes_from(&self, from: Date) -> impl Iterator<Item = Date> + '_ {
        self.categories.iter().map(|v| v.from).filter(move |d| *d >= from)
    }
}
