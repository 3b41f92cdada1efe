use super::*;
use crate::agreement::{AgreementEvent, FrameworkAgreement};
use crate::calendar::DateRange;
use crate::examples::{fruit_baskets, ostersund_work_training};
use crate::money::{Ore, Percent};
use crate::split::{SplitEvent, SubContractSplit};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use time::macros::date;
use time::Date;

type DeliveryTest = TestFramework<DeliveryMonth>;

fn fruit() -> FrameworkAgreement {
    FrameworkAgreement::from_events(vec![AgreementEvent::AgreementRegistered(fruit_baskets())])
}

fn role(id: &str, member: &str, role: &str, share: u32) -> SplitEvent {
    SplitEvent::RoleAllocated {
        allocation_id: id.into(),
        member_id: member.into(),
        role: role.into(),
        share: Percent::from_whole(share),
        period: DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2027 - 12 - 31)) },
    }
}

/// The fruit baskets split 50/20/30 between purchasing, packing and delivery.
fn split(shares: [u32; 3]) -> SubContractSplit {
    let mut split = SubContractSplit::default();
    for event in [
        role("buy", "cafe", "purchasing", shares[0]),
        role("pack", "fyndet", "packing", shares[1]),
        role("drive", "gront", "delivery", shares[2]),
    ] {
        split.apply(event);
    }
    split
}

fn delivery(quantity: i64, unit_price: i64, on: Date, allocation: &str) -> NewDelivery {
    NewDelivery {
        delivery_id: "d1".into(),
        delivered_on: on,
        quantity,
        unit_price: Ore(unit_price),
        description: "Fruktkorg 5 kg".into(),
        allocation_id: allocation.into(),
    }
}

fn record(new: NewDelivery, agreement: FrameworkAgreement, split: SubContractSplit) -> DeliveryCommand {
    DeliveryCommand::Record {
        agreement_id: "fruit".into(),
        delivery: new,
        agreement: Box::new(agreement),
        split: Box::new(split),
    }
}

fn earning(member: &str, allocation: &str, role: &str, share: u32, amount: i64) -> Earning {
    Earning {
        member_id: member.into(),
        allocation_id: allocation.into(),
        role: role.into(),
        share: Percent::from_whole(share),
        amount: Ore(amount),
    }
}

#[test]
fn a_delivery_is_quantity_times_price_shared_by_the_role_shares_to_the_ore() {
    // 37 baskets at 249,99 kr: 924 963 öre. 50/20/30 is 462 481,5 + 184 992,6 + 277 488,9: rounded down
    // they leave 2 öre, which go to the largest remainders (,9 and ,6), so the earnings add up exactly.
    DeliveryTest::with(())
        .given_no_previous_events()
        .when(record(delivery(37, 24_999, date!(2025 - 03 - 14), "drive"), fruit(), split([50, 20, 30])))
        .then_expect_events(vec![DeliveryEvent::DeliveryRecorded {
            agreement_id: "fruit".into(),
            month: crate::calendar::Month::of(date!(2025 - 03 - 01)),
            delivery: Box::new(Delivery {
                delivery_id: "d1".into(),
                delivered_on: date!(2025 - 03 - 14),
                quantity: 37,
                unit_price: Ore(24_999),
                amount: Ore(924_963),
                description: "Fruktkorg 5 kg".into(),
                allocation_id: "drive".into(),
                member_id: "gront".into(),
                earnings: vec![
                    earning("cafe", "buy", "purchasing", 50, 462_481),
                    earning("fyndet", "pack", "packing", 20, 184_993),
                    earning("gront", "drive", "delivery", 30, 277_489),
                ],
            }),
        }]);
}

#[test]
fn bad_quantities_prices_and_allocations_are_refused() {
    let on = date!(2025 - 03 - 14);
    let cases = [
        (
            delivery(0, 100, on, "drive"),
            fruit(),
            split([50, 20, 30]),
            DeliveryError::InvalidQuantity { max: MAX_QUANTITY },
        ),
        (
            delivery(-3, 100, on, "drive"),
            fruit(),
            split([50, 20, 30]),
            DeliveryError::InvalidQuantity { max: MAX_QUANTITY },
        ),
        (
            delivery(3, 0, on, "drive"),
            fruit(),
            split([50, 20, 30]),
            DeliveryError::InvalidUnitPrice { max: MAX_UNIT_PRICE },
        ),
        (
            delivery(3, -100, on, "drive"),
            fruit(),
            split([50, 20, 30]),
            DeliveryError::InvalidUnitPrice { max: MAX_UNIT_PRICE },
        ),
        (delivery(3, 100, on, "nobody"), fruit(), split([50, 20, 30]), DeliveryError::UnknownAllocation),
        (
            delivery(3, 100, date!(2028 - 01 - 10), "drive"),
            fruit(),
            split([50, 20, 30]),
            DeliveryError::OutsideAllocation { date: date!(2028 - 01 - 10) },
        ),
        (
            delivery(3, 100, on, "drive"),
            fruit(),
            split([50, 20, 20]),
            DeliveryError::SharesIncomplete { date: on, total_basis_points: 9_000 },
        ),
        (
            delivery(3, 100, on, "drive"),
            FrameworkAgreement::from_events(vec![AgreementEvent::AgreementRegistered(ostersund_work_training())]),
            split([50, 20, 30]),
            DeliveryError::DeliveryOnTrainingAgreement,
        ),
    ];
    for (new, agreement, split, error) in cases {
        DeliveryTest::with(()).given_no_previous_events().when(record(new, agreement, split)).then_expect_error(error);
    }
}

#[test]
fn an_invoiced_month_takes_no_delivery_until_its_invoice_is_credited() {
    let on = date!(2025 - 03 - 14);
    let recorded = DeliveryMonth::default()
        .decide(record(delivery(1, 100, on, "pack"), fruit(), split([50, 20, 30])))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut second = delivery(2, 100, on, "pack");
    second.delivery_id = "d2".into();
    DeliveryTest::with(())
        .given(vec![recorded.clone(), DeliveryEvent::DeliveriesInvoiced { invoice_id: "2025-00001".into() }])
        .when(record(second.clone(), fruit(), split([50, 20, 30])))
        .then_expect_error(DeliveryError::AlreadyInvoiced { invoice_id: "2025-00001".into() });
    DeliveryTest::with(())
        .given(vec![
            recorded,
            DeliveryEvent::DeliveriesInvoiced { invoice_id: "2025-00001".into() },
            DeliveryEvent::DeliveriesReopened { credit_note: "K2025-00001".into() },
        ])
        .when(DeliveryCommand::MarkInvoiced { invoice_id: "2025-00002".into() })
        .then_expect_events(vec![DeliveryEvent::DeliveriesInvoiced { invoice_id: "2025-00002".into() }]);
}
