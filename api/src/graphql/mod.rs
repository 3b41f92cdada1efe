//! The GraphQL schema, one object per domain area merged into one query and one mutation root.

mod agreement;
mod member;
mod place;
mod reimbursement;
mod split;

use crate::app::{Actor, App};
use crate::error::AppError;
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

/// The verified caller of this request (the HTTP layer refuses a request without one).
fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    ctx.data::<Actor>().map_err(|_| AppError::Internal("a request reached GraphQL without a verified caller".into()))
}

/// The caller, for one mutation under the idempotency key it sent.
fn actor(ctx: &Context<'_>, idempotency_key: Option<String>) -> Result<Actor, AppError> {
    let key = crate::application::input::optional_text("idempotencyKey", idempotency_key.as_deref(), 200)?;
    Ok(caller(ctx)?.with_key(key))
}

fn iso(date: Date) -> String {
    date.to_string()
}
