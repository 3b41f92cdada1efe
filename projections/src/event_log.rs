//! Reading the event log in an order that never lets a projector skip an event.
//!
//! PostgreSQL assigns `position` at insert but rows become visible at commit, so a row with a lower
//! position can appear after a higher one was read. Rows are therefore read only when their
//! transaction is older than every transaction still in flight (`pg_snapshot_xmin`), in
//! `(transaction_id, position)` order: nothing can later appear before a row already read.
//! On SQLite one writer commits at a time, so `position` alone is that order.

use crate::db::{Db, DbError, Tx, UndecodableEvent};
use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster, SerializedEvent};
use serde::Serialize;
use serde_json::Value;

/// A place in the commit-safe order; projections store the last one they applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Checkpoint {
    /// The writing transaction on PostgreSQL; always 0 on SQLite.
    pub transaction_id: i64,
    pub position: i64,
}

/// One event as stored, upcast to the version the code reads.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub checkpoint: Checkpoint,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Payload,
    pub metadata: Value,
}

/// An event's payload: the stored JSON text, read straight into whatever type a projection wants
/// (an issued invoice's runs to hundreds of KB, and a view that needs three fields of it should not
/// build a JSON tree of all of them); or, when an upcaster rewrote it, the rewritten tree.
#[derive(Debug, Clone)]
pub enum Payload {
    Text(String),
    Upcast(Value),
}

impl StoredEvent {
    /// The payload as the aggregate's event type; a payload that does not fit names the event.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, DbError> {
        let decoded = match &self.payload {
            Payload::Text(text) => serde_json::from_str(text),
            Payload::Upcast(tree) => E::deserialize(tree),
        };
        decoded.map_err(|err| {
            DbError::UndecodableEvent(Box::new(UndecodableEvent {
                aggregate_type: self.aggregate_type.clone(),
                aggregate_id: self.aggregate_id.clone(),
                sequence: self.sequence,
                event_type: self.event_type.clone(),
                event_version: self.event_version.clone(),
                reason: err.to_string(),
            }))
        })
    }
}

/// What one read of the log gave a projection: its events, and how far the log was scanned.
#[derive(Debug, Clone)]
pub struct Batch {
    pub events: Vec<StoredEvent>,
    /// The checkpoint to store after applying `events`: the last event when the batch is full,
    /// else the newest readable event of any type, so a projection that reads few types still
    /// reaches the head of the log.
    pub reached: Checkpoint,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    transaction_id: i64,
    position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    /// Set on the row that only says where the readable log ends (PostgreSQL).
    #[sqlx(default)]
    is_head: bool,
}

/// `$first, $first+1, …` for an `IN` list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The horizon below which no event can still appear: the oldest transaction that is writing to
/// `events` now, or, when none is, the next transaction id.
///
/// Every writer inserts its events as the first write of its transaction (`append` does), so it
/// takes the lock on `events` in the statement that gives it its transaction id. A transaction that
/// could still commit an event below the horizon would therefore hold that lock now and be counted.
/// Unlike the cluster-wide `pg_snapshot_xmin`, transactions of other databases, readers and the
/// projector's own view-writing transactions do not hold the horizon back.
///
/// `pg_locks` is read once (materialised) for a consistent view of the lock table; the running
/// transactions' 64-bit ids come from the snapshot taken at the start of this statement, which holds
/// every writer that started before it (a writer that started after gets an id above `xmax`).
const PG_HORIZON: &str = "
WITH locks AS MATERIALIZED (
    SELECT locktype, database, relation, mode, granted, transactionid, virtualtransaction FROM pg_locks
), writers AS (
    SELECT own.transactionid::text::bigint AS xid
      FROM locks writing
      JOIN locks own ON own.virtualtransaction = writing.virtualtransaction
     WHERE writing.locktype = 'relation'
       AND writing.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND writing.relation = 'events'::regclass
       AND writing.mode = 'RowExclusiveLock'
       AND own.locktype = 'transactionid'
       AND own.mode = 'ExclusiveLock'
       AND own.granted
), snapshot AS (
    SELECT pg_current_snapshot() AS s
)
SELECT LEAST(
           pg_snapshot_xmax(s),
           (SELECT min(running) FROM pg_snapshot_xip(s) AS running
             WHERE (running::text::bigint % 4294967296) IN (SELECT xid FROM writers))
       )::text
  FROM snapshot";

