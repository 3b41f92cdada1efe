//! The participant registry: taking a person in, consent, erasure, reading who they are, and the
//! audit trail of who did and saw what.
//!
//! A person's identity never reaches the event log, a view, an idempotency answer or a log line in
//! clear: registration seals it under a key of the participant's own and stores the key, wrapped, in
//! the same transaction as the event ([`KeyChange::Keep`]); erasure deletes the key in the
//! transaction that records it ([`KeyChange::Destroy`]). Reading it back opens it here, in the
//! application layer, and every such read is recorded in `personal_data_reads` first.

use super::{access, today};
use crate::app::{Actor, App};
use crate::auth::Scope;
use crate::error::AppError;
use crate::store::{KeyChange, Loaded};
use crate::vault::{self, PersonalData};
use konsortium_domain::participant::{
    ConsentPurpose, ErasureReason, FollowUpStatus, Gender, Participant, ParticipantCommand, TargetGroup,
};
use konsortium_projections::{on_db, Db, DbError};
use serde_json::Value;
use time::Date;

/// A person to take into the registry, parsed.
#[derive(Debug, Clone)]
pub struct NewParticipant {
    pub personal: PersonalData,
    pub gender: Gender,
    pub target_group: TargetGroup,
    /// The member taking the person in; a member registering names itself (or nothing).
    pub member_id: Option<String>,
}

/// A participant that exists (registered, or known from a stay before the registry), or `NOT_FOUND`.
async fn existing(app: &App, participant_id: &str) -> Result<Loaded<Participant>, AppError> {
    let participant = app.participants().load(participant_id).await?;
    match participant.exists() {
        true => Ok(participant),
        false => Err(AppError::NotFound(format!("no participant with id {participant_id}"))),
    }
}

/// Staff, or a member that took the person in or has them on its places.
fn may_act_for(actor: &Actor, participant: &Participant) -> Result<(), AppError> {
    match &actor.scope {
        Scope::Everything => Ok(()),
        Scope::Member(own) if participant.is_known_to(own) => Ok(()),
        Scope::Member(_) => Err(AppError::Forbidden("this participant is not with your enterprise".into())),
        Scope::Buyer(_) => Err(AppError::Forbidden("a buyer never sees a participant".into())),
    }
}

/// Takes a person into the registry; returns the id the server issued for them. Staff may name the
/// member taking the person in; a member takes them in itself.
pub async fn register_participant(app: &App, actor: &Actor, new: &NewParticipant) -> Result<String, AppError> {
    let registered_by = match (&actor.scope, &new.member_id) {
        (Scope::Everything, member) => member.clone(),
        (Scope::Member(own), None) => Some(own.clone()),
        (Scope::Member(own), Some(member)) if member == own => Some(own.clone()),
        (Scope::Member(_), Some(_)) => {
            return Err(AppError::Forbidden("a member registers participants it takes in itself".into()))
        }
        (Scope::Buyer(_), _) => return Err(AppError::Forbidden("a buyer never sees a participant".into())),
    };
    if let Some(member) = &registered_by {
        if !app.members().load(member).await?.exists() {
            return Err(AppError::NotFound(format!("no member with id {member}")));
        }
    }
    // The fingerprint tells a retry from another request under the same key; its personal part is a
    // keyed digest, so the idempotency table holds nothing a guess could be checked against.
    let personal = serde_json::to_string(&new.personal).map_err(|e| AppError::Internal(Box::new(e)))?;
    let fingerprint = (&registered_by, new.gender, new.target_group, app.vault().fingerprint(&personal));
    let attempt = app.attempt(actor, "register_participant", &fingerprint);
    let participant_id = uuid::Uuid::new_v4().to_string();
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut participant = app.participants().load(&participant_id).await?;
        let (sealed, wrapped) =
            app.vault().seal(&participant_id, &new.personal).map_err(|e| AppError::Internal(Box::new(e)))?;
        let registered = participant
            .decide(ParticipantCommand::Register {
                gender: new.gender,
                target_group: new.target_group,
                registered_by: registered_by.clone(),
                registered_on: today(),
                personal: sealed,
            })
            .await?
            .with_key(KeyChange::Keep { owner_id: participant_id.clone(), wrapped });
        // The answer is the id alone: the idempotency table keeps answers, and must not keep a name.
        attempt.commit(&[registered], participant_id.clone()).await
    })
    .await
}

