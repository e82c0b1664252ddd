//! Reading company parameters from a hook's [`Context`].
//!
//! Parameters come from the company's `policy.toml`; a missing or mistyped
//! parameter is a [`PolicyError`] with code `bad-param` naming it, which the
//! host records and answers with the workflow's fallback.

use crate::types::{Context, Money, ParamValue, PolicyError, Tier};

impl Context {
    /// The raw value of parameter `name`, if the company declares it.
    pub fn param(&self, name: &str) -> Option<&ParamValue> {
        self.params.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    /// Integer parameter `name`.
    pub fn integer(&self, name: &str) -> Result<i64, PolicyError> {
        match self.param(name) {
            Some(ParamValue::Integer(v)) => Ok(*v),
            other => Err(bad_param(name, "an integer", other)),
        }
    }

    /// Integer parameter `name`, or `default` when the company does not set it.
    pub fn integer_or(&self, name: &str, default: i64) -> Result<i64, PolicyError> {
        if self.param(name).is_none() { Ok(default) } else { self.integer(name) }
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
        match self.param(name) {
            Some(ParamValue::Money(m)) => Ok(m.clone()),
            other => Err(bad_param(name, "an amount of money", other)),
        }
    }

    /// Text parameter `name`.
    pub fn text(&self, name: &str) -> Result<&str, PolicyError> {
        match self.param(name) {
            Some(ParamValue::Text(t)) => Ok(t),
            other => Err(bad_param(name, "a text", other)),
        }
    }

    /// List-of-texts parameter `name`; an absent parameter is an empty list.
    pub fn texts(&self, name: &str) -> Result<&[String], PolicyError> {
        match self.param(name) {
            None => Ok(&[]),
            Some(ParamValue::Texts(t)) => Ok(t),
            other => Err(bad_param(name, "a list of texts", other)),
        }
    }

    /// Yes/no parameter `name`, or `default` when the company does not set it.
    pub fn flag_or(&self, name: &str, default: bool) -> Result<bool, PolicyError> {
        match self.param(name) {
            None => Ok(default),
            Some(ParamValue::Flag(f)) => Ok(*f),
            other => Err(bad_param(name, "true or false", other)),
        }
    }
}

fn bad_param(name: &str, wanted: &str, got: Option<&ParamValue>) -> PolicyError {
    let got = match got {
        None => "nothing (the company does not set it)".to_string(),
        Some(ParamValue::Integer(v)) => format!("the integer {v}"),
        Some(ParamValue::Text(t)) => format!("the text {t:?}"),
        Some(ParamValue::Texts(_)) => "a list of texts".to_string(),
        Some(ParamValue::Flag(f)) => format!("the flag {f}"),
        Some(ParamValue::Money(m)) => format!("the amount {m}"),
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
