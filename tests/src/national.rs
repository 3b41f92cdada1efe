//! A national synthetic data set for the benchmark: 290 buyers with an agreement each, 400 members,
//! about 12 000 places split across them, ten years of stays (employments and exits included), a
//! rate change on every fifth agreement, and every member's approved monthly report for every month;
//! the consortium is registered as seller, so the month-end run can invoice all of it.
//!
//! Every event is decided by the aggregates themselves, in memory, and appended in large
//! transactions through the server's own store code, so the log is what the server would have
//! written, only faster.

use crate::workload::{org_number, register_participant, Rng};
use konsortium_api::error::AppError;
use konsortium_api::store::{append, Loaded, Pending};
use konsortium_api::vault::Vault;
use konsortium_domain::agreement::{
    AfterEmploymentMaximum, AgreementCommand, AgreementKind, AgreementTerms, Buyer, FrameworkAgreement, RateCard,
    RateChange, VatCategory,
};
use konsortium_domain::calendar::{DateRange, Month};
use konsortium_domain::invoice::{Consortium, ConsortiumCommand, Seller, CONSORTIUM_ID};
use konsortium_domain::member::{Member, MemberCategory, MemberCommand};
use konsortium_domain::money::{Ore, Percent};
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::{Participant, ParticipantCommand};
use konsortium_domain::place::{ExitReason, ParticipantId, PlaceCommand, TrainingPlace};
use konsortium_domain::reimbursement::{
    report_id, MonthlyReimbursement, PlaceReport, ReimbursementCommand, ReportInput,
};
use konsortium_domain::split::{SplitCommand, SubContractSplit};
use konsortium_projections::Db;
use serde_json::json;
use std::collections::HashMap;
use time::macros::date;
use time::{Date, Duration};

/// How big the data set is; [`Scale::national`] is the issue's, smaller ones test the generator.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub buyers: u32,
    pub members: u32,
    pub places: u32,
    pub years: i32,
}

impl Scale {
    pub const fn national() -> Scale {
        Scale { buyers: 290, members: 400, places: 12_000, years: 10 }
    }
}

const START: Date = date!(2016 - 01 - 01);
/// Events per appended transaction.
const EVENTS_PER_COMMIT: usize = 2_000;

/// A valid municipality-style organisation number (group 2) from a counter.
fn buyer_org(n: u32) -> OrgNumber {
    let body = format!("2120{:05}", n % 100_000);
    (0..10).find_map(|check| OrgNumber::parse(&format!("{body}{check}")).ok()).unwrap_or_else(|| org_number(n))
}

fn day_after(date: Date, days: u64) -> Date {
    date.checked_add(Duration::days(i64::try_from(days).unwrap_or(0))).unwrap_or(date)
}

/// A place a member opened, by id, with its stays.
type OpenPlace = (String, Loaded<TrainingPlace>);

/// Writes what aggregates decide, a few thousand events a transaction.
struct Writer<'a> {
    db: &'a Db,
    pending: Vec<Pending>,
    events: usize,
    written: u64,
}

impl Writer<'_> {
    async fn push(&mut self, pending: Pending) -> Result<(), AppError> {
        self.events += pending.len();
        self.pending.push(pending);
        if self.events >= EVENTS_PER_COMMIT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), AppError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        append(self.db, &self.pending, &json!({ "actor": "national-data-set" }), None)
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        self.written += self.events as u64;
        self.pending.clear();
        self.events = 0;
        Ok(())
    }
}

