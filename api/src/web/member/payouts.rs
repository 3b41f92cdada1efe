//! A member's payout statements, each as CSV.

use super::{acting_for, member_name};
use crate::app::App;
use crate::application::{input, payouts};
use crate::web::layout::{self, money};
use crate::web::session::Session;
use crate::web::{render, value, WebError};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use std::collections::HashMap;

/// `GET /app/members/{member}/payouts`: the member's payout statements, each as CSV.
pub async fn payouts(State(app): State<App>, session: Session, Path(member_id): Path<String>) -> Response {
    let page = async {
        let actor = acting_for(&session, &member_id)?;
        let name = member_name(&app, &member_id).await?;
        let statements = payouts::payout_statements(&app, &actor, None, Some(&member_id)).await?;
        Ok::<_, WebError>(layout::page(
            "Avräkningar",
            Some(&session),
            html! {
                p { "Medlemsföretag: " strong { (name) } " · " a href=(format!("/app/members/{member_id}")) { "Mina platser" } }
                section {
                    @if statements.is_empty() { p.muted { "Inga avräkningar ännu." } }
                    @else {
                        table {
                            thead { tr { th { "Nummer" } th { "Månad" } th.num { "Brutto" } th.num { "Provision" } th.num { "Medlemsavgift" } th.num { "Utbetalning" } th { "" } } }
                            tbody { @for s in &statements { tr {
                                td data-label="Nummer" { (s.number) }
                                td data-label="Månad" { (s.month) }
                                td.num data-label="Brutto" { (money(s.gross.0)) }
                                td.num data-label="Provision" { (money(s.commission.0)) }
                                td.num data-label="Medlemsavgift" { (money(s.membership_fee.0)) }
                                td.num data-label="Utbetalning" { (money(s.payout.0)) }
                                td { a href=(format!("/app/members/{member_id}/statements.csv?month={}", s.month)) { "CSV" } }
                            } } }
                        }
                    }
                }
            },
        ))
    };
    render(page.await, StatusCode::OK)
}

/// `GET /app/members/{member}/statements.csv?month=YYYY-MM`: what `/exports/statements.csv` gives
/// the member's bearer token, for its session.
pub async fn statements_csv(
    State(app): State<App>,
    session: Session,
    Path(member_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let csv = async {
        let actor = acting_for(&session, &member_id)?;
        let month = input::month("month", value(&query, "month"))?;
        let csv = payouts::statements_csv_of(&app, &actor, month, Some(&member_id)).await?;
        Ok::<_, WebError>((month, csv))
    };
    match csv.await {
        Ok((month, csv)) => {
            let disposition = format!("attachment; filename=\"avrakning-{month}.csv\"");
            ([(CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (CONTENT_DISPOSITION, disposition)], csv)
                .into_response()
        }
        Err(err) => err.into_response(),
    }
}
