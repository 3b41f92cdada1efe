//! Nothing lost, nothing doubled, nothing leaked while things break: the real server runs as a
//! process on PostgreSQL (a private cluster, so it can be restarted) and on SQLite, four clients drive
//! a randomised month of real work at it, and faults hit it meanwhile — `kill -9` of the server and
//! a restart, a crash-restart of PostgreSQL, a transaction held open for seconds in another database
//! of the cluster, another process holding SQLite's write lock for seconds. After each run:
//! every acknowledged mutation's events are stored, every view equals a fresh rebuild row for row,
//! invoice and payout statement numbers have no gap and no double, no month is on two invoices,
//! every month's reconciliation is 0, and an erased participant stays erased.
//!
//! One run per store by default; `KONSORTIUM_FAULT_RUNS=N` runs N (`KONSORTIUM_FAULT_SEED` repeats
//! a run's workload). Each run reports its counts on stderr.

use konsortium_api::auth::{principal, Keys, Role};
use konsortium_projections::{rebuild, views, Db, Projector};
use konsortium_tests::cluster::Cluster;
use konsortium_tests::faults::{group, Clients, Target, World};
use konsortium_tests::ledger::view_rows;
use konsortium_tests::process::Node;
use konsortium_tests::{test_options, TestDb};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "a-secret-shared-by-the-fault-suite-and-its-servers-0123";
/// Every server of a run seals and opens personal data with the same KEK, as nodes in production do.
const KEK: &str = "6b6f6e736f727469756d2d6661756c742d73756974652d6b656b2d3031323334";
const CLIENTS: u64 = 4;
const STEPS: u32 = 40;
/// The file size limit that stands for a full disk.
const FULL_DISK_BYTES: u64 = 4096;
/// How long a held transaction or lock stays open.
const HOLD: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// SIGKILL of the server, and a new one started on the same database.
    Kill,
    /// PostgreSQL stopped as a crash would and started again, under the running server.
    RestartPostgres,
    /// A transaction with a transaction id held open in another database of the same cluster.
    HoldTransaction,
    /// Another connection holds SQLite's write lock (`BEGIN IMMEDIATE`).
    HoldWriteLock,
    /// No room to write for a while: the server's file size limit is set (`prlimit --fsize`) so no
    /// file of its grows past 4 KiB, and every write that needs room fails as on a full disk; then
    /// it is lifted.
    DiskFull,
}

const POSTGRES_FAULTS: [Fault; 4] = [Fault::Kill, Fault::RestartPostgres, Fault::HoldTransaction, Fault::Kill];
const SQLITE_FAULTS: [Fault; 4] = [Fault::Kill, Fault::HoldWriteLock, Fault::DiskFull, Fault::Kill];

fn runs() -> u32 {
    std::env::var("KONSORTIUM_FAULT_RUNS").ok().and_then(|n| n.trim().parse().ok()).unwrap_or(1).max(1)
}

fn first_seed() -> u64 {
    let from_env = std::env::var("KONSORTIUM_FAULT_SEED").ok().and_then(|n| n.trim().parse().ok());
    from_env.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1)
    })
}

/// Where a run's database lives and how to reach what breaks.
enum Store<'a> {
    Postgres { cluster: &'a Cluster, url: String },
    Sqlite { test: &'a TestDb },
}

impl Store<'_> {
    fn url(&self) -> String {
        match self {
            Store::Postgres { url, .. } => url.clone(),
            Store::Sqlite { test } => test.process_url(),
        }
    }

    async fn db(&self) -> Db {
        match self {
            Store::Postgres { url, .. } => Db::connect(Some(url)).await.unwrap_or_else(|e| panic!("{e}")),
            Store::Sqlite { test } => test.reopen().await,
        }
    }
}

