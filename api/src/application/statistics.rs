//! What municipalities ask: utilisation in place-days, outcomes by gender and target group, the
//! share in work or studies after exit, and the socio-economic estimate. Every figure is read from
//! the views (SQL aggregates over rows the projector keeps), never by replaying events.

use crate::app::Actor;
use crate::auth::Scope;
use crate::error::AppError;
use konsortium_domain::calendar::Month;
use konsortium_domain::participant::Gender;
use konsortium_domain::place::ExitReason;
use konsortium_domain::statistics::employment::{self, Compliance};
use konsortium_domain::statistics::payoff::{Assumptions, Estimate};
use konsortium_domain::statistics::suppression::{self, MIN_CELL};
use konsortium_projections::views::outcomes::{self, By, FollowUps};
use konsortium_projections::views::utilisation::{self, MonthRow};
use konsortium_projections::views::{self, agreements, places, splits};
use konsortium_projections::Db;
use time::Date;

/// The most months one query spans: ten years, the national data set's whole history.
pub const MAX_MONTHS: u32 = 120;

/// Whose figures a query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Agreement(String),
    Buyer(konsortium_domain::org_number::OrgNumber),
    Member(String),
}

/// A period of whole months, `from` ≤ `to`, at most [`MAX_MONTHS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Month,
    pub to: Month,
}

impl Period {
    pub fn new(from: Month, to: Month) -> Result<Period, AppError> {
        if to < from {
            return Err(AppError::invalid("to", format!("the period ends ({to}) before it starts ({from})")));
        }
        let mut month = from;
        for _ in 0..MAX_MONTHS {
            if month >= to {
                return Ok(Period { from, to });
            }
            month = month.next();
        }
        Err(AppError::invalid("to", format!("a period is at most {MAX_MONTHS} months")))
    }
}

/// Who may read a subject's figures: staff any; a member its own; a buyer its own agreements,
/// one at a time or together. An agreement that is not registered is `NOT_FOUND`.
async fn may_read(db: &Db, actor: &Actor, subject: &Subject) -> Result<(), AppError> {
    if let Subject::Agreement(id) = subject {
        let agreement = agreements::get(db, id, &views::Scope::All).await?;
        let Some(agreement) = agreement else { return Err(AppError::NotFound(format!("no agreement {id}"))) };
        if let Scope::Buyer(own) = &actor.scope {
            let buyer = agreement.state.terms.as_ref().map(|t| &t.buyer.org_number);
            if buyer != Some(own) {
                return Err(AppError::Forbidden("this agreement is another buyer's".into()));
            }
        }
    }
    match (&actor.scope, subject) {
        (Scope::Everything, _) => Ok(()),
        (Scope::Member(own), Subject::Member(id)) if own == id => Ok(()),
        (Scope::Member(_), _) => Err(AppError::Forbidden("a member reads its own utilisation only".into())),
        (Scope::Buyer(own), Subject::Buyer(org)) if own == org => Ok(()),
        (Scope::Buyer(_), Subject::Agreement(_)) => Ok(()),
        (Scope::Buyer(_), _) => Err(AppError::Forbidden("a buyer reads its own agreements only".into())),
    }
}

/// Place-days per month of a subject; `as_of` gives the figures as the books stood at the end of
/// that day (Swedish time): only events recorded until then count.
pub async fn utilisation(
    db: &Db,
    actor: &Actor,
    subject: &Subject,
    period: Period,
    as_of: Option<Date>,
) -> Result<Vec<MonthRow>, AppError> {
    may_read(db, actor, subject).await?;
    let subject = match subject {
        Subject::Agreement(id) => utilisation::Subject::Agreement(id.clone()),
        Subject::Buyer(org) => utilisation::Subject::Buyer(org.clone()),
        Subject::Member(id) => utilisation::Subject::Member(id.clone()),
    };
    Ok(utilisation::months(db, &subject, period.from, period.to, as_of).await?)
}

/// One cell of an outcome table: exits for a reason in a group, `None` when withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub reason: ExitReason,
    /// The gender or target group, as the view writes it.
    pub group: String,
    pub count: Option<i64>,
    pub suppressed: bool,
}

/// Outcomes of a period: exits by reason and gender, by reason and target group, and the share in
/// work or studies at follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    pub by_gender: Vec<Cell>,
    pub by_target_group: Vec<Cell>,
    pub follow_up: FollowUpShare,
}

