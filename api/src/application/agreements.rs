//! Framework agreements: registering them and changing their terms over time.

use super::{access, change};
use crate::app::{Actor, App};
use crate::error::AppError;
use konsortium_domain::agreement::{AgreementCommand, AgreementTerms, FrameworkAgreement, RateChange};
use konsortium_domain::split::SplitCommand;
use time::Date;

/// Registers an agreement the consortium has won, under a new id.
pub async fn register_agreement(
    app: &App,
    actor: &Actor,
    terms: AgreementTerms,
) -> Result<(String, FrameworkAgreement), AppError> {
    access::staff(actor)?;
    // The id is new for every request, so it stays out of the fingerprint: a retry with the same
    // idempotency key replays the first answer, with the first id, before this one is used.
    let attempt = app.attempt(actor, "register_agreement", &terms);
    let id = uuid::Uuid::new_v4().to_string();
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut agreement = app.agreements().load(&id).await?;
        let registered = agreement.decide(AgreementCommand::Register(Box::new(terms.clone()))).await?;
        attempt.commit(&[registered], (id.clone(), agreement.state)).await
    })
    .await
}

/// Registers an agreement under a given id (the demo data's fixed ids).
pub async fn register_agreement_as(
    app: &App,
    actor: &Actor,
    id: &str,
    terms: AgreementTerms,
) -> Result<(String, FrameworkAgreement), AppError> {
    access::staff(actor)?;
    let agreement =
        change(app, app.agreements(), id, actor, || AgreementCommand::Register(Box::new(terms.clone()))).await?;
    Ok((id.to_string(), agreement))
}

/// A registered agreement as its events have it now; commands decide on this, never on a view.
pub async fn registered_agreement(app: &App, id: &str) -> Result<FrameworkAgreement, AppError> {
    let agreement = app.agreements().load(id).await?.state;
    match agreement.terms {
        Some(_) => Ok(agreement),
        None => Err(AppError::NotFound(format!("no agreement with id {id}"))),
    }
}

/// New rates from a day; rates the change leaves out carry forward.
pub async fn change_agreement_rates(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    effective_from: Date,
    rates: RateChange,
) -> Result<FrameworkAgreement, AppError> {
    access::staff(actor)?;
    let command = || AgreementCommand::ChangeRates { effective_from, change: rates.clone() };
    change(app, app.agreements(), agreement_id, actor, command).await
}

/// The buyer calls off more or fewer places from a day. A cut below what members hold on any day is
/// refused; the split records the change in the same commit, so an allocation racing the cut either
/// sees it or loses the race.
pub async fn change_agreement_capacity(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    effective_from: Date,
    places: u32,
) -> Result<FrameworkAgreement, AppError> {
    access::staff(actor)?;
    let attempt = app.attempt(actor, "change_agreement_capacity", &(agreement_id, effective_from, places));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut split = app.splits().load(agreement_id).await?;
        let mut agreement = app.agreements().load(agreement_id).await?;
        if agreement.state.terms.is_none() {
            return Err(AppError::NotFound(format!("no agreement with id {agreement_id}")));
        }
        let changed = agreement.decide(AgreementCommand::ChangeCapacity { effective_from, places }).await?;
        let adopted = split
            .decide(SplitCommand::AdoptCapacity { agreement: agreement.state.clone(), effective_from, places })
            .await?;
        attempt.commit(&[changed, adopted], agreement.state).await
    })
    .await
}

pub async fn extend_agreement(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    new_end: Date,
) -> Result<FrameworkAgreement, AppError> {
    access::staff(actor)?;
    change(app, app.agreements(), agreement_id, actor, || AgreementCommand::Extend { new_end }).await
}

pub async fn terminate_agreement(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    last_day: Date,
    reason: String,
) -> Result<FrameworkAgreement, AppError> {
    access::staff(actor)?;
    let command = || AgreementCommand::Terminate { last_day, reason: reason.clone() };
    change(app, app.agreements(), agreement_id, actor, command).await
}

pub async fn change_buyer_reference(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    reference: String,
) -> Result<FrameworkAgreement, AppError> {
    access::staff(actor)?;
    let command = || AgreementCommand::ChangeBuyerReference { reference: reference.clone() };
    change(app, app.agreements(), agreement_id, actor, command).await
}
