//! Money and shares as integers, so that an invoice sums to the öre on every machine.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An amount in öre (1/100 kr). Money never passes through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ore(pub i64);

impl Ore {
    pub const ZERO: Ore = Ore(0);

    /// Whole kronor, the unit the framework agreements quote (6 000 kr = `Ore::kr(6_000)`).
    pub const fn kr(kronor: i64) -> Ore {
        Ore(kronor * 100)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self × numerator / denominator`, rounded half away from zero exactly once (DESIGN decision 4).
    pub fn prorate(self, numerator: i64, denominator: i64) -> Ore {
        Ore(round_half_up(i128::from(self.0) * i128::from(numerator), i128::from(denominator)))
    }
}

impl Add for Ore {
    type Output = Ore;
    fn add(self, rhs: Ore) -> Ore {
        Ore(self.0 + rhs.0)
    }
}

impl AddAssign for Ore {
    fn add_assign(&mut self, rhs: Ore) {
        self.0 += rhs.0;
    }
}

impl Sub for Ore {
    type Output = Ore;
    fn sub(self, rhs: Ore) -> Ore {
        Ore(self.0 - rhs.0)
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
pub fn round_half_up(numerator: i128, denominator: i128) -> i64 {
    assert!(denominator > 0, "denominator must be positive");
    let half = denominator / 2;
    let rounded = if numerator >= 0 { (numerator + half) / denominator } else { -((-numerator + half) / denominator) };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// A share in basis points (1 % = 100), exact for the rates agreements quote: 30 %, 12,5 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(u32);

/// A share outside 0–100 %, or finer than a hundredth of a percent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a percentage must be between 0 and 100 with at most two decimals, got {0}")]
pub struct InvalidPercent(pub String);

impl Percent {
    pub const HUNDRED: Percent = Percent(10_000);

    pub const fn from_whole(percent: u32) -> Percent {
        Percent(percent * 100)
    }

    pub fn from_basis_points(bp: u32) -> Result<Percent, InvalidPercent> {
        if bp > 10_000 {
            return Err(InvalidPercent(format!("{bp} basis points")));
        }
        Ok(Percent(bp))
    }

    /// Parses "30", "12.5" or "12,5" (the Swedish decimal comma).
    pub fn parse(text: &str) -> Result<Percent, InvalidPercent> {
        let bad = || InvalidPercent(text.to_string());
        let cleaned = text.trim().trim_end_matches('%').trim().replace(',', ".");
        let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        if whole.is_empty() || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac: u32 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
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

    #[test]
    fn a_place_filled_20_of_30_days_at_6000_kr_is_400_000_ore() {
        assert_eq!(Ore::kr(6_000).prorate(20, 30), Ore(400_000));
    }

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(round_half_up(5, 2), 3);
        assert_eq!(round_half_up(-5, 2), -3);
        assert_eq!(round_half_up(4, 3), 1);
        // 6 000 kr for 1 of 31 days = 19 354,838… kr → 1 935 484 öre
        assert_eq!(Ore::kr(6_000).prorate(1, 31), Ore(19_355));
    }

    #[test]
    fn percentages_parse_with_comma_or_point() {
        assert_eq!(Percent::parse("30").map(Percent::basis_points), Ok(3_000));
        assert_eq!(Percent::parse("12,5").map(Percent::basis_points), Ok(1_250));
        assert_eq!(Percent::parse("7.25 %").map(Percent::basis_points), Ok(725));
        assert!(Percent::parse("101").is_err());
        assert!(Percent::parse("-3").is_err());
        assert!(Percent::parse("1.234").is_err());
        assert!(Percent::parse("").is_err());
    }

    #[test]
    fn a_commission_is_rounded_half_up_once() {
        // 7,5 % of 400 001 öre = 30 000,075 öre → 30 000 öre
        assert_eq!(Percent::parse("7,5").map(|p| p.of(Ore(400_001))), Ok(Ore(30_000)));
    }
}
