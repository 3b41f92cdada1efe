//! What municipalities ask of the books: utilisation in place-days, outcomes they may see without
//! identifying anyone, and whether the reserved procurement paid off. Pure functions over the
//! aggregates' states; the projections keep their results in SQL tables.

/// Employment-requirement compliance: required → agreed → filled.
pub mod employment;
/// The socio-economic estimate (seed 001, Payoff): payback time of the extra procurement cost.
pub mod payoff;
/// Small-cell suppression of a table of counts shown to buyers.
pub mod suppression;
/// Place-days per member and month from agreements, splits and places.
pub mod utilisation;

#[cfg(test)]
mod employment_tests;
#[cfg(test)]
mod payoff_tests;
#[cfg(test)]
mod suppression_tests;
#[cfg(test)]
mod utilisation_tests;
