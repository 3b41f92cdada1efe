use super::{AgreementTerms, RateChange};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgreementCommand {
    Register(Box<AgreementTerms>),
    /// New rates from a date; days before it keep the old rates, and rates the change leaves out
    /// carry forward.
    ChangeRates {
        effective_from: Date,
        change: RateChange,
    },
    /// The buyer calls off more or fewer places from a date.
    ChangeCapacity {
        effective_from: Date,
        places: u32,
    },
    /// Use of an extension option (förlängning): a later end date.
    Extend {
        new_end: Date,
    },
    /// Early end (uppsägning); nothing may be delivered after `last_day`.
    Terminate {
        last_day: Date,
        reason: String,
    },
    ChangeBuyerReference {
        reference: String,
    },
}
