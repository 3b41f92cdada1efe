//! Monthly reports: members confirm a month computed from their places; staff approve or reject.

use super::agreement::AgreementView;
use super::member::MemberView;
use super::{actor, app, connection, iso, loaders, page, reader, Listing};
use crate::application::access::Reading;
use crate::application::input::{id, month, reason, text, NAME_MAX, REFERENCE_MAX};
use crate::application::reports::{self, MonthToReport, Report};
use crate::error::AppError;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::money::Ore;
use konsortium_domain::reimbursement::rule::RateKind;
use konsortium_domain::reimbursement::{report_id, DeliveryLine, MonthlyReimbursement, ReportStatus};
use konsortium_projections::views::reports::{self as view, ReportFilter};

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

impl From<ReportStatus> for ReportStatusGql {
    fn from(value: ReportStatus) -> Self {
        match value {
            ReportStatus::Submitted => ReportStatusGql::Submitted,
            ReportStatus::Approved => ReportStatusGql::Approved,
            ReportStatus::Rejected => ReportStatusGql::Rejected,
            ReportStatus::Invoiced => ReportStatusGql::Invoiced,
        }
    }
}

impl From<ReportStatusGql> for ReportStatus {
    fn from(value: ReportStatusGql) -> Self {
        match value {
            ReportStatusGql::Submitted => ReportStatus::Submitted,
            ReportStatusGql::Approved => ReportStatus::Approved,
            ReportStatusGql::Rejected => ReportStatus::Rejected,
            ReportStatusGql::Invoiced => ReportStatus::Invoiced,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "RateKind")]
pub enum RateKindGql {
    Training,
    Employment,
    /// Past the agreement's cap of months per participant: filled but unpaid.
    BeyondCap,
    /// Employed past the agreement's employment maximum, on an agreement that pays nothing then.
    BeyondEmploymentMaximum,
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
#[graphql(name = "MonthlyReport", complex)]
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
            status: report.status.map(Into::into),
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
                                RateKind::BeyondEmploymentMaximum => RateKindGql::BeyondEmploymentMaximum,
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
            approved_versions: report.approved.iter().map(|a| a.version).collect(),
            invoice_id: report.invoice_id,
        })
    }
}

#[ComplexObject]
impl ReportView {
    /// The agreement reported on.
    async fn agreement(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AgreementView>> {
        loaders::agreement(ctx, &self.agreement_id).await
    }

    /// The member that reported.
    async fn member(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MemberView>> {
        loaders::member(ctx, &self.member_id).await
    }
}

fn view((id, report): Report) -> Result<ReportView, AppError> {
    ReportView::new(id.clone(), report).ok_or_else(|| AppError::NotFound(format!("no monthly report {id}")))
}

impl MonthlyReportInput {
    fn parse(self) -> Result<MonthToReport, AppError> {
        Ok(MonthToReport {
            agreement_id: id("agreementId", &self.agreement_id)?,
            member_id: id("memberId", &self.member_id)?,
            month: month("month", &self.month)?,
            deliveries: self
                .deliveries
                .into_iter()
                .map(|d| {
                    Ok(DeliveryLine {
                        description: text("deliveries.description", &d.description, NAME_MAX)?,
                        amount: Ore(d.amount_ore),
                    })
                })
                .collect::<Result<_, AppError>>()?,
        })
    }
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
        let (agreement_id, member_id) = (id("agreementId", &agreement_id)?, id("memberId", &member_id)?);
        let id = report_id(&agreement_id, &member_id, self::month("month", &month)?);
        let (scope, _turn) = reader(ctx, Reading::Reports).await?;
        let found = view::get(app(ctx).reads(), &id, &scope).await.map_err(AppError::from)?;
        // The view's row has the totals; the lines come from the report itself.
        let whole = reports::whole(app(ctx), found.into_iter().collect()).await?;
        Ok(whole.into_iter().next().and_then(|row| ReportView::new(row.id, row.state)))
    }

    /// Reports by month, a page at a time (`first` at most 500, default 100), optionally of one
    /// agreement, member, month (`YYYY-MM`) or status.
    #[graphql(complexity = "super::list_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn monthly_reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        agreement_id: Option<ID>,
        member_id: Option<ID>,
        month: Option<String>,
        status: Option<ReportStatusGql>,
    ) -> async_graphql::Result<Listing<ReportView>> {
        let page = page(ctx, first, after.as_deref())?;
        let (scope, _turn) = reader(ctx, Reading::Reports).await?;
        let filter = ReportFilter {
            scope,
            agreement_id: agreement_id.map(|a| id("agreementId", &a)).transpose()?,
            member_id: member_id.map(|m| id("memberId", &m)).transpose()?,
            month: month.map(|m| self::month("month", &m)).transpose()?,
            status: status.map(Into::into),
        };
        let mut rows = view::page(app(ctx).reads(), &filter, &page).await.map_err(AppError::from)?;
        if super::list_asks_for(ctx, &[&["places"], &["deliveries"]]) {
            rows.rows = reports::whole(app(ctx), rows.rows).await?;
        }
        Ok(connection(rows, &page, |row| row.cursor(), |row| ReportView::new(row.id, row.state)))
    }
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// The member confirms a finished month (in Swedish time); the amounts come from its places and
    /// the agreement.
    async fn submit_monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: MonthlyReportInput,
    ) -> async_graphql::Result<ReportView> {
        Ok(view(reports::submit_monthly_report(app(ctx), &actor(ctx, idempotency_key)?, &input.parse()?).await?)?)
    }

    /// A new version of an approved month (before it is invoiced); staff approve it again.
    async fn correct_monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: MonthlyReportInput,
    ) -> async_graphql::Result<ReportView> {
        Ok(view(reports::correct_monthly_report(app(ctx), &actor(ctx, idempotency_key)?, &input.parse()?).await?)?)
    }

    /// Staff approve the version of the report they looked at; a newer version is `CONFLICT`.
    async fn approve_monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        report_id: ID,
        #[graphql(desc = "The report version the approver saw.")] version: u32,
    ) -> async_graphql::Result<ReportView> {
        let report_id = id("reportId", &report_id)?;
        let actor = actor(ctx, idempotency_key)?;
        Ok(view(reports::approve_monthly_report(app(ctx), &actor, &report_id, version).await?)?)
    }

    /// Records that an approved month is on an invoice issued outside Konsortium; from then on the
    /// month is locked and only a credit note corrects it. Issuing invoices here will do this itself.
    async fn mark_monthly_report_invoiced(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        report_id: ID,
        invoice_number: String,
    ) -> async_graphql::Result<ReportView> {
        let report_id = id("reportId", &report_id)?;
        let invoice_number = text("invoiceNumber", &invoice_number, REFERENCE_MAX)?;
        Ok(view(
            reports::mark_monthly_report_invoiced(app(ctx), &actor(ctx, idempotency_key)?, &report_id, invoice_number)
                .await?,
        )?)
    }

    async fn reject_monthly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        report_id: ID,
        #[graphql(desc = "The report version the approver saw.")] version: u32,
        reason: String,
    ) -> async_graphql::Result<ReportView> {
        let report_id = id("reportId", &report_id)?;
        let reason = self::reason("reason", &reason)?;
        let actor = actor(ctx, idempotency_key)?;
        Ok(view(reports::reject_monthly_report(app(ctx), &actor, &report_id, version, reason).await?)?)
    }
}
