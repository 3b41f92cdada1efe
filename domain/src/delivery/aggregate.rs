use crate::agreement::{AgreementKind, FrameworkAgreement};
use crate::calendar::Month;
use crate::money::{Ore, Percent};
use crate::split::SubContractSplit;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::Date;

/// The most one delivery line may count: a typing error beyond it, not a delivery.
pub const MAX_QUANTITY: u32 = 1_000_000;
/// The highest unit price accepted (1 000 000 kr).
pub const MAX_UNIT_PRICE: Ore = Ore(100_000_000);

/// The id of the aggregate holding one agreement's deliveries of one month.
pub fn delivery_month_id(agreement_id: &str, month: Month) -> String {
    format!("{agreement_id}:deliveries:{month}")
}

/// What one member earns of a delivery: its role's share of the value, to the öre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earning {
    pub member_id: String,
    pub allocation_id: String,
    pub role: String,
    pub share: Percent,
    pub amount: Ore,
}

/// A recorded delivery, with what each member earns of it under the split on its day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub delivery_id: String,
    pub delivered_on: Date,
    pub quantity: u32,
    pub unit_price: Ore,
    /// `quantity × unit_price`.
    pub amount: Ore,
    pub description: String,
    /// The role allocation that delivered, and its member.
    pub allocation_id: String,
    pub member_id: String,
    pub earnings: Vec<Earning>,
}

