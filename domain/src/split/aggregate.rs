use super::{SplitCommand, SplitEvent};
use crate::agreement::{AgreementKind, FrameworkAgreement, MAX_REQUIRED_EMPLOYMENTS};
use crate::calendar::DateRange;
use crate::member::MemberStanding;
use crate::money::Percent;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// What an allocation grants from a date until the next version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationVersion {
    pub effective_from: Date,
    /// Places (training-place agreements); 0 for roles.
    pub places: u32,
    /// Share of the value (goods and services); 0 for places.
    pub share: Percent,
}

/// A place open under an allocation: it holds one of the allocation's slots on every day it is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPlace {
    pub place_id: String,
    pub opened_on: Date,
    /// The first day the place is no longer open.
    pub closed_on: Option<Date>,
}

impl OpenPlace {
    fn is_open_on(&self, date: Date) -> bool {
        self.opened_on <= date && self.closed_on.is_none_or(|closed| date < closed)
    }
}

/// One member's part of the agreement, with every revision kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub id: String,
    pub member_id: String,
    /// The role for goods-and-services agreements.
    pub role: Option<String>,
    pub period: DateRange,
    pub versions: Vec<AllocationVersion>,
    /// Places opened under the allocation, oldest first.
    #[serde(default)]
    pub places: Vec<OpenPlace>,
}

impl Allocation {
    /// What the allocation grants on a day, if it runs then.
    pub fn on(&self, date: Date) -> Option<AllocationVersion> {
        if !self.period.contains(date) {
            return None;
        }
        self.versions.iter().rev().find(|v| v.effective_from <= date).copied()
    }

    /// Places open under the allocation on a day (within its period).
    pub fn open_places_on(&self, date: Date) -> u32 {
        if !self.period.contains(date) {
            return 0;
        }
        let open = self.places.iter().filter(|p| p.is_open_on(date)).count();
        u32::try_from(open).unwrap_or(u32::MAX)
    }

    /// The days on which what the allocation grants, or how many places it has open, may change.
    fn boundaries(&self) -> impl Iterator<Item = Date> + '_ {
        let end = self.period.end.and_then(|end| end.next_day());
        self.versions
            .iter()
            .map(|v| v.effective_from)
            .chain(self.places.iter().map(|p| p.opened_on))
            .chain(std::iter::once(self.period.start))
            .chain(end)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubContractSplit {
    pub allocations: Vec<Allocation>,
    /// Days on which staff confirmed the role shares add up to 100 %.
    #[serde(default)]
    pub confirmed_complete_on: Vec<Date>,
    /// Employments or placements each member has committed to towards the agreement's employment
    /// requirement, by member id (the "agreed" of required → agreed → filled). Absent in splits
    /// stored before commitments were recorded.
    #[serde(default)]
    pub agreed_employments: BTreeMap<String, u32>,
}

/// The split rules a command can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the agreement is not registered")]
    AgreementNotRegistered,
    #[error("a training-place agreement is split into places, a goods-and-services agreement into roles")]
    WrongKindOfAllocation,
    #[error("an allocation with this id exists already")]
    DuplicateAllocation,
    #[error("no allocation with this id")]
    UnknownAllocation,
    #[error("a reserved agreement admits only ASF with at least 30 % of staff from the target group")]
    MemberNotQualifiedForReserved,
    #[error("the member has left the consortium")]
    MemberInactive,
    #[error("the agreement pays no rate for this member's category")]
    CategoryNotAdmitted,
    #[error("the allocation must lie within the agreement period; {date} does not")]
    OutsideAgreementPeriod { date: Date },
    #[error("the allocation ends ({end}) before it starts ({start})")]
    EndBeforeStart { start: Date, end: Date },
    #[error("an allocation needs at least one place or a share above 0 %")]
    NothingAllocated,
    #[error("a role needs a name")]
    RoleMissing,
    #[error("on {date} members would hold {allocated} places but the agreement contracts {contracted}")]
    ExceedsContractedPlaces { date: Date, allocated: u32, contracted: u32 },
    #[error("on {date} the shares of the value would add up to {},{:02} %, more than 100 %", total_basis_points / 100, total_basis_points % 100)]
    SharesExceedWhole { date: Date, total_basis_points: u32 },
    #[error("{date} is outside the allocation's period")]
    OutsideAllocation { date: Date },
    #[error("the allocation has already ended")]
    AlreadyEnded,
    #[error("on {date} the shares of the value add up to {},{:02} %, not 100 %", total_basis_points / 100, total_basis_points % 100)]
    SharesIncomplete { date: Date, total_basis_points: u32 },
    #[error("on {date} the allocation grants {allocated} places and {open} are open already")]
    AllocationFull { date: Date, allocated: u32, open: u32 },
    #[error("on {date} the allocation would grant {allocated} places but {open} are open")]
    OpenPlacesExceedAllocation { date: Date, allocated: u32, open: u32 },
    #[error("a place is opened under an allocation of places, not a role")]
    NotAPlaceAllocation,
    #[error("this place is already open")]
    PlaceAlreadyOpen,
    #[error("no open place with this id under the split")]
    UnknownPlace,
    #[error("a place cannot close ({closed_on}) before it opened ({opened_on})")]
    ClosedBeforeOpened { opened_on: Date, closed_on: Date },
    #[error("on {date} members hold {allocated} places; the capacity cannot be cut to {contracted}")]
    CapacityBelowAllocated { date: Date, allocated: u32, contracted: u32 },
    #[error("the agreement carries no employment requirement to commit employments to")]
    NoEmploymentRequirement,
    #[error("only a member with a part of the agreement can commit employments to it")]
    MemberHasNoAllocation,
    #[error("a member commits at most {max} employments")]
    TooManyEmployments { max: u32 },
}

