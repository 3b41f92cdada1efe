//! Members and agreements registered and read back over HTTP/GraphQL, on PostgreSQL and on SQLite.

use konsortium_tests::{both_stores, error_code, event_count, TestApp, TestDb};
use serde_json::{json, Value};

const REGISTER_MEMBER: &str = "mutation($input: RegisterMemberInput!) {
  registerMember(input: $input) { id name orgNumber category targetGroupShare qualifiesForReserved joinedOn }
}";

const REGISTER_AGREEMENT: &str = "mutation($input: RegisterAgreementInput!) {
  registerAgreement(input: $input) { id }
}";

const AGREEMENT_FIELDS: &str = "id title contractReference kind startDate endDate contractedPlaces reserved
  buyer { name orgNumber reference }
  rates { effectiveFrom asfOre otherAssociationOre employmentOre }
  employmentRateMaxMonths commission commissionBasisPoints vat vatExemptionReason";

fn fyndet() -> Value {
    json!({
        "name": "Returbutiken Fyndet",
        "orgNumber": "716422-1231",
        "category": "ASF",
        "targetGroupSharePercent": "45",
        "joinedOn": "2024-09-01"
    })
}

/// Östersund's framework agreement from September 2024 (6 000 kr per place and month, up to
/// 12 000 kr while employed).
fn ostersund() -> Value {
    json!({
        "title": "Arbetsträning och sysselsättningsplatser",
        "contractReference": "RA-2024-AME-01",
        "buyer": { "name": "Östersunds kommun", "orgNumber": "212000-2411", "reference": "AME-ARBETSTRANING" },
        "kind": "TRAINING_PLACES",
        "startDate": "2024-09-01",
        "endDate": "2027-08-31",
        "contractedPlaces": 13,
        "reserved": true,
        "rates": { "asfOre": 600000, "otherAssociationOre": 400000, "employmentOre": 1200000 },
        "employmentRateMaxMonths": 6,
        "commissionPercent": "5",
        "vat": "EXEMPT",
        "vatExemptionReason": "Arbetsmarknadsinsats"
    })
}

async fn a_member_and_an_agreement_registered_over_http_are_read_back(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;

    let member = server.ok(REGISTER_MEMBER, json!({ "input": fyndet() })).await;
    let member = &member["registerMember"];
    assert_eq!(member["orgNumber"], "716422-1231");
    assert_eq!(member["qualifiesForReserved"], true);

    let registered = server.ok(REGISTER_AGREEMENT, json!({ "input": ostersund() })).await;
    let id = registered["registerAgreement"]["id"].as_str().unwrap_or_default().to_string();

    let listed = server.ok("{ members { nodes { id name category targetGroupShare } } }", json!({})).await;
    assert_eq!(
        listed["members"]["nodes"],
        json!([{ "id": member["id"], "name": "Returbutiken Fyndet", "category": "ASF", "targetGroupShare": "45 %" }])
    );

    let read = server
        .ok(&format!("query($id: ID!) {{ agreement(id: $id) {{ {AGREEMENT_FIELDS} }} }}"), json!({ "id": id }))
        .await;
    assert_eq!(
        read["agreement"],
        json!({
            "id": id,
            "title": "Arbetsträning och sysselsättningsplatser",
            "contractReference": "RA-2024-AME-01",
            "kind": "TRAINING_PLACES",
            "startDate": "2024-09-01",
            "endDate": "2027-08-31",
            "contractedPlaces": 13,
            "reserved": true,
            "buyer": { "name": "Östersunds kommun", "orgNumber": "212000-2411", "reference": "AME-ARBETSTRANING" },
            "rates": [{ "effectiveFrom": "2024-09-01", "asfOre": 600000, "otherAssociationOre": 400000, "employmentOre": 1200000 }],
            "employmentRateMaxMonths": 6,
            "commission": "5 %",
            "commissionBasisPoints": 500,
            "vat": "EXEMPT",
            "vatExemptionReason": "Arbetsmarknadsinsats"
        })
    );
    let all = server.ok("{ agreements { totalCount edges { cursor node { id } } } }", json!({})).await;
    assert_eq!(all["agreements"]["totalCount"], 1);
    assert_eq!(all["agreements"]["edges"][0]["node"], json!({ "id": id }));
    assert!(all["agreements"]["edges"][0]["cursor"].as_str().is_some_and(|c| !c.is_empty()));

    server.stop().await;
    db.remove().await;
}
both_stores!(a_member_and_an_agreement_registered_over_http_are_read_back);

