//! Splitting an agreement across members: places for training-place agreements, roles with a share
//! of the value for goods and services.

use super::{actor, app, date, iso, optional_date, percent};
use crate::app::App;
use crate::error::AppError;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::calendar::DateRange;
use konsortium_domain::member::MemberStanding;
use konsortium_domain::split::{Allocation, SplitCommand, SubContractSplit};
use konsortium_projections::views;

#[derive(InputObject)]
pub struct AllocatePlacesInput {
    pub agreement_id: ID,
    pub member_id: ID,
    pub places: u32,
    /// `YYYY-MM-DD`
    pub start_date: String,
    /// `YYYY-MM-DD`; omit to run until the agreement ends.
    pub end_date: Option<String>,
}

#[derive(InputObject)]
pub struct AllocateRoleInput {
    pub agreement_id: ID,
    pub member_id: ID,
    /// e.g. "purchasing", "packing", "delivery".
    pub role: String,
    /// Share of the agreement's value, e.g. "30" or "12,5".
    pub share_percent: String,
    pub start_date: String,
    pub end_date: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "AllocationVersion")]
pub struct AllocationVersionView {
    pub effective_from: String,
    pub places: u32,
    pub share_basis_points: u32,
}

/// A member's part of an agreement, with every revision.
#[derive(SimpleObject)]
#[graphql(name = "Allocation")]
pub struct AllocationView {
    pub id: ID,
    pub member_id: ID,
    pub role: Option<String>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub versions: Vec<AllocationVersionView>,
}

