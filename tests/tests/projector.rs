//! The projector never skips or repeats an event: late commits, several processes, crashes before the
//! commit, and a live view that must equal a full rebuild. An event one view cannot decode stops that
//! view only, and a view stored in another version is rebuilt on start.

use konsortium_domain::agreement::AgreementEvent;
use konsortium_domain::examples;
use konsortium_projections::event_log::{self, Checkpoint};
use konsortium_projections::projection::{Projection, Tables, EVERY_AGGREGATE_TYPE};
use konsortium_projections::projector::ProjectorError;
use konsortium_projections::{rebuild, views, Db, DbError, Projector, ProjectorOptions};
use konsortium_tests::ledger::{all_views, ledger_positions, logged_positions, Ledger, LEDGER};
use konsortium_tests::workload::Workload;
use konsortium_tests::{both_stores, test_options, tour, TestApp, TestDb};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn projections() -> Vec<Arc<dyn Projection>> {
    let mut all = views::all();
    all.push(Arc::new(Ledger));
    all
}

async fn projector(db: Db) -> Arc<Projector> {
    let projector = Arc::new(Projector::new(db, projections(), test_options()));
    projector.prepare().await.unwrap_or_else(|e| panic!("{e}"));
    projector
}

/// Every event's place in the commit-safe order the projector reads, in that order.
async fn commit_order(db: &Db) -> Vec<Checkpoint> {
    let mut tx = db.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    event_log::read_batch(&mut tx, Checkpoint::default(), EVERY_AGGREGATE_TYPE, i64::MAX)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .events
        .into_iter()
        .map(|e| e.checkpoint)
        .collect()
}

async fn head(db: &Db) -> Checkpoint {
    let mut tx = db.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    event_log::head(&mut tx).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_default()
}

async fn run_workloads(db: &Db, writers: u32, steps: u32, seed: u64) -> u32 {
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move { Workload::new(&db, w, seed + u64::from(w)).run(steps).await })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        accepted += task.await.unwrap_or_else(|e| panic!("{e}")).accepted;
    }
    assert!(accepted > writers * steps / 3, "the workload should mostly succeed, {accepted} did");
    accepted
}

/// Inserts an event in a transaction kept open while others commit after it, as a slow writer does.
/// Returns the event's position and the highest position other writers committed meanwhile.
async fn late_commit(db: Db, n: u32, hold: Duration) -> (i64, i64) {
    let Db::Postgres(pool) = &db else { unreachable!("late commits are a PostgreSQL concern") };
    let payload = serde_json::to_string(&AgreementEvent::AgreementRegistered(examples::krokom_reserved()))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('FrameworkAgreement', $1, 1, 'AgreementRegistered', '1.0', $2::json, '{}') RETURNING position",
    )
    .bind(format!("late-{n}"))
    .bind(payload)
    .fetch_one(&mut *tx)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(hold).await;
    let committed_meanwhile = logged_positions(&db).await.last().copied().unwrap_or_default();
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    (position, committed_meanwhile)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn late_commits_from_many_writers_are_applied_exactly_once_by_several_processes() {
    let test = TestDb::postgres().await;
    test.db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    // Two projectors on separate pools stand for two server processes sharing one database.
    let first = projector(test.db.clone()).await;
    let second = projector(test.reopen().await).await;
    let mut loops = first.spawn();
    loops.extend(second.spawn());

    let late: Vec<_> = (0..6)
        .map(|n| tokio::spawn(late_commit(test.db.clone(), n, Duration::from_millis(300 + 100 * u64::from(n)))))
        .collect();
    run_workloads(&test.db, 6, 60, 11).await;
    let mut overtaken = 0;
    for task in late {
        let (position, committed_meanwhile) = task.await.unwrap_or_else(|e| panic!("{e}"));
        if committed_meanwhile > position {
            overtaken += 1;
        }
    }
    assert!(overtaken > 0, "the test must let later events commit while an earlier one is still open");

    let head = head(&test.db).await;
    assert!(
        first.wait_for(head, EVERY_AGGREGATE_TYPE, Duration::from_secs(30)).await,
        "first process did not catch up"
    );
    assert!(
        second.wait_for(head, EVERY_AGGREGATE_TYPE, Duration::from_secs(30)).await,
        "second process did not catch up"
    );
    assert_eq!(ledger_positions(&test.db).await, logged_positions(&test.db).await);

    first.shutdown();
    second.shutdown();
    for handle in loops {
        handle.await.unwrap_or_else(|e| panic!("{e}"));
    }
    test.remove().await;
}

