use super::*;
use cqrs_es::test::TestFramework;
use time::macros::date;

type ParticipantTest = TestFramework<Participant>;

fn sealed() -> Sealed {
    Sealed { nonce: "bm9uY2U=".into(), ciphertext: "c2VhbGVk".into() }
}

fn registered() -> ParticipantEvent {
    ParticipantEvent::ParticipantRegistered {
        gender: Gender::Woman,
        target_group: TargetGroup::RegisteredTwelveMonths,
        registered_by: Some("fyndet".into()),
        registered_on: date!(2024 - 10 - 01),
        personal: sealed(),
    }
}

fn erased() -> ParticipantEvent {
    ParticipantEvent::ParticipantErased { reason: ErasureReason::Objection, on: date!(2025 - 01 - 10) }
}

fn taken(place: &str, agreement: &str, from: Date) -> ParticipantEvent {
    ParticipantEvent::PlaceTaken {
        place_id: place.into(),
        agreement_id: agreement.into(),
        member_id: "fyndet".into(),
        from,
    }
}

fn take(place: &str, from: Date) -> ParticipantCommand {
    ParticipantCommand::TakePlace {
        place_id: place.into(),
        agreement_id: "krokom".into(),
        member_id: "fyndet".into(),
        from,
    }
}

#[test]
fn a_participant_takes_a_place() {
    ParticipantTest::with(())
        .given(vec![registered()])
        .when(take("p1", date!(2024 - 10 - 16)))
        .then_expect_events(vec![taken("p1", "krokom", date!(2024 - 10 - 16))]);
}

#[test]
fn a_participant_holds_one_place_at_a_time() {
    ParticipantTest::with(())
        .given(vec![registered(), taken("p1", "krokom", date!(2024 - 10 - 16))])
        .when(take("p2", date!(2024 - 11 - 01)))
        .then_expect_error(ParticipantError::AlreadyOnAPlace { place_id: "p1".into(), from: date!(2024 - 10 - 16) });
}

#[test]
fn a_new_place_starts_the_day_after_the_last_one_ended() {
    let left = ParticipantEvent::PlaceLeft { place_id: "p1".into(), last_day: date!(2024 - 10 - 31) };
    ParticipantTest::with(())
        .given(vec![registered(), taken("p1", "krokom", date!(2024 - 10 - 16)), left.clone()])
        .when(take("p2", date!(2024 - 10 - 31)))
        .then_expect_error(ParticipantError::OverlapsEarlierStay {
            place_id: "p1".into(),
            last_day: date!(2024 - 10 - 31),
        });
    ParticipantTest::with(())
        .given(vec![registered(), taken("p1", "krokom", date!(2024 - 10 - 16)), left])
        .when(take("p2", date!(2024 - 11 - 01)))
        .then_expect_events(vec![taken("p2", "krokom", date!(2024 - 11 - 01))]);
}

#[test]
fn a_participant_leaves_only_a_place_they_hold() {
    ParticipantTest::with(())
        .given(vec![registered(), taken("p1", "krokom", date!(2024 - 10 - 16))])
        .when(ParticipantCommand::LeavePlace { place_id: "p2".into(), last_day: date!(2024 - 10 - 31) })
        .then_expect_error(ParticipantError::NotOnThisPlace);
}

#[test]
fn the_months_cap_counts_from_the_first_day_in_the_agreement_across_places() {
    let mut participant = Participant::default();
    for event in [
        registered(),
        taken("p1", "krokom", date!(2024 - 10 - 16)),
        ParticipantEvent::PlaceLeft { place_id: "p1".into(), last_day: date!(2024 - 11 - 30) },
        taken("p2", "krokom", date!(2024 - 12 - 01)),
    ] {
        participant.apply(event);
    }
    assert_eq!(participant.first_day_in("krokom"), Some(date!(2024 - 10 - 16)));
    assert_eq!(participant.first_day_in("ostersund"), None);
}

#[test]
fn only_a_registered_participant_takes_a_place() {
    ParticipantTest::with(())
        .given_no_previous_events()
        .when(take("p1", date!(2024 - 10 - 16)))
        .then_expect_error(ParticipantError::NotRegistered);
}

#[test]
fn registration_is_the_first_event_and_happens_once() {
    let register = ParticipantCommand::Register {
        gender: Gender::Woman,
        target_group: TargetGroup::RegisteredTwelveMonths,
        registered_by: Some("fyndet".into()),
        registered_on: date!(2024 - 10 - 01),
        personal: sealed(),
    };
    ParticipantTest::with(()).given_no_previous_events().when(register.clone()).then_expect_events(vec![registered()]);
    ParticipantTest::with(())
        .given(vec![registered()])
        .when(register)
        .then_expect_error(ParticipantError::AlreadyRegistered);
}

