//! A participant (deltagare) across the whole consortium: the places they hold, one at a time.
//!
//! A place knows only its own stays, so two places could each take the same person on the same day
//! and both be paid. This aggregate, keyed by the participant's id, owns that rule: filling a place
//! commits the place's event and this one's together, and two fills racing for one person meet on
//! this aggregate's optimistic lock. It also knows when the person first came to each agreement, which
//! a cap of months per participant (Krokom: at most 3) counts from, across places and members.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{Participant, ParticipantError, Stay};
pub use commands::ParticipantCommand;
pub use events::ParticipantEvent;
