//! Reading company parameters from a hook's [`Context`].
//!
//! Parameters come from the company's `policy.toml`; a missing or mistyped
//! parameter is a [`PolicyError`] with code `bad-param` naming it, which the
//! host records and answers with the workflow's fallback.

use crate::params::{self, Value};
use crate::types::{Context, Money, ParamValue, PolicyError, Tier};

impl Context {
    /// The value of parameter `name`, `Ok(None)` if the company does not set
    /// it, or a `bad-param` error if the parameters cannot be read.
    fn lookup(&self, name: &str) -> Result<Option<Value<'_>>, PolicyError> {
        params::lookup(&self.params, name).map_err(|params::Malformed(at)| {
            PolicyError::new(
                "bad-param",
                format!("the parameters are not a JSON object (at byte {at}) looking for `{name}`"),
            )
        })
    }

    /// The typed value of parameter `name`, if the company declares it.
    pub fn param(&self, name: &str) -> Option<ParamValue> {
        self.lookup(name).ok().flatten().and_then(|v| v.to_param_value())
    }

    /// Whether the company sets parameter `name`.
    pub fn has(&self, name: &str) -> bool {
        matches!(self.lookup(name), Ok(Some(_)))
    }

    /// Integer parameter `name`.
    pub fn integer(&self, name: &str) -> Result<i64, PolicyError> {
        match self.lookup(name)? {
            Some(Value::Integer(v)) => Ok(v),
            other => Err(bad_param(name, "an integer", other)),
        }
    }

    /// Integer parameter `name`, or `default` when the company does not set it.
    pub fn integer_or(&self, name: &str, default: i64) -> Result<i64, PolicyError> {
        match self.lookup(name)? {
            None => Ok(default),
            Some(Value::Integer(v)) => Ok(v),
            other => Err(bad_param(name, "an integer", other)),
        }
    }

    /// Rate parameter `name` in basis points, 0 to 10 000 (100 %).
    pub fn bps(&self, name: &str) -> Result<u32, PolicyError> {
        let v = self.integer(name)?;
        u32::try_from(v).ok().filter(|v| *v <= crate::money::FULL_BPS).ok_or_else(|| {
            PolicyError::new("bad-param", format!("parameter `{name}` must be 0 to 10000 basis points, got {v}"))
        })
    }

    /// Money parameter `name`.
    pub fn money(&self, name: &str) -> Result<Money, PolicyError> {
        match self.lookup(name)? {
            Some(Value::Money(amount, currency)) => Ok(Money::new(amount, currency)),
            other => Err(bad_param(name, "an amount of money", other)),
        }
    }

    /// Text parameter `name`.
    pub fn text(&self, name: &str) -> Result<&str, PolicyError> {
        match self.lookup(name)? {
            Some(Value::Text(t)) => Ok(t),
            other => Err(bad_param(name, "a text", other)),
        }
    }

    /// List-of-texts parameter `name`; an absent parameter is an empty list.
    pub fn texts(&self, name: &str) -> Result<Vec<&str>, PolicyError> {
        match self.lookup(name)? {
            None => Ok(Vec::new()),
            Some(Value::Texts(t)) => Ok(t),
            other => Err(bad_param(name, "a list of texts", other)),
        }
    }

    /// Yes/no parameter `name`, or `default` when the company does not set it.
    pub fn flag_or(&self, name: &str, default: bool) -> Result<bool, PolicyError> {
        match self.lookup(name)? {
            None => Ok(default),
            Some(Value::Flag(f)) => Ok(f),
            other => Err(bad_param(name, "true or false", other)),
        }
    }
}

fn bad_param(name: &str, wanted: &str, got: Option<Value<'_>>) -> PolicyError {
    let got = match got {
        None => "nothing (the company does not set it)".to_string(),
        Some(Value::Integer(v)) => format!("the integer {v}"),
        Some(Value::Text(t)) => format!("the text {t:?}"),
        Some(Value::Texts(_)) => "a list of texts".to_string(),
        Some(Value::Flag(f)) => format!("the flag {f}"),
        Some(Value::Money(amount, currency)) => format!("the amount {}", Money::new(amount, currency)),
        Some(Value::Other(what)) => what.to_string(),
    };
    PolicyError::new("bad-param", format!("parameter `{name}` must be {wanted}, got {got}"))
}

impl Tier {
    /// All tiers, lowest first.
    pub const ALL: [Tier; 4] = [Tier::Registered, Tier::Silver, Tier::Gold, Tier::Platinum];

    /// 0 for Registered up to 3 for Platinum.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The tier's lower-case name, as in parameters ("silver").
    pub fn name(self) -> &'static str {
        match self {
            Tier::Registered => "registered",
            Tier::Silver => "silver",
            Tier::Gold => "gold",
            Tier::Platinum => "platinum",
        }
    }
}
