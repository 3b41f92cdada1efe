//! `konsortium rebuild`: replay the whole log into fresh tables, then swap them in.
//!
//! Readers keep reading the live tables while the copy fills. The swap happens in one transaction that
//! first applies whatever arrived meanwhile, so the live projector, queued on the checkpoint lock,
//! continues from exactly where the copy ended.

use crate::db::{Db, DbError, Tx};
use crate::event_log;
use crate::on_tx;
use crate::projection::{Projection, Tables};
use crate::projector::{lock_checkpoint, prepare_copy, store_checkpoint, Projector, ProjectorError};
use std::time::{Duration, Instant};

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
    let mut reports = Vec::new();
    for projection in selected {
        reports.push(rebuild_one(projector, projection.as_ref(), on_progress).await?);
    }
    Ok(reports)
}

async fn rebuild_one(
    projector: &Projector,
    projection: &dyn Projection,
    on_progress: &(dyn Fn(&str, RebuildProgress) + Sync),
) -> Result<RebuildReport, ProjectorError> {
    let db = projector.db();
    let started = Instant::now();
    let mut tx = db.begin().await?;
    drop_copy(&mut tx, projection, Tables::Rebuild).await?;
    prepare_copy(&mut tx, projection, Tables::Rebuild).await?;
    let total = u64::try_from(event_log::count(&mut tx).await?).unwrap_or_default();
    tx.commit().await?;

    let mut applied = 0u64;
    on_progress(projection.name(), RebuildProgress { applied, total });
    loop {
        let batch = projector.run_batch(projection, Tables::Rebuild).await?;
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
        let events = event_log::read_after(&mut tx, checkpoint, 1_000).await?;
        let Some(last) = events.last().map(|e| e.checkpoint) else { break };
        for event in &events {
            projection.apply(&mut tx, Tables::Rebuild, event).await?;
        }
        applied += events.len() as u64;
        checkpoint = last;
    }
    drop_copy(&mut tx, projection, Tables::Live).await?;
    for base in projection.tables() {
        let copy = Tables::Rebuild.name(base);
        tx.execute(&format!("ALTER TABLE {copy} RENAME TO {base}")).await?;
        if let Tx::Postgres(_) = tx {
            // The primary key's index keeps the copy's name; free it for the next rebuild.
            tx.execute(&format!("ALTER INDEX IF EXISTS {copy}_pkey RENAME TO {base}_pkey")).await?;
        }
    }
    store_checkpoint(&mut tx, &live_cp, checkpoint).await?;
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(&copy_cp)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))
    .map_err(DbError::from)?;
    tx.commit().await?;
    Ok(applied)
}

async fn drop_copy(tx: &mut Tx, projection: &dyn Projection, tables: Tables) -> Result<(), DbError> {
    for base in projection.tables() {
        tx.execute(&format!("DROP TABLE IF EXISTS {}", tables.name(base))).await?;
    }
    Ok(())
}
