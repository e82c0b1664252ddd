//! Helpers for unit-testing a plugin natively with `cargo test`.
//!
//! A plugin is a plain Rust type: call its trait method with an input built
//! here and assert on the decision. The same input, serialized by the host,
//! is what the Wasm build receives.

use crate::types::{Context, Money, ParamValue, Partner, PartnerKind, Tier};

/// A context for company `company` at `event_time` with no parameters.
pub fn context(company: &str, event_time: i64) -> Context {
    Context { company: company.to_string(), event_time, params: String::new() }
}

impl Context {
    /// Sets parameter `name` (replacing any value it had), re-encoding the
    /// context's JSON parameters.
    pub fn set_param(&mut self, name: &str, value: ParamValue) {
        self.params = crate::params::set(&self.params, name, &value);
    }

    /// Adds a parameter (builder style, for tests).
    pub fn with_param(mut self, name: &str, value: ParamValue) -> Context {
        self.set_param(name, value);
        self
    }

    /// Adds an integer parameter (builder style, for tests).
    pub fn with_integer(self, name: &str, value: i64) -> Context {
        self.with_param(name, ParamValue::Integer(value))
    }

    /// Adds a money parameter (builder style, for tests).
    pub fn with_money(self, name: &str, amount: i64, currency: &str) -> Context {
        self.with_param(name, ParamValue::Money(Money::new(amount, currency)))
    }

    /// Adds a text parameter (builder style, for tests).
    pub fn with_text(self, name: &str, value: &str) -> Context {
        self.with_param(name, ParamValue::Text(value.to_string()))
    }

    /// Adds a list-of-texts parameter (builder style, for tests).
    pub fn with_texts(self, name: &str, values: &[&str]) -> Context {
        self.with_param(name, ParamValue::Texts(values.iter().map(|v| v.to_string()).collect()))
    }

    /// Adds a yes/no parameter (builder style, for tests).
    pub fn with_flag(self, name: &str, value: bool) -> Context {
        self.with_param(name, ParamValue::Flag(value))
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
