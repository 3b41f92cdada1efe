//! Invoicing: the seller, the month-end run, credit notes, payments, and the invoices with their UBL.

use super::agreement::BuyerView;
use super::{actor, app, caller, connection, iso, page, reader, Listing};
use crate::application::access::Reading;
use crate::application::input::{date, id, month, optional_text, org_number, reason, text, NAME_MAX};
use crate::application::invoicing::{self, IssuedInvoice, MonthEndRun};
use crate::application::today;
use crate::error::AppError;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::agreement::VatCategory;
use konsortium_domain::invoice::{Consortium, InvoiceStatus, Seller};
use konsortium_domain::money::Ore;
use konsortium_projections::views::invoices::{self as view, InvoiceFilter};

/// The consortium as seller: what every invoice says about who sends it and where to pay.
#[derive(InputObject)]
pub struct RegisterConsortiumInput {
    pub name: String,
    /// Organisation number; also the Peppol endpoint (scheme 0007).
    pub org_number: String,
    /// `SE` + the organisation number + `01`.
    pub vat_number: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// Bankgiro number, e.g. `5050-1055`; a bankgiro or an IBAN is required.
    pub bankgiro: Option<String>,
    pub iban: Option<String>,
    pub email: String,
    /// Days from issue to due date; 30 when left out.
    pub payment_terms_days: Option<u32>,
}

