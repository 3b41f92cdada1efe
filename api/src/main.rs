//! `konsortium`: the server and its maintenance commands.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use konsortium_api::app::App;
use konsortium_api::error::AppError;
use konsortium_api::http::{HttpSettings, DEFAULT_REQUEST_TIMEOUT};
use konsortium_api::{demo, graphql, server};
use konsortium_projections::{rebuild, Db, ProjectorOptions};
use std::io::Write;
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
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Replay every event into fresh view tables and swap them in while the server keeps serving.
    Rebuild {
        /// Rebuild only this projection (members, agreements); all when omitted.
        #[arg(long)]
        projection: Option<String>,
    },
    /// Print the GraphQL schema (SDL) the server serves, without touching a database.
    Schema,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .with_writer(std::io::stderr)
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

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Each command that needs the database connects itself, so `schema` works without one.
    let database_url = cli.database_url.as_deref();
    match cli.command {
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
        Command::Serve { bind, demo, cors_origins, request_timeout_secs } => {
            let settings = HttpSettings {
                cors_origins,
                request_timeout: Duration::from_secs(request_timeout_secs),
                ..HttpSettings::default()
            };
            settings.check()?;
            let db = Db::connect(database_url).await?;
            let app = App::open(db, ProjectorOptions::default()).await.map_err(AppError::into_boxed)?;
            let running = server::start_with(app, &bind, &settings).await?;
            if demo && demo::load(running.app()).await.map_err(AppError::into_boxed)? {
                tracing::info!("demo data loaded");
            }
            tokio::signal::ctrl_c().await?;
            tracing::info!("shutting down");
            running.stop().await;
        }
        Command::Rebuild { projection } => {
            let db = Db::connect(database_url).await?;
            let app = App::open(db, ProjectorOptions::default()).await.map_err(AppError::into_boxed)?;
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})")?
                    .progress_chars("=> "),
            );
            let reports = rebuild::rebuild(app.projector(), projection.as_deref(), &|name, progress| {
                bar.set_message(name.to_string());
                bar.set_length(progress.total);
                bar.set_position(progress.applied);
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
