//! Consortium staff's pages: members and agreements at a glance, the approval queue, the month-end
//! with each invoice's XML and the SIE file, and utilisation per agreement with its chart.

use super::layout::{self, money, Failed, Forms};
use super::session::Session;
use super::{previous_month, refused, render, see_other, value, WebError};
use crate::app::{Actor, App};
use crate::application::invoicing::{self, MonthEndRun};
use crate::application::{access, input, payouts, reports, statistics, today};
use crate::error::AppError;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konsortium_domain::calendar::Month;
use konsortium_domain::reimbursement::{MonthlyReimbursement, ReportStatus};
use konsortium_projections::views::{self, Page};
use maud::{html, Markup};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type FormData = Form<HashMap<String, String>>;

/// The caller, if staff, else `403`.
fn staff(session: &Session) -> Result<Actor, WebError> {
    let actor = session.actor();
    access::staff(&actor)?;
    Ok(actor)
}

/// The caller of a staff form: its CSRF token checked, the session staff's, its idempotency key attached.
fn staff_form(session: &Session, form: &HashMap<String, String>) -> Result<Actor, WebError> {
    let actor = session.form_caller(form)?;
    staff(session)?;
    Ok(actor)
}

/// `GET /app/staff`.
pub async fn overview(
    State(app): State<App>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let issued = query.get("utfardade").and_then(|n| n.parse::<usize>().ok());
    render(overview_page(&app, &session, None, issued).await, StatusCode::OK)
}