impl SubContractSplit {
    pub fn allocation(&self, id: &str) -> Option<&Allocation> {
        self.allocations.iter().find(|a| a.id == id)
    }

    /// Places all members hold on a day.
    pub fn places_on(&self, date: Date) -> u32 {
        self.allocations.iter().filter_map(|a| a.on(date)).fold(0u32, |sum, v| sum.saturating_add(v.places))
    }

    /// Places one member holds on a day, over all its allocations.
    pub fn places_allocated_to(&self, member_id: &str, date: Date) -> u32 {
        self.allocations
            .iter()
            .filter(|a| a.member_id == member_id)
            .filter_map(|a| a.on(date))
            .fold(0u32, |sum, v| sum.saturating_add(v.places))
    }

    /// Employments all members together have committed to.
    pub fn agreed_employments_total(&self) -> u32 {
        self.agreed_employments.values().fold(0u32, |sum, n| sum.saturating_add(*n))
    }

    /// Sum of the shares of the value in force on a day, in basis points; the split is complete at
    /// 10 000 (100 %) and the rules keep it from going above.
    pub fn share_total_on(&self, date: Date) -> u32 {
        self.allocations
            .iter()
            .filter_map(|a| a.on(date))
            .fold(0u32, |sum, v| sum.saturating_add(v.share.basis_points()))
    }

    /// Whether every part of a goods-and-services contract has a member on a day.
    pub fn shares_complete_on(&self, date: Date) -> bool {
        self.share_total_on(date) == Percent::HUNDRED.basis_points()
    }

