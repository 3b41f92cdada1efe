//! Paging, cursors and scopes, and the SQL they become on either store.
//!
//! Pages are keyset pages: rows are ordered by a stable `(sort column, key)` pair and a page starts
//! after the pair its cursor encodes, so rows written between two requests shift nothing and a
//! deep page costs what the first one does.

use crate::bind_args;
use crate::db::{Db, DbError};
use crate::on_tx;
use crate::projection::Arg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use konsortium_domain::org_number::OrgNumber;
use serde::de::DeserializeOwned;

/// Rows per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The most rows one page holds.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Whose rows a caller may see. Staff see everything; a member enterprise its own rows; a buyer the
/// rows of its own agreements. Applied as a `WHERE` clause by every query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    All,
    /// A member enterprise, by member id.
    Member(String),
    /// A public buyer, by organisation number.
    Buyer(OrgNumber),
}

/// A position in a view's order: the sort column's value and the row's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

impl Cursor {
    /// Opaque text for clients (URL-safe base64 of the pair).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&[&self.key, &self.id]).unwrap_or_default())
    }

    /// The cursor `encode` made, or `None` for anything else.
    pub fn decode(text: &str) -> Option<Cursor> {
        if text.len() > 4_096 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let [key, id]: [String; 2] = serde_json::from_slice(&bytes).ok()?;
        Some(Cursor { key, id })
    }
}

/// Why page arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("a page holds 0 to {MAX_PAGE_SIZE} rows, not {0}")]
    First(i64),
    #[error("not a cursor this server issued")]
    After,
}

impl PageError {
    /// The argument at fault, as the API names it.
    pub fn field(&self) -> &'static str {
        match self {
            PageError::First(_) => "first",
            PageError::After => "after",
        }
    }
}

/// Which page to read: at most `first` rows after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    first: u32,
    after: Option<Cursor>,
    /// Whether to count every matching row: a scan of the whole view when nothing narrows it, so
    /// only done for callers that show the count.
    count: bool,
}

impl Default for Page {
    fn default() -> Self {
        Page { first: DEFAULT_PAGE_SIZE, after: None, count: true }
    }
}

impl Page {
    /// `first` defaults to [`DEFAULT_PAGE_SIZE`] and may not exceed [`MAX_PAGE_SIZE`]; `after` must be
    /// a cursor a page gave out.
    pub fn new(first: Option<i64>, after: Option<&str>) -> Result<Page, PageError> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => u32::try_from(n).ok().filter(|n| *n <= MAX_PAGE_SIZE).ok_or(PageError::First(n))?,
        };
        let after = after.map(|text| Cursor::decode(text).ok_or(PageError::After)).transpose()?;
        Ok(Page { first, after, count: true })
    }

    /// The same page, counting all matching rows only when `count` is true.
    pub fn counting(self, count: bool) -> Page {
        Page { count, ..self }
    }

    pub fn first(&self) -> u32 {
        self.first
    }

    pub fn after(&self) -> Option<&Cursor> {
        self.after.as_ref()
    }
}

/// One page of rows, how many rows match in all, and whether more follow this page.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    /// All matching rows on every page; `None` when the page was read without counting.
    pub total: Option<i64>,
    pub has_next: bool,
}

/// A row of a one-row-per-aggregate view: the aggregate's id, its place in the view's order and its
/// state.
#[derive(Debug, Clone)]
pub struct Row<A> {
    pub id: String,
    pub sort_key: String,
    pub state: A,
}

impl<A> Row<A> {
    /// The cursor of a page that ends with this row.
    pub fn cursor(&self) -> String {
        Cursor { key: self.sort_key.clone(), id: self.id.clone() }.encode()
    }
}

/// A `SELECT` on one view table being put together: conditions with their bound values.
#[derive(Debug, Clone)]
pub(crate) struct Select {
    table: &'static str,
    key: &'static str,
    sort: &'static str,
    /// `ORDER BY` of [`all`](Self::all) when not `(sort, key)`.
    order: Option<&'static str>,
    conditions: Vec<String>,
    args: Vec<Arg>,
    /// The one-row table counting the rows of this select as it stood when it was named, and how
    /// many conditions it had then: any condition added later (a scope, a filter, ids) narrows the
    /// rows, and they are counted.
    totals: Option<(&'static str, usize)>,
}

impl Select {
    /// Rows of `table`, keyed by `key`, in `(sort, key)` order.
    pub(crate) fn new(table: &'static str, key: &'static str, sort: &'static str) -> Select {
        Select { table, key, sort, order: None, conditions: Vec::new(), args: Vec::new(), totals: None }
    }

    /// Counts the rows the conditions so far select by reading `totals`, the count its projection
    /// keeps of them, instead of scanning the view, as long as no condition is added after this.
    pub(crate) fn counted_in(&mut self, totals: &'static str) -> &mut Self {
        self.totals = Some((totals, self.conditions.len()));
        self
    }

    /// Orders [`all`](Self::all) by `order` instead (a page is always in `(sort, key)` order).
    pub(crate) fn order_by(&mut self, order: &'static str) -> &mut Self {
        self.order = Some(order);
        self
    }

    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// A condition without values.
    pub(crate) fn condition(&mut self, sql: &str) -> &mut Self {
        self.conditions.push(sql.to_string());
        self
    }

