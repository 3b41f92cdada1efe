//! `view_members`: one row per member enterprise, ordered by name.

use super::query::{Paged, Row, Scope, Select};
use super::Page;
use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::member::{Member, MemberCategory};
use std::marker::PhantomData;

pub const TABLE: &str = "view_members";
/// How many rows the unfiltered list shows, kept by the projection.
pub const TOTALS: &str = "view_members_total";

/// Members by id; `doc` holds the member's state with its category and share histories.
pub const PROJECTION: RowProjection<Member> = RowProjection {
    name: "members",
    version: 3,
    table: TABLE,
    key: "id",
    columns: &[
        Column::new("name", "TEXT NOT NULL"),
        Column::new("org_number", "TEXT"),
        Column::new("category", "TEXT"),
        Column::new("target_group_share_bp", "BIGINT NOT NULL"),
        Column::new("joined_on", "TEXT"),
        Column::new("left_on", "TEXT"),
    ],
    indexes: &[Index::new("name", "name, id"), Index::new("org_number", "org_number")],
    values: columns,
    totals: TOTALS,
    listed: |_| true,
    trim: None,
    aggregate: PhantomData,
};

fn columns(member: &Member) -> Vec<Arg> {
    vec![
        Arg::text(member.name.as_str()),
        Arg::opt_text(member.org_number.as_ref()),
        Arg::opt_text(member.category.map(category_text)),
        Arg::int(member.target_group_share.basis_points()),
        Arg::opt_text(member.joined_on),
        Arg::opt_text(member.left_on),
    ]
}

/// The `category` column's value.
pub fn category_text(category: MemberCategory) -> &'static str {
    match category {
        MemberCategory::Wise => "Wise",
        MemberCategory::OtherAssociation => "OtherAssociation",
    }
}

/// Which members to list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub scope: Scope,
    pub category: Option<MemberCategory>,
}

fn select(scope: &Scope) -> Select {
    let mut select = Select::new(TABLE, "id", "name");
    select.counted_in(TOTALS);
    select.scope(
        scope,
        "id = {}",
        "id IN (SELECT a.member_id FROM view_allocations a WHERE a.agreement_id IN \
         (SELECT g.id FROM view_agreements g WHERE g.buyer_org_number = {}))",
    );
    select
}

/// A page of members in `(name, id)` order.
pub async fn page(db: &Db, filter: &MemberFilter, page: &Page) -> Result<Paged<Row<Member>>, DbError> {
    let mut select = select(&filter.scope);
    select.eq("category", filter.category.map(category_text));
    select.page(db, page).await
}

/// One member, if it exists and is in scope.
pub async fn get(db: &Db, id: &str, scope: &Scope) -> Result<Option<Row<Member>>, DbError> {
    Ok(by_ids(db, &[id.to_string()], scope).await?.into_iter().next())
}

/// The members among `ids` that exist and are in scope, in `(name, id)` order.
pub async fn by_ids(db: &Db, ids: &[String], scope: &Scope) -> Result<Vec<Row<Member>>, DbError> {
    select(scope).key_in(ids).all(db).await
}
