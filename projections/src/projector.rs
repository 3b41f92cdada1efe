//! Feeds every projection from the event log, exactly once per event.
//!
//! Each batch runs in one transaction: lock the projection's checkpoint row, read the next events in
//! commit-safe order, apply them, advance the checkpoint, commit. A crash anywhere before the commit
//! leaves both the rows and the checkpoint as they were; several server processes on one database
//! queue on the row lock, so each event is applied by exactly one of them.

use crate::db::{Db, DbError, Tx};
use crate::event_log::{self, Checkpoint};
use crate::on_tx;
use crate::projection::{Projection, Tables};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Channel PostgreSQL notifies on every insert into `events` (see the migration).
pub const EVENTS_CHANNEL: &str = "konsortium_events";

#[derive(Debug, Clone)]
pub struct ProjectorOptions {
    /// Events applied per transaction.
    pub batch_size: i64,
    /// How often to look for events when no notification arrives.
    pub poll_interval: Duration,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        ProjectorOptions { batch_size: 500, poll_interval: Duration::from_secs(1) }
    }
}

/// Test hook: fail a batch after its rows are written and before it commits, as a crash would.
pub type FaultHook = Arc<dyn Fn(&str, Checkpoint) -> bool + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("injected fault in projection {0} before commit")]
    InjectedFault(String),
    #[error("no projection is named {0:?}")]
    UnknownProjection(String),
}

impl From<sqlx::Error> for ProjectorError {
    fn from(err: sqlx::Error) -> Self {
        ProjectorError::Db(DbError::Sql(err))
    }
}

pub struct Projector {
    db: Db,
    projections: Vec<Arc<dyn Projection>>,
    options: ProjectorOptions,
    fault: Option<FaultHook>,
    /// Bumped whenever new events may exist; every loop watches it.
    wake: watch::Sender<u64>,
    /// Set to stop the loops between batches: aborting one inside a transaction could hand its
    /// connection back with a SQLite write lock still held.
    stop: watch::Sender<bool>,
    /// The last checkpoint each projection is known to have committed.
    progress: HashMap<&'static str, watch::Sender<Checkpoint>>,
}

impl Projector {
    pub fn new(db: Db, projections: Vec<Arc<dyn Projection>>, options: ProjectorOptions) -> Projector {
        let progress = projections.iter().map(|p| (p.name(), watch::channel(Checkpoint::default()).0)).collect();
        Projector {
            db,
            projections,
            options,
            fault: None,
            wake: watch::channel(0).0,
            stop: watch::channel(false).0,
            progress,
        }
    }

    pub fn with_fault(mut self, fault: FaultHook) -> Projector {
        self.fault = Some(fault);
        self
    }

    pub fn projections(&self) -> &[Arc<dyn Projection>] {
        &self.projections
    }

