//! The web pages under `/app/`: member enterprises report their places and months, staff approve
//! them and run the month-end, in Swedish, as plain HTML forms. Every page calls the same use cases
//! as GraphQL (`crate::application`); the pages only parse the form, call, and show the answer or
//! the refusal next to the field that caused it.

/// The frame, forms with their errors, and Swedish money.
pub mod layout;
/// A member enterprise's pages: agreements, places, months, payout statements.
pub mod member;
/// Signing in with a one-time link, the session cookie and CSRF tokens.
pub mod session;
/// Consortium staff's pages: the overview, the approval queue, the month-end and utilisation.
pub mod staff;

use crate::app::App;
use crate::error::{code, AppError};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use layout::{Failed, Message};
use session::Session;
use std::collections::HashMap;

/// The pages' routes, with the app as their state.
pub fn routes(app: App) -> Router {
    Router::new()
        .route("/app", get(|| async { see_other("/app/") }))
        .route("/app/", get(home))
        .route("/app/login", get(session::login_page).post(session::login))
        .route("/app/logout", post(session::logout))
        .route("/app/members/{member}", get(member::overview))
        .route("/app/members/{member}/participants", post(member::register_participant))
        .route("/app/members/{member}/places/open", post(member::open_place))
        .route("/app/members/{member}/places/{place}/fill", post(member::fill_place))
        .route("/app/members/{member}/places/{place}/employ", post(member::employ))
        .route("/app/members/{member}/places/{place}/vacate", post(member::vacate))
        .route("/app/members/{member}/reports", get(member::months::reports).post(member::months::submit))
        .route("/app/members/{member}/reports/{report}", get(member::months::report))
        .route("/app/members/{member}/reports/{report}/correct", post(member::months::correct))
        .route("/app/members/{member}/payouts", get(member::payouts::payouts))
        .route("/app/members/{member}/statements.csv", get(member::payouts::statements_csv))
        .route("/app/staff", get(staff::overview))
        .route("/app/staff/reports/{report}/approve", post(staff::approve))
        .route("/app/staff/reports/{report}/reject", post(staff::reject))
        .route("/app/staff/month-end", post(staff::month_end))
        .route("/app/staff/invoices/{file}", get(staff::invoice_xml))
        .route("/app/staff/sie", get(staff::sie))
        .route("/app/staff/agreements/{agreement}", get(staff::utilisation))
        .route("/app/staff/agreements/{agreement}/utilisation.svg", get(staff::chart))
        .with_state(app)
        .layer(axum::middleware::map_response(protective_headers))
}

/// The pages show personal data and carry forms: no cache keeps them, no other site frames them
/// (clickjacking), nothing but this server's own styles, images and form targets runs in them, and
/// a sign-in link's token never leaves in a `Referer`.
async fn protective_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "cache-control", "no-store");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-content-type-options", "nosniff");
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    response
}

/// `GET /app/`: where the session belongs.
async fn home(session: Session) -> Response {
    see_other(&session.home())
}

/// Why a page could not be shown, as a page of its own.
#[derive(Debug)]
pub enum WebError {
    /// No valid session cookie.
    NotSignedIn,
    /// A form without this session's CSRF token.
    Csrf,
    App(AppError),
}

impl WebError {
    pub fn internal(err: Box<dyn std::error::Error + Send + Sync>) -> WebError {
        WebError::App(AppError::Internal(err))
    }
}

impl From<AppError> for WebError {
    fn from(err: AppError) -> WebError {
        WebError::App(err)
    }
}

impl From<konsortium_projections::DbError> for WebError {
    fn from(err: konsortium_projections::DbError) -> WebError {
        WebError::App(AppError::from(err))
    }
}

/// The HTTP status an application error's code stands for.
pub fn status_of(err: &AppError) -> StatusCode {
    match err.code() {
        code::VALIDATION => StatusCode::UNPROCESSABLE_ENTITY,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            WebError::NotSignedIn => (
                StatusCode::UNAUTHORIZED,
                "Du är inte inloggad",
                "Logga in med den inloggningslänk du fått från konsortiets kansli.".to_string(),
            ),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Formuläret kunde inte skickas",
                "Formuläret kom inte från en sida du har öppnat nu. Ladda om sidan och försök igen.".to_string(),
            ),
            WebError::App(err) => {
                if let AppError::Internal(source) = err {
                    tracing::error!(error = %source, "a web page failed");
                }
                let title = match err.code() {
                    code::FORBIDDEN => "Åtkomst nekad",
                    code::NOT_FOUND => "Hittades inte",
                    code::INTERNAL => "Något gick fel",
                    _ => "Det gick inte",
                };
                (status_of(err), title, err.message())
            }
        };
        (status, layout::message(&Message { title, text: &text, link: Some(("/app/", "Till startsidan")) }))
            .into_response()
    }
}

