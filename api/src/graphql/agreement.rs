//! Framework agreements: registering them and changing their terms over time.

use super::{actor, app, connection, iso, page, reader, Listing};
use crate::application::access::Reading;
use crate::application::agreements;
use crate::application::input::{
    date, end_date, id, optional_text, org_number, percent, reason, text, NAME_MAX, REASON_MAX, REFERENCE_MAX,
};
use crate::error::AppError;
use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use konsortium_domain::agreement::{
    AfterEmploymentMaximum, AgreementKind, AgreementTerms, Buyer, EmploymentRequirement, FrameworkAgreement,
    PostalAddress, RateCard, RateChange, VatCategory,
};
use konsortium_domain::calendar::DateRange;
use konsortium_domain::money::Ore;
use konsortium_projections::views::agreements::{self as view, AgreementFilter};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "AgreementKind")]
pub enum AgreementKindGql {
    /// Work-training places paid per filled place and month.
    TrainingPlaces,
    /// Goods or services split by role and share of value.
    GoodsAndServices,
}

impl From<AgreementKindGql> for AgreementKind {
    fn from(value: AgreementKindGql) -> Self {
        match value {
            AgreementKindGql::TrainingPlaces => AgreementKind::TrainingPlaces,
            AgreementKindGql::GoodsAndServices => AgreementKind::GoodsAndServices,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "VatCategory")]
pub enum VatCategoryGql {
    /// Standard rate, 25 % (EN 16931 category S).
    #[graphql(name = "STANDARD_25")]
    Standard25,
    /// Exempt (category E); needs the legal reason.
    Exempt,
}

#[derive(InputObject)]
pub struct BuyerInput {
    pub name: String,
    pub org_number: String,
    /// Buyer reference (BT-10), required on every e-invoice.
    pub reference: String,
    /// Where invoices are addressed (optional: Peppol routes them by the organisation number).
    pub address: Option<PostalAddressInput>,
}

#[derive(InputObject)]
pub struct PostalAddressInput {
    pub street: String,
    /// Five digits, e.g. "831 82".
    pub postal_code: String,
    pub city: String,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "PostalAddress")]
pub struct PostalAddressView {
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

impl From<Box<PostalAddress>> for PostalAddressView {
    fn from(a: Box<PostalAddress>) -> PostalAddressView {
        let PostalAddress { street, postal_code, city } = *a;
        PostalAddressView { street, postal_code, city }
    }
}

/// Rates in öre per full month of one filled place (6 000 kr = 600000).
#[derive(InputObject)]
pub struct RatesInput {
    pub asf_ore: i64,
    /// Omit when the agreement admits only ASF.
    pub other_association_ore: Option<i64>,
    /// Paid instead while the member employs the participant.
    pub employment_ore: Option<i64>,
}

/// Rates are checked by the agreement itself (not negative, not above 1 000 000 kr), so the rule
/// has one home.
impl From<RatesInput> for RateCard {
    fn from(input: RatesInput) -> RateCard {
        RateCard {
            wise: Ore(input.asf_ore),
            other_association: input.other_association_ore.map(Ore),
            employment: input.employment_ore.map(Ore),
        }
    }
}

/// A change of rates from a day. A rate left out keeps its value; `null` removes it (other
/// associations no longer admitted, no employment rate).
#[derive(InputObject)]
pub struct RateChangeInput {
    pub asf_ore: Option<i64>,
    pub other_association_ore: MaybeUndefined<i64>,
    pub employment_ore: MaybeUndefined<i64>,
}

impl From<RateChangeInput> for RateChange {
    fn from(input: RateChangeInput) -> RateChange {
        let change = |value: MaybeUndefined<i64>| match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(v) => Some(Some(Ore(v))),
        };
        RateChange {
            wise: input.asf_ore.map(Ore),
            other_association: change(input.other_association_ore),
            employment: change(input.employment_ore),
        }
    }
}

/// What an employed participant earns once the agreement's employment maximum is reached.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "AfterEmploymentMaximum")]
pub enum AfterEmploymentMaximumGql {
    /// The training rate again (the default).
    #[default]
    TrainingRate,
    /// Nothing more for that participant while employed.
    Unpaid,
}

/// The kind of a special contract condition on employing people from the target group.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EmploymentRequirementKind")]
pub enum EmploymentRequirementKindGql {
    /// Mandatory, with a number of employments or placements.
    Skallkrav,
    /// Dialogue only; no number.
    Dialogkrav,
}

/// A special contract condition (särskilt kontraktsvillkor) on employing people from the target group.
#[derive(InputObject)]
pub struct EmploymentRequirementInput {
    pub kind: EmploymentRequirementKindGql,
    /// Employments or placements a skallkrav demands (at least 1); leave out, or 0, for a dialogkrav.
    /// An `Int` rather than an unsigned type so a negative number is answered with a VALIDATION
    /// error that names the field.
    pub required: Option<i64>,
}

