//! Signing in with a one-time link, the session cookie, and the CSRF token every form carries.
//!
//! The link is a bearer token (`konsortium token --login-url`); opening it shows a button, and
//! pressing that records the token's hash, so a second use is refused, and sets a cookie signed with a MAC derived from the server's
//! token key: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it) and
//! `Path=/app`. Each form carries a MAC of the session's id, checked on every POST, so a request
//! forged without the page cannot act even if a browser ignored `SameSite`.

use super::layout::{self, Message};
use super::WebError;
use crate::app::{Actor, App};
use crate::auth::{AuthError, Principal, Role};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use konsortium_projections::{on_db, Db, DbError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The cookie's name.
pub const COOKIE_NAME: &str = "konsortium_session";
/// A working day: a session ends by itself, a link is needed again the next day.
const SESSION_SECONDS: i64 = 8 * 3_600;
/// The form field holding the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// What the cookie says, signed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    /// The session's own id: what its CSRF token is made from.
    sid: String,
    sub: String,
    role: Role,
    #[serde(default)]
    member: Option<String>,
    exp: i64,
}

/// A signed-in user of the pages.
#[derive(Debug, Clone)]
pub struct Session {
    sid: String,
    pub principal: Principal,
    csrf: String,
}

impl Session {
    /// The caller of one request, as every use case takes it; its events record the session's subject.
    pub fn actor(&self) -> Actor {
        Actor::of(self.principal.clone(), &uuid::Uuid::new_v4().to_string())
    }

    /// The caller for one form's mutation: the form's CSRF token checked, and the idempotency key the
    /// form was rendered with attached, so a double submit stores once.
    pub fn form_caller(&self, form: &HashMap<String, String>) -> Result<Actor, WebError> {
        self.check_csrf(form)?;
        let key = form.get("idempotencyKey").map(|k| k.trim()).filter(|k| !k.is_empty() && k.len() <= 200);
        Ok(self.actor().with_key(key.map(str::to_string)))
    }

    /// The token the session's forms carry.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Refuses a POST whose form does not carry this session's token (`403`).
    pub fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), WebError> {
        match form.get(CSRF_FIELD) {
            Some(token) if constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) => Ok(()),
            _ => {
                tracing::warn!(subject = %self.principal.subject, session = %self.sid, "refused a form without its CSRF token");
                Err(WebError::Csrf)
            }
        }
    }

    /// The page a user lands on after signing in.
    pub fn home(&self) -> String {
        match &self.principal.scope {
            crate::auth::Scope::Member(id) => format!("/app/members/{id}"),
            _ => "/app/staff".to_string(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn csrf_of(app: &App, sid: &str) -> String {
    URL_SAFE_NO_PAD.encode(app.keys().mac("csrf", sid.as_bytes()))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The cookie's value for a new session: the claims in base64, a dot, and their MAC.
fn sign(app: &App, claims: &Claims) -> Result<String, WebError> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|e| WebError::internal(Box::new(e)))?);
    let tag = URL_SAFE_NO_PAD.encode(app.keys().mac("session", payload.as_bytes()));
    Ok(format!("{payload}.{tag}"))
}

/// The session a cookie value stands for, if its MAC holds and it has not expired.
fn open(app: &App, value: &str) -> Option<Session> {
    let (payload, tag) = value.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if !app.keys().verify_mac("session", payload.as_bytes(), &tag) {
        return None;
    }
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if claims.exp <= now() {
        return None;
    }
    let principal = crate::auth::principal(claims.sub, claims.role, claims.member, None).ok()?;
    Some(Session { csrf: csrf_of(app, &claims.sid), sid: claims.sid, principal })
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

impl FromRequestParts<App> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Session, WebError> {
        cookie_value(&parts.headers).and_then(|value| open(app, value)).ok_or(WebError::NotSignedIn)
    }
}

/// A link's token as stored in `web_logins`: its hash, never the token.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Records that a link was used; `false` when it had been used before.
async fn consume(db: &Db, token: &str, subject: &str) -> Result<bool, DbError> {
    let used_at =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let inserted = on_db!(db, pool => sqlx::query(
        "INSERT INTO web_logins (token_hash, subject, used_at) VALUES ($1, $2, $3) ON CONFLICT (token_hash) DO NOTHING",
    )
    .bind(token_hash(token))
    .bind(subject)
    .bind(&used_at)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(inserted == 1)
}

/// Whether a link was used already, without using it.
async fn used(db: &Db, token: &str) -> Result<bool, DbError> {
    let found: Option<i32> = on_db!(db, pool => sqlx::query_scalar("SELECT 1 FROM web_logins WHERE token_hash = $1")
        .bind(token_hash(token))
        .fetch_optional(pool)
        .await)?;
    Ok(found.is_some())
}

fn refused(status: StatusCode, title: &str, text: &str) -> Response {
    (status, layout::message(&Message { title, text, link: None })).into_response()
}

fn already_used() -> Response {
    refused(
        StatusCode::CONFLICT,
        "Länken är redan använd",
        "Inloggningslänken har redan använts och fungerar bara en gång. Be konsortiets kansli om en ny länk.",
    )
}

/// Why a link signs nobody in.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Incomplete,
    Expired,
    Invalid,
    Buyer,
}

impl Refusal {
    /// The 4xx page saying which.
    fn page(self) -> Response {
        match self {
            Refusal::Incomplete => refused(
                StatusCode::BAD_REQUEST,
                "Länken är ofullständig",
                "Inloggningslänken saknar sin nyckel. Kopiera hela länken och försök igen.",
            ),
            Refusal::Expired => refused(
                StatusCode::GONE,
                "Länken har gått ut",
                "Inloggningslänken har gått ut. Be konsortiets kansli om en ny länk.",
            ),
            Refusal::Invalid => refused(
                StatusCode::UNAUTHORIZED,
                "Länken gäller inte",
                "Inloggningslänken är inte giltig. Be konsortiets kansli om en ny länk.",
            ),
            Refusal::Buyer => refused(
                StatusCode::FORBIDDEN,
                "Inte för beställare",
                "Webbsidorna är till för medlemsföretag och konsortiets personal. Beställare hämtar sina siffror via API:t.",
            ),
        }
    }
}

/// Who a link signs in: not a buyer (buyers use the API).
fn check(app: &App, token: Option<&String>) -> Result<(String, Principal), Refusal> {
    let token = token.map(|t| t.trim()).filter(|t| !t.is_empty() && t.len() <= 4_096).ok_or(Refusal::Incomplete)?;
    let principal = app.keys().verify(token).map_err(|err| match err {
        AuthError::Expired => Refusal::Expired,
        err => {
            tracing::info!(error = %err, "refused a sign-in link");
            Refusal::Invalid
        }
    })?;
    match principal.role {
        Role::Buyer => Err(Refusal::Buyer),
        _ => Ok((token.to_string(), principal)),
    }
}

/// `GET /app/login?token=…`: the link `konsortium token --login-url` prints. Opening it uses
/// nothing: it shows who the link signs in and a button that does (`POST`). Mail services open the
/// links in a message to scan them, and a link used up by that fetch would greet its owner with
/// "already used". An expired, used or broken link says which, in a 4xx page.
pub async fn login_page(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let (token, principal) = match check(&app, query.get("token")) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.page(),
    };
    match used(app.db(), &token).await {
        Ok(false) => layout::sign_in(&principal.subject, &token).into_response(),
        Ok(true) => already_used(),
        Err(err) => WebError::internal(Box::new(err)).into_response(),
    }
}

