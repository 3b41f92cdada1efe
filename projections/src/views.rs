//! The read models this release serves, and how the API reads them.

use crate::db::{Db, DbError};
use crate::on_db;
use crate::projection::{Projection, StateProjection};
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::member::Member;
use konsortium_domain::place::TrainingPlace;
use konsortium_domain::reimbursement::MonthlyReimbursement;
use konsortium_domain::split::SubContractSplit;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Every member's current state, keyed by member id.
pub const MEMBERS: StateProjection<Member> = StateProjection::new("members", "view_members");
/// Every agreement's current terms and histories, keyed by agreement id.
pub const AGREEMENTS: StateProjection<FrameworkAgreement> = StateProjection::new("agreements", "view_agreements");

/// Every agreement's split across members, keyed by agreement id.
pub const SPLITS: StateProjection<SubContractSplit> = StateProjection::new("splits", "view_splits");
/// Every training place with its stays, keyed by place id.
pub const PLACES: StateProjection<TrainingPlace> = StateProjection::new("places", "view_places");
/// Every monthly report, keyed by `agreement:member:month`.
pub const REPORTS: StateProjection<MonthlyReimbursement> = StateProjection::new("reports", "view_reports");

pub const MEMBERS_TABLE: &str = "view_members";
pub const AGREEMENTS_TABLE: &str = "view_agreements";
pub const SPLITS_TABLE: &str = "view_splits";
pub const PLACES_TABLE: &str = "view_places";
pub const REPORTS_TABLE: &str = "view_reports";

/// All projections the projector feeds, in the order it feeds them.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(MEMBERS), Arc::new(AGREEMENTS), Arc::new(SPLITS), Arc::new(PLACES), Arc::new(REPORTS)]
}

/// One document of a state view.
pub async fn find<T: DeserializeOwned>(db: &Db, table: &str, id: &str) -> Result<Option<T>, DbError> {
    let sql = format!("SELECT doc FROM {table} WHERE id = $1");
    let doc: Option<String> = on_db!(db, pool => sqlx::query_scalar(&sql).bind(id).fetch_optional(pool).await)?;
    doc.map(|doc| serde_json::from_str(&doc)).transpose().map_err(DbError::from)
}

/// Whether a state view holds no document at all.
pub async fn is_empty(db: &Db, table: &str) -> Result<bool, DbError> {
    let sql = format!("SELECT id FROM {table} LIMIT 1");
    let any: Option<String> = on_db!(db, pool => sqlx::query_scalar(&sql).fetch_optional(pool).await)?;
    Ok(any.is_none())
}

/// Every document of a state view with its id, in the order they were last changed.
pub async fn list<T: DeserializeOwned>(db: &Db, table: &str) -> Result<Vec<(String, T)>, DbError> {
    let sql = format!("SELECT id, doc FROM {table} ORDER BY position, id");
    let rows: Vec<(String, String)> = on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    rows.into_iter().map(|(id, doc)| Ok((id, serde_json::from_str(&doc)?))).collect()
}
