//! The GraphQL schema, one object per domain area merged into one query and one mutation root.
//!
//! List queries are Relay connections read a page at a time from the views (`first` at most 500,
//! `after` a cursor from `pageInfo.endCursor`); their complexity grows with `first`, so a request's
//! cost counts the sizes of its lists. Resolvers stay thin: parse the arguments, call the view's
//! query function with the caller's [`Scope`], map the rows.

mod agreement;
mod delivery;
mod invoice;
mod loaders;
mod member;
mod participant;
mod payout;
mod place;
mod reimbursement;
mod split;
mod statistics;

use crate::app::{Actor, App};
use crate::application::access::{self, Reading};
use crate::error::AppError;
use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, MergedObject, Object, OutputType, Schema, SchemaBuilder};
use konsortium_projections::views::{Page, Paged, Scope, MAX_PAGE_SIZE};
use std::sync::Arc;
use time::Date;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(MergedObject, Default)]
pub struct Query(
    member::MemberQuery,
    agreement::AgreementQuery,
    split::SplitQuery,
    place::PlaceQuery,
    participant::ParticipantQuery,
    reimbursement::ReportQuery,
    invoice::InvoiceQuery,
    delivery::DeliveryQuery,
    payout::PayoutQuery,
    statistics::StatisticsQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    member::MemberMutation,
    agreement::AgreementMutation,
    split::SplitMutation,
    place::PlaceMutation,
    participant::ParticipantMutation,
    reimbursement::ReportMutation,
    invoice::InvoiceMutation,
    delivery::DeliveryMutation,
    payout::PayoutMutation,
    statistics::StatisticsMutation,
);

pub type KonsortiumSchema = Schema<Query, Mutation, EmptySubscription>;

/// How many fields deep a query may reach. No query over the records nests deeper than a handful of
/// levels; the limit is set by introspection: the query GraphiQL sends for its documentation
/// explorer (graphql-js, `__schema { types { fields { args { type { ofType … } } } } }`, up to nine
/// `ofType` levels) reaches 15, and that query is cheap, as it never touches the database.
pub const MAX_DEPTH: usize = 15;

/// The most one operation may cost: a field counts 1 (each alias and each field inside a fragment
/// too), a list `first` times what one of its nodes costs. A few full pages of rich nodes fit; 1 500
/// aliases of `members { nodes { id } }` (150 000 at the default page of 100) are refused before
/// anything runs, and GraphiQL's introspection (about 220) fits with room to spare.
pub const MAX_COMPLEXITY: usize = 20_000;

/// How deeply selection sets and fragments may nest in the document itself, checked while parsing,
/// before validation walks it; it keeps a crafted document from costing stack or time to inspect.
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// The schema with its limits but without any data: the one place both the server and
/// [`sdl`] start from, so the published contract is exactly what is served.
fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
}

pub fn schema(app: App) -> KonsortiumSchema {
    // The loaders cache nothing across requests (no stale rows); they only batch the look-ups one
    // request makes at the same time into one query.
    let members = DataLoader::new(loaders::MemberLoader::new(app.clone()), tokio::spawn);
    let agreements = DataLoader::new(loaders::AgreementLoader::new(app.clone()), tokio::spawn);
    builder().data(app).data(members).data(agreements).finish()
}

/// The schema in GraphQL SDL, the contract clients build against. Needs no database, so
/// `konsortium schema` can print it anywhere; `api/schema.graphql` is checked against it by a test.
pub fn sdl() -> String {
    builder().finish().sdl()
}

fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

/// The verified caller of this request (the HTTP layer refuses a request without one).
fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    ctx.data::<Actor>().map_err(|_| AppError::Internal("a request reached GraphQL without a verified caller".into()))
}

/// The caller, for one mutation under the idempotency key it sent.
/// A key that is sent must be usable: a blank one is refused rather than read as no key, which made
/// a retry under it run again (found by the fuzz suite).
fn actor(ctx: &Context<'_>, idempotency_key: Option<String>) -> Result<Actor, AppError> {
    let key = idempotency_key.map(|key| crate::application::input::text("idempotencyKey", &key, 200)).transpose()?;
    Ok(caller(ctx)?.with_key(key))
}

