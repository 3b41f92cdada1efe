//! One Konsortium server process for the multi-node tests: serves on a free port of 127.0.0.1 and
//! prints `listening ADDR` on stdout once it does. Reads DATABASE_URL and KONSORTIUM_JWT_SECRET.

use konsortium_api::app::App;
use konsortium_api::auth::Keys;
use konsortium_api::server;
use konsortium_api::vault::Vault;
use konsortium_projections::{Db, ProjectorOptions};
use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // As `konsortium serve`: a log line a full disk refuses is dropped, not reported by a panic.
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter("warn").log_internal_errors(false).init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = std::env::var("DATABASE_URL")?;
    let keys = Keys::from_secret(std::env::var("KONSORTIUM_JWT_SECRET")?.as_bytes())?;
    let db = Db::connect(Some(&url)).await?;
    // Every node opens what any node sealed, so they share the KEK when one is given.
    let vault = match std::env::var("KONSORTIUM_KEK") {
        Ok(kek) => Vault::from_hex(&kek)?,
        Err(_) => Vault::random(),
    };
    let app = App::open_with(db, ProjectorOptions::default(), keys, vault).await.map_err(|e| e.into_boxed())?;
    // Installed before the server says it listens, so a SIGTERM sent right after is never lost.
    let signal = server::shutdown_signal()?;
    let running = server::start(app, "127.0.0.1:0").await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening {}", running.addr)?;
    out.flush()?;
    drop(out);
    // As `konsortium serve`: SIGTERM finishes the requests in flight and exits 0.
    signal.await?;
    running.stop().await;
    Ok(())
}
