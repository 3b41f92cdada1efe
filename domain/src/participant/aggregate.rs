use super::{
    ConsentPurpose, ErasureReason, FollowUpStatus, Gender, ParticipantCommand, ParticipantEvent, Sealed, TargetGroup,
};
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

/// A consent to one purpose, from a day until it is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub purpose: ConsentPurpose,
    pub from: Date,
    /// The first day it no longer holds; `None` while it holds.
    pub withdrawn_from: Option<Date>,
}

/// When and why the person's identity was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub reason: ErasureReason,
    pub on: Date,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Set by registration; a participant id from before the registry has none.
    pub registered_on: Option<Date>,
    pub registered_by: Option<String>,
    pub gender: Option<Gender>,
    pub target_group: Option<TargetGroup>,
    /// The sealed identity; gone from the state once erased.
    pub personal: Option<Sealed>,
    pub consents: Vec<Consent>,
    pub erasure: Option<Erasure>,
    /// Every stay, in the order they were taken.
    pub stays: Vec<Stay>,
    /// Follow-ups after leaving a place, in the order recorded.
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
}

/// Where the person was on a day after leaving a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub on: Date,
    pub status: FollowUpStatus,
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
    #[error("this participant is registered already")]
    AlreadyRegistered,
    #[error("no participant with this id is registered; register the participant first")]
    NotRegistered,
    #[error("this participant has been erased")]
    Erased,
    #[error("the participant consents to {purpose:?} already, from {from}")]
    AlreadyConsented { purpose: ConsentPurpose, from: Date },
    #[error("the participant has no consent to {purpose:?} to withdraw")]
    NoConsentToWithdraw { purpose: ConsentPurpose },
    #[error("a follow-up comes after the person left a place; no stay ended before {on}")]
    NoExitBefore { on: Date },
    #[error("a consent given on {given} cannot be withdrawn before it ({from})")]
    WithdrawnBeforeGiven { given: Date, from: Date },
}

impl Participant {
    /// The first day this participant spent on any place of an agreement: caps of months count
    /// from here, whichever place or member the person is with now.
    pub fn first_day_in(&self, agreement_id: &str) -> Option<Date> {
        self.stays.iter().filter(|s| s.agreement_id == agreement_id).map(|s| s.from).min()
    }

    /// Whether the person's consent to `purpose` holds on `day`: from the day it was given, until
    /// the day it was withdrawn from.
    pub fn consents_to(&self, purpose: ConsentPurpose, day: Date) -> bool {
        self.consents
            .iter()
            .any(|c| c.purpose == purpose && c.from <= day && c.withdrawn_from.is_none_or(|until| day < until))
    }

    /// A member that took the person in or has had them on one of its places; such a member may read
    /// the person's record.
    pub fn is_known_to(&self, member_id: &str) -> bool {
        self.registered_by.as_deref() == Some(member_id) || self.stays.iter().any(|s| s.member_id == member_id)
    }

    /// Registered and not erased: the only participants a command other than leaving may act on.
    fn present(&self) -> Result<(), ParticipantError> {
        match (self.registered_on, self.erasure) {
            (_, Some(_)) => Err(ParticipantError::Erased),
            (None, None) => Err(ParticipantError::NotRegistered),
            (Some(_), None) => Ok(()),
        }
    }

    fn decide(&self, command: ParticipantCommand) -> Result<ParticipantEvent, ParticipantError> {
        match command {
            ParticipantCommand::Register { gender, target_group, registered_by, registered_on, personal } => {
                if self.registered_on.is_some() || !self.stays.is_empty() {
                    return Err(ParticipantError::AlreadyRegistered);
                }
                Ok(ParticipantEvent::ParticipantRegistered {
                    gender,
                    target_group,
                    registered_by,
                    registered_on,
                    personal,
                })
            }
            ParticipantCommand::RecordConsent { purpose, from } => {
                self.present()?;
                if let Some(open) = self.consents.iter().find(|c| c.purpose == purpose && c.withdrawn_from.is_none()) {
                    return Err(ParticipantError::AlreadyConsented { purpose, from: open.from });
                }
                Ok(ParticipantEvent::ConsentRecorded { purpose, from })
            }
            ParticipantCommand::WithdrawConsent { purpose, from } => {
                self.present()?;
                let open = self
                    .consents
                    .iter()
                    .find(|c| c.purpose == purpose && c.withdrawn_from.is_none())
                    .ok_or(ParticipantError::NoConsentToWithdraw { purpose })?;
                if from < open.from {
                    return Err(ParticipantError::WithdrawnBeforeGiven { given: open.from, from });
                }
                Ok(ParticipantEvent::ConsentWithdrawn { purpose, from })
            }
            ParticipantCommand::RecordFollowUp { on, status } => {
                self.present()?;
                if !self.stays.iter().any(|s| s.to.is_some_and(|last_day| last_day < on)) {
                    return Err(ParticipantError::NoExitBefore { on });
                }
                Ok(ParticipantEvent::FollowUpRecorded { on, status })
            }
            ParticipantCommand::Erase { reason, on } => {
                self.present()?;
                Ok(ParticipantEvent::ParticipantErased { reason, on })
            }
            ParticipantCommand::TakePlace { place_id, agreement_id, member_id, from } => {
                self.present()?;
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
            ParticipantEvent::ParticipantRegistered {
                gender,
                target_group,
                registered_by,
                registered_on,
                personal,
            } => {
                self.gender = Some(gender);
                self.target_group = Some(target_group);
                self.registered_by = registered_by;
                self.registered_on = Some(registered_on);
                self.personal = Some(personal);
            }
            ParticipantEvent::ConsentRecorded { purpose, from } => {
                self.consents.push(Consent { purpose, from, withdrawn_from: None })
            }
            ParticipantEvent::ConsentWithdrawn { purpose, from } => {
                if let Some(open) =
                    self.consents.iter_mut().find(|c| c.purpose == purpose && c.withdrawn_from.is_none())
                {
                    open.withdrawn_from = Some(from);
                }
            }
            ParticipantEvent::ParticipantErased { reason, on } => {
                self.personal = None;
                self.erasure = Some(Erasure { reason, on });
            }
            ParticipantEvent::PlaceTaken { place_id, agreement_id, member_id, from } => {
                self.stays.push(Stay { place_id, agreement_id, member_id, from, to: None })
            }
            ParticipantEvent::FollowUpRecorded { on, status } => self.follow_ups.push(FollowUp { on, status }),
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
