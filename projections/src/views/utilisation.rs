//! `view_utilisation`: place-days per agreement, member and month, as the difference each event made,
//! kept by the day the event was recorded. A month's figures are the sum of its rows; the figures
//! as the books stood at the end of a day are the sum of the rows recorded until then. Either is
//! one indexed range read and a `GROUP BY month`, however long the history: nothing is replayed on
//! a query.
//!
//! `view_utilisation_sources` keeps each agreement's, split's and place's state, so an event's
//! difference is computed from the state before it and after it (the domain's
//! `statistics::utilisation`). Rows are per agreement, member, month and recording day: a rebuild
//! of the national data set (12 000 places over ten years, appended on one day) writes one row per
//! agreement, member and month.

use crate::bind_args;
use crate::db::{Db, DbError, Tx};
use crate::event_log::StoredEvent;
use crate::projection::{
    docs_of, insert_rows_sql, table_sql, upsert_rows_sql, values_sql, Arg, Index, Projection, Tables,
};
use crate::{on_db, on_tx};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::calendar::Month;
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::place::TrainingPlace;
use konsortium_domain::split::SubContractSplit;
use konsortium_domain::statistics::utilisation::{self, Contributions, PlaceDays};
use std::collections::{BTreeMap, HashMap};
use time::Date;

pub const TABLE: &str = "view_utilisation";
pub const SOURCES_TABLE: &str = "view_utilisation_sources";

pub const COLUMNS: &[&str] =
    &["agreement_id", "month", "member_id", "recorded_on", "contracted", "allocated", "filled", "employed"];
pub const SOURCE_COLUMNS: &[&str] = &["source", "doc", "position"];
const KEY: &[&str] = &["agreement_id", "month", "member_id", "recorded_on"];
const INDEXES: &[Index] = &[Index::new("member", "member_id, month, recorded_on")];

/// The recording day of events written without one (none are, but a log imported from elsewhere
/// might be): before any `asOf`, so they always count.
const UNKNOWN_DAY: &str = "1900-01-01";

/// The calendar day in Sweden on which an event was recorded, from its metadata's `recorded_at`.
pub fn recorded_on(event: &StoredEvent) -> String {
    let Some(stamp) = event.metadata.get("recorded_at").and_then(|v| v.as_str()) else {
        return UNKNOWN_DAY.to_string();
    };
    let Ok(instant) = stamp.parse::<jiff::Timestamp>() else { return UNKNOWN_DAY.to_string() };
    let tz = jiff::tz::TimeZone::get("Europe/Stockholm").unwrap_or(jiff::tz::TimeZone::UTC);
    tz.to_datetime(instant).date().to_string()
}

/// Utilisation by agreement, member and month.
pub struct UtilisationProjection;

/// The state of one source, as its own aggregate.
enum Source {
    Agreement(FrameworkAgreement),
    Split(SubContractSplit),
    Place(TrainingPlace),
}

impl Source {
    fn empty(aggregate_type: &str) -> Option<Source> {
        match aggregate_type {
            FrameworkAgreement::TYPE => Some(Source::Agreement(FrameworkAgreement::default())),
            SubContractSplit::TYPE => Some(Source::Split(SubContractSplit::default())),
            TrainingPlace::TYPE => Some(Source::Place(TrainingPlace::default())),
            _ => None,
        }
    }

    fn load(aggregate_type: &str, doc: &str) -> Result<Option<Source>, DbError> {
        Ok(match aggregate_type {
            FrameworkAgreement::TYPE => Some(Source::Agreement(serde_json::from_str(doc)?)),
            SubContractSplit::TYPE => Some(Source::Split(serde_json::from_str(doc)?)),
            TrainingPlace::TYPE => Some(Source::Place(serde_json::from_str(doc)?)),
            _ => None,
        })
    }

    fn doc(&self) -> Result<String, DbError> {
        Ok(match self {
            Source::Agreement(a) => serde_json::to_string(a)?,
            Source::Split(s) => serde_json::to_string(s)?,
            Source::Place(p) => serde_json::to_string(p)?,
        })
    }

