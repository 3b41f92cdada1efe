//! The write side: aggregates load through cqrs-es on whichever store is configured, decide with their
//! own `handle`, and their events are appended by [`append`] — several aggregates in one transaction.
//!
//! cqrs-es commits one aggregate at a time, but the rules that span aggregates (a place takes one of
//! its allocation's slots; a participant holds one place at a time) need the events of two aggregates
//! stored together or not at all. Each aggregate's events are inserted at the sequence numbers that
//! follow the state the decision was made on, so the events table's primary key is the optimistic
//! lock for every aggregate a command touches: a concurrent writer to any of them makes the whole
//! commit fail with a conflict and nothing is stored. No cqrs-es queries are registered: views are fed
//! by the projector from the log (DESIGN decision 3). A change may carry a data key to keep or destroy
//! ([`KeyChange`]): it is written in the same transaction, so a registration never exists without its
//! key and an erasure is never recorded while its key survives.

use crate::error::{AppError, DomainError};
use crate::{idempotency, vault};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventStore};
use konsortium_projections::event_log::{self, upcasters, Checkpoint};
use konsortium_projections::{on_db, Db, DbError, Tx};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use std::marker::PhantomData;

/// Loads one kind of aggregate from the event log, upcasting old events on the way.
pub struct AggregateStore<A: Aggregate> {
    db: Db,
    aggregate: PhantomData<fn() -> A>,
}

/// An aggregate as its events left it, and the sequence its next event must take.
pub struct Loaded<A: Aggregate> {
    pub id: String,
    pub state: A,
    sequence: usize,
}

/// Events an aggregate decided, not yet stored.
#[derive(Debug, Clone)]
pub struct Pending {
    aggregate_type: &'static str,
    aggregate_id: String,
    /// The last sequence the decision saw; the events take the numbers after it.
    after_sequence: usize,
    /// Type, version and JSON text of each event, serialized once (no JSON tree in between: an
    /// issued invoice's payload runs to hundreds of KB).
    events: Vec<(String, String, String)>,
    /// An owner's data key to keep or destroy with these events.
    key: Option<KeyChange>,
}

/// A change to the data key of an owner of personal data (a participant, a sole trader) that belongs
/// with an event: the key of a registration is stored, and the key of an erasure destroyed, in the
/// transaction that stores the event. So a
/// registration never exists without its key (its identity would be unreadable from the start) and
/// an erasure is never recorded while the key survives, or the other way round.
#[derive(Clone)]
pub enum KeyChange {
    Keep { owner_id: String, wrapped: String },
    Destroy { owner_id: String },
}

/// Names the participant only; the wrapped key stays out of logs.
impl std::fmt::Debug for KeyChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyChange::Keep { owner_id, .. } => write!(f, "Keep({owner_id})"),
            KeyChange::Destroy { owner_id } => write!(f, "Destroy({owner_id})"),
        }
    }
}

/// Why an append stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("another command changed one of {aggregates} at the same moment")]
    Conflict { aggregates: String },
    #[error("another request with the same idempotency key committed first")]
    KeyTaken,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("an event could not be serialised: {0}")]
    Serialise(#[from] serde_json::Error),
}

impl Pending {
    /// The type of the aggregate that decided these events.
    pub fn aggregate_type(&self) -> &'static str {
        self.aggregate_type
    }

    /// Whether the decision produced any event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How many events the decision produced.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Stores or destroys an owner's data key together with these events.
    pub fn with_key(self, key: KeyChange) -> Pending {
        Pending { key: Some(key), ..self }
    }
}

