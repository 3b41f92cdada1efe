//! Paying the members (utbetalning): membership fees, the consortium's payout policy, payout
//! statements (avräkningar) in their own gap-free number series, the month's reconciliation, and the
//! month's bookkeeping as a SIE 4 file.
//!
//! A member's statement settles its months that are on issued invoices: gross earned less the
//! agreement's commission (taken per member, agreement and month when the report was submitted),
//! less the month's membership fee, plus adjustments that reverse what an earlier statement paid for
//! a month whose invoice was since credited. A member's [`MemberPayouts`] ledger records every month
//! it settled, so the ledger's optimistic lock keeps a month from being paid out twice.

mod cp437;
mod ledger;
mod policy;
mod reconcile;
pub mod sie;

pub use cp437::{decode as decode_cp437, encode as encode_cp437};
pub use ledger::{
    draft_statement, InvoicedFact, LedgerCommand, LedgerError, LedgerEvent, MemberPayouts, Statement, StatementDraft,
    StatementLine,
};
pub use policy::{
    Accounts, FeeVersion, PayoutPolicy, PayoutTiming, PolicyCommand, PolicyError, PolicyEvent, MAX_MONTHLY_FEE,
    POLICY_ID,
};
pub use reconcile::{reconcile, Reconciliation};

#[cfg(test)]
mod reconcile_props;
