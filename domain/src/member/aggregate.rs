use super::{insert_version, Dated, MemberCategory, MemberCommand, MemberEvent, MemberStanding};
use crate::money::Percent;
use crate::org_number::OrgNumber;
use crate::sealed::Sealed;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// In clear for a legal person; `None` for a sole trader, whose number is in `sealed_org_number`.
    pub org_number: Option<OrgNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_org_number: Option<Sealed>,
    pub category: Option<MemberCategory>,
    pub target_group_share: Percent,
    pub joined_on: Option<Date>,
    pub left_on: Option<Date>,
    /// Every category with the day it took effect, sorted; `category` is the latest.
    #[serde(default)]
    pub categories: Vec<Dated<MemberCategory>>,
    /// Every reported target-group share with its day, sorted; `target_group_share` is the latest.
    #[serde(default)]
    pub shares: Vec<Dated<Percent>>,
}

/// The member rules a command can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberError {
    #[error("this member is already registered")]
    AlreadyRegistered,
    #[error("no member is registered under this id")]
    NotRegistered,
    #[error("a member needs a name")]
    NameMissing,
    #[error("a member needs an organisation number")]
    OrgNumberMissing,
    #[error("this organisation number is a personnummer (a sole trader's); it is personal data and is kept sealed")]
    PersonnummerInClear,
    #[error("the member has already left the consortium")]
    AlreadyLeft,
    #[error("a member cannot leave ({left_on}) before it joined ({joined_on})")]
    LeftBeforeJoined { joined_on: Date, left_on: Date },
    #[error("a change on {date} is before the member joined ({joined_on})")]
    BeforeJoined { date: Date, joined_on: Date },
}

impl Member {
    pub fn is_registered(&self) -> bool {
        self.joined_on.is_some()
    }

    /// A sole trader (enskild firma): its organisation number is its owner's personnummer.
    pub fn is_sole_trader(&self) -> bool {
        self.sealed_org_number.is_some()
    }

    pub fn standing(&self, member_id: &str) -> Option<MemberStanding> {
        let joined_on = self.joined_on?;
        let category = self.category?;
        let categories = match self.categories.is_empty() {
            true => vec![Dated { from: joined_on, value: category }],
            false => self.categories.clone(),
        };
        let shares = match self.shares.is_empty() {
            true => vec![Dated { from: joined_on, value: self.target_group_share }],
            false => self.shares.clone(),
        };
        Some(MemberStanding { member_id: member_id.to_string(), joined_on, left_on: self.left_on, categories, shares })
    }

    fn ensure_active(&self) -> Result<(), MemberError> {
        if !self.is_registered() {
            return Err(MemberError::NotRegistered);
        }
        if self.left_on.is_some() {
            return Err(MemberError::AlreadyLeft);
        }
        Ok(())
    }

    /// A change takes effect on a day the member belonged to the consortium.
    fn ensure_after_joining(&self, date: Date) -> Result<(), MemberError> {
        match self.joined_on {
            Some(joined_on) if date < joined_on => Err(MemberError::BeforeJoined { date, joined_on }),
            _ => Ok(()),
        }
    }

    fn decide(&self, command: MemberCommand) -> Result<MemberEvent, MemberError> {
        match command {
            MemberCommand::Register {
                name,
                org_number,
                sealed_org_number,
                category,
                target_group_share,
                joined_on,
            } => {
                if self.is_registered() {
                    return Err(MemberError::AlreadyRegistered);
                }
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(MemberError::NameMissing);
                }
                match (&org_number, &sealed_org_number) {
                    (Some(number), _) if number.is_personal_identity_number() => {
                        return Err(MemberError::PersonnummerInClear)
                    }
                    (Some(_), None) | (None, Some(_)) => {}
                    _ => return Err(MemberError::OrgNumberMissing),
                }
                Ok(MemberEvent::MemberRegistered {
                    name,
                    org_number,
                    sealed_org_number,
                    category,
                    target_group_share,
                    joined_on,
                })
            }
            MemberCommand::ReportTargetGroupShare { share, reported_on } => {
                self.ensure_active()?;
                self.ensure_after_joining(reported_on)?;
                Ok(MemberEvent::TargetGroupShareReported { share, reported_on })
            }
            MemberCommand::ChangeCategory { category, changed_on } => {
                self.ensure_active()?;
                self.ensure_after_joining(changed_on)?;
                Ok(MemberEvent::CategoryChanged { category, changed_on })
            }
            MemberCommand::Leave { left_on } => {
                self.ensure_active()?;
                match self.joined_on {
                    Some(joined_on) if left_on < joined_on => Err(MemberError::LeftBeforeJoined { joined_on, left_on }),
                    _ => Ok(MemberEvent::MemberLeft { left_on }),
                }
            }
        }
    }
}

