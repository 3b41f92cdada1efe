//! Demo data from the source reports, so a first-time user sees real agreements, members, places and
//! monthly reports. Everything goes through the application's use cases, exactly as users' requests do.

use crate::app::{member_id, Actor, App};
use crate::application::input::participant;
use crate::application::invoicing::{self, MonthEndRun};
use crate::application::participants::{self, NewParticipant};
use crate::application::split::{NewAllocation, Part};
use crate::application::{agreements, members, payouts, places, reports, split, today};
use crate::auth::{principal, AuthError, Keys, Role};
use crate::error::AppError;
use crate::vault::PersonalData;
use konsortium_domain::calendar::{parse_date, DateRange, Month};
use konsortium_domain::examples;
use konsortium_domain::invoice::Seller;
use konsortium_domain::member::MemberCategory;
use konsortium_domain::money::{Ore, Percent};
use konsortium_domain::org_number::OrgNumber;
use konsortium_domain::participant::{Gender, TargetGroup};
use konsortium_domain::personnummer::Personnummer;
use konsortium_domain::place::ExitReason;
use konsortium_projections::views;
use time::Date;

const OSTERSUND: &str = "3b1f6c2e-0000-4000-8000-000000000001";
const KROKOM: &str = "3b1f6c2e-0000-4000-8000-000000000002";
const NORDANSTIG: &str = "3b1f6c2e-0000-4000-8000-000000000003";
const FRUIT_BASKETS: &str = "3b1f6c2e-0000-4000-8000-000000000004";

/// The demo's monthly membership fees: 500 kr for an ASF, 1 000 kr for another association.
pub const DEMO_ASF_FEE: Ore = Ore(50_000);
pub const DEMO_OTHER_FEE: Ore = Ore(100_000);

fn day(text: &str) -> Result<Date, AppError> {
    parse_date(text).map_err(|e| AppError::invalid("demo", e))
}

/// Loads the demo once: does nothing when the store already holds members.
pub async fn load(app: &App) -> Result<bool, AppError> {
    if !views::is_empty(app.db(), views::MEMBERS_TABLE).await? {
        return Ok(false);
    }
    let demo = Demo { app, actor: Actor::system("demo") };
    let mut ids = Vec::new();
    for member in examples::MEMBERS {
        let new = members::NewMember {
            name: member.name.into(),
            org_number: OrgNumber::parse(member.org_number).map_err(|e| AppError::invalid("demo", e))?,
            category: member.category,
            target_group_share: Percent::from_whole(member.target_group_share),
            joined_on: day("2024-09-01")?,
        };
        ids.push(members::register_member(app, &demo.actor, new).await?.0);
    }
    let [cafe, fyndet, gront, gemenskap] =
        <[String; 4]>::try_from(ids).map_err(|_| AppError::invalid("demo", "four members"))?;
    for (id, terms) in [
        (OSTERSUND, examples::ostersund_work_training()),
        (KROKOM, examples::krokom_reserved()),
        (NORDANSTIG, examples::nordanstig_work_training()),
        (FRUIT_BASKETS, examples::fruit_baskets()),
    ] {
        agreements::register_agreement_as(app, &demo.actor, id, terms).await?;
    }
    let (effective_from, rates) = examples::krokom_rate_cut();
    agreements::change_agreement_rates(app, &demo.actor, KROKOM, effective_from, rates.into()).await?;

    // Östersund: Fyndet holds 8 of the 13 places, the café 5. Anna from 11 November 2024, Bo employed
    // from 17 March 2025, Cecilia left for studies in January.
    let fyndet_places = demo.allocate(OSTERSUND, &fyndet, Part::Places(8), "2024-09-01").await?;
    let cafe_places = demo.allocate(OSTERSUND, &cafe, Part::Places(5), "2024-09-01").await?;
    let anna = Person {
        name: "Anna Demosson",
        born: "1985-03-12",
        gender: Gender::Woman,
        group: TargetGroup::RegisteredTwelveMonths,
    };
    demo.open_and_fill(OSTERSUND, &fyndet, &fyndet_places, &anna, "2024-11-11").await?;
    let bo = Person {
        name: "Bo Demosson",
        born: "1979-06-02",
        gender: Gender::Man,
        group: TargetGroup::RegisteredTwelveMonths,
    };
    let bo = demo.open_and_fill(OSTERSUND, &fyndet, &fyndet_places, &bo, "2024-09-01").await?;
    places::employ_participant(app, &demo.actor, &bo, day("2025-03-17")?).await?;
    let cecilia = Person {
        name: "Cecilia Demosson",
        born: "2003-01-20",
        gender: Gender::Woman,
        group: TargetGroup::YoungSixMonths,
    };
    let cecilia = demo.open_and_fill(OSTERSUND, &cafe, &cafe_places, &cecilia, "2024-10-01").await?;
    places::vacate_place(app, &demo.actor, &cecilia, day("2025-01-31")?, ExitReason::Studies).await?;
    let (november, report) = demo.submit(OSTERSUND, &fyndet, "2024-11").await?;
    reports::approve_monthly_report(app, &demo.actor, &november, report.version).await?;
    demo.submit(OSTERSUND, &fyndet, "2025-03").await?;

    // Krokom: 7 500 kr for at most 3 months, cut to 3 000 kr from 2025.
    let krokom_places = demo.allocate(KROKOM, &cafe, Part::Places(3), "2024-10-01").await?;
    let david =
        Person { name: "David Demosson", born: "1991-11-30", gender: Gender::Man, group: TargetGroup::NewlyArrived };
    demo.open_and_fill(KROKOM, &cafe, &krokom_places, &david, "2024-10-16").await?;
    let (december, report) = demo.submit(KROKOM, &cafe, "2024-12").await?;
    reports::approve_monthly_report(app, &demo.actor, &december, report.version).await?;

    // Nordanstig admits associations: Föreningen Gemenskap takes two places at 5 000 kr.
    demo.allocate(NORDANSTIG, &gemenskap, Part::Places(2), "2025-01-01").await?;

    // The fruit baskets: purchasing, packing and delivery split 50/20/30.
    for (member, role, share) in [(&cafe, "purchasing", 50), (&fyndet, "packing", 20), (&gront, "delivery", 30)] {
        let part = Part::Role { role: role.into(), share: Percent::from_whole(share) };
        demo.allocate(FRUIT_BASKETS, member, part, "2025-01-01").await?;
    }
    split::confirm_shares(app, &demo.actor, FRUIT_BASKETS, day("2025-01-01")?).await?;

    // The consortium as seller, and the month-end run for every month already over: the approved
    // November (Östersund) and December (Krokom) become Peppol invoices.
    let seller = Seller {
        name: "Jämtlands Sociala Företag ek. för.".into(),
        org_number: OrgNumber::parse("769600-1002").map_err(|e| AppError::invalid("demo", e))?,
        vat_number: "SE769600100201".into(),
        street: "Storgatan 1".into(),
        postal_code: "831 30".into(),
        city: "Östersund".into(),
        bankgiro: Some("50501055".into()),
        iban: None,
        email: "faktura@jsf.example".into(),
        payment_terms_days: 30,
    };
    invoicing::register_consortium(app, &demo.actor, &seller).await?;
    let last_month = today().replace_day(1).ok().and_then(|first| first.previous_day()).map(Month::of);
    if let Some(month) = last_month {
        invoicing::issue_invoices(app, &demo.actor, &MonthEndRun { month, agreement_id: None }).await?;
    }

    // Membership fees (the sources give none; social enterprises pay a reduced fee, as at Samarkand):
    // 500 kr a month for an ASF, 1 000 kr for another association. Then the payout statements for
    // the invoiced months, in order.
    let from = Month::parse("2024-09").map_err(|e| AppError::invalid("demo", e))?;
    for (category, fee) in [(MemberCategory::Wise, DEMO_ASF_FEE), (MemberCategory::OtherAssociation, DEMO_OTHER_FEE)] {
        payouts::set_category_fee(app, &demo.actor, category, from, fee).await?;
    }
    for month in ["2024-11", "2024-12"] {
        let month = Month::parse(month).map_err(|e| AppError::invalid("demo", e))?;
        if last_month.is_some_and(|last| month <= last) {
            payouts::issue_payout_statements(app, &demo.actor, month).await?;
        }
    }
    Ok(true)
}