/// `POST /app/login` (the button of [`login_page`]): uses the link, once, and starts the session.
pub async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let (token, principal) = match check(&app, form.get("token")) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.page(),
    };
    match consume(app.db(), &token, &principal.subject).await {
        Ok(true) => {}
        Ok(false) => return already_used(),
        Err(err) => return WebError::internal(Box::new(err)).into_response(),
    }
    let member = match &principal.scope {
        crate::auth::Scope::Member(id) => Some(id.clone()),
        _ => None,
    };
    let claims = Claims {
        sid: uuid::Uuid::new_v4().to_string(),
        sub: principal.subject.clone(),
        role: principal.role,
        member,
        exp: now().saturating_add(SESSION_SECONDS),
    };
    let value = match sign(&app, &claims) {
        Ok(value) => value,
        Err(err) => return err.into_response(),
    };
    // Behind a proxy that ends TLS the cookie is only ever sent back over HTTPS.
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    let cookie = format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/app; Max-Age={SESSION_SECONDS}{}",
        if secure { "; Secure" } else { "" }
    );
    let session = Session { csrf: csrf_of(&app, &claims.sid), sid: claims.sid, principal };
    tracing::info!(subject = %session.principal.subject, role = session.principal.role.as_str(), "signed in to the web pages");
    let home = session.home();
    let mut response = layout::signed_in(&home).into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(cookie) => {
            response.headers_mut().insert(SET_COOKIE, cookie);
            response
        }
        Err(err) => WebError::internal(Box::new(err)).into_response(),
    }
}

/// `POST /app/logout`: ends the session in this browser.
pub async fn logout(session: Session, axum::Form(form): axum::Form<HashMap<String, String>>) -> Response {
    if let Err(err) = session.check_csrf(&form) {
        return err.into_response();
    }
    let page = layout::message(&Message {
        title: "Du är utloggad",
        text: "Du har loggat ut. Använd en ny inloggningslänk för att logga in igen.",
        link: None,
    });
    let clear = format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/app; Max-Age=0");
    let mut response = page.into_response();
    if let Ok(clear) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(SET_COOKIE, clear);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; konsortium_session=abc.def; b=2"));
        assert_eq!(cookie_value(&headers), Some("abc.def"));
        assert_eq!(cookie_value(&HeaderMap::new()), None);
    }
}