/// The condition as registered; `required` is null for a dialogkrav.
#[derive(SimpleObject, Clone)]
#[graphql(name = "EmploymentRequirement")]
pub struct EmploymentRequirementView {
    pub kind: EmploymentRequirementKindGql,
    pub required: Option<u32>,
}

impl From<EmploymentRequirement> for EmploymentRequirementView {
    fn from(requirement: EmploymentRequirement) -> Self {
        match requirement {
            EmploymentRequirement::Mandatory { employments } => {
                EmploymentRequirementView { kind: EmploymentRequirementKindGql::Skallkrav, required: Some(employments) }
            }
            EmploymentRequirement::Dialogue => {
                EmploymentRequirementView { kind: EmploymentRequirementKindGql::Dialogkrav, required: None }
            }
        }
    }
}

/// The requirement from its input. The parser refuses what no requirement could be (a negative or
/// non-representable count, a number on a dialogkrav); the agreement refuses a skallkrav of zero or
/// above its maximum, so those rules have one home.
fn employment_requirement(
    input: Option<EmploymentRequirementInput>,
) -> Result<Option<EmploymentRequirement>, AppError> {
    const FIELD: &str = "employmentRequirement.required";
    let Some(input) = input else { return Ok(None) };
    let required = match input.required {
        None => None,
        Some(n) if n < 0 => return Err(AppError::invalid(FIELD, "cannot be negative")),
        Some(n) => Some(u32::try_from(n).map_err(|_| AppError::invalid(FIELD, "is far too large"))?),
    };
    match (input.kind, required) {
        (EmploymentRequirementKindGql::Skallkrav, Some(employments)) => {
            Ok(Some(EmploymentRequirement::Mandatory { employments }))
        }
        (EmploymentRequirementKindGql::Skallkrav, None) => {
            Err(AppError::invalid(FIELD, "a skallkrav needs its number of employments"))
        }
        (EmploymentRequirementKindGql::Dialogkrav, None | Some(0)) => Ok(Some(EmploymentRequirement::Dialogue)),
        (EmploymentRequirementKindGql::Dialogkrav, Some(_)) => {
            Err(AppError::invalid(FIELD, "a dialogkrav carries no number; use a skallkrav"))
        }
    }
}

#[derive(InputObject)]
pub struct RegisterAgreementInput {
    pub title: String,
    /// The buyer's contract or diarie number.
    pub contract_reference: String,
    pub buyer: BuyerInput,
    pub kind: AgreementKindGql,
    /// `YYYY-MM-DD`
    pub start_date: String,
    /// `YYYY-MM-DD`; omit (or write 9999-12-31) when the agreement runs until further notice.
    pub end_date: Option<String>,
    #[graphql(default)]
    pub contracted_places: u32,
    /// Total value of a goods-and-services agreement, in öre.
    pub contract_value_ore: Option<i64>,
    #[graphql(default)]
    pub reserved: bool,
    pub rates: RatesInput,
    pub employment_rate_max_months: Option<u32>,
    /// What is paid for an employed participant after `employmentRateMaxMonths`.
    #[graphql(default)]
    pub after_employment_maximum: AfterEmploymentMaximumGql,
    /// At most this many months are paid per participant on the agreement, across places.
    pub max_months_per_participant: Option<u32>,
    /// The consortium's commission, in percent: "5" or "7,5".
    pub commission_percent: String,
    pub vat: VatCategoryGql,
    pub vat_exemption_reason: Option<String>,
    /// Days from issue to due date on this agreement's invoices (1 to 365); the consortium's
    /// terms when left out.
    pub payment_terms_days: Option<u32>,
    /// A skallkrav or dialogkrav on employing people from the target group, if the contract has one.
    pub employment_requirement: Option<EmploymentRequirementInput>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Buyer")]
pub struct BuyerView {
    pub name: String,
    pub org_number: String,
    pub reference: String,
    pub address: Option<PostalAddressView>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "RateVersion")]
pub struct RateVersionView {
    pub effective_from: String,
    pub asf_ore: i64,
    pub other_association_ore: Option<i64>,
    pub employment_ore: Option<i64>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "CapacityVersion")]
pub struct CapacityVersionView {
    pub effective_from: String,
    pub places: u32,
}