async fn overview_page(
    app: &App,
    session: &Session,
    failed: Option<&Failed>,
    issued: Option<usize>,
) -> Result<Markup, WebError> {
    let _actor = staff(session)?;
    let db = app.reads();
    let all = views::Scope::All;
    let page = || Page::default().counting(false);
    let members = views::members::page(db, &views::members::MemberFilter::default(), &page()).await?.rows;
    let agreements = views::agreements::page(db, &views::agreements::AgreementFilter::default(), &page()).await?.rows;
    let queue_filter = views::reports::ReportFilter {
        scope: all.clone(),
        status: Some(ReportStatus::Submitted),
        ..Default::default()
    };
    let queue = views::reports::page(db, &queue_filter, &page()).await?.rows;
    let invoice_filter =
        views::invoices::InvoiceFilter { scope: all, status: None, buyer: None, month: None, today: today() };
    let invoices = views::invoices::page(db, &invoice_filter, &page()).await?.rows;
    // The queue's names and titles are looked up by id: the lists below show the first page only,
    // and a consortium of 400 members would have shown most queued months under a bare id.
    let queued = |id: fn(&MonthlyReimbursement) -> &str| -> Vec<String> {
        let ids: BTreeSet<&str> = queue.iter().map(|row| id(&row.state)).collect();
        ids.into_iter().map(str::to_string).collect()
    };
    let queued_members = views::members::by_ids(db, &queued(|r| &r.member_id), &views::Scope::All).await?;
    let queued_agreements = views::agreements::by_ids(db, &queued(|r| &r.agreement_id), &views::Scope::All).await?;
    let member_names: BTreeMap<&str, &str> =
        queued_members.iter().map(|m| (m.id.as_str(), m.state.name.as_str())).collect();
    let titles: BTreeMap<&str, &str> = queued_agreements
        .iter()
        .filter_map(|a| a.state.terms.as_ref().map(|t| (a.id.as_str(), t.title.as_str())))
        .collect();
    let forms = Forms::new(session, failed);
    let month = previous_month().to_string();
    let body = html! {
        (forms.summary())
        @if let Some(issued) = issued { p.notice role="status" { "Månadsavslutet är klart: " (issued) " fakturor utfärdade." } }
        section aria-labelledby="queue" {
            h2 id="queue" { "Attestkö" }
            @if queue.is_empty() { p.muted { "Inga månader väntar på attest." } }
            @for row in &queue {
                @let report = &row.state;
                @let (approve, reject) = (format!("approve-{}", row.id), format!("reject-{}", row.id));
                div.card id=(format!("report-{}", row.id)) {
                    p { strong { (member_names.get(report.member_id.as_str()).copied().unwrap_or(&report.member_id)) } " · "
                        (titles.get(report.agreement_id.as_str()).copied().unwrap_or(&report.agreement_id)) " · "
                        (report.month.map(|m| m.to_string()).unwrap_or_default()) " · version " (report.version) " · "
                        (money(report.figures.as_ref().map(|f| f.total.0).unwrap_or(0))) " · "
                        a href=(format!("/app/members/{}/reports/{}", report.member_id, row.id)) { "Visa underlag" } }
                    div.forms {
                        (forms.form(&approve, &format!("/app/staff/reports/{}/approve", row.id), "Attestera", html! {
                            input type="hidden" name="version" value=(report.version);
                        }))
                        (forms.form(&reject, &format!("/app/staff/reports/{}/reject", row.id), "Skicka tillbaka", html! {
                            input type="hidden" name="version" value=(report.version);
                            (forms.textarea(&reject, "reason", "Skäl"))
                        }))
                    }
                }
            }
        }
        section aria-labelledby="month-end" {
            h2 id="month-end" { "Månadsavslut" }
            p.muted { "Fakturerar alla attesterade, ofakturerade månader till och med den valda månaden: en faktura per avtal." }
            (forms.form("month-end", "/app/staff/month-end", "Utfärda fakturor", html! {
                (forms.field("month-end", "month", "Till och med månad", "ÅÅÅÅ-MM", &month))
            }))
            form method="get" action="/app/staff/sie" {
                div.field { label for="sie-month" { "Månad för SIE-fil" }
                    input id="sie-month" name="month" type="text" value=(month) placeholder="ÅÅÅÅ-MM"; }
                button.secondary type="submit" { "Hämta SIE-fil" }
            }
        }
        section aria-labelledby="invoices" {
            h2 id="invoices" { "Fakturor" }
            @if invoices.is_empty() { p.muted { "Inga fakturor ännu." } }
            @else {
                table #invoice-list {
                    thead { tr { th { "Nummer" } th { "Köpare" } th { "Period" } th.num { "Att betala" } th { "" } } }
                    tbody { @for row in &invoices { @if let Some(doc) = &row.state.document { tr {
                        td data-label="Nummer" { (doc.number) }
                        td data-label="Köpare" { (doc.buyer.name) }
                        td data-label="Period" { (doc.period_start) " – " (doc.period_end) }
                        td.num data-label="Att betala" { (money(doc.payable.0)) }
                        td { a href=(format!("/app/staff/invoices/{}.xml", row.id)) { "XML" }
                            @if row.state.credit.is_some() { " (krediterad)" } }
                    } } } }
                }
            }
        }
        section aria-labelledby="agreements" {
            h2 id="agreements" { "Avtal" }
            table {
                thead { tr { th { "Avtal" } th { "Köpare" } th.num { "Platser" } th { "Period" } th { "" } } }
                tbody { @for row in &agreements { @if let Some(terms) = &row.state.terms { tr {
                    td data-label="Avtal" { (terms.title) }
                    td data-label="Köpare" { (terms.buyer.name) }
                    td.num data-label="Platser" { (terms.contracted_places) }
                    td data-label="Period" { (terms.period.start) " – " (terms.period.end.map(|d| d.to_string()).unwrap_or_default()) }
                    td { a href=(format!("/app/staff/agreements/{}", row.id)) { "Nyttjande" } }
                } } } }
            }
        }
        section aria-labelledby="members" {
            h2 id="members" { "Medlemsföretag" }
            table {
                thead { tr { th { "Namn" } th { "Organisationsnummer" } th { "Kategori" } th.num { "Andel målgrupp" } } }
                tbody { @for row in &members { tr {
                    td data-label="Namn" { a href=(format!("/app/members/{}", row.id)) { (row.state.name) } }
                    td data-label="Organisationsnummer" { (row.state.org_number.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "(enskild firma)".into())) }
                    td data-label="Kategori" { (row.state.category.map(|c| match c {
                        konsortium_domain::member::MemberCategory::Wise => "ASF",
                        konsortium_domain::member::MemberCategory::OtherAssociation => "Annan förening",
                    }).unwrap_or("")) }
                    td.num data-label="Andel målgrupp" { (row.state.target_group_share) }
                } } }
            }
        }
    };
    Ok(layout::page("Konsortiets översikt", Some(session), body))
}