/// Of the exits followed up at least 90 days after, how many were in work or studies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowUpShare {
    pub exits: Option<i64>,
    pub followed_up: Option<i64>,
    pub in_work_or_studies: Option<i64>,
    pub share: Option<f64>,
    pub suppressed: bool,
}

/// Every exit reason, in the order tables list them.
pub const REASONS: [ExitReason; 6] = [
    ExitReason::EmploymentElsewhere,
    ExitReason::EmploymentByMember,
    ExitReason::Studies,
    ExitReason::OtherIntervention,
    ExitReason::EndedEarly,
    ExitReason::Completed,
];

pub const GENDERS: [Gender; 4] = [Gender::Woman, Gender::Man, Gender::Other, Gender::NotStated];

fn outcome_subject(subject: &Subject) -> Result<outcomes::Subject, AppError> {
    match subject {
        Subject::Agreement(id) => Ok(outcomes::Subject::Agreement(id.clone())),
        Subject::Buyer(org) => Ok(outcomes::Subject::Buyer(org.clone())),
        Subject::Member(_) => Err(AppError::invalid("memberId", "outcomes are per agreement or buyer")),
    }
}

/// A full table, every reason × every group, with the cells a buyer may not see withheld.
fn table(counts: &[outcomes::Count], groups: &[&str], suppress: bool) -> Vec<Cell> {
    let grid: Vec<Vec<i64>> = REASONS
        .iter()
        .map(|reason| {
            groups
                .iter()
                .map(|group| {
                    counts
                        .iter()
                        .find(|c| c.reason == outcomes::reason_text(*reason) && c.group == *group)
                        .map_or(0, |c| c.count)
                })
                .collect()
        })
        .collect();
    let hidden = if suppress { suppression::suppressed(&grid) } else { vec![vec![false; groups.len()]; REASONS.len()] };
    let mut cells = Vec::new();
    for (r, reason) in REASONS.iter().enumerate() {
        for (g, group) in groups.iter().enumerate() {
            let suppressed = hidden[r][g];
            cells.push(Cell {
                reason: *reason,
                group: (*group).to_string(),
                count: (!suppressed).then_some(grid[r][g]),
                suppressed,
            });
        }
    }
    cells
}

/// Exits in a period by reason and gender and by reason and target group. Staff read exact counts;
/// a buyer (its own agreements) reads them with every cell under five withheld, and the cells that
/// would give one away (DESIGN decision 7). Members read no outcomes: they are the buyer's figures.
pub async fn outcomes(db: &Db, actor: &Actor, subject: &Subject, period: Period) -> Result<Outcomes, AppError> {
    if matches!(actor.scope, Scope::Member(_)) {
        return Err(AppError::Forbidden("outcomes are read by staff and buyers".into()));
    }
    let view_subject = outcome_subject(subject)?;
    may_read(db, actor, subject).await?;
    let suppress = matches!(actor.scope, Scope::Buyer(_));
    let by_gender = outcomes::counts(db, &view_subject, period.from, period.to, By::Gender).await?;
    let by_group = outcomes::counts(db, &view_subject, period.from, period.to, By::TargetGroup).await?;
    let genders: Vec<&str> = GENDERS.iter().map(|g| outcomes::gender_text(*g)).collect();
    let groups: Vec<&str> = [
        konsortium_domain::participant::TargetGroup::RegisteredTwelveMonths,
        konsortium_domain::participant::TargetGroup::YoungSixMonths,
        konsortium_domain::participant::TargetGroup::NewlyArrived,
    ]
    .iter()
    .map(|g| outcomes::target_group_text(*g))
    .collect();
    // What the referring authority sees respects each person's consent to share it.
    let follow = outcomes::follow_ups(db, &view_subject, period.from, period.to, suppress).await?;
    Ok(Outcomes {
        by_gender: table(&by_gender, &genders, suppress),
        by_target_group: table(&by_group, &groups, suppress),
        follow_up: share(follow, suppress),
    })
}