async fn start_node(url: &str) -> Node {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        Node::start_ignoring_file_size_limit(env!("CARGO_BIN_EXE_node"), &url, SECRET, &[("KONSORTIUM_KEK", KEK)])
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn staff_token() -> String {
    let keys = Keys::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let staff = principal("fault-suite".into(), Role::Staff, None, None).unwrap_or_else(|e| panic!("{e}"));
    keys.mint(&staff, Duration::from_secs(3_600)).unwrap_or_else(|e| panic!("{e}"))
}

async fn inject(fault: Fault, store: &Store<'_>, node: &mut Node, clients: &Clients) {
    let target = &clients.target;
    match (fault, store) {
        (Fault::Kill, _) => {
            node.kill();
            *node = start_node(&store.url()).await;
            target.set(&node.base);
        }
        (Fault::RestartPostgres, Store::Postgres { cluster, .. }) => {
            let dir = cluster.dir().to_path_buf();
            let port = cluster.port;
            // The cluster's tools block; the clients keep going on the other threads.
            tokio::task::block_in_place(|| cluster.restart());
            tracing::debug!(?dir, port, "PostgreSQL restarted");
        }
        (Fault::HoldTransaction, Store::Postgres { cluster, .. }) => {
            use sqlx::Connection;
            let mut other =
                sqlx::PgConnection::connect(&cluster.url("postgres")).await.unwrap_or_else(|e| panic!("{e}"));
            sqlx::query("BEGIN").execute(&mut other).await.unwrap_or_else(|e| panic!("{e}"));
            sqlx::query("SELECT pg_current_xact_id()").execute(&mut other).await.unwrap_or_else(|e| panic!("{e}"));
            tokio::time::sleep(HOLD).await;
            sqlx::query("COMMIT").execute(&mut other).await.unwrap_or_else(|e| panic!("{e}"));
        }
        (Fault::HoldWriteLock, Store::Sqlite { test }) => {
            let Db::Sqlite(pool) = test.reopen().await else { unreachable!("SQLite") };
            let held = pool.begin_with("BEGIN IMMEDIATE").await.unwrap_or_else(|e| panic!("{e}"));
            tokio::time::sleep(HOLD).await;
            held.rollback().await.unwrap_or_else(|e| panic!("{e}"));
            pool.close().await;
        }
        (Fault::DiskFull, Store::Sqlite { .. }) => {
            // No file of the server's may grow past its first pages: every write that needs new room
            // (a WAL frame, a page at a checkpoint) fails as on a full disk, reads go on.
            let full = FULL_DISK_BYTES;
            let limit = |fsize: &str| {
                let set = std::process::Command::new("prlimit")
                    .arg(format!("--pid={}", node.pid()))
                    .arg(format!("--fsize={fsize}"))
                    .status();
                assert!(set.as_ref().is_ok_and(|s| s.success()), "prlimit failed: {set:?}");
            };
            limit(&format!("{full}:"));
            let failed_before = clients.tally.errors.load(Ordering::Relaxed);
            tokio::time::sleep(HOLD).await;
            limit("unlimited:");
            assert!(node.is_running(), "a full disk must not end the server");
            let failed = clients.tally.errors.load(Ordering::Relaxed) - failed_before;
            // Calls either fail (a write finds no room) or wait for a connection the pool cannot open
            // until there is room again; both end once it is lifted, which the run checks.
            eprintln!(
                "  no file could grow past {full} bytes for {HOLD:?}: {failed} calls answered with an error, retried"
            );
        }
        (fault, _) => panic!("{fault:?} does not apply to this store"),
    }
}

/// One run: a fresh workload on `store` with `faults` spread over it, then every check.
async fn run(store: &Store<'_>, faults: &[Fault], seed: u64) -> String {
    let url = store.url();
    let mut node = start_node(&url).await;
    let target = Arc::new(Target::default());
    target.set(&node.base);
    let clients = Clients::new(Arc::clone(&target), staff_token());
    clients.prepare().await;
    let workers: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(Arc::clone(&clients).run(seed.wrapping_mul(31).wrapping_add(c), STEPS)))
        .collect();

    // Each fault lands once the clients have got that much further through their work.
    let planned = u64::from(STEPS) * CLIENTS;
    let mut injected = Vec::new();
    for (i, fault) in faults.iter().enumerate() {
        let due = planned * (i as u64 + 1) / (faults.len() as u64 + 1);
        while clients.tally.acknowledged.load(Ordering::Relaxed) + clients.tally.refused.load(Ordering::Relaxed) < due
            && !workers.iter().all(|w| w.is_finished())
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        inject(*fault, store, &mut node, &clients).await;
        injected.push(*fault);
    }
    for worker in workers {
        worker.await.unwrap_or_else(|e| panic!("a client failed: {e}"));
    }
    let unanswered = clients.tally.unanswered.load(Ordering::Relaxed);
    assert_eq!(unanswered, 0, "the server must answer every call once a fault is over (faults: {injected:?})");

    // A server that went through all of that still stops cleanly.
    node.terminate();
    let status = tokio::task::block_in_place(|| node.wait());
    assert!(status.success(), "the server ended with {status} on SIGTERM after the faults");
    drop(node);

    let world = clients.world.lock().await;
    let node = start_node(&url).await;
    check_answers(&node.base, &world).await;
    drop(node);
    let db = store.db().await;
    let stored = check_store(&db, &world).await;
    db.close().await;

    let tally = &clients.tally;
    format!(
        "seed {seed}: {} mutations acknowledged, {} refused, {} unanswered; {} retries ({} after an error answer); faults injected: {:?}; stored: {stored}",
        tally.acknowledged.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.unanswered.load(Ordering::Relaxed),
        tally.retries.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        injected
    )
}