impl RegisterConsortiumInput {
    fn parse(self) -> Result<Seller, AppError> {
        let digits = |field: &str, value: Option<&str>| -> Result<Option<String>, AppError> {
            Ok(optional_text(field, value, 40)?.map(|v| v.chars().filter(|c| !matches!(c, '-' | ' ')).collect()))
        };
        Ok(Seller {
            name: text("name", &self.name, NAME_MAX)?,
            org_number: org_number("orgNumber", &self.org_number)?,
            vat_number: text("vatNumber", &self.vat_number, 20)?.to_uppercase(),
            street: text("street", &self.street, NAME_MAX)?,
            postal_code: text("postalCode", &self.postal_code, 10)?,
            city: text("city", &self.city, NAME_MAX)?,
            bankgiro: digits("bankgiro", self.bankgiro.as_deref())?,
            iban: digits("iban", self.iban.as_deref())?.map(|i| i.to_uppercase()),
            email: text("email", &self.email, NAME_MAX)?,
            payment_terms_days: self.payment_terms_days.unwrap_or(30),
        })
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Consortium")]
pub struct ConsortiumView {
    pub name: String,
    pub org_number: String,
    pub vat_number: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub bankgiro: Option<String>,
    pub iban: Option<String>,
    pub email: String,
    pub payment_terms_days: u32,
}

impl ConsortiumView {
    fn new(consortium: Consortium) -> Option<ConsortiumView> {
        let s = consortium.seller?;
        Some(ConsortiumView {
            name: s.name,
            org_number: s.org_number.to_string(),
            vat_number: s.vat_number,
            street: s.street,
            postal_code: s.postal_code,
            city: s.city,
            bankgiro: s.bankgiro,
            iban: s.iban,
            email: s.email,
            payment_terms_days: s.payment_terms_days,
        })
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "InvoiceStatus")]
pub enum InvoiceStatusGql {
    Open,
    PartPaid,
    Paid,
    /// Past the due date and not paid in full.
    Overdue,
    /// Cancelled by a credit note.
    Credited,
}

impl From<InvoiceStatus> for InvoiceStatusGql {
    fn from(value: InvoiceStatus) -> Self {
        match value {
            InvoiceStatus::Open => InvoiceStatusGql::Open,
            InvoiceStatus::PartPaid => InvoiceStatusGql::PartPaid,
            InvoiceStatus::Paid => InvoiceStatusGql::Paid,
            InvoiceStatus::Overdue => InvoiceStatusGql::Overdue,
            InvoiceStatus::Credited => InvoiceStatusGql::Credited,
        }
    }
}

impl From<InvoiceStatusGql> for InvoiceStatus {
    fn from(value: InvoiceStatusGql) -> Self {
        match value {
            InvoiceStatusGql::Open => InvoiceStatus::Open,
            InvoiceStatusGql::PartPaid => InvoiceStatus::PartPaid,
            InvoiceStatusGql::Paid => InvoiceStatus::Paid,
            InvoiceStatusGql::Overdue => InvoiceStatus::Overdue,
            InvoiceStatusGql::Credited => InvoiceStatus::Credited,
        }
    }
}

/// A line as the buyer reads it: member, rate and month, the filled place-days (or one delivery)
/// and the amount; never a participant.
#[derive(SimpleObject)]
#[graphql(name = "InvoiceLine")]
pub struct InvoiceLineView {
    pub member_id: ID,
    pub month: String,
    pub description: String,
    /// Filled place-days, or how many were delivered.
    pub quantity: u32,
    /// `DAY` (place-days) or `C62` (one delivery).
    pub unit: String,
    pub amount_ore: i64,
    /// The price of one, for a recorded delivery.
    pub unit_price_ore: Option<i64>,
}

/// A member's approved month on the invoice.
#[derive(SimpleObject)]
#[graphql(name = "InvoicedMonth")]
pub struct InvoicedMonthView {
    pub report_id: ID,
    pub member_id: ID,
    pub month: String,
    pub version: u32,
    pub amount_ore: i64,
}

#[derive(SimpleObject)]
#[graphql(name = "Payment")]
pub struct PaymentView {
    pub amount_ore: i64,
    pub paid_on: String,
}

#[derive(SimpleObject)]
#[graphql(name = "CreditNote")]
pub struct CreditNoteView {
    pub number: String,
    pub issued_on: String,
    pub reason: String,
    /// The credit note as Peppol BIS Billing 3.0 UBL (CreditNote, type 381).
    pub ubl: String,
}

/// An issued invoice; nothing in it changes after issue but its payments and credit note.
#[derive(SimpleObject)]
#[graphql(name = "Invoice")]
pub struct InvoiceView {
    pub id: ID,
    pub number: String,
    pub status: InvoiceStatusGql,
    pub issued_on: String,
    pub due_on: String,
    pub agreement_id: ID,
    pub buyer: BuyerView,
    pub contract_reference: String,
    pub period_start: String,
    pub period_end: String,
    /// `S` (25 %) or `E` (exempt).
    pub vat_category: String,
    pub vat_exemption_reason: Option<String>,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub payable_ore: i64,
    pub paid_ore: i64,
    /// OCR reference for the payment (length and Luhn check digit).
    pub ocr: String,
    pub months: Vec<InvoicedMonthView>,
    pub lines: Vec<InvoiceLineView>,
    pub payments: Vec<PaymentView>,
    pub credit_note: Option<CreditNoteView>,
    /// The invoice as Peppol BIS Billing 3.0 UBL, exactly as issued.
    pub ubl: String,
}

impl InvoiceView {
    fn new((id, invoice): IssuedInvoice) -> Option<InvoiceView> {
        let status = invoice.status(today())?.into();
        let paid = invoice.paid().0;
        let d = invoice.document?;
        let (vat_category, vat_exemption_reason) = match d.vat {
            VatCategory::Standard25 => ("S".to_string(), None),
            VatCategory::Exempt { reason } => ("E".to_string(), Some(reason)),
        };
        Some(InvoiceView {
            id: ID(id),
            number: d.number,
            status,
            issued_on: iso(d.issued_on),
            due_on: iso(d.due_on),
            agreement_id: ID(d.agreement_id),
            buyer: BuyerView {
                name: d.buyer.name,
                org_number: d.buyer.org_number.to_string(),
                reference: d.buyer.reference,
                address: d.buyer.address.map(Into::into),
            },
            contract_reference: d.contract_reference,
            period_start: iso(d.period_start),
            period_end: iso(d.period_end),
            vat_category,
            vat_exemption_reason,
            net_ore: d.net.0,
            vat_ore: d.vat_amount.0,
            payable_ore: d.payable.0,
            paid_ore: paid,
            ocr: d.ocr,
            months: d
                .months
                .into_iter()
                .map(|m| InvoicedMonthView {
                    report_id: ID(m.report_id),
                    member_id: ID(m.member_id),
                    month: m.month.to_string(),
                    version: m.version,
                    amount_ore: m.amount.0,
                })
                .collect(),
            lines: d
                .lines
                .into_iter()
                .map(|l| InvoiceLineView {
                    member_id: ID(l.member_id),
                    month: l.month.to_string(),
                    description: l.description,
                    quantity: l.quantity,
                    unit: l.unit.code().to_string(),
                    amount_ore: l.amount.0,
                    unit_price_ore: l.unit_price.map(|p| p.0),
                })
                .collect(),
            payments: invoice
                .payments
                .into_iter()
                .map(|p| PaymentView { amount_ore: p.amount.0, paid_on: iso(p.paid_on) })
                .collect(),
            credit_note: invoice.credit.map(|c| CreditNoteView {
                number: c.number,
                issued_on: iso(c.issued_on),
                reason: c.reason,
                ubl: c.ubl,
            }),
            ubl: invoice.ubl,
        })
    }
}

fn view(issued: IssuedInvoice) -> Result<InvoiceView, AppError> {
    let id = issued.0.clone();
    InvoiceView::new(issued).ok_or_else(|| AppError::NotFound(format!("no invoice {id}")))
}

#[derive(Default)]
pub struct InvoiceQuery;

#[Object]
impl InvoiceQuery {
    /// The consortium as seller, once registered (staff only).
    async fn consortium(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ConsortiumView>> {
        crate::application::access::staff(caller(ctx)?)?;
        let consortium =
            app(ctx).consortium().load(konsortium_domain::invoice::CONSORTIUM_ID).await.map_err(AppError::from)?;
        Ok(ConsortiumView::new(consortium.state))
    }

    /// One invoice with its UBL (staff: any; a buyer: its own; a member: none).
    async fn invoice(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<InvoiceView>> {
        let invoice_id = self::id("id", &id)?;
        match invoicing::invoice(app(ctx), caller(ctx)?, &invoice_id).await {
            Ok(found) => Ok(InvoiceView::new(found)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Invoices by number, a page at a time, optionally by status, buyer (organisation number) or a
    /// month (`YYYY-MM`) they cover. Staff read all, a buyer its own, a member none.
    #[graphql(complexity = "super::list_cost(first, child_complexity)")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<InvoiceStatusGql>,
        buyer: Option<String>,
        month: Option<String>,
    ) -> async_graphql::Result<Listing<InvoiceView>> {
        let page = page(ctx, first, after.as_deref())?;
        let (scope, _turn) = reader(ctx, Reading::Invoices).await?;
        let filter = InvoiceFilter {
            scope,
            status: status.map(Into::into),
            buyer: buyer.map(|b| org_number("buyer", &b)).transpose()?,
            month: month.map(|m| self::month("month", &m)).transpose()?,
            today: today(),
        };
        let mut rows = view::page(app(ctx).reads(), &filter, &page).await.map_err(AppError::from)?;
        if super::list_asks_for(ctx, &[&["ubl"], &["lines"], &["months"], &["creditNote", "ubl"]]) {
            rows.rows = invoicing::whole(app(ctx), rows.rows).await?;
        }
        Ok(connection(rows, &page, |row| row.cursor(), |row| InvoiceView::new((row.id, row.state))))
    }
}

#[derive(Default)]
pub struct InvoiceMutation;

#[Object]
impl InvoiceMutation {
    /// Registers the consortium as the seller on every invoice (once).
    async fn register_consortium(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: RegisterConsortiumInput,
    ) -> async_graphql::Result<ConsortiumView> {
        let seller = input.parse()?;
        let consortium = invoicing::register_consortium(app(ctx), &actor(ctx, idempotency_key)?, &seller).await?;
        Ok(ConsortiumView::new(consortium).ok_or_else(|| AppError::NotFound("no consortium".into()))?)
    }

    /// The month-end run: one invoice per agreement for every approved, not yet invoiced month up to
    /// `month` (`YYYY-MM`, over in Swedish time), of one agreement or all; the months are locked in
    /// the same step. Returns the invoices it issued (none when nothing was left to invoice).
    async fn issue_invoices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        month: String,
        agreement_id: Option<ID>,
    ) -> async_graphql::Result<Vec<InvoiceView>> {
        let run = MonthEndRun {
            month: self::month("month", &month)?,
            agreement_id: agreement_id.map(|a| id("agreementId", &a)).transpose()?,
        };
        let issued = invoicing::issue_invoices(app(ctx), &actor(ctx, idempotency_key)?, &run).await?;
        Ok(issued.into_iter().filter_map(InvoiceView::new).collect())
    }

    /// Cancels an invoice with a credit note (its own number series) quoting it, and reopens its
    /// months for correction and a new invoice.
    async fn credit_invoice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        invoice_id: ID,
        reason: String,
    ) -> async_graphql::Result<InvoiceView> {
        let invoice_id = id("invoiceId", &invoice_id)?;
        let reason = self::reason("reason", &reason)?;
        Ok(view(invoicing::credit_invoice(app(ctx), &actor(ctx, idempotency_key)?, &invoice_id, &reason).await?)?)
    }

    /// Records a payment received on an invoice (öre, more than 0, at most what is still owed).
    async fn register_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        invoice_id: ID,
        amount_ore: i64,
        #[graphql(desc = "`YYYY-MM-DD`")] paid_on: String,
    ) -> async_graphql::Result<InvoiceView> {
        let invoice_id = id("invoiceId", &invoice_id)?;
        let paid_on = date("paidOn", &paid_on)?;
        let actor = actor(ctx, idempotency_key)?;
        Ok(view(invoicing::register_payment(app(ctx), &actor, &invoice_id, Ore(amount_ore), paid_on).await?)?)
    }
}
