//! Member enterprises: registering them and keeping their standing up to date.

use super::{actor, app, caller, connection, page, reader, Listing};
use crate::application::access::Reading;
use crate::application::input::{date, id, org_number, percent, text, NAME_MAX};
use crate::application::members::{self, NewMember};
use crate::error::AppError;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::member::{Member, MemberCategory};
use konsortium_projections::views::members::{self as view, MemberFilter};

/// Which rate a member is paid.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "MemberCategory")]
pub enum MemberCategoryGql {
    /// Arbetsintegrerande socialt företag (work-integrating social enterprise).
    Asf,
    /// A non-profit association that is not an ASF; paid the agreement's lower rate, if admitted.
    OtherAssociation,
}

impl From<MemberCategoryGql> for MemberCategory {
    fn from(value: MemberCategoryGql) -> Self {
        match value {
            MemberCategoryGql::Asf => MemberCategory::Wise,
            MemberCategoryGql::OtherAssociation => MemberCategory::OtherAssociation,
        }
    }
}

impl From<MemberCategory> for MemberCategoryGql {
    fn from(value: MemberCategory) -> Self {
        match value {
            MemberCategory::Wise => MemberCategoryGql::Asf,
            MemberCategory::OtherAssociation => MemberCategoryGql::OtherAssociation,
        }
    }
}

#[derive(InputObject)]
pub struct RegisterMemberInput {
    pub name: String,
    /// Organisationsnummer, `NNNNNN-NNNN` or ten digits; the check digit is verified.
    pub org_number: String,
    pub category: MemberCategoryGql,
    /// Share of staff from the target group, in percent: "45" or "12,5". Reserved agreements need 30.
    pub target_group_share_percent: String,
    /// `YYYY-MM-DD`
    pub joined_on: String,
}

/// A member enterprise of the consortium.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Member", complex)]
pub struct MemberView {
    pub id: ID,
    pub name: String,
    /// A sole trader (enskild firma), whose organisation number is its owner's personnummer.
    pub sole_trader: bool,
    #[graphql(skip)]
    member: Member,
    pub category: Option<MemberCategoryGql>,
    /// For display, e.g. "45 %".
    pub target_group_share: String,
    pub target_group_share_basis_points: u32,
    /// ASF with at least 30 % of staff from the target group today (reserverad upphandling).
    pub qualifies_for_reserved: bool,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
}

impl MemberView {
    pub(crate) fn new(id: String, member: Member) -> MemberView {
        MemberView {
            qualifies_for_reserved: member
                .standing(&id)
                .is_some_and(|s| s.qualifies_for_reserved_on(crate::application::today())),
            id: ID(id),
            name: member.name.clone(),
            sole_trader: member.is_sole_trader(),
            category: member.category.map(Into::into),
            target_group_share: member.target_group_share.to_string(),
            target_group_share_basis_points: member.target_group_share.basis_points(),
            joined_on: member.joined_on.map(super::iso),
            left_on: member.left_on.map(super::iso),
            member,
        }
    }
}

#[ComplexObject]
impl MemberView {
    /// Organisationsnummer. A sole trader's is its owner's personnummer: shown only to staff and the
    /// member itself, each read recorded in the audit trail; null for everyone else.
    async fn org_number(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(members::org_number(app(ctx), caller(ctx)?, &self.id, &self.member).await?)
    }
}

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// Member enterprises by name, a page at a time (`first` at most 500, default 100).
    #[graphql(complexity = "super::list_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        category: Option<MemberCategoryGql>,
    ) -> async_graphql::Result<Listing<MemberView>> {
        let page = page(ctx, first, after.as_deref())?;
        let (scope, _turn) = reader(ctx, Reading::Members).await?;
        let filter = MemberFilter { scope, category: category.map(Into::into) };
        let rows = view::page(app(ctx).reads(), &filter, &page).await.map_err(AppError::from)?;
        Ok(connection(rows, &page, |row| row.cursor(), |row| Some(MemberView::new(row.id, row.state))))
    }

    async fn member(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<MemberView>> {
        let id = self::id("id", &id)?;
        let (scope, _turn) = reader(ctx, Reading::Members).await?;
        let found = view::get(app(ctx).reads(), &id, &scope).await.map_err(AppError::from)?;
        Ok(found.map(|row| MemberView::new(row.id, row.state)))
    }
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Registers a member enterprise. Registering the same org number twice is a CONFLICT.
    async fn register_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: RegisterMemberInput,
    ) -> async_graphql::Result<MemberView> {
        let new = NewMember {
            name: text("name", &input.name, NAME_MAX)?,
            org_number: org_number("orgNumber", &input.org_number)?,
            category: input.category.into(),
            target_group_share: percent("targetGroupSharePercent", &input.target_group_share_percent)?,
            joined_on: date("joinedOn", &input.joined_on)?,
        };
        let (id, member) = members::register_member(app(ctx), &actor(ctx, idempotency_key)?, new).await?;
        Ok(MemberView::new(id, member))
    }

    /// Records a new share of staff from the target group from a day (it decides eligibility for
    /// reserved agreements from that day).
    async fn report_target_group_share(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        member_id: ID,
        share_percent: String,
        reported_on: String,
    ) -> async_graphql::Result<MemberView> {
        let member_id = id("memberId", &member_id)?;
        let share = percent("sharePercent", &share_percent)?;
        let reported_on = date("reportedOn", &reported_on)?;
        let member =
            members::report_target_group_share(app(ctx), &actor(ctx, idempotency_key)?, &member_id, share, reported_on)
                .await?;
        Ok(MemberView::new(member_id, member))
    }

    /// A member proves ASF status (new statutes) or loses it; days before `changedOn` keep the old
    /// category.
    async fn change_member_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        member_id: ID,
        category: MemberCategoryGql,
        changed_on: String,
    ) -> async_graphql::Result<MemberView> {
        let member_id = id("memberId", &member_id)?;
        let changed_on = date("changedOn", &changed_on)?;
        let member = members::change_member_category(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &member_id,
            category.into(),
            changed_on,
        )
        .await?;
        Ok(MemberView::new(member_id, member))
    }

    async fn member_leaves(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        member_id: ID,
        left_on: String,
    ) -> async_graphql::Result<MemberView> {
        let member_id = id("memberId", &member_id)?;
        let member =
            members::member_leaves(app(ctx), &actor(ctx, idempotency_key)?, &member_id, date("leftOn", &left_on)?)
                .await?;
        Ok(MemberView::new(member_id, member))
    }
}
