//! A member enterprise's pages: its agreements and allocations, its places with who fills them, the
//! month's report computed from them, and its payout statements. Staff may open them too; another
//! member may not (`403`).

/// The month computed from the places, submitted and corrected.
pub mod months;
/// Payout statements, each as CSV.
pub mod payouts;

use super::layout::{self, Failed, Forms};
use super::session::Session;
use super::{refused, render, see_other, value, WebError};
use crate::app::{Actor, App};
use crate::application::access::{self, Reading};
use crate::application::{input, participants, places, today};
use crate::error::AppError;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::participant::{Gender, TargetGroup};
use konsortium_domain::place::{ExitReason, TrainingPlace};
use konsortium_domain::reimbursement::ReportStatus;
use konsortium_projections::views::{self, Page};
use maud::{html, Markup};
use std::collections::{BTreeMap, HashMap};

type FormData = Form<HashMap<String, String>>;

/// The exit reasons as the form offers them, in Swedish.
const REASONS: [(&str, ExitReason, &str); 6] = [
    ("COMPLETED", ExitReason::Completed, "Planerad period avslutad"),
    ("EMPLOYMENT_BY_MEMBER", ExitReason::EmploymentByMember, "Anställd hos oss"),
    ("EMPLOYMENT_ELSEWHERE", ExitReason::EmploymentElsewhere, "Anställd hos annan arbetsgivare"),
    ("STUDIES", ExitReason::Studies, "Studier"),
    ("OTHER_INTERVENTION", ExitReason::OtherIntervention, "Annan insats"),
    ("ENDED_EARLY", ExitReason::EndedEarly, "Avbrott"),
];

const GENDERS: [(&str, Gender, &str); 4] = [
    ("WOMAN", Gender::Woman, "Kvinna"),
    ("MAN", Gender::Man, "Man"),
    ("OTHER", Gender::Other, "Annat"),
    ("NOT_STATED", Gender::NotStated, "Vill inte uppge"),
];

const TARGET_GROUPS: [(&str, TargetGroup, &str); 3] = [
    (
        "REGISTERED_TWELVE_MONTHS",
        TargetGroup::RegisteredTwelveMonths,
        "Inskriven hos Arbetsförmedlingen minst 12 månader",
    ),
    ("YOUNG_SIX_MONTHS", TargetGroup::YoungSixMonths, "Ung, inskriven minst 6 månader"),
    ("NEWLY_ARRIVED", TargetGroup::NewlyArrived, "Nyanländ"),
];

fn options<T>(choices: &[(&str, T, &str)]) -> Vec<(String, String)> {
    choices.iter().map(|(value, _, text)| (value.to_string(), text.to_string())).collect()
}

/// The choice a form sent, or the field's error.
fn chosen<T: Copy>(choices: &[(&str, T, &str)], form: &HashMap<String, String>, field: &str) -> Result<T, AppError> {
    choices
        .iter()
        .find(|(v, _, _)| *v == value(form, field))
        .map(|(_, choice, _)| *choice)
        .ok_or_else(|| AppError::invalid(field, "choose one of the listed options"))
}

fn reason_text(reason: ExitReason) -> &'static str {
    REASONS.iter().find(|(_, r, _)| *r == reason).map(|(_, _, text)| *text).unwrap_or("")
}

pub(crate) fn status_text(status: Option<ReportStatus>) -> &'static str {
    match status {
        Some(ReportStatus::Submitted) => "Inskickad, väntar på attest",
        Some(ReportStatus::Approved) => "Attesterad",
        Some(ReportStatus::Rejected) => "Återskickad",
        Some(ReportStatus::Invoiced) => "Fakturerad",
        None => "Ej inskickad",
    }
}

/// The caller, if it may act for `member_id` (staff, or that member), else `403`.
pub(crate) fn acting_for(session: &Session, member_id: &str) -> Result<Actor, WebError> {
    let actor = session.actor();
    access::member(&actor, member_id)?;
    Ok(actor)
}

/// The caller of a member's form: its CSRF token checked, the session acting for `member_id`, and
/// the form's idempotency key attached, so a double submit stores once.
pub(crate) fn form_actor(
    session: &Session,
    member_id: &str,
    form: &HashMap<String, String>,
) -> Result<Actor, WebError> {
    let actor = session.form_caller(form)?;
    acting_for(session, member_id)?;
    Ok(actor)
}

/// The member's name, or `404`.
pub(crate) async fn member_name(app: &App, member_id: &str) -> Result<String, WebError> {
    let row = views::members::get(app.reads(), member_id, &views::Scope::All).await?;
    row.map(|row| row.state.name).ok_or_else(|| WebError::App(AppError::NotFound(format!("no member {member_id}"))))
}

