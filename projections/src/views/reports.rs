//! `view_reports`: one row per member, agreement and month, ordered by month.

use super::query::{Paged, Row, Scope, Select};
use super::Page;
use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::calendar::Month;
use konsortium_domain::reimbursement::{MonthlyReimbursement, ReportStatus};
use std::marker::PhantomData;

pub const TABLE: &str = "view_reports";
/// How many rows the unfiltered list shows, kept by the projection.
pub const TOTALS: &str = "view_reports_total";

/// Reports by id (`agreement:member:month`); `doc` holds the state without the month's place and
/// delivery lines ([`trim`]).
pub const PROJECTION: RowProjection<MonthlyReimbursement> = RowProjection {
    name: "reports",
    version: 5,
    table: TABLE,
    key: "report_id",
    columns: &[
        Column::new("agreement_id", "TEXT NOT NULL"),
        Column::new("member_id", "TEXT NOT NULL"),
        Column::new("month", "TEXT NOT NULL"),
        Column::new("status", "TEXT"),
        Column::new("version", "BIGINT NOT NULL"),
        Column::new("total_ore", "BIGINT"),
        Column::new("commission_ore", "BIGINT"),
        Column::new("payout_ore", "BIGINT"),
        Column::new("invoice_id", "TEXT"),
    ],
    indexes: &[
        Index::new("agreement_month", "agreement_id, month"),
        Index::new("member_month", "member_id, month"),
        Index::new("status", "status"),
        Index::new("month", "month, report_id"),
    ],
    values: columns,
    totals: TOTALS,
    listed: |report| report.figures.is_some(),
    trim: Some(trim),
    aggregate: PhantomData,
};

fn columns(report: &MonthlyReimbursement) -> Vec<Arg> {
    let figures = report.figures.as_ref();
    vec![
        Arg::text(report.agreement_id.as_str()),
        Arg::text(report.member_id.as_str()),
        Arg::text(report.month.map(|m| m.to_string()).unwrap_or_default()),
        Arg::opt_text(report.status.map(status_text)),
        Arg::int(report.version),
        Arg::Int(figures.map(|f| f.total.0)),
        Arg::Int(figures.map(|f| f.commission.0)),
        Arg::Int(figures.map(|f| f.payout.0)),
        Arg::opt_text(report.invoice_id.as_deref()),
    ]
}

/// Leaves the month's place and delivery lines out of the row, keeping its totals: lists show
/// totals and statuses, and each invoiced month rewrites its row (a national month-end rewrote
/// 104 400 rows carrying every place line). A reader who asks for the lines loads the report from
/// the event log.
pub fn trim(report: &mut MonthlyReimbursement) {
    if let Some(figures) = report.figures.as_mut() {
        figures.places = Vec::new();
        figures.deliveries = Vec::new();
    }
}

/// The `status` column's value.
pub fn status_text(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Submitted => "Submitted",
        ReportStatus::Approved => "Approved",
        ReportStatus::Rejected => "Rejected",
        ReportStatus::Invoiced => "Invoiced",
    }
}

/// Which reports to list.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub scope: Scope,
    pub agreement_id: Option<String>,
    pub member_id: Option<String>,
    pub month: Option<Month>,
    pub status: Option<ReportStatus>,
}

fn select(scope: &Scope) -> Select {
    let mut select = Select::new(TABLE, "report_id", "month");
    select.condition("total_ore IS NOT NULL").counted_in(TOTALS).scope(
        scope,
        "member_id = {}",
        "agreement_id IN (SELECT g.id FROM view_agreements g WHERE g.buyer_org_number = {})",
    );
    select
}

/// A page of submitted reports in `(month, report_id)` order.
pub async fn page(db: &Db, filter: &ReportFilter, page: &Page) -> Result<Paged<Row<MonthlyReimbursement>>, DbError> {
    let mut select = select(&filter.scope);
    select
        .eq("agreement_id", filter.agreement_id.as_deref())
        .eq("member_id", filter.member_id.as_deref())
        .eq("month", filter.month.map(|m| m.to_string()))
        .eq("status", filter.status.map(status_text));
    select.page(db, page).await
}

/// One report, if it was submitted and is in scope.
pub async fn get(db: &Db, report_id: &str, scope: &Scope) -> Result<Option<Row<MonthlyReimbursement>>, DbError> {
    Ok(select(scope).key_in(&[report_id.to_string()]).all(db).await?.into_iter().next())
}

/// `(report_id, agreement_id)` of the approved, not yet invoiced reports of months up to `until`,
/// optionally of one agreement: where a month-end run looks for work. Ids only, so a run over years
/// of months parses no document; the run decides on the reports themselves, not on this list.
pub async fn approved_ids_until(
    db: &Db,
    until: Month,
    agreement_id: Option<&str>,
) -> Result<Vec<(String, String)>, DbError> {
    let sql = format!(
        "SELECT report_id, agreement_id FROM {TABLE} WHERE status = $1 AND month <= $2{} ORDER BY month, report_id",
        if agreement_id.is_some() { " AND agreement_id = $3" } else { "" }
    );
    let approved = status_text(ReportStatus::Approved);
    let until = until.to_string();
    Ok(crate::on_db!(db, pool => {
        let query = sqlx::query_as(&sql).bind(approved).bind(&until);
        let query = match agreement_id { Some(id) => query.bind(id), None => query };
        query.fetch_all(pool).await
    })?)
}
