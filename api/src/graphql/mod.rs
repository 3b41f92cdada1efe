//! The GraphQL schema, one object per domain area merged into one query and one mutation root.
//!
//! List queries are Relay connections read a page at a time from the views (`first` at most 500,
//! `after` a cursor from `pageInfo.endCursor`); their complexity grows with `first`, so a request's
//! cost counts the sizes of its lists. Resolvers stay thin: parse the arguments, call the view's
//! query function with the caller's [`Scope`], map the rows.

mod agreement;
mod loaders;
mod member;
mod place;
mod reimbursement;
mod split;

use crate::app::{Actor, App};
use crate::application::access::{self, Reading};
use crate::error::AppError;
use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, MergedObject, OutputType, Schema, SimpleObject};
use konsortium_projections::views::{Page, Paged, Scope, MAX_PAGE_SIZE};
use time::Date;

#[derive(MergedObject, Default)]
pub struct Query(
    member::MemberQuery,
    agreement::AgreementQuery,
    split::SplitQuery,
    place::PlaceQuery,
    reimbursement::ReportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    member::MemberMutation,
    agreement::AgreementMutation,
    split::SplitMutation,
    place::PlaceMutation,
    reimbursement::ReportMutation,
);

pub type KonsortiumSchema = Schema<Query, Mutation, EmptySubscription>;

/// The most a request may cost: a field counts 1, a list `first` times what one node costs, so a
/// request can read several full pages of rich nodes but not thousands of nested lists.
pub const MAX_COMPLEXITY: usize = 100_000;
/// How deep a request may nest.
pub const MAX_DEPTH: usize = 16;

pub fn schema(app: App) -> KonsortiumSchema {
    // The loaders cache nothing across requests (no stale rows); they only batch the look-ups one
    // request makes at the same time into one query.
    let members = DataLoader::new(loaders::MemberLoader::new(app.clone()), tokio::spawn);
    let agreements = DataLoader::new(loaders::AgreementLoader::new(app.clone()), tokio::spawn);
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(app)
        .data(members)
        .data(agreements)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_depth(MAX_DEPTH)
        .finish()
}

fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

/// The verified caller of this request (the HTTP layer refuses a request without one).
fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    ctx.data::<Actor>().map_err(|_| AppError::Internal("a request reached GraphQL without a verified caller".into()))
}

/// The caller, for one mutation under the idempotency key it sent.
fn actor(ctx: &Context<'_>, idempotency_key: Option<String>) -> Result<Actor, AppError> {
    let key = crate::application::input::optional_text("idempotencyKey", idempotency_key.as_deref(), 200)?;
    Ok(caller(ctx)?.with_key(key))
}

/// Whose rows the caller may read of a kind; `FORBIDDEN` when none.
fn scope(ctx: &Context<'_>, reading: Reading) -> Result<Scope, AppError> {
    access::read(caller(ctx)?, reading)
}

fn iso(date: Date) -> String {
    date.to_string()
}

/// The cost of a list field: `first` (as the page will hold at most) times one node's cost.
fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first
        .map_or(konsortium_projections::views::DEFAULT_PAGE_SIZE, |n| u32::try_from(n).unwrap_or(0).min(MAX_PAGE_SIZE));
    usize::try_from(first).unwrap_or(usize::MAX).saturating_mul(child_complexity.max(1))
}

/// `first` and `after` as a page; out of range or malformed is a VALIDATION error naming the field.
fn page(first: Option<i32>, after: Option<&str>) -> Result<Page, AppError> {
    Ok(Page::new(first.map(i64::from), after)?)
}

/// The connection's count of all matching rows, beside its edges.
#[derive(SimpleObject)]
pub struct Total {
    /// How many rows match, on all pages.
    pub total_count: i64,
}

/// A page of a list, Relay style: `edges { cursor node }`, `nodes`, `pageInfo`, `totalCount`.
pub type Listing<N> = Connection<String, N, Total>;

/// Maps a page of rows to a connection; `node` may drop a row that cannot be shown.
fn connection<R, N: OutputType>(
    paged: Paged<R>,
    page: &Page,
    cursor: impl Fn(&R) -> String,
    node: impl Fn(R) -> Option<N>,
) -> Listing<N> {
    let mut connection =
        Connection::with_additional_fields(page.after().is_some(), paged.has_next, Total { total_count: paged.total });
    connection.edges.extend(paged.rows.into_iter().filter_map(|row| {
        let cursor = cursor(&row);
        node(row).map(|node| Edge::new(cursor, node))
    }));
    connection
}
