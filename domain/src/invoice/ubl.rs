//! Peppol BIS Billing 3.0 UBL 2.1 for invoices and credit notes, built as text: the element order is
//! the schema's, every text is escaped, and amounts are kronor with two decimals. The XML is written
//! once, when the document is issued, and stored in its event; it never changes afterwards.

use super::aggregate::InvoiceDocument;
use super::lines::LineUnit;
use super::seller::Seller;
use crate::agreement::{Buyer, VatCategory};
use crate::money::Ore;
use std::fmt::Write;
use time::Date;

const CUSTOMIZATION: &str = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
const PROFILE: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";
const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Kronor with two decimals, as UBL amounts are written: `4000.00`.
pub fn amount(ore: Ore) -> String {
    let sign = if ore.is_negative() { "-" } else { "" };
    let abs = ore.0.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn money(tag: &str, ore: Ore) -> String {
    format!("<cbc:{tag} currencyID=\"SEK\">{}</cbc:{tag}>", amount(ore))
}

fn text(tag: &str, value: &str) -> String {
    format!("<cbc:{tag}>{}</cbc:{tag}>", escape(value))
}

/// The VAT category's code, rate and exemption reason.
fn category(vat: &VatCategory) -> (&'static str, &'static str, Option<&str>) {
    match vat {
        VatCategory::Standard25 => ("S", "25", None),
        VatCategory::Exempt { reason } => ("E", "0", Some(reason.as_str())),
    }
}

fn tax_category(tag: &str, vat: &VatCategory, with_reason: bool) -> String {
    let (id, percent, reason) = category(vat);
    let reason = match (with_reason, reason) {
        (true, Some(reason)) => text("TaxExemptionReason", reason),
        _ => String::new(),
    };
    format!(
        "<cac:{tag}>{}{}{reason}<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:{tag}>",
        text("ID", id),
        text("Percent", percent)
    )
}

fn seller_party(seller: &Seller) -> String {
    let org = seller.org_number.digits();
    let mut out = String::from("<cac:AccountingSupplierParty><cac:Party>");
    let _ = write!(out, "<cbc:EndpointID schemeID=\"0007\">{}</cbc:EndpointID>", escape(org));
    let _ = write!(out, "<cac:PartyName>{}</cac:PartyName>", text("Name", &seller.name));
    let _ = write!(
        out,
        "<cac:PostalAddress>{}{}{}<cac:Country><cbc:IdentificationCode>SE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>",
        text("StreetName", &seller.street),
        text("CityName", &seller.city),
        text("PostalZone", &seller.postal_code)
    );
    let _ = write!(
        out,
        "<cac:PartyTaxScheme>{}<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
        text("CompanyID", &seller.vat_number)
    );
    out.push_str(
        "<cac:PartyTaxScheme><cbc:CompanyID>Godkänd för F-skatt</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
    );
    let _ = write!(
        out,
        "<cac:PartyLegalEntity>{}<cbc:CompanyID schemeID=\"0007\">{}</cbc:CompanyID></cac:PartyLegalEntity>",
        text("RegistrationName", &seller.name),
        escape(org)
    );
    let _ = write!(out, "<cac:Contact>{}</cac:Contact>", text("ElectronicMail", &seller.email));
    out.push_str("</cac:Party></cac:AccountingSupplierParty>");
    out
}

fn buyer_party(buyer: &Buyer) -> String {
    let org = buyer.org_number.digits();
    let address = match &buyer.address {
        Some(a) => format!(
            "{}{}{}",
            text("StreetName", &a.street),
            text("CityName", &a.city),
            text("PostalZone", &a.postal_code)
        ),
        None => String::new(),
    };
    format!(
        "<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID=\"0007\">{org}</cbc:EndpointID>\
         <cac:PartyName>{name}</cac:PartyName>\
         <cac:PostalAddress>{address}<cac:Country><cbc:IdentificationCode>SE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>\
         <cac:PartyLegalEntity>{registration}<cbc:CompanyID schemeID=\"0007\">{org}</cbc:CompanyID></cac:PartyLegalEntity>\
         </cac:Party></cac:AccountingCustomerParty>",
        org = escape(org),
        name = text("Name", &buyer.name),
        registration = text("RegistrationName", &buyer.name),
    )
}

fn payment_means(seller: &Seller, ocr: &str) -> String {
    let mut out = String::new();
    if let Some(bankgiro) = &seller.bankgiro {
        let _ = write!(
            out,
            "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>{}<cac:PayeeFinancialAccount>{}\
             <cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>\
             </cac:PayeeFinancialAccount></cac:PaymentMeans>",
            text("PaymentID", ocr),
            text("ID", bankgiro)
        );
    }
    if let Some(iban) = &seller.iban {
        let _ = write!(
            out,
            "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>{}<cac:PayeeFinancialAccount>{}</cac:PayeeFinancialAccount></cac:PaymentMeans>",
            text("PaymentID", ocr),
            text("ID", iban)
        );
    }
    out
}

fn totals(doc: &InvoiceDocument) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<cac:TaxTotal>{}<cac:TaxSubtotal>{}{}{}</cac:TaxSubtotal></cac:TaxTotal>",
        money("TaxAmount", doc.vat_amount),
        money("TaxableAmount", doc.net),
        money("TaxAmount", doc.vat_amount),
        tax_category("TaxCategory", &doc.vat, true)
    );
    let _ = write!(
        out,
        "<cac:LegalMonetaryTotal>{}{}{}{}</cac:LegalMonetaryTotal>",
        money("LineExtensionAmount", doc.net),
        money("TaxExclusiveAmount", doc.net),
        money("TaxInclusiveAmount", doc.payable),
        money("PayableAmount", doc.payable)
    );
    out
}

