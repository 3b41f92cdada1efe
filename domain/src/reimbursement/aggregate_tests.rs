use super::*;
use crate::agreement::{AgreementEvent, FrameworkAgreement};
use crate::examples::{fruit_baskets, ostersund_work_training};
use crate::member::{MemberCategory, MemberStanding};
use crate::money::Percent;
use crate::place::{Occupancy, ParticipantId};
use crate::reimbursement::commands::PlaceReport;
use crate::reimbursement::events::DeliveryLine;
use cqrs_es::test::TestFramework;
use time::macros::date;

type ReportTest = TestFramework<MonthlyReimbursement>;

fn agreement(terms: crate::agreement::AgreementTerms) -> FrameworkAgreement {
    FrameworkAgreement::from_events([AgreementEvent::AgreementRegistered(terms)])
}

fn november() -> Month {
    Month::parse("2024-11").unwrap_or_else(|e| panic!("{e}"))
}

fn stay(id: &str, from: Date, employed_from: Option<Date>) -> Occupancy {
    Occupancy {
        participant: ParticipantId::parse(id).unwrap_or_else(|e| panic!("{e}")),
        from,
        to: None,
        employed_from,
        exit: None,
    }
}

/// Fyndet's November 2024 at Östersund: one place filled from the 11th (20 of 30 days = 400 000 öre)
/// and one full month (600 000 öre).
fn input() -> ReportInput {
    ReportInput {
        agreement_id: "ostersund".into(),
        member_id: "fyndet".into(),
        month: november(),
        agreement: agreement(ostersund_work_training()),
        member: MemberStanding::constant(
            "fyndet",
            date!(2024 - 01 - 01),
            MemberCategory::Wise,
            Percent::from_whole(45),
        ),
        first_days: Default::default(),
        places: vec![
            PlaceReport {
                place_id: "place-1".into(),
                occupancy: vec![stay("p-anna", date!(2024 - 11 - 11), None)],
                allocation_period: allocation(),
            },
            PlaceReport {
                place_id: "place-2".into(),
                occupancy: vec![stay("p-bo", date!(2024 - 09 - 01), None)],
                allocation_period: allocation(),
            },
        ],
        deliveries: vec![],
        submitted_on: date!(2024 - 12 - 02),
    }
}

/// Fyndet's allocation: the whole Östersund agreement.
fn allocation() -> crate::calendar::DateRange {
    crate::calendar::DateRange { start: date!(2024 - 09 - 01), end: Some(date!(2027 - 08 - 31)) }
}

fn figures_of(event: &ReimbursementEvent) -> ReportFigures {
    match event {
        ReimbursementEvent::ReportSubmitted { figures, .. } | ReimbursementEvent::ReportCorrected { figures, .. } => {
            figures.clone()
        }
        other => panic!("no figures in {other:?}"),
    }
}

fn submitted() -> ReimbursementEvent {
    let events = ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(input()))
        .inspect_result()
        .unwrap_or_else(|e| panic!("{e}"));
    events.into_iter().next().unwrap_or_else(|| panic!("no event"))
}

#[test]
fn a_member_confirms_a_month_computed_from_its_places() {
    let figures = figures_of(&submitted());
    assert_eq!(figures.places.iter().map(|p| p.month.amount).collect::<Vec<_>>(), vec![Ore(400_000), Ore(600_000)]);
    // 1 000 000 öre; 5 % commission = 50 000 öre; the member is paid 950 000 öre.
    assert_eq!((figures.total, figures.commission, figures.payout), (Ore(1_000_000), Ore(50_000), Ore(950_000)));
}