/// Erases a person (staff only): their key is destroyed, so their identity can never be read again,
/// while every stay, amount and count stays as it was.
pub async fn erase_participant(
    app: &App,
    actor: &Actor,
    participant_id: &str,
    reason: ErasureReason,
) -> Result<Participant, AppError> {
    access::staff(actor)?;
    let attempt = app.attempt(actor, "erase_participant", &(participant_id, reason));
    let erased = app
        .retrying(|| async {
            if let Some(answer) = attempt.replay().await? {
                return Ok(answer);
            }
            let mut participant = existing(app, participant_id).await?;
            let erased = participant
                .decide(ParticipantCommand::Erase { reason, on: today() })
                .await?
                .with_key(KeyChange::Destroy { owner_id: participant_id.to_string() });
            attempt.commit(&[erased], participant.state).await
        })
        .await?;
    vault::scrub(app.db()).await?;
    Ok(erased)
}

/// The person consents to a purpose from a day.
pub async fn record_consent(
    app: &App,
    actor: &Actor,
    participant_id: &str,
    purpose: ConsentPurpose,
    from: Date,
) -> Result<Participant, AppError> {
    decide_on_participant(
        app,
        actor,
        participant_id,
        "record_consent",
        ParticipantCommand::RecordConsent { purpose, from },
    )
    .await
}

/// The person withdraws a consent; it no longer holds from `from`.
pub async fn withdraw_consent(
    app: &App,
    actor: &Actor,
    participant_id: &str,
    purpose: ConsentPurpose,
    from: Date,
) -> Result<Participant, AppError> {
    decide_on_participant(
        app,
        actor,
        participant_id,
        "withdraw_consent",
        ParticipantCommand::WithdrawConsent { purpose, from },
    )
    .await
}

/// Where the person was on a day after leaving a place: outcomes show the share in work or
/// studies at the first follow-up at least 90 days after exit. Staff, or a member that knows the
/// person, record it.
pub async fn record_follow_up(
    app: &App,
    actor: &Actor,
    participant_id: &str,
    on: Date,
    status: FollowUpStatus,
) -> Result<Participant, AppError> {
    decide_on_participant(
        app,
        actor,
        participant_id,
        "record_follow_up",
        ParticipantCommand::RecordFollowUp { on, status },
    )
    .await
}

/// Decides a command on an existing participant the caller may act for, once per idempotency key.
async fn decide_on_participant(
    app: &App,
    actor: &Actor,
    participant_id: &str,
    use_case: &str,
    command: ParticipantCommand,
) -> Result<Participant, AppError> {
    let attempt = app.attempt(actor, use_case, &(participant_id, &command));
    app.retrying(|| async {
        if let Some(answer) = attempt.replay().await? {
            return Ok(answer);
        }
        let mut participant = existing(app, participant_id).await?;
        may_act_for(actor, &participant.state)?;
        let changed = participant.decide(command.clone()).await?;
        attempt.commit(&[changed], participant.state).await
    })
    .await
}

/// A participant as the caller may see them: staff any, a member those it took in or has on its
/// places (others are `None`, as if they did not exist), a buyer none (`FORBIDDEN`).
pub async fn participant(app: &App, actor: &Actor, participant_id: &str) -> Result<Option<Participant>, AppError> {
    if matches!(actor.scope, Scope::Buyer(_)) {
        return Err(AppError::Forbidden("a buyer never sees a participant".into()));
    }
    let participant = app.participants().load(participant_id).await?;
    if !participant.exists() || may_act_for(actor, &participant.state).is_err() {
        return Ok(None);
    }
    Ok(Some(participant.state))
}

