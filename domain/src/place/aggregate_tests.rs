use super::*;
use cqrs_es::test::TestFramework;
use time::macros::date;

type PlaceTest = TestFramework<TrainingPlace>;

fn anna() -> ParticipantId {
    ParticipantId::parse("p-7f3a9c").unwrap_or_else(|e| panic!("{e}"))
}

fn bo() -> ParticipantId {
    ParticipantId::parse("p-20b4e1").unwrap_or_else(|e| panic!("{e}"))
}

fn allocation() -> DateRange {
    DateRange { start: date!(2024 - 09 - 01), end: Some(date!(2025 - 08 - 31)) }
}

fn opened() -> PlaceEvent {
    PlaceEvent::PlaceOpened {
        agreement_id: "ostersund".into(),
        member_id: "fyndet".into(),
        allocation_id: "fyndet-2024".into(),
        allocation_period: allocation(),
        opened_on: date!(2024 - 09 - 01),
    }
}

fn filled_by_anna() -> PlaceEvent {
    PlaceEvent::PlaceFilled { participant: anna(), from: date!(2024 - 09 - 11) }
}

fn open(opened_on: Date) -> PlaceCommand {
    PlaceCommand::Open {
        agreement_id: "ostersund".into(),
        member_id: "fyndet".into(),
        allocation_id: "fyndet-2024".into(),
        allocation_period: allocation(),
        opened_on,
    }
}

#[test]
fn a_place_is_opened_under_an_allocation() {
    PlaceTest::with(()).given_no_previous_events().when(open(date!(2024 - 09 - 01))).then_expect_events(vec![opened()]);
}

#[test]
fn a_place_cannot_open_outside_its_allocation() {
    PlaceTest::with(())
        .given_no_previous_events()
        .when(open(date!(2025 - 09 - 01)))
        .then_expect_error(PlaceError::OutsideAllocation { date: date!(2025 - 09 - 01) });
}

#[test]
fn a_stay_cannot_start_before_its_place_was_opened() {
    let opened_in_october = PlaceEvent::PlaceOpened {
        agreement_id: "ostersund".into(),
        member_id: "fyndet".into(),
        allocation_id: "fyndet-2024".into(),
        allocation_period: allocation(),
        opened_on: date!(2024 - 10 - 01),
    };
    PlaceTest::with(())
        .given(vec![opened_in_october])
        .when(PlaceCommand::Fill { participant: anna(), from: date!(2024 - 09 - 11) })
        .then_expect_error(PlaceError::BeforeOpened { date: date!(2024 - 09 - 11), opened_on: date!(2024 - 10 - 01) });
}

#[test]
fn a_place_cannot_close_before_its_last_stay_ended() {
    let vacated = PlaceEvent::PlaceVacated {
        participant: anna(),
        last_day: date!(2024 - 10 - 15),
        reason: ExitReason::Completed,
    };
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna(), vacated])
        .when(PlaceCommand::Close { closed_on: date!(2024 - 10 - 15) })
        .then_expect_error(PlaceError::ClosedDuringStay {
            closed_on: date!(2024 - 10 - 15),
            last_day: date!(2024 - 10 - 15),
        });
}

#[test]
fn a_participant_fills_a_place_from_a_date() {
    PlaceTest::with(())
        .given(vec![opened()])
        .when(PlaceCommand::Fill { participant: anna(), from: date!(2024 - 09 - 11) })
        .then_expect_events(vec![filled_by_anna()]);
}

#[test]
fn a_filled_place_cannot_be_filled_again() {
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Fill { participant: bo(), from: date!(2024 - 09 - 11) })
        .then_expect_error(PlaceError::AlreadyFilled { participant: anna() });
}

#[test]
fn a_place_cannot_be_filled_twice_on_the_same_day() {
    let vacated = PlaceEvent::PlaceVacated {
        participant: anna(),
        last_day: date!(2024 - 10 - 15),
        reason: ExitReason::EmploymentElsewhere,
    };
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna(), vacated.clone()])
        .when(PlaceCommand::Fill { participant: bo(), from: date!(2024 - 10 - 15) })
        .then_expect_error(PlaceError::OverlapsPreviousStay { last_day: date!(2024 - 10 - 15) });
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna(), vacated])
        .when(PlaceCommand::Fill { participant: bo(), from: date!(2024 - 10 - 16) })
        .then_expect_events(vec![PlaceEvent::PlaceFilled { participant: bo(), from: date!(2024 - 10 - 16) }]);
}

#[test]
fn a_place_cannot_be_filled_outside_its_allocation() {
    PlaceTest::with(())
        .given(vec![opened()])
        .when(PlaceCommand::Fill { participant: anna(), from: date!(2025 - 09 - 01) })
        .then_expect_error(PlaceError::OutsideAllocation { date: date!(2025 - 09 - 01) });
}

#[test]
fn an_empty_place_cannot_be_filled_before_it_is_opened() {
    PlaceTest::with(())
        .given_no_previous_events()
        .when(PlaceCommand::Fill { participant: anna(), from: date!(2024 - 09 - 11) })
        .then_expect_error(PlaceError::NotOpen);
}

