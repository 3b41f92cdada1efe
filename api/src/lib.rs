//! The Konsortium server: GraphQL over axum on top of the event-sourced domain.

/// Stores, projector, and committing what aggregates decided, with read-your-writes.
pub mod app;
/// The use cases, one function each; every interface calls these.
pub mod application;
/// Bearer tokens, roles and scopes.
pub mod auth;
/// Consistent online copies of the store (`konsortium backup`).
pub mod backup;
/// Demo data from the source reports.
pub mod demo;
/// The single mapping from failures to typed GraphQL errors.
pub mod error;
/// Statistics as CSV and utilisation as an SVG chart.
pub mod exports;
/// The GraphQL schema.
pub mod graphql;
/// Routes: `/graphql`, `/healthz`, and the limits every request meets (body size, content type, CORS, timeout).
pub mod http;
/// Idempotency keys: a retried mutation answers as the first time.
pub mod idempotency;
/// Starting and stopping a server.
pub mod server;
/// Loading aggregates and appending their events, several in one transaction.
pub mod store;
/// Participants' personal data sealed under keys of their own, wrapped by the KEK; erasure by deleting a key.
pub mod vault;
/// The web pages under `/app/` for member enterprises and staff.
pub mod web;
