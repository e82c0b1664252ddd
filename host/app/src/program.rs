//! A company's program, as declared in `policies/<company>/policy.toml`:
//! who the company is, which plugin serves each hook, its per-call limits,
//! and the parameters its plugins read.
//!
//! ```toml
//! [company]
//! slug = "acme"
//! name = "Acme Analytics"
//! currency = "USD"
//!
//! [hooks]            # plugin name per hook: "stock" or a plugin package
//! commission = "northwind-commission"
//!
//! [limits]           # optional; see runtime::Limits for the defaults
//! deadline-ms = 50
//!
//! [params]           # integers, texts, lists of texts, flags, money
//! referral-rate-bps = 1500
//! silver-revenue = { amount = 5_000_000, currency = "USD" }
//! icp-industries = ["software", "fintech"]
//! ```
//!
//! Floats are refused: money is integer minor units and rates are basis
//! points. A hook left out of `[hooks]` is served by the stock plugin.

use crate::runtime::types::{Context, Money, Param, ParamValue};
use crate::runtime::{HookKind, Limits, encode_params};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The plugin name that means "the stock program".
pub const STOCK: &str = "stock";

/// A company's program.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// The company's slug (tenant id), lower-case letters, digits and `-`.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// The program's currency (ISO 4217): tiers, minimums and program
    /// metrics are in it.
    pub currency: String,
    /// Every currency its deals may be in, the program's first
    /// (`[company] currencies` adds to it). A deal's lines, statements and
    /// payouts keep the deal's currency and are totalled per currency.
    pub currencies: Vec<String>,
    /// Which plugin serves each hook.
    pub hooks: BTreeMap<HookKind, String>,
    /// Per-call limits.
    pub limits: Limits,
    /// Parameters, sorted by name.
    pub params: Vec<Param>,
    /// How plugin changes go live.
    pub lifecycle: Lifecycle,
    /// The same parameters as the JSON object every hook call's context
    /// carries ([`encode_params`]), encoded once.
    pub params_json: String,
}

/// `[lifecycle]`: how plugin changes go live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Lifecycle {
    /// An activation waits for a second admin's approval (not the one who
    /// asked, not the plugin's publisher). Rollbacks go live at once.
    #[serde(default)]
    pub four_eyes: bool,
}

/// Why a program file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is not acceptable.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The offending field, for example `params.referral-rate-bps`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    company: CompanySection,
    #[serde(default)]
    hooks: BTreeMap<String, String>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    lifecycle: Lifecycle,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompanySection {
    slug: String,
    name: String,
    currency: String,
    #[serde(default)]
    currencies: Vec<String>,
}

impl Program {
    /// Reads `<dir>/policy.toml`.
    pub fn load(dir: &Path) -> Result<Program, ProgramError> {
        let path = dir.join("policy.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|source| ProgramError::Read { path: path.clone(), source })?;
        Program::parse(&text, &path)
    }

    /// Parses a `policy.toml`; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Program, ProgramError> {
        let file: File =
            toml::from_str(text).map_err(|e| ProgramError::Parse { path: path.into(), message: e.to_string() })?;
        let invalid =
            |field: &str, message: String| ProgramError::Invalid { path: path.into(), field: field.into(), message };

        let c = file.company;
        if c.slug.is_empty() || !c.slug.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-') {
            return Err(invalid("company.slug", format!("{:?} must be lower-case letters, digits and `-`", c.slug)));
        }
        if !is_currency(&c.currency) {
            return Err(invalid("company.currency", format!("{:?} is not an ISO 4217 code like \"USD\"", c.currency)));
        }
        let mut currencies = vec![c.currency.clone()];
        for code in &c.currencies {
            if !is_currency(code) {
                return Err(invalid("company.currencies", format!("{code:?} is not an ISO 4217 code like \"EUR\"")));
            }
            if !currencies.contains(code) {
                currencies.push(code.clone());
            }
        }

        let mut hooks: BTreeMap<HookKind, String> = HookKind::ALL.into_iter().map(|h| (h, STOCK.to_string())).collect();
        for (name, plugin) in file.hooks {
            let hook = HookKind::parse(&name).ok_or_else(|| {
                invalid(
                    &format!("hooks.{name}"),
                    "not a hook: use routing, approval, commission or tier-evaluation".into(),
                )
            })?;
            hooks.insert(hook, plugin);
        }

