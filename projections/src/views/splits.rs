//! The split of each agreement across members: `view_splits` keeps each split's state (what its
//! events fold into) and `view_allocations` one row per allocation, which members and agreements
//! are looked up by.

use super::query::{Scope, Select};
use crate::bind_args;
use crate::db::{Db, DbError, Tx};
use crate::event_log::StoredEvent;
use crate::on_tx;
use crate::projection::{
    docs_of, table_sql, upsert_all, upsert_rows_sql, upsert_sql, Arg, Index, Projection, Tables, ROWS_PER_STATEMENT,
};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::split::{Allocation, SplitEvent, SubContractSplit};
use std::collections::HashMap;

pub const SPLITS_TABLE: &str = "view_splits";
pub const ALLOCATIONS_TABLE: &str = "view_allocations";

pub const SPLIT_COLUMNS: &[&str] = &["id", "doc", "position"];
pub const ALLOCATION_COLUMNS: &[&str] =
    &["agreement_id", "allocation_id", "ordinal", "member_id", "role", "start_date", "end_date", "doc", "position"];

const ALLOCATION_INDEXES: &[Index] =
    &[Index::new("agreement", "agreement_id, ordinal"), Index::new("member", "member_id, agreement_id")];

/// Splits by agreement id, and their allocations one row each (`doc` holds the allocation's versions
/// and the places opened under it).
pub struct SplitProjection;

#[async_trait]
impl Projection for SplitProjection {
    fn name(&self) -> &'static str {
        "splits"
    }

    fn version(&self) -> u32 {
        2
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[SubContractSplit::TYPE]
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![SPLITS_TABLE, ALLOCATIONS_TABLE]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        let split_columns: Vec<String> =
            ["id TEXT NOT NULL", "doc TEXT NOT NULL", "position BIGINT NOT NULL"].map(String::from).to_vec();
        let allocation_columns: Vec<String> = [
            "agreement_id TEXT NOT NULL",
            "allocation_id TEXT NOT NULL",
            "ordinal BIGINT NOT NULL",
            "member_id TEXT NOT NULL",
            "role TEXT",
            "start_date TEXT NOT NULL",
            "end_date TEXT",
            "doc TEXT NOT NULL",
            "position BIGINT NOT NULL",
        ]
        .map(String::from)
        .to_vec();
        let mut sql = table_sql(&tables.name(SPLITS_TABLE), &split_columns, "id", &[]);
        sql.extend(table_sql(
            &tables.name(ALLOCATIONS_TABLE),
            &allocation_columns,
            "agreement_id, allocation_id",
            ALLOCATION_INDEXES,
        ));
        sql
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        if event.aggregate_type != SubContractSplit::TYPE {
            return Ok(());
        }
        let payload: SplitEvent = event.decode()?;
        let splits = tables.name(SPLITS_TABLE);
        let allocations = tables.name(ALLOCATIONS_TABLE);
        let agreement_id = event.aggregate_id.as_str();
        let position = event.checkpoint.position;

        let select = format!("SELECT doc FROM {splits} WHERE id = $1");
        let current: Option<String> =
            on_tx!(tx, conn => sqlx::query_scalar(&select).bind(agreement_id).fetch_optional(conn).await)?;
        let before: SubContractSplit = match current {
            Some(doc) => serde_json::from_str(&doc)?,
            None => SubContractSplit::default(),
        };
        let mut after = before.clone();
        after.apply(payload);

        let split_args = [Arg::text(agreement_id), Arg::text(serde_json::to_string(&after)?), Arg::int(position)];
        let upsert_split = upsert_sql(&splits, SPLIT_COLUMNS, &["id"]);
        on_tx!(tx, conn => bind_args!(sqlx::query(&upsert_split), &split_args).execute(conn).await.map(|_| ()))?;

        // Only the allocations the event changed get a new row (and position).
        let upsert_allocation = upsert_sql(&allocations, ALLOCATION_COLUMNS, &["agreement_id", "allocation_id"]);
        for (ordinal, allocation) in after.allocations.iter().enumerate() {
            if before.allocations.get(ordinal) == Some(allocation) {
                continue;
            }
            let args = allocation_args(agreement_id, ordinal, allocation, position)?;
            on_tx!(tx, conn => bind_args!(sqlx::query(&upsert_allocation), &args).execute(conn).await.map(|_| ()))?;
        }
        let delete = format!("DELETE FROM {allocations} WHERE agreement_id = $1 AND allocation_id = $2");
        for gone in before.allocations.iter().filter(|old| !after.allocations.iter().any(|new| new.id == old.id)) {
            on_tx!(tx, conn => sqlx::query(&delete)
                .bind(agreement_id)
                .bind(&gone.id)
                .execute(conn)
                .await
                .map(|_| ()))?;
        }
        Ok(())
    }

    /// Folds a batch in memory and writes each split once: a split's document holds every place
    /// slot of its agreement, so reading and writing it per event made this projection the slowest
    /// to rebuild (1 741 events/s on the national data set). Rows come out as [`apply`](Self::apply)
    /// writes them, event by event: an allocation row carries the position of the last event that
    /// changed it.
    async fn apply_batch(&self, tx: &mut Tx, tables: Tables, events: &[StoredEvent]) -> Result<(), DbError> {
        let splits = tables.name(SPLITS_TABLE);
        let allocations = tables.name(ALLOCATIONS_TABLE);
        let ours: Vec<&StoredEvent> = events.iter().filter(|e| e.aggregate_type == SubContractSplit::TYPE).collect();
        let mut order: Vec<&str> = Vec::new();
        let mut folds: HashMap<&str, Fold> = HashMap::new();
        for event in &ours {
            if !folds.contains_key(event.aggregate_id.as_str()) {
                folds.insert(event.aggregate_id.as_str(), Fold::default());
                order.push(event.aggregate_id.as_str());
            }
        }
        for (id, doc) in docs_of(tx, &splits, "id", &order).await? {
            if let Some(fold) = folds.get_mut(id.as_str()) {
                fold.start = serde_json::from_str(&doc)?;
                fold.now = fold.start.clone();
            }
        }
        for event in &ours {
            let payload: SplitEvent = event.decode()?;
            let Some(fold) = folds.get_mut(event.aggregate_id.as_str()) else { continue };
            let before = fold.now.allocations.clone();
            fold.now.apply(payload);
            fold.position = event.checkpoint.position;
            for (ordinal, allocation) in fold.now.allocations.iter().enumerate() {
                if before.get(ordinal) != Some(allocation) {
                    fold.changed.insert(ordinal, event.checkpoint.position);
                }
            }
        }

        for ids in order.chunks(ROWS_PER_STATEMENT) {
            let mut args = Vec::with_capacity(ids.len() * SPLIT_COLUMNS.len());
            for id in ids {
                let Some(fold) = folds.get(id) else { continue };
                args.extend([Arg::text(*id), Arg::text(serde_json::to_string(&fold.now)?), Arg::int(fold.position)]);
            }
            let upsert = upsert_rows_sql(&splits, SPLIT_COLUMNS, &["id"], ids.len());
            let upsert = tx.sql(upsert);
            on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|_| ()))?;
        }
        let mut rows: Vec<Arg> = Vec::new();
        let delete = format!("DELETE FROM {allocations} WHERE agreement_id = $1 AND allocation_id = $2");
        for id in &order {
            let Some(fold) = folds.get(id) else { continue };
            for (ordinal, position) in &fold.changed {
                let Some(allocation) = fold.now.allocations.get(*ordinal) else { continue };
                rows.extend(allocation_args(id, *ordinal, allocation, *position)?);
            }
            for gone in fold.start.allocations.iter().filter(|old| !fold.now.allocations.iter().any(|n| n.id == old.id))
            {
                on_tx!(tx, conn => sqlx::query(&delete)
                    .bind(*id)
                    .bind(&gone.id)
                    .execute(conn)
                    .await
                    .map(|_| ()))?;
            }
        }
        upsert_all(tx, &allocations, ALLOCATION_COLUMNS, &["agreement_id", "allocation_id"], &rows).await
    }
}

