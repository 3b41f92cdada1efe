//! Utilisation, outcomes and the socio-economic estimate: what municipalities ask. Resolvers parse
//! the arguments and call `application::statistics`.

use super::agreement::{EmploymentRequirementKindGql, EmploymentRequirementView};
use super::participant::{GenderGql, TargetGroupGql};
use super::place::ExitReasonGql;
use super::{actor, app, caller, iso, reader};
use crate::application::access::Reading;
use crate::application::input::{date, id};
use crate::application::participants;
use crate::application::statistics::{self, Cell, GENDERS};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::participant::{FollowUpStatus, TargetGroup};
use konsortium_domain::statistics::employment::Compliance;
use konsortium_domain::statistics::payoff::{Assumptions, Estimate, Perspective};
use konsortium_projections::views::outcomes::{gender_text, target_group_text};
use konsortium_projections::views::utilisation::MonthRow;

/// One month's place-days.
#[derive(SimpleObject)]
#[graphql(name = "UtilisationMonth")]
pub struct UtilisationMonthView {
    /// `YYYY-MM`.
    month: String,
    /// The capacity in force each day (for a member: its allocation).
    contracted_place_days: i64,
    allocated_place_days: i64,
    filled_place_days: i64,
    /// Filled days while the member employed the participant.
    employed_place_days: i64,
    /// Filled ÷ contracted, when anything was contracted.
    share_filled: Option<f64>,
}

impl From<MonthRow> for UtilisationMonthView {
    fn from(row: MonthRow) -> Self {
        UtilisationMonthView {
            month: row.month.to_string(),
            contracted_place_days: row.days.contracted,
            allocated_place_days: row.days.allocated,
            filled_place_days: row.days.filled,
            employed_place_days: row.days.employed,
            share_filled: row.days.share_filled(),
        }
    }
}

/// Exits for one reason and gender; `count` is null when withheld from a buyer.
#[derive(SimpleObject)]
#[graphql(name = "OutcomeRow")]
pub struct OutcomeRowView {
    reason: ExitReasonGql,
    gender: GenderGql,
    count: Option<i64>,
    suppressed: bool,
}

/// Exits for one reason and target group; `count` is null when withheld from a buyer.
#[derive(SimpleObject)]
#[graphql(name = "OutcomeByTargetGroup")]
pub struct OutcomeGroupView {
    reason: ExitReasonGql,
    target_group: TargetGroupGql,
    count: Option<i64>,
    suppressed: bool,
}

/// Of the period's exits, those followed up at least 90 days after, and how many of them were in
/// work or studies (the measure Arbetsförmedlingen reports).
#[derive(SimpleObject)]
#[graphql(name = "FollowUpShare")]
pub struct FollowUpView {
    exits: Option<i64>,
    followed_up: Option<i64>,
    in_work_or_studies: Option<i64>,
    share: Option<f64>,
    suppressed: bool,
}

/// Outcomes of a period.
#[derive(SimpleObject)]
#[graphql(name = "Outcomes")]
pub struct OutcomesView {
    /// Every reason × gender.
    rows: Vec<OutcomeRowView>,
    /// Every reason × target group.
    by_target_group: Vec<OutcomeGroupView>,
    follow_up: FollowUpView,
}

const TARGET_GROUPS: [TargetGroup; 3] =
    [TargetGroup::RegisteredTwelveMonths, TargetGroup::YoungSixMonths, TargetGroup::NewlyArrived];

impl From<statistics::Outcomes> for OutcomesView {
    fn from(o: statistics::Outcomes) -> Self {
        let rows = o
            .by_gender
            .into_iter()
            .filter_map(|c: Cell| {
                let gender = GENDERS.into_iter().find(|g| gender_text(*g) == c.group)?;
                Some(OutcomeRowView {
                    reason: c.reason.into(),
                    gender: gender.into(),
                    count: c.count,
                    suppressed: c.suppressed,
                })
            })
            .collect();
        let by_target_group = o
            .by_target_group
            .into_iter()
            .filter_map(|c: Cell| {
                let group = TARGET_GROUPS.into_iter().find(|g| target_group_text(*g) == c.group)?;
                Some(OutcomeGroupView {
                    reason: c.reason.into(),
                    target_group: group.into(),
                    count: c.count,
                    suppressed: c.suppressed,
                })
            })
            .collect();
        let f = o.follow_up;
        OutcomesView {
            rows,
            by_target_group,
            follow_up: FollowUpView {
                exits: f.exits,
                followed_up: f.followed_up,
                in_work_or_studies: f.in_work_or_studies,
                share: f.share,
                suppressed: f.suppressed,
            },
        }
    }
}

