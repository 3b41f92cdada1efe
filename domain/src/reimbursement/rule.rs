//! The reimbursement rule (DESIGN.md): for each place and calendar month,
//! `amount = round_half_up(Σ rate × days / days_in_month)` over the filled days, where each day takes
//! the rate in force that day for the member's category, the employment rate while the member employs
//! the participant (for at most `employment_rate_max_months`), and nothing beyond
//! `max_months_per_participant`. Rounding happens once per place and month.

use crate::agreement::FrameworkAgreement;
use crate::calendar::{add_months, Month};
use crate::member::MemberCategory;
use crate::money::{round_half_up, Ore};
use crate::place::{Occupancy, ParticipantId};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// Which rate paid a run of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RateKind {
    /// Arbetsträning: the category's rate.
    Training,
    /// The member employs the participant.
    Employment,
    /// Filled, but past the agreement's cap of months per participant: unpaid.
    BeyondCap,
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

/// What one place earns in one month.
pub fn place_month(
    agreement: &FrameworkAgreement,
    category: MemberCategory,
    occupancy: &[Occupancy],
    month: Month,
) -> Result<PlaceMonth, RuleError> {
    let period = agreement.period();
    let terms = agreement.terms.as_ref();
    let mut segments: Vec<Segment> = Vec::new();
    let mut day = month.first_day();
    while day <= month.last_day() {
        let stay = occupancy.iter().find(|o| o.span().contains(day));
        if let (Some(stay), true) = (stay, period.is_some_and(|p| p.contains(day))) {
            let first_fill = occupancy.iter().filter(|o| o.participant == stay.participant).map(|o| o.from).min();
            let capped = terms
                .and_then(|t| t.max_months_per_participant)
                .zip(first_fill)
                .is_some_and(|(cap, first)| day >= add_months(first, cap));
            let employment_rate = agreement.rates_on(day).and_then(|r| r.employment);
            let employed = stay.employed_from.is_some_and(|from| {
                day >= from
                    && terms.and_then(|t| t.employment_rate_max_months).is_none_or(|max| day < add_months(from, max))
            });
            let (kind, rate) = if capped {
                (RateKind::BeyondCap, Ore::ZERO)
            } else if let (true, Some(rate)) = (employed, employment_rate) {
                (RateKind::Employment, rate)
            } else {
                let rate =
                    agreement.training_rate_on(day, category).ok_or(RuleError::CategoryNotAdmitted { date: day })?;
                (RateKind::Training, rate)
            };
            match segments.last_mut() {
                Some(last)
                    if last.kind == kind
                        && last.rate == rate
                        && last.participant == stay.participant
                        && last.to + Duration::days(1) == day =>
                {
                    last.to = day;
                    last.days += 1;
                }
                _ => segments.push(Segment {
                    participant: stay.participant.clone(),
                    from: day,
                    to: day,
                    days: 1,
                    kind,
                    rate,
                }),
            }
        }
        day += Duration::days(1);
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

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