    fn decide(&self, command: SplitCommand) -> Result<SplitEvent, SplitError> {
        match command {
            SplitCommand::AllocatePlaces { allocation_id, agreement, member, places, period } => {
                let period = self.admit(&allocation_id, &agreement, &member, AgreementKind::TrainingPlaces, period)?;
                if places == 0 {
                    return Err(SplitError::NothingAllocated);
                }
                let event = SplitEvent::PlacesAllocated { allocation_id, member_id: member.member_id, places, period };
                self.checked(event, &agreement, period)
            }
            SplitCommand::AllocateRole { allocation_id, agreement, member, role, share, period } => {
                let period =
                    self.admit(&allocation_id, &agreement, &member, AgreementKind::GoodsAndServices, period)?;
                let role = role.trim().to_lowercase();
                if role.is_empty() {
                    return Err(SplitError::RoleMissing);
                }
                if share.basis_points() == 0 {
                    return Err(SplitError::NothingAllocated);
                }
                let event =
                    SplitEvent::RoleAllocated { allocation_id, member_id: member.member_id, role, share, period };
                self.checked(event, &agreement, period)
            }
            SplitCommand::RevisePlaces { allocation_id, agreement, effective_from, places } => {
                let period =
                    self.revisable(&allocation_id, &agreement, AgreementKind::TrainingPlaces, effective_from)?;
                if places == 0 {
                    return Err(SplitError::NothingAllocated);
                }
                let event = SplitEvent::PlacesRevised { allocation_id: allocation_id.clone(), effective_from, places };
                let event = self.checked(event, &agreement, DateRange { start: effective_from, end: period.end })?;
                let mut after = self.clone();
                after.apply(event.clone());
                match after.allocation(&allocation_id).and_then(|a| a.first_day_over(effective_from)) {
                    Some((date, allocated, open)) => {
                        Err(SplitError::OpenPlacesExceedAllocation { date, allocated, open })
                    }
                    None => Ok(event),
                }
            }
            SplitCommand::ReviseShare { allocation_id, agreement, effective_from, share } => {
                let period =
                    self.revisable(&allocation_id, &agreement, AgreementKind::GoodsAndServices, effective_from)?;
                if share.basis_points() == 0 {
                    return Err(SplitError::NothingAllocated);
                }
                let event = SplitEvent::ShareRevised { allocation_id, effective_from, share };
                self.checked(event, &agreement, DateRange { start: effective_from, end: period.end })
            }
            SplitCommand::EndAllocation { allocation_id, last_day } => {
                let allocation = self.allocation(&allocation_id).ok_or(SplitError::UnknownAllocation)?;
                if allocation.period.end.is_some_and(|end| last_day >= end) {
                    return Err(SplitError::AlreadyEnded);
                }
                if last_day < allocation.period.start {
                    return Err(SplitError::EndBeforeStart { start: allocation.period.start, end: last_day });
                }
                Ok(SplitEvent::AllocationEnded { allocation_id, last_day })
            }
            SplitCommand::OpenPlace { allocation_id, place_id, opened_on } => {
                self.open_place(allocation_id, place_id, opened_on)
            }
            SplitCommand::ClosePlace { place_id, closed_on } => {
                let (_, place) = self.open_place_by_id(&place_id).ok_or(SplitError::UnknownPlace)?;
                if place.closed_on.is_some() {
                    return Err(SplitError::UnknownPlace);
                }
                if closed_on < place.opened_on {
                    return Err(SplitError::ClosedBeforeOpened { opened_on: place.opened_on, closed_on });
                }
                Ok(SplitEvent::PlaceClosed { place_id, closed_on })
            }
            SplitCommand::AdoptCapacity { agreement, effective_from, places } => {
                let event = SplitEvent::CapacityAdopted { effective_from, places };
                let range = DateRange { start: effective_from, end: agreement.period().and_then(|p| p.end) };
                match self.checked(event, &agreement, range) {
                    Err(SplitError::ExceedsContractedPlaces { date, allocated, contracted }) => {
                        Err(SplitError::CapacityBelowAllocated { date, allocated, contracted })
                    }
                    other => other,
                }
            }
            SplitCommand::ConfirmShares { on } => {
                if !self.shares_complete_on(on) {
                    return Err(SplitError::SharesIncomplete { date: on, total_basis_points: self.share_total_on(on) });
                }
                Ok(SplitEvent::SharesConfirmed { on })
            }
            SplitCommand::AgreeEmployments { agreement, member_id, employments } => {
                let terms = agreement.terms.as_ref().ok_or(SplitError::AgreementNotRegistered)?;
                if terms.employment_requirement.is_none() {
                    return Err(SplitError::NoEmploymentRequirement);
                }
                if !self.allocations.iter().any(|a| a.member_id == member_id) {
                    return Err(SplitError::MemberHasNoAllocation);
                }
                if employments > MAX_REQUIRED_EMPLOYMENTS {
                    return Err(SplitError::TooManyEmployments { max: MAX_REQUIRED_EMPLOYMENTS });
                }
                Ok(SplitEvent::EmploymentsAgreed { member_id, employments })
            }
        }
    }

    fn open_place_by_id(&self, place_id: &str) -> Option<(&Allocation, &OpenPlace)> {
        self.allocations.iter().find_map(|a| a.places.iter().find(|p| p.place_id == place_id).map(|p| (a, p)))
    }

