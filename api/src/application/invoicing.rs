//! Invoicing: the consortium registers as seller; the month-end run turns approved months into
//! invoices; a credit note cancels one and reopens its months; payments settle them.
//!
//! Gap-free numbers and "one invoice per month" are the event store's optimistic lock: each invoice
//! is ONE append of the series' `NumberTaken`, the invoice's `InvoiceIssued` (with its final XML) and
//! every included report's `ReportInvoiced`, each at the sequence the decision was made on. Two runs
//! that race for a number or a month collide there; the loser decides again on fresh state. A server
//! that dies mid-run has stored whole invoices or nothing of one.

use super::agreements::registered_agreement;
use super::{access, change, today};
use crate::app::{Actor, App, Written};
use crate::error::AppError;
use crate::store::{Loaded, Pending};
use konsortium_domain::agreement::AgreementTerms;
use konsortium_domain::calendar::Month;
use konsortium_domain::delivery::{DeliveryCommand, DeliveryMonth};
use konsortium_domain::invoice::{
    lines_for_deliveries, lines_for_month, Consortium, ConsortiumCommand, ConsortiumError, Invoice, InvoiceCommand,
    InvoiceDraft, InvoiceError, InvoiceLine, InvoicedDeliveries, InvoicedMonth, LineUnit, Seller, SeriesCommand,
    SeriesKind, CONSORTIUM_ID,
};
use konsortium_domain::money::Ore;
use konsortium_domain::reimbursement::{MonthlyReimbursement, ReimbursementCommand, ReportStatus};
use konsortium_projections::views;
use std::collections::BTreeMap;
use time::Date;

/// How often one invoice of a run is decided again after losing a race: every run issuing at the
/// same moment shares the year's series, so losing is expected; each round at least one run wins.
const RUN_ATTEMPTS: u32 = 200;

/// Registers the consortium as the seller on every invoice; once.
pub async fn register_consortium(app: &App, actor: &Actor, seller: &Seller) -> Result<Consortium, AppError> {
    access::staff(actor)?;
    change(app, app.consortium(), CONSORTIUM_ID, actor, || ConsortiumCommand::Register(seller.clone())).await
}

/// The registered seller, or `NOT_FOUND` (`NotRegistered`).
pub async fn seller(app: &App) -> Result<Seller, AppError> {
    app.consortium()
        .load(CONSORTIUM_ID)
        .await?
        .state
        .seller
        .ok_or_else(|| AppError::rule(&ConsortiumError::NotRegistered))
}

/// What a month-end run covers: approved months up to and including `month`, of one agreement or all.
#[derive(Debug, Clone)]
pub struct MonthEndRun {
    pub month: Month,
    pub agreement_id: Option<String>,
}

/// An invoice's id and state.
pub type IssuedInvoice = (String, Invoice);

/// The month-end run: one invoice per agreement (and so per buyer reference) for every approved, not
/// yet invoiced month up to `run.month`, each month locked in the same step. A run with nothing to
/// invoice issues nothing; a repeated run finds the months locked and issues nothing again.
pub async fn issue_invoices(app: &App, actor: &Actor, run: &MonthEndRun) -> Result<Vec<IssuedInvoice>, AppError> {
    access::staff(actor)?;
    let today = today();
    issue_invoices_on(app, actor, run, today).await
}

