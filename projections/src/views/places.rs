//! `view_places`: one row per training place, ordered by the day it opened.

use super::query::{Paged, Row, Scope, Select};
use super::Page;
use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::place::TrainingPlace;
use std::marker::PhantomData;

pub const TABLE: &str = "view_places";
/// How many rows the unfiltered list shows, kept by the projection.
pub const TOTALS: &str = "view_places_total";

/// Places by id; `doc` holds the place with every stay.
pub const PROJECTION: RowProjection<TrainingPlace> = RowProjection {
    name: "places",
    version: 3,
    table: TABLE,
    key: "place_id",
    columns: &[
        Column::new("agreement_id", "TEXT NOT NULL"),
        Column::new("member_id", "TEXT NOT NULL"),
        Column::new("allocation_id", "TEXT NOT NULL"),
        Column::new("opened_on", "TEXT NOT NULL"),
        Column::new("closed_on", "TEXT"),
        Column::new("filled_by", "TEXT"),
    ],
    indexes: &[
        Index::new("agreement_member", "agreement_id, member_id"),
        Index::new("member", "member_id"),
        Index::new("opened", "opened_on, place_id"),
    ],
    values: columns,
    totals: TOTALS,
    listed: |_| true,
    trim: None,
    aggregate: PhantomData,
};

fn columns(place: &TrainingPlace) -> Vec<Arg> {
    vec![
        Arg::text(place.agreement_id.as_str()),
        Arg::text(place.member_id.as_str()),
        Arg::text(place.allocation_id.as_str()),
        Arg::text(place.opened_on.map(|d| d.to_string()).unwrap_or_default()),
        Arg::opt_text(place.closed_on),
        Arg::opt_text(filled_by(place)),
    ]
}

/// The participant on the place now, if any.
pub fn filled_by(place: &TrainingPlace) -> Option<&str> {
    place.occupancy.last().filter(|o| o.to.is_none()).map(|o| o.participant.as_str())
}

/// Which places to list.
#[derive(Debug, Clone, Default)]
pub struct PlaceFilter {
    pub scope: Scope,
    pub agreement_id: Option<String>,
    pub member_id: Option<String>,
}

fn select(scope: &Scope) -> Select {
    let mut select = Select::new(TABLE, "place_id", "opened_on");
    select.counted_in(TOTALS);
    select.scope(
        scope,
        "member_id = {}",
        "agreement_id IN (SELECT g.id FROM view_agreements g WHERE g.buyer_org_number = {})",
    );
    select
}

/// A page of places in `(opened_on, place_id)` order.
pub async fn page(db: &Db, filter: &PlaceFilter, page: &Page) -> Result<Paged<Row<TrainingPlace>>, DbError> {
    let mut select = select(&filter.scope);
    select.eq("agreement_id", filter.agreement_id.as_deref()).eq("member_id", filter.member_id.as_deref());
    select.page(db, page).await
}

/// One place, if it exists and is in scope.
pub async fn get(db: &Db, id: &str, scope: &Scope) -> Result<Option<Row<TrainingPlace>>, DbError> {
    Ok(select(scope).key_in(&[id.to_string()]).all(db).await?.into_iter().next())
}

/// Every place of one agreement with all its stays, for figures counted per person over the
/// agreement (one indexed read, `agreement_id` leads an index).
pub async fn of_agreement(db: &Db, agreement_id: &str) -> Result<Vec<TrainingPlace>, DbError> {
    let mut select = select(&Scope::All);
    select.eq("agreement_id", Some(agreement_id));
    Ok(select.all::<TrainingPlace>(db).await?.into_iter().map(|row| row.state).collect())
}
