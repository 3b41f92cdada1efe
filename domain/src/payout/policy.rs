//! The consortium's payout policy: membership fees (medlemsavgift) by category with per-member
//! overrides, each from a month on; when members are paid; and the bookkeeping accounts.

use crate::calendar::Month;
use crate::member::MemberCategory;
use crate::money::Ore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The policy is one aggregate for the consortium.
pub const POLICY_ID: &str = "payout-policy";

/// 100 000 kr a month: anything larger is a typing error, not a fee.
pub const MAX_MONTHLY_FEE: Ore = Ore(10_000_000);

/// A fee in öre per month from a month on, until the next version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeVersion {
    pub from: Month,
    pub monthly: Ore,
}

/// When a member's month is settled on a statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayoutTiming {
    /// Once the buyer is invoiced (the default): the consortium carries the credit risk.
    #[default]
    WhenInvoiced,
    /// Once the buyer has paid the invoice in full.
    WhenPaid,
}

/// The accounts the SIE export books on; BAS (Baskontoplanen) by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    /// Kundfordringar.
    pub receivables: u32,
    /// Försäljning inom Sverige, 25 % moms.
    pub sales_standard: u32,
    /// Försäljning inom Sverige, momsfri.
    pub sales_exempt: u32,
    /// Utgående moms, 25 %.
    pub output_vat: u32,
    /// What the members earned, booked as bought-in services (legoarbeten, underentreprenader).
    pub member_costs: u32,
    /// Leverantörsskulder: what the consortium owes its members.
    pub payables_to_members: u32,
    /// Provisionsintäkter.
    pub commission_revenue: u32,
    /// Medlemsavgifter.
    pub fee_revenue: u32,
}

impl Default for Accounts {
    fn default() -> Accounts {
        Accounts {
            receivables: 1510,
            sales_standard: 3001,
            sales_exempt: 3004,
            output_vat: 2611,
            member_costs: 4600,
            payables_to_members: 2440,
            commission_revenue: 3921,
            fee_revenue: 3990,
        }
    }
}

