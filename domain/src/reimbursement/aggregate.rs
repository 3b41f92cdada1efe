use super::commands::{ReimbursementCommand, ReportInput};
use super::events::{PlaceLine, ReimbursementEvent, ReportFigures};
use super::rule::{place_month, RuleError};
use crate::agreement::AgreementKind;
use crate::calendar::Month;
use crate::money::Ore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::Date;

/// The largest single delivery a report takes (10 000 000 000 kr): a typing error, not a delivery.
pub const MAX_DELIVERY: Ore = Ore(1_000_000_000_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportStatus {
    /// Waiting for staff.
    Submitted,
    Approved,
    /// Sent back; the member may submit again.
    Rejected,
    /// On an issued invoice: locked.
    Invoiced,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReimbursement {
    pub agreement_id: String,
    pub member_id: String,
    pub month: Option<Month>,
    pub status: Option<ReportStatus>,
    pub version: u32,
    pub figures: Option<ReportFigures>,
    /// Every version staff approved, oldest first: a correction never erases what was approved.
    /// Only the amounts invoices and payouts settle on; each version's lines stay in its event,
    /// so the state (and the reports view's row) does not carry every place line twice.
    pub approved: Vec<ApprovedVersion>,
    pub rejection: Option<String>,
    pub invoice_id: Option<String>,
}

/// What staff approved of one version of the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedVersion {
    pub version: u32,
    /// The member's reimbursement before commission: what the month is invoiced at.
    pub total: Ore,
    /// The consortium's commission on it: what a payout statement keeps back.
    pub commission: Ore,
}

/// The report rules a command can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReimbursementError {
    #[error("this month is invoiced; only a credit note can correct it")]
    AlreadyInvoiced,
    #[error("this month is not on an invoice")]
    NotInvoiced,
    #[error("the report waits for staff to approve or reject it")]
    AwaitingDecision,
    #[error("the report is approved; send a correction instead")]
    AlreadyApproved,
    #[error("nothing has been submitted for this month")]
    NotSubmitted,
    #[error("only an approved report can be corrected or invoiced")]
    NotApproved,
    #[error("a rejection needs a reason the member can act on")]
    ReasonMissing,
    #[error("you decided on version {seen}, but the report is at version {current} now: look at it again")]
    StaleVersion { seen: u32, current: u32 },
    #[error("a month can be reported once it is over; {month} ends {last_day}")]
    MonthNotOver { month: Month, last_day: Date },
    #[error("{month} is outside the agreement period")]
    MonthOutsideAgreement { month: Month },
    #[error("the agreement is not registered")]
    AgreementNotRegistered,
    #[error("this report belongs to another agreement, member or month")]
    ReportMismatch,
    #[error("a training-place agreement is reported in places, not deliveries")]
    DeliveriesOnTrainingAgreement,
    #[error("a goods-and-services agreement is reported in deliveries, not places")]
    PlacesOnGoodsAgreement,
    #[error("a delivery needs a description and an amount of at least 0 öre")]
    InvalidDelivery,
    #[error("a delivery of more than {max} is not accepted")]
    DeliveryTooLarge { max: Ore },
    #[error("the month's amounts add up to more than can be invoiced")]
    AmountTooLarge,
    #[error("{0}")]
    Rule(#[from] RuleError),
}

impl MonthlyReimbursement {
    fn decide(&self, command: ReimbursementCommand) -> Result<ReimbursementEvent, ReimbursementError> {
        if let ReimbursementCommand::Reopen { credit_note } = command {
            return match self.status {
                Some(ReportStatus::Invoiced) => {
                    Ok(ReimbursementEvent::ReportReopened { version: self.version, credit_note })
                }
                _ => Err(ReimbursementError::NotInvoiced),
            };
        }
        if self.status == Some(ReportStatus::Invoiced) {
            return Err(ReimbursementError::AlreadyInvoiced);
        }
        match command {
            ReimbursementCommand::Submit(input) => {
                match self.status {
                    Some(ReportStatus::Submitted) => return Err(ReimbursementError::AwaitingDecision),
                    Some(ReportStatus::Approved) => return Err(ReimbursementError::AlreadyApproved),
                    _ => {}
                }
                self.ensure_same_report(&input)?;
                let figures = figures(&input)?;
                Ok(ReimbursementEvent::ReportSubmitted {
                    agreement_id: input.agreement_id,
                    member_id: input.member_id,
                    month: input.month,
                    version: self.version + 1,
                    figures,
                })
            }
            ReimbursementCommand::Correct(input) => {
                if self.status != Some(ReportStatus::Approved) {
                    return Err(ReimbursementError::NotApproved);
                }
                self.ensure_same_report(&input)?;
                Ok(ReimbursementEvent::ReportCorrected { version: self.version + 1, figures: figures(&input)? })
            }
            ReimbursementCommand::Approve { version } => {
                self.ensure_seen(version)?;
                match self.status {
                    Some(ReportStatus::Submitted) => Ok(ReimbursementEvent::ReportApproved { version: self.version }),
                    Some(ReportStatus::Approved) => Err(ReimbursementError::AlreadyApproved),
                    _ => Err(ReimbursementError::NotSubmitted),
                }
            }
            ReimbursementCommand::Reject { version, reason } => {
                self.ensure_seen(version)?;
                if self.status != Some(ReportStatus::Submitted) {
                    return Err(ReimbursementError::NotSubmitted);
                }
                if reason.trim().is_empty() {
                    return Err(ReimbursementError::ReasonMissing);
                }
                Ok(ReimbursementEvent::ReportRejected { version: self.version, reason: reason.trim().to_string() })
            }
            ReimbursementCommand::MarkInvoiced { invoice_id } => {
                if self.status != Some(ReportStatus::Approved) {
                    return Err(ReimbursementError::NotApproved);
                }
                Ok(ReimbursementEvent::ReportInvoiced { version: self.version, invoice_id })
            }
            ReimbursementCommand::Reopen { .. } => Err(ReimbursementError::NotInvoiced),
        }
    }

    /// A decision on a version the member has since replaced would approve figures nobody looked at.
    fn ensure_seen(&self, seen: u32) -> Result<(), ReimbursementError> {
        match seen == self.version || self.month.is_none() {
            true => Ok(()),
            false => Err(ReimbursementError::StaleVersion { seen, current: self.version }),
        }
    }

    fn ensure_same_report(&self, input: &ReportInput) -> Result<(), ReimbursementError> {
        if self.month.is_some()
            && (self.month != Some(input.month)
                || self.agreement_id != input.agreement_id
                || self.member_id != input.member_id)
        {
            return Err(ReimbursementError::ReportMismatch);
        }
        Ok(())
    }
}

/// Computes a version's money from the places' stays and the agreement's terms; what a submission
/// would store, so a member can check it first.
pub fn figures(input: &ReportInput) -> Result<ReportFigures, ReimbursementError> {
    let terms = input.agreement.terms.as_ref().ok_or(ReimbursementError::AgreementNotRegistered)?;
    let last_day = input.month.last_day();
    if input.submitted_on <= last_day {
        return Err(ReimbursementError::MonthNotOver { month: input.month, last_day });
    }
    if input.agreement.period().is_none_or(|p| p.intersect(&input.month.as_range()).is_none()) {
        return Err(ReimbursementError::MonthOutsideAgreement { month: input.month });
    }
    match terms.kind {
        AgreementKind::TrainingPlaces if !input.deliveries.is_empty() => {
            return Err(ReimbursementError::DeliveriesOnTrainingAgreement)
        }
        AgreementKind::GoodsAndServices if !input.places.is_empty() => {
            return Err(ReimbursementError::PlacesOnGoodsAgreement)
        }
        _ => {}
    }
    if input.deliveries.iter().any(|d| d.description.trim().is_empty() || d.amount.is_negative()) {
        return Err(ReimbursementError::InvalidDelivery);
    }
    if input.deliveries.iter().any(|d| d.amount > MAX_DELIVERY) {
        return Err(ReimbursementError::DeliveryTooLarge { max: MAX_DELIVERY });
    }
    let places = input
        .places
        .iter()
        .map(|p| {
            let paid: Vec<_> = p.occupancy.iter().filter_map(|o| o.within(&p.allocation_period)).collect();
            Ok(PlaceLine {
                place_id: p.place_id.clone(),
                month: place_month(&input.agreement, &input.member, &paid, input.month, &input.first_days)?,
            })
        })
        .collect::<Result<Vec<_>, RuleError>>()?;
    let amounts = places.iter().map(|p| p.month.amount).chain(input.deliveries.iter().map(|d| d.amount));
    let total = Ore::checked_sum(amounts).ok_or(ReimbursementError::AmountTooLarge)?;
    let commission = terms.commission.of(total);
    let payout = total.checked_sub(commission).ok_or(ReimbursementError::AmountTooLarge)?;
    Ok(ReportFigures { places, deliveries: input.deliveries.clone(), total, commission, payout })
}

impl Aggregate for MonthlyReimbursement {
    const TYPE: &'static str = "MonthlyReimbursement";
    type Command = ReimbursementCommand;
    type Event = ReimbursementEvent;
    type Error = ReimbursementError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ReimbursementCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ReimbursementError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ReimbursementEvent) {
        match event {
            ReimbursementEvent::ReportSubmitted { agreement_id, member_id, month, version, figures } => {
                self.agreement_id = agreement_id;
                self.member_id = member_id;
                self.month = Some(month);
                self.version = version;
                self.figures = Some(figures);
                self.status = Some(ReportStatus::Submitted);
                self.rejection = None;
            }
            ReimbursementEvent::ReportCorrected { version, figures } => {
                self.version = version;
                self.figures = Some(figures);
                self.status = Some(ReportStatus::Submitted);
            }
            ReimbursementEvent::ReportApproved { version } => {
                self.status = Some(ReportStatus::Approved);
                if let Some(figures) = &self.figures {
                    self.approved.push(ApprovedVersion {
                        version,
                        total: figures.total,
                        commission: figures.commission,
                    });
                }
            }
            ReimbursementEvent::ReportRejected { reason, .. } => {
                self.status = Some(ReportStatus::Rejected);
                self.rejection = Some(reason);
            }
            ReimbursementEvent::ReportInvoiced { invoice_id, .. } => {
                self.status = Some(ReportStatus::Invoiced);
                self.invoice_id = Some(invoice_id);
            }
            ReimbursementEvent::ReportReopened { .. } => {
                self.status = Some(ReportStatus::Approved);
                self.invoice_id = None;
            }
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
