//! Paying the members: membership fees, the payout policy, the statement run, statements and the
//! month's reconciliation.

use super::member::MemberCategoryGql;
use super::{actor, app, caller, iso};
use crate::application::input::{id, month};
use crate::application::payouts;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::money::Ore;
use konsortium_domain::payout::{Accounts, PayoutPolicy, PayoutTiming, Reconciliation, Statement, StatementLine};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PayoutTiming")]
pub enum PayoutTimingGql {
    /// Members are paid once the buyer is invoiced (the default).
    WhenInvoiced,
    /// Members are paid once the buyer has paid the invoice in full.
    WhenPaid,
}

impl From<PayoutTimingGql> for PayoutTiming {
    fn from(value: PayoutTimingGql) -> Self {
        match value {
            PayoutTimingGql::WhenInvoiced => PayoutTiming::WhenInvoiced,
            PayoutTimingGql::WhenPaid => PayoutTiming::WhenPaid,
        }
    }
}

impl From<PayoutTiming> for PayoutTimingGql {
    fn from(value: PayoutTiming) -> Self {
        match value {
            PayoutTiming::WhenInvoiced => PayoutTimingGql::WhenInvoiced,
            PayoutTiming::WhenPaid => PayoutTimingGql::WhenPaid,
        }
    }
}

/// An invoiced month on a statement, or (negative amounts) its reversal after a credit note.
#[derive(SimpleObject)]
#[graphql(name = "StatementLine")]
pub struct StatementLineView {
    pub invoice_id: ID,
    /// The invoice's number, or for a reversal the credit note's.
    pub document: String,
    pub report_id: ID,
    pub agreement_id: ID,
    pub month: String,
    pub gross_ore: i64,
    pub commission_ore: i64,
}

impl From<StatementLine> for StatementLineView {
    fn from(l: StatementLine) -> Self {
        StatementLineView {
            invoice_id: ID(l.invoice_id),
            document: l.document,
            report_id: ID(l.report_id),
            agreement_id: ID(l.agreement_id),
            month: l.month.to_string(),
            gross_ore: l.gross.0,
            commission_ore: l.commission.0,
        }
    }
}

/// A member's payout statement (avräkning) for a month: `payoutOre` = `grossOre` − `commissionOre`
/// − `membershipFeeOre` + `adjustmentsOre`.
#[derive(SimpleObject)]
#[graphql(name = "PayoutStatement")]
pub struct StatementView {
    /// In the statement series, `A2026-00001`.
    pub number: String,
    pub member_id: ID,
    pub month: String,
    pub issued_on: String,
    /// The invoiced months settled, plus the share of recorded deliveries.
    pub gross_ore: i64,
    /// The member's share of goods-and-services deliveries recorded on the agreement (0 until they exist).
    pub deliveries_ore: i64,
    pub commission_ore: i64,
    pub membership_fee_ore: i64,
    /// What credit notes take back of earlier statements (their gross less commission), negative.
    pub adjustments_ore: i64,
    /// Negative when the member owes the consortium.
    pub payout_ore: i64,
    pub lines: Vec<StatementLineView>,
    pub adjustments: Vec<StatementLineView>,
}

impl From<Statement> for StatementView {
    fn from(s: Statement) -> Self {
        StatementView {
            number: s.number,
            member_id: ID(s.member_id),
            month: s.month.to_string(),
            issued_on: iso(s.issued_on),
            gross_ore: s.gross.0,
            deliveries_ore: s.deliveries.0,
            commission_ore: s.commission.0,
            membership_fee_ore: s.membership_fee.0,
            adjustments_ore: s.adjustments_total.0,
            payout_ore: s.payout.0,
            lines: s.lines.into_iter().map(Into::into).collect(),
            adjustments: s.adjustments.into_iter().map(Into::into).collect(),
        }
    }
}

/// The month's statements against the invoices and credit notes they settle.
#[derive(SimpleObject)]
#[graphql(name = "Reconciliation")]
pub struct ReconciliationView {
    pub month: String,
    pub statements: u32,
    /// The invoiced months the statements settle, net of credit notes, as the invoices state them.
    pub invoiced_ore: i64,
    /// Gross to members, net of reversals.
    pub gross_ore: i64,
    pub commission_ore: i64,
    pub membership_fee_ore: i64,
    pub payout_ore: i64,
    /// `invoicedOre − payoutOre − commissionOre − membershipFeeOre`: 0 when every öre is accounted for.
    pub difference_ore: i64,
}

