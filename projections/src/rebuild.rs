//! `konsortium rebuild`: replay the whole log into fresh tables, then swap them in.
//!
//! Readers keep reading the live tables while the copy fills. The swap happens in one transaction that
//! first applies whatever arrived meanwhile, so the live projector, queued on the checkpoint lock,
//! continues from exactly where the copy ended.

use crate::db::{Db, DbError, Tx};
use crate::event_log;
use crate::on_tx;
use crate::projection::{Projection, Tables};
use crate::projector::{lock_checkpoint, prepare_copy, store_checkpoint_with, Projector, ProjectorError};
use cqrs_es::Aggregate;
use futures_util::{StreamExt, TryStreamExt};
use konsortium_domain::invoice::Invoice;
use std::time::{Duration, Instant};

/// Events per transaction while a copy fills: large, since nobody reads the copy yet and each batch
/// costs a few round trips whatever its size.
const REBUILD_BATCH: i64 = 5_000;

/// Events per transaction for a projection that reads issued invoices. An invoice's event carries its
/// lines and XML, hundreds of KB on the national data set: its 290 invoices in one batch, read by the
/// invoices and the settlement view at once, took the rebuild's memory from about 250 to 406 MB.
const REBUILD_BATCH_OF_INVOICES: i64 = 50;

/// Events per transaction while a projection's copy fills.
fn rebuild_batch(projection: &dyn Projection) -> i64 {
    match projection.aggregate_types().contains(&Invoice::TYPE) {
        true => REBUILD_BATCH_OF_INVOICES,
        false => REBUILD_BATCH,
    }
}

/// Progress of one projection's replay, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    pub applied: u64,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub projection: &'static str,
    pub events: u64,
    pub elapsed: Duration,
}

impl RebuildReport {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Rebuilds one projection, or all when `only` is `None`.
pub async fn rebuild(
    projector: &Projector,
    only: Option<&str>,
    on_progress: &(dyn Fn(&str, RebuildProgress) + Sync),
) -> Result<Vec<RebuildReport>, ProjectorError> {
    let selected: Vec<_> = match only {
        Some(name) => vec![projector.projection(name)?.clone()],
        None => projector.projections().to_vec(),
    };
    projector.prepare().await?;
    // Each projection's copy has its own tables and checkpoint row, so PostgreSQL rebuilds several at
    // once: while one waits for a round trip or a commit, another applies its batch. SQLite has one
    // writer; its rebuilds would only queue on the lock.
    let at_once = match projector.db() {
        Db::Postgres(_) => rebuilds_at_once(),
        Db::Sqlite(_) => 1,
    };
    futures_util::stream::iter(selected)
        .map(|projection| async move { rebuild_one(projector, projection.as_ref(), on_progress).await })
        .buffered(at_once)
        .try_collect()
        .await
}

/// How many projections PostgreSQL rebuilds at once: `KONSORTIUM_REBUILD_PARALLEL`, else 3.
fn rebuilds_at_once() -> usize {
    std::env::var("KONSORTIUM_REBUILD_PARALLEL")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3)
}

/// Rebuilds one projection into fresh tables and swaps them in (also what a server does on start
/// for a projection whose stored version differs from the code's).
pub(crate) async fn rebuild_one(
    projector: &Projector,
    projection: &dyn Projection,
    on_progress: &(dyn Fn(&str, RebuildProgress) + Sync),
) -> Result<RebuildReport, ProjectorError> {
    let db = projector.db();
    let started = Instant::now();
    let mut tx = db.begin().await?;
    drop_copy(&mut tx, projection, Tables::Rebuild).await?;
    // A copy left by an interrupted rebuild starts over from the first event.
    delete_checkpoint(&mut tx, &Tables::Rebuild.checkpoint(projection.name())).await?;
    prepare_copy(&mut tx, projection, Tables::Rebuild).await?;
    let total = u64::try_from(event_log::count_of(&mut tx, projection.aggregate_types()).await?).unwrap_or_default();
    tx.commit().await?;

    let mut applied = 0u64;
    on_progress(projection.name(), RebuildProgress { applied, total });
    loop {
        let batch = projector.run_batch_of(projection, Tables::Rebuild, rebuild_batch(projection)).await?;
        if batch == 0 {
            break;
        }
        applied += batch as u64;
        on_progress(projection.name(), RebuildProgress { applied, total: total.max(applied) });
    }
    applied += swap_in(db, projection).await?;
    let report = RebuildReport { projection: projection.name(), events: applied, elapsed: started.elapsed() };
    tracing::info!(
        projection = report.projection,
        version = projection.version(),
        events = report.events,
        events_per_second = format!("{:.0}", report.events_per_second()),
        "rebuilt"
    );
    Ok(report)
}

