use super::*;
use crate::agreement::{AgreementEvent, FrameworkAgreement, RateCard, MAX_REQUIRED_EMPLOYMENTS};
use crate::examples::{fruit_baskets, krokom_reserved, nordanstig_work_training, ostersund_work_training};
use crate::member::MemberCategory;
use cqrs_es::test::TestFramework;
use time::macros::date;

type SplitTest = TestFramework<SubContractSplit>;

fn agreement(events: Vec<AgreementEvent>) -> FrameworkAgreement {
    FrameworkAgreement::from_events(events)
}

/// Östersund: 13 places from 2024-09-01 to 2027-08-31, reserved.
fn ostersund() -> FrameworkAgreement {
    agreement(vec![AgreementEvent::AgreementRegistered(ostersund_work_training())])
}

fn fruit() -> FrameworkAgreement {
    agreement(vec![AgreementEvent::AgreementRegistered(fruit_baskets())])
}

fn member(id: &str, category: MemberCategory, share: u32) -> MemberStanding {
    MemberStanding::constant(id, date!(2024 - 01 - 01), category, Percent::from_whole(share))
}

fn fyndet() -> MemberStanding {
    member("fyndet", MemberCategory::Wise, 45)
}

fn cafe() -> MemberStanding {
    member("cafe", MemberCategory::Wise, 60)
}

fn whole_agreement() -> DateRange {
    DateRange { start: date!(2024 - 09 - 01), end: None }
}

fn allocate(id: &str, member: MemberStanding, places: u32, period: DateRange) -> SplitCommand {
    SplitCommand::AllocatePlaces { allocation_id: id.into(), agreement: ostersund(), member, places, period }
}

fn allocated(id: &str, member: &str, places: u32, start: Date) -> SplitEvent {
    SplitEvent::PlacesAllocated {
        allocation_id: id.into(),
        member_id: member.into(),
        places,
        period: DateRange { start, end: Some(date!(2027 - 08 - 31)) },
    }
}

#[test]
fn an_open_ended_allocation_runs_until_the_agreement_ends() {
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate("a1", fyndet(), 8, whole_agreement()))
        .then_expect_events(vec![allocated("a1", "fyndet", 8, date!(2024 - 09 - 01))]);
}

#[test]
fn allocations_may_not_exceed_contracted_places_on_any_day() {
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 8, date!(2024 - 09 - 01))])
        .when(allocate("a2", cafe(), 6, DateRange { start: date!(2025 - 03 - 01), end: Some(date!(2025 - 05 - 31)) }))
        .then_expect_error(SplitError::ExceedsContractedPlaces {
            date: date!(2025 - 03 - 01),
            allocated: 14,
            contracted: 13,
        });
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 8, date!(2024 - 09 - 01))])
        .when(allocate("a2", cafe(), 5, DateRange { start: date!(2025 - 03 - 01), end: Some(date!(2025 - 05 - 31)) }))
        .then_expect_events(vec![SplitEvent::PlacesAllocated {
            allocation_id: "a2".into(),
            member_id: "cafe".into(),
            places: 5,
            period: DateRange { start: date!(2025 - 03 - 01), end: Some(date!(2025 - 05 - 31)) },
        }]);
}

#[test]
fn a_capacity_cut_later_in_the_period_limits_allocations_from_that_day() {
    let cut = agreement(vec![
        AgreementEvent::AgreementRegistered(ostersund_work_training()),
        AgreementEvent::CapacityChanged { effective_from: date!(2026 - 01 - 01), places: 10 },
    ]);
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::AllocatePlaces {
            allocation_id: "a1".into(),
            agreement: cut,
            member: fyndet(),
            places: 12,
            period: whole_agreement(),
        })
        .then_expect_error(SplitError::ExceedsContractedPlaces {
            date: date!(2026 - 01 - 01),
            allocated: 12,
            contracted: 10,
        });
}

#[test]
fn a_revision_applies_from_its_date_and_keeps_the_history() {
    let revised =
        SplitEvent::PlacesRevised { allocation_id: "a1".into(), effective_from: date!(2025 - 06 - 01), places: 10 };
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 8, date!(2024 - 09 - 01))])
        .when(SplitCommand::RevisePlaces {
            allocation_id: "a1".into(),
            agreement: ostersund(),
            effective_from: date!(2025 - 06 - 01),
            places: 10,
        })
        .then_expect_events(vec![revised.clone()]);

    let mut split = SubContractSplit::default();
    split.apply(allocated("a1", "fyndet", 8, date!(2024 - 09 - 01)));
    split.apply(revised);
    assert_eq!(split.places_allocated_to("fyndet", date!(2025 - 05 - 31)), 8);
    assert_eq!(split.places_allocated_to("fyndet", date!(2025 - 06 - 01)), 10);
}

