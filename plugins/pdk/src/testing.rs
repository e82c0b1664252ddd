//! Helpers for unit-testing a plugin natively with `cargo test`.
//!
//! A plugin is a plain Rust type: call its trait method with an input built
//! here and assert on the decision. The same input, serialized by the host,
//! is what the Wasm build receives.

use crate::types::{Context, Money, Param, ParamValue, Partner, PartnerKind, Tier};

/// A context for company `company` at `event_time` with no parameters.
pub fn context(company: &str, event_time: i64) -> Context {
    Context { company: company.to_string(), event_time, params: Vec::new() }
}

impl Context {
    /// Adds an integer parameter (builder style, for tests).
    pub fn with_integer(mut self, name: &str, value: i64) -> Context {
        self.params.push(Param { name: name.to_string(), value: ParamValue::Integer(value) });
        self
    }

    /// Adds a money parameter (builder style, for tests).
    pub fn with_money(mut self, name: &str, amount: i64, currency: &str) -> Context {
        self.params.push(Param { name: name.to_string(), value: ParamValue::Money(Money::new(amount, currency)) });
        self
    }

    /// Adds a list-of-texts parameter (builder style, for tests).
    pub fn with_texts(mut self, name: &str, values: &[&str]) -> Context {
        let values = values.iter().map(|v| v.to_string()).collect();
        self.params.push(Param { name: name.to_string(), value: ParamValue::Texts(values) });
        self
    }
}

/// An active partner at the Registered tier with no territories or
/// certifications.
pub fn partner(id: &str, kind: PartnerKind) -> Partner {
    Partner {
        id: id.to_string(),
        name: id.to_string(),
        kind,
        tier: Tier::Registered,
        territories: Vec::new(),
        certifications: Vec::new(),
        active: true,
    }
}
