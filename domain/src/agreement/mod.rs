//! A framework agreement (ramavtal) that the consortium holds as sole supplier towards a public buyer.

mod aggregate;
mod commands;
mod events;
mod terms;

pub use aggregate::{AgreementError, FrameworkAgreement};
pub use commands::AgreementCommand;
pub use events::AgreementEvent;
pub use terms::{
    AfterEmploymentMaximum, AgreementKind, AgreementTerms, Buyer, CapacityVersion, EmploymentRequirement,
    PostalAddress, RateCard, RateChange, RateVersion, VatCategory,
};

use crate::money::Ore;

/// The highest monthly rate an agreement may quote (1 000 000 kr): far above any real rate, and low
/// enough that no sum of a year's reports can overflow.
pub const MAX_MONTHLY_RATE: Ore = Ore(100_000_000);
/// The most places an agreement may contract.
pub const MAX_PLACES: u32 = 100_000;
/// The longest cap of months (50 years).
pub const MAX_CAP_MONTHS: u32 = 600;
/// The highest contract value (1 000 000 000 000 kr).
pub const MAX_CONTRACT_VALUE: Ore = Ore(100_000_000_000_000);
/// The most employments a skallkrav may demand: as many as the most places an agreement contracts,
/// so a mistyped number is refused rather than shown as a requirement nobody could meet.
pub const MAX_REQUIRED_EMPLOYMENTS: u32 = MAX_PLACES;