#[test]
fn the_member_employs_the_participant_from_a_date() {
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Employ { from: date!(2025 - 03 - 01) })
        .then_expect_events(vec![PlaceEvent::ParticipantEmployed { participant: anna(), from: date!(2025 - 03 - 01) }]);
}

#[test]
fn employment_needs_a_participant_and_cannot_start_before_the_stay() {
    PlaceTest::with(())
        .given(vec![opened()])
        .when(PlaceCommand::Employ { from: date!(2025 - 03 - 01) })
        .then_expect_error(PlaceError::NotFilled);
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Employ { from: date!(2024 - 09 - 10) })
        .then_expect_error(PlaceError::BeforeFilled { date: date!(2024 - 09 - 10), from: date!(2024 - 09 - 11) });
    PlaceTest::with(())
        .given(vec![
            opened(),
            filled_by_anna(),
            PlaceEvent::ParticipantEmployed { participant: anna(), from: date!(2025 - 03 - 01) },
        ])
        .when(PlaceCommand::Employ { from: date!(2025 - 04 - 01) })
        .then_expect_error(PlaceError::AlreadyEmployed);
}

#[test]
fn a_participant_leaving_for_studies_is_recorded_with_the_outcome() {
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Vacate { last_day: date!(2025 - 01 - 31), reason: ExitReason::Studies })
        .then_expect_events(vec![PlaceEvent::PlaceVacated {
            participant: anna(),
            last_day: date!(2025 - 01 - 31),
            reason: ExitReason::Studies,
        }]);
}

#[test]
fn a_place_cannot_be_vacated_before_it_was_filled() {
    PlaceTest::with(())
        .given(vec![opened()])
        .when(PlaceCommand::Vacate { last_day: date!(2025 - 01 - 31), reason: ExitReason::Completed })
        .then_expect_error(PlaceError::NotFilled);
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Vacate { last_day: date!(2024 - 09 - 10), reason: ExitReason::EndedEarly })
        .then_expect_error(PlaceError::BeforeFilled { date: date!(2024 - 09 - 10), from: date!(2024 - 09 - 11) });
}

#[test]
fn a_filled_place_cannot_close_and_a_closed_place_takes_nothing() {
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Close { closed_on: date!(2025 - 01 - 31) })
        .then_expect_error(PlaceError::StillFilled);
    PlaceTest::with(())
        .given(vec![opened(), PlaceEvent::PlaceClosed { closed_on: date!(2024 - 12 - 31) }])
        .when(PlaceCommand::Fill { participant: anna(), from: date!(2025 - 01 - 02) })
        .then_expect_error(PlaceError::Closed);
}

#[test]
fn a_personnummer_is_refused_as_participant_id() {
    assert_eq!(ParticipantId::parse("19850312-1234"), Err(super::super::InvalidParticipantId::LooksLikePersonnummer));
    assert_eq!(ParticipantId::parse("8503121234"), Err(super::super::InvalidParticipantId::LooksLikePersonnummer));
    assert_eq!(ParticipantId::parse("Anna Andersson"), Err(super::super::InvalidParticipantId::Format));
    assert!(ParticipantId::parse("p-7f3a9c").is_ok());
}

#[test]
fn the_occupancy_history_keeps_every_stay() {
    let mut place = TrainingPlace::default();
    for event in [
        opened(),
        filled_by_anna(),
        PlaceEvent::ParticipantEmployed { participant: anna(), from: date!(2024 - 12 - 01) },
        PlaceEvent::PlaceVacated {
            participant: anna(),
            last_day: date!(2025 - 02 - 14),
            reason: ExitReason::Completed,
        },
        PlaceEvent::PlaceFilled { participant: bo(), from: date!(2025 - 02 - 17) },
    ] {
        place.apply(event);
    }
    assert_eq!(
        place.occupancy,
        vec![
            Occupancy {
                participant: anna(),
                from: date!(2024 - 09 - 11),
                to: Some(date!(2025 - 02 - 14)),
                employed_from: Some(date!(2024 - 12 - 01)),
                exit: Some(ExitReason::Completed),
            },
            Occupancy { participant: bo(), from: date!(2025 - 02 - 17), to: None, employed_from: None, exit: None },
        ]
    );
}

#[test]
fn a_participant_cannot_leave_before_their_employment_began() {
    PlaceTest::with(())
        .given(vec![
            opened(),
            filled_by_anna(),
            PlaceEvent::ParticipantEmployed { participant: anna(), from: date!(2025 - 03 - 17) },
        ])
        .when(PlaceCommand::Vacate { last_day: date!(2025 - 03 - 16), reason: ExitReason::EmploymentElsewhere })
        .then_expect_error(PlaceError::VacatedBeforeEmployed {
            last_day: date!(2025 - 03 - 16),
            employed_from: date!(2025 - 03 - 17),
        });
}

#[test]
fn a_stay_cannot_end_after_the_allocation_does() {
    PlaceTest::with(())
        .given(vec![opened(), filled_by_anna()])
        .when(PlaceCommand::Vacate { last_day: date!(2025 - 09 - 30), reason: ExitReason::Completed })
        .then_expect_error(PlaceError::OutsideAllocation { date: date!(2025 - 09 - 30) });
}