    fn apply(&mut self, event: &StoredEvent) -> Result<(), DbError> {
        match self {
            Source::Agreement(a) => a.apply(event.decode()?),
            Source::Split(s) => s.apply(event.decode()?),
            Source::Place(p) => p.apply(event.decode()?),
        }
        Ok(())
    }

    fn contributions(&self) -> Contributions {
        match self {
            Source::Agreement(a) => utilisation::of_agreement(a),
            Source::Split(s) => utilisation::of_split(s),
            Source::Place(p) => utilisation::of_place(p),
        }
    }

    /// The agreement the source's place-days belong to (a split's id is its agreement's).
    fn agreement_id(&self, aggregate_id: &str) -> String {
        match self {
            Source::Place(p) => p.agreement_id.clone(),
            Source::Agreement(_) | Source::Split(_) => aggregate_id.to_string(),
        }
    }
}

fn source_key(event: &StoredEvent) -> String {
    format!("{}:{}", event.aggregate_type, event.aggregate_id)
}

/// Rows per statement when writing: 8 000 parameters, inside both databases' limits (65 535 and
/// 32 766). A rebuild writes about a dozen rows per event (an agreement's contracted days span up to
/// 120 months), and on PostgreSQL each statement is a round trip. (On SQLite statements this large
/// are as fast only with anonymous placeholders: see `Tx::sql`.)
const ROWS_PER_STATEMENT: usize = 1_000;

type Changes = BTreeMap<(String, String, String, String), PlaceDays>;

