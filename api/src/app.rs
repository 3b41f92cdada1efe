//! The application's state: the stores, the projector, and the one way a use case commits what its
//! aggregates decided — atomically, with a bounded retry on conflict, then waiting until the views
//! show it so the caller reads its own write.

use crate::auth::{Keys, Principal, Role, Scope};
use crate::error::{code, AppError};
use crate::idempotency;
use crate::store::{append, AggregateStore, AppendError, Pending};
use crate::vault::Vault;
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::delivery::DeliveryMonth;
use konsortium_domain::invoice::{Consortium, Invoice, InvoiceSeries};
use konsortium_domain::member::Member;
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::Participant;
use konsortium_domain::payout::{MemberPayouts, PayoutPolicy};
use konsortium_domain::place::TrainingPlace;
use konsortium_domain::reimbursement::MonthlyReimbursement;
use konsortium_domain::split::SubContractSplit;
use konsortium_projections::event_log::Checkpoint;
use konsortium_projections::{views, Db, Projector, ProjectorOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The turn of one caller's idempotency key, alive while a request holds or awaits it.
type Turn = Weak<tokio::sync::Mutex<()>>;

/// How long a mutation waits for the views to show its events before answering anyway.
const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a use case decides again on fresh state when another command won the race for one of
/// its aggregates. Each retry re-reads everything, so a rule is never judged on stale state.
const ATTEMPTS: u32 = 12;

/// Who asked for a change, in which role and through which request; stored as metadata on every
/// event for audit.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subject: String,
    pub role: Role,
    pub scope: Scope,
    pub request_id: String,
    /// The client's key for the mutation at hand: a retry with it returns the first answer.
    pub idempotency_key: Option<String>,
}

impl Actor {
    /// The consortium itself acting (the demo loader, the command line): staff rights.
    pub fn system(subject: &str) -> Actor {
        Actor {
            subject: subject.to_string(),
            role: Role::Staff,
            scope: Scope::Everything,
            request_id: uuid::Uuid::new_v4().to_string(),
            idempotency_key: None,
        }
    }

    /// A verified caller of one request.
    pub fn of(principal: Principal, request_id: &str) -> Actor {
        Actor {
            subject: principal.subject,
            role: principal.role,
            scope: principal.scope,
            request_id: request_id.to_string(),
            idempotency_key: None,
        }
    }

    /// The same caller for one mutation with its idempotency key.
    pub fn with_key(&self, key: Option<String>) -> Actor {
        Actor { idempotency_key: key, ..self.clone() }
    }

    fn metadata(&self, at: time::OffsetDateTime) -> Value {
        let now = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        json!({ "actor": self.subject, "role": self.role.as_str(), "request_id": self.request_id, "recorded_at": now })
    }
}

/// One use case's try at a mutation, known by its input: replays the first answer to a retry with
/// the same idempotency key, and stores the answer with the events when it commits.
pub struct Attempt<'a> {
    app: &'a App,
    actor: &'a Actor,
    fingerprint: String,
    /// Held from the first look at the key until the use case ends.
    turn: tokio::sync::OnceCell<tokio::sync::OwnedMutexGuard<()>>,
}

