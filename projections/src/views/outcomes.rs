//! `view_exits`: one row per participant leaving a place, with why (the place's exit reason), the
//! gender and target group the participant was registered with (in clear in the log by design, so
//! they survive an erasure), and the first follow-up at least 90 days after. Outcome statistics are
//! `GROUP BY`s over one agreement's or buyer's rows in a period.
//!
//! Two lookup tables feed it: each participant's gender and target group, each place's agreement
//! and member. A participant is registered before any place is filled with them, and a place is
//! opened before it is vacated, so both are there when an exit is recorded.

use crate::db::{Db, DbError, Tx};
use crate::event_log::StoredEvent;
use crate::projection::{table_sql, upsert_sql, Arg, Index, Projection, Tables};
use crate::{bind_args, on_db, on_tx};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::calendar::Month;
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::{
    ConsentPurpose, FollowUpStatus, Gender, Participant, ParticipantEvent, TargetGroup,
};
use konsortium_domain::place::{ExitReason, PlaceEvent, TrainingPlace};
use time::Date;

pub const EXITS_TABLE: &str = "view_exits";
pub const PEOPLE_TABLE: &str = "view_exit_people";
pub const PLACES_TABLE: &str = "view_exit_places";

pub const EXIT_COLUMNS: &[&str] = &[
    "place_id",
    "last_day",
    "participant_id",
    "agreement_id",
    "member_id",
    "reason",
    "gender",
    "target_group",
    "follow_up_on",
    "follow_up_status",
];
pub const PEOPLE_COLUMNS: &[&str] = &["participant_id", "gender", "target_group", "share_from", "share_until"];
pub const PLACE_COLUMNS: &[&str] = &["place_id", "agreement_id", "member_id"];

/// The follow-up that counts for an exit is the first at least this many days after it.
pub const FOLLOW_UP_AFTER_DAYS: i64 = 90;

/// Exits with their gender, target group and follow-up.
pub struct OutcomeProjection;

pub fn reason_text(reason: ExitReason) -> &'static str {
    match reason {
        ExitReason::EmploymentElsewhere => "EmploymentElsewhere",
        ExitReason::EmploymentByMember => "EmploymentByMember",
        ExitReason::Studies => "Studies",
        ExitReason::OtherIntervention => "OtherIntervention",
        ExitReason::EndedEarly => "EndedEarly",
        ExitReason::Completed => "Completed",
    }
}

pub fn gender_text(gender: Gender) -> &'static str {
    match gender {
        Gender::Woman => "Woman",
        Gender::Man => "Man",
        Gender::Other => "Other",
        Gender::NotStated => "NotStated",
    }
}

pub fn target_group_text(group: TargetGroup) -> &'static str {
    match group {
        TargetGroup::RegisteredTwelveMonths => "RegisteredTwelveMonths",
        TargetGroup::YoungSixMonths => "YoungSixMonths",
        TargetGroup::NewlyArrived => "NewlyArrived",
    }
}

pub fn follow_up_text(status: FollowUpStatus) -> &'static str {
    match status {
        FollowUpStatus::InWork => "InWork",
        FollowUpStatus::Studying => "Studying",
        FollowUpStatus::JobSeeking => "JobSeeking",
        FollowUpStatus::Other => "Other",
        FollowUpStatus::Unknown => "Unknown",
    }
}

