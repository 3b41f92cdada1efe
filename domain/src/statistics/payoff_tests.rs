//! The seed's payback table (S1:L500-536, L917-937), reproduced.

use super::payoff::{Assumptions, InvalidAssumptions, Perspective};

fn months(assumptions: &Assumptions, perspective: Perspective, people: u32) -> f64 {
    assumptions.estimate(perspective, people).ok().and_then(|e| e.payback_months).unwrap_or(f64::NAN)
}

#[test]
fn one_person_off_income_support_pays_back_in_about_five_months() {
    let m = months(&Assumptions::default(), Perspective::MunicipalityIncomeSupport, 1);
    assert_eq!(m.round(), 5.0, "{m}");
}

#[test]
fn a_fifty_percent_chance_of_work_anyway_doubles_it_to_about_ten() {
    let half = Assumptions { got_work_anyway: 0.5, ..Assumptions::default() };
    let m = months(&half, Perspective::MunicipalityIncomeSupport, 1);
    assert_eq!(m.round(), 10.0, "{m}");
}

#[test]
fn three_people_pay_back_in_two_months() {
    let m = months(&Assumptions::default(), Perspective::MunicipalityIncomeSupport, 3);
    assert_eq!(m.round(), 2.0, "{m}");
}

#[test]
fn against_activity_support_it_takes_at_least_nineteen_months() {
    let m = months(&Assumptions::default(), Perspective::MunicipalityActivitySupport, 1);
    assert!((19.0..20.0).contains(&m), "{m}");
}

#[test]
fn society_gets_it_back_in_just_over_two_months_unsubsidised_and_about_six_subsidised() {
    let unsubsidised = months(&Assumptions::default(), Perspective::SocietyUnsubsidised, 1);
    let subsidised = months(&Assumptions::default(), Perspective::SocietySubsidised, 1);
    assert!((2.0..2.5).contains(&unsubsidised), "{unsubsidised}");
    assert!((5.0..6.0).contains(&subsidised), "{subsidised}");
}

#[test]
fn no_exit_to_work_never_pays_back_and_a_certain_job_anyway_is_refused() {
    let none = Assumptions::default().estimate(Perspective::MunicipalityIncomeSupport, 0);
    assert_eq!(none.ok().and_then(|e| e.payback_months), None);
    let certain = Assumptions { got_work_anyway: 1.0, ..Assumptions::default() };
    assert_eq!(certain.estimate(Perspective::MunicipalityIncomeSupport, 1), Err(InvalidAssumptions::Probability(1.0)));
}