/// A delivery as staff record it, before the rules have checked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDelivery {
    pub delivery_id: String,
    pub delivered_on: Date,
    pub quantity: i64,
    pub unit_price: Ore,
    pub description: String,
    pub allocation_id: String,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMonth {
    pub agreement_id: String,
    pub month: Option<Month>,
    pub deliveries: Vec<Delivery>,
    /// The invoice number while the month's deliveries are on an invoice not credited.
    pub invoice_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeliveryCommand {
    /// Records a delivery; `agreement` and `split` are the agreement's state as loaded.
    Record {
        agreement_id: String,
        delivery: NewDelivery,
        agreement: Box<FrameworkAgreement>,
        split: Box<SubContractSplit>,
    },
    /// The month-end run puts the month's deliveries on an invoice and locks the month.
    MarkInvoiced { invoice_id: String },
    /// A credit note cancelled the invoice: the month takes deliveries again and is invoiced anew.
    Reopen { credit_note: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeliveryEvent {
    DeliveryRecorded { agreement_id: String, month: Month, delivery: Box<Delivery> },
    DeliveriesInvoiced { invoice_id: String },
    DeliveriesReopened { credit_note: String },
}

impl DomainEvent for DeliveryEvent {
    fn event_type(&self) -> String {
        match self {
            DeliveryEvent::DeliveryRecorded { .. } => "DeliveryRecorded",
            DeliveryEvent::DeliveriesInvoiced { .. } => "DeliveriesInvoiced",
            DeliveryEvent::DeliveriesReopened { .. } => "DeliveriesReopened",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("the agreement is not registered")]
    AgreementNotRegistered,
    #[error("a training-place agreement is reported in places; deliveries are for goods and services")]
    DeliveryOnTrainingAgreement,
    #[error("the quantity is a whole number from 1 to {max}")]
    InvalidQuantity { max: u32 },
    #[error("the unit price is more than 0 öre and at most {max}")]
    InvalidUnitPrice { max: Ore },
    #[error("a delivery needs a description the buyer can read")]
    DescriptionMissing,
    #[error("no allocation with this id under the agreement")]
    UnknownAllocation,
    #[error("the allocation belongs to another agreement")]
    AllocationOfAnotherAgreement,
    #[error("the allocation does not run on {date}")]
    OutsideAllocation { date: Date },
    #[error("on {date} the role shares add up to {},{:02} %, not 100 %: what each member earns is undecided", total_basis_points / 100, total_basis_points % 100)]
    SharesIncomplete { date: Date, total_basis_points: u32 },
    #[error("the deliveries of this month are on invoice {invoice_id}; credit it to change them")]
    AlreadyInvoiced { invoice_id: String },
    #[error("a delivery with this id is recorded already")]
    DuplicateDelivery,
    #[error("no delivery is recorded for this month")]
    NothingToInvoice,
    #[error("the month's deliveries are not on an invoice")]
    NotInvoiced,
    #[error("the amount is larger than can be invoiced")]
    AmountTooLarge,
}

impl DeliveryMonth {
    /// The month's deliveries' total.
    pub fn total(&self) -> Ore {
        Ore::checked_sum(self.deliveries.iter().map(|d| d.amount)).unwrap_or(Ore(i64::MAX))
    }

    /// What each member earns of the month's deliveries, by member.
    pub fn earnings_by_member(&self) -> Vec<(String, Ore)> {
        let mut by_member: Vec<(String, Ore)> = Vec::new();
        for earning in self.deliveries.iter().flat_map(|d| &d.earnings) {
            match by_member.iter_mut().find(|(member, _)| *member == earning.member_id) {
                Some((_, amount)) => *amount = amount.checked_add(earning.amount).unwrap_or(*amount),
                None => by_member.push((earning.member_id.clone(), earning.amount)),
            }
        }
        by_member.sort();
        by_member
    }

    fn decide(&self, command: DeliveryCommand) -> Result<DeliveryEvent, DeliveryError> {
        match command {
            DeliveryCommand::Record { agreement_id, delivery, agreement, split } => {
                self.record(agreement_id, delivery, &agreement, &split)
            }
            DeliveryCommand::MarkInvoiced { invoice_id } => {
                if let Some(invoice_id) = &self.invoice_id {
                    return Err(DeliveryError::AlreadyInvoiced { invoice_id: invoice_id.clone() });
                }
                if self.deliveries.is_empty() {
                    return Err(DeliveryError::NothingToInvoice);
                }
                Ok(DeliveryEvent::DeliveriesInvoiced { invoice_id })
            }
            DeliveryCommand::Reopen { credit_note } => match self.invoice_id {
                Some(_) => Ok(DeliveryEvent::DeliveriesReopened { credit_note }),
                None => Err(DeliveryError::NotInvoiced),
            },
        }
    }

    fn record(
        &self,
        agreement_id: String,
        new: NewDelivery,
        agreement: &FrameworkAgreement,
        split: &SubContractSplit,
    ) -> Result<DeliveryEvent, DeliveryError> {
        let terms = agreement.terms.as_ref().ok_or(DeliveryError::AgreementNotRegistered)?;
        if terms.kind != AgreementKind::GoodsAndServices {
            return Err(DeliveryError::DeliveryOnTrainingAgreement);
        }
        let quantity = u32::try_from(new.quantity)
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or(DeliveryError::InvalidQuantity { max: MAX_QUANTITY })?;
        if new.unit_price <= Ore::ZERO || new.unit_price > MAX_UNIT_PRICE {
            return Err(DeliveryError::InvalidUnitPrice { max: MAX_UNIT_PRICE });
        }
        let description = new.description.trim().to_string();
        if description.is_empty() {
            return Err(DeliveryError::DescriptionMissing);
        }
        let date = new.delivered_on;
        let allocation = split.allocation(&new.allocation_id).ok_or(DeliveryError::UnknownAllocation)?;
        if allocation.on(date).is_none() || !agreement.period().is_some_and(|p| p.contains(date)) {
            return Err(DeliveryError::OutsideAllocation { date });
        }
        if let Some(invoice_id) = &self.invoice_id {
            return Err(DeliveryError::AlreadyInvoiced { invoice_id: invoice_id.clone() });
        }
        if self.deliveries.iter().any(|d| d.delivery_id == new.delivery_id) {
            return Err(DeliveryError::DuplicateDelivery);
        }
        if !split.shares_complete_on(date) {
            return Err(DeliveryError::SharesIncomplete { date, total_basis_points: split.share_total_on(date) });
        }
        let amount = i64::from(quantity)
            .checked_mul(new.unit_price.0)
            .map(Ore)
            .filter(|amount| self.total().checked_add(*amount).is_some())
            .ok_or(DeliveryError::AmountTooLarge)?;
        let shares: Vec<Earning> = split
            .allocations
            .iter()
            .filter_map(|a| Some((a, a.on(date)?, a.role.clone()?)))
            .filter(|(_, version, _)| version.share.basis_points() > 0)
            .map(|(a, version, role)| Earning {
                member_id: a.member_id.clone(),
                allocation_id: a.id.clone(),
                role,
                share: version.share,
                amount: Ore::ZERO,
            })
            .collect();
        let delivery = Delivery {
            delivery_id: new.delivery_id,
            delivered_on: date,
            quantity,
            unit_price: new.unit_price,
            amount,
            description,
            allocation_id: allocation.id.clone(),
            member_id: allocation.member_id.clone(),
            earnings: share_out(amount, shares),
        };
        Ok(DeliveryEvent::DeliveryRecorded { agreement_id, month: Month::of(date), delivery: Box::new(delivery) })
    }
}

/// Shares `amount` by the shares (which add up to 100 %) to the öre: each gets its share rounded
/// down, and the öre left over go one each to the largest remainders (ties: in the split's order),
/// so the earnings add up to the amount exactly.
fn share_out(amount: Ore, mut earnings: Vec<Earning>) -> Vec<Earning> {
    let whole = i128::from(Percent::HUNDRED.basis_points());
    let mut remainders: Vec<(i128, usize)> = Vec::new();
    let mut given = 0i128;
    for (index, earning) in earnings.iter_mut().enumerate() {
        let exact = i128::from(amount.0) * i128::from(earning.share.basis_points());
        let floor = exact / whole;
        earning.amount = Ore(i64::try_from(floor).unwrap_or(i64::MAX));
        given += floor;
        remainders.push((exact % whole, index));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = usize::try_from(i128::from(amount.0) - given).unwrap_or(0);
    for (_, index) in remainders.into_iter().take(left) {
        if let Some(earning) = earnings.get_mut(index) {
            earning.amount = Ore(earning.amount.0.saturating_add(1));
        }
    }
    earnings
}

impl Aggregate for DeliveryMonth {
    const TYPE: &'static str = "DeliveryMonth";
    type Command = DeliveryCommand;
    type Event = DeliveryEvent;
    type Error = DeliveryError;
    type Services = ();

    async fn handle(&mut self, command: DeliveryCommand, _: &(), sink: &EventSink<Self>) -> Result<(), DeliveryError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: DeliveryEvent) {
        match event {
            DeliveryEvent::DeliveryRecorded { agreement_id, month, delivery } => {
                self.agreement_id = agreement_id;
                self.month = Some(month);
                self.deliveries.push(*delivery);
            }
            DeliveryEvent::DeliveriesInvoiced { invoice_id } => self.invoice_id = Some(invoice_id),
            DeliveryEvent::DeliveriesReopened { .. } => self.invoice_id = None,
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
