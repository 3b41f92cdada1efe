//! Benchmark harness: measures Konsortium against the database's own limit, in one run, and prints
//! every figure with its ratio. Speed is shown here, never asserted in tests.
//!
//! ```sh
//! cargo run --release -p konsortium-tests --bin bench                       # PostgreSQL (KONSORTIUM_TEST_PG)
//! cargo run --release -p konsortium-tests --bin bench -- --store sqlite     # the embedded store
//! ```
//!
//! Each run works in a database of its own (dropped afterwards) and prints:
//! - the database's limit: pgbench single-row INSERTs of an events-shaped row at 1 and 8 clients
//!   (SQLite: the same INSERT, one transaction each, from this process);
//! - GraphQL mutations over HTTP (`registerMember`, keep-alive) at 1 and 16 clients, and the ratio;
//! - what bounds a mutation: the command path alone, an empty request, a database round trip, and
//!   (Linux) the CPU time per INSERT and per mutation of every process on the machine;
//! - mutation latency p50/p99 at 1 client, also while another database on the same cluster holds a
//!   transaction open (PostgreSQL);
//! - list queries at a steady 200 requests/s: p50/p99;
//! - a full rebuild in events/s against reading the same rows in commit order;
//! - the month-end run (`issueInvoices`): every approved month of the workload up to last month
//!   (with `--national`: the national data set's ten years, 290 agreements) invoiced in one run;
//! - the peak resident memory of the process.

use clap::{Parser, ValueEnum};
use konsortium_api::app::{Actor, App};
use konsortium_api::application::invoicing::{self, MonthEndRun};
use konsortium_api::application::today;
use konsortium_api::auth::{principal, Role};
use konsortium_api::server;
use konsortium_domain::calendar::Month;
use konsortium_projections::{on_db, rebuild, Db, ProjectorOptions};
use konsortium_tests::national;
use konsortium_tests::workload::{org_number, Workload};
use serde_json::json;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Store {
    Postgres,
    Sqlite,
}

#[derive(Parser)]
#[command(about = "Measures mutations, latency and rebuilds against the database's own limit")]
struct Args {
    #[arg(long, value_enum, default_value = "postgres")]
    store: Store,
    /// The PostgreSQL server to create the benchmark database on.
    #[arg(long, env = "KONSORTIUM_TEST_PG", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Seconds each throughput measurement runs.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Writers and commands per writer of the workload the rebuild replays.
    #[arg(long, default_value_t = 4)]
    writers: u32,
    #[arg(long, default_value_t = 2_500)]
    steps: u32,
    /// Replay and query the national synthetic data set (290 buyers, 400 members, 12 000 places,
    /// ten years of reports) instead of the random workload.
    #[arg(long)]
    national: bool,
    /// Keep the benchmark's PostgreSQL database afterwards (its URL is printed) to inspect it or
    /// serve it with `konsortium serve --database-url`.
    #[arg(long)]
    keep: bool,
    /// With `--national`: a PostgreSQL database holding the data set ready to measure. The first
    /// run generates it there (about six minutes) and keeps it; later runs copy it
    /// (`CREATE DATABASE … TEMPLATE`) in seconds, so the month-end and the queries can be measured
    /// again and again on the same ten years.
    #[arg(long, requires = "national")]
    template: Option<String>,
    /// Measure only these (comma-separated); all when omitted.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
}

/// The parts of a run, for `--only`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    /// The database's limit and HTTP mutations against it.
    Mutations,
    /// The month-end run.
    MonthEnd,
    /// Queries at 200/s: the mix, and the utilisation query alone.
    Queries,
    /// A full rebuild.
    Rebuild,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter("warn,konsortium_api::application::invoicing=info")
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

/// A database of the benchmark's own.
struct BenchDb {
    db: Db,
    url: String,
    drop: Option<(String, String)>,
}