/// Agreements by id, for titles.
pub(crate) async fn agreements(app: &App, ids: Vec<String>) -> Result<BTreeMap<String, FrameworkAgreement>, WebError> {
    let rows = views::agreements::by_ids(app.reads(), &ids, &views::Scope::All).await?;
    Ok(rows.into_iter().map(|row| (row.id, row.state)).collect())
}

pub(crate) fn title(agreements: &BTreeMap<String, FrameworkAgreement>, id: &str) -> String {
    agreements
        .get(id)
        .and_then(|a| a.terms.as_ref())
        .map(|t| format!("{} ({})", t.title, t.buyer.name))
        .unwrap_or_else(|| id.to_string())
}

/// Who a participant is, for the member whose places they fill: the name is opened from the vault,
/// and the read is recorded in the audit trail as GraphQL's `participant { name }` does.
async fn participant_name(app: &App, actor: &Actor, participant_id: &str) -> String {
    let shown = async {
        let Some(found) = participants::participant(app, actor, participant_id).await? else {
            return Ok::<_, AppError>(None);
        };
        if found.erasure.is_some() {
            return Ok(Some("(uppgifterna raderade)".to_string()));
        }
        Ok(participants::personal_data(app, actor, participant_id, &found).await?.map(|p| p.name))
    };
    match shown.await {
        Ok(Some(name)) => name,
        Ok(None) => format!("Deltagare {participant_id}"),
        Err(err) => {
            if let AppError::Internal(source) = &err {
                tracing::error!(error = %source, participant_id, "could not open a participant's name");
            }
            format!("Deltagare {participant_id}")
        }
    }
}

/// The names of several participants, each opened once.
pub(crate) async fn participant_names(
    app: &App,
    actor: &Actor,
    ids: std::collections::BTreeSet<String>,
) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for id in ids {
        let name = participant_name(app, actor, &id).await;
        names.insert(id, name);
    }
    names
}

