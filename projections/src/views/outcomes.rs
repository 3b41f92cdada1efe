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
use crate::on_db;
use crate::projection::{select_in, table_sql, upsert_all, Arg, Index, Projection, Tables};
use async_trait::async_trait;
use cqrs_es::Aggregate;
use konsortium_domain::calendar::Month;
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::{
    ConsentPurpose, FollowUpStatus, Gender, Participant, ParticipantEvent, TargetGroup,
};
use konsortium_domain::place::{ExitReason, PlaceEvent, TrainingPlace};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
        self.apply_batch(tx, tables, std::slice::from_ref(event)).await
    }

    /// Reads the rows a batch needs in a few statements, applies its events in order to those rows
    /// in memory (exactly as the per-event statements would, one after the other), and writes the
    /// rows it changed: a rebuild of the national data set's 900 818 events took 82 s with a round
    /// trip or three per event.
    async fn apply_batch(&self, tx: &mut Tx, tables: Tables, events: &[StoredEvent]) -> Result<(), DbError> {
        let mut decoded = Vec::with_capacity(events.len());
        for event in events {
            let change = match event.aggregate_type.as_str() {
                Participant::TYPE => Change::Person(event.decode::<ParticipantEvent>()?),
                TrainingPlace::TYPE => Change::Place(event.decode::<PlaceEvent>()?),
                _ => continue,
            };
            decoded.push((event.aggregate_id.as_str(), change));
        }
        let mut rows = Rows::read(tx, tables, &decoded).await?;
        for (id, change) in decoded {
            rows.apply(id, change);
        }
        rows.write(tx, tables).await
    }
}

/// An event this view reads.
enum Change {
    Person(ParticipantEvent),
    Place(PlaceEvent),
}

/// A `view_exit_people` row: gender, target group, consent period.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Person {
    gender: String,
    target_group: String,
    share_from: Option<String>,
    share_until: Option<String>,
}

/// A `view_exits` row less its key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Exit {
    participant_id: String,
    agreement_id: String,
    member_id: String,
    reason: String,
    gender: String,
    target_group: String,
    follow_up_on: Option<String>,
    follow_up_status: Option<String>,
}

/// The rows one batch reads and changes. `None` is a row known not to exist. Each map holds every
/// row the batch's events can touch, so applying them here gives what the statements would have.
#[derive(Default)]
struct Rows {
    people: HashMap<String, Option<Person>>,
    places: HashMap<String, Option<(String, String)>>,
    /// By `(place_id, last_day)`; all of a participant's exits when the batch follows one up.
    exits: BTreeMap<(String, String), Exit>,
    /// The keys of `exits` by participant, so a follow-up looks at that person's exits only.
    exits_of: HashMap<String, BTreeSet<(String, String)>>,
    changed_people: BTreeSet<String>,
    changed_places: BTreeSet<String>,
    changed_exits: BTreeSet<(String, String)>,
}

impl Rows {
    /// The people whose consent changes or who leave a place, the places left, and every exit of
    /// the people followed up.
    async fn read(tx: &mut Tx, tables: Tables, changes: &[(&str, Change)]) -> Result<Rows, DbError> {
        let (mut people, mut places, mut followed) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (id, change) in changes {
            match change {
                Change::Person(
                    ParticipantEvent::ConsentRecorded { .. } | ParticipantEvent::ConsentWithdrawn { .. },
                ) => {
                    people.insert(id.to_string());
                }
                Change::Person(ParticipantEvent::FollowUpRecorded { .. }) => {
                    followed.insert(id.to_string());
                }
                Change::Place(PlaceEvent::PlaceVacated { participant, .. }) => {
                    places.insert(id.to_string());
                    people.insert(participant.as_str().to_string());
                }
                _ => {}
            }
        }
        let mut rows = Rows::default();
        let people: Vec<String> = people.into_iter().collect();
        rows.people = people.iter().map(|id| (id.clone(), None)).collect();
        let select = format!(
            "SELECT participant_id, gender, target_group, share_from, share_until FROM {} WHERE participant_id IN",
            tables.name(PEOPLE_TABLE)
        );
        for (id, gender, target_group, share_from, share_until) in
            select_in::<(String, String, String, Option<String>, Option<String>), _>(tx, &select, &people).await?
        {
            rows.people.insert(id, Some(Person { gender, target_group, share_from, share_until }));
        }
        let places: Vec<String> = places.into_iter().collect();
        rows.places = places.iter().map(|id| (id.clone(), None)).collect();
        let select =
            format!("SELECT place_id, agreement_id, member_id FROM {} WHERE place_id IN", tables.name(PLACES_TABLE));
        for (id, agreement_id, member_id) in select_in::<(String, String, String), _>(tx, &select, &places).await? {
            rows.places.insert(id, Some((agreement_id, member_id)));
        }
        let followed: Vec<String> = followed.into_iter().collect();
        let select =
            format!("SELECT {} FROM {} WHERE participant_id IN", EXIT_COLUMNS.join(", "), tables.name(EXITS_TABLE));
        type ExitRow = (String, String, String, String, String, String, String, String, Option<String>, Option<String>);
        for row in select_in::<ExitRow, _>(tx, &select, &followed).await? {
            let (place_id, last_day, participant_id, agreement_id, member_id, reason, gender, target_group, on, status) =
                row;
            let exit = Exit {
                participant_id,
                agreement_id,
                member_id,
                reason,
                gender,
                target_group,
                follow_up_on: on,
                follow_up_status: status,
            };
            rows.insert_exit((place_id, last_day), exit);
        }
        Ok(rows)
    }

