//! Every statistic as CSV, and utilisation as an SVG bar chart, for the spreadsheets and reports
//! municipalities paste them into. Each route takes the same arguments as its GraphQL query (as a
//! query string) and the same bearer token, and calls the same use case: a buyer exports its own
//! agreements, with the same cells withheld.
//!
//! The chart is drawn by hand as a string: a plotting crate (`plotters`) would add minutes to a
//! build that is long already, for a few rectangles.

use crate::app::{Actor, App};
use crate::application::statistics::{self, Outcomes};
use crate::auth;
use crate::error::{code, AppError};
use crate::http::error_response;
use axum::extract::{Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use konsortium_projections::views::outcomes::reason_text;
use konsortium_projections::views::utilisation::MonthRow;
use serde::Deserialize;
use std::fmt::Write;

/// The routes, with the app as their state.
pub fn routes(app: App) -> Router {
    Router::new()
        .route("/exports/utilisation.csv", get(utilisation_csv))
        .route("/exports/outcomes.csv", get(outcomes_csv))
        .route("/charts/utilisation.svg", get(utilisation_svg))
        .with_state(app)
}

/// The query string: the GraphQL arguments by the same names.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arguments {
    agreement_id: Option<String>,
    buyer: Option<String>,
    member_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
}

/// The verified caller, or why the token was refused.
fn caller(app: &App, headers: &HeaderMap) -> Result<Actor, String> {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal =
        auth::bearer(authorization).and_then(|token| app.keys().verify(token)).map_err(|err| err.to_string())?;
    Ok(Actor::of(principal, &uuid::Uuid::new_v4().to_string()))
}

fn unauthenticated(message: &str) -> Response {
    error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, message)
}

fn refused(err: &AppError) -> Response {
    let status = match err.code() {
        code::VALIDATION => StatusCode::BAD_REQUEST,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let AppError::Internal(source) = err {
        tracing::error!(error = %source, "an export failed");
    }
    error_response(status, err.code(), &err.message())
}

fn required<'a>(field: &str, value: &'a Option<String>) -> Result<&'a str, AppError> {
    value.as_deref().ok_or_else(|| AppError::invalid(field, "is required"))
}

async fn months(app: &App, actor: &Actor, args: &Arguments) -> Result<Vec<MonthRow>, AppError> {
    let subject = statistics::subject(args.agreement_id.as_deref(), args.buyer.as_deref(), args.member_id.as_deref())?;
    let period = statistics::period(required("from", &args.from)?, required("to", &args.to)?)?;
    let as_of = args.as_of.as_deref().map(|d| crate::application::input::date("asOf", d)).transpose()?;
    statistics::utilisation(app.reads(), actor, &subject, period, as_of).await
}

async fn outcomes(app: &App, actor: &Actor, args: &Arguments) -> Result<Outcomes, AppError> {
    let subject = statistics::subject(args.agreement_id.as_deref(), args.buyer.as_deref(), args.member_id.as_deref())?;
    let period = statistics::period(required("from", &args.from)?, required("to", &args.to)?)?;
    statistics::outcomes(app.reads(), actor, &subject, period).await
}

fn body(content_type: &'static str, text: String) -> Response {
    ([(CONTENT_TYPE, content_type)], text).into_response()
}

async fn utilisation_csv(State(app): State<App>, headers: HeaderMap, Query(args): Query<Arguments>) -> Response {
    let actor = match caller(&app, &headers) {
        Ok(actor) => actor,
        Err(message) => return unauthenticated(&message),
    };
    match months(&app, &actor, &args).await {
        Ok(rows) => body("text/csv; charset=utf-8", utilisation_table(&rows)),
        Err(err) => refused(&err),
    }
}

async fn outcomes_csv(State(app): State<App>, headers: HeaderMap, Query(args): Query<Arguments>) -> Response {
    let actor = match caller(&app, &headers) {
        Ok(actor) => actor,
        Err(message) => return unauthenticated(&message),
    };
    match outcomes(&app, &actor, &args).await {
        Ok(found) => body("text/csv; charset=utf-8", outcome_table(&found)),
        Err(err) => refused(&err),
    }
}

async fn utilisation_svg(State(app): State<App>, headers: HeaderMap, Query(args): Query<Arguments>) -> Response {
    let actor = match caller(&app, &headers) {
        Ok(actor) => actor,
        Err(message) => return unauthenticated(&message),
    };
    match months(&app, &actor, &args).await {
        Ok(rows) => body("image/svg+xml", chart(&rows)),
        Err(err) => refused(&err),
    }
}