#[test]
fn commission_is_rounded_half_up_once_per_member_and_month() {
    // One place employed from 17 March 2025: 890 323 öre (see the rule tests); 5 % = 44 516,15 → 44 516.
    let mut march = input();
    march.month = Month::parse("2025-03").unwrap_or_else(|e| panic!("{e}"));
    march.submitted_on = date!(2025 - 04 - 01);
    march.places = vec![PlaceReport {
        place_id: "place-1".into(),
        occupancy: vec![stay("p-anna", date!(2024 - 09 - 01), Some(date!(2025 - 03 - 17)))],
        allocation_period: allocation(),
    }];
    let events =
        ReportTest::with(()).given_no_previous_events().when(ReimbursementCommand::Submit(march)).inspect_result();
    let figures = figures_of(&events.unwrap_or_else(|e| panic!("{e}"))[0]);
    assert_eq!((figures.total, figures.commission, figures.payout), (Ore(890_323), Ore(44_516), Ore(845_807)));
}

#[test]
fn a_stay_left_open_after_its_allocation_ended_is_paid_only_until_that_end() {
    // The allocation ended 2024-11-20; Bo's place stayed filled. November pays 20 of 30 days:
    // 600 000 × 20 / 30 = 400 000 öre, instead of the full month.
    let mut ended = input();
    ended.places.truncate(2);
    ended.places.remove(0);
    ended.places[0].allocation_period.end = Some(date!(2024 - 11 - 20));
    let events =
        ReportTest::with(()).given_no_previous_events().when(ReimbursementCommand::Submit(ended)).inspect_result();
    let figures = figures_of(&events.unwrap_or_else(|e| panic!("{e}"))[0]);
    assert_eq!((figures.places[0].month.days_filled, figures.total), (20, Ore(400_000)));
}

#[test]
fn staff_approve_a_submitted_report() {
    ReportTest::with(())
        .given(vec![submitted()])
        .when(ReimbursementCommand::Approve { version: 1 })
        .then_expect_events(vec![ReimbursementEvent::ReportApproved { version: 1 }]);
}

#[test]
fn a_rejection_needs_a_reason_and_the_member_may_submit_again() {
    ReportTest::with(())
        .given(vec![submitted()])
        .when(ReimbursementCommand::Reject { version: 1, reason: "  ".into() })
        .then_expect_error(ReimbursementError::ReasonMissing);
    let rejected = ReimbursementEvent::ReportRejected { version: 1, reason: "Plats 2 var tom i november".into() };
    ReportTest::with(())
        .given(vec![submitted()])
        .when(ReimbursementCommand::Reject { version: 1, reason: "Plats 2 var tom i november".into() })
        .then_expect_events(vec![rejected.clone()]);
    let resubmitted = ReportTest::with(())
        .given(vec![submitted(), rejected])
        .when(ReimbursementCommand::Submit(input()))
        .inspect_result()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(resubmitted[0], ReimbursementEvent::ReportSubmitted { version: 2, .. }));
}

#[test]
fn a_submitted_report_waits_for_a_decision_before_another_submission() {
    ReportTest::with(())
        .given(vec![submitted()])
        .when(ReimbursementCommand::Submit(input()))
        .then_expect_error(ReimbursementError::AwaitingDecision);
}

#[test]
fn an_approved_report_is_corrected_as_a_new_version_and_keeps_the_approved_one() {
    let mut corrected_input = input();
    corrected_input.places.truncate(1);
    let events = ReportTest::with(())
        .given(vec![submitted(), ReimbursementEvent::ReportApproved { version: 1 }])
        .when(ReimbursementCommand::Correct(corrected_input))
        .inspect_result()
        .unwrap_or_else(|e| panic!("{e}"));
    let ReimbursementEvent::ReportCorrected { version, figures } = &events[0] else { panic!("{events:?}") };
    assert_eq!((*version, figures.total), (2, Ore(400_000)));

    let mut report = MonthlyReimbursement::default();
    for event in [submitted(), ReimbursementEvent::ReportApproved { version: 1 }, events[0].clone()] {
        report.apply(event);
    }
    assert_eq!(report.status, Some(ReportStatus::Submitted));
    assert_eq!(report.approved.iter().map(|a| (a.version, a.total)).collect::<Vec<_>>(), vec![(1, Ore(1_000_000))]);
}

