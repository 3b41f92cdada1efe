//! Property: over random months, commission rates, amounts, corrections (a credited month invoiced
//! again at a corrected amount), credit notes, payments and both payout timings, every month's
//! reconciliation is 0, and over all months the statements settle exactly what the invoices net of
//! credit notes say.

use super::*;
use crate::calendar::Month;
use crate::money::{Ore, Percent};
use cqrs_es::Aggregate;
use proptest::prelude::*;
use proptest::sample::Index;
use time::macros::date;

#[derive(Debug, Clone)]
enum Step {
    /// The month-end run: every uninvoiced month up to the current one, one invoice per agreement.
    Invoice,
    /// A credit note on an invoice; its months are corrected and wait for a new invoice.
    Credit(Index),
    Pay(Index),
    /// Statements for the current month, its reconciliation, and on to the next month.
    Statements,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Invoice),
        2 => any::<Index>().prop_map(Step::Credit),
        1 => any::<Index>().prop_map(Step::Pay),
        3 => Just(Step::Statements),
    ]
}

struct Report {
    member: usize,
    agreement: usize,
    month: Month,
    amount: Ore,
    invoiced: bool,
}

struct Sim {
    rates: Vec<Percent>,
    fees: Vec<Ore>,
    timing: PayoutTiming,
    reports: Vec<Report>,
    /// Each invoice's months as facts.
    invoices: Vec<Vec<InvoicedFact>>,
    ledgers: Vec<MemberPayouts>,
    statements: Vec<Statement>,
    current: Month,
    numbers: u32,
}

const MEMBERS: usize = 3;

impl Sim {
    fn facts(&self) -> Vec<InvoicedFact> {
        self.invoices.iter().flatten().cloned().collect()
    }

    fn invoice(&mut self) {
        for agreement in 0..self.rates.len() {
            let number = format!("2026-{:05}", self.invoices.len() + 1);
            let id = format!("inv-{}", self.invoices.len() + 1);
            let mut months = Vec::new();
            for (index, report) in self.reports.iter_mut().enumerate() {
                if report.agreement == agreement && !report.invoiced && report.month <= self.current {
                    report.invoiced = true;
                    months.push(InvoicedFact {
                        invoice_id: id.clone(),
                        invoice_number: number.clone(),
                        credit_note: None,
                        paid_in_full: false,
                        report_id: format!("r{index}"),
                        agreement_id: format!("a{agreement}"),
                        member_id: format!("m{}", report.member),
                        month: report.month,
                        gross: report.amount,
                        commission: self.rates[agreement].of(report.amount),
                        delivery: false,
                    });
                }
            }
            if !months.is_empty() {
                self.invoices.push(months);
            }
        }
    }

    fn credit(&mut self, pick: &Index) {
        if self.invoices.is_empty() {
            return;
        }
        let at = pick.index(self.invoices.len());
        if self.invoices[at].iter().any(|f| f.credit_note.is_some()) {
            return;
        }
        let note = format!("K2026-{at:05}");
        for fact in &mut self.invoices[at] {
            fact.credit_note = Some(note.clone());
            let index: usize = fact.report_id.trim_start_matches('r').parse().unwrap_or(0);
            if let Some(report) = self.reports.get_mut(index) {
                report.invoiced = false;
                report.amount = Ore(report.amount.0 * 3 / 4 + 1);
            }
        }
    }

    fn pay(&mut self, pick: &Index) {
        if let Some(at) = (!self.invoices.is_empty()).then(|| pick.index(self.invoices.len())) {
            for fact in &mut self.invoices[at] {
                fact.paid_in_full = true;
            }
        }
    }

    fn statements(&mut self) -> Reconciliation {
        let facts = self.facts();
        for member in 0..MEMBERS {
            let id = format!("m{member}");
            let number = format!("U2026-{:05}", self.numbers + 1);
            let fee = self.fees[member % self.fees.len()];
            let ledger = &mut self.ledgers[member];
            let Some(draft) =
                draft_statement(ledger, &id, self.current, &facts, self.timing, fee, &number, date!(2026 - 11 - 28))
            else {
                continue;
            };
            let event = ledger.decide(LedgerCommand::Issue(Box::new(draft))).unwrap_or_else(|e| panic!("{e}"));
            ledger.apply(event.clone());
            let LedgerEvent::StatementIssued { statement } = event;
            self.statements.push(*statement);
            self.numbers += 1;
        }
        let reconciliation = reconcile(self.current, &self.statements, &facts);
        self.current = self.current.next();
        reconciliation
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn every_month_reconciles_to_zero(
        rates in prop::collection::vec(0u32..=2_500, 1..=3),
        amounts in prop::collection::vec(0i64..=2_400_000, 1..=24),
        fees in prop::collection::vec(0i64..=150_000, 1..=3),
        when_paid in any::<bool>(),
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let start = Month::of(date!(2024 - 09 - 01));
        let mut reports = Vec::new();
        let mut month = start;
        for m in 0..8 {
            for member in 0..MEMBERS {
                for agreement in 0..rates.len() {
                    let amount = Ore(amounts[(m * 7 + member * 3 + agreement) % amounts.len()]);
                    reports.push(Report { member, agreement, month, amount, invoiced: false });
                }
            }
            month = month.next();
        }
        let mut sim = Sim {
            rates: rates.iter().map(|bp| Percent::from_basis_points(*bp).unwrap_or(Percent::from_whole(5))).collect(),
            fees: fees.into_iter().map(Ore).collect(),
            timing: if when_paid { PayoutTiming::WhenPaid } else { PayoutTiming::WhenInvoiced },
            reports,
            invoices: Vec::new(),
            ledgers: vec![MemberPayouts::default(); MEMBERS],
            statements: Vec::new(),
            current: start,
            numbers: 0,
        };
        let mut months = Vec::new();
        for step in &steps {
            match step {
                Step::Invoice => sim.invoice(),
                Step::Credit(pick) => sim.credit(pick),
                Step::Pay(pick) => sim.pay(pick),
                Step::Statements => {
                    let reconciliation = sim.statements();
                    prop_assert_eq!(reconciliation.difference, Ore::ZERO, "{:?}", reconciliation);
                    months.push(reconciliation);
                }
            }
        }
        // Close the books: invoice what is left, every invoice paid, one more statement run.
        sim.invoice();
        for invoice in &mut sim.invoices {
            for fact in invoice.iter_mut() {
                fact.paid_in_full = true;
            }
        }
        let last = sim.statements();
        prop_assert_eq!(last.difference, Ore::ZERO, "{:?}", last);
        months.push(last);
        let settled: i64 = months.iter().map(|r| r.invoiced.0).sum();
        let net_of_credit_notes: i64 = sim.facts().iter().filter(|f| f.credit_note.is_none()).map(|f| f.gross.0).sum();
        prop_assert_eq!(settled, net_of_credit_notes);
        let kept: i64 = months.iter().map(|r| r.payout.0 + r.commission.0 + r.membership_fees.0).sum();
        prop_assert_eq!(kept, net_of_credit_notes);
    }
}