/// Writes the data set into an empty store; returns how many events it wrote.
pub async fn generate(db: &Db, scale: Scale, progress: &dyn Fn(&str, u64)) -> Result<u64, AppError> {
    // The people are made up and never read back, so their identities are sealed under a KEK of the
    // run's own; the registry's rows and keys are written as a server would write them.
    let vault = Vault::random();
    let mut rng = Rng::new(2026);
    let mut out = Writer { db, pending: Vec::new(), events: 0, written: 0 };
    let end = Date::from_calendar_date(START.year() + scale.years - 1, time::Month::December, 31).unwrap_or(START);

    let mut consortium = Loaded::<Consortium>::fresh(CONSORTIUM_ID);
    out.push(consortium.decide(ConsortiumCommand::Register(seller()?)).await?).await?;

    let mut members = Vec::new();
    for m in 0..scale.members {
        let mut member = Loaded::<Member>::fresh(&format!("nm-{m}"));
        let category = if rng.below(10) == 0 { MemberCategory::OtherAssociation } else { MemberCategory::Wise };
        let command = MemberCommand::Register {
            name: format!("Medlemsföretag {m}"),
            org_number: Some(org_number(900_000 + m)),
            sealed_org_number: None,
            category,
            target_group_share: Percent::from_whole(30 + u32::try_from(rng.below(50)).unwrap_or(0)),
            joined_on: START,
        };
        out.push(member.decide(command).await?).await?;
        members.push(member);
    }
    progress("members", out.written);

    let places_per_agreement = (scale.places / scale.buyers.max(1)).max(3);
    for b in 0..scale.buyers {
        let agreement_id = format!("na-{b}");
        let mut agreement = Loaded::<FrameworkAgreement>::fresh(&agreement_id);
        let terms = AgreementTerms {
            title: format!("Arbetsträning {b}"),
            contract_reference: format!("RA-{b}"),
            buyer: Buyer {
                name: format!("Kommun {b}"),
                org_number: buyer_org(b),
                reference: format!("REF-{b}"),
                address: None,
            },
            kind: AgreementKind::TrainingPlaces,
            period: DateRange { start: START, end: Some(end) },
            contracted_places: places_per_agreement,
            contract_value: None,
            reserved: false,
            rates: RateCard {
                wise: Ore::kr(6_000),
                other_association: Some(Ore::kr(4_000)),
                employment: Some(Ore::kr(12_000)),
            },
            employment_rate_max_months: Some(6),
            after_employment_maximum: AfterEmploymentMaximum::TrainingRate,
            max_months_per_participant: if b % 7 == 0 { Some(12) } else { None },
            commission: Percent::from_whole(5),
            vat: VatCategory::Exempt { reason: "Arbetsmarknadsinsats".into() },
            payment_terms_days: None,
            employment_requirement: None,
        };
        out.push(agreement.decide(AgreementCommand::Register(Box::new(terms))).await?).await?;
        if b % 5 == 0 && scale.years >= 2 {
            // A raise half-way through, as running contracts get.
            let effective_from =
                Date::from_calendar_date(START.year() + scale.years / 2, time::Month::January, 1).unwrap_or(START);
            let change = RateChange { wise: Some(Ore::kr(6_500)), ..RateChange::default() };
            out.push(agreement.decide(AgreementCommand::ChangeRates { effective_from, change }).await?).await?;
        }

        // Three members share the places; each opens all of its places at the start.
        let mut split = Loaded::<SubContractSplit>::fresh(&agreement_id);
        let mut holders: Vec<(usize, Vec<OpenPlace>)> = Vec::new();
        let shares = [places_per_agreement / 2, places_per_agreement / 3, 0];
        let third = places_per_agreement - shares[0] - shares[1];
        for (k, places) in [shares[0], shares[1], third].into_iter().enumerate() {
            let m = usize::try_from((u64::from(b) * 3 + k as u64) % u64::from(scale.members.max(1))).unwrap_or(0);
            let Some(standing) = members[m].state.standing(&members[m].id) else { continue };
            if places == 0 {
                continue;
            }
            let allocation_id = format!("{agreement_id}-l{k}");
            let command = SplitCommand::AllocatePlaces {
                allocation_id: allocation_id.clone(),
                agreement: agreement.state.clone(),
                member: standing,
                places,
                period: DateRange { start: START, end: None },
            };
            out.push(split.decide(command).await?).await?;
            let Some(period) = split.state.allocation(&allocation_id).map(|a| a.period) else { continue };
            let mut places_of_member = Vec::new();
            for p in 0..places {
                let place_id = format!("{allocation_id}-p{p}");
                let slot = SplitCommand::OpenPlace {
                    allocation_id: allocation_id.clone(),
                    place_id: place_id.clone(),
                    opened_on: START,
                };
                out.push(split.decide(slot).await?).await?;
                let mut place = Loaded::<TrainingPlace>::fresh(&place_id);
                let open = PlaceCommand::Open {
                    agreement_id: agreement_id.clone(),
                    member_id: members[m].id.clone(),
                    allocation_id: allocation_id.clone(),
                    allocation_period: period,
                    opened_on: START,
                };
                out.push(place.decide(open).await?).await?;
                stays(&mut rng, &mut out, &vault, &mut place, &agreement_id, &members[m].id, end).await?;
                places_of_member.push((place_id, place));
            }
            holders.push((m, places_of_member));
        }

        // Every member's month, submitted after it ended and approved.
        for (m, places) in &holders {
            let member =
                members[*m].state.standing(&members[*m].id).ok_or_else(|| AppError::NotFound("member".into()))?;
            let mut month = Month::of(START);
            while month.first_day() <= end {
                let input = ReportInput {
                    agreement_id: agreement_id.clone(),
                    member_id: member.member_id.clone(),
                    month,
                    agreement: agreement.state.clone(),
                    member: member.clone(),
                    places: places
                        .iter()
                        .map(|(id, place)| PlaceReport {
                            place_id: id.clone(),
                            occupancy: place.state.occupancy.clone(),
                            allocation_period: place
                                .state
                                .allocation_period
                                .unwrap_or(DateRange { start: START, end: None }),
                        })
                        .collect(),
                    first_days: HashMap::new(),
                    deliveries: Vec::new(),
                    submitted_on: day_after(month.last_day(), 3),
                };
                let mut report =
                    Loaded::<MonthlyReimbursement>::fresh(&report_id(&agreement_id, &member.member_id, month));
                out.push(report.decide(ReimbursementCommand::Submit(input)).await?).await?;
                out.push(report.decide(ReimbursementCommand::Approve { version: 1 }).await?).await?;
                month = month.next();
            }
        }
        if b % 10 == 9 {
            progress("agreements", out.written);
        }
    }
    out.flush().await?;
    progress("done", out.written);
    Ok(out.written)
}

