//! Soak run: a steady, realistic mix of mutations and queries against the real server for many
//! minutes, printing each minute's memory and latencies, then whether they stayed flat.
//!
//! ```sh
//! cargo run --release -p konsortium-tests --bin soak -- --minutes 30                  # PostgreSQL (KONSORTIUM_TEST_PG)
//! cargo run --release -p konsortium-tests --bin soak -- --minutes 30 --store sqlite   # the embedded store
//! ```
//!
//! One writer walks consortium months as staff would, a mutation every `1/--mutations` s: a member
//! joins, an agreement is registered and split, places are opened and filled, three months are
//! reported, approved, invoiced, paid and paid out, a participant leaves and is erased. Queries run
//! beside it at `--queries` per second (lists, the month's utilisation, reconciliation, payout
//! statements, a place, a participant's personal data). Each minute prints the resident memory of
//! the process (server and load generator; the generator keeps only one minute of latencies) and
//! mutation and query latency p50/p99. The verdict compares the last third of the minutes with the
//! first: flat when RSS grew by at most 20 % + 16 MB and p99 by at most 50 % + 5 ms; exit code 1
//! otherwise, or when any request failed.

use clap::{Parser, ValueEnum};
use konsortium_api::app::App;
use konsortium_api::application::today;
use konsortium_api::auth::{principal, Role};
use konsortium_api::server;
use konsortium_projections::{on_db, Db, ProjectorOptions};
use konsortium_tests::tour;
use konsortium_tests::workload::org_number;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Store {
    Postgres,
    Sqlite,
}

