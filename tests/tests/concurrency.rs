//! Rules that span aggregates hold when 16 clients race for them over HTTP: the aggregate that owns a
//! rule takes the optimistic lock, so a loser is decided again on the winner's state and refused, on
//! both stores. Every cross-aggregate rule of `api/src/application` and the test that races it:
//!
//! | rule | owner (its lock) | raced by |
//! |---|---|---|
//! | places ≤ the allocation | `SubContractSplit` | `sixteen_clients_racing_for_the_last_slot_open_one_place` |
//! | allocations ≤ capacity, also while it is cut | `SubContractSplit` | `allocations_racing_a_capacity_cut_never_exceed_the_capacity` |
//! | one place per participant | `Participant` | `one_participant_filling_sixteen_places_at_once_gets_one` |
//! | a closed place is never filled, a filled one never closed | `TrainingPlace` (+ split frees the slot) | `a_place_raced_by_fills_and_closes_is_either_filled_or_closed` |
//! | one enterprise registered once (id from the org number) | `Member` | `sixteen_registrations_of_one_org_number_register_one_member` |
//! | one invoice per month | report aggregates, invoice series | `invoicing.rs`: `sixteen_concurrent_runs_put_each_month_on_exactly_one_invoice`, `three_agreements_run_at_once_get_consecutive_distinct_numbers` |
//! | an invoiced month is never corrected | `MonthlyReimbursement` | `corrections_racing_the_month_end_never_change_an_invoiced_month` |
//! | a delivery is on the month's invoice or refused | `DeliveryMonth` | `deliveries_racing_the_month_end_are_each_invoiced_or_refused` |
//! | a member's month paid out once, gap-free numbers | `MemberPayouts`, statement series | `payouts.rs`: `sixteen_concurrent_statement_runs_pay_each_member_once_with_gap_free_numbers` |
//! | idempotent retries: one set of events, one answer | `idempotency_keys` row, same transaction | `sixteen_retries_with_one_idempotency_key_store_one_set_of_events` |
//! | the same key with another body is refused | `idempotency_keys` row | `one_key_sent_with_two_bodies_at_once_answers_one_and_refuses_the_other` |
//! | a keyed month-end run retried at once answers once, alike | the key's turn on the server, then its row | `sixteen_month_end_runs_with_one_key_answer_alike` |
//! | an erased participant is never put on a place | `Participant` | `fills_racing_an_erasure_never_fill_after_it` |

use konsortium_tests::tour::{self, ostersund_input};
use konsortium_tests::{both_stores, error_code, error_rule, event_count, TestApp, TestDb};
use serde_json::{json, Value};
use std::sync::Arc;
use time::Date;
use tokio::task::JoinSet;

const CLIENTS: usize = 16;

/// Runs one request per client at the same moment and returns every response body, client 0's first.
async fn race<F, Fut>(server: &Arc<TestApp>, request: F) -> Vec<Value>
where
    F: Fn(Arc<TestApp>, usize) -> Fut,
    Fut: std::future::Future<Output = Value> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let mut clients = JoinSet::new();
    for n in 0..CLIENTS {
        let (start, request) = (Arc::clone(&start), request(Arc::clone(server), n));
        clients.spawn(async move {
            start.wait().await;
            (n, request.await)
        });
    }
    let mut bodies = clients.join_all().await;
    bodies.sort_by_key(|(n, _)| *n);
    bodies.into_iter().map(|(_, body)| body).collect()
}

fn succeeded(bodies: &[Value]) -> usize {
    bodies.iter().filter(|b| b.get("errors").is_none()).count()
}

async fn stop(server: Arc<TestApp>, db: TestDb) {
    match Arc::try_unwrap(server) {
        Ok(server) => server.stop().await,
        Err(_) => panic!("a client still holds the server"),
    }
    db.remove().await;
}

