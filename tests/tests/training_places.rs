//! Splitting agreements, filling places and reporting months, over HTTP/GraphQL on both stores.

use konsortium_tests::tour::member;
use konsortium_tests::{both_stores, error_code, event_count, TestApp, TestDb};
use serde_json::{json, Value};

/// Östersund's reserved agreement: 13 places, 6 000 kr per month, 12 000 kr employed, 5 % commission.
async fn ostersund(server: &TestApp) -> String {
    let data = server
        .ok(
            "mutation($a: RegisterAgreementInput!) { registerAgreement(input: $a) { id } }",
            json!({ "a": {
                "title": "Arbetsträning", "contractReference": "RA-2024-AME-01",
                "buyer": { "name": "Östersunds kommun", "orgNumber": "212000-2411", "reference": "AME-ARBETSTRANING" },
                "kind": "TRAINING_PLACES", "startDate": "2024-09-01", "endDate": "2027-08-31", "contractedPlaces": 13,
                "reserved": true, "rates": { "asfOre": 600000, "otherAssociationOre": 400000, "employmentOre": 1200000 },
                "employmentRateMaxMonths": 6, "commissionPercent": "5", "vat": "EXEMPT", "vatExemptionReason": "Arbetsmarknadsinsats"
            } }),
        )
        .await;
    data["registerAgreement"]["id"].as_str().unwrap_or_default().to_string()
}

async fn allocate(server: &TestApp, agreement: &str, member: &str, places: u32) -> Value {
    server
        .graphql(
            "mutation($i: AllocatePlacesInput!) { allocatePlaces(input: $i) { id memberId startDate endDate versions { places } } }",
            json!({ "i": { "agreementId": agreement, "memberId": member, "places": places, "startDate": "2024-09-01" } }),
        )
        .await
}

async fn open_place(server: &TestApp, agreement: &str, allocation: &str) -> String {
    let data = server
        .ok(
            "mutation($a: ID!, $l: ID!) { openPlace(agreementId: $a, allocationId: $l, openedOn: \"2024-09-01\") { id } }",
            json!({ "a": agreement, "l": allocation }),
        )
        .await;
    data["openPlace"]["id"].as_str().unwrap_or_default().to_string()
}

/// Fills a place with the participant the test calls `participant`, registered on first use.
async fn fill(server: &TestApp, place: &str, participant: &str, from: &str) -> Value {
    konsortium_tests::tour::fill(server, place, participant, from).await
}

const REPORT_FIELDS: &str = "id status version totalOre commissionOre payoutOre approvedVersions
  places { daysFilled daysInMonth amountOre paidDays { participantId days kind monthlyRateOre } }";

/// Fyndet at Östersund with two places: Anna from 11 November 2024, Bo from September.
async fn fyndet_in_november(server: &TestApp) -> (String, String) {
    let fyndet = member(server, "Returbutiken Fyndet", "716422-1231", "ASF", "45").await;
    let agreement = ostersund(server).await;
    let allocation = allocate(server, &agreement, &fyndet, 8).await;
    let allocation = allocation["data"]["allocatePlaces"]["id"].as_str().unwrap_or_default().to_string();
    let first = open_place(server, &agreement, &allocation).await;
    let second = open_place(server, &agreement, &allocation).await;
    let (anna, bo) = (server.participant("p-anna").await, server.participant("p-bo").await);
    assert_eq!(fill(server, &first, "p-anna", "2024-11-11").await["data"]["fillPlace"]["filledBy"], json!(anna));
    assert_eq!(fill(server, &second, "p-bo", "2024-09-01").await["data"]["fillPlace"]["filledBy"], json!(bo));
    (agreement, fyndet)
}

async fn submit(server: &TestApp, agreement: &str, member: &str, month: &str) -> Value {
    server
        .graphql(
            &format!("mutation($i: MonthlyReportInput!) {{ submitMonthlyReport(input: $i) {{ {REPORT_FIELDS} }} }}"),
            json!({ "i": { "agreementId": agreement, "memberId": member, "month": month } }),
        )
        .await
}

