//! Input a hostile or careless client sends: each gets a typed error naming the field or rule, stores
//! nothing, and never takes the server down. Over HTTP, on both stores.

use konsortium_tests::tour::{self, ostersund_input, register_agreement, REGISTER_AGREEMENT};
use konsortium_tests::{both_stores, error_code, error_field, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};

/// Sends a request that must be refused with `code`; checks that nothing was stored.
async fn refused(server: &TestApp, db: &TestDb, query: &str, variables: Value, code: &str) -> Value {
    let before = event_count(&db.db).await;
    let body = server.graphql(query, variables).await;
    assert_eq!(error_code(&body), code, "{body:#}");
    assert_eq!(event_count(&db.db).await, before, "a refused request stored events: {body:#}");
    body
}

async fn refused_agreement(server: &TestApp, db: &TestDb, change: impl FnOnce(&mut Value)) -> Value {
    let mut input = ostersund_input();
    change(&mut input);
    refused(server, db, REGISTER_AGREEMENT, json!({ "input": input }), "VALIDATION").await
}

async fn an_agreement_until_further_notice_is_open_ended_and_can_be_split(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let mut input = ostersund_input();
    input["endDate"] = json!("9999-12-31");
    let body = register_agreement(&server, input).await;
    assert_eq!(body["data"]["registerAgreement"]["endDate"], Value::Null, "{body:#}");
    let agreement = body["data"]["registerAgreement"]["id"].as_str().unwrap_or_default().to_string();
    let allocated = tour::allocate(&server, &agreement, &fyndet, 8, "2024-09-01").await;
    assert_eq!(allocated["data"]["allocatePlaces"]["endDate"], Value::Null, "{allocated:#}");
    let mut ends = json!({ "agreementId": agreement, "memberId": fyndet, "places": 2, "startDate": "2025-01-01" });
    ends["endDate"] = json!("9999-12-31");
    let open_ended = server.graphql(tour::ALLOCATE, json!({ "i": ends })).await;
    assert!(open_ended.get("errors").is_none(), "{open_ended:#}");
    server.stop().await;
    db.remove().await;
}
both_stores!(an_agreement_until_further_notice_is_open_ended_and_can_be_split);

async fn amounts_that_could_overflow_are_refused_with_the_rule_named(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let body = refused_agreement(&server, &db, |a| a["rates"]["asfOre"] = json!(i64::MAX)).await;
    assert_eq!(error_rule(&body), "RateTooHigh");
    let body = refused_agreement(&server, &db, |a| a["maxMonthsPerParticipant"] = json!(2_147_483_647u32)).await;
    assert_eq!(error_rule(&body), "CapTooLong");
    let body = refused_agreement(&server, &db, |a| a["contractedPlaces"] = json!(4_294_967_295u32)).await;
    assert_eq!(error_rule(&body), "TooManyPlaces");

    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let before = event_count(&db.db).await;
    let body = tour::allocate(&server, &agreement, &fyndet, 4_294_967_295, "2024-09-01").await;
    assert_eq!((error_code(&body), error_rule(&body)), ("VALIDATION", "ExceedsContractedPlaces"), "{body:#}");
    assert_eq!(event_count(&db.db).await, before);

    let fruit = json!({
        "title": "Fruktkorgar", "contractReference": "GBG-2025-FRUKT",
        "buyer": { "name": "Göteborgs Stad", "orgNumber": "212000-1355", "reference": "INKOP-FRUKT" },
        "kind": "GOODS_AND_SERVICES", "startDate": "2025-01-01", "endDate": "2027-12-31",
        "contractValueOre": 4_000_000_000i64, "rates": { "asfOre": 0 }, "commissionPercent": "5", "vat": "STANDARD_25"
    });
    let fruit = tour::agreement(&server, fruit).await;
    let role = json!({ "agreementId": fruit, "memberId": fyndet, "role": "packing", "sharePercent": "100", "startDate": "2025-01-01" });
    let allocated = server
        .graphql("mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { id } }", json!({ "i": role }))
        .await;
    assert!(allocated.get("errors").is_none(), "{allocated:#}");
    let deliveries = json!({ "i": { "agreementId": fruit, "memberId": fyndet, "month": "2025-02",
        "deliveries": [{ "description": "Packning", "amountOre": i64::MAX }, { "description": "Packning", "amountOre": 1 }] } });
    let body = refused(
        &server,
        &db,
        "mutation($i: MonthlyReportInput!) { submitMonthlyReport(input: $i) { totalOre } }",
        deliveries,
        "VALIDATION",
    )
    .await;
    assert_eq!(error_rule(&body), "DeliveryTooLarge");
    server.stop().await;
    db.remove().await;
}
both_stores!(amounts_that_could_overflow_are_refused_with_the_rule_named);

