//! Three server processes on one PostgreSQL database, as users run them behind a load balancer: one
//! runs the projections, the others stand by; every node reads its own writes and the others'; when
//! the node running the projections is killed, another takes over and no event is skipped or applied
//! twice.

use konsortium_api::auth::{principal, Keys, Role};
use konsortium_projections::{rebuild, views, Projector};
use konsortium_tests::ledger::view_rows;
use konsortium_tests::process::Node;
use konsortium_tests::workload::org_number;
use konsortium_tests::{test_options, TestDb};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "a-secret-shared-by-every-node-of-this-test-0123456789";

async fn runs_projections(client: &reqwest::Client, node: &Node) -> bool {
    let health: Value = match client.get(format!("{}/healthz", node.base)).send().await {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(_) => return false,
    };
    health["projections"] == "running"
}

/// The one node running the projections, once there is exactly one.
async fn active(client: &reqwest::Client, nodes: &[&Node]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut running = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            if runs_projections(client, node).await {
                running.push(i);
            }
        }
        if running.len() == 1 {
            return running[0];
        }
        assert!(Instant::now() < deadline, "no single node took the projections: {running:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn graphql(client: &reqwest::Client, node: &Node, token: &str, query: &str, variables: Value) -> Value {
    let body: Value = client
        .post(format!("{}/graphql", node.base))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

/// Registers a member through `writer` and reads it back through every node right after.
async fn write_and_read_everywhere(client: &reqwest::Client, writer: &Node, all: &[&Node], token: &str, n: u32) {
    let input = json!({ "m": { "name": format!("Nodföretag {n}"), "orgNumber": org_number(700_000 + n).to_string(),
        "category": "ASF", "targetGroupSharePercent": "40", "joinedOn": "2024-09-01" } });
    let registered = graphql(
        client,
        writer,
        token,
        "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
        input,
    )
    .await;
    let id = registered["registerMember"]["id"].clone();
    for node in all {
        let read =
            graphql(client, node, token, "query($id: ID!) { member(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(read["member"]["id"], id, "a write through {} is not visible on {}", writer.base, node.base);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_one_database_and_survive_losing_the_one_that_projects() {
    let db = TestDb::postgres().await;
    let url = db.url().unwrap_or_else(|| unreachable!("a PostgreSQL test")).to_string();
    let keys = Keys::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let staff = principal("node-test".into(), Role::Staff, None, None).unwrap_or_else(|e| panic!("{e}"));
    let token = keys.mint(&staff, Duration::from_secs(3_600)).unwrap_or_else(|e| panic!("{e}"));
    let client = reqwest::Client::new();

    let start = || Node::start(env!("CARGO_BIN_EXE_node"), &url, SECRET);
    let mut nodes = vec![start(), start(), start()];
    let first = active(&client, &nodes.iter().collect::<Vec<_>>()).await;
    let mut n = 0;
    for round in 0..3 {
        for writer in 0..nodes.len() {
            n += 1;
            let all: Vec<&Node> = nodes.iter().collect();
            write_and_read_everywhere(&client, &nodes[(writer + round) % 3], &all, &token, n).await;
        }
    }

    nodes[first].kill();
    let mut survivors: Vec<Node> = nodes.drain(..).enumerate().filter(|(i, _)| *i != first).map(|(_, n)| n).collect();
    let survivors_ref: Vec<&Node> = survivors.iter().collect();
    let second = active(&client, &survivors_ref).await;
    for round in 0..3 {
        for writer in 0..survivors_ref.len() {
            n += 1;
            write_and_read_everywhere(&client, survivors_ref[(writer + round) % 2], &survivors_ref, &token, n).await;
        }
    }
    assert!(runs_projections(&client, survivors_ref[second]).await);
    for node in &mut survivors {
        node.kill();
    }

    // Every registration is in the view exactly once, and the views equal a replay of the log.
    let projector = Arc::new(Projector::new(db.db.clone(), views::all(), test_options()));
    projector.prepare().await.unwrap_or_else(|e| panic!("{e}"));
    projector.catch_up().await.unwrap_or_else(|e| panic!("{e}"));
    let live = view_rows(&db.db).await;
    let members = &live[views::tables().iter().position(|(t, _)| *t == "view_members").unwrap_or(0)];
    assert_eq!(members.len(), n as usize);
    rebuild::rebuild(&projector, None, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(view_rows(&db.db).await, live, "the views differ from a replay of the log");
    db.remove().await;
}
