use super::*;
use crate::agreement::{EmploymentRequirement, RateChange, MAX_REQUIRED_EMPLOYMENTS};
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
        .when(AgreementCommand::Register(Box::new(ostersund_work_training())))
        .then_expect_events(vec![registered(ostersund_work_training())]);
}

#[test]
fn an_agreement_is_registered_only_once() {
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::Register(Box::new(ostersund_work_training())))
        .then_expect_error(AgreementError::AlreadyRegistered);
}

#[test]
fn an_agreement_ending_before_it_starts_is_rejected() {
    let mut terms = ostersund_work_training();
    terms.period.end = Some(date!(2024 - 08 - 31));
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::EndBeforeStart { start: date!(2024 - 09 - 01), end: date!(2024 - 08 - 31) });
}

#[test]
fn a_negative_rate_is_rejected() {
    let mut terms = ostersund_work_training();
    terms.rates.other_association = Some(Ore(-1));
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::NegativeRate);
}

#[test]
fn an_agreement_without_buyer_reference_is_rejected() {
    let mut terms = ostersund_work_training();
    terms.buyer.reference = " ".into();
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::BuyerReferenceMissing);
}

#[test]
fn a_training_place_agreement_needs_places_and_a_goods_agreement_has_none() {
    let mut terms = ostersund_work_training();
    terms.contracted_places = 0;
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::NoPlaces);
    let mut goods = fruit_baskets();
    goods.contracted_places = 4;
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(goods)))
        .then_expect_error(AgreementError::PlacesOnGoodsAgreement);
}

#[test]
fn a_vat_exemption_needs_a_reason() {
    let mut terms = ostersund_work_training();
    terms.vat = VatCategory::Exempt { reason: String::new() };
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::ExemptionReasonMissing);
}

#[test]
fn the_krokom_rate_cut_applies_from_its_effective_date() {
    let (effective_from, rates) = krokom_rate_cut();
    AgreementTest::with(())
        .given(vec![registered(krokom_reserved())])
        .when(AgreementCommand::ChangeRates { effective_from, change: rates.clone().into() })
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
        .when(AgreementCommand::ChangeRates { effective_from: date!(2019 - 12 - 31), change: rates.into() })
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
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::ZeroMonthCap);
}

#[test]
fn a_rate_change_that_leaves_out_the_employment_rate_carries_it_forward() {
    let change = RateChange { wise: Some(Ore::kr(6_500)), ..RateChange::default() };
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::ChangeRates { effective_from: date!(2025 - 09 - 01), change })
        .then_expect_events(vec![AgreementEvent::RatesChanged {
            effective_from: date!(2025 - 09 - 01),
            rates: RateCard {
                wise: Ore::kr(6_500),
                other_association: Some(Ore::kr(4_000)),
                employment: Some(Ore::kr(12_000)),
            },
        }]);
}

#[test]
fn a_rate_change_may_end_the_employment_rate_explicitly() {
    let change = RateChange { employment: Some(None), ..RateChange::default() };
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::ChangeRates { effective_from: date!(2025 - 09 - 01), change })
        .then_expect_events(vec![AgreementEvent::RatesChanged {
            effective_from: date!(2025 - 09 - 01),
            rates: RateCard { wise: Ore::kr(6_000), other_association: Some(Ore::kr(4_000)), employment: None },
        }]);
}

#[test]
fn a_rate_above_a_million_kronor_a_month_is_refused() {
    let mut terms = ostersund_work_training();
    terms.rates.wise = Ore(i64::MAX);
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::RateTooHigh { max: MAX_MONTHLY_RATE });
    let change = RateChange { employment: Some(Some(Ore(100_000_001))), ..RateChange::default() };
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::ChangeRates { effective_from: date!(2025 - 09 - 01), change })
        .then_expect_error(AgreementError::RateTooHigh { max: MAX_MONTHLY_RATE });
}

#[test]
fn more_than_100_000_places_or_a_cap_above_600_months_is_refused() {
    let mut terms = ostersund_work_training();
    terms.contracted_places = 4_294_967_295;
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::TooManyPlaces { max: MAX_PLACES });
    let mut terms = krokom_reserved();
    terms.max_months_per_participant = Some(2_147_483_647);
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::CapTooLong { max: MAX_CAP_MONTHS });
    AgreementTest::with(())
        .given(vec![registered(ostersund_work_training())])
        .when(AgreementCommand::ChangeCapacity { effective_from: date!(2025 - 01 - 01), places: 100_001 })
        .then_expect_error(AgreementError::TooManyPlaces { max: MAX_PLACES });
}

#[test]
fn an_empty_contract_reference_is_refused() {
    let mut terms = ostersund_work_training();
    terms.contract_reference = "  ".into();
    AgreementTest::with(())
        .given_no_previous_events()
        .when(AgreementCommand::Register(Box::new(terms)))
        .then_expect_error(AgreementError::ContractReferenceMissing);
}

#[test]
fn a_skallkrav_is_registered_with_its_number_and_a_dialogkrav_without_one() {
    for requirement in [EmploymentRequirement::Mandatory { employments: 4 }, EmploymentRequirement::Dialogue] {
        let mut terms = ostersund_work_training();
        terms.employment_requirement = Some(requirement);
        AgreementTest::with(())
            .given_no_previous_events()
            .when(AgreementCommand::Register(Box::new(terms.clone())))
            .then_expect_events(vec![registered(terms)]);
    }
    assert_eq!(EmploymentRequirement::Dialogue.required(), 0);
}

#[test]
fn a_skallkrav_of_nothing_or_of_an_absurd_number_is_rejected() {
    let cases = [
        (0, AgreementError::NoEmploymentsRequired),
        (MAX_REQUIRED_EMPLOYMENTS + 1, AgreementError::TooManyEmploymentsRequired { max: MAX_REQUIRED_EMPLOYMENTS }),
    ];
    for (employments, error) in cases {
        let mut terms = ostersund_work_training();
        terms.employment_requirement = Some(EmploymentRequirement::Mandatory { employments });
        AgreementTest::with(())
            .given_no_previous_events()
            .when(AgreementCommand::Register(Box::new(terms)))
            .then_expect_error(error);
    }
}

#[test]
fn terms_stored_before_employment_requirements_decode_without_one() {
    let mut stored = serde_json::to_value(ostersund_work_training()).unwrap_or_default();
    if let Some(fields) = stored.as_object_mut() {
        fields.remove("employment_requirement");
    }
    let terms: AgreementTerms = serde_json::from_value(stored).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(terms.employment_requirement, None);
}