async fn sixteen_clients_racing_for_the_last_slot_open_one_place(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 3, "2024-09-01").await;
    for _ in 0..2 {
        tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    }
    let bodies = race(&server, |server, _| {
        let (agreement, allocation) = (agreement.clone(), allocation.clone());
        async move { tour::open_place(&server, &agreement, &allocation, "2024-09-01").await }
    })
    .await;
    assert_eq!(succeeded(&bodies), 1, "{bodies:#?}");
    assert!(bodies.iter().filter(|b| b.get("errors").is_some()).all(|b| error_code(b) == "CONFLICT"), "{bodies:#?}");
    let split = server.app().splits().load(&agreement).await.unwrap_or_else(|e| panic!("{e}")).state;
    let held = split.allocation(&allocation).map(|a| a.places.len());
    assert_eq!(held, Some(3), "the allocation grants 3 places");
    stop(server, db).await;
}
both_stores!(sixteen_clients_racing_for_the_last_slot_open_one_place);

/// Fyndet with an allocation of one place per client on Östersund's agreement, each place open
/// from 1 September; returns the member, the agreement and the places.
async fn sixteen_open_places(server: &TestApp) -> (String, String, Vec<String>) {
    let fyndet = tour::fyndet(server).await;
    let mut input = ostersund_input();
    input["contractedPlaces"] = json!(CLIENTS);
    let agreement = tour::agreement(server, input).await;
    let allocation = tour::allocation(server, &agreement, &fyndet, CLIENTS as u64, "2024-09-01").await;
    let mut places = Vec::new();
    for _ in 0..CLIENTS {
        places.push(tour::place(server, &agreement, &allocation, "2024-09-01").await);
    }
    (fyndet, agreement, places)
}

async fn one_participant_filling_sixteen_places_at_once_gets_one(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let (fyndet, agreement, places) = sixteen_open_places(&server).await;
    let places = Arc::new(places);
    let bodies = race(&server, |server, n| {
        let places = Arc::clone(&places);
        async move { tour::fill(&server, &places[n], "p-anna", "2024-11-11").await }
    })
    .await;
    assert_eq!(succeeded(&bodies), 1, "{bodies:#?}");
    // Paid once: one place of 20 of 30 days in November.
    assert_eq!(tour::submitted_total(&server, &agreement, &fyndet, "2024-11").await, 400_000);
    stop(server, db).await;
}
both_stores!(one_participant_filling_sixteen_places_at_once_gets_one);

/// Every day on which the split or the capacity can change, in the agreement's period.
fn boundaries(split: &konsortium_domain::split::SubContractSplit) -> Vec<Date> {
    let mut days: Vec<Date> =
        split.allocations.iter().flat_map(|a| a.versions.iter().map(|v| v.effective_from)).collect();
    days.push(time::macros::date!(2025 - 01 - 01));
    days
}

async fn allocations_racing_a_capacity_cut_never_exceed_the_capacity(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let fyndet = tour::fyndet(&server).await;
    for round in 0..4 {
        let agreement = tour::agreement(&server, ostersund_input()).await;
        let bodies = race(&server, |server, n| {
            let (agreement, fyndet) = (agreement.clone(), fyndet.clone());
            async move {
                if n % 2 == 0 {
                    tour::allocate(&server, &agreement, &fyndet, 2, "2024-09-01").await
                } else {
                    server
                        .graphql(
                            "mutation($a: ID!, $p: Int!) { changeAgreementCapacity(agreementId: $a, effectiveFrom: \"2025-01-01\", places: $p) { id } }",
                            json!({ "a": agreement, "p": 2 + n % 5 }),
                        )
                        .await
                }
            }
        })
        .await;
        assert!(bodies.iter().all(|b| b.get("errors").is_none() || error_code(b) != "INTERNAL"), "{bodies:#?}");
        let app = server.app();
        let split = app.splits().load(&agreement).await.unwrap_or_else(|e| panic!("{e}")).state;
        let terms = app.agreements().load(&agreement).await.unwrap_or_else(|e| panic!("{e}")).state;
        for day in boundaries(&split) {
            let (allocated, contracted) = (split.places_on(day), terms.places_on(day));
            assert!(allocated <= contracted, "round {round}: {allocated} allocated on {day}, {contracted} contracted");
        }
    }
    stop(server, db).await;
}
both_stores!(allocations_racing_a_capacity_cut_never_exceed_the_capacity);

