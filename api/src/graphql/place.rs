//! Training places: opened under an allocation, filled by pseudonymous participants, vacated with the
//! outcome municipalities follow.

use super::{actor, app, date, iso};
use crate::app::App;
use crate::error::AppError;
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use konsortium_domain::place::{ExitReason, Occupancy, ParticipantId, PlaceCommand, TrainingPlace};
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

async fn current(app: &App, id: &str) -> Result<PlaceView, AppError> {
    let place = app.places().load(id).await?;
    if place.opened_on.is_none() {
        return Err(AppError::NotFound(format!("no place with id {id}")));
    }
    Ok(PlaceView::new(id.to_string(), &place))
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
        let found =
            views::find::<TrainingPlace>(app(ctx).db(), views::PLACES_TABLE, &id).await.map_err(AppError::from)?;
        Ok(found.map(|p| PlaceView::new(id.to_string(), &p)))
    }

    /// The places of an agreement, or of one member under it.
    async fn places(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        member_id: Option<ID>,
    ) -> async_graphql::Result<Vec<PlaceView>> {
        let places = places_of(app(ctx), &agreement_id, member_id.as_ref().map(|m| m.as_str())).await?;
        Ok(places.iter().map(|(id, p)| PlaceView::new(id.clone(), p)).collect())
    }
}

#[derive(Default)]
pub struct PlaceMutation;

impl PlaceMutation {
    async fn run(&self, ctx: &Context<'_>, id: &str, command: PlaceCommand) -> async_graphql::Result<PlaceView> {
        let app = app(ctx);
        app.execute(app.places(), id, command, &actor(ctx)).await?;
        Ok(current(app, id).await?)
    }
}

#[Object]
impl PlaceMutation {
    /// Opens a place under an allocation; an allocation cannot have more places open than it grants.
    async fn open_place(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        allocation_id: ID,
        opened_on: String,
    ) -> async_graphql::Result<PlaceView> {
        let app = app(ctx);
        let opened_on = date("openedOn", &opened_on)?;
        let split = app.splits().load(&agreement_id).await.map_err(AppError::from)?;
        let allocation = split.allocation(&allocation_id).ok_or_else(|| {
            AppError::NotFound(format!("no allocation {} on agreement {}", *allocation_id, *agreement_id))
        })?;
        let open_places = places_of(app, &agreement_id, Some(&allocation.member_id))
            .await?
            .iter()
            .filter(|(_, p)| p.allocation_id == allocation.id && p.closed_on.is_none())
            .count();
        let command = PlaceCommand::Open {
            agreement_id: agreement_id.to_string(),
            member_id: allocation.member_id.clone(),
            allocation_id: allocation.id.clone(),
            allocation_period: allocation.period,
            allocated_places: allocation.on(opened_on).map_or(0, |v| v.places),
            open_places: u32::try_from(open_places).unwrap_or(u32::MAX),
            opened_on,
        };
        self.run(ctx, &uuid::Uuid::new_v4().to_string(), command).await
    }

    /// A participant, by pseudonymous id, fills the place from a day.
    async fn fill_place(
        &self,
        ctx: &Context<'_>,
        place_id: ID,
        participant_id: String,
        from: String,
    ) -> async_graphql::Result<PlaceView> {
        let participant = ParticipantId::parse(&participant_id).map_err(|e| AppError::invalid("participantId", e))?;
        self.run(ctx, &place_id, PlaceCommand::Fill { participant, from: date("from", &from)? }).await
    }

    /// The member employs the participant: the agreement's employment rate applies from `from`.
    async fn employ_participant(
        &self,
        ctx: &Context<'_>,
        place_id: ID,
        from: String,
    ) -> async_graphql::Result<PlaceView> {
        self.run(ctx, &place_id, PlaceCommand::Employ { from: date("from", &from)? }).await
    }

    /// The participant leaves; `lastDay` is the last filled day.
    async fn vacate_place(
        &self,
        ctx: &Context<'_>,
        place_id: ID,
        last_day: String,
        reason: ExitReasonGql,
    ) -> async_graphql::Result<PlaceView> {
        self.run(ctx, &place_id, PlaceCommand::Vacate { last_day: date("lastDay", &last_day)?, reason: reason.into() })
            .await
    }

    async fn close_place(
        &self,
        ctx: &Context<'_>,
        place_id: ID,
        closed_on: String,
    ) -> async_graphql::Result<PlaceView> {
        self.run(ctx, &place_id, PlaceCommand::Close { closed_on: date("closedOn", &closed_on)? }).await
    }
}
