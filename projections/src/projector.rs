//! Feeds every projection from the event log, exactly once per event.
//!
//! Each batch runs in one transaction: lock the projection's checkpoint row, read the next events of
//! the aggregate types it reads in commit-safe order, apply them, advance the checkpoint (to the last
//! event, or to the newest event of any type once its own are exhausted), commit. A crash anywhere
//! before the commit leaves both the rows and the checkpoint as they were; several server processes
//! on one database queue on the row lock, so each event is applied by exactly one of them.
//!
//! An event a projection cannot decode fails that projection's batches only: its loop logs the error
//! (naming the event) and retries with a growing pause, while every other projection goes on.

use crate::db::{Db, DbError, Tx};
use crate::event_log::{self, Checkpoint};
use crate::on_tx;
use crate::projection::{Projection, Tables};
use crate::rebuild;
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
    #[error("projection {projection}: {source}")]
    Batch {
        projection: String,
        #[source]
        source: Box<DbError>,
    },
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
    /// Bumped when new events may exist of types not known; every loop watches it, and asks the log
    /// whether its own types were written before it runs a batch.
    wake: watch::Sender<u64>,
    /// Per projection, the newest checkpoint known to hold an event of its types: from this
    /// process's commands and from the notifications of every process's inserts. A loop behind it
    /// runs a batch at once; the others are not woken at all, so a command costs no "anything
    /// new?" query per projection.
    hints: HashMap<&'static str, watch::Sender<Checkpoint>>,
    /// Set to stop the loops between batches: aborting one inside a transaction could hand its
    /// connection back with a SQLite write lock still held.
    stop: watch::Sender<bool>,
    /// The last checkpoint each projection is known to have committed.
    progress: HashMap<&'static str, watch::Sender<Checkpoint>>,
    /// Whether this process runs the projections now. On PostgreSQL one process of all that share
    /// the database does (the one holding [`DAEMON_LOCK`]); the others stand by.
    active: watch::Sender<bool>,
}

/// The advisory lock the process running the projections holds, per database: with several servers
/// on one database, one projects and the others stand by, as Marten's async daemon does; when the
/// holder dies its session ends, the lock is freed and another takes over.
pub const DAEMON_LOCK: i64 = 0x4b4f_4e53_5052_4f4a;

impl Projector {
    pub fn new(db: Db, projections: Vec<Arc<dyn Projection>>, options: ProjectorOptions) -> Projector {
        let progress = projections.iter().map(|p| (p.name(), watch::channel(Checkpoint::default()).0)).collect();
        let hints = projections.iter().map(|p| (p.name(), watch::channel(Checkpoint::default()).0)).collect();
        Projector {
            db,
            projections,
            options,
            fault: None,
            wake: watch::channel(0).0,
            hints,
            stop: watch::channel(false).0,
            progress,
            active: watch::channel(false).0,
        }
    }

    /// Whether this process runs the projections now (or stands by for another that does).
    pub fn is_active(&self) -> bool {
        *self.active.borrow()
    }

