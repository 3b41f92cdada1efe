//! The two stores behind one code path: PostgreSQL in production, an embedded SQLite file by default.
//!
//! sqlx's pools are typed per database and the -es crates need the concrete pool, so the choice is an
//! enum. SQL that both databases accept is written once and compiled for each arm by [`on_db!`] and
//! [`on_tx!`]; the few statements that differ (commit-safe reading) are written per database.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Where the embedded store lives when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://data/konsortium.db";

#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A transaction on either store.
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with postgres://, postgresql:// or sqlite:, got {0:?}")]
    UnsupportedUrl(String),
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("there is no database at {path}")]
    Missing { path: String },
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("stored JSON does not match the code: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    UndecodableEvent(Box<UndecodableEvent>),
}

/// A stored event the code cannot read, named so an operator can find it in the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "event {event_type} (version {event_version}) of {aggregate_type} {aggregate_id} at sequence {sequence} \
     cannot be decoded: {reason}"
)]
pub struct UndecodableEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub reason: String,
}

/// Runs `$body` with `$pool` bound to the concrete pool of either arm.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the open transaction's connection of either arm.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// Compresses the JSON this connection stores with lz4 rather than PostgreSQL's default pglz: a
/// view document of a few kilobytes is written on every change and again by every rebuild, and
/// pglz made compressing them the largest cost of a rebuild (5.3 s against 1.2 s for the 104 400
/// report documents of the national data set), for the same size on disk. A server built without
/// lz4 (or older than 14) refuses the setting and keeps pglz.
async fn prefer_lz4(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    if let Err(err) = sqlx::query("SET default_toast_compression = 'lz4'").execute(&mut *conn).await {
        tracing::debug!(error = %err, "PostgreSQL keeps its default compression");
    }
    Ok(())
}

/// The URL given, or the embedded SQLite file under `./data/` when there is none (or it is blank).
fn url_or_default(url: Option<&str>) -> &str {
    url.map(str::trim).filter(|u| !u.is_empty()).unwrap_or(DEFAULT_SQLITE_URL)
}

/// Talks to a server on this machine without TLS unless told otherwise. sqlx (like libpq) defaults
/// to `sslmode=prefer`, which encrypts even loopback traffic when the server offers TLS, as Debian's
/// PostgreSQL does: traffic that never leaves the machine then costs both processes CPU for nothing
/// (a national month-end run sends about 1 MB an invoice each way; with TLS it took 10 % longer).
/// `prefer` never promised encryption, so only it is changed; a URL's `sslmode=` or `PGSSLMODE`
/// is left as written.
fn plain_on_loopback(url: &str, options: PgConnectOptions) -> PgConnectOptions {
    let told = url.contains("sslmode=") || url.contains("ssl-mode=") || std::env::var_os("PGSSLMODE").is_some();
    let host = options.get_host();
    let loopback = options.get_socket().is_some()
        || host.starts_with('/')
        || host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match !told && loopback && matches!(options.get_ssl_mode(), PgSslMode::Prefer) {
        true => options.ssl_mode(PgSslMode::Disable),
        false => options,
    }
}

/// Whether a pooled SQLite connection may serve again. When a write fails with a disk or I/O error
/// (a full disk), SQLite rolls the transaction back itself; the `ROLLBACK` sqlx then sends fails,
/// and sqlx keeps counting the connection as inside a transaction, so every later `BEGIN` on it
/// would fail ("non-zero transaction depth") long after the disk has room again. Such a connection
/// is closed instead. The pool pings a connection before this check, which lets any rollback still
/// queued for it finish first.
fn usable_after_rollback(conn: &sqlx::SqliteConnection) -> bool {
    use sqlx::Connection;
    let usable = !conn.is_in_transaction();
    if !usable {
        tracing::warn!("closing a SQLite connection whose transaction could not be rolled back (after a disk error)");
    }
    usable
}

