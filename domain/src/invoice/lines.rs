//! Invoice lines from approved months: per member enterprise, month and rate, with the filled
//! place-days and the amount, so a municipality can check them against its own referrals without
//! seeing a participant.

use crate::calendar::Month;
use crate::delivery::DeliveryMonth;
use crate::money::{round_half_up, Ore};
use crate::reimbursement::rule::RateKind;
use crate::reimbursement::ReportFigures;
use serde::{Deserialize, Serialize};

/// What a line's quantity counts (UN/ECE recommendation 20 unit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineUnit {
    /// Filled place-days (`DAY`).
    PlaceDays,
    /// One delivery (`C62`, "one").
    Delivery,
}

impl LineUnit {
    pub fn code(self) -> &'static str {
        match self {
            LineUnit::PlaceDays => "DAY",
            LineUnit::Delivery => "C62",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub member_id: String,
    pub month: Month,
    /// What the buyer reads: member, rate and month, never a participant.
    pub description: String,
    pub quantity: u32,
    pub unit: LineUnit,
    pub amount: Ore,
    /// The price of one (a recorded delivery); `None`: the amount is the price of the whole quantity.
    #[serde(default)]
    pub unit_price: Option<Ore>,
}

/// The lines of one member's approved month. Each place's amount was rounded once; a place whose
/// month was paid at two rates shares its amount between them by days (half-up, the last rate takes
/// the remainder), so the lines add up to the month's total to the öre.
pub fn lines_for_month(member_id: &str, member_name: &str, month: Month, figures: &ReportFigures) -> Vec<InvoiceLine> {
    let mut groups: Vec<((RateKind, Ore), u32, Ore)> = Vec::new();
    for place in &figures.places {
        let mut shares: Vec<((RateKind, Ore), u32, i128)> = Vec::new();
        for segment in &place.month.segments {
            let key = (segment.kind, segment.rate);
            let weight = i128::from(segment.rate.0) * i128::from(segment.days);
            match shares.iter_mut().find(|(k, ..)| *k == key) {
                Some((_, days, w)) => {
                    *days += segment.days;
                    *w += weight;
                }
                None => shares.push((key, segment.days, weight)),
            }
        }
        let total_weight: i128 = shares.iter().map(|(_, _, w)| w).sum();
        let mut left = place.month.amount;
        let count = shares.len();
        for (index, (key, days, weight)) in shares.into_iter().enumerate() {
            let amount = match index + 1 == count || total_weight == 0 {
                true if index + 1 == count => left,
                true => Ore::ZERO,
                false => Ore(round_half_up(i128::from(place.month.amount.0) * weight, total_weight)),
            };
            left = left.checked_sub(amount).unwrap_or(Ore::ZERO);
            match groups.iter_mut().find(|(k, ..)| *k == key) {
                Some((_, d, a)) => {
                    *d += days;
                    *a = a.checked_add(amount).unwrap_or(*a);
                }
                None => groups.push((key, days, amount)),
            }
        }
    }
    let mut lines: Vec<InvoiceLine> = groups
        .into_iter()
        .filter(|(_, days, _)| *days > 0)
        .map(|((kind, rate), days, amount)| InvoiceLine {
            member_id: member_id.to_string(),
            month,
            description: format!("{member_name}: {} {}/mån, {}", kind_text(kind), kronor(rate), month_name(month)),
            quantity: days,
            unit: LineUnit::PlaceDays,
            amount,
            unit_price: None,
        })
        .collect();
    lines.extend(figures.deliveries.iter().map(|delivery| InvoiceLine {
        member_id: member_id.to_string(),
        month,
        description: format!("{member_name}: {}, {}", delivery.description, month_name(month)),
        quantity: 1,
        unit: LineUnit::Delivery,
        amount: delivery.amount,
        unit_price: None,
    }));
    lines
}

/// One line per recorded delivery of a goods-and-services month: what, on which day, by which member,
/// how many at what unit price.
pub fn lines_for_deliveries(deliveries: &DeliveryMonth, member_name: impl Fn(&str) -> String) -> Vec<InvoiceLine> {
    let Some(month) = deliveries.month else { return Vec::new() };
    deliveries
        .deliveries
        .iter()
        .map(|delivery| InvoiceLine {
            member_id: delivery.member_id.clone(),
            month,
            description: format!(
                "{}: {}, {}",
                member_name(&delivery.member_id),
                delivery.description,
                delivery.delivered_on
            ),
            quantity: delivery.quantity,
            unit: LineUnit::Delivery,
            amount: delivery.amount,
            unit_price: Some(delivery.unit_price),
        })
        .collect()
}

fn kind_text(kind: RateKind) -> &'static str {
    match kind {
        RateKind::Training => "arbetsträning à",
        RateKind::Employment => "anställning à",
        RateKind::BeyondCap => "utöver avtalets tak, obetalt, ordinarie",
        RateKind::BeyondEmploymentMaximum => "anställning utöver maxtiden, obetalt, ordinarie",
    }
}

/// `6 000 kr`, `7 512,50 kr`.
pub(crate) fn kronor(amount: Ore) -> String {
    let (whole, ore) = (amount.0 / 100, (amount.0 % 100).abs());
    let digits = whole.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let sign = if amount.is_negative() { "-" } else { "" };
    match ore {
        0 => format!("{sign}{grouped} kr"),
        _ => format!("{sign}{grouped},{ore:02} kr"),
    }
}

/// `november 2024`.
pub(crate) fn month_name(month: Month) -> String {
    const NAMES: [&str; 12] = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ];
    let first = month.first_day();
    let name = NAMES.get(usize::from(u8::from(first.month())) - 1).copied().unwrap_or("");
    format!("{name} {}", first.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kronor_are_grouped_by_thousands() {
        assert_eq!(kronor(Ore(600_000)), "6 000 kr");
        assert_eq!(kronor(Ore(751_250)), "7 512,50 kr");
        assert_eq!(kronor(Ore(120_000_000)), "1 200 000 kr");
        assert_eq!(month_name(Month::parse("2024-11").unwrap_or_else(|e| panic!("{e}"))), "november 2024");
    }
}