impl From<Reconciliation> for ReconciliationView {
    fn from(r: Reconciliation) -> Self {
        ReconciliationView {
            month: r.month.to_string(),
            statements: u32::try_from(r.statements).unwrap_or(u32::MAX),
            invoiced_ore: r.invoiced.0,
            gross_ore: r.gross.0,
            commission_ore: r.commission.0,
            membership_fee_ore: r.membership_fees.0,
            payout_ore: r.payout.0,
            difference_ore: r.difference.0,
        }
    }
}

/// A membership fee from a month on.
#[derive(SimpleObject)]
#[graphql(name = "MembershipFee")]
pub struct FeeView {
    pub category: Option<MemberCategoryGql>,
    pub member_id: Option<ID>,
    pub effective_from: String,
    /// `null` for a member: back to its category's fee.
    pub monthly_ore: Option<i64>,
}

#[derive(SimpleObject)]
#[graphql(name = "SieAccounts")]
pub struct AccountsView {
    pub receivables: u32,
    pub sales_standard: u32,
    pub sales_exempt: u32,
    pub output_vat: u32,
    pub member_costs: u32,
    pub payables_to_members: u32,
    pub commission_revenue: u32,
    pub fee_revenue: u32,
}

/// Accounts to change; those left out keep their number.
#[derive(InputObject)]
pub struct SieAccountsInput {
    pub receivables: Option<u32>,
    pub sales_standard: Option<u32>,
    pub sales_exempt: Option<u32>,
    pub output_vat: Option<u32>,
    pub member_costs: Option<u32>,
    pub payables_to_members: Option<u32>,
    pub commission_revenue: Option<u32>,
    pub fee_revenue: Option<u32>,
}

#[derive(SimpleObject)]
#[graphql(name = "PayoutPolicy")]
pub struct PolicyView {
    pub timing: PayoutTimingGql,
    pub fees: Vec<FeeView>,
    pub accounts: AccountsView,
}

impl From<PayoutPolicy> for PolicyView {
    fn from(p: PayoutPolicy) -> Self {
        let mut fees = Vec::new();
        for (category, history) in p.category_fees {
            let category = match category.as_str() {
                "Wise" => MemberCategoryGql::Asf,
                _ => MemberCategoryGql::OtherAssociation,
            };
            fees.extend(history.into_iter().map(|v| FeeView {
                category: Some(category),
                member_id: None,
                effective_from: v.from.to_string(),
                monthly_ore: Some(v.monthly.0),
            }));
        }
        for (member, history) in p.member_fees {
            fees.extend(history.into_iter().map(|(from, monthly)| FeeView {
                category: None,
                member_id: Some(ID(member.clone())),
                effective_from: from.to_string(),
                monthly_ore: monthly.map(|m| m.0),
            }));
        }
        let a = p.accounts;
        PolicyView {
            timing: p.timing.into(),
            fees,
            accounts: AccountsView {
                receivables: a.receivables,
                sales_standard: a.sales_standard,
                sales_exempt: a.sales_exempt,
                output_vat: a.output_vat,
                member_costs: a.member_costs,
                payables_to_members: a.payables_to_members,
                commission_revenue: a.commission_revenue,
                fee_revenue: a.fee_revenue,
            },
        }
    }
}

#[derive(Default)]
pub struct PayoutQuery;

#[Object]
impl PayoutQuery {
    /// Payout statements by month and number, of a month (`YYYY-MM`) and/or a member. Staff read
    /// all, a member its own, a buyer none.
    async fn payout_statements(
        &self,
        ctx: &Context<'_>,
        month: Option<String>,
        member_id: Option<ID>,
    ) -> async_graphql::Result<Vec<StatementView>> {
        let month = month.map(|m| self::month("month", &m)).transpose()?;
        let member_id = member_id.map(|m| id("memberId", &m)).transpose()?;
        let statements = payouts::payout_statements(app(ctx), caller(ctx)?, month, member_id.as_deref()).await?;
        Ok(statements.into_iter().map(Into::into).collect())
    }