/// A database of the run's own: empty, or a copy of `template`.
async fn bench_db(args: &Args, template: Option<&str>) -> Result<BenchDb, Error> {
    match args.store {
        Store::Postgres => {
            let name = format!("konsortium_bench_{}", uuid::Uuid::new_v4().simple());
            let admin = Db::connect(Some(&args.postgres)).await?;
            let create = match template {
                Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
                None => format!("CREATE DATABASE {name}"),
            };
            on_db!(&admin, pool => sqlx::query(&create).execute(pool).await.map(|_| ()))?;
            if template.is_some() {
                // Copying a few GB of template writes as much WAL; flush it now rather than let the
                // checkpoint it triggers land in what is measured next. (Runs on a shared machine
                // still varied, 17–24 s for the national month-end, with or without it.)
                on_db!(&admin, pool => sqlx::query("CHECKPOINT").execute(pool).await.map(|_| ()))?;
            }
            admin.close().await;
            let url = server_url(&args.postgres, &name);
            Ok(BenchDb { db: Db::connect(Some(&url)).await?, url, drop: Some((args.postgres.clone(), name)) })
        }
        Store::Sqlite => {
            let dir = std::env::temp_dir().join(format!("konsortium-bench-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir)?;
            let file = dir.join("bench.db");
            Ok(BenchDb { db: Db::sqlite_file(&file).await?, url: format!("sqlite://{}", file.display()), drop: None })
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let on = |section: Section| args.only.is_empty() || args.only.contains(&section);
    let copied = match (&args.template, args.store) {
        (Some(template), Store::Postgres) => Some(national_template(&args, template).await?),
        (Some(_), Store::Sqlite) => return Err("--template needs PostgreSQL".into()),
        (None, _) => None,
    };
    let bench = bench_db(&args, copied.as_deref()).await?;
    bench.db.migrate().await?;
    let window = Duration::from_secs(args.seconds);
    println!("Konsortium benchmark on {} ({} s per measurement)", bench.db.backend(), args.seconds);

    let app = App::open(bench.db.clone(), ProjectorOptions::default()).await.map_err(|e| e.into_boxed())?;
    let running = server::start(app, "127.0.0.1:0").await?;
    let staff = principal("bench".into(), Role::Staff, None, None)?;
    let token = running.app().keys().mint(&staff, Duration::from_secs(3_600))?;
    let target = Target { url: format!("http://{}/graphql", running.addr), token, next: Default::default() };
    let target = Arc::new(target);

    if on(Section::Mutations) {
        let limit_1 = database_limit(&bench, 1, window).await?;
        let cpu = Cpu::now();
        let limit_8 = database_limit(&bench, 8, window).await?;
        let insert_cpu = cpu.per_operation(limit_8 * window.as_secs_f64());
        println!("database limit: single-row INSERT  1 client {limit_1:>9.0}/s   8 clients {limit_8:>9.0}/s");
        let one = mutations(&target, 1, window).await?;
        let cpu = Cpu::now();
        let sixteen = mutations(&target, 16, window).await?;
        let mutation_cpu = cpu.per_operation(sixteen.count as f64);
        println!(
            "HTTP mutations: 1 client {:>9.0}/s ({:.2}× the limit)   16 clients {:>9.0}/s ({:.2}× the 8-client limit)",
            one.per_second(),
            one.per_second() / limit_1,
            sixteen.per_second(),
            sixteen.per_second() / limit_8
        );
        println!(
            "mutation latency at 1 client: p50 {:.1} ms, p99 {:.1} ms",
            one.percentile(50.0),
            one.percentile(99.0)
        );
        // What bounds a mutation at one client: its events' append (the database's commit), plus a
        // round trip over HTTP and GraphQL, plus the projector's own transaction it waits for.
        let appends_1 = appends_alone(&bench.db, 1, window).await?;
        let appends_16 = appends_alone(&bench.db, 16, window).await?;
        let empty = empty_requests(&target, window).await?;
        let round_trip = round_trips(&bench.db, window).await?;
        println!(
            "  bound: the command path alone (decided and appended in process; no HTTP, no views) 1 writer {appends_1:.0}/s ({:.2}×), \
             16 writers {appends_16:.0}/s ({:.2}×); an empty GraphQL request p50 {:.2} ms; a mutation adds \
             the projector's transaction it waits for",
            appends_1 / limit_1,
            appends_16 / limit_8,
            empty.percentile(50.0)
        );
        println!(
            "  one round trip to the database (SELECT 1) p50 {:.3} ms: a mutation at 1 client takes {:.0} of them",
            round_trip.percentile(50.0),
            one.percentile(50.0) / round_trip.percentile(50.0).max(1e-6)
        );
        if cfg!(target_os = "linux") {
            // With every core busy, throughput is the inverse of CPU time per operation: the ratio of
            // the two is the ceiling on the mutation ratio at 16 clients on this machine.
            println!(
                "  CPU per operation, every process on the machine: INSERT (8 clients) {:.3} ms; mutation (16 clients) \
                 {:.3} ms, of which this process (server and benchmark clients) {:.3} ms, machine busy {:.0} % \
                 → CPU-bound ceiling {:.2}×",
                insert_cpu.machine_ms,
                mutation_cpu.machine_ms,
                mutation_cpu.process_ms,
                mutation_cpu.busy_percent,
                insert_cpu.machine_ms / mutation_cpu.machine_ms.max(1e-9)
            );
        }
        if let Some((admin, _)) = &bench.drop {
            let held = hold_transaction_elsewhere(admin).await?;
            let busy = mutations(&target, 1, window).await?;
            drop(held);
            println!(
                "  … while another database holds a transaction open: p50 {:.1} ms, p99 {:.1} ms",
                busy.percentile(50.0),
                busy.percentile(99.0)
            );
        }
    }

    let workload_started = Instant::now();
    if copied.is_some() {
        println!("national data set: copied from the template database");
    } else if args.national {
        let written = generate_national(&bench.db).await?;
        println!("national data set: {written} events written in {:.1} s", workload_started.elapsed().as_secs_f64());
        running.app().projector().catch_up().await?;
    } else {
        let tasks: Vec<_> = (0..args.writers)
            .map(|w| {
                let db = bench.db.clone();
                tokio::spawn(async move { Workload::new(&db, 500 + w, 77 + u64::from(w)).run(args.steps).await })
            })
            .collect();
        for task in tasks {
            task.await?;
        }
    }
    let events = count_events(&bench.db).await?;
    println!("workload: {events} events in the log after {:.1} s", workload_started.elapsed().as_secs_f64());

    if on(Section::MonthEnd) {
        month_end(running.app(), args.national).await?;
        running.app().projector().catch_up().await?;
    }
    if on(Section::Queries) {
        let agreement = some_agreement(&target).await?;
        let utilisation = format!(
            "{{ utilisation(agreementId: \"{agreement}\", from: \"2016-01\", to: \"2025-12\") \
             {{ month contractedPlaceDays filledPlaceDays }} }}"
        );
        // The questions buyers and staff ask most: an agreement's utilisation over ten years, the
        // invoices, and the lists every page starts from.
        let mix = [
            utilisation.as_str(),
            "{ invoices(first: 20) { totalCount nodes { number status payableOre } } }",
            "{ agreements(first: 50) { totalCount nodes { id title rates { asfOre } } } }",
            "{ monthlyReports(first: 50) { totalCount nodes { id totalOre status } } }",
            "{ members(first: 50) { totalCount nodes { id name } } }",
        ];
        let queries = queries_at_rate(&target, &mix, 200, window).await?;
        println!(
            "queries at 200/s (utilisation, invoices, agreements, monthlyReports, members; {} answered): p50 {:.1} ms, p99 {:.1} ms",
            queries.count,
            queries.percentile(50.0),
            queries.percentile(99.0)
        );
        let alone = queries_at_rate(&target, &[utilisation.as_str()], 200, window).await?;
        println!(
            "utilisation alone at 200/s (one agreement, 120 months; {} answered): p50 {:.1} ms, p99 {:.1} ms",
            alone.count,
            alone.percentile(50.0),
            alone.percentile(99.0)
        );
    }

    if on(Section::Rebuild) {
        let read = read_in_commit_order(&bench).await?;
        let started = Instant::now();
        let reports = rebuild::rebuild(running.app().projector(), None, &|_, _| {}).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let replayed: u64 = reports.iter().map(|r| r.events).sum();
        println!(
            "rebuild: {} projections, {replayed} events applied in {elapsed:.2} s = {:.0} events/s; reading the log in \
             commit order takes {:.2} s = {:.0} rows/s ({:.2}× of that)",
            reports.len(),
            replayed as f64 / elapsed,
            read,
            events as f64 / read,
            (replayed as f64 / elapsed) / (events as f64 / read)
        );
        for report in &reports {
            println!(
                "  {:<12} {:>9} events in {:>6.2} s = {:>7.0} events/s",
                report.projection,
                report.events,
                report.elapsed.as_secs_f64(),
                report.events_per_second()
            );
        }
    }
    println!("peak RSS: {} MB", peak_rss_mb());

    running.stop().await;
    if args.keep {
        println!("kept the benchmark database: {}", bench.url);
    } else if let Some((admin, name)) = bench.drop {
        let admin = Db::connect(Some(&admin)).await?;
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        on_db!(&admin, pool => sqlx::query(&sql).execute(pool).await.map(|_| ()))?;
        admin.close().await;
    }
    Ok(())
}

async fn generate_national(db: &Db) -> Result<u64, Error> {
    national::generate(db, national::Scale::national(), &|stage, events| {
        tracing::warn!(stage, events, "national data set");
    })
    .await
    .map_err(|e| e.into_boxed())
}

/// The template database named `template`, generated with its views caught up when it does not
/// exist yet; returns its name for the run's copy.
async fn national_template(args: &Args, template: &str) -> Result<String, Error> {
    if !template.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("--template: letters, digits and _ only".into());
    }
    let admin = Db::connect(Some(&args.postgres)).await?;
    let exists: Option<i32> = on_db!(&admin, pool => sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(template)
        .fetch_optional(pool)
        .await)?;
    if exists.is_none() {
        // Built under another name and renamed when complete, so an interrupted run leaves no
        // half-made template behind to be copied.
        let building = format!("{template}_building");
        let create = format!("DROP DATABASE IF EXISTS {building} WITH (FORCE); CREATE DATABASE {building}");
        for sql in create.split("; ") {
            on_db!(&admin, pool => sqlx::query(sql).execute(pool).await.map(|_| ()))?;
        }
        let db = Db::connect(Some(&server_url(&args.postgres, &building))).await?;
        db.migrate().await?;
        let started = Instant::now();
        let written = generate_national(&db).await?;
        let app = App::open(db.clone(), ProjectorOptions::default()).await.map_err(|e| e.into_boxed())?;
        app.projector().catch_up().await?;
        drop(app);
        db.close().await;
        let rename = format!("ALTER DATABASE {building} RENAME TO {template}");
        on_db!(&admin, pool => sqlx::query(&rename).execute(pool).await.map(|_| ()))?;
        println!(
            "national data set: {written} events written into the template {template} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    admin.close().await;
    Ok(template.to_string())
}

/// `url` with its database name replaced by `name`.
fn server_url(url: &str, name: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => format!("{url}/{name}"),
    }
}

/// The id of the first agreement in the list.
async fn some_agreement(target: &Target) -> Result<String, Error> {
    let first: serde_json::Value = reqwest::Client::new()
        .post(&target.url)
        .bearer_auth(&target.token)
        .json(&json!({ "query": "{ agreements(first: 1) { nodes { id } } }" }))
        .send()
        .await?
        .json()
        .await?;
    Ok(first["data"]["agreements"]["nodes"][0]["id"].as_str().unwrap_or_default().to_string())
}

/// Times the month-end run through the use case itself (an HTTP request would hit the request
/// timeout on the national set): every approved month up to last month (the national set: up to
/// its last month), one invoice per agreement.
async fn month_end(app: &App, national: bool) -> Result<(), Error> {
    let actor = Actor::system("bench");
    if national {
        // The generator registered the consortium.
    } else {
        let seller = national::seller().map_err(|e| e.into_boxed())?;
        invoicing::register_consortium(app, &actor, &seller).await.map_err(|e| e.into_boxed())?;
    }
    let month = match national {
        true => Month::parse("2025-12")?,
        false => Month::of(today().replace_day(1)?.previous_day().ok_or("no previous day")?),
    };
    let started = Instant::now();
    let issued = invoicing::issue_invoices(app, &actor, &MonthEndRun { month, agreement_id: None })
        .await
        .map_err(|e| e.into_boxed())?;
    let elapsed = started.elapsed().as_secs_f64();
    let months: usize = issued.iter().filter_map(|(_, i)| i.document.as_ref()).map(|d| d.months.len()).sum();
    println!(
        "month-end run (issueInvoices up to {month}): {} invoices over {months} approved months in {elapsed:.2} s \
         ({:.1} ms an invoice)",
        issued.len(),
        elapsed * 1_000.0 / issued.len().max(1) as f64
    );
    Ok(())
}

/// Single-row INSERTs of an events-shaped row, each its own transaction: what the database can commit.
async fn database_limit(bench: &BenchDb, clients: u32, window: Duration) -> Result<f64, Error> {
    const TABLE: &str =
        "CREATE TABLE IF NOT EXISTS bench_events (aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, \
        sequence BIGINT NOT NULL, event_type TEXT NOT NULL, event_version TEXT NOT NULL, payload TEXT NOT NULL, \
        metadata TEXT NOT NULL, PRIMARY KEY (aggregate_type, aggregate_id, sequence))";
    on_db!(&bench.db, pool => sqlx::query(TABLE).execute(pool).await.map(|_| ()))?;
    match bench.db {
        Db::Postgres(_) => {
            let script = std::env::temp_dir().join(format!("konsortium-bench-{}.sql", uuid::Uuid::new_v4().simple()));
            std::fs::write(
                &script,
                "INSERT INTO bench_events VALUES ('Member', md5(random()::text), 1, 'MemberRegistered', '2.0', \
                 '{\"MemberRegistered\":{\"name\":\"Returbutiken Fyndet\"}}', '{\"actor\":\"bench\"}');\n",
            )?;
            let output = Command::new("pgbench")
                .args(["-n", "-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
                .args(["-T", &window.as_secs().to_string(), "-f"])
                .arg(&script)
                .arg(&bench.url)
                .output()?;
            let _ = std::fs::remove_file(&script);
            let text = String::from_utf8_lossy(&output.stdout);
            text.lines()
                .find_map(|l| l.strip_prefix("tps = "))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| {
                    format!("pgbench gave no tps: {text} {}", String::from_utf8_lossy(&output.stderr)).into()
                })
        }
        Db::Sqlite(ref pool) => {
            let deadline = Instant::now() + window;
            let tasks: Vec<_> = (0..clients)
                .map(|c| {
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                            sqlx::query("INSERT INTO bench_events VALUES ('Member', $1, 1, 'MemberRegistered', '2.0', $2, '{}')")
                                .bind(format!("{clients}-{c}-{n}"))
                                .bind("{\"MemberRegistered\":{\"name\":\"Returbutiken Fyndet\"}}")
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                            n += 1;
                        }
                        Ok::<u64, sqlx::Error>(n)
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await??;
            }
            Ok(total as f64 / window.as_secs_f64())
        }
    }
}

struct Target {
    url: String,
    token: String,
    next: std::sync::atomic::AtomicU32,
}

struct Run {
    count: usize,
    elapsed: Duration,
    latencies_ms: Vec<f64>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * (self.latencies_ms.len() - 1) as f64).round() as usize;
        self.latencies_ms[rank.min(self.latencies_ms.len() - 1)]
    }
}

/// `registerMember` with fresh org numbers from `clients` keep-alive connections; every answer is
/// checked, because GraphQL errors come back as HTTP 200.
async fn mutations(target: &Arc<Target>, clients: u32, window: Duration) -> Result<Run, Error> {
    requests(target, clients, window, |n| {
        json!({
            "query": "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
            "variables": { "m": { "name": format!("Bänkföretag {n}"), "orgNumber": org_number(500_000 + n).to_string(),
                "category": "ASF", "targetGroupSharePercent": "45", "joinedOn": "2024-09-01" } }
        })
    })
    .await
}

/// Requests that do nothing but cross HTTP and GraphQL (`{ __typename }`): the floor under every
/// mutation's latency that is not the database's.
async fn empty_requests(target: &Arc<Target>, window: Duration) -> Result<Run, Error> {
    requests(target, 1, window, |_| json!({ "query": "{ __typename }" })).await
}

/// Commands decided in process and their events appended, by `writers` concurrent writers on their
/// own aggregates (the workload's mix; a command a rule refuses appends nothing): no HTTP, no
/// GraphQL, no waiting for the views. What mutations could reach if that were all they did.
async fn appends_alone(db: &Db, writers: u32, window: Duration) -> Result<f64, Error> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                let (mut workload, mut steps) = (Workload::new(&db, 900 + w, 4_242 + u64::from(w)), 0u32);
                while started.elapsed() < window {
                    workload = workload.run(50).await;
                    steps += 50;
                }
                steps
            })
        })
        .collect();
    let mut steps = 0u32;
    for task in tasks {
        steps += task.await?;
    }
    Ok(f64::from(steps) / started.elapsed().as_secs_f64())
}

