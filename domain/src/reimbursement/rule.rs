//! The reimbursement rule (DESIGN.md): for each place and calendar month,
//! `amount = round_half_up(Σ rate × days / days_in_month)` over the filled days, where each day takes
//! the rate in force that day for the member's category that day, the employment rate while the member
//! employs the participant (for at most `employment_rate_max_months`, then the training rate or nothing
//! as the agreement says), and nothing beyond `max_months_per_participant`, counted from the
//! participant's first day on the agreement. Rounding happens once per place and month.

use crate::agreement::{AfterEmploymentMaximum, FrameworkAgreement};
use crate::calendar::{add_months, Month};
use crate::member::MemberStanding;
use crate::money::{round_half_up, Ore};
use crate::place::{Occupancy, ParticipantId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::Date;

/// Which rate paid a run of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RateKind {
    /// Arbetsträning: the category's rate.
    Training,
    /// The member employs the participant.
    Employment,
    /// Filled, but past the agreement's cap of months per participant: unpaid.
    BeyondCap,
    /// Employed past the agreement's employment maximum, on an agreement that pays nothing then.
    BeyondEmploymentMaximum,
}

/// Consecutive filled days paid at one rate, shown so a member can check every öre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub participant: ParticipantId,
    pub from: Date,
    pub to: Date,
    pub days: u32,
    pub kind: RateKind,
    /// Monthly rate in öre for a full month.
    pub rate: Ore,
}

/// One place's month: its filled days and the amount, rounded once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceMonth {
    pub days_filled: u32,
    pub days_in_month: u8,
    pub segments: Vec<Segment>,
    pub amount: Ore,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the agreement pays no rate for this member's category on {date}")]
    CategoryNotAdmitted { date: Date },
}

/// The first day each participant spent on the agreement, across all its places; caps of months
/// count from there. A participant missing here counts from their first stay on the place.
pub type FirstDays = HashMap<ParticipantId, Date>;

/// What one place earns in one month, paying each day at the member's category in force that day.
pub fn place_month(
    agreement: &FrameworkAgreement,
    member: &MemberStanding,
    occupancy: &[Occupancy],
    month: Month,
    first_days: &FirstDays,
) -> Result<PlaceMonth, RuleError> {
    let period = agreement.period();
    let mut segments: Vec<Segment> = Vec::new();
    let mut day = Some(month.first_day());
    while let Some(today) = day.filter(|d| *d <= month.last_day()) {
        let stay = occupancy.iter().find(|o| o.span().contains(today));
        if let (Some(stay), true) = (stay, period.is_some_and(|p| p.contains(today))) {
            let (kind, rate) = day_rate(agreement, member, occupancy, stay, today, first_days)?;
            match segments.last_mut() {
                Some(last)
                    if last.kind == kind
                        && last.rate == rate
                        && last.participant == stay.participant
                        && last.to.next_day() == Some(today) =>
                {
                    last.to = today;
                    last.days += 1;
                }
                _ => segments.push(Segment {
                    participant: stay.participant.clone(),
                    from: today,
                    to: today,
                    days: 1,
                    kind,
                    rate,
                }),
            }
        }
        day = today.next_day();
    }
    let days_in_month = month.days();
    let weighted: i128 = segments.iter().map(|s| i128::from(s.rate.0) * i128::from(s.days)).sum();
    Ok(PlaceMonth {
        days_filled: segments.iter().map(|s| s.days).sum(),
        days_in_month,
        amount: Ore(round_half_up(weighted, i128::from(days_in_month))),
        segments,
    })
}

/// The rate one filled day is paid at, and why.
fn day_rate(
    agreement: &FrameworkAgreement,
    member: &MemberStanding,
    occupancy: &[Occupancy],
    stay: &Occupancy,
    day: Date,
    first_days: &FirstDays,
) -> Result<(RateKind, Ore), RuleError> {
    let terms = agreement.terms.as_ref();
    let first_day = first_days
        .get(&stay.participant)
        .copied()
        .or_else(|| occupancy.iter().filter(|o| o.participant == stay.participant).map(|o| o.from).min());
    let capped = terms
        .and_then(|t| t.max_months_per_participant)
        .zip(first_day)
        .is_some_and(|(cap, first)| day >= add_months(first, cap));
    if capped {
        return Ok((RateKind::BeyondCap, Ore::ZERO));
    }
    if let Some(employed_from) = stay.employed_from.filter(|from| day >= *from) {
        let within_maximum =
            terms.and_then(|t| t.employment_rate_max_months).is_none_or(|max| day < add_months(employed_from, max));
        let employment_rate = agreement.rates_on(day).and_then(|r| r.employment);
        match (within_maximum, employment_rate) {
            (true, Some(rate)) => return Ok((RateKind::Employment, rate)),
            (false, Some(_)) if terms.is_some_and(|t| t.after_employment_maximum == AfterEmploymentMaximum::Unpaid) => {
                return Ok((RateKind::BeyondEmploymentMaximum, Ore::ZERO))
            }
            _ => {}
        }
    }
    let rate =
        agreement.training_rate_on(day, member.category_on(day)).ok_or(RuleError::CategoryNotAdmitted { date: day })?;
    Ok((RateKind::Training, rate))
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rule_props.rs"]
mod props;
