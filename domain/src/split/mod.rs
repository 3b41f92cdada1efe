//! How staff split an agreement across members (bryta ner avtalet): places per member for
//! training-place agreements, roles with a share of the value for goods and services.
//!
//! One split per agreement (its id is the agreement's). Commands carry the agreement's current state
//! and the member's standing, gathered by the application, so every rule is decided here.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{Allocation, AllocationVersion, OpenPlace, SplitError, SubContractSplit};
pub use commands::SplitCommand;
pub use events::SplitEvent;
