//! The requests a consortium's month is made of, over GraphQL, for tests that need a few of them
//! before the one they are about.

use crate::TestApp;
use konsortium_domain::personnummer::Personnummer;
use serde_json::{json, Value};

/// A registered member's id (the request must succeed).
pub async fn member(server: &TestApp, name: &str, org: &str, category: &str, share: &str) -> String {
    let data = server
        .ok(
            "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
            json!({ "m": { "name": name, "orgNumber": org, "category": category, "targetGroupSharePercent": share, "joinedOn": "2024-01-01" } }),
        )
        .await;
    data["registerMember"]["id"].as_str().unwrap_or_default().to_string()
}

/// Returbutiken Fyndet, an ASF with 45 % of its staff from the target group.
pub async fn fyndet(server: &TestApp) -> String {
    member(server, "Returbutiken Fyndet", "716422-1231", "ASF", "45").await
}

/// Östersund's reserved agreement as an input: 13 places, 6 000 kr a month, 4 000 kr for other
/// associations, 12 000 kr employed for at most 6 months, 5 % commission, exempt from VAT.
pub fn ostersund_input() -> Value {
    json!({
        "title": "Arbetsträning", "contractReference": "RA-2024-AME-01",
        "buyer": { "name": "Östersunds kommun", "orgNumber": "212000-2411", "reference": "AME-ARBETSTRANING",
                   "address": { "street": "Rådhusgatan 42", "postalCode": "831 82", "city": "Östersund" } },
        "kind": "TRAINING_PLACES", "startDate": "2024-09-01", "endDate": "2027-08-31", "contractedPlaces": 13,
        "reserved": true, "rates": { "asfOre": 600000, "otherAssociationOre": 400000, "employmentOre": 1200000 },
        "employmentRateMaxMonths": 6, "commissionPercent": "5", "vat": "EXEMPT", "vatExemptionReason": "Arbetsmarknadsinsats"
    })
}

/// Krokom's agreement as an input: 8 places at 7 500 kr for at most 3 months per participant.
pub fn krokom_input() -> Value {
    json!({
        "title": "Reserverat kontrakt arbetsträning", "contractReference": "KK-2020-15",
        "buyer": { "name": "Krokoms kommun", "orgNumber": "212000-2429", "reference": "SOC-FRISTAD" },
        "kind": "TRAINING_PLACES", "startDate": "2020-01-01", "endDate": "2034-12-31", "contractedPlaces": 8,
        "reserved": true, "rates": { "asfOre": 750000 }, "maxMonthsPerParticipant": 3,
        "commissionPercent": "5", "vat": "EXEMPT", "vatExemptionReason": "Arbetsmarknadsinsats"
    })
}

pub const REGISTER_AGREEMENT: &str =
    "mutation($input: RegisterAgreementInput!) { registerAgreement(input: $input) { id endDate rates { effectiveFrom asfOre otherAssociationOre employmentOre } } }";

/// Registers an agreement and returns the whole response body.
pub async fn register_agreement(server: &TestApp, input: Value) -> Value {
    server.graphql(REGISTER_AGREEMENT, json!({ "input": input })).await
}

/// A registered agreement's id (the request must succeed).
pub async fn agreement(server: &TestApp, input: Value) -> String {
    let body = register_agreement(server, input).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["registerAgreement"]["id"].as_str().unwrap_or_default().to_string()
}

pub const ALLOCATE: &str =
    "mutation($i: AllocatePlacesInput!) { allocatePlaces(input: $i) { id memberId startDate endDate versions { places } } }";

/// Allocates places from `start`; returns the whole response body.
pub async fn allocate(server: &TestApp, agreement: &str, member: &str, places: u64, start: &str) -> Value {
    let input = json!({ "agreementId": agreement, "memberId": member, "places": places, "startDate": start });
    server.graphql(ALLOCATE, json!({ "i": input })).await
}

/// An allocation's id (the request must succeed).
pub async fn allocation(server: &TestApp, agreement: &str, member: &str, places: u64, start: &str) -> String {
    let body = allocate(server, agreement, member, places, start).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["allocatePlaces"]["id"].as_str().unwrap_or_default().to_string()
}

/// Opens a place; returns the whole response body.
pub async fn open_place(server: &TestApp, agreement: &str, allocation: &str, on: &str) -> Value {
    server
        .graphql(
            "mutation($a: ID!, $l: ID!, $on: String!) { openPlace(agreementId: $a, allocationId: $l, openedOn: $on) { id } }",
            json!({ "a": agreement, "l": allocation, "on": on }),
        )
        .await
}

/// An open place's id (the request must succeed).
pub async fn place(server: &TestApp, agreement: &str, allocation: &str, on: &str) -> String {
    let body = open_place(server, agreement, allocation, on).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["openPlace"]["id"].as_str().unwrap_or_default().to_string()
}

pub const REGISTER_PARTICIPANT: &str =
    "mutation($i: RegisterParticipantInput!) { registerParticipant(input: $i) { id gender targetGroup registeredBy } }";

/// A participant to register: a woman born 12 March 1985 (birth serial `serial`), in the target group
/// for twelve months, sent by Arbetsförmedlingen.
pub fn participant_input(name: &str, serial: u16) -> Value {
    let number = Personnummer::generate(time::macros::date!(1985 - 03 - 12), serial, false);
    json!({
        "name": name, "personnummer": number.to_string(), "gender": "WOMAN", "yearOfBirth": 1985,
        "referringAuthority": "Arbetsförmedlingen", "targetGroup": "REGISTERED_TWELVE_MONTHS"
    })
}

