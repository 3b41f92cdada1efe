//! The Konsortium server: GraphQL over axum on top of the event-sourced domain.

/// Stores, projector and command execution with read-your-writes.
pub mod app;
/// Demo data from the source reports.
pub mod demo;
/// The single mapping from failures to typed GraphQL errors.
pub mod error;
/// The GraphQL schema.
pub mod graphql;
/// Routes: `/graphql`, `/healthz`.
pub mod http;
/// Starting and stopping a server.
pub mod server;
/// cqrs-es on PostgreSQL or SQLite behind one type.
pub mod store;
