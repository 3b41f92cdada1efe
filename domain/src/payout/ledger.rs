//! A member's payout ledger: every statement issued to it and every invoiced month it settled. The
//! ledger is the aggregate whose optimistic lock keeps a month from being paid out twice and a credit
//! note from being carried twice.

use super::policy::PayoutTiming;
use crate::calendar::Month;
use crate::money::Ore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// A member's month on an issued invoice, as the statement run finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicedFact {
    pub invoice_id: String,
    pub invoice_number: String,
    /// The credit note that cancelled the invoice, if one did.
    pub credit_note: Option<String>,
    pub paid_in_full: bool,
    pub report_id: String,
    pub agreement_id: String,
    pub member_id: String,
    pub month: Month,
    /// The month's amount on the invoice: what the member earned.
    pub gross: Ore,
    /// The agreement's commission on it, rounded half-up once for the member, agreement and month.
    pub commission: Ore,
    /// Whether this is the member's role share of a goods-and-services month's recorded deliveries
    /// rather than a monthly report: settled and reversed alike, and shown apart on the statement.
    #[serde(default)]
    pub delivery: bool,
}

impl InvoicedFact {
    fn key(&self) -> String {
        key(&self.invoice_id, &self.report_id)
    }

    fn line(&self, document: &str, sign: i64) -> StatementLine {
        StatementLine {
            invoice_id: self.invoice_id.clone(),
            document: document.to_string(),
            report_id: self.report_id.clone(),
            agreement_id: self.agreement_id.clone(),
            month: self.month,
            gross: Ore(self.gross.0.saturating_mul(sign)),
            commission: Ore(self.commission.0.saturating_mul(sign)),
        }
    }
}

fn key(invoice_id: &str, report_id: &str) -> String {
    format!("{invoice_id}/{report_id}")
}

/// One invoiced month on a statement, or (negative) its reversal after a credit note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub invoice_id: String,
    /// The invoice's number, or for a reversal the credit note's.
    pub document: String,
    pub report_id: String,
    pub agreement_id: String,
    pub month: Month,
    pub gross: Ore,
    pub commission: Ore,
}

impl StatementLine {
    fn key(&self) -> String {
        key(&self.invoice_id, &self.report_id)
    }
}

/// What the statement run puts on a member's statement; the ledger adds it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDraft {
    pub number: String,
    pub issued_on: Date,
    pub member_id: String,
    pub month: Month,
    pub lines: Vec<StatementLine>,
    pub adjustments: Vec<StatementLine>,
    /// The part of the lines' gross that is the member's role share of recorded goods-and-services
    /// deliveries (already in the lines; shown apart).
    pub deliveries: Ore,
    pub membership_fee: Ore,
}

/// A payout statement (avräkning) as issued: nothing in it changes afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub number: String,
    pub issued_on: Date,
    pub member_id: String,
    pub month: Month,
    pub lines: Vec<StatementLine>,
    pub adjustments: Vec<StatementLine>,
    pub deliveries: Ore,
    /// The invoiced months' amounts, the share of deliveries included.
    pub gross: Ore,
    pub commission: Ore,
    pub membership_fee: Ore,
    /// What credit notes take back of earlier statements: their gross less their commission, negative.
    pub adjustments_total: Ore,
    /// gross − commission − membership fee + adjustments; negative when the member owes the consortium.
    pub payout: Ore,
}

