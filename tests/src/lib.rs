//! Test support: a fresh database per test on either store, and the real server on a random port.
//!
//! PostgreSQL tests connect to `KONSORTIUM_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! which `scripts/test.sh` makes sure is running) and create a database of their own. A missing server
//! fails the test: database tests are never skipped.

pub mod cluster;
pub mod faults;
pub mod ledger;
pub mod national;
pub mod peppol;
pub mod process;
pub mod tour;
pub mod workload;

use konsortium_api::app::App;
use konsortium_api::auth::{principal, Role};
use konsortium_api::http::HttpSettings;
use konsortium_api::server::{self, Running};
use konsortium_projections::{Db, ProjectorOptions};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_TEST_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Runs an async test body once per store: `both_stores!(name)` expects `async fn name(db: TestDb)`.
#[macro_export]
macro_rules! both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::TestDb::postgres().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::TestDb::sqlite().await).await
            }
        }
    };
}

/// A database created for one test.
pub struct TestDb {
    pub db: Db,
    location: Location,
}

enum Location {
    Postgres { admin_url: String, name: String, url: String },
    Sqlite { dir: PathBuf, file: PathBuf },
}

fn admin_url() -> String {
    std::env::var("KONSORTIUM_TEST_PG").unwrap_or_else(|_| DEFAULT_TEST_PG.to_string())
}

fn with_database(url: &str, name: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => format!("{url}/{name}"),
    }
}

