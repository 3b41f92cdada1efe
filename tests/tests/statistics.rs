//! What municipalities ask, end to end on both stores: utilisation in place-days (also as the books
//! stood on a past day), outcomes by gender with small cells withheld from buyers, the follow-up
//! share, the estimate, and the same figures as CSV and as a chart; exact through a rebuild and an
//! erasure.

use konsortium_api::auth::Role;
use konsortium_tests::tour::{self, ostersund_input};
use konsortium_tests::{both_stores, error_code, ledger, TestApp, TestDb};
use serde_json::{json, Value};

const OSTERSUND: &str = "212000-2411";
const KROKOM: &str = "212000-2429";

const UTILISATION: &str = "query($a: ID, $b: String, $m: ID, $asOf: String) {
  utilisation(agreementId: $a, buyer: $b, memberId: $m, from: \"2025-11\", to: \"2025-11\", asOf: $asOf) {
    month contractedPlaceDays allocatedPlaceDays filledPlaceDays employedPlaceDays shareFilled } }";

const OUTCOMES: &str =
    "query($a: ID, $b: String) { outcomes(agreementId: $a, buyer: $b, from: \"2025-11\", to: \"2025-11\") {
  rows { reason gender count suppressed } byTargetGroup { reason targetGroup count suppressed }
  followUp { exits followedUp inWorkOrStudies share suppressed } } }";

fn cell<'a>(outcomes: &'a Value, reason: &str, gender: &str) -> &'a Value {
    outcomes["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["reason"] == reason && r["gender"] == gender))
        .unwrap_or(&Value::Null)
}