impl Aggregate for Member {
    const TYPE: &'static str = "Member";
    type Command = MemberCommand;
    type Event = MemberEvent;
    type Error = MemberError;
    type Services = ();

    async fn handle(&mut self, command: MemberCommand, _: &(), sink: &EventSink<Self>) -> Result<(), MemberError> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: MemberEvent) {
        match event {
            MemberEvent::MemberRegistered {
                name,
                org_number,
                sealed_org_number,
                category,
                target_group_share,
                joined_on,
            } => {
                self.name = name;
                self.org_number = org_number;
                self.sealed_org_number = sealed_org_number;
                self.category = Some(category);
                self.target_group_share = target_group_share;
                self.joined_on = Some(joined_on);
                self.categories = vec![Dated { from: joined_on, value: category }];
                self.shares = vec![Dated { from: joined_on, value: target_group_share }];
            }
            MemberEvent::TargetGroupShareReported { share, reported_on } => {
                insert_version(&mut self.shares, Dated { from: reported_on, value: share });
                self.target_group_share = self.shares.last().map_or(share, |v| v.value);
            }
            MemberEvent::CategoryChanged { category, changed_on } => {
                insert_version(&mut self.categories, Dated { from: changed_on, value: category });
                self.category = self.categories.last().map(|v| v.value);
            }
            MemberEvent::MemberLeft { left_on } => self.left_on = Some(left_on),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;
    use time::macros::date;

    type MemberTest = TestFramework<Member>;

    fn org() -> OrgNumber {
        OrgNumber::parse("556677-8899").unwrap_or_else(|e| panic!("{e}"))
    }

    fn share(text: &str) -> Percent {
        Percent::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn registered() -> MemberEvent {
        MemberEvent::MemberRegistered {
            name: "Returbutiken Fyndet".into(),
            org_number: Some(org()),
            sealed_org_number: None,
            category: MemberCategory::Wise,
            target_group_share: share("45"),
            joined_on: date!(2024 - 09 - 01),
        }
    }

    #[test]
    fn an_enterprise_joins_the_consortium() {
        MemberTest::with(())
            .given_no_previous_events()
            .when(MemberCommand::Register {
                name: "  Returbutiken Fyndet ".into(),
                org_number: Some(org()),
                sealed_org_number: None,
                category: MemberCategory::Wise,
                target_group_share: share("45"),
                joined_on: date!(2024 - 09 - 01),
            })
            .then_expect_events(vec![registered()]);
    }

    #[test]
    fn a_member_is_registered_only_once() {
        MemberTest::with(())
            .given(vec![registered()])
            .when(MemberCommand::Register {
                name: "Fyndet igen".into(),
                org_number: Some(org()),
                sealed_org_number: None,
                category: MemberCategory::Wise,
                target_group_share: share("45"),
                joined_on: date!(2024 - 09 - 01),
            })
            .then_expect_error(MemberError::AlreadyRegistered);
    }

    #[test]
    fn a_sole_traders_number_is_never_recorded_in_clear() {
        // A sole trader's number is its owner's personnummer: month 03, day 12.
        let owner = crate::personnummer::Personnummer::generate(date!(1985 - 03 - 12), 123, false);
        let personal = OrgNumber::parse(&owner.digits()[2..]).unwrap_or_else(|e| panic!("{e}"));
        assert!(personal.is_personal_identity_number());
        let register = |org_number, sealed_org_number| MemberCommand::Register {
            name: "Annas Städ".into(),
            org_number,
            sealed_org_number,
            category: MemberCategory::Wise,
            target_group_share: share("40"),
            joined_on: date!(2024 - 09 - 01),
        };
        MemberTest::with(())
            .given_no_previous_events()
            .when(register(Some(personal), None))
            .then_expect_error(MemberError::PersonnummerInClear);
        MemberTest::with(())
            .given_no_previous_events()
            .when(register(None, None))
            .then_expect_error(MemberError::OrgNumberMissing);
        let sealed = Sealed { nonce: "00".into(), ciphertext: "11".into() };
        let mut member = Member::default();
        member.apply(MemberEvent::MemberRegistered {
            name: "Annas Städ".into(),
            org_number: None,
            sealed_org_number: Some(sealed),
            category: MemberCategory::Wise,
            target_group_share: share("40"),
            joined_on: date!(2024 - 09 - 01),
        });
        assert!(member.is_registered() && member.is_sole_trader() && member.org_number.is_none());
    }

    #[test]
    fn a_member_needs_a_name() {
        MemberTest::with(())
            .given_no_previous_events()
            .when(MemberCommand::Register {
                name: "   ".into(),
                org_number: Some(org()),
                sealed_org_number: None,
                category: MemberCategory::OtherAssociation,
                target_group_share: share("10"),
                joined_on: date!(2024 - 09 - 01),
            })
            .then_expect_error(MemberError::NameMissing);
    }

    #[test]
    fn a_member_cannot_leave_before_it_joined() {
        MemberTest::with(())
            .given(vec![registered()])
            .when(MemberCommand::Leave { left_on: date!(2024 - 08 - 31) })
            .then_expect_error(MemberError::LeftBeforeJoined {
                joined_on: date!(2024 - 09 - 01),
                left_on: date!(2024 - 08 - 31),
            });
    }

    #[test]
    fn a_member_that_left_reports_nothing_more() {
        MemberTest::with(())
            .given(vec![registered(), MemberEvent::MemberLeft { left_on: date!(2025 - 12 - 31) }])
            .when(MemberCommand::ReportTargetGroupShare { share: share("50"), reported_on: date!(2026 - 01 - 10) })
            .then_expect_error(MemberError::AlreadyLeft);
    }

    #[test]
    fn an_asf_with_30_percent_from_the_target_group_qualifies_for_reserved_agreements() {
        let mut member = Member::default();
        member.apply(registered());
        member.apply(MemberEvent::TargetGroupShareReported { share: share("30"), reported_on: date!(2025 - 01 - 01) });
        let on = date!(2025 - 01 - 15);
        assert_eq!(member.standing("m1").map(|s| s.qualifies_for_reserved_on(on)), Some(true));
        member
            .apply(MemberEvent::TargetGroupShareReported { share: share("29,99"), reported_on: date!(2025 - 02 - 01) });
        let standing = member.standing("m1");
        assert_eq!(standing.as_ref().map(|s| s.qualifies_for_reserved_on(on)), Some(true));
        assert_eq!(standing.map(|s| s.qualifies_for_reserved_on(date!(2025 - 02 - 01))), Some(false));
    }

    #[test]
    fn an_association_that_is_not_an_asf_never_qualifies_for_reserved_agreements() {
        let mut member = Member::default();
        member.apply(registered());
        member.apply(MemberEvent::CategoryChanged {
            category: MemberCategory::OtherAssociation,
            changed_on: date!(2025 - 01 - 01),
        });
        assert_eq!(member.standing("m1").map(|s| s.qualifies_for_reserved_on(date!(2025 - 01 - 01))), Some(false));
    }

    #[test]
    fn a_category_change_applies_from_its_day_and_not_before() {
        let mut member = Member::default();
        member.apply(registered());
        member.apply(MemberEvent::CategoryChanged {
            category: MemberCategory::OtherAssociation,
            changed_on: date!(2025 - 10 - 01),
        });
        let standing = member.standing("m1").unwrap_or_else(|| panic!("registered"));
        assert_eq!(standing.category_on(date!(2025 - 09 - 30)), MemberCategory::Wise);
        assert_eq!(standing.category_on(date!(2025 - 10 - 01)), MemberCategory::OtherAssociation);
        assert_eq!(member.category, Some(MemberCategory::OtherAssociation));
    }

    #[test]
    fn a_backdated_change_keeps_the_latest_as_current() {
        let mut member = Member::default();
        member.apply(registered());
        member.apply(MemberEvent::TargetGroupShareReported { share: share("50"), reported_on: date!(2025 - 06 - 01) });
        member.apply(MemberEvent::TargetGroupShareReported { share: share("20"), reported_on: date!(2025 - 03 - 01) });
        assert_eq!(member.target_group_share, share("50"));
        let standing = member.standing("m1").unwrap_or_else(|| panic!("registered"));
        assert_eq!(standing.share_on(date!(2025 - 04 - 01)), share("20"));
    }

    #[test]
    fn a_change_before_joining_is_refused() {
        MemberTest::with(())
            .given(vec![registered()])
            .when(MemberCommand::ChangeCategory {
                category: MemberCategory::OtherAssociation,
                changed_on: date!(2024 - 08 - 01),
            })
            .then_expect_error(MemberError::BeforeJoined {
                date: date!(2024 - 08 - 01),
                joined_on: date!(2024 - 09 - 01),
            });
    }
}
