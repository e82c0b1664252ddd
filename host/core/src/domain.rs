//! The host's own enums: the states and kinds of its records that no hook
//! defines. Each has one spelling, the same in the API, the database, the
//! docs and the CLI: its [`as_str`](DealSource::as_str), kebab case like
//! the WIT's cases (which the WIT-generated types use too, through
//! `pactum-wit-serde`). Reading also accepts the spelling of earlier
//! releases where it differed (`PartnerSourced`), so stored rows and old
//! clients keep working.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! spelled {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$case_meta:meta])* $case:ident = $text:literal $(| $alias:literal)* ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum $name {
            $( $(#[$case_meta])* #[serde(rename = $text $(, alias = $alias)*)] $case, )+
        }

        impl $name {
            /// Every case, in order.
            pub const ALL: &'static [$name] = &[$($name::$case),+];

            /// Its one spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$case => $text,)+ }
            }

            /// The case spelled `text` (or an earlier release's spelling of it).
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text $(| $alias)* => Some($name::$case),)+
                    _ => None,
                }
            }

            /// The spellings, for an error message: `a, b or c`.
            pub fn expected() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                match names.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled! {
    /// Where a deal came from.
    pub enum DealSource {
        /// The partner brought it.
        PartnerSourced = "partner-sourced" | "PartnerSourced",
        /// The partner helped close it.
        PartnerInfluenced = "partner-influenced" | "PartnerInfluenced",
        /// The company's own sales; no partner, no commission.
        Direct = "direct" | "Direct",
    }
}

spelled! {
    /// Where a deal is.
    pub enum DealStage {
        /// Not closed yet.
        Open = "open",
        /// Closed won: commission earned.
        Won = "won",
        /// Closed lost.
        Lost = "lost",
    }
}

spelled! {
    /// Where a deal registration is.
    pub enum RegistrationStatus {
        /// Received, not decided yet.
        Submitted = "submitted",
        /// Waiting for a partner manager.
        Review = "review",
        /// Approved and protected until `protected_until`.
        Approved = "approved",
        /// Rejected.
        Rejected = "rejected",
        /// Its deal was won.
        Won = "won",
        /// Its deal was lost.
        Lost = "lost",
        /// Its protection ran out, or its partner left.
        Expired = "expired",
    }
}

spelled! {
    /// Where a partner's request to extend a registration's protection is.
    pub enum ExtensionStatus {
        /// Waiting for a manager.
        Requested = "requested",
        /// Granted: the protection period was extended.
        Granted = "granted",
        /// Refused.
        Refused = "refused",
    }
}

spelled! {
    /// Where a partner is in its lifecycle.
    pub enum PartnerStatus {
        /// In the program.
        Active = "active",
        /// No new registrations for now; earned lines still paid.
        Suspended = "suspended",
        /// Left the program: no leads, open registrations released.
        Offboarded = "offboarded",
    }
}

spelled! {
    /// Where a scorecard's tier change is, in a program whose tier changes
    /// wait for a partner manager (`tier-approval`).
    pub enum TierChangeStatus {
        /// Waiting for a manager.
        Pending = "pending",
        /// Approved: the partner's tier changed then.
        Approved = "approved",
        /// Rejected: the partner kept its tier.
        Rejected = "rejected",
    }
}

spelled! {
    /// Where a routed lead is.
    pub enum LeadStatus {
        /// Offered to its partner, who accepts or declines it by
        /// `respond_by`; declined or unanswered, it is routed again.
        Offered = "offered",
        /// Accepted by its partner, not contacted yet.
        Accepted = "accepted",
        /// With the company's direct sales team.
        Direct = "direct",
        /// The partner has contacted the account.
        Contacted = "contacted",
        /// The partner has qualified it.
        Qualified = "qualified",
        /// It became a deal.
        Converted = "converted",
        /// The partner found it is no opportunity.
        Disqualified = "disqualified",
    }
}

