//! Place-days an agreement, its split and its places contribute to each month. The projection keeps
//! the difference each event makes to these figures, so a month's utilisation is a sum of a few
//! rows, and "as the books stood on a day" is the same sum over the events recorded until then.

use crate::agreement::FrameworkAgreement;
use crate::calendar::{add_months, DateRange, Month};
use crate::place::TrainingPlace;
use crate::split::SubContractSplit;
use std::collections::BTreeMap;
use time::Date;

/// How far an open-ended period counts: contracted, allocated or filled days of an agreement
/// "until further notice" are counted for ten years from their start, the longest any agreement in
/// the sources runs. Without a bound an open stay would add rows to no end.
pub const OPEN_END_MONTHS: u32 = 120;

/// Place-days in one month. `contracted` is the agreement's, the others a member's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaceDays {
    pub contracted: i64,
    pub allocated: i64,
    pub filled: i64,
    pub employed: i64,
}

impl PlaceDays {
    pub fn is_zero(&self) -> bool {
        *self == PlaceDays::default()
    }

    /// `self − other`, field by field: what an event changed.
    pub fn minus(&self, other: &PlaceDays) -> PlaceDays {
        PlaceDays {
            contracted: self.contracted - other.contracted,
            allocated: self.allocated - other.allocated,
            filled: self.filled - other.filled,
            employed: self.employed - other.employed,
        }
    }

    /// Filled place-days as a share of contracted ones, `None` when nothing was contracted.
    pub fn share_filled(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.contracted > 0).then(|| self.filled as f64 / self.contracted as f64)
    }
}

/// Place-days by member (empty for the agreement's own contracted days) and month.
pub type Contributions = BTreeMap<(String, Month), PlaceDays>;

#[derive(Clone, Copy)]
enum Field {
    Contracted,
    Allocated,
    Filled,
    Employed,
}

/// Adds `places` place-days for every day of `range` (an open end counts [`OPEN_END_MONTHS`]).
fn add(into: &mut Contributions, member: &str, range: DateRange, places: i64, field: Field) {
    if places == 0 {
        return;
    }
    let last = range.end.unwrap_or_else(|| add_months(range.start, OPEN_END_MONTHS));
    let mut month = Month::of(range.start);
    loop {
        let from = range.start.max(month.first_day());
        let to = last.min(month.last_day());
        if from > to {
            break;
        }
        let days = i64::from(to.to_julian_day()) - i64::from(from.to_julian_day()) + 1;
        let entry = into.entry((member.to_string(), month)).or_default();
        let slot = match field {
            Field::Contracted => &mut entry.contracted,
            Field::Allocated => &mut entry.allocated,
            Field::Filled => &mut entry.filled,
            Field::Employed => &mut entry.employed,
        };
        *slot += places * days;
        let next = month.next();
        if next == month || to >= last {
            break;
        }
        month = next;
    }
}

/// The day before `date`, for a version that ends where the next begins.
fn day_before(date: Date) -> Date {
    date.previous_day().unwrap_or(date)
}

/// Contracted place-days: the capacity in force each day of the agreement's period.
pub fn of_agreement(agreement: &FrameworkAgreement) -> Contributions {
    let mut into = Contributions::new();
    let Some(period) = agreement.period() else { return into };
    let versions = &agreement.capacity_history;
    for (i, version) in versions.iter().enumerate() {
        let end = versions.get(i + 1).map(|next| day_before(next.effective_from));
        if end.is_some_and(|end| end < version.effective_from) {
            continue;
        }
        let span = DateRange { start: version.effective_from, end };
        if let Some(span) = span.intersect(&period) {
            add(&mut into, "", span, i64::from(version.places), Field::Contracted);
        }
    }
    into
}

/// Allocated place-days per member: what each allocation grants each day of its period.
pub fn of_split(split: &SubContractSplit) -> Contributions {
    let mut into = Contributions::new();
    for allocation in split.allocations.iter().filter(|a| a.role.is_none()) {
        let versions = &allocation.versions;
        for (i, version) in versions.iter().enumerate() {
            let end = versions.get(i + 1).map(|next| day_before(next.effective_from));
            if end.is_some_and(|end| end < version.effective_from) {
                continue;
            }
            let span = DateRange { start: version.effective_from, end };
            if let Some(span) = span.intersect(&allocation.period) {
                add(&mut into, &allocation.member_id, span, i64::from(version.places), Field::Allocated);
            }
        }
    }
    into
}

/// Filled and employed place-days of a place's member: each stay, and the part of it the member
/// employed the participant.
pub fn of_place(place: &TrainingPlace) -> Contributions {
    let mut into = Contributions::new();
    for stay in &place.occupancy {
        let span = stay.span();
        add(&mut into, &place.member_id, span, 1, Field::Filled);
        if let Some(employed_from) = stay.employed_from {
            if let Some(employed) = span.intersect(&DateRange { start: employed_from, end: None }) {
                add(&mut into, &place.member_id, employed, 1, Field::Employed);
            }
        }
    }
    into
}

/// What changed between two states' contributions: the rows to add, none of them zero.
pub fn difference(before: &Contributions, after: &Contributions) -> Contributions {
    let mut changes = Contributions::new();
    for (key, now) in after {
        let was = before.get(key).copied().unwrap_or_default();
        let change = now.minus(&was);
        if !change.is_zero() {
            changes.insert(key.clone(), change);
        }
    }
    for (key, was) in before {
        if !after.contains_key(key) {
            changes.insert(key.clone(), PlaceDays::default().minus(was));
        }
    }
    changes
}
