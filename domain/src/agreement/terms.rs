use crate::calendar::DateRange;
use crate::member::MemberCategory;
use crate::money::{Ore, Percent};
use crate::org_number::OrgNumber;
use serde::{Deserialize, Serialize};
use time::Date;

/// What the buyer procures; it decides whether members are allocated places or roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgreementKind {
    /// Arbetsträning / sysselsättningsplatser paid per filled place and month.
    TrainingPlaces,
    /// Goods or services (the fruit-basket contract) split by role and share of value.
    GoodsAndServices,
}

/// The public buyer; an invoice without its reference (BT-10) is rejected by Peppol (R003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub name: String,
    pub org_number: OrgNumber,
    /// Buyer reference (BT-10), e.g. the ordering unit's code.
    pub reference: String,
    /// Where the buyer's invoices are addressed (BG-8); Peppol needs only the country, which is
    /// always Sweden, but a municipality's accounts payable sorts paper and PDF copies by it.
    /// Agreements registered before it was asked for have none.
    /// Boxed: most agreements' commands and events are smaller than three strings more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Box<PostalAddress>>,
}

/// A Swedish postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub street: String,
    /// Postnummer, e.g. `831 82`.
    pub postal_code: String,
    pub city: String,
}

impl PostalAddress {
    /// A street, a city and a postal code of five digits (spaces aside): what a letter needs.
    pub fn is_complete(&self) -> bool {
        let digits: Vec<u8> = self.postal_code.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        !self.street.trim().is_empty()
            && !self.city.trim().is_empty()
            && digits.len() == 5
            && digits.iter().all(u8::is_ascii_digit)
    }
}

/// VAT category of what an agreement sells, per EN 16931 (S = standard 25 %, E = exempt with a reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VatCategory {
    Standard25,
    Exempt { reason: String },
}

/// Monthly rates in öre for a full month of one filled place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCard {
    /// Rate for ASF members (Östersund 2024: 6 000 kr).
    pub wise: Ore,
    /// Lower rate for other associations; `None` when the agreement admits only ASF.
    pub other_association: Option<Ore>,
    /// Rate while the member employs the participant (Östersund: up to 12 000 kr; Nordanstig: 10 000 kr).
    pub employment: Option<Ore>,
}

impl RateCard {
    pub fn training_rate(&self, category: MemberCategory) -> Option<Ore> {
        match category {
            MemberCategory::Wise => Some(self.wise),
            MemberCategory::OtherAssociation => self.other_association,
        }
    }

    pub(super) fn has_negative(&self) -> bool {
        self.rates().any(Ore::is_negative)
    }

    pub(super) fn highest(&self) -> Ore {
        self.rates().max().unwrap_or(Ore::ZERO)
    }

    fn rates(&self) -> impl Iterator<Item = Ore> {
        [Some(self.wise), self.other_association, self.employment].into_iter().flatten()
    }
}

/// A change to the rate card from a day. A field left out carries the rate in force forward, so a
/// change of the training rate never silently drops an employed participant to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateChange {
    pub wise: Option<Ore>,
    /// `Some(None)`: other associations are no longer admitted from this day.
    pub other_association: Option<Option<Ore>>,
    /// `Some(None)`: no employment rate from this day.
    pub employment: Option<Option<Ore>>,
}

impl RateChange {
    /// The card in force after this change to `current`.
    pub fn applied_to(&self, current: &RateCard) -> RateCard {
        RateCard {
            wise: self.wise.unwrap_or(current.wise),
            other_association: self.other_association.unwrap_or(current.other_association),
            employment: self.employment.unwrap_or(current.employment),
        }
    }
}

impl From<RateCard> for RateChange {
    /// Replaces every rate.
    fn from(card: RateCard) -> RateChange {
        RateChange {
            wise: Some(card.wise),
            other_association: Some(card.other_association),
            employment: Some(card.employment),
        }
    }
}

/// What is paid for an employed participant once the agreement's employment maximum is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AfterEmploymentMaximum {
    /// The training rate again, as long as the participant stays (the default).
    #[default]
    TrainingRate,
    /// Nothing: the buyer pays the employment phase only for the agreed months.
    Unpaid,
}

/// A rate card in force from a date until the next version: rates change on running contracts
/// (Krokom 7 500 → 3 000 kr/month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateVersion {
    pub effective_from: Date,
    pub rates: RateCard,
}

/// Contracted places from a date until the next version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityVersion {
    pub effective_from: Date,
    pub places: u32,
}

/// A special contract condition (särskilt kontraktsvillkor, seed 001 R21) that the supplier employ
/// people from the target group or offer them placements. Buyers follow it up as required → agreed
/// (what members have committed to) → filled (people actually employed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmploymentRequirement {
    /// Skallkrav: mandatory, with the number of employments or placements the contract specifies.
    Mandatory { employments: u32 },
    /// Dialogkrav: the supplier discusses employments with the buyer; no number is promised, which
    /// the seed says works best because fixed numbers deter bids (R22).
    Dialogue,
}

impl EmploymentRequirement {
    /// The number the contract demands; zero for a dialogue requirement.
    pub fn required(&self) -> u32 {
        match self {
            EmploymentRequirement::Mandatory { employments } => *employments,
            EmploymentRequirement::Dialogue => 0,
        }
    }
}

/// Everything fixed when an agreement is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementTerms {
    pub title: String,
    /// The buyer's contract or diarie number, quoted on invoices (BT-12).
    pub contract_reference: String,
    pub buyer: Buyer,
    pub kind: AgreementKind,
    pub period: DateRange,
    /// Training places contracted from the start date; zero for goods-and-services agreements.
    pub contracted_places: u32,
    /// Total value for goods-and-services agreements (the fruit baskets: 40 MSEK).
    pub contract_value: Option<Ore>,
    /// Reserverad upphandling: only qualifying ASF may deliver.
    pub reserved: bool,
    pub rates: RateCard,
    /// How many months the employment rate may be paid per participant ("begränsad tid").
    pub employment_rate_max_months: Option<u32>,
    /// What an employed participant earns after `employment_rate_max_months`.
    #[serde(default)]
    pub after_employment_maximum: AfterEmploymentMaximum,
    /// How many months any rate may be paid per participant and agreement, across places (Krokom: at
    /// most 3).
    pub max_months_per_participant: Option<u32>,
    /// Provision: the consortium's share of each member's reimbursement.
    pub commission: Percent,
    pub vat: VatCategory,
    /// Days from issue to due date on this agreement's invoices; the consortium's terms (30 days)
    /// when none. A `u16`: a year fits, and the registration event stays small.
    #[serde(default)]
    pub payment_terms_days: Option<u16>,
    /// A special contract condition on employing people from the target group (särskilt
    /// kontraktsvillkor), if the agreement carries one. Defaults to none, so agreements registered
    /// before conditions were recorded still decode.
    #[serde(default)]
    pub employment_requirement: Option<EmploymentRequirement>,
}

impl AgreementTerms {
    pub(super) fn has_negative_rate(&self) -> bool {
        self.rates.has_negative() || self.contract_value.is_some_and(Ore::is_negative)
    }
}