#[test]
fn a_revision_above_capacity_is_rejected() {
    SplitTest::with(())
        .given(vec![
            allocated("a1", "fyndet", 8, date!(2024 - 09 - 01)),
            allocated("a2", "cafe", 5, date!(2024 - 09 - 01)),
        ])
        .when(SplitCommand::RevisePlaces {
            allocation_id: "a1".into(),
            agreement: ostersund(),
            effective_from: date!(2025 - 06 - 01),
            places: 9,
        })
        .then_expect_error(SplitError::ExceedsContractedPlaces {
            date: date!(2025 - 06 - 01),
            allocated: 14,
            contracted: 13,
        });
}

#[test]
fn an_ended_allocation_frees_its_places_from_the_next_day() {
    SplitTest::with(())
        .given(vec![
            allocated("a1", "fyndet", 8, date!(2024 - 09 - 01)),
            SplitEvent::AllocationEnded { allocation_id: "a1".into(), last_day: date!(2025 - 02 - 28) },
        ])
        .when(allocate("a2", cafe(), 13, DateRange { start: date!(2025 - 03 - 01), end: None }))
        .then_expect_events(vec![allocated("a2", "cafe", 13, date!(2025 - 03 - 01))]);
}

#[test]
fn a_reserved_agreement_admits_only_qualifying_asf() {
    let below_30_percent = member("gront", MemberCategory::Wise, 25);
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate("a1", below_30_percent, 2, whole_agreement()))
        .then_expect_error(SplitError::MemberNotQualifiedForReserved);
    let association = member("gemenskap", MemberCategory::OtherAssociation, 35);
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate("a1", association, 2, whole_agreement()))
        .then_expect_error(SplitError::MemberNotQualifiedForReserved);
}

#[test]
fn an_association_is_not_allocated_where_the_agreement_pays_it_nothing() {
    let mut terms = krokom_reserved();
    terms.reserved = false;
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::AllocatePlaces {
            allocation_id: "a1".into(),
            agreement: agreement(vec![AgreementEvent::AgreementRegistered(terms)]),
            member: member("gemenskap", MemberCategory::OtherAssociation, 35),
            places: 2,
            period: DateRange { start: date!(2024 - 01 - 01), end: None },
        })
        .then_expect_error(SplitError::CategoryNotAdmitted);
}

#[test]
fn a_member_that_left_gets_no_allocation() {
    let mut left = fyndet();
    left.left_on = Some(date!(2024 - 06 - 30));
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate("a1", left, 2, whole_agreement()))
        .then_expect_error(SplitError::MemberInactive);
}

#[test]
fn an_allocation_must_lie_within_the_agreement_period() {
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate("a1", fyndet(), 2, DateRange { start: date!(2024 - 08 - 01), end: None }))
        .then_expect_error(SplitError::OutsideAgreementPeriod { date: date!(2024 - 08 - 01) });
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate("a1", fyndet(), 2, DateRange { start: date!(2024 - 09 - 01), end: Some(date!(2028 - 01 - 01)) }))
        .then_expect_error(SplitError::OutsideAgreementPeriod { date: date!(2028 - 01 - 01) });
}

