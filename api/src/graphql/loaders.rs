//! Batched look-ups of the nodes other nodes point at (`Place.member`, `MonthlyReport.agreement`…):
//! however many rows of a page ask, one query per kind.

use super::agreement::AgreementView;
use super::member::MemberView;
use crate::app::App;
use crate::error::AppError;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::Context;
use konsortium_projections::views::{agreements, members, Scope};
use std::collections::HashMap;

/// Members by id.
pub struct MemberLoader {
    app: App,
}

impl MemberLoader {
    pub fn new(app: App) -> Self {
        MemberLoader { app }
    }
}

impl Loader<String> for MemberLoader {
    type Value = MemberView;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, MemberView>, Self::Error> {
        // The rows asking are in the caller's scope already; what they point at is shown with them.
        let rows = members::by_ids(self.app.reads(), ids, &Scope::All).await.map_err(AppError::from)?;
        Ok(rows.into_iter().map(|row| (row.id.clone(), MemberView::new(row.id, row.state))).collect())
    }
}

/// Agreements by id.
pub struct AgreementLoader {
    app: App,
}

impl AgreementLoader {
    pub fn new(app: App) -> Self {
        AgreementLoader { app }
    }
}

impl Loader<String> for AgreementLoader {
    type Value = AgreementView;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, AgreementView>, Self::Error> {
        let rows = agreements::by_ids(self.app.reads(), ids, &Scope::All).await.map_err(AppError::from)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| AgreementView::new(row.id.clone(), row.state).map(|view| (row.id, view)))
            .collect())
    }
}

/// The member `id` names, batched with the other look-ups of the request.
pub(super) async fn member(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<MemberView>> {
    ctx.data_unchecked::<DataLoader<MemberLoader>>().load_one(id.to_string()).await
}

/// The agreement `id` names, batched with the other look-ups of the request.
pub(super) async fn agreement(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<AgreementView>> {
    ctx.data_unchecked::<DataLoader<AgreementLoader>>().load_one(id.to_string()).await
}