/// Orders by the columns of `events`, qualified: the select list turns `transaction_id` into a
/// bigint of the same name, and an unqualified `ORDER BY transaction_id` would sort by that
/// expression, which no index serves (a full scan and sort of the log per batch).
///
/// One branch per aggregate type, each an ordered range of `events_by_type` cut at the limit, merged
/// and cut again: with `aggregate_type IN (…)` PostgreSQL cannot read that index in commit order
/// across types, so it sorted every later event of them for each batch (1–2 s a batch early in a
/// rebuild of the national data set, where hundreds of thousands follow).
///
/// The horizon ([`PG_HORIZON`]) is taken once, in the same statement, and bounds both the events
/// read and the head scanned to, which comes back as one more row marked `is_head`: one round trip
/// per batch instead of three. Every transaction below the horizon that could write an event has
/// ended, so the events and the head are taken from the same set of rows.
fn pg_read_after(types: usize) -> String {
    let mut branches: Vec<String> = (0..types)
        .map(|n| {
            format!(
                "(SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id, sequence,
                         event_type, event_version, payload::text AS payload, metadata::text AS metadata,
                         false AS is_head
                    FROM events
                   WHERE aggregate_type = ${}
                     AND (transaction_id, position) > ($1::text::xid8, $2)
                     AND transaction_id < (SELECT h FROM horizon)
                   ORDER BY events.transaction_id, events.position
                   LIMIT $3)",
                4 + n
            )
        })
        .collect();
    if branches.is_empty() {
        // A projection of no types still moves its checkpoint to the head.
        // It reads nothing, but names the columns the batch is ordered by.
        branches.push(
            "(SELECT 0::bigint AS transaction_id, 0::bigint AS position, '' AS aggregate_type, '' AS aggregate_id,
                     0::bigint AS sequence, '' AS event_type, '' AS event_version, '' AS payload, '' AS metadata,
                     false AS is_head
               WHERE false)"
                .to_string(),
        );
    }
    format!(
        "WITH horizon AS MATERIALIZED (SELECT ({PG_HORIZON})::xid8 AS h)
         (SELECT * FROM ({}) AS batch ORDER BY transaction_id, position LIMIT $3)
         UNION ALL
         (SELECT transaction_id::text::bigint, position, '', '', 0, '', '', '', '', true
            FROM events
           WHERE transaction_id < (SELECT h FROM horizon)
           ORDER BY events.transaction_id DESC, events.position DESC
           LIMIT 1)",
        branches.join(" UNION ALL ")
    )
}

/// As [`pg_read_after`]: one ordered range of `events_by_type` per aggregate type.
fn sqlite_read_after(types: usize) -> String {
    let branches: Vec<String> = (0..types)
        .map(|n| {
            format!(
                "SELECT * FROM (SELECT 0 AS transaction_id, position, aggregate_type, aggregate_id, sequence,
                                       event_type, event_version, payload, metadata
                                  FROM events
                                 WHERE aggregate_type = ${}
                                   AND position > $1
                                 ORDER BY position
                                 LIMIT $2)",
                3 + n
            )
        })
        .collect();
    format!("SELECT * FROM ({}) ORDER BY position LIMIT $2", branches.join(" UNION ALL "))
}