/// Sends a mutation that must fail with `code` (and `rule`, when given), and checks nothing was stored.
async fn rejected(server: &TestApp, db: &TestDb, query: &str, input: Value, code: &str, rule: Option<&str>) -> Value {
    let before = event_count(&db.db).await;
    let body = server.graphql(query, json!({ "input": input })).await;
    assert_eq!(error_code(&body), code, "{body:#}");
    if let Some(rule) = rule {
        assert_eq!(body["errors"][0]["extensions"]["rule"], rule, "{body:#}");
    }
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(event_count(&db.db).await, before, "a rejected command stored events");
    body
}

async fn bad_input_gets_a_typed_error_and_stores_nothing(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;

    let mut wrong_check_digit = fyndet();
    wrong_check_digit["orgNumber"] = json!("716422-1232");
    let body = rejected(&server, &db, REGISTER_MEMBER, wrong_check_digit, "VALIDATION", None).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "orgNumber");

    let mut buyer_wrong_format = ostersund();
    buyer_wrong_format["buyer"]["orgNumber"] = json!("212000-241");
    rejected(&server, &db, REGISTER_AGREEMENT, buyer_wrong_format, "VALIDATION", None).await;

    let mut ends_before_start = ostersund();
    ends_before_start["endDate"] = json!("2024-08-31");
    rejected(&server, &db, REGISTER_AGREEMENT, ends_before_start, "VALIDATION", Some("EndBeforeStart")).await;

    let mut negative_rate = ostersund();
    negative_rate["rates"]["asfOre"] = json!(-600000);
    rejected(&server, &db, REGISTER_AGREEMENT, negative_rate, "VALIDATION", Some("NegativeRate")).await;

    let mut bad_date = ostersund();
    bad_date["startDate"] = json!("1 september 2024");
    rejected(&server, &db, REGISTER_AGREEMENT, bad_date, "VALIDATION", None).await;

    let mut bad_share = fyndet();
    bad_share["targetGroupSharePercent"] = json!("130");
    rejected(&server, &db, REGISTER_MEMBER, bad_share, "VALIDATION", None).await;

    let malformed = server.graphql("{ members { id ", json!({})).await;
    assert_eq!(error_code(&malformed), "BAD_REQUEST");
    let unknown_field = server.graphql("{ members { nodes { salary } } }", json!({})).await;
    assert_eq!(error_code(&unknown_field), "BAD_REQUEST");

    assert_eq!(event_count(&db.db).await, 0);
    assert_eq!(
        server.ok("{ members { nodes { id } } agreements { nodes { id } totalCount } }", json!({})).await,
        json!({ "members": { "nodes": [] }, "agreements": { "nodes": [], "totalCount": 0 } })
    );

    server.stop().await;
    db.remove().await;
}
both_stores!(bad_input_gets_a_typed_error_and_stores_nothing);

async fn an_enterprise_is_registered_only_once(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    server.ok(REGISTER_MEMBER, json!({ "input": fyndet() })).await;
    let mut same_org_other_spelling = fyndet();
    same_org_other_spelling["orgNumber"] = json!("7164221231");
    same_org_other_spelling["name"] = json!("Fyndet AB");
    rejected(&server, &db, REGISTER_MEMBER, same_org_other_spelling, "CONFLICT", Some("AlreadyRegistered")).await;
    server.stop().await;
    db.remove().await;
}
both_stores!(an_enterprise_is_registered_only_once);

async fn the_health_check_names_the_store(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let (status, body) = server.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["store"], if db.is_postgres() { "postgres" } else { "sqlite" });
    server.stop().await;
    db.remove().await;
}
both_stores!(the_health_check_names_the_store);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_keeps_its_data_across_restarts() {
    let db = TestDb::sqlite().await;
    let first = TestApp::spawn(db.reopen().await).await;
    first.ok(REGISTER_MEMBER, json!({ "input": fyndet() })).await;
    first.ok(REGISTER_AGREEMENT, json!({ "input": ostersund() })).await;
    first.stop().await;

    let second = TestApp::spawn(db.reopen().await).await;
    let data = second
        .ok("{ members { nodes { name } } agreements { nodes { buyer { name } rates { asfOre } } } }", json!({}))
        .await;
    assert_eq!(
        data,
        json!({
            "members": { "nodes": [{ "name": "Returbutiken Fyndet" }] },
            "agreements": { "nodes": [{ "buyer": { "name": "Östersunds kommun" }, "rates": [{ "asfOre": 600000 }] }] }
        })
    );
    second.stop().await;
    db.remove().await;
}
