//! The HTTP surface: GraphQL (GraphiQL on GET), a health check. Assembled in one function so tests
//! serve exactly what production serves.

use crate::app::{Actor, App};
use crate::auth;
use crate::error::code;
use crate::graphql::{self, KonsortiumSchema};
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use konsortium_projections::on_db;
use serde_json::json;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

#[derive(Clone)]
struct HttpState {
    app: App,
    schema: KonsortiumSchema,
}

pub fn router(app: App) -> Router {
    let schema = graphql::schema(app.clone());
    let routes = Router::new()
        .route("/graphql", get(graphiql).post(graphql_request))
        .route("/healthz", get(healthz))
        .with_state(HttpState { app, schema });
    guarded(routes)
}

/// The layers every route sits behind, whatever it does.
fn guarded(routes: Router) -> Router {
    routes.layer(CatchPanicLayer::custom(panic_response))
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

async fn execute(state: &HttpState, caller: Actor, body: Bytes) -> Response {
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            let message = format!("the body is not a GraphQL request in JSON: {err}");
            return error_response(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message);
        }
    };
    let mut response = state.schema.execute_batch(request.data(caller)).await;
    // Syntax and type errors come from async-graphql itself, without our codes: give them one, so a
    // client can always switch on `extensions.code`.
    let responses = match &mut response {
        BatchResponse::Single(one) => std::slice::from_mut(one),
        BatchResponse::Batch(many) => many.as_mut_slice(),
    };
    for error in responses.iter_mut().flat_map(|r| r.errors.iter_mut()) {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code::BAD_REQUEST);
        }
    }
    Json(response).into_response()
}

async fn healthz(State(state): State<HttpState>) -> impl IntoResponse {
    let db = state.app.db();
    let reachable: Result<i64, sqlx::Error> =
        on_db!(db, pool => sqlx::query_scalar("SELECT CAST(1 AS BIGINT)").fetch_one(pool).await);
    match reachable {
        Ok(_) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok", "store": db.backend() }))),
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
        let routes = guarded(Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "ok" })));
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
}
