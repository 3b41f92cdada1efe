use super::*;
use crate::agreement::{AgreementEvent, RateCard};
use crate::examples::{krokom_rate_cut, krokom_reserved, nordanstig_work_training, ostersund_work_training};
use crate::member::{Dated, MemberCategory};
use crate::money::Percent;
use crate::place::ExitReason;
use time::macros::date;

fn agreement(events: Vec<AgreementEvent>) -> FrameworkAgreement {
    FrameworkAgreement::from_events(events)
}

fn ostersund() -> FrameworkAgreement {
    agreement(vec![AgreementEvent::AgreementRegistered(ostersund_work_training())])
}

fn participant(id: &str) -> ParticipantId {
    ParticipantId::parse(id).unwrap_or_else(|e| panic!("{e}"))
}

fn stay(id: &str, from: Date, to: Option<Date>, employed_from: Option<Date>) -> Occupancy {
    Occupancy { participant: participant(id), from, to, employed_from, exit: to.map(|_| ExitReason::Completed) }
}

fn month(text: &str) -> Month {
    Month::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn member(category: MemberCategory) -> MemberStanding {
    MemberStanding::constant("fyndet", date!(2020 - 01 - 01), category, Percent::from_whole(45))
}

fn amount(agreement: &FrameworkAgreement, category: MemberCategory, occupancy: &[Occupancy], m: &str) -> PlaceMonth {
    place_month(agreement, &member(category), occupancy, month(m), &FirstDays::new()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_place_filled_from_the_11th_is_paid_20_of_30_days() {
    // November 2024 has 30 days; the 11th to the 30th are 20 days: 600 000 öre × 20 / 30 = 400 000 öre.
    let paid =
        amount(&ostersund(), MemberCategory::Wise, &[stay("p-anna", date!(2024 - 11 - 11), None, None)], "2024-11");
    assert_eq!((paid.days_filled, paid.days_in_month, paid.amount), (20, 30, Ore(400_000)));
}

#[test]
fn a_full_month_pays_the_whole_rate_and_an_association_the_lower_one() {
    let anna = [stay("p-anna", date!(2024 - 09 - 01), None, None)];
    assert_eq!(amount(&ostersund(), MemberCategory::Wise, &anna, "2025-02").amount, Ore(600_000));
    assert_eq!(amount(&ostersund(), MemberCategory::OtherAssociation, &anna, "2025-02").amount, Ore(400_000));
    let nordanstig = agreement(vec![AgreementEvent::AgreementRegistered(nordanstig_work_training())]);
    assert_eq!(amount(&nordanstig, MemberCategory::Wise, &anna, "2025-02").amount, Ore(500_000));
}

#[test]
fn an_empty_place_earns_nothing() {
    let paid = amount(&ostersund(), MemberCategory::Wise, &[], "2025-02");
    assert_eq!((paid.days_filled, paid.amount), (0, Ore::ZERO));
}

#[test]
fn a_place_vacated_and_refilled_is_paid_for_the_filled_days_only() {
    // Anna 1–14 November, Bo from the 17th: 14 + 14 = 28 of 30 days → 600 000 × 28 / 30 = 560 000 öre.
    let occupancy = [
        stay("p-anna", date!(2024 - 09 - 01), Some(date!(2024 - 11 - 14)), None),
        stay("p-bo", date!(2024 - 11 - 17), None, None),
    ];
    let paid = amount(&ostersund(), MemberCategory::Wise, &occupancy, "2024-11");
    assert_eq!((paid.days_filled, paid.segments.len(), paid.amount), (28, 2, Ore(560_000)));
}

#[test]
fn a_rate_change_mid_month_splits_the_month_by_days() {
    // Krokom 7 500 kr until the 15th of January 2025, 3 000 kr from the 16th (31 days):
    // (750 000 × 15 + 300 000 × 16) / 31 = 16 050 000 / 31 = 517 741,93… → 517 742 öre.
    let (_, cut) = krokom_rate_cut();
    let krokom = agreement(vec![
        AgreementEvent::AgreementRegistered(krokom_reserved()),
        AgreementEvent::RatesChanged { effective_from: date!(2025 - 01 - 16), rates: cut },
    ]);
    let paid = amount(&krokom, MemberCategory::Wise, &[stay("p-anna", date!(2024 - 12 - 01), None, None)], "2025-01");
    assert_eq!(
        paid.segments.iter().map(|s| (s.days, s.rate)).collect::<Vec<_>>(),
        vec![(15, Ore(750_000)), (16, Ore(300_000))]
    );
    assert_eq!(paid.amount, Ore(517_742));
}

#[test]
fn the_employment_rate_replaces_the_training_rate_from_the_day_of_employment() {
    // Östersund, March 2025 (31 days), employed from the 17th: 16 days at 6 000 kr, 15 at 12 000 kr:
    // (600 000 × 16 + 1 200 000 × 15) / 31 = 27 600 000 / 31 = 890 322,58… → 890 323 öre.
    let occupancy = [stay("p-anna", date!(2024 - 09 - 01), None, Some(date!(2025 - 03 - 17)))];
    let paid = amount(&ostersund(), MemberCategory::Wise, &occupancy, "2025-03");
    assert_eq!(
        paid.segments.iter().map(|s| (s.kind, s.days)).collect::<Vec<_>>(),
        vec![(RateKind::Training, 16), (RateKind::Employment, 15)]
    );
    assert_eq!(paid.amount, Ore(890_323));
}

#[test]
fn the_employment_rate_ends_after_its_maximum_months() {
    // Employed 2025-03-17, at most 6 months: the employment rate runs to 2025-09-16. September has
    // 30 days: (1 200 000 × 16 + 600 000 × 14) / 30 = 27 600 000 / 30 = 920 000 öre.
    let occupancy = [stay("p-anna", date!(2024 - 09 - 01), None, Some(date!(2025 - 03 - 17)))];
    let paid = amount(&ostersund(), MemberCategory::Wise, &occupancy, "2025-09");
    assert_eq!(
        paid.segments.iter().map(|s| (s.kind, s.days)).collect::<Vec<_>>(),
        vec![(RateKind::Employment, 16), (RateKind::Training, 14)]
    );
    assert_eq!(paid.amount, Ore(920_000));
}

#[test]
fn krokom_pays_7500_kr_for_at_most_3_months_and_nothing_in_the_4th() {
    let krokom = agreement(vec![AgreementEvent::AgreementRegistered(krokom_reserved())]);
    let occupancy = [stay("p-anna", date!(2024 - 10 - 01), None, None)];
    for m in ["2024-10", "2024-11", "2024-12"] {
        assert_eq!(amount(&krokom, MemberCategory::Wise, &occupancy, m).amount, Ore(750_000), "{m}");
    }
    let fourth = amount(&krokom, MemberCategory::Wise, &occupancy, "2025-01");
    assert_eq!((fourth.days_filled, fourth.amount), (31, Ore::ZERO));
    assert!(fourth.segments.iter().all(|s| s.kind == RateKind::BeyondCap));
}

#[test]
fn the_krokom_cap_counts_from_the_first_day_not_the_calendar_month() {
    // Filled from 2024-10-16: paid until 2025-01-15. January: 15 of 31 days at 7 500 kr
    // = 750 000 × 15 / 31 = 362 903,22… → 362 903 öre.
    let krokom = agreement(vec![AgreementEvent::AgreementRegistered(krokom_reserved())]);
    let occupancy = [stay("p-anna", date!(2024 - 10 - 16), None, None)];
    let january = amount(&krokom, MemberCategory::Wise, &occupancy, "2025-01");
    assert_eq!(january.amount, Ore(362_903));
    assert_eq!(january.days_filled, 31);
}

#[test]
fn days_outside_the_agreement_are_not_paid() {
    // The agreement starts 2024-09-01; a stay recorded from 2024-08-20 earns nothing in August.
    let paid =
        amount(&ostersund(), MemberCategory::Wise, &[stay("p-anna", date!(2024 - 08 - 20), None, None)], "2024-08");
    assert_eq!((paid.days_filled, paid.amount), (0, Ore::ZERO));
}

#[test]
fn a_category_the_agreement_does_not_admit_is_an_error() {
    let krokom = agreement(vec![AgreementEvent::AgreementRegistered(krokom_reserved())]);
    assert_eq!(
        place_month(
            &krokom,
            &member(MemberCategory::OtherAssociation),
            &[stay("p-anna", date!(2024 - 10 - 01), None, None)],
            month("2024-10"),
            &FirstDays::new()
        ),
        Err(RuleError::CategoryNotAdmitted { date: date!(2024 - 10 - 01) })
    );
}

#[test]
fn an_agreement_without_an_employment_rate_keeps_paying_the_training_rate() {
    let mut terms = ostersund_work_training();
    terms.rates = RateCard { employment: None, ..terms.rates };
    let plain = agreement(vec![AgreementEvent::AgreementRegistered(terms)]);
    let occupancy = [stay("p-anna", date!(2024 - 09 - 01), None, Some(date!(2025 - 03 - 17)))];
    assert_eq!(amount(&plain, MemberCategory::Wise, &occupancy, "2025-03").amount, Ore(600_000));
}

#[test]
fn nordanstig_pays_an_association_5000_kr_then_10000_kr_once_employed() {
    // April 2025 has 30 days; employed from the 16th: 15 days at 5 000 kr and 15 at 10 000 kr:
    // (500 000 × 15 + 1 000 000 × 15) / 30 = 22 500 000 / 30 = 750 000 öre.
    let nordanstig = agreement(vec![AgreementEvent::AgreementRegistered(nordanstig_work_training())]);
    let occupancy = [stay("p-anna", date!(2025 - 01 - 01), None, Some(date!(2025 - 04 - 16)))];
    let paid = amount(&nordanstig, MemberCategory::OtherAssociation, &occupancy, "2025-04");
    assert_eq!(
        paid.segments.iter().map(|s| (s.kind, s.days, s.rate)).collect::<Vec<_>>(),
        vec![(RateKind::Training, 15, Ore(500_000)), (RateKind::Employment, 15, Ore(1_000_000))]
    );
    assert_eq!(paid.amount, Ore(750_000));
}

#[test]
fn a_member_that_changes_category_on_1_october_is_paid_the_asf_rate_for_september() {
    let mut changed = member(MemberCategory::Wise);
    changed.categories.push(Dated { from: date!(2024 - 10 - 01), value: MemberCategory::OtherAssociation });
    let anna = [stay("p-anna", date!(2024 - 09 - 01), None, None)];
    let paid = |m: &str| {
        place_month(&ostersund(), &changed, &anna, month(m), &FirstDays::new()).unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(paid("2024-09").amount, Ore(600_000));
    assert_eq!(paid("2024-10").amount, Ore(400_000));
}

#[test]
fn a_category_change_mid_month_splits_the_month_by_days() {
    // November 2024: 15 days as ASF at 6 000 kr, 15 as association at 4 000 kr = 500 000 öre.
    let mut changed = member(MemberCategory::Wise);
    changed.categories.push(Dated { from: date!(2024 - 11 - 16), value: MemberCategory::OtherAssociation });
    let anna = [stay("p-anna", date!(2024 - 09 - 01), None, None)];
    let paid = place_month(&ostersund(), &changed, &anna, month("2024-11"), &FirstDays::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(paid.amount, Ore(500_000));
}

#[test]
fn a_member_that_lost_asf_status_is_still_paid_for_the_months_it_had_it() {
    let krokom = agreement(vec![AgreementEvent::AgreementRegistered(krokom_reserved())]);
    let mut changed = member(MemberCategory::Wise);
    changed.categories.push(Dated { from: date!(2024 - 11 - 01), value: MemberCategory::OtherAssociation });
    let david = [stay("p-david", date!(2024 - 10 - 16), None, None)];
    let october = place_month(&krokom, &changed, &david, month("2024-10"), &FirstDays::new());
    assert_eq!(october.map(|p| p.amount), Ok(Ore(387_097)));
    let november = place_month(&krokom, &changed, &david, month("2024-11"), &FirstDays::new());
    assert_eq!(november, Err(RuleError::CategoryNotAdmitted { date: date!(2024 - 11 - 01) }));
}

#[test]
fn the_months_cap_counts_from_the_first_day_on_the_agreement_not_on_this_place() {
    // Krokom pays at most 3 months. David came to the agreement on 16 October on another place and
    // moved to this one on 1 December: January is paid only until the 15th.
    let krokom = agreement(vec![AgreementEvent::AgreementRegistered(krokom_reserved())]);
    let david = [stay("p-david", date!(2024 - 12 - 01), None, None)];
    let first_days = FirstDays::from([(participant("p-david"), date!(2024 - 10 - 16))]);
    let paid = place_month(&krokom, &member(MemberCategory::Wise), &david, month("2025-01"), &first_days)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        paid.segments.iter().map(|s| (s.kind, s.days)).collect::<Vec<_>>(),
        vec![(RateKind::Training, 15), (RateKind::BeyondCap, 16)]
    );
}

#[test]
fn an_agreement_may_pay_nothing_after_the_employment_maximum() {
    // Östersund pays 12 000 kr for at most 6 months of employment; employed from 1 October 2024, the
    // maximum ends 31 March 2025. With `Unpaid`, April earns nothing; by default it earns 6 000 kr.
    let occupancy = [stay("p-bo", date!(2024 - 09 - 01), None, Some(date!(2024 - 10 - 01)))];
    assert_eq!(amount(&ostersund(), MemberCategory::Wise, &occupancy, "2025-04").amount, Ore(600_000));
    let mut terms = ostersund_work_training();
    terms.after_employment_maximum = AfterEmploymentMaximum::Unpaid;
    let unpaid = agreement(vec![AgreementEvent::AgreementRegistered(terms)]);
    let april = amount(&unpaid, MemberCategory::Wise, &occupancy, "2025-04");
    assert_eq!((april.amount, april.segments[0].kind), (Ore::ZERO, RateKind::BeyondEmploymentMaximum));
    assert_eq!(amount(&unpaid, MemberCategory::Wise, &occupancy, "2025-03").amount, Ore(1_200_000));
}
