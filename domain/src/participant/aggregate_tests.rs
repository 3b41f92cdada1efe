use super::*;
use cqrs_es::test::TestFramework;
use time::macros::date;

type ParticipantTest = TestFramework<Participant>;

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
        .given_no_previous_events()
        .when(take("p1", date!(2024 - 10 - 16)))
        .then_expect_events(vec![taken("p1", "krokom", date!(2024 - 10 - 16))]);
}

#[test]
fn a_participant_holds_one_place_at_a_time() {
    ParticipantTest::with(())
        .given(vec![taken("p1", "krokom", date!(2024 - 10 - 16))])
        .when(take("p2", date!(2024 - 11 - 01)))
        .then_expect_error(ParticipantError::AlreadyOnAPlace { place_id: "p1".into(), from: date!(2024 - 10 - 16) });
}

#[test]
fn a_new_place_starts_the_day_after_the_last_one_ended() {
    let left = ParticipantEvent::PlaceLeft { place_id: "p1".into(), last_day: date!(2024 - 10 - 31) };
    ParticipantTest::with(())
        .given(vec![taken("p1", "krokom", date!(2024 - 10 - 16)), left.clone()])
        .when(take("p2", date!(2024 - 10 - 31)))
        .then_expect_error(ParticipantError::OverlapsEarlierStay {
            place_id: "p1".into(),
            last_day: date!(2024 - 10 - 31),
        });
    ParticipantTest::with(())
        .given(vec![taken("p1", "krokom", date!(2024 - 10 - 16)), left])
        .when(take("p2", date!(2024 - 11 - 01)))
        .then_expect_events(vec![taken("p2", "krokom", date!(2024 - 11 - 01))]);
}

#[test]
fn a_participant_leaves_only_a_place_they_hold() {
    ParticipantTest::with(())
        .given(vec![taken("p1", "krokom", date!(2024 - 10 - 16))])
        .when(ParticipantCommand::LeavePlace { place_id: "p2".into(), last_day: date!(2024 - 10 - 31) })
        .then_expect_error(ParticipantError::NotOnThisPlace);
}

#[test]
fn the_months_cap_counts_from_the_first_day_in_the_agreement_across_places() {
    let mut participant = Participant::default();
    for event in [
        taken("p1", "krokom", date!(2024 - 10 - 16)),
        ParticipantEvent::PlaceLeft { place_id: "p1".into(), last_day: date!(2024 - 11 - 30) },
        taken("p2", "krokom", date!(2024 - 12 - 01)),
    ] {
        participant.apply(event);
    }
    assert_eq!(participant.first_day_in("krokom"), Some(date!(2024 - 10 - 16)));
    assert_eq!(participant.first_day_in("ostersund"), None);
}