/// Whether any event of `aggregate_types` was stored after `after` (readable yet or not): a cheap
/// look before a batch, so a projection woken by another type's write does not open a transaction.
pub async fn any_after(db: &Db, after: Checkpoint, aggregate_types: &[&str]) -> Result<bool, DbError> {
    if aggregate_types.is_empty() {
        return Ok(false);
    }
    let found: bool = match db {
        Db::Postgres(pool) => {
            // One EXISTS per type, each a range of `events_by_type`. With `aggregate_type IN (…)`
            // the generic plan PostgreSQL settles on for this prepared statement scanned the whole
            // log (445 ms on the national data set), on every wake-up of a projection reading
            // several types: during a month-end run, a core spent on asking "anything new?".
            let sql = (0..aggregate_types.len())
                .map(|n| {
                    format!(
                        "EXISTS (SELECT 1 FROM events WHERE aggregate_type = ${}
                                   AND (transaction_id, position) > ($1::text::xid8, $2))",
                        n + 3
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("SELECT {sql}");
            let mut query = sqlx::query_scalar(&sql).bind(after.transaction_id.to_string()).bind(after.position);
            for aggregate_type in aggregate_types {
                query = query.bind(*aggregate_type);
            }
            query.fetch_one(pool).await?
        }
        Db::Sqlite(pool) => {
            let sql = format!(
                "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type IN ({}) AND position > $1)",
                placeholders(2, aggregate_types.len())
            );
            let mut query = sqlx::query_scalar(&sql).bind(after.position);
            for aggregate_type in aggregate_types {
                query = query.bind(*aggregate_type);
            }
            query.fetch_one(pool).await?
        }
    };
    Ok(found)
}

/// Up to `limit` events of `aggregate_types` after `after`, in commit-safe order, upcast.
///
/// On PostgreSQL one statement takes the horizon ([`PG_HORIZON`]) and reads below it (see
/// [`pg_read_after`]).
pub async fn read_batch(
    tx: &mut Tx,
    after: Checkpoint,
    aggregate_types: &[&str],
    limit: i64,
) -> Result<Batch, DbError> {
    let (rows, head): (Vec<EventRow>, Option<(i64, i64)>) = match tx {
        Tx::Postgres(tx) => {
            let sql = pg_read_after(aggregate_types.len());
            let mut query =
                sqlx::query_as(&sql).bind(after.transaction_id.to_string()).bind(after.position).bind(limit);
            for aggregate_type in aggregate_types {
                query = query.bind(*aggregate_type);
            }
            let mut rows: Vec<EventRow> = query.fetch_all(&mut **tx).await?;
            let head = rows.iter().position(|row| row.is_head).map(|at| rows.swap_remove(at));
            // A full batch stops at its last event: the head lies beyond events not read yet.
            let head = head.filter(|_| (rows.len() as i64) < limit).map(|head| (head.transaction_id, head.position));
            // `UNION ALL` keeps its branches' order in practice, not by promise.
            rows.sort_by_key(|row| (row.transaction_id, row.position));
            (rows, head)
        }
        Tx::Sqlite(tx) => {
            let sql = sqlite_read_after(aggregate_types.len());
            let mut query = sqlx::query_as(&sql).bind(after.position).bind(limit);
            for aggregate_type in aggregate_types {
                query = query.bind(*aggregate_type);
            }
            let rows: Vec<EventRow> = match aggregate_types.is_empty() {
                true => Vec::new(),
                false => query.fetch_all(&mut **tx).await?,
            };
            let head = match rows.len() as i64 >= limit {
                true => None,
                false => {
                    sqlx::query_as(
                        "SELECT 0, position FROM events WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1",
                    )
                    .fetch_optional(&mut **tx)
                    .await?
                }
            };
            (rows, head)
        }
    };
    let upcasters = upcasters();
    let events = rows.into_iter().map(|row| decode_row(row, &upcasters)).collect::<Result<Vec<_>, _>>()?;
    let last = events.last().map(|e| e.checkpoint);
    let head = head.map(|(transaction_id, position)| Checkpoint { transaction_id, position });
    let reached = [Some(after), last, head].into_iter().flatten().max().unwrap_or(after);
    Ok(Batch { events, reached })
}

fn decode_row(row: EventRow, upcasters: &[Box<dyn EventUpcaster>]) -> Result<StoredEvent, DbError> {
    let undecodable = |reason: String| {
        DbError::UndecodableEvent(Box::new(UndecodableEvent {
            aggregate_type: row.aggregate_type.clone(),
            aggregate_id: row.aggregate_id.clone(),
            sequence: row.sequence,
            event_type: row.event_type.clone(),
            event_version: row.event_version.clone(),
            reason,
        }))
    };
    let metadata = serde_json::from_str(&row.metadata).map_err(|e| undecodable(format!("metadata: {e}")))?;
    if !upcasters.iter().any(|u| u.can_upcast(&row.event_type, &row.event_version)) {
        return Ok(StoredEvent {
            checkpoint: Checkpoint { transaction_id: row.transaction_id, position: row.position },
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            payload: Payload::Text(row.payload),
            metadata,
        });
    }
    let payload = serde_json::from_str(&row.payload).map_err(|e| undecodable(format!("payload: {e}")))?;
    let serialized = upcast(
        SerializedEvent {
            aggregate_id: row.aggregate_id,
            sequence: usize::try_from(row.sequence).unwrap_or_default(),
            aggregate_type: row.aggregate_type,
            event_type: row.event_type,
            event_version: row.event_version,
            payload,
            metadata,
        },
        upcasters,
    );
    Ok(StoredEvent {
        checkpoint: Checkpoint { transaction_id: row.transaction_id, position: row.position },
        aggregate_type: serialized.aggregate_type,
        aggregate_id: serialized.aggregate_id,
        sequence: row.sequence,
        event_type: serialized.event_type,
        event_version: serialized.event_version,
        payload: Payload::Upcast(serialized.payload),
        metadata: serialized.metadata,
    })
}

/// Applies every upcaster that matches, in order, as the -es event stores do on load.
pub fn upcast(mut event: SerializedEvent, upcasters: &[Box<dyn EventUpcaster>]) -> SerializedEvent {
    for upcaster in upcasters {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    event
}

/// Every schema change of a stored event, oldest first. The same list serves the event stores (when
/// aggregates load) and the projector, so both read old events the same way.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(SemanticVersionEventUpcaster::new(
        "MemberRegistered",
        "2.0",
        Box::new(member_registered_share_in_basis_points),
    ))]
}

