use super::*;
use crate::examples::{fruit_baskets, krokom_rate_cut, krokom_reserved, ostersund_work_training};
use cqrs_es::test::TestFramework;
use time::macros::date;

type AgreementTest = TestFramework<FrameworkAgreement>;

fn registered(terms: AgreementTerms) -> AgreementEvent {
    AgreementEvent::AgreementRegistered(terms)
}

#[test]
fn the_ostersund_agreement_is_registered_with_its_terms() {
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(ostersund_work_training()))
        .then_expect_events(vec![registered(ostersund_work_training())]);
}

#[test]
fn an_agreement_is_registered_only_once() {
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::Register(ostersund_work_training()))
        .then_expect_error(AgreementError::AlreadyRegistered);
}

#[test]
fn an_agreement_ending_before_it_starts_is_rejected() {
    let mut terms = ostersund_work_training();
    terms.period.end = Some(date!(2024 - 08 - 31));
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(terms))
        .then_expect_error(AgreementError::EndBeforeStart { start: date!(2024 - 09 - 01), end: date!(2024 - 08 - 31) });
}

#[test]
fn a_negative_rate_is_rejected() {
    let mut terms = ostersund_work_training();
    terms.rates.other_association = Some(Ore(-1));
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(terms))
        .then_expect_error(AgreementError::NegativeRate);
}

#[test]
fn an_agreement_without_buyer_reference_is_rejected() {
    let mut terms = ostersund_work_training();
    terms.buyer.reference = " ".into();
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(terms))
        .then_expect_error(AgreementError::BuyerReferenceMissing);
}

#[test]
fn a_training_place_agreement_needs_places_and_a_goods_agreement_has_none() {
    let mut terms = ostersund_work_training();
    terms.contracted_places = 0;
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(terms))
        .then_expect_error(AgreementError::NoPlaces);
    let mut goods = fruit_baskets();
    goods.contracted_places = 4;
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(goods))
        .then_expect_error(AgreementError::PlacesOnGoodsAgreement);
}

#[test]
fn a_vat_exemption_needs_a_reason() {
    let mut terms = ostersund_work_training();
    terms.vat = VatCategory::Exempt { reason: String::new() };
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(terms))
        .then_expect_error(AgreementError::ExemptionReasonMissing);
}

#[test]
fn the_krokom_rate_cut_applies_from_its_effective_date() {
    let (effective_from, rates) = krokom_rate_cut();
    AgreementTest::with(())
        .given(vec![registered(krokom_reserved())])
        .when(AgreementCommand::ChangeRates { effective_from, rates: rates.clone() })
        .then_expect_events(vec![AgreementEvent::RatesChanged { effective_from, rates: rates.clone() }]);

    let agreement = FrameworkAgreement::from_events([
        registered(krokom_reserved()),
        AgreementEvent::RatesChanged { effective_from, rates },
    ]);
    assert_eq!(agreement.training_rate_on(date!(2024 - 12 - 31), MemberCategory::Wise), Some(Ore(750_000)));
    assert_eq!(agreement.training_rate_on(date!(2025 - 01 - 01), MemberCategory::Wise), Some(Ore(300_000)));
    assert_eq!(agreement.training_rate_on(date!(2025 - 01 - 01), MemberCategory::OtherAssociation), None);
}

#[test]
fn a_rate_change_outside_the_period_is_rejected() {
    let (_, rates) = krokom_rate_cut();
    AgreementTest::with(())
        .given(vec![registered(krokom_reserved())])
        .when(AgreementCommand::ChangeRates { effective_from: date!(2019 - 12 - 31), rates })
        .then_expect_error(AgreementError::OutsidePeriod { date: date!(2019 - 12 - 31) });
}

#[test]
fn capacity_changes_from_a_date_and_is_zero_outside_the_period() {
    let mut agreement = FrameworkAgreement::default();
    agreement.apply(registered(ostersund_work_training()));
    agreement.apply(AgreementEvent::CapacityChanged { effective_from: date!(2025 - 09 - 01), places: 20 });
    assert_eq!(agreement.places_on(date!(2024 - 08 - 31)), 0);
    assert_eq!(agreement.places_on(date!(2025 - 08 - 31)), 13);
    assert_eq!(agreement.places_on(date!(2025 - 09 - 01)), 20);
    assert_eq!(agreement.places_on(date!(2027 - 09 - 01)), 0);
}

#[test]
fn a_goods_agreement_has_no_capacity_to_change() {
    AgreementTest::with(())
        .given(vec![registered(fruit_baskets())])
        .when(AgreementCommand::ChangeCapacity { effective_from: date!(2025 - 06 - 01), places: 3 })
        .then_expect_error(AgreementError::PlacesOnGoodsAgreement);
}

#[test]
fn an_extension_must_move_the_end_date_later() {
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::Extend { new_end: date!(2027 - 08 - 31) })
        .then_expect_error(AgreementError::ExtensionNotLater);
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::Extend { new_end: date!(2028 - 08 - 31) })
        .then_expect_events(vec![AgreementEvent::AgreementExtended { new_end: date!(2028 - 08 - 31) }]);
}

#[test]
fn a_terminated_agreement_ends_early_and_cannot_change() {
    let terminated =
        AgreementEvent::AgreementTerminated { last_day: date!(2025 - 12 - 31), reason: "Uppsägning".into() };
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training()), terminated.clone()])
        .when(AgreementCommand::Extend { new_end: date!(2028 - 08 - 31) })
        .then_expect_error(AgreementError::Terminated);

    let mut agreement = FrameworkAgreement::default();
    agreement.apply(registered(ostersund_work_training()));
    agreement.apply(terminated);
    assert_eq!(agreement.places_on(date!(2025 - 12 - 31)), 13);
    assert_eq!(agreement.places_on(date!(2026 - 01 - 01)), 0);
}

#[test]
fn a_termination_needs_a_reason_and_a_day_inside_the_period() {
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::Terminate { last_day: date!(2025 - 12 - 31), reason: "".into() })
        .then_expect_error(AgreementError::TerminationReasonMissing);
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::Terminate { last_day: date!(2030 - 01 - 01), reason: "Uppsägning".into() })
        .then_expect_error(AgreementError::OutsidePeriod { date: date!(2030 - 01 - 01) });
}

#[test]
fn a_zero_month_cap_is_rejected() {
    let mut terms = krokom_reserved();
    terms.max_months_per_participant = Some(0);
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(terms))
        .then_expect_error(AgreementError::ZeroMonthCap);
}