async fn a_place_raced_by_fills_and_closes_is_either_filled_or_closed(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, 1, "2024-09-01").await;
    let place = tour::place(&server, &agreement, &allocation, "2024-09-01").await;
    let mut people = Vec::new();
    for n in 0..CLIENTS / 2 {
        people.push(server.participant(&format!("p-{n}")).await);
    }
    let people = Arc::new(people);
    let bodies = race(&server, |server, n| {
        let (place, people) = (place.clone(), Arc::clone(&people));
        async move {
            if n % 2 == 0 {
                tour::fill_id(&server, &place, &people[n / 2], "2024-11-11").await
            } else {
                server
                    .graphql(
                        "mutation($p: ID!) { closePlace(placeId: $p, closedOn: \"2024-10-01\") { id } }",
                        json!({ "p": place }),
                    )
                    .await
            }
        }
    })
    .await;
    assert_eq!(succeeded(&bodies), 1, "one fill or one close, never both: {bodies:#?}");
    assert!(bodies.iter().all(|b| b.get("errors").is_none() || error_code(b) != "INTERNAL"), "{bodies:#?}");
    let now = server.ok("query($p: ID!) { place(id: $p) { closedOn filledBy } }", json!({ "p": place })).await;
    let (closed, filled) = (!now["place"]["closedOn"].is_null(), !now["place"]["filledBy"].is_null());
    assert!(closed != filled, "{now:#}");
    // The split frees the slot in the same append as the place closes.
    let split = server.app().splits().load(&agreement).await.unwrap_or_else(|e| panic!("{e}")).state;
    let held = split.allocation(&allocation).map(|a| a.places.iter().filter(|p| p.closed_on.is_none()).count());
    assert_eq!(held, Some(usize::from(filled)), "{split:#?}");
    stop(server, db).await;
}
both_stores!(a_place_raced_by_fills_and_closes_is_either_filled_or_closed);

async fn sixteen_registrations_of_one_org_number_register_one_member(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    // A company's number, and a sole trader's (its owner's personnummer, sealed).
    for org in ["556002-1361", "850312-1231"] {
        let bodies = race(&server, |server, n| async move {
            server
                .graphql(
                    "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
                    json!({ "m": { "name": format!("Företag {n}"), "orgNumber": org, "category": "ASF",
                                   "targetGroupSharePercent": "45", "joinedOn": "2024-01-01" } }),
                )
                .await
        })
        .await;
        assert_eq!(succeeded(&bodies), 1, "{org}: {bodies:#?}");
        assert!(
            bodies.iter().filter(|b| b.get("errors").is_some()).all(|b| error_code(b) == "CONFLICT"),
            "{bodies:#?}"
        );
    }
    let members = server.ok("{ members { totalCount } }", json!({})).await;
    assert_eq!(members["members"]["totalCount"], 2, "{members:#}");
    stop(server, db).await;
}
both_stores!(sixteen_registrations_of_one_org_number_register_one_member);

async fn corrections_racing_the_month_end_never_change_an_invoiced_month(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    tour::consortium(&server).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, ostersund_input()).await;
    let report = tour::approved_november(&server, &agreement, &fyndet, "p-anna").await;
    // Anna left on 20 November: a correction would pay 10 of 30 days instead of 20.
    let place =
        server.ok("query($a: ID!) { places(agreementId: $a) { nodes { id } } }", json!({ "a": agreement })).await;
    let place = place["places"]["nodes"][0]["id"].as_str().unwrap_or_default().to_string();
    let vacated = tour::vacate(&server, &place, "2024-11-20").await;
    assert!(vacated.get("errors").is_none(), "{vacated:#}");
    let bodies = race(&server, |server, n| {
        let (agreement, fyndet) = (agreement.clone(), fyndet.clone());
        async move {
            if n % 2 == 0 {
                tour::issue_invoices(&server, "2024-11", Some(&agreement)).await
            } else {
                server
                    .graphql(
                        "mutation($i: MonthlyReportInput!) { correctMonthlyReport(input: $i) { totalOre } }",
                        json!({ "i": { "agreementId": agreement, "memberId": fyndet, "month": "2024-11" } }),
                    )
                    .await
            }
        }
    })
    .await;
    assert!(bodies.iter().all(|b| b.get("errors").is_none() || error_code(b) != "INTERNAL"), "{bodies:#?}");
    let now = server
        .ok(
            "query($a: ID!, $m: ID!) { monthlyReport(agreementId: $a, memberId: $m, month: \"2024-11\") { status totalOre }
               invoices { nodes { months { reportId amountOre } } } }",
            json!({ "a": agreement, "m": fyndet }),
        )
        .await;
    let months: Vec<&Value> = now["invoices"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["months"].as_array())
        .flatten()
        .collect();
    let total = &now["monthlyReport"]["totalOre"];
    match months.as_slice() {
        [] => assert_eq!((&now["monthlyReport"]["status"], total), (&json!("SUBMITTED"), &json!(200_000)), "{now:#}"),
        [month] => {
            assert_eq!((&month["reportId"], &month["amountOre"]), (&json!(report), total), "{now:#}");
            assert_eq!(now["monthlyReport"]["status"], "INVOICED", "{now:#}");
        }
        _ => panic!("the month is on two invoices: {now:#}"),
    }
    stop(server, db).await;
}
both_stores!(corrections_racing_the_month_end_never_change_an_invoiced_month);