#[test]
fn an_approved_report_is_not_submitted_again() {
    ReportTest::with(())
        .given(vec![submitted(), ReimbursementEvent::ReportApproved { version: 1 }])
        .when(ReimbursementCommand::Submit(input()))
        .then_expect_error(ReimbursementError::AlreadyApproved);
}

#[test]
fn only_an_approved_report_is_corrected_or_invoiced() {
    ReportTest::with(())
        .given(vec![submitted()])
        .when(ReimbursementCommand::Correct(input()))
        .then_expect_error(ReimbursementError::NotApproved);
    ReportTest::with(())
        .given(vec![submitted()])
        .when(ReimbursementCommand::MarkInvoiced { invoice_id: "2024-0001".into() })
        .then_expect_error(ReimbursementError::NotApproved);
    ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Approve { version: 1 })
        .then_expect_error(ReimbursementError::NotSubmitted);
}

fn invoiced() -> Vec<ReimbursementEvent> {
    vec![
        submitted(),
        ReimbursementEvent::ReportApproved { version: 1 },
        ReimbursementEvent::ReportInvoiced { version: 1, invoice_id: "2024-0001".into() },
    ]
}

#[test]
fn a_report_for_an_invoiced_month_is_rejected() {
    ReportTest::with(())
        .given(invoiced())
        .when(ReimbursementCommand::Correct(input()))
        .then_expect_error(ReimbursementError::AlreadyInvoiced);
    ReportTest::with(())
        .given(invoiced())
        .when(ReimbursementCommand::Submit(input()))
        .then_expect_error(ReimbursementError::AlreadyInvoiced);
    ReportTest::with(())
        .given(invoiced())
        .when(ReimbursementCommand::Approve { version: 1 })
        .then_expect_error(ReimbursementError::AlreadyInvoiced);
    ReportTest::with(())
        .given(invoiced())
        .when(ReimbursementCommand::MarkInvoiced { invoice_id: "2024-0002".into() })
        .then_expect_error(ReimbursementError::AlreadyInvoiced);
}

#[test]
fn a_month_is_reported_only_after_it_ends() {
    let mut early = input();
    early.submitted_on = date!(2024 - 11 - 30);
    ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(early))
        .then_expect_error(ReimbursementError::MonthNotOver { month: november(), last_day: date!(2024 - 11 - 30) });
}

#[test]
fn a_month_outside_the_agreement_is_rejected() {
    let mut before = input();
    before.month = Month::parse("2024-08").unwrap_or_else(|e| panic!("{e}"));
    ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(before.clone()))
        .then_expect_error(ReimbursementError::MonthOutsideAgreement { month: before.month });
}

#[test]
fn a_report_cannot_be_moved_to_another_member_or_month() {
    let mut other = input();
    other.member_id = "cafe".into();
    ReportTest::with(())
        .given(vec![submitted(), ReimbursementEvent::ReportRejected { version: 1, reason: "fel".into() }])
        .when(ReimbursementCommand::Submit(other))
        .then_expect_error(ReimbursementError::ReportMismatch);
}

#[test]
fn deliveries_are_reported_on_goods_agreements_and_places_on_training_agreements() {
    let mut deliveries_on_training = input();
    deliveries_on_training.deliveries = vec![DeliveryLine { description: "Fruktkorgar".into(), amount: Ore(100) }];
    ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(deliveries_on_training))
        .then_expect_error(ReimbursementError::DeliveriesOnTrainingAgreement);

    let mut fruit = input();
    fruit.month = Month::parse("2025-02").unwrap_or_else(|e| panic!("{e}"));
    fruit.submitted_on = date!(2025 - 03 - 03);
    fruit.agreement = agreement(fruit_baskets());
    fruit.places = vec![];
    // February's packing: 1 200 baskets at 95 kr = 114 000 kr; 5 % commission = 5 700 kr.
    fruit.deliveries =
        vec![DeliveryLine { description: "Packning, 1 200 fruktkorgar".into(), amount: Ore::kr(114_000) }];
    let events = ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(fruit.clone()))
        .inspect_result();
    let figures = figures_of(&events.unwrap_or_else(|e| panic!("{e}"))[0]);
    assert_eq!((figures.total, figures.commission, figures.payout), (Ore(11_400_000), Ore(570_000), Ore(10_830_000)));

    fruit.deliveries[0].amount = Ore(-1);
    ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(fruit))
        .then_expect_error(ReimbursementError::InvalidDelivery);
}