    /// The month's statements against the invoices and credit notes they settle (staff only).
    async fn reconciliation(&self, ctx: &Context<'_>, month: String) -> async_graphql::Result<ReconciliationView> {
        let month = self::month("month", &month)?;
        Ok(payouts::reconciliation(app(ctx), caller(ctx)?, month).await?.into())
    }

    /// Membership fees, when members are paid and the bookkeeping accounts (staff only).
    async fn payout_policy(&self, ctx: &Context<'_>) -> async_graphql::Result<PolicyView> {
        Ok(payouts::payout_policy(app(ctx), caller(ctx)?).await?.into())
    }
}

#[derive(Default)]
pub struct PayoutMutation;

#[Object]
impl PayoutMutation {
    /// The membership fee of a member category, in öre per month (at least 0), from a month on.
    async fn set_category_membership_fee(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        category: MemberCategoryGql,
        monthly_ore: i64,
        #[graphql(desc = "`YYYY-MM`: the first month the fee applies to")] effective_from: String,
    ) -> async_graphql::Result<PolicyView> {
        let from = month("effectiveFrom", &effective_from)?;
        let actor = actor(ctx, idempotency_key)?;
        Ok(payouts::set_category_fee(app(ctx), &actor, category.into(), from, Ore(monthly_ore)).await?.into())
    }

    /// One member's own membership fee from a month on; `monthlyOre: null` returns it to its
    /// category's fee.
    async fn set_member_membership_fee(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        member_id: ID,
        monthly_ore: Option<i64>,
        #[graphql(desc = "`YYYY-MM`: the first month the fee applies to")] effective_from: String,
    ) -> async_graphql::Result<PolicyView> {
        let member_id = id("memberId", &member_id)?;
        let from = month("effectiveFrom", &effective_from)?;
        let actor = actor(ctx, idempotency_key)?;
        Ok(payouts::set_member_fee(app(ctx), &actor, &member_id, from, monthly_ore.map(Ore)).await?.into())
    }

    /// Whether members are paid when the buyer is invoiced (default) or when it has paid.
    async fn set_payout_timing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        timing: PayoutTimingGql,
    ) -> async_graphql::Result<PolicyView> {
        let actor = actor(ctx, idempotency_key)?;
        Ok(payouts::set_payout_timing(app(ctx), &actor, timing.into()).await?.into())
    }

    /// The accounts the SIE export books on (BAS by default); those left out keep their number.
    async fn set_sie_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: SieAccountsInput,
    ) -> async_graphql::Result<PolicyView> {
        let actor = actor(ctx, idempotency_key)?;
        let a = payouts::payout_policy(app(ctx), &actor).await?.accounts;
        let accounts = Accounts {
            receivables: input.receivables.unwrap_or(a.receivables),
            sales_standard: input.sales_standard.unwrap_or(a.sales_standard),
            sales_exempt: input.sales_exempt.unwrap_or(a.sales_exempt),
            output_vat: input.output_vat.unwrap_or(a.output_vat),
            member_costs: input.member_costs.unwrap_or(a.member_costs),
            payables_to_members: input.payables_to_members.unwrap_or(a.payables_to_members),
            commission_revenue: input.commission_revenue.unwrap_or(a.commission_revenue),
            fee_revenue: input.fee_revenue.unwrap_or(a.fee_revenue),
        };
        Ok(payouts::set_accounts(app(ctx), &actor, &accounts).await?.into())
    }

    /// The statement run for a month (`YYYY-MM`, on an issued invoice): one statement per member
    /// with invoiced months to settle or credit notes to carry. Returns the statements it issued.
    async fn issue_payout_statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        month: String,
    ) -> async_graphql::Result<Vec<StatementView>> {
        let month = self::month("month", &month)?;
        let actor = actor(ctx, idempotency_key)?;
        let issued = payouts::issue_payout_statements(app(ctx), &actor, month).await?;
        Ok(issued.into_iter().map(Into::into).collect())
    }
}