/// The statement a member gets for `month`, or `None` when it has nothing to settle: its invoiced
/// months up to `month` not yet settled (not credited; under [`PayoutTiming::WhenPaid`] only paid
/// invoices), and reversals of settled months whose invoice was credited since.
#[allow(clippy::too_many_arguments)]
pub fn draft_statement(
    ledger: &MemberPayouts,
    member_id: &str,
    month: Month,
    facts: &[InvoicedFact],
    timing: PayoutTiming,
    membership_fee: Ore,
    number: &str,
    issued_on: Date,
) -> Option<StatementDraft> {
    let own = facts.iter().filter(|f| f.member_id == member_id);
    let own_deliveries: Vec<String> = own.clone().filter(|f| f.delivery).map(InvoicedFact::key).collect();
    let mut lines = Vec::new();
    let mut adjustments = Vec::new();
    for fact in own {
        let key = fact.key();
        match &fact.credit_note {
            None if fact.month <= month
                && !ledger.settled.contains_key(&key)
                && (timing == PayoutTiming::WhenInvoiced || fact.paid_in_full) =>
            {
                lines.push(fact.line(&fact.invoice_number, 1))
            }
            Some(note) if ledger.settled.contains_key(&key) && !ledger.reversed.contains(&key) => {
                adjustments.push(fact.line(note, -1))
            }
            _ => {}
        }
    }
    if lines.is_empty() && adjustments.is_empty() {
        return None;
    }
    let deliveries = Ore::checked_sum(lines.iter().filter(|l| own_deliveries.contains(&l.key())).map(|l| l.gross))
        .unwrap_or(Ore::ZERO);
    lines.sort_by(|a, b| (a.month, &a.document).cmp(&(b.month, &b.document)));
    adjustments.sort_by(|a, b| (a.month, &a.document).cmp(&(b.month, &b.document)));
    Some(StatementDraft {
        number: number.to_string(),
        issued_on,
        member_id: member_id.to_string(),
        month,
        lines,
        adjustments,
        deliveries,
        membership_fee,
    })
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberPayouts {
    pub statements: Vec<Statement>,
    /// Settled months by invoice and report, with what was paid for them.
    pub settled: BTreeMap<String, StatementLine>,
    /// Settled months whose credit note a later statement carried.
    pub reversed: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LedgerCommand {
    Issue(Box<StatementDraft>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LedgerEvent {
    StatementIssued { statement: Box<Statement> },
}

impl DomainEvent for LedgerEvent {
    fn event_type(&self) -> String {
        "PayoutStatementIssued".to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("the member's statement for {month} is already issued")]
    AlreadyIssued { month: Month },
    #[error("{month} is not on any issued invoice; invoice the month before paying it out")]
    MonthNotInvoiced { month: Month },
    #[error("a month on the statement is already paid out")]
    AlreadySettled,
    #[error("a reversal takes back only a month that was paid out and not yet taken back")]
    NothingToReverse,
    #[error("the statement has nothing to settle")]
    NothingToSettle,
    #[error("a membership fee is at least 0 öre a month")]
    FeeBelowZero,
    #[error("the statement's amounts are larger than can be paid out")]
    AmountTooLarge,
}

impl MemberPayouts {
    /// The statement for a month, if issued.
    pub fn statement(&self, month: Month) -> Option<&Statement> {
        self.statements.iter().find(|s| s.month == month)
    }

    pub(super) fn decide(&self, command: LedgerCommand) -> Result<LedgerEvent, LedgerError> {
        let LedgerCommand::Issue(draft) = command;
        let draft = *draft;
        if self.statement(draft.month).is_some() {
            return Err(LedgerError::AlreadyIssued { month: draft.month });
        }
        if draft.membership_fee.is_negative() {
            return Err(LedgerError::FeeBelowZero);
        }
        if draft.lines.is_empty() && draft.adjustments.is_empty() {
            return Err(LedgerError::NothingToSettle);
        }
        if draft.lines.iter().any(|l| self.settled.contains_key(&l.key())) {
            return Err(LedgerError::AlreadySettled);
        }
        if draft.adjustments.iter().any(|a| !self.settled.contains_key(&a.key()) || self.reversed.contains(&a.key())) {
            return Err(LedgerError::NothingToReverse);
        }
        let sum = |lines: &[StatementLine], of: fn(&StatementLine) -> Ore| Ore::checked_sum(lines.iter().map(of));
        let too_large = || LedgerError::AmountTooLarge;
        let gross = sum(&draft.lines, |l| l.gross).ok_or_else(too_large)?;
        let commission = sum(&draft.lines, |l| l.commission).ok_or_else(too_large)?;
        let adjustments_total = sum(&draft.adjustments, |l| l.gross)
            .zip(sum(&draft.adjustments, |l| l.commission))
            .and_then(|(g, c)| g.checked_sub(c))
            .ok_or_else(too_large)?;
        let payout = gross
            .checked_sub(commission)
            .and_then(|p| p.checked_sub(draft.membership_fee))
            .and_then(|p| p.checked_add(adjustments_total))
            .ok_or_else(too_large)?;
        Ok(LedgerEvent::StatementIssued {
            statement: Box::new(Statement {
                number: draft.number,
                issued_on: draft.issued_on,
                member_id: draft.member_id,
                month: draft.month,
                lines: draft.lines,
                adjustments: draft.adjustments,
                deliveries: draft.deliveries,
                gross,
                commission,
                membership_fee: draft.membership_fee,
                adjustments_total,
                payout,
            }),
        })
    }
}

impl Aggregate for MemberPayouts {
    const TYPE: &'static str = "MemberPayouts";
    type Command = LedgerCommand;
    type Event = LedgerEvent;
    type Error = LedgerError;
    type Services = ();

    async fn handle(&mut self, command: LedgerCommand, _: &(), sink: &EventSink<Self>) -> Result<(), LedgerError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: LedgerEvent) {
        let LedgerEvent::StatementIssued { statement } = event;
        for line in &statement.lines {
            self.settled.insert(line.key(), line.clone());
        }
        for adjustment in &statement.adjustments {
            self.reversed.insert(adjustment.key());
        }
        self.statements.push(*statement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;
    use time::macros::date;

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fact(invoice: &str, month_text: &str, gross: i64, credit_note: Option<&str>) -> InvoicedFact {
        InvoicedFact {
            invoice_id: invoice.into(),
            invoice_number: format!("2026-0000{invoice}"),
            credit_note: credit_note.map(String::from),
            paid_in_full: false,
            report_id: "r".into(),
            agreement_id: "ostersund".into(),
            member_id: "fyndet".into(),
            month: month(month_text),
            gross: Ore(gross),
            commission: Ore(gross / 20),
            delivery: false,
        }
    }

    fn issue(ledger: &mut MemberPayouts, m: &str, facts: &[InvoicedFact], fee: i64) -> Option<Statement> {
        let draft = draft_statement(
            ledger,
            "fyndet",
            month(m),
            facts,
            PayoutTiming::WhenInvoiced,
            Ore(fee),
            "U",
            date!(2026 - 11 - 28),
        )?;
        let LedgerEvent::StatementIssued { statement } = ledger.decide(LedgerCommand::Issue(Box::new(draft))).ok()?;
        ledger.apply(LedgerEvent::StatementIssued { statement: statement.clone() });
        Some(*statement)
    }

    #[test]
    fn november_at_ostersund_pays_gross_less_5_percent_and_the_fee() {
        let mut ledger = MemberPayouts::default();
        let statement = issue(&mut ledger, "2024-11", &[fact("1", "2024-11", 400_000, None)], 50_000);
        let statement = statement.unwrap_or_else(|| panic!("a statement"));
        assert_eq!(
            (
                statement.gross,
                statement.commission,
                statement.membership_fee,
                statement.adjustments_total,
                statement.payout
            ),
            (Ore(400_000), Ore(20_000), Ore(50_000), Ore::ZERO, Ore(330_000))
        );
        assert_eq!(statement.deliveries, Ore::ZERO, "no recorded deliveries on this invoice");
    }

    #[test]
    fn a_share_of_recorded_deliveries_is_paid_with_the_months_and_shown_apart() {
        let mut ledger = MemberPayouts::default();
        let delivered = InvoicedFact {
            report_id: "goods:deliveries:2024-11:fyndet".into(),
            gross: Ore(120_000),
            commission: Ore(6_000),
            delivery: true,
            ..fact("1", "2024-11", 0, None)
        };
        let facts = [fact("1", "2024-11", 400_000, None), delivered];
        let statement = issue(&mut ledger, "2024-11", &facts, 0).unwrap_or_else(|| panic!("a statement"));
        assert_eq!(
            (statement.gross, statement.deliveries, statement.commission, statement.payout),
            (Ore(520_000), Ore(120_000), Ore(26_000), Ore(494_000))
        );
    }

    #[test]
    fn a_credit_note_is_taken_back_on_the_next_statement_once() {
        let mut ledger = MemberPayouts::default();
        issue(&mut ledger, "2024-11", &[fact("1", "2024-11", 400_000, None)], 0);
        let credited = [fact("1", "2024-11", 400_000, Some("K2026-00001")), fact("2", "2024-11", 300_000, None)];
        let next = issue(&mut ledger, "2024-12", &credited, 0).unwrap_or_else(|| panic!("a statement"));
        assert_eq!(next.adjustments_total, Ore(-380_000));
        assert_eq!((next.gross, next.commission, next.payout), (Ore(300_000), Ore(15_000), Ore(-95_000)));
        assert_eq!(issue(&mut ledger, "2025-01", &credited, 0), None, "nothing left to settle or reverse");
    }

    #[test]
    fn a_month_is_not_paid_out_twice() {
        let line = fact("1", "2024-11", 400_000, None).line("2026-00001", 1);
        let draft = |m: &str| StatementDraft {
            number: "U".into(),
            issued_on: date!(2026 - 11 - 28),
            member_id: "fyndet".into(),
            month: month(m),
            lines: vec![line.clone()],
            adjustments: vec![],
            deliveries: Ore::ZERO,
            membership_fee: Ore::ZERO,
        };
        let LedgerEvent::StatementIssued { statement } = MemberPayouts::default()
            .decide(LedgerCommand::Issue(Box::new(draft("2024-11"))))
            .unwrap_or_else(|e| panic!("{e}"));
        TestFramework::<MemberPayouts>::with(())
            .given(vec![LedgerEvent::StatementIssued { statement: statement.clone() }])
            .when(LedgerCommand::Issue(Box::new(draft("2024-12"))))
            .then_expect_error(LedgerError::AlreadySettled);
        TestFramework::<MemberPayouts>::with(())
            .given(vec![LedgerEvent::StatementIssued { statement }])
            .when(LedgerCommand::Issue(Box::new(draft("2024-11"))))
            .then_expect_error(LedgerError::AlreadyIssued { month: month("2024-11") });
    }

    #[test]
    fn when_members_are_paid_on_payment_an_unpaid_invoice_waits() {
        let ledger = MemberPayouts::default();
        let unpaid = [fact("1", "2024-11", 400_000, None)];
        let draft = |facts: &[InvoicedFact]| {
            draft_statement(
                &ledger,
                "fyndet",
                month("2024-11"),
                facts,
                PayoutTiming::WhenPaid,
                Ore(0),
                "U",
                date!(2026 - 11 - 28),
            )
        };
        assert_eq!(draft(&unpaid), None);
        let paid = [InvoicedFact { paid_in_full: true, ..unpaid[0].clone() }];
        assert_eq!(draft(&paid).map(|d| d.lines.len()), Some(1));
    }
}