/// Whose return an estimate counts.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PayoffPerspective", remote = "Perspective")]
pub enum PerspectiveGql {
    /// The municipality; the person would otherwise have had försörjningsstöd.
    MunicipalityIncomeSupport,
    /// The municipality; the person would otherwise have had aktivitetsstöd.
    MunicipalityActivitySupport,
    /// Society; unsubsidised work.
    SocietyUnsubsidised,
    /// Society; subsidised work.
    SocietySubsidised,
}

/// Assumptions of the estimate; each left out takes the seed's figure (Payoff 2019, Östersund).
#[derive(InputObject, Default)]
pub struct AssumptionsInput {
    /// Extra cost for the municipality, kronor (default 69 600 = 116 h × 600 kr).
    municipal_cost_kr: Option<f64>,
    /// Extra cost for society, kronor (default 86 600).
    society_cost_kr: Option<f64>,
    income_support_kr_per_year: Option<f64>,
    activity_support_kr_per_year: Option<f64>,
    unsubsidised_kr_per_year: Option<f64>,
    subsidised_kr_per_year: Option<f64>,
    /// The chance the person would have found work anyway, 0 ≤ p < 1 (default 0).
    got_work_anyway: Option<f64>,
}

impl AssumptionsInput {
    fn assumptions(self) -> Assumptions {
        let d = Assumptions::default();
        Assumptions {
            municipal_cost_kr: self.municipal_cost_kr.unwrap_or(d.municipal_cost_kr),
            society_cost_kr: self.society_cost_kr.unwrap_or(d.society_cost_kr),
            income_support_kr_per_year: self.income_support_kr_per_year.unwrap_or(d.income_support_kr_per_year),
            activity_support_kr_per_year: self.activity_support_kr_per_year.unwrap_or(d.activity_support_kr_per_year),
            unsubsidised_kr_per_year: self.unsubsidised_kr_per_year.unwrap_or(d.unsubsidised_kr_per_year),
            subsidised_kr_per_year: self.subsidised_kr_per_year.unwrap_or(d.subsidised_kr_per_year),
            got_work_anyway: self.got_work_anyway.unwrap_or(d.got_work_anyway),
        }
    }
}

/// An estimate, not a figure from the books: payback months = C / (n × R/12 × (1 − p)).
#[derive(SimpleObject)]
#[graphql(name = "PayoffEstimate")]
pub struct EstimateView {
    perspective: PerspectiveGql,
    /// n: people who left for work in the period.
    exits_to_work: u32,
    /// C, kronor.
    cost_kr: f64,
    /// R, kronor per person and year.
    revenue_kr_per_year: f64,
    /// p.
    got_work_anyway: f64,
    /// Null when nobody left for work.
    payback_months: Option<f64>,
    /// What the figure rests on, in words.
    assumptions: String,
}

fn estimate_view(e: Estimate, p: f64) -> EstimateView {
    EstimateView {
        perspective: e.perspective.into(),
        exits_to_work: e.exits_to_work,
        cost_kr: e.cost_kr,
        revenue_kr_per_year: e.revenue_kr_per_year,
        got_work_anyway: p,
        payback_months: e.payback_months,
        assumptions: format!(
            "Estimate (Payoff's model, seed 001): extra cost {:.0} kr, {:.0} kr a year per person in work, a {:.0} % \
             chance of work anyway; quality of life is not counted.",
            e.cost_kr,
            e.revenue_kr_per_year,
            p * 100.0
        ),
    }
}

/// Where a participant was at a follow-up.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "FollowUpStatus", remote = "FollowUpStatus")]
pub enum FollowUpStatusGql {
    InWork,
    Studying,
    JobSeeking,
    Other,
    Unknown,
}

/// A follow-up as recorded.
#[derive(SimpleObject)]
#[graphql(name = "FollowUp")]
pub struct FollowUpRecordedView {
    participant_id: ID,
    on: String,
    status: FollowUpStatusGql,
}

/// How an agreement's employment requirement stands: required → agreed → filled.
#[derive(SimpleObject)]
#[graphql(name = "EmploymentCompliance")]
pub struct ComplianceView {
    kind: EmploymentRequirementKindGql,
    /// What the contract demands; 0 for a dialogkrav.
    required: u32,
    /// What members have committed to.
    agreed: u32,
    /// People from the agreement's places who were employed (by the member while on a place, or
    /// leaving it for work).
    filled: u32,
}

