//! Money and shares as integers, so that an invoice sums to the öre on every machine.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in öre (1/100 kr). Money never passes through a float.
///
/// There is deliberately no `+` or `-`: on `i64` they panic in debug builds and wrap in release builds,
/// and an invoice must do neither. Sums go through [`Ore::checked_add`], [`Ore::checked_sub`] and
/// [`Ore::checked_sum`], so the caller decides what an overflow means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ore(pub i64);

/// A text that is not an amount the way [`Ore`]'s `Display` writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOre {
    #[error("an amount is written like \"6000.00 kr\", \"-0.05 kr\" or in öre like \"600000\", got {0:?}")]
    Format(String),
    #[error("the amount {0} does not fit in öre")]
    OutOfRange(String),
}

impl Ore {
    pub const ZERO: Ore = Ore(0);

    /// Whole kronor, the unit the framework agreements quote (6 000 kr = `Ore::kr(6_000)`).
    ///
    /// Meant for constants. It saturates at the largest amount rather than wrapping, so a mistyped
    /// constant shows up as an absurd amount instead of a negative one.
    pub const fn kr(kronor: i64) -> Ore {
        Ore(kronor.saturating_mul(100))
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `None` when the sum does not fit, which no real invoice reaches: the caller refuses the command.
    pub fn checked_add(self, rhs: Ore) -> Option<Ore> {
        self.0.checked_add(rhs.0).map(Ore)
    }

    /// `None` when the difference does not fit, which no real invoice reaches.
    pub fn checked_sub(self, rhs: Ore) -> Option<Ore> {
        self.0.checked_sub(rhs.0).map(Ore)
    }

    /// The exact sum, or `None` if it does not fit. The running total is kept in `i128`, so the answer
    /// does not depend on the order of the amounts: a large credit after a large debit is fine.
    pub fn checked_sum<I: IntoIterator<Item = Ore>>(amounts: I) -> Option<Ore> {
        let total = amounts.into_iter().try_fold(0_i128, |total, amount| total.checked_add(i128::from(amount.0)))?;
        i64::try_from(total).ok().map(Ore)
    }

    /// `self × numerator / denominator`, rounded half away from zero exactly once (DESIGN decision 4).
    pub fn prorate(self, numerator: i64, denominator: i64) -> Ore {
        // Two i64 factors always fit in an i128, so only the rounding can saturate.
        Ore(round_half_up(i128::from(self.0) * i128::from(numerator), i128::from(denominator)))
    }

    /// Reads back what `Display` writes ("6000.00 kr", "-0.05 kr"), or a whole number of öre
    /// ("600000") as the API's `…Ore` fields carry it. Nothing else: no thousands separators, no
    /// decimal comma and no single decimal, so that one amount has one spelling.
    pub fn parse(text: &str) -> Result<Ore, InvalidOre> {
        let bad = || InvalidOre::Format(text.to_string());
        let trimmed = text.trim();
        let (negative, unsigned) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, cents) = match unsigned.strip_suffix(" kr") {
            Some(kronor) => {
                let (whole, cents) = kronor.split_once('.').ok_or_else(bad)?;
                if cents.len() != 2 {
                    return Err(bad());
                }
                (whole, cents)
            }
            None => (unsigned, ""),
        };
        if whole.is_empty() || !whole.bytes().chain(cents.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let out_of_range = || InvalidOre::OutOfRange(text.to_string());
        // Only ASCII digits are left, so a parse error can only mean "too many digits".
        let whole: i128 = whole.parse().map_err(|_| out_of_range())?;
        let cents: i128 = if cents.is_empty() { 0 } else { cents.parse().map_err(|_| bad())? };
        let magnitude = if unsigned.ends_with(" kr") {
            whole.checked_mul(100).and_then(|ore| ore.checked_add(cents)).ok_or_else(out_of_range)?
        } else {
            whole
        };
        let signed = if negative { -magnitude } else { magnitude };
        i64::try_from(signed).map(Ore).map_err(|_| out_of_range())
    }
}

impl fmt::Display for Ore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02} kr", abs / 100, abs % 100)
    }
}