async fn query(base: &str, query: &str, variables: Value) -> Value {
    let body = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(staff_token())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

/// What a caller reads back: reconciliation 0 for every month paid out, and the erased stay erased.
async fn check_answers(base: &str, world: &World) {
    for month in &world.statement_months {
        let q = "query($m: String!) { reconciliation(month: $m) { statements invoicedOre differenceOre } }";
        let reconciled = query(base, q, json!({ "m": month })).await;
        assert_eq!(reconciled["reconciliation"]["differenceOre"], 0, "{month}: {reconciled:#}");
    }
    for erased in &world.erased {
        let q = "query($p: ID!) { participant(id: $p) { erased personal { name } } }";
        let shown = query(base, q, json!({ "p": erased })).await;
        assert_eq!(shown["participant"], json!({ "erased": true, "personal": null }), "{erased}");
    }
}

async fn scalar_i64(db: &Db, sql: &str, binds: &[&str]) -> i64 {
    let value: Result<i64, sqlx::Error> = konsortium_projections::on_db!(db, pool => {
        let mut query = sqlx::query_scalar(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query.fetch_one(pool).await
    });
    value.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn payloads(db: &Db, event_type: &str) -> Vec<Value> {
    let sql = "SELECT CAST(payload AS TEXT) FROM events WHERE event_type = $1 ORDER BY position";
    let rows: Result<Vec<String>, sqlx::Error> =
        konsortium_projections::on_db!(db, pool => sqlx::query_scalar(sql).bind(event_type).fetch_all(pool).await);
    rows.unwrap_or_else(|e| panic!("{e}")).iter().map(|p| serde_json::from_str(p).unwrap_or_default()).collect()
}

/// Numbers `{prefix}{year}-00001…` without gap or double.
fn assert_series(mut numbers: Vec<String>, prefix: &str, what: &str) {
    numbers.sort();
    let year = konsortium_api::application::today().year();
    let expected: Vec<String> = (1..=numbers.len()).map(|n| format!("{prefix}{year}-{n:05}")).collect();
    assert_eq!(numbers, expected, "{what} numbers must run 1…n with no gap and no double");
}

/// What the store holds: every promise kept, numbering and months exact, views equal to a rebuild,
/// erased keys gone.
async fn check_store(db: &Db, world: &World) -> String {
    let count = "SELECT count(*) FROM events WHERE event_type = $1 AND ($2 = '' OR aggregate_id = $2)
                   AND ($3 = '' OR CAST(payload AS TEXT) LIKE $3)";
    for (promise, acknowledged) in group(&world.promises) {
        let aggregate = promise.aggregate_id.clone().unwrap_or_default();
        let holds = promise.payload_holds.as_ref().map(|h| format!("%{h}%")).unwrap_or_default();
        let stored = scalar_i64(db, count, &[promise.event_type, &aggregate, &holds]).await;
        assert!(stored >= acknowledged as i64, "acknowledged {acknowledged} time(s) but {stored} stored: {promise:?}");
    }

    let invoices = payloads(db, "InvoiceIssued").await;
    let numbers = invoices.iter().map(|i| i["InvoiceIssued"]["document"]["number"].as_str().unwrap_or("?").to_string());
    assert_series(numbers.collect(), "", "invoice");
    let mut months: Vec<String> = invoices
        .iter()
        .flat_map(|i| i["InvoiceIssued"]["document"]["months"].as_array().cloned().unwrap_or_default())
        .map(|m| m["report_id"].as_str().unwrap_or("?").to_string())
        .collect();
    let on_invoices = months.len();
    months.sort();
    months.dedup();
    assert_eq!(months.len(), on_invoices, "a month is on two invoices");
    let statements = payloads(db, "PayoutStatementIssued").await;
    let issued = format!(
        "{} events, {} invoices ({on_invoices} months), {} payout statements, {} participants erased",
        scalar_i64(db, "SELECT count(*) FROM events", &[]).await,
        invoices.len(),
        statements.len(),
        world.erased.len()
    );
    let numbers =
        statements.iter().map(|s| s["StatementIssued"]["statement"]["number"].as_str().unwrap_or("?").to_string());
    assert_series(numbers.collect(), "A", "payout statement");

    for erased in &world.erased {
        let keys = scalar_i64(db, "SELECT count(*) FROM personal_data_keys WHERE owner_id = $1", &[erased]).await;
        assert_eq!(keys, 0, "the key of erased participant {erased} is still stored");
    }

    let projector = Projector::new(db.clone(), views::all(), test_options());
    projector.prepare().await.unwrap_or_else(|e| panic!("{e}"));
    projector.catch_up().await.unwrap_or_else(|e| panic!("{e}"));
    let live = view_rows(db).await;
    rebuild::rebuild(&projector, None, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    let rebuilt = view_rows(db).await;
    for ((table, _), (live, rebuilt)) in views::tables().iter().zip(live.iter().zip(&rebuilt)) {
        let first_difference = live.iter().zip(rebuilt).find(|(l, r)| l != r);
        assert!(
            live == rebuilt,
            "{table}: the live view ({} rows) differs from a rebuild ({} rows), first at {first_difference:?}",
            live.len(),
            rebuilt.len()
        );
    }
    issued
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_loses_nothing_through_server_kills_database_restarts_and_held_transactions() {
    let cluster = Cluster::start().unwrap_or_else(|| panic!("the fault suite needs PostgreSQL's binaries"));
    let admin = sqlx::PgPool::connect(&cluster.url("postgres")).await.unwrap_or_else(|e| panic!("{e}"));
    let seed = first_seed();
    let runs = runs();
    for n in 0..runs {
        let name = format!("faults_{n}_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap_or_else(|e| panic!("{e}"));
        let store = Store::Postgres { cluster: &cluster, url: cluster.url(&name) };
        let report = run(&store, &POSTGRES_FAULTS, seed.wrapping_add(u64::from(n))).await;
        eprintln!("fault run {}/{runs} on PostgreSQL: {report}", n + 1);
        let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await;
        dropped.unwrap_or_else(|e| panic!("{e}"));
    }
    eprintln!("fault suite on PostgreSQL: {runs} run(s), {} faults injected", runs as usize * POSTGRES_FAULTS.len());
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_loses_nothing_through_server_kills_and_a_held_write_lock() {
    let seed = first_seed();
    let runs = runs();
    for n in 0..runs {
        let test = TestDb::sqlite().await;
        let store = Store::Sqlite { test: &test };
        let report = run(&store, &SQLITE_FAULTS, seed.wrapping_add(u64::from(n))).await;
        eprintln!("fault run {}/{runs} on SQLite: {report}", n + 1);
        test.remove().await;
    }
    eprintln!("fault suite on SQLite: {runs} run(s), {} faults injected", runs as usize * SQLITE_FAULTS.len());
}