/// A framework agreement (ramavtal) with its terms and their history.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Agreement")]
pub struct AgreementView {
    pub id: ID,
    pub title: String,
    pub contract_reference: String,
    pub buyer: BuyerView,
    pub kind: AgreementKindGql,
    pub start_date: String,
    pub end_date: Option<String>,
    pub terminated_on: Option<String>,
    /// Places contracted at the start; see `capacity` for changes.
    pub contracted_places: u32,
    pub contract_value_ore: Option<i64>,
    pub reserved: bool,
    /// Every rate card with the day it took effect, oldest first.
    pub rates: Vec<RateVersionView>,
    pub capacity: Vec<CapacityVersionView>,
    pub employment_rate_max_months: Option<u32>,
    pub after_employment_maximum: AfterEmploymentMaximumGql,
    pub max_months_per_participant: Option<u32>,
    /// For display, e.g. "5 %".
    pub commission: String,
    pub commission_basis_points: u32,
    pub vat: VatCategoryGql,
    pub vat_exemption_reason: Option<String>,
    /// Days from issue to due date on this agreement's invoices; null: the consortium's terms.
    pub payment_terms_days: Option<u32>,
    /// The special contract condition on employing people from the target group, if any.
    pub employment_requirement: Option<EmploymentRequirementView>,
}

impl AgreementView {
    pub(crate) fn new(id: String, agreement: FrameworkAgreement) -> Option<AgreementView> {
        let terms = agreement.terms?;
        let (vat, vat_exemption_reason) = match terms.vat {
            VatCategory::Standard25 => (VatCategoryGql::Standard25, None),
            VatCategory::Exempt { reason } => (VatCategoryGql::Exempt, Some(reason)),
        };
        Some(AgreementView {
            id: ID(id),
            title: terms.title,
            contract_reference: terms.contract_reference,
            buyer: BuyerView {
                name: terms.buyer.name,
                org_number: terms.buyer.org_number.to_string(),
                reference: terms.buyer.reference,
                address: terms.buyer.address.map(Into::into),
            },
            kind: match terms.kind {
                AgreementKind::TrainingPlaces => AgreementKindGql::TrainingPlaces,
                AgreementKind::GoodsAndServices => AgreementKindGql::GoodsAndServices,
            },
            start_date: iso(terms.period.start),
            end_date: terms.period.end.map(iso),
            terminated_on: agreement.terminated.map(iso),
            contracted_places: terms.contracted_places,
            contract_value_ore: terms.contract_value.map(|v| v.0),
            reserved: terms.reserved,
            rates: agreement
                .rate_history
                .into_iter()
                .map(|v| RateVersionView {
                    effective_from: iso(v.effective_from),
                    asf_ore: v.rates.wise.0,
                    other_association_ore: v.rates.other_association.map(|o| o.0),
                    employment_ore: v.rates.employment.map(|o| o.0),
                })
                .collect(),
            capacity: agreement
                .capacity_history
                .into_iter()
                .map(|v| CapacityVersionView { effective_from: iso(v.effective_from), places: v.places })
                .collect(),
            employment_rate_max_months: terms.employment_rate_max_months,
            after_employment_maximum: match terms.after_employment_maximum {
                AfterEmploymentMaximum::TrainingRate => AfterEmploymentMaximumGql::TrainingRate,
                AfterEmploymentMaximum::Unpaid => AfterEmploymentMaximumGql::Unpaid,
            },
            max_months_per_participant: terms.max_months_per_participant,
            commission: terms.commission.to_string(),
            commission_basis_points: terms.commission.basis_points(),
            vat,
            vat_exemption_reason,
            payment_terms_days: terms.payment_terms_days.map(u32::from),
            employment_requirement: terms.employment_requirement.map(Into::into),
        })
    }
}

fn terms(input: RegisterAgreementInput) -> Result<AgreementTerms, AppError> {
    let exemption_reason = optional_text("vatExemptionReason", input.vat_exemption_reason.as_deref(), REASON_MAX)?;
    let vat = match input.vat {
        VatCategoryGql::Standard25 => VatCategory::Standard25,
        VatCategoryGql::Exempt => VatCategory::Exempt { reason: exemption_reason.unwrap_or_default() },
    };
    Ok(AgreementTerms {
        title: text("title", &input.title, NAME_MAX)?,
        contract_reference: text("contractReference", &input.contract_reference, REFERENCE_MAX)?,
        buyer: Buyer {
            name: text("buyer.name", &input.buyer.name, NAME_MAX)?,
            org_number: org_number("buyer.orgNumber", &input.buyer.org_number)?,
            reference: text("buyer.reference", &input.buyer.reference, REFERENCE_MAX)?,
            address: match input.buyer.address {
                Some(a) => Some(Box::new(PostalAddress {
                    street: text("buyer.address.street", &a.street, NAME_MAX)?,
                    postal_code: text("buyer.address.postalCode", &a.postal_code, 10)?,
                    city: text("buyer.address.city", &a.city, NAME_MAX)?,
                })),
                None => None,
            },
        },
        kind: input.kind.into(),
        // The aggregate, not the parser, rejects an end before the start, so the rule has one home.
        period: DateRange {
            start: date("startDate", &input.start_date)?,
            end: end_date("endDate", input.end_date.as_deref())?,
        },
        contracted_places: input.contracted_places,
        contract_value: input.contract_value_ore.map(Ore),
        reserved: input.reserved,
        rates: input.rates.into(),
        employment_rate_max_months: input.employment_rate_max_months,
        after_employment_maximum: match input.after_employment_maximum {
            AfterEmploymentMaximumGql::TrainingRate => AfterEmploymentMaximum::TrainingRate,
            AfterEmploymentMaximumGql::Unpaid => AfterEmploymentMaximum::Unpaid,
        },
        max_months_per_participant: input.max_months_per_participant,
        commission: percent("commissionPercent", &input.commission_percent)?,
        vat,
        payment_terms_days: input.payment_terms_days.map(|days| u16::try_from(days).unwrap_or(u16::MAX)),
        employment_requirement: employment_requirement(input.employment_requirement)?,
    })
}