/// After a form that stored something: the browser fetches the page anew, so a reload does not send
/// the form again.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// A page, or the page saying why it cannot be shown.
pub fn render(page: Result<maud::Markup, WebError>, status: StatusCode) -> Response {
    match page {
        Ok(page) => (status, page).into_response(),
        Err(err) => err.into_response(),
    }
}

/// The month a report is usually sent for: the one that just ended (in Swedish time).
pub fn previous_month() -> konsortium_domain::calendar::Month {
    let today = crate::application::today();
    let first = today.replace_day(1).ok().and_then(|d| d.previous_day()).unwrap_or(today);
    konsortium_domain::calendar::Month::of(first)
}

/// A form's field as sent, or empty.
pub fn value<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

/// A refused form, to show again with the error beside its field. Only errors a user can act on are
/// shown this way; the others become a page of their own.
pub fn refused(err: AppError, form: &str, values: HashMap<String, String>) -> Result<(StatusCode, Failed), WebError> {
    let status = status_of(&err);
    let (field, message) = match err {
        AppError::Invalid { field, message } => (Some(field), swedish(&message)),
        err @ (AppError::Rule { .. } | AppError::Conflict(_) | AppError::NotFound(_)) => (None, err.message()),
        other => return Err(WebError::App(other)),
    };
    let values =
        values.into_iter().filter(|(name, _)| name != session::CSRF_FIELD && name != "idempotencyKey").collect();
    Ok((status, Failed { form: form.to_string(), field, message, values }))
}

/// The input errors a form meets most, in Swedish; any other message is shown as the API gives it.
/// Matched on the domain's own wording, which the tests below pin.
fn swedish(message: &str) -> String {
    let got = |m: &str| m.rsplit_once("got ").map(|(_, typed)| typed.to_string()).unwrap_or_default();
    match message {
        "must not be empty" => "Fyll i fältet.".to_string(),
        "contains a control character" => "Texten innehåller ett otillåtet tecken.".to_string(),
        "a participant id is 3–64 letters, digits, '-' or '_'" => {
            "Ett deltagar-id är 3–64 bokstäver, siffror, - eller _.".to_string()
        }
        "a participant id must be a pseudonym; this looks like a personnummer" => {
            "Skriv deltagarens id, inte personnumret.".to_string()
        }
        "a personnummer is written YYYYMMDD-NNNN or YYMMDD-NNNN" => {
            "Skriv personnumret som ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN.".to_string()
        }
        "the date in the personnummer does not exist" => "Datumet i personnumret finns inte.".to_string(),
        "the check digit of the personnummer is wrong" => {
            "Kontrollsiffran stämmer inte: kontrollera personnumret.".to_string()
        }
        "does not agree with the personnummer" => "Födelseåret stämmer inte med personnumret.".to_string(),
        m if m.starts_with("is longer than ") => {
            let max: String = m.chars().filter(char::is_ascii_digit).collect();
            format!("Texten är för lång: högst {max} tecken.")
        }
        m if m.starts_with("a date is written YYYY-MM-DD") => {
            format!("Skriv ett datum som finns, som ÅÅÅÅ-MM-DD (du skrev {}).", got(m))
        }
        m if m.starts_with("a month is written YYYY-MM") => {
            format!("Skriv en månad som ÅÅÅÅ-MM, mellan 1900-01 och 2200-12 (du skrev {}).", got(m))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::swedish;
    use konsortium_domain::calendar::{InvalidDate, InvalidMonth};
    use konsortium_domain::personnummer::InvalidPersonnummer;
    use konsortium_domain::place::InvalidParticipantId;
    use konsortium_domain::text::InvalidText;

    #[test]
    fn the_common_input_errors_read_in_swedish() {
        assert_eq!(swedish(&InvalidText::Empty.to_string()), "Fyll i fältet.");
        assert_eq!(swedish(&InvalidText::TooLong { max: 200 }.to_string()), "Texten är för lång: högst 200 tecken.");
        assert_eq!(swedish(&InvalidText::ControlCharacter.to_string()), "Texten innehåller ett otillåtet tecken.");
        assert_eq!(
            swedish(&InvalidDate::Format("2024-11-31".into()).to_string()),
            "Skriv ett datum som finns, som ÅÅÅÅ-MM-DD (du skrev \"2024-11-31\")."
        );
        assert!(swedish(&InvalidMonth("2024-13".into()).to_string()).starts_with("Skriv en månad som ÅÅÅÅ-MM"));
        assert!(swedish(&InvalidParticipantId::Format.to_string()).starts_with("Ett deltagar-id"));
        assert!(swedish(&InvalidParticipantId::LooksLikePersonnummer.to_string()).starts_with("Skriv deltagarens id"));
        for number in [InvalidPersonnummer::Format, InvalidPersonnummer::Date, InvalidPersonnummer::CheckDigit] {
            assert_ne!(swedish(&number.to_string()), number.to_string());
        }
        assert_eq!(swedish("the rule's own words"), "the rule's own words");
    }
}