#[test]
fn an_erased_participant_takes_no_place_and_gives_no_consent() {
    ParticipantTest::with(())
        .given(vec![registered(), erased()])
        .when(take("p1", date!(2025 - 02 - 01)))
        .then_expect_error(ParticipantError::Erased);
    ParticipantTest::with(())
        .given(vec![registered(), erased()])
        .when(ParticipantCommand::RecordConsent {
            purpose: ConsentPurpose::ContactAfterExit,
            from: date!(2025 - 02 - 01),
        })
        .then_expect_error(ParticipantError::Erased);
    ParticipantTest::with(())
        .given(vec![registered(), erased()])
        .when(ParticipantCommand::Erase { reason: ErasureReason::Objection, on: date!(2025 - 02 - 01) })
        .then_expect_error(ParticipantError::Erased);
}

#[test]
fn erasure_drops_the_sealed_identity_but_keeps_the_stays() {
    let mut participant = Participant::default();
    for event in [registered(), taken("p1", "krokom", date!(2024 - 10 - 16)), erased()] {
        participant.apply(event);
    }
    assert_eq!(participant.personal, None);
    assert_eq!(participant.gender, Some(Gender::Woman));
    assert_eq!(participant.first_day_in("krokom"), Some(date!(2024 - 10 - 16)));
}

#[test]
fn a_withdrawn_consent_no_longer_holds_from_its_date() {
    let purpose = ConsentPurpose::FollowUpWithReferrer;
    let mut participant = Participant::default();
    for event in [
        registered(),
        ParticipantEvent::ConsentRecorded { purpose, from: date!(2024 - 10 - 01) },
        ParticipantEvent::ConsentWithdrawn { purpose, from: date!(2024 - 12 - 01) },
    ] {
        participant.apply(event);
    }
    assert!(participant.consents_to(purpose, date!(2024 - 11 - 30)));
    assert!(!participant.consents_to(purpose, date!(2024 - 12 - 01)));
    assert!(!participant.consents_to(ConsentPurpose::ContactAfterExit, date!(2024 - 11 - 01)));
}

#[test]
fn a_consent_is_withdrawn_only_when_given_and_not_before_it() {
    let purpose = ConsentPurpose::ContactAfterExit;
    let given = ParticipantEvent::ConsentRecorded { purpose, from: date!(2024 - 10 - 10) };
    ParticipantTest::with(())
        .given(vec![registered()])
        .when(ParticipantCommand::WithdrawConsent { purpose, from: date!(2024 - 11 - 01) })
        .then_expect_error(ParticipantError::NoConsentToWithdraw { purpose });
    ParticipantTest::with(())
        .given(vec![registered(), given.clone()])
        .when(ParticipantCommand::WithdrawConsent { purpose, from: date!(2024 - 10 - 01) })
        .then_expect_error(ParticipantError::WithdrawnBeforeGiven {
            given: date!(2024 - 10 - 10),
            from: date!(2024 - 10 - 01),
        });
    ParticipantTest::with(())
        .given(vec![registered(), given])
        .when(ParticipantCommand::RecordConsent { purpose, from: date!(2024 - 11 - 01) })
        .then_expect_error(ParticipantError::AlreadyConsented { purpose, from: date!(2024 - 10 - 10) });
}

#[test]
fn a_follow_up_is_recorded_after_the_person_left_a_place() {
    ParticipantTest::with(())
        .given(vec![
            registered(),
            taken("p1", "krokom", date!(2025 - 01 - 01)),
            ParticipantEvent::PlaceLeft { place_id: "p1".into(), last_day: date!(2025 - 03 - 31) },
        ])
        .when(ParticipantCommand::RecordFollowUp { on: date!(2025 - 06 - 29), status: FollowUpStatus::InWork })
        .then_expect_events(vec![ParticipantEvent::FollowUpRecorded {
            on: date!(2025 - 06 - 29),
            status: FollowUpStatus::InWork,
        }]);
}

#[test]
fn no_follow_up_before_an_exit_nor_of_an_erased_person() {
    ParticipantTest::with(())
        .given(vec![registered(), taken("p1", "krokom", date!(2025 - 01 - 01))])
        .when(ParticipantCommand::RecordFollowUp { on: date!(2025 - 06 - 29), status: FollowUpStatus::InWork })
        .then_expect_error(ParticipantError::NoExitBefore { on: date!(2025 - 06 - 29) });
    ParticipantTest::with(())
        .given(vec![registered(), erased()])
        .when(ParticipantCommand::RecordFollowUp { on: date!(2025 - 06 - 29), status: FollowUpStatus::Unknown })
        .then_expect_error(ParticipantError::Erased);
}
