//! A server killed (SIGKILL) in the middle of a month-end run and started again leaves no gap and no
//! double invoice: each invoice is one append of its number, itself and its months, so a dead
//! process has stored whole invoices or nothing of one, and the next run picks up the rest.

use konsortium_api::auth::{principal, Keys, Role};
use konsortium_projections::Db;
use konsortium_tests::peppol::assert_valid;
use konsortium_tests::process::Node;
use konsortium_tests::tour;
use konsortium_tests::{both_stores, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "a-secret-shared-by-the-test-and-its-server-0123456789";
/// Agreements with three approved months each: a run issues this many invoices, one append each,
/// which takes long enough that the kill lands between (or inside) them.
const AGREEMENTS: usize = 24;
/// How often the server is killed during a run.
const KILLS: usize = 3;
const MONTHS: [&str; 3] = ["2024-09", "2024-10", "2024-11"];

/// How many invoices the event store holds, read straight from the log (not a view).
async fn invoices_stored(db: &Db) -> i64 {
    let sql = "SELECT count(*) FROM events WHERE event_type = 'InvoiceIssued'";
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Agreements with an allocation, a place filled from 1 September and September to November
/// approved; returns the approved reports' ids.
async fn approved_months(server: &TestApp) -> Vec<String> {
    tour::consortium(server).await;
    let member = tour::fyndet(server).await;
    let mut reports = Vec::new();
    for i in 0..AGREEMENTS {
        let mut input = tour::ostersund_input();
        input["contractReference"] = json!(format!("RA-2024-AME-K{i:02}"));
        let agreement = tour::agreement(server, input).await;
        let allocation = tour::allocation(server, &agreement, &member, 1, "2024-09-01").await;
        let place = tour::place(server, &agreement, &allocation, "2024-09-01").await;
        let filled = tour::fill(server, &place, &format!("p-killed-{i:02}"), "2024-09-01").await;
        assert!(filled.get("errors").is_none(), "{filled:#}");
        for month in MONTHS {
            let body = tour::submit(server, &agreement, &member, month).await;
            assert!(body.get("errors").is_none(), "{body:#}");
            let report = body["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
            tour::approve(server, &report, 1).await;
            reports.push(report);
        }
    }
    reports.sort();
    reports
}

/// Starts the month-end run for every agreement on `node`; the answer, or `None` when the server
/// died before answering.
fn run(client: &reqwest::Client, node: &Node, token: &str) -> tokio::task::JoinHandle<Option<Value>> {
    let request = client
        .post(format!("{}/graphql", node.base))
        .bearer_auth(token)
        .json(&json!({ "query": "mutation { issueInvoices(month: \"2024-11\") { number } }" }));
    tokio::spawn(async move { request.send().await.ok()?.json::<Value>().await.ok() })
}

async fn a_server_killed_during_a_run_and_restarted_leaves_no_gap_and_no_double_invoice(test: TestDb) {
    let setup = TestApp::spawn(test.reopen().await).await;
    let reports = approved_months(&setup).await;
    setup.caught_up().await;
    setup.stop().await;

    let url = test.process_url();
    let keys = Keys::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let staff = principal("killed-run-test".into(), Role::Staff, None, None).unwrap_or_else(|e| panic!("{e}"));
    let token = keys.mint(&staff, Duration::from_secs(3_600)).unwrap_or_else(|e| panic!("{e}"));
    let client = reqwest::Client::new();
    let total = AGREEMENTS as i64;

    // Three times: kill the server as soon as a run has stored one more invoice, start it again.
    let mut killed_mid_run = 0;
    for _ in 0..KILLS {
        let before = invoices_stored(&test.db).await;
        let mut node = Node::start(env!("CARGO_BIN_EXE_node"), &url, SECRET);
        let running = run(&client, &node, &token);
        while invoices_stored(&test.db).await == before && !running.is_finished() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        node.kill();
        let answer = running.await.unwrap_or_else(|e| panic!("{e}"));
        if let Some(answer) = &answer {
            assert!(answer.get("errors").is_none(), "{answer:#}");
        }
        if invoices_stored(&test.db).await < total {
            killed_mid_run += 1;
        }
    }
    assert!(killed_mid_run > 0, "no kill landed in the middle of a run");

    // After the last restart a run issues the rest, and one more finds nothing left.
    let node = Node::start(env!("CARGO_BIN_EXE_node"), &url, SECRET);
    let rest = run(&client, &node, &token).await.unwrap_or_else(|e| panic!("{e}"));
    let rest = rest.unwrap_or_else(|| panic!("the last run got no answer"));
    assert!(rest.get("errors").is_none(), "{rest:#}");
    assert_eq!(invoices_stored(&test.db).await, total);
    let last = run(&client, &node, &token).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(last, Some(json!({ "data": { "issueInvoices": [] } })));
    drop(node);

    let server = TestApp::spawn(test.reopen().await).await;
    server.caught_up().await;
    let all = server
        .ok(
            &format!("{{ invoices(first: {AGREEMENTS}) {{ nodes {{ number months {{ reportId }} ubl }} }} }}"),
            json!({}),
        )
        .await;
    let invoices = all["invoices"]["nodes"].as_array().cloned().unwrap_or_default();
    let mut numbers: Vec<String> = invoices.iter().map(|i| i["number"].as_str().unwrap_or_default().into()).collect();
    numbers.sort();
    let year = konsortium_api::application::today().year();
    let expected: Vec<String> = (1..=AGREEMENTS).map(|n| format!("{year}-{n:05}")).collect();
    assert_eq!(numbers, expected, "invoice numbers 1..n, none skipped, none twice ({killed_mid_run} kills mid-run)");
    let mut invoiced: Vec<String> = invoices
        .iter()
        .flat_map(|i| i["months"].as_array().cloned().unwrap_or_default())
        .map(|m| m["reportId"].as_str().unwrap_or_default().to_string())
        .collect();
    invoiced.sort();
    assert_eq!(invoiced, reports, "every approved month on exactly one invoice");
    assert_valid(&invoices.iter().map(|i| i["ubl"].as_str().unwrap_or_default()).collect::<Vec<_>>());
    server.stop().await;
    test.remove().await;
}
both_stores!(a_server_killed_during_a_run_and_restarted_leaves_no_gap_and_no_double_invoice);
