//! What a read model is: a name, its tables, and how one event changes them.

use crate::db::{DbError, Tx};
use crate::event_log::StoredEvent;
use crate::on_tx;
use async_trait::async_trait;
use cqrs_es::Aggregate;
use std::marker::PhantomData;

/// Which copy of a projection's tables to write: the live ones, or fresh ones being rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Live,
    Rebuild,
}

impl Tables {
    /// The concrete name of a base table in this copy.
    pub fn name(self, base: &str) -> String {
        match self {
            Tables::Live => base.to_string(),
            Tables::Rebuild => format!("{base}__rebuild"),
        }
    }

    /// The checkpoint row this copy advances.
    pub fn checkpoint(self, projection: &str) -> String {
        self.name(projection)
    }
}

/// A read model fed by the projector. Tables are derived data, owned here rather than by the
/// migrations: `create_sql` builds them for the live copy and for a rebuild alike.
#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// Base names of the tables this projection owns.
    fn tables(&self) -> Vec<&'static str>;
    /// `CREATE TABLE IF NOT EXISTS` statements (portable SQL) for one copy.
    fn create_sql(&self, tables: Tables) -> Vec<String>;
    /// Applies one event inside the projector's transaction; events of other aggregates are ignored.
    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError>;
}

/// A view holding each aggregate's current state as a JSON document, folded with the aggregate's own
/// `apply`: the list views (members, agreements) need exactly what the aggregate knows.
pub struct StateProjection<A> {
    name: &'static str,
    table: &'static str,
    aggregate: PhantomData<fn() -> A>,
}

impl<A> StateProjection<A> {
    pub const fn new(name: &'static str, table: &'static str) -> Self {
        StateProjection { name, table, aggregate: PhantomData }
    }
}

#[async_trait]
impl<A: Aggregate + 'static> Projection for StateProjection<A> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![self.table]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        let table = tables.name(self.table);
        vec![format!(
            "CREATE TABLE IF NOT EXISTS {table} (id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL, position BIGINT NOT NULL)"
        )]
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        if event.aggregate_type != A::TYPE {
            return Ok(());
        }
        let table = tables.name(self.table);
        let payload: A::Event = event.decode()?;
        let select = format!("SELECT doc FROM {table} WHERE id = $1");
        let current: Option<String> =
            on_tx!(tx, conn => sqlx::query_scalar(&select).bind(&event.aggregate_id).fetch_optional(conn).await)?;
        let mut state: A = match current {
            Some(doc) => serde_json::from_str(&doc)?,
            None => A::default(),
        };
        state.apply(payload);
        let doc = serde_json::to_string(&state)?;
        let upsert = format!(
            "INSERT INTO {table} (id, doc, position) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position"
        );
        on_tx!(tx, conn => sqlx::query(&upsert)
            .bind(&event.aggregate_id)
            .bind(&doc)
            .bind(event.checkpoint.position)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
