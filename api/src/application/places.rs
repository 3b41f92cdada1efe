//! Training places: opened under an allocation, filled by participants, vacated with the outcome.
//! Opening commits the place with the split's slot; filling and vacating commit the place with the
//! participant's own record, so neither rule can be broken by two requests at the same moment.

use super::access;
use crate::app::{Actor, App};
use crate::error::AppError;
use konsortium_domain::participant::ParticipantCommand;
use konsortium_domain::place::{ExitReason, ParticipantId, PlaceCommand, TrainingPlace};
use konsortium_domain::split::SplitCommand;
use time::Date;

/// A place that exists, or `NOT_FOUND`.
async fn existing_place(app: &App, place_id: &str) -> Result<crate::store::Loaded<TrainingPlace>, AppError> {
    let place = app.places().load(place_id).await?;
    match place.exists() {
        true => Ok(place),
        false => Err(AppError::NotFound(format!("no place with id {place_id}"))),
    }
}

/// Opens a place under an allocation; the allocation never has more places open than it grants.
pub async fn open_place(
    app: &App,
    actor: &Actor,
    agreement_id: &str,
    allocation_id: &str,
    opened_on: Date,
) -> Result<(String, TrainingPlace), AppError> {
    let place_id = uuid::Uuid::new_v4().to_string();
    let attempt = app.attempt(actor, "open_place", &(agreement_id, allocation_id, opened_on));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut split = app.splits().load(agreement_id).await?;
        let allocation =
            split.state.allocation(allocation_id).cloned().ok_or_else(|| {
                AppError::NotFound(format!("no allocation {allocation_id} on agreement {agreement_id}"))
            })?;
        access::member(actor, &allocation.member_id)?;
        let mut place = app.places().load(&place_id).await?;
        let slot = split
            .decide(SplitCommand::OpenPlace {
                allocation_id: allocation_id.to_string(),
                place_id: place_id.clone(),
                opened_on,
            })
            .await?;
        let opened = place
            .decide(PlaceCommand::Open {
                agreement_id: agreement_id.to_string(),
                member_id: allocation.member_id.clone(),
                allocation_id: allocation_id.to_string(),
                allocation_period: allocation.period,
                opened_on,
            })
            .await?;
        attempt.commit(&[slot, opened], (place_id.clone(), place.state)).await
    })
    .await
}

/// A participant fills the place from a day; a participant holds one place of the consortium at a
/// time.
pub async fn fill_place(
    app: &App,
    actor: &Actor,
    place_id: &str,
    participant: &ParticipantId,
    from: Date,
) -> Result<TrainingPlace, AppError> {
    let attempt = app.attempt(actor, "fill_place", &(place_id, participant, from));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut place = existing_place(app, place_id).await?;
        access::member(actor, &place.state.member_id)?;
        let mut person = app.participants().load(participant.as_str()).await?;
        let filled = place.decide(PlaceCommand::Fill { participant: participant.clone(), from }).await?;
        let taken = person
            .decide(ParticipantCommand::TakePlace {
                place_id: place_id.to_string(),
                agreement_id: place.state.agreement_id.clone(),
                member_id: place.state.member_id.clone(),
                from,
            })
            .await?;
        attempt.commit(&[filled, taken], place.state).await
    })
    .await
}

/// The member employs the participant: the agreement's employment rate applies from `from`.
pub async fn employ_participant(
    app: &App,
    actor: &Actor,
    place_id: &str,
    from: Date,
) -> Result<TrainingPlace, AppError> {
    let attempt = app.attempt(actor, "employ_participant", &(place_id, from));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut place = existing_place(app, place_id).await?;
        access::member(actor, &place.state.member_id)?;
        let employed = place.decide(PlaceCommand::Employ { from }).await?;
        attempt.commit(&[employed], place.state).await
    })
    .await
}

/// The participant leaves; `last_day` is the last filled day, `reason` the outcome.
pub async fn vacate_place(
    app: &App,
    actor: &Actor,
    place_id: &str,
    last_day: Date,
    reason: ExitReason,
) -> Result<TrainingPlace, AppError> {
    let attempt = app.attempt(actor, "vacate_place", &(place_id, last_day, reason));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut place = existing_place(app, place_id).await?;
        access::member(actor, &place.state.member_id)?;
        let participant = place.state.occupancy.last().filter(|o| o.to.is_none()).map(|o| o.participant.clone());
        let vacated = place.decide(PlaceCommand::Vacate { last_day, reason }).await?;
        let mut changes = vec![vacated];
        if let Some(participant) = participant {
            let mut person = app.participants().load(participant.as_str()).await?;
            changes.push(
                person.decide(ParticipantCommand::LeavePlace { place_id: place_id.to_string(), last_day }).await?,
            );
        }
        attempt.commit(&changes, place.state).await
    })
    .await
}

/// Closes an empty place from a day (the first day it is no longer open), freeing its slot.
pub async fn close_place(app: &App, actor: &Actor, place_id: &str, closed_on: Date) -> Result<TrainingPlace, AppError> {
    let attempt = app.attempt(actor, "close_place", &(place_id, closed_on));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut place = existing_place(app, place_id).await?;
        access::member(actor, &place.state.member_id)?;
        let mut split = app.splits().load(&place.state.agreement_id).await?;
        let closed = place.decide(PlaceCommand::Close { closed_on }).await?;
        let freed = split.decide(SplitCommand::ClosePlace { place_id: place_id.to_string(), closed_on }).await?;
        attempt.commit(&[closed, freed], place.state).await
    })
    .await
}