impl<A> AggregateStore<A>
where
    A: Aggregate<Services = ()> + 'static,
{
    pub fn new(db: &Db) -> Self {
        AggregateStore { db: db.clone(), aggregate: PhantomData }
    }

    /// The aggregate's current state and sequence (the default state at sequence 0 if it has no events).
    pub async fn load(&self, id: &str) -> Result<Loaded<A>, AggregateError<A::Error>> {
        let context = match &self.db {
            Db::Postgres(pool) => {
                PersistedEventStore::<_, A>::new_event_store(PostgresEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters())
                    .load_aggregate(id)
                    .await?
            }
            Db::Sqlite(pool) => {
                PersistedEventStore::<_, A>::new_event_store(SqliteEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters())
                    .load_aggregate(id)
                    .await?
            }
        };
        Ok(Loaded { id: id.to_string(), state: context.aggregate, sequence: context.current_sequence })
    }

    /// Many aggregates of this kind in a few queries instead of one each (the month-end run loads
    /// every approved month of an agreement), upcast like [`load`](Self::load); in the order of `ids`.
    pub async fn load_many(&self, ids: &[String]) -> Result<Vec<Loaded<A>>, AppError> {
        const CHUNK: usize = 500;
        let mut loaded: std::collections::HashMap<String, Loaded<A>> =
            ids.iter().map(|id| (id.clone(), Loaded { id: id.clone(), state: A::default(), sequence: 0 })).collect();
        let upcasters = upcasters();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(String, i64, String, String, String)> = match &self.db {
                Db::Postgres(pool) => {
                    sqlx::query_as(
                        "SELECT aggregate_id, sequence, event_type, event_version, payload::text FROM events
                         WHERE aggregate_type = $1 AND aggregate_id = ANY($2) ORDER BY aggregate_id, sequence",
                    )
                    .bind(A::TYPE)
                    .bind(chunk)
                    .fetch_all(pool)
                    .await
                }
                Db::Sqlite(pool) => {
                    let marks = vec!["?"; chunk.len()].join(", ");
                    let sql = format!(
                        "SELECT aggregate_id, sequence, event_type, event_version, payload FROM events
                         WHERE aggregate_type = ? AND aggregate_id IN ({marks}) ORDER BY aggregate_id, sequence"
                    );
                    let mut query = sqlx::query_as(&sql).bind(A::TYPE);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.fetch_all(pool).await
                }
            }
            .map_err(|e| AppError::from(DbError::Sql(e)))?;
            for (aggregate_id, sequence, event_type, event_version, payload) in rows {
                let event = decode::<A>(&aggregate_id, sequence, event_type, event_version, &payload, &upcasters)?;
                if let Some(aggregate) = loaded.get_mut(&aggregate_id) {
                    aggregate.state.apply(event);
                    aggregate.sequence = usize::try_from(sequence).unwrap_or(aggregate.sequence);
                }
            }
        }
        Ok(ids.iter().filter_map(|id| loaded.remove(id)).collect())
    }

    /// The aggregate from its newest event alone, for one whose state that event decides: a
    /// number series, which would otherwise read every number taken this year on each document.
    pub async fn load_newest(&self, id: &str) -> Result<Loaded<A>, AppError>
    where
        A: StateIsNewestEvent,
    {
        let row: Option<(i64, String, String, String)> = on_db!(&self.db, pool => {
            sqlx::query_as(&format!(
                "SELECT sequence, event_type, event_version, payload{} FROM events
                 WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
                if matches!(self.db, Db::Postgres(_)) { "::text" } else { "" }
            ))
            .bind(A::TYPE)
            .bind(id)
            .fetch_optional(pool)
            .await
        })
        .map_err(|e| AppError::from(DbError::Sql(e)))?;
        let mut loaded = Loaded { id: id.to_string(), state: A::default(), sequence: 0 };
        if let Some((sequence, event_type, event_version, payload)) = row {
            loaded.state.apply(decode::<A>(id, sequence, event_type, event_version, &payload, &upcasters())?);
            loaded.sequence = usize::try_from(sequence).unwrap_or(0);
        }
        Ok(loaded)
    }
}

/// An aggregate whose state is decided by its newest event alone (each event restates it whole),
/// so [`AggregateStore::load_newest`] may skip the ones before.
pub trait StateIsNewestEvent {}

/// A number series' state is the last number taken, which its newest `NumberTaken` states.
impl StateIsNewestEvent for konsortium_domain::invoice::InvoiceSeries {}

