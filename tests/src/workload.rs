//! A reproducible random workload of real commands, run through cqrs-es on either store.

use konsortium_api::store::AggregateStore;
use konsortium_domain::agreement::{AgreementCommand, FrameworkAgreement, RateCard};
use konsortium_domain::examples;
use konsortium_domain::member::{Member, MemberCategory, MemberCommand};
use konsortium_domain::money::{Ore, Percent};
use konsortium_domain::org_number::OrgNumber;
use konsortium_projections::Db;
use std::collections::HashMap;
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

pub struct Workload {
    members: AggregateStore<Member>,
    agreements: AggregateStore<FrameworkAgreement>,
    rng: Rng,
    writer: u32,
    member_ids: Vec<String>,
    agreement_ids: Vec<String>,
    pub accepted: u32,
    pub refused: u32,
}

fn day(rng: &mut Rng) -> Date {
    time::macros::date!(2024 - 06 - 01) + Duration::days(rng.below(1_400) as i64)
}

impl Workload {
    pub fn new(db: &Db, writer: u32, seed: u64) -> Workload {
        Workload {
            members: AggregateStore::new(db),
            agreements: AggregateStore::new(db),
            rng: Rng::new(seed),
            writer,
            member_ids: Vec::new(),
            agreement_ids: Vec::new(),
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

    async fn step(&mut self, step: u32) {
        let metadata = HashMap::from([("actor".to_string(), format!("writer-{}", self.writer))]);
        let choice = if self.agreement_ids.is_empty() || self.member_ids.is_empty() {
            self.rng.below(2)
        } else {
            self.rng.below(8)
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
                self.agreements
                    .execute(&id, AgreementCommand::Register(terms), metadata)
                    .await
                    .map_err(|e| e.to_string())
            }
            1 => {
                let id = format!("m-{}-{step}", self.writer);
                self.member_ids.push(id.clone());
                let command = MemberCommand::Register {
                    name: format!("Medlem {} {step}", self.writer),
                    org_number: org_number(self.writer * 10_000 + step),
                    category: if self.rng.below(4) == 0 {
                        MemberCategory::OtherAssociation
                    } else {
                        MemberCategory::Wise
                    },
                    target_group_share: Percent::from_whole(self.rng.below(80) as u32),
                    joined_on: day(&mut self.rng),
                };
                self.members.execute(&id, command, metadata).await.map_err(|e| e.to_string())
            }
            2 | 3 => {
                let id = self.pick_agreement();
                let rates = RateCard {
                    wise: Ore::kr(3_000 + 500 * self.rng.below(10) as i64),
                    other_association: Some(Ore::kr(2_500)),
                    employment: Some(Ore::kr(10_000)),
                };
                let command = AgreementCommand::ChangeRates { effective_from: day(&mut self.rng), rates };
                self.agreements.execute(&id, command, metadata).await.map_err(|e| e.to_string())
            }
            4 => {
                let id = self.pick_agreement();
                let command = AgreementCommand::ChangeCapacity {
                    effective_from: day(&mut self.rng),
                    places: self.rng.below(20) as u32,
                };
                self.agreements.execute(&id, command, metadata).await.map_err(|e| e.to_string())
            }
            5 => {
                let id = self.pick_agreement();
                let new_end = day(&mut self.rng) + Duration::days(1_000);
                self.agreements
                    .execute(&id, AgreementCommand::Extend { new_end }, metadata)
                    .await
                    .map_err(|e| e.to_string())
            }
            6 => {
                let id = self.pick_member();
                let command = MemberCommand::ReportTargetGroupShare {
                    share: Percent::from_whole(self.rng.below(100) as u32),
                    reported_on: day(&mut self.rng),
                };
                self.members.execute(&id, command, metadata).await.map_err(|e| e.to_string())
            }
            _ => {
                let id = self.pick_agreement();
                let command =
                    AgreementCommand::Terminate { last_day: day(&mut self.rng), reason: "Uppsägning".into() };
                self.agreements.execute(&id, command, metadata).await.map_err(|e| e.to_string())
            }
        };
        match result {
            Ok(()) => self.accepted += 1,
            Err(_) => self.refused += 1,
        }
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