async fn a_capacity_cut_below_the_allocated_places_is_refused(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    tour::allocation(&server, &agreement, &fyndet, 8, "2024-09-01").await;
    const CUT: &str = "mutation($a: ID!, $p: Int!) { changeAgreementCapacity(agreementId: $a, effectiveFrom: \"2025-01-01\", places: $p) { capacity { places } } }";
    for places in [2, 0] {
        let body = refused(&server, &db, CUT, json!({ "a": agreement, "p": places }), "VALIDATION").await;
        assert_eq!(error_rule(&body), "CapacityBelowAllocated", "{body:#}");
    }
    let accepted = server.ok(CUT, json!({ "a": agreement, "p": 8 })).await;
    assert_eq!(accepted["changeAgreementCapacity"]["capacity"], json!([{ "places": 13 }, { "places": 8 }]));
    server.stop().await;
    db.remove().await;
}
both_stores!(a_capacity_cut_below_the_allocated_places_is_refused);

async fn malformed_text_dates_numbers_and_json_get_a_typed_error(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    const REGISTER: &str = "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }";
    let member = |name: &str, org: &str, share: &str, joined: &str| json!({ "m": { "name": name, "orgNumber": org, "category": "ASF", "targetGroupSharePercent": share, "joinedOn": joined } });
    for (variables, field) in [
        (member("Fyndet\u{0}", "716422-1231", "45", "2024-01-01"), "name"),
        (member("\u{0}", "716422-1231", "45", "2024-01-01"), "name"),
        (member("   ", "716422-1231", "45", "2024-01-01"), "name"),
        (member(&"x".repeat(201), "716422-1231", "45", "2024-01-01"), "name"),
        (member("Fyndet", "000000-0000", "45", "2024-01-01"), "orgNumber"),
        (member("Fyndet", "716422-1231\u{0}", "45", "2024-01-01"), "orgNumber"),
        (member("Fyndet", "716422-1231", "1.", "2024-01-01"), "targetGroupSharePercent"),
        (member("Fyndet", "716422-1231", "45", "0000-01-01"), "joinedOn"),
        (member("Fyndet", "716422-1231", "45", "+2024-01-01"), "joinedOn"),
        (member("Fyndet", "716422-1231", "45", "2024-01-01\u{0}"), "joinedOn"),
    ] {
        let body = refused(&server, &db, REGISTER, variables, "VALIDATION").await;
        assert_eq!(error_field(&body), field, "{body:#}");
    }
    let body = refused_agreement(&server, &db, |a| a["contractReference"] = json!("")).await;
    assert_eq!(error_field(&body), "contractReference");
    let body = refused_agreement(&server, &db, |a| a["buyer"]["reference"] = json!("AME\u{0}")).await;
    assert_eq!(error_field(&body), "buyer.reference");
    let body = refused_agreement(&server, &db, |a| a["startDate"] = json!("1899-12-31")).await;
    assert_eq!(error_field(&body), "startDate");

    // An id with a NUL byte is refused before a database sees it.
    let body = server.graphql("query($id: ID!) { member(id: $id) { id } }", json!({ "id": "m\u{0}" })).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body:#}");

    let before = event_count(&db.db).await;
    for malformed in ["{\"query\": ", "not json", "", "{\"query\": 5}"] {
        let (status, body) = server.post_raw("/graphql", "application/json", malformed.to_string()).await;
        assert_eq!(status, 400, "{malformed:?} → {body:#}");
        assert_eq!(error_code(&body), "BAD_REQUEST", "{malformed:?} → {body:#}");
    }
    let body = server.graphql("mutation { registerMember(input: { name: 5 }) { id } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_REQUEST", "{body:#}");
    assert_eq!(event_count(&db.db).await, before);
    server.stop().await;
    db.remove().await;
}
both_stores!(malformed_text_dates_numbers_and_json_get_a_typed_error);

