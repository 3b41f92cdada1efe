//! Who may do what, as a table: every query and mutation, run as anonymous, staff, member A, member B,
//! buyer X and buyer Y, on both stores. A refused call answers UNAUTHENTICATED or FORBIDDEN and
//! changes no event and no view; an allowed one is never refused for who asked (it may still break a
//! rule of the domain, such as filling a place twice).

use konsortium_api::auth::Role;
use konsortium_tests::ledger::view_rows;
use konsortium_tests::tour::{self, ostersund_input};
use konsortium_tests::{both_stores, error_code, event_count, TestApp, TestDb};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Staff,
    MemberA,
    MemberB,
    BuyerX,
    BuyerY,
}

const EVERYONE: [Caller; 6] =
    [Caller::Anonymous, Caller::Staff, Caller::MemberA, Caller::MemberB, Caller::BuyerX, Caller::BuyerY];

/// Who may: a set of callers; everybody else is refused (anonymous always as UNAUTHENTICATED).
struct Rule {
    name: &'static str,
    document: String,
    variables: Value,
    allowed: &'static [Caller],
}

/// The ids the table refers to.
struct World {
    member_a: String,
    member_b: String,
    spare_member: String,
    agreement_x: String,
    agreement_y: String,
    spare_agreement: String,
    fruit: String,
    allocation_a: String,
    role_allocation: String,
    place_a: String,
    empty_place_a: String,
    report_a: String,
    /// On member A's place.
    anna: String,
    /// Registered, on no place: the one erased.
    bo: String,
}

