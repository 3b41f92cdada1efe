//! Running a server: an idle SQLite projector leaves the single write lock to others, a backup of a
//! live SQLite store is a consistent copy that serves the same answers, and SIGTERM ends a server
//! without cutting short the request it is answering.

use konsortium_api::auth::{principal, Keys, Role};
use konsortium_api::backup::{self, BackupError};
use konsortium_projections::{rebuild, views, Db, Projector};
use konsortium_tests::ledger::view_rows;
use konsortium_tests::process::Node;
use konsortium_tests::{both_stores, test_options, tour, TestApp, TestDb};
use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;
use std::time::Duration;

/// Every stored event as one line of text, in the order of the log.
async fn events(db: &Db) -> Vec<String> {
    let sql = "SELECT position || '|' || aggregate_type || '|' || aggregate_id || '|' || sequence || '|' || event_type
                      || '|' || event_version || '|' || payload || '|' || metadata
                 FROM events ORDER BY position";
    let rows: Result<Vec<String>, sqlx::Error> =
        konsortium_projections::on_db!(db, pool => sqlx::query_scalar(sql).fetch_all(pool).await);
    rows.unwrap_or_else(|e| panic!("{e}"))
}

/// A pool on the SQLite file that gives up at once when another connection holds the write lock,
/// instead of queueing behind the busy timeout: a write attempt shows as an error, not as a wait.
async fn impatient(file: &Path) -> Db {
    let options = SqliteConnectOptions::new().filename(file).busy_timeout(Duration::ZERO);
    let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await;
    Db::Sqlite(pool.unwrap_or_else(|e| panic!("cannot open {}: {e}", file.display())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_sqlite_projector_leaves_the_write_lock_to_others() {
    let test = TestDb::sqlite().await;
    let file = test.sqlite_file().unwrap_or_else(|| panic!("a SQLite test")).to_path_buf();
    let server = TestApp::spawn(test.reopen().await).await;
    let fyndet = tour::fyndet(&server).await;
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    tour::allocation(&server, &agreement, &fyndet, 2, "2024-09-01").await;
    server.caught_up().await;

    let db = impatient(&file).await;
    let projector = Projector::new(db.clone(), views::all(), test_options());
    projector.prepare().await.unwrap_or_else(|e| panic!("{e}"));
    // Every checkpoint at the head first: a projection whose checkpoint still trails events of other
    // types carries it forward in a write transaction, which the server's loops do only once a poll
    // interval, so without this the test would depend on when they last ran.
    projector.catch_up().await.unwrap_or_else(|e| panic!("{e}"));

    // Another process (a backup, a migration, the sqlite3 shell) holds the write lock.
    let Db::Sqlite(holder) = test.reopen().await else { unreachable!("SQLite") };
    let held = holder.begin_with("BEGIN IMMEDIATE").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(db.begin().await.is_err(), "the lock must really be held for this test to mean anything");

    // Every projection finds nothing new with a plain read and never asks for the lock; one that
    // opened a write transaction to find out would fail here at once.
    for _ in 0..3 {
        let applied = projector.catch_up().await;
        assert!(matches!(applied, Ok(0)), "an idle projector asked for the write lock: {applied:?}");
    }
    // The running server's own loops polled meanwhile too; its queries still answer.
    let listed = server.ok("{ members { nodes { id } } }", json!({})).await;
    assert_eq!(listed["members"]["nodes"], json!([{ "id": fyndet }]));
    held.rollback().await.unwrap_or_else(|e| panic!("{e}"));

    // And writes go on as before once the other process lets go.
    tour::allocation(&server, &agreement, &fyndet, 1, "2024-10-01").await;
    db.close().await;
    holder.close().await;
    server.stop().await;
    test.remove().await;
}

/// A consortium with a member, an agreement, an approved and invoiced November, a paid invoice and a
/// participant erased.
async fn books(server: &TestApp) {
    tour::consortium(server).await;
    let fyndet = tour::fyndet(server).await;
    let agreement = tour::agreement(server, tour::ostersund_input()).await;
    tour::approved_november(server, &agreement, &fyndet, "p-anna").await;
    let invoices = tour::issue_invoices(server, "2024-11", None).await;
    let invoice = invoices["data"]["issueInvoices"][0]["id"].as_str().unwrap_or_default().to_string();
    let payable = invoices["data"]["issueInvoices"][0]["payableOre"].as_i64().unwrap_or_default();
    server
        .ok(
            "mutation($i: ID!, $a: Int!, $on: String!) { registerPayment(invoiceId: $i, amountOre: $a, paidOn: $on) { status } }",
            json!({ "i": invoice, "a": payable, "on": konsortium_api::application::today().to_string() }),
        )
        .await;
    let erased = server.participant("p-bertil").await;
    server
        .ok(
            "mutation($p: ID!) { eraseParticipant(participantId: $p, reason: OBJECTION) { erased } }",
            json!({ "p": erased }),
        )
        .await;
}

const SAME_ANSWER: &str = "{
  members { nodes { id name } }
  agreements { nodes { id title } }
  monthlyReports { nodes { id month status totalOre commissionOre } }
  invoices { totalCount nodes { number status payableOre paidOre months { reportId } } }
  reconciliation(month: \"2024-11\") { invoicedOre payoutOre differenceOre }
}";

/// Registers members one after the other until told to stop, so a backup runs among writes.
async fn keep_writing(server: &TestApp, stop: tokio::sync::watch::Receiver<bool>) -> u32 {
    let mut written = 0u32;
    while !*stop.borrow() {
        let org = konsortium_tests::workload::org_number(written).to_string();
        tour::member(server, &format!("Medlem {written}"), &org, "ASF", "40").await;
        written += 1;
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_running_sqlite_server_holds_every_event_and_view_and_serves_the_same_answers() {
    let test = TestDb::sqlite().await;
    let dir = test.sqlite_file().and_then(Path::parent).unwrap_or_else(|| panic!("a SQLite test")).to_path_buf();
    let server = TestApp::spawn(test.reopen().await).await;
    books(&server).await;

    // Taken while members are being registered: the copy is the store as of one moment, its views
    // exactly what its own events give.
    let (stop, writing) = tokio::sync::watch::channel(false);
    let (written, during) = tokio::join!(keep_writing(&server, writing), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let copy = backup::backup(&test.db, &dir.join("during.db")).await;
        stop.send_replace(true);
        copy
    });
    let during = during.unwrap_or_else(|e| panic!("{e}"));
    assert!(written > 0 && during.bytes > 0);
    let copy = Db::sqlite_file(&during.path).await.unwrap_or_else(|e| panic!("{e}"));
    let (copied_events, all_events) = (events(&copy).await, events(&test.db).await);
    assert!(!copied_events.is_empty() && copied_events.len() <= all_events.len());
    assert!(copied_events[..] == all_events[..copied_events.len()], "the copy must hold a prefix of the log");
    // Views and checkpoints are of the same moment, so a server started on the copy catches up from
    // there to exactly what its events give: nothing applied twice, nothing skipped.
    let projector = Projector::new(copy.clone(), views::all(), test_options());
    projector.catch_up().await.unwrap_or_else(|e| panic!("{e}"));
    let caught_up = view_rows(&copy).await;
    rebuild::rebuild(&projector, None, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(view_rows(&copy).await == caught_up, "the copy's views must be those of its own events");
    copy.close().await;

    // Taken while the server idles, the copy equals the store row for row, and a server on it
    // answers as the original does.
    server.caught_up().await;
    let idle = backup::backup(&test.db, &dir.join("idle.db")).await.unwrap_or_else(|e| panic!("{e}"));
    let copy = Db::sqlite_file(&idle.path).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(events(&copy).await == events(&test.db).await, "the copy must hold every event");
    assert!(view_rows(&copy).await == view_rows(&test.db).await, "the copy must hold the same views");
    let original = server.ok(SAME_ANSWER, json!({})).await;
    assert_eq!(original["invoices"]["nodes"][0]["status"], "PAID");
    let restored = TestApp::spawn(copy).await;
    assert_eq!(restored.ok(SAME_ANSWER, json!({})).await, original);
    restored.stop().await;

    // A backup never overwrites: the same path again is refused and the file is left as it was.
    let again = backup::backup(&test.db, &idle.path).await;
    assert!(matches!(&again, Err(BackupError::Exists(path)) if *path == idle.path), "{again:?}");
    assert_eq!(std::fs::metadata(&idle.path).map(|m| m.len()).ok(), Some(idle.bytes));
    server.stop().await;
    test.remove().await;
}

/// `konsortium backup` opens its database with `Db::connect_existing`: a mistyped SQLite path is
/// refused instead of being created empty and backed up as if it were the data.
#[tokio::test]
async fn a_backup_of_a_sqlite_file_that_does_not_exist_is_refused_and_creates_nothing() {
    let dir = std::env::temp_dir().join(format!("konsortium-missing-{}", uuid::Uuid::new_v4().simple()));
    let file = dir.join("konsortium.db");
    let url = format!("sqlite://{}", file.display());
    let refused = konsortium_projections::Db::connect_existing(Some(&url)).await;
    let Err(err) = &refused else { panic!("a database appeared at {}", file.display()) };
    assert!(matches!(err, konsortium_projections::DbError::Missing { path } if *path == file.display().to_string()));
    assert_eq!(err.to_string(), format!("there is no database at {}", file.display()));
    assert!(!file.exists() && !dir.exists(), "nothing is created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_on_postgresql_names_the_pg_dump_command_and_writes_nothing() {
    let test = TestDb::postgres().await;
    let target = std::env::temp_dir().join(format!("konsortium-pg-backup-{}.dump", uuid::Uuid::new_v4().simple()));
    let refused = backup::backup(&test.db, &target).await;
    let Err(BackupError::UsePgDump { command }) = &refused else { panic!("expected pg_dump advice: {refused:?}") };
    let url = test.url().unwrap_or_default();
    let database = url.rsplit('/').next().unwrap_or_default();
    assert!(command.starts_with("pg_dump --format=custom"), "{command}");
    for part in [format!("--file={}", target.display()), format!("--dbname={database}"), "--host=".into()] {
        assert!(command.contains(&part), "{command} lacks {part}");
    }
    assert!(refused.as_ref().err().is_some_and(|e| e.to_string().contains(command.as_str())));
    assert!(!target.exists());
    test.remove().await;
}

const SECRET: &str = "a-secret-shared-by-the-test-and-its-server-0123456789";
/// Agreements with three approved months each: the month-end run over them takes long enough that
/// SIGTERM arrives while it works.
const AGREEMENTS: usize = 16;

async fn invoices_stored(db: &Db) -> i64 {
    let sql = "SELECT count(*) FROM events WHERE event_type = 'InvoiceIssued'";
    let count: Result<i64, sqlx::Error> =
        konsortium_projections::on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await);
    count.unwrap_or_else(|e| panic!("{e}"))
}

async fn approved_months(server: &TestApp) {
    tour::consortium(server).await;
    let member = tour::fyndet(server).await;
    for i in 0..AGREEMENTS {
        let mut input = tour::ostersund_input();
        input["contractReference"] = json!(format!("RA-2024-AME-T{i:02}"));
        let agreement = tour::agreement(server, input).await;
        let allocation = tour::allocation(server, &agreement, &member, 1, "2024-09-01").await;
        let place = tour::place(server, &agreement, &allocation, "2024-09-01").await;
        let filled = tour::fill(server, &place, &format!("p-term-{i:02}"), "2024-09-01").await;
        assert!(filled.get("errors").is_none(), "{filled:#}");
        for month in ["2024-09", "2024-10", "2024-11"] {
            let body = tour::submit(server, &agreement, &member, month).await;
            let report = body["data"]["submitMonthlyReport"]["id"].as_str().unwrap_or_default().to_string();
            tour::approve(server, &report, 1).await;
        }
    }
}

async fn sigterm_lets_a_month_end_run_in_flight_finish_and_the_server_exits_0(test: TestDb) {
    let setup = TestApp::spawn(test.reopen().await).await;
    approved_months(&setup).await;
    setup.caught_up().await;
    setup.stop().await;

    let keys = Keys::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let staff = principal("sigterm-test".into(), Role::Staff, None, None).unwrap_or_else(|e| panic!("{e}"));
    let token = keys.mint(&staff, Duration::from_secs(3_600)).unwrap_or_else(|e| panic!("{e}"));
    let mut node = Node::start(env!("CARGO_BIN_EXE_node"), &test.process_url(), SECRET);
    let request = reqwest::Client::new()
        .post(format!("{}/graphql", node.base))
        .bearer_auth(&token)
        .json(&json!({ "query": "mutation { issueInvoices(month: \"2024-11\") { number months { month } } }" }));
    let running = tokio::spawn(async move {
        let response = request.send().await.unwrap_or_else(|e| panic!("the run got no answer: {e}"));
        response.json::<Value>().await.unwrap_or_else(|e| panic!("the answer was cut short: {e}"))
    });
    while invoices_stored(&test.db).await == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    node.terminate();
    let stored_at_signal = invoices_stored(&test.db).await;
    assert!(stored_at_signal < AGREEMENTS as i64, "the run ended before SIGTERM: the test proves nothing");

    let answer = running.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let issued = answer["data"]["issueInvoices"].as_array().cloned().unwrap_or_default();
    assert_eq!(issued.len(), AGREEMENTS, "the answer lists every invoice of the run");
    let status = node.wait();
    assert!(status.success(), "the server ended with {status} on SIGTERM");

    let restarted = TestApp::spawn(test.reopen().await).await;
    restarted.caught_up().await;
    let listed = restarted.ok("{ invoices(first: 100) { totalCount nodes { number } } }", json!({})).await;
    assert_eq!(listed["invoices"]["totalCount"], json!(AGREEMENTS));
    assert_eq!(invoices_stored(&test.db).await, AGREEMENTS as i64);
    restarted.stop().await;
    test.remove().await;
}
both_stores!(sigterm_lets_a_month_end_run_in_flight_finish_and_the_server_exits_0);