/// `clients` loops sending `body(n)` as fast as answers come, for `window`; every answer checked.
async fn requests(
    target: &Arc<Target>,
    clients: u32,
    window: Duration,
    body: fn(u32) -> serde_json::Value,
) -> Result<Run, Error> {
    let started = Instant::now();
    let deadline = started + window;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let target = Arc::clone(target);
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let n = target.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let sent = Instant::now();
                    let answer: serde_json::Value =
                        client.post(&target.url).bearer_auth(&target.token).json(&body(n)).send().await?.json().await?;
                    if answer.get("errors").is_some() {
                        return Err(format!("a request failed: {answer}").into());
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1_000.0);
                }
                Ok::<Vec<f64>, Error>(latencies)
            })
        })
        .collect();
    let mut latencies_ms = Vec::new();
    for task in tasks {
        latencies_ms.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Run { count: latencies_ms.len(), elapsed, latencies_ms })
}

/// List queries sent at a fixed rate (not as fast as possible), each answer checked, for latency
/// under a steady load.
async fn queries_at_rate(
    target: &Arc<Target>,
    queries: &[&str],
    per_second: u32,
    window: Duration,
) -> Result<Run, Error> {
    let client = reqwest::Client::new();
    let queries: Vec<String> = queries.iter().map(|q| q.to_string()).collect();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second);
    let mut requests = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < window {
        tick.tick().await;
        let (client, target, query) = (client.clone(), Arc::clone(target), queries[n % queries.len()].clone());
        n += 1;
        requests.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answer: serde_json::Value = client
                .post(&target.url)
                .bearer_auth(&target.token)
                .json(&json!({ "query": query }))
                .send()
                .await?
                .json()
                .await?;
            if answer.get("errors").is_some() {
                return Err(format!("a query failed: {answer}").into());
            }
            Ok::<f64, Error>(sent.elapsed().as_secs_f64() * 1_000.0)
        }));
    }
    let mut latencies_ms = Vec::new();
    for request in requests {
        latencies_ms.push(request.await??);
    }
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Run { count: latencies_ms.len(), elapsed: started.elapsed(), latencies_ms })
}

