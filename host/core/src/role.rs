//! A key's role in its company: one spelling, in the database, the API and
//! the command line. What each role may do is the application's policy
//! (`pactum_app::auth`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A key's role in its company. Stored and shown lower-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the program: plugins, bindings, webhook, keys, and everything a
    /// manager does.
    Admin,
    /// Runs the partners and deals of the company.
    Manager,
    /// Acts for one partner: registers its deals, reads its own records.
    Partner,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Partner];

    /// Its stored name: `admin`, `manager` or `partner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Partner => "partner",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