/// Shows the overview again with the refusal beside its form, or goes back to it.
async fn after(
    app: &App,
    session: &Session,
    form_id: &str,
    form: HashMap<String, String>,
    done: Result<String, AppError>,
) -> Response {
    match done {
        Ok(location) => see_other(&location),
        Err(err) => match refused(err, form_id, form) {
            Ok((status, failed)) => render(overview_page(app, session, Some(&failed), None).await, status),
            Err(err) => err.into_response(),
        },
    }
}

fn version(form: &HashMap<String, String>) -> Result<u32, AppError> {
    value(form, "version").trim().parse().map_err(|_| AppError::invalid("version", "not a report version"))
}

/// `POST /app/staff/reports/{report}/approve`.
pub async fn approve(
    State(app): State<App>,
    session: Session,
    Path(report_id): Path<String>,
    Form(form): FormData,
) -> Response {
    let actor = match staff_form(&session, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let id = input::id("reportId", &report_id)?;
        reports::approve_monthly_report(&app, &actor, &id, version(&form)?).await?;
        Ok("/app/staff#queue".to_string())
    }
    .await;
    after(&app, &session, &format!("approve-{report_id}"), form, done).await
}

/// `POST /app/staff/reports/{report}/reject`.
pub async fn reject(
    State(app): State<App>,
    session: Session,
    Path(report_id): Path<String>,
    Form(form): FormData,
) -> Response {
    let actor = match staff_form(&session, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let id = input::id("reportId", &report_id)?;
        let reason = input::reason("reason", value(&form, "reason"))?;
        reports::reject_monthly_report(&app, &actor, &id, version(&form)?, reason).await?;
        Ok("/app/staff#queue".to_string())
    }
    .await;
    after(&app, &session, &format!("reject-{report_id}"), form, done).await
}

/// `POST /app/staff/month-end`: issues the invoices of every approved month up to the one chosen.
pub async fn month_end(State(app): State<App>, session: Session, Form(form): FormData) -> Response {
    let actor = match staff_form(&session, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let month = input::month("month", value(&form, "month"))?;
        let issued = invoicing::issue_invoices(&app, &actor, &MonthEndRun { month, agreement_id: None }).await?;
        Ok(format!("/app/staff?utfardade={}#invoices", issued.len()))
    }
    .await;
    after(&app, &session, "month-end", form, done).await
}

