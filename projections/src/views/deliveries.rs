//! `view_deliveries`: one row per goods-and-services agreement and month with recorded deliveries:
//! where a month-end run looks for deliveries not yet invoiced.

use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::calendar::Month;
use konsortium_domain::delivery::DeliveryMonth;
use std::marker::PhantomData;

pub const TABLE: &str = "view_deliveries";
/// How many rows the unfiltered list shows, kept by the projection.
pub const TOTALS: &str = "view_deliveries_total";

/// Delivery months by id (`agreement:deliveries:month`); `doc` holds the deliveries and earnings.
pub const PROJECTION: RowProjection<DeliveryMonth> = RowProjection {
    name: "deliveries",
    version: 1,
    table: TABLE,
    key: "deliveries_id",
    columns: &[
        Column::new("agreement_id", "TEXT NOT NULL"),
        Column::new("month", "TEXT NOT NULL"),
        Column::new("deliveries", "BIGINT NOT NULL"),
        Column::new("total_ore", "BIGINT NOT NULL"),
        Column::new("invoice_id", "TEXT"),
    ],
    indexes: &[Index::new("agreement_month", "agreement_id, month"), Index::new("month", "month, deliveries_id")],
    values: columns,
    totals: TOTALS,
    listed: |_| true,
    trim: None,
    aggregate: PhantomData,
};

fn columns(month: &DeliveryMonth) -> Vec<Arg> {
    vec![
        Arg::text(month.agreement_id.as_str()),
        Arg::text(month.month.map(|m| m.to_string()).unwrap_or_default()),
        Arg::int(i64::try_from(month.deliveries.len()).unwrap_or(i64::MAX)),
        Arg::int(month.total().0),
        Arg::opt_text(month.invoice_id.as_deref()),
    ]
}

/// `(deliveries_id, agreement_id)` of the delivery months up to `until` not on an invoice,
/// optionally of one agreement. The run decides on the aggregates themselves, not on this list.
pub async fn uninvoiced_until(
    db: &Db,
    until: Month,
    agreement_id: Option<&str>,
) -> Result<Vec<(String, String)>, DbError> {
    let sql = format!(
        "SELECT deliveries_id, agreement_id FROM {TABLE} WHERE invoice_id IS NULL AND month <= $1{} \
         ORDER BY month, deliveries_id",
        if agreement_id.is_some() { " AND agreement_id = $2" } else { "" }
    );
    let until = until.to_string();
    Ok(crate::on_db!(db, pool => {
        let query = sqlx::query_as(&sql).bind(&until);
        let query = match agreement_id { Some(id) => query.bind(id), None => query };
        query.fetch_all(pool).await
    })?)
}