async fn deliveries_racing_the_month_end_are_each_invoiced_or_refused(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    tour::consortium(&server).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::fruit_input()).await;
    let packing = tour::role(&server, &agreement, &fyndet, "packing", "100").await;
    const PRICE: i64 = 24_999;
    let bodies = race(&server, |server, n| {
        let (agreement, packing) = (agreement.clone(), packing.clone());
        async move {
            if n % 4 == 0 {
                tour::issue_invoices(&server, "2025-02", Some(&agreement)).await
            } else {
                let input = json!({ "agreementId": agreement, "allocationId": packing, "deliveredOn": "2025-02-14",
                                    "quantity": 1, "unitPriceOre": PRICE, "description": "Fruktkorg 5 kg" });
                server
                    .graphql(
                        "mutation($i: RecordDeliveryInput!) { recordDelivery(input: $i) { totalOre } }",
                        json!({ "i": input }),
                    )
                    .await
            }
        }
    })
    .await;
    let recorded = bodies.iter().filter(|b| b["data"]["recordDelivery"].is_object()).count();
    for refused in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!((error_code(refused), error_rule(refused)), ("CONFLICT", "AlreadyInvoiced"), "{refused:#}");
    }
    let now = server
        .ok(
            "query($a: ID!) { deliveries(agreementId: $a, month: \"2025-02\") { totalOre invoiceNumber }
               invoices { nodes { number netOre } } }",
            json!({ "a": agreement }),
        )
        .await;
    let total = i64::try_from(recorded).unwrap_or(0) * PRICE;
    assert_eq!(now["deliveries"]["totalOre"], total, "{now:#}");
    let invoices = now["invoices"]["nodes"].as_array().cloned().unwrap_or_default();
    assert!(invoices.len() <= 1, "{now:#}");
    if let Some(invoice) = invoices.first() {
        assert_eq!(invoice["netOre"], total, "every recorded delivery is on the invoice: {now:#}");
        assert_eq!(invoice["number"], now["deliveries"]["invoiceNumber"], "{now:#}");
    }
    stop(server, db).await;
}
both_stores!(deliveries_racing_the_month_end_are_each_invoiced_or_refused);

const REGISTER_KEYED: &str =
    "mutation($input: RegisterAgreementInput!, $key: String) { registerAgreement(input: $input, idempotencyKey: $key) { id } }";

async fn sixteen_retries_with_one_idempotency_key_store_one_set_of_events(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let before = event_count(&db.db).await;
    server.ok(REGISTER_KEYED, json!({ "input": ostersund_input() })).await;
    let one_registration = event_count(&db.db).await - before;
    let bodies = race(&server, |server, _| async move {
        server.graphql(REGISTER_KEYED, json!({ "input": ostersund_input(), "key": "ra-2024-ame-01" })).await
    })
    .await;
    assert_eq!(succeeded(&bodies), CLIENTS, "{bodies:#?}");
    assert!(bodies.iter().all(|b| b == &bodies[0]), "every retry gets the first answer: {bodies:#?}");
    assert_eq!(event_count(&db.db).await - before, 2 * one_registration, "one set of events for 16 retries");
    stop(server, db).await;
}
both_stores!(sixteen_retries_with_one_idempotency_key_store_one_set_of_events);