        let mut params = Vec::with_capacity(file.params.len());
        for (name, value) in file.params {
            let field = format!("params.{name}");
            let value = param_value(&value).map_err(|m| invalid(&field, m))?;
            params.push(Param { name, value });
        }
        let params_json = encode_params(&params);
        Ok(Program {
            slug: c.slug,
            name: c.name,
            currency: c.currency,
            currencies,
            hooks,
            limits: file.limits,
            params,
            lifecycle: file.lifecycle,
            params_json,
        })
    }

    /// The context a hook call gets for an event at `event_time`.
    pub fn context(&self, event_time: i64) -> Context {
        Context { company: self.slug.clone(), event_time, params: self.params_json.clone() }
    }

    /// The warm-up a large component bound by this company is
    /// pre-initialized with: the company's own slug and parameters.
    pub fn warm_up(&self) -> crate::runtime::WarmUp {
        crate::runtime::WarmUp { company: self.slug.clone(), params: self.params_json.clone() }
    }

    /// Whether deals may be in `currency`.
    pub fn accepts(&self, currency: &str) -> bool {
        self.currencies.iter().any(|c| c == currency)
    }

    /// The plugin name serving `hook`.
    pub fn plugin_for(&self, hook: HookKind) -> &str {
        self.hooks.get(&hook).map(String::as_str).unwrap_or(STOCK)
    }
}

fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}

fn param_value(value: &toml::Value) -> Result<ParamValue, String> {
    Ok(match value {
        toml::Value::Integer(i) => ParamValue::Integer(*i),
        toml::Value::String(s) => ParamValue::Text(s.clone()),
        toml::Value::Boolean(b) => ParamValue::Flag(*b),
        toml::Value::Float(f) => {
            return Err(format!(
                "{f} is a float: money is integer minor units (cents) and rates are basis points (1500 = 15 %)"
            ));
        }
        toml::Value::Array(items) => ParamValue::Texts(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string).ok_or_else(|| "lists may hold only texts".to_string()))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => {
            let amount = t.get("amount").and_then(toml::Value::as_integer);
            let currency = t.get("currency").and_then(toml::Value::as_str);
            match (amount, currency, t.len()) {
                (Some(amount), Some(currency), 2) if is_currency(currency) => {
                    ParamValue::Money(Money { amount, currency: currency.to_string() })
                }
                _ => {
                    return Err(
                        "a table must be money: { amount = <integer minor units>, currency = \"USD\" }".to_string()
                    );
                }
            }
        }
        toml::Value::Datetime(_) => return Err("dates are not supported as parameters".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Program, ProgramError> {
        Program::parse(text, Path::new("policy.toml"))
    }

    const HEAD: &str = "[company]\nslug = \"acme\"\nname = \"Acme\"\ncurrency = \"USD\"\n";

    #[test]
    fn reads_params_of_every_kind() {
        let p = parse(&format!(
            "{HEAD}[hooks]\ncommission = \"custom\"\n[limits]\ndeadline-ms = 20\n[params]\nrate-bps = 1500\nregion = \"emea\"\nlist = [\"a\", \"b\"]\non = true\nfloor = {{ amount = 500, currency = \"USD\" }}\n"
        ))
        .unwrap();
        assert_eq!(p.plugin_for(HookKind::Commission), "custom");
        assert_eq!(p.plugin_for(HookKind::Routing), STOCK);
        assert_eq!(p.limits.deadline_ms, 20);
        assert_eq!(p.limits.fuel, Limits::default().fuel);
        let names: Vec<_> = p.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["floor", "list", "on", "rate-bps", "region"]);
        assert_eq!(p.params[0].value, ParamValue::Money(Money { amount: 500, currency: "USD".into() }));
        assert_eq!(
            p.params_json,
            r#"{"floor":{"amount":500,"currency":"USD"},"list":["a","b"],"on":true,"rate-bps":1500,"region":"emea"}"#
        );
        assert_eq!(p.context(7).params, p.params_json);
    }

    #[test]
    fn refuses_floats_and_names_the_field() {
        let e = parse(&format!("{HEAD}[params]\nreferral-rate = 0.15\n")).unwrap_err().to_string();
        assert!(e.contains("params.referral-rate") && e.contains("basis points"), "{e}");
    }

    #[test]
    fn refuses_unknown_hooks_and_bad_currency() {
        let e = parse(&format!("{HEAD}[hooks]\npricing = \"x\"\n")).unwrap_err().to_string();
        assert!(e.contains("hooks.pricing"), "{e}");
        let e = parse("[company]\nslug = \"acme\"\nname = \"A\"\ncurrency = \"usd\"\n").unwrap_err().to_string();
        assert!(e.contains("company.currency"), "{e}");
        let e = parse(&format!("{HEAD}[limits]\ndeadline = 5\n")).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
