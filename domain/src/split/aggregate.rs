use super::{SplitCommand, SplitEvent};
use crate::agreement::{AgreementKind, FrameworkAgreement};
use crate::calendar::DateRange;
use crate::member::{MemberCategory, MemberStanding};
use crate::money::Percent;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// What an allocation grants from a date until the next version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationVersion {
    pub effective_from: Date,
    /// Places (training-place agreements); 0 for roles.
    pub places: u32,
    /// Share of the value (goods and services); 0 for places.
    pub share: Percent,
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
}

impl Allocation {
    /// What the allocation grants on a day, if it runs then.
    pub fn on(&self, date: Date) -> Option<AllocationVersion> {
        if !self.period.contains(date) {
            return None;
        }
        self.versions.iter().rev().find(|v| v.effective_from <= date).copied()
    }

    /// The days on which what the allocation grants may change.
    fn boundaries(&self) -> impl Iterator<Item = Date> + '_ {
        let end = self.period.end.map(|end| end + Duration::days(1));
        self.versions.iter().map(|v| v.effective_from).chain(std::iter::once(self.period.start)).chain(end)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubContractSplit {
    pub allocations: Vec<Allocation>,
    /// Days on which staff confirmed the role shares add up to 100 %.
    #[serde(default)]
    pub confirmed_complete_on: Vec<Date>,
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
}

impl SubContractSplit {
    pub fn allocation(&self, id: &str) -> Option<&Allocation> {
        self.allocations.iter().find(|a| a.id == id)
    }

    /// Places all members hold on a day.
    pub fn places_on(&self, date: Date) -> u32 {
        self.allocations.iter().filter_map(|a| a.on(date)).map(|v| v.places).sum()
    }

    /// Places one member holds on a day, over all its allocations.
    pub fn places_allocated_to(&self, member_id: &str, date: Date) -> u32 {
        self.allocations.iter().filter(|a| a.member_id == member_id).filter_map(|a| a.on(date)).map(|v| v.places).sum()
    }

    /// Sum of the shares of the value in force on a day, in basis points; the split is complete at
    /// 10 000 (100 %) and the rules keep it from going above.
    pub fn share_total_on(&self, date: Date) -> u32 {
        self.allocations.iter().filter_map(|a| a.on(date)).map(|v| v.share.basis_points()).sum()
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
                let event = SplitEvent::PlacesRevised { allocation_id, effective_from, places };
                self.checked(event, &agreement, DateRange { start: effective_from, end: period.end })
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
            SplitCommand::ConfirmShares { on } => {
                if !self.shares_complete_on(on) {
                    return Err(SplitError::SharesIncomplete { date: on, total_basis_points: self.share_total_on(on) });
                }
                Ok(SplitEvent::SharesConfirmed { on })
            }
        }
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
        if !member.active {
            return Err(SplitError::MemberInactive);
        }
        if terms.reserved && !member.qualifies_for_reserved() {
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
        // Rates are time-versioned: the member's category must be paid on every day of the allocation,
        // so each rate version in force during it is checked, not only the one registered first.
        let rate_days = agreement.rate_history.iter().map(|v| v.effective_from).filter(|d| period.contains(*d));
        if member.category == MemberCategory::OtherAssociation
            && kind == AgreementKind::TrainingPlaces
            && std::iter::once(period.start)
                .chain(rate_days)
                .any(|day| agreement.training_rate_on(day, member.category).is_none())
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
                });
            }
            SplitEvent::RoleAllocated { allocation_id, member_id, role, share, period } => {
                self.allocations.push(Allocation {
                    id: allocation_id,
                    member_id,
                    role: Some(role),
                    period,
                    versions: vec![AllocationVersion { effective_from: period.start, places: 0, share }],
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
        }
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
