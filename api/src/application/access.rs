//! The rights of the three kinds of callers, checked by every use case before it loads anything it
//! would change. A refusal is `FORBIDDEN` and stores nothing.

use crate::app::Actor;
use crate::auth::Scope;
use crate::error::AppError;

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
