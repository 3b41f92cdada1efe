//! Member enterprises: joining, their standing over time, leaving.

use super::{access, change};
use crate::app::{member_id, Actor, App};
use crate::error::AppError;
use crate::store::KeyChange;
use crate::vault;
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
/// A sole trader's number is its owner's personnummer: it is sealed like a participant's identity
/// (see [`register_sole_trader`]).
pub async fn register_member(app: &App, actor: &Actor, new: NewMember) -> Result<(String, Member), AppError> {
    access::staff(actor)?;
    if new.org_number.is_personal_identity_number() {
        return register_sole_trader(app, actor, new).await;
    }
    let id = member_id(&new.org_number);
    let command = || MemberCommand::Register {
        name: new.name.clone(),
        org_number: Some(new.org_number.clone()),
        sealed_org_number: None,
        category: new.category,
        target_group_share: new.target_group_share,
        joined_on: new.joined_on,
    };
    let member = change(app, app.members(), &id, actor, command).await?;
    Ok((id, member))
}

/// A sole trader's id follows from a keyed digest of its number, so it too is registered once, yet
/// the id reveals the personnummer to nobody without the KEK (a plain digest of a personnummer can be
/// reversed by trying them all). The number itself is sealed under a key of the member's own.
async fn register_sole_trader(app: &App, actor: &Actor, new: NewMember) -> Result<(String, Member), AppError> {
    let digest = app.vault().fingerprint(&format!("se-orgnr:{}", new.org_number.digits()));
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("sole-trader:{digest}").as_bytes()).to_string();
    let fingerprint = (&id, &new.name, new.category, new.target_group_share, new.joined_on);
    let attempt = app.attempt(actor, "register_member", &fingerprint);
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut member = app.members().load(&id).await?;
        let (sealed, wrapped) = app.vault().seal(&id, &new.org_number).map_err(|e| AppError::Internal(Box::new(e)))?;
        let registered = member
            .decide(MemberCommand::Register {
                name: new.name.clone(),
                org_number: None,
                sealed_org_number: Some(sealed),
                category: new.category,
                target_group_share: new.target_group_share,
                joined_on: new.joined_on,
            })
            .await?
            .with_key(KeyChange::Keep { owner_id: id.clone(), wrapped });
        attempt.commit(&[registered], (id.clone(), member.state)).await
    })
    .await
}

/// A member's organisation number as the caller may see it: a legal person's to anyone who sees
/// the member; a sole trader's (a personnummer) only to staff and the member itself, opened here and
/// recorded as a read of personal data first.
pub async fn org_number(
    app: &App,
    actor: &Actor,
    member_id: &str,
    member: &Member,
) -> Result<Option<String>, AppError> {
    if let Some(number) = &member.org_number {
        return Ok(Some(number.to_string()));
    }
    let Some(sealed) = &member.sealed_org_number else { return Ok(None) };
    if access::member(actor, member_id).is_err() {
        return Ok(None);
    }
    let Some(wrapped) = vault::find_key(app.db(), member_id).await? else { return Ok(None) };
    super::participants::record_read(app.db(), actor, "Member", member_id).await?;
    let number: OrgNumber =
        app.vault().open(member_id, sealed, &wrapped).map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(Some(number.to_string()))
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
