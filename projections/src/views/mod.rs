//! The read models this release serves, and how the API reads them.
//!
//! Each view is a table whose indexed columns are the questions users ask (whose rows, which
//! agreement, which month, which status), filtered, ordered and paginated in SQL, with the
//! aggregate's state as a JSON `doc` for the nested detail (rate histories, stays, report lines).
//! Every query takes a [`Scope`], so a caller can be confined to its own rows by a `WHERE` clause.

/// Agreements, one row per framework agreement.
pub mod agreements;
/// Recorded deliveries of goods-and-services agreements, one row per agreement and month.
pub mod deliveries;
/// Invoices and their credit notes and payments, one row per invoice.
pub mod invoices;
/// Members, one row per member enterprise.
pub mod members;
/// Exits by reason, gender and target group, with their follow-ups.
pub mod outcomes;
/// Payout ledgers and their statements, one row per member.
pub mod payouts;
/// Training places, one row per place.
pub mod places;
/// Paging, cursors, scopes and the SQL they become.
mod query;
/// Monthly reports, one row per member, agreement and month.
pub mod reports;
/// Members' months on issued invoices still to be paid out or taken back, one row each.
pub mod settlement;
/// The split of each agreement: one row per allocation.
pub mod splits;
/// Place-days per agreement, member and month, by the day they were recorded.
pub mod utilisation;

pub use query::{Cursor, Page, PageError, Paged, Row, Scope, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

use crate::db::{Db, DbError};
use crate::on_db;
use crate::projection::Projection;
use std::sync::Arc;

pub const MEMBERS_TABLE: &str = members::TABLE;
pub const AGREEMENTS_TABLE: &str = agreements::TABLE;
pub const SPLITS_TABLE: &str = splits::SPLITS_TABLE;
pub const ALLOCATIONS_TABLE: &str = splits::ALLOCATIONS_TABLE;
pub const PLACES_TABLE: &str = places::TABLE;
pub const REPORTS_TABLE: &str = reports::TABLE;
pub const INVOICES_TABLE: &str = invoices::TABLE;
pub const DELIVERIES_TABLE: &str = deliveries::TABLE;
pub const PAYOUTS_TABLE: &str = payouts::TABLE;

/// All projections the projector feeds, in the order it feeds them.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(members::PROJECTION),
        Arc::new(agreements::PROJECTION),
        Arc::new(splits::SplitProjection),
        Arc::new(places::PROJECTION),
        Arc::new(reports::PROJECTION),
        Arc::new(invoices::PROJECTION),
        Arc::new(deliveries::PROJECTION),
        Arc::new(payouts::PROJECTION),
        Arc::new(settlement::SettlementProjection),
        Arc::new(utilisation::UtilisationProjection),
        Arc::new(outcomes::OutcomeProjection),
    ]
}

/// Every view table with all its columns (key columns first), e.g. to compare a live view with a
/// rebuilt one row by row.
pub fn tables() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (MEMBERS_TABLE, members::PROJECTION.all_columns()),
        (AGREEMENTS_TABLE, agreements::PROJECTION.all_columns()),
        (SPLITS_TABLE, splits::SPLIT_COLUMNS.to_vec()),
        (ALLOCATIONS_TABLE, splits::ALLOCATION_COLUMNS.to_vec()),
        (PLACES_TABLE, places::PROJECTION.all_columns()),
        (REPORTS_TABLE, reports::PROJECTION.all_columns()),
        (INVOICES_TABLE, invoices::PROJECTION.all_columns()),
        (DELIVERIES_TABLE, deliveries::PROJECTION.all_columns()),
        (members::TOTALS, vec!["n"]),
        (agreements::TOTALS, vec!["n"]),
        (places::TOTALS, vec!["n"]),
        (reports::TOTALS, vec!["n"]),
        (invoices::TOTALS, vec!["n"]),
        (deliveries::TOTALS, vec!["n"]),
        (payouts::TOTALS, vec!["n"]),
        (PAYOUTS_TABLE, payouts::PROJECTION.all_columns()),
        (settlement::TABLE, settlement::COLUMNS.to_vec()),
        (utilisation::TABLE, utilisation::COLUMNS.to_vec()),
        (utilisation::SOURCES_TABLE, utilisation::SOURCE_COLUMNS.to_vec()),
        (outcomes::EXITS_TABLE, outcomes::EXIT_COLUMNS.to_vec()),
        (outcomes::PEOPLE_TABLE, outcomes::PEOPLE_COLUMNS.to_vec()),
        (outcomes::PLACES_TABLE, outcomes::PLACE_COLUMNS.to_vec()),
    ]
}

/// Whether a view holds no row at all.
pub async fn is_empty(db: &Db, table: &str) -> Result<bool, DbError> {
    let sql = format!("SELECT 1 FROM {table} LIMIT 1");
    let any: Option<i32> = on_db!(db, pool => sqlx::query_scalar(&sql).fetch_optional(pool).await)?;
    Ok(any.is_none())
}
