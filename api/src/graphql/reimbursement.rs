//! Monthly reports: members confirm a month computed from their places; staff approve or reject.

use super::place::places_of;
use super::{actor, app, iso};
use crate::app::App;
use crate::error::AppError;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::calendar::Month;
use konsortium_domain::money::Ore;
use konsortium_domain::reimbursement::rule::RateKind;
use konsortium_domain::reimbursement::{
    report_id, DeliveryLine, MonthlyReimbursement, PlaceReport, ReimbursementCommand, ReportInput, ReportStatus,
};
use konsortium_projections::views;

#[derive(InputObject)]
pub struct DeliveryInput {
    pub description: String,
    pub amount_ore: i64,
}

#[derive(InputObject)]
pub struct MonthlyReportInput {
    pub agreement_id: ID,
    pub member_id: ID,
    /// `YYYY-MM`
    pub month: String,
    /// Goods or services delivered, for goods-and-services agreements. Places are never typed in:
    /// they come from the places' own records.
    #[graphql(default)]
    pub deliveries: Vec<DeliveryInput>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ReportStatus")]
pub enum ReportStatusGql {
    Submitted,
    Approved,
    Rejected,
    Invoiced,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "RateKind")]
pub enum RateKindGql {
    Training,
    Employment,
    /// Past the agreement's cap of months per participant: filled but unpaid.
    BeyondCap,
}

#[derive(SimpleObject)]
#[graphql(name = "PaidDays")]
pub struct SegmentView {
    pub participant_id: String,
    pub from: String,
    pub to: String,
    pub days: u32,
    pub kind: RateKindGql,
    pub monthly_rate_ore: i64,
}

#[derive(SimpleObject)]
#[graphql(name = "PlaceLine")]
pub struct PlaceLineView {
    pub place_id: ID,
    pub days_filled: u32,
    pub days_in_month: u32,
    pub amount_ore: i64,
    pub paid_days: Vec<SegmentView>,
}

#[derive(SimpleObject)]
#[graphql(name = "Delivery")]
pub struct DeliveryView {
    pub description: String,
    pub amount_ore: i64,
}

/// A member's report for one agreement and month, as its latest version says.
#[derive(SimpleObject)]
#[graphql(name = "MonthlyReport")]
pub struct ReportView {
    pub id: ID,
    pub agreement_id: ID,
    pub member_id: ID,
    pub month: String,
    pub status: Option<ReportStatusGql>,
    pub version: u32,
    pub total_ore: i64,
    pub commission_ore: i64,
    pub payout_ore: i64,
    pub places: Vec<PlaceLineView>,
    pub deliveries: Vec<DeliveryView>,
    pub rejection_reason: Option<String>,
    /// Versions staff approved, oldest first.
    pub approved_versions: Vec<u32>,
    pub invoice_id: Option<String>,
}

impl ReportView {
    fn new(id: String, report: MonthlyReimbursement) -> Option<ReportView> {
        let figures = report.figures?;
        Some(ReportView {
            id: ID(id),
            agreement_id: ID(report.agreement_id),
            member_id: ID(report.member_id),
            month: report.month.map(|m| m.to_string()).unwrap_or_default(),
            status: report.status.map(|s| match s {
                ReportStatus::Submitted => ReportStatusGql::Submitted,
                ReportStatus::Approved => ReportStatusGql::Approved,
                ReportStatus::Rejected => ReportStatusGql::Rejected,
                ReportStatus::Invoiced => ReportStatusGql::Invoiced,
            }),
            version: report.version,
            total_ore: figures.total.0,
            commission_ore: figures.commission.0,
            payout_ore: figures.payout.0,
            places: figures
                .places
                .into_iter()
                .map(|line| PlaceLineView {
                    place_id: ID(line.place_id),
                    days_filled: line.month.days_filled,
                    days_in_month: u32::from(line.month.days_in_month),
                    amount_ore: line.month.amount.0,
                    paid_days: line
                        .month
                        .segments
                        .into_iter()
                        .map(|s| SegmentView {
                            participant_id: s.participant.to_string(),
                            from: iso(s.from),
                            to: iso(s.to),
                            days: s.days,
                            kind: match s.kind {
                                RateKind::Training => RateKindGql::Training,
                                RateKind::Employment => RateKindGql::Employment,
                                RateKind::BeyondCap => RateKindGql::BeyondCap,
                            },
                            monthly_rate_ore: s.rate.0,
                        })
                        .collect(),
                })
                .collect(),
            deliveries: figures
                .deliveries
                .into_iter()
                .map(|d| DeliveryView { description: d.description, amount_ore: d.amount.0 })
                .collect(),
            rejection_reason: report.rejection,
            approved_versions: report.approved.iter().map(|(v, _)| *v).collect(),
            invoice_id: report.invoice_id,
        })
    }
}

async fn current(app: &App, id: &str) -> Result<ReportView, AppError> {
    let report = app.reports().load(id).await?;
    ReportView::new(id.to_string(), report).ok_or_else(|| AppError::NotFound(format!("no monthly report {id}")))
}

fn month(text: &str) -> Result<Month, AppError> {
    Month::parse(text).map_err(|e| AppError::invalid("month", e))
}