impl Db {
    /// Connects to `url`, or to the embedded SQLite file under `./data/` when there is none.
    pub async fn connect(url: Option<&str>) -> Result<Db, DbError> {
        let url = url_or_default(url);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = plain_on_loopback(url, PgConnectOptions::from_str(url).map_err(DbError::Connect)?);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _| Box::pin(async move { prefer_lz4(conn).await }))
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(DbError::Connect)?;
            let file = options.get_filename().to_path_buf();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|source| DbError::DataDir { path: dir.display().to_string(), source })?;
            }
            Ok(Db::Sqlite(Self::sqlite_pool(options).await?))
        } else {
            Err(DbError::UnsupportedUrl(url.to_string()))
        }
    }

    /// Like [`connect`](Self::connect), but a SQLite file that does not exist is an error rather than
    /// a new, empty database: what a backup or an inspection of a mistyped path needs.
    pub async fn connect_existing(url: Option<&str>) -> Result<Db, DbError> {
        let url = url_or_default(url);
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(DbError::Connect)?;
            let file = options.get_filename();
            if !file.exists() {
                return Err(DbError::Missing { path: file.display().to_string() });
            }
        }
        Db::connect(Some(url)).await
    }

    /// Opens (and creates) a SQLite file at a path; tests use it for a private database.
    pub async fn sqlite_file(path: &Path) -> Result<Db, DbError> {
        Ok(Db::Sqlite(Self::sqlite_pool(SqliteConnectOptions::new().filename(path)).await?))
    }

    async fn sqlite_pool(options: SqliteConnectOptions) -> Result<SqlitePool, DbError> {
        // WAL lets readers go on while the single writer commits; the busy timeout makes writers queue
        // instead of failing when the projector and a command write at the same moment.
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // A deleted row is overwritten with zeros, so an erased participant's key leaves no trace
            // in the file's free pages.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(30));
        SqlitePoolOptions::new()
            .max_connections(8)
            .before_acquire(|conn, _| Box::pin(async move { Ok(usable_after_rollback(conn)) }))
            .connect_with(options)
            .await
            .map_err(DbError::Connect)
    }

    /// Applies the SQL migrations in `migrations/postgres` or `migrations/sqlite`.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
        }
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a transaction that reads first and writes later fails at once with "database is locked" when
    /// another writer committed in between, instead of queueing behind the busy timeout.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// A transaction that writes only what can be derived again from the events (a view and its
    /// checkpoint, in one transaction): on PostgreSQL it does not wait for the WAL flush at commit.
    /// A crash may lose its last commits, never rows without their checkpoint, so the events are
    /// applied again; a projection saves a disk sync per batch. The setting rides on the `BEGIN`,
    /// so it costs no round trip of its own.
    pub async fn begin_derived(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Postgres(pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off").await?),
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// A transaction that only reads: a consistent snapshot that blocks no writer.
    pub async fn begin_read(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Postgres(tx) => tx.commit().await?,
            Tx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Runs one statement that both databases accept.
    pub async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        on_tx!(self, conn => sqlx::query(sql).execute(conn).await.map(|_| ()))?;
        Ok(())
    }

    /// `sql` as this database binds it fastest: on SQLite, numbered placeholders that run `$1, $2, …`
    /// in order become anonymous `?`s. sqlx looks up each numbered parameter's name, and SQLite finds
    /// a name by walking the statement's list of them, so binding n numbered parameters takes n²
    /// steps: a rebuild's 800-parameter statements spent 30 % of the utilisation view's rebuild there.
    pub fn sql(&self, sql: String) -> String {
        if let Tx::Sqlite(_) = self {
            if let std::borrow::Cow::Owned(rewritten) = anonymous_placeholders(&sql) {
                return rewritten;
            }
        }
        sql
    }
}

/// `sql` with `$1, $2, …, $n` replaced by `?` when they appear exactly in that order, each once;
/// otherwise (a number used twice, or out of order) `sql` unchanged, which binds the same, only slower.
pub fn anonymous_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::with_capacity(sql.len());
    let mut next = 1usize;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits: &str = {
            let after = &rest[at + 1..];
            let end = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            &after[..end]
        };
        if digits.parse::<usize>().ok() != Some(next) {
            return std::borrow::Cow::Borrowed(sql);
        }
        out.push('?');
        next += 1;
        rest = &rest[at + 1 + digits.len()..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        plain_on_loopback(url, PgConnectOptions::from_str(url).expect("a valid URL")).get_ssl_mode()
    }

    #[test]
    fn numbered_placeholders_in_order_become_anonymous_and_any_other_use_is_left_alone() {
        assert_eq!(
            anonymous_placeholders("INSERT INTO t VALUES ($1, $2), ($3, $4)"),
            "INSERT INTO t VALUES (?, ?), (?, ?)"
        );
        assert_eq!(anonymous_placeholders("SELECT 1"), "SELECT 1");
        // $10 after $9 is one parameter, not $1 followed by a 0.
        let ten: Vec<String> = (1..=10).map(|n| format!("${n}")).collect();
        assert_eq!(anonymous_placeholders(&ten.join(",")), ["?"; 10].join(","));
        // Reused or out of order: the numbers matter, so the text stays as it is.
        assert_eq!(anonymous_placeholders("a = $1 OR b = $1"), "a = $1 OR b = $1");
        assert_eq!(anonymous_placeholders("a = $2 AND b = $1"), "a = $2 AND b = $1");
    }

    #[test]
    fn loopback_servers_are_reached_without_tls_unless_the_url_asks_for_it() {
        if std::env::var_os("PGSSLMODE").is_some() {
            return; // the environment decides, as documented
        }
        assert!(matches!(mode("postgres://postgres@127.0.0.1:5432/k"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://postgres@localhost/k"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://postgres@[::1]:5432/k"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://postgres@db.example:5432/k"), PgSslMode::Prefer));
        assert!(matches!(mode("postgres://postgres@127.0.0.1/k?sslmode=require"), PgSslMode::Require));
        assert!(matches!(mode("postgres://postgres@127.0.0.1/k?sslmode=prefer"), PgSslMode::Prefer));
    }
}