    /// Publishes the checkpoints other processes committed, so a caller on a standby process sees
    /// its write applied there too.
    async fn refresh_progress(&self, names: &[&'static str]) {
        let rows: Result<Vec<(String, i64, i64)>, sqlx::Error> = crate::on_db!(&self.db, pool => {
            sqlx::query_as("SELECT projection, transaction_id, position FROM projection_checkpoints").fetch_all(pool).await
        });
        match rows {
            Ok(rows) => {
                for (name, transaction_id, position) in rows {
                    if let Some(name) = names.iter().find(|n| **n == name) {
                        self.publish(name, Tables::Live, Checkpoint { transaction_id, position });
                    }
                }
            }
            Err(err) => tracing::debug!(error = %err, "could not read the checkpoints"),
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

    /// Creates the live tables and checkpoint rows of projections that have none yet, and rebuilds,
    /// one by one, the projections whose stored version differs from the code's (their tables have
    /// another layout). A projection at the code's version is left alone: its tables exist, and
    /// touching them (`CREATE INDEX IF NOT EXISTS` locks the table) could deadlock with a running
    /// loop that holds its checkpoint.
    pub async fn prepare(&self) -> Result<(), ProjectorError> {
        let mut stale = Vec::new();
        let mut tx = self.db.begin().await?;
        for projection in &self.projections {
            match stored_version(&mut tx, projection.name()).await? {
                None => prepare_copy(&mut tx, projection.as_ref(), Tables::Live).await?,
                Some(stored) if stored != i64::from(projection.version()) => stale.push((projection, stored)),
                Some(_) => {}
            }
        }
        tx.commit().await?;
        for (projection, stored) in stale {
            tracing::info!(
                projection = projection.name(),
                stored_version = stored,
                code_version = projection.version(),
                "the view's version changed; rebuilding it"
            );
            rebuild::rebuild_one(self, projection.as_ref(), &|_, _| {}).await?;
        }
        Ok(())
    }

    /// Says new events may be there, of types not known; loops wake at once instead of polling.
    pub fn poke(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Says events of `aggregate_types` are stored up to `target`: wakes the loops of the
    /// projections that read them, and only those.
    pub fn hint(&self, target: Checkpoint, aggregate_types: &[&str]) {
        for projection in self.reading(aggregate_types) {
            if let Some(hint) = self.hints.get(projection.name()) {
                raise(hint, target);
            }
        }
    }

    /// The projections that read any of `aggregate_types`.
    fn reading<'a>(&'a self, aggregate_types: &'a [&str]) -> impl Iterator<Item = &'a Arc<dyn Projection>> {
        self.projections.iter().filter(|p| p.aggregate_types().iter().any(|t| aggregate_types.contains(t)))
    }

    /// The last checkpoint a projection is known to have committed.
    fn progress_of(&self, name: &str) -> Checkpoint {
        self.progress.get(name).map(|progress| *progress.borrow()).unwrap_or_default()
    }

    /// Applies one batch to one copy of a projection; returns how many events it applied. Also
    /// advances the checkpoint over events of other types when there are none of its own to apply.
    pub async fn run_batch(&self, projection: &dyn Projection, tables: Tables) -> Result<usize, ProjectorError> {
        self.run_batch_of(projection, tables, self.options.batch_size).await
    }

    /// Like [`run_batch`](Self::run_batch) with up to `limit` events: a rebuild reads larger batches.
    pub async fn run_batch_of(
        &self,
        projection: &dyn Projection,
        tables: Tables,
        limit: i64,
    ) -> Result<usize, ProjectorError> {
        let in_batch = |source: DbError| ProjectorError::Batch {
            projection: projection.name().to_string(),
            source: Box::new(source),
        };
        let checkpoint_name = tables.checkpoint(projection.name());
        if let Db::Sqlite(pool) = &self.db {
            // SQLite has one writer: an idle loop must not take the write lock just to find nothing.
            let idle: Option<(i64, bool)> = sqlx::query_as(
                "SELECT c.position, NOT EXISTS (SELECT 1 FROM events WHERE position > c.position)
                   FROM projection_checkpoints c WHERE c.projection = $1",
            )
            .bind(&checkpoint_name)
            .fetch_optional(pool)
            .await?;
            if let Some((position, true)) = idle {
                self.publish(projection.name(), tables, Checkpoint { transaction_id: 0, position });
                return Ok(0);
            }
        }
        let mut tx = self.db.begin_derived().await?;
        let checkpoint = lock_checkpoint(&mut tx, &checkpoint_name).await?;
        let batch =
            event_log::read_batch(&mut tx, checkpoint, projection.aggregate_types(), limit).await.map_err(in_batch)?;
        if batch.reached <= checkpoint {
            drop(tx);
            self.publish(projection.name(), tables, checkpoint);
            return Ok(0);
        }
        projection.apply_batch(&mut tx, tables, &batch.events).await.map_err(in_batch)?;
        if !batch.events.is_empty() && self.fault.as_ref().is_some_and(|fault| fault(projection.name(), batch.reached))
        {
            return Err(ProjectorError::InjectedFault(projection.name().to_string()));
        }
        store_checkpoint(&mut tx, &checkpoint_name, batch.reached).await?;
        tx.commit().await?;
        self.publish(projection.name(), tables, batch.reached);
        Ok(batch.events.len())
    }

    fn publish(&self, name: &str, tables: Tables, checkpoint: Checkpoint) {
        if tables == Tables::Live {
            if let Some(progress) = self.progress.get(name) {
                raise(progress, checkpoint);
            }
        }
    }

    /// Applies everything readable now to every live projection. A projection that fails does not
    /// hold up the others: each is caught up as far as it goes, and the first failure is returned.
    pub async fn catch_up(&self) -> Result<usize, ProjectorError> {
        let mut total = 0;
        let mut first_failure = None;
        for projection in &self.projections {
            loop {
                match self.run_batch(projection.as_ref(), Tables::Live).await {
                    Ok(0) => break,
                    Ok(applied) => total += applied,
                    Err(err) => {
                        tracing::error!(projection = projection.name(), error = %err, "projection cannot catch up");
                        first_failure.get_or_insert(err);
                        break;
                    }
                }
            }
        }
        match first_failure {
            Some(err) => Err(err),
            None => Ok(total),
        }
    }

    /// Waits until every projection that reads one of `aggregate_types` has applied `target`, so a
    /// caller reads its own write; projections of other types are not waited for (one stopped on an
    /// event it cannot decode holds up only the writes it would show). Returns false on timeout (the
    /// write is stored; only the views lag).
    pub async fn wait_for(&self, target: Checkpoint, aggregate_types: &[&str], timeout: Duration) -> bool {
        self.hint(target, aggregate_types);
        let names: Vec<&'static str> = self.reading(aggregate_types).map(|p| p.name()).collect();
        // A write that became readable without a notification (the one before it rolled back) is
        // picked up within a few milliseconds instead of at the next poll; on a standby process the
        // progress is the active process's, read from the checkpoints.
        let nudge = async {
            loop {
                tokio::time::sleep(Duration::from_millis(15)).await;
                self.poke();
                if !self.is_active() {
                    self.refresh_progress(&names).await;
                }
            }
        };
        let concerned: Vec<_> = names.iter().filter_map(|name| self.progress.get(name)).collect();
        let all = async {
            for progress in concerned {
                let mut rx = progress.subscribe();
                if rx.wait_for(|cp| *cp >= target).await.is_err() {
                    return false;
                }
            }
            true
        };
        let all = async {
            tokio::select! {
                done = all => done,
                never = nudge => never,
            }
        };
        tokio::time::timeout(timeout, all).await.unwrap_or(false)
    }

    /// Asks the loops to finish their current batch and end; await their handles to know they did.
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Runs the projections until [`shutdown`](Self::shutdown): on SQLite a loop per projection at
    /// once; on PostgreSQL a LISTEN task and a daemon that runs the loops while this process holds
    /// [`DAEMON_LOCK`], and stands by while another process does.
    pub fn spawn(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let mut handles = Vec::new();
        match &self.db {
            Db::Postgres(pool) => {
                let (listen, daemon) = (Arc::clone(self), Arc::clone(self));
                let pool = pool.clone();
                let options = pool.connect_options().as_ref().clone();
                handles.push(tokio::spawn(async move { listen.listen(pool).await }));
                handles.push(tokio::spawn(async move { daemon.daemon(options).await }));
            }
            Db::Sqlite(_) => {
                self.active.send_replace(true);
                let (term, _) = watch::channel(false);
                for projection in self.projections.clone() {
                    let (this, term) = (Arc::clone(self), term.subscribe());
                    handles.push(tokio::spawn(async move { this.run_loop(projection, term).await }));
                }
                // The loops end with `stop`; the sender lives as long as they might look at it.
                std::mem::forget(term);
            }
        }
        handles
    }

    /// Contends for [`DAEMON_LOCK`] on a connection of its own; while it holds the lock (and the
    /// connection answers) it runs the projection loops.
    async fn daemon(self: Arc<Self>, options: sqlx::postgres::PgConnectOptions) {
        use sqlx::Connection;
        let standby = Duration::from_secs(1);
        let mut stop = self.stop.subscribe();
        while !*stop.borrow_and_update() {
            let mut connection = match sqlx::PgConnection::connect_with(&options).await {
                Ok(connection) => connection,
                Err(err) => {
                    tracing::warn!(error = %err, "the projection daemon cannot reach the database; retrying");
                    tokio::select! { _ = stop.changed() => {}, _ = tokio::time::sleep(standby) => {} }
                    continue;
                }
            };
            let acquired: Result<bool, sqlx::Error> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(DAEMON_LOCK)
                .fetch_one(&mut connection)
                .await;
            if !matches!(acquired, Ok(true)) {
                let _ = connection.close().await;
                tokio::select! { _ = stop.changed() => {}, _ = tokio::time::sleep(standby) => {} }
                continue;
            }
            tracing::info!("this process runs the projections");
            self.active.send_replace(true);
            let (term, _) = watch::channel(false);
            let loops: Vec<_> = self
                .projections
                .clone()
                .into_iter()
                .map(|projection| {
                    let (this, term) = (Arc::clone(&self), term.subscribe());
                    tokio::spawn(async move { this.run_loop(projection, term).await })
                })
                .collect();
            // Hold the lock while its session lives; a lost session means another process may have
            // taken over, so the loops end.
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(standby) => {}
                }
                if sqlx::query("SELECT 1").execute(&mut connection).await.is_err() {
                    tracing::warn!("lost the session holding the projection lock; standing by");
                    break;
                }
            }
            term.send_replace(true);
            for handle in loops {
                let _ = handle.await;
            }
            self.active.send_replace(false);
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(DAEMON_LOCK).execute(&mut connection).await;
            let _ = connection.close().await;
        }
    }

    /// Applies batches of one projection until the process stops or `term` ends this process's turn.
    async fn run_loop(&self, projection: Arc<dyn Projection>, mut term: watch::Receiver<bool>) {
        let name = projection.name();
        let Some(hints) = self.hints.get(name) else {
            tracing::error!(projection = name, "the projection has no wake-up channel; it does not run");
            return;
        };
        let mut wake = self.wake.subscribe();
        let mut hint = hints.subscribe();
        let mut stop = self.stop.subscribe();
        let mut failures = 0u32;
        let mut last_full = std::time::Instant::now();
        // Ask the log before the first batch, and after a wake-up that does not say which types
        // were written (a poll, a notification without a payload).
        let mut look = true;
        // The hint a batch last ran for: one the log cannot reach yet (an older transaction is still
        // writing) is not chased again until something else changes.
        let mut tried = Checkpoint::default();
        let mut more = false;
        while !*stop.borrow_and_update() && !*term.borrow_and_update() {
            // Once a poll interval a loop runs a batch anyway, which carries its checkpoint over the
            // other types' events.
            let due = last_full.elapsed() >= self.options.poll_interval;
            let target = *hint.borrow_and_update();
            let hinted = target > self.progress_of(name) && target != tried;
            let run = due || failures > 0 || more || hinted || (look && self.has_own_events(projection.as_ref()).await);
            (look, more) = (false, false);
            if !run {
                look = self.idle(&mut wake, &mut hint, &mut stop, &mut term).await;
                continue;
            }
            tried = target;
            last_full = std::time::Instant::now();
            match self.run_batch(projection.as_ref(), Tables::Live).await {
                Ok(applied) => {
                    failures = 0;
                    // A full batch leaves more behind it; a shorter one read all there was.
                    if i64::try_from(applied).unwrap_or(i64::MAX) >= self.options.batch_size {
                        more = true;
                        continue;
                    }
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    let pause = retry_pause(self.options.poll_interval, failures);
                    tracing::error!(
                        projection = name,
                        error = %err,
                        failures,
                        retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        "projection batch failed; this view stops here until it succeeds, the others go on"
                    );
                    tokio::select! {
                        _ = stop.changed() => {}
                        _ = term.changed() => {}
                        _ = tokio::time::sleep(pause) => {}
                    }
                    continue;
                }
            }
            look = self.idle(&mut wake, &mut hint, &mut stop, &mut term).await;
        }
    }

    /// Waits for a write, the end, or the poll interval; says whether it was woken by a write of
    /// types not known (so the loop should ask the log).
    async fn idle(
        &self,
        wake: &mut watch::Receiver<u64>,
        hint: &mut watch::Receiver<Checkpoint>,
        stop: &mut watch::Receiver<bool>,
        term: &mut watch::Receiver<bool>,
    ) -> bool {
        tokio::select! {
            _ = wake.changed() => true,
            _ = hint.changed() => false,
            _ = stop.changed() => false,
            _ = term.changed() => false,
            _ = tokio::time::sleep(self.options.poll_interval) => false,
        }
    }

    /// Whether events of the projection's types arrived after what it last committed here.
    async fn has_own_events(&self, projection: &dyn Projection) -> bool {
        let Some(progress) = self.progress.get(projection.name()) else { return true };
        let after = *progress.borrow();
        event_log::any_after(&self.db, after, projection.aggregate_types()).await.unwrap_or(true)
    }

    async fn listen(&self, pool: sqlx::PgPool) {
        let mut stop = self.stop.subscribe();
        while !*stop.borrow_and_update() {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(EVENTS_CHANNEL).await?;
                loop {
                    let notification = listener.recv().await?;
                    match parse_notification(notification.payload()) {
                        Some((target, types)) => self.hint(target, &types),
                        None => self.poke(),
                    }
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

/// Moves a watched checkpoint forward to `to`, never back; only a move wakes its watchers.
fn raise(watched: &watch::Sender<Checkpoint>, to: Checkpoint) {
    watched.send_if_modified(|current| {
        let newer = to > *current;
        if newer {
            *current = to;
        }
        newer
    });
}

/// Reads a notification's payload, `<transaction id> <newest position> <type>,<type>…` (see the
/// migration that sets it); none for anything else, which wakes every loop.
fn parse_notification(payload: &str) -> Option<(Checkpoint, Vec<&str>)> {
    let mut parts = payload.splitn(3, ' ');
    let transaction_id = parts.next()?.parse().ok()?;
    let position = parts.next()?.parse().ok()?;
    let types: Vec<&str> = parts.next()?.split(',').filter(|t| !t.is_empty()).collect();
    (!types.is_empty()).then_some((Checkpoint { transaction_id, position }, types))
}

/// How long a loop waits after its `failures`-th failure in a row: doubling from the poll interval,
/// at most a minute.
fn retry_pause(poll_interval: Duration, failures: u32) -> Duration {
    let doubled = poll_interval.saturating_mul(1u32 << failures.clamp(1, 16).saturating_sub(1));
    doubled.min(Duration::from_secs(60))
}

pub(crate) async fn prepare_copy(tx: &mut Tx, projection: &dyn Projection, tables: Tables) -> Result<(), DbError> {
    for sql in projection.create_sql(tables) {
        tx.execute(&sql).await?;
    }
    let name = tables.checkpoint(projection.name());
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO projection_checkpoints (projection, transaction_id, position, version) VALUES ($1, 0, 0, $2)
         ON CONFLICT (projection) DO NOTHING",
    )
    .bind(&name)
    .bind(i64::from(projection.version()))
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The version stored with a checkpoint, if the checkpoint exists.
pub(crate) async fn stored_version(tx: &mut Tx, name: &str) -> Result<Option<i64>, DbError> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar("SELECT version FROM projection_checkpoints WHERE projection = $1")
        .bind(name)
        .fetch_optional(conn)
        .await)?)
}

/// Takes the checkpoint row's lock before reading anything, so concurrent projectors (other server
/// processes) queue here and the one that goes next sees the checkpoint the previous one committed.
pub(crate) async fn lock_checkpoint(tx: &mut Tx, name: &str) -> Result<Checkpoint, DbError> {
    let (transaction_id, position): (i64, i64) = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE projection_checkpoints SET position = position WHERE projection = $1
         RETURNING transaction_id, position",
    )
    .bind(name)
    .fetch_one(conn)
    .await)?;
    Ok(Checkpoint { transaction_id, position })
}

pub(crate) async fn store_checkpoint(tx: &mut Tx, name: &str, checkpoint: Checkpoint) -> Result<(), DbError> {
    store_checkpoint_with(tx, name, checkpoint, None).await
}

/// Stores a checkpoint, and with `version` the version of the tables it belongs to.
pub(crate) async fn store_checkpoint_with(
    tx: &mut Tx,
    name: &str,
    checkpoint: Checkpoint,
    version: Option<u32>,
) -> Result<(), DbError> {
    if let Some(version) = version {
        on_tx!(tx, conn => sqlx::query("UPDATE projection_checkpoints SET version = $2 WHERE projection = $1")
            .bind(name)
            .bind(i64::from(version))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_names_its_transaction_position_and_types() {
        let (target, types) = parse_notification("7421 1093 MonthlyReport,TrainingPlace").expect("parsed");
        assert_eq!(target, Checkpoint { transaction_id: 7421, position: 1093 });
        assert_eq!(types, ["MonthlyReport", "TrainingPlace"]);
        // An empty payload (a server migrated before payloads) or anything else wakes every loop.
        assert_eq!(parse_notification(""), None);
        assert_eq!(parse_notification("7421 1093 "), None);
        assert_eq!(parse_notification("x 1 Member"), None);
    }
}