impl From<&Allocation> for AllocationView {
    fn from(a: &Allocation) -> Self {
        AllocationView {
            id: ID(a.id.clone()),
            member_id: ID(a.member_id.clone()),
            role: a.role.clone(),
            start_date: iso(a.period.start),
            end_date: a.period.end.map(iso),
            versions: a
                .versions
                .iter()
                .map(|v| AllocationVersionView {
                    effective_from: iso(v.effective_from),
                    places: v.places,
                    share_basis_points: v.share.basis_points(),
                })
                .collect(),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Split")]
pub struct SplitView {
    pub agreement_id: ID,
    pub allocations: Vec<AllocationView>,
}

async fn allocation(app: &App, agreement_id: &str, allocation_id: &str) -> Result<AllocationView, AppError> {
    let split = app.splits().load(agreement_id).await?;
    split
        .allocation(allocation_id)
        .map(AllocationView::from)
        .ok_or_else(|| AppError::NotFound(format!("no allocation {allocation_id} on agreement {agreement_id}")))
}

#[derive(Default)]
pub struct SplitQuery;

#[Object]
impl SplitQuery {
    /// How an agreement is split across members (empty when nothing is allocated yet).
    async fn split(&self, ctx: &Context<'_>, agreement_id: ID) -> async_graphql::Result<SplitView> {
        let split = views::find::<SubContractSplit>(app(ctx).db(), views::SPLITS_TABLE, &agreement_id)
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        Ok(SplitView { allocations: split.allocations.iter().map(AllocationView::from).collect(), agreement_id })
    }
}

/// What every new allocation is decided on: a fresh id, the agreement and member as their events
/// have them now, and the period asked for.
struct NewAllocation {
    id: String,
    agreement: FrameworkAgreement,
    member: MemberStanding,
    period: DateRange,
}

impl NewAllocation {
    async fn gather(
        app: &App,
        agreement_id: &str,
        member_id: &str,
        start: &str,
        end: Option<&str>,
    ) -> Result<NewAllocation, AppError> {
        Ok(NewAllocation {
            id: uuid::Uuid::new_v4().to_string(),
            period: DateRange { start: date("startDate", start)?, end: optional_date("endDate", end)? },
            agreement: app.registered_agreement(agreement_id).await?,
            member: app.member_standing(member_id).await?,
        })
    }
}

#[derive(Default)]
pub struct SplitMutation;

impl SplitMutation {
    async fn run(
        &self,
        ctx: &Context<'_>,
        agreement_id: &str,
        allocation_id: &str,
        command: SplitCommand,
    ) -> async_graphql::Result<AllocationView> {
        let app = app(ctx);
        app.execute(app.splits(), agreement_id, command, &actor(ctx)).await?;
        Ok(allocation(app, agreement_id, allocation_id).await?)
    }
}

#[Object]
impl SplitMutation {
    /// Gives a member places on a training-place agreement; all members together never hold more
    /// than the agreement contracts on any day.
    async fn allocate_places(
        &self,
        ctx: &Context<'_>,
        input: AllocatePlacesInput,
    ) -> async_graphql::Result<AllocationView> {
        let new = NewAllocation::gather(
            app(ctx),
            &input.agreement_id,
            &input.member_id,
            &input.start_date,
            input.end_date.as_deref(),
        )
        .await?;
        let allocation_id = new.id.clone();
        let command = SplitCommand::AllocatePlaces {
            allocation_id: new.id,
            agreement: new.agreement,
            member: new.member,
            places: input.places,
            period: new.period,
        };
        self.run(ctx, &input.agreement_id, &allocation_id, command).await
    }

    /// Gives a member a role and a share of a goods-and-services agreement's value; the shares in
    /// force never add up to more than 100 %.
    async fn allocate_role(
        &self,
        ctx: &Context<'_>,
        input: AllocateRoleInput,
    ) -> async_graphql::Result<AllocationView> {
        let new = NewAllocation::gather(
            app(ctx),
            &input.agreement_id,
            &input.member_id,
            &input.start_date,
            input.end_date.as_deref(),
        )
        .await?;
        let allocation_id = new.id.clone();
        let command = SplitCommand::AllocateRole {
            allocation_id: new.id,
            agreement: new.agreement,
            member: new.member,
            role: input.role,
            share: percent("sharePercent", &input.share_percent)?,
            period: new.period,
        };
        self.run(ctx, &input.agreement_id, &allocation_id, command).await
    }

    async fn revise_places(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        allocation_id: ID,
        effective_from: String,
        places: u32,
    ) -> async_graphql::Result<AllocationView> {
        let command = SplitCommand::RevisePlaces {
            allocation_id: allocation_id.to_string(),
            agreement: app(ctx).registered_agreement(&agreement_id).await?,
            effective_from: date("effectiveFrom", &effective_from)?,
            places,
        };
        self.run(ctx, &agreement_id, &allocation_id, command).await
    }

    async fn revise_share(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        allocation_id: ID,
        effective_from: String,
        share_percent: String,
    ) -> async_graphql::Result<AllocationView> {
        let command = SplitCommand::ReviseShare {
            allocation_id: allocation_id.to_string(),
            agreement: app(ctx).registered_agreement(&agreement_id).await?,
            effective_from: date("effectiveFrom", &effective_from)?,
            share: percent("sharePercent", &share_percent)?,
        };
        self.run(ctx, &agreement_id, &allocation_id, command).await
    }

    /// Confirms that the role shares of a goods-and-services agreement add up to exactly 100 % on a
    /// day, so every part of the contract has a member to deliver it.
    async fn confirm_shares(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        on: String,
    ) -> async_graphql::Result<SplitView> {
        let app = app(ctx);
        app.execute(app.splits(), &agreement_id, SplitCommand::ConfirmShares { on: date("on", &on)? }, &actor(ctx))
            .await?;
        let split = app.splits().load(&agreement_id).await.map_err(AppError::from)?;
        Ok(SplitView { allocations: split.allocations.iter().map(AllocationView::from).collect(), agreement_id })
    }

    async fn end_allocation(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        allocation_id: ID,
        last_day: String,
    ) -> async_graphql::Result<AllocationView> {
        let command = SplitCommand::EndAllocation {
            allocation_id: allocation_id.to_string(),
            last_day: date("lastDay", &last_day)?,
        };
        self.run(ctx, &agreement_id, &allocation_id, command).await
    }
}