/// Waits until every stored event is readable by a projector. On PostgreSQL a transaction still open
/// anywhere in the cluster (another test's) keeps newer events unreadable for a moment.
async fn all_events_readable(db: &Db) {
    let Db::Postgres(pool) = db else { return };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let unreadable: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())",
        )
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        if unreadable == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "events stay unreadable");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_projector_killed_before_its_commit_resumes_to_a_view_equal_to_a_rebuild(test: TestDb) {
    test.db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    run_workloads(&test.db, 2, 40, 7).await;
    all_events_readable(&test.db).await;
    let events = logged_positions(&test.db).await;
    // Concurrent writers commit out of position order on PostgreSQL; the projector reads in commit
    // order, so the batches that survive are a prefix of that order.
    let order = commit_order(&test.db).await;
    let crash_at = order[order.len() / 2];

    // Small batches, and the fault only in the ledger's batch that reaches the middle of the log: the
    // ledger's earlier batches commit, the failing one must leave nothing behind.
    let options = ProjectorOptions { batch_size: 10, ..test_options() };
    let crashing = Projector::new(test.db.clone(), projections(), options)
        .with_fault(Arc::new(move |name, last: Checkpoint| name == LEDGER && last >= crash_at));
    crashing.prepare().await.unwrap_or_else(|e| panic!("{e}"));
    let crashed = crashing.catch_up().await;
    assert!(matches!(&crashed, Err(ProjectorError::InjectedFault(name)) if name == LEDGER), "{crashed:?}");
    let survived = ledger_positions(&test.db).await;
    assert!(!survived.is_empty(), "the batches before the fault must have committed");
    let mut committed: Vec<i64> = order.iter().take(survived.len()).map(|c| c.position).collect();
    committed.sort();
    assert_eq!(survived, committed, "the rows that remain are exactly those of committed batches");
    assert!(order[..survived.len()].iter().all(|c| *c < crash_at), "rows of the failed batch remained");

    let restarted = projector(test.db.clone()).await;
    restarted.catch_up().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ledger_positions(&test.db).await, events);
    let live = all_views(&test.db).await;

    rebuild::rebuild(&restarted, None, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all_views(&test.db).await, live);
    test.remove().await;
}
both_stores!(a_projector_killed_before_its_commit_resumes_to_a_view_equal_to_a_rebuild);