fn lines(doc: &InvoiceDocument, line_tag: &str, quantity_tag: &str) -> String {
    let mut out = String::new();
    for (index, line) in doc.lines.iter().enumerate() {
        let unit = line.unit.code();
        // The price is the line's amount for its whole quantity (BaseQuantity), so quantity × price ÷
        // base quantity is the line amount exactly, whatever the days' rounding.
        let (price, base) = match line.unit {
            LineUnit::PlaceDays => (line.amount, line.quantity),
            // A recorded delivery: quantity × unit price is the amount exactly.
            LineUnit::Delivery => (line.unit_price.unwrap_or(line.amount), 1),
        };
        let _ = write!(
            out,
            "<cac:{line_tag}><cbc:ID>{}</cbc:ID><cbc:{quantity_tag} unitCode=\"{unit}\">{}</cbc:{quantity_tag}>{}\
             <cac:Item>{}{}</cac:Item>\
             <cac:Price>{}<cbc:BaseQuantity unitCode=\"{unit}\">{base}</cbc:BaseQuantity></cac:Price></cac:{line_tag}>",
            index + 1,
            line.quantity,
            money("LineExtensionAmount", line.amount),
            text("Name", &line.description),
            tax_category("ClassifiedTaxCategory", &doc.vat, false),
            money("PriceAmount", price),
        );
    }
    out
}

fn period(doc: &InvoiceDocument) -> String {
    format!(
        "<cac:InvoicePeriod>{}{}</cac:InvoicePeriod>",
        text("StartDate", &doc.period_start.to_string()),
        text("EndDate", &doc.period_end.to_string())
    )
}

/// The invoice (type 380) as Peppol BIS Billing 3.0 UBL.
pub fn invoice(doc: &InvoiceDocument) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" xmlns:cac=\"{CAC}\" xmlns:cbc=\"{CBC}\">"
    );
    out.push_str(&text("CustomizationID", CUSTOMIZATION));
    out.push_str(&text("ProfileID", PROFILE));
    out.push_str(&text("ID", &doc.number));
    out.push_str(&text("IssueDate", &doc.issued_on.to_string()));
    out.push_str(&text("DueDate", &doc.due_on.to_string()));
    out.push_str("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>");
    out.push_str("<cbc:DocumentCurrencyCode>SEK</cbc:DocumentCurrencyCode>");
    out.push_str(&text("BuyerReference", &doc.buyer.reference));
    out.push_str(&period(doc));
    let _ = write!(
        out,
        "<cac:ContractDocumentReference>{}</cac:ContractDocumentReference>",
        text("ID", &doc.contract_reference)
    );
    out.push_str(&seller_party(&doc.seller));
    out.push_str(&buyer_party(&doc.buyer));
    out.push_str(&payment_means(&doc.seller, &doc.ocr));
    let _ = write!(
        out,
        "<cac:PaymentTerms>{}</cac:PaymentTerms>",
        text("Note", &format!("{} dagar netto", doc.seller.payment_terms_days))
    );
    out.push_str(&totals(doc));
    out.push_str(&lines(doc, "InvoiceLine", "InvoicedQuantity"));
    out.push_str("</Invoice>\n");
    out
}

/// A credit note (type 381) for the whole invoice, quoting it (BT-25) and the reason.
pub fn credit_note(doc: &InvoiceDocument, number: &str, issued_on: Date, reason: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\" xmlns:cac=\"{CAC}\" xmlns:cbc=\"{CBC}\">"
    );
    out.push_str(&text("CustomizationID", CUSTOMIZATION));
    out.push_str(&text("ProfileID", PROFILE));
    out.push_str(&text("ID", number));
    out.push_str(&text("IssueDate", &issued_on.to_string()));
    out.push_str("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>");
    out.push_str(&text("Note", reason));
    out.push_str("<cbc:DocumentCurrencyCode>SEK</cbc:DocumentCurrencyCode>");
    out.push_str(&text("BuyerReference", &doc.buyer.reference));
    out.push_str(&period(doc));
    let _ = write!(
        out,
        "<cac:BillingReference><cac:InvoiceDocumentReference>{}{}</cac:InvoiceDocumentReference></cac:BillingReference>",
        text("ID", &doc.number),
        text("IssueDate", &doc.issued_on.to_string())
    );
    let _ = write!(
        out,
        "<cac:ContractDocumentReference>{}</cac:ContractDocumentReference>",
        text("ID", &doc.contract_reference)
    );
    out.push_str(&seller_party(&doc.seller));
    out.push_str(&buyer_party(&doc.buyer));
    out.push_str(&totals(doc));
    out.push_str(&lines(doc, "CreditNoteLine", "CreditedQuantity"));
    out.push_str("</CreditNote>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_amounts_have_two_decimals() {
        assert_eq!(escape("Fyndet & <Co> \"x\" 'y'"), "Fyndet &amp; &lt;Co&gt; &quot;x&quot; &apos;y&apos;");
        assert_eq!(amount(Ore(400_000)), "4000.00");
        assert_eq!(amount(Ore(5)), "0.05");
        assert_eq!(amount(Ore(-1_234)), "-12.34");
    }
}
