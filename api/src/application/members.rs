//! Member enterprises: joining, their standing over time, leaving.

use super::{access, change};
use crate::app::{member_id, Actor, App};
use crate::error::AppError;
use konsortium_domain::member::{Member, MemberCategory, MemberCommand};
use konsortium_domain::money::Percent;
use konsortium_domain::org_number::OrgNumber;
use time::Date;

/// What staff enter when an enterprise joins.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub name: String,
    pub org_number: OrgNumber,
    pub category: MemberCategory,
    pub target_group_share: Percent,
    pub joined_on: Date,
}

/// Registers a member; its id follows from the org number, so a second registration is a conflict.
pub async fn register_member(app: &App, actor: &Actor, new: NewMember) -> Result<(String, Member), AppError> {
    access::staff(actor)?;
    let id = member_id(&new.org_number);
    let command = || MemberCommand::Register {
        name: new.name.clone(),
        org_number: new.org_number.clone(),
        category: new.category,
        target_group_share: new.target_group_share,
        joined_on: new.joined_on,
    };
    let member = change(app, app.members(), &id, actor, command).await?;
    Ok((id, member))
}

/// A new share of staff from the target group, from a day (reserved agreements need 30 %).
pub async fn report_target_group_share(
    app: &App,
    actor: &Actor,
    member_id: &str,
    share: Percent,
    reported_on: Date,
) -> Result<Member, AppError> {
    access::staff(actor)?;
    let command = || MemberCommand::ReportTargetGroupShare { share, reported_on };
    change(app, app.members(), member_id, actor, command).await
}

/// The member proves ASF status or loses it, from a day; earlier days keep the old category.
pub async fn change_member_category(
    app: &App,
    actor: &Actor,
    member_id: &str,
    category: MemberCategory,
    changed_on: Date,
) -> Result<Member, AppError> {
    access::staff(actor)?;
    change(app, app.members(), member_id, actor, || MemberCommand::ChangeCategory { category, changed_on }).await
}

pub async fn member_leaves(app: &App, actor: &Actor, member_id: &str, left_on: Date) -> Result<Member, AppError> {
    access::staff(actor)?;
    change(app, app.members(), member_id, actor, || MemberCommand::Leave { left_on }).await
}