impl Attempt<'_> {
    /// The first answer, when the caller's key was used before with the same input; `CONFLICT` when
    /// it was used with other input.
    ///
    /// Requests with the same caller and key take turns on this server: a retry arriving while the
    /// first is still running waits for its answer instead of running too. A month-end run commits
    /// many appends before it stores its answer, so without turns fifteen of sixteen simultaneous
    /// retries were told `CONFLICT` (found by the concurrency suite). Retries sent to different
    /// servers still meet only at the key's row: the loser of a run gets `CONFLICT`, "try again".
    pub async fn replay<T: DeserializeOwned>(&self) -> Result<Option<T>, AppError> {
        let Some(key) = &self.actor.idempotency_key else { return Ok(None) };
        self.turn.get_or_init(|| self.app.turn(&self.actor.subject, key)).await;
        let Some(stored) = idempotency::find(self.app.db(), &self.actor.subject, key).await? else { return Ok(None) };
        // A rule, not a lost race: deciding again cannot change the answer, so it is not retried
        // (a run retried 200 times slept past the request timeout before answering).
        if stored.fingerprint != self.fingerprint {
            return Err(AppError::Rule {
                code: code::CONFLICT,
                rule: "IdempotencyKeyReused".into(),
                message: "this idempotency key was used for another request; use a new key for a new request".into(),
            });
        }
        serde_json::from_str(&stored.answer).map(Some).map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// Commits the changes (and the key with `answer`, if the caller sent one) and returns `answer`.
    pub async fn commit<T: Serialize>(&self, changes: &[Pending], answer: T) -> Result<T, AppError> {
        let key = match &self.actor.idempotency_key {
            Some(key) => Some(idempotency::Record {
                subject: self.actor.subject.clone(),
                key: key.clone(),
                fingerprint: self.fingerprint.clone(),
                answer: serde_json::to_string(&answer).map_err(|e| AppError::Internal(Box::new(e)))?,
            }),
            None => None,
        };
        self.app.commit_keyed(changes, self.actor, key.as_ref()).await?;
        Ok(answer)
    }

    /// [`commit`](Self::commit) without waiting for the views: a run that commits many times waits
    /// once, for everything it wrote, while the projector works on the earlier commits meanwhile.
    pub async fn commit_unwaited<T: Serialize>(
        &self,
        changes: &[Pending],
        answer: T,
    ) -> Result<(T, Written), AppError> {
        if self.actor.idempotency_key.is_some() {
            // The stored answer must not be visible before the views it describes: wait as usual.
            let answer = self.commit(changes, answer).await?;
            return Ok((answer, Written::default()));
        }
        let written = self.app.store_keyed(changes, self.actor, None).await?;
        Ok((answer, written))
    }
}

/// What commits stored, for one wait for the views after several of them.
#[derive(Debug, Default, Clone)]
pub struct Written {
    head: Option<Checkpoint>,
    types: Vec<&'static str>,
}

impl Written {
    /// Everything `self` and `other` wrote.
    pub fn and(mut self, other: Written) -> Written {
        self.head = self.head.max(other.head);
        self.types.extend(other.types);
        self.types.sort_unstable();
        self.types.dedup();
        self
    }
}

/// A member's id follows from its org number, so one enterprise cannot be registered twice, even by
/// two requests at the same moment: the second finds the aggregate taken.
pub fn member_id(org: &OrgNumber) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("se-orgnr:{}", org.digits()).as_bytes()).to_string()
}

#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// Where queries read the views: a read replica when one is configured, else `db`.
    reads: Option<Db>,
    keys: Keys,
    /// Seals and opens participants' personal data.
    vault: Vault,
    projector: Arc<Projector>,
    members: AggregateStore<Member>,
    agreements: AggregateStore<FrameworkAgreement>,
    splits: AggregateStore<SubContractSplit>,
    places: AggregateStore<TrainingPlace>,
    participants: AggregateStore<Participant>,
    reports: AggregateStore<MonthlyReimbursement>,
    consortium: AggregateStore<Consortium>,
    series: AggregateStore<InvoiceSeries>,
    invoices: AggregateStore<Invoice>,
    deliveries: AggregateStore<DeliveryMonth>,
    payout_policy: AggregateStore<PayoutPolicy>,
    payouts: AggregateStore<MemberPayouts>,
    /// Seconds added to the clock when events are stamped `recorded_at`; zero except in tests that
    /// need events recorded on different days (see [`App::shift_recording_clock`]).
    recording_offset: std::sync::atomic::AtomicI64,
    /// One turn per caller and idempotency key in flight (see [`Attempt::replay`]).
    turns: std::sync::Mutex<HashMap<(String, String), Turn>>,
}

impl App {
    /// Migrates the database, prepares the views and brings them up to date. Tokens are checked
    /// with a random key, and personal data sealed with a random KEK, only this process knows: right
    /// for tests, which mint their own tokens and read back only what they registered.
    pub async fn open(db: Db, options: ProjectorOptions) -> Result<App, AppError> {
        App::open_with(db, options, Keys::random(), Vault::random()).await
    }

