//! The application's state: the stores, the projector, and the one way a use case commits what its
//! aggregates decided — atomically, with a bounded retry on conflict, then waiting until the views
//! show it so the caller reads its own write.

use crate::error::AppError;
use crate::store::{append, AggregateStore, AppendError, Pending};
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::member::Member;
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::Participant;
use konsortium_domain::place::TrainingPlace;
use konsortium_domain::reimbursement::MonthlyReimbursement;
use konsortium_domain::split::SubContractSplit;
use konsortium_projections::{views, Db, Projector, ProjectorOptions};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a mutation waits for the views to show its events before answering anyway.
const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a use case decides again on fresh state when another command won the race for one of
/// its aggregates. Each retry re-reads everything, so a rule is never judged on stale state.
const ATTEMPTS: u32 = 12;

/// Who asked for a change and through which request; stored as metadata on every event for audit.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subject: String,
    pub request_id: String,
}

impl Actor {
    /// Until bearer tokens arrive every caller is anonymous; the field is there so audits need no
    /// schema change then.
    pub fn anonymous() -> Actor {
        Actor::new("anonymous")
    }

    /// A caller with a fresh request id (the demo loader, the command line).
    pub fn new(subject: &str) -> Actor {
        Actor { subject: subject.to_string(), request_id: uuid::Uuid::new_v4().to_string() }
    }

    fn metadata(&self) -> Value {
        let now =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        json!({ "actor": self.subject, "request_id": self.request_id, "recorded_at": now })
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
    projector: Arc<Projector>,
    members: AggregateStore<Member>,
    agreements: AggregateStore<FrameworkAgreement>,
    splits: AggregateStore<SubContractSplit>,
    places: AggregateStore<TrainingPlace>,
    participants: AggregateStore<Participant>,
    reports: AggregateStore<MonthlyReimbursement>,
}

impl App {
    /// Migrates the database, prepares the views and brings them up to date.
    pub async fn open(db: Db, options: ProjectorOptions) -> Result<App, AppError> {
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
                projector,
                db,
            }),
        })
    }

    /// Starts the projector's background loops; `projector().shutdown()` ends them between batches.
    pub fn spawn_projector(&self) -> Vec<JoinHandle<()>> {
        self.inner.projector.spawn()
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
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

    /// Stores what one or more aggregates decided, all or nothing, then waits until the views
    /// include it. A conflict surfaces as `CONFLICT`; [`retrying`](Self::retrying) decides again.
    pub async fn commit(&self, changes: &[Pending], actor: &Actor) -> Result<(), AppError> {
        let head = append(&self.inner.db, changes, &actor.metadata()).await.map_err(|err| match err {
            AppendError::Conflict { aggregate_type, aggregate_id } => {
                tracing::debug!(aggregate_type, aggregate_id, "optimistic lock lost");
                AppError::Conflict(
                    "someone else changed this record at the same moment; nothing was saved, please try again".into(),
                )
            }
            AppendError::Db(err) => AppError::from(err),
            AppendError::Serialise(err) => AppError::Internal(Box::new(err)),
        })?;
        if let Some(head) = head {
            let mut written: Vec<&str> =
                changes.iter().filter(|c| !c.is_empty()).map(Pending::aggregate_type).collect();
            written.sort_unstable();
            written.dedup();
            if !self.inner.projector.wait_for(head, &written, READ_YOUR_WRITES_TIMEOUT).await {
                tracing::warn!(?head, "views lag behind a command; answering before they caught up");
            }
        }
        Ok(())
    }

    /// Runs a use case's load–decide–commit step again when it lost an optimistic lock, so a
    /// concurrent loser is judged on the winner's state (and gets the rule it now breaks) instead of
    /// a bare conflict. Gives up with `CONFLICT` after a bounded number of attempts.
    pub async fn retrying<T, F, Fut>(&self, mut step: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match step().await {
                Err(AppError::Conflict(message)) if attempt >= ATTEMPTS => return Err(AppError::Conflict(message)),
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
