use super::*;
use crate::invoice::{InvoiceLine, LineUnit};
use crate::org_number::OrgNumber;
use cqrs_es::test::TestFramework;
use time::macros::date;

type InvoiceTest = TestFramework<Invoice>;

fn org(text: &str) -> OrgNumber {
    OrgNumber::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn month(text: &str) -> Month {
    Month::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn seller() -> Seller {
    Seller {
        name: "Jämtlands Sociala Företag ek. för.".into(),
        org_number: org("769600-1002"),
        vat_number: "SE769600100201".into(),
        street: "Storgatan 1".into(),
        postal_code: "831 30".into(),
        city: "Östersund".into(),
        bankgiro: Some("1234567".into()),
        iban: None,
        email: "faktura@jsf.example".into(),
        payment_terms_days: 30,
    }
}

fn draft(vat: VatCategory) -> InvoiceDraft {
    InvoiceDraft {
        number: "2026-00001".into(),
        issued_on: date!(2026 - 12 - 01),
        seller: seller(),
        agreement_id: "a".into(),
        buyer: Buyer {
            name: "Östersunds kommun".into(),
            org_number: org("212000-2411"),
            reference: "AME".into(),
            address: None,
        },
        contract_reference: "RA-2024-AME-01".into(),
        vat,
        months: vec![InvoicedMonth {
            report_id: "a:m:2026-11".into(),
            member_id: "m".into(),
            month: month("2026-11"),
            version: 1,
            amount: Ore(400_000),
        }],
        deliveries: Vec::new(),
        payment_terms_days: None,
        lines: vec![InvoiceLine {
            member_id: "m".into(),
            month: month("2026-11"),
            description: "Returbutiken Fyndet: arbetsträning à 6 000 kr/mån, november 2026".into(),
            quantity: 20,
            unit: LineUnit::PlaceDays,
            amount: Ore(400_000),
            unit_price: None,
        }],
    }
}

fn issued(vat: VatCategory) -> InvoiceEvent {
    let invoice = Invoice::default();
    match invoice.decide(InvoiceCommand::Issue(Box::new(draft(vat)))) {
        Ok(event) => event,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn an_exempt_invoice_is_due_after_the_payment_terms_and_carries_no_vat() {
    let InvoiceEvent::InvoiceIssued { document, ubl } =
        issued(VatCategory::Exempt { reason: "Arbetsmarknadsinsats".into() })
    else {
        panic!("not issued")
    };
    assert_eq!(document.due_on, date!(2026 - 12 - 31));
    assert_eq!((document.net, document.vat_amount, document.payable), (Ore(400_000), Ore::ZERO, Ore(400_000)));
    assert!(ubl.contains("<cbc:TaxExemptionReason>Arbetsmarknadsinsats</cbc:TaxExemptionReason>"));
    assert!(ubl.contains("<cbc:PayableAmount currencyID=\"SEK\">4000.00</cbc:PayableAmount>"));
}

#[test]
fn standard_vat_is_25_percent_computed_once_for_the_invoice() {
    let InvoiceEvent::InvoiceIssued { document, .. } = issued(VatCategory::Standard25) else { panic!("not issued") };
    assert_eq!((document.vat_amount, document.payable), (Ore(100_000), Ore(500_000)));
}

#[test]
fn lines_that_do_not_add_up_to_the_months_are_refused() {
    let mut bad = draft(VatCategory::Standard25);
    bad.lines[0].amount = Ore(399_999);
    InvoiceTest::with(())
        .given_no_previous_events()
        .when(InvoiceCommand::Issue(Box::new(bad)))
        .then_expect_error(InvoiceError::LinesDoNotAddUp { lines: Ore(399_999), months: Ore(400_000) });
}

#[test]
fn an_invoice_is_issued_once() {
    InvoiceTest::with(())
        .given(vec![issued(VatCategory::Standard25)])
        .when(InvoiceCommand::Issue(Box::new(draft(VatCategory::Standard25))))
        .then_expect_error(InvoiceError::AlreadyIssued);
}

#[test]
fn a_part_payment_leaves_the_invoice_part_paid_and_more_than_owed_is_refused() {
    let given = vec![issued(VatCategory::Standard25)];
    InvoiceTest::with(())
        .given(given.clone())
        .when(InvoiceCommand::RegisterPayment { amount: Ore(500_001), paid_on: date!(2026 - 12 - 10) })
        .then_expect_error(InvoiceError::PaymentExceedsBalance { outstanding: Ore(500_000) });
    let mut invoice = Invoice::default();
    for event in given {
        invoice.apply(event);
    }
    invoice.apply(InvoiceEvent::PaymentRegistered { amount: Ore(100_000), paid_on: date!(2026 - 12 - 10) });
    assert_eq!(invoice.status(date!(2026 - 12 - 15)), Some(InvoiceStatus::PartPaid));
    assert_eq!(invoice.status(date!(2027 - 01 - 01)), Some(InvoiceStatus::Overdue));
    invoice.apply(InvoiceEvent::PaymentRegistered { amount: Ore(400_000), paid_on: date!(2027 - 01 - 02) });
    assert_eq!(invoice.status(date!(2027 - 01 - 05)), Some(InvoiceStatus::Paid));
}

#[test]
fn a_credit_note_quotes_the_invoice_and_cannot_be_issued_twice() {
    let command = || InvoiceCommand::Credit {
        number: "K2026-00001".into(),
        issued_on: date!(2026 - 12 - 05),
        reason: "Fel antal dagar".into(),
    };
    let mut invoice = Invoice::default();
    invoice.apply(issued(VatCategory::Standard25));
    let Ok(InvoiceEvent::InvoiceCredited { ubl, .. }) = invoice.decide(command()) else { panic!("not credited") };
    assert!(ubl.contains("<cac:InvoiceDocumentReference><cbc:ID>2026-00001</cbc:ID>"));
    assert!(ubl.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
    InvoiceTest::with(())
        .given(vec![
            issued(VatCategory::Standard25),
            InvoiceEvent::InvoiceCredited {
                number: "K2026-00001".into(),
                issued_on: date!(2026 - 12 - 05),
                reason: "x".into(),
                ubl: String::new(),
            },
        ])
        .when(command())
        .then_expect_error(InvoiceError::AlreadyCredited);
}

#[test]
fn no_payment_on_an_invoice_never_issued() {
    InvoiceTest::with(())
        .given_no_previous_events()
        .when(InvoiceCommand::RegisterPayment { amount: Ore(1), paid_on: date!(2026 - 12 - 10) })
        .then_expect_error(InvoiceError::NotIssued);
}
