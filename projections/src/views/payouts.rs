//! `view_payouts`: one row per member's payout ledger, with every statement issued to it in `doc`;
//! and the look-up of issued invoices the SIE export starts from.

use super::query::{Row, Scope, Select};
use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::calendar::Month;
use konsortium_domain::invoice::Invoice;
use konsortium_domain::payout::MemberPayouts;
use std::marker::PhantomData;

pub const TABLE: &str = "view_payouts";
/// How many members have a payout ledger, kept by the projection.
pub const TOTALS: &str = "view_payouts_total";

/// Ledgers by member; `doc` holds the statements as issued.
pub const PROJECTION: RowProjection<MemberPayouts> = RowProjection {
    name: "payouts",
    version: 1,
    table: TABLE,
    key: "member_id",
    columns: &[Column::new("first_month", "TEXT"), Column::new("last_month", "TEXT")],
    indexes: &[Index::new("months", "first_month, last_month")],
    values: columns,
    totals: TOTALS,
    listed: |_| true,
    trim: None,
    aggregate: PhantomData,
};

fn columns(ledger: &MemberPayouts) -> Vec<Arg> {
    vec![
        Arg::opt_text(ledger.statements.iter().map(|s| s.month).min()),
        Arg::opt_text(ledger.statements.iter().map(|s| s.month).max()),
    ]
}

/// The ledgers in scope (staff: all, a member: its own, a buyer: none) holding a statement for
/// `month`, if given, optionally of one member.
pub async fn ledgers(
    db: &Db,
    scope: &Scope,
    month: Option<Month>,
    member_id: Option<&str>,
) -> Result<Vec<Row<MemberPayouts>>, DbError> {
    let mut select = Select::new(TABLE, "member_id", "member_id");
    match scope {
        Scope::All => {}
        Scope::Member(id) => {
            select.with("member_id = {}", id.as_str());
        }
        Scope::Buyer(_) => {
            select.condition("1 = 0");
        }
    }
    select.eq("member_id", member_id);
    if let Some(month) = month {
        select.with("first_month <= {}", month.to_string()).with("last_month >= {}", month.to_string());
    }
    select.all(db).await
}

/// Issued invoices with `month` among their months' range.
pub async fn invoices_covering(db: &Db, month: Month) -> Result<Vec<Row<Invoice>>, DbError> {
    let mut select = Select::new(super::invoices::TABLE, "invoice_id", "number");
    select.with("first_month <= {}", month.to_string()).with("last_month >= {}", month.to_string());
    select.all(db).await
}
