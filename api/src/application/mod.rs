//! The application layer: one function per use case, named as its user would say it. Each loads the
//! aggregates its decision needs (the one whose lock owns a cross-aggregate rule first), lets them
//! decide, and commits what they decided in one step. GraphQL resolvers, the demo loader, the
//! command line and the web pages all call these functions, so no rule is written twice.
//!
//! Where each rule lives, one hop from the domain's names:
//! - places ≤ the allocation, on every day: `SubContractSplit` (`split` owns its allocations' slots;
//!   [`places::open_place`] commits the split's `PlaceOpened` with the place's own).
//! - allocations ≤ the contracted places, also while capacity is cut: `SubContractSplit`
//!   ([`agreements::change_agreement_capacity`] commits the agreement's change with the split's
//!   `CapacityAdopted`, so a cut and an allocation collide on the split's lock).
//! - one place per participant, and the months cap across places: `Participant`
//!   ([`places::fill_place`] commits the place's `PlaceFilled` with the participant's `PlaceTaken`).
//! - the month's pay, day by day: `reimbursement::rule`, fed by [`reports::submit_monthly_report`].

/// Who may do what: the checks every use case makes of its caller.
pub mod access;
/// Framework agreements and their terms.
pub mod agreements;
/// Deliveries on goods-and-services agreements and what each member earns of them.
pub mod deliveries;
/// Parsing user input into domain values, with the field named in every error.
pub mod input;
/// The seller, the month-end invoicing run, credit notes and payments.
pub mod invoicing;
/// Member enterprises and their standing.
pub mod members;
/// The participant registry: identities sealed, consent, erasure, and the audit trail.
pub mod participants;
/// Membership fees, payout statements, the reconciliation and the SIE and CSV exports.
pub mod payouts;
/// Training places and who fills them.
pub mod places;
/// Monthly reports and their approval.
pub mod reports;
/// Splitting agreements across members.
pub mod split;
/// Utilisation, outcomes and the socio-economic estimate.
pub mod statistics;

use crate::app::{Actor, App};
use crate::error::{AppError, DomainError};
use crate::store::AggregateStore;
use cqrs_es::Aggregate;
use time::Date;

/// The calendar day in Sweden, where the consortium's months begin and end: a report sent at 00:30 on
/// 1 December Swedish time is sent after November, although it is still 30 November in UTC.
pub fn today() -> Date {
    swedish_date(jiff::Timestamp::now())
}

/// The date in Europe/Stockholm at an instant.
pub fn swedish_date(instant: jiff::Timestamp) -> Date {
    let tz = jiff::tz::TimeZone::get("Europe/Stockholm").unwrap_or(jiff::tz::TimeZone::UTC);
    let date = tz.to_datetime(instant).date();
    let month = time::Month::try_from(u8::try_from(date.month()).unwrap_or(1)).unwrap_or(time::Month::January);
    Date::from_calendar_date(i32::from(date.year()), month, u8::try_from(date.day()).unwrap_or(1)).unwrap_or(Date::MIN)
}

/// Runs one command on one aggregate: load, decide, commit, retrying on a lost race, once per
/// idempotency key. Returns the state after the command. The caller has checked the actor's rights.
pub(crate) async fn change<A>(
    app: &App,
    store: &AggregateStore<A>,
    id: &str,
    actor: &Actor,
    command: impl Fn() -> A::Command,
) -> Result<A, AppError>
where
    A: Aggregate<Services = ()> + 'static,
    A::Command: std::fmt::Debug,
    A::Error: DomainError + Send + Sync + 'static,
{
    let attempt = app.attempt(actor, A::TYPE, &(id, command()));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut loaded = store.load(id).await?;
        let pending = loaded.decide(command()).await?;
        attempt.commit(&[pending], loaded.state).await
    })
    .await
}

/// Rows of a view whose `doc` is trimmed (see `RowProjection::trim`), made whole from the event
/// log: the aggregates' own states in the rows' order, for a reader who asks for what the view
/// leaves out. The rows were read in the caller's scope; a row whose aggregate cannot be found
/// keeps its view state.
pub(crate) async fn from_log<A>(
    store: &AggregateStore<A>,
    rows: Vec<konsortium_projections::views::Row<A>>,
) -> Result<Vec<konsortium_projections::views::Row<A>>, AppError>
where
    A: Aggregate<Services = ()> + 'static,
{
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut loaded: std::collections::HashMap<String, A> =
        store.load_many(&ids).await?.into_iter().map(|l| (l.id, l.state)).collect();
    Ok(rows
        .into_iter()
        .map(|row| match loaded.remove(&row.id) {
            Some(state) => konsortium_projections::views::Row { state, ..row },
            None => row,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn half_past_midnight_on_the_first_in_sweden_is_already_the_new_month() {
        // 23:30 UTC on 30 November is 00:30 on 1 December in Stockholm (CET, UTC+1).
        assert_eq!(swedish_date(at("2024-11-30T23:30:00Z")), date!(2024 - 12 - 01));
        // Summer time (CEST, UTC+2): 22:30 UTC on 30 June is 00:30 on 1 July.
        assert_eq!(swedish_date(at("2025-06-30T22:30:00Z")), date!(2025 - 07 - 01));
        assert_eq!(swedish_date(at("2025-06-30T21:30:00Z")), date!(2025 - 06 - 30));
    }
}
