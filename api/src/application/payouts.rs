//! Paying the members: the payout policy (membership fees, when members are paid, the bookkeeping
//! accounts), the statement run, the statements each caller may read, the month's reconciliation, and
//! the month's SIE 4 file and CSV of statements.
//!
//! "A month is paid out once" and "a credit note is taken back once" are the member's ledger's
//! optimistic lock: each statement is ONE append of the statement series' `NumberTaken` and the
//! ledger's `PayoutStatementIssued`, each at the sequence its decision saw, so two runs racing for a
//! number or a member collide, and the loser decides again on fresh state. The invoiced months come
//! from the invoices themselves (the invoices view only lists which to load).

use super::invoicing::seller;
use super::{access, change, today};
use crate::app::{Actor, App};
use crate::error::AppError;
use konsortium_domain::calendar::Month;
use konsortium_domain::invoice::{Seller, SeriesCommand, SeriesKind};
use konsortium_domain::member::MemberCategory;
use konsortium_domain::money::Ore;
use konsortium_domain::payout::sie::{self, Company};
use konsortium_domain::payout::{
    draft_statement, reconcile, Accounts, InvoicedFact, LedgerCommand, LedgerError, PayoutPolicy, PayoutTiming,
    PolicyCommand, Reconciliation, Statement, POLICY_ID,
};
use konsortium_domain::reimbursement::MonthlyReimbursement;
use konsortium_projections::views::{self, Scope};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// As for invoices: every statement of a run shares the year's series, so losing a race is expected.
const RUN_ATTEMPTS: u32 = 200;

/// Sets the membership fee of a member category from a month on (öre per month, at least 0).
pub async fn set_category_fee(
    app: &App,
    actor: &Actor,
    category: MemberCategory,
    from: Month,
    monthly: Ore,
) -> Result<PayoutPolicy, AppError> {
    access::staff(actor)?;
    change(app, app.payout_policy(), POLICY_ID, actor, || PolicyCommand::SetCategoryFee { category, from, monthly })
        .await
}

/// Sets one member's own fee from a month on; `None` returns it to its category's fee.
pub async fn set_member_fee(
    app: &App,
    actor: &Actor,
    member_id: &str,
    from: Month,
    monthly: Option<Ore>,
) -> Result<PayoutPolicy, AppError> {
    access::staff(actor)?;
    if !app.members().load(member_id).await?.exists() {
        return Err(AppError::NotFound(format!("no member {member_id}")));
    }
    let command = || PolicyCommand::SetMemberFee { member_id: member_id.to_string(), from, monthly };
    change(app, app.payout_policy(), POLICY_ID, actor, command).await
}

/// Whether members are paid when the buyer is invoiced (the default) or when it has paid.
pub async fn set_payout_timing(app: &App, actor: &Actor, timing: PayoutTiming) -> Result<PayoutPolicy, AppError> {
    access::staff(actor)?;
    change(app, app.payout_policy(), POLICY_ID, actor, || PolicyCommand::SetTiming(timing)).await
}

/// The accounts the SIE export books on (BAS by default).
pub async fn set_accounts(app: &App, actor: &Actor, accounts: &Accounts) -> Result<PayoutPolicy, AppError> {
    access::staff(actor)?;
    change(app, app.payout_policy(), POLICY_ID, actor, || PolicyCommand::SetAccounts(accounts.clone())).await
}

/// The payout policy (staff only).
pub async fn payout_policy(app: &App, actor: &Actor) -> Result<PayoutPolicy, AppError> {
    access::staff(actor)?;
    Ok(app.payout_policy().load(POLICY_ID).await?.state)
}

