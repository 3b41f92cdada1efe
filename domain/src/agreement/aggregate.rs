use super::{
    AgreementCommand, AgreementEvent, AgreementKind, AgreementTerms, CapacityVersion, EmploymentRequirement, RateCard,
    RateVersion, VatCategory, MAX_CAP_MONTHS, MAX_CONTRACT_VALUE, MAX_MONTHLY_RATE, MAX_PLACES,
    MAX_REQUIRED_EMPLOYMENTS,
};
use crate::calendar::DateRange;
use crate::invoice::MAX_PAYMENT_TERMS_DAYS;
use crate::member::MemberCategory;
use crate::money::Ore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::Date;

/// The agreement as its commands see it: terms plus the histories later events have added.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkAgreement {
    pub terms: Option<AgreementTerms>,
    /// Sorted by `effective_from`; the first starts on the agreement's start date.
    pub rate_history: Vec<RateVersion>,
    pub capacity_history: Vec<CapacityVersion>,
    pub terminated: Option<Date>,
}

/// The agreement rules a command can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    #[error("this agreement is already registered")]
    AlreadyRegistered,
    #[error("no agreement is registered under this id")]
    NotRegistered,
    #[error("payment terms are 1 to {max} days")]
    PaymentTerms { max: u32 },
    #[error("the agreement ends ({end}) before it starts ({start})")]
    EndBeforeStart { start: Date, end: Date },
    #[error("rates and values cannot be negative")]
    NegativeRate,
    #[error("the agreement needs a title")]
    TitleMissing,
    #[error("the buyer reference (BT-10) is required: Peppol rejects invoices without it")]
    BuyerReferenceMissing,
    #[error("a training-place agreement needs at least one contracted place")]
    NoPlaces,
    #[error("a goods-and-services agreement is split by value, not by places")]
    PlacesOnGoodsAgreement,
    #[error("a VAT exemption needs its legal reason")]
    ExemptionReasonMissing,
    #[error("a cap of zero months would pay nothing")]
    ZeroMonthCap,
    #[error("a monthly rate above {max} is not accepted")]
    RateTooHigh { max: Ore },
    #[error("an agreement contracts at most {max} places")]
    TooManyPlaces { max: u32 },
    #[error("a cap of months may be at most {max}")]
    CapTooLong { max: u32 },
    #[error("a contract value above {max} is not accepted")]
    ContractValueTooHigh { max: Ore },
    #[error("the buyer's contract reference is required: invoices quote it")]
    ContractReferenceMissing,
    #[error("the buyer needs a name")]
    BuyerNameMissing,
    #[error("the buyer's address needs a street, a five-digit postal code and a city")]
    BuyerAddressIncomplete,
    #[error("{date} is outside the agreement period")]
    OutsidePeriod { date: Date },
    #[error("an extension must end after the current end date")]
    ExtensionNotLater,
    #[error("the agreement was terminated; its terms can no longer change")]
    Terminated,
    #[error("a termination needs a reason")]
    TerminationReasonMissing,
    #[error("a skallkrav needs at least one employment or placement; without a number it is a dialogkrav")]
    NoEmploymentsRequired,
    #[error("a skallkrav may require at most {max} employments")]
    TooManyEmploymentsRequired { max: u32 },
}

impl FrameworkAgreement {
    /// The state after these events, as the store would load it.
    pub fn from_events(events: impl IntoIterator<Item = AgreementEvent>) -> FrameworkAgreement {
        let mut agreement = FrameworkAgreement::default();
        for event in events {
            agreement.apply(event);
        }
        agreement
    }

    pub fn terms(&self) -> Result<&AgreementTerms, AgreementError> {
        self.terms.as_ref().ok_or(AgreementError::NotRegistered)
    }

    /// The period in force, shortened by a termination.
    pub fn period(&self) -> Option<DateRange> {
        let terms = self.terms.as_ref()?;
        let end = match (terms.period.end, self.terminated) {
            (Some(end), Some(t)) => Some(end.min(t)),
            (end, t) => t.or(end),
        };
        Some(DateRange { start: terms.period.start, end })
    }

    /// The rate card in force on a day.
    pub fn rates_on(&self, date: Date) -> Option<&RateCard> {
        self.rate_history.iter().rev().find(|v| v.effective_from <= date).map(|v| &v.rates)
    }

