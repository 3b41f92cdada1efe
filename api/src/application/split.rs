//! Splitting an agreement across members: places for training-place agreements, roles with a share
//! of the value for goods and services. The split aggregate (one per agreement) owns every rule about
//! how much is handed out, so each use case loads it first: whatever it then reads of the agreement
//! is at least as new as the split's own view of it, and any change to the split meanwhile makes the
//! commit lose the race and decide again.

use super::agreements::registered_agreement;
use super::{access, change};
use crate::app::{Actor, App};
use crate::error::AppError;
use konsortium_domain::calendar::DateRange;
use konsortium_domain::member::MemberStanding;
use konsortium_domain::money::Percent;
use konsortium_domain::split::{Allocation, SplitCommand, SubContractSplit};
use time::Date;

/// What staff ask for when they give a member part of an agreement.
#[derive(Debug, Clone)]
pub struct NewAllocation {
    pub agreement_id: String,
    pub member_id: String,
    /// An open end runs until the agreement ends.
    pub period: DateRange,
    pub part: Part,
}

/// Places on a training-place agreement, or a role and share of a goods-and-services agreement's value.
#[derive(Debug, Clone)]
pub enum Part {
    Places(u32),
    Role { role: String, share: Percent },
}

/// A registered member's standing over time, from its events.
pub async fn member_standing(app: &App, id: &str) -> Result<MemberStanding, AppError> {
    app.members()
        .load(id)
        .await?
        .state
        .standing(id)
        .ok_or_else(|| AppError::NotFound(format!("no member with id {id}")))
}

fn allocation_of(split: &SubContractSplit, agreement_id: &str, allocation_id: &str) -> Result<Allocation, AppError> {
    split
        .allocation(allocation_id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("no allocation {allocation_id} on agreement {agreement_id}")))
}

/// Gives a member places or a role; all members together never hold more than the agreement
/// contracts (places) or 100 % of its value (roles) on any day.
pub async fn allocate(app: &App, actor: &Actor, new: NewAllocation) -> Result<Allocation, AppError> {
    access::staff(actor)?;
    let allocation_id = uuid::Uuid::new_v4().to_string();
    let attempt = app.attempt(actor, "allocate", &new);
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut split = app.splits().load(&new.agreement_id).await?;
        let agreement = registered_agreement(app, &new.agreement_id).await?;
        let member = member_standing(app, &new.member_id).await?;
        let command = match &new.part {
            Part::Places(places) => SplitCommand::AllocatePlaces {
                allocation_id: allocation_id.clone(),
                agreement,
                member,
                places: *places,
                period: new.period,
            },
            Part::Role { role, share } => SplitCommand::AllocateRole {
                allocation_id: allocation_id.clone(),
                agreement,
                member,
                role: role.clone(),
                share: *share,
                period: new.period,
            },
        };
        let allocated = split.decide(command).await?;
        let answer = allocation_of(&split.state, &new.agreement_id, &allocation_id)?;
        attempt.commit(&[allocated], answer).await
    })
    .await
}

/// Runs a revision that depends on the agreement's current terms; `input` names it for retries.
async fn revise(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    allocation_id: &str,
    input: &impl std::fmt::Debug,
    command: impl Fn(konsortium_domain::agreement::FrameworkAgreement) -> SplitCommand,
) -> Result<Allocation, AppError> {
    access::staff(actor)?;
    let attempt = app.attempt(actor, "revise", input);
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut split = app.splits().load(agreement_id).await?;
        let agreement = registered_agreement(app, agreement_id).await?;
        let revised = split.decide(command(agreement)).await?;
        let answer = allocation_of(&split.state, agreement_id, allocation_id)?;
        attempt.commit(&[revised], answer).await
    })
    .await
}

/// A new number of places from a day; never below the places the member has open then.
pub async fn revise_places(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    allocation_id: &str,
    effective_from: Date,
    places: u32,
) -> Result<Allocation, AppError> {
    let input = ("places", agreement_id, allocation_id, effective_from, places);
    revise(app, actor, agreement_id, allocation_id, &input, |agreement| SplitCommand::RevisePlaces {
        allocation_id: allocation_id.to_string(),
        agreement,
        effective_from,
        places,
    })
    .await
}

pub async fn revise_share(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    allocation_id: &str,
    effective_from: Date,
    share: Percent,
) -> Result<Allocation, AppError> {
    let input = ("share", agreement_id, allocation_id, effective_from, share);
    revise(app, actor, agreement_id, allocation_id, &input, |agreement| SplitCommand::ReviseShare {
        allocation_id: allocation_id.to_string(),
        agreement,
        effective_from,
        share,
    })
    .await
}

pub async fn end_allocation(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    allocation_id: &str,
    last_day: Date,
) -> Result<Allocation, AppError> {
    access::staff(actor)?;
    let command = || SplitCommand::EndAllocation { allocation_id: allocation_id.to_string(), last_day };
    let split = change(app, app.splits(), agreement_id, actor, command).await?;
    allocation_of(&split, agreement_id, allocation_id)
}

/// Confirms that a goods-and-services split's role shares add up to exactly 100 % on a day.
pub async fn confirm_shares(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    on: Date,
) -> Result<SubContractSplit, AppError> {
    access::staff(actor)?;
    change(app, app.splits(), agreement_id, actor, || SplitCommand::ConfirmShares { on }).await
}

/// A member commits to employ or place `employments` people towards the agreement's employment
/// requirement; the latest number per member counts and zero withdraws it. Staff record it, as they
/// record the rest of the split: the commitment is made to the consortium in the split's talks.
pub async fn agree_employments(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    member_id: &str,
    employments: u32,
) -> Result<SubContractSplit, AppError> {
    access::staff(actor)?;
    let input = (agreement_id, member_id, employments);
    let attempt = app.attempt(actor, "agree_employments", &input);
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut split = app.splits().load(agreement_id).await?;
        let agreement = registered_agreement(app, agreement_id).await?;
        let command = SplitCommand::AgreeEmployments { agreement, member_id: member_id.to_string(), employments };
        let agreed = split.decide(command).await?;
        let answer = split.state.clone();
        attempt.commit(&[agreed], answer).await
    })
    .await
}