/// How many queries of one request may use the database at once: a request of many aliases waits
/// for its own turns instead of taking every pooled connection from the other requests.
pub const DB_TURNS_PER_REQUEST: usize = 4;

/// Whose rows the caller may read of a kind (`FORBIDDEN` when none), and a turn at the database for
/// this request, held while the returned permit lives.
async fn reader(ctx: &Context<'_>, reading: Reading) -> Result<(Scope, OwnedSemaphorePermit), AppError> {
    let scope = access::read(caller(ctx)?, reading)?;
    let turns = ctx
        .data::<Arc<Semaphore>>()
        .map_err(|_| AppError::Internal("a request reached GraphQL without its database turns".into()))?;
    let turn = Arc::clone(turns).acquire_owned().await.map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok((scope, turn))
}

fn iso(date: Date) -> String {
    date.to_string()
}

/// The least a list costs, however small its page: each is a query of the database, so a request of
/// a thousand one-row lists is refused like one of a thousand full ones would be.
pub const LIST_BASE_COST: usize = 20;

/// The cost of a list field: `first` (as the page will hold at most) times one node's cost, and at
/// least [`LIST_BASE_COST`].
fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first
        .map_or(konsortium_projections::views::DEFAULT_PAGE_SIZE, |n| u32::try_from(n).unwrap_or(0).min(MAX_PAGE_SIZE));
    usize::try_from(first).unwrap_or(usize::MAX).saturating_mul(child_complexity.max(1)).max(LIST_BASE_COST)
}

/// `first` and `after` as a page; out of range or malformed is a VALIDATION error naming the field.
/// The rows are counted only when the request selects `totalCount`: counting a large view is a
/// scan, while a page is a short index range.
fn page(ctx: &Context<'_>, first: Option<i32>, after: Option<&str>) -> Result<Page, AppError> {
    let counted = ctx.look_ahead().field("totalCount").exists();
    Ok(Page::new(first.map(i64::from), after)?.counting(counted))
}

/// The connection's count of all matching rows, beside its edges.
pub struct Total {
    total_count: Option<i64>,
}

#[Object]
impl Total {
    /// How many rows match, on all pages.
    async fn total_count(&self) -> Result<i64, AppError> {
        self.total_count
            .ok_or_else(|| AppError::Internal("totalCount was selected but the page was read without counting".into()))
    }
}

/// Whether a list's selection asks, of its nodes (`nodes` or `edges { node }`), for any of `paths`
/// (each a field and the fields under it): what a view's trimmed rows leave out, which the list
/// then loads from the event log.
pub(crate) fn list_asks_for(ctx: &async_graphql::Context<'_>, paths: &[&[&str]]) -> bool {
    fn selects(selection: &async_graphql::Lookahead<'_>, path: &[&str]) -> bool {
        match path {
            [] => selection.exists(),
            [field, rest @ ..] => selects(&selection.field(field), rest),
        }
    }
    let look = ctx.look_ahead();
    [look.field("nodes"), look.field("edges").field("node")]
        .iter()
        .any(|node| paths.iter().any(|path| selects(node, path)))
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

#[cfg(test)]
mod tests {
    /// The schema is a contract with every client: `api/schema.graphql` is checked in so that a change
    /// to it shows in review, and this fails when the file and the served schema part.
    #[test]
    fn the_checked_in_schema_is_the_one_served() {
        const REGENERATE: &str = "regenerate it with `cargo run --bin konsortium -- schema > api/schema.graphql`";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let checked_in =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}; {REGENERATE}"));
        let served = super::sdl();
        if checked_in.trim_end() == served.trim_end() {
            return;
        }
        let first_difference = checked_in
            .lines()
            .zip(served.lines())
            .position(|(file, schema)| file != schema)
            .unwrap_or_else(|| checked_in.lines().count().min(served.lines().count()));
        panic!(
            "api/schema.graphql is not the schema the server serves (first difference on line {}: file has {:?}, \
             server serves {:?}); if the change is intended, {REGENERATE} and review the diff",
            first_difference + 1,
            checked_in.lines().nth(first_difference).unwrap_or("<end of file>"),
            served.lines().nth(first_difference).unwrap_or("<end of schema>"),
        );
    }
}