    /// Training rate for a member category on a day; `None` when that category is not admitted.
    pub fn training_rate_on(&self, date: Date, category: MemberCategory) -> Option<Ore> {
        self.rates_on(date).and_then(|r| r.training_rate(category))
    }

    /// Contracted places on a day (zero outside the period).
    pub fn places_on(&self, date: Date) -> u32 {
        if !self.period().is_some_and(|p| p.contains(date)) {
            return 0;
        }
        self.capacity_history.iter().rev().find(|v| v.effective_from <= date).map_or(0, |v| v.places)
    }

    fn active_terms(&self) -> Result<&AgreementTerms, AgreementError> {
        let terms = self.terms()?;
        if self.terminated.is_some() {
            return Err(AgreementError::Terminated);
        }
        Ok(terms)
    }

    fn ensure_in_period(&self, date: Date) -> Result<(), AgreementError> {
        match self.period() {
            Some(period) if period.contains(date) => Ok(()),
            _ => Err(AgreementError::OutsidePeriod { date }),
        }
    }

    fn register(&self, terms: AgreementTerms) -> Result<AgreementEvent, AgreementError> {
        if self.terms.is_some() {
            return Err(AgreementError::AlreadyRegistered);
        }
        if terms.title.trim().is_empty() {
            return Err(AgreementError::TitleMissing);
        }
        if terms.buyer.reference.trim().is_empty() {
            return Err(AgreementError::BuyerReferenceMissing);
        }
        if terms.contract_reference.trim().is_empty() {
            return Err(AgreementError::ContractReferenceMissing);
        }
        if terms.buyer.name.trim().is_empty() {
            return Err(AgreementError::BuyerNameMissing);
        }
        if terms.buyer.address.as_ref().is_some_and(|a| !a.is_complete()) {
            return Err(AgreementError::BuyerAddressIncomplete);
        }
        if let Some(end) = terms.period.end.filter(|end| *end < terms.period.start) {
            return Err(AgreementError::EndBeforeStart { start: terms.period.start, end });
        }
        if terms.has_negative_rate() {
            return Err(AgreementError::NegativeRate);
        }
        check_rates(&terms.rates)?;
        if terms.contracted_places > MAX_PLACES {
            return Err(AgreementError::TooManyPlaces { max: MAX_PLACES });
        }
        if terms.contract_value.is_some_and(|v| v > MAX_CONTRACT_VALUE) {
            return Err(AgreementError::ContractValueTooHigh { max: MAX_CONTRACT_VALUE });
        }
        match terms.kind {
            AgreementKind::TrainingPlaces if terms.contracted_places == 0 => return Err(AgreementError::NoPlaces),
            AgreementKind::GoodsAndServices if terms.contracted_places > 0 => {
                return Err(AgreementError::PlacesOnGoodsAgreement)
            }
            _ => {}
        }
        if matches!(&terms.vat, VatCategory::Exempt { reason } if reason.trim().is_empty()) {
            return Err(AgreementError::ExemptionReasonMissing);
        }
        let caps = [terms.employment_rate_max_months, terms.max_months_per_participant];
        if caps.contains(&Some(0)) {
            return Err(AgreementError::ZeroMonthCap);
        }
        if caps.into_iter().flatten().any(|months| months > MAX_CAP_MONTHS) {
            return Err(AgreementError::CapTooLong { max: MAX_CAP_MONTHS });
        }
        if terms.payment_terms_days.is_some_and(|days| days == 0 || u32::from(days) > MAX_PAYMENT_TERMS_DAYS) {
            return Err(AgreementError::PaymentTerms { max: MAX_PAYMENT_TERMS_DAYS });
        }
        match terms.employment_requirement.map(|r| r.required()) {
            Some(0) if terms.employment_requirement != Some(EmploymentRequirement::Dialogue) => {
                return Err(AgreementError::NoEmploymentsRequired)
            }
            Some(n) if n > MAX_REQUIRED_EMPLOYMENTS => {
                return Err(AgreementError::TooManyEmploymentsRequired { max: MAX_REQUIRED_EMPLOYMENTS })
            }
            _ => {}
        }
        Ok(AgreementEvent::AgreementRegistered(terms))
    }

