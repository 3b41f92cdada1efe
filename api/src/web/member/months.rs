//! A member's month: computed from its places to check, then submitted; a returned month sent again,
//! an approved one corrected.

use super::{acting_for, agreements, form_actor, member_name, participant_names, status_text, title};
use crate::app::App;
use crate::application::access::{self, Reading};
use crate::application::input;
use crate::application::reports::{self, MonthToReport};
use crate::error::AppError;
use crate::web::layout::{self, kr, money, Failed, Forms};
use crate::web::session::Session;
use crate::web::{previous_month, refused, render, see_other, value, WebError};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konsortium_domain::reimbursement::rule::RateKind;
use konsortium_domain::reimbursement::{MonthlyReimbursement, ReportFigures, ReportStatus};
use konsortium_projections::views::{self, Page};
use maud::{html, Markup};
use std::collections::HashMap;

type FormData = Form<HashMap<String, String>>;

/// `GET /app/members/{member}/reports[?agreementId=…&month=YYYY-MM]`: the months sent, and the month
/// asked for as submitting it would compute it now, to check before sending.
pub async fn reports(
    State(app): State<App>,
    session: Session,
    Path(member_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let asked = query.contains_key("month").then_some(&query);
    match reports_page(&app, &session, &member_id, asked, None).await {
        Ok((status, page)) => (status, page).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn reports_page(
    app: &App,
    session: &Session,
    member_id: &str,
    asked: Option<&HashMap<String, String>>,
    failed: Option<&Failed>,
) -> Result<(StatusCode, Markup), WebError> {
    let actor = acting_for(session, member_id)?;
    let name = member_name(app, member_id).await?;
    let scope = access::read(&actor, Reading::Reports)?;
    let filter = views::reports::ReportFilter {
        scope: scope.clone(),
        member_id: Some(member_id.to_string()),
        ..Default::default()
    };
    let rows = views::reports::page(app.reads(), &filter, &Page::default().counting(false)).await?.rows;
    let split_filter =
        views::splits::AllocationFilter { scope, agreement_id: None, member_id: Some(member_id.to_string()) };
    let mut ids: Vec<String> =
        views::splits::list(app.reads(), &split_filter).await?.into_iter().map(|row| row.agreement_id).collect();
    ids.extend(rows.iter().map(|r| r.state.agreement_id.clone()));
    ids.sort();
    ids.dedup();
    let agreements = agreements(app, ids.clone()).await?;
    let choices: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), title(&agreements, id))).collect();
    let mut status = StatusCode::OK;
    let mut calc_failed = None;
    let mut preview = None;
    if let Some(asked) = asked {
        let computed = match month_to_report(member_id, asked) {
            Ok(report) => reports::preview_monthly_report(app, &actor, &report).await.map(|f| (report, f)),
            Err(err) => Err(err),
        };
        match computed {
            Ok((report, figures)) => {
                let ids = figures
                    .places
                    .iter()
                    .flat_map(|l| l.month.segments.iter().map(|s| s.participant.to_string()))
                    .collect();
                let names = participant_names(app, &actor, ids).await;
                preview = Some((report, figures, names));
            }
            Err(err) => {
                let (refusal, failed) = refused(err, "calc", asked.clone())?;
                status = refusal;
                calc_failed = Some(failed);
            }
        }
    }
    let forms = Forms::new(session, failed.or(calc_failed.as_ref()));
    let asked_value = |name: &str| asked.and_then(|a| a.get(name)).cloned();
    let month = asked_value("month").unwrap_or_else(|| previous_month().to_string());
    let body = html! {
        (forms.summary())
        p { "Medlemsföretag: " strong { (name) } " · " a href=(format!("/app/members/{member_id}")) { "Mina platser" } }
        section aria-labelledby="calc-heading" {
            h2 id="calc-heading" { "Rapportera en månad" }
            p.muted { "Beloppen räknas fram ur platserna: dagar med deltagare × avtalets ersättning. Kontrollera dem innan du skickar in." }
            form method="get" action=(format!("/app/members/{member_id}/reports")) id="calc" novalidate {
                (forms.select("calc", "agreementId", "Avtal", &choices, asked_value("agreementId").as_deref()))
                (forms.field("calc", "month", "Månad", "ÅÅÅÅ-MM", &month))
                button type="submit" { "Räkna fram månaden" }
            }
        }
        @if let Some((report, figures, names)) = &preview {
            section aria-labelledby="preview-heading" {
                h2 id="preview-heading" { "Beräkning för " (report.month) ": " (title(&agreements, &report.agreement_id)) }
                (figures_table(figures, names))
                (forms.form("submit", &format!("/app/members/{member_id}/reports"), "Skicka in månaden", html! {
                    input type="hidden" name="agreementId" value=(report.agreement_id);
                    input type="hidden" name="month" value=(report.month);
                }))
            }
        }
        section aria-labelledby="list" {
            h2 id="list" { "Inskickade månader" }
            @if rows.is_empty() { p.muted { "Inga månader är inskickade ännu." } }
            @else {
                table {
                    thead { tr { th { "Månad" } th { "Avtal" } th { "Status" } th.num { "Summa" } th { "" } } }
                    tbody { @for row in &rows {
                        tr {
                            td data-label="Månad" { (row.state.month.map(|m| m.to_string()).unwrap_or_default()) }
                            td data-label="Avtal" { (title(&agreements, &row.state.agreement_id)) }
                            td data-label="Status" { (status_text(row.state.status)) }
                            td.num data-label="Summa" { (money(row.state.figures.as_ref().map(|f| f.total.0).unwrap_or(0))) }
                            td { a href=(format!("/app/members/{member_id}/reports/{}", row.id)) { "Visa" } }
                        }
                    } }
                }
            }
        }
    };
    Ok((status, layout::page("Månadsrapporter", Some(session), body)))
}