/// The consortium as seller, as the demo registers it.
pub fn seller() -> Result<Seller, AppError> {
    Ok(Seller {
        name: "Jämtlands Sociala Företag ek. för.".into(),
        org_number: OrgNumber::parse("769600-1002").map_err(|e| AppError::invalid("seller", e))?,
        vat_number: "SE769600100201".into(),
        street: "Storgatan 1".into(),
        postal_code: "831 30".into(),
        city: "Östersund".into(),
        bankgiro: Some("50501055".into()),
        iban: None,
        email: "faktura@jsf.example".into(),
        payment_terms_days: 30,
    })
}

/// Consecutive stays on a place from the start to `end`: 2–14 months each, a few weeks apart, some
/// employed by the member, each ending with an exit reason.
async fn stays(
    rng: &mut Rng,
    out: &mut Writer<'_>,
    vault: &Vault,
    place: &mut Loaded<TrainingPlace>,
    agreement_id: &str,
    member_id: &str,
    end: Date,
) -> Result<(), AppError> {
    let mut from = day_after(START, rng.below(60));
    let mut n = 0;
    while from < end {
        let participant =
            ParticipantId::parse(&format!("n-{}-{n}", place.id)).map_err(|e| AppError::invalid("participant", e))?;
        let mut person = Loaded::<Participant>::fresh(participant.as_str());
        let registered = register_participant(vault, &mut person, out.written + n, from).await;
        out.push(registered.map_err(|e| AppError::invalid("participant", e))?).await?;
        out.push(place.decide(PlaceCommand::Fill { participant: participant.clone(), from }).await?).await?;
        let take = ParticipantCommand::TakePlace {
            place_id: place.id.clone(),
            agreement_id: agreement_id.to_string(),
            member_id: member_id.to_string(),
            from,
        };
        out.push(person.decide(take).await?).await?;
        let last_day = day_after(from, 60 + rng.below(360)).min(end);
        if rng.below(5) == 0 {
            let employed = day_after(from, 30).min(last_day);
            out.push(place.decide(PlaceCommand::Employ { from: employed }).await?).await?;
        }
        let reason = match rng.below(6) {
            0 => ExitReason::EmploymentElsewhere,
            1 => ExitReason::Studies,
            2 => ExitReason::OtherIntervention,
            3 => ExitReason::EndedEarly,
            _ => ExitReason::Completed,
        };
        out.push(place.decide(PlaceCommand::Vacate { last_day, reason }).await?).await?;
        let leave = ParticipantCommand::LeavePlace { place_id: place.id.clone(), last_day };
        out.push(person.decide(leave).await?).await?;
        from = day_after(last_day, 1 + rng.below(45));
        n += 1;
    }
    Ok(())
}
