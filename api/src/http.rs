//! The HTTP surface: GraphQL (GraphiQL on GET), a health check, the web pages under `/app/`. Assembled in one function so tests
//! serve exactly what production serves, behind the limits that keep one client from tying up the
//! server: a body size limit, JSON-only GraphQL posts, closed CORS and a request timeout.

use crate::app::{Actor, App};
use crate::auth;
use crate::error::code;
use crate::graphql::{self, KonsortiumSchema};
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::header::{self, AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use konsortium_projections::on_db;
use serde_json::json;
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tracing::Instrument;

/// Long enough for any honest request (a mutation waits at most 10 s for the views), short enough that
/// a stuck one does not hold a database connection for long.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// 1 MiB: the largest honest request, a monthly report with its deliveries, is a few kilobytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most operations one batched GraphQL request may carry; the complexity limit applies to each
/// operation, so without this a batch could multiply it.
pub const MAX_BATCH_OPERATIONS: usize = 10;

/// How the HTTP surface is bounded, and which browser origins may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Origins, such as `https://app.example`, whose pages may call the API from a browser. Empty (the
    /// default) answers no cross-origin request with an `Access-Control-Allow-Origin`, so a page on
    /// another site cannot read responses or send JSON to the API.
    pub cors_origins: Vec<String>,
    /// How long one request may take, reading its body included, before it is answered `TIMEOUT`.
    pub request_timeout: Duration,
    /// The largest request body accepted on any route; a larger one is refused before it is read.
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            cors_origins: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl HttpSettings {
    /// Whether the server can start with these settings, checked before anything else starts.
    pub fn check(&self) -> Result<(), SettingsError> {
        cors(&self.cors_origins).map(|_| ())
    }
}

/// Settings the server cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "{0:?} is not a CORS origin: give scheme, host and port if any, such as https://app.example or \
         http://localhost:3000, without a path, a trailing slash or a wildcard"
    )]
    InvalidOrigin(String),
}

#[derive(Clone)]
struct HttpState {
    app: App,
    schema: KonsortiumSchema,
}

/// The routes with the default settings: closed CORS, 30 s timeout, 1 MiB bodies.
pub fn router(app: App) -> Router {
    routes(app, &HttpSettings::default(), CorsLayer::new())
}

/// The routes with `settings`; fails on a CORS origin that is not one, rather than ignoring it.
pub fn router_with(app: App, settings: &HttpSettings) -> Result<Router, SettingsError> {
    let cors = cors(&settings.cors_origins)?;
    Ok(routes(app, settings, cors))
}

fn routes(app: App, settings: &HttpSettings, cors: CorsLayer) -> Router {
    let schema = graphql::schema(app.clone());
    let routes = Router::new()
        .route("/graphql", get(graphiql).post(graphql_request.layer(middleware::from_fn(json_only))))
        .route("/healthz", get(healthz))
        .route("/invoices/{file}", get(invoice_xml))
        .route("/exports/sie", get(sie_export))
        .route("/exports/statements.csv", get(statements_csv))
        .with_state(HttpState { app: app.clone(), schema })
        .merge(crate::exports::routes(app.clone()))
        .merge(crate::web::routes(app));
    guarded(routes, settings, cors)
}

/// The layers every route sits behind, whatever it does; the last added is the outermost.
fn guarded(routes: Router, settings: &HttpSettings, cors: CorsLayer) -> Router {
    routes
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(settings.request_timeout, time_limit))
        // The extractor's own limit (2 MB by default) would otherwise apply to a streamed body.
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(settings.max_body_bytes))
        .layer(middleware::map_response_with_state(settings.max_body_bytes, typed_payload_too_large))
        // Outermost, so that refusals carry the CORS headers too and an allowed page can read them.
        .layer(cors)
}

/// Only the listed origins get `Access-Control-Allow-Origin`; with none listed, no origin does. A
/// browser then neither lets another site's page read an answer nor send the `application/json`
/// POST the GraphQL route requires (that needs a preflight, which is refused).
fn cors(origins: &[String]) -> Result<CorsLayer, SettingsError> {
    let allowed = origins
        .iter()
        .map(|origin| origin.trim())
        .filter(|origin| !origin.is_empty())
        .map(origin_header)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        // `Authorization` for the bearer tokens to come; no cookies are used, so no credentials.
        .allow_headers([CONTENT_TYPE, AUTHORIZATION])
        .max_age(Duration::from_secs(600)))
}

