//! Rules that span aggregates hold when 16 clients race for them over HTTP: the aggregate that owns a
//! rule takes the optimistic lock, so a loser is decided again on the winner's state and refused, on
//! both stores.

use konsortium_tests::tour::{self, ostersund_input};
use konsortium_tests::{both_stores, error_code, TestApp, TestDb};
use serde_json::{json, Value};
use std::sync::Arc;
use time::Date;
use tokio::task::JoinSet;

const CLIENTS: usize = 16;

/// Runs one request per client at the same moment and returns every response body.
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
            request.await
        });
    }
    clients.join_all().await
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

async fn one_participant_filling_sixteen_places_at_once_gets_one(db: TestDb) {
    let server = Arc::new(TestApp::spawn(db.db.clone()).await);
    let fyndet = tour::fyndet(&server).await;
    let mut input = ostersund_input();
    input["contractedPlaces"] = json!(CLIENTS);
    let agreement = tour::agreement(&server, input).await;
    let allocation = tour::allocation(&server, &agreement, &fyndet, CLIENTS as u64, "2024-09-01").await;
    let mut places = Vec::new();
    for _ in 0..CLIENTS {
        places.push(tour::place(&server, &agreement, &allocation, "2024-09-01").await);
    }
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
