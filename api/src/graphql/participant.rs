//! Participants: the registry, consent, erasure, and the audit trail. A participant's identity is a
//! field of its own (`personal`), opened and recorded as a read only when a query asks for it.

use super::{actor, app, caller, iso};
use crate::application::input::{date, id, personal_data};
use crate::application::participants::{self, AuditSubject, NewParticipant, AUDIT_MAX};
use crate::error::AppError;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use konsortium_domain::participant::{self as domain, Participant};

/// Gender, as outcomes are followed by it.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Gender", remote = "domain::Gender")]
pub enum GenderGql {
    Woman,
    Man,
    Other,
    NotStated,
}

/// Why the person belongs to the target group (Arbetsförmedlingen's definition).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "TargetGroup", remote = "domain::TargetGroup")]
pub enum TargetGroupGql {
    /// An adult registered with Arbetsförmedlingen for at least twelve months.
    RegisteredTwelveMonths,
    /// A young person registered for at least six months.
    YoungSixMonths,
    /// Newly arrived (nyanländ).
    NewlyArrived,
}

/// What a participant may consent to.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ConsentPurpose", remote = "domain::ConsentPurpose")]
pub enum ConsentPurposeGql {
    /// Sharing how the placement goes with the referring authority.
    FollowUpWithReferrer,
    /// Being contacted after leaving the place.
    ContactAfterExit,
}

/// The grounds of an erasure (GDPR art. 17(1) a–e).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ErasureReason", remote = "domain::ErasureReason")]
pub enum ErasureReasonGql {
    NoLongerNeeded,
    ConsentWithdrawn,
    Objection,
    UnlawfulProcessing,
    LegalObligation,
}

#[derive(InputObject)]
pub struct RegisterParticipantInput {
    pub name: String,
    /// Personnummer or samordningsnummer, `YYYYMMDD-NNNN` or `YYMMDD-NNNN`; the check digit is verified.
    pub personnummer: String,
    pub gender: GenderGql,
    /// Must agree with the personnummer.
    pub year_of_birth: i32,
    /// The authority that referred the person, e.g. Arbetsförmedlingen or socialtjänsten.
    pub referring_authority: String,
    pub target_group: TargetGroupGql,
    /// The member taking the person in (staff only; a member takes them in itself).
    pub member_id: Option<ID>,
}

/// Who a participant is; personal data, shown only to staff and the members the person is with, and
/// every read of it is recorded.
#[derive(SimpleObject)]
#[graphql(name = "PersonalData")]
pub struct PersonalDataView {
    pub name: String,
    /// `YYYYMMDD-NNNN`
    pub personnummer: String,
    pub year_of_birth: i32,
    pub referring_authority: String,
}

#[derive(SimpleObject)]
#[graphql(name = "Consent")]
pub struct ConsentView {
    pub purpose: ConsentPurposeGql,
    pub from: String,
    /// The first day it no longer holds.
    pub withdrawn_from: Option<String>,
}

/// A participant in the registry, by the pseudonymous id the server issued.
#[derive(SimpleObject)]
#[graphql(name = "Participant", complex)]
pub struct ParticipantView {
    pub id: ID,
    /// True once the person's identity has been erased; their stays and every amount remain.
    pub erased: bool,
    pub erased_on: Option<String>,
    pub registered_on: Option<String>,
    /// The member that took the person in.
    pub registered_by: Option<ID>,
    pub gender: Option<GenderGql>,
    pub target_group: Option<TargetGroupGql>,
    pub consents: Vec<ConsentView>,
    #[graphql(skip)]
    state: Participant,
}

impl ParticipantView {
    pub(crate) fn new(id: String, state: Participant) -> ParticipantView {
        ParticipantView {
            id: ID(id),
            erased: state.erasure.is_some(),
            erased_on: state.erasure.map(|e| iso(e.on)),
            registered_on: state.registered_on.map(iso),
            registered_by: state.registered_by.clone().map(ID),
            gender: state.gender.map(Into::into),
            target_group: state.target_group.map(Into::into),
            consents: state
                .consents
                .iter()
                .map(|c| ConsentView {
                    purpose: c.purpose.into(),
                    from: iso(c.from),
                    withdrawn_from: c.withdrawn_from.map(iso),
                })
                .collect(),
            state,
        }
    }
}

#[ComplexObject]
impl ParticipantView {
    /// Whether the person's consent to a purpose holds on a day: from the day it was given until the
    /// day it was withdrawn from.
    async fn consent_holds(&self, purpose: ConsentPurposeGql, on: String) -> async_graphql::Result<bool> {
        Ok(self.state.consents_to(purpose.into(), date("on", &on)?))
    }

