//! Properties of the participant aggregate under random sequences of commands.

use super::*;
use proptest::prelude::*;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use time::macros::date;
use time::Duration;

const PLACES: [&str; 3] = ["place-1", "place-2", "place-3"];

/// Drives a future that never waits on anything real, as `handle` does: the domain crate has no
/// runtime. Gives up rather than spin if the future ever stays pending.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("the command's future never completed")
}

/// One command as drawn: take or leave, which place, and how many days after the previous
/// command's date it is dated. Mostly forwards, sometimes back, so stays both follow each other and
/// collide.
fn step() -> impl Strategy<Value = (bool, &'static str, i64)> {
    (any::<bool>(), prop::sample::select(&PLACES[..]), -15_i64..=30)
}

fn commands() -> impl Strategy<Value = Vec<ParticipantCommand>> {
    prop::collection::vec(step(), 0..40).prop_map(|steps| {
        let mut day = date!(2024 - 10 - 01);
        let mut commands = Vec::new();
        for (take, place, shift) in steps {
            day = day.checked_add(Duration::days(shift)).unwrap_or_else(|| panic!("{day} + {shift} days"));
            let place_id = place.to_string();
            commands.push(match take {
                true => ParticipantCommand::TakePlace {
                    place_id,
                    agreement_id: "krokom".into(),
                    member_id: "fyndet".into(),
                    from: day,
                },
                false => ParticipantCommand::LeavePlace { place_id, last_day: day },
            });
        }
        commands
    })
}

/// The days a stay covers; a stay still running covers every later day.
fn covers(stay: &Stay, day: Date) -> bool {
    stay.from <= day && stay.to.is_none_or(|to| day <= to)
}

fn share_a_day(a: &Stay, b: &Stay) -> bool {
    // Two spans meet exactly when one of them contains the other's first day.
    covers(a, b.from) || covers(b, a.from)
}

proptest! {
    #[test]
    fn no_participant_is_paid_twice_for_a_day(commands in commands()) {
        let mut participant = Participant::default();
        participant.apply(ParticipantEvent::ParticipantRegistered {
            gender: Gender::NotStated,
            target_group: TargetGroup::NewlyArrived,
            registered_by: None,
            registered_on: date!(2024 - 09 - 01),
            personal: Sealed { nonce: String::new(), ciphertext: String::new() },
        });
        for command in commands {
            let before = participant.clone();
            let sink = EventSink::default();
            if block_on(participant.handle(command, &(), &sink)).is_err() {
                // A refused command records nothing.
                prop_assert_eq!(&participant, &before);
            }
        }
        let stays = &participant.stays;
        prop_assert!(stays.iter().all(|s| s.to.is_none_or(|to| s.from <= to)), "a stay ends before it starts: {:?}", stays);
        for (i, a) in stays.iter().enumerate() {
            for b in &stays[i + 1..] {
                prop_assert!(!share_a_day(a, b), "{:?} and {:?} share a day", a, b);
            }
        }
        prop_assert!(stays.iter().filter(|s| s.to.is_none()).count() <= 1, "more than one open stay: {:?}", stays);
    }
}
