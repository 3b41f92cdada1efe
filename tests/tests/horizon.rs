//! On PostgreSQL, the views follow a write at once even while an unrelated transaction anywhere on the
//! cluster stays open: the projector's horizon is the oldest transaction writing events, not the
//! oldest transaction of the cluster.

use konsortium_tests::tour;
use konsortium_tests::{TestApp, TestDb};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_readable_while_another_database_holds_a_transaction_open() {
    let db = TestDb::postgres().await;
    let server = TestApp::spawn(db.db.clone()).await;
    let admin = std::env::var("KONSORTIUM_TEST_PG").unwrap_or_else(|_| konsortium_tests::DEFAULT_TEST_PG.into());
    let other = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| panic!("{e}"));
    let mut idle = other.begin().await.unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut *idle).await.unwrap_or_else(|e| panic!("{e}"));

    // In this very database too: a reader's transaction with an id does not hold the views back.
    let Some(pool) = (match &db.db {
        konsortium_projections::Db::Postgres(pool) => Some(pool.clone()),
        konsortium_projections::Db::Sqlite(_) => None,
    }) else {
        unreachable!("a PostgreSQL test")
    };
    let mut reader = pool.begin().await.unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut *reader).await.unwrap_or_else(|e| panic!("{e}"));

    let fyndet = tour::fyndet(&server).await;
    let listed = server.ok("{ members { nodes { id } } }", json!({})).await;
    assert_eq!(listed["members"]["nodes"], json!([{ "id": fyndet }]), "the write is not in the view yet");
    let agreement = tour::agreement(&server, tour::ostersund_input()).await;
    let read = server.ok("query($id: ID!) { agreement(id: $id) { id } }", json!({ "id": agreement })).await;
    assert_eq!(read["agreement"]["id"], json!(agreement));

    reader.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    idle.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    other.close().await;
    server.stop().await;
    db.remove().await;
}
