use super::utilisation::{difference, of_agreement, of_place, PlaceDays};
use crate::agreement::{AgreementEvent, FrameworkAgreement};
use crate::calendar::{DateRange, Month};
use crate::examples::ostersund_work_training;
use crate::place::{ExitReason, ParticipantId, PlaceEvent, TrainingPlace};
use cqrs_es::Aggregate;
use time::macros::date;

fn four_places() -> FrameworkAgreement {
    let mut terms = ostersund_work_training();
    terms.contracted_places = 4;
    FrameworkAgreement::from_events([AgreementEvent::AgreementRegistered(terms)])
}

fn november() -> Month {
    Month::of(date!(2025 - 11 - 01))
}

fn place() -> TrainingPlace {
    let mut place = TrainingPlace::default();
    place.apply(PlaceEvent::PlaceOpened {
        agreement_id: "a".into(),
        member_id: "m".into(),
        allocation_id: "x".into(),
        allocation_period: DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2026 - 12 - 31)) },
        opened_on: date!(2025 - 01 - 01),
    });
    place
}

fn participant() -> ParticipantId {
    ParticipantId::parse("p-anna").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn four_contracted_places_give_a_november_of_120_place_days() {
    let contracted = of_agreement(&four_places());
    assert_eq!(contracted.get(&(String::new(), november())).map(|d| d.contracted), Some(120));
}

#[test]
fn a_capacity_change_counts_from_its_day() {
    let mut agreement = four_places();
    agreement.apply(AgreementEvent::CapacityChanged { effective_from: date!(2025 - 11 - 16), places: 6 });
    let contracted = of_agreement(&agreement);
    assert_eq!(contracted.get(&(String::new(), november())).map(|d| d.contracted), Some(15 * 4 + 15 * 6));
}

#[test]
fn a_place_filled_from_the_eleventh_fills_twenty_days_of_november() {
    let mut place = place();
    let empty = of_place(&place);
    place.apply(PlaceEvent::PlaceFilled { participant: participant(), from: date!(2025 - 11 - 11) });
    let filled = of_place(&place);
    assert_eq!(filled.get(&("m".to_string(), november())).map(|d| d.filled), Some(20));
    // The event's difference is what the projection adds: 20 filled days in November, nothing else.
    let change = difference(&empty, &filled);
    assert_eq!(change.get(&("m".to_string(), november())), Some(&PlaceDays { filled: 20, ..PlaceDays::default() }));
}

#[test]
fn vacating_takes_back_the_days_after_the_last_one() {
    let mut place = place();
    place.apply(PlaceEvent::PlaceFilled { participant: participant(), from: date!(2025 - 11 - 11) });
    let before = of_place(&place);
    place.apply(PlaceEvent::ParticipantEmployed { participant: participant(), from: date!(2025 - 11 - 21) });
    place.apply(PlaceEvent::PlaceVacated {
        participant: participant(),
        last_day: date!(2025 - 11 - 25),
        reason: ExitReason::EmploymentElsewhere,
    });
    let after = of_place(&place);
    let november = after.get(&("m".to_string(), november())).copied().unwrap_or_default();
    assert_eq!((november.filled, november.employed), (15, 5));
    let december = Month::of(date!(2025 - 12 - 01));
    assert_eq!(after.get(&("m".to_string(), december)), None);
    let change = difference(&before, &after);
    assert_eq!(change.get(&("m".to_string(), december)).map(|d| d.filled), Some(-31));
}
