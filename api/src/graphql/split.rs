//! Splitting an agreement across members: places for training-place agreements, roles with a share
//! of the value for goods and services.

use super::member::MemberView;
use super::{actor, app, iso, loaders, reader};
use crate::application::access::Reading;
use crate::application::input::{date, end_date, id, percent, text, NAME_MAX};
use crate::application::split::{self, NewAllocation, Part};
use crate::error::AppError;
use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject, ID};
use konsortium_domain::calendar::DateRange;
use konsortium_domain::split::Allocation;
use konsortium_projections::views::splits;

#[derive(InputObject)]
pub struct AllocatePlacesInput {
    pub agreement_id: ID,
    pub member_id: ID,
    pub places: u32,
    /// `YYYY-MM-DD`
    pub start_date: String,
    /// `YYYY-MM-DD`; omit (or write 9999-12-31) to run until the agreement ends.
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
#[graphql(name = "Allocation", complex)]
pub struct AllocationView {
    pub id: ID,
    pub member_id: ID,
    pub role: Option<String>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub versions: Vec<AllocationVersionView>,
    /// Places open under the allocation now.
    pub open_place_ids: Vec<ID>,
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
            open_place_ids: a.places.iter().filter(|p| p.closed_on.is_none()).map(|p| ID(p.place_id.clone())).collect(),
        }
    }
}

#[ComplexObject]
impl AllocationView {
    /// The member holding the allocation.
    async fn member(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MemberView>> {
        loaders::member(ctx, &self.member_id).await
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Split")]
pub struct SplitView {
    pub agreement_id: ID,
    pub allocations: Vec<AllocationView>,
}

#[derive(Default)]
pub struct SplitQuery;

#[Object]
impl SplitQuery {
    /// How an agreement is split across members (empty when nothing is allocated yet).
    async fn split(&self, ctx: &Context<'_>, agreement_id: ID) -> async_graphql::Result<SplitView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let (scope, _turn) = reader(ctx, Reading::Split).await?;
        let allocations =
            splits::of_agreement(app(ctx).reads(), &agreement_id, &scope).await.map_err(AppError::from)?;
        Ok(SplitView {
            allocations: allocations.iter().map(AllocationView::from).collect(),
            agreement_id: ID(agreement_id),
        })
    }
}

fn new_allocation(
    agreement_id: &str,
    member_id: &str,
    start: &str,
    end: Option<&str>,
    part: Part,
) -> Result<NewAllocation, AppError> {
    Ok(NewAllocation {
        agreement_id: id("agreementId", agreement_id)?,
        member_id: id("memberId", member_id)?,
        period: DateRange { start: date("startDate", start)?, end: end_date("endDate", end)? },
        part,
    })
}

#[derive(Default)]
pub struct SplitMutation;

#[Object]
impl SplitMutation {
    /// Gives a member places on a training-place agreement; all members together never hold more
    /// than the agreement contracts on any day.
    async fn allocate_places(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: AllocatePlacesInput,
    ) -> async_graphql::Result<AllocationView> {
        let new = new_allocation(
            &input.agreement_id,
            &input.member_id,
            &input.start_date,
            input.end_date.as_deref(),
            Part::Places(input.places),
        )?;
        Ok(AllocationView::from(&split::allocate(app(ctx), &actor(ctx, idempotency_key)?, new).await?))
    }

    /// Gives a member a role and a share of a goods-and-services agreement's value; the shares in
    /// force never add up to more than 100 %.
    async fn allocate_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: AllocateRoleInput,
    ) -> async_graphql::Result<AllocationView> {
        let part = Part::Role {
            role: text("role", &input.role, NAME_MAX)?,
            share: percent("sharePercent", &input.share_percent)?,
        };
        let new =
            new_allocation(&input.agreement_id, &input.member_id, &input.start_date, input.end_date.as_deref(), part)?;
        Ok(AllocationView::from(&split::allocate(app(ctx), &actor(ctx, idempotency_key)?, new).await?))
    }

    /// A new number of places from a day; never below the places open then.
    async fn revise_places(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        allocation_id: ID,
        effective_from: String,
        places: u32,
    ) -> async_graphql::Result<AllocationView> {
        let (agreement_id, allocation_id) = (id("agreementId", &agreement_id)?, id("allocationId", &allocation_id)?);
        let effective_from = date("effectiveFrom", &effective_from)?;
        let allocation = split::revise_places(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &agreement_id,
            &allocation_id,
            effective_from,
            places,
        )
        .await?;
        Ok(AllocationView::from(&allocation))
    }

    async fn revise_share(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        allocation_id: ID,
        effective_from: String,
        share_percent: String,
    ) -> async_graphql::Result<AllocationView> {
        let (agreement_id, allocation_id) = (id("agreementId", &agreement_id)?, id("allocationId", &allocation_id)?);
        let effective_from = date("effectiveFrom", &effective_from)?;
        let share = percent("sharePercent", &share_percent)?;
        let allocation = split::revise_share(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &agreement_id,
            &allocation_id,
            effective_from,
            share,
        )
        .await?;
        Ok(AllocationView::from(&allocation))
    }

    /// Confirms that the role shares of a goods-and-services agreement add up to exactly 100 % on a
    /// day, so every part of the contract has a member to deliver it.
    async fn confirm_shares(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        on: String,
    ) -> async_graphql::Result<SplitView> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let split =
            split::confirm_shares(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, date("on", &on)?).await?;
        Ok(SplitView {
            allocations: split.allocations.iter().map(AllocationView::from).collect(),
            agreement_id: ID(agreement_id),
        })
    }

    async fn end_allocation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        allocation_id: ID,
        last_day: String,
    ) -> async_graphql::Result<AllocationView> {
        let (agreement_id, allocation_id) = (id("agreementId", &agreement_id)?, id("allocationId", &allocation_id)?);
        let last_day = date("lastDay", &last_day)?;
        let allocation =
            split::end_allocation(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, &allocation_id, last_day)
                .await?;
        Ok(AllocationView::from(&allocation))
    }

    /// A member commits to employ or place this many people from the target group towards the
    /// agreement's employment requirement; a new number replaces the member's earlier one and 0
    /// withdraws it. Staff only.
    async fn agree_employments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        agreement_id: ID,
        member_id: ID,
        #[graphql(desc = "An Int so a negative number is a VALIDATION error naming the field.")] employments: i64,
    ) -> async_graphql::Result<EmploymentCommitmentView> {
        let (agreement_id, member_id) = (id("agreementId", &agreement_id)?, id("memberId", &member_id)?);
        let count = u32::try_from(employments)
            .map_err(|_| AppError::invalid("employments", "must be a whole number from 0 up"))?;
        let split =
            split::agree_employments(app(ctx), &actor(ctx, idempotency_key)?, &agreement_id, &member_id, count).await?;
        Ok(EmploymentCommitmentView {
            agreed_total: split.agreed_employments_total(),
            agreement_id: ID(agreement_id),
            member_id: ID(member_id),
            employments: count,
        })
    }
}

/// A member's commitment towards an agreement's employment requirement, and all members' together.
#[derive(SimpleObject)]
#[graphql(name = "EmploymentCommitment")]
pub struct EmploymentCommitmentView {
    pub agreement_id: ID,
    pub member_id: ID,
    pub employments: u32,
    /// What all members have committed to on the agreement.
    pub agreed_total: u32,
}