/// Every member's month on the invoices `invoice_ids`, with its credit note and whether it is
/// paid, read from the invoices and reports themselves.
async fn invoiced_facts(app: &App, invoice_ids: &[String]) -> Result<Vec<InvoicedFact>, AppError> {
    let mut facts = Vec::new();
    let mut reports: BTreeMap<String, MonthlyReimbursement> = BTreeMap::new();
    for invoice_id in invoice_ids {
        let invoice = app.invoices().load(invoice_id).await?.state;
        let Some(document) = invoice.document.as_ref() else { continue };
        let paid_in_full = invoice.paid() >= document.payable;
        for invoiced in &document.months {
            if !reports.contains_key(&invoiced.report_id) {
                let report = app.reports().load(&invoiced.report_id).await?.state;
                reports.insert(invoiced.report_id.clone(), report);
            }
            let report = reports.get(&invoiced.report_id);
            let approved = report.and_then(|r| r.approved.iter().find(|a| a.version == invoiced.version));
            let Some(approved) = approved else {
                return Err(AppError::Internal(
                    format!("invoice {} holds a report version that was never approved", document.number).into(),
                ));
            };
            facts.push(InvoicedFact {
                invoice_id: invoice_id.clone(),
                invoice_number: document.number.clone(),
                credit_note: invoice.credit.as_ref().map(|c| c.number.clone()),
                paid_in_full,
                report_id: invoiced.report_id.clone(),
                agreement_id: document.agreement_id.clone(),
                member_id: invoiced.member_id.clone(),
                month: invoiced.month,
                gross: invoiced.amount,
                commission: approved.commission,
                delivery: false,
            });
        }
        for invoiced in &document.deliveries {
            let deliveries = app.deliveries().load(&invoiced.deliveries_id).await?.state;
            let agreement = app.agreements().load(&deliveries.agreement_id).await?.state;
            let Some(terms) = agreement.terms.as_ref() else { continue };
            for (member_id, earned) in deliveries.earnings_by_member() {
                facts.push(InvoicedFact {
                    invoice_id: invoice_id.clone(),
                    invoice_number: document.number.clone(),
                    credit_note: invoice.credit.as_ref().map(|c| c.number.clone()),
                    paid_in_full,
                    // One line per member of a month's deliveries: the key tells them apart.
                    report_id: format!("{}:{member_id}", invoiced.deliveries_id),
                    agreement_id: document.agreement_id.clone(),
                    member_id,
                    month: invoiced.month,
                    gross: earned,
                    commission: terms.commission.of(earned),
                    delivery: true,
                });
            }
        }
    }
    Ok(facts)
}

/// The statement run for `month`: one statement per member with something to settle — its invoiced
/// months up to `month` not yet paid out, and reversals of paid-out months whose invoice was
/// credited since — numbered in the statement series. Members with a statement for the month keep
/// it; a repeated run issues nothing. A month no invoice covers is `MonthNotInvoiced`.
pub async fn issue_payout_statements(app: &App, actor: &Actor, month: Month) -> Result<Vec<Statement>, AppError> {
    access::staff(actor)?;
    let attempt = app.attempt(actor, "issue_payout_statements", &month);
    if let Some(answer) = attempt.replay().await? {
        return Ok(answer);
    }
    let seller = seller(app).await?;
    if !views::settlement::any_invoiced(app.db(), month).await? {
        return Err(AppError::rule(&LedgerError::MonthNotInvoiced { month }));
    }
    // Only invoices with a month still to pay out or take back: a run's work does not grow with
    // the invoices settled before it.
    let open = views::settlement::open_invoices_until(app.db(), month).await?;
    let facts = invoiced_facts(app, &open).await?;
    let members: BTreeSet<&str> = facts.iter().map(|f| f.member_id.as_str()).collect();
    let each = actor.with_key(None);
    let today = today();
    let mut issued = Vec::new();
    for member_id in members {
        let one = || issue_one(app, &each, &seller, member_id, month, &facts, today);
        if let Some(statement) = app.retrying_at_most(RUN_ATTEMPTS, one).await? {
            issued.push(statement);
        }
    }
    attempt.commit(&[], issued).await
}

/// One member's statement, decided on its ledger and the series as they are now; `None` when it
/// has nothing to settle or its statement for the month is issued.
async fn issue_one(
    app: &App,
    actor: &Actor,
    seller: &Seller,
    member_id: &str,
    month: Month,
    facts: &[InvoicedFact],
    today: Date,
) -> Result<Option<Statement>, AppError> {
    let mut ledger = app.payouts().load(member_id).await?;
    if ledger.state.statement(month).is_some() {
        return Ok(None);
    }
    let policy = app.payout_policy().load(POLICY_ID).await?.state;
    let member = app.members().load(member_id).await?.state;
    let category = member
        .standing(member_id)
        .map(|s| s.category_on(month.first_day()))
        .unwrap_or(MemberCategory::OtherAssociation);
    let fee = policy.fee(member_id, category, month);
    let year = today.year();
    let series_id = SeriesKind::PayoutStatement.series_id(seller.org_number.digits(), year);
    let mut series = app.series().load_newest(&series_id).await?;
    let number = SeriesKind::PayoutStatement.number(year, series.state.next().unwrap_or(u32::MAX));
    let Some(draft) = draft_statement(&ledger.state, member_id, month, facts, policy.timing, fee, &number, today)
    else {
        return Ok(None);
    };
    let changes = vec![
        series.decide(SeriesCommand::TakeNext { document_id: format!("{member_id}:{month}") }).await?,
        ledger.decide(LedgerCommand::Issue(Box::new(draft))).await?,
    ];
    let attempt = app.attempt(actor, "issue_payout_statement", &(member_id, month));
    attempt.commit(&changes, ()).await?;
    Ok(ledger.state.statement(month).cloned())
}

