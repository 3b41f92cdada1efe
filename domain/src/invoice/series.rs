//! A number series (nummerserie): one per consortium, kind and year. Taking a number is an event of the
//! series, committed with the document that carries it, so two documents can never take the same
//! number and a failed commit takes none: the numbers have no gaps.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// Invoices, credit notes and payout statements are numbered in series of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesKind {
    Invoice,
    CreditNote,
    /// Payout statements to members (avräkningar).
    PayoutStatement,
}

impl SeriesKind {
    /// The series' aggregate id for a seller (organisation number digits) and year.
    pub fn series_id(self, seller_org: &str, year: i32) -> String {
        match self {
            SeriesKind::Invoice => format!("invoices:{seller_org}:{year}"),
            SeriesKind::CreditNote => format!("credit-notes:{seller_org}:{year}"),
            SeriesKind::PayoutStatement => format!("payout-statements:{seller_org}:{year}"),
        }
    }

    /// The document number of the `sequence`th document of a year: `2026-00001`, `K2026-00001`.
    pub fn number(self, year: i32, sequence: u32) -> String {
        match self {
            SeriesKind::Invoice => format!("{year}-{sequence:05}"),
            SeriesKind::CreditNote => format!("K{year}-{sequence:05}"),
            SeriesKind::PayoutStatement => format!("A{year}-{sequence:05}"),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceSeries {
    /// The last sequence taken; the next document takes the one after.
    pub last: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SeriesCommand {
    /// The next number, for the document with this id.
    TakeNext { document_id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SeriesEvent {
    NumberTaken { sequence: u32, document_id: String },
}

impl DomainEvent for SeriesEvent {
    fn event_type(&self) -> String {
        "NumberTaken".to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    #[error("the series has no numbers left this year")]
    Exhausted,
}

impl InvoiceSeries {
    /// The sequence the next document takes.
    pub fn next(&self) -> Option<u32> {
        self.last.checked_add(1).filter(|n| *n <= 99_999)
    }
}

impl Aggregate for InvoiceSeries {
    const TYPE: &'static str = "InvoiceSeries";
    type Command = SeriesCommand;
    type Event = SeriesEvent;
    type Error = SeriesError;
    type Services = ();

    async fn handle(&mut self, command: SeriesCommand, _: &(), sink: &EventSink<Self>) -> Result<(), SeriesError> {
        match command {
            SeriesCommand::TakeNext { document_id } => {
                let sequence = self.next().ok_or(SeriesError::Exhausted)?;
                sink.write(SeriesEvent::NumberTaken { sequence, document_id }, self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: SeriesEvent) {
        match event {
            SeriesEvent::NumberTaken { sequence, .. } => self.last = sequence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    #[test]
    fn each_document_takes_the_number_after_the_last() {
        TestFramework::<InvoiceSeries>::with(())
            .given(vec![SeriesEvent::NumberTaken { sequence: 1, document_id: "a".into() }])
            .when(SeriesCommand::TakeNext { document_id: "b".into() })
            .then_expect_events(vec![SeriesEvent::NumberTaken { sequence: 2, document_id: "b".into() }]);
        assert_eq!(SeriesKind::Invoice.number(2026, 2), "2026-00002");
        assert_eq!(SeriesKind::CreditNote.number(2026, 1), "K2026-00001");
        assert_eq!(SeriesKind::PayoutStatement.number(2026, 3), "A2026-00003");
    }
}