    /// Like [`open`](Self::open), checking tokens with the configured key and sealing personal data
    /// with the configured KEK.
    pub async fn open_with(db: Db, options: ProjectorOptions, keys: Keys, vault: Vault) -> Result<App, AppError> {
        db.migrate().await?;
        let projector = Arc::new(Projector::new(db.clone(), views::all(), options));
        projector.prepare().await?;
        // A view stopped on an event it cannot decode must not keep the others from serving; its
        // loop keeps retrying and logging once the server runs.
        if let Err(err) = projector.catch_up().await {
            tracing::error!(error = %err, "a view could not catch up; serving the others");
        }
        Ok(App {
            inner: Arc::new(Inner {
                members: AggregateStore::new(&db),
                agreements: AggregateStore::new(&db),
                splits: AggregateStore::new(&db),
                places: AggregateStore::new(&db),
                participants: AggregateStore::new(&db),
                reports: AggregateStore::new(&db),
                consortium: AggregateStore::new(&db),
                series: AggregateStore::new(&db),
                invoices: AggregateStore::new(&db),
                deliveries: AggregateStore::new(&db),
                payout_policy: AggregateStore::new(&db),
                payouts: AggregateStore::new(&db),
                projector,
                db,
                reads: None,
                keys,
                vault,
                recording_offset: std::sync::atomic::AtomicI64::new(0),
                turns: Default::default(),
            }),
        })
    }

    /// Starts the projector's background loops; `projector().shutdown()` ends them between batches.
    pub fn spawn_projector(&self) -> Vec<JoinHandle<()>> {
        self.inner.projector.spawn()
    }

    /// Stamps the events committed from now on as recorded `offset` later than the clock says, so a
    /// test can show the books as they stood on an earlier day (`utilisation(asOf:)`) without
    /// waiting for midnight. Nothing outside tests calls it; the stamp never comes from a client.
    pub fn shift_recording_clock(&self, offset: time::Duration) {
        let seconds = offset.whole_seconds();
        self.inner.recording_offset.store(seconds, std::sync::atomic::Ordering::SeqCst);
    }

    fn recording_time(&self) -> time::OffsetDateTime {
        let now = time::OffsetDateTime::now_utc();
        let offset = self.inner.recording_offset.load(std::sync::atomic::Ordering::SeqCst);
        now.checked_add(time::Duration::seconds(offset)).unwrap_or(now)
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Serves queries from a read replica of the database; commands, the projector and the waits
    /// of read-your-writes stay on the primary. Call before the app is shared.
    pub fn with_read_replica(mut self, replica: Db) -> App {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.reads = Some(replica),
            None => tracing::warn!("the app is shared already; queries stay on the primary"),
        }
        self
    }

    /// The database queries read the views from.
    pub fn reads(&self) -> &Db {
        self.inner.reads.as_ref().unwrap_or(&self.inner.db)
    }

    /// The key tokens are signed and checked with.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// The KEK personal data is sealed and opened with.
    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    pub fn projector(&self) -> &Arc<Projector> {
        &self.inner.projector
    }

    pub fn members(&self) -> &AggregateStore<Member> {
        &self.inner.members
    }

    pub fn agreements(&self) -> &AggregateStore<FrameworkAgreement> {
        &self.inner.agreements
    }

    pub fn splits(&self) -> &AggregateStore<SubContractSplit> {
        &self.inner.splits
    }

    pub fn places(&self) -> &AggregateStore<TrainingPlace> {
        &self.inner.places
    }

    pub fn participants(&self) -> &AggregateStore<Participant> {
        &self.inner.participants
    }

    pub fn reports(&self) -> &AggregateStore<MonthlyReimbursement> {
        &self.inner.reports
    }

    pub fn consortium(&self) -> &AggregateStore<Consortium> {
        &self.inner.consortium
    }

    pub fn series(&self) -> &AggregateStore<InvoiceSeries> {
        &self.inner.series
    }

    pub fn invoices(&self) -> &AggregateStore<Invoice> {
        &self.inner.invoices
    }

    pub fn deliveries(&self) -> &AggregateStore<DeliveryMonth> {
        &self.inner.deliveries
    }

    /// The consortium's payout policy.
    pub fn payout_policy(&self) -> &AggregateStore<PayoutPolicy> {
        &self.inner.payout_policy
    }

