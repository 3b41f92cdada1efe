//! Tokens, roles and idempotent retries over HTTP, on both stores.

use konsortium_api::auth::Role;
use konsortium_tests::tour::{self, ostersund_input};
use konsortium_tests::{both_stores, error_code, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::task::JoinSet;

async fn without_a_valid_token_every_operation_is_unauthenticated(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let other_server_key = {
        let other = TestApp::spawn(TestDb::sqlite().await.db).await;
        let token = other.staff.clone();
        other.stop().await;
        token
    };
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6InN0YWZmIiwiaXNzIjoia29uc29ydGl1bSIsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ.";
    let before = event_count(&db.db).await;
    for token in [None, Some("garbage"), Some(other_server_key.as_str()), Some(none)] {
        for query in ["{ __typename }", "mutation { memberLeaves(memberId: \"x\", leftOn: \"2025-01-01\") { id } }"] {
            let body = server.graphql_as(token, query, json!({})).await;
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{token:?} {query}: {body:#}");
        }
    }
    assert_eq!(event_count(&db.db).await, before);
    let (status, health) = server.get("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let graphiql = reqwest::get(format!("{}/graphql", server.base)).await.map(|r| r.status().as_u16());
    assert_eq!(graphiql.ok(), Some(200));
    server.stop().await;
    db.remove().await;
}
both_stores!(without_a_valid_token_every_operation_is_unauthenticated);

async fn a_member_works_on_its_own_places_only_and_a_buyer_changes_nothing(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let cafe = tour::member(&server, "Café Vängåvan", "769600-1234", "ASF", "60").await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let fyndets = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let cafes = tour::allocation(&server, &agreement, &cafe, 2, "2024-09-01").await;
    let fyndets_place = tour::place(&server, &agreement, &fyndets, "2024-09-01").await;
    let as_fyndet = server.token(Role::Member, Some(&fyndet), None);
    let as_buyer = server.token(Role::Buyer, None, Some("212000-2411"));
    const OPEN: &str = "mutation($a: ID!, $l: ID!) { openPlace(agreementId: $a, allocationId: $l, openedOn: \"2024-09-01\") { id memberId } }";
    const FILL: &str =
        "mutation($p: ID!, $who: ID!) { fillPlace(placeId: $p, participantId: $who, from: \"2024-11-11\") { filledBy } }";
    let anna = server.participant("p-anna").await;

    let before = event_count(&db.db).await;
    let refused = server.graphql_as(Some(&as_fyndet), OPEN, json!({ "a": agreement, "l": cafes })).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused:#}");
    for (token, query, variables) in [
        (
            &as_fyndet,
            tour::ALLOCATE,
            json!({ "i": { "agreementId": agreement, "memberId": fyndet, "places": 1, "startDate": "2025-01-01" } }),
        ),
        (&as_buyer, FILL, json!({ "p": fyndets_place, "who": anna })),
        (&as_buyer, OPEN, json!({ "a": agreement, "l": fyndets })),
    ] {
        let body = server.graphql_as(Some(token), query, variables).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    }
    assert_eq!(event_count(&db.db).await, before, "a refused call stored events");

    let opened = server.graphql_as(Some(&as_fyndet), OPEN, json!({ "a": agreement, "l": fyndets })).await;
    assert_eq!(opened["data"]["openPlace"]["memberId"], json!(fyndet), "{opened:#}");
    let filled = server.graphql_as(Some(&as_fyndet), FILL, json!({ "p": fyndets_place, "who": anna })).await;
    assert_eq!(filled["data"]["fillPlace"]["filledBy"], json!(anna), "{filled:#}");
    let submit = json!({ "i": { "agreementId": agreement, "memberId": fyndet, "month": "2024-11" } });
    const SUBMIT: &str = "mutation($i: MonthlyReportInput!) { submitMonthlyReport(input: $i) { id totalOre version } }";
    let report = server.graphql_as(Some(&as_fyndet), SUBMIT, submit).await;
    assert_eq!(report["data"]["submitMonthlyReport"]["totalOre"], 400_000, "{report:#}");
    let id = report["data"]["submitMonthlyReport"]["id"].clone();
    const APPROVE: &str = "mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { status } }";
    let approve = server.graphql_as(Some(&as_fyndet), APPROVE, json!({ "r": id })).await;
    assert_eq!(error_code(&approve), "FORBIDDEN", "a member may not approve its own month: {approve:#}");
    let other = json!({ "i": { "agreementId": agreement, "memberId": cafe, "month": "2024-11" } });
    let body = server.graphql_as(Some(&as_fyndet), SUBMIT, other).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");

    // Every event records who wrote it and in which role.
    let metadata = last_metadata(&db).await;
    assert_eq!((metadata["actor"].as_str(), metadata["role"].as_str()), (Some("test-member"), Some("member")));
    assert!(metadata["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    server.stop().await;
    db.remove().await;
}
both_stores!(a_member_works_on_its_own_places_only_and_a_buyer_changes_nothing);

async fn last_metadata(db: &TestDb) -> Value {
    let sql = "SELECT CAST(metadata AS TEXT) FROM events ORDER BY position DESC LIMIT 1";
    let text: Result<String, sqlx::Error> =
        konsortium_projections::on_db!(&db.db, pool => sqlx::query_scalar(sql).fetch_one(pool).await);
    serde_json::from_str(&text.unwrap_or_else(|e| panic!("{e}"))).unwrap_or_default()
}

async fn a_retried_mutation_with_its_idempotency_key_returns_the_first_answer_and_writes_nothing(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let fyndet = tour::fyndet(&server).await;
    const REGISTER: &str =
        "mutation($input: RegisterAgreementInput!, $key: String) { registerAgreement(input: $input, idempotencyKey: $key) { id } }";
    let variables = json!({ "input": ostersund_input(), "key": "ra-2024-ame-01" });
    let first = server.ok(REGISTER, variables.clone()).await;
    let events = event_count(&db.db).await;
    let again = server.ok(REGISTER, variables).await;
    assert_eq!(again, first, "the retry must answer with the first agreement");
    assert_eq!(event_count(&db.db).await, events, "the retry wrote events");
    let mut other = ostersund_input();
    other["contractedPlaces"] = json!(14);
    let reused = server.graphql(REGISTER, json!({ "input": other, "key": "ra-2024-ame-01" })).await;
    assert_eq!(error_code(&reused), "CONFLICT", "{reused:#}");

    // Sixteen clients retrying one request at the same moment still create one allocation and one place.
    let agreement = first["registerAgreement"]["id"].as_str().unwrap_or_default().to_string();
    const ALLOCATE: &str =
        "mutation($i: AllocatePlacesInput!) { allocatePlaces(input: $i, idempotencyKey: \"alloc-1\") { id } }";
    let input =
        json!({ "i": { "agreementId": agreement, "memberId": fyndet, "places": 3, "startDate": "2024-09-01" } });
    let answers = everyone(&server, ALLOCATE, input).await;
    let allocation = answers[0]["data"]["allocatePlaces"]["id"].clone();
    assert!(answers.iter().all(|a| a["data"]["allocatePlaces"]["id"] == allocation), "{answers:#?}");
    const OPEN: &str = "mutation($a: ID!, $l: ID!) { openPlace(agreementId: $a, allocationId: $l, openedOn: \"2024-09-01\", idempotencyKey: \"open-1\") { id } }";
    let answers = everyone(&server, OPEN, json!({ "a": agreement, "l": allocation })).await;
    assert!(
        answers.iter().all(|a| a["data"]["openPlace"]["id"] == answers[0]["data"]["openPlace"]["id"]),
        "{answers:#?}"
    );
    let split = server.app().splits().load(&agreement).await.unwrap_or_else(|e| panic!("{e}")).state;
    assert_eq!(split.allocations.len(), 1);
    assert_eq!(split.allocations[0].places.len(), 1);
    match Arc::try_unwrap(server) {
        Ok(server) => server.stop().await,
        Err(_) => panic!("a client still holds the server"),
    }
    db.remove().await;
}
both_stores!(a_retried_mutation_with_its_idempotency_key_returns_the_first_answer_and_writes_nothing);

/// The same request from 16 clients at once; every answer.
async fn everyone(server: &Arc<TestApp>, query: &'static str, variables: Value) -> Vec<Value> {
    let mut clients = JoinSet::new();
    for _ in 0..16 {
        let (server, variables) = (Arc::clone(server), variables.clone());
        clients.spawn(async move { server.graphql(query, variables).await });
    }
    let answers = clients.join_all().await;
    assert!(answers.iter().all(|a| a.get("errors").is_none()), "{answers:#?}");
    answers
}

async fn an_approval_of_a_version_the_member_has_replaced_is_a_conflict(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    assert!(tour::fill(&server, &place, "p-anna", "2024-11-11").await.get("errors").is_none());
    let report = tour::submit(&server, &agreement, &fyndet, "2024-11").await;
    let id = report["data"]["submitMonthlyReport"]["id"].clone();
    server
        .ok(
            "mutation($r: ID!) { rejectMonthlyReport(reportId: $r, version: 1, reason: \"Kontrollera datum\") { status } }",
            json!({ "r": id }),
        )
        .await;
    assert!(tour::submit(&server, &agreement, &fyndet, "2024-11").await.get("errors").is_none());
    let before = event_count(&db.db).await;
    const APPROVE: &str =
        "mutation($r: ID!, $v: Int!) { approveMonthlyReport(reportId: $r, version: $v) { status version } }";
    let stale = server.graphql(APPROVE, json!({ "r": id, "v": 1 })).await;
    assert_eq!((error_code(&stale), error_rule(&stale)), ("CONFLICT", "StaleVersion"), "{stale:#}");
    assert_eq!(event_count(&db.db).await, before);
    let fresh = server.ok(APPROVE, json!({ "r": id, "v": 2 })).await;
    assert_eq!(fresh["approveMonthlyReport"], json!({ "status": "APPROVED", "version": 2 }));
    server.stop().await;
    db.remove().await;
}
both_stores!(an_approval_of_a_version_the_member_has_replaced_is_a_conflict);