/// MemberRegistered 1.0 stored the target-group share as whole percent; 2.0 stores basis points.
fn member_registered_share_in_basis_points(mut payload: Value) -> Value {
    if let Some(body) = payload.get_mut("MemberRegistered").and_then(Value::as_object_mut) {
        if let Some(percent) = body.remove("target_group_share_percent").and_then(|v| v.as_u64()) {
            body.insert("target_group_share".into(), Value::from(percent * 100));
        }
    }
    payload
}

/// The last stored event of one aggregate: what a caller waits for after a command.
pub async fn head_of(tx: &mut Tx, aggregate_type: &str, aggregate_id: &str) -> Result<Option<Checkpoint>, DbError> {
    let row: Option<(i64, i64)> = match tx {
        Tx::Postgres(tx) => {
            sqlx::query_as(
                "SELECT transaction_id::text::bigint, position FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_optional(&mut **tx)
            .await?
        }
        Tx::Sqlite(tx) => {
            sqlx::query_as(
                "SELECT 0, position FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    Ok(row.map(|(transaction_id, position)| Checkpoint { transaction_id, position }))
}

/// The newest event in commit-safe order: everything a reader could wait for.
pub async fn head(tx: &mut Tx) -> Result<Option<Checkpoint>, DbError> {
    let row: Option<(i64, i64)> = match tx {
        Tx::Postgres(tx) => {
            sqlx::query_as(
                "SELECT transaction_id::text::bigint, position FROM events ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1",
            )
            .fetch_optional(&mut **tx)
            .await?
        }
        Tx::Sqlite(tx) => {
            sqlx::query_as("SELECT 0, position FROM events ORDER BY position DESC LIMIT 1").fetch_optional(&mut **tx).await?
        }
    };
    Ok(row.map(|(transaction_id, position)| Checkpoint { transaction_id, position }))
}

/// How many events the log holds, for progress reporting.
pub async fn count(tx: &mut Tx) -> Result<i64, DbError> {
    Ok(crate::on_tx!(tx, conn => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events").fetch_one(conn).await)?)
}

/// How many events of these aggregate types the log holds, for progress reporting.
pub async fn count_of(tx: &mut Tx, aggregate_types: &[&str]) -> Result<i64, DbError> {
    if aggregate_types.is_empty() {
        return Ok(0);
    }
    let sql =
        format!("SELECT count(*) FROM events WHERE aggregate_type IN ({})", placeholders(1, aggregate_types.len()));
    Ok(crate::on_tx!(tx, conn => {
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for aggregate_type in aggregate_types {
            query = query.bind(*aggregate_type);
        }
        query.fetch_one(conn).await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use konsortium_domain::member::MemberEvent;

    #[test]
    fn a_member_registered_in_schema_1_0_still_loads() {
        let old = SerializedEvent {
            aggregate_id: "m1".into(),
            sequence: 1,
            aggregate_type: "Member".into(),
            event_type: "MemberRegistered".into(),
            event_version: "1.0".into(),
            payload: serde_json::json!({"MemberRegistered": {
                "name": "Returbutiken Fyndet", "org_number": "7164221231", "category": "Wise",
                "target_group_share_percent": 45, "joined_on": "2024-09-01"
            }}),
            metadata: serde_json::json!({}),
        };
        let upcast = upcast(old, &upcasters());
        let event: MemberEvent = serde_json::from_value(upcast.payload).unwrap_or_else(|e| panic!("{e}"));
        let MemberEvent::MemberRegistered { target_group_share, .. } = event else { panic!("wrong event {event:?}") };
        assert_eq!(target_group_share.basis_points(), 4_500);
    }
}