/// Gathers what a report is computed from: the agreement, the member's category, and the stays of
/// every place the member has under the agreement.
async fn report_input(app: &App, input: MonthlyReportInput) -> Result<(String, ReportInput), AppError> {
    let month = month(&input.month)?;
    let agreement = app.registered_agreement(&input.agreement_id).await?;
    let member = app.member_standing(&input.member_id).await?;
    let split = app.splits().load(&input.agreement_id).await?;
    let mut places = Vec::new();
    for (place_id, _) in places_of(app, &input.agreement_id, Some(&input.member_id)).await? {
        let place = app.places().load(&place_id).await?;
        let Some(allocation_period) =
            split.allocation(&place.allocation_id).map(|a| a.period).or(place.allocation_period)
        else {
            continue;
        };
        places.push(PlaceReport { place_id, occupancy: place.occupancy, allocation_period });
    }
    let id = report_id(&input.agreement_id, &input.member_id, month);
    Ok((
        id,
        ReportInput {
            agreement_id: input.agreement_id.to_string(),
            member_id: input.member_id.to_string(),
            month,
            agreement,
            category: member.category,
            places,
            deliveries: input
                .deliveries
                .into_iter()
                .map(|d| DeliveryLine { description: d.description, amount: Ore(d.amount_ore) })
                .collect(),
            // The calendar day in UTC; a report sent in the first hours of a Swedish month may be
            // judged as sent the day before.
            submitted_on: time::OffsetDateTime::now_utc().date(),
        },
    ))
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    async fn monthly_report(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
        member_id: ID,
        month: String,
    ) -> async_graphql::Result<Option<ReportView>> {
        let id = report_id(&agreement_id, &member_id, self::month(&month)?);
        let found = views::find::<MonthlyReimbursement>(app(ctx).db(), views::REPORTS_TABLE, &id)
            .await
            .map_err(AppError::from)?;
        Ok(found.and_then(|r| ReportView::new(id, r)))
    }

    /// Reports, optionally of one agreement and/or member.
    async fn monthly_reports(
        &self,
        ctx: &Context<'_>,
        agreement_id: Option<ID>,
        member_id: Option<ID>,
    ) -> async_graphql::Result<Vec<ReportView>> {
        let all =
            views::list::<MonthlyReimbursement>(app(ctx).db(), views::REPORTS_TABLE).await.map_err(AppError::from)?;
        Ok(all
            .into_iter()
            .filter(|(_, r)| agreement_id.as_ref().is_none_or(|a| r.agreement_id == **a))
            .filter(|(_, r)| member_id.as_ref().is_none_or(|m| r.member_id == **m))
            .filter_map(|(id, r)| ReportView::new(id, r))
            .collect())
    }
}

#[derive(Default)]
pub struct ReportMutation;

impl ReportMutation {
    async fn run(
        &self,
        ctx: &Context<'_>,
        id: &str,
        command: ReimbursementCommand,
    ) -> async_graphql::Result<ReportView> {
        let app = app(ctx);
        app.execute(app.reports(), id, command, &actor(ctx)).await?;
        Ok(current(app, id).await?)
    }
}

#[Object]
impl ReportMutation {
    /// The member confirms a finished month; the amounts come from its places and the agreement.
    async fn submit_monthly_report(
        &self,
        ctx: &Context<'_>,
        input: MonthlyReportInput,
    ) -> async_graphql::Result<ReportView> {
        let (id, input) = report_input(app(ctx), input).await?;
        self.run(ctx, &id, ReimbursementCommand::Submit(input)).await
    }

    /// A new version of an approved month (before it is invoiced); staff approve it again.
    async fn correct_monthly_report(
        &self,
        ctx: &Context<'_>,
        input: MonthlyReportInput,
    ) -> async_graphql::Result<ReportView> {
        let (id, input) = report_input(app(ctx), input).await?;
        self.run(ctx, &id, ReimbursementCommand::Correct(input)).await
    }

    async fn approve_monthly_report(&self, ctx: &Context<'_>, report_id: ID) -> async_graphql::Result<ReportView> {
        self.run(ctx, &report_id, ReimbursementCommand::Approve).await
    }

    /// Records that an approved month is on an invoice issued outside Konsortium; from then on the
    /// month is locked and only a credit note corrects it. Issuing invoices here will do this itself.
    async fn mark_monthly_report_invoiced(
        &self,
        ctx: &Context<'_>,
        report_id: ID,
        invoice_number: String,
    ) -> async_graphql::Result<ReportView> {
        let invoice_id = invoice_number.trim().to_string();
        if invoice_id.is_empty() {
            return Err(AppError::invalid("invoiceNumber", "an invoice number is required").into());
        }
        self.run(ctx, &report_id, ReimbursementCommand::MarkInvoiced { invoice_id }).await
    }

    async fn reject_monthly_report(
        &self,
        ctx: &Context<'_>,
        report_id: ID,
        reason: String,
    ) -> async_graphql::Result<ReportView> {
        self.run(ctx, &report_id, ReimbursementCommand::Reject { reason }).await
    }
}