/// Fills a place with the participant a test calls `participant` ("p-anna"), registering them on
/// first use; returns the whole response body.
pub async fn fill(server: &TestApp, place: &str, participant: &str, from: &str) -> Value {
    let id = server.participant(participant).await;
    fill_id(server, place, &id, from).await
}

pub const FILL: &str =
    "mutation($p: ID!, $who: ID!, $from: String!) { fillPlace(placeId: $p, participantId: $who, from: $from) { filledBy } }";

/// Fills a place with a participant by id, as staff; returns the whole response body.
pub async fn fill_id(server: &TestApp, place: &str, participant_id: &str, from: &str) -> Value {
    server.graphql(FILL, json!({ "p": place, "who": participant_id, "from": from })).await
}

/// Vacates a place; returns the whole response body.
pub async fn vacate(server: &TestApp, place: &str, last_day: &str) -> Value {
    server
        .graphql(
            "mutation($p: ID!, $d: String!) { vacatePlace(placeId: $p, lastDay: $d, reason: COMPLETED) { id } }",
            json!({ "p": place, "d": last_day }),
        )
        .await
}

pub const REPORT_FIELDS: &str = "id status version totalOre commissionOre payoutOre
  places { daysFilled daysInMonth amountOre paidDays { participantId days kind monthlyRateOre } }";

/// Submits a month; returns the whole response body.
pub async fn submit(server: &TestApp, agreement: &str, member: &str, month: &str) -> Value {
    server
        .graphql(
            &format!("mutation($i: MonthlyReportInput!) {{ submitMonthlyReport(input: $i) {{ {REPORT_FIELDS} }} }}"),
            json!({ "i": { "agreementId": agreement, "memberId": member, "month": month } }),
        )
        .await
}

/// The submitted report's total in öre (the request must succeed).
pub async fn submitted_total(server: &TestApp, agreement: &str, member: &str, month: &str) -> i64 {
    let body = submit(server, agreement, member, month).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["submitMonthlyReport"]["totalOre"].as_i64().unwrap_or(-1)
}

/// Registers the consortium as seller: Jämtlands Sociala Företag, bankgiro, 30 days.
pub async fn consortium(server: &TestApp) {
    server
        .ok(
            "mutation($i: RegisterConsortiumInput!) { registerConsortium(input: $i) { orgNumber } }",
            json!({ "i": consortium_input() }),
        )
        .await;
}

pub fn consortium_input() -> Value {
    json!({
        "name": "Jämtlands Sociala Företag ek. för.", "orgNumber": "769600-1002", "vatNumber": "SE769600100201",
        "street": "Storgatan 1", "postalCode": "831 30", "city": "Östersund", "bankgiro": "5050-1055",
        "email": "faktura@jsf.example"
    })
}

/// Approves a report version as staff (the request must succeed).
pub async fn approve(server: &TestApp, report: &str, version: u64) {
    server
        .ok(
            "mutation($r: ID!, $v: Int!) { approveMonthlyReport(reportId: $r, version: $v) { status } }",
            json!({ "r": report, "v": version }),
        )
        .await;
}

/// One place of `agreement` for `member`, filled by `participant` from 11 November 2024, and the
/// member's November approved: 20 of 30 days. Returns the report's id.
pub async fn approved_november(server: &TestApp, agreement: &str, member: &str, participant: &str) -> String {
    let allocation = allocation(server, agreement, member, 1, "2024-11-01").await;
    let place = place(server, agreement, &allocation, "2024-11-01").await;
    let filled = fill(server, &place, participant, "2024-11-11").await;
    assert!(filled.get("errors").is_none(), "{filled:#}");
    let body = submit(server, agreement, member, "2024-11").await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let report = body["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
    approve(server, &report, 1).await;
    report
}

pub const INVOICE_FIELDS: &str = "id number status issuedOn dueOn netOre vatOre payableOre paidOre ocr
  vatCategory vatExemptionReason buyer { orgNumber reference } months { reportId month amountOre }
  lines { description quantity unit amountOre } ubl creditNote { number reason ubl }";

/// Runs the month-end for `month` (of one agreement, or all); returns the whole response body.
pub async fn issue_invoices(server: &TestApp, month: &str, agreement: Option<&str>) -> Value {
    server
        .graphql(
            &format!(
                "mutation($m: String!, $a: ID) {{ issueInvoices(month: $m, agreementId: $a) {{ {INVOICE_FIELDS} }} }}"
            ),
            json!({ "m": month, "a": agreement }),
        )
        .await
}

/// Göteborg's fruit-basket contract as an input: goods and services, 40 MSEK, 25 % VAT.
pub fn fruit_input() -> Value {
    json!({
        "title": "Fruktkorgar till stadens arbetsplatser", "contractReference": "GBG-FRUKT-2025",
        "buyer": { "name": "Göteborgs Stad", "orgNumber": "212000-1355", "reference": "INKOP-FRUKT" },
        "kind": "GOODS_AND_SERVICES", "startDate": "2025-01-01", "endDate": "2027-12-31",
        "contractValueOre": 4_000_000_000i64, "rates": { "asfOre": 0 }, "commissionPercent": "5", "vat": "STANDARD_25"
    })
}

/// A role allocation's id from 1 January 2025 (the request must succeed).
pub async fn role(server: &TestApp, agreement: &str, member: &str, role: &str, share: &str) -> String {
    let input = json!({ "agreementId": agreement, "memberId": member, "role": role, "sharePercent": share, "startDate": "2025-01-01" });
    let data =
        server.ok("mutation($i: AllocateRoleInput!) { allocateRole(input: $i) { id } }", json!({ "i": input })).await;
    data["allocateRole"]["id"].as_str().unwrap_or_default().to_string()
}
