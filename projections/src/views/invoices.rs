//! `view_invoices`: one row per issued invoice, ordered by number, with what its status is computed
//! from (due date, payable, paid, credited), so `invoices(status:)` is a `WHERE` clause.

use super::query::{Paged, Row, Scope, Select};
use super::Page;
use crate::db::{Db, DbError};
use crate::projection::{Arg, Column, Index, RowProjection};
use konsortium_domain::calendar::Month;
use konsortium_domain::invoice::{Invoice, InvoiceStatus};
use konsortium_domain::org_number::OrgNumber;
use std::marker::PhantomData;
use time::Date;

pub const TABLE: &str = "view_invoices";
/// How many rows the unfiltered list shows, kept by the projection.
pub const TOTALS: &str = "view_invoices_total";

/// Invoices by id; `doc` holds the document's heading and totals, payments and credit note, but not
/// the lines, months or XML: a national invoice's run to hundreds of KB, and a page of twenty was
/// parsed on every list request. [`trim`] says what is left out.
pub const PROJECTION: RowProjection<Invoice> = RowProjection {
    name: "invoices",
    version: 2,
    table: TABLE,
    key: "invoice_id",
    columns: &[
        Column::new("number", "TEXT NOT NULL"),
        Column::new("agreement_id", "TEXT"),
        Column::new("buyer_org_number", "TEXT"),
        Column::new("issued_on", "TEXT"),
        Column::new("due_on", "TEXT"),
        Column::new("first_month", "TEXT"),
        Column::new("last_month", "TEXT"),
        Column::new("payable_ore", "BIGINT"),
        Column::new("paid_ore", "BIGINT NOT NULL"),
        Column::new("credit_number", "TEXT"),
    ],
    indexes: &[Index::new("number", "number, invoice_id"), Index::new("buyer", "buyer_org_number")],
    values: columns,
    totals: TOTALS,
    listed: |_| true,
    trim: Some(trim),
    aggregate: PhantomData,
};

fn columns(invoice: &Invoice) -> Vec<Arg> {
    let document = invoice.document.as_ref();
    vec![
        Arg::text(document.map(|d| d.number.as_str()).unwrap_or_default()),
        Arg::opt_text(document.map(|d| d.agreement_id.as_str())),
        Arg::opt_text(document.map(|d| &d.buyer.org_number)),
        Arg::opt_text(document.map(|d| d.issued_on)),
        Arg::opt_text(document.map(|d| d.due_on)),
        // The period covers the months and the deliveries, and survives the trim.
        Arg::opt_text(document.map(|d| Month::of(d.period_start))),
        Arg::opt_text(document.map(|d| Month::of(d.period_end))),
        Arg::Int(document.map(|d| d.payable.0)),
        Arg::int(invoice.paid().0),
        Arg::opt_text(invoice.credit.as_ref().map(|c| c.number.as_str())),
    ]
}

/// Leaves the invoice's XML (and its credit note's), lines and months out of the row: a list shows
/// headings and totals; a reader who asks for the rest loads the invoice from the event log, where
/// its XML is exactly what was issued.
pub fn trim(invoice: &mut Invoice) {
    invoice.ubl = String::new();
    if let Some(document) = invoice.document.as_mut() {
        document.lines = Vec::new();
        document.months = Vec::new();
    }
    if let Some(credit) = invoice.credit.as_mut() {
        credit.ubl = String::new();
    }
}

/// Which invoices to list. `today` decides which unpaid ones are overdue.
#[derive(Debug, Clone)]
pub struct InvoiceFilter {
    pub scope: Scope,
    pub status: Option<InvoiceStatus>,
    pub buyer: Option<OrgNumber>,
    /// Invoices covering this month.
    pub month: Option<Month>,
    pub today: Date,
}

fn select(scope: &Scope) -> Select {
    let mut select = Select::new(TABLE, "invoice_id", "number");
    select.counted_in(TOTALS);
    match scope {
        Scope::All => {}
        Scope::Buyer(org) => {
            select.with("buyer_org_number = {}", org.to_string());
        }
        // Invoices are between the consortium and its buyers.
        Scope::Member(_) => {
            select.condition("1 = 0");
        }
    }
    select
}

/// A page of invoices in number order.
pub async fn page(db: &Db, filter: &InvoiceFilter, page: &Page) -> Result<Paged<Row<Invoice>>, DbError> {
    let mut select = select(&filter.scope);
    select.eq("buyer_org_number", filter.buyer.as_ref().map(ToString::to_string));
    if let Some(month) = filter.month {
        select.with("first_month <= {}", month.to_string()).with("last_month >= {}", month.to_string());
    }
    let today = filter.today.to_string();
    match filter.status {
        None => {}
        Some(InvoiceStatus::Credited) => {
            select.condition("credit_number IS NOT NULL");
        }
        Some(InvoiceStatus::Paid) => {
            select.condition("credit_number IS NULL AND paid_ore >= payable_ore");
        }
        Some(InvoiceStatus::Overdue) => {
            select.condition("credit_number IS NULL AND paid_ore < payable_ore").with("due_on < {}", today);
        }
        Some(InvoiceStatus::PartPaid) => {
            select
                .condition("credit_number IS NULL AND paid_ore > 0 AND paid_ore < payable_ore")
                .with("due_on >= {}", today);
        }
        Some(InvoiceStatus::Open) => {
            select
                .condition("credit_number IS NULL AND paid_ore = 0 AND paid_ore < payable_ore")
                .with("due_on >= {}", today);
        }
    }
    select.page(db, page).await
}

/// One invoice, if it is in scope.
pub async fn get(db: &Db, invoice_id: &str, scope: &Scope) -> Result<Option<Row<Invoice>>, DbError> {
    Ok(select(scope).key_in(&[invoice_id.to_string()]).all(db).await?.into_iter().next())
}