/// Integer division rounded half away from zero: the rounding Swedish invoices use ("avrundning").
///
/// Every caller divides by a count of days or by 10 000 basis points, so a denominator below 1 is a
/// bug; rather than panic in the middle of an invoice run it is read as 1. A quotient beyond `i64`
/// saturates, and no input overflows on the way.
pub fn round_half_up(numerator: i128, denominator: i128) -> i64 {
    let divisor = denominator.max(1).unsigned_abs();
    let magnitude = numerator.unsigned_abs();
    let (quotient, remainder) = (magnitude / divisor, magnitude % divisor);
    // Half or more of the divisor rounds away from zero; `divisor - remainder` cannot underflow.
    let rounded = if remainder >= divisor - remainder { quotient.saturating_add(1) } else { quotient };
    let rounded = i128::try_from(rounded).unwrap_or(i128::MAX);
    let signed = if numerator < 0 { -rounded } else { rounded };
    i64::try_from(signed).unwrap_or(if signed > 0 { i64::MAX } else { i64::MIN })
}

/// A share in basis points (1 % = 100), exact for the rates agreements quote: 30 %, 12,5 %.
///
/// Deserialising checks the range too, so a stored share is never above 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Percent(u32);

/// A share outside 0–100 %, or finer than a hundredth of a percent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a percentage must be between 0 and 100 with at most two decimals, got {0}")]
pub struct InvalidPercent(pub String);

impl Percent {
    pub const HUNDRED: Percent = Percent(10_000);

    /// Meant for constants such as the 30 % target-group share; a value above 100 is clamped to 100 %
    /// so that no `Percent` is ever out of range.
    pub const fn from_whole(percent: u32) -> Percent {
        if percent > 100 {
            Percent::HUNDRED
        } else {
            Percent(percent * 100)
        }
    }

    pub fn from_basis_points(bp: u32) -> Result<Percent, InvalidPercent> {
        if bp > 10_000 {
            return Err(InvalidPercent(format!("{bp} basis points")));
        }
        Ok(Percent(bp))
    }

    /// Parses "30", "12.5", "12,5" (the Swedish decimal comma) and what `Display` writes ("12,50 %").
    /// A separator needs digits on both sides: "1.", ",5" are more likely typos than shares.
    pub fn parse(text: &str) -> Result<Percent, InvalidPercent> {
        let bad = || InvalidPercent(text.to_string());
        let trimmed = text.trim();
        let number = trimmed.strip_suffix('%').unwrap_or(trimmed).trim_end();
        let (whole, frac) = match number.split_once([',', '.']) {
            Some((_, "")) => return Err(bad()),
            Some((whole, frac)) => (whole, frac),
            None => (number, ""),
        };
        if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        // Only ASCII digits are left, so a parse error means a number far above 100.
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac: u32 = match frac.as_bytes() {
            [] => 0,
            [tenths] => u32::from(tenths - b'0') * 10,
            [tenths, hundredths] => u32::from(tenths - b'0') * 10 + u32::from(hundredths - b'0'),
            _ => return Err(bad()),
        };
        let bp = whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?;
        Percent::from_basis_points(bp).map_err(|_| bad())
    }

    pub fn basis_points(self) -> u32 {
        self.0
    }

    /// This share of an amount, rounded half-up once.
    pub fn of(self, amount: Ore) -> Ore {
        amount.prorate(i64::from(self.0), 10_000)
    }
}

impl TryFrom<u32> for Percent {
    type Error = InvalidPercent;
    fn try_from(bp: u32) -> Result<Self, Self::Error> {
        Percent::from_basis_points(bp)
    }
}