#[async_trait]
impl Projection for OutcomeProjection {
    fn name(&self) -> &'static str {
        "outcomes"
    }

    fn version(&self) -> u32 {
        2
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[Participant::TYPE, TrainingPlace::TYPE]
    }

    fn tables(&self) -> Vec<&'static str> {
        vec![EXITS_TABLE, PEOPLE_TABLE, PLACES_TABLE]
    }

    fn create_sql(&self, tables: Tables) -> Vec<String> {
        let exits: Vec<String> = [
            "place_id TEXT NOT NULL",
            "last_day TEXT NOT NULL",
            "participant_id TEXT NOT NULL",
            "agreement_id TEXT NOT NULL",
            "member_id TEXT NOT NULL",
            "reason TEXT NOT NULL",
            "gender TEXT NOT NULL",
            "target_group TEXT NOT NULL",
            "follow_up_on TEXT",
            "follow_up_status TEXT",
        ]
        .map(String::from)
        .to_vec();
        let people: Vec<String> =
            // `share_from`..`share_until`: the days the person consents to the referring authority
            // seeing how it went (`FollowUpWithReferrer`); a buyer's follow-up figures count only
            // follow-ups on such days.
            [
                "participant_id TEXT NOT NULL",
                "gender TEXT NOT NULL",
                "target_group TEXT NOT NULL",
                "share_from TEXT",
                "share_until TEXT",
            ]
            .map(String::from)
            .to_vec();
        let places: Vec<String> = ["place_id TEXT NOT NULL", "agreement_id TEXT NOT NULL", "member_id TEXT NOT NULL"]
            .map(String::from)
            .to_vec();
        let mut sql = table_sql(
            &tables.name(EXITS_TABLE),
            &exits,
            "place_id, last_day",
            &[Index::new("agreement", "agreement_id, last_day"), Index::new("participant", "participant_id")],
        );
        sql.extend(table_sql(&tables.name(PEOPLE_TABLE), &people, "participant_id", &[]));
        sql.extend(table_sql(&tables.name(PLACES_TABLE), &places, "place_id", &[]));
        sql
    }

    async fn apply(&self, tx: &mut Tx, tables: Tables, event: &StoredEvent) -> Result<(), DbError> {
        match event.aggregate_type.as_str() {
            Participant::TYPE => match event.decode::<ParticipantEvent>()? {
                ParticipantEvent::ParticipantRegistered { gender, target_group, .. } => {
                    let args = [
                        Arg::text(event.aggregate_id.as_str()),
                        Arg::text(gender_text(gender)),
                        Arg::text(target_group_text(target_group)),
                        Arg::Text(None),
                        Arg::Text(None),
                    ];
                    let upsert = upsert_sql(&tables.name(PEOPLE_TABLE), PEOPLE_COLUMNS, &["participant_id"]);
                    on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|_| ()))?;
                }
                ParticipantEvent::ConsentRecorded { purpose: ConsentPurpose::FollowUpWithReferrer, from } => {
                    // A consent given again opens a new period; the one before it had ended.
                    let update = format!(
                        "UPDATE {} SET share_from = $1, share_until = NULL WHERE participant_id = $2",
                        tables.name(PEOPLE_TABLE)
                    );
                    on_tx!(tx, conn => sqlx::query(&update)
                        .bind(from.to_string())
                        .bind(&event.aggregate_id)
                        .execute(conn)
                        .await
                        .map(|_| ()))?;
                }
                ParticipantEvent::ConsentWithdrawn { purpose: ConsentPurpose::FollowUpWithReferrer, from } => {
                    let update =
                        format!("UPDATE {} SET share_until = $1 WHERE participant_id = $2", tables.name(PEOPLE_TABLE));
                    on_tx!(tx, conn => sqlx::query(&update)
                        .bind(from.to_string())
                        .bind(&event.aggregate_id)
                        .execute(conn)
                        .await
                        .map(|_| ()))?;
                }
                ParticipantEvent::FollowUpRecorded { on, status } => {
                    // The first follow-up at least 90 days after each exit counts for it.
                    let cutoff = on.checked_sub(time::Duration::days(FOLLOW_UP_AFTER_DAYS)).unwrap_or(Date::MIN);
                    let update = format!(
                        "UPDATE {} SET follow_up_on = $1, follow_up_status = $2 WHERE participant_id = $3 \
                         AND last_day <= $4 AND (follow_up_on IS NULL OR follow_up_on > $1)",
                        tables.name(EXITS_TABLE)
                    );
                    let (on, cutoff) = (on.to_string(), cutoff.to_string());
                    on_tx!(tx, conn => sqlx::query(&update)
                        .bind(&on)
                        .bind(follow_up_text(status))
                        .bind(&event.aggregate_id)
                        .bind(&cutoff)
                        .execute(conn)
                        .await
                        .map(|_| ()))?;
                }
                _ => {}
            },
            TrainingPlace::TYPE => match event.decode::<PlaceEvent>()? {
                PlaceEvent::PlaceOpened { agreement_id, member_id, .. } => {
                    let args = [Arg::text(event.aggregate_id.as_str()), Arg::text(agreement_id), Arg::text(member_id)];
                    let upsert = upsert_sql(&tables.name(PLACES_TABLE), PLACE_COLUMNS, &["place_id"]);
                    on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|_| ()))?;
                }
                PlaceEvent::PlaceVacated { participant, last_day, reason } => {
                    let place_sql = format!(
                        "SELECT agreement_id, member_id FROM {} WHERE place_id = $1",
                        tables.name(PLACES_TABLE)
                    );
                    let place: Option<(String, String)> = on_tx!(tx, conn => sqlx::query_as(&place_sql)
                        .bind(&event.aggregate_id)
                        .fetch_optional(conn)
                        .await)?;
                    let person_sql = format!(
                        "SELECT gender, target_group FROM {} WHERE participant_id = $1",
                        tables.name(PEOPLE_TABLE)
                    );
                    let person: Option<(String, String)> = on_tx!(tx, conn => sqlx::query_as(&person_sql)
                        .bind(participant.as_str())
                        .fetch_optional(conn)
                        .await)?;
                    let (Some((agreement_id, member_id)), Some((gender, target_group))) = (place, person) else {
                        tracing::warn!(place = %event.aggregate_id, "an exit from an unknown place or person is not counted");
                        return Ok(());
                    };
                    let args = [
                        Arg::text(event.aggregate_id.as_str()),
                        Arg::text(last_day.to_string()),
                        Arg::text(participant.as_str()),
                        Arg::text(agreement_id),
                        Arg::text(member_id),
                        Arg::text(reason_text(reason)),
                        Arg::text(gender),
                        Arg::text(target_group),
                        Arg::Text(None),
                        Arg::Text(None),
                    ];
                    let upsert = upsert_sql(&tables.name(EXITS_TABLE), EXIT_COLUMNS, &["place_id", "last_day"]);
                    on_tx!(tx, conn => bind_args!(sqlx::query(&upsert), &args).execute(conn).await.map(|_| ()))?;
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }
}