/// Statements the caller may read — staff: any; a member: its own; a buyer: none — of a month
/// and/or a member, by month and number.
pub async fn payout_statements(
    app: &App,
    actor: &Actor,
    month: Option<Month>,
    member_id: Option<&str>,
) -> Result<Vec<Statement>, AppError> {
    let scope = access::read(actor, access::Reading::Payouts)?;
    if let (Scope::Member(own), Some(asked)) = (&scope, member_id) {
        if own != asked {
            return Err(AppError::Forbidden("a member reads its own payout statements only".into()));
        }
    }
    let mut statements: Vec<Statement> = views::payouts::ledgers(app.reads(), &scope, month, member_id)
        .await?
        .into_iter()
        .flat_map(|row| row.state.statements)
        .filter(|s| month.is_none_or(|m| s.month == m))
        .collect();
    statements.sort_by(|a, b| (a.month, &a.number).cmp(&(b.month, &b.number)));
    Ok(statements)
}

/// The month's statements against the invoices and credit notes they settle (staff only).
pub async fn reconciliation(app: &App, actor: &Actor, month: Month) -> Result<Reconciliation, AppError> {
    access::staff(actor)?;
    let statements = payout_statements(app, actor, Some(month), None).await?;
    // The month's statements name every invoice they settle or reverse: those are the ones to load.
    let settled: BTreeSet<String> = statements
        .iter()
        .filter(|s| s.month == month)
        .flat_map(|s| s.lines.iter().chain(&s.adjustments))
        .map(|line| line.invoice_id.clone())
        .collect();
    let facts = invoiced_facts(app, &settled.into_iter().collect::<Vec<_>>()).await?;
    Ok(reconcile(month, &statements, &facts))
}

async fn member_names(app: &App, statements: &[Statement]) -> Result<BTreeMap<String, String>, AppError> {
    let mut names = BTreeMap::new();
    for statement in statements {
        if !names.contains_key(&statement.member_id) {
            let member = app.members().load(&statement.member_id).await?.state;
            names.insert(statement.member_id.clone(), member.name);
        }
    }
    Ok(names)
}

/// The month as a SIE 4 file in CP437 (staff only): the invoices covering the month, their credit
/// notes, and the month's payout statements, one voucher each, on the policy's accounts.
pub async fn sie_export(app: &App, actor: &Actor, month: Month) -> Result<Vec<u8>, AppError> {
    access::staff(actor)?;
    let seller = seller(app).await?;
    let accounts = app.payout_policy().load(POLICY_ID).await?.state.accounts;
    let mut vouchers = Vec::new();
    let mut credits = Vec::new();
    for row in views::payouts::invoices_covering(app.reads(), month).await? {
        let Some(document) = row.state.document.as_ref() else { continue };
        vouchers.push(sie::invoice_voucher(document, &accounts));
        if let Some(credit) = &row.state.credit {
            credits.push(sie::credit_note_voucher(document, credit, &accounts));
        }
    }
    vouchers.extend(credits);
    let statements = payout_statements(app, actor, Some(month), None).await?;
    let names = member_names(app, &statements).await?;
    for statement in &statements {
        let name = names.get(&statement.member_id).map(String::as_str).unwrap_or_default();
        vouchers.push(sie::statement_voucher(statement, name, &accounts));
    }
    let company = Company { name: seller.name.clone(), org_number: seller.org_number.to_string() };
    Ok(sie::write(&company, month.first_day(), today(), &vouchers, &accounts))
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    match text.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text.to_string(),
    }
}

/// The month's statements the caller may read, as CSV (UTF-8, comma-separated, one header line).
pub async fn statements_csv(app: &App, actor: &Actor, month: Month) -> Result<String, AppError> {
    statements_csv_of(app, actor, month, None).await
}

/// [`statements_csv`] of one member only (a member's own page, opened by staff too).
pub async fn statements_csv_of(
    app: &App,
    actor: &Actor,
    month: Month,
    member_id: Option<&str>,
) -> Result<String, AppError> {
    let statements = payout_statements(app, actor, Some(month), member_id).await?;
    let names = member_names(app, &statements).await?;
    let mut csv = String::from(
        "number,member_id,member,month,issued_on,gross_ore,commission_ore,membership_fee_ore,adjustments_ore,payout_ore\r\n",
    );
    for s in &statements {
        let name = names.get(&s.member_id).map(String::as_str).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\r\n",
            csv_field(&s.number),
            csv_field(&s.member_id),
            csv_field(name),
            s.month,
            s.issued_on,
            s.gross.0,
            s.commission.0,
            s.membership_fee.0,
            s.adjustments_total.0,
            s.payout.0
        ));
    }
    Ok(csv)
}
