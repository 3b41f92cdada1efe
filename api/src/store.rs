//! The write side: each aggregate's commands run through cqrs-es on whichever store is configured.
//!
//! cqrs-es is generic over its store and the store traits are not object-safe, so the two concrete
//! frameworks sit in an enum. No cqrs-es queries are registered: views are fed by the projector from
//! the log, never by the after-commit dispatch that a crash can lose (DESIGN decision 3).

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, CqrsFramework, EventStore};
use konsortium_projections::event_log::upcasters;
use konsortium_projections::Db;
use postgres_es::{PostgresCqrs, PostgresEventRepository};
use sqlite_es::{SqliteCqrs, SqliteEventRepository};
use std::collections::HashMap;

pub enum AggregateStore<A: Aggregate> {
    Postgres(PostgresCqrs<A>, sqlx::PgPool),
    Sqlite(SqliteCqrs<A>, sqlx::SqlitePool),
}

impl<A> AggregateStore<A>
where
    A: Aggregate<Services = ()> + 'static,
{
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Postgres(pool) => {
                let store = PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters());
                AggregateStore::Postgres(CqrsFramework::new(store, vec![], ()), pool.clone())
            }
            Db::Sqlite(pool) => {
                let store = PersistedEventStore::new_event_store(SqliteEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters());
                AggregateStore::Sqlite(CqrsFramework::new(store, vec![], ()), pool.clone())
            }
        }
    }

    /// Decides and stores a command's events, with `metadata` (who, when, which request) on each.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: HashMap<String, String>,
    ) -> Result<(), AggregateError<A::Error>> {
        match self {
            AggregateStore::Postgres(cqrs, _) => cqrs.execute_with_metadata(id, command, metadata).await,
            AggregateStore::Sqlite(cqrs, _) => cqrs.execute_with_metadata(id, command, metadata).await,
        }
    }

    /// The aggregate's current state, folded from its events (the default state if it has none).
    pub async fn load(&self, id: &str) -> Result<A, AggregateError<A::Error>> {
        match self {
            AggregateStore::Postgres(_, pool) => {
                let store = PersistedEventStore::<_, A>::new_event_store(PostgresEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters());
                let mut context = store.load_aggregate(id).await?;
                Ok(std::mem::take(context.aggregate()))
            }
            AggregateStore::Sqlite(_, pool) => {
                let store = PersistedEventStore::<_, A>::new_event_store(SqliteEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters());
                let mut context = store.load_aggregate(id).await?;
                Ok(std::mem::take(context.aggregate()))
            }
        }
    }
}