    /// A place takes a slot only if, on every day from its opening, the places open under the
    /// allocation stay within what it grants.
    fn open_place(&self, allocation_id: String, place_id: String, opened_on: Date) -> Result<SplitEvent, SplitError> {
        let allocation = self.allocation(&allocation_id).ok_or(SplitError::UnknownAllocation)?;
        if allocation.role.is_some() {
            return Err(SplitError::NotAPlaceAllocation);
        }
        if self.open_place_by_id(&place_id).is_some() {
            return Err(SplitError::PlaceAlreadyOpen);
        }
        if !allocation.period.contains(opened_on) {
            return Err(SplitError::OutsideAllocation { date: opened_on });
        }
        let event = SplitEvent::PlaceOpened { allocation_id: allocation_id.clone(), place_id, opened_on };
        let mut after = self.clone();
        after.apply(event.clone());
        let allocation = after.allocation(&allocation_id).ok_or(SplitError::UnknownAllocation)?;
        if let Some((date, allocated, open)) = allocation.first_day_over(opened_on) {
            return Err(SplitError::AllocationFull { date, allocated, open: open.saturating_sub(1) });
        }
        Ok(event)
    }

    /// The checks every new allocation passes; returns the period with an open end closed at the
    /// agreement's end.
    fn admit(
        &self,
        allocation_id: &str,
        agreement: &FrameworkAgreement,
        member: &MemberStanding,
        kind: AgreementKind,
        period: DateRange,
    ) -> Result<DateRange, SplitError> {
        let terms = agreement.terms.as_ref().ok_or(SplitError::AgreementNotRegistered)?;
        if terms.kind != kind {
            return Err(SplitError::WrongKindOfAllocation);
        }
        if self.allocation(allocation_id).is_some() {
            return Err(SplitError::DuplicateAllocation);
        }
        if !member.is_active() {
            return Err(SplitError::MemberInactive);
        }
        if terms.reserved && !member.qualifies_for_reserved_on(period.start) {
            return Err(SplitError::MemberNotQualifiedForReserved);
        }
        if let Some(end) = period.end.filter(|end| *end < period.start) {
            return Err(SplitError::EndBeforeStart { start: period.start, end });
        }
        let agreement_period = agreement.period().ok_or(SplitError::AgreementNotRegistered)?;
        let period = DateRange { start: period.start, end: period.end.or(agreement_period.end) };
        for date in [Some(period.start), period.end].into_iter().flatten() {
            if !agreement_period.contains(date) {
                return Err(SplitError::OutsideAgreementPeriod { date });
            }
        }
        // Rates and the member's category are both time-versioned: the category in force must be paid
        // on every day of the allocation, so each day either can change on is checked.
        let rate_days = agreement.rate_history.iter().map(|v| v.effective_from);
        let change_days = std::iter::once(period.start)
            .chain(rate_days)
            .chain(member.category_changes_from(period.start))
            .filter(|d| period.contains(*d));
        if kind == AgreementKind::TrainingPlaces
            && change_days.into_iter().any(|day| agreement.training_rate_on(day, member.category_on(day)).is_none())
        {
            return Err(SplitError::CategoryNotAdmitted);
        }
        Ok(period)
    }

    fn revisable(
        &self,
        allocation_id: &str,
        agreement: &FrameworkAgreement,
        kind: AgreementKind,
        effective_from: Date,
    ) -> Result<DateRange, SplitError> {
        let terms = agreement.terms.as_ref().ok_or(SplitError::AgreementNotRegistered)?;
        if terms.kind != kind {
            return Err(SplitError::WrongKindOfAllocation);
        }
        let allocation = self.allocation(allocation_id).ok_or(SplitError::UnknownAllocation)?;
        if !allocation.period.contains(effective_from) {
            return Err(SplitError::OutsideAllocation { date: effective_from });
        }
        Ok(allocation.period)
    }

    /// Applies `event` to a copy and checks, on every day the totals can change within `range`, that
    /// places stay within the contracted capacity and shares within 100 %.
    fn checked(
        &self,
        event: SplitEvent,
        agreement: &FrameworkAgreement,
        range: DateRange,
    ) -> Result<SplitEvent, SplitError> {
        let mut after = self.clone();
        after.apply(event.clone());
        let mut days: Vec<Date> = after
            .allocations
            .iter()
            .flat_map(Allocation::boundaries)
            .chain(agreement.capacity_history.iter().map(|v| v.effective_from))
            .filter(|d| range.contains(*d))
            .chain(std::iter::once(range.start))
            .collect();
        days.sort();
        days.dedup();
        for date in days {
            let allocated = after.places_on(date);
            let contracted = agreement.places_on(date);
            if allocated > contracted {
                return Err(SplitError::ExceedsContractedPlaces { date, allocated, contracted });
            }
            let total_basis_points = after.share_total_on(date);
            if total_basis_points > Percent::HUNDRED.basis_points() {
                return Err(SplitError::SharesExceedWhole { date, total_basis_points });
            }
        }
        Ok(event)
    }
}