impl From<Percent> for u32 {
    fn from(value: Percent) -> u32 {
        value.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 % 100 {
            0 => write!(f, "{} %", self.0 / 100),
            frac => write!(f, "{},{:02} %", self.0 / 100, frac),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_place_filled_20_of_30_days_at_6000_kr_is_400_000_ore() {
        assert_eq!(Ore::kr(6_000).prorate(20, 30), Ore(400_000));
    }

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(round_half_up(5, 2), 3);
        assert_eq!(round_half_up(-5, 2), -3);
        assert_eq!(round_half_up(4, 3), 1);
        assert_eq!(round_half_up(5, 3), 2);
        assert_eq!(round_half_up(-4, 3), -1);
        // 6 000 kr for 1 of 31 days = 19 354,838… kr → 1 935 484 öre
        assert_eq!(Ore::kr(6_000).prorate(1, 31), Ore(19_355));
    }

    #[test]
    fn rounding_saturates_instead_of_overflowing() {
        assert_eq!(round_half_up(i128::MAX, 1), i64::MAX);
        assert_eq!(round_half_up(i128::MIN, 1), i64::MIN);
        assert_eq!(round_half_up(i128::MAX, 2), i64::MAX);
        assert_eq!(round_half_up(i128::MIN, i128::MAX), -1);
        assert_eq!(Ore(i64::MIN).prorate(i64::MIN, 1), Ore(i64::MAX));
    }

    #[test]
    fn a_denominator_below_one_is_read_as_one() {
        assert_eq!(round_half_up(7, 0), 7);
        assert_eq!(round_half_up(-7, -3), -7);
        assert_eq!(round_half_up(7, i128::MIN), 7);
    }

    #[test]
    fn kronor_saturate_instead_of_wrapping() {
        assert_eq!(Ore::kr(i64::MAX), Ore(i64::MAX));
        assert_eq!(Ore::kr(i64::MIN), Ore(i64::MIN));
    }

    #[test]
    fn sums_that_do_not_fit_are_none() {
        assert_eq!(Ore(i64::MAX).checked_add(Ore(1)), None);
        assert_eq!(Ore(i64::MIN).checked_sub(Ore(1)), None);
        assert_eq!(Ore(5).checked_sub(Ore(7)), Some(Ore(-2)));
        assert_eq!(Ore::checked_sum([Ore(i64::MAX), Ore(1)]), None);
        assert_eq!(Ore::checked_sum([Ore(i64::MAX), Ore(1), Ore(-1)]), Some(Ore(i64::MAX)));
        assert_eq!(Ore::checked_sum([]), Some(Ore::ZERO));
    }

    #[test]
    fn an_amount_reads_back_as_display_writes_it() {
        assert_eq!(Ore::parse("6000.00 kr"), Ok(Ore(600_000)));
        assert_eq!(Ore::parse("-0.05 kr"), Ok(Ore(-5)));
        assert_eq!(Ore::parse("600000"), Ok(Ore(600_000)));
        assert_eq!(Ore::parse("-5"), Ok(Ore(-5)));
        assert_eq!(Ore::parse(&Ore(i64::MIN).to_string()), Ok(Ore(i64::MIN)));
    }

    #[test]
    fn an_amount_in_any_other_spelling_is_refused() {
        for text in
            ["", "kr", "-", " kr", "6000 kr", "6000.0 kr", "6000.000 kr", "6000,00 kr", "6 000.00 kr", "+5", "5.5"]
        {
            assert_eq!(Ore::parse(text), Err(InvalidOre::Format(text.into())), "{text}");
        }
        for text in ["6000.00kr", "6000.00 kr.", "--5", "-+5", ".05 kr", "1e3", "0x10"] {
            assert!(matches!(Ore::parse(text), Err(InvalidOre::Format(_))), "{text}");
        }
    }

    #[test]
    fn an_amount_beyond_i64_is_out_of_range() {
        for text in ["9223372036854775808", "92233720368547758.08 kr", "-92233720368547758.09 kr", &"9".repeat(60)] {
            assert!(matches!(Ore::parse(text), Err(InvalidOre::OutOfRange(_))), "{text}");
        }
    }

    #[test]
    fn percentages_parse_with_comma_or_point() {
        assert_eq!(Percent::parse("30").map(Percent::basis_points), Ok(3_000));
        assert_eq!(Percent::parse("12,5").map(Percent::basis_points), Ok(1_250));
        assert_eq!(Percent::parse("12.5").map(Percent::basis_points), Ok(1_250));
        assert_eq!(Percent::parse("7.25 %").map(Percent::basis_points), Ok(725));
        assert_eq!(Percent::parse("12,50 %").map(Percent::basis_points), Ok(1_250));
        assert_eq!(Percent::parse("100%").map(Percent::basis_points), Ok(10_000));
    }

    #[test]
    fn a_percentage_with_a_dangling_separator_or_out_of_range_is_refused() {
        for text in [
            "101",
            "100,01",
            "-3",
            "1.234",
            "",
            "%",
            "1.",
            "1,",
            ",5",
            ".5",
            "1.2.3",
            "1,2.3",
            "5 %%",
            "+5",
            "4294967296",
        ] {
            assert!(Percent::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_commission_is_rounded_half_up_once() {
        // 7,5 % of 400 001 öre = 30 000,075 öre → 30 000 öre
        assert_eq!(Percent::parse("7,5").map(|p| p.of(Ore(400_001))), Ok(Ore(30_000)));
    }

    #[test]
    fn whole_percentages_above_100_are_clamped() {
        assert_eq!(Percent::from_whole(30).basis_points(), 3_000);
        assert_eq!(Percent::from_whole(u32::MAX), Percent::HUNDRED);
    }

    #[test]
    fn deserialising_a_share_above_100_percent_is_refused() {
        assert_eq!(serde_json::from_str::<Percent>("1250").map(Percent::basis_points).ok(), Some(1_250));
        assert!(serde_json::from_str::<Percent>("10001").is_err());
    }

    proptest! {
        #[test]
        fn every_amount_reads_back_as_display_writes_it(ore in any::<i64>()) {
            prop_assert_eq!(Ore::parse(&Ore(ore).to_string()), Ok(Ore(ore)));
            prop_assert_eq!(Ore::parse(&ore.to_string()), Ok(Ore(ore)));
        }

        #[test]
        fn a_checked_sum_is_the_exact_sum_or_none(amounts in prop::collection::vec(any::<i64>(), 0..8)) {
            let exact: i128 = amounts.iter().copied().map(i128::from).sum();
            let expected = i64::try_from(exact).ok().map(Ore);
            prop_assert_eq!(Ore::checked_sum(amounts.into_iter().map(Ore)), expected);
        }

        #[test]
        fn a_checked_sum_of_invoice_sized_amounts_is_exact(
            amounts in prop::collection::vec(-1_000_000_000_i64..1_000_000_000, 0..20)
        ) {
            prop_assert_eq!(Ore::checked_sum(amounts.iter().copied().map(Ore)), Some(Ore(amounts.iter().sum())));
        }

        #[test]
        fn parsing_an_amount_never_panics(text in any::<String>()) {
            let _ = Ore::parse(&text);
        }

        #[test]
        fn rounding_never_panics(numerator in any::<i128>(), denominator in any::<i128>()) {
            let _ = round_half_up(numerator, denominator);
        }

        #[test]
        fn every_percentage_reads_back_as_display_writes_it(bp in 0_u32..=10_000) {
            let percent = Percent::from_basis_points(bp);
            prop_assert_eq!(percent.clone().and_then(|p| Percent::parse(&p.to_string())), percent);
        }

        #[test]
        fn parsing_a_percentage_never_panics(text in any::<String>()) {
            let _ = Percent::parse(&text);
        }

        #[test]
        fn parsing_a_percentage_like_text_never_panics(text in "[0-9 ,.%+-]{0,12}") {
            if let Ok(percent) = Percent::parse(&text) {
                prop_assert!(percent.basis_points() <= 10_000);
            }
        }
    }
}