async fn a_stay_cannot_start_before_its_place_was_opened(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-10-01").await;
    server.participant("p-anna").await;
    let before = event_count(&db.db).await;
    let body = tour::fill(&server, &place, "p-anna", "2024-09-15").await;
    assert_eq!((error_code(&body), error_rule(&body)), ("VALIDATION", "BeforeOpened"), "{body:#}");
    assert_eq!(event_count(&db.db).await, before);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_stay_cannot_start_before_its_place_was_opened);

async fn a_rate_change_without_the_employment_rate_keeps_paying_it(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    assert!(tour::fill(&server, &place, "p-bo", "2024-09-01").await.get("errors").is_none());
    server
        .ok("mutation($p: ID!) { employParticipant(placeId: $p, from: \"2024-11-01\") { id } }", json!({ "p": place }))
        .await;
    let changed = server
        .ok(
            "mutation($a: ID!) { changeAgreementRates(agreementId: $a, effectiveFrom: \"2024-12-01\", rates: { asfOre: 650000 }) { rates { effectiveFrom asfOre otherAssociationOre employmentOre } } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(
        changed["changeAgreementRates"]["rates"][1],
        json!({ "effectiveFrom": "2024-12-01", "asfOre": 650000, "otherAssociationOre": 400000, "employmentOre": 1200000 })
    );
    // Bo is employed in December: the employment rate, 12 000 kr, not the new training rate.
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2024-12").await, 1_200_000);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_rate_change_without_the_employment_rate_keeps_paying_it);

async fn a_member_that_changes_category_on_1_october_is_paid_as_asf_for_september(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    assert!(tour::fill(&server, &place, "p-anna", "2024-09-01").await.get("errors").is_none());
    server
        .ok(
            "mutation($m: ID!) { changeMemberCategory(memberId: $m, category: OTHER_ASSOCIATION, changedOn: \"2024-10-01\") { category } }",
            json!({ "m": fyndet }),
        )
        .await;
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2024-09").await, 600_000);
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2024-10").await, 400_000);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_member_that_changes_category_on_1_october_is_paid_as_asf_for_september);

async fn krokoms_three_months_count_across_places(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::krokom_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2024-10-01").await;
    let first = tour::place(&server, &agreement, &allocation, "2024-10-01").await;
    let second = tour::place(&server, &agreement, &allocation, "2024-10-01").await;
    assert!(tour::fill(&server, &first, "p-david", "2024-10-16").await.get("errors").is_none());
    assert!(tour::vacate(&server, &first, "2024-11-30").await.get("errors").is_none());
    assert!(tour::fill(&server, &second, "p-david", "2024-12-01").await.get("errors").is_none());
    // The cap runs from 16 October, not from the move on 1 December: January pays 15 of 31 days of
    // 7 500 kr = 362 903 öre, February nothing.
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2025-01").await, 362_903);
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2025-02").await, 0);
    server.stop().await;
    db.remove().await;
}
both_stores!(krokoms_three_months_count_across_places);
