//! The agreements and members the source reports describe, with their real numbers. Tests, the demo
//! data and the README's API tour all start from these, so a figure is written down only once.

use crate::agreement::{
    AfterEmploymentMaximum, AgreementKind, AgreementTerms, Buyer, PostalAddress, RateCard, VatCategory,
};
use crate::calendar::DateRange;
use crate::member::MemberCategory;
use crate::money::{Ore, Percent};
use crate::org_number::OrgNumber;
use time::macros::date;

fn org(digits: &str) -> OrgNumber {
    OrgNumber::parse(digits).unwrap_or_else(|e| unreachable!("example org numbers are valid: {e}"))
}

fn percent(whole: u32) -> Percent {
    Percent::from_whole(whole)
}

/// The sole-supplier consortium that holds the agreements.
pub const CONSORTIUM_ORG_NUMBER: &str = "556677-8899";

/// Östersund's reserved framework agreement from September 2024: 6 000 kr per filled place and month,
/// up to 12 000 kr while the member employs the participant (duration not given in the report: we use
/// 6 months), a lower rate for non-ASF associations (not given: we use 4 000 kr), three years.
pub fn ostersund_work_training() -> AgreementTerms {
    AgreementTerms {
        title: "Arbetsträning och sysselsättningsplatser".into(),
        contract_reference: "RA-2024-AME-01".into(),
        buyer: Buyer {
            name: "Östersunds kommun".into(),
            org_number: org("212000-2411"),
            reference: "AME-ARBETSTRANING".into(),
            address: Some(Box::new(PostalAddress {
                street: "Rådhusgatan 42".into(),
                postal_code: "831 82".into(),
                city: "Östersund".into(),
            })),
        },
        kind: AgreementKind::TrainingPlaces,
        period: DateRange { start: date!(2024 - 09 - 01), end: Some(date!(2027 - 08 - 31)) },
        contracted_places: 13,
        contract_value: None,
        reserved: true,
        rates: RateCard {
            wise: Ore::kr(6_000),
            other_association: Some(Ore::kr(4_000)),
            employment: Some(Ore::kr(12_000)),
        },
        employment_rate_max_months: Some(6),
        after_employment_maximum: AfterEmploymentMaximum::TrainingRate,
        max_months_per_participant: None,
        commission: percent(5),
        vat: VatCategory::Exempt { reason: "Arbetsmarknadsinsats, undantagen enligt 3 kap. ML".into() },
        payment_terms_days: None,
        employment_requirement: None,
    }
}

/// Krokom–Fristad: 7 500 kr per month for at most 3 months; later cut to 3 000 kr (see
/// [`krokom_rate_cut`]). The report says the contract runs 15 years.
pub fn krokom_reserved() -> AgreementTerms {
    AgreementTerms {
        title: "Reserverat kontrakt arbetsträning".into(),
        contract_reference: "KK-2020-15".into(),
        buyer: Buyer {
            name: "Krokoms kommun".into(),
            org_number: org("212000-2429"),
            reference: "SOC-FRISTAD".into(),
            address: None,
        },
        kind: AgreementKind::TrainingPlaces,
        period: DateRange { start: date!(2020 - 01 - 01), end: Some(date!(2034 - 12 - 31)) },
        contracted_places: 8,
        contract_value: None,
        reserved: true,
        rates: RateCard { wise: Ore::kr(7_500), other_association: None, employment: None },
        employment_rate_max_months: None,
        after_employment_maximum: AfterEmploymentMaximum::TrainingRate,
        max_months_per_participant: Some(3),
        commission: percent(5),
        vat: VatCategory::Exempt { reason: "Arbetsmarknadsinsats, undantagen enligt 3 kap. ML".into() },
        payment_terms_days: None,
        employment_requirement: None,
    }
}

/// The Krokom rate cut "justerats till 3 000 kr/månad" (date not given: we use 2025-01-01).
pub fn krokom_rate_cut() -> (time::Date, RateCard) {
    (date!(2025 - 01 - 01), RateCard { wise: Ore::kr(3_000), other_association: None, employment: None })
}

/// Nordanstig: 5 000 kr per month for work training, 10 000 kr per employment.
pub fn nordanstig_work_training() -> AgreementTerms {
    AgreementTerms {
        title: "Arbetsträning och anställning".into(),
        contract_reference: "NS-2025-03".into(),
        buyer: Buyer {
            name: "Nordanstigs kommun".into(),
            org_number: org("212000-2437"),
            reference: "AMU-NORDANSTIG".into(),
            address: None,
        },
        kind: AgreementKind::TrainingPlaces,
        period: DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2027 - 12 - 31)) },
        contracted_places: 6,
        contract_value: None,
        reserved: false,
        rates: RateCard {
            wise: Ore::kr(5_000),
            other_association: Some(Ore::kr(5_000)),
            employment: Some(Ore::kr(10_000)),
        },
        employment_rate_max_months: Some(12),
        after_employment_maximum: AfterEmploymentMaximum::TrainingRate,
        max_months_per_participant: None,
        commission: percent(5),
        vat: VatCategory::Exempt { reason: "Arbetsmarknadsinsats, undantagen enligt 3 kap. ML".into() },
        payment_terms_days: None,
        employment_requirement: None,
    }
}

/// Social Trade's 40 MSEK fruit-basket contract, split into purchasing, packing and delivery.
pub fn fruit_baskets() -> AgreementTerms {
    AgreementTerms {
        title: "Fruktkorgar till stadens arbetsplatser".into(),
        contract_reference: "GBG-FRUKT-2025".into(),
        buyer: Buyer {
            name: "Göteborgs Stad".into(),
            org_number: org("212000-1355"),
            reference: "INKOP-FRUKT".into(),
            address: Some(Box::new(PostalAddress {
                street: "Gustaf Adolfs torg 4 A".into(),
                postal_code: "411 10".into(),
                city: "Göteborg".into(),
            })),
        },
        kind: AgreementKind::GoodsAndServices,
        period: DateRange { start: date!(2025 - 01 - 01), end: Some(date!(2027 - 12 - 31)) },
        contracted_places: 0,
        contract_value: Some(Ore::kr(40_000_000)),
        reserved: false,
        rates: RateCard { wise: Ore::ZERO, other_association: Some(Ore::ZERO), employment: None },
        employment_rate_max_months: None,
        after_employment_maximum: AfterEmploymentMaximum::TrainingRate,
        max_months_per_participant: None,
        commission: percent(5),
        vat: VatCategory::Standard25,
        payment_terms_days: None,
        employment_requirement: None,
    }
}

/// A member as the demo and tests register it.
pub struct ExampleMember {
    pub name: &'static str,
    pub org_number: &'static str,
    pub category: MemberCategory,
    pub target_group_share: u32,
}

/// Members of a Vägen Ut-style consortium: most are ASF; one is an association paid the lower rate.
pub const MEMBERS: [ExampleMember; 4] = [
    ExampleMember {
        name: "Vägen Ut Café & Catering",
        org_number: "769600-1234",
        category: MemberCategory::Wise,
        target_group_share: 60,
    },
    ExampleMember {
        name: "Returbutiken Fyndet",
        org_number: "716422-1231",
        category: MemberCategory::Wise,
        target_group_share: 45,
    },
    ExampleMember {
        name: "Trädgårdskooperativet Grönt",
        org_number: "802481-3472",
        category: MemberCategory::Wise,
        target_group_share: 25,
    },
    ExampleMember {
        name: "Föreningen Gemenskap",
        org_number: "802000-1239",
        category: MemberCategory::OtherAssociation,
        target_group_share: 35,
    },
];
