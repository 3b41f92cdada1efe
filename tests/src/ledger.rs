//! A projection that records every event it is given, keyed by position: applying an event twice is a
//! primary-key violation, skipping one leaves a hole. Tests compare it with the event log.

use async_trait::async_trait;
use konsortium_projections::on_tx;
use konsortium_projections::projection::{Projection, Tables, EVERY_AGGREGATE_TYPE};
use konsortium_projections::{Db, DbError, StoredEvent, Tx};

pub struct Ledger;

/// The ledger projection's name, for fault hooks that target it.
pub const LEDGER: &str = "ledger";

pub const LEDGER_TABLE: &str = "test_ledger";

#[async_trait]
impl Projection for Ledger {
    fn name(&self) -> &'static str {
        LEDGER
    }

    fn version(&self) -> u32 {
        1
    }

    /// The whole log.
    fn aggregate_types(&self) -> &'static [&'static str] {
        EVERY_AGGREGATE_TYPE
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![LEDGER_TABLE]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS {} (position BIGINT NOT NULL PRIMARY KEY, aggregate_id TEXT NOT NULL, sequence BIGINT NOT NULL)",
            tables.name(LEDGER_TABLE)
        )]
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        let sql =
            format!("INSERT INTO {} (position, aggregate_id, sequence) VALUES ($1, $2, $3)", tables.name(LEDGER_TABLE));
        on_tx!(tx, conn => sqlx::query(&sql)
            .bind(event.checkpoint.position)
            .bind(&event.aggregate_id)
            .bind(event.sequence)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Positions of every stored event, ascending.
pub async fn logged_positions(db: &Db) -> Vec<i64> {
    positions(db, "SELECT position FROM events ORDER BY position").await
}

/// Positions the ledger has applied, ascending.
pub async fn ledger_positions(db: &Db) -> Vec<i64> {
    positions(db, &format!("SELECT position FROM {LEDGER_TABLE} ORDER BY position")).await
}

async fn positions(db: &Db, sql: &str) -> Vec<i64> {
    let result: Result<Vec<i64>, sqlx::Error> =
        konsortium_projections::on_db!(db, pool => sqlx::query_scalar(sql).fetch_all(pool).await);
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row of a table as text, ordered by its first column, for comparing a live view with a rebuilt one.
pub async fn table_rows(db: &Db, table: &str, columns: &[&str]) -> Vec<String> {
    let row =
        columns.iter().map(|c| format!("COALESCE(CAST({c} AS TEXT), '∅')")).collect::<Vec<_>>().join(" || '|' || ");
    let sql = format!("SELECT {row} FROM {table} ORDER BY 1");
    let result: Result<Vec<String>, sqlx::Error> =
        konsortium_projections::on_db!(db, pool => sqlx::query_scalar(&sql).fetch_all(pool).await);
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The ledger, then every view of this release, row by row.
pub async fn all_views(db: &Db) -> Vec<Vec<String>> {
    let mut rows = vec![table_rows(db, LEDGER_TABLE, &["position", "aggregate_id", "sequence"]).await];
    rows.extend(view_rows(db).await);
    rows
}

/// Every view of this release, row by row, to show a call changed none or a rebuild equals it.
pub async fn view_rows(db: &Db) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (table, columns) in konsortium_projections::views::tables() {
        rows.push(table_rows(db, table, &columns).await);
    }
    rows
}