    fn decide(&self, command: AgreementCommand) -> Result<AgreementEvent, AgreementError> {
        match command {
            AgreementCommand::Register(terms) => self.register(*terms),
            AgreementCommand::ChangeRates { effective_from, change } => {
                let terms = self.active_terms()?;
                self.ensure_in_period(effective_from)?;
                let current = self.rates_on(effective_from).unwrap_or(&terms.rates);
                let rates = change.applied_to(current);
                if rates.has_negative() {
                    return Err(AgreementError::NegativeRate);
                }
                check_rates(&rates)?;
                Ok(AgreementEvent::RatesChanged { effective_from, rates })
            }
            AgreementCommand::ChangeCapacity { effective_from, places } => {
                if self.active_terms()?.kind == AgreementKind::GoodsAndServices {
                    return Err(AgreementError::PlacesOnGoodsAgreement);
                }
                self.ensure_in_period(effective_from)?;
                if places > MAX_PLACES {
                    return Err(AgreementError::TooManyPlaces { max: MAX_PLACES });
                }
                Ok(AgreementEvent::CapacityChanged { effective_from, places })
            }
            AgreementCommand::Extend { new_end } => {
                let terms = self.active_terms()?;
                if terms.period.end.is_none_or(|end| new_end <= end) {
                    return Err(AgreementError::ExtensionNotLater);
                }
                Ok(AgreementEvent::AgreementExtended { new_end })
            }
            AgreementCommand::Terminate { last_day, reason } => {
                self.active_terms()?;
                self.ensure_in_period(last_day)?;
                if reason.trim().is_empty() {
                    return Err(AgreementError::TerminationReasonMissing);
                }
                Ok(AgreementEvent::AgreementTerminated { last_day, reason: reason.trim().to_string() })
            }
            AgreementCommand::ChangeBuyerReference { reference } => {
                self.active_terms()?;
                if reference.trim().is_empty() {
                    return Err(AgreementError::BuyerReferenceMissing);
                }
                Ok(AgreementEvent::BuyerReferenceChanged { reference: reference.trim().to_string() })
            }
        }
    }
}

fn check_rates(rates: &RateCard) -> Result<(), AgreementError> {
    if rates.highest() > MAX_MONTHLY_RATE {
        return Err(AgreementError::RateTooHigh { max: MAX_MONTHLY_RATE });
    }
    Ok(())
}

/// Inserts a version so the list stays sorted; a second version on the same day replaces the first.
fn upsert_version<T>(versions: &mut Vec<T>, effective_from: Date, version: T, date_of: impl Fn(&T) -> Date) {
    versions.retain(|v| date_of(v) != effective_from);
    let at = versions.partition_point(|v| date_of(v) < effective_from);
    versions.insert(at, version);
}

impl Aggregate for FrameworkAgreement {
    const TYPE: &'static str = "FrameworkAgreement";
    type Command = AgreementCommand;
    type Event = AgreementEvent;
    type Error = AgreementError;
    type Services = ();

    async fn handle(
        &mut self,
        command: AgreementCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), AgreementError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AgreementEvent) {
        match event {
            AgreementEvent::AgreementRegistered(terms) => {
                let start = terms.period.start;
                self.rate_history = vec![RateVersion { effective_from: start, rates: terms.rates.clone() }];
                self.capacity_history =
                    vec![CapacityVersion { effective_from: start, places: terms.contracted_places }];
                self.terms = Some(terms);
            }
            AgreementEvent::RatesChanged { effective_from, rates } => {
                upsert_version(&mut self.rate_history, effective_from, RateVersion { effective_from, rates }, |v| {
                    v.effective_from
                })
            }
            AgreementEvent::CapacityChanged { effective_from, places } => upsert_version(
                &mut self.capacity_history,
                effective_from,
                CapacityVersion { effective_from, places },
                |v| v.effective_from,
            ),
            AgreementEvent::AgreementExtended { new_end } => {
                if let Some(terms) = self.terms.as_mut() {
                    terms.period.end = Some(new_end);
                }
            }
            AgreementEvent::AgreementTerminated { last_day, .. } => self.terminated = Some(last_day),
            AgreementEvent::BuyerReferenceChanged { reference } => {
                if let Some(terms) = self.terms.as_mut() {
                    terms.buyer.reference = reference;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