/// Per place: days, rate and amount; then total, commission and payout.
fn figures_table(figures: &ReportFigures, names: &HashMap<String, String>) -> Markup {
    html! {
        table #places {
            thead { tr { th { "Plats" } th { "Deltagare" } th.num { "Dagar" } th { "Ersättning" } th.num { "Belopp" } } }
            tbody { @for line in &figures.places {
                tr {
                    td data-label="Plats" { (line.place_id) }
                    td data-label="Deltagare" { @for s in &line.month.segments { (names.get(s.participant.as_str()).cloned().unwrap_or_default()) br; } }
                    td.num data-label="Dagar" { (line.month.days_filled) " av " (line.month.days_in_month) }
                    td data-label="Ersättning" { @for s in &line.month.segments {
                        (kr(s.rate.0)) "/mån, " (s.days) " d" @match s.kind {
                            RateKind::Employment => " (anställd)",
                            RateKind::BeyondCap => " (över taket, ingen ersättning)",
                            RateKind::BeyondEmploymentMaximum => " (över anställningstaket)",
                            RateKind::Training => "",
                        } br; } }
                    td.num data-label="Belopp" { (money(line.month.amount.0)) }
                }
            } }
        }
        @if !figures.deliveries.is_empty() {
            h2 { "Leveranser" }
            ul { @for d in &figures.deliveries { li { (d.description) ": " (money(d.amount.0)) } } }
        }
        table #totals {
            tbody {
                tr { th { "Summa" } td.num.total #total { (money(figures.total.0)) } }
                tr { th { "Provision" } td.num #commission { (money(figures.commission.0)) } }
                tr { th { "Utbetalning" } td.num #payout { (money(figures.payout.0)) } }
            }
        }
    }
}

fn month_to_report(member_id: &str, form: &HashMap<String, String>) -> Result<MonthToReport, AppError> {
    Ok(MonthToReport {
        agreement_id: input::id("agreementId", value(form, "agreementId"))?,
        member_id: input::id("memberId", member_id)?,
        month: input::month("month", value(form, "month"))?,
        deliveries: Vec::new(),
    })
}

/// `POST /app/members/{member}/reports`: submits a month; the report shows what was computed.
pub async fn submit(
    State(app): State<App>,
    session: Session,
    Path(member_id): Path<String>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = match month_to_report(&member_id, &form) {
        Ok(report) => reports::submit_monthly_report(&app, &actor, &report).await,
        Err(err) => Err(err),
    };
    match done {
        Ok((report_id, _)) => see_other(&format!("/app/members/{member_id}/reports/{report_id}")),
        Err(err) => match refused(err, "submit", form.clone()) {
            Ok((status, failed)) => match reports_page(&app, &session, &member_id, Some(&form), Some(&failed)).await {
                Ok((_, page)) => (status, page).into_response(),
                Err(err) => err.into_response(),
            },
            Err(err) => err.into_response(),
        },
    }
}

/// `GET /app/members/{member}/reports/{report}`: the month as submitted, per place and in total.
pub async fn report(
    State(app): State<App>,
    session: Session,
    Path((member_id, report_id)): Path<(String, String)>,
) -> Response {
    render(report_page(&app, &session, &member_id, &report_id, None).await, StatusCode::OK)
}

async fn report_page(
    app: &App,
    session: &Session,
    member_id: &str,
    report_id: &str,
    failed: Option<&Failed>,
) -> Result<Markup, WebError> {
    let actor = acting_for(session, member_id)?;
    let scope = access::read(&actor, Reading::Reports)?;
    let report_id = input::id("reportId", report_id)?;
    let not_found = || WebError::App(AppError::NotFound(format!("no monthly report {report_id}")));
    let found = views::reports::get(app.reads(), &report_id, &scope).await?;
    // The view's row has the totals; the lines shown here come from the report itself.
    let row = reports::whole(app, found.into_iter().collect()).await?.into_iter().next().ok_or_else(not_found)?;
    if row.state.member_id != member_id {
        return Err(not_found());
    }
    let report: MonthlyReimbursement = row.state;
    let figures = report.figures.clone().ok_or_else(not_found)?;
    let agreements = agreements(app, vec![report.agreement_id.clone()]).await?;
    let ids = figures.places.iter().flat_map(|l| l.month.segments.iter().map(|s| s.participant.to_string())).collect();
    let names = participant_names(app, &actor, ids).await;
    let month = report.month.map(|m| m.to_string()).unwrap_or_default();
    let forms = Forms::new(session, failed);
    let again = |form_id: &str, action: String, submit: &str| {
        forms.form(
            form_id,
            &action,
            submit,
            html! {
                input type="hidden" name="agreementId" value=(report.agreement_id);
                input type="hidden" name="month" value=(month);
            },
        )
    };
    let body = html! {
        (forms.summary())
        p { a href=(format!("/app/members/{member_id}/reports")) { "Alla månadsrapporter" } }
        section {
            p { strong { (title(&agreements, &report.agreement_id)) } }
            p { "Månad: " strong #month { (month) } " · Version " (report.version) " · Status: " strong #status { (status_text(report.status)) } }
            @if let Some(reason) = &report.rejection { p.error role="alert" { "Skäl till återskick: " (reason) } }
            (figures_table(&figures, &names))
        }
        @match report.status {
            Some(ReportStatus::Approved) => section { h2 { "Rätta månaden" }
                p.muted { "Har något ändrats på platserna? Då räknas månaden om och attesteras igen." }
                (again("correct", format!("/app/members/{member_id}/reports/{report_id}/correct"), "Skicka rättelse")) },
            Some(ReportStatus::Rejected) => section { h2 { "Skicka igen" }
                (again("submit", format!("/app/members/{member_id}/reports"), "Skicka in månaden igen")) },
            _ => {},
        }
    };
    Ok(layout::page(&format!("Månadsrapport {month}"), Some(session), body))
}

/// `POST /app/members/{member}/reports/{report}/correct`.
pub async fn correct(
    State(app): State<App>,
    session: Session,
    Path((member_id, report_id)): Path<(String, String)>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = match month_to_report(&member_id, &form) {
        Ok(report) => reports::correct_monthly_report(&app, &actor, &report).await,
        Err(err) => Err(err),
    };
    match done {
        Ok((report_id, _)) => see_other(&format!("/app/members/{member_id}/reports/{report_id}")),
        Err(err) => match refused(err, "correct", form) {
            Ok((status, failed)) => {
                render(report_page(&app, &session, &member_id, &report_id, Some(&failed)).await, status)
            }
            Err(err) => err.into_response(),
        },
    }
}
