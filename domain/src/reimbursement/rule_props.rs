//! Properties of the reimbursement rule over the example agreements, random rate changes, member
//! categories, stays and months.

use super::*;
use crate::agreement::{AgreementEvent, RateCard};
use crate::calendar::DateRange;
use crate::examples::{krokom_rate_cut, krokom_reserved, nordanstig_work_training, ostersund_work_training};
use crate::member::MemberCategory;
use crate::money::Percent;
use crate::place::ExitReason;
use cqrs_es::Aggregate;
use proptest::prelude::*;
use proptest::sample::Index;
use time::macros::date;
use time::Duration;

/// Stays are drawn inside these three years, which all example agreements overlap.
const WINDOW_START: Date = date!(2024 - 09 - 01);
const WINDOW_END: Date = date!(2027 - 08 - 31);
const PEOPLE: [&str; 3] = ["p-anna", "p-bo", "p-cecilia"];

#[derive(Debug, Clone, Copy)]
enum Example {
    Ostersund,
    Nordanstig,
    Krokom,
    /// Krokom with its real cut to 3 000 kr from 2025-01-01.
    KrokomCut,
}

/// A random rate card for [`AgreementEvent::RatesChanged`], effective `shift` days from the first day
/// of the month under test (clamped to the agreement period and the window), so that it often falls
/// inside the month.
#[derive(Debug, Clone)]
struct RandomChange {
    shift: i64,
    rates: RateCard,
}

/// One stay as drawn: the gap after the previous one (or the anchor), its length in days, who it is,
/// and where in the stay employment starts, if it does.
#[derive(Debug, Clone)]
struct RawStay {
    gap: i64,
    days: i64,
    who: usize,
    employed: Option<Index>,
}

/// The inputs every property draws from. Built at run time so the month can depend on the agreement
/// and the stays on the month.
#[derive(Debug, Clone)]
struct Case {
    example: Example,
    change: Option<RandomChange>,
    category: MemberCategory,
    month: Index,
    /// How many days before the month's first day the first stay may start.
    anchor_back: i64,
    stays: Vec<RawStay>,
    /// Whether the last stay is still running (`to: None`).
    open_end: bool,
}

/// A case with its agreement, month and occupancy.
struct Built {
    agreement: FrameworkAgreement,
    member: MemberStanding,
    month: Month,
    occupancy: Vec<Occupancy>,
}

fn rate() -> impl Strategy<Value = Ore> {
    prop_oneof![Just(Ore::ZERO), Just(Ore(100_000_000)), (0_i64..=100_000_000).prop_map(Ore)]
}

fn rate_card() -> impl Strategy<Value = RateCard> {
    (rate(), prop::option::weighted(0.8, rate()), prop::option::weighted(0.7, rate()))
        .prop_map(|(wise, other_association, employment)| RateCard { wise, other_association, employment })
}

fn example() -> impl Strategy<Value = Example> {
    prop_oneof![Just(Example::Ostersund), Just(Example::Nordanstig), Just(Example::Krokom), Just(Example::KrokomCut)]
}

fn category() -> impl Strategy<Value = MemberCategory> {
    prop_oneof![Just(MemberCategory::Wise), Just(MemberCategory::OtherAssociation)]
}

fn change() -> impl Strategy<Value = Option<RandomChange>> {
    changed_within(-40_i64..=70)
}

fn changed_within(shifts: impl Strategy<Value = i64>) -> impl Strategy<Value = Option<RandomChange>> {
    prop::option::of((shifts, rate_card()).prop_map(|(shift, rates)| RandomChange { shift, rates }))
}

fn raw_stay() -> impl Strategy<Value = RawStay> {
    (prop_oneof![0_i64..=3, 0_i64..=40], prop_oneof![1_i64..=40, 1_i64..=400], 0..PEOPLE.len(), any::<Option<Index>>())
        .prop_map(|(gap, days, who, employed)| RawStay { gap, days, who, employed })
}