/// The follow-up share; a buyer sees it only when at least five exits were followed up and
/// neither the in-work count nor the rest is under five.
fn share(f: FollowUps, suppress: bool) -> FollowUpShare {
    #[allow(clippy::cast_precision_loss)]
    let share = (f.followed_up > 0).then(|| f.in_work_or_studies as f64 / f.followed_up as f64);
    let small = |n: i64| n > 0 && n < MIN_CELL;
    let hidden = suppress
        && (small(f.exits)
            || small(f.followed_up)
            || small(f.in_work_or_studies)
            || small(f.followed_up - f.in_work_or_studies));
    if hidden {
        return FollowUpShare {
            exits: None,
            followed_up: None,
            in_work_or_studies: None,
            share: None,
            suppressed: true,
        };
    }
    FollowUpShare {
        exits: Some(f.exits),
        followed_up: Some(f.followed_up),
        in_work_or_studies: Some(f.in_work_or_studies),
        share,
        suppressed: false,
    }
}

/// The socio-economic estimate for the exits to work (employment elsewhere or by the member) in a
/// period, under `assumptions`. A buyer gets it only when at least five people left for work: the
/// payback time would give a smaller number away.
pub async fn estimate(
    db: &Db,
    actor: &Actor,
    subject: &Subject,
    period: Period,
    assumptions: &Assumptions,
) -> Result<Option<Vec<Estimate>>, AppError> {
    assumptions.check().map_err(|e| AppError::invalid("assumptions", e))?;
    if matches!(actor.scope, Scope::Member(_)) {
        return Err(AppError::Forbidden("the estimate is read by staff and buyers".into()));
    }
    let view_subject = outcome_subject(subject)?;
    may_read(db, actor, subject).await?;
    let counts = outcomes::counts(db, &view_subject, period.from, period.to, By::Gender).await?;
    let to_work = [ExitReason::EmploymentElsewhere, ExitReason::EmploymentByMember].map(outcomes::reason_text);
    let exits_to_work: i64 = counts.iter().filter(|c| to_work.contains(&c.reason.as_str())).map(|c| c.count).sum();
    if matches!(actor.scope, Scope::Buyer(_)) && exits_to_work > 0 && exits_to_work < MIN_CELL {
        return Ok(None);
    }
    let n = u32::try_from(exits_to_work).unwrap_or(u32::MAX);
    Ok(Some(assumptions.estimates(n).map_err(|e| AppError::invalid("assumptions", e))?))
}

/// How an agreement's employment requirement stands: required (the contract's skallkrav, zero for
/// a dialogkrav) → agreed (what members committed to on the split) → filled (people from its places
/// who were employed). `None` when the agreement carries no requirement. Staff read any agreement and
/// a buyer its own; members read none, since the requirement is the buyer's to follow up.
pub async fn employment_requirement(
    db: &Db,
    actor: &Actor,
    agreement_id: &str,
) -> Result<Option<Compliance>, AppError> {
    if matches!(actor.scope, Scope::Member(_)) {
        return Err(AppError::Forbidden("employment requirements are read by staff and buyers".into()));
    }
    may_read(db, actor, &Subject::Agreement(agreement_id.to_string())).await?;
    let agreement = agreements::get(db, agreement_id, &views::Scope::All).await?;
    let requirement = agreement.and_then(|row| row.state.terms).and_then(|terms| terms.employment_requirement);
    let Some(requirement) = requirement else { return Ok(None) };
    let agreed = splits::split_of(db, agreement_id).await?.map_or(0, |split| split.agreed_employments_total());
    let places = places::of_agreement(db, agreement_id).await?;
    Ok(Some(Compliance { requirement, required: requirement.required(), agreed, filled: employment::filled(&places) }))
}

/// The subject of a query from its three optional arguments, exactly one of which is given.
pub fn subject(agreement_id: Option<&str>, buyer: Option<&str>, member_id: Option<&str>) -> Result<Subject, AppError> {
    use super::input::{id, org_number};
    match (agreement_id, buyer, member_id) {
        (Some(a), None, None) => Ok(Subject::Agreement(id("agreementId", a)?)),
        (None, Some(b), None) => Ok(Subject::Buyer(org_number("buyer", b)?)),
        (None, None, Some(m)) => Ok(Subject::Member(id("memberId", m)?)),
        _ => Err(AppError::invalid("agreementId", "give exactly one of agreementId, buyer or memberId")),
    }
}

/// A period from `YYYY-MM` months.
pub fn period(from: &str, to: &str) -> Result<Period, AppError> {
    Period::new(super::input::month("from", from)?, super::input::month("to", to)?)
}
