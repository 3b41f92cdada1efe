//! Training places: opened under an allocation, filled by pseudonymous participants, vacated with the
//! outcome municipalities follow.

use super::{actor, app, iso};
use crate::app::App;
use crate::application::input::{date, id, participant};
use crate::application::places;
use crate::error::AppError;
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use konsortium_domain::place::{ExitReason, Occupancy, TrainingPlace};
use konsortium_projections::views;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ExitReason")]
pub enum ExitReasonGql {
    /// Employed by another employer.
    EmploymentElsewhere,
    Studies,
    /// Moved on to another labour-market intervention.
    OtherIntervention,
    /// Ended before the plan said.
    EndedEarly,
    /// Completed the planned period.
    Completed,
}

impl From<ExitReasonGql> for ExitReason {
    fn from(value: ExitReasonGql) -> Self {
        match value {
            ExitReasonGql::EmploymentElsewhere => ExitReason::EmploymentElsewhere,
            ExitReasonGql::Studies => ExitReason::Studies,
            ExitReasonGql::OtherIntervention => ExitReason::OtherIntervention,
            ExitReasonGql::EndedEarly => ExitReason::EndedEarly,
            ExitReasonGql::Completed => ExitReason::Completed,
        }
    }
}

impl From<ExitReason> for ExitReasonGql {
    fn from(value: ExitReason) -> Self {
        match value {
            ExitReason::EmploymentElsewhere => ExitReasonGql::EmploymentElsewhere,
            ExitReason::Studies => ExitReasonGql::Studies,
            ExitReason::OtherIntervention => ExitReasonGql::OtherIntervention,
            ExitReason::EndedEarly => ExitReasonGql::EndedEarly,
            ExitReason::Completed => ExitReasonGql::Completed,
        }
    }
}

/// One participant's stay on a place.
#[derive(SimpleObject)]
#[graphql(name = "Stay")]
pub struct StayView {
    /// Pseudonymous id; never a name or personnummer.
    pub participant_id: String,
    pub from: String,
    /// Last filled day, once the participant has left.
    pub to: Option<String>,
    pub employed_from: Option<String>,
    pub exit_reason: Option<ExitReasonGql>,
}

impl StayView {
    // Not `From`: the derived resolver for the `from` field would shadow `From::from`.
    fn of(o: &Occupancy) -> Self {
        StayView {
            participant_id: o.participant.to_string(),
            from: iso(o.from),
            to: o.to.map(iso),
            employed_from: o.employed_from.map(iso),
            exit_reason: o.exit.map(Into::into),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Place")]
pub struct PlaceView {
    pub id: ID,
    pub agreement_id: ID,
    pub member_id: ID,
    pub allocation_id: ID,
    pub opened_on: Option<String>,
    pub closed_on: Option<String>,
    /// The participant on the place now, if any.
    pub filled_by: Option<String>,
    pub stays: Vec<StayView>,
}

impl PlaceView {
    fn new(id: String, place: &TrainingPlace) -> PlaceView {
        PlaceView {
            id: ID(id),
            agreement_id: ID(place.agreement_id.clone()),
            member_id: ID(place.member_id.clone()),
            allocation_id: ID(place.allocation_id.clone()),
            opened_on: place.opened_on.map(iso),
            closed_on: place.closed_on.map(iso),
            filled_by: place.occupancy.last().filter(|o| o.to.is_none()).map(|o| o.participant.to_string()),
            stays: place.occupancy.iter().map(StayView::of).collect(),
        }
    }
}

/// Places of an agreement (optionally one member's), from the places view.
pub(crate) async fn places_of(
    app: &App,
    agreement_id: &str,
    member_id: Option<&str>,
) -> Result<Vec<(String, TrainingPlace)>, AppError> {
    let all = views::list::<TrainingPlace>(app.db(), views::PLACES_TABLE).await?;
    Ok(all
        .into_iter()
        .filter(|(_, p)| p.agreement_id == agreement_id && member_id.is_none_or(|m| p.member_id == m))
        .collect())
}

#[derive(Default)]
pub struct PlaceQuery;

#[Object]
impl PlaceQuery {
    async fn place(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<PlaceView>> {
        let id = self::id("id", &id)?;
        let found =
            views::find::<TrainingPlace>(app(ctx).db(), views::PLACES_TABLE, &id).await.map_err(AppError::from)?;
        Ok(found.map(|p| PlaceView::new(id, &p)))
    }

    /// The places of an agreement, or of one member under it.
    async fn places(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        member_id: Option<ID>,
    ) -> async_graphql::Result<Vec<PlaceView>> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let member_id = member_id.map(|m| id("memberId", &m)).transpose()?;
        let places = places_of(app(ctx), &agreement_id, member_id.as_deref()).await?;
        Ok(places.iter().map(|(id, p)| PlaceView::new(id.clone(), p)).collect())
    }
}

#[derive(Default)]
pub struct PlaceMutation;

#[Object]
impl PlaceMutation {
    /// Opens a place under an allocation; an allocation never has more places open than it grants.
    async fn open_place(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        allocation_id: ID,
        opened_on: String,
    ) -> async_graphql::Result<PlaceView> {
        let (agreement_id, allocation_id) = (id("agreementId", &agreement_id)?, id("allocationId", &allocation_id)?);
        let opened_on = date("openedOn", &opened_on)?;
        let (place_id, place) =
            places::open_place(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, &allocation_id, opened_on)
                .await?;
        Ok(PlaceView::new(place_id, &place))
    }

    /// A participant, by pseudonymous id, fills the place from a day; a participant holds one place of
    /// the consortium at a time.
    async fn fill_place(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        place_id: ID,
        participant_id: String,
        from: String,
    ) -> async_graphql::Result<PlaceView> {
        let place_id = id("placeId", &place_id)?;
        let who = participant("participantId", &participant_id)?;
        let place =
            places::fill_place(app(ctx), &actor(ctx, idempotency_key)?, &place_id, &who, date("from", &from)?).await?;
        Ok(PlaceView::new(place_id, &place))
    }

    /// The member employs the participant: the agreement's employment rate applies from `from`.
    async fn employ_participant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        place_id: ID,
        from: String,
    ) -> async_graphql::Result<PlaceView> {
        let place_id = id("placeId", &place_id)?;
        let place =
            places::employ_participant(app(ctx), &actor(ctx, idempotency_key)?, &place_id, date("from", &from)?)
                .await?;
        Ok(PlaceView::new(place_id, &place))
    }

    /// The participant leaves; `lastDay` is the last filled day.
    async fn vacate_place(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        place_id: ID,
        last_day: String,
        reason: ExitReasonGql,
    ) -> async_graphql::Result<PlaceView> {
        let place_id = id("placeId", &place_id)?;
        let last_day = date("lastDay", &last_day)?;
        let place =
            places::vacate_place(app(ctx), &actor(ctx, idempotency_key)?, &place_id, last_day, reason.into()).await?;
        Ok(PlaceView::new(place_id, &place))
    }

    /// Closes an empty place; `closedOn` is the first day it is no longer open, and its slot is free
    /// from then.
    async fn close_place(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        place_id: ID,
        closed_on: String,
    ) -> async_graphql::Result<PlaceView> {
        let place_id = id("placeId", &place_id)?;
        let place =
            places::close_place(app(ctx), &actor(ctx, idempotency_key)?, &place_id, date("closedOn", &closed_on)?)
                .await?;
        Ok(PlaceView::new(place_id, &place))
    }
}