fn case() -> impl Strategy<Value = Case> {
    (
        example(),
        change(),
        category(),
        any::<Index>(),
        prop_oneof![0_i64..=40, 0_i64..=400],
        prop::collection::vec(raw_stay(), 1..=3),
        any::<bool>(),
    )
        .prop_map(|(example, change, category, month, anchor_back, stays, open_end)| Case {
            example,
            change,
            category,
            month,
            anchor_back,
            stays,
            open_end,
        })
}

fn days(from: Date, n: i64) -> Date {
    from.checked_add(Duration::days(n)).unwrap_or_else(|| panic!("{from} + {n} days is off the calendar"))
}

fn participant(id: &str) -> ParticipantId {
    ParticipantId::parse(id).unwrap_or_else(|e| panic!("{e}"))
}

fn month_of(text: &str) -> Month {
    Month::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Every day of a month.
fn days_of(month: Month) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(month.first_day()), move |d| d.next_day().filter(|n| *n <= month.last_day()))
}

/// The months of the window that overlap the agreement's period.
fn months_in_period(agreement: &FrameworkAgreement) -> Vec<Month> {
    let period = agreement.period().unwrap_or_else(|| panic!("the example agreements are registered"));
    let mut months = Vec::new();
    let mut month = Month::of(WINDOW_START);
    while month.first_day() <= WINDOW_END {
        if period.intersect(&month.as_range()).is_some() {
            months.push(month);
        }
        month = month.next();
    }
    months
}

impl Case {
    fn build(&self) -> Built {
        let mut agreement =
            FrameworkAgreement::from_events([AgreementEvent::AgreementRegistered(match self.example {
                Example::Ostersund => ostersund_work_training(),
                Example::Nordanstig => nordanstig_work_training(),
                Example::Krokom | Example::KrokomCut => krokom_reserved(),
            })]);
        if let Example::KrokomCut = self.example {
            let (effective_from, rates) = krokom_rate_cut();
            agreement.apply(AgreementEvent::RatesChanged { effective_from, rates });
        }
        let months = months_in_period(&agreement);
        let month = *self.month.get(&months);
        if let Some(change) = &self.change {
            let period = agreement.period().unwrap_or_else(|| panic!("registered"));
            let latest = period.end.unwrap_or(WINDOW_END).min(WINDOW_END);
            let effective_from = days(month.first_day(), change.shift).clamp(period.start.max(WINDOW_START), latest);
            agreement.apply(AgreementEvent::RatesChanged { effective_from, rates: change.rates.clone() });
        }
        let member = MemberStanding::constant("fyndet", date!(2020 - 01 - 01), self.category, Percent::from_whole(45));
        let mut occupancy: Vec<Occupancy> = Vec::new();
        let mut next = days(month.first_day(), -self.anchor_back).max(WINDOW_START);
        for raw in &self.stays {
            let from = days(next, raw.gap);
            if from > WINDOW_END {
                break;
            }
            let to = days(from, raw.days - 1).min(WINDOW_END);
            let length = usize::try_from((to - from).whole_days() + 1).unwrap_or(1);
            let employed_from =
                raw.employed.map(|at| days(from, i64::try_from(at.index(length)).unwrap_or_else(|e| panic!("{e}"))));
            occupancy.push(Occupancy {
                participant: participant(PEOPLE[raw.who]),
                from,
                to: Some(to),
                employed_from,
                exit: Some(ExitReason::Completed),
            });
            next = days(to, 1);
        }
        if let Some(last) = occupancy.last_mut().filter(|_| self.open_end) {
            last.to = None;
            last.exit = None;
        }
        Built { agreement, member, month, occupancy }
    }
}

impl Built {
    fn pay(&self, occupancy: &[Occupancy], first_days: &FirstDays) -> Result<PlaceMonth, RuleError> {
        place_month(&self.agreement, &self.member, occupancy, self.month, first_days)
    }

    /// The highest monthly rate any day of the month could take: the maximum over the rate cards in
    /// force during the month of the ASF, association and employment rates.
    fn highest_rate(&self) -> Ore {
        days_of(self.month)
            .filter_map(|day| self.agreement.rates_on(day))
            .flat_map(|card| [Some(card.wise), card.other_association, card.employment])
            .flatten()
            .max()
            .unwrap_or(Ore::ZERO)
    }