/// Who the person is, for a caller [`participant`] let see them; `None` once erased. The read is
/// recorded before anything is opened, so no identity is shown that the audit trail does not show.
pub async fn personal_data(
    app: &App,
    actor: &Actor,
    participant_id: &str,
    participant: &Participant,
) -> Result<Option<PersonalData>, AppError> {
    may_act_for(actor, participant)?;
    let Some(sealed) = participant.personal.as_ref().filter(|_| participant.erasure.is_none()) else {
        return Ok(None);
    };
    let Some(wrapped) = vault::find_key(app.db(), participant_id).await? else { return Ok(None) };
    record_read(app.db(), actor, "Participant", participant_id).await?;
    let opened = app
        .vault()
        .open::<PersonalData>(participant_id, sealed, &wrapped)
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(Some(opened))
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Records that the caller read the personal data of an owner: a `Participant` or a `Member` (a sole
/// trader), by id.
pub(crate) async fn record_read(db: &Db, actor: &Actor, owner_type: &str, owner_id: &str) -> Result<(), DbError> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO personal_data_reads (owner_type, owner_id, subject, role, request_id, read_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(owner_type)
    .bind(owner_id)
    .bind(&actor.subject)
    .bind(actor.role.as_str())
    .bind(&actor.request_id)
    .bind(now())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Whose trail to show: one of an aggregate, a participant, or a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSubject {
    /// Every event of one aggregate (an agreement, a place, a report, …).
    Aggregate(String),
    /// A participant's events and every read of their personal data.
    Participant(String),
    /// Everything one caller (a token's subject) did and read.
    Subject(String),
}

/// One line of an audit trail: who did what, when, through which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub subject: String,
    pub role: String,
    pub request_id: String,
    /// The event's type, or `PersonalDataRead`.
    pub action: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
}

/// The most lines one trail answers.
pub const AUDIT_MAX: u32 = 500;

/// Who did and saw what (staff only), from the events' metadata and the log of reads, oldest first,
/// between two days inclusive, at most `first` lines.
pub async fn audit_trail(
    app: &App,
    actor: &Actor,
    of: &AuditSubject,
    from: Option<Date>,
    to: Option<Date>,
    first: u32,
) -> Result<Vec<AuditEntry>, AppError> {
    access::staff(actor)?;
    let from = from.map(|d| d.to_string()).unwrap_or_default();
    let until = match to {
        Some(to) => to.next_day().map(|d| d.to_string()).unwrap_or_else(|| "9".into()),
        None => "9".into(),
    };
    let limit = i64::from(first.min(AUDIT_MAX));
    let mut entries = audited_events(app.db(), of, &from, &until, limit).await?;
    entries.extend(audited_reads(app.db(), of, &from, &until, limit).await?);
    entries.sort_by(|a, b| a.at.cmp(&b.at));
    entries.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(entries)
}

async fn audited_events(
    db: &Db,
    of: &AuditSubject,
    from: &str,
    until: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    let (field, value) = match of {
        AuditSubject::Aggregate(id) => ("aggregate", id),
        AuditSubject::Participant(id) => ("participant", id),
        AuditSubject::Subject(subject) => ("subject", subject),
    };
    let (actor, recorded_at) = match db {
        Db::Postgres(_) => ("metadata->>'actor'", "coalesce(metadata->>'recorded_at', '')"),
        Db::Sqlite(_) => ("json_extract(metadata, '$.actor')", "coalesce(json_extract(metadata, '$.recorded_at'), '')"),
    };
    let condition = match field {
        "aggregate" => "aggregate_id = $1".to_string(),
        "participant" => "aggregate_type = 'Participant' AND aggregate_id = $1".to_string(),
        _ => format!("{actor} = $1"),
    };
    let sql = format!(
        "SELECT aggregate_type, aggregate_id, event_type, CAST(metadata AS TEXT) FROM events
         WHERE {condition} AND {recorded_at} >= $2 AND {recorded_at} < $3 ORDER BY position LIMIT $4"
    );
    let rows: Vec<(String, String, String, String)> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(value)
        .bind(from)
        .bind(until)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, aggregate_id, action, metadata)| {
            let metadata: Value = serde_json::from_str(&metadata).unwrap_or_default();
            let field = |name: &str| metadata[name].as_str().unwrap_or_default().to_string();
            AuditEntry {
                at: field("recorded_at"),
                subject: field("actor"),
                role: field("role"),
                request_id: field("request_id"),
                action,
                aggregate_type,
                aggregate_id,
            }
        })
        .collect())
}

async fn audited_reads(
    db: &Db,
    of: &AuditSubject,
    from: &str,
    until: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    let (condition, value) = match of {
        AuditSubject::Aggregate(id) | AuditSubject::Participant(id) => ("owner_id = $1", id),
        AuditSubject::Subject(subject) => ("subject = $1", subject),
    };
    let sql = format!(
        "SELECT owner_type, owner_id, subject, role, request_id, read_at FROM personal_data_reads
         WHERE {condition} AND read_at >= $2 AND read_at < $3 ORDER BY id LIMIT $4"
    );
    let rows: Vec<(String, String, String, String, String, String)> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(value)
        .bind(from)
        .bind(until)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(owner_type, owner_id, subject, role, request_id, at)| AuditEntry {
            at,
            subject,
            role,
            request_id,
            action: "PersonalDataRead".into(),
            aggregate_type: owner_type,
            aggregate_id: owner_id,
        })
        .collect())
}
