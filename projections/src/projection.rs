//! What a read model is: a name, a version, the aggregate types it reads, its tables, and how one
//! event changes them.

use crate::db::{DbError, Tx};
use crate::event_log::StoredEvent;
use crate::on_tx;
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::delivery::DeliveryMonth;
use konsortium_domain::invoice::{Consortium, Invoice, InvoiceSeries};
use konsortium_domain::member::Member;
use konsortium_domain::participant::Participant;
use konsortium_domain::place::TrainingPlace;
use konsortium_domain::reimbursement::MonthlyReimbursement;
use konsortium_domain::split::SubContractSplit;
use std::marker::PhantomData;

/// Every aggregate type this release stores, for a projection that reads the whole log.
pub const EVERY_AGGREGATE_TYPE: &[&str] = &[
    Member::TYPE,
    FrameworkAgreement::TYPE,
    SubContractSplit::TYPE,
    TrainingPlace::TYPE,
    Participant::TYPE,
    MonthlyReimbursement::TYPE,
    Consortium::TYPE,
    InvoiceSeries::TYPE,
    Invoice::TYPE,
    DeliveryMonth::TYPE,
];

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
/// migrations: `create_sql` builds them (and their indexes) for the live copy and for a rebuild alike.
#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// The layout of the tables and what their rows mean. Raise it whenever either changes: a server
    /// that finds another version stored next to the checkpoint rebuilds the projection on start.
    fn version(&self) -> u32;
    /// The aggregate types whose events this projection reads; the projector reads no others for it.
    fn aggregate_types(&self) -> &'static [&'static str];
    /// Base names of the tables this projection owns.
    fn tables(&self) -> Vec<&'static str>;
    /// `CREATE TABLE IF NOT EXISTS` / `CREATE INDEX IF NOT EXISTS` statements (portable SQL) for one
    /// copy. Index names start with their table's name, so a rebuilt copy's indexes can be renamed
    /// with it.
    fn create_sql(&self, tables: Tables) -> Vec<String>;
    /// Applies one event (of one of `aggregate_types`) inside the projector's transaction.
    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError>;

    /// Applies a batch of events in order; a projection that can fold several events of one row in
    /// memory overrides this to write each row once.
    async fn apply_batch(&self, tx: &mut Tx, tables: Tables, events: &[StoredEvent]) -> Result<(), DbError> {
        for event in events {
            self.apply(tx, tables, event).await?;
        }
        Ok(())
    }
}

/// Rows read or written per statement when a batch is applied at once: well inside both databases'
/// limits on bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 200;

/// A value bound to a statement: text or integer, either possibly NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Arg {
    pub fn text(value: impl Into<String>) -> Arg {
        Arg::Text(Some(value.into()))
    }

    pub fn opt_text<T: ToString>(value: Option<T>) -> Arg {
        Arg::Text(value.map(|v| v.to_string()))
    }

    pub fn int(value: impl Into<i64>) -> Arg {
        Arg::Int(Some(value.into()))
    }
}

/// Binds every [`Arg`] of a slice to a sqlx query, in order; works for either database's query type.
#[macro_export]
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::projection::Arg::Text(value) => query.bind(value.clone()),
                $crate::projection::Arg::Int(value) => query.bind(*value),
            };
        }
        query
    }};
}

/// A column of a [`RowProjection`]: its name and its portable SQL type (`TEXT`, `BIGINT NOT NULL`…).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub sql_type: &'static str,
}

impl Column {
    pub const fn new(name: &'static str, sql_type: &'static str) -> Column {
        Column { name, sql_type }
    }
}

/// An index of a [`RowProjection`]: `{table}_by_{suffix}` on `columns` (comma-separated).
#[derive(Debug, Clone, Copy)]
pub struct Index {
    pub suffix: &'static str,
    pub columns: &'static str,
}

impl Index {
    pub const fn new(suffix: &'static str, columns: &'static str) -> Index {
        Index { suffix, columns }
    }
}

/// A view with one row per aggregate: the columns users filter and sort by, computed from the state
/// the aggregate's own `apply` folds, and that state as a JSON `doc` for the nested detail.
pub struct RowProjection<A> {
    pub name: &'static str,
    pub version: u32,
    pub table: &'static str,
    /// The column holding the aggregate id (the primary key).
    pub key: &'static str,
    pub columns: &'static [Column],
    pub indexes: &'static [Index],
    /// The values of `columns`, in their order, for an aggregate's state.
    pub values: fn(&A) -> Vec<Arg>,
    /// A one-row table holding how many rows `listed` accepts: an unfiltered list's `totalCount`
    /// reads it instead of counting a view of a hundred thousand rows on every request.
    pub totals: &'static str,
    /// Whether a row shows in the view's lists (the condition its list query always applies).
    pub listed: fn(&A) -> bool,
    /// What the row's `doc` leaves out of the state, if anything: parts only a single-item read
    /// needs, which it takes from the event log. `values` and `listed` must give the same answer
    /// for the trimmed state, since later events are applied to it.
    pub trim: Option<fn(&mut A)>,
    pub aggregate: PhantomData<fn() -> A>,
}

