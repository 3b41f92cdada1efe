use super::{ParticipantCommand, ParticipantEvent};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::Date;

/// One stay on one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stay {
    pub place_id: String,
    pub agreement_id: String,
    pub member_id: String,
    pub from: Date,
    /// Last day on the place; `None` while the participant is still there.
    pub to: Option<Date>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Every stay, in the order they were taken.
    pub stays: Vec<Stay>,
}

/// The rules a participant's stays can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParticipantError {
    #[error("the participant holds another place from {from}; they can hold one place at a time")]
    AlreadyOnAPlace { place_id: String, from: Date },
    #[error("the participant held another place until {last_day}; a new place can start the day after")]
    OverlapsEarlierStay { place_id: String, last_day: Date },
    #[error("the participant is not on this place")]
    NotOnThisPlace,
    #[error("the participant cannot leave ({last_day}) before arriving ({from})")]
    LeftBeforeArriving { from: Date, last_day: Date },
}

impl Participant {
    /// The first day this participant spent on any place of an agreement: caps of months count
    /// from here, whichever place or member the person is with now.
    pub fn first_day_in(&self, agreement_id: &str) -> Option<Date> {
        self.stays.iter().filter(|s| s.agreement_id == agreement_id).map(|s| s.from).min()
    }

    fn decide(&self, command: ParticipantCommand) -> Result<ParticipantEvent, ParticipantError> {
        match command {
            ParticipantCommand::TakePlace { place_id, agreement_id, member_id, from } => {
                // The new stay is open-ended, so any stay still running or ending on or after `from`
                // would share a day with it.
                if let Some(stay) = self.stays.iter().find(|s| s.to.is_none()) {
                    return Err(ParticipantError::AlreadyOnAPlace { place_id: stay.place_id.clone(), from: stay.from });
                }
                if let Some(stay) = self.stays.iter().find(|s| s.to.is_some_and(|to| to >= from)) {
                    let last_day = stay.to.unwrap_or(from);
                    return Err(ParticipantError::OverlapsEarlierStay { place_id: stay.place_id.clone(), last_day });
                }
                Ok(ParticipantEvent::PlaceTaken { place_id, agreement_id, member_id, from })
            }
            ParticipantCommand::LeavePlace { place_id, last_day } => {
                let stay = self
                    .stays
                    .iter()
                    .find(|s| s.place_id == place_id && s.to.is_none())
                    .ok_or(ParticipantError::NotOnThisPlace)?;
                if last_day < stay.from {
                    return Err(ParticipantError::LeftBeforeArriving { from: stay.from, last_day });
                }
                Ok(ParticipantEvent::PlaceLeft { place_id, last_day })
            }
        }
    }
}

impl Aggregate for Participant {
    const TYPE: &'static str = "Participant";
    type Command = ParticipantCommand;
    type Event = ParticipantEvent;
    type Error = ParticipantError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ParticipantCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ParticipantError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ParticipantEvent) {
        match event {
            ParticipantEvent::PlaceTaken { place_id, agreement_id, member_id, from } => {
                self.stays.push(Stay { place_id, agreement_id, member_id, from, to: None })
            }
            ParticipantEvent::PlaceLeft { place_id, last_day } => {
                if let Some(stay) = self.stays.iter_mut().find(|s| s.place_id == place_id && s.to.is_none()) {
                    stay.to = Some(last_day);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "props.rs"]
mod props;