#[test]
fn the_fruit_basket_contract_is_split_into_roles_whose_shares_reach_100_percent() {
    let role = |id: &str, member: MemberStanding, role: &str, share: u32| SplitCommand::AllocateRole {
        allocation_id: id.into(),
        agreement: fruit(),
        member,
        role: role.into(),
        share: Percent::from_whole(share),
        period: DateRange { start: date!(2025 - 01 - 01), end: None },
    };
    let period = DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2027 - 12 - 31)) };
    let purchasing = SplitEvent::RoleAllocated {
        allocation_id: "inkop".into(),
        member_id: "cafe".into(),
        role: "purchasing".into(),
        share: Percent::from_whole(50),
        period,
    };
    let packing = SplitEvent::RoleAllocated {
        allocation_id: "pack".into(),
        member_id: "fyndet".into(),
        role: "packing".into(),
        share: Percent::from_whole(20),
        period,
    };
    SplitTest::with(())
        .given(vec![purchasing.clone(), packing.clone()])
        .when(role("leverans", member("gront", MemberCategory::Wise, 25), "Delivery", 31))
        .then_expect_error(SplitError::SharesExceedWhole { date: date!(2025 - 01 - 01), total_basis_points: 10_100 });

    let delivery = SplitEvent::RoleAllocated {
        allocation_id: "leverans".into(),
        member_id: "gront".into(),
        role: "delivery".into(),
        share: Percent::from_whole(30),
        period,
    };
    SplitTest::with(())
        .given(vec![purchasing.clone(), packing.clone()])
        .when(role("leverans", member("gront", MemberCategory::Wise, 25), " Delivery ", 30))
        .then_expect_events(vec![delivery.clone()]);

    let mut split = SubContractSplit::default();
    for event in [purchasing, packing, delivery] {
        split.apply(event);
    }
    assert_eq!(split.share_total_on(date!(2026 - 06 - 01)), 10_000);
}

#[test]
fn places_are_not_allocated_on_a_goods_agreement_nor_roles_on_a_training_agreement() {
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::AllocatePlaces {
            allocation_id: "a1".into(),
            agreement: fruit(),
            member: fyndet(),
            places: 2,
            period: DateRange { start: date!(2025 - 01 - 01), end: None },
        })
        .then_expect_error(SplitError::WrongKindOfAllocation);
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::AllocateRole {
            allocation_id: "a1".into(),
            agreement: ostersund(),
            member: fyndet(),
            role: "packing".into(),
            share: Percent::from_whole(20),
            period: whole_agreement(),
        })
        .then_expect_error(SplitError::WrongKindOfAllocation);
}

#[test]
fn an_allocation_id_is_used_once_and_must_exist_to_be_revised() {
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 2, date!(2024 - 09 - 01))])
        .when(allocate("a1", cafe(), 2, whole_agreement()))
        .then_expect_error(SplitError::DuplicateAllocation);
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::EndAllocation { allocation_id: "nope".into(), last_day: date!(2025 - 01 - 01) })
        .then_expect_error(SplitError::UnknownAllocation);
}

#[test]
fn an_unregistered_agreement_cannot_be_split() {
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::AllocatePlaces {
            allocation_id: "a1".into(),
            agreement: FrameworkAgreement::default(),
            member: fyndet(),
            places: 2,
            period: whole_agreement(),
        })
        .then_expect_error(SplitError::AgreementNotRegistered);
}

fn role_allocated(id: &str, member: &str, role: &str, share: u32) -> SplitEvent {
    SplitEvent::RoleAllocated {
        allocation_id: id.into(),
        member_id: member.into(),
        role: role.into(),
        share: Percent::from_whole(share),
        period: DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2027 - 12 - 31)) },
    }
}

#[test]
fn a_fruit_basket_split_whose_shares_reach_exactly_100_percent_is_confirmed() {
    // 40 MSEK: purchasing 50 % (20 MSEK), packing 20 % (8 MSEK), delivery 30 % (12 MSEK).
    SplitTest::with(())
        .given(vec![
            role_allocated("inkop", "cafe", "purchasing", 50),
            role_allocated("pack", "fyndet", "packing", 20),
            role_allocated("leverans", "gront", "delivery", 30),
        ])
        .when(SplitCommand::ConfirmShares { on: date!(2025 - 01 - 01) })
        .then_expect_events(vec![SplitEvent::SharesConfirmed { on: date!(2025 - 01 - 01) }]);
}

#[test]
fn a_split_whose_shares_fall_short_of_100_percent_cannot_be_confirmed() {
    SplitTest::with(())
        .given(vec![role_allocated("inkop", "cafe", "purchasing", 50), role_allocated("pack", "fyndet", "packing", 20)])
        .when(SplitCommand::ConfirmShares { on: date!(2025 - 06 - 01) })
        .then_expect_error(SplitError::SharesIncomplete { date: date!(2025 - 06 - 01), total_basis_points: 7_000 });
    SplitTest::with(())
        .given(vec![
            role_allocated("inkop", "cafe", "purchasing", 50),
            role_allocated("pack", "fyndet", "packing", 20),
            role_allocated("leverans", "gront", "delivery", 30),
            SplitEvent::AllocationEnded { allocation_id: "leverans".into(), last_day: date!(2025 - 12 - 31) },
        ])
        .when(SplitCommand::ConfirmShares { on: date!(2026 - 01 - 01) })
        .then_expect_error(SplitError::SharesIncomplete { date: date!(2026 - 01 - 01), total_basis_points: 7_000 });
}