async fn a_month_of_filled_places_is_reported_approved_and_paid_less_commission(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let (agreement, fyndet) = fyndet_in_november(&server).await;

    let body = submit(&server, &agreement, &fyndet, "2024-11").await;
    let report = &body["data"]["submitMonthlyReport"];
    assert_eq!(report["status"], "SUBMITTED", "{body:#}");
    // Anna: 20 of 30 days at 6 000 kr = 400 000 öre; Bo: the whole month = 600 000 öre.
    let mut lines: Vec<(i64, i64)> = report["places"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|p| (p["daysFilled"].as_i64().unwrap_or(-1), p["amountOre"].as_i64().unwrap_or(-1)))
        .collect();
    lines.sort();
    assert_eq!(lines, vec![(20, 400_000), (30, 600_000)]);
    assert_eq!(
        (&report["totalOre"], &report["commissionOre"], &report["payoutOre"]),
        (&json!(1_000_000), &json!(50_000), &json!(950_000))
    );

    let id = report["id"].as_str().unwrap_or_default();
    let approved = server
        .ok(
            "mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { status approvedVersions } }",
            json!({ "r": id }),
        )
        .await;
    assert_eq!(approved["approveMonthlyReport"], json!({ "status": "APPROVED", "approvedVersions": [1] }));

    let listed = server
        .ok(
            "query($a: ID!) { monthlyReports(agreementId: $a) { nodes { month status payoutOre } } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(
        listed["monthlyReports"]["nodes"],
        json!([{ "month": "2024-11", "status": "APPROVED", "payoutOre": 950_000 }])
    );
    // The view's rows keep totals only; lines asked of the list or of one report come from the
    // report's events.
    let lines = server
        .ok(
            "query($a: ID!, $m: ID!) { monthlyReports(agreementId: $a) { nodes { places { amountOre } } edges { node { places { daysFilled } } } } \
               monthlyReport(agreementId: $a, memberId: $m, month: \"2024-11\") { places { amountOre } } }",
            json!({ "a": agreement, "m": fyndet }),
        )
        .await;
    let sorted = |value: &Value, field: &str| {
        let mut found: Vec<i64> =
            value.as_array().unwrap_or(&vec![]).iter().map(|p| p[field].as_i64().unwrap_or(-1)).collect();
        found.sort();
        found
    };
    assert_eq!(sorted(&lines["monthlyReports"]["nodes"][0]["places"], "amountOre"), vec![400_000, 600_000]);
    assert_eq!(sorted(&lines["monthlyReports"]["edges"][0]["node"]["places"], "daysFilled"), vec![20, 30]);
    assert_eq!(sorted(&lines["monthlyReport"]["places"], "amountOre"), vec![400_000, 600_000]);
    server.stop().await;
    db.remove().await;
}
both_stores!(a_month_of_filled_places_is_reported_approved_and_paid_less_commission);

