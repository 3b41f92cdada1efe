//! The month's bookkeeping as a SIE 4 file (SIE-gruppen's format 4B, transactions): one voucher
//! (`#VER`) per invoice, credit note and payout statement, each with balanced `#TRANS` lines, in
//! CP437. Debits are positive, credits negative, amounts in kronor with two decimals.
//!
//! - an invoice: receivables (debit) against sales by VAT category and output VAT;
//! - a credit note: the same, reversed;
//! - a statement: the members' gross net of reversals as bought-in services (debit) against what is
//!   owed to the member, the commission and the membership fee the consortium keeps.

use super::cp437;
use super::ledger::Statement;
use super::policy::Accounts;
use crate::agreement::VatCategory;
use crate::invoice::{CreditNote, InvoiceDocument};
use crate::money::Ore;
use std::collections::BTreeSet;
use time::Date;

/// One voucher (verifikation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    /// `F` invoices, `K` credit notes, `A` payout statements (avräkningar).
    pub series: &'static str,
    pub date: Date,
    pub text: String,
    /// (account, amount): debit positive, credit negative; they add up to 0.
    pub transactions: Vec<(u32, Ore)>,
}

fn neg(amount: Ore) -> Ore {
    Ore(amount.0.saturating_neg())
}

fn sales_account(vat: &VatCategory, accounts: &Accounts) -> u32 {
    match vat {
        VatCategory::Standard25 => accounts.sales_standard,
        VatCategory::Exempt { .. } => accounts.sales_exempt,
    }
}

fn invoice_lines(document: &InvoiceDocument, accounts: &Accounts) -> Vec<(u32, Ore)> {
    vec![
        (accounts.receivables, document.payable),
        (sales_account(&document.vat, accounts), neg(document.net)),
        (accounts.output_vat, neg(document.vat_amount)),
    ]
}

pub fn invoice_voucher(document: &InvoiceDocument, accounts: &Accounts) -> Voucher {
    Voucher {
        series: "F",
        date: document.issued_on,
        text: format!("Faktura {} {}", document.number, document.buyer.name),
        transactions: invoice_lines(document, accounts),
    }
}

pub fn credit_note_voucher(document: &InvoiceDocument, credit: &CreditNote, accounts: &Accounts) -> Voucher {
    Voucher {
        series: "K",
        date: credit.issued_on,
        text: format!("Kreditnota {} till faktura {}", credit.number, document.number),
        transactions: invoice_lines(document, accounts).into_iter().map(|(a, amount)| (a, neg(amount))).collect(),
    }
}

pub fn statement_voucher(statement: &Statement, member_name: &str, accounts: &Accounts) -> Voucher {
    let reversed_gross = Ore::checked_sum(statement.adjustments.iter().map(|a| a.gross)).unwrap_or(Ore::ZERO);
    let reversed_commission = Ore::checked_sum(statement.adjustments.iter().map(|a| a.commission)).unwrap_or(Ore::ZERO);
    let gross = Ore(statement.gross.0.saturating_add(reversed_gross.0));
    let commission = Ore(statement.commission.0.saturating_add(reversed_commission.0));
    Voucher {
        series: "A",
        date: statement.issued_on,
        text: format!("Avräkning {} {} {}", statement.number, member_name, statement.month),
        transactions: vec![
            (accounts.member_costs, gross),
            (accounts.payables_to_members, neg(statement.payout)),
            (accounts.commission_revenue, neg(commission)),
            (accounts.fee_revenue, neg(statement.membership_fee)),
        ],
    }
}

/// The company the file is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub name: String,
    /// `NNNNNN-NNNN`.
    pub org_number: String,
}

/// `4000.00`, `-12.5` as `-12.50`.
fn kronor(amount: Ore) -> String {
    let sign = if amount.is_negative() { "-" } else { "" };
    let abs = amount.0.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn day(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The SIE 4 file, CP437-encoded, lines ended by CR LF. The financial year (`#RAR 0`) is the
/// calendar year of `year_of`. Transactions of 0 öre are left out.
pub fn write(
    company: &Company,
    year_of: Date,
    generated_on: Date,
    vouchers: &[Voucher],
    accounts: &Accounts,
) -> Vec<u8> {
    let mut lines = vec![
        "#FLAGGA 0".to_string(),
        "#FORMAT PC8".to_string(),
        "#SIETYP 4".to_string(),
        format!("#PROGRAM {} {}", quoted("Konsortium"), quoted(env!("CARGO_PKG_VERSION"))),
        format!("#GEN {}", day(generated_on)),
        format!("#FNAMN {}", quoted(&company.name)),
        format!("#ORGNR {}", company.org_number),
        format!("#RAR 0 {:04}0101 {:04}1231", year_of.year(), year_of.year()),
        "#KPTYP BAS2014".to_string(),
    ];
    let used: BTreeSet<u32> =
        vouchers.iter().flat_map(|v| v.transactions.iter()).filter(|(_, a)| *a != Ore::ZERO).map(|(a, _)| *a).collect();
    lines.extend(used.iter().map(|account| format!("#KONTO {account} {}", quoted(accounts.name(*account)))));
    let mut numbers: Vec<(&str, u32)> = Vec::new();
    for voucher in vouchers {
        let number = match numbers.iter_mut().find(|(s, _)| *s == voucher.series) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                numbers.push((voucher.series, 1));
                1
            }
        };
        lines.push(format!(
            "#VER {} {} {} {}",
            quoted(voucher.series),
            quoted(&number.to_string()),
            day(voucher.date),
            quoted(&voucher.text)
        ));
        lines.push("{".to_string());
        for (account, amount) in voucher.transactions.iter().filter(|(_, a)| *a != Ore::ZERO) {
            lines.push(format!("   #TRANS {account} {{}} {}", kronor(*amount)));
        }
        lines.push("}".to_string());
    }
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    cp437::encode(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_kronor_with_two_decimals_and_text_is_pc8() {
        assert_eq!(kronor(Ore(400_000)), "4000.00");
        assert_eq!(kronor(Ore(-1_250)), "-12.50");
        let company = Company { name: "Jämtlands Sociala Företag".into(), org_number: "769600-1002".into() };
        let voucher = Voucher {
            series: "A",
            date: time::macros::date!(2026 - 11 - 28),
            text: "Avräkning".into(),
            transactions: vec![(4600, Ore(400_000)), (2440, Ore(-400_000)), (3990, Ore::ZERO)],
        };
        let accounts = Accounts::default();
        let file = write(&company, voucher.date, voucher.date, &[voucher], &accounts);
        let text = cp437::decode(&file);
        assert!(text.starts_with("#FLAGGA 0\r\n#FORMAT PC8\r\n#SIETYP 4\r\n"), "{text}");
        assert!(file.windows(2).any(|w| w == [b'J', 0x84]), "ä is 0x84 in PC8");
        assert!(text.contains("#VER \"A\" \"1\" 20261128 \"Avräkning\"\r\n{\r\n   #TRANS 4600 {} 4000.00\r\n   #TRANS 2440 {} -4000.00\r\n}"));
        assert!(!text.contains("#KONTO 3990"), "an account with nothing on it is not listed");
    }
}
