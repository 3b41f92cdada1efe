//! The HTTP surface: GraphQL (GraphiQL on GET), a health check. Assembled in one function so tests
//! serve exactly what production serves.

use crate::app::{Actor, App};
use crate::error::code;
use crate::graphql::{self, KonsortiumSchema};
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use konsortium_projections::on_db;

#[derive(Clone)]
struct HttpState {
    app: App,
    schema: KonsortiumSchema,
}

pub fn router(app: App) -> Router {
    let schema = graphql::schema(app.clone());
    Router::new()
        .route("/graphql", get(graphiql).post(graphql_request))
        .route("/healthz", get(healthz))
        .with_state(HttpState { app, schema })
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn graphql_request(State(state): State<HttpState>, request: GraphQLRequest) -> GraphQLResponse {
    let request = request.into_inner().data(Actor::anonymous());
    let mut response = state.schema.execute(request).await;
    // Syntax and type errors come from async-graphql itself, without our codes: give them one, so a
    // client can always switch on `extensions.code`.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code::BAD_REQUEST);
        }
    }
    response.into()
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
