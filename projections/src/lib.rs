//! Read models and the projector that feeds them from the event log, on PostgreSQL or SQLite.

/// The two stores behind one code path, and their migrations.
pub mod db;
/// Reading the event log in commit-safe order; event schema upcasters.
pub mod event_log;
/// What a read model is, and the generic one-row-per-aggregate view.
pub mod projection;
/// The loop that applies events to projections exactly once.
pub mod projector;
/// Replaying the log into fresh tables and swapping them in.
pub mod rebuild;
/// The views this release serves and how to read them.
pub mod views;

pub use db::{Db, DbError, Tx, UndecodableEvent};
pub use event_log::{Batch, Checkpoint, Payload, StoredEvent};
pub use projector::{Projector, ProjectorError, ProjectorOptions};
