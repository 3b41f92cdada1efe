//! Member enterprises: registering them and keeping their standing up to date.

use super::{actor, app, date, org_number, percent};
use crate::app::member_id;
use crate::error::AppError;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::member::{Member, MemberCategory, MemberCommand};
use konsortium_projections::views;

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
#[derive(SimpleObject)]
#[graphql(name = "Member")]
pub struct MemberView {
    pub id: ID,
    pub name: String,
    pub org_number: String,
    pub category: Option<MemberCategoryGql>,
    /// For display, e.g. "45 %".
    pub target_group_share: String,
    pub target_group_share_basis_points: u32,
    /// ASF with at least 30 % of staff from the target group (reserverad upphandling).
    pub qualifies_for_reserved: bool,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
}

impl MemberView {
    fn new(id: String, member: Member) -> MemberView {
        MemberView {
            qualifies_for_reserved: member.standing(&id).is_some_and(|s| s.qualifies_for_reserved()),
            id: ID(id),
            name: member.name,
            org_number: member.org_number.map(|o| o.to_string()).unwrap_or_default(),
            category: member.category.map(Into::into),
            target_group_share: member.target_group_share.to_string(),
            target_group_share_basis_points: member.target_group_share.basis_points(),
            joined_on: member.joined_on.map(super::iso),
            left_on: member.left_on.map(super::iso),
        }
    }
}

async fn current(app: &crate::app::App, id: &str) -> Result<MemberView, AppError> {
    let member = app.members().load(id).await?;
    if !member.is_registered() {
        return Err(AppError::NotFound(format!("no member with id {id}")));
    }
    Ok(MemberView::new(id.to_string(), member))
}

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// Every member enterprise, in the order they were last changed.
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MemberView>> {
        let rows = views::list::<Member>(app(ctx).db(), views::MEMBERS_TABLE).await.map_err(AppError::from)?;
        Ok(rows.into_iter().map(|(id, m)| MemberView::new(id, m)).collect())
    }

    async fn member(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<MemberView>> {
        let found = views::find::<Member>(app(ctx).db(), views::MEMBERS_TABLE, &id).await.map_err(AppError::from)?;
        Ok(found.map(|m| MemberView::new(id.to_string(), m)))
    }
}

#[derive(Default)]
pub struct MemberMutation;

impl MemberMutation {
    async fn run(&self, ctx: &Context<'_>, id: &str, command: MemberCommand) -> async_graphql::Result<MemberView> {
        let app = app(ctx);
        app.execute(app.members(), id, command, &actor(ctx)).await?;
        Ok(current(app, id).await?)
    }
}

#[Object]
impl MemberMutation {
    /// Registers a member enterprise. Registering the same org number twice is a CONFLICT.
    async fn register_member(
        &self,
        ctx: &Context<'_>,
        input: RegisterMemberInput,
    ) -> async_graphql::Result<MemberView> {
        let org = org_number("orgNumber", &input.org_number)?;
        let command = MemberCommand::Register {
            name: input.name,
            category: input.category.into(),
            target_group_share: percent("targetGroupSharePercent", &input.target_group_share_percent)?,
            joined_on: date("joinedOn", &input.joined_on)?,
            org_number: org.clone(),
        };
        self.run(ctx, &member_id(&org), command).await
    }

    /// Records a new share of staff from the target group (it decides eligibility for reserved agreements).
    async fn report_target_group_share(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        share_percent: String,
        reported_on: String,
    ) -> async_graphql::Result<MemberView> {
        let command = MemberCommand::ReportTargetGroupShare {
            share: percent("sharePercent", &share_percent)?,
            reported_on: date("reportedOn", &reported_on)?,
        };
        self.run(ctx, &member_id, command).await
    }

    /// A member proves ASF status (new statutes) or loses it.
    async fn change_member_category(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        category: MemberCategoryGql,
        changed_on: String,
    ) -> async_graphql::Result<MemberView> {
        let command =
            MemberCommand::ChangeCategory { category: category.into(), changed_on: date("changedOn", &changed_on)? };
        self.run(ctx, &member_id, command).await
    }

    async fn member_leaves(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        left_on: String,
    ) -> async_graphql::Result<MemberView> {
        let command = MemberCommand::Leave { left_on: date("leftOn", &left_on)? };
        self.run(ctx, &member_id, command).await
    }
}