/// An origin as browsers send it: `http` or `https`, a host and maybe a port, lower case, nothing else.
fn origin_header(origin: &str) -> Result<HeaderValue, SettingsError> {
    let invalid = || SettingsError::InvalidOrigin(origin.to_string());
    let lower = origin.to_ascii_lowercase();
    let authority = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or_else(invalid)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if authority.is_empty() || !authority.chars().all(allowed) {
        return Err(invalid());
    }
    HeaderValue::from_str(&lower).map_err(|_| invalid())
}

/// GraphQL is only read from a body declared JSON. A cross-site HTML form can post `text/plain` or a
/// form encoding without asking the browser's permission, never `application/json`; refusing the
/// others before anything runs is what stops cross-site request forgery.
async fn json_only(request: Request, next: Next) -> Response {
    if is_json(request.headers()) {
        return next.run(request).await;
    }
    let declared = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("none");
    tracing::debug!(content_type = declared, "refused a GraphQL post that is not JSON");
    let message = format!("a GraphQL request must be sent as Content-Type: application/json, not {declared}");
    error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, code::UNSUPPORTED_MEDIA_TYPE, &message)
}

/// `application/json`, with parameters such as `; charset=utf-8` allowed.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

/// A request that takes longer than `limit`, reading its body included, is dropped and answered
/// `TIMEOUT`: dropping it rolls back an open transaction and returns its database connection.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, limit_ms = limit.as_millis(), "a request ran out of time and was stopped");
            let message = format!(
                "the request took longer than {} s and was stopped; a mutation in it may have been saved, \
                 so look before sending it again",
                limit.as_secs_f64()
            );
            error_response(StatusCode::SERVICE_UNAVAILABLE, code::TIMEOUT, &message)
        }
    }
}