#[derive(Default)]
pub struct AgreementQuery;

#[Object]
impl AgreementQuery {
    async fn agreement(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<AgreementView>> {
        let id = self::id("id", &id)?;
        let (scope, _turn) = reader(ctx, Reading::Agreements).await?;
        let found = view::get(app(ctx).reads(), &id, &scope).await.map_err(AppError::from)?;
        Ok(found.and_then(|row| AgreementView::new(row.id, row.state)))
    }

    /// Agreements by start date, a page at a time (`first` at most 500, default 100), optionally
    /// of one buyer or kind.
    #[graphql(complexity = "super::list_cost(first, child_complexity)")]
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        buyer_org_number: Option<String>,
        kind: Option<AgreementKindGql>,
    ) -> async_graphql::Result<Listing<AgreementView>> {
        let page = page(ctx, first, after.as_deref())?;
        let (scope, _turn) = reader(ctx, Reading::Agreements).await?;
        let filter = AgreementFilter {
            scope,
            buyer_org_number: buyer_org_number.map(|org| org_number("buyerOrgNumber", &org)).transpose()?,
            kind: kind.map(Into::into),
        };
        let rows = view::page(app(ctx).reads(), &filter, &page).await.map_err(AppError::from)?;
        Ok(connection(rows, &page, |row| row.cursor(), |row| AgreementView::new(row.id, row.state)))
    }
}

#[derive(Default)]
pub struct AgreementMutation;

fn view(id: String, agreement: FrameworkAgreement) -> Result<AgreementView, AppError> {
    AgreementView::new(id.clone(), agreement).ok_or_else(|| AppError::NotFound(format!("no agreement with id {id}")))
}

#[Object]
impl AgreementMutation {
    /// Registers a framework agreement the consortium has won.
    async fn register_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: RegisterAgreementInput,
    ) -> async_graphql::Result<AgreementView> {
        let (id, agreement) =
            agreements::register_agreement(app(ctx), &actor(ctx, idempotency_key)?, terms(input)?).await?;
        Ok(view(id, agreement)?)
    }

    /// New rates from a date (e.g. Krokom's cut from 7 500 to 3 000 kr); earlier days keep the old
    /// ones, and a rate left out of `rates` carries forward.
    async fn change_agreement_rates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        effective_from: String,
        rates: RateChangeInput,
    ) -> async_graphql::Result<AgreementView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let effective_from = date("effectiveFrom", &effective_from)?;
        let agreement = agreements::change_agreement_rates(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &agreement_id,
            effective_from,
            rates.into(),
        )
        .await?;
        Ok(view(agreement_id, agreement)?)
    }

    /// More or fewer contracted places from a date; never fewer than members hold on any day.
    async fn change_agreement_capacity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        effective_from: String,
        places: u32,
    ) -> async_graphql::Result<AgreementView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let effective_from = date("effectiveFrom", &effective_from)?;
        let agreement = agreements::change_agreement_capacity(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &agreement_id,
            effective_from,
            places,
        )
        .await?;
        Ok(view(agreement_id, agreement)?)
    }

    async fn extend_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        new_end: String,
    ) -> async_graphql::Result<AgreementView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let new_end = date("newEnd", &new_end)?;
        let agreement =
            agreements::extend_agreement(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, new_end).await?;
        Ok(view(agreement_id, agreement)?)
    }

    async fn terminate_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        last_day: String,
        reason: String,
    ) -> async_graphql::Result<AgreementView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let last_day = date("lastDay", &last_day)?;
        let reason = self::reason("reason", &reason)?;
        let agreement =
            agreements::terminate_agreement(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, last_day, reason)
                .await?;
        Ok(view(agreement_id, agreement)?)
    }

    async fn change_buyer_reference(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        reference: String,
    ) -> async_graphql::Result<AgreementView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let reference = text("reference", &reference, REFERENCE_MAX)?;
        let agreement =
            agreements::change_buyer_reference(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, reference)
                .await?;
        Ok(view(agreement_id, agreement)?)
    }
}