    /// One event, as its statement would change the rows.
    fn apply(&mut self, id: &str, change: Change) {
        match change {
            Change::Person(ParticipantEvent::ParticipantRegistered { gender, target_group, .. }) => {
                let person = Person {
                    gender: gender_text(gender).to_string(),
                    target_group: target_group_text(target_group).to_string(),
                    share_from: None,
                    share_until: None,
                };
                self.people.insert(id.to_string(), Some(person));
                self.changed_people.insert(id.to_string());
            }
            Change::Person(ParticipantEvent::ConsentRecorded {
                purpose: ConsentPurpose::FollowUpWithReferrer,
                from,
            }) => {
                // A consent given again opens a new period; the one before it had ended.
                if let Some(Some(person)) = self.people.get_mut(id) {
                    (person.share_from, person.share_until) = (Some(from.to_string()), None);
                    self.changed_people.insert(id.to_string());
                }
            }
            Change::Person(ParticipantEvent::ConsentWithdrawn {
                purpose: ConsentPurpose::FollowUpWithReferrer,
                from,
            }) => {
                if let Some(Some(person)) = self.people.get_mut(id) {
                    person.share_until = Some(from.to_string());
                    self.changed_people.insert(id.to_string());
                }
            }
            Change::Person(ParticipantEvent::FollowUpRecorded { on, status }) => {
                // The first follow-up at least 90 days after each exit counts for it.
                let cutoff =
                    on.checked_sub(time::Duration::days(FOLLOW_UP_AFTER_DAYS)).unwrap_or(Date::MIN).to_string();
                let on = on.to_string();
                for key in self.exits_of.get(id).into_iter().flatten() {
                    let Some(exit) = self.exits.get_mut(key) else { continue };
                    let earlier = exit.follow_up_on.as_ref().is_none_or(|first| *first > on);
                    if exit.participant_id == id && key.1 <= cutoff && earlier {
                        exit.follow_up_on = Some(on.clone());
                        exit.follow_up_status = Some(follow_up_text(status).to_string());
                        self.changed_exits.insert(key.clone());
                    }
                }
            }
            Change::Place(PlaceEvent::PlaceOpened { agreement_id, member_id, .. }) => {
                self.places.insert(id.to_string(), Some((agreement_id, member_id)));
                self.changed_places.insert(id.to_string());
            }
            Change::Place(PlaceEvent::PlaceVacated { participant, last_day, reason }) => {
                let place = self.places.get(id).cloned().flatten();
                let person = self.people.get(participant.as_str()).cloned().flatten();
                let (Some((agreement_id, member_id)), Some(person)) = (place, person) else {
                    tracing::warn!(place = %id, "an exit from an unknown place or person is not counted");
                    return;
                };
                let key = (id.to_string(), last_day.to_string());
                let exit = Exit {
                    participant_id: participant.as_str().to_string(),
                    agreement_id,
                    member_id,
                    reason: reason_text(reason).to_string(),
                    gender: person.gender,
                    target_group: person.target_group,
                    follow_up_on: None,
                    follow_up_status: None,
                };
                self.insert_exit(key.clone(), exit);
                self.changed_exits.insert(key);
            }
            _ => {}
        }
    }

    fn insert_exit(&mut self, key: (String, String), exit: Exit) {
        self.exits_of.entry(exit.participant_id.clone()).or_default().insert(key.clone());
        self.exits.insert(key, exit);
    }

    /// Writes the changed rows, a few multi-row statements per table.
    async fn write(mut self, tx: &mut Tx, tables: Tables) -> Result<(), DbError> {
        let mut people = Vec::new();
        for id in self.changed_people {
            let Some(Some(p)) = self.people.remove(&id) else { continue };
            people.extend([
                Arg::text(id),
                Arg::text(p.gender),
                Arg::text(p.target_group),
                Arg::Text(p.share_from),
                Arg::Text(p.share_until),
            ]);
        }
        upsert_all(tx, &tables.name(PEOPLE_TABLE), PEOPLE_COLUMNS, &["participant_id"], &people).await?;
        let mut places = Vec::new();
        for id in self.changed_places {
            let Some(Some((agreement_id, member_id))) = self.places.remove(&id) else { continue };
            places.extend([Arg::text(id), Arg::text(agreement_id), Arg::text(member_id)]);
        }
        upsert_all(tx, &tables.name(PLACES_TABLE), PLACE_COLUMNS, &["place_id"], &places).await?;
        let mut exits = Vec::new();
        for key in self.changed_exits {
            let Some(e) = self.exits.remove(&key) else { continue };
            let (place_id, last_day) = key;
            exits.extend([
                Arg::text(place_id),
                Arg::text(last_day),
                Arg::text(e.participant_id),
                Arg::text(e.agreement_id),
                Arg::text(e.member_id),
                Arg::text(e.reason),
                Arg::text(e.gender),
                Arg::text(e.target_group),
                Arg::Text(e.follow_up_on),
                Arg::Text(e.follow_up_status),
            ]);
        }
        upsert_all(tx, &tables.name(EXITS_TABLE), EXIT_COLUMNS, &["place_id", "last_day"], &exits).await
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
