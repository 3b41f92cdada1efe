use super::{MemberCategory, MemberCommand, MemberEvent, MemberStanding};
use crate::money::Percent;
use crate::org_number::OrgNumber;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub org_number: Option<OrgNumber>,
    pub category: Option<MemberCategory>,
    pub target_group_share: Percent,
    pub joined_on: Option<Date>,
    pub left_on: Option<Date>,
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
    #[error("the member has already left the consortium")]
    AlreadyLeft,
    #[error("a member cannot leave ({left_on}) before it joined ({joined_on})")]
    LeftBeforeJoined { joined_on: Date, left_on: Date },
}

impl Member {
    pub fn is_registered(&self) -> bool {
        self.org_number.is_some()
    }

    pub fn standing(&self, member_id: &str) -> Option<MemberStanding> {
        Some(MemberStanding {
            member_id: member_id.to_string(),
            category: self.category?,
            target_group_share: self.target_group_share,
            active: self.left_on.is_none(),
        })
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

    fn decide(&self, command: MemberCommand) -> Result<MemberEvent, MemberError> {
        match command {
            MemberCommand::Register { name, org_number, category, target_group_share, joined_on } => {
                if self.is_registered() {
                    return Err(MemberError::AlreadyRegistered);
                }
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(MemberError::NameMissing);
                }
                Ok(MemberEvent::MemberRegistered { name, org_number, category, target_group_share, joined_on })
            }
            MemberCommand::ReportTargetGroupShare { share, reported_on } => {
                self.ensure_active()?;
                Ok(MemberEvent::TargetGroupShareReported { share, reported_on })
            }
            MemberCommand::ChangeCategory { category, changed_on } => {
                self.ensure_active()?;
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
            MemberEvent::MemberRegistered { name, org_number, category, target_group_share, joined_on } => {
                self.name = name;
                self.org_number = Some(org_number);
                self.category = Some(category);
                self.target_group_share = target_group_share;
                self.joined_on = Some(joined_on);
            }
            MemberEvent::TargetGroupShareReported { share, .. } => self.target_group_share = share,
            MemberEvent::CategoryChanged { category, .. } => self.category = Some(category),
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
            org_number: org(),
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
                org_number: org(),
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
                org_number: org(),
                category: MemberCategory::Wise,
                target_group_share: share("45"),
                joined_on: date!(2024 - 09 - 01),
            })
            .then_expect_error(MemberError::AlreadyRegistered);
    }

    #[test]
    fn a_member_needs_a_name() {
        MemberTest::with(())
            .given_no_previous_events()
            .when(MemberCommand::Register {
                name: "   ".into(),
                org_number: org(),
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
        assert_eq!(member.standing("m1").map(|s| s.qualifies_for_reserved()), Some(true));
        member
            .apply(MemberEvent::TargetGroupShareReported { share: share("29,99"), reported_on: date!(2025 - 02 - 01) });
        assert_eq!(member.standing("m1").map(|s| s.qualifies_for_reserved()), Some(false));
    }

    #[test]
    fn an_association_that_is_not_an_asf_never_qualifies_for_reserved_agreements() {
        let mut member = Member::default();
        member.apply(registered());
        member.apply(MemberEvent::CategoryChanged {
            category: MemberCategory::OtherAssociation,
            changed_on: date!(2025 - 01 - 01),
        });
        assert_eq!(member.standing("m1").map(|s| s.qualifies_for_reserved()), Some(false));
    }
}