#[async_trait]
impl Projection for UtilisationProjection {
    fn name(&self) -> &'static str {
        "utilisation"
    }

    /// 2: no row whose figures sum to zero.
    fn version(&self) -> u32 {
        2
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[FrameworkAgreement::TYPE, SubContractSplit::TYPE, TrainingPlace::TYPE]
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![TABLE, SOURCES_TABLE]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        let columns: Vec<String> = [
            "agreement_id TEXT NOT NULL",
            "month TEXT NOT NULL",
            "member_id TEXT NOT NULL",
            "recorded_on TEXT NOT NULL",
            "contracted BIGINT NOT NULL",
            "allocated BIGINT NOT NULL",
            "filled BIGINT NOT NULL",
            "employed BIGINT NOT NULL",
        ]
        .map(String::from)
        .to_vec();
        let sources: Vec<String> =
            ["source TEXT NOT NULL", "doc TEXT NOT NULL", "position BIGINT NOT NULL"].map(String::from).to_vec();
        let mut sql = table_sql(&tables.name(TABLE), &columns, &KEY.join(", "), INDEXES);
        sql.extend(table_sql(&tables.name(SOURCES_TABLE), &sources, "source", &[]));
        sql
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        self.apply_batch(tx, tables, std::slice::from_ref(event)).await
    }

    /// Reads the states the batch touches in a few statements, folds the events in memory, sums
    /// their differences per row, and writes each state and each row once.
    async fn apply_batch(&self, tx: &mut Tx, tables: Tables, events: &[StoredEvent]) -> Result<(), DbError> {
        let sources_table = tables.name(SOURCES_TABLE);
        let ours: Vec<&StoredEvent> =
            events.iter().filter(|e| self.aggregate_types().contains(&e.aggregate_type.as_str())).collect();
        let mut order: Vec<String> = Vec::new();
        let mut states: HashMap<String, (Source, i64)> = HashMap::new();
        for event in &ours {
            let key = source_key(event);
            if !states.contains_key(&key) {
                if let Some(empty) = Source::empty(&event.aggregate_type) {
                    states.insert(key.clone(), (empty, 0));
                    order.push(key);
                }
            }
        }
        for (key, doc) in docs_of(tx, &sources_table, "source", &order).await? {
            let aggregate_type = key.split(':').next().unwrap_or_default();
            if let (Some(entry), Some(loaded)) = (states.get_mut(&key), Source::load(aggregate_type, &doc)?) {
                entry.0 = loaded;
            }
        }
        // A source's events of one recording day in this batch make one difference: its
        // contribution before the first of them against after the last. Computing a split's or an
        // agreement's whole contribution around every event made the rebuild quadratic in its size.
        let mut changes = Changes::new();
        let mut open_days: HashMap<String, OpenDay> = HashMap::new();
        for event in &ours {
            let key = source_key(event);
            let Some((state, position)) = states.get_mut(&key) else { continue };
            let day = recorded_on(event);
            match open_days.get(&key) {
                Some(open) if open.day == day => {}
                _ => {
                    if let Some(open) = open_days.remove(&key) {
                        open.close(state, &mut changes);
                    }
                    let aggregate_id = event.aggregate_id.clone();
                    open_days.insert(key.clone(), OpenDay { aggregate_id, day, before: state.contributions() });
                }
            }
            state.apply(event)?;
            *position = event.checkpoint.position;
        }
        for (key, open) in open_days {
            if let Some((state, _)) = states.get(&key) {
                open.close(state, &mut changes);
            }
        }
        for keys in order.chunks(ROWS_PER_STATEMENT) {
            let mut args = Vec::with_capacity(keys.len() * SOURCE_COLUMNS.len());
            for key in keys {
                let Some((state, position)) = states.get(key) else { continue };
                args.extend([Arg::text(key.as_str()), Arg::text(state.doc()?), Arg::int(*position)]);
            }
            let upsert = upsert_rows_sql(&sources_table, SOURCE_COLUMNS, &["source"], keys.len());
            let upsert = tx.sql(upsert);
            on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|_| ()))?;
        }
        // A row whose figures sum to zero is removed below, so the rows are the same however the
        // log was batched (a rebuild must equal the live view row for row).
        let rows: Vec<_> = changes.into_iter().collect();
        let table = tables.name(TABLE);
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut args = Vec::with_capacity(chunk.len() * COLUMNS.len());
            for ((agreement_id, month, member_id, day), c) in chunk {
                args.extend([
                    Arg::text(agreement_id.as_str()),
                    Arg::text(month.as_str()),
                    Arg::text(member_id.as_str()),
                    Arg::text(day.as_str()),
                    Arg::int(c.contracted),
                    Arg::int(c.allocated),
                    Arg::int(c.filled),
                    Arg::int(c.employed),
                ]);
            }
            let add = add_rows_sql(&table, chunk.len());
            let add = tx.sql(add);
            let zero: Vec<ZeroRow> = on_tx!(tx, conn => bind_args!(sqlx::query_as(&add), &args).fetch_all(conn).await)?;
            let keys: Vec<Arg> = zero
                .into_iter()
                .filter_map(|(agreement_id, month, member_id, day, zero)| {
                    (zero == 1).then_some([agreement_id, month, member_id, day])
                })
                .flatten()
                .map(Arg::text)
                .collect();
            if !keys.is_empty() {
                let remove = remove_zero_rows_sql(&table, keys.len() / KEY.len());
                let remove = tx.sql(remove);
                on_tx!(tx, conn => bind_args!(sqlx::query(&remove), &keys).execute(conn).await.map(|_| ()))?;
            }
        }
        Ok(())
    }
}

/// A source's events of one recording day, from its contribution before the first of them.
struct OpenDay {
    aggregate_id: String,
    day: String,
    before: Contributions,
}

impl OpenDay {
    /// Adds what the day's events changed, the state now against before them, to `changes`.
    fn close(self, state: &Source, changes: &mut Changes) {
        let agreement_id = state.agreement_id(&self.aggregate_id);
        for ((member_id, month), change) in utilisation::difference(&self.before, &state.contributions()) {
            let key = (agreement_id.clone(), month.to_string(), member_id, self.day.clone());
            let sum = changes.entry(key).or_default();
            *sum = PlaceDays {
                contracted: sum.contracted + change.contracted,
                allocated: sum.allocated + change.allocated,
                filled: sum.filled + change.filled,
                employed: sum.employed + change.employed,
            };
        }
    }
}

