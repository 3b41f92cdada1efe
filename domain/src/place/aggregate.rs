use super::{ExitReason, ParticipantId, PlaceCommand, PlaceEvent};
use crate::calendar::DateRange;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::Date;

/// One participant's stay on a place: the spans reimbursement counts days from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupancy {
    pub participant: ParticipantId,
    pub from: Date,
    /// Last filled day; `None` while the participant is still there.
    pub to: Option<Date>,
    pub employed_from: Option<Date>,
    pub exit: Option<ExitReason>,
}

impl Occupancy {
    pub fn span(&self) -> DateRange {
        DateRange { start: self.from, end: self.to }
    }

    /// The part of the stay inside `range`, if any.
    pub fn within(&self, range: &DateRange) -> Option<Occupancy> {
        let span = self.span().intersect(range)?;
        Some(Occupancy { from: span.start, to: span.end, ..self.clone() })
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingPlace {
    pub agreement_id: String,
    pub member_id: String,
    pub allocation_id: String,
    pub allocation_period: Option<DateRange>,
    pub opened_on: Option<Date>,
    pub closed_on: Option<Date>,
    /// Every stay, oldest first; at most the last one is open.
    pub occupancy: Vec<Occupancy>,
}

/// The place rules a command can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error("this place is already open")]
    AlreadyOpen,
    #[error("no place is open under this id")]
    NotOpen,
    #[error("the place is closed")]
    Closed,
    #[error("{date} is outside the allocation's period")]
    OutsideAllocation { date: Date },
    #[error("the place is filled by {participant} already")]
    AlreadyFilled { participant: ParticipantId },
    #[error("the place was filled until {last_day}; it can be filled again from the next day")]
    OverlapsPreviousStay { last_day: Date },
    #[error("the place is not filled")]
    NotFilled,
    #[error("{date} is before the participant came ({from})")]
    BeforeFilled { date: Date, from: Date },
    #[error("the participant is already employed by the member")]
    AlreadyEmployed,
    #[error("a filled place cannot be closed: vacate it first")]
    StillFilled,
    #[error("the participant cannot leave ({last_day}) before the employment that started {employed_from}")]
    VacatedBeforeEmployed { last_day: Date, employed_from: Date },
    #[error("{date} is before the place was opened ({opened_on})")]
    BeforeOpened { date: Date, opened_on: Date },
    #[error("the place cannot close on {closed_on}: it was filled until {last_day}")]
    ClosedDuringStay { closed_on: Date, last_day: Date },
}

impl TrainingPlace {
    fn current(&self) -> Option<&Occupancy> {
        self.occupancy.last().filter(|o| o.to.is_none())
    }

    fn ensure_usable(&self) -> Result<DateRange, PlaceError> {
        let period = self.allocation_period.ok_or(PlaceError::NotOpen)?;
        if self.closed_on.is_some() {
            return Err(PlaceError::Closed);
        }
        Ok(period)
    }

