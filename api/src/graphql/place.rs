//! Training places: opened under an allocation, filled by pseudonymous participants, vacated with the
//! outcome municipalities follow.

use super::agreement::AgreementView;
use super::member::MemberView;
use super::participant::ParticipantView;
use super::{actor, app, caller, connection, iso, loaders, page, reader, Listing};
use crate::application::access::Reading;
use crate::application::input::{date, id, participant};
use crate::application::{participants, places};
use crate::error::AppError;
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use konsortium_domain::place::{ExitReason, Occupancy, TrainingPlace};
use konsortium_projections::views::places::{self as view, PlaceFilter};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ExitReason")]
pub enum ExitReasonGql {
    /// Employed by another employer.
    EmploymentElsewhere,
    /// Employed by the member that trained them.
    EmploymentByMember,
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
            ExitReasonGql::EmploymentByMember => ExitReason::EmploymentByMember,
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
            ExitReason::EmploymentByMember => ExitReasonGql::EmploymentByMember,
            ExitReason::Studies => ExitReasonGql::Studies,
            ExitReason::OtherIntervention => ExitReasonGql::OtherIntervention,
            ExitReason::EndedEarly => ExitReasonGql::EndedEarly,
            ExitReason::Completed => ExitReasonGql::Completed,
        }
    }
}

/// One participant's stay on a place.
#[derive(SimpleObject)]
#[graphql(name = "Stay", complex)]
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
#[graphql(name = "Place", complex)]
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
            filled_by: view::filled_by(place).map(str::to_string),
            stays: place.occupancy.iter().map(StayView::of).collect(),
        }
    }
}

#[ComplexObject]
impl StayView {
    /// The participant in the registry (`erased` once their identity is gone); null for a stay
    /// from before the registry.
    async fn participant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ParticipantView>> {
        let found = participants::participant(app(ctx), caller(ctx)?, &self.participant_id).await?;
        Ok(found
            .filter(|p| p.registered_on.is_some())
            .map(|state| ParticipantView::new(self.participant_id.clone(), state)))
    }
}

#[ComplexObject]
impl PlaceView {
    /// The member whose place it is.
    async fn member(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MemberView>> {
        loaders::member(ctx, &self.member_id).await
    }

    /// The agreement the place is under.
    async fn agreement(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AgreementView>> {
        loaders::agreement(ctx, &self.agreement_id).await
    }
}

#[derive(Default)]
pub struct PlaceQuery;

#[Object]
impl PlaceQuery {
    async fn place(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<PlaceView>> {
        let id = self::id("id", &id)?;
        let (scope, _turn) = reader(ctx, Reading::Places).await?;
        let found = view::get(app(ctx).reads(), &id, &scope).await.map_err(AppError::from)?;
        Ok(found.map(|row| PlaceView::new(row.id, &row.state)))
    }

    /// Places by the day they opened, a page at a time (`first` at most 500, default 100), of an
    /// agreement and/or a member.
    #[graphql(complexity = "super::list_cost(first, child_complexity)")]
    async fn places(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        agreement_id: Option<ID>,
        member_id: Option<ID>,
    ) -> async_graphql::Result<Listing<PlaceView>> {
        let page = page(ctx, first, after.as_deref())?;
        let (scope, _turn) = reader(ctx, Reading::Places).await?;
        let filter = PlaceFilter {
            scope,
            agreement_id: agreement_id.map(|a| id("agreementId", &a)).transpose()?,
            member_id: member_id.map(|m| id("memberId", &m)).transpose()?,
        };
        let rows = view::page(app(ctx).reads(), &filter, &page).await.map_err(AppError::from)?;
        Ok(connection(rows, &page, |row| row.cursor(), |row| Some(PlaceView::new(row.id, &row.state))))
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

    /// A registered participant, by the id `registerParticipant` issued, fills the place from a day; an
    /// unknown or erased participant is `NOT_FOUND`, and a participant holds one place of the
    /// consortium at a time.
    async fn fill_place(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        place_id: ID,
        participant_id: ID,
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