/// Tokens a newcomer can paste into GraphiQL's headers: staff, Fyndet (a member) and Östersunds
/// kommun (a buyer), valid for a day.
pub fn tokens(keys: &Keys) -> Result<Vec<(String, String)>, AuthError> {
    let day = std::time::Duration::from_secs(86_400);
    let fyndet = examples::MEMBERS
        .iter()
        .find(|m| m.name.contains("Fyndet"))
        .and_then(|m| OrgNumber::parse(m.org_number).ok())
        .map(|org| member_id(&org))
        .unwrap_or_default();
    let callers = [
        ("staff", principal("demo-staff".into(), Role::Staff, None, None)?),
        ("member Returbutiken Fyndet", principal("demo-fyndet".into(), Role::Member, Some(fyndet), None)?),
        ("buyer Östersunds kommun", principal("demo-ostersund".into(), Role::Buyer, None, Some("212000-2411"))?),
    ];
    callers.into_iter().map(|(who, p)| Ok((who.to_string(), keys.mint(&p, day)?))).collect()
}

/// A made-up participant of the demo.
struct Person {
    name: &'static str,
    born: &'static str,
    gender: Gender,
    group: TargetGroup,
}

struct Demo<'a> {
    app: &'a App,
    actor: Actor,
}

impl Demo<'_> {
    async fn allocate(&self, agreement: &str, member: &str, part: Part, start: &str) -> Result<String, AppError> {
        let new = NewAllocation {
            agreement_id: agreement.into(),
            member_id: member.into(),
            period: DateRange { start: day(start)?, end: None },
            part,
        };
        Ok(split::allocate(self.app, &self.actor, new).await?.id)
    }

    /// Registers the person with the member, opens a place and fills it with them.
    async fn open_and_fill(
        &self,
        agreement: &str,
        member: &str,
        allocation: &str,
        who: &Person,
        from: &str,
    ) -> Result<String, AppError> {
        let born = day(who.born)?;
        let new = NewParticipant {
            personal: PersonalData {
                name: who.name.into(),
                personnummer: Personnummer::generate(born, 42, false).digits().to_string(),
                year_of_birth: born.year(),
                referring_authority: "Arbetsförmedlingen".into(),
            },
            gender: who.gender,
            target_group: who.group,
            member_id: Some(member.to_string()),
        };
        let id = participants::register_participant(self.app, &self.actor, &new).await?;
        let (place, _) = places::open_place(self.app, &self.actor, agreement, allocation, day(from)?).await?;
        places::fill_place(self.app, &self.actor, &place, &participant("demo", &id)?, day(from)?).await?;
        Ok(place)
    }

    async fn submit(&self, agreement: &str, member: &str, month: &str) -> Result<reports::Report, AppError> {
        let report = reports::MonthToReport {
            agreement_id: agreement.into(),
            member_id: member.into(),
            month: Month::parse(month).map_err(|e| AppError::invalid("demo", e))?,
            deliveries: Vec::new(),
        };
        reports::submit_monthly_report(self.app, &self.actor, &report).await
    }
}
