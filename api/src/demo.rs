//! Demo data from the source reports, so a first-time user sees real agreements and members.

use crate::app::{member_id, Actor, App};
use crate::error::AppError;
use konsortium_domain::agreement::AgreementCommand;
use konsortium_domain::calendar::parse_date;
use konsortium_domain::examples;
use konsortium_domain::member::MemberCommand;
use konsortium_domain::money::Percent;
use konsortium_domain::org_number::OrgNumber;
use konsortium_projections::views;

/// Loads the demo once: does nothing when the store already holds members.
pub async fn load(app: &App) -> Result<bool, AppError> {
    if !views::list::<serde_json::Value>(app.db(), views::MEMBERS_TABLE).await?.is_empty() {
        return Ok(false);
    }
    let actor = Actor { subject: "demo".into(), request_id: uuid::Uuid::new_v4().to_string() };
    let joined_on = parse_date("2024-09-01").map_err(|e| AppError::invalid("demo", e))?;
    for member in examples::MEMBERS {
        let org_number = OrgNumber::parse(member.org_number).map_err(|e| AppError::invalid("demo", e))?;
        let id = member_id(&org_number);
        let command = MemberCommand::Register {
            name: member.name.into(),
            org_number,
            category: member.category,
            target_group_share: Percent::from_whole(member.target_group_share),
            joined_on,
        };
        app.execute(app.members(), &id, command, &actor).await?;
    }
    let agreements = [
        ("3b1f6c2e-0000-4000-8000-000000000001", examples::ostersund_work_training()),
        ("3b1f6c2e-0000-4000-8000-000000000002", examples::krokom_reserved()),
        ("3b1f6c2e-0000-4000-8000-000000000003", examples::nordanstig_work_training()),
        ("3b1f6c2e-0000-4000-8000-000000000004", examples::fruit_baskets()),
    ];
    for (id, terms) in agreements.clone() {
        app.execute(app.agreements(), id, AgreementCommand::Register(terms), &actor).await?;
    }
    let (effective_from, rates) = examples::krokom_rate_cut();
    app.execute(app.agreements(), agreements[1].0, AgreementCommand::ChangeRates { effective_from, rates }, &actor)
        .await?;
    Ok(true)
}