#[derive(Parser)]
#[command(about = "Runs a steady mixed workload and reports whether memory and latency stay flat")]
struct Args {
    #[arg(long, value_enum, default_value = "postgres")]
    store: Store,
    /// The PostgreSQL server to create the soak database on.
    #[arg(long, env = "KONSORTIUM_TEST_PG", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    #[arg(long, default_value_t = 30)]
    minutes: u64,
    /// Mutations per second (sent one after another by one writer).
    #[arg(long, default_value_t = 10)]
    mutations: u32,
    /// Queries per second (sent at that rate whatever the answers take).
    #[arg(long, default_value_t = 20)]
    queries: u32,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter("warn").init();
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

/// The ids the queries ask about: the writer's latest.
#[derive(Default, Clone)]
struct Current {
    agreement: String,
    place: String,
    participant: String,
    month: String,
}

/// What one minute measured; the writer and the queries add to it.
#[derive(Default)]
struct Minute {
    mutations_ms: Vec<f64>,
    queries_ms: Vec<f64>,
    failures: Vec<String>,
}

struct Target {
    url: String,
    token: String,
    client: reqwest::Client,
    minute: Mutex<Minute>,
    current: Mutex<Current>,
}

impl Target {
    /// Sends one request and records its latency; a GraphQL error is a failure of the run.
    async fn call(&self, mutation: bool, query: &str, variables: Value) -> Value {
        let sent = Instant::now();
        let answer = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        let answer: Result<Value, String> = match answer {
            Ok(response) => response.json().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let ms = sent.elapsed().as_secs_f64() * 1_000.0;
        let mut minute = self.minute.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if mutation {
            minute.mutations_ms.push(ms);
        } else {
            minute.queries_ms.push(ms);
        }
        match answer {
            Ok(body) if body.get("errors").is_none() => body["data"].clone(),
            Ok(body) => {
                minute.failures.push(format!("{query:.80}: {body:.300}"));
                Value::Null
            }
            Err(e) => {
                minute.failures.push(format!("{query:.80}: {e}"));
                Value::Null
            }
        }
    }

    fn current(&self) -> Current {
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// The month `index` months after January 2000 (`YYYY-MM`); the writer cycles through 2000–2025 so
/// every month it reports is over.
fn month(index: u32) -> String {
    let index = index % (26 * 12);
    format!("{}-{:02}", 2000 + index / 12, index % 12 + 1)
}

/// The writer: one consortium month after another, paced to `per_second` mutations.
async fn writer(target: Arc<Target>, per_second: u32, until: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second.max(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut round = 0u32;
    while Instant::now() < until {
        let mutate = |query: &'static str, variables: Value| {
            let target = Arc::clone(&target);
            async move { target.call(true, query, variables).await }
        };
        let id = |data: &Value, field: &str| data[field]["id"].as_str().unwrap_or_default().to_string();
        let start = month(round * 3);
        tick.tick().await;
        let member = mutate(
            "mutation($m: RegisterMemberInput!) { registerMember(input: $m) { id } }",
            json!({ "m": { "name": format!("Soakföretag {round}"), "orgNumber": org_number(700_000 + round).to_string(),
                           "category": "ASF", "targetGroupSharePercent": "45", "joinedOn": "1999-01-01" } }),
        )
        .await;
        let member = id(&member, "registerMember");
        let mut input = tour::ostersund_input();
        input["contractReference"] = json!(format!("SOAK-{round}"));
        input["startDate"] = json!(format!("{start}-01"));
        input["endDate"] = json!("9999-12-31");
        tick.tick().await;
        let agreement = id(&mutate(tour::REGISTER_AGREEMENT, json!({ "input": input })).await, "registerAgreement");
        tick.tick().await;
        let allocation = mutate(
            "mutation($i: AllocatePlacesInput!) { allocatePlaces(input: $i) { id } }",
            json!({ "i": { "agreementId": agreement, "memberId": member, "places": 2, "startDate": format!("{start}-01") } }),
        )
        .await;
        let allocation = id(&allocation, "allocatePlaces");
        let mut people = Vec::new();
        for n in 0..2u32 {
            tick.tick().await;
            let place = mutate(
                "mutation($a: ID!, $l: ID!, $on: String!) { openPlace(agreementId: $a, allocationId: $l, openedOn: $on) { id } }",
                json!({ "a": agreement, "l": allocation, "on": format!("{start}-01") }),
            )
            .await;
            let place = id(&place, "openPlace");
            tick.tick().await;
            let serial = u16::try_from((round * 2 + n) % 1_000).unwrap_or(0);
            let mut person = tour::participant_input(&format!("Soak Person {round}-{n}"), serial);
            person["memberId"] = json!(member);
            let participant =
                id(&mutate(tour::REGISTER_PARTICIPANT, json!({ "i": person })).await, "registerParticipant");
            tick.tick().await;
            mutate(tour::FILL, json!({ "p": place, "who": participant, "from": format!("{start}-01") })).await;
            people.push((place, participant));
        }
        for m in 0..3 {
            let month = month(round * 3 + m);
            *target.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Current {
                agreement: agreement.clone(),
                place: people[0].0.clone(),
                participant: people[0].1.clone(),
                month: month.clone(),
            };
            tick.tick().await;
            let report = mutate(
                "mutation($i: MonthlyReportInput!) { submitMonthlyReport(input: $i) { id } }",
                json!({ "i": { "agreementId": agreement, "memberId": member, "month": month } }),
            )
            .await;
            tick.tick().await;
            mutate(
                "mutation($r: ID!) { approveMonthlyReport(reportId: $r, version: 1) { status } }",
                json!({ "r": id(&report, "submitMonthlyReport") }),
            )
            .await;
            tick.tick().await;
            let invoices = mutate(
                "mutation($m: String!, $a: ID) { issueInvoices(month: $m, agreementId: $a) { id payableOre } }",
                json!({ "m": month, "a": agreement }),
            )
            .await;
            let invoice = &invoices["issueInvoices"][0];
            tick.tick().await;
            mutate(
                "mutation($i: ID!, $a: Int!, $on: String!) { registerPayment(invoiceId: $i, amountOre: $a, paidOn: $on) { status } }",
                json!({ "i": invoice["id"], "a": invoice["payableOre"], "on": today().to_string() }),
            )
            .await;
            tick.tick().await;
            mutate("mutation($m: String!) { issuePayoutStatements(month: $m) { number } }", json!({ "m": month }))
                .await;
        }
        let (place, participant) = people.pop().unwrap_or_default();
        tick.tick().await;
        mutate(
            "mutation($p: ID!, $d: String!) { vacatePlace(placeId: $p, lastDay: $d, reason: COMPLETED) { id } }",
            json!({ "p": place, "d": format!("{}-28", month(round * 3 + 2)) }),
        )
        .await;
        tick.tick().await;
        mutate(
            "mutation($p: ID!) { eraseParticipant(participantId: $p, reason: OBJECTION) { erased } }",
            json!({ "p": participant }),
        )
        .await;
        round += 1;
    }
}

/// The queries, sent at a steady rate whatever the answers take.
async fn reader(target: Arc<Target>, per_second: u32, until: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second.max(1));
    let mut n = 0usize;
    let mut requests = tokio::task::JoinSet::new();
    while Instant::now() < until {
        tick.tick().await;
        let current = target.current();
        if current.agreement.is_empty() {
            continue;
        }
        let (query, variables): (&'static str, Value) = match n % 8 {
            0 => ("{ members(first: 50) { totalCount nodes { id name } } }", json!({})),
            1 => ("{ agreements(first: 50) { totalCount nodes { id title rates { asfOre } } } }", json!({})),
            2 => ("{ invoices(first: 20) { totalCount nodes { number status payableOre } } }", json!({})),
            3 => ("{ monthlyReports(first: 50) { totalCount nodes { id totalOre status } } }", json!({})),
            4 => (
                "query($a: ID!, $m: String!) { utilisation(agreementId: $a, from: $m, to: $m) { month contractedPlaceDays filledPlaceDays } }",
                json!({ "a": current.agreement, "m": current.month }),
            ),
            5 => ("query($m: String!) { reconciliation(month: $m) { differenceOre } payoutStatements(month: $m) { number payoutOre } }", json!({ "m": current.month })),
            6 => ("query($p: ID!) { place(id: $p) { id filledBy stays { from to } } }", json!({ "p": current.place })),
            _ => ("query($p: ID!) { participant(id: $p) { erased personal { name } } }", json!({ "p": current.participant })),
        };
        n += 1;
        let target = Arc::clone(&target);
        requests.spawn(async move { target.call(false, query, variables).await });
        while requests.try_join_next().is_some() {}
    }
    requests.join_all().await;
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1_024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// One minute's figures.
struct Figures {
    rss_mb: f64,
    mutation_p99: f64,
    query_p99: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.filter(|v| v.is_finite()).fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
    if n == 0.0 {
        f64::NAN
    } else {
        sum / n
    }
}

async fn run(args: Args) -> Result<bool, Error> {
    let (db, drop_after) = match args.store {
        Store::Postgres => {
            let name = format!("konsortium_soak_{}", uuid::Uuid::new_v4().simple());
            let admin = Db::connect(Some(&args.postgres)).await?;
            on_db!(&admin, pool => sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|_| ()))?;
            admin.close().await;
            // The server's address with the soak's database, keeping any parameters of the URL.
            let (address, parameters) = match args.postgres.split_once('?') {
                Some((address, parameters)) => (address, format!("?{parameters}")),
                None => (args.postgres.as_str(), String::new()),
            };
            let url = match address.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}{parameters}"),
                None => format!("{address}/{name}{parameters}"),
            };
            (Db::connect(Some(&url)).await?, Some(name))
        }
        Store::Sqlite => {
            let dir = std::env::temp_dir().join(format!("konsortium-soak-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir)?;
            (Db::sqlite_file(&dir.join("soak.db")).await?, None)
        }
    };
    let app = App::open(db.clone(), ProjectorOptions::default()).await.map_err(|e| e.into_boxed())?;
    let running = server::start(app, "127.0.0.1:0").await?;
    let staff = principal("soak".into(), Role::Staff, None, None)?;
    let token = running.app().keys().mint(&staff, Duration::from_secs(args.minutes * 60 + 3_600))?;
    let target = Arc::new(Target {
        url: format!("http://{}/graphql", running.addr),
        token,
        client: reqwest::Client::new(),
        minute: Default::default(),
        current: Default::default(),
    });
    target
        .call(
            true,
            "mutation($i: RegisterConsortiumInput!) { registerConsortium(input: $i) { orgNumber } }",
            json!({ "i": tour::consortium_input() }),
        )
        .await;
    println!(
        "soak on {} for {} min: {} mutations/s, {} queries/s",
        db.backend(),
        args.minutes,
        args.mutations,
        args.queries
    );

    let started = Instant::now();
    let until = started + Duration::from_secs(args.minutes * 60);
    let writing = tokio::spawn(writer(Arc::clone(&target), args.mutations, until));
    let reading = tokio::spawn(reader(Arc::clone(&target), args.queries, until));
    let mut figures = Vec::new();
    let mut failures = 0usize;
    let mut clock =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), Duration::from_secs(60));
    for minute in 1..=args.minutes {
        clock.tick().await;
        let mut m = std::mem::take(&mut *target.minute.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        m.mutations_ms.sort_by(f64::total_cmp);
        m.queries_ms.sort_by(f64::total_cmp);
        let f = Figures {
            rss_mb: rss_mb(),
            mutation_p99: percentile(&m.mutations_ms, 99.0),
            query_p99: percentile(&m.queries_ms, 99.0),
        };
        println!(
            "minute {minute:>3}: RSS {:>6.1} MB | mutations {:>5} p50 {:>6.1} ms p99 {:>7.1} ms | queries {:>5} p50 {:>6.1} ms p99 {:>7.1} ms | failed {}",
            f.rss_mb,
            m.mutations_ms.len(),
            percentile(&m.mutations_ms, 50.0),
            f.mutation_p99,
            m.queries_ms.len(),
            percentile(&m.queries_ms, 50.0),
            f.query_p99,
            m.failures.len()
        );
        for failure in m.failures.iter().take(3) {
            println!("  failed: {failure}");
        }
        failures += m.failures.len();
        figures.push(f);
    }
    writing.await?;
    reading.await?;
    let events: i64 = on_db!(&db, pool => sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(pool).await)?;
    running.stop().await;
    db.close().await;
    if let Some(name) = drop_after {
        let admin = Db::connect(Some(&args.postgres)).await?;
        on_db!(&admin, pool => sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(pool).await.map(|_| ()))?;
        admin.close().await;
    }

    let third = (figures.len() / 3).max(1);
    let (first, last) = (&figures[..third.min(figures.len())], &figures[figures.len().saturating_sub(third)..]);
    let avg = |part: &[Figures], f: fn(&Figures) -> f64| mean(part.iter().map(f));
    let (rss_first, rss_last) = (avg(first, |f| f.rss_mb), avg(last, |f| f.rss_mb));
    let (mut_first, mut_last) = (avg(first, |f| f.mutation_p99), avg(last, |f| f.mutation_p99));
    let (query_first, query_last) = (avg(first, |f| f.query_p99), avg(last, |f| f.query_p99));
    let rss_flat = rss_last <= rss_first * 1.2 + 16.0;
    let p99_flat = |a: f64, b: f64| a.is_nan() || b.is_nan() || b <= a * 1.5 + 5.0;
    let flat = rss_flat && p99_flat(mut_first, mut_last) && p99_flat(query_first, query_last);
    println!(
        "verdict: {} — RSS {rss_first:.1} → {rss_last:.1} MB, mutation p99 {mut_first:.1} → {mut_last:.1} ms, \
         query p99 {query_first:.1} → {query_last:.1} ms (first vs last third); {events} events stored, {failures} requests failed",
        if flat && failures == 0 { "FLAT" } else if flat { "flat, but requests failed" } else { "NOT FLAT" }
    );
    Ok(flat && failures == 0)
}