impl<A> RowProjection<A> {
    /// Every column of the table in order: key, the columns, `doc`, `position`.
    pub fn all_columns(&self) -> Vec<&'static str> {
        let mut all = vec![self.key];
        all.extend(self.columns.iter().map(|c| c.name));
        all.extend(["doc", "position"]);
        all
    }
}

/// `CREATE TABLE` and `CREATE INDEX` statements for a table of the given columns and indexes.
pub(crate) fn table_sql(table: &str, columns: &[String], primary_key: &str, indexes: &[Index]) -> Vec<String> {
    let mut sql =
        vec![format!("CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY ({primary_key}))", columns.join(", "))];
    sql.extend(
        indexes.iter().map(|index| {
            format!("CREATE INDEX IF NOT EXISTS {table}_by_{} ON {table} ({})", index.suffix, index.columns)
        }),
    );
    sql
}

#[async_trait]
impl<A: Aggregate + 'static> Projection for RowProjection<A> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        // A promoted constant: one slice per aggregate type, living as long as the program.
        struct Types<A>(PhantomData<A>);
        impl<A: Aggregate> Types<A> {
            const TYPES: &'static [&'static str] = &[A::TYPE];
        }
        Types::<A>::TYPES
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![self.table, self.totals]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        let mut columns = vec![format!("{} TEXT NOT NULL", self.key)];
        columns.extend(self.columns.iter().map(|c| format!("{} {}", c.name, c.sql_type)));
        columns.extend(["doc TEXT NOT NULL".to_string(), "position BIGINT NOT NULL".to_string()]);
        let mut sql = table_sql(&tables.name(self.table), &columns, self.key, self.indexes);
        let totals = tables.name(self.totals);
        sql.push(format!("CREATE TABLE IF NOT EXISTS {totals} (n BIGINT NOT NULL)"));
        sql.push(format!("INSERT INTO {totals} (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {totals})"));
        sql
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        if event.aggregate_type != A::TYPE {
            return Ok(());
        }
        let table = tables.name(self.table);
        let payload: A::Event = event.decode()?;
        let key = self.key;
        let select = format!("SELECT doc FROM {table} WHERE {key} = $1");
        let current: Option<String> =
            on_tx!(tx, conn => sqlx::query_scalar(&select).bind(&event.aggregate_id).fetch_optional(conn).await)?;
        let existed = current.is_some();
        let mut state: A = match current {
            Some(doc) => serde_json::from_str(&doc)?,
            None => A::default(),
        };
        let was_listed = existed && (self.listed)(&state);
        state.apply(payload);
        let delta = i64::from((self.listed)(&state)) - i64::from(was_listed);

        let args = self.row_args(&event.aggregate_id, &mut state, event.checkpoint.position)?;
        let upsert = upsert_sql(&table, &self.all_columns(), &[key]);
        on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|r| r.rows_affected()))?;
        self.add_to_totals(tx, tables, delta).await
    }

    /// Reads every row the batch touches in a few statements, folds the events in memory, and
    /// writes each row once: a rebuild then costs a handful of round trips per batch, not two per
    /// event.
    async fn apply_batch(&self, tx: &mut Tx, tables: Tables, events: &[StoredEvent]) -> Result<(), DbError> {
        let table = tables.name(self.table);
        let key = self.key;
        let mut order: Vec<&str> = Vec::new();
        let mut states: std::collections::HashMap<&str, (A, i64)> = std::collections::HashMap::new();
        // Rows listed before the batch, less those listed after it: the change to the totals.
        let mut delta = 0i64;
        let ours: Vec<&StoredEvent> = events.iter().filter(|e| e.aggregate_type == A::TYPE).collect();
        for event in &ours {
            if !states.contains_key(event.aggregate_id.as_str()) {
                states.insert(event.aggregate_id.as_str(), (A::default(), 0));
                order.push(event.aggregate_id.as_str());
            }
        }
        for (id, doc) in docs_of(tx, &table, key, &order).await? {
            if let Some(entry) = states.get_mut(id.as_str()) {
                entry.0 = serde_json::from_str(&doc)?;
                delta -= i64::from((self.listed)(&entry.0));
            }
        }
        for event in &ours {
            let payload: A::Event = event.decode()?;
            if let Some((state, position)) = states.get_mut(event.aggregate_id.as_str()) {
                state.apply(payload);
                *position = event.checkpoint.position;
            }
        }
        let columns = self.all_columns();
        for ids in order.chunks(ROWS_PER_STATEMENT) {
            let mut args = Vec::with_capacity(ids.len() * columns.len());
            for id in ids {
                let Some((state, position)) = states.get_mut(id) else { continue };
                delta += i64::from((self.listed)(state));
                args.extend(self.row_args(id, state, *position)?);
            }
            let upsert = upsert_rows_sql(&table, &columns, &[key], ids.len());
            let upsert = tx.sql(upsert);
            on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        self.add_to_totals(tx, tables, delta).await
    }
}