    /// A condition on one text value; `{}` in `template` is where it goes.
    pub(crate) fn with(&mut self, template: &str, value: impl Into<String>) -> &mut Self {
        let placeholder = self.bind(Arg::text(value));
        self.conditions.push(template.replace("{}", &placeholder));
        self
    }

    /// `column = value` when there is a value.
    pub(crate) fn eq(&mut self, column: &str, value: Option<impl Into<String>>) -> &mut Self {
        if let Some(value) = value {
            self.with(&format!("{column} = {{}}"), value);
        }
        self
    }

    /// `key IN (…)`.
    pub(crate) fn key_in(&mut self, ids: &[String]) -> &mut Self {
        let placeholders: Vec<String> = ids.iter().map(|id| self.bind(Arg::text(id.as_str()))).collect();
        match placeholders.is_empty() {
            true => self.conditions.push("1 = 0".to_string()),
            false => self.conditions.push(format!("{} IN ({})", self.key, placeholders.join(", "))),
        }
        self
    }

    /// Confines rows to a scope: `member` and `buyer` are conditions with `{}` where the member's id
    /// or the buyer's organisation number goes.
    pub(crate) fn scope(&mut self, scope: &Scope, member: &str, buyer: &str) -> &mut Self {
        match scope {
            Scope::All => self,
            Scope::Member(id) => self.with(member, id.as_str()),
            Scope::Buyer(org) => self.with(buyer, org.to_string()),
        }
    }

    fn where_sql(&self) -> String {
        match self.conditions.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", self.conditions.join(" AND ")),
        }
    }

    /// One page in `(sort, key)` order, with the number of matching rows, read in one snapshot.
    pub(crate) async fn page<A: DeserializeOwned>(&self, db: &Db, page: &Page) -> Result<Paged<Row<A>>, DbError> {
        let count_sql = match self.totals {
            Some((totals, conditions)) if conditions == self.conditions.len() => format!("SELECT n FROM {totals}"),
            _ => format!("SELECT count(*) FROM {}{}", self.table, self.where_sql()),
        };
        let count_args = self.args.clone();
        let mut rows = self.clone();
        if let Some(after) = page.after() {
            let key = rows.bind(Arg::text(after.key.as_str()));
            let id = rows.bind(Arg::text(after.id.as_str()));
            rows.conditions.push(format!("({}, {}) > ({key}, {id})", self.sort, self.key));
        }
        rows.order = None;
        let rows_sql = rows.sql(Some(i64::from(page.first()) + 1));

        let mut tx = db.begin_read().await?;
        let total: Option<i64> = if page.count {
            Some(on_tx!(&mut tx, conn =>
                bind_args!(sqlx::query_scalar(&count_sql), &count_args).fetch_one(conn).await)?)
        } else {
            None
        };
        let found: Vec<(String, String, String)> = on_tx!(&mut tx, conn =>
            bind_args!(sqlx::query_as(&rows_sql), &rows.args).fetch_all(conn).await)?;
        tx.commit().await?;

        let mut found = decode(found)?;
        let has_next = found.len() > page.first() as usize;
        found.truncate(page.first() as usize);
        Ok(Paged { rows: found, total, has_next })
    }

    /// Every matching row in `(sort, key)` order (for look-ups by id, which match few).
    pub(crate) async fn all<A: DeserializeOwned>(&self, db: &Db) -> Result<Vec<Row<A>>, DbError> {
        let sql = self.sql(None);
        let found: Vec<(String, String, String)> =
            crate::on_db!(db, pool => bind_args!(sqlx::query_as(&sql), &self.args).fetch_all(pool).await)?;
        decode(found)
    }

    fn sql(&self, limit: Option<i64>) -> String {
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let order = self.order.map(str::to_string).unwrap_or_else(|| format!("{}, {}", self.sort, self.key));
        format!(
            "SELECT {key}, {sort}, doc FROM {table}{filter} ORDER BY {order}{limit}",
            key = self.key,
            sort = self.sort,
            table = self.table,
            filter = self.where_sql(),
        )
    }
}

fn decode<A: DeserializeOwned>(rows: Vec<(String, String, String)>) -> Result<Vec<Row<A>>, DbError> {
    rows.into_iter().map(|(id, sort_key, doc)| Ok(Row { id, sort_key, state: serde_json::from_str(&doc)? })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip_and_nothing_else_passes_for_one() {
        let cursor = Cursor { key: "Returbutiken Fyndet".into(), id: "3b1f6c2e-0000-4000-8000-000000000001".into() };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"[\"only one\"]")), None);
    }

    #[test]
    fn first_is_bounded() {
        assert_eq!(Page::new(None, None).map(|p| p.first()), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(Page::new(Some(500), None).map(|p| p.first()), Ok(500));
        assert_eq!(Page::new(Some(501), None), Err(PageError::First(501)));
        assert_eq!(Page::new(Some(-1), None), Err(PageError::First(-1)));
        assert_eq!(Page::new(Some(3), Some("%%%")).map_err(|e| e.field()), Err("after"));
    }
}
