//! The application: stores, projector and the glue that runs a command and then lets the caller read
//! what it wrote.

use crate::error::{AppError, DomainError};
use crate::store::AggregateStore;
use cqrs_es::Aggregate;
use konsortium_domain::agreement::FrameworkAgreement;
use konsortium_domain::member::{Member, MemberStanding};
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::place::TrainingPlace;
use konsortium_domain::reimbursement::MonthlyReimbursement;
use konsortium_domain::split::SubContractSplit;
use konsortium_projections::{event_log, views, Db, Projector, ProjectorOptions};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a mutation waits for the views to show its events before answering anyway.
const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(10);

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
        Actor { subject: "anonymous".into(), request_id: uuid::Uuid::new_v4().to_string() }
    }

    fn metadata(&self) -> HashMap<String, String> {
        let now =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        HashMap::from([
            ("actor".to_string(), self.subject.clone()),
            ("request_id".to_string(), self.request_id.clone()),
            ("recorded_at".to_string(), now),
        ])
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
    reports: AggregateStore<MonthlyReimbursement>,
}

impl App {
    /// Migrates the database, prepares the views and brings them up to date.
    pub async fn open(db: Db, options: ProjectorOptions) -> Result<App, AppError> {
        db.migrate().await?;
        let projector = Arc::new(Projector::new(db.clone(), views::all(), options));
        projector.prepare().await?;
        projector.catch_up().await?;
        Ok(App {
            inner: Arc::new(Inner {
                members: AggregateStore::new(&db),
                agreements: AggregateStore::new(&db),
                splits: AggregateStore::new(&db),
                places: AggregateStore::new(&db),
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

    pub fn reports(&self) -> &AggregateStore<MonthlyReimbursement> {
        &self.inner.reports
    }

    /// A registered agreement's current state, read from its events (not a view), because commands
    /// decide on it.
    pub async fn registered_agreement(&self, id: &str) -> Result<FrameworkAgreement, AppError> {
        let agreement = self.agreements().load(id).await?;
        match agreement.terms {
            Some(_) => Ok(agreement),
            None => Err(AppError::NotFound(format!("no agreement with id {id}"))),
        }
    }

    /// A registered member's standing (category, target-group share, still a member), from its events.
    pub async fn member_standing(&self, id: &str) -> Result<MemberStanding, AppError> {
        self.members().load(id).await?.standing(id).ok_or_else(|| AppError::NotFound(format!("no member with id {id}")))
    }

    /// Runs a command, then waits until the views include its events.
    pub async fn execute<A>(
        &self,
        store: &AggregateStore<A>,
        id: &str,
        command: A::Command,
        actor: &Actor,
    ) -> Result<(), AppError>
    where
        A: Aggregate<Services = ()> + 'static,
        A::Error: DomainError + Send + Sync + 'static,
    {
        store.execute(id, command, actor.metadata()).await?;
        self.await_views(A::TYPE, id).await
    }

    async fn await_views(&self, aggregate_type: &str, id: &str) -> Result<(), AppError> {
        let mut tx = self.inner.db.begin_read().await?;
        let head = event_log::head_of(&mut tx, aggregate_type, id).await?;
        drop(tx);
        if let Some(head) = head {
            if !self.inner.projector.wait_for(head, READ_YOUR_WRITES_TIMEOUT).await {
                tracing::warn!(aggregate_type, id, "views lag behind a command; answering before they caught up");
            }
        }
        Ok(())
    }
}
