//! `view_agreements`: one row per framework agreement, ordered by start date.

use super::query::{Paged, Row, Scope, Select};
use super::Page;
use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::agreement::{AgreementKind, FrameworkAgreement};
use konsortium_domain::org_number::OrgNumber;
use std::marker::PhantomData;

pub const TABLE: &str = "view_agreements";
/// How many rows the unfiltered list shows, kept by the projection.
pub const TOTALS: &str = "view_agreements_total";

/// Agreements by id; `doc` holds the terms with their rate and capacity histories.
pub const PROJECTION: RowProjection<FrameworkAgreement> = RowProjection {
    name: "agreements",
    version: 3,
    table: TABLE,
    key: "id",
    columns: &[
        Column::new("title", "TEXT"),
        Column::new("buyer_org_number", "TEXT"),
        Column::new("buyer_name", "TEXT"),
        Column::new("buyer_reference", "TEXT"),
        Column::new("kind", "TEXT"),
        Column::new("start_date", "TEXT NOT NULL"),
        Column::new("end_date", "TEXT"),
        Column::new("terminated_on", "TEXT"),
        Column::new("reserved", "BIGINT NOT NULL"),
    ],
    indexes: &[Index::new("buyer", "buyer_org_number"), Index::new("start", "start_date, id")],
    values: columns,
    totals: TOTALS,
    listed: |agreement| agreement.terms.is_some(),
    trim: None,
    aggregate: PhantomData,
};

fn columns(agreement: &FrameworkAgreement) -> Vec<Arg> {
    let terms = agreement.terms.as_ref();
    vec![
        Arg::opt_text(terms.map(|t| t.title.as_str())),
        Arg::opt_text(terms.map(|t| &t.buyer.org_number)),
        Arg::opt_text(terms.map(|t| t.buyer.name.as_str())),
        Arg::opt_text(terms.map(|t| t.buyer.reference.as_str())),
        Arg::opt_text(terms.map(|t| kind_text(t.kind))),
        Arg::text(terms.map(|t| t.period.start.to_string()).unwrap_or_default()),
        Arg::opt_text(terms.and_then(|t| t.period.end)),
        Arg::opt_text(agreement.terminated),
        Arg::int(terms.is_some_and(|t| t.reserved)),
    ]
}

/// The `kind` column's value.
pub fn kind_text(kind: AgreementKind) -> &'static str {
    match kind {
        AgreementKind::TrainingPlaces => "TrainingPlaces",
        AgreementKind::GoodsAndServices => "GoodsAndServices",
    }
}

/// Which agreements to list.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    pub scope: Scope,
    pub buyer_org_number: Option<OrgNumber>,
    pub kind: Option<AgreementKind>,
}

fn select(scope: &Scope) -> Select {
    let mut select = Select::new(TABLE, "id", "start_date");
    select.condition("title IS NOT NULL").counted_in(TOTALS).scope(
        scope,
        "id IN (SELECT a.agreement_id FROM view_allocations a WHERE a.member_id = {})",
        "buyer_org_number = {}",
    );
    select
}

/// A page of registered agreements in `(start_date, id)` order.
pub async fn page(db: &Db, filter: &AgreementFilter, page: &Page) -> Result<Paged<Row<FrameworkAgreement>>, DbError> {
    let mut select = select(&filter.scope);
    select
        .eq("buyer_org_number", filter.buyer_org_number.as_ref().map(ToString::to_string))
        .eq("kind", filter.kind.map(kind_text));
    select.page(db, page).await
}

/// One agreement, if it is registered and in scope.
pub async fn get(db: &Db, id: &str, scope: &Scope) -> Result<Option<Row<FrameworkAgreement>>, DbError> {
    Ok(by_ids(db, &[id.to_string()], scope).await?.into_iter().next())
}

/// The agreements among `ids` that are registered and in scope.
pub async fn by_ids(db: &Db, ids: &[String], scope: &Scope) -> Result<Vec<Row<FrameworkAgreement>>, DbError> {
    select(scope).key_in(ids).all(db).await
}