async fn world(server: &TestApp) -> World {
    let member_a = tour::fyndet(server).await;
    let member_b = tour::member(server, "Café Vängåvan", "769600-1234", "ASF", "60").await;
    let spare_member = tour::member(server, "Föreningen Gemenskap", "802000-1239", "OTHER_ASSOCIATION", "20").await;
    let agreement_x = tour::agreement(server, ostersund_input()).await;
    let agreement_y = tour::agreement(server, tour::krokom_input()).await;
    let spare_agreement = tour::agreement(server, ostersund_input()).await;
    let fruit = json!({
        "title": "Fruktkorgar", "contractReference": "GBG-2025-FRUKT",
        "buyer": { "name": "Göteborgs Stad", "orgNumber": "212000-1355", "reference": "INKOP-FRUKT" },
        "kind": "GOODS_AND_SERVICES", "startDate": "2025-01-01", "endDate": "2027-12-31",
        "contractValueOre": 4_000_000_000i64, "rates": { "asfOre": 0 }, "commissionPercent": "5", "vat": "STANDARD_25"
    });
    let fruit = tour::agreement(server, fruit).await;
    let allocation_a = tour::allocation(server, &agreement_x, &member_a, 4, "2024-09-01").await;
    tour::allocation(server, &agreement_y, &member_b, 2, "2024-10-01").await;
    let role = json!({ "i": { "agreementId": fruit, "memberId": member_b, "role": "packing", "sharePercent": "20", "startDate": "2025-01-01" } });
    let role = server.ok("mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { id } }", role).await;
    let role_allocation = role["allocateRole"]["id"].as_str().unwrap_or_default().to_string();
    let place_a = tour::place(server, &agreement_x, &allocation_a, "2024-09-01").await;
    let empty_place_a = tour::place(server, &agreement_x, &allocation_a, "2024-09-01").await;
    assert!(tour::fill(server, &place_a, "p-anna", "2024-11-11").await.get("errors").is_none());
    let report = tour::submit(server, &agreement_x, &member_a, "2024-11").await;
    let report_a = report["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
    let anna = server.participant("p-anna").await;
    let bo = server.participant("p-bo").await;
    World {
        anna,
        bo,
        member_a,
        member_b,
        spare_member,
        agreement_x,
        agreement_y,
        spare_agreement,
        fruit,
        allocation_a,
        role_allocation,
        place_a,
        empty_place_a,
        report_a,
    }
}

fn rule(name: &'static str, document: &str, variables: Value, allowed: &'static [Caller]) -> Rule {
    Rule { name, document: document.to_string(), variables, allowed }
}

/// Every query and mutation of the schema, with who may run it.
fn table(w: &World) -> Vec<Rule> {
    use Caller::*;
    const STAFF: &[Caller] = &[Staff];
    const ANYONE: &[Caller] = &[Staff, MemberA, MemberB, BuyerX, BuyerY];
    const NO_BUYER: &[Caller] = &[Staff, MemberA, MemberB];
    const STAFF_AND_A: &[Caller] = &[Staff, MemberA];
    const BUYERS_AND_STAFF: &[Caller] = &[Staff, BuyerX, BuyerY];
    const STAFF_AND_X: &[Caller] = &[Staff, BuyerX];
    let month = json!({ "i": { "agreementId": w.agreement_x, "memberId": w.member_a, "month": "2024-11" } });
    vec![
        rule("members", "{ members { nodes { id } } }", json!({}), ANYONE),
        rule("member", "query($id: ID!) { member(id: $id) { id } }", json!({ "id": w.member_a }), ANYONE),
        rule("agreements", "{ agreements { nodes { id } } }", json!({}), ANYONE),
        rule("agreement", "query($id: ID!) { agreement(id: $id) { id } }", json!({ "id": w.agreement_x }), ANYONE),
        rule("split", "query($a: ID!) { split(agreementId: $a) { agreementId } }", json!({ "a": w.agreement_x }), ANYONE),
        rule("places", "{ places { nodes { id } } }", json!({}), NO_BUYER),
        rule("place", "query($id: ID!) { place(id: $id) { id } }", json!({ "id": w.place_a }), NO_BUYER),
        rule("monthlyReports", "{ monthlyReports { nodes { id } } }", json!({}), NO_BUYER),
        // Month-end, payouts and what municipalities ask (issues 17–19): a buyer reads its own
        // invoices and its own agreements' figures; a member its own statements.
        rule("invoices", "{ invoices { nodes { id } } }", json!({}), BUYERS_AND_STAFF),
        rule("payoutStatements", "{ payoutStatements { number } }", json!({}), NO_BUYER),
        rule("reconciliation", "{ reconciliation(month: \"2024-11\") { differenceOre } }", json!({}), STAFF),
        rule(
            "outcomes",
            "query($a: ID!) { outcomes(agreementId: $a, from: \"2024-11\", to: \"2024-11\") { rows { count } } }",
            json!({ "a": w.agreement_x }),
            STAFF_AND_X,
        ),
        rule(
            "employmentRequirement",
            "query($a: ID!) { employmentRequirement(agreementId: $a) { required } }",
            json!({ "a": w.agreement_x }),
            STAFF_AND_X,
        ),
        // Member B is not refused but reads nothing: see `a_member_reads_only_its_own_participants`.
        rule(
            "participant",
            "query($id: ID!) { participant(id: $id) { id personal { name } } }",
            json!({ "id": w.anna }),
            NO_BUYER,
        ),
        rule(
            "auditTrail",
            "query($id: ID!) { auditTrail(participantId: $id) { action } }",
            json!({ "id": w.anna }),
            STAFF,
        ),
        rule(
            "registerParticipant",
            "mutation($i: RegisterParticipantInput!) { registerParticipant(input: $i) { id } }",
            json!({ "i": { "name": "Cecilia Test", "personnummer": "19121212-1212", "gender": "WOMAN", "yearOfBirth": 1912,
                "referringAuthority": "Socialtjänsten", "targetGroup": "NEWLY_ARRIVED", "memberId": w.member_a } }),
            STAFF_AND_A,
        ),
        rule(
            "recordConsent",
            "mutation($id: ID!) { recordConsent(participantId: $id, purpose: CONTACT_AFTER_EXIT, from: \"2024-11-11\") { id } }",
            json!({ "id": w.anna }),
            STAFF_AND_A,
        ),
        rule(
            "withdrawConsent",
            "mutation($id: ID!) { withdrawConsent(participantId: $id, purpose: CONTACT_AFTER_EXIT, from: \"2024-12-01\") { id } }",
            json!({ "id": w.anna }),
            STAFF_AND_A,
        ),
        rule(
            "eraseParticipant",
            "mutation($id: ID!) { eraseParticipant(participantId: $id, reason: OBJECTION) { erased } }",
            json!({ "id": w.bo }),
            STAFF,
        ),
        rule(
            "monthlyReport",
            "query($a: ID!, $m: ID!) { monthlyReport(agreementId: $a, memberId: $m, month: \"2024-11\") { id } }",
            json!({ "a": w.agreement_x, "m": w.member_a }),
            NO_BUYER,
        ),
        rule(
            "registerMember",
            "mutation { registerMember(input: { name: \"Trädgårdskooperativet Grönt\", orgNumber: \"802481-3472\", category: ASF, targetGroupSharePercent: \"40\", joinedOn: \"2024-09-01\" }) { id } }",
            json!({}),
            STAFF,
        ),
        rule(
            "reportTargetGroupShare",
            "mutation($m: ID!) { reportTargetGroupShare(memberId: $m, sharePercent: \"50\", reportedOn: \"2025-01-01\") { id } }",
            json!({ "m": w.member_a }),
            STAFF,
        ),
        rule(
            "changeMemberCategory",
            "mutation($m: ID!) { changeMemberCategory(memberId: $m, category: ASF, changedOn: \"2025-01-01\") { id } }",
            json!({ "m": w.spare_member }),
            STAFF,
        ),
        rule(
            "memberLeaves",
            "mutation($m: ID!) { memberLeaves(memberId: $m, leftOn: \"2026-12-31\") { id } }",
            json!({ "m": w.spare_member }),
            STAFF,
        ),
        rule(
            "registerAgreement",
            "mutation($i: RegisterAgreementInput!) { registerAgreement(input: $i) { id } }",
            json!({ "i": ostersund_input() }),
            STAFF,
        ),
        rule(
            "changeAgreementRates",
            "mutation($a: ID!) { changeAgreementRates(agreementId: $a, effectiveFrom: \"2025-09-01\", rates: { asfOre: 650000 }) { id } }",
            json!({ "a": w.agreement_x }),
            STAFF,
        ),
        rule(
            "changeAgreementCapacity",
            "mutation($a: ID!) { changeAgreementCapacity(agreementId: $a, effectiveFrom: \"2025-09-01\", places: 12) { id } }",
            json!({ "a": w.agreement_x }),
            STAFF,
        ),
        rule(
            "extendAgreement",
            "mutation($a: ID!) { extendAgreement(agreementId: $a, newEnd: \"2028-08-31\") { id } }",
            json!({ "a": w.agreement_x }),
            STAFF,
        ),
        rule(
            "terminateAgreement",
            "mutation($a: ID!) { terminateAgreement(agreementId: $a, lastDay: \"2026-12-31\", reason: \"Uppsägning\") { id } }",
            json!({ "a": w.spare_agreement }),
            STAFF,
        ),
        rule(
            "changeBuyerReference",
            "mutation($a: ID!) { changeBuyerReference(agreementId: $a, reference: \"AME-2\") { id } }",
            json!({ "a": w.agreement_x }),
            STAFF,
        ),
        rule("allocatePlaces", tour::ALLOCATE, json!({ "i": { "agreementId": w.agreement_x, "memberId": w.member_b, "places": 1, "startDate": "2025-01-01" } }), STAFF),
        rule(
            "allocateRole",
            "mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { id } }",
            json!({ "i": { "agreementId": w.fruit, "memberId": w.member_a, "role": "delivery", "sharePercent": "30", "startDate": "2025-01-01" } }),
            STAFF,
        ),
        rule(
            "revisePlaces",
            "mutation($a: ID!, $l: ID!) { revisePlaces(agreementId: $a, allocationId: $l, effectiveFrom: \"2025-01-01\", places: 5) { id } }",
            json!({ "a": w.agreement_x, "l": w.allocation_a }),
            STAFF,
        ),
        rule(
            "reviseShare",
            "mutation($a: ID!, $l: ID!) { reviseShare(agreementId: $a, allocationId: $l, effectiveFrom: \"2025-06-01\", sharePercent: \"25\") { id } }",
            json!({ "a": w.fruit, "l": w.role_allocation }),
            STAFF,
        ),
        rule(
            "confirmShares",
            "mutation($a: ID!) { confirmShares(agreementId: $a, on: \"2025-01-01\") { agreementId } }",
            json!({ "a": w.fruit }),
            STAFF,
        ),
        rule(
            "endAllocation",
            "mutation($a: ID!, $l: ID!) { endAllocation(agreementId: $a, allocationId: $l, lastDay: \"2027-06-30\") { id } }",
            json!({ "a": w.agreement_x, "l": w.allocation_a }),
            STAFF,
        ),
        rule(
            "openPlace",
            "mutation($a: ID!, $l: ID!) { openPlace(agreementId: $a, allocationId: $l, openedOn: \"2024-09-01\") { id } }",
            json!({ "a": w.agreement_x, "l": w.allocation_a }),
            STAFF_AND_A,
        ),
        rule(
            "fillPlace",
            "mutation($p: ID!, $who: ID!) { fillPlace(placeId: $p, participantId: $who, from: \"2024-09-01\") { id } }",
            json!({ "p": w.empty_place_a, "who": w.bo }),
            STAFF_AND_A,
        ),
        rule(
            "employParticipant",
            "mutation($p: ID!) { employParticipant(placeId: $p, from: \"2025-03-17\") { id } }",
            json!({ "p": w.place_a }),
            STAFF_AND_A,
        ),
        rule(
            "vacatePlace",
            "mutation($p: ID!) { vacatePlace(placeId: $p, lastDay: \"2025-06-30\", reason: COMPLETED) { id } }",
            json!({ "p": w.place_a }),
            STAFF_AND_A,
        ),
        rule(
            "closePlace",
            "mutation($p: ID!) { closePlace(placeId: $p, closedOn: \"2025-07-01\") { id } }",
            json!({ "p": w.place_a }),
            STAFF_AND_A,
        ),
        rule(
            "submitMonthlyReport",
            "mutation($i: MonthlyReportInput!) { submitMonthlyReport(input: $i) { id } }",
            json!({ "i": { "agreementId": w.agreement_x, "memberId": w.member_a, "month": "2024-12" } }),
            STAFF_AND_A,
        ),
        rule(
            "correctMonthlyReport",
            "mutation($i: MonthlyReportInput!) { correctMonthlyReport(input: $i) { id } }",
            month,
            STAFF_AND_A,
        ),
        rule(
            "approveMonthlyReport",
            "mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { id } }",
            json!({ "r": w.report_a }),
            STAFF,
        ),
        rule(
            "rejectMonthlyReport",
            "mutation($r: ID!) { rejectMonthlyReport(reportId: $r, version: 1, reason: \"Fel\") { id } }",
            json!({ "r": w.report_a }),
            STAFF,
        ),
        rule(
            "markMonthlyReportInvoiced",
            "mutation($r: ID!) { markMonthlyReportInvoiced(reportId: $r, invoiceNumber: \"F-1\") { id } }",
            json!({ "r": w.report_a }),
            STAFF,
        ),
    ]
}

async fn every_operation_is_allowed_or_refused_by_role(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let w = world(&server).await;
    let token = |caller: Caller| match caller {
        Caller::Anonymous => None,
        Caller::Staff => Some(server.staff.clone()),
        Caller::MemberA => Some(server.token(Role::Member, Some(&w.member_a), None)),
        Caller::MemberB => Some(server.token(Role::Member, Some(&w.member_b), None)),
        Caller::BuyerX => Some(server.token(Role::Buyer, None, Some("212000-2411"))),
        Caller::BuyerY => Some(server.token(Role::Buyer, None, Some("212000-2429"))),
    };
    let rules = table(&w);
    let mutations = rules.iter().filter(|r| r.document.trim_start().starts_with("mutation")).count();
    assert_eq!(
        (rules.len() - mutations, mutations),
        (16, 30),
        "the table holds the operations counted here: add a rule with every new operation (the mutations \
         of invoicing, payouts and statistics are still to be added)"
    );
    for rule in &rules {
        // Refusals first: each must leave the log and the views exactly as they were.
        let (allowed, refused): (Vec<Caller>, Vec<Caller>) = EVERYONE.iter().partition(|c| rule.allowed.contains(c));
        for caller in refused {
            let (events, views) = (event_count(&db.db).await, view_rows(&db.db).await);
            let body = server.graphql_as(token(caller).as_deref(), &rule.document, rule.variables.clone()).await;
            let expected = if caller == Caller::Anonymous { "UNAUTHENTICATED" } else { "FORBIDDEN" };
            assert_eq!(error_code(&body), expected, "{} as {caller:?}: {body:#}", rule.name);
            assert_eq!(event_count(&db.db).await, events, "{} as {caller:?} stored events", rule.name);
            assert_eq!(view_rows(&db.db).await, views, "{} as {caller:?} changed a view", rule.name);
        }
        for caller in allowed {
            let body = server.graphql_as(token(caller).as_deref(), &rule.document, rule.variables.clone()).await;
            let code = error_code(&body);
            assert!(
                !matches!(code, "FORBIDDEN" | "UNAUTHENTICATED" | "INTERNAL"),
                "{} as {caller:?}: {body:#}",
                rule.name
            );
        }
    }
    server.stop().await;
    db.remove().await;
}
both_stores!(every_operation_is_allowed_or_refused_by_role);

async fn each_caller_reads_only_its_own_rows(db: TestDb) {
    let server = TestApp::spawn(db.db.clone()).await;
    let w = world(&server).await;
    let member_a = server.token(Role::Member, Some(&w.member_a), None);
    let buyer_x = server.token(Role::Buyer, None, Some("212000-2411"));
    let ids = |body: &Value, list: &str| -> Vec<String> {
        body["data"][list]["nodes"]
            .as_array()
            .map_or(Vec::new(), |nodes| nodes.iter().filter_map(|n| n["id"].as_str().map(str::to_string)).collect())
    };
    let members = server.graphql_as(Some(&member_a), "{ members { totalCount nodes { id } } }", json!({})).await;
    assert_eq!(ids(&members, "members"), vec![w.member_a.clone()], "{members:#}");
    let other = server
        .graphql_as(Some(&member_a), "query($id: ID!) { member(id: $id) { id } }", json!({ "id": w.member_b }))
        .await;
    assert_eq!(other["data"]["member"], Value::Null, "{other:#}");
    let agreements = server.graphql_as(Some(&member_a), "{ agreements { nodes { id } } }", json!({})).await;
    assert_eq!(ids(&agreements, "agreements"), vec![w.agreement_x.clone()], "{agreements:#}");
    let places = server.graphql_as(Some(&member_a), "{ places { totalCount } }", json!({})).await;
    assert_eq!(places["data"]["places"]["totalCount"], 2, "{places:#}");

    let agreements = server.graphql_as(Some(&buyer_x), "{ agreements { nodes { id } } }", json!({})).await;
    let mut own = ids(&agreements, "agreements");
    own.sort();
    let mut expected = vec![w.agreement_x.clone(), w.spare_agreement.clone()];
    expected.sort();
    assert_eq!(own, expected, "{agreements:#}");
    let foreign = server
        .graphql_as(Some(&buyer_x), "query($id: ID!) { agreement(id: $id) { id } }", json!({ "id": w.agreement_y }))
        .await;
    assert_eq!(foreign["data"]["agreement"], Value::Null, "{foreign:#}");
    server.stop().await;
    db.remove().await;
}
both_stores!(each_caller_reads_only_its_own_rows);