/// [`issue_invoices`] as if run on `today` (the demo and the benchmark invoice past months).
pub async fn issue_invoices_on(
    app: &App,
    actor: &Actor,
    run: &MonthEndRun,
    today: Date,
) -> Result<Vec<IssuedInvoice>, AppError> {
    access::staff(actor)?;
    let last_day = run.month.last_day();
    if today <= last_day {
        return Err(AppError::rule(&InvoiceError::MonthNotOver { month: run.month, last_day }));
    }
    if let Some(agreement_id) = &run.agreement_id {
        registered_agreement(app, agreement_id).await?;
    }
    let attempt = app.attempt(actor, "issue_invoices", run);
    // The stored answer is the invoices' ids: a national run's documents and XML run to tens of MB.
    if let Some(ids) = attempt.replay::<Vec<String>>().await? {
        return Ok(app.invoices().load_many(&ids).await?.into_iter().map(|loaded| (loaded.id, loaded.state)).collect());
    }
    let seller = seller(app).await?;
    let candidates = views::reports::approved_ids_until(app.db(), run.month, run.agreement_id.as_deref()).await?;
    let delivered = views::deliveries::uninvoiced_until(app.db(), run.month, run.agreement_id.as_deref()).await?;
    let mut by_agreement: BTreeMap<String, Work> = BTreeMap::new();
    for (report_id, agreement_id) in candidates {
        by_agreement.entry(agreement_id).or_default().reports.push(report_id);
    }
    for (deliveries_id, agreement_id) in delivered {
        by_agreement.entry(agreement_id).or_default().deliveries.push(deliveries_id);
    }
    // Each invoice commits on its own; the run's answer (and idempotency key) is stored at the end.
    // The views catch up with each invoice while the next is decided; the run waits once, at its end.
    let each = actor.with_key(None);
    let mut issued = Vec::new();
    let mut written = Written::default();
    let queue: Vec<(String, Work)> = by_agreement.into_iter().collect();
    let (started, agreements) = (std::time::Instant::now(), queue.len());
    let mut reported = started;
    let mut ahead = queue.first().map(|(id, work)| Ahead::read(app, id, work, run.month));
    for (n, (agreement_id, work)) in queue.iter().enumerate() {
        let mut read = match ahead.take() {
            Some(read) => read.finish().await,
            None => None,
        };
        // The next agreement is read while this one's invoice is decided and stored.
        ahead = queue.get(n + 1).map(|(id, next)| Ahead::read(app, id, next, run.month));
        let (each, seller) = (&each, &seller);
        let one = || {
            let read = read.take();
            async move {
                // A retry (another run took the number or a month) reads everything again.
                let gathered = match read {
                    Some(gathered) => gathered,
                    None => gather(app, agreement_id, work, run.month).await?,
                };
                issue_one(app, each, seller, gathered, today).await
            }
        };
        if let Some((invoice, stored)) = app.retrying_at_most(RUN_ATTEMPTS, one).await? {
            issued.push(invoice);
            written = written.and(stored);
        }
        // A national run takes seconds: say how far it got, every few seconds, not every invoice.
        if reported.elapsed() >= std::time::Duration::from_secs(5) {
            tracing::info!(done = n + 1, of = agreements, issued = issued.len(), "month-end run under way");
            reported = std::time::Instant::now();
        }
    }
    let decided = started.elapsed();
    app.wait_for_views(&written).await;
    tracing::info!(
        invoices = issued.len(),
        issued_ms = decided.as_millis() as u64,
        views_ms = (started.elapsed() - decided).as_millis() as u64,
        "month-end run done; the views show it"
    );
    attempt.commit(&[], issued.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()).await?;
    Ok(issued)
}

/// What the views say one agreement has to invoice: approved reports and delivery months.
#[derive(Debug, Default, Clone)]
struct Work {
    reports: Vec<String>,
    deliveries: Vec<String>,
}

/// Everything one agreement's invoice is decided on except its number: the agreement, the months
/// still to invoice as they are now, and their lines.
struct Gathered {
    agreement_id: String,
    terms: AgreementTerms,
    reports: Vec<Loaded<MonthlyReimbursement>>,
    delivered: Vec<Loaded<DeliveryMonth>>,
    months: Vec<InvoicedMonth>,
    delivery_months: Vec<InvoicedDeliveries>,
    lines: Vec<InvoiceLine>,
}

/// The next agreement's [`Gathered`], read on another task while the run issues the current one:
/// reading and parsing an agreement's years of reports is most of an invoice's work, and the two
/// overlap on separate cores. What it read may be stale by the time it is used; the append's
/// optimistic lock refuses it then, and the retry reads afresh. Dropping it stops the read.
struct Ahead(tokio::task::JoinHandle<Result<Gathered, AppError>>);

impl Ahead {
    fn read(app: &App, agreement_id: &str, work: &Work, until: Month) -> Ahead {
        let (app, agreement_id, work) = (app.clone(), agreement_id.to_string(), work.clone());
        Ahead(tokio::spawn(async move { gather(&app, &agreement_id, &work, until).await }))
    }