async fn one_key_sent_with_two_bodies_at_once_answers_one_and_refuses_the_other(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let before = event_count(&db.db).await;
    server.ok(REGISTER_KEYED, json!({ "input": ostersund_input() })).await;
    let one_registration = event_count(&db.db).await - before;
    let bodies = race(&server, |server, n| async move {
        let mut input = ostersund_input();
        input["contractedPlaces"] = json!(13 + n % 2);
        server.graphql(REGISTER_KEYED, json!({ "input": input, "key": "ra-2024-ame-01" })).await
    })
    .await;
    let answered: Vec<&Value> = bodies.iter().filter(|b| b.get("errors").is_none()).collect();
    assert_eq!(answered.len(), CLIENTS / 2, "the body that won is answered for all its senders: {bodies:#?}");
    assert!(answered.iter().all(|b| *b == answered[0]), "{bodies:#?}");
    for refused in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(error_code(refused), "CONFLICT", "{refused:#}");
    }
    assert_eq!(event_count(&db.db).await - before, 2 * one_registration, "one registration for the key");
    stop(server, db).await;
}
both_stores!(one_key_sent_with_two_bodies_at_once_answers_one_and_refuses_the_other);

/// The types of an aggregate's events, in the order its lock put them.
async fn event_types(db: &TestDb, aggregate_id: &str) -> Vec<String> {
    let sql = "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence";
    let types: Result<Vec<String>, sqlx::Error> = konsortium_projections::on_db!(&db.db, pool =>
        sqlx::query_scalar(sql).bind(aggregate_id).fetch_all(pool).await);
    types.unwrap_or_else(|e| panic!("{e}"))
}

async fn fills_racing_an_erasure_never_fill_after_it(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let (_, _, places) = sixteen_open_places(&server).await;
    let (places, anna) = (Arc::new(places), server.participant("p-anna").await);
    let bodies = race(&server, |server, n| {
        let (places, anna) = (Arc::clone(&places), anna.clone());
        async move {
            if n == 0 {
                server
                    .graphql(
                        "mutation($p: ID!) { eraseParticipant(participantId: $p, reason: OBJECTION) { erased } }",
                        json!({ "p": anna }),
                    )
                    .await
            } else {
                tour::fill_id(&server, &places[n], &anna, "2024-11-11").await
            }
        }
    })
    .await;
    assert_eq!(bodies[0]["data"]["eraseParticipant"]["erased"], true, "the erasure succeeds: {bodies:#?}");
    assert!(succeeded(&bodies) <= 2, "at most one fill besides the erasure: {bodies:#?}");
    assert!(bodies.iter().all(|b| b.get("errors").is_none() || error_code(b) != "INTERNAL"), "{bodies:#?}");
    let types = event_types(&db, &anna).await;
    let erased = types.iter().position(|t| t == "ParticipantErased");
    assert_eq!(erased, Some(types.len() - 1), "nothing after the erasure: {types:?}");
    stop(server, db).await;
}
both_stores!(fills_racing_an_erasure_never_fill_after_it);

async fn sixteen_month_end_runs_with_one_key_answer_alike(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    tour::consortium(&server).await;
    let fyndet = tour::fyndet(&server).await;
    let ostersund = tour::agreement(&server, ostersund_input()).await;
    let krokom = tour::agreement(&server, tour::krokom_input()).await;
    tour::approved_november(&server, &ostersund, &fyndet, "p-anna").await;
    tour::approved_november(&server, &krokom, &fyndet, "p-bo").await;
    let bodies = race(&server, |server, _| async move {
        server
            .graphql(
                "mutation { issueInvoices(month: \"2024-11\", idempotencyKey: \"month-end-2024-11\") { number } }",
                json!({}),
            )
            .await
    })
    .await;
    assert_eq!(succeeded(&bodies), CLIENTS, "{bodies:#?}");
    assert!(bodies.iter().all(|b| b == &bodies[0]), "every retry gets the first answer: {bodies:#?}");
    let all = server.ok("{ invoices { totalCount } }", json!({})).await;
    assert_eq!(all["invoices"]["totalCount"], 2, "{all:#}");
    assert_eq!(bodies[0]["data"]["issueInvoices"].as_array().map(Vec::len), Some(2), "the answer names both invoices");
    stop(server, db).await;
}
both_stores!(sixteen_month_end_runs_with_one_key_answer_alike);