/// Catches the copy up under the live checkpoint's lock and replaces the live tables with it.
async fn swap_in(db: &Db, projection: &dyn Projection) -> Result<u64, ProjectorError> {
    let live_cp = Tables::Live.checkpoint(projection.name());
    let copy_cp = Tables::Rebuild.checkpoint(projection.name());
    let mut tx = db.begin().await?;
    lock_checkpoint(&mut tx, &live_cp).await?;
    let mut checkpoint = lock_checkpoint(&mut tx, &copy_cp).await?;
    let mut applied = 0u64;
    loop {
        let batch = event_log::read_batch(&mut tx, checkpoint, projection.aggregate_types(), 1_000).await.map_err(
            |source| ProjectorError::Batch { projection: projection.name().to_string(), source: Box::new(source) },
        )?;
        if batch.reached <= checkpoint {
            break;
        }
        projection.apply_batch(&mut tx, Tables::Rebuild, &batch.events).await?;
        applied += batch.events.len() as u64;
        checkpoint = batch.reached;
    }
    drop_copy(&mut tx, projection, Tables::Live).await?;
    for base in projection.tables() {
        let copy = Tables::Rebuild.name(base);
        tx.execute(&format!("ALTER TABLE {copy} RENAME TO {base}")).await?;
    }
    rename_indexes(&mut tx, projection).await?;
    store_checkpoint_with(&mut tx, &live_cp, checkpoint, Some(projection.version())).await?;
    delete_checkpoint(&mut tx, &copy_cp).await?;
    tx.commit().await?;
    Ok(applied)
}

/// The copy's indexes keep the copy's name when its tables are renamed; give them the live names, so
/// the next rebuild can create its own.
async fn rename_indexes(tx: &mut Tx, projection: &dyn Projection) -> Result<(), DbError> {
    for base in projection.tables() {
        let copy = Tables::Rebuild.name(base);
        let names: Vec<String> = match tx {
            Tx::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1",
                )
                .bind(base)
                .fetch_all(&mut **pg)
                .await?
            }
            Tx::Sqlite(lite) => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
                )
                .bind(base)
                .fetch_all(&mut **lite)
                .await?
            }
        };
        for name in names {
            let Some(rest) = name.strip_prefix(copy.as_str()) else { continue };
            match tx {
                Tx::Postgres(_) => tx.execute(&format!("ALTER INDEX {name} RENAME TO {base}{rest}")).await?,
                // SQLite cannot rename an index: drop the copy's, the live ones are created below.
                Tx::Sqlite(_) => tx.execute(&format!("DROP INDEX {name}")).await?,
            }
        }
    }
    if let Tx::Sqlite(_) = tx {
        for sql in projection.create_sql(Tables::Live).iter().filter(|sql| sql.starts_with("CREATE INDEX")) {
            tx.execute(sql).await?;
        }
    }
    Ok(())
}

async fn delete_checkpoint(tx: &mut Tx, name: &str) -> Result<(), DbError> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(name)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn drop_copy(tx: &mut Tx, projection: &dyn Projection, tables: Tables) -> Result<(), DbError> {
    for base in projection.tables() {
        tx.execute(&format!("DROP TABLE IF EXISTS {}", tables.name(base))).await?;
    }
    Ok(())
}
