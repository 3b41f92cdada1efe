//! A framework agreement (ramavtal) that the consortium holds as sole supplier towards a public buyer.

mod aggregate;
mod commands;
mod events;
mod terms;

pub use aggregate::{AgreementError, FrameworkAgreement};
pub use commands::AgreementCommand;
pub use events::AgreementEvent;
pub use terms::{AgreementKind, AgreementTerms, Buyer, CapacityVersion, RateCard, RateVersion, VatCategory};
