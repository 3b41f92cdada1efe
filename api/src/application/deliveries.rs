//! Deliveries on goods-and-services agreements (the fruit-basket model): recorded by staff against
//! the role allocation that delivered, invoiced by the month-end run as their own lines, and shared
//! among the members by the split's role shares on the day of each delivery.
//!
//! A month's deliveries are one aggregate (`DeliveryMonth`), which the month-end run appends to in
//! the same step as the invoice: a delivery racing the run either makes the invoice or is refused as
//! `AlreadyInvoiced`. What each member earns is decided when the delivery is recorded, from the split
//! as it is then, and kept with the delivery: the payout reads it, never recomputes it.

use super::access;
use super::agreements::registered_agreement;
use crate::app::{Actor, App};
use crate::error::AppError;
use konsortium_domain::calendar::Month;
use konsortium_domain::delivery::{delivery_month_id, DeliveryCommand, DeliveryError, DeliveryMonth, NewDelivery};
use konsortium_projections::views;

/// A delivery to record; `delivery.delivery_id` is chosen by the server.
#[derive(Debug, Clone)]
pub struct DeliveryInput {
    pub agreement_id: String,
    pub delivery: NewDelivery,
}

/// Records a delivery against a goods-and-services agreement; returns the month's deliveries with
/// the new one last.
pub async fn record_delivery(app: &App, actor: &Actor, input: DeliveryInput) -> Result<DeliveryMonth, AppError> {
    access::staff(actor)?;
    let agreement_id = input.agreement_id.as_str();
    let agreement = registered_agreement(app, agreement_id).await?;
    let month = Month::of(input.delivery.delivered_on);
    let id = delivery_month_id(agreement_id, month);
    let attempt = app.attempt(actor, "record_delivery", &input);
    let mut delivery = input.delivery.clone();
    delivery.delivery_id = uuid::Uuid::new_v4().to_string();
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let split = app.splits().load(agreement_id).await?.state;
        if split.allocation(&delivery.allocation_id).is_none() {
            return Err(unknown_allocation(app, agreement_id, &delivery.allocation_id).await);
        }
        let mut deliveries = app.deliveries().load(&id).await?;
        let recorded = deliveries
            .decide(DeliveryCommand::Record {
                agreement_id: agreement_id.to_string(),
                delivery: delivery.clone(),
                agreement: Box::new(agreement.clone()),
                split: Box::new(split),
            })
            .await?;
        attempt.commit(&[recorded], deliveries.state).await
    })
    .await
}

/// `AllocationOfAnotherAgreement` when the allocation exists under another agreement's split, else
/// `UnknownAllocation`. Only which error to give is read from the view; the rule is the split's.
async fn unknown_allocation(app: &App, agreement_id: &str, allocation_id: &str) -> AppError {
    let filter = views::splits::AllocationFilter::default();
    let elsewhere = match views::splits::list(app.reads(), &filter).await {
        Ok(rows) => rows.iter().any(|row| row.allocation.id == allocation_id && row.agreement_id != agreement_id),
        Err(err) => return err.into(),
    };
    match elsewhere {
        true => AppError::rule(&DeliveryError::AllocationOfAnotherAgreement),
        false => AppError::rule(&DeliveryError::UnknownAllocation),
    }
}

/// One agreement's deliveries of a month with what each member earns of them (staff only).
pub async fn deliveries(app: &App, actor: &Actor, agreement_id: &str, month: Month) -> Result<DeliveryMonth, AppError> {
    access::staff(actor)?;
    registered_agreement(app, agreement_id).await?;
    let mut loaded = app.deliveries().load(&delivery_month_id(agreement_id, month)).await?.state;
    if loaded.month.is_none() {
        loaded.agreement_id = agreement_id.to_string();
        loaded.month = Some(month);
    }
    Ok(loaded)
}
