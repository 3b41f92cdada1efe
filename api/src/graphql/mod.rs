//! The GraphQL schema, one object per domain area merged into one query and one mutation root.

mod agreement;
mod member;
mod place;
mod reimbursement;
mod split;

use crate::app::{Actor, App};
use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
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

pub fn schema(app: App) -> KonsortiumSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).data(app).finish()
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