    /// The days of the month a stay covers inside the agreement period.
    fn filled_days(&self) -> u32 {
        let period = self.agreement.period().unwrap_or_else(|| panic!("registered"));
        let filled = days_of(self.month)
            .filter(|d| period.contains(*d) && self.occupancy.iter().any(|o| o.span().contains(*d)))
            .count();
        u32::try_from(filled).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Each participant's first day on this place, as the caller would pass it.
    fn first_days(&self) -> FirstDays {
        let mut first_days = FirstDays::new();
        for stay in &self.occupancy {
            let first = first_days.entry(stay.participant.clone()).or_insert(stay.from);
            *first = (*first).min(stay.from);
        }
        first_days
    }

    /// A refusal names a filled day of the month on which the member's category has no training rate.
    fn check_refusal(&self, error: &RuleError) -> Result<(), TestCaseError> {
        let RuleError::CategoryNotAdmitted { date } = *error;
        prop_assert_eq!(Month::of(date), self.month);
        prop_assert!(self.occupancy.iter().any(|o| o.span().contains(date)));
        prop_assert_eq!(self.agreement.training_rate_on(date, self.member.category_on(date)), None);
        Ok(())
    }
}

proptest! {
    #[test]
    fn a_months_pay_never_exceeds_the_highest_rate_for_its_filled_days(case in case()) {
        let built = case.build();
        let paid = match built.pay(&built.occupancy, &FirstDays::new()) {
            Ok(paid) => paid,
            Err(error) => return built.check_refusal(&error),
        };
        let days_in_month = i128::from(built.month.days());
        prop_assert_eq!(paid.days_in_month, built.month.days());
        prop_assert_eq!(paid.days_filled, built.filled_days());
        prop_assert_eq!(paid.segments.iter().map(|s| s.days).sum::<u32>(), paid.days_filled);
        prop_assert!(paid.amount >= Ore::ZERO, "negative pay {:?}", paid.amount);
        // amount ≤ highest × filled / days_in_month + 1, multiplied out to stay exact.
        let ceiling = i128::from(built.highest_rate().0) * i128::from(paid.days_filled) + days_in_month;
        prop_assert!(
            i128::from(paid.amount.0) * days_in_month <= ceiling,
            "{:?} for {} of {} days, highest rate {:?}",
            paid.amount,
            paid.days_filled,
            days_in_month,
            built.highest_rate()
        );
    }

    /// The months cap and the employment maximum count from the participant's first day and the start
    /// of employment: both halves keep the participant and `employed_from`, and `first_days` holds
    /// the original first day, so the caps are unchanged and every agreement can be used.
    #[test]
    fn splitting_a_stay_in_two_changes_a_months_pay_by_at_most_one_ore(
        case in case(),
        which in any::<Index>(),
        at in any::<Index>(),
        near_the_month in any::<bool>(),
    ) {
        let built = case.build();
        prop_assume!(!built.occupancy.is_empty(), "no stay starts inside the window");
        let stay = which.get(&built.occupancy).clone();
        // The stay can end on any day from its first to the day before its last.
        let last_split = stay.to.map_or(WINDOW_END, |to| days(to, -1));
        prop_assume!(stay.from <= last_split, "a one-day stay cannot be split");
        let whole = DateRange { start: stay.from, end: Some(last_split) };
        let near = DateRange { start: days(built.month.first_day(), -1), end: Some(built.month.last_day()) };
        let range = whole.intersect(&near).filter(|_| near_the_month).unwrap_or(whole);
        let span = range.days().unwrap_or(1);
        let split = days(range.start, i64::try_from(at.index(usize::try_from(span).unwrap_or(1))).unwrap_or(0));
        let first_half = Occupancy { to: Some(split), exit: None, ..stay.clone() };
        let second_half = Occupancy { from: days(split, 1), ..stay.clone() };
        let split_occupancy: Vec<Occupancy> = built
            .occupancy
            .iter()
            .flat_map(|o| if *o == stay { vec![first_half.clone(), second_half.clone()] } else { vec![o.clone()] })
            .collect();
        let first_days = built.first_days();
        let before = built.pay(&built.occupancy, &first_days);
        let after = built.pay(&split_occupancy, &first_days);
        match (before, after) {
            (Ok(before), Ok(after)) => {
                prop_assert_eq!(before.days_filled, after.days_filled);
                prop_assert!(
                    (before.amount.0 - after.amount.0).abs() <= 1,
                    "split on {}: {:?} became {:?}",
                    split,
                    before.amount,
                    after.amount
                );
            }
            (before, after) => prop_assert_eq!(before, after),
        }
    }

    #[test]
    fn the_pay_is_the_same_whatever_the_order_of_the_stays(
        case in case(),
        order in Just(vec![0_usize, 1, 2]).prop_shuffle(),
    ) {
        let built = case.build();
        let reordered: Vec<Occupancy> =
            order.iter().filter_map(|i| built.occupancy.get(*i)).cloned().collect();
        prop_assert_eq!(reordered.len(), built.occupancy.len());
        let once = built.pay(&built.occupancy, &FirstDays::new());
        prop_assert_eq!(&once, &built.pay(&built.occupancy, &FirstDays::new()));
        prop_assert_eq!(&once, &built.pay(&reordered, &FirstDays::new()));
        let first_days = built.first_days();
        prop_assert_eq!(built.pay(&built.occupancy, &first_days), built.pay(&reordered, &first_days));
    }

    #[test]
    fn a_whole_month_at_a_constant_rate_is_paid_exactly_that_rate(
        example in example(),
        // On or before the month's first day, or after its last (the 31st day after the 1st always is).
        change in changed_within(prop_oneof![-40_i64..=0, 31_i64..=70]),
        category in category(),
        month in any::<Index>(),
        // At most 50 days before the month, so that Krokom's 3 months (at least 89 days) run past it.
        arrived_before in prop_oneof![0_i64..=5, 0_i64..=50],
        stays_after in prop::option::of(0_i64..=60),
    ) {
        let case = Case { example, change, category, month, anchor_back: 0, stays: Vec::new(), open_end: false };
        let built = case.build();
        let (first, last) = (built.month.first_day(), built.month.last_day());
        let period = built.agreement.period().unwrap_or_else(|| panic!("registered"));
        prop_assume!(period.contains(first) && period.contains(last), "the month is partly outside the agreement");
        prop_assume!(
            built.agreement.rate_history.iter().all(|v| v.effective_from <= first || v.effective_from > last),
            "the rates change during the month"
        );
        let from = days(first, -arrived_before);
        let cap = built.agreement.terms.as_ref().and_then(|t| t.max_months_per_participant);
        prop_assume!(cap.is_none_or(|cap| add_months(from, cap) > last), "the cap is reached");
        let stay = Occupancy {
            participant: participant("p-anna"),
            from,
            to: stays_after.map(|n| days(last, n)),
            employed_from: None,
            exit: None,
        };
        let paid = built.pay(&[stay], &FirstDays::new());
        match built.agreement.training_rate_on(first, category) {
            None => prop_assert_eq!(paid, Err(RuleError::CategoryNotAdmitted { date: first })),
            Some(rate) => {
                let paid = paid.unwrap_or_else(|e| panic!("{e}"));
                prop_assert_eq!((paid.days_filled, paid.amount), (u32::from(built.month.days()), rate));
            }
        }
    }
}

#[test]
fn the_months_in_the_window_are_those_of_the_agreement_period() {
    // Nordanstig starts 2025-01-01, Östersund covers the window exactly.
    let nordanstig = FrameworkAgreement::from_events([AgreementEvent::AgreementRegistered(nordanstig_work_training())]);
    let months = months_in_period(&nordanstig);
    assert_eq!(
        (months.first(), months.last(), months.len()),
        (Some(&month_of("2025-01")), Some(&month_of("2027-08")), 32)
    );
    let ostersund = FrameworkAgreement::from_events([AgreementEvent::AgreementRegistered(ostersund_work_training())]);
    assert_eq!(months_in_period(&ostersund).len(), 36);
}