/// One stored event as the aggregate's event type, upcast when an upcaster applies. Most need
/// none and are read straight into the type, without the detour through a JSON tree (a month-end
/// run reads hundreds of thousands).
fn decode<A: Aggregate>(
    aggregate_id: &str,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: &str,
    upcasters: &[Box<dyn cqrs_es::persist::EventUpcaster>],
) -> Result<A::Event, AppError> {
    let internal = |e: serde_json::Error| AppError::Internal(Box::new(e));
    if !upcasters.iter().any(|u| u.can_upcast(&event_type, &event_version)) {
        return serde_json::from_str(payload).map_err(internal);
    }
    let serialized = cqrs_es::persist::SerializedEvent {
        aggregate_id: aggregate_id.to_string(),
        sequence: usize::try_from(sequence).unwrap_or(0),
        aggregate_type: A::TYPE.to_string(),
        event_type,
        event_version,
        payload: serde_json::from_str(payload).map_err(internal)?,
        metadata: Value::Null,
    };
    serde_json::from_value(event_log::upcast(serialized, upcasters).payload).map_err(internal)
}

impl<A> Loaded<A>
where
    A: Aggregate<Services = ()>,
    A::Error: DomainError,
{
    /// Runs the aggregate's own decision on a command; on success the state includes the new events.
    pub async fn decide(&mut self, command: A::Command) -> Result<Pending, AppError> {
        let sink = EventSink::default();
        self.state.handle(command, &(), &sink).await.map_err(|e| AppError::rule(&e))?;
        let events = sink
            .collect()
            .await
            .into_iter()
            .map(|event| Ok((event.event_type(), event.event_version(), serde_json::to_string(&event)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let pending = Pending {
            aggregate_type: A::TYPE,
            aggregate_id: self.id.clone(),
            after_sequence: self.sequence,
            events,
            key: None,
        };
        self.sequence += pending.events.len();
        Ok(pending)
    }

    /// An aggregate with no events yet, decided on in memory (a data set generator writes many at
    /// once without reading them back).
    pub fn fresh(id: &str) -> Loaded<A> {
        Loaded { id: id.to_string(), state: A::default(), sequence: 0 }
    }

    /// Whether the aggregate has ever recorded an event.
    pub fn exists(&self) -> bool {
        self.sequence > 0
    }
}

/// Stores the events of every pending change in one transaction, each aggregate's at the sequence
/// after the state it was decided on; returns the newest position written. A conflict on any of
/// them stores none.
pub async fn append(
    db: &Db,
    changes: &[Pending],
    metadata: &Value,
    key: Option<&idempotency::Record>,
) -> Result<Option<Checkpoint>, AppendError> {
    let metadata = serde_json::to_string(metadata)?;
    let mut rows = Vec::new();
    for change in changes {
        for (offset, (event_type, event_version, payload)) in change.events.iter().enumerate() {
            let sequence = i64::try_from(change.after_sequence + offset + 1).unwrap_or(i64::MAX);
            rows.push(Row { change, sequence, event_type, event_version, payload });
        }
    }
    let conflict = |err: sqlx::Error| match err.as_database_error().is_some_and(|e| e.is_unique_violation()) {
        true => AppendError::Conflict { aggregates: describe(changes) },
        false => AppendError::Db(DbError::Sql(err)),
    };
    // Most commands write a few events and nothing else: on PostgreSQL one statement is its own
    // transaction, so they are stored in one round trip instead of three (BEGIN, INSERT, COMMIT).
    if let Db::Postgres(pool) = db {
        let alone = key.is_none() && changes.iter().all(|c| c.key.is_none()) && rows.len() <= ROWS_PER_INSERT;
        if alone {
            return insert_pg(pool, &rows, &metadata).await.map_err(conflict);
        }
    }
    // The events are this transaction's first write: the projector's horizon relies on a writer taking
    // the lock on `events` in the same statement that gives it its transaction id.
    let mut tx = db.begin().await?;
    // A few multi-row statements instead of one round trip per event: a month-end invoice carries
    // hundreds of months' events. The positions they return are what a caller waits for.
    let mut head = None;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        head = head.max(insert(&mut tx, chunk, &metadata).await.map_err(conflict)?);
    }
    if matches!(tx, Tx::Sqlite(_)) && !rows.is_empty() {
        // SQLite's writers take turns, so the newest position once the rows are in is this append's.
        head = event_log::head(&mut tx).await?;
    }
    for change in changes {
        let written = match &change.key {
            Some(KeyChange::Keep { owner_id, wrapped }) => vault::store_key(&mut tx, owner_id, wrapped).await,
            Some(KeyChange::Destroy { owner_id }) => vault::destroy_key(&mut tx, owner_id).await,
            None => Ok(()),
        };
        written.map_err(|e| AppendError::Db(DbError::Sql(e)))?;
    }
    if let Some(key) = key {
        if let Err(err) = idempotency::insert(&mut tx, key).await {
            return Err(match err.as_database_error().is_some_and(|e| e.is_unique_violation()) {
                true => AppendError::KeyTaken,
                false => AppendError::Db(DbError::Sql(err)),
            });
        }
    }
    tx.commit().await?;
    Ok(head)
}

/// Rows per `INSERT` statement: 7 parameters each keeps a statement well under SQLite's 32 766.
const ROWS_PER_INSERT: usize = 500;

/// One event row to insert.
struct Row<'a> {
    change: &'a Pending,
    sequence: i64,
    event_type: &'a str,
    event_version: &'a str,
    payload: &'a str,
}

/// The aggregates of a failed append, for the log: a multi-row insert does not say which one lost.
fn describe(changes: &[Pending]) -> String {
    let mut named: Vec<String> = changes
        .iter()
        .filter(|c| !c.events.is_empty())
        .take(3)
        .map(|c| format!("{} {}", c.aggregate_type, c.aggregate_id))
        .collect();
    let more = changes.iter().filter(|c| !c.events.is_empty()).count().saturating_sub(named.len());
    if more > 0 {
        named.push(format!("{more} more"));
    }
    named.join(", ")
}

/// Binds each row's seven values in the order of [`insert_sql`].
macro_rules! bind_rows {
    ($query:expr, $rows:expr, $metadata:expr) => {{
        let mut query = $query;
        for row in $rows {
            query = query
                .bind(row.change.aggregate_type)
                .bind(&row.change.aggregate_id)
                .bind(row.sequence)
                .bind(row.event_type)
                .bind(row.event_version)
                .bind(row.payload)
                .bind($metadata);
        }
        query
    }};
}

/// Inserts `rows` in one statement; returns the newest position written (on PostgreSQL; none on SQLite).
async fn insert(tx: &mut Tx, rows: &[Row<'_>], metadata: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
    match tx {
        Tx::Postgres(tx) => insert_pg(&mut **tx, rows, metadata).await,
        Tx::Sqlite(tx) => {
            if rows.is_empty() {
                return Ok(None);
            }
            // SQLite stamps positions in a trigger after the insert, which `RETURNING` does not see:
            // `append` reads its head instead.
            // Anonymous placeholders: see `Tx::sql`.
            let sql = insert_sql(rows.len(), ("", ""), "");
            let sql = konsortium_projections::db::anonymous_placeholders(&sql);
            bind_rows!(sqlx::query(&sql), rows, metadata).execute(&mut **tx).await?;
            Ok(None)
        }
    }
}

/// [`insert`] on PostgreSQL, in a transaction or, as a statement of its own, in its own one.
async fn insert_pg<'e, E>(executor: E, rows: &[Row<'_>], metadata: &str) -> Result<Option<Checkpoint>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    if rows.is_empty() {
        return Ok(None);
    }
    // PostgreSQL stores payload and metadata as json.
    let sql = insert_sql(rows.len(), ("::json", "::json"), " RETURNING transaction_id::text::bigint, position");
    let written: Vec<(i64, i64)> = bind_rows!(sqlx::query_as(&sql), rows, metadata).fetch_all(executor).await?;
    Ok(written.into_iter().map(|(transaction_id, position)| Checkpoint { transaction_id, position }).max())
}

/// `INSERT INTO events` of `rows` rows, the payload and metadata cast with `casts`.
fn insert_sql(rows: usize, casts: (&str, &str), returning: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let n = row * 7;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}{}, ${}{})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                casts.0,
                n + 7,
                casts.1
            )
        })
        .collect();
    format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES {}{returning}",
        values.join(", ")
    )
}
