//! A reproducible random workload of real commands, decided by the aggregates and appended through the
//! same store code the server uses, on either store, without waiting for views.

use konsortium_api::error::DomainError;
use konsortium_api::store::{append, AggregateStore, KeyChange, Loaded, Pending};
use konsortium_api::vault::{PersonalData, Vault};
use konsortium_domain::agreement::{AgreementCommand, FrameworkAgreement, RateCard};
use konsortium_domain::calendar::{DateRange, Month};
use konsortium_domain::examples;
use konsortium_domain::member::{Member, MemberCategory, MemberCommand};
use konsortium_domain::money::{Ore, Percent};
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::{Gender, TargetGroup};
use konsortium_domain::participant::{Participant, ParticipantCommand};
use konsortium_domain::personnummer::Personnummer;
use konsortium_domain::place::{ExitReason, ParticipantId, PlaceCommand, TrainingPlace};
use konsortium_domain::reimbursement::{
    report_id, MonthlyReimbursement, PlaceReport, ReimbursementCommand, ReportInput,
};
use konsortium_domain::split::{SplitCommand, SubContractSplit};
use konsortium_projections::Db;
use serde_json::{json, Value};
use time::{Date, Duration};

/// xorshift64*: enough randomness for a workload, and the same sequence for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A valid organisation number made from a counter (the Luhn digit is computed).
pub fn org_number(n: u32) -> OrgNumber {
    let body = format!("{:09}", 802_000_000 + n % 1_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    OrgNumber::parse(&format!("{body}{check}")).unwrap_or_else(|e| panic!("{e}"))
}

const NOTHING_YET: &str = "nothing to act on yet";

/// Registers a made-up participant number `n` in memory: the decision and its sealed key, ready to be
/// appended together. Sealing costs two small encryptions, so a data set of many people stays cheap.
pub async fn register_participant(
    vault: &Vault,
    participant: &mut Loaded<Participant>,
    n: u64,
    on: Date,
) -> Result<Pending, String> {
    let born = time::macros::date!(1960 - 01 - 01) + Duration::days(i64::try_from(n % 15_000).unwrap_or(0));
    let personal = PersonalData {
        name: format!("Deltagare {n}"),
        personnummer: Personnummer::generate(born, u16::try_from(n % 1_000).unwrap_or(0), n.is_multiple_of(9))
            .digits()
            .to_string(),
        year_of_birth: born.year(),
        referring_authority: "Arbetsförmedlingen".into(),
    };
    let (sealed, wrapped) = vault.seal(&participant.id, &personal).map_err(|e| e.to_string())?;
    let gender = [Gender::Woman, Gender::Man, Gender::Other, Gender::NotStated][usize::try_from(n % 4).unwrap_or(0)];
    let target_group = [TargetGroup::RegisteredTwelveMonths, TargetGroup::YoungSixMonths, TargetGroup::NewlyArrived]
        [usize::try_from(n % 3).unwrap_or(0)];
    let command =
        ParticipantCommand::Register { gender, target_group, registered_by: None, registered_on: on, personal: sealed };
    let pending = participant.decide(command).await.map_err(|e| e.message())?;
    Ok(pending.with_key(KeyChange::Keep { owner_id: participant.id.clone(), wrapped }))
}

pub struct Workload {
    db: Db,
    vault: Vault,
    participants: AggregateStore<Participant>,
    members: AggregateStore<Member>,
    agreements: AggregateStore<FrameworkAgreement>,
    splits: AggregateStore<SubContractSplit>,
    places: AggregateStore<TrainingPlace>,
    reports: AggregateStore<MonthlyReimbursement>,
    rng: Rng,
    writer: u32,
    member_ids: Vec<String>,
    agreement_ids: Vec<String>,
    /// (agreement, allocation) pairs this writer allocated.
    allocations: Vec<(String, String)>,
    place_ids: Vec<String>,
    pub accepted: u32,
    pub refused: u32,
}

fn day(rng: &mut Rng) -> Date {
    time::macros::date!(2024 - 06 - 01) + Duration::days(rng.below(1_400) as i64)
}

impl Workload {
    pub fn new(db: &Db, writer: u32, seed: u64) -> Workload {
        Workload {
            db: db.clone(),
            vault: Vault::random(),
            participants: AggregateStore::new(db),
            members: AggregateStore::new(db),
            agreements: AggregateStore::new(db),
            splits: AggregateStore::new(db),
            places: AggregateStore::new(db),
            reports: AggregateStore::new(db),
            rng: Rng::new(seed),
            writer,
            member_ids: Vec::new(),
            agreement_ids: Vec::new(),
            allocations: Vec::new(),
            place_ids: Vec::new(),
            accepted: 0,
            refused: 0,
        }
    }

    /// Runs `steps` random commands; refusals (a rate change outside the period, say) are part of it.
    pub async fn run(mut self, steps: u32) -> Workload {
        for step in 0..steps {
            self.step(step).await;
        }
        self
    }

    /// Decides a command on one aggregate and appends its events.
    async fn execute<A>(&self, store: &AggregateStore<A>, id: &str, command: A::Command) -> Result<(), String>
    where
        A: cqrs_es::Aggregate<Services = ()> + 'static,
        A::Error: DomainError,
    {
        let pending = decide(store, id, command).await?;
        self.commit(&[pending]).await
    }

    async fn commit(&self, changes: &[Pending]) -> Result<(), String> {
        let metadata: Value = json!({ "actor": format!("writer-{}", self.writer) });
        append(&self.db, changes, &metadata, None).await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn step(&mut self, step: u32) {
        let choice = if self.agreement_ids.is_empty() || self.member_ids.is_empty() {
            self.rng.below(2)
        } else {
            self.rng.below(13)
        };
        let result = match choice {
            0 => {
                let id = format!("a-{}-{step}", self.writer);
                let terms = match self.rng.below(4) {
                    0 => examples::ostersund_work_training(),
                    1 => examples::krokom_reserved(),
                    2 => examples::nordanstig_work_training(),
                    _ => examples::fruit_baskets(),
                };
                self.agreement_ids.push(id.clone());
                self.execute(&self.agreements, &id, AgreementCommand::Register(Box::new(terms))).await
            }
            1 => {
                let id = format!("m-{}-{step}", self.writer);
                self.member_ids.push(id.clone());
                let command = MemberCommand::Register {
                    name: format!("Medlem {} {step}", self.writer),
                    org_number: Some(org_number(self.writer * 10_000 + step)),
                    sealed_org_number: None,
                    category: if self.rng.below(4) == 0 {
                        MemberCategory::OtherAssociation
                    } else {
                        MemberCategory::Wise
                    },
                    target_group_share: Percent::from_whole(self.rng.below(80) as u32),
                    joined_on: day(&mut self.rng),
                };
                self.execute(&self.members, &id, command).await
            }
            2 | 3 => {
                let id = self.pick_agreement();
                let rates = RateCard {
                    wise: Ore::kr(3_000 + 500 * self.rng.below(10) as i64),
                    other_association: Some(Ore::kr(2_500)),
                    employment: Some(Ore::kr(10_000)),
                };
                let command =
                    AgreementCommand::ChangeRates { effective_from: day(&mut self.rng), change: rates.into() };
                self.execute(&self.agreements, &id, command).await
            }
            4 => {
                let id = self.pick_agreement();
                let (effective_from, places) = (day(&mut self.rng), self.rng.below(20) as u32);
                self.change_capacity(&id, effective_from, places).await
            }
            5 => {
                let id = self.pick_agreement();
                let new_end = day(&mut self.rng) + Duration::days(1_000);
                self.execute(&self.agreements, &id, AgreementCommand::Extend { new_end }).await
            }
            6 => {
                let id = self.pick_member();
                let command = MemberCommand::ReportTargetGroupShare {
                    share: Percent::from_whole(self.rng.below(100) as u32),
                    reported_on: day(&mut self.rng),
                };
                self.execute(&self.members, &id, command).await
            }
            7 => {
                let id = self.pick_agreement();
                let command =
                    AgreementCommand::Terminate { last_day: day(&mut self.rng), reason: "Uppsägning".into() };
                self.execute(&self.agreements, &id, command).await
            }
            8 => self.allocate(step).await,
            9 | 10 => match self.open_or_fill(step).await {
                Some(result) => result,
                None => return,
            },
            11 => {
                let Some(id) = self.pick(&self.place_ids.clone()) else { return };
                let (employ, on) = (self.rng.below(2) == 0, day(&mut self.rng));
                if employ {
                    self.execute(&self.places, &id, PlaceCommand::Employ { from: on }).await
                } else {
                    self.vacate(&id, on).await
                }
            }
            _ => match self.report().await {
                Some(result) => result,
                None => return,
            },
        };
        match result {
            Ok(()) => self.accepted += 1,
            Err(_) => self.refused += 1,
        }
    }

    /// A capacity change commits with the split's record of it, as the server's use case does.
    async fn change_capacity(&self, id: &str, effective_from: Date, places: u32) -> Result<(), String> {
        let mut split = self.splits.load(id).await.map_err(|e| e.to_string())?;
        let mut agreement = self.agreements.load(id).await.map_err(|e| e.to_string())?;
        let changed = agreement
            .decide(AgreementCommand::ChangeCapacity { effective_from, places })
            .await
            .map_err(|e| e.message())?;
        let adopted = split
            .decide(SplitCommand::AdoptCapacity { agreement: agreement.state.clone(), effective_from, places })
            .await
            .map_err(|e| e.message())?;
        self.commit(&[changed, adopted]).await
    }

    async fn vacate(&self, place_id: &str, last_day: Date) -> Result<(), String> {
        let mut place = self.places.load(place_id).await.map_err(|e| e.to_string())?;
        let participant = place.state.occupancy.last().filter(|o| o.to.is_none()).map(|o| o.participant.clone());
        let vacated = place
            .decide(PlaceCommand::Vacate { last_day, reason: ExitReason::Completed })
            .await
            .map_err(|e| e.message())?;
        let participant = participant.ok_or("not filled")?;
        let left = decide(
            &self.participants,
            participant.as_str(),
            ParticipantCommand::LeavePlace { place_id: place_id.to_string(), last_day },
        )
        .await?;
        self.commit(&[vacated, left]).await
    }

    async fn allocate(&mut self, step: u32) -> Result<(), String> {
        let (agreement_id, member_id) = (self.pick_agreement(), self.pick_member());
        let mut split = self.splits.load(&agreement_id).await.map_err(|e| e.to_string())?;
        let agreement = self.agreements.load(&agreement_id).await.map_err(|e| e.to_string())?.state;
        let member = self.members.load(&member_id).await.map_err(|e| e.to_string())?.state;
        let member = member.standing(&member_id).ok_or("member not registered")?;
        let allocation_id = format!("l-{}-{step}", self.writer);
        let command = SplitCommand::AllocatePlaces {
            allocation_id: allocation_id.clone(),
            agreement,
            member,
            places: 1 + self.rng.below(6) as u32,
            period: DateRange { start: day(&mut self.rng), end: None },
        };
        let allocated = split.decide(command).await.map_err(|e| e.message())?;
        self.commit(&[allocated]).await?;
        self.allocations.push((agreement_id, allocation_id));
        Ok(())
    }

    /// Opens a place under one of this writer's allocations, or fills one of its places; `None` when
    /// there is nothing to act on yet.
    async fn open_or_fill(&mut self, step: u32) -> Option<Result<(), String>> {
        let result = self.try_open_or_fill(step).await;
        (result != Err(NOTHING_YET.to_string())).then_some(result)
    }

    async fn try_open_or_fill(&mut self, step: u32) -> Result<(), String> {
        if self.place_ids.is_empty() || self.rng.below(2) == 0 {
            let Some((agreement_id, allocation_id)) = self.pick(&self.allocations.clone()) else {
                return Err(NOTHING_YET.into());
            };
            let mut split = self.splits.load(&agreement_id).await.map_err(|e| e.to_string())?;
            let allocation = split.state.allocation(&allocation_id).cloned().ok_or("allocation missing")?;
            let opened_on = allocation.period.start;
            let place_id = format!("p-{}-{step}", self.writer);
            let slot = split
                .decide(SplitCommand::OpenPlace {
                    allocation_id: allocation_id.clone(),
                    place_id: place_id.clone(),
                    opened_on,
                })
                .await
                .map_err(|e| e.message())?;
            let command = PlaceCommand::Open {
                agreement_id,
                member_id: allocation.member_id.clone(),
                allocation_id,
                allocation_period: allocation.period,
                opened_on,
            };
            let opened = decide(&self.places, &place_id, command).await?;
            self.commit(&[slot, opened]).await?;
            self.place_ids.push(place_id);
            Ok(())
        } else {
            let Some(place_id) = self.pick(&self.place_ids.clone()) else { return Err(NOTHING_YET.into()) };
            let participant = ParticipantId::parse(&format!("pp-{}-{step}", self.writer)).map_err(|e| e.to_string())?;
            let from = day(&mut self.rng);
            let mut person = self.participants.load(participant.as_str()).await.map_err(|e| e.to_string())?;
            let registered = register_participant(&self.vault, &mut person, u64::from(step), from).await?;
            self.commit(&[registered]).await?;
            let mut place = self.places.load(&place_id).await.map_err(|e| e.to_string())?;
            let filled = place
                .decide(PlaceCommand::Fill { participant: participant.clone(), from })
                .await
                .map_err(|e| e.message())?;
            let command = ParticipantCommand::TakePlace {
                place_id,
                agreement_id: place.state.agreement_id.clone(),
                member_id: place.state.member_id.clone(),
                from,
            };
            let taken = decide(&self.participants, participant.as_str(), command).await?;
            self.commit(&[filled, taken]).await
        }
    }

    /// Submits, approves or corrects the report of a place's member for a random month; `None` when
    /// there is no place yet.
    async fn report(&mut self) -> Option<Result<(), String>> {
        let place_id = self.pick(&self.place_ids.clone())?;
        Some(self.try_report(place_id).await)
    }

    async fn try_report(&mut self, place_id: String) -> Result<(), String> {
        let place = self.places.load(&place_id).await.map_err(|e| e.to_string())?.state;
        let agreement = self.agreements.load(&place.agreement_id).await.map_err(|e| e.to_string())?.state;
        let member = self.members.load(&place.member_id).await.map_err(|e| e.to_string())?.state;
        let member = member.standing(&place.member_id).ok_or("member not registered")?;
        let month = Month::of(day(&mut self.rng));
        let id = report_id(&place.agreement_id, &place.member_id, month);
        let input = ReportInput {
            agreement_id: place.agreement_id.clone(),
            member_id: place.member_id.clone(),
            month,
            agreement,
            member,
            first_days: Default::default(),
            places: vec![PlaceReport {
                place_id,
                allocation_period: place.allocation_period.ok_or("place not open")?,
                occupancy: place.occupancy,
            }],
            deliveries: vec![],
            submitted_on: time::macros::date!(2030 - 01 - 01),
        };
        let version = self.reports.load(&id).await.map_err(|e| e.to_string())?.state.version;
        let command = match self.rng.below(3) {
            0 => ReimbursementCommand::Submit(input),
            1 => ReimbursementCommand::Approve { version },
            _ => ReimbursementCommand::Correct(input),
        };
        self.execute(&self.reports, &id, command).await
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.rng.below(items.len() as u64) as usize].clone())
    }

    fn pick_agreement(&mut self) -> String {
        let i = self.rng.below(self.agreement_ids.len() as u64) as usize;
        self.agreement_ids[i].clone()
    }

    fn pick_member(&mut self) -> String {
        let i = self.rng.below(self.member_ids.len() as u64) as usize;
        self.member_ids[i].clone()
    }
}

async fn decide<A>(store: &AggregateStore<A>, id: &str, command: A::Command) -> Result<Pending, String>
where
    A: cqrs_es::Aggregate<Services = ()> + 'static,
    A::Error: DomainError,
{
    let mut loaded = store.load(id).await.map_err(|e| e.to_string())?;
    loaded.decide(command).await.map_err(|e| e.message())
}
