//! The GraphQL schema, one object per domain area merged into one query and one mutation root.

mod agreement;
mod member;
mod place;
mod reimbursement;
mod split;

use crate::app::{Actor, App};
use crate::error::AppError;
use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use konsortium_domain::calendar::parse_date;
use konsortium_domain::money::Percent;
use konsortium_domain::org_number::OrgNumber;
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

fn date(field: &str, text: &str) -> Result<Date, AppError> {
    parse_date(text).map_err(|e| AppError::invalid(field, e))
}

fn optional_date(field: &str, text: Option<&str>) -> Result<Option<Date>, AppError> {
    text.map(|t| date(field, t)).transpose()
}

fn org_number(field: &str, text: &str) -> Result<OrgNumber, AppError> {
    OrgNumber::parse(text).map_err(|e| AppError::invalid(field, e))
}

fn percent(field: &str, text: &str) -> Result<Percent, AppError> {
    Percent::parse(text).map_err(|e| AppError::invalid(field, e))
}

fn iso(date: Date) -> String {
    date.to_string()
}
