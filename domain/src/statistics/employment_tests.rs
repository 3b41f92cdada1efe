use super::employment::filled;
use crate::place::{ExitReason, Occupancy, ParticipantId, TrainingPlace};
use time::macros::date;

fn stay(who: &str, employed: bool, exit: Option<ExitReason>) -> Occupancy {
    Occupancy {
        participant: ParticipantId::parse(who).unwrap_or_else(|e| panic!("{e}")),
        from: date!(2025 - 11 - 01),
        to: exit.map(|_| date!(2025 - 11 - 30)),
        employed_from: employed.then_some(date!(2025 - 11 - 15)),
        exit,
    }
}

fn place(stays: Vec<Occupancy>) -> TrainingPlace {
    TrainingPlace { agreement_id: "a".into(), occupancy: stays, ..TrainingPlace::default() }
}

#[test]
fn employed_on_a_place_or_leaving_for_work_counts_once_per_person() {
    let places = [
        place(vec![stay("p-anna", false, Some(ExitReason::EmploymentElsewhere)), stay("p-bo", true, None)]),
        // Bo moved here from the first place and left for the member's job: still one person.
        place(vec![stay("p-bo", false, Some(ExitReason::EmploymentByMember))]),
        place(vec![stay("p-cia", false, Some(ExitReason::Studies)), stay("p-dan", false, None)]),
    ];
    assert_eq!(filled(&places), 2);
    assert_eq!(filled(&[]), 0);
}
