use super::lines::InvoiceLine;
use super::ocr::ocr_reference;
use super::seller::Seller;
use super::ubl;
use crate::agreement::{Buyer, VatCategory};
use crate::calendar::Month;
use crate::money::{round_half_up, Ore};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::Date;

/// A member's approved month on an invoice, at the version that was approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicedMonth {
    pub report_id: String,
    pub member_id: String,
    pub month: Month,
    pub version: u32,
    pub amount: Ore,
}

/// A goods-and-services month's recorded deliveries on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicedDeliveries {
    /// The `DeliveryMonth` aggregate's id.
    pub deliveries_id: String,
    pub month: Month,
    pub count: u32,
    pub amount: Ore,
    /// The members earning a share of the deliveries, so the payout run knows whose months the
    /// invoice holds without loading the deliveries (empty on invoices issued before it was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// What the month-end run puts on an invoice; the aggregate adds the totals, VAT, OCR and the XML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    pub number: String,
    pub issued_on: Date,
    pub seller: Seller,
    pub agreement_id: String,
    pub buyer: Buyer,
    pub contract_reference: String,
    pub vat: VatCategory,
    /// The agreement's payment terms; the seller's when none.
    #[serde(default)]
    pub payment_terms_days: Option<u32>,
    pub months: Vec<InvoicedMonth>,
    /// Recorded deliveries (goods and services), invoiced with the months.
    #[serde(default)]
    pub deliveries: Vec<InvoicedDeliveries>,
    pub lines: Vec<InvoiceLine>,
}

/// An issued invoice as it was sent: nothing in it changes afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDocument {
    pub number: String,
    pub issued_on: Date,
    pub due_on: Date,
    pub seller: Seller,
    pub agreement_id: String,
    pub buyer: Buyer,
    pub contract_reference: String,
    pub vat: VatCategory,
    pub period_start: Date,
    pub period_end: Date,
    pub months: Vec<InvoicedMonth>,
    #[serde(default)]
    pub deliveries: Vec<InvoicedDeliveries>,
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines, without VAT.
    pub net: Ore,
    /// VAT, computed once for the invoice's one category.
    pub vat_amount: Ore,
    pub payable: Ore,
    pub ocr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub amount: Ore,
    pub paid_on: Date,
}

/// The credit note that cancelled an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNote {
    pub number: String,
    pub issued_on: Date,
    pub reason: String,
    pub ubl: String,
}

