//! Invoicing the buyers (fakturering): the consortium as seller, gap-free number series, invoices and
//! credit notes with their Peppol BIS Billing 3.0 UBL, and the payments received.
//!
//! An invoice is a legal record: it is issued once with its final XML in the event, and only a credit
//! note (in its own series) corrects it. Each number is taken from an [`InvoiceSeries`] aggregate in the
//! same commit as the invoice, so the series' optimistic lock keeps the numbers gap-free.

mod aggregate;
mod lines;
mod ocr;
mod seller;
mod series;
pub mod ubl;

pub use aggregate::{
    CreditNote, Invoice, InvoiceCommand, InvoiceDocument, InvoiceDraft, InvoiceError, InvoiceEvent, InvoiceStatus,
    InvoicedDeliveries, InvoicedMonth, Payment,
};
pub use lines::{lines_for_deliveries, lines_for_month, InvoiceLine, LineUnit};
pub use ocr::ocr_reference;
pub use seller::{
    Consortium, ConsortiumCommand, ConsortiumError, ConsortiumEvent, Seller, CONSORTIUM_ID, MAX_PAYMENT_TERMS_DAYS,
};
pub use series::{InvoiceSeries, SeriesCommand, SeriesError, SeriesEvent, SeriesKind};
