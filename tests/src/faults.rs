//! The fault suite's workload and its checks: several clients drive a consortium's real month
//! (members, agreements, allocations, places, participants, reports, month-end invoicing, payments,
//! payout statements, erasure) over HTTP against a server process while faults hit it, retrying
//! each call with its idempotency key until it is answered, and recording every answer. The checks
//! then hold the store to what was acknowledged.

use crate::workload::{org_number, Rng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Mutex;

/// The months reports are submitted, invoiced and paid out for.
pub const MONTHS: [&str; 4] = ["2024-09", "2024-10", "2024-11", "2024-12"];

/// Error codes a server gives for a refusal that a retry would get again; anything else (a lost
/// connection, `INTERNAL` while the database restarts, `TIMEOUT`) is retried with the same key.
const FINAL: [&str; 6] = ["VALIDATION", "NOT_FOUND", "CONFLICT", "BAD_REQUEST", "FORBIDDEN", "UNAUTHENTICATED"];

/// How often a call is tried before the client gives up on it (its outcome then stays unknown).
const ATTEMPTS: u32 = 300;

/// Where the server listens now: it moves when a killed server is started again.
#[derive(Default)]
pub struct Target {
    base: RwLock<String>,
}

impl Target {
    pub fn set(&self, base: &str) {
        if let Ok(mut current) = self.base.write() {
            *current = base.to_string();
        }
    }

    pub fn get(&self) -> String {
        self.base.read().map(|b| b.clone()).unwrap_or_default()
    }
}

/// A stored event an acknowledged mutation promises: its type, the aggregate, and a piece of its
/// payload (a participant's id, an invoice number).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Promise {
    pub event_type: &'static str,
    pub aggregate_id: Option<String>,
    pub payload_holds: Option<String>,
}

/// What the clients built and were told, for the checks.
#[derive(Default)]
pub struct World {
    members: Vec<String>,
    agreements: Vec<String>,
    allocations: Vec<(String, String, String)>,
    places: Vec<(String, String, String)>,
    participants: Vec<String>,
    pub erased: Vec<String>,
    reports: Vec<(String, u64)>,
    invoices: Vec<(String, i64)>,
    /// Every acknowledged mutation's stored events.
    pub promises: Vec<Promise>,
    pub statement_months: BTreeSet<String>,
}

/// Counts over a run, for the report.
#[derive(Default, Debug)]
pub struct Tally {
    pub acknowledged: AtomicU64,
    pub refused: AtomicU64,
    pub unanswered: AtomicU64,
    pub retries: AtomicU64,
    /// Answers with an error a retry may not get again (`INTERNAL`, `TIMEOUT`), retried.
    pub errors: AtomicU64,
}

pub struct Clients {
    pub target: Arc<Target>,
    pub world: Arc<Mutex<World>>,
    pub tally: Arc<Tally>,
    token: String,
    http: reqwest::Client,
    serial: AtomicU64,
}

enum Answer {
    Acked(Value),
    Refused,
    Unanswered,
}

impl Clients {
    pub fn new(target: Arc<Target>, token: String) -> Arc<Clients> {
        Arc::new(Clients {
            target,
            world: Arc::default(),
            tally: Arc::default(),
            token,
            http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_default(),
            serial: AtomicU64::new(0),
        })
    }