/// `GET /app/staff/invoices/{id}.xml`: the invoice's UBL exactly as issued.
pub async fn invoice_xml(State(app): State<App>, session: Session, Path(file): Path<String>) -> Response {
    let found = async {
        let actor = staff(&session)?;
        let id = file.strip_suffix(".xml").ok_or_else(|| AppError::NotFound(format!("no invoice {file}")))?;
        let id = input::id("id", id)?;
        Ok::<_, WebError>(invoicing::invoice(&app, &actor, &id).await?)
    };
    match found.await {
        Ok((_, invoice)) => ([(CONTENT_TYPE, "application/xml; charset=utf-8")], invoice.ubl).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `GET /app/staff/sie?month=YYYY-MM`: the month's bookkeeping as a SIE 4 file.
pub async fn sie(State(app): State<App>, session: Session, Query(query): Query<HashMap<String, String>>) -> Response {
    let file = async {
        let actor = staff(&session)?;
        let month = input::month("month", value(&query, "month"))?;
        Ok::<_, WebError>((month, payouts::sie_export(&app, &actor, month).await?))
    };
    match file.await {
        Ok((month, bytes)) => {
            let disposition = format!("attachment; filename=\"konsortium-{month}.se\"");
            ([(CONTENT_TYPE, "text/plain; charset=IBM437".to_string()), (CONTENT_DISPOSITION, disposition)], bytes)
                .into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// The months to show: as asked, else the agreement's last twelve months up to this one.
async fn period(
    app: &App,
    agreement_id: &str,
    query: &HashMap<String, String>,
) -> Result<(statistics::Period, Option<Failed>), WebError> {
    if let (Some(from), Some(to)) = (query.get("from"), query.get("to")) {
        match statistics::period(from, to) {
            Ok(period) => return Ok((period, None)),
            Err(err) => {
                let (_, failed) = refused(err, "period", query.clone())?;
                return Ok((default_period(app, agreement_id).await?, Some(failed)));
            }
        }
    }
    Ok((default_period(app, agreement_id).await?, None))
}

async fn default_period(app: &App, agreement_id: &str) -> Result<statistics::Period, WebError> {
    let agreement = views::agreements::get(app.reads(), agreement_id, &views::Scope::All)
        .await?
        .ok_or_else(|| WebError::App(AppError::NotFound(format!("no agreement {agreement_id}"))))?;
    let start = agreement.state.terms.as_ref().map(|t| Month::of(t.period.start));
    let to = Month::of(today());
    let mut from = Month::of(today().checked_sub(time::Duration::days(334)).unwrap_or(today()));
    if let Some(start) = start.filter(|s| *s > from) {
        from = start;
    }
    Ok(statistics::Period::new(from.min(to), to)?)
}

/// `GET /app/staff/agreements/{agreement}?from=YYYY-MM&to=YYYY-MM`: place-days per month, with the chart.
pub async fn utilisation(
    State(app): State<App>,
    session: Session,
    Path(agreement_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page = async {
        let actor = staff(&session)?;
        let agreement_id = input::id("agreementId", &agreement_id)?;
        let (period, failed) = period(&app, &agreement_id, &query).await?;
        let subject = statistics::Subject::Agreement(agreement_id.clone());
        let rows = statistics::utilisation(app.reads(), &actor, &subject, period, None).await?;
        let agreement = views::agreements::get(app.reads(), &agreement_id, &views::Scope::All).await?;
        let title = agreement.and_then(|a| a.state.terms.map(|t| t.title)).unwrap_or_else(|| agreement_id.clone());
        let field_error =
            |name: &str| failed.as_ref().filter(|f| f.field.as_deref() == Some(name)).map(|f| f.message.clone());
        let chart =
            format!("/app/staff/agreements/{agreement_id}/utilisation.svg?from={}&to={}", period.from, period.to);
        Ok::<_, WebError>(layout::page(
            &format!("Nyttjande: {title}"),
            Some(&session),
            html! {
                p { a href="/app/staff" { "Till översikten" } }
                form method="get" action=(format!("/app/staff/agreements/{agreement_id}")) {
                    @for (name, label, value) in [("from", "Från månad", period.from.to_string()), ("to", "Till månad", period.to.to_string())] {
                        @let error = field_error(name);
                        div.field { label for=(format!("period-{name}")) { (label) }
                            input id=(format!("period-{name}")) name=(name) type="text" placeholder="ÅÅÅÅ-MM"
                                value=(query.get(name).cloned().unwrap_or(value)) aria-invalid=[error.as_ref().map(|_| "true")];
                            @if let Some(error) = error { p.error { (error) } } }
                    }
                    button.secondary type="submit" { "Visa" }
                }
                section {
                    img src=(chart) alt="Stapeldiagram: avtalade och fyllda platsdagar per månad (siffrorna står i tabellen nedan)" style="max-width:100%";
                    table #utilisation {
                        thead { tr { th { "Månad" } th.num { "Avtalade platsdagar" } th.num { "Tilldelade" } th.num { "Fyllda" } th.num { "Anställda" } th.num { "Andel fylld" } } }
                        tbody { @for row in &rows { tr {
                            td data-label="Månad" { (row.month) }
                            td.num data-label="Avtalade platsdagar" { (row.days.contracted) }
                            td.num data-label="Tilldelade" { (row.days.allocated) }
                            td.num data-label="Fyllda" { (row.days.filled) }
                            td.num data-label="Anställda" { (row.days.employed) }
                            td.num data-label="Andel fylld" { (row.days.share_filled().map(|s| format!("{:.1} %", s * 100.0).replace('.', ",")).unwrap_or_default()) }
                        } } }
                    }
                }
            },
        ))
    };
    render(page.await, StatusCode::OK)
}

/// `GET /app/staff/agreements/{agreement}/utilisation.svg`: the chart `/charts/utilisation.svg` draws.
pub async fn chart(
    State(app): State<App>,
    session: Session,
    Path(agreement_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let svg = async {
        let actor = staff(&session)?;
        let agreement_id = input::id("agreementId", &agreement_id)?;
        let period = statistics::period(value(&query, "from"), value(&query, "to"))?;
        let subject = statistics::Subject::Agreement(agreement_id);
        Ok::<_, WebError>(crate::exports::chart(
            &statistics::utilisation(app.reads(), &actor, &subject, period, None).await?,
        ))
    };
    match svg.await {
        Ok(svg) => ([(CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Err(err) => err.into_response(),
    }
}
