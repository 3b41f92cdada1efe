//! The one place where every failure becomes what a user sees: a GraphQL error with a stable `code`
//! extension (DESIGN decision 9), the broken rule's name, and a message a person can act on.

use async_graphql::ErrorExtensions;
use cqrs_es::AggregateError;
use konsortium_domain::agreement::AgreementError;
use konsortium_domain::delivery::DeliveryError;
use konsortium_domain::invoice::{ConsortiumError, InvoiceError, SeriesError};
use konsortium_domain::member::MemberError;
use konsortium_domain::participant::ParticipantError;
use konsortium_domain::payout::{LedgerError, PolicyError};
use konsortium_domain::place::PlaceError;
use konsortium_domain::reimbursement::ReimbursementError;
use konsortium_domain::split::SplitError;
use konsortium_projections::views::PageError;
use konsortium_projections::{DbError, ProjectorError};

/// Stable codes clients can switch on.
pub mod code {
    pub const VALIDATION: &str = "VALIDATION";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const INTERNAL: &str = "INTERNAL";
    /// The request body is larger than the server accepts (HTTP 413).
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A GraphQL POST whose body is not declared `application/json` (HTTP 415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// The request ran longer than the server's request timeout (HTTP 503).
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The query nests too deeply or selects too many fields; nothing of it ran.
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
}

/// Deliberately not `Display`: async-graphql converts every `Display` type into an error without
/// extensions, and `?` would pick that conversion and drop the code. Without `Display`, `?` can only use
/// the conversion below, which always sets it.
#[derive(Debug)]
pub enum AppError {
    /// Input that cannot be parsed into a domain value (an org number, a date, a percentage).
    Invalid {
        field: String,
        message: String,
    },
    /// A domain rule refused the command.
    Rule {
        code: &'static str,
        rule: String,
        message: String,
    },
    NotFound(String),
    Conflict(String),
    /// The caller's role or scope does not cover this.
    Forbidden(String),
    /// Anything the user cannot fix; details go to the log, not to the client.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn invalid(field: &str, err: impl std::fmt::Display) -> AppError {
        AppError::Invalid { field: field.to_string(), message: err.to_string() }
    }

    /// What the user reads.
    pub fn message(&self) -> String {
        match self {
            AppError::Invalid { field, message } => format!("{field}: {message}"),
            AppError::Rule { message, .. }
            | AppError::NotFound(message)
            | AppError::Conflict(message)
            | AppError::Forbidden(message) => message.clone(),
            AppError::Internal(_) => "internal error; it has been logged".to_string(),
        }
    }

    /// For the command line, which shows the whole cause chain.
    pub fn into_boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        match self {
            AppError::Internal(source) => source,
            other => other.message().into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { .. } => code::VALIDATION,
            AppError::Rule { code, .. } => code,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::Conflict(_) => code::CONFLICT,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::Internal(_) => code::INTERNAL,
        }
    }
}

/// A domain error knows which code it maps to; the rule name is its variant.
pub trait DomainError: std::error::Error + std::fmt::Debug {
    fn code(&self) -> &'static str {
        code::VALIDATION
    }
}