async fn get_text(server: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = server
        .client()
        .get(format!("http://{}{path}", server.addr()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn municipalities_follow_utilisation_and_outcomes(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let mut input = ostersund_input();
    input["contractedPlaces"] = json!(4);
    let agreement = tour::agreement(&server, input).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2025-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2025-11-01").await;
    let today = konsortium_api::application::today();

    // The fill is recorded two days later than everything before it.
    server.app().shift_recording_clock(time::Duration::days(2));
    let filled = tour::fill(&server, &place, "p-anna", "2025-11-11").await;
    assert!(filled.get("errors").is_none(), "{filled:#}");
    server.app().shift_recording_clock(time::Duration::ZERO);

    // 4 places × 30 days contracted, 2 × 30 allocated, filled from the 11th: 20 days.
    let now = server.ok(UTILISATION, json!({ "a": agreement })).await;
    assert_eq!(
        now["utilisation"],
        json!([{ "month": "2025-11", "contractedPlaceDays": 120, "allocatedPlaceDays": 60, "filledPlaceDays": 20,
                 "employedPlaceDays": 0, "shareFilled": 20.0 / 120.0 }])
    );
    // As the books stood today, before the fill was recorded: nothing filled yet.
    let before = server.ok(UTILISATION, json!({ "a": agreement, "asOf": today.to_string() })).await;
    assert_eq!(
        (&before["utilisation"][0]["contractedPlaceDays"], &before["utilisation"][0]["filledPlaceDays"]),
        (&json!(120), &json!(0)),
        "{before:#}"
    );
    let later = today.saturating_add(time::Duration::days(2)).to_string();
    let after = server.ok(UTILISATION, json!({ "a": agreement, "asOf": later })).await;
    assert_eq!(after["utilisation"][0]["filledPlaceDays"], 20, "{after:#}");
    // The member's own figures: its allocation is what it contracted to.
    let member = server.ok(UTILISATION, json!({ "m": fyndet })).await;
    assert_eq!(
        (&member["utilisation"][0]["contractedPlaceDays"], &member["utilisation"][0]["filledPlaceDays"]),
        (&json!(60), &json!(20))
    );

    // Östersund reads its own agreements, one or all; Krokom reads neither.
    let as_ostersund = server.token(Role::Buyer, None, Some(OSTERSUND));
    let as_krokom = server.token(Role::Buyer, None, Some(KROKOM));
    let own = server.graphql_as(Some(&as_ostersund), UTILISATION, json!({ "a": agreement })).await;
    assert_eq!(own["data"]["utilisation"], now["utilisation"], "{own:#}");
    let all_own = server.graphql_as(Some(&as_ostersund), UTILISATION, json!({ "b": OSTERSUND })).await;
    assert_eq!(all_own["data"]["utilisation"], now["utilisation"], "{all_own:#}");
    let other = server.graphql_as(Some(&as_krokom), UTILISATION, json!({ "a": agreement })).await;
    assert_eq!(error_code(&other), "FORBIDDEN", "{other:#}");
    let other = server.graphql_as(Some(&as_krokom), UTILISATION, json!({ "b": OSTERSUND })).await;
    assert_eq!(error_code(&other), "FORBIDDEN", "{other:#}");
    let both = server.graphql(UTILISATION, json!({ "a": agreement, "m": fyndet })).await;
    assert_eq!(error_code(&both), "VALIDATION", "{both:#}");

    // Anna leaves for a job on 30 November: exact for staff, withheld from the buyer.
    let vacate =
        "mutation($p: ID!) { vacatePlace(placeId: $p, lastDay: \"2025-11-30\", reason: EMPLOYMENT_ELSEWHERE) { id } }";
    server.ok(vacate, json!({ "p": place })).await;
    let staff = server.ok(OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(
        cell(&staff["outcomes"], "EMPLOYMENT_ELSEWHERE", "WOMAN"),
        &json!({ "reason": "EMPLOYMENT_ELSEWHERE", "gender": "WOMAN", "count": 1, "suppressed": false })
    );
    let buyer = server.graphql_as(Some(&as_ostersund), OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(
        cell(&buyer["data"]["outcomes"], "EMPLOYMENT_ELSEWHERE", "WOMAN"),
        &json!({ "reason": "EMPLOYMENT_ELSEWHERE", "gender": "WOMAN", "count": null, "suppressed": true }),
        "{buyer:#}"
    );
    let rows = buyer["data"]["outcomes"]["rows"].as_array().cloned().unwrap_or_default();
    assert!(rows.iter().all(|r| r["count"].is_null()), "a buyer saw a cell under five: {rows:?}");
    let other = server.graphql_as(Some(&as_krokom), OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(error_code(&other), "FORBIDDEN", "{other:#}");

    // Followed up 100 days later, in work: one of one exits.
    let anna = server.participant("p-anna").await;
    let follow =
        "mutation($p: ID!) { recordFollowUp(participantId: $p, on: \"2026-03-10\", status: IN_WORK) { status } }";
    server.ok(follow, json!({ "p": anna })).await;
    let staff = server.ok(OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(
        staff["outcomes"]["followUp"],
        json!({ "exits": 1, "followedUp": 1, "inWorkOrStudies": 1, "share": 1.0, "suppressed": false })
    );
    let estimate = "query($a: ID!) { socioEconomicEstimate(agreementId: $a, from: \"2025-11\", to: \"2025-11\") {
      perspective exitsToWork paybackMonths assumptions } }";
    let estimated = server.ok(estimate, json!({ "a": agreement })).await;
    let first = &estimated["socioEconomicEstimate"][0];
    assert_eq!((&first["perspective"], &first["exitsToWork"]), (&json!("MUNICIPALITY_INCOME_SUPPORT"), &json!(1)));
    assert_eq!(first["paybackMonths"].as_f64().map(f64::round), Some(5.0), "{estimated:#}");
    let buyer_estimate = server.graphql_as(Some(&as_ostersund), estimate, json!({ "a": agreement })).await;
    assert_eq!(buyer_estimate["data"]["socioEconomicEstimate"], Value::Null, "{buyer_estimate:#}");

    // The CSV holds the query's figures; a buyer's CSV withholds what its query withholds.
    let staff_token = server.token(Role::Staff, None, None);
    let query = format!("agreementId={agreement}&from=2025-11&to=2025-11");
    let (status, csv) = get_text(&server, &staff_token, &format!("/exports/utilisation.csv?{query}")).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        vec![
            "month,contracted_place_days,allocated_place_days,filled_place_days,employed_place_days,share_filled",
            "2025-11,120,60,20,0,0.1667"
        ]
    );
    let (_, csv) = get_text(&server, &staff_token, &format!("/exports/outcomes.csv?{query}")).await;
    assert!(csv.lines().any(|l| l == "EmploymentElsewhere,Woman,1,false"), "{csv}");
    let (_, csv) = get_text(&server, &as_ostersund, &format!("/exports/outcomes.csv?{query}")).await;
    assert!(csv.lines().any(|l| l == "EmploymentElsewhere,Woman,,true"), "{csv}");
    let (status, _) = get_text(&server, &as_krokom, &format!("/exports/utilisation.csv?{query}")).await;
    assert_eq!(status, 403);
    let (status, svg) = get_text(&server, &as_ostersund, &format!("/charts/utilisation.svg?{query}")).await;
    assert_eq!(status, 200);
    assert!(svg.starts_with("<svg") && svg.contains("2025-11 filled 20"), "{svg}");

    // Erasing Anna changes no figure; a rebuild from the log gives every row again.
    let erase = "mutation($id: ID!) { eraseParticipant(participantId: $id, reason: OBJECTION) { erased } }";
    server.ok(erase, json!({ "id": anna })).await;
    assert_eq!(server.ok(OUTCOMES, json!({ "a": agreement })).await, staff);
    let views = ledger::view_rows(&db.db).await;
    konsortium_projections::rebuild::rebuild(server.app().projector(), None, &|_, _| {})
        .await
        .unwrap_or_else(|e| panic!("rebuild: {e}"));
    assert_eq!(ledger::view_rows(&db.db).await, views);
    assert_eq!(server.ok(OUTCOMES, json!({ "a": agreement })).await, staff);
    assert_eq!(server.ok(UTILISATION, json!({ "a": agreement, "asOf": today.to_string() })).await, before);
    server.stop().await;
    db.remove().await;
}
both_stores!(municipalities_follow_utilisation_and_outcomes);

/// The referring authority sees how it went only for people who consented to it on the follow-up's
/// day: a withdrawal holds from its date, for the buyer's figures, while staff keep exact counts.
async fn a_buyer_sees_only_follow_ups_the_person_consented_to_share(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let mut input = ostersund_input();
    input["contractedPlaces"] = json!(6);
    let agreement = tour::agreement(&server, input).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 6, "2025-09-01").await;
    let consent = "mutation($p: ID!, $from: String!) {
      recordConsent(participantId: $p, purpose: FOLLOW_UP_WITH_REFERRER, from: $from) { id } }";
    let vacate =
        "mutation($p: ID!) { vacatePlace(placeId: $p, lastDay: \"2025-11-30\", reason: EMPLOYMENT_ELSEWHERE) { id } }";
    let follow =
        "mutation($p: ID!) { recordFollowUp(participantId: $p, on: \"2026-03-10\", status: IN_WORK) { status } }";
    let mut people = Vec::new();
    for n in 0..6 {
        let place = tour::place(&server, &agreement, &allocation, "2025-11-01").await;
        let handle = format!("p-{n}");
        let filled = tour::fill(&server, &place, &handle, "2025-11-03").await;
        assert!(filled.get("errors").is_none(), "{filled:#}");
        let person = server.participant(&handle).await;
        server.ok(consent, json!({ "p": person, "from": "2025-11-03" })).await;
        server.ok(vacate, json!({ "p": place })).await;
        server.ok(follow, json!({ "p": person })).await;
        people.push(person);
    }
    // One person withdraws the consent from 1 March, before the follow-up on 10 March.
    let withdraw = "mutation($p: ID!) {
      withdrawConsent(participantId: $p, purpose: FOLLOW_UP_WITH_REFERRER, from: \"2026-03-01\") { id } }";
    server.ok(withdraw, json!({ "p": people[0] })).await;

    let as_ostersund = server.token(Role::Buyer, None, Some(OSTERSUND));
    let buyer = server.graphql_as(Some(&as_ostersund), OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(
        buyer["data"]["outcomes"]["followUp"],
        json!({ "exits": 6, "followedUp": 5, "inWorkOrStudies": 5, "share": 1.0, "suppressed": false }),
        "{buyer:#}"
    );
    let staff = server.ok(OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(staff["outcomes"]["followUp"]["followedUp"], 6, "staff see every follow-up");

    // After a rebuild the consent periods are the same.
    konsortium_projections::rebuild::rebuild(server.app().projector(), None, &|_, _| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rebuilt = server.graphql_as(Some(&as_ostersund), OUTCOMES, json!({ "a": agreement })).await;
    assert_eq!(rebuilt["data"]["outcomes"]["followUp"], buyer["data"]["outcomes"]["followUp"]);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_buyer_sees_only_follow_ups_the_person_consented_to_share);

const COMPLIANCE: &str = "query($a: ID!) { employmentRequirement(agreementId: $a) { kind required agreed filled } }";
const AGREE: &str = "mutation($a: ID!, $m: ID!, $n: Int!) {
  agreeEmployments(agreementId: $a, memberId: $m, employments: $n) { employments agreedTotal } }";

/// Seed 001's example: a skallkrav of four employments, members agreeing to two, one person
/// employed: 4 → 2 → 1. The buyer reads its own agreement's figures, another buyer none, and a
/// requirement that could not be one stores nothing.
async fn an_employment_requirement_shows_required_agreed_and_filled(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = tour::fyndet(&server).await;
    let mut input = ostersund_input();
    input["employmentRequirement"] = json!({ "kind": "SKALLKRAV", "required": 4 });
    let agreement = tour::agreement(&server, input).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 2, "2025-09-01").await;

    let none_yet = server.ok(COMPLIANCE, json!({ "a": agreement })).await;
    assert_eq!(
        none_yet["employmentRequirement"],
        json!({ "kind": "SKALLKRAV", "required": 4, "agreed": 0, "filled": 0 })
    );
    let agreed = server.ok(AGREE, json!({ "a": agreement, "m": fyndet, "n": 2 })).await;
    assert_eq!(agreed["agreeEmployments"], json!({ "employments": 2, "agreedTotal": 2 }));

    // Anna is employed by the member on her place; Bo completes his stay without a job.
    let place = tour::place(&server, &agreement, &allocation, "2025-11-01").await;
    let other = tour::place(&server, &agreement, &allocation, "2025-11-01").await;
    assert!(tour::fill(&server, &place, "p-anna", "2025-11-03").await.get("errors").is_none());
    assert!(tour::fill(&server, &other, "p-bo", "2025-11-03").await.get("errors").is_none());
    let employ = "mutation($p: ID!) { employParticipant(placeId: $p, from: \"2025-11-17\") { id } }";
    server.ok(employ, json!({ "p": place })).await;
    assert!(tour::vacate(&server, &other, "2025-11-28").await.get("errors").is_none());

    let expected = json!({ "kind": "SKALLKRAV", "required": 4, "agreed": 2, "filled": 1 });
    let staff = server.ok(COMPLIANCE, json!({ "a": agreement })).await;
    assert_eq!(staff["employmentRequirement"], expected);
    let as_ostersund = server.token(Role::Buyer, None, Some(OSTERSUND));
    let own = server.graphql_as(Some(&as_ostersund), COMPLIANCE, json!({ "a": agreement })).await;
    assert_eq!(own["data"]["employmentRequirement"], expected, "{own:#}");
    let as_krokom = server.token(Role::Buyer, None, Some(KROKOM));
    let other_buyer = server.graphql_as(Some(&as_krokom), COMPLIANCE, json!({ "a": agreement })).await;
    assert_eq!(error_code(&other_buyer), "FORBIDDEN", "{other_buyer:#}");
    // Members neither read the figures nor record commitments; buyers record none either.
    let as_fyndet = server.token(Role::Member, Some(&fyndet), None);
    let member_read = server.graphql_as(Some(&as_fyndet), COMPLIANCE, json!({ "a": agreement })).await;
    assert_eq!(error_code(&member_read), "FORBIDDEN", "{member_read:#}");
    for token in [&as_fyndet, &as_ostersund] {
        let refused = server.graphql_as(Some(token), AGREE, json!({ "a": agreement, "m": fyndet, "n": 4 })).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused:#}");
    }
    let shown = server
        .ok(
            "query($a: ID!) { agreement(id: $a) { employmentRequirement { kind required } } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(shown["agreement"]["employmentRequirement"], json!({ "kind": "SKALLKRAV", "required": 4 }));

    // A dialogkrav has no number; an agreement without a condition answers null.
    let mut dialogue = ostersund_input();
    dialogue["contractReference"] = json!("RA-2024-AME-02");
    dialogue["employmentRequirement"] = json!({ "kind": "DIALOGKRAV" });
    let dialogue = tour::agreement(&server, dialogue).await;
    let read = server.ok(COMPLIANCE, json!({ "a": dialogue })).await;
    assert_eq!(read["employmentRequirement"], json!({ "kind": "DIALOGKRAV", "required": 0, "agreed": 0, "filled": 0 }));
    let mut plain = ostersund_input();
    plain["contractReference"] = json!("RA-2024-AME-03");
    let plain = tour::agreement(&server, plain).await;
    assert_eq!(server.ok(COMPLIANCE, json!({ "a": plain })).await["employmentRequirement"], Value::Null);

    // Bad input is a typed VALIDATION error and stores nothing.
    let events = konsortium_tests::event_count(&db.db).await;
    for (kind, required) in [
        ("SKALLKRAV", json!(-1)),
        ("SKALLKRAV", json!(0)),
        ("SKALLKRAV", json!(100_001)),
        ("SKALLKRAV", json!(5_000_000_000_i64)),
        ("SKALLKRAV", Value::Null),
        ("DIALOGKRAV", json!(3)),
    ] {
        let mut input = ostersund_input();
        input["employmentRequirement"] = json!({ "kind": kind, "required": required });
        let refused = tour::register_agreement(&server, input).await;
        assert_eq!(error_code(&refused), "VALIDATION", "{kind} {required}: {refused:#}");
    }
    for n in [json!(-2), json!(100_001)] {
        let refused = server.graphql(AGREE, json!({ "a": agreement, "m": fyndet, "n": n })).await;
        assert_eq!(error_code(&refused), "VALIDATION", "{n}: {refused:#}");
    }
    let refused = server.graphql(AGREE, json!({ "a": plain, "m": fyndet, "n": 1 })).await;
    assert_eq!(error_code(&refused), "VALIDATION", "{refused:#}");
    assert_eq!(konsortium_tests::event_count(&db.db).await, events);
    assert_eq!(server.ok(COMPLIANCE, json!({ "a": agreement })).await["employmentRequirement"], expected);
    server.stop().await;
    db.remove().await;
}
both_stores!(an_employment_requirement_shows_required_agreed_and_filled);