async fn a_report_for_an_invoiced_month_is_refused_and_changes_nothing(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let (agreement, fyndet) = fyndet_in_november(&server).await;
    let body = submit(&server, &agreement, &fyndet, "2024-11").await;
    let id = body["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
    server
        .ok("mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { status } }", json!({ "r": id }))
        .await;
    let marked = server
        .ok(
            "mutation($r: ID!) { markMonthlyReportInvoiced(reportId: $r, invoiceNumber: \"2024-0001\") { status } }",
            json!({ "r": id }),
        )
        .await;
    assert_eq!(marked["markMonthlyReportInvoiced"]["status"], "INVOICED");
    let before = event_count(&db.db).await;
    let refused = server
        .graphql(
            "mutation($i: MonthlyReportInput!) { correctMonthlyReport(input: $i) { status } }",
            json!({ "i": { "agreementId": agreement, "memberId": fyndet, "month": "2024-11" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused:#}");
    assert_eq!(refused["errors"][0]["extensions"]["rule"], "AlreadyInvoiced");
    let again = server
        .graphql("mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { status } }", json!({ "r": id }))
        .await;
    assert_eq!(again["errors"][0]["extensions"]["rule"], "AlreadyInvoiced");
    assert_eq!(event_count(&db.db).await, before);
    let report = server
        .ok(
            "query($a: ID!, $m: ID!) { monthlyReport(agreementId: $a, memberId: $m, month: \"2024-11\") { status version invoiceId totalOre } }",
            json!({ "a": agreement, "m": fyndet }),
        )
        .await;
    assert_eq!(
        report["monthlyReport"],
        json!({ "status": "INVOICED", "version": 1, "invoiceId": "2024-0001", "totalOre": 1_000_000 })
    );
    server.stop().await;
    db.remove().await;
}
both_stores!(a_report_for_an_invoiced_month_is_refused_and_changes_nothing);

async fn allocations_beyond_the_contracted_places_or_to_unqualified_members_are_refused(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let fyndet = member(&server, "Returbutiken Fyndet", "716422-1231", "ASF", "45").await;
    let cafe = member(&server, "Vägen Ut Café", "769600-1234", "ASF", "60").await;
    let gront = member(&server, "Trädgårdskooperativet Grönt", "802481-3472", "ASF", "25").await;
    let agreement = ostersund(&server).await;
    assert!(allocate(&server, &agreement, &fyndet, 8).await.get("errors").is_none());

    let before = event_count(&db.db).await;
    let overlapping = allocate(&server, &agreement, &cafe, 6).await;
    assert_eq!(error_code(&overlapping), "VALIDATION");
    assert_eq!(overlapping["errors"][0]["extensions"]["rule"], "ExceedsContractedPlaces");
    let unqualified = allocate(&server, &agreement, &gront, 2).await;
    assert_eq!(unqualified["errors"][0]["extensions"]["rule"], "MemberNotQualifiedForReserved");
    let unknown_member = allocate(&server, &agreement, "no-such-member", 2).await;
    assert_eq!(error_code(&unknown_member), "NOT_FOUND");
    assert_eq!(event_count(&db.db).await, before);

    assert!(allocate(&server, &agreement, &cafe, 5).await.get("errors").is_none());
    let split = server
        .ok(
            "query($a: ID!) { split(agreementId: $a) { allocations { memberId versions { places } } } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(
        split["split"]["allocations"],
        json!([{ "memberId": fyndet, "versions": [{ "places": 8 }] }, { "memberId": cafe, "versions": [{ "places": 5 }] }])
    );
    server.stop().await;
    db.remove().await;
}
both_stores!(allocations_beyond_the_contracted_places_or_to_unqualified_members_are_refused);

async fn a_place_takes_one_pseudonymous_participant_at_a_time_and_records_the_outcome(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let (agreement, fyndet) = fyndet_in_november(&server).await;
    let anna = server.participant("p-anna").await;
    let places = server
        .ok(
            "query($a: ID!, $m: ID!) { places(agreementId: $a, memberId: $m) { nodes { id filledBy } } }",
            json!({ "a": agreement, "m": fyndet }),
        )
        .await;
    let anna_place = places["places"]["nodes"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["filledBy"] == json!(anna)))
        .and_then(|p| p["id"].as_str())
        .unwrap_or_default()
        .to_string();

    let twice = fill(&server, &anna_place, "p-cecilia", "2024-11-20").await;
    assert_eq!((error_code(&twice), &twice["errors"][0]["extensions"]["rule"]), ("CONFLICT", &json!("AlreadyFilled")));
    let personnummer = konsortium_tests::tour::fill_id(&server, &anna_place, "19850312-1234", "2024-11-20").await;
    assert_eq!(
        (error_code(&personnummer), &personnummer["errors"][0]["extensions"]["field"]),
        ("VALIDATION", &json!("participantId"))
    );

    let vacated = server
        .ok(
            "mutation($p: ID!) { vacatePlace(placeId: $p, lastDay: \"2025-01-31\", reason: STUDIES) { filledBy stays { participantId from to exitReason } } }",
            json!({ "p": anna_place }),
        )
        .await;
    assert_eq!(
        vacated["vacatePlace"],
        json!({ "filledBy": null, "stays": [{ "participantId": anna, "from": "2024-11-11", "to": "2025-01-31", "exitReason": "STUDIES" }] })
    );
    server.stop().await;
    db.remove().await;
}
both_stores!(a_place_takes_one_pseudonymous_participant_at_a_time_and_records_the_outcome);

async fn the_fruit_basket_contract_is_split_by_roles_up_to_its_whole_value(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let cafe = member(&server, "Vägen Ut Café", "769600-1234", "ASF", "60").await;
    let fyndet = member(&server, "Returbutiken Fyndet", "716422-1231", "ASF", "45").await;
    let data = server
        .ok(
            "mutation($a: RegisterAgreementInput!) { registerAgreement(input: $a) { id contractValueOre } }",
            json!({ "a": {
                "title": "Fruktkorgar", "contractReference": "GBG-FRUKT-2025",
                "buyer": { "name": "Göteborgs Stad", "orgNumber": "212000-1355", "reference": "INKOP-FRUKT" },
                "kind": "GOODS_AND_SERVICES", "startDate": "2025-01-01", "endDate": "2027-12-31", "contractValueOre": 4_000_000_000i64,
                "rates": { "asfOre": 0 }, "commissionPercent": "5", "vat": "STANDARD_25"
            } }),
        )
        .await;
    assert_eq!(data["registerAgreement"]["contractValueOre"], json!(4_000_000_000i64));
    let agreement = data["registerAgreement"]["id"].as_str().unwrap_or_default().to_string();
    let role = |member: &str, role: &str, share: &str| json!({ "i": { "agreementId": agreement, "memberId": member, "role": role, "sharePercent": share, "startDate": "2025-01-01" } });
    const ALLOCATE_ROLE: &str =
        "mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { role versions { shareBasisPoints } } }";
    server.ok(ALLOCATE_ROLE, role(&cafe, "purchasing", "50")).await;
    server.ok(ALLOCATE_ROLE, role(&fyndet, "packing", "20")).await;
    let delivery = server.ok(ALLOCATE_ROLE, role(&cafe, "Delivery", "30")).await;
    assert_eq!(delivery["allocateRole"], json!({ "role": "delivery", "versions": [{ "shareBasisPoints": 3000 }] }));
    let too_much = server.graphql(ALLOCATE_ROLE, role(&fyndet, "packing", "0,5")).await;
    assert_eq!(too_much["errors"][0]["extensions"]["rule"], "SharesExceedWhole", "{too_much:#}");
    let confirmed = server
        .ok(
            "mutation($a: ID!) { confirmShares(agreementId: $a, on: \"2025-01-01\") { allocations { role } } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(confirmed["confirmShares"]["allocations"].as_array().map(Vec::len), Some(3));
    let before_start = server
        .graphql(
            "mutation($a: ID!) { confirmShares(agreementId: $a, on: \"2024-12-31\") { agreementId } }",
            json!({ "a": agreement }),
        )
        .await;
    assert_eq!(before_start["errors"][0]["extensions"]["rule"], "SharesIncomplete", "{before_start:#}");
    server.stop().await;
    db.remove().await;
}
both_stores!(the_fruit_basket_contract_is_split_by_roles_up_to_its_whole_value);