/// Where an invoice stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatus {
    Open,
    PartPaid,
    Paid,
    /// Past its due date and not paid in full.
    Overdue,
    /// Cancelled by a credit note.
    Credited,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub document: Option<InvoiceDocument>,
    /// The UBL XML as issued.
    pub ubl: String,
    pub payments: Vec<Payment>,
    pub credit: Option<CreditNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InvoiceCommand {
    Issue(Box<InvoiceDraft>),
    RegisterPayment {
        amount: Ore,
        paid_on: Date,
    },
    /// Cancels the whole invoice with a credit note numbered in its own series.
    Credit {
        number: String,
        issued_on: Date,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InvoiceEvent {
    InvoiceIssued { document: Box<InvoiceDocument>, ubl: String },
    PaymentRegistered { amount: Ore, paid_on: Date },
    InvoiceCredited { number: String, issued_on: Date, reason: String, ubl: String },
}

impl DomainEvent for InvoiceEvent {
    fn event_type(&self) -> String {
        match self {
            InvoiceEvent::InvoiceIssued { .. } => "InvoiceIssued",
            InvoiceEvent::PaymentRegistered { .. } => "PaymentRegistered",
            InvoiceEvent::InvoiceCredited { .. } => "InvoiceCredited",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("this invoice is already issued")]
    AlreadyIssued,
    #[error("no invoice is issued under this id")]
    NotIssued,
    #[error("a month is invoiced once it is over; {month} ends {last_day}")]
    MonthNotOver { month: Month, last_day: Date },
    #[error("an invoice needs at least one approved month")]
    NothingToInvoice,
    #[error("the invoice's lines ({lines}) do not add up to its months ({months})")]
    LinesDoNotAddUp { lines: Ore, months: Ore },
    #[error("the invoice's amounts are larger than can be invoiced")]
    AmountTooLarge,
    #[error("a payment is more than 0 öre")]
    PaymentNotPositive,
    #[error("the payment is more than the {outstanding} still owed")]
    PaymentExceedsBalance { outstanding: Ore },
    #[error("a payment cannot arrive before the invoice was issued ({issued_on})")]
    PaidBeforeIssue { issued_on: Date },
    #[error("the invoice was credited; nothing more is owed on it")]
    Credited,
    #[error("this invoice is already credited")]
    AlreadyCredited,
    #[error("a credit note needs a reason the buyer can read")]
    ReasonMissing,
}

/// The number of days in the payment terms after the issue date.
fn due_date(issued_on: Date, days: u32) -> Date {
    issued_on.checked_add(time::Duration::days(i64::from(days))).unwrap_or(issued_on)
}

impl InvoiceDraft {
    /// Totals, VAT (once for the invoice), due date and OCR reference; checks the lines add up to the
    /// months to the öre.
    fn complete(self) -> Result<InvoiceDocument, InvoiceError> {
        let covered = || self.months.iter().map(|m| m.month).chain(self.deliveries.iter().map(|d| d.month));
        let first = covered().min().ok_or(InvoiceError::NothingToInvoice)?;
        let last = covered().max().ok_or(InvoiceError::NothingToInvoice)?;
        let net = Ore::checked_sum(self.lines.iter().map(|l| l.amount)).ok_or(InvoiceError::AmountTooLarge)?;
        let amounts = self.months.iter().map(|m| m.amount).chain(self.deliveries.iter().map(|d| d.amount));
        let months = Ore::checked_sum(amounts).ok_or(InvoiceError::AmountTooLarge)?;
        if net != months {
            return Err(InvoiceError::LinesDoNotAddUp { lines: net, months });
        }
        let vat_amount = match self.vat {
            VatCategory::Standard25 => Ore(round_half_up(i128::from(net.0) * 25, 100)),
            VatCategory::Exempt { .. } => Ore::ZERO,
        };
        let payable = net.checked_add(vat_amount).ok_or(InvoiceError::AmountTooLarge)?;
        Ok(InvoiceDocument {
            due_on: due_date(self.issued_on, self.payment_terms_days.unwrap_or(self.seller.payment_terms_days)),
            ocr: ocr_reference(&self.number),
            number: self.number,
            issued_on: self.issued_on,
            seller: self.seller,
            agreement_id: self.agreement_id,
            buyer: self.buyer,
            contract_reference: self.contract_reference,
            vat: self.vat,
            period_start: first.first_day(),
            period_end: last.last_day(),
            months: self.months,
            deliveries: self.deliveries,
            lines: self.lines,
            net,
            vat_amount,
            payable,
        })
    }
}

impl Invoice {
    pub fn paid(&self) -> Ore {
        Ore::checked_sum(self.payments.iter().map(|p| p.amount)).unwrap_or(Ore(i64::MAX))
    }

    /// Where the invoice stands on `today`.
    pub fn status(&self, today: Date) -> Option<InvoiceStatus> {
        let document = self.document.as_ref()?;
        let paid = self.paid();
        Some(match () {
            _ if self.credit.is_some() => InvoiceStatus::Credited,
            _ if paid >= document.payable => InvoiceStatus::Paid,
            _ if today > document.due_on => InvoiceStatus::Overdue,
            _ if paid > Ore::ZERO => InvoiceStatus::PartPaid,
            _ => InvoiceStatus::Open,
        })
    }

    fn decide(&self, command: InvoiceCommand) -> Result<InvoiceEvent, InvoiceError> {
        if let InvoiceCommand::Issue(draft) = command {
            if self.document.is_some() {
                return Err(InvoiceError::AlreadyIssued);
            }
            let document = draft.complete()?;
            let ubl = ubl::invoice(&document);
            return Ok(InvoiceEvent::InvoiceIssued { document: Box::new(document), ubl });
        }
        let document = self.document.as_ref().ok_or(InvoiceError::NotIssued)?;
        match command {
            InvoiceCommand::Issue(_) => Err(InvoiceError::AlreadyIssued),
            InvoiceCommand::RegisterPayment { amount, paid_on } => {
                if self.credit.is_some() {
                    return Err(InvoiceError::Credited);
                }
                if amount <= Ore::ZERO {
                    return Err(InvoiceError::PaymentNotPositive);
                }
                if paid_on < document.issued_on {
                    return Err(InvoiceError::PaidBeforeIssue { issued_on: document.issued_on });
                }
                let outstanding = document.payable.checked_sub(self.paid()).unwrap_or(Ore::ZERO);
                if amount > outstanding {
                    return Err(InvoiceError::PaymentExceedsBalance { outstanding });
                }
                Ok(InvoiceEvent::PaymentRegistered { amount, paid_on })
            }
            InvoiceCommand::Credit { number, issued_on, reason } => {
                if self.credit.is_some() {
                    return Err(InvoiceError::AlreadyCredited);
                }
                let reason = reason.trim().to_string();
                if reason.is_empty() {
                    return Err(InvoiceError::ReasonMissing);
                }
                let ubl = ubl::credit_note(document, &number, issued_on, &reason);
                Ok(InvoiceEvent::InvoiceCredited { number, issued_on, reason, ubl })
            }
        }
    }
}

impl Aggregate for Invoice {
    const TYPE: &'static str = "Invoice";
    type Command = InvoiceCommand;
    type Event = InvoiceEvent;
    type Error = InvoiceError;
    type Services = ();

    async fn handle(&mut self, command: InvoiceCommand, _: &(), sink: &EventSink<Self>) -> Result<(), InvoiceError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: InvoiceEvent) {
        match event {
            InvoiceEvent::InvoiceIssued { document, ubl } => {
                self.document = Some(*document);
                self.ubl = ubl;
            }
            InvoiceEvent::PaymentRegistered { amount, paid_on } => self.payments.push(Payment { amount, paid_on }),
            InvoiceEvent::InvoiceCredited { number, issued_on, reason, ubl } => {
                self.credit = Some(CreditNote { number, issued_on, reason, ubl })
            }
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
