//! Monthly reports: a member confirms a month computed from its places; staff approve or reject it.

use super::agreements::registered_agreement;
use super::split::member_standing;
use super::{access, change, today};
use crate::app::{Actor, App};
use crate::error::AppError;
use konsortium_domain::calendar::Month;
use konsortium_domain::reimbursement::rule::FirstDays;
use konsortium_domain::reimbursement::{
    figures, report_id, DeliveryLine, MonthlyReimbursement, PlaceReport, ReimbursementCommand, ReportFigures,
    ReportInput,
};

/// Which report a member sends, and what it delivered on a goods-and-services agreement. Places are
/// never typed in: they come from the places' own records.
#[derive(Debug, Clone)]
pub struct MonthToReport {
    pub agreement_id: String,
    pub member_id: String,
    pub month: Month,
    pub deliveries: Vec<DeliveryLine>,
}

/// Gathers what a report is computed from: the agreement, the member's standing over time, the stays
/// on every place the split lists for the member, and when each participant first came to the
/// agreement (on any place), which caps of months count from.
pub async fn report_input(app: &App, report: &MonthToReport) -> Result<ReportInput, AppError> {
    let agreement = registered_agreement(app, &report.agreement_id).await?;
    let member = member_standing(app, &report.member_id).await?;
    let split = app.splits().load(&report.agreement_id).await?.state;
    let mut places = Vec::new();
    let mut first_days = FirstDays::new();
    for allocation in split.allocations.iter().filter(|a| a.member_id == report.member_id) {
        for open in &allocation.places {
            let place = app.places().load(&open.place_id).await?.state;
            for stay in &place.occupancy {
                if !first_days.contains_key(&stay.participant) {
                    let person = app.participants().load(stay.participant.as_str()).await?.state;
                    if let Some(first) = person.first_day_in(&report.agreement_id) {
                        first_days.insert(stay.participant.clone(), first);
                    }
                }
            }
            places.push(PlaceReport {
                place_id: open.place_id.clone(),
                occupancy: place.occupancy,
                allocation_period: allocation.period,
            });
        }
    }
    Ok(ReportInput {
        agreement_id: report.agreement_id.clone(),
        member_id: report.member_id.clone(),
        month: report.month,
        agreement,
        member,
        places,
        first_days,
        deliveries: report.deliveries.clone(),
        submitted_on: today(),
    })
}

/// The id and state of a report after a command.
pub type Report = (String, MonthlyReimbursement);

async fn compute_and(
    app: &App,
    actor: &Actor,
    report: &MonthToReport,
    use_case: &str,
    command: fn(ReportInput) -> ReimbursementCommand,
) -> Result<Report, AppError> {
    access::member(actor, &report.member_id)?;
    let id = report_id(&report.agreement_id, &report.member_id, report.month);
    let attempt = app.attempt(actor, use_case, report);
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut loaded = app.reports().load(&id).await?;
        let input = report_input(app, report).await?;
        let submitted = loaded.decide(command(input)).await?;
        attempt.commit(&[submitted], (id.clone(), loaded.state)).await
    })
    .await
}

/// What submitting the month would store, computed the same way and stored nowhere: the member
/// checks the amounts before confirming them.
pub async fn preview_monthly_report(
    app: &App,
    actor: &Actor,
    report: &MonthToReport,
) -> Result<ReportFigures, AppError> {
    access::member(actor, &report.member_id)?;
    let input = report_input(app, report).await?;
    figures(&input).map_err(|e| AppError::rule(&e))
}

/// The member confirms a finished month (in Swedish time); the amounts come from its places.
pub async fn submit_monthly_report(app: &App, actor: &Actor, report: &MonthToReport) -> Result<Report, AppError> {
    compute_and(app, actor, report, "submit_monthly_report", ReimbursementCommand::Submit).await
}

/// A new version of an approved month, before it is invoiced; staff approve it again.
pub async fn correct_monthly_report(app: &App, actor: &Actor, report: &MonthToReport) -> Result<Report, AppError> {
    compute_and(app, actor, report, "correct_monthly_report", ReimbursementCommand::Correct).await
}

/// Staff approve the version they saw; if the member sent a new one meanwhile, `CONFLICT`.
pub async fn approve_monthly_report(
    app: &App,
    actor: &Actor,
    report_id: &str,
    seen_version: u32,
) -> Result<Report, AppError> {
    access::staff(actor)?;
    let report_id = existing(app, report_id).await?;
    let command = || ReimbursementCommand::Approve { version: seen_version };
    let report = change(app, app.reports(), &report_id, actor, command).await?;
    Ok((report_id, report))
}

/// Staff send the version they saw back with a reason; if it changed meanwhile, `CONFLICT`.
pub async fn reject_monthly_report(
    app: &App,
    actor: &Actor,
    report_id: &str,
    seen_version: u32,
    reason: String,
) -> Result<Report, AppError> {
    access::staff(actor)?;
    let report_id = existing(app, report_id).await?;
    let command = || ReimbursementCommand::Reject { version: seen_version, reason: reason.clone() };
    let report = change(app, app.reports(), &report_id, actor, command).await?;
    Ok((report_id, report))
}

/// Records that an approved month is on an invoice issued outside Konsortium; the month is locked.
pub async fn mark_monthly_report_invoiced(
    app: &App,
    actor: &Actor,
    report_id: &str,
    invoice_number: String,
) -> Result<Report, AppError> {
    access::staff(actor)?;
    let report_id = existing(app, report_id).await?;
    let command = || ReimbursementCommand::MarkInvoiced { invoice_id: invoice_number.clone() };
    let report = change(app, app.reports(), &report_id, actor, command).await?;
    Ok((report_id, report))
}

/// A report that has been submitted, or `NOT_FOUND`.
async fn existing(app: &App, report_id: &str) -> Result<String, AppError> {
    match app.reports().load(report_id).await?.exists() {
        true => Ok(report_id.to_string()),
        false => Err(AppError::NotFound(format!("no monthly report {report_id}"))),
    }
}

/// Report rows made whole: the reports view leaves each month's place and delivery lines out of its
/// rows (`views::reports::trim`), so a reader asking for them gets the reports from the event log.
pub async fn whole(
    app: &App,
    rows: Vec<konsortium_projections::views::Row<MonthlyReimbursement>>,
) -> Result<Vec<konsortium_projections::views::Row<MonthlyReimbursement>>, AppError> {
    super::from_log(app.reports(), rows).await
}
