//! Reading the event log in an order that never lets a projector skip an event.
//!
//! PostgreSQL assigns `position` at insert but rows become visible at commit, so a row with a lower
//! position can appear after a higher one was read. Rows are therefore read only when their
//! transaction is older than every transaction still in flight (`pg_snapshot_xmin`), in
//! `(transaction_id, position)` order: nothing can later appear before a row already read.
//! On SQLite one writer commits at a time, so `position` alone is that order.

use crate::db::{DbError, Tx};
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
    pub payload: Value,
    pub metadata: Value,
}

impl StoredEvent {
    /// The payload as the aggregate's event type.
    /// Deserialises by reference: every projection decodes every event, so no copy of the payload.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, DbError> {
        Ok(E::deserialize(&self.payload)?)
    }
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
}

const PG_READ_AFTER: &str = "
SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload::text AS payload, metadata::text AS metadata
  FROM events
 WHERE (transaction_id, position) > ($1::text::xid8, $2)
   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY transaction_id, position
 LIMIT $3";

const SQLITE_READ_AFTER: &str = "
SELECT 0 AS transaction_id, position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata
  FROM events
 WHERE position > $1
 ORDER BY position
 LIMIT $2";

/// Up to `limit` events after `after`, in commit-safe order, upcast.
pub async fn read_after(tx: &mut Tx, after: Checkpoint, limit: i64) -> Result<Vec<StoredEvent>, DbError> {
    let rows: Vec<EventRow> = match tx {
        Tx::Postgres(tx) => {
            sqlx::query_as(PG_READ_AFTER)
                .bind(after.transaction_id.to_string())
                .bind(after.position)
                .bind(limit)
                .fetch_all(&mut **tx)
                .await?
        }
        Tx::Sqlite(tx) => {
            sqlx::query_as(SQLITE_READ_AFTER).bind(after.position).bind(limit).fetch_all(&mut **tx).await?
        }
    };
    let upcasters = upcasters();
    rows.into_iter().map(|row| decode_row(row, &upcasters)).collect()
}

fn decode_row(row: EventRow, upcasters: &[Box<dyn EventUpcaster>]) -> Result<StoredEvent, DbError> {
    let serialized = upcast(
        SerializedEvent {
            aggregate_id: row.aggregate_id,
            sequence: usize::try_from(row.sequence).unwrap_or_default(),
            aggregate_type: row.aggregate_type,
            event_type: row.event_type,
            event_version: row.event_version,
            payload: serde_json::from_str(&row.payload)?,
            metadata: serde_json::from_str(&row.metadata)?,
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
        payload: serialized.payload,
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
                "SELECT transaction_id::text::bigint, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1",
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