    /// The person's identity; null once erased. Reading it is recorded in the audit trail.
    async fn personal(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonalDataView>> {
        let opened = participants::personal_data(app(ctx), caller(ctx)?, &self.id, &self.state).await?;
        Ok(opened.map(|p| PersonalDataView {
            name: p.name,
            personnummer: format!(
                "{}-{}",
                p.personnummer.get(..8).unwrap_or_default(),
                p.personnummer.get(8..).unwrap_or_default()
            ),
            year_of_birth: p.year_of_birth,
            referring_authority: p.referring_authority,
        }))
    }
}

/// One line of an audit trail.
#[derive(SimpleObject)]
#[graphql(name = "AuditEntry")]
pub struct AuditEntryView {
    /// RFC 3339, UTC.
    pub at: String,
    /// Who: the token's subject.
    pub subject: String,
    pub role: String,
    /// Which request.
    pub request_id: String,
    /// The event's type, or `PersonalDataRead` for a read of a participant's identity.
    pub action: String,
    pub aggregate_type: String,
    pub aggregate_id: ID,
}

#[derive(Default)]
pub struct ParticipantQuery;

#[Object]
impl ParticipantQuery {
    /// A participant: staff see any, a member those it took in or has on its places; a buyer none.
    async fn participant(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<ParticipantView>> {
        let id = self::id("id", &id)?;
        let found = participants::participant(app(ctx), caller(ctx)?, &id).await?;
        Ok(found.map(|state| ParticipantView::new(id, state)))
    }

    /// Who did and saw what (staff only): the events of an aggregate, a participant's events and the
    /// reads of their identity, or everything one subject did, between two days (inclusive), oldest
    /// first, at most `first` (500) lines. Give exactly one of `aggregateId`, `participantId`, `subject`.
    #[allow(clippy::too_many_arguments)]
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        aggregate_id: Option<ID>,
        participant_id: Option<ID>,
        subject: Option<String>,
        from: Option<String>,
        to: Option<String>,
        #[graphql(default = 100)] first: i32,
    ) -> async_graphql::Result<Vec<AuditEntryView>> {
        let of = match (aggregate_id, participant_id, subject) {
            (Some(a), None, None) => AuditSubject::Aggregate(id("aggregateId", &a)?),
            (None, Some(p), None) => AuditSubject::Participant(id("participantId", &p)?),
            (None, None, Some(s)) => AuditSubject::Subject(crate::application::input::text("subject", &s, 200)?),
            _ => {
                return Err(
                    AppError::invalid("aggregateId", "give exactly one of aggregateId, participantId, subject").into()
                )
            }
        };
        let first = u32::try_from(first)
            .ok()
            .filter(|n| (1..=AUDIT_MAX).contains(n))
            .ok_or_else(|| AppError::invalid("first", format!("must be 1 to {AUDIT_MAX}")))?;
        let from = from.map(|d| date("from", &d)).transpose()?;
        let to = to.map(|d| date("to", &d)).transpose()?;
        let entries = participants::audit_trail(app(ctx), caller(ctx)?, &of, from, to, first).await?;
        Ok(entries
            .into_iter()
            .map(|e| AuditEntryView {
                at: e.at,
                subject: e.subject,
                role: e.role,
                request_id: e.request_id,
                action: e.action,
                aggregate_type: e.aggregate_type,
                aggregate_id: ID(e.aggregate_id),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ParticipantMutation;

#[Object]
impl ParticipantMutation {
    /// Takes a person into the registry (staff, or the member taking them in) and returns the
    /// participant under the id the server issued, the only id `fillPlace` takes. The identity is
    /// stored encrypted under a key of the participant's own.
    async fn register_participant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        input: RegisterParticipantInput,
    ) -> async_graphql::Result<ParticipantView> {
        let new = NewParticipant {
            personal: personal_data(&input.name, &input.personnummer, input.year_of_birth, &input.referring_authority)?,
            gender: input.gender.into(),
            target_group: input.target_group.into(),
            member_id: input.member_id.map(|m| id("memberId", &m)).transpose()?,
        };
        let actor = actor(ctx, idempotency_key)?;
        let participant_id = participants::register_participant(app(ctx), &actor, &new).await?;
        let state = participants::participant(app(ctx), &actor, &participant_id).await?;
        Ok(ParticipantView::new(participant_id, state.unwrap_or_default()))
    }

    /// Erases a person's identity (staff only; GDPR art. 17): their key is destroyed, so they show as
    /// erased everywhere, while their stays, every amount and every count stay exactly as they were.
    async fn erase_participant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        participant_id: ID,
        reason: ErasureReasonGql,
    ) -> async_graphql::Result<ParticipantView> {
        let participant_id = id("participantId", &participant_id)?;
        let state =
            participants::erase_participant(app(ctx), &actor(ctx, idempotency_key)?, &participant_id, reason.into())
                .await?;
        Ok(ParticipantView::new(participant_id, state))
    }

    /// The person consents to a purpose from a day.
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        participant_id: ID,
        purpose: ConsentPurposeGql,
        from: String,
    ) -> async_graphql::Result<ParticipantView> {
        let participant_id = id("participantId", &participant_id)?;
        let from = date("from", &from)?;
        let state = participants::record_consent(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &participant_id,
            purpose.into(),
            from,
        )
        .await?;
        Ok(ParticipantView::new(participant_id, state))
    }

    /// The person withdraws a consent; it no longer holds from `from`.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A retry with the same key returns the first answer and changes nothing.")]
        idempotency_key: Option<String>,
        participant_id: ID,
        purpose: ConsentPurposeGql,
        from: String,
    ) -> async_graphql::Result<ParticipantView> {
        let participant_id = id("participantId", &participant_id)?;
        let from = date("from", &from)?;
        let state = participants::withdraw_consent(
            app(ctx),
            &actor(ctx, idempotency_key)?,
            &participant_id,
            purpose.into(),
            from,
        )
        .await?;
        Ok(ParticipantView::new(participant_id, state))
    }
}
