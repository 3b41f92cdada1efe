//! Events stored in an older schema still load, in the views and in the aggregates.

use konsortium_projections::Db;
use konsortium_tests::{both_stores, TestApp, TestDb};
use serde_json::json;

/// MemberRegistered as schema 1.0 stored it: the share in whole percent under another name.
const MEMBER_REGISTERED_1_0: &str = r#"{"MemberRegistered": {"name": "Returbutiken Fyndet", "org_number": "7164221231",
  "category": "Wise", "target_group_share_percent": 45, "joined_on": "2024-09-01"}}"#;

async fn store_old_event(db: &Db) {
    let insert =
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                  VALUES ('Member', 'old-member', 1, 'MemberRegistered', '1.0', $1, '{}')";
    let result = match db {
        Db::Postgres(pool) => sqlx::query(&insert.replace("$1", "CAST($1 AS json)"))
            .bind(MEMBER_REGISTERED_1_0)
            .execute(pool)
            .await
            .map(|_| ()),
        Db::Sqlite(pool) => sqlx::query(insert).bind(MEMBER_REGISTERED_1_0).execute(pool).await.map(|_| ()),
    };
    result.unwrap_or_else(|e| panic!("{e}"));
}

async fn a_member_registered_in_schema_1_0_is_read_and_changed_as_today(test: TestDb) {
    test.db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    store_old_event(&test.db).await;
    let server = TestApp::spawn(test.db.clone()).await;
    server.caught_up().await;

    let listed = server
        .ok("{ members { nodes { id targetGroupShare targetGroupShareBasisPoints qualifiesForReserved } } }", json!({}))
        .await;
    assert_eq!(
        listed["members"]["nodes"],
        json!([{ "id": "old-member", "targetGroupShare": "45 %", "targetGroupShareBasisPoints": 4500, "qualifiesForReserved": true }])
    );

    let changed = server
        .ok(
            r#"mutation { reportTargetGroupShare(memberId: "old-member", sharePercent: "28", reportedOn: "2025-03-01") {
                 name targetGroupShare qualifiesForReserved } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        changed["reportTargetGroupShare"],
        json!({ "name": "Returbutiken Fyndet", "targetGroupShare": "28 %", "qualifiesForReserved": false })
    );
    server.stop().await;
    test.remove().await;
}
both_stores!(a_member_registered_in_schema_1_0_is_read_and_changed_as_today);
