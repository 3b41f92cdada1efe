//! The socio-economic estimate of seed 001 (Payoff's 2019 evaluation of Östersund's socially
//! responsible procurement): how long the extra cost of a reserved procurement takes to pay back
//! through the revenue each exit to work brings, `payback_months = C / (n × R/12 × (1 − p))`.
//! It is an estimate with stated assumptions, never a figure from the books.

use serde::{Deserialize, Serialize};

/// Whose return the estimate counts, with the seed's annual revenue per person in work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Perspective {
    /// The municipality, when the person would otherwise have had försörjningsstöd (≈ 175 000 kr/year).
    MunicipalityIncomeSupport,
    /// The municipality, when the person would otherwise have had aktivitetsstöd (≈ 43 000 kr/year).
    MunicipalityActivitySupport,
    /// Society, unsubsidised work (485 000 kr/year production value at a wage of 22 500 kr/month).
    SocietyUnsubsidised,
    /// Society, subsidised work at 80 % (194 000 kr/year).
    SocietySubsidised,
}

/// The assumptions of an estimate; every one can be changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions {
    /// Extra cost of the procurement for the municipality, in kronor (116 h × 600 kr = 69 600 kr).
    pub municipal_cost_kr: f64,
    /// Extra cost for society, indirect taxes included (86 600 kr).
    pub society_cost_kr: f64,
    pub income_support_kr_per_year: f64,
    pub activity_support_kr_per_year: f64,
    pub unsubsidised_kr_per_year: f64,
    pub subsidised_kr_per_year: f64,
    /// The chance the person would have found work anyway (0 ≤ p < 1).
    pub got_work_anyway: f64,
}

impl Default for Assumptions {
    /// The seed's figures (S1:L422-532), with p = 0.
    fn default() -> Assumptions {
        Assumptions {
            municipal_cost_kr: 116.0 * 600.0,
            society_cost_kr: 86_600.0,
            income_support_kr_per_year: 175_000.0,
            activity_support_kr_per_year: 43_000.0,
            unsubsidised_kr_per_year: 485_000.0,
            subsidised_kr_per_year: 194_000.0,
            got_work_anyway: 0.0,
        }
    }
}

/// One perspective's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub perspective: Perspective,
    /// People who left for work (employment elsewhere or by the member).
    pub exits_to_work: u32,
    pub cost_kr: f64,
    pub revenue_kr_per_year: f64,
    /// Months until the extra cost is paid back; `None` with no exit to work (it never is).
    pub payback_months: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidAssumptions {
    #[error("the chance of work anyway must be at least 0 and below 1, got {0}")]
    Probability(f64),
    #[error("costs and revenues must be positive numbers of kronor")]
    Amount,
}

impl Assumptions {
    pub fn check(&self) -> Result<(), InvalidAssumptions> {
        if !(0.0..1.0).contains(&self.got_work_anyway) {
            return Err(InvalidAssumptions::Probability(self.got_work_anyway));
        }
        let amounts = [
            self.municipal_cost_kr,
            self.society_cost_kr,
            self.income_support_kr_per_year,
            self.activity_support_kr_per_year,
            self.unsubsidised_kr_per_year,
            self.subsidised_kr_per_year,
        ];
        if amounts.iter().any(|a| !a.is_finite() || *a <= 0.0) {
            return Err(InvalidAssumptions::Amount);
        }
        Ok(())
    }

    fn cost_and_revenue(&self, perspective: Perspective) -> (f64, f64) {
        match perspective {
            Perspective::MunicipalityIncomeSupport => (self.municipal_cost_kr, self.income_support_kr_per_year),
            Perspective::MunicipalityActivitySupport => (self.municipal_cost_kr, self.activity_support_kr_per_year),
            Perspective::SocietyUnsubsidised => (self.society_cost_kr, self.unsubsidised_kr_per_year),
            Perspective::SocietySubsidised => (self.society_cost_kr, self.subsidised_kr_per_year),
        }
    }

    /// `C / (n × R/12 × (1 − p))` for one perspective.
    pub fn estimate(&self, perspective: Perspective, exits_to_work: u32) -> Result<Estimate, InvalidAssumptions> {
        self.check()?;
        let (cost_kr, revenue_kr_per_year) = self.cost_and_revenue(perspective);
        let monthly = f64::from(exits_to_work) * revenue_kr_per_year / 12.0 * (1.0 - self.got_work_anyway);
        let payback_months = (exits_to_work > 0).then(|| cost_kr / monthly);
        Ok(Estimate { perspective, exits_to_work, cost_kr, revenue_kr_per_year, payback_months })
    }

    /// Every perspective, in the order of the seed's table.
    pub fn estimates(&self, exits_to_work: u32) -> Result<Vec<Estimate>, InvalidAssumptions> {
        [
            Perspective::MunicipalityIncomeSupport,
            Perspective::MunicipalityActivitySupport,
            Perspective::SocietyUnsubsidised,
            Perspective::SocietySubsidised,
        ]
        .into_iter()
        .map(|p| self.estimate(p, exits_to_work))
        .collect()
    }
}