impl DomainError for MemberError {
    fn code(&self) -> &'static str {
        match self {
            MemberError::AlreadyRegistered => code::CONFLICT,
            MemberError::NotRegistered => code::NOT_FOUND,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for AgreementError {
    fn code(&self) -> &'static str {
        match self {
            AgreementError::AlreadyRegistered => code::CONFLICT,
            AgreementError::NotRegistered => code::NOT_FOUND,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for SplitError {
    fn code(&self) -> &'static str {
        match self {
            SplitError::AgreementNotRegistered | SplitError::UnknownAllocation => code::NOT_FOUND,
            SplitError::UnknownPlace => code::NOT_FOUND,
            SplitError::DuplicateAllocation
            | SplitError::AlreadyEnded
            | SplitError::AllocationFull { .. }
            | SplitError::PlaceAlreadyOpen => code::CONFLICT,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for PlaceError {
    fn code(&self) -> &'static str {
        match self {
            PlaceError::NotOpen => code::NOT_FOUND,
            PlaceError::AlreadyOpen
            | PlaceError::Closed
            | PlaceError::AlreadyFilled { .. }
            | PlaceError::AlreadyEmployed
            | PlaceError::StillFilled => code::CONFLICT,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for ParticipantError {
    /// The participant is busy elsewhere: the input is fine, the person's record is not free for it.
    fn code(&self) -> &'static str {
        match self {
            ParticipantError::LeftBeforeArriving { .. }
            | ParticipantError::NoConsentToWithdraw { .. }
            | ParticipantError::WithdrawnBeforeGiven { .. }
            | ParticipantError::NoExitBefore { .. } => code::VALIDATION,
            // An unknown or erased id names nobody a place could be filled with.
            ParticipantError::NotRegistered | ParticipantError::Erased => code::NOT_FOUND,
            _ => code::CONFLICT,
        }
    }
}

impl DomainError for ReimbursementError {
    /// State conflicts (invoiced, awaiting a decision, approved) are CONFLICT: the input may be fine,
    /// the report is not in a state to take it.
    fn code(&self) -> &'static str {
        match self {
            ReimbursementError::AlreadyInvoiced
            | ReimbursementError::StaleVersion { .. }
            | ReimbursementError::AwaitingDecision
            | ReimbursementError::AlreadyApproved
            | ReimbursementError::NotApproved
            | ReimbursementError::NotSubmitted
            | ReimbursementError::NotInvoiced => code::CONFLICT,
            ReimbursementError::AgreementNotRegistered => code::NOT_FOUND,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for ConsortiumError {
    fn code(&self) -> &'static str {
        match self {
            ConsortiumError::AlreadyRegistered => code::CONFLICT,
            ConsortiumError::NotRegistered => code::NOT_FOUND,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for SeriesError {
    fn code(&self) -> &'static str {
        code::CONFLICT
    }
}

impl DomainError for InvoiceError {
    fn code(&self) -> &'static str {
        match self {
            InvoiceError::NotIssued => code::NOT_FOUND,
            InvoiceError::AlreadyIssued | InvoiceError::AlreadyCredited | InvoiceError::Credited => code::CONFLICT,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for DeliveryError {
    /// An invoiced month or a delivery recorded twice is CONFLICT: the input may be fine, the month is
    /// not open for it.
    fn code(&self) -> &'static str {
        match self {
            DeliveryError::AlreadyInvoiced { .. } | DeliveryError::DuplicateDelivery | DeliveryError::NotInvoiced => {
                code::CONFLICT
            }
            DeliveryError::AgreementNotRegistered | DeliveryError::UnknownAllocation => code::NOT_FOUND,
            _ => code::VALIDATION,
        }
    }
}

impl DomainError for PolicyError {}

impl DomainError for LedgerError {
    /// A month paid out already, or issued already, is a state conflict; a month not invoiced is bad input.
    fn code(&self) -> &'static str {
        match self {
            LedgerError::AlreadyIssued { .. } | LedgerError::AlreadySettled | LedgerError::NothingToReverse => {
                code::CONFLICT
            }
            _ => code::VALIDATION,
        }
    }
}

/// The variant name of a `Debug`-printed enum value, e.g. `EndBeforeStart`.
fn rule_name(err: &impl std::fmt::Debug) -> String {
    let debug = format!("{err:?}");
    debug.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or_default().to_string()
}

impl AppError {
    /// A domain rule that refused a command: its code, its name (the variant) and its message.
    pub fn rule<E: DomainError>(err: &E) -> AppError {
        AppError::Rule { code: err.code(), rule: rule_name(err), message: err.to_string() }
    }
}

impl<E: DomainError + Send + Sync + 'static> From<AggregateError<E>> for AppError {
    fn from(err: AggregateError<E>) -> AppError {
        match err {
            AggregateError::UserError(e) => AppError::rule(&e),
            AggregateError::AggregateConflict => AppError::Conflict(
                "someone else changed this record at the same moment; nothing was saved, please try again".into(),
            ),
            AggregateError::DatabaseConnectionError(e)
            | AggregateError::DeserializationError(e)
            | AggregateError::UnexpectedError(e) => AppError::Internal(e),
        }
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> AppError {
        AppError::Internal(Box::new(err))
    }
}

/// Page arguments are input: `first` out of range or an `after` that is no cursor.
impl From<PageError> for AppError {
    fn from(err: PageError) -> AppError {
        AppError::invalid(err.field(), err)
    }
}

impl From<ProjectorError> for AppError {
    fn from(err: ProjectorError) -> AppError {
        AppError::Internal(Box::new(err))
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> async_graphql::Error {
        if let AppError::Internal(source) = &err {
            tracing::error!(error = %source, "request failed");
        }
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", err.code());
            match &err {
                AppError::Invalid { field, .. } => ext.set("field", field.as_str()),
                AppError::Rule { rule, .. } => ext.set("rule", rule.as_str()),
                _ => {}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_name_is_the_variant() {
        assert_eq!(rule_name(&AgreementError::NegativeRate), "NegativeRate");
        assert_eq!(
            rule_name(&AgreementError::OutsidePeriod { date: time::macros::date!(2020 - 01 - 01) }),
            "OutsidePeriod"
        );
    }
}