    pub fn projection(&self, name: &str) -> Result<&Arc<dyn Projection>, ProjectorError> {
        self.projections
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| ProjectorError::UnknownProjection(name.to_string()))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates the live tables and checkpoint rows that do not exist yet.
    pub async fn prepare(&self) -> Result<(), ProjectorError> {
        let mut tx = self.db.begin().await?;
        for projection in &self.projections {
            prepare_copy(&mut tx, projection.as_ref(), Tables::Live).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Says new events may be there (after a local command); loops wake at once instead of polling.
    pub fn poke(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Applies one batch to one copy of a projection; returns how many events it applied.
    pub async fn run_batch(&self, projection: &dyn Projection, tables: Tables) -> Result<usize, ProjectorError> {
        let checkpoint_name = tables.checkpoint(projection.name());
        let mut tx = self.db.begin().await?;
        let checkpoint = lock_checkpoint(&mut tx, &checkpoint_name).await?;
        let events = event_log::read_after(&mut tx, checkpoint, self.options.batch_size).await?;
        let Some(last) = events.last().map(|e| e.checkpoint) else {
            drop(tx);
            self.publish(projection.name(), tables, checkpoint);
            return Ok(0);
        };
        for event in &events {
            projection.apply(&mut tx, tables, event).await?;
        }
        if self.fault.as_ref().is_some_and(|fault| fault(projection.name(), last)) {
            return Err(ProjectorError::InjectedFault(projection.name().to_string()));
        }
        store_checkpoint(&mut tx, &checkpoint_name, last).await?;
        tx.commit().await?;
        self.publish(projection.name(), tables, last);
        Ok(events.len())
    }

    fn publish(&self, name: &str, tables: Tables, checkpoint: Checkpoint) {
        if tables == Tables::Live {
            if let Some(progress) = self.progress.get(name) {
                progress.send_if_modified(|current| {
                    let newer = checkpoint > *current;
                    if newer {
                        *current = checkpoint;
                    }
                    newer
                });
            }
        }
    }

    /// Applies everything readable now to every live projection.
    pub async fn catch_up(&self) -> Result<usize, ProjectorError> {
        let mut total = 0;
        for projection in &self.projections {
            loop {
                let applied = self.run_batch(projection.as_ref(), Tables::Live).await?;
                total += applied;
                if applied == 0 {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Waits until every projection has applied `target`, so a caller reads its own write. Returns
    /// false on timeout (the write is stored; only the views lag).
    pub async fn wait_for(&self, target: Checkpoint, timeout: Duration) -> bool {
        self.poke();
        let all = async {
            for progress in self.progress.values() {
                let mut rx = progress.subscribe();
                if rx.wait_for(|cp| *cp >= target).await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, all).await.unwrap_or(false)
    }

    /// Asks the loops to finish their current batch and end; await their handles to know they did.
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Runs a loop per projection (and a LISTEN task on PostgreSQL) until [`shutdown`](Self::shutdown).
    pub fn spawn(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let mut handles = Vec::new();
        if let Db::Postgres(pool) = &self.db {
            let pool = pool.clone();
            let this = Arc::clone(self);
            handles.push(tokio::spawn(async move { this.listen(pool).await }));
        }
        for projection in self.projections.clone() {
            let this = Arc::clone(self);
            handles.push(tokio::spawn(async move { this.run_loop(projection).await }));
        }
        handles
    }

    async fn run_loop(&self, projection: Arc<dyn Projection>) {
        let mut wake = self.wake.subscribe();
        let mut stop = self.stop.subscribe();
        while !*stop.borrow_and_update() {
            let idle = match self.run_batch(projection.as_ref(), Tables::Live).await {
                Ok(0) => true,
                Ok(_) => false,
                Err(err) => {
                    tracing::error!(projection = projection.name(), error = %err, "projection batch failed; retrying");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = wake.changed() => {}
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(self.options.poll_interval) => {}
                }
            }
        }
    }

    async fn listen(&self, pool: sqlx::PgPool) {
        let mut stop = self.stop.subscribe();
        while !*stop.borrow_and_update() {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(EVENTS_CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    self.poke();
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            tokio::select! {
                result = listener => {
                    if let Err(err) = result {
                        tracing::warn!(error = %err, "event notifications lost; polling until reconnected");
                    }
                    tokio::time::sleep(self.options.poll_interval).await;
                }
                _ = stop.changed() => {}
            }
        }
    }
}

pub(crate) async fn prepare_copy(tx: &mut Tx, projection: &dyn Projection, tables: Tables) -> Result<(), DbError> {
    for sql in projection.create_sql(tables) {
        tx.execute(&sql).await?;
    }
    let name = tables.checkpoint(projection.name());
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO projection_checkpoints (projection, transaction_id, position) VALUES ($1, 0, 0)
         ON CONFLICT (projection) DO NOTHING",
    )
    .bind(&name)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes the checkpoint row's lock before reading anything, so concurrent projectors (other server
/// processes) queue here and the one that goes next sees the checkpoint the previous one committed.
pub(crate) async fn lock_checkpoint(tx: &mut Tx, name: &str) -> Result<Checkpoint, DbError> {
    let locked = on_tx!(tx, conn => sqlx::query(
        "UPDATE projection_checkpoints SET position = position WHERE projection = $1",
    )
    .bind(name)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if locked == 0 {
        return Err(DbError::Sql(sqlx::Error::RowNotFound));
    }
    let (transaction_id, position): (i64, i64) = on_tx!(tx, conn => sqlx::query_as(
        "SELECT transaction_id, position FROM projection_checkpoints WHERE projection = $1",
    )
    .bind(name)
    .fetch_one(conn)
    .await)?;
    Ok(Checkpoint { transaction_id, position })
}

pub(crate) async fn store_checkpoint(tx: &mut Tx, name: &str, checkpoint: Checkpoint) -> Result<(), DbError> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE projection_checkpoints SET transaction_id = $2, position = $3 WHERE projection = $1",
    )
    .bind(name)
    .bind(checkpoint.transaction_id)
    .bind(checkpoint.position)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
