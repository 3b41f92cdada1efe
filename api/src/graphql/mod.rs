//! The GraphQL schema, one object per domain area merged into one query and one mutation root.

mod agreement;
mod member;
mod place;
mod reimbursement;
mod split;

use crate::app::{Actor, App};
use async_graphql::{Context, EmptySubscription, MergedObject, Schema, SchemaBuilder};
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

/// How many fields deep a query may reach. No query over the records nests deeper than a handful of
/// levels; the limit is set by introspection: the query GraphiQL sends for its documentation
/// explorer (graphql-js, `__schema { types { fields { args { type { ofType … } } } } }`, up to nine
/// `ofType` levels) reaches 15, and that query is cheap, as it never touches the database.
pub const MAX_DEPTH: usize = 15;

/// How many fields, counting each alias and each field inside a fragment, one operation may select.
/// Every root field that lists records is a database query, so this bounds the work one request can
/// ask for: 1 500 aliases of `members { id }` (3 000) are refused before anything runs, while the
/// largest query a client needs — GraphiQL's introspection, about 220 — fits with room to spare.
pub const MAX_COMPLEXITY: usize = 1_000;

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
    builder().data(app).finish()
}

/// The schema in GraphQL SDL, the contract clients build against. Needs no database, so
/// `konsortium schema` can print it anywhere; `api/schema.graphql` is checked against it by a test.
pub fn sdl() -> String {
    builder().finish().sdl()
}

fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

fn actor(ctx: &Context<'_>) -> Actor {
    ctx.data_opt::<Actor>().cloned().unwrap_or_else(Actor::anonymous)
}

fn iso(date: Date) -> String {
    date.to_string()
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