impl Aggregate for SubContractSplit {
    const TYPE: &'static str = "SubContractSplit";
    type Command = SplitCommand;
    type Event = SplitEvent;
    type Error = SplitError;
    type Services = ();

    async fn handle(&mut self, command: SplitCommand, _: &(), sink: &EventSink<Self>) -> Result<(), SplitError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: SplitEvent) {
        match event {
            SplitEvent::PlacesAllocated { allocation_id, member_id, places, period } => {
                self.allocations.push(Allocation {
                    id: allocation_id,
                    member_id,
                    role: None,
                    period,
                    versions: vec![AllocationVersion {
                        effective_from: period.start,
                        places,
                        share: Percent::default(),
                    }],
                    places: Vec::new(),
                });
            }
            SplitEvent::RoleAllocated { allocation_id, member_id, role, share, period } => {
                self.allocations.push(Allocation {
                    id: allocation_id,
                    member_id,
                    role: Some(role),
                    period,
                    versions: vec![AllocationVersion { effective_from: period.start, places: 0, share }],
                    places: Vec::new(),
                });
            }
            SplitEvent::PlacesRevised { allocation_id, effective_from, places } => {
                self.revise(&allocation_id, AllocationVersion { effective_from, places, share: Percent::default() })
            }
            SplitEvent::ShareRevised { allocation_id, effective_from, share } => {
                self.revise(&allocation_id, AllocationVersion { effective_from, places: 0, share })
            }
            SplitEvent::AllocationEnded { allocation_id, last_day } => {
                if let Some(allocation) = self.allocations.iter_mut().find(|a| a.id == allocation_id) {
                    allocation.period.end = Some(last_day);
                }
            }
            SplitEvent::SharesConfirmed { on } => self.confirmed_complete_on.push(on),
            SplitEvent::PlaceOpened { allocation_id, place_id, opened_on } => {
                if let Some(allocation) = self.allocations.iter_mut().find(|a| a.id == allocation_id) {
                    allocation.places.push(OpenPlace { place_id, opened_on, closed_on: None });
                }
            }
            SplitEvent::PlaceClosed { place_id, closed_on } => {
                let place =
                    self.allocations.iter_mut().flat_map(|a| a.places.iter_mut()).find(|p| p.place_id == place_id);
                if let Some(place) = place {
                    place.closed_on = Some(closed_on);
                }
            }
            // The capacity itself lives on the agreement; the split records that it checked it.
            SplitEvent::CapacityAdopted { .. } => {}
            SplitEvent::EmploymentsAgreed { member_id, employments } => {
                if employments == 0 {
                    self.agreed_employments.remove(&member_id);
                } else {
                    self.agreed_employments.insert(member_id, employments);
                }
            }
        }
    }
}

impl Allocation {
    /// The first day from `from` on which more places are open than the allocation grants, with the
    /// places granted and open that day.
    fn first_day_over(&self, from: Date) -> Option<(Date, u32, u32)> {
        let mut days: Vec<Date> = self.boundaries().filter(|d| *d >= from).chain(std::iter::once(from)).collect();
        days.sort();
        days.dedup();
        days.into_iter().find_map(|date| {
            let allocated = self.on(date).map_or(0, |v| v.places);
            let open = self.open_places_on(date);
            (open > allocated).then_some((date, allocated, open))
        })
    }
}

impl SubContractSplit {
    fn revise(&mut self, allocation_id: &str, version: AllocationVersion) {
        if let Some(allocation) = self.allocations.iter_mut().find(|a| a.id == allocation_id) {
            allocation.versions.retain(|v| v.effective_from != version.effective_from);
            let at = allocation.versions.partition_point(|v| v.effective_from < version.effective_from);
            allocation.versions.insert(at, version);
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