impl TestDb {
    pub async fn postgres() -> TestDb {
        let admin_url = admin_url();
        let name = format!("konsortium_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(Some(&admin_url)).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is needed at {admin_url} (set KONSORTIUM_TEST_PG, or run scripts/test.sh): {e}")
        });
        if let Db::Postgres(pool) = &admin {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(pool)
                .await
                .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        }
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let db = Db::connect(Some(&url)).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        TestDb { db, location: Location::Postgres { admin_url, name, url } }
    }

    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("konsortium-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let file = dir.join("konsortium.db");
        let db = Db::sqlite_file(&file).await.unwrap_or_else(|e| panic!("cannot open {}: {e}", file.display()));
        TestDb { db, location: Location::Sqlite { dir, file } }
    }

    /// A second, independent connection pool to the same database, like another server process.
    pub async fn reopen(&self) -> Db {
        match &self.location {
            Location::Postgres { url, .. } => Db::connect(Some(url)).await,
            Location::Sqlite { file, .. } => Db::sqlite_file(file).await,
        }
        .unwrap_or_else(|e| panic!("cannot reopen the test database: {e}"))
    }

    /// The URL another process connects to this database with (PostgreSQL only).
    pub fn url(&self) -> Option<&str> {
        match &self.location {
            Location::Postgres { url, .. } => Some(url),
            Location::Sqlite { .. } => None,
        }
    }

    /// The database file (SQLite only).
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match &self.location {
            Location::Sqlite { file, .. } => Some(file),
            Location::Postgres { .. } => None,
        }
    }

    /// The `DATABASE_URL` a server process opens this database with, on either store.
    pub fn process_url(&self) -> String {
        match &self.location {
            Location::Postgres { url, .. } => url.clone(),
            Location::Sqlite { file, .. } => format!("sqlite://{}", file.display()),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.location, Location::Postgres { .. })
    }

    /// Removes the database after a passing test (a failing one leaves it for inspection).
    pub async fn remove(self) {
        self.db.close().await;
        match self.location {
            Location::Postgres { admin_url, name, .. } => {
                if let Ok(Db::Postgres(pool)) = Db::connect(Some(&admin_url)).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
                    pool.close().await;
                }
            }
            Location::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Projector options for tests: wake-ups come from commands, polling is a quick fallback.
pub fn test_options() -> ProjectorOptions {
    ProjectorOptions { batch_size: 100, poll_interval: Duration::from_millis(50) }
}

/// The real server on a random port, talked to over HTTP.
pub struct TestApp {
    pub base: String,
    running: Running,
    client: reqwest::Client,
    /// A staff token, sent by [`graphql`](Self::graphql).
    pub staff: String,
    /// The participants tests name by a handle ("p-anna"), by the id the server issued them.
    participants: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        let app = App::open(db, test_options()).await.unwrap_or_else(|e| panic!("app failed to open: {e:?}"));
        let running = server::start(app, "127.0.0.1:0").await.unwrap_or_else(|e| panic!("cannot bind: {e}"));
        let staff = mint(running.app(), Role::Staff, None, None);
        TestApp {
            base: format!("http://{}", running.addr),
            running,
            client: reqwest::Client::new(),
            staff,
            participants: Default::default(),
        }
    }

    /// A token for a caller of this server.
    pub fn token(&self, role: Role, member: Option<&str>, buyer: Option<&str>) -> String {
        mint(self.app(), role, member, buyer)
    }

    /// The real server with other limits or CORS origins than the defaults.
    pub async fn spawn_with(db: Db, settings: HttpSettings) -> TestApp {
        let app = App::open(db, test_options()).await.unwrap_or_else(|e| panic!("app failed to open: {e:?}"));
        let running =
            server::start_with(app, "127.0.0.1:0", &settings).await.unwrap_or_else(|e| panic!("cannot start: {e}"));
        let staff = mint(running.app(), Role::Staff, None, None);
        TestApp {
            base: format!("http://{}", running.addr),
            running,
            client: reqwest::Client::new(),
            staff,
            participants: Default::default(),
        }
    }

    pub fn app(&self) -> &App {
        self.running.app()
    }

    /// The id of the participant a test calls by `handle` ("p-anna"), registered by staff on first
    /// use with a made-up identity: a test about places need not be about the registry.
    pub async fn participant(&self, handle: &str) -> String {
        let mut known = self.participants.lock().await;
        if let Some(id) = known.get(handle) {
            return id.clone();
        }
        let serial = u16::try_from(known.len()).unwrap_or(0);
        let input = tour::participant_input(&format!("Test {handle}"), serial);
        let data = self.ok(tour::REGISTER_PARTICIPANT, json!({ "i": input })).await;
        let id = data["registerParticipant"]["id"].as_str().unwrap_or_default().to_string();
        known.insert(handle.to_string(), id.clone());
        id
    }

    /// Waits until every view shows every stored event, for tests that write to the log directly
    /// (a command waits for its own events itself).
    pub async fn caught_up(&self) {
        let mut tx = self.app().db().begin_read().await.unwrap_or_else(|e| panic!("{e}"));
        let head = konsortium_projections::event_log::head(&mut tx).await.unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        if let Some(head) = head {
            let every = konsortium_projections::projection::EVERY_AGGREGATE_TYPE;
            let caught_up = self.app().projector().wait_for(head, every, Duration::from_secs(30)).await;
            assert!(caught_up, "the views did not catch up with the log");
        }
    }

    /// Where the server listens, for tests that speak HTTP over a raw socket.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// The HTTP client, for requests the helpers below do not cover (other methods, headers).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Posts a GraphQL request as staff and returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(Some(&self.staff), query, variables).await
    }

    /// Posts a GraphQL request with a token (or none) and returns the whole response body, whatever
    /// the HTTP status.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request =
            self.client.post(format!("{}/graphql", self.base)).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("request failed: {e}"));
        response.json().await.unwrap_or_else(|e| panic!("response is not JSON: {e}"))
    }

    /// Like [`graphql`](Self::graphql) but fails the test on any error, returning `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Posts a body as it is, as staff, with a content type; returns the status and the body as JSON
    /// (or null).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.staff)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

fn mint(app: &App, role: Role, member: Option<&str>, buyer: Option<&str>) -> String {
    let principal = principal(format!("test-{}", role.as_str()), role, member.map(str::to_string), buyer)
        .unwrap_or_else(|e| panic!("{e}"));
    app.keys().mint(&principal, Duration::from_secs(3_600)).unwrap_or_else(|e| panic!("{e}"))
}

/// The `code` extension of the first error of a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<no code>")
}

/// The `rule` extension of the first error of a response.
pub fn error_rule(body: &Value) -> &str {
    body["errors"][0]["extensions"]["rule"].as_str().unwrap_or("<no rule>")
}

/// The `field` extension of the first error of a response.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"].as_str().unwrap_or("<no field>")
}

/// How many events the store holds.
pub async fn event_count(db: &Db) -> i64 {
    let mut tx = db.begin_read().await.unwrap_or_else(|e| panic!("{e}"));
    konsortium_projections::event_log::count(&mut tx).await.unwrap_or_else(|e| panic!("{e}"))
}