/// A transaction held open in another database of the cluster: it holds back the oldest running
/// transaction id every database sees.
async fn hold_transaction_elsewhere(admin: &str) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, Error> {
    let pool = sqlx::PgPool::connect(admin).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut *tx).await?;
    Ok(tx)
}

async fn count_events(db: &Db) -> Result<i64, Error> {
    Ok(on_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events").fetch_one(pool).await)?)
}

/// Seconds to read every event row in commit order: `COPY` through psql on PostgreSQL, a plain query
/// on SQLite.
async fn read_in_commit_order(bench: &BenchDb) -> Result<f64, Error> {
    let started = Instant::now();
    match &bench.db {
        Db::Postgres(_) => {
            let status = Command::new("psql")
                .arg(&bench.url)
                .args(["-q", "-c", "COPY (SELECT * FROM events ORDER BY transaction_id, position) TO STDOUT"])
                .stdout(std::process::Stdio::null())
                .status()?;
            if !status.success() {
                return Err("psql COPY failed".into());
            }
        }
        Db::Sqlite(pool) => {
            let rows: Vec<(i64, String, String)> =
                sqlx::query_as("SELECT position, payload, metadata FROM events ORDER BY position")
                    .fetch_all(pool)
                    .await?;
            std::hint::black_box(rows);
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// `SELECT 1` over the server's own pool, one after another: the cost of a round trip, which every
/// statement of a mutation pays.
async fn round_trips(db: &Db, window: Duration) -> Result<Run, Error> {
    let started = Instant::now();
    let mut latencies_ms = Vec::new();
    while started.elapsed() < window.min(Duration::from_secs(2)) {
        let sent = Instant::now();
        let one: i32 = on_db!(db, pool => sqlx::query_scalar("SELECT 1").fetch_one(pool).await)?;
        std::hint::black_box(one);
        latencies_ms.push(sent.elapsed().as_secs_f64() * 1_000.0);
    }
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Run { count: latencies_ms.len(), elapsed: started.elapsed(), latencies_ms })
}

/// CPU time used from a start: by every process on the machine (`/proc/stat`) and by this one
/// (`/proc/self/stat`), in the kernel's clock ticks (100 a second on Linux).
struct Cpu {
    started: Instant,
    machine: u64,
    process: u64,
}

/// CPU time per operation over a measurement.
struct CpuPerOperation {
    machine_ms: f64,
    process_ms: f64,
    busy_percent: f64,
}

impl Cpu {
    const TICKS_PER_SECOND: f64 = 100.0;

    fn now() -> Cpu {
        Cpu { started: Instant::now(), machine: machine_ticks().0, process: process_ticks() }
    }

    fn per_operation(&self, operations: f64) -> CpuPerOperation {
        let (machine, cores) = machine_ticks();
        let ms = |ticks: u64| ticks as f64 / Self::TICKS_PER_SECOND * 1_000.0 / operations.max(1.0);
        let busy = machine.saturating_sub(self.machine) as f64 / Self::TICKS_PER_SECOND;
        CpuPerOperation {
            machine_ms: ms(machine.saturating_sub(self.machine)),
            process_ms: ms(process_ticks().saturating_sub(self.process)),
            busy_percent: 100.0 * busy / (self.started.elapsed().as_secs_f64() * f64::from(cores.max(1))),
        }
    }
}

/// Busy ticks of every core (user, nice, system, irq, softirq, steal), and the number of cores.
fn machine_ticks() -> (u64, u32) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let busy = stat
        .lines()
        .next()
        .map(|total| {
            let fields: Vec<u64> = total.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
            [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| fields.get(i)).sum()
        })
        .unwrap_or(0);
    let cores = stat.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count();
    (busy, u32::try_from(cores).unwrap_or(1))
}

/// User and system ticks of this process.
fn process_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name is in parentheses and may hold spaces: count fields after it.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
}

/// The process's peak resident set, from the kernel.
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1_024)
}