impl<A: Aggregate> RowProjection<A> {
    /// A row's values in [`all_columns`](Self::all_columns) order: the key, the columns computed
    /// from the whole state, then the `doc` of the state as [`trim`](Self::trim) leaves it.
    fn row_args(&self, id: &str, state: &mut A, position: i64) -> Result<Vec<Arg>, DbError> {
        let mut args = vec![Arg::text(id)];
        let values = (self.values)(state);
        debug_assert_eq!(values.len(), self.columns.len(), "{}: one value per column", self.name);
        args.extend(values);
        if let Some(trim) = self.trim {
            trim(state);
        }
        args.push(Arg::text(serde_json::to_string(state)?));
        args.push(Arg::int(position));
        Ok(args)
    }
}

impl<A> RowProjection<A> {
    async fn add_to_totals(&self, tx: &mut Tx, tables: Tables, delta: i64) -> Result<(), DbError> {
        if delta == 0 {
            return Ok(());
        }
        let sql = format!("UPDATE {} SET n = n + $1", tables.name(self.totals));
        on_tx!(tx, conn => sqlx::query(&sql).bind(delta).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// The `(key, doc)` of each row of `table` whose key is one of `ids`, a few statements for a whole
/// batch rather than one per event.
pub(crate) async fn docs_of<S: AsRef<str> + Sync>(
    tx: &mut Tx,
    table: &str,
    key: &str,
    ids: &[S],
) -> Result<Vec<(String, String)>, DbError> {
    select_in(tx, &format!("SELECT {key}, doc FROM {table} WHERE {key} IN"), ids).await
}

/// The rows `select` (ending in `… IN`) finds for the keys `ids`, a statement per
/// [`ROWS_PER_STATEMENT`] keys: a batch reads what it needs in a few round trips, not one per event.
pub(crate) async fn select_in<T, S>(tx: &mut Tx, select: &str, ids: &[S]) -> Result<Vec<T>, DbError>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    S: AsRef<str> + Sync,
{
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("{select} ({})", placeholders(chunk.len()));
        let sql = tx.sql(sql);
        let rows: Vec<T> = on_tx!(tx, conn => {
            let mut query = sqlx::query_as(&sql);
            for id in chunk {
                query = query.bind(id.as_ref());
            }
            query.fetch_all(conn).await
        })?;
        found.extend(rows);
    }
    Ok(found)
}

/// Upserts rows given as one flat list of values (`columns.len()` a row, in column order), a
/// statement per [`ROWS_PER_STATEMENT`] rows.
pub(crate) async fn upsert_all(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    key: &[&str],
    values: &[Arg],
) -> Result<(), DbError> {
    for chunk in values.chunks(ROWS_PER_STATEMENT * columns.len()) {
        let upsert = upsert_rows_sql(table, columns, key, chunk.len() / columns.len());
        let upsert = tx.sql(upsert);
        on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), chunk).execute(conn).await.map(|_| ()))?;
    }
    Ok(())
}

/// `$1, $2, …, $count`: the placeholders of an `IN (…)` list.
pub(crate) fn placeholders(count: usize) -> String {
    (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// `($1, …, $width), ($width+1, …)`: `rows` tuples of `width` placeholders, numbered row by row.
pub(crate) fn values_sql(width: usize, rows: usize) -> String {
    use std::fmt::Write;
    // Written into one string: a rebuild builds thousands of these, and a string per placeholder
    // made building them a tenth of the utilisation view's rebuild.
    let mut sql = String::with_capacity(rows * width * 8);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for n in 1..=width {
            if n > 1 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", row * width + n);
        }
        sql.push(')');
    }
    sql
}

/// `INSERT INTO table (columns) VALUES (…), (…) {on_conflict}` of `rows` rows, numbered `$1…` row
/// by row in column order: a whole batch of rows in one statement.
pub(crate) fn insert_rows_sql(table: &str, columns: &[&str], rows: usize, on_conflict: &str) -> String {
    format!("INSERT INTO {table} ({}) VALUES {} {on_conflict}", columns.join(", "), values_sql(columns.len(), rows))
}

/// `INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE` of `rows` rows of every column.
pub(crate) fn upsert_rows_sql(table: &str, columns: &[&str], key: &[&str], rows: usize) -> String {
    let updates: Vec<String> =
        columns.iter().filter(|c| !key.contains(c)).map(|c| format!("{c} = excluded.{c}")).collect();
    insert_rows_sql(
        table,
        columns,
        rows,
        &format!("ON CONFLICT ({}) DO UPDATE SET {}", key.join(", "), updates.join(", ")),
    )
}

/// `INSERT … ON CONFLICT (key) DO UPDATE` of every column, with `$1…$n` in column order.
pub(crate) fn upsert_sql(table: &str, columns: &[&str], key: &[&str]) -> String {
    let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
    let updates: Vec<String> =
        columns.iter().filter(|c| !key.contains(c)).map(|c| format!("{c} = excluded.{c}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
        columns.join(", "),
        placeholders.join(", "),
        key.join(", "),
        updates.join(", ")
    )
}
