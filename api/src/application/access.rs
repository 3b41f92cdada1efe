//! The rights of the three kinds of callers, checked by every use case before it loads anything it
//! would change. A refusal is `FORBIDDEN` and stores nothing.

use crate::app::Actor;
use crate::auth::Scope;
use crate::error::AppError;
use konsortium_projections::views;

/// Consortium staff only: splitting agreements, approving months, registering members.
pub fn staff(actor: &Actor) -> Result<(), AppError> {
    match actor.scope {
        Scope::Everything => Ok(()),
        _ => Err(AppError::Forbidden(format!(
            "only consortium staff may do this; you are signed in as {}",
            actor.role.as_str()
        ))),
    }
}

/// Staff, or the member enterprise itself.
pub fn member(actor: &Actor, member_id: &str) -> Result<(), AppError> {
    match &actor.scope {
        Scope::Everything => Ok(()),
        Scope::Member(own) if own == member_id => Ok(()),
        Scope::Member(_) => Err(AppError::Forbidden("this belongs to another member enterprise".into())),
        Scope::Buyer(_) => Err(AppError::Forbidden("a buyer reads its agreements; it changes nothing here".into())),
    }
}

/// What a query reads; each kind of caller reads some of them, confined to its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Members,
    Agreements,
    Split,
    /// Places name their participants.
    Places,
    /// Reports name the participants on each place.
    Reports,
    /// Invoices are between the consortium and a buyer: a member reads none.
    Invoices,
    /// Payout statements are between the consortium and a member: a buyer reads none.
    Payouts,
}

/// The rows a caller may read of a kind, as a condition the view puts in its SQL: staff read all, a
/// member its own rows, a buyer its own agreements and who delivers them, never a participant.
pub fn read(actor: &Actor, reading: Reading) -> Result<views::Scope, AppError> {
    match (&actor.scope, reading) {
        (Scope::Everything, _) => Ok(views::Scope::All),
        (Scope::Member(_), Reading::Invoices) => {
            Err(AppError::Forbidden("invoices are between the consortium and its buyers".into()))
        }
        (Scope::Member(id), _) => Ok(views::Scope::Member(id.clone())),
        (Scope::Buyer(org), Reading::Members | Reading::Agreements | Reading::Split | Reading::Invoices) => {
            Ok(views::Scope::Buyer(org.clone()))
        }
        (Scope::Buyer(_), Reading::Places | Reading::Reports) => Err(AppError::Forbidden(
            "a buyer reads its agreements aggregated; places and reports name participants".into(),
        )),
        (Scope::Buyer(_), Reading::Payouts) => {
            Err(AppError::Forbidden("payout statements are between the consortium and its members".into()))
        }
    }
}