/// `GET /app/members/{member}`.
///
/// `?ny=ID` after registering a participant: says so, and offers the id in the forms that fill a place.
pub async fn overview(
    State(app): State<App>,
    session: Session,
    Path(member_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let registered = query.get("ny").and_then(|id| input::participant("ny", id).ok());
    let registered = registered.as_ref().map(|id| id.as_str());
    render(overview_page(&app, &session, &member_id, None, registered).await, StatusCode::OK)
}

async fn overview_page(
    app: &App,
    session: &Session,
    member_id: &str,
    failed: Option<&Failed>,
    registered: Option<&str>,
) -> Result<Markup, WebError> {
    let actor = acting_for(session, member_id)?;
    let name = member_name(app, member_id).await?;
    let scope = access::read(&actor, Reading::Split)?;
    let filter = views::splits::AllocationFilter {
        scope: scope.clone(),
        agreement_id: None,
        member_id: Some(member_id.to_string()),
    };
    let allocations = views::splits::list(app.reads(), &filter).await?;
    let place_filter = views::places::PlaceFilter { scope, agreement_id: None, member_id: Some(member_id.to_string()) };
    let places = views::places::page(app.reads(), &place_filter, &Page::default().counting(false)).await?.rows;
    let mut ids: Vec<String> = allocations.iter().map(|a| a.agreement_id.clone()).collect();
    ids.extend(places.iter().map(|p| p.state.agreement_id.clone()));
    ids.sort();
    ids.dedup();
    let agreements = agreements(app, ids).await?;
    let ids = places.iter().flat_map(|p| p.state.occupancy.iter().map(|o| o.participant.to_string())).collect();
    let names = participant_names(app, &actor, ids).await;
    let forms = Forms::new(session, failed);
    let today = today();
    let genders = options(&GENDERS);
    let groups = options(&TARGET_GROUPS);
    let body = html! {
        (forms.summary())
        @if let Some(id) = registered {
            p.notice role="status" { "Deltagaren är registrerad med id " strong #registered { (id) } ". Fyll en ledig plats med det id:t nedan." }
        }
        p { "Medlemsföretag: " strong { (name) } }
        nav aria-label="Medlemssidor" {
            p { a href=(format!("/app/members/{member_id}/reports")) { "Månadsrapporter" } " · "
                a href=(format!("/app/members/{member_id}/payouts")) { "Avräkningar" } }
        }
        section aria-labelledby="allocations" {
            h2 id="allocations" { "Avtal och tilldelade platser" }
            @if allocations.is_empty() { p.muted { "Inga platser är tilldelade ännu." } }
            @for row in &allocations {
                @let allocation = &row.allocation;
                @let form_id = format!("open-{}", allocation.id);
                div.card id=(format!("allocation-{}", allocation.id)) {
                    p { strong { (title(&agreements, &row.agreement_id)) } }
                @let granted = allocation.on(today).or_else(|| allocation.versions.last().copied()).map(|v| v.places).unwrap_or(0);
                @let open = u32::try_from(allocation.places.iter().filter(|p| p.closed_on.is_none()).count()).unwrap_or(u32::MAX);
                    p { "Period: " (allocation.period.start) " – " (allocation.period.end.map(|d| d.to_string()).unwrap_or_else(|| "tills vidare".into()))
                        " · Tilldelade platser: " (granted) " · Öppnade: " (open) }
                    @if open < granted || forms.has_failed(&form_id) {
                        (forms.form(&form_id, &format!("/app/members/{member_id}/places/open"), "Öppna plats", html! {
                            input type="hidden" name="agreementId" value=(row.agreement_id);
                            input type="hidden" name="allocationId" value=(allocation.id);
                            (forms.field(&form_id, "openedOn", "Öppnas den", "ÅÅÅÅ-MM-DD", &today.to_string()))
                        }))
                    }
                }
            }
        }
        section aria-labelledby="places" {
            h2 id="places" { "Platser" }
            @if places.is_empty() { p.muted { "Inga platser är öppnade ännu." } }
            @for row in &places {
                (place_card(&forms, member_id, &row.id, &row.state, &agreements, &names, registered.unwrap_or_default()))
            }
        }
        section aria-labelledby="register" {
            h2 id="register" { "Registrera en deltagare" }
            p.muted { "Uppgifterna om personen sparas krypterade. På platserna och i rapporterna står bara deltagarens id och, för er, namnet." }
            (forms.form("register", &format!("/app/members/{member_id}/participants"), "Registrera", html! {
                (forms.field("register", "name", "Namn", "", ""))
                (forms.field("register", "personnummer", "Personnummer eller samordningsnummer", "ÅÅÅÅMMDD-NNNN", ""))
                (forms.field("register", "yearOfBirth", "Födelseår", "ÅÅÅÅ", ""))
                (forms.field("register", "referringAuthority", "Anvisande myndighet", "t.ex. Arbetsförmedlingen", ""))
                (forms.select("register", "gender", "Kön", &genders, None))
                (forms.select("register", "targetGroup", "Målgrupp", &groups, None))
            }))
        }
    };
    Ok(layout::page("Mina platser", Some(session), body))
}

fn place_card(
    forms: &Forms,
    member_id: &str,
    place_id: &str,
    place: &TrainingPlace,
    agreements: &BTreeMap<String, FrameworkAgreement>,
    names: &HashMap<String, String>,
    new_participant: &str,
) -> Markup {
    let current = place.occupancy.last().filter(|o| o.to.is_none());
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let base = format!("/app/members/{member_id}/places/{place_id}");
    let (fill, employ, vacate) =
        (format!("fill-{place_id}"), format!("employ-{place_id}"), format!("vacate-{place_id}"));
    let reasons: Vec<(String, String)> = REASONS.iter().map(|(v, _, t)| (v.to_string(), t.to_string())).collect();
    html! {
        div.card id=(format!("place-{place_id}")) data-place=(place_id) {
            p { strong { (title(agreements, &place.agreement_id)) } br;
                span.muted { "Plats " (place_id) " · öppnad " (place.opened_on.map(|d| d.to_string()).unwrap_or_default())
                    @if let Some(closed) = place.closed_on { " · stängd " (closed) } } }
            @match current {
                Some(stay) => p.filled-by { "Fylls av " strong.participant { (name(stay.participant.as_str())) } " sedan " (stay.from)
                    @if let Some(employed) = stay.employed_from { " · anställd från " (employed) } },
                None => p.muted { "Ledig" },
            }
            @let past: Vec<_> = place.occupancy.iter().filter(|o| o.to.is_some()).collect();
            @if !past.is_empty() {
                details { summary { "Tidigare deltagare" }
                    ul { @for stay in past { li { (name(stay.participant.as_str())) ": " (stay.from) " – " (stay.to.map(|d| d.to_string()).unwrap_or_default())
                        @if let Some(reason) = stay.exit { " (" (reason_text(reason)) ")" } } } } }
            }
            @if place.closed_on.is_none() {
                div.forms {
                    @if current.is_none() {
                        (forms.form(&fill, &format!("{base}/fill"), "Fyll platsen", html! {
                            (forms.field(&fill, "participantId", "Deltagarens id", "från registreringen", new_participant))
                            (forms.field(&fill, "from", "Från och med", "ÅÅÅÅ-MM-DD", ""))
                        }))
                    } @else {
                        @if current.is_some_and(|s| s.employed_from.is_none()) {
                            (forms.form(&employ, &format!("{base}/employ"), "Anställ deltagaren", html! {
                                (forms.field(&employ, "from", "Anställd från", "ÅÅÅÅ-MM-DD", ""))
                            }))
                        }
                        (forms.form(&vacate, &format!("{base}/vacate"), "Avsluta", html! {
                            (forms.field(&vacate, "lastDay", "Sista dag", "ÅÅÅÅ-MM-DD", ""))
                            (forms.select(&vacate, "reason", "Orsak", &reasons, None))
                        }))
                    }
                }
            }
        }
    }
}

/// Shows the member's page again with the refusal beside the field, or goes back to it.
async fn after_place_form(
    app: &App,
    session: &Session,
    member_id: &str,
    form_id: &str,
    form: HashMap<String, String>,
    done: Result<(), AppError>,
    anchor: &str,
) -> Response {
    match done {
        Ok(()) => see_other(&format!("/app/members/{member_id}#{anchor}")),
        Err(err) => match refused(err, form_id, form) {
            Ok((status, failed)) => render(overview_page(app, session, member_id, Some(&failed), None).await, status),
            Err(err) => err.into_response(),
        },
    }
}

/// `POST /app/members/{member}/places/open`.
pub async fn open_place(
    State(app): State<App>,
    session: Session,
    Path(member_id): Path<String>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let allocation = value(&form, "allocationId").to_string();
    let done = async {
        let agreement_id = input::id("agreementId", value(&form, "agreementId"))?;
        let allocation_id = input::id("allocationId", &allocation)?;
        let opened_on = input::date("openedOn", value(&form, "openedOn"))?;
        places::open_place(&app, &actor, &agreement_id, &allocation_id, opened_on).await.map(|_| ())
    }
    .await;
    let form_id = format!("open-{allocation}");
    after_place_form(&app, &session, &member_id, &form_id, form, done, "places").await
}

/// `POST /app/members/{member}/places/{place}/fill`.
pub async fn fill_place(
    State(app): State<App>,
    session: Session,
    Path((member_id, place_id)): Path<(String, String)>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let place = input::id("placeId", &place_id)?;
        let who = input::participant("participantId", value(&form, "participantId"))?;
        let from = input::date("from", value(&form, "from"))?;
        places::fill_place(&app, &actor, &place, &who, from).await.map(|_| ())
    }
    .await;
    let anchor = format!("place-{place_id}");
    after_place_form(&app, &session, &member_id, &format!("fill-{place_id}"), form, done, &anchor).await
}

/// `POST /app/members/{member}/places/{place}/employ`.
pub async fn employ(
    State(app): State<App>,
    session: Session,
    Path((member_id, place_id)): Path<(String, String)>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let place = input::id("placeId", &place_id)?;
        let from = input::date("from", value(&form, "from"))?;
        places::employ_participant(&app, &actor, &place, from).await.map(|_| ())
    }
    .await;
    let anchor = format!("place-{place_id}");
    after_place_form(&app, &session, &member_id, &format!("employ-{place_id}"), form, done, &anchor).await
}