    /// Members' payout ledgers, by member id.
    pub fn payouts(&self) -> &AggregateStore<MemberPayouts> {
        &self.inner.payouts
    }

    /// Starts a use case's mutation; `input` (with the use case's name) tells a retry from a new
    /// request under the same idempotency key.
    pub fn attempt<'a>(&'a self, actor: &'a Actor, use_case: &str, input: &impl std::fmt::Debug) -> Attempt<'a> {
        let digest = Sha256::digest(format!("{use_case}:{input:?}").as_bytes());
        Attempt { app: self, actor, fingerprint: hex::encode(digest), turn: Default::default() }
    }

    /// Waits for the turn of a caller's idempotency key; the turn passes on when the guard drops.
    async fn turn(&self, subject: &str, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut turns = self.inner.turns.lock().unwrap_or_else(PoisonError::into_inner);
            turns.retain(|_, turn| turn.strong_count() > 0);
            let turn = turns.entry((subject.to_string(), key.to_string())).or_default();
            match turn.upgrade() {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    *turn = Arc::downgrade(&lock);
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    /// Stores what one or more aggregates decided, all or nothing, with the idempotency record if
    /// any, then waits until the views include it. A conflict surfaces as `CONFLICT`;
    /// [`retrying`](Self::retrying) decides again.
    async fn commit_keyed(
        &self,
        changes: &[Pending],
        actor: &Actor,
        key: Option<&idempotency::Record>,
    ) -> Result<(), AppError> {
        let written = self.store_keyed(changes, actor, key).await?;
        self.wait_for_views(&written).await;
        Ok(())
    }

    /// [`commit_keyed`](Self::commit_keyed) without the wait: the caller waits once for many.
    async fn store_keyed(
        &self,
        changes: &[Pending],
        actor: &Actor,
        key: Option<&idempotency::Record>,
    ) -> Result<Written, AppError> {
        let head = append(&self.inner.db, changes, &actor.metadata(self.recording_time()), key).await.map_err(
            |err| match err {
                AppendError::Conflict { aggregates } => {
                    tracing::debug!(aggregates, "optimistic lock lost");
                    AppError::Conflict(
                        "someone else changed this record at the same moment; nothing was saved, please try again"
                            .into(),
                    )
                }
                AppendError::KeyTaken => {
                    AppError::Conflict("a request with this idempotency key is being processed; try again".into())
                }
                AppendError::Db(err) => AppError::from(err),
                AppendError::Serialise(err) => AppError::Internal(Box::new(err)),
            },
        )?;
        let mut types: Vec<&'static str> =
            changes.iter().filter(|c| !c.is_empty()).map(Pending::aggregate_type).collect();
        types.sort_unstable();
        types.dedup();
        Ok(Written { head, types })
    }

    /// Waits until the views that read what was written include it (or the read-your-writes timeout
    /// passes: then the caller answers anyway, and says so in the log).
    pub async fn wait_for_views(&self, written: &Written) {
        if let Some(head) = written.head {
            if !self.inner.projector.wait_for(head, &written.types, READ_YOUR_WRITES_TIMEOUT).await {
                tracing::warn!(?head, "views lag behind a command; answering before they caught up");
            }
        }
    }

    /// Runs a use case's load–decide–commit step again when it lost an optimistic lock, so a
    /// concurrent loser is judged on the winner's state (and gets the rule it now breaks) instead of
    /// a bare conflict. Gives up with `CONFLICT` after a bounded number of attempts.
    pub async fn retrying<T, F, Fut>(&self, step: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        self.retrying_at_most(ATTEMPTS, step).await
    }

    /// [`retrying`](Self::retrying) with another bound: for a step whose lock many writers share on
    /// purpose (a number series), where losing a race is the normal case and not a sign of trouble.
    pub async fn retrying_at_most<T, F, Fut>(&self, attempts: u32, mut step: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match step().await {
                Err(AppError::Conflict(message)) if attempt >= attempts => return Err(AppError::Conflict(message)),
                Err(AppError::Conflict(_)) => {
                    let jitter = uuid::Uuid::new_v4().as_u128() % 8;
                    let wait = u64::from(attempt) * 2 + u64::try_from(jitter).unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                other => return other,
            }
        }
    }
}
