//! Demo data from the source reports, so a first-time user sees real agreements, members, places and
//! monthly reports. Members and agreements are registered as commands; everything after goes through
//! the GraphQL schema, exactly as users do.

use crate::app::{member_id, Actor, App};
use crate::error::AppError;
use crate::graphql;
use async_graphql::{Request, Variables};
use konsortium_domain::agreement::AgreementCommand;
use konsortium_domain::calendar::parse_date;
use konsortium_domain::examples;
use konsortium_domain::member::MemberCommand;
use konsortium_domain::money::Percent;
use konsortium_domain::org_number::OrgNumber;
use konsortium_projections::views;
use serde_json::{json, Value};

const OSTERSUND: &str = "3b1f6c2e-0000-4000-8000-000000000001";
const KROKOM: &str = "3b1f6c2e-0000-4000-8000-000000000002";
const NORDANSTIG: &str = "3b1f6c2e-0000-4000-8000-000000000003";
const FRUIT_BASKETS: &str = "3b1f6c2e-0000-4000-8000-000000000004";

/// Loads the demo once: does nothing when the store already holds members.
pub async fn load(app: &App) -> Result<bool, AppError> {
    if !views::is_empty(app.db(), views::MEMBERS_TABLE).await? {
        return Ok(false);
    }
    let actor = Actor { subject: "demo".into(), request_id: uuid::Uuid::new_v4().to_string() };
    let joined_on = parse_date("2024-09-01").map_err(|e| AppError::invalid("demo", e))?;
    let mut members = Vec::new();
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
        members.push(id);
    }
    let [cafe, fyndet, gront, gemenskap] =
        <[String; 4]>::try_from(members).map_err(|_| AppError::invalid("demo", "four members"))?;
    for (id, terms) in [
        (OSTERSUND, examples::ostersund_work_training()),
        (KROKOM, examples::krokom_reserved()),
        (NORDANSTIG, examples::nordanstig_work_training()),
        (FRUIT_BASKETS, examples::fruit_baskets()),
    ] {
        app.execute(app.agreements(), id, AgreementCommand::Register(terms), &actor).await?;
    }
    let (effective_from, rates) = examples::krokom_rate_cut();
    app.execute(app.agreements(), KROKOM, AgreementCommand::ChangeRates { effective_from, rates }, &actor).await?;

    let demo = Demo { schema: graphql::schema(app.clone()) };
    // Östersund: Fyndet holds 8 of the 13 places, the café 5. Anna from 11 November 2024, Bo employed
    // from 17 March 2025, Cecilia left for studies in January.
    let fyndet_places = demo.allocate(OSTERSUND, &fyndet, 8, "2024-09-01").await?;
    let cafe_places = demo.allocate(OSTERSUND, &cafe, 5, "2024-09-01").await?;
    demo.open_and_fill(OSTERSUND, &fyndet_places, "p-anna-7f3a", "2024-11-11").await?;
    let bo = demo.open_and_fill(OSTERSUND, &fyndet_places, "p-bo-20b4", "2024-09-01").await?;
    demo.run("mutation($p: ID!) { employParticipant(placeId: $p, from: \"2025-03-17\") { id } }", json!({ "p": bo }))
        .await?;
    let cecilia = demo.open_and_fill(OSTERSUND, &cafe_places, "p-cecilia-91c2", "2024-10-01").await?;
    demo.run(
        "mutation($p: ID!) { vacatePlace(placeId: $p, lastDay: \"2025-01-31\", reason: STUDIES) { id } }",
        json!({ "p": cecilia }),
    )
    .await?;
    let november = demo.submit(OSTERSUND, &fyndet, "2024-11").await?;
    demo.run("mutation($r: ID!) { approveMonthlyReport(reportId: $r) { id } }", json!({ "r": november })).await?;
    demo.submit(OSTERSUND, &fyndet, "2025-03").await?;

    // Krokom: 7 500 kr for at most 3 months, cut to 3 000 kr from 2025.
    let krokom_places = demo.allocate(KROKOM, &cafe, 3, "2024-10-01").await?;
    demo.open_and_fill(KROKOM, &krokom_places, "p-david-4e8d", "2024-10-16").await?;
    demo.submit(KROKOM, &cafe, "2024-12").await?;

    // Nordanstig admits associations: Föreningen Gemenskap takes two places at 5 000 kr.
    demo.allocate(NORDANSTIG, &gemenskap, 2, "2025-01-01").await?;

    // The fruit baskets: purchasing, packing and delivery split 50/20/30.
    for (member, role, share) in [(&cafe, "purchasing", "50"), (&fyndet, "packing", "20"), (&gront, "delivery", "30")] {
        demo.run(
            "mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { id } }",
            json!({ "i": { "agreementId": FRUIT_BASKETS, "memberId": member, "role": role, "sharePercent": share, "startDate": "2025-01-01" } }),
        )
        .await?;
    }
    demo.run("mutation { confirmShares(agreementId: \"3b1f6c2e-0000-4000-8000-000000000004\", on: \"2025-01-01\") { agreementId } }", json!({}))
        .await?;
    Ok(true)
}

struct Demo {
    schema: graphql::KonsortiumSchema,
}

impl Demo {
    async fn run(&self, query: &str, variables: Value) -> Result<Value, AppError> {
        let request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(Actor { subject: "demo".into(), request_id: uuid::Uuid::new_v4().to_string() });
        let response = self.schema.execute(request).await;
        if let Some(error) = response.errors.first() {
            return Err(AppError::invalid("demo", &error.message));
        }
        response.data.into_json().map_err(|e| AppError::invalid("demo", e))
    }

    async fn allocate(&self, agreement: &str, member: &str, places: u32, start: &str) -> Result<String, AppError> {
        let data = self
            .run(
                "mutation($i: AllocatePlacesInput!) { allocatePlaces(input: $i) { id } }",
                json!({ "i": { "agreementId": agreement, "memberId": member, "places": places, "startDate": start } }),
            )
            .await?;
        Ok(data["allocatePlaces"]["id"].as_str().unwrap_or_default().to_string())
    }

    async fn open_and_fill(
        &self,
        agreement: &str,
        allocation: &str,
        participant: &str,
        from: &str,
    ) -> Result<String, AppError> {
        let opened = self
            .run(
                "mutation($a: ID!, $l: ID!, $on: String!) { openPlace(agreementId: $a, allocationId: $l, openedOn: $on) { id } }",
                json!({ "a": agreement, "l": allocation, "on": from }),
            )
            .await?;
        let place = opened["openPlace"]["id"].as_str().unwrap_or_default().to_string();
        self.run(
            "mutation($p: ID!, $who: String!, $from: String!) { fillPlace(placeId: $p, participantId: $who, from: $from) { id } }",
            json!({ "p": place, "who": participant, "from": from }),
        )
        .await?;
        Ok(place)
    }

    async fn submit(&self, agreement: &str, member: &str, month: &str) -> Result<String, AppError> {
        let data = self
            .run(
                "mutation($i: MonthlyReportInput!) { submitMonthlyReport(input: $i) { id } }",
                json!({ "i": { "agreementId": agreement, "memberId": member, "month": month } }),
            )
            .await?;
        Ok(data["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string())
    }
}