    fn next(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a mutation with an idempotency key until the server answers it, then says how.
    async fn call(&self, query: &str, mut variables: Value) -> Answer {
        variables["key"] = json!(uuid::Uuid::new_v4().to_string());
        let body = json!({ "query": query, "variables": variables });
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                self.tally.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let sent = self
                .http
                .post(format!("{}/graphql", self.target.get()))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await;
            let Ok(response) = sent else { continue };
            let Ok(answer) = response.json::<Value>().await else { continue };
            match answer["errors"][0]["extensions"]["code"].as_str() {
                None if answer["data"].is_object() => {
                    self.tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                    return Answer::Acked(answer["data"].clone());
                }
                Some(code) if FINAL.contains(&code) => {
                    self.tally.refused.fetch_add(1, Ordering::Relaxed);
                    return Answer::Refused;
                }
                _ => {
                    self.tally.errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
        }
        self.tally.unanswered.fetch_add(1, Ordering::Relaxed);
        Answer::Unanswered
    }

    async fn promise(&self, event_type: &'static str, aggregate_id: Option<&str>, payload_holds: Option<&str>) {
        self.world.lock().await.promises.push(Promise {
            event_type,
            aggregate_id: aggregate_id.map(str::to_string),
            payload_holds: payload_holds.map(str::to_string),
        });
    }

    /// The consortium as seller, and a first member and agreement, so every client has something
    /// to act on from its first step.
    pub async fn prepare(&self) {
        let q = "mutation($i: RegisterConsortiumInput!, $key: String) { registerConsortium(input: $i, idempotencyKey: $key) { orgNumber } }";
        let registered = self.call(q, json!({ "i": crate::tour::consortium_input() })).await;
        assert!(matches!(registered, Answer::Acked(_)), "the consortium must be registered before the run");
        self.register_member().await;
        self.register_agreement().await;
    }

    /// One client: `steps` random mutations, each picked among those the world so far allows.
    pub async fn run(self: Arc<Self>, seed: u64, steps: u32) {
        let mut rng = Rng::new(seed);
        for _ in 0..steps {
            // A call no retry got answered means the server did not recover: the run has failed,
            // and waiting out every other call would only take long.
            if self.tally.unanswered.load(Ordering::Relaxed) > 0 {
                return;
            }
            let pick = rng.below(100);
            let world = self.world.lock().await;
            let (members, agreements) = (world.members.clone(), world.agreements.clone());
            let allocation = pick_from(&mut rng, &world.allocations);
            let place = pick_from(&mut rng, &world.places);
            let participant = pick_from(&mut rng, &world.participants);
            let report = pick_from(&mut rng, &world.reports);
            let invoice = pick_from(&mut rng, &world.invoices);
            drop(world);
            let member = pick_from(&mut rng, &members);
            let agreement = pick_from(&mut rng, &agreements);
            let month = MONTHS[usize::try_from(rng.below(MONTHS.len() as u64)).unwrap_or(0)];
            match (pick, member, agreement) {
                (_, None, _) | (0..=4, _, _) => self.register_member().await,
                (_, _, None) | (5..=8, _, _) => self.register_agreement().await,
                (9..=18, Some(member), Some(agreement)) => self.allocate(&agreement, &member).await,
                (19..=30, _, _) => match allocation {
                    Some((agreement, member, allocation)) => self.open_place(&agreement, &member, &allocation).await,
                    None => self.register_participant().await,
                },
                (31..=42, _, _) => self.register_participant().await,
                (43..=56, _, _) => match (place, participant) {
                    (Some((_, _, place)), Some(who)) => self.fill(&place, &who, rng.below(28) + 1).await,
                    _ => self.register_participant().await,
                },
                (57..=70, _, _) => match place {
                    Some((agreement, member, _)) => self.submit(&agreement, &member, month).await,
                    None => self.register_member().await,
                },
                (71..=83, _, _) => match report {
                    Some((report, version)) => self.approve(&report, version).await,
                    None => self.register_participant().await,
                },
                (84..=88, _, _) => self.issue_invoices(month).await,
                (89..=92, _, _) => match invoice {
                    Some((invoice, payable)) => self.pay(&invoice, payable).await,
                    None => self.issue_invoices(month).await,
                },
                (93..=96, _, _) => self.issue_statements(month).await,
                _ => match participant {
                    Some(who) => self.erase(&who).await,
                    None => self.register_participant().await,
                },
            }
        }
        // Every client closes the last month at the end, racing the others for numbers and months.
        let last = MONTHS[MONTHS.len() - 1];
        self.issue_invoices(last).await;
        self.issue_statements(last).await;
    }

    async fn register_member(&self) {
        let n = u32::try_from(self.next() % 1_000_000).unwrap_or(0);
        let input = json!({ "name": format!("Medlem {n}"), "orgNumber": org_number(n + 500_000).to_string(),
            "category": "ASF", "targetGroupSharePercent": "45", "joinedOn": "2024-01-01" });
        let q = "mutation($i: RegisterMemberInput!, $key: String) { registerMember(input: $i, idempotencyKey: $key) { id } }";
        if let Answer::Acked(data) = self.call(q, json!({ "i": input })).await {
            let id = text(&data["registerMember"]["id"]);
            self.promise("MemberRegistered", Some(&id), None).await;
            self.world.lock().await.members.push(id);
        }
    }

    async fn register_agreement(&self) {
        let mut input = crate::tour::ostersund_input();
        input["contractReference"] = json!(format!("RA-FAULT-{}", self.next()));
        input["contractedPlaces"] = json!(20);
        let q = "mutation($i: RegisterAgreementInput!, $key: String) { registerAgreement(input: $i, idempotencyKey: $key) { id } }";
        if let Answer::Acked(data) = self.call(q, json!({ "i": input })).await {
            let id = text(&data["registerAgreement"]["id"]);
            self.promise("AgreementRegistered", Some(&id), None).await;
            self.world.lock().await.agreements.push(id);
        }
    }

    async fn allocate(&self, agreement: &str, member: &str) {
        let input = json!({ "agreementId": agreement, "memberId": member, "places": 2, "startDate": "2024-09-01" });
        let q = "mutation($i: AllocatePlacesInput!, $key: String) { allocatePlaces(input: $i, idempotencyKey: $key) { id } }";
        if let Answer::Acked(data) = self.call(q, json!({ "i": input })).await {
            let id = text(&data["allocatePlaces"]["id"]);
            self.promise("PlacesAllocated", Some(agreement), Some(&id)).await;
            self.world.lock().await.allocations.push((agreement.into(), member.into(), id));
        }
    }

    async fn open_place(&self, agreement: &str, member: &str, allocation: &str) {
        let q = "mutation($a: ID!, $l: ID!, $key: String) { openPlace(agreementId: $a, allocationId: $l, openedOn: \"2024-09-01\", idempotencyKey: $key) { id } }";
        if let Answer::Acked(data) = self.call(q, json!({ "a": agreement, "l": allocation })).await {
            let id = text(&data["openPlace"]["id"]);
            self.promise("PlaceOpened", Some(&id), None).await;
            self.world.lock().await.places.push((agreement.into(), member.into(), id));
        }
    }

    async fn register_participant(&self) {
        let serial = u16::try_from(self.next() % 999).unwrap_or(0);
        let input = crate::tour::participant_input(&format!("Deltagare {serial}"), serial);
        let q = "mutation($i: RegisterParticipantInput!, $key: String) { registerParticipant(input: $i, idempotencyKey: $key) { id } }";
        if let Answer::Acked(data) = self.call(q, json!({ "i": input })).await {
            let id = text(&data["registerParticipant"]["id"]);
            self.promise("ParticipantRegistered", Some(&id), None).await;
            self.world.lock().await.participants.push(id);
        }
    }

    async fn fill(&self, place: &str, participant: &str, day: u64) {
        let q = "mutation($p: ID!, $who: ID!, $from: String!, $key: String) { fillPlace(placeId: $p, participantId: $who, from: $from, idempotencyKey: $key) { id } }";
        let from = format!("2024-09-{day:02}");
        if let Answer::Acked(_) = self.call(q, json!({ "p": place, "who": participant, "from": from })).await {
            self.promise("PlaceFilled", Some(place), Some(participant)).await;
        }
    }

    async fn submit(&self, agreement: &str, member: &str, month: &str) {
        let input = json!({ "agreementId": agreement, "memberId": member, "month": month });
        let q = "mutation($i: MonthlyReportInput!, $key: String) { submitMonthlyReport(input: $i, idempotencyKey: $key) { id version } }";
        if let Answer::Acked(data) = self.call(q, json!({ "i": input })).await {
            let id = text(&data["submitMonthlyReport"]["id"]);
            let version = data["submitMonthlyReport"]["version"].as_u64().unwrap_or(1);
            self.promise("ReportSubmitted", Some(&id), Some(&format!("\"version\":{version}"))).await;
            self.world.lock().await.reports.push((id, version));
        }
    }

    async fn approve(&self, report: &str, version: u64) {
        let q = "mutation($r: ID!, $v: Int!, $key: String) { approveMonthlyReport(reportId: $r, version: $v, idempotencyKey: $key) { status } }";
        if let Answer::Acked(_) = self.call(q, json!({ "r": report, "v": version })).await {
            self.promise("ReportApproved", Some(report), None).await;
        }
    }

    async fn issue_invoices(&self, month: &str) {
        let q = "mutation($m: String!, $key: String) { issueInvoices(month: $m, idempotencyKey: $key) { id number payableOre } }";
        if let Answer::Acked(data) = self.call(q, json!({ "m": month })).await {
            for invoice in data["issueInvoices"].as_array().cloned().unwrap_or_default() {
                let (id, number) = (text(&invoice["id"]), text(&invoice["number"]));
                self.promise("InvoiceIssued", Some(&id), Some(&format!("\"{number}\""))).await;
                let payable = invoice["payableOre"].as_i64().unwrap_or(0);
                self.world.lock().await.invoices.push((id, payable));
            }
        }
    }

    async fn pay(&self, invoice: &str, payable: i64) {
        let today = konsortium_api::application::today().to_string();
        let q = "mutation($i: ID!, $a: Int!, $on: String!, $key: String) { registerPayment(invoiceId: $i, amountOre: $a, paidOn: $on, idempotencyKey: $key) { status } }";
        let amount = (payable / 2).max(1);
        if let Answer::Acked(_) = self.call(q, json!({ "i": invoice, "a": amount, "on": today })).await {
            self.promise("PaymentRegistered", Some(invoice), None).await;
        }
    }

    async fn issue_statements(&self, month: &str) {
        let q =
            "mutation($m: String!, $key: String) { issuePayoutStatements(month: $m, idempotencyKey: $key) { number } }";
        if let Answer::Acked(data) = self.call(q, json!({ "m": month })).await {
            for statement in data["issuePayoutStatements"].as_array().cloned().unwrap_or_default() {
                let number = format!("\"{}\"", text(&statement["number"]));
                self.promise("PayoutStatementIssued", None, Some(&number)).await;
            }
            self.world.lock().await.statement_months.insert(month.to_string());
        }
    }

    async fn erase(&self, participant: &str) {
        let q = "mutation($p: ID!, $key: String) { eraseParticipant(participantId: $p, reason: OBJECTION, idempotencyKey: $key) { erased } }";
        if let Answer::Acked(_) = self.call(q, json!({ "p": participant })).await {
            self.promise("ParticipantErased", Some(participant), None).await;
            let mut world = self.world.lock().await;
            world.participants.retain(|p| p != participant);
            world.erased.push(participant.to_string());
        }
    }
}

fn pick_from<T: Clone>(rng: &mut Rng, items: &[T]) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    items.get(usize::try_from(rng.below(items.len() as u64)).unwrap_or(0)).cloned()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// How many stored events keep each promise: a promise made twice needs two events.
pub fn group(promises: &[Promise]) -> BTreeMap<Promise, usize> {
    let mut counts = BTreeMap::new();
    for promise in promises {
        *counts.entry(promise.clone()).or_insert(0) += 1;
    }
    counts
}
