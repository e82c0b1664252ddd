//! The four hooks of the contract, by name: what the store records, the
//! API takes in paths and the runtime dispatches on. Their inputs and
//! outputs are the runtime's (`pactum_runtime::hooks`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    /// Lead routing.
    Routing,
    /// Deal-registration approval.
    Approval,
    /// Commission and clawback.
    Commission,
    /// Monthly tier evaluation.
    TierEvaluation,
}

impl HookKind {
    /// Every hook.
    pub const ALL: [HookKind; 4] =
        [HookKind::Routing, HookKind::Approval, HookKind::Commission, HookKind::TierEvaluation];

    /// The WIT interface name, as in `pactum:policy/<name>@0.1.0`.
    pub fn interface(self) -> &'static str {
        match self {
            HookKind::Routing => "routing",
            HookKind::Approval => "approval",
            HookKind::Commission => "commission",
            HookKind::TierEvaluation => "tier-evaluation",
        }
    }

    /// Parses an interface name ("tier-evaluation").
    pub fn parse(name: &str) -> Option<HookKind> {
        HookKind::ALL.into_iter().find(|h| h.interface() == name)
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}