/// An oversized body is refused by tower-http when its `Content-Length` says so, and by axum's body
/// extractor once a streamed body passes the limit; neither reads it whole, and both answer in plain
/// text. This gives their 413 the GraphQL-shaped body every other refusal has.
///
/// The refusal also closes the connection: the rest of the body was never read, and a client that
/// sent the next request on the same connection found it closed under it (found by the fuzz suite).
async fn typed_payload_too_large(State(limit): State<usize>, response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let mut response = if is_json(response.headers()) {
        response
    } else {
        tracing::debug!(limit, "refused a request body over the limit");
        let message = format!("the request body is larger than the {limit} bytes this server accepts");
        error_response(StatusCode::PAYLOAD_TOO_LARGE, code::PAYLOAD_TOO_LARGE, &message)
    };
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A GraphQL-shaped error body, so a client can always read `errors[0].extensions.code`, even when
/// the request never reached GraphQL.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// A bug must not cost the client its connection: the panic is logged and answered as `INTERNAL`.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "a request panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL, "internal error; it has been logged")
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn graphql_request(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match auth::bearer(authorization).and_then(|token| state.app.keys().verify(token)) {
        Ok(principal) => principal,
        Err(err) => return error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, &err.to_string()),
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!(
        "graphql",
        request_id = %request_id,
        subject = %principal.subject,
        role = principal.role.as_str()
    );
    let caller = Actor::of(principal, &request_id);
    execute(&state, caller, body).instrument(span).await
}

/// `GET /invoices/{id}.xml`: the invoice's UBL exactly as issued, for the bearer's eyes only (staff:
/// any; a buyer: its own; a member: none).
async fn invoice_xml(
    State(state): State<HttpState>,
    headers: HeaderMap,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match auth::bearer(authorization).and_then(|token| state.app.keys().verify(token)) {
        Ok(principal) => principal,
        Err(err) => return error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, &err.to_string()),
    };
    let caller = Actor::of(principal, &uuid::Uuid::new_v4().to_string());
    let found = match file.strip_suffix(".xml").map(|id| crate::application::input::id("id", id)) {
        Some(Ok(id)) => crate::application::invoicing::invoice(&state.app, &caller, &id).await,
        _ => Err(crate::error::AppError::NotFound(format!("no invoice {file}"))),
    };
    match found {
        Ok((_, invoice)) => ([(CONTENT_TYPE, "application/xml; charset=utf-8")], invoice.ubl).into_response(),
        Err(err) => {
            let status = match err.code() {
                code::FORBIDDEN => StatusCode::FORBIDDEN,
                code::NOT_FOUND => StatusCode::NOT_FOUND,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            error_response(status, err.code(), &err.message())
        }
    }
}

/// The verified caller of a plain GET, or why there is none (answered `UNAUTHENTICATED`).
fn bearer_caller(state: &HttpState, headers: &HeaderMap) -> Result<Actor, String> {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match auth::bearer(authorization).and_then(|token| state.app.keys().verify(token)) {
        Ok(principal) => Ok(Actor::of(principal, &uuid::Uuid::new_v4().to_string())),
        Err(err) => Err(err.to_string()),
    }
}

/// An application error on a plain GET, with the status its code stands for.
fn refusal(err: &crate::error::AppError) -> Response {
    let status = match err.code() {
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::VALIDATION => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_response(status, err.code(), &err.message())
}

/// The `month` query parameter (`YYYY-MM`) of an export.
fn export_month(
    query: &std::collections::HashMap<String, String>,
) -> Result<konsortium_domain::calendar::Month, crate::error::AppError> {
    let text = query.get("month").map(String::as_str).unwrap_or_default();
    crate::application::input::month("month", text)
}

/// `GET /exports/sie?month=YYYY-MM`: the month's bookkeeping as a SIE 4 file in CP437 (staff only).
async fn sie_export(
    State(state): State<HttpState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let caller = match bearer_caller(&state, &headers) {
        Ok(caller) => caller,
        Err(why) => return error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, &why),
    };
    let file = match export_month(&query) {
        Ok(month) => crate::application::payouts::sie_export(&state.app, &caller, month).await.map(|f| (month, f)),
        Err(err) => Err(err),
    };
    match file {
        Ok((month, bytes)) => {
            let disposition = format!("attachment; filename=\"konsortium-{month}.se\"");
            ([(CONTENT_TYPE, "text/plain; charset=IBM437".to_string()), (CONTENT_DISPOSITION, disposition)], bytes)
                .into_response()
        }
        Err(err) => refusal(&err),
    }
}

/// `GET /exports/statements.csv?month=YYYY-MM`: the month's payout statements the caller may read
/// (staff: all; a member: its own; a buyer: none), as CSV.
async fn statements_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let caller = match bearer_caller(&state, &headers) {
        Ok(caller) => caller,
        Err(why) => return error_response(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, &why),
    };
    let csv = match export_month(&query) {
        Ok(month) => crate::application::payouts::statements_csv(&state.app, &caller, month).await,
        Err(err) => Err(err),
    };
    match csv {
        Ok(csv) => ([(CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response(),
        Err(err) => refusal(&err),
    }
}

async fn execute(state: &HttpState, caller: Actor, body: Bytes) -> Response {
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            let message = format!("the body is not a GraphQL request in JSON: {err}");
            return error_response(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message);
        }
    };
    if let BatchRequest::Batch(operations) = &request {
        if operations.len() > MAX_BATCH_OPERATIONS {
            let message =
                format!("a batch may hold at most {MAX_BATCH_OPERATIONS} operations, not {}", operations.len());
            return error_response(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message);
        }
    }
    let mut response = state
        .schema
        .execute_batch(request.data(caller).data(Arc::new(Semaphore::new(graphql::DB_TURNS_PER_REQUEST))))
        .await;
    // Syntax and type errors, and refusals by the schema's limits, come from async-graphql itself,
    // without our codes: give them one, so a client can always switch on `extensions.code`.
    let responses = match &mut response {
        BatchResponse::Single(one) => std::slice::from_mut(one),
        BatchResponse::Batch(many) => many.as_mut_slice(),
    };
    for error in responses.iter_mut().flat_map(|r| r.errors.iter_mut()) {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code_without_ours(&error.message));
        }
    }
    Json(response).into_response()
}

/// async-graphql reports its limits as bare messages; they are told from syntax and type errors by
/// their wording, so a client can tell "ask for less" from "fix the query". The schema's depth and
/// complexity limits come first, then the parser's: its own nesting limit, and the stack limit of
/// its grammar, which ends a syntax error's message.
fn code_without_ours(message: &str) -> &'static str {
    const LIMITS: [&str; 4] = [
        "Query is nested too deep.",
        "Query is too complex.",
        "The recursion depth of the query cannot be greater than",
        "recursion limit exceeded.",
    ];
    if LIMITS.iter().any(|limit| message.starts_with(limit)) || message.ends_with("= stack limit reached") {
        code::QUERY_TOO_COMPLEX
    } else {
        code::BAD_REQUEST
    }
}