async fn a_rebuilt_view_is_identical_to_the_live_one_after_a_long_randomised_run(test: TestDb) {
    test.db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let live = projector(test.db.clone()).await;
    let loops = live.spawn();

    // A rebuild in the middle of the run swaps tables while writers and the live loops go on.
    let writers = {
        let db = test.db.clone();
        tokio::spawn(async move { run_workloads(&db, 4, 120, 42).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    rebuild::rebuild(&live, None, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    writers.await.unwrap_or_else(|e| panic!("{e}"));

    let head = head(&test.db).await;
    assert!(
        live.wait_for(head, EVERY_AGGREGATE_TYPE, Duration::from_secs(30)).await,
        "the live projector did not catch up"
    );
    live.shutdown();
    for handle in loops {
        handle.await.unwrap_or_else(|e| panic!("{e}"));
    }
    let live_rows = all_views(&test.db).await;
    assert_eq!(ledger_positions(&test.db).await, logged_positions(&test.db).await);

    let rebuilt = projector(test.db.clone()).await;
    let reports = rebuild::rebuild(&rebuilt, None, &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    // Each projection replays exactly the events of the types it reads; the ledger reads them all.
    for report in &reports {
        let types = rebuilt.projection(report.projection).unwrap_or_else(|e| panic!("{e}")).aggregate_types();
        let mut tx = test.db.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        let expected = event_log::count_of(&mut tx, types).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.events as i64, expected, "{} replayed another number of events", report.projection);
    }
    assert!(reports.iter().any(|r| r.projection == LEDGER && r.events as usize == live_rows[0].len()));
    assert_eq!(all_views(&test.db).await, live_rows);
    test.remove().await;
}
both_stores!(a_rebuilt_view_is_identical_to_the_live_one_after_a_long_randomised_run);

/// Stores a `MemberRegistered` whose payload does not fit the event, as a bad migration or a bug in
/// an older release might have.
async fn store_malformed_member_event(db: &Db) -> i64 {
    let insert =
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                  VALUES ('Member', 'poison-member', 1, 'MemberRegistered', '2.0', $1, '{}') RETURNING position";
    let payload = r#"{"MemberRegistered": {"name": 42}}"#;
    let position: Result<i64, sqlx::Error> = match db {
        Db::Postgres(pool) => {
            sqlx::query_scalar(&insert.replace("$1", "CAST($1 AS json)")).bind(payload).fetch_one(pool).await
        }
        Db::Sqlite(pool) => {
            // The position is stamped by a trigger after the insert.
            match sqlx::query(&insert.replace(" RETURNING position", "")).bind(payload).execute(pool).await {
                Ok(_) => {
                    sqlx::query_scalar("SELECT position FROM events WHERE aggregate_id = 'poison-member'")
                        .fetch_one(pool)
                        .await
                }
                Err(err) => Err(err),
            }
        }
    };
    position.unwrap_or_else(|e| panic!("{e}"))
}

async fn checkpoint_of(db: &Db, projection: &str) -> i64 {
    let sql = "SELECT position FROM projection_checkpoints WHERE projection = $1";
    let position: Result<i64, sqlx::Error> =
        konsortium_projections::on_db!(db, pool => sqlx::query_scalar(sql).bind(projection).fetch_one(pool).await);
    position.unwrap_or_else(|e| panic!("{e}"))
}

async fn an_event_a_view_cannot_decode_stops_only_the_views_that_read_it(test: TestDb) {
    let server = TestApp::spawn(test.db.clone()).await;
    tour::fyndet(&server).await;
    let poison = store_malformed_member_event(&test.db).await;

    // A command on another aggregate type waits only for the views of that type, which do catch up
    // although the members view has stopped.
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    let mut tx = test.db.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let written = event_log::head_of(&mut tx, "FrameworkAgreement", &agreement).await.unwrap_or_else(|e| panic!("{e}"));
    drop(tx);
    let written = written.unwrap_or_else(|| panic!("the agreement's event is stored"));
    let projector = server.app().projector();
    assert!(projector.wait_for(written, &["FrameworkAgreement"], Duration::from_secs(30)).await);
    let listed = server.ok("{ agreements { nodes { id } } }", json!({})).await;
    assert_eq!(listed["agreements"]["nodes"], json!([{ "id": agreement }]));

    // The views that do not read members go past the bad event; the members view stops before it.
    let deadline = Instant::now() + Duration::from_secs(20);
    for view in ["agreements", "splits", "places", "reports"] {
        while checkpoint_of(&test.db, view).await <= poison {
            assert!(Instant::now() < deadline, "{view} did not advance past the undecodable event");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(checkpoint_of(&test.db, "members").await < poison);
    let members = server.ok("{ members { totalCount } }", json!({})).await;
    assert_eq!(members["members"]["totalCount"], 1, "what the members view applied before still serves");

    // The failure names the event, so an operator can find it.
    let projector = server.app().projector();
    let view = projector.projection("members").unwrap_or_else(|e| panic!("{e}")).clone();
    let failed = projector.run_batch(view.as_ref(), Tables::Live).await;
    let Err(ProjectorError::Batch { projection, source }) = failed else {
        panic!("expected a failed batch: {failed:?}")
    };
    assert_eq!(projection, "members");
    assert!(matches!(*source, DbError::UndecodableEvent(_)), "{source}");
    let message = source.to_string();
    for part in ["Member", "poison-member", "sequence 1", "MemberRegistered", "version 2.0"] {
        assert!(message.contains(part), "{message:?} does not name {part:?}");
    }
    server.stop().await;
    test.remove().await;
}
both_stores!(an_event_a_view_cannot_decode_stops_only_the_views_that_read_it);

async fn a_view_stored_in_another_version_is_rebuilt_when_a_server_starts(test: TestDb) {
    let server = TestApp::spawn(test.reopen().await).await;
    let fyndet = tour::fyndet(&server).await;
    server.stop().await;

    // As an older release left it: the first layout (one JSON document per member), version 1.
    for sql in [
        "DROP TABLE view_members",
        "CREATE TABLE view_members (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL, position BIGINT NOT NULL)",
        "UPDATE projection_checkpoints SET version = 1 WHERE projection = 'members'",
    ] {
        let done: Result<_, sqlx::Error> =
            konsortium_projections::on_db!(&test.db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()));
        done.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    let restarted = TestApp::spawn(test.reopen().await).await;
    restarted.caught_up().await;
    let listed = restarted.ok("{ members { nodes { id name } } }", json!({})).await;
    assert_eq!(listed["members"]["nodes"], json!([{ "id": fyndet, "name": "Returbutiken Fyndet" }]));
    let version: Result<i64, sqlx::Error> = konsortium_projections::on_db!(&test.db, pool =>
        sqlx::query_scalar("SELECT version FROM projection_checkpoints WHERE projection = 'members'").fetch_one(pool).await);
    assert_eq!(version.unwrap_or_else(|e| panic!("{e}")), i64::from(views::all()[0].version()));
    // The rebuilt table has the current layout, and the next rebuild can create its copy's indexes.
    rebuild::rebuild(restarted.app().projector(), Some("members"), &|_, _| {}).await.unwrap_or_else(|e| panic!("{e}"));
    let named = restarted.ok("{ members(first: 1) { nodes { name } } }", json!({})).await;
    assert_eq!(named["members"]["nodes"], json!([{ "name": "Returbutiken Fyndet" }]));
    restarted.stop().await;
    test.remove().await;
}
both_stores!(a_view_stored_in_another_version_is_rebuilt_when_a_server_starts);

/// A read for no aggregate types finds no events and still reaches the head of the log, so a
/// projection that reads none would keep its checkpoint level with everything written.
async fn a_read_of_no_types_finds_nothing_and_reaches_the_head(test: TestDb) {
    test.db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    Workload::new(&test.db, 0, 42).run(60).await;
    let mut tx = test.db.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    let batch = event_log::read_batch(&mut tx, Checkpoint::default(), &[], 10).await.unwrap_or_else(|e| panic!("{e}"));
    drop(tx);
    assert!(batch.events.is_empty());
    let written = head(&test.db).await;
    assert!(written > Checkpoint::default(), "the workload wrote events");
    assert_eq!(batch.reached, written);
}
both_stores!(a_read_of_no_types_finds_nothing_and_reaches_the_head);