    fn decide(&self, command: PlaceCommand) -> Result<PlaceEvent, PlaceError> {
        match command {
            PlaceCommand::Open { agreement_id, member_id, allocation_id, allocation_period, opened_on } => {
                if self.allocation_period.is_some() {
                    return Err(PlaceError::AlreadyOpen);
                }
                if !allocation_period.contains(opened_on) {
                    return Err(PlaceError::OutsideAllocation { date: opened_on });
                }
                Ok(PlaceEvent::PlaceOpened { agreement_id, member_id, allocation_id, allocation_period, opened_on })
            }
            PlaceCommand::Fill { participant, from } => self.fill(participant, from),
            PlaceCommand::Employ { from } => {
                let period = self.ensure_usable()?;
                let stay = self.current().ok_or(PlaceError::NotFilled)?;
                if stay.employed_from.is_some() {
                    return Err(PlaceError::AlreadyEmployed);
                }
                if from < stay.from {
                    return Err(PlaceError::BeforeFilled { date: from, from: stay.from });
                }
                if !period.contains(from) {
                    return Err(PlaceError::OutsideAllocation { date: from });
                }
                Ok(PlaceEvent::ParticipantEmployed { participant: stay.participant.clone(), from })
            }
            PlaceCommand::Vacate { last_day, reason } => {
                let period = self.ensure_usable()?;
                let stay = self.current().ok_or(PlaceError::NotFilled)?;
                if last_day < stay.from {
                    return Err(PlaceError::BeforeFilled { date: last_day, from: stay.from });
                }
                if let Some(employed_from) = stay.employed_from.filter(|from| last_day < *from) {
                    return Err(PlaceError::VacatedBeforeEmployed { last_day, employed_from });
                }
                if !period.contains(last_day) {
                    return Err(PlaceError::OutsideAllocation { date: last_day });
                }
                Ok(PlaceEvent::PlaceVacated { participant: stay.participant.clone(), last_day, reason })
            }
            PlaceCommand::Close { closed_on } => {
                self.ensure_usable()?;
                if self.current().is_some() {
                    return Err(PlaceError::StillFilled);
                }
                if let Some(opened_on) = self.opened_on.filter(|opened_on| closed_on < *opened_on) {
                    return Err(PlaceError::BeforeOpened { date: closed_on, opened_on });
                }
                if let Some(last_day) = self.occupancy.last().and_then(|o| o.to).filter(|last| closed_on <= *last) {
                    return Err(PlaceError::ClosedDuringStay { closed_on, last_day });
                }
                Ok(PlaceEvent::PlaceClosed { closed_on })
            }
        }
    }

    fn fill(&self, participant: ParticipantId, from: Date) -> Result<PlaceEvent, PlaceError> {
        let period = self.ensure_usable()?;
        if let Some(stay) = self.current() {
            return Err(PlaceError::AlreadyFilled { participant: stay.participant.clone() });
        }
        if !period.contains(from) {
            return Err(PlaceError::OutsideAllocation { date: from });
        }
        if let Some(opened_on) = self.opened_on.filter(|opened_on| from < *opened_on) {
            return Err(PlaceError::BeforeOpened { date: from, opened_on });
        }
        if let Some(last_day) = self.occupancy.last().and_then(|o| o.to).filter(|last| from <= *last) {
            return Err(PlaceError::OverlapsPreviousStay { last_day });
        }
        Ok(PlaceEvent::PlaceFilled { participant, from })
    }
}

impl Aggregate for TrainingPlace {
    const TYPE: &'static str = "TrainingPlace";
    type Command = PlaceCommand;
    type Event = PlaceEvent;
    type Error = PlaceError;
    type Services = ();

    async fn handle(&mut self, command: PlaceCommand, _: &(), sink: &EventSink<Self>) -> Result<(), PlaceError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: PlaceEvent) {
        match event {
            PlaceEvent::PlaceOpened { agreement_id, member_id, allocation_id, allocation_period, opened_on } => {
                self.agreement_id = agreement_id;
                self.member_id = member_id;
                self.allocation_id = allocation_id;
                self.allocation_period = Some(allocation_period);
                self.opened_on = Some(opened_on);
            }
            PlaceEvent::PlaceFilled { participant, from } => {
                self.occupancy.push(Occupancy { participant, from, to: None, employed_from: None, exit: None })
            }
            PlaceEvent::ParticipantEmployed { from, .. } => {
                if let Some(stay) = self.occupancy.last_mut() {
                    stay.employed_from = Some(from);
                }
            }
            PlaceEvent::PlaceVacated { last_day, reason, .. } => {
                if let Some(stay) = self.occupancy.last_mut() {
                    stay.to = Some(last_day);
                    stay.exit = Some(reason);
                }
            }
            PlaceEvent::PlaceClosed { closed_on } => self.closed_on = Some(closed_on),
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