/// `POST /app/members/{member}/places/{place}/vacate`.
pub async fn vacate(
    State(app): State<App>,
    session: Session,
    Path((member_id, place_id)): Path<(String, String)>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let place = input::id("placeId", &place_id)?;
        let last_day = input::date("lastDay", value(&form, "lastDay"))?;
        let reason = chosen(&REASONS, &form, "reason")?;
        places::vacate_place(&app, &actor, &place, last_day, reason).await.map(|_| ())
    }
    .await;
    let anchor = format!("place-{place_id}");
    after_place_form(&app, &session, &member_id, &format!("vacate-{place_id}"), form, done, &anchor).await
}

/// `POST /app/members/{member}/participants`: takes a person in; the member's page then offers the
/// new id for filling a place.
pub async fn register_participant(
    State(app): State<App>,
    session: Session,
    Path(member_id): Path<String>,
    Form(form): FormData,
) -> Response {
    let actor = match form_actor(&session, &member_id, &form) {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let done = async {
        let year: i32 = value(&form, "yearOfBirth")
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("yearOfBirth", "write the year of birth as four digits"))?;
        let new = participants::NewParticipant {
            personal: input::personal_data(
                value(&form, "name"),
                value(&form, "personnummer"),
                year,
                value(&form, "referringAuthority"),
            )?,
            gender: chosen(&GENDERS, &form, "gender")?,
            target_group: chosen(&TARGET_GROUPS, &form, "targetGroup")?,
            member_id: Some(input::id("memberId", &member_id)?),
        };
        participants::register_participant(&app, &actor, &new).await
    }
    .await;
    match done {
        Ok(id) => see_other(&format!("/app/members/{member_id}?ny={id}#places")),
        Err(err) => match refused(err, "register", form) {
            Ok((status, failed)) => {
                render(overview_page(&app, &session, &member_id, Some(&failed), None).await, status)
            }
            Err(err) => err.into_response(),
        },
    }
}