async fn healthz(State(state): State<HttpState>) -> impl IntoResponse {
    let db = state.app.db();
    let reachable: Result<i64, sqlx::Error> =
        on_db!(db, pool => sqlx::query_scalar("SELECT CAST(1 AS BIGINT)").fetch_one(pool).await);
    match reachable {
        Ok(_) => {
            // Several servers may share one database; one of them runs the projections.
            let projections = if state.app.projector().is_active() { "running" } else { "standby" };
            (
                StatusCode::OK,
                Json(serde_json::json!({ "status": "ok", "store": db.backend(), "projections": projections })),
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "health check cannot reach the database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "store": db.backend() })),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_in_a_request_is_answered_as_internal_and_the_server_keeps_serving() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let routes = guarded(
            Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "ok" })),
            &HttpSettings::default(),
            CorsLayer::new(),
        );
        let request = || Request::get("/boom").body(Body::empty()).unwrap_or_default();
        let response = routes.clone().oneshot(request()).await.unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
        let fine = Request::get("/fine").body(Body::empty()).unwrap_or_default();
        let response = routes.oneshot(fine).await.unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::OK);
    }

    async fn code_of(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<no code>").to_string()
    }

    #[tokio::test]
    async fn a_request_running_past_the_timeout_is_answered_timeout() {
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "too late"
        }
        let settings = HttpSettings { request_timeout: Duration::from_millis(50), ..HttpSettings::default() };
        let routes = guarded(Router::new().route("/slow", get(slow)), &settings, CorsLayer::new());
        let request = Request::get("/slow").body(Body::empty()).unwrap_or_default();
        let response = routes.oneshot(request).await.unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(code_of(response).await, "TIMEOUT");
    }

    #[tokio::test]
    async fn a_streamed_body_over_the_limit_is_refused_as_json() {
        async fn echo(body: Bytes) -> String {
            body.len().to_string()
        }
        let settings = HttpSettings { max_body_bytes: 1000, ..HttpSettings::default() };
        let routes = guarded(Router::new().route("/echo", axum::routing::post(echo)), &settings, CorsLayer::new());
        let stream = |pieces: usize| {
            let chunks = (0..pieces).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 100])));
            Request::post("/echo").body(Body::from_stream(futures_util::stream::iter(chunks))).unwrap_or_default()
        };
        let response = routes.clone().oneshot(stream(10)).await.unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::OK);
        let response = routes.oneshot(stream(11)).await.unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(code_of(response).await, "PAYLOAD_TOO_LARGE");
    }

    #[test]
    fn only_json_is_json() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("Application/JSON"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonp"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn an_origin_is_scheme_host_and_port_only() {
        for good in ["https://app.example", "http://localhost:3000", "HTTPS://App.Example", "http://[::1]:8080"] {
            assert!(origin_header(good).is_ok(), "{good}");
        }
        for bad in [
            "*",
            "app.example",
            "https://app.example/",
            "https://app.example/path",
            "ftp://app.example",
            "https://",
            "null",
        ] {
            assert!(origin_header(bad).is_err(), "{bad}");
        }
        let settings =
            HttpSettings { cors_origins: vec!["https://a.example".into(), " ".into()], ..HttpSettings::default() };
        assert!(settings.check().is_ok());
        let settings = HttpSettings { cors_origins: vec!["https://a.example/".into()], ..HttpSettings::default() };
        assert!(settings.check().is_err());
    }

    #[test]
    fn the_limits_of_async_graphql_are_told_from_syntax_errors() {
        assert_eq!(code_without_ours("Query is too complex."), "QUERY_TOO_COMPLEX");
        assert_eq!(code_without_ours("Query is nested too deep."), "QUERY_TOO_COMPLEX");
        assert_eq!(
            code_without_ours("The recursion depth of the query cannot be greater than `32`"),
            "QUERY_TOO_COMPLEX"
        );
        assert_eq!(code_without_ours("recursion limit exceeded."), "QUERY_TOO_COMPLEX");
        assert_eq!(code_without_ours(" --> 1:3\n  |\n  = stack limit reached"), "QUERY_TOO_COMPLEX");
        assert_eq!(code_without_ours("Unknown field \"x\" on type \"Query\"."), "BAD_REQUEST");
    }
}