/// Whose exits: one agreement's, or every agreement of a buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Agreement(String),
    Buyer(OrgNumber),
}

/// Exits in a period counted by reason and one more column (`gender` or `target_group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub reason: String,
    pub group: String,
    pub count: i64,
}

/// How many of the period's exits were followed up, and how many of those were in work or studies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUps {
    pub exits: i64,
    pub followed_up: i64,
    pub in_work_or_studies: i64,
}

fn condition(subject: &Subject) -> (&'static str, String) {
    match subject {
        Subject::Agreement(id) => ("agreement_id = $1", id.clone()),
        Subject::Buyer(org) => {
            ("agreement_id IN (SELECT g.id FROM view_agreements g WHERE g.buyer_org_number = $1)", org.to_string())
        }
    }
}

/// Exits whose last day falls in `from`..=`to`, by reason and `by` (`gender` or `target_group`).
pub async fn counts(db: &Db, subject: &Subject, from: Month, to: Month, by: By) -> Result<Vec<Count>, DbError> {
    let (condition, value) = condition(subject);
    let column = match by {
        By::Gender => "gender",
        By::TargetGroup => "target_group",
    };
    let sql = format!(
        "SELECT reason, {column}, COUNT(*) FROM {EXITS_TABLE} WHERE {condition} AND last_day >= $2 AND last_day <= $3 \
         GROUP BY reason, {column} ORDER BY reason, {column}"
    );
    let (first, last) = (from.first_day().to_string(), to.last_day().to_string());
    let rows: Vec<(String, String, i64)> =
        on_db!(db, pool => sqlx::query_as(&sql).bind(&value).bind(&first).bind(&last).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(reason, group, count)| Count { reason, group, count }).collect())
}

/// Which column outcomes are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Gender,
    TargetGroup,
}

/// Follow-ups of the exits whose last day falls in `from`..=`to`.
/// With `consented_only` (what the referring authority may see) a follow-up counts only when the
/// person consented, on its day, to sharing it; a withdrawal holds from its date.
pub async fn follow_ups(
    db: &Db,
    subject: &Subject,
    from: Month,
    to: Month,
    consented_only: bool,
) -> Result<FollowUps, DbError> {
    let (condition, value) = condition(subject);
    let shown = match consented_only {
        false => "follow_up_on IS NOT NULL".to_string(),
        true => format!(
            "follow_up_on IS NOT NULL AND EXISTS (SELECT 1 FROM {PEOPLE_TABLE} p \
             WHERE p.participant_id = {EXITS_TABLE}.participant_id AND p.share_from <= follow_up_on \
             AND (p.share_until IS NULL OR follow_up_on < p.share_until))"
        ),
    };
    let sql = format!(
        "SELECT COUNT(*), \
         CAST(COALESCE(SUM(CASE WHEN {shown} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {shown} AND follow_up_status IN ('InWork', 'Studying') THEN 1 ELSE 0 END), 0) \
         AS BIGINT) \
         FROM {EXITS_TABLE} WHERE {condition} AND last_day >= $2 AND last_day <= $3"
    );
    let (first, last) = (from.first_day().to_string(), to.last_day().to_string());
    let (exits, followed_up, in_work_or_studies): (i64, i64, i64) =
        on_db!(db, pool => sqlx::query_as(&sql).bind(&value).bind(&first).bind(&last).fetch_one(pool).await)?;
    Ok(FollowUps { exits, followed_up, in_work_or_studies })
}