impl Accounts {
    /// The BAS name of an account this mapping uses, for `#KONTO`.
    pub fn name(&self, account: u32) -> &'static str {
        match account {
            a if a == self.receivables => "Kundfordringar",
            a if a == self.sales_standard => "Försäljning inom Sverige, 25 % moms",
            a if a == self.sales_exempt => "Försäljning inom Sverige, momsfri",
            a if a == self.output_vat => "Utgående moms, 25 %",
            a if a == self.member_costs => "Legoarbeten och underentreprenader, medlemmar",
            a if a == self.payables_to_members => "Skulder till medlemsföretag",
            a if a == self.commission_revenue => "Provisionsintäkter",
            a if a == self.fee_revenue => "Medlemsavgifter",
            _ => "Konto",
        }
    }

    fn valid(&self) -> bool {
        [
            self.receivables,
            self.sales_standard,
            self.sales_exempt,
            self.output_vat,
            self.member_costs,
            self.payables_to_members,
            self.commission_revenue,
            self.fee_revenue,
        ]
        .iter()
        .all(|a| (1000..=8999).contains(a))
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayoutPolicy {
    /// Each category's fee history, by month.
    pub category_fees: BTreeMap<String, Vec<FeeVersion>>,
    /// Per-member overrides; `None` from a month on returns the member to its category's fee.
    pub member_fees: BTreeMap<String, Vec<(Month, Option<Ore>)>>,
    pub timing: PayoutTiming,
    pub accounts: Accounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PolicyCommand {
    SetCategoryFee { category: MemberCategory, from: Month, monthly: Ore },
    SetMemberFee { member_id: String, from: Month, monthly: Option<Ore> },
    SetTiming(PayoutTiming),
    SetAccounts(Accounts),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PolicyEvent {
    CategoryFeeSet { category: MemberCategory, from: Month, monthly: Ore },
    MemberFeeSet { member_id: String, from: Month, monthly: Option<Ore> },
    TimingSet { timing: PayoutTiming },
    AccountsSet { accounts: Accounts },
}

impl DomainEvent for PolicyEvent {
    fn event_type(&self) -> String {
        match self {
            PolicyEvent::CategoryFeeSet { .. } => "CategoryFeeSet",
            PolicyEvent::MemberFeeSet { .. } => "MemberFeeSet",
            PolicyEvent::TimingSet { .. } => "PayoutTimingSet",
            PolicyEvent::AccountsSet { .. } => "AccountsSet",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a membership fee is at least 0 öre a month")]
    FeeBelowZero,
    #[error("a membership fee of more than {max} a month is not accepted")]
    FeeTooLarge { max: Ore },
    #[error("accounts are four-digit numbers from 1000 to 8999")]
    InvalidAccount,
}

fn category_key(category: MemberCategory) -> String {
    format!("{category:?}")
}

fn check_fee(monthly: Ore) -> Result<(), PolicyError> {
    match monthly {
        m if m.is_negative() => Err(PolicyError::FeeBelowZero),
        m if m > MAX_MONTHLY_FEE => Err(PolicyError::FeeTooLarge { max: MAX_MONTHLY_FEE }),
        _ => Ok(()),
    }
}

/// The version in force in `month` of a history sorted by month; none before the first.
fn in_force<T: Copy>(history: &[(Month, T)], month: Month) -> Option<T> {
    history.iter().rev().find(|(from, _)| *from <= month).map(|(_, v)| *v)
}

impl PayoutPolicy {
    /// The fee a member of `category` (its category in that month) pays for `month`: its own
    /// override if one is in force, else its category's, else nothing.
    pub fn fee(&self, member_id: &str, category: MemberCategory, month: Month) -> Ore {
        let own = self.member_fees.get(member_id).and_then(|h| in_force(h, month));
        if let Some(Some(fee)) = own {
            return fee;
        }
        let history: Vec<(Month, Ore)> = self
            .category_fees
            .get(&category_key(category))
            .map(|h| h.iter().map(|v| (v.from, v.monthly)).collect())
            .unwrap_or_default();
        in_force(&history, month).unwrap_or(Ore::ZERO)
    }

    fn decide(&self, command: PolicyCommand) -> Result<PolicyEvent, PolicyError> {
        match command {
            PolicyCommand::SetCategoryFee { category, from, monthly } => {
                check_fee(monthly)?;
                Ok(PolicyEvent::CategoryFeeSet { category, from, monthly })
            }
            PolicyCommand::SetMemberFee { member_id, from, monthly } => {
                if let Some(fee) = monthly {
                    check_fee(fee)?;
                }
                Ok(PolicyEvent::MemberFeeSet { member_id, from, monthly })
            }
            PolicyCommand::SetTiming(timing) => Ok(PolicyEvent::TimingSet { timing }),
            PolicyCommand::SetAccounts(accounts) => match accounts.valid() {
                true => Ok(PolicyEvent::AccountsSet { accounts }),
                false => Err(PolicyError::InvalidAccount),
            },
        }
    }
}

/// Puts a version in its place by month, replacing one from the same month.
fn insert<T>(history: &mut Vec<(Month, T)>, from: Month, value: T) {
    history.retain(|(m, _)| *m != from);
    let at = history.partition_point(|(m, _)| *m < from);
    history.insert(at, (from, value));
}

impl Aggregate for PayoutPolicy {
    const TYPE: &'static str = "PayoutPolicy";
    type Command = PolicyCommand;
    type Event = PolicyEvent;
    type Error = PolicyError;
    type Services = ();

    async fn handle(&mut self, command: PolicyCommand, _: &(), sink: &EventSink<Self>) -> Result<(), PolicyError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: PolicyEvent) {
        match event {
            PolicyEvent::CategoryFeeSet { category, from, monthly } => {
                let history = self.category_fees.entry(category_key(category)).or_default();
                let mut pairs: Vec<(Month, Ore)> = history.iter().map(|v| (v.from, v.monthly)).collect();
                insert(&mut pairs, from, monthly);
                *history = pairs.into_iter().map(|(from, monthly)| FeeVersion { from, monthly }).collect();
            }
            PolicyEvent::MemberFeeSet { member_id, from, monthly } => {
                insert(self.member_fees.entry(member_id).or_default(), from, monthly)
            }
            PolicyEvent::TimingSet { timing } => self.timing = timing,
            PolicyEvent::AccountsSet { accounts } => self.accounts = accounts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_fee_below_zero_is_refused() {
        TestFramework::<PayoutPolicy>::with(())
            .given_no_previous_events()
            .when(PolicyCommand::SetCategoryFee {
                category: MemberCategory::Wise,
                from: month("2024-09"),
                monthly: Ore(-1),
            })
            .then_expect_error(PolicyError::FeeBelowZero);
    }

    #[test]
    fn a_member_pays_its_own_fee_from_its_month_and_its_category_fee_before_and_after() {
        let mut policy = PayoutPolicy::default();
        for event in [
            PolicyEvent::CategoryFeeSet {
                category: MemberCategory::Wise,
                from: month("2024-09"),
                monthly: Ore(50_000),
            },
            PolicyEvent::CategoryFeeSet {
                category: MemberCategory::Wise,
                from: month("2025-01"),
                monthly: Ore(60_000),
            },
            PolicyEvent::CategoryFeeSet {
                category: MemberCategory::OtherAssociation,
                from: month("2024-09"),
                monthly: Ore(100_000),
            },
            PolicyEvent::MemberFeeSet { member_id: "m".into(), from: month("2024-12"), monthly: Some(Ore(0)) },
            PolicyEvent::MemberFeeSet { member_id: "m".into(), from: month("2025-02"), monthly: None },
        ] {
            policy.apply(event);
        }
        let fee = |member: &str, category, m: &str| policy.fee(member, category, month(m));
        assert_eq!(fee("m", MemberCategory::Wise, "2024-08"), Ore::ZERO, "no fee before the first version");
        assert_eq!(fee("m", MemberCategory::Wise, "2024-11"), Ore(50_000));
        assert_eq!(fee("m", MemberCategory::Wise, "2024-12"), Ore::ZERO, "the member's own fee");
        assert_eq!(fee("m", MemberCategory::Wise, "2025-02"), Ore(60_000), "back to the category's");
        assert_eq!(fee("x", MemberCategory::OtherAssociation, "2025-02"), Ore(100_000));
    }
}