#[test]
fn an_association_is_not_allocated_across_a_rate_change_that_stops_paying_it() {
    // Nordanstig pays associations 5 000 kr; suppose that rate is withdrawn from 2026-01-01.
    let withdrawn = agreement(vec![
        AgreementEvent::AgreementRegistered(nordanstig_work_training()),
        AgreementEvent::RatesChanged {
            effective_from: date!(2026 - 01 - 01),
            rates: RateCard { other_association: None, ..nordanstig_work_training().rates },
        },
    ]);
    let allocate_until = |end| SplitCommand::AllocatePlaces {
        allocation_id: "a1".into(),
        agreement: withdrawn.clone(),
        member: member("gemenskap", MemberCategory::OtherAssociation, 35),
        places: 2,
        period: DateRange { start: date!(2025 - 01 - 01), end: Some(end) },
    };
    SplitTest::with(())
        .given_no_previous_events()
        .when(allocate_until(date!(2026 - 06 - 30)))
        .then_expect_error(SplitError::CategoryNotAdmitted);
    SplitTest::with(()).given_no_previous_events().when(allocate_until(date!(2025 - 12 - 31))).then_expect_events(
        vec![SplitEvent::PlacesAllocated {
            allocation_id: "a1".into(),
            member_id: "gemenskap".into(),
            places: 2,
            period: DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2025 - 12 - 31)) },
        }],
    );
}

fn with_allocation(places: u32) -> Vec<SplitEvent> {
    vec![allocated("a1", "fyndet", places, date!(2024 - 09 - 01))]
}

fn place_opened(place: &str, on: Date) -> SplitEvent {
    SplitEvent::PlaceOpened { allocation_id: "a1".into(), place_id: place.into(), opened_on: on }
}

fn open_place(place: &str, on: Date) -> SplitCommand {
    SplitCommand::OpenPlace { allocation_id: "a1".into(), place_id: place.into(), opened_on: on }
}

#[test]
fn a_place_takes_a_free_slot_of_its_allocation() {
    SplitTest::with(())
        .given(with_allocation(2))
        .when(open_place("p1", date!(2024 - 09 - 01)))
        .then_expect_events(vec![place_opened("p1", date!(2024 - 09 - 01))]);
}

#[test]
fn the_last_slot_of_an_allocation_is_taken_once() {
    let mut given = with_allocation(2);
    given.extend([place_opened("p1", date!(2024 - 09 - 01)), place_opened("p2", date!(2024 - 10 - 01))]);
    SplitTest::with(())
        .given(given)
        .when(open_place("p3", date!(2024 - 09 - 15)))
        .then_expect_error(SplitError::AllocationFull { date: date!(2024 - 10 - 01), allocated: 2, open: 2 });
}

#[test]
fn a_closed_place_frees_its_slot_from_the_day_it_closed() {
    let mut given = with_allocation(1);
    given.extend([
        place_opened("p1", date!(2024 - 09 - 01)),
        SplitEvent::PlaceClosed { place_id: "p1".into(), closed_on: date!(2024 - 12 - 01) },
    ]);
    SplitTest::with(())
        .given(given.clone())
        .when(open_place("p2", date!(2024 - 11 - 30)))
        .then_expect_error(SplitError::AllocationFull { date: date!(2024 - 11 - 30), allocated: 1, open: 1 });
    SplitTest::with(())
        .given(given)
        .when(open_place("p2", date!(2024 - 12 - 01)))
        .then_expect_events(vec![place_opened("p2", date!(2024 - 12 - 01))]);
}

#[test]
fn an_allocation_cannot_be_revised_below_its_open_places() {
    let mut given = with_allocation(3);
    given.extend([place_opened("p1", date!(2024 - 09 - 01)), place_opened("p2", date!(2024 - 09 - 01))]);
    SplitTest::with(())
        .given(given)
        .when(SplitCommand::RevisePlaces {
            allocation_id: "a1".into(),
            agreement: ostersund(),
            effective_from: date!(2025 - 01 - 01),
            places: 1,
        })
        .then_expect_error(SplitError::OpenPlacesExceedAllocation {
            date: date!(2025 - 01 - 01),
            allocated: 1,
            open: 2,
        });
}