fn fruit_february(amounts: &[Ore]) -> ReportInput {
    let mut fruit = input();
    fruit.month = Month::parse("2025-02").unwrap_or_else(|e| panic!("{e}"));
    fruit.submitted_on = date!(2025 - 03 - 03);
    fruit.agreement = agreement(fruit_baskets());
    fruit.places = vec![];
    fruit.deliveries =
        amounts.iter().map(|amount| DeliveryLine { description: "Packning".into(), amount: *amount }).collect();
    fruit
}

#[test]
fn a_commission_of_exactly_half_an_ore_rounds_up() {
    // 5 % of 400 010 öre = 20 000,5 öre → 20 001 öre (truncation would give 20 000).
    let events = ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(fruit_february(&[Ore(400_010)])))
        .inspect_result();
    let figures = figures_of(&events.unwrap_or_else(|e| panic!("{e}"))[0]);
    assert_eq!((figures.total, figures.commission, figures.payout), (Ore(400_010), Ore(20_001), Ore(380_009)));
}

#[test]
fn a_delivery_too_large_to_be_real_is_refused_instead_of_overflowing() {
    ReportTest::with(())
        .given_no_previous_events()
        .when(ReimbursementCommand::Submit(fruit_february(&[Ore(i64::MAX), Ore(1)])))
        .then_expect_error(ReimbursementError::DeliveryTooLarge { max: MAX_DELIVERY });
}

#[test]
fn an_approval_of_a_version_the_member_has_replaced_is_refused() {
    let rejected = ReimbursementEvent::ReportRejected { version: 1, reason: "Fel datum".into() };
    let resubmitted = match submitted() {
        ReimbursementEvent::ReportSubmitted { agreement_id, member_id, month, figures, .. } => {
            ReimbursementEvent::ReportSubmitted { agreement_id, member_id, month, version: 2, figures }
        }
        other => panic!("{other:?}"),
    };
    ReportTest::with(())
        .given(vec![submitted(), rejected, resubmitted])
        .when(ReimbursementCommand::Approve { version: 1 })
        .then_expect_error(ReimbursementError::StaleVersion { seen: 1, current: 2 });
}

#[test]
fn a_credited_month_reopens_and_can_be_corrected_again() {
    let mut reopened = invoiced();
    reopened.push(ReimbursementEvent::ReportReopened { version: 1, credit_note: "K2024-00001".into() });
    ReportTest::with(())
        .given(invoiced())
        .when(ReimbursementCommand::Reopen { credit_note: "K2024-00001".into() })
        .then_expect_events(vec![ReimbursementEvent::ReportReopened { version: 1, credit_note: "K2024-00001".into() }]);
    ReportTest::with(())
        .given(reopened)
        .when(ReimbursementCommand::MarkInvoiced { invoice_id: "2024-0002".into() })
        .then_expect_events(vec![ReimbursementEvent::ReportInvoiced { version: 1, invoice_id: "2024-0002".into() }]);
    ReportTest::with(())
        .given(vec![submitted(), ReimbursementEvent::ReportApproved { version: 1 }])
        .when(ReimbursementCommand::Reopen { credit_note: "K2024-00001".into() })
        .then_expect_error(ReimbursementError::NotInvoiced);
}
