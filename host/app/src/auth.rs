//! Who may do what: the one place that decides it.
//!
//! An API key has a [`Role`] in its company: an admin runs the program (its
//! plugins, webhook and keys), a manager runs the partners and deals, a
//! partner key acts for the one partner it is bound to. Each operation asks
//! for a [`Capability`]; [`Caller::require`] answers from the table in
//! [`may`], so a rule is changed here and nowhere else. What a
//! partner key may *see* of the records it reads (only its partner's) is
//! [`Caller::sees_partner`].

use crate::service::ServiceError;

pub use pactum_core::Role;

/// Whether `role` has `capability`: the whole policy.
pub fn may(role: Role, capability: Capability) -> bool {
    use Capability::*;
    match role {
        Role::Admin => true,
        Role::Manager => !matches!(capability, ChangeProgram | ManageKeys | SetWebhook | ManageUsers),
        Role::Partner => {
            matches!(capability, ReadProgram | RegisterDeals | ReadOwnRecords | DisputeLines | AnswerLeads)
        }
    }
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Read the company's program: parameters, limits, live plugins.
    ReadProgram,
    /// Register a deal (a partner key: only for its own partner).
    RegisterDeals,
    /// Read its own partner's records (a partner key), or any (staff).
    ReadOwnRecords,
    /// Create partners and partner-bound keys; read every partner.
    ManagePartners,
    /// Create, win, lose and refund deals; route leads.
    ManageDeals,
    /// Approve or reject registrations in manual review.
    ReviewRegistrations,
    /// Run and read scorecards and program metrics.
    RunScorecards,
    /// Hold, release, void and adjust commission lines, resolve disputes,
    /// run and export payouts.
    ManagePayouts,
    /// Dispute a commission line (a partner key: only its own partner's).
    DisputeLines,
    /// Accept or decline a lead offered to a partner and report on it (a
    /// partner key: only its own partner's).
    AnswerLeads,
    /// Read the decision log and notifications; run a hook directly.
    ReadDecisions,
    /// Publish, test, shadow, backtest, activate and roll back plugins.
    ChangeProgram,
    /// List and revoke the company's API keys.
    ManageKeys,
    /// Set where notifications go.
    SetWebhook,
    /// Invite people to sign in to the portal.
    ManageUsers,
}

impl Capability {
    /// Who has it, for the refusal's message.
    fn who(self) -> &'static str {
        let roles: Vec<&str> = Role::ALL.into_iter().filter(|&r| may(r, self)).map(Role::as_str).collect();
        match roles.as_slice() {
            ["admin"] => "an admin key",
            ["admin", "manager"] => "an admin or manager key",
            _ => "a key of this company",
        }
    }

    /// What it is, for the refusal's message.
    fn what(self) -> &'static str {
        match self {
            Capability::ReadProgram => "reading the program",
            Capability::RegisterDeals => "registering deals",
            Capability::ReadOwnRecords => "reading records",
            Capability::ManagePartners => "managing partners",
            Capability::ManageDeals => "managing deals and leads",
            Capability::ReviewRegistrations => "reviewing registrations",
            Capability::RunScorecards => "scorecards and program metrics",
            Capability::ManagePayouts => "managing payouts",
            Capability::DisputeLines => "disputing commission lines",
            Capability::AnswerLeads => "answering leads",
            Capability::ReadDecisions => "the decision log",
            Capability::ChangeProgram => "managing plugins",
            Capability::ManageKeys => "managing API keys",
            Capability::SetWebhook => "setting the webhook",
            Capability::ManageUsers => "inviting users",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the key belongs to.
    pub tenant: String,
    /// Its role.
    pub role: Role,
    /// For a partner key, the partner it is bound to.
    pub partner: Option<String>,
    /// Who acts, as audit records name it: `key:` and the first 12 hex
    /// digits of the API key's sha256 (never the key itself).
    pub key: String,
}

impl Caller {
    /// `Ok` when the caller has `capability`, else `Forbidden` saying who
    /// has it.
    pub fn require(&self, capability: Capability) -> Result<(), ServiceError> {
        if may(self.role, capability) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!("{} needs {}", capability.what(), capability.who())))
        }
    }

    /// Whether the caller may act for the whole company (not one partner).
    pub fn is_staff(&self) -> bool {
        self.role != Role::Partner
    }

    /// Whether the caller may see the records of partner `id`: staff see
    /// every partner's, a partner key only its own.
    pub fn sees_partner(&self, id: &str) -> bool {
        self.partner.as_deref().is_none_or(|own| own == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        let partner = (role == Role::Partner).then(|| "p-1".to_string());
        Caller { tenant: "acme".into(), role, partner, key: "key:000000000000".into() }
    }

    #[test]
    fn the_policy_table() {
        use Capability::*;
        let all = [
            ReadProgram,
            RegisterDeals,
            ReadOwnRecords,
            ManagePartners,
            ManageDeals,
            ReviewRegistrations,
            RunScorecards,
            ManagePayouts,
            DisputeLines,
            AnswerLeads,
            ReadDecisions,
            ChangeProgram,
            ManageKeys,
            SetWebhook,
            ManageUsers,
        ];
        let granted = |role: Role| all.into_iter().filter(|&c| may(role, c)).collect::<Vec<_>>();
        assert_eq!(granted(Role::Admin), all);
        assert_eq!(
            granted(Role::Manager),
            [
                ReadProgram,
                RegisterDeals,
                ReadOwnRecords,
                ManagePartners,
                ManageDeals,
                ReviewRegistrations,
                RunScorecards,
                ManagePayouts,
                DisputeLines,
                AnswerLeads,
                ReadDecisions
            ]
        );
        assert_eq!(granted(Role::Partner), [ReadProgram, RegisterDeals, ReadOwnRecords, DisputeLines, AnswerLeads]);
    }

    #[test]
    fn a_refusal_says_who_may() {
        let err = caller(Role::Manager).require(Capability::ChangeProgram).unwrap_err();
        assert_eq!(err.to_string(), "managing plugins needs an admin key");
        let err = caller(Role::Partner).require(Capability::ReadDecisions).unwrap_err();
        assert_eq!(err.to_string(), "the decision log needs an admin or manager key");
        assert!(caller(Role::Partner).require(Capability::RegisterDeals).is_ok());
    }

    #[test]
    fn a_partner_key_sees_only_its_partner() {
        assert!(caller(Role::Partner).sees_partner("p-1"));
        assert!(!caller(Role::Partner).sees_partner("p-2"));
        assert!(caller(Role::Manager).sees_partner("p-2"));
    }

    #[test]
    fn roles_spell_as_stored() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!(Role::parse("Admin"), None);
    }
}
