//! Load generator: fills a store with a reproducible random workload of real commands and prints the
//! throughput. Pair it with `konsortium rebuild` to measure replay speed on a large log:
//!
//! ```sh
//! DATABASE_URL=sqlite://data/bench.db cargo run --release -p konsortium-tests --bin loadgen -- --writers 4 --steps 5000
//! DATABASE_URL=sqlite://data/bench.db cargo run --release --bin konsortium -- rebuild
//! ```

use clap::Parser;
use konsortium_projections::Db;
use konsortium_tests::event_count;
use konsortium_tests::workload::Workload;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Writes a random workload of member and agreement commands and prints commands/s")]
struct Args {
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Concurrent writers, each on its own aggregates.
    #[arg(long, default_value_t = 4)]
    writers: u32,
    /// Commands per writer.
    #[arg(long, default_value_t = 1_000)]
    steps: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let db = match Db::connect(args.database_url.as_deref()).await {
        Ok(db) => db,
        Err(err) => {
            tracing::error!("{err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = db.migrate().await {
        tracing::error!("{err}");
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.writers)
        .map(|w| {
            let db = db.clone();
            let seed = args.seed.wrapping_mul(1_000) + u64::from(w);
            // Writer numbers continue from the seed so a second run writes new aggregates.
            let writer = w + 100 * u32::try_from(args.seed % 40).unwrap_or_default();
            tokio::spawn(async move { Workload::new(&db, writer, seed).run(args.steps).await })
        })
        .collect();
    let (mut accepted, mut refused) = (0u64, 0u64);
    for task in tasks {
        match task.await {
            Ok(w) => {
                accepted += u64::from(w.accepted);
                refused += u64::from(w.refused);
            }
            Err(err) => {
                tracing::error!("a writer failed: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} store: {} commands ({accepted} accepted, {refused} refused by a rule) in {seconds:.2} s = {:.0} commands/s; the log holds {} events",
        db.backend(),
        accepted + refused,
        (accepted + refused) as f64 / seconds,
        event_count(&db).await
    );
    db.close().await;
    ExitCode::SUCCESS
}