/// `month,contracted_place_days,…,share_filled`, one line per month, the query's figures.
pub fn utilisation_table(rows: &[MonthRow]) -> String {
    let mut csv = String::from(
        "month,contracted_place_days,allocated_place_days,filled_place_days,employed_place_days,share_filled\n",
    );
    for row in rows {
        let d = row.days;
        let share = d.share_filled().map(|s| format!("{s:.4}")).unwrap_or_default();
        let _ = writeln!(csv, "{},{},{},{},{},{share}", row.month, d.contracted, d.allocated, d.filled, d.employed);
    }
    csv
}

/// `reason,gender,count,suppressed`; a withheld count is empty.
pub fn outcome_table(outcomes: &Outcomes) -> String {
    let mut csv = String::from("reason,gender,count,suppressed\n");
    for cell in &outcomes.by_gender {
        let count = cell.count.map(|c| c.to_string()).unwrap_or_default();
        let _ = writeln!(csv, "{},{},{count},{}", reason_text(cell.reason), cell.group, cell.suppressed);
    }
    csv
}

/// Contracted (light) and filled (dark) place-days per month as bars, with the month under them:
/// slanted, so neighbours do not overlap, and over more than two years only each January (and the
/// first month), so a ten-year chart scaled to a page stays readable.
pub fn chart(rows: &[MonthRow]) -> String {
    const BAR: usize = 24;
    const GAP: usize = 12;
    const HEIGHT: i64 = 200;
    const TOP: i64 = 20;
    const LEFT: usize = 50;
    let highest = rows.iter().map(|r| r.days.contracted.max(r.days.filled)).max().unwrap_or(0).max(1);
    let width = LEFT + rows.len() * (BAR + GAP) + GAP;
    let scale = |v: i64| v.max(0) * HEIGHT / highest;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" font-family=\"sans-serif\" \
         font-size=\"10\">\n<title>Utilisation: contracted and filled place-days per month</title>\n",
        HEIGHT + TOP + 56
    );
    let every_month = rows.len() <= 24;
    let _ = writeln!(svg, "<text x=\"4\" y=\"{}\">{highest}</text>", TOP + 4);
    let _ = writeln!(svg, "<text x=\"4\" y=\"{}\">0</text>", TOP + HEIGHT);
    let base = TOP + HEIGHT;
    for (i, row) in rows.iter().enumerate() {
        let x = LEFT + GAP + i * (BAR + GAP);
        let contracted = scale(row.days.contracted);
        let filled = scale(row.days.filled);
        let _ = writeln!(
            svg,
            "<rect class=\"contracted\" x=\"{x}\" y=\"{}\" width=\"{BAR}\" height=\"{contracted}\" fill=\"#c6dbef\">\
             <title>{} contracted {}</title></rect>",
            base - contracted,
            row.month,
            row.days.contracted
        );
        let _ = writeln!(
            svg,
            "<rect class=\"filled\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{filled}\" fill=\"#2171b5\">\
             <title>{} filled {}</title></rect>",
            x + 4,
            base - filled,
            BAR - 8,
            row.month,
            row.days.filled
        );
        if every_month || i == 0 || row.month.first_day().month() == time::Month::January {
            // Anchored at its end under the bar's middle and turned 45°: it reads down to the left.
            let (lx, ly) = (x + BAR / 2, base + 12);
            let _ = writeln!(
                svg,
                "<text class=\"month\" x=\"{lx}\" y=\"{ly}\" text-anchor=\"end\" transform=\"rotate(-45 {lx} {ly})\">{}</text>",
                row.month
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use konsortium_domain::calendar::Month;
    use konsortium_domain::statistics::utilisation::PlaceDays;

    fn months(from: &str, count: usize) -> Vec<MonthRow> {
        let mut month = Month::parse(from).unwrap_or_else(|e| panic!("{e}"));
        let mut rows = Vec::new();
        for _ in 0..count {
            rows.push(MonthRow { month, days: PlaceDays { contracted: 120, filled: 20, ..PlaceDays::default() } });
            month = month.next();
        }
        rows
    }

    fn labels(svg: &str) -> Vec<&str> {
        svg.split("<text class=\"month\"").skip(1).filter_map(|t| t.split('>').nth(1)?.split('<').next()).collect()
    }

    #[test]
    fn a_year_labels_every_month_and_ten_years_label_each_january() {
        let year = chart(&months("2024-11", 12));
        assert_eq!(labels(&year).len(), 12);
        assert!(year.contains("transform=\"rotate(-45"), "slanted so neighbours do not overlap");
        let decade = chart(&months("2016-03", 120));
        assert_eq!(
            labels(&decade),
            [
                "2016-03", "2017-01", "2018-01", "2019-01", "2020-01", "2021-01", "2022-01", "2023-01", "2024-01",
                "2025-01", "2026-01"
            ]
        );
        assert_eq!(decade.matches("<rect class=\"filled\"").count(), 120, "every month keeps its bar");
    }
}