    /// What was read, or `None` when reading failed: the run then reads again itself, and reports
    /// the error if it recurs.
    async fn finish(mut self) -> Option<Gathered> {
        match (&mut self.0).await {
            Ok(Ok(gathered)) => Some(gathered),
            Ok(Err(err)) => {
                tracing::debug!(error = ?err, "reading ahead failed; the run reads again");
                None
            }
            Err(err) => {
                tracing::warn!(error = %err, "reading ahead stopped; the run reads again");
                None
            }
        }
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads what one agreement's invoice is decided on: its approved months up to `until` not yet
/// invoiced, its delivery months, the members' names, and the lines.
async fn gather(app: &App, agreement_id: &str, work: &Work, until: Month) -> Result<Gathered, AppError> {
    let agreement = registered_agreement(app, agreement_id).await?;
    let terms = agreement.terms.ok_or_else(|| AppError::NotFound(format!("no agreement {agreement_id}")))?;
    let mut months = Vec::new();
    let mut lines = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut reports = Vec::new();
    // One query for all of the agreement's months, not one each: a national run invoices years of them.
    for loaded in app.reports().load_many(&work.reports).await? {
        let report = &loaded.state;
        let report_id = &loaded.id;
        let (Some(month), Some(figures)) = (report.month, report.figures.as_ref()) else { continue };
        if report.status != Some(ReportStatus::Approved) || month > until {
            continue;
        }
        if !names.contains_key(&report.member_id) {
            let member = app.members().load(&report.member_id).await?.state;
            names.insert(report.member_id.clone(), member.name);
        }
        let name = names.get(&report.member_id).map(String::as_str).unwrap_or_default();
        lines.extend(lines_for_month(&report.member_id, name, month, figures));
        months.push(InvoicedMonth {
            report_id: report_id.clone(),
            member_id: report.member_id.clone(),
            month,
            version: report.version,
            amount: figures.total,
        });
        reports.push(loaded);
    }
    let mut delivered = Vec::new();
    let mut delivery_months = Vec::new();
    for loaded in app.deliveries().load_many(&work.deliveries).await? {
        let state = &loaded.state;
        let id = &loaded.id;
        let Some(month) = state.month else { continue };
        if state.invoice_id.is_some() || state.deliveries.is_empty() || month > until {
            continue;
        }
        for delivery in &state.deliveries {
            if !names.contains_key(&delivery.member_id) {
                let member = app.members().load(&delivery.member_id).await?.state;
                names.insert(delivery.member_id.clone(), member.name);
            }
        }
        lines.extend(lines_for_deliveries(state, |id| names.get(id).cloned().unwrap_or_default()));
        delivery_months.push(InvoicedDeliveries {
            deliveries_id: id.clone(),
            month,
            count: u32::try_from(state.deliveries.len()).unwrap_or(u32::MAX),
            amount: state.total(),
            members: state.earnings_by_member().into_iter().map(|(member_id, _)| member_id).collect(),
        });
        delivered.push(loaded);
    }
    // Months in order; within a month, places before deliveries, each by member (stable sort).
    lines.sort_by_key(|line| (line.month, line.unit == LineUnit::Delivery, line.member_id.clone()));
    Ok(Gathered { agreement_id: agreement_id.to_string(), terms, reports, delivered, months, delivery_months, lines })
}

/// One agreement's invoice, numbered from the series as it is now, and what it stored (not yet
/// waited for); `None` when another run invoiced every month first.
async fn issue_one(
    app: &App,
    actor: &Actor,
    seller: &Seller,
    gathered: Gathered,
    today: Date,
) -> Result<Option<(IssuedInvoice, Written)>, AppError> {
    let Gathered { agreement_id, terms, mut reports, mut delivered, months, delivery_months, lines } = gathered;
    if months.is_empty() && delivery_months.is_empty() {
        return Ok(None);
    }
    let mut changes: Vec<Pending> = Vec::new();
    let year = today.year();
    let series_id = SeriesKind::Invoice.series_id(seller.org_number.digits(), year);
    let mut series = app.series().load_newest(&series_id).await?;
    let sequence = series.state.next().unwrap_or(u32::MAX);
    let number = SeriesKind::Invoice.number(year, sequence);
    let invoice_id = document_id(seller, &number);
    changes.push(series.decide(SeriesCommand::TakeNext { document_id: invoice_id.clone() }).await?);
    let mut invoice = app.invoices().load(&invoice_id).await?;
    if invoice.exists() {
        // Another run took the number between our reading the series and the invoice: a lost race.
        return Err(AppError::Conflict(format!("invoice {number} was issued by another run at the same moment")));
    }
    let draft = InvoiceDraft {
        number: number.clone(),
        issued_on: today,
        seller: seller.clone(),
        agreement_id,
        buyer: terms.buyer,
        contract_reference: terms.contract_reference,
        vat: terms.vat,
        payment_terms_days: terms.payment_terms_days.map(u32::from),
        months,
        deliveries: delivery_months,
        lines,
    };
    changes.push(invoice.decide(InvoiceCommand::Issue(Box::new(draft))).await?);
    for report in &mut reports {
        changes.push(report.decide(ReimbursementCommand::MarkInvoiced { invoice_id: number.clone() }).await?);
    }
    for month in &mut delivered {
        changes.push(month.decide(DeliveryCommand::MarkInvoiced { invoice_id: number.clone() }).await?);
    }
    let attempt = app.attempt(actor, "issue_invoice", &invoice_id);
    Ok(Some(attempt.commit_unwaited(&changes, (invoice_id, invoice.state)).await?))
}

/// A document's id follows from the seller and its number, so a number can belong to one document only.
fn document_id(seller: &Seller, number: &str) -> String {
    let name = format!("invoice:{}:{number}", seller.org_number.digits());
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

/// Cancels a whole invoice with a credit note (BT-25 quotes the invoice) numbered in the credit-note
/// series, and reopens its months for correction and a new invoice: all in one append.
pub async fn credit_invoice(
    app: &App,
    actor: &Actor,
    invoice_id: &str,
    reason: &str,
) -> Result<IssuedInvoice, AppError> {
    access::staff(actor)?;
    existing(app, invoice_id).await?;
    let attempt = app.attempt(actor, "credit_invoice", &(invoice_id, reason));
    app.retrying_at_most(RUN_ATTEMPTS, || async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let today = today();
        let mut invoice = app.invoices().load(invoice_id).await?;
        let document = invoice.state.document.clone().ok_or_else(|| AppError::rule(&InvoiceError::NotIssued))?;
        let year = today.year();
        let series_id = SeriesKind::CreditNote.series_id(document.seller.org_number.digits(), year);
        let mut series = app.series().load_newest(&series_id).await?;
        let number = SeriesKind::CreditNote.number(year, series.state.next().unwrap_or(u32::MAX));
        let credited = invoice
            .decide(InvoiceCommand::Credit { number: number.clone(), issued_on: today, reason: reason.into() })
            .await?;
        let mut changes =
            vec![series.decide(SeriesCommand::TakeNext { document_id: invoice_id.to_string() }).await?, credited];
        for month in &document.months {
            let mut report = app.reports().load(&month.report_id).await?;
            changes.push(report.decide(ReimbursementCommand::Reopen { credit_note: number.clone() }).await?);
        }
        for month in &document.deliveries {
            let mut deliveries = app.deliveries().load(&month.deliveries_id).await?;
            changes.push(deliveries.decide(DeliveryCommand::Reopen { credit_note: number.clone() }).await?);
        }
        attempt.commit(&changes, (invoice_id.to_string(), invoice.state)).await
    })
    .await
}

/// Records a payment received; an invoice paid in full is `PAID`, in part `PART_PAID`.
pub async fn register_payment(
    app: &App,
    actor: &Actor,
    invoice_id: &str,
    amount: Ore,
    paid_on: Date,
) -> Result<IssuedInvoice, AppError> {
    access::staff(actor)?;
    existing(app, invoice_id).await?;
    let invoice =
        change(app, app.invoices(), invoice_id, actor, || InvoiceCommand::RegisterPayment { amount, paid_on }).await?;
    Ok((invoice_id.to_string(), invoice))
}

/// An issued invoice the caller may read (staff: any; a buyer: its own), from the event log itself:
/// its XML is exactly what was issued.
pub async fn invoice(app: &App, actor: &Actor, invoice_id: &str) -> Result<IssuedInvoice, AppError> {
    let scope = access::read(actor, access::Reading::Invoices)?;
    let invoice = app.invoices().load(invoice_id).await?;
    let not_found = || AppError::NotFound(format!("no invoice {invoice_id}"));
    let document = invoice.state.document.as_ref().ok_or_else(not_found)?;
    match scope {
        views::Scope::All => {}
        views::Scope::Buyer(org) if org == document.buyer.org_number => {}
        _ => return Err(not_found()),
    }
    Ok((invoice_id.to_string(), invoice.state))
}

/// A page of the invoices view made whole: the view's rows leave out the XML, lines and months
/// (`views::invoices::trim`), so a reader asking for them gets the invoices from the event log.
pub async fn whole(app: &App, rows: Vec<views::Row<Invoice>>) -> Result<Vec<views::Row<Invoice>>, AppError> {
    super::from_log(app.invoices(), rows).await
}

async fn existing(app: &App, invoice_id: &str) -> Result<(), AppError> {
    match app.invoices().load(invoice_id).await?.exists() {
        true => Ok(()),
        false => Err(AppError::NotFound(format!("no invoice {invoice_id}"))),
    }
}
