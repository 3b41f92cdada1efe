//! A training place (sysselsättningsplats / arbetsträningsplats) a member opens under its allocation
//! and fills with participants, one at a time.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{Occupancy, PlaceError, TrainingPlace};
pub use commands::PlaceCommand;
pub use events::PlaceEvent;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A participant as the event log knows them: the opaque id the registry issued, never a name or
/// personnummer (DESIGN decision 6). The key to their personal data lives outside the log, so erasing
/// it leaves this id pointing at nobody while every amount and count stays intact. The format check
/// is a first guard; filling a place also needs the id registered (`participant::Participant`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ParticipantId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidParticipantId {
    #[error("a participant id is 3–64 letters, digits, '-' or '_'")]
    Format,
    #[error("a participant id must be a pseudonym; this looks like a personnummer")]
    LooksLikePersonnummer,
}

impl ParticipantId {
    pub fn parse(text: &str) -> Result<ParticipantId, InvalidParticipantId> {
        let text = text.trim();
        if !(3..=64).contains(&text.len()) || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(InvalidParticipantId::Format);
        }
        // 10 or 12 digits, with or without the hyphen, is how a personnummer is written.
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let only_digits_and_hyphen = text.chars().all(|c| c.is_ascii_digit() || c == '-');
        if only_digits_and_hyphen && (digits.len() == 10 || digits.len() == 12) {
            return Err(InvalidParticipantId::LooksLikePersonnummer);
        }
        Ok(ParticipantId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ParticipantId {
    type Error = InvalidParticipantId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ParticipantId::parse(&value)
    }
}

impl From<ParticipantId> for String {
    fn from(value: ParticipantId) -> String {
        value.0
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a participant left a place: the outcome municipalities follow (exits to work or studies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExitReason {
    /// Anställning hos annan arbetsgivare.
    EmploymentElsewhere,
    /// Anställning hos medlemsföretaget: the member that trained the person employs them.
    EmploymentByMember,
    /// Studier.
    Studies,
    /// Another labour-market intervention.
    OtherIntervention,
    /// Avbrott: ended before the plan said.
    EndedEarly,
    /// The planned period was completed.
    Completed,
}