/// Deletes those of `rows` rows (keys bound in order) whose figures are all zero.
fn remove_zero_rows_sql(table: &str, rows: usize) -> String {
    format!(
        "DELETE FROM {table} WHERE contracted = 0 AND allocated = 0 AND filled = 0 AND employed = 0 \
         AND ({}) IN (VALUES {})",
        KEY.join(", "),
        values_sql(KEY.len(), rows)
    )
}

/// A written row's key, and 1 when its figures now sum to zero.
type ZeroRow = (String, String, String, String, i64);

/// `INSERT … ON CONFLICT (key) DO UPDATE` that adds the figures to a row already there, returning
/// each row's key and whether its figures are now all zero (see [`ZeroRow`]).
fn add_rows_sql(table: &str, rows: usize) -> String {
    let sums: Vec<String> = ["contracted", "allocated", "filled", "employed"]
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    insert_rows_sql(
        table,
        COLUMNS,
        rows,
        &format!(
            "ON CONFLICT ({}) DO UPDATE SET {} RETURNING {}, CAST(CASE WHEN contracted = 0 AND allocated = 0 \
             AND filled = 0 AND employed = 0 THEN 1 ELSE 0 END AS BIGINT)",
            KEY.join(", "),
            sums.join(", "),
            KEY.join(", ")
        ),
    )
}

/// Whose utilisation: one agreement, every agreement of a buyer, or one member's share of all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Agreement(String),
    Buyer(OrgNumber),
    Member(String),
}

/// One month's place-days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRow {
    pub month: Month,
    pub days: PlaceDays,
}

/// Every month from `from` to `to`, zero where nothing counted, as the books stood at the end of
/// `as_of` (every event when `None`). For a member, the contracted place-days are its allocation:
/// what it has undertaken to the consortium.
pub async fn months(
    db: &Db,
    subject: &Subject,
    from: Month,
    to: Month,
    as_of: Option<Date>,
) -> Result<Vec<MonthRow>, DbError> {
    let (condition, value) = match subject {
        Subject::Agreement(id) => ("agreement_id = $1", id.clone()),
        Subject::Buyer(org) => {
            ("agreement_id IN (SELECT g.id FROM view_agreements g WHERE g.buyer_org_number = $1)", org.to_string())
        }
        Subject::Member(id) => ("member_id = $1", id.clone()),
    };
    let as_of_condition = if as_of.is_some() { " AND recorded_on <= $4" } else { "" };
    let sql = format!(
        "SELECT month, CAST(SUM(contracted) AS BIGINT), CAST(SUM(allocated) AS BIGINT), \
         CAST(SUM(filled) AS BIGINT), CAST(SUM(employed) AS BIGINT) FROM {TABLE} \
         WHERE {condition} AND month >= $2 AND month <= $3{as_of_condition} GROUP BY month ORDER BY month"
    );
    let (from_text, to_text, as_of_text) = (from.to_string(), to.to_string(), as_of.map(|d| d.to_string()));
    let rows: Vec<(String, i64, i64, i64, i64)> = on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql).bind(&value).bind(&from_text).bind(&to_text);
        if let Some(day) = &as_of_text {
            query = query.bind(day);
        }
        query.fetch_all(pool).await
    })?;
    let found: HashMap<String, PlaceDays> = rows
        .into_iter()
        .map(|(month, contracted, allocated, filled, employed)| {
            (month, PlaceDays { contracted, allocated, filled, employed })
        })
        .collect();
    let mut answer = Vec::new();
    let mut month = from;
    loop {
        let mut days = found.get(&month.to_string()).copied().unwrap_or_default();
        if matches!(subject, Subject::Member(_)) {
            days.contracted = days.allocated;
        }
        answer.push(MonthRow { month, days });
        let next = month.next();
        if month >= to || next == month {
            break;
        }
        month = next;
    }
    Ok(answer)
}
