//! Deliveries on goods-and-services agreements and what each member earns of them.

use super::{actor, app, caller, iso};
use crate::application::deliveries::{self, DeliveryInput};
use crate::application::input::{date, id, month, text, NAME_MAX};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use konsortium_domain::delivery::{DeliveryMonth, NewDelivery};
use konsortium_domain::money::Ore;

/// A delivery on a goods-and-services agreement (fruit baskets packed, routes driven).
#[derive(InputObject)]
pub struct RecordDeliveryInput {
    pub agreement_id: ID,
    /// The role allocation (of this agreement's split) that delivered.
    pub allocation_id: ID,
    /// `YYYY-MM-DD`: the delivery is invoiced with this day's month.
    pub delivered_on: String,
    /// How many, a whole number from 1.
    pub quantity: i64,
    /// The price of one, in öre, more than 0.
    pub unit_price_ore: i64,
    /// What the buyer reads on the invoice line.
    pub description: String,
}

/// What one member earns of a delivery: its role's share of the value, to the öre.
#[derive(SimpleObject)]
#[graphql(name = "DeliveryEarning")]
pub struct EarningView {
    pub member_id: ID,
    pub allocation_id: ID,
    pub role: String,
    pub share_basis_points: u32,
    pub amount_ore: i64,
}

#[derive(SimpleObject)]
#[graphql(name = "RecordedDelivery")]
pub struct RecordedDeliveryView {
    pub id: ID,
    pub delivered_on: String,
    pub quantity: u32,
    pub unit_price_ore: i64,
    /// `quantity × unitPriceOre`.
    pub amount_ore: i64,
    pub description: String,
    pub allocation_id: ID,
    pub member_id: ID,
    /// The split's role shares on the day of delivery; they add up to `amountOre`.
    pub earnings: Vec<EarningView>,
}

/// What a member earns of a month's deliveries.
#[derive(SimpleObject)]
#[graphql(name = "MemberEarnings")]
pub struct MemberEarningsView {
    pub member_id: ID,
    pub amount_ore: i64,
}

/// One agreement's recorded deliveries of a month.
#[derive(SimpleObject)]
#[graphql(name = "DeliveryMonth")]
pub struct DeliveryMonthView {
    pub agreement_id: ID,
    pub month: String,
    pub deliveries: Vec<RecordedDeliveryView>,
    pub total_ore: i64,
    /// What each member earns of the month's deliveries, for the payout.
    pub earnings_by_member: Vec<MemberEarningsView>,
    /// The invoice number while the month is invoiced (and so closed to new deliveries).
    pub invoice_number: Option<String>,
}

impl DeliveryMonthView {
    fn new(month: DeliveryMonth) -> DeliveryMonthView {
        DeliveryMonthView {
            agreement_id: ID(month.agreement_id.clone()),
            month: month.month.map(|m| m.to_string()).unwrap_or_default(),
            total_ore: month.total().0,
            earnings_by_member: month
                .earnings_by_member()
                .into_iter()
                .map(|(member_id, amount)| MemberEarningsView { member_id: ID(member_id), amount_ore: amount.0 })
                .collect(),
            invoice_number: month.invoice_id,
            deliveries: month
                .deliveries
                .into_iter()
                .map(|d| RecordedDeliveryView {
                    id: ID(d.delivery_id),
                    delivered_on: iso(d.delivered_on),
                    quantity: d.quantity,
                    unit_price_ore: d.unit_price.0,
                    amount_ore: d.amount.0,
                    description: d.description,
                    allocation_id: ID(d.allocation_id),
                    member_id: ID(d.member_id),
                    earnings: d
                        .earnings
                        .into_iter()
                        .map(|e| EarningView {
                            member_id: ID(e.member_id),
                            allocation_id: ID(e.allocation_id),
                            role: e.role,
                            share_basis_points: e.share.basis_points(),
                            amount_ore: e.amount.0,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// One goods-and-services agreement's deliveries of a month (`YYYY-MM`) with what each member
    /// earns of them (staff only).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        month: String,
    ) -> async_graphql::Result<DeliveryMonthView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let month = self::month("month", &month)?;
        Ok(DeliveryMonthView::new(deliveries::deliveries(app(ctx), caller(ctx)?, &agreement_id, month).await?))
    }
}

#[derive(Default)]
pub struct DeliveryMutation;

#[Object]
impl DeliveryMutation {
    /// Records a delivery against a goods-and-services agreement (staff only); the month-end run
    /// invoices it as its own line. Returns the month's deliveries, the new one last.
    async fn record_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: RecordDeliveryInput,
    ) -> async_graphql::Result<DeliveryMonthView> {
        let input = DeliveryInput {
            agreement_id: id("agreementId", &input.agreement_id)?,
            delivery: NewDelivery {
                delivery_id: String::new(),
                delivered_on: date("deliveredOn", &input.delivered_on)?,
                quantity: input.quantity,
                unit_price: Ore(input.unit_price_ore),
                description: text("description", &input.description, NAME_MAX)?,
                allocation_id: id("allocationId", &input.allocation_id)?,
            },
        };
        let month = deliveries::record_delivery(app(ctx), &actor(ctx, idempotency_key)?, input).await?;
        Ok(DeliveryMonthView::new(month))
    }
}
