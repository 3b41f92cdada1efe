//! The month's reconciliation (avstämning): what the month's statements settle against what the
//! invoices and credit notes say, so that every öre invoiced is either paid to a member, kept as
//! commission or kept as membership fee.

use super::ledger::{InvoicedFact, Statement, StatementLine};
use crate::calendar::Month;
use crate::money::Ore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The month's statements against the invoices they settle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub month: Month,
    pub statements: usize,
    /// The invoiced months the statements settle, less those credit notes took back, as the invoices
    /// and credit notes themselves state them.
    pub invoiced: Ore,
    /// Gross to members, net of reversals.
    pub gross: Ore,
    /// Commission, net of reversals.
    pub commission: Ore,
    pub membership_fees: Ore,
    pub payout: Ore,
    /// invoiced − payout − commission − membership fees: 0 when every öre is accounted for.
    pub difference: Ore,
}

fn add(total: &mut i64, amount: Ore) {
    *total = total.saturating_add(amount.0);
}

/// Reconciles the statements of `month` against the invoiced facts (every invoice's months with
/// their credit notes). A statement line whose invoice does not state it, or a reversal without a
/// credit note, counts nothing on the invoiced side, so it shows as a difference.
pub fn reconcile(month: Month, statements: &[Statement], facts: &[InvoicedFact]) -> Reconciliation {
    let by_key: BTreeMap<(&str, &str), &InvoicedFact> =
        facts.iter().map(|f| ((f.invoice_id.as_str(), f.report_id.as_str()), f)).collect();
    let stated = |line: &StatementLine| by_key.get(&(line.invoice_id.as_str(), line.report_id.as_str())).copied();
    let (mut invoiced, mut gross, mut commission, mut fees, mut payout) = (0i64, 0i64, 0i64, 0i64, 0i64);
    let own: Vec<&Statement> = statements.iter().filter(|s| s.month == month).collect();
    for statement in &own {
        for line in &statement.lines {
            if let Some(fact) = stated(line).filter(|f| f.member_id == statement.member_id) {
                add(&mut invoiced, fact.gross);
            }
        }
        for reversal in &statement.adjustments {
            if let Some(fact) = stated(reversal).filter(|f| f.credit_note.is_some()) {
                add(&mut invoiced, Ore(fact.gross.0.saturating_neg()));
            }
            add(&mut gross, reversal.gross);
            add(&mut commission, reversal.commission);
        }
        add(&mut gross, statement.gross);
        add(&mut commission, statement.commission);
        add(&mut fees, statement.membership_fee);
        add(&mut payout, statement.payout);
    }
    let difference = invoiced.saturating_sub(payout).saturating_sub(commission).saturating_sub(fees);
    Reconciliation {
        month,
        statements: own.len(),
        invoiced: Ore(invoiced),
        gross: Ore(gross),
        commission: Ore(commission),
        membership_fees: Ore(fees),
        payout: Ore(payout),
        difference: Ore(difference),
    }
}