impl From<Compliance> for ComplianceView {
    fn from(c: Compliance) -> Self {
        ComplianceView {
            kind: EmploymentRequirementView::from(c.requirement).kind,
            required: c.required,
            agreed: c.agreed,
            filled: c.filled,
        }
    }
}

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Place-days per month from `from` to `to` (`YYYY-MM`, at most 120 months) of one agreement, a
    /// buyer's agreements, or a member; with `asOf` (`YYYY-MM-DD`), as the books stood at the end of
    /// that day. Staff read any; a buyer its own agreements; a member its own figures.
    #[allow(clippy::too_many_arguments)]
    async fn utilisation(
        &self,
        ctx: &Context<'_>,
        agreement_id: Option<ID>,
        buyer: Option<String>,
        member_id: Option<ID>,
        from: String,
        to: String,
        as_of: Option<String>,
    ) -> async_graphql::Result<Vec<UtilisationMonthView>> {
        let subject = statistics::subject(
            agreement_id.as_ref().map(|a| a.as_str()),
            buyer.as_deref(),
            member_id.as_ref().map(|m| m.as_str()),
        )?;
        let period = statistics::period(&from, &to)?;
        let as_of = as_of.map(|d| date("asOf", &d)).transpose()?;
        let (_, _turn) = reader(ctx, Reading::Agreements).await?;
        let rows = statistics::utilisation(app(ctx).reads(), caller(ctx)?, &subject, period, as_of).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Exits whose last day falls from `from` to `to` (`YYYY-MM`) by reason, gender and target group,
    /// of one agreement or a buyer's agreements. A buyer sees no cell under five, nor one the others
    /// would give away.
    async fn outcomes(
        &self,
        ctx: &Context<'_>,
        agreement_id: Option<ID>,
        buyer: Option<String>,
        from: String,
        to: String,
    ) -> async_graphql::Result<OutcomesView> {
        let subject = statistics::subject(agreement_id.as_ref().map(|a| a.as_str()), buyer.as_deref(), None)?;
        let period = statistics::period(&from, &to)?;
        let (_, _turn) = reader(ctx, Reading::Agreements).await?;
        Ok(statistics::outcomes(app(ctx).reads(), caller(ctx)?, &subject, period).await?.into())
    }

    /// Required → agreed → filled for an agreement's skallkrav or dialogkrav; null when it carries
    /// none. Staff, or the agreement's own buyer.
    async fn employment_requirement(
        &self,
        ctx: &Context<'_>,
        agreement_id: ID,
    ) -> async_graphql::Result<Option<ComplianceView>> {
        let agreement_id = id("agreementId", &agreement_id)?;
        let (_, _turn) = reader(ctx, Reading::Agreements).await?;
        let found = statistics::employment_requirement(app(ctx).reads(), caller(ctx)?, &agreement_id).await?;
        Ok(found.map(Into::into))
    }

    /// The socio-economic estimate for the period's exits to work; null for a buyer when fewer than
    /// five people left for work.
    async fn socio_economic_estimate(
        &self,
        ctx: &Context<'_>,
        agreement_id: Option<ID>,
        buyer: Option<String>,
        from: String,
        to: String,
        assumptions: Option<AssumptionsInput>,
    ) -> async_graphql::Result<Option<Vec<EstimateView>>> {
        let subject = statistics::subject(agreement_id.as_ref().map(|a| a.as_str()), buyer.as_deref(), None)?;
        let period = statistics::period(&from, &to)?;
        let assumptions = assumptions.unwrap_or_default().assumptions();
        let (_, _turn) = reader(ctx, Reading::Agreements).await?;
        let found = statistics::estimate(app(ctx).reads(), caller(ctx)?, &subject, period, &assumptions).await?;
        let p = assumptions.got_work_anyway;
        Ok(found.map(|all| all.into_iter().map(|e| estimate_view(e, p)).collect()))
    }
}

#[derive(Default)]
pub struct StatisticsMutation;

#[Object]
impl StatisticsMutation {
    /// Where a participant was on a day after leaving a place. Staff, or a member that knows them.
    async fn record_follow_up(
        &self,
        ctx: &Context<'_>,
        participant_id: ID,
        on: String,
        status: FollowUpStatusGql,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<FollowUpRecordedView> {
        let participant_id = id("participantId", &participant_id)?;
        let on = date("on", &on)?;
        let actor = actor(ctx, idempotency_key)?;
        participants::record_follow_up(app(ctx), &actor, &participant_id, on, status.into()).await?;
        Ok(FollowUpRecordedView { participant_id: participant_id.into(), on: iso(on), status })
    }
}