#[test]
fn a_capacity_cut_below_the_places_members_hold_is_refused() {
    let cut = agreement(vec![
        AgreementEvent::AgreementRegistered(ostersund_work_training()),
        AgreementEvent::CapacityChanged { effective_from: date!(2025 - 01 - 01), places: 2 },
    ]);
    SplitTest::with(())
        .given(with_allocation(8))
        .when(SplitCommand::AdoptCapacity { agreement: cut, effective_from: date!(2025 - 01 - 01), places: 2 })
        .then_expect_error(SplitError::CapacityBelowAllocated {
            date: date!(2025 - 01 - 01),
            allocated: 8,
            contracted: 2,
        });
}

#[test]
fn a_capacity_cut_that_leaves_room_for_the_allocations_is_adopted() {
    let cut = agreement(vec![
        AgreementEvent::AgreementRegistered(ostersund_work_training()),
        AgreementEvent::CapacityChanged { effective_from: date!(2025 - 01 - 01), places: 8 },
    ]);
    SplitTest::with(())
        .given(with_allocation(8))
        .when(SplitCommand::AdoptCapacity { agreement: cut, effective_from: date!(2025 - 01 - 01), places: 8 })
        .then_expect_events(vec![SplitEvent::CapacityAdopted { effective_from: date!(2025 - 01 - 01), places: 8 }]);
}

#[test]
fn a_member_that_became_an_association_is_not_allocated_on_an_asf_only_agreement() {
    let mut member = fyndet();
    member
        .categories
        .push(crate::member::Dated { from: date!(2025 - 01 - 01), value: MemberCategory::OtherAssociation });
    let mut terms = ostersund_work_training();
    terms.reserved = false;
    terms.rates.other_association = None;
    SplitTest::with(())
        .given_no_previous_events()
        .when(SplitCommand::AllocatePlaces {
            allocation_id: "a1".into(),
            agreement: agreement(vec![AgreementEvent::AgreementRegistered(terms)]),
            member,
            places: 2,
            period: whole_agreement(),
        })
        .then_expect_error(SplitError::CategoryNotAdmitted);
}

fn ostersund_with_skallkrav(employments: u32) -> FrameworkAgreement {
    let mut terms = ostersund_work_training();
    terms.employment_requirement = Some(crate::agreement::EmploymentRequirement::Mandatory { employments });
    agreement(vec![AgreementEvent::AgreementRegistered(terms)])
}

fn agree(member: &str, employments: u32, agreement: FrameworkAgreement) -> SplitCommand {
    SplitCommand::AgreeEmployments { agreement, member_id: member.into(), employments }
}

#[test]
fn a_member_with_a_part_commits_employments_and_a_new_number_replaces_the_old() {
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 2, date!(2024 - 09 - 01))])
        .when(agree("fyndet", 2, ostersund_with_skallkrav(4)))
        .then_expect_events(vec![SplitEvent::EmploymentsAgreed { member_id: "fyndet".into(), employments: 2 }]);
    let mut split = SubContractSplit::default();
    for event in [
        allocated("a1", "fyndet", 2, date!(2024 - 09 - 01)),
        SplitEvent::EmploymentsAgreed { member_id: "fyndet".into(), employments: 3 },
        SplitEvent::EmploymentsAgreed { member_id: "cafe".into(), employments: 1 },
        SplitEvent::EmploymentsAgreed { member_id: "fyndet".into(), employments: 1 },
    ] {
        split.apply(event);
    }
    assert_eq!(split.agreed_employments_total(), 2);
    split.apply(SplitEvent::EmploymentsAgreed { member_id: "cafe".into(), employments: 0 });
    assert_eq!(split.agreed_employments_total(), 1);
}

#[test]
fn employments_are_committed_only_by_members_with_a_part_of_an_agreement_that_requires_them() {
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 2, date!(2024 - 09 - 01))])
        .when(agree("fyndet", 2, ostersund()))
        .then_expect_error(SplitError::NoEmploymentRequirement);
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 2, date!(2024 - 09 - 01))])
        .when(agree("cafe", 2, ostersund_with_skallkrav(4)))
        .then_expect_error(SplitError::MemberHasNoAllocation);
    SplitTest::with(())
        .given(vec![allocated("a1", "fyndet", 2, date!(2024 - 09 - 01))])
        .when(agree("fyndet", MAX_REQUIRED_EMPLOYMENTS + 1, ostersund_with_skallkrav(4)))
        .then_expect_error(SplitError::TooManyEmployments { max: MAX_REQUIRED_EMPLOYMENTS });
}