impl LeadStatus {
    /// The statuses a partner may report from `self` (`accepted` onwards,
    /// forwards only; `disqualified` from any open one).
    pub fn reportable(self) -> &'static [LeadStatus] {
        use LeadStatus::*;
        match self {
            Accepted => &[Contacted, Qualified, Converted, Disqualified],
            Contacted => &[Qualified, Converted, Disqualified],
            Qualified => &[Converted, Disqualified],
            Offered | Direct | Converted | Disqualified => &[],
        }
    }

    /// Whether reaching it means the account was contacted.
    pub fn contacted(self) -> bool {
        matches!(self, LeadStatus::Contacted | LeadStatus::Qualified | LeadStatus::Converted | LeadStatus::Disqualified)
    }
}

spelled! {
    /// Where a commission line is on its way to being paid.
    pub enum LineStatus {
        /// Earned; paid by the first payout run whose period ends after
        /// its due date.
        Pending = "pending",
        /// Held by a manager (or by the host, when the commission plugin
        /// failed): no payout run takes it until it is released.
        Held = "held",
        /// Disputed by its partner: no payout run takes it until a manager
        /// resolves the dispute.
        Disputed = "disputed",
        /// Paid, in the payout run `payout_run`.
        Paid = "paid",
        /// A held line a manager voided: never paid.
        Voided = "voided",
    }
}

spelled! {
    /// A person's step on a commission line (`POST /v1/lines/{id}/{step}`).
    pub enum LineStep {
        /// pending → held.
        Hold = "hold",
        /// held → pending.
        Release = "release",
        /// held → voided.
        Void = "void",
        /// pending → disputed (the line's partner, or staff).
        Dispute = "dispute",
        /// disputed → pending, with or without an adjustment line.
        Resolve = "resolve",
        /// An adjustment line linked to this one; the line stays as it is.
        Adjust = "adjust",
    }
}

impl LineStep {
    /// The statuses the step starts from.
    pub fn from(self) -> &'static [LineStatus] {
        use LineStatus::*;
        match self {
            LineStep::Hold | LineStep::Dispute => &[Pending],
            LineStep::Release | LineStep::Void => &[Held],
            LineStep::Resolve => &[Disputed],
            LineStep::Adjust => &[Pending, Held, Disputed, Paid],
        }
    }

    /// The status it leaves (`None`: unchanged).
    pub fn to(self) -> Option<LineStatus> {
        match self {
            LineStep::Hold => Some(LineStatus::Held),
            LineStep::Release | LineStep::Resolve => Some(LineStatus::Pending),
            LineStep::Void => Some(LineStatus::Voided),
            LineStep::Dispute => Some(LineStatus::Disputed),
            LineStep::Adjust => None,
        }
    }

    /// The outbox event it queues.
    pub fn event(self) -> &'static str {
        match self {
            LineStep::Hold => "line.held",
            LineStep::Release => "line.released",
            LineStep::Void => "line.voided",
            LineStep::Dispute => "line.disputed",
            LineStep::Resolve => "line.resolved",
            LineStep::Adjust => "line.adjusted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_out_and_the_old_one_still_read() {
        assert_eq!(serde_json::to_value(DealSource::PartnerSourced).unwrap(), "partner-sourced");
        assert_eq!(
            serde_json::from_value::<DealSource>("PartnerInfluenced".into()).unwrap(),
            DealSource::PartnerInfluenced
        );
        assert_eq!(DealSource::parse("direct"), Some(DealSource::Direct));
        assert_eq!(DealSource::parse("partner_sourced"), None);
        for source in DealSource::ALL {
            assert_eq!(serde_json::to_value(source).unwrap(), source.as_str());
            assert_eq!(DealSource::parse(source.as_str()), Some(*source));
        }
        assert_eq!(DealSource::expected(), "partner-sourced, partner-influenced or direct");
        assert_eq!(RegistrationStatus::parse("review"), Some(RegistrationStatus::Review));
    }

    #[test]
    fn every_line_step_moves_from_a_status_it_does_not_leave_to() {
        for step in LineStep::ALL {
            assert!(!step.from().is_empty(), "{step}");
            if let Some(to) = step.to() {
                assert!(!step.from().contains(&to), "{step} goes nowhere");
            }
        }
        assert!(!LineStep::Adjust.from().contains(&LineStatus::Voided), "a voided line is never paid");
        assert_eq!(LineStatus::expected(), "pending, held, disputed, paid or voided");
    }
}