/// A split folded through a batch: as the batch found it, as it leaves it, and which allocations
/// (by ordinal) changed, at which event's position.
#[derive(Default)]
struct Fold {
    start: SubContractSplit,
    now: SubContractSplit,
    position: i64,
    changed: HashMap<usize, i64>,
}

/// An allocation row's values in [`ALLOCATION_COLUMNS`] order.
fn allocation_args(
    agreement_id: &str,
    ordinal: usize,
    allocation: &Allocation,
    position: i64,
) -> Result<[Arg; 9], DbError> {
    Ok([
        Arg::text(agreement_id),
        Arg::text(allocation.id.as_str()),
        Arg::int(i64::try_from(ordinal).unwrap_or(i64::MAX)),
        Arg::text(allocation.member_id.as_str()),
        Arg::opt_text(allocation.role.as_deref()),
        Arg::text(allocation.period.start.to_string()),
        Arg::opt_text(allocation.period.end),
        Arg::text(serde_json::to_string(allocation)?),
        Arg::int(position),
    ])
}

/// One allocation and the agreement it belongs to.
#[derive(Debug, Clone)]
pub struct AllocationRow {
    pub agreement_id: String,
    pub allocation: Allocation,
}

/// Which allocations to list.
#[derive(Debug, Clone, Default)]
pub struct AllocationFilter {
    pub scope: Scope,
    pub agreement_id: Option<String>,
    pub member_id: Option<String>,
}

/// Allocations by agreement, each agreement's in the order of its split.
pub async fn list(db: &Db, filter: &AllocationFilter) -> Result<Vec<AllocationRow>, DbError> {
    let mut select = Select::new(ALLOCATIONS_TABLE, "allocation_id", "agreement_id");
    select
        .scope(
            &filter.scope,
            "member_id = {}",
            "agreement_id IN (SELECT g.id FROM view_agreements g WHERE g.buyer_org_number = {})",
        )
        .eq("agreement_id", filter.agreement_id.as_deref())
        .eq("member_id", filter.member_id.as_deref())
        .order_by("agreement_id, ordinal");
    let rows = select.all::<Allocation>(db).await?;
    Ok(rows.into_iter().map(|row| AllocationRow { agreement_id: row.sort_key, allocation: row.state }).collect())
}

/// The allocations of one agreement's split that are in scope, in the split's order (none when
/// nothing is allocated yet).
pub async fn of_agreement(db: &Db, agreement_id: &str, scope: &Scope) -> Result<Vec<Allocation>, DbError> {
    let filter =
        AllocationFilter { scope: scope.clone(), agreement_id: Some(agreement_id.to_string()), member_id: None };
    Ok(list(db, &filter).await?.into_iter().map(|row| row.allocation).collect())
}

/// One agreement's whole split as its events fold into it (none before anything is allocated):
/// what members have committed to, such as employments, lives on the split rather than on an
/// allocation row.
pub async fn split_of(db: &Db, agreement_id: &str) -> Result<Option<SubContractSplit>, DbError> {
    let sql = format!("SELECT doc FROM {SPLITS_TABLE} WHERE id = $1");
    let doc: Option<String> =
        crate::on_db!(db, pool => sqlx::query_scalar(&sql).bind(agreement_id).fetch_optional(pool).await)?;
    Ok(doc.map(|doc| serde_json::from_str(&doc)).transpose()?)
}
