//! `konsortium`: the server and its maintenance commands.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use konsortium_api::app::App;
use konsortium_api::auth::{self, Keys, Principal, Role};
use konsortium_api::error::AppError;
use konsortium_api::http::{HttpSettings, DEFAULT_REQUEST_TIMEOUT};
use konsortium_api::vault::Vault;
use konsortium_api::{backup, demo, graphql, server};
use konsortium_projections::{rebuild, Db, ProjectorOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// Event-sourced backend for a consortium of work-integrating social enterprises.
///
/// Without DATABASE_URL everything is kept in an embedded SQLite file under ./data/; set
/// DATABASE_URL=postgres://… to run on PostgreSQL. Logs go to stderr; RUST_LOG sets their level.
#[derive(Parser)]
#[command(name = "konsortium", version)]
struct Cli {
    /// postgres://user@host/db for PostgreSQL, sqlite://path for another SQLite file.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// File holding the token signing key; by default `jwt.key` beside the SQLite file (created on
    /// first use). On PostgreSQL set this or KONSORTIUM_JWT_SECRET, the same on every node.
    #[arg(long, env = "KONSORTIUM_JWT_KEY_FILE", global = true)]
    jwt_key_file: Option<PathBuf>,
    /// File holding the key-encryption key for participants' personal data (64 hex digits); by
    /// default `kek.key` beside the SQLite file (created on first use). On PostgreSQL set this or
    /// KONSORTIUM_KEK, the same on every node. Lose it and every identity is lost.
    #[arg(long, env = "KONSORTIUM_KEK_FILE", global = true)]
    kek_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, bring the views up to date and serve GraphQL at /graphql (GraphiQL on GET).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KONSORTIUM_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load demo members and agreements (Östersund, Krokom, Nordanstig, fruit baskets) into an empty store.
        #[arg(long)]
        demo: bool,
        /// Origins whose web pages may call the API from a browser, comma-separated, such as
        /// https://app.example,http://localhost:3000. None by default: cross-origin calls are refused.
        #[arg(long, env = "KONSORTIUM_CORS_ORIGINS", value_delimiter = ',')]
        cors_origins: Vec<String>,
        /// Seconds one request may take before it is stopped and answered TIMEOUT.
        #[arg(
            long,
            env = "KONSORTIUM_REQUEST_TIMEOUT_SECS",
            default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs(),
            value_parser = clap::value_parser!(u64).range(1..=3600)
        )]
        request_timeout_secs: u64,
        /// A read replica (postgres://…) to serve queries from; commands stay on DATABASE_URL.
        #[arg(long, env = "KONSORTIUM_READ_DATABASE_URL")]
        read_database_url: Option<String>,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Print a bearer token for a caller: consortium staff, a member enterprise, or a buyer.
    Token {
        #[arg(long, value_enum)]
        role: Role,
        /// The member enterprise's id (role member).
        #[arg(long)]
        member: Option<String>,
        /// The buyer's organisation number (role buyer).
        #[arg(long)]
        buyer: Option<String>,
        /// Who the token is for, recorded on every event it writes.
        #[arg(long)]
        subject: Option<String>,
        /// How long the token is valid: 8h, 30m, 2d.
        #[arg(long, default_value = "8h", value_parser = auth::parse_ttl)]
        ttl: Duration,
        /// Print a sign-in link for the web pages instead of the bare token.
        #[arg(long)]
        login_url: bool,
        /// The server's address, for --login-url.
        #[arg(long, env = "KONSORTIUM_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Replay every event into fresh view tables and swap them in while the server keeps serving.
    Rebuild {
        /// Rebuild only this projection (members, agreements, splits, places, reports, invoices, deliveries,
        /// payouts, settlement, utilisation, outcomes); all when omitted.
        #[arg(long)]
        projection: Option<String>,
    },
    /// Print the GraphQL schema (SDL) the server serves, without touching a database.
    Schema,
    /// Copy the SQLite store into a new file while the server may keep running (on PostgreSQL,
    /// prints the pg_dump command to use instead). Back up kek.key and jwt.key apart.
    Backup {
        /// The file to write; it must not exist yet.
        path: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // A log line that cannot be written (stderr sent to a file on a full disk) is dropped: the
    // subscriber would otherwise report it with `eprintln!`, which panics the request or the
    // projector task that logged.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            let mut source = std::error::Error::source(err.as_ref());
            while let Some(cause) = source {
                tracing::error!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The token signing key: KONSORTIUM_JWT_SECRET, else the key file (created beside an SQLite
/// database on first use, so `cargo run` works with nothing set).
fn signing_keys(cli: &Cli) -> Result<Keys, Box<dyn std::error::Error + Send + Sync>> {
    if let Some(secret) = std::env::var("KONSORTIUM_JWT_SECRET").ok().filter(|s| !s.trim().is_empty()) {
        return Ok(Keys::from_secret(secret.trim().as_bytes())?);
    }
    if let Some(path) = &cli.jwt_key_file {
        return Ok(Keys::from_file(path)?);
    }
    match sqlite_dir(cli.database_url.as_deref()) {
        Some(dir) => Ok(Keys::from_file(&dir.join("jwt.key"))?),
        None => Err("on PostgreSQL, set KONSORTIUM_JWT_SECRET (at least 32 characters) or KONSORTIUM_JWT_KEY_FILE, \
                     the same on every node"
            .into()),
    }
}

/// The key-encryption key for personal data: KONSORTIUM_KEK, else the key file (created beside an
/// SQLite database on first use, like the token key).
fn personal_data_vault(cli: &Cli) -> Result<Vault, Box<dyn std::error::Error + Send + Sync>> {
    if let Some(kek) = std::env::var("KONSORTIUM_KEK").ok().filter(|s| !s.trim().is_empty()) {
        return Ok(Vault::from_hex(&kek)?);
    }
    if let Some(path) = &cli.kek_file {
        return Ok(Vault::from_file(path)?);
    }
    match sqlite_dir(cli.database_url.as_deref()) {
        Some(dir) => Ok(Vault::from_file(&dir.join("kek.key"))?),
        None => Err("on PostgreSQL, set KONSORTIUM_KEK (64 hex digits, e.g. `openssl rand -hex 32`) or \
                     KONSORTIUM_KEK_FILE, the same on every node"
            .into()),
    }
}

/// The directory of the SQLite database file, when the store is SQLite.
fn sqlite_dir(url: Option<&str>) -> Option<PathBuf> {
    let url = url.map(str::trim).filter(|u| !u.is_empty()).unwrap_or(konsortium_projections::db::DEFAULT_SQLITE_URL);
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    let dir = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
    Some(if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir })
}

/// Prints a token, or a sign-in link to the web pages.
fn print_token(
    keys: &Keys,
    principal: &Principal,
    ttl: Duration,
    login_url: Option<&str>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let token = keys.mint(principal, ttl)?;
    let mut out = std::io::stdout().lock();
    match login_url {
        Some(bind) => writeln!(out, "http://{bind}/app/login?token={token}")?,
        None => writeln!(out, "{token}")?,
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if let Command::Token { role, member, buyer, subject, ttl, login_url, bind } = &cli.command {
        let keys = signing_keys(&cli)?;
        let subject = subject.clone().unwrap_or_else(|| format!("{}-cli", role.as_str()));
        let principal = auth::principal(subject, *role, member.clone(), buyer.as_deref())?;
        return print_token(&keys, &principal, *ttl, login_url.then_some(bind.as_str()));
    }
    // Each command that needs the database connects itself, so `schema` works without one.
    let (keys, vault) = match &cli.command {
        Command::Serve { .. } | Command::Rebuild { .. } => {
            (Some(signing_keys(&cli)?), Some(personal_data_vault(&cli)?))
        }
        _ => (None, None),
    };
    let keys = || keys.clone().ok_or("no signing key");
    let vault = || vault.clone().ok_or("no key-encryption key");
    let database_url = cli.database_url.as_deref();
    match cli.command {
        Command::Token { .. } => unreachable!("handled above"),
        Command::Schema => {
            // The schema is the command's output, so it goes to stdout, unlike everything logged.
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(graphql::sdl().as_bytes())?;
            stdout.flush()?;
        }
        Command::Migrate => {
            let db = Db::connect(database_url).await?;
            db.migrate().await?;
            tracing::info!(store = db.backend(), "database is up to date");
        }
        Command::Serve { bind, demo, cors_origins, request_timeout_secs, read_database_url } => {
            let settings = HttpSettings {
                cors_origins,
                request_timeout: Duration::from_secs(request_timeout_secs),
                ..HttpSettings::default()
            };
            settings.check()?;
            let db = Db::connect(database_url).await?;
            let mut app = App::open_with(db, ProjectorOptions::default(), keys()?, vault()?)
                .await
                .map_err(AppError::into_boxed)?;
            if let Some(replica) = read_database_url.as_deref().filter(|u| !u.trim().is_empty()) {
                app = app.with_read_replica(Db::connect(Some(replica)).await?);
                tracing::info!("queries read from the replica");
            }
            let signal = server::shutdown_signal()?;
            let running = server::start_with(app, &bind, &settings).await?;
            if demo {
                if demo::load(running.app()).await.map_err(AppError::into_boxed)? {
                    tracing::info!("demo data loaded");
                }
                for (who, token) in demo::tokens(running.app().keys())? {
                    tracing::info!("demo token for {who}:\n  Authorization: Bearer {token}");
                }
            }
            let signal = signal.await?;
            tracing::info!(signal, "shutting down: finishing the requests in flight");
            running.stop().await;
            tracing::info!("stopped");
        }
        Command::Backup { path } => {
            // A mistyped path must not back up a database created empty on the spot.
            let db = Db::connect_existing(database_url).await?;
            let copied = backup::backup(&db, &path).await;
            db.close().await;
            let copied = copied?;
            tracing::info!(
                path = %copied.path.display(),
                bytes = copied.bytes,
                "backup written; kek.key and jwt.key (beside the database) are not in it: without that \
                 KEK the copy's personal data cannot be opened, so keep a copy of them apart"
            );
        }
        Command::Rebuild { projection } => {
            let db = Db::connect(database_url).await?;
            let app = App::open_with(db, ProjectorOptions::default(), keys()?, vault()?)
                .await
                .map_err(AppError::into_boxed)?;
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("[{bar:40}] {pos}/{len} events ({per_sec}, eta {eta}) {msg}")?
                    .progress_chars("=> "),
            );
            // Several projections rebuild at once on PostgreSQL: the bar shows their sum and names
            // the ones under way.
            let seen = std::sync::Mutex::new(std::collections::BTreeMap::new());
            let reports = rebuild::rebuild(app.projector(), projection.as_deref(), &|name, progress| {
                let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                seen.insert(name.to_string(), progress);
                let (applied, total) = seen.values().fold((0, 0), |(a, t), p| (a + p.applied, t + p.total));
                let under_way: Vec<&str> =
                    seen.iter().filter(|(_, p)| p.applied < p.total).map(|(n, _)| n.as_str()).collect();
                bar.set_message(under_way.join(", "));
                bar.set_length(total);
                bar.set_position(applied);
            })
            .await?;
            bar.finish_and_clear();
            for report in reports {
                tracing::info!(
                    "rebuilt {}: {} events in {:.2} s = {:.0} events/s",
                    report.projection,
                    report.events,
                    report.elapsed.as_secs_f64(),
                    report.events_per_second()
                );
            }
            app.db().close().await;
        }
    }
    Ok(())
}
