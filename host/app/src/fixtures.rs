//! Policy tests: a company's fixtures, each one hook input and the result
//! expected, run against a plugin.
//!
//! Fixtures live in `policies/<company>/fixtures/<hook>/<name>.json`:
//!
//! ```json
//! { "description": "...", "event_time": 1795651200,
//!   "input": { ... the hook's input ... },
//!   "result": { "ok": { ... the expected output ... } } }
//! ```
//!
//! `input` and `result` have the shape the decision log records, so a
//! recorded decision can become a fixture. `input.context` may be left out:
//! it is then the company's program at `event_time`. The expected result is
//! matched as a subset: every field it gives must be equal, fields it leaves
//! out (typically the human-readable explanations) are not compared.

use crate::program::Program;
use crate::runtime::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use crate::runtime::{HookKind, Plugin, Runtime};
pub use pactum_core::fixture::{Fixture, FixtureError};
use serde::Serialize;
use serde_json::Value;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Mismatch {
    /// Where, e.g. `ok.lines[0].amount.amount`.
    pub path: String,
    /// What the fixture expects.
    pub expected: Value,
    /// What the plugin returned (`null` when missing).
    pub actual: Value,
}

/// How one fixture went.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FixtureOutcome {
    /// The fixture.
    pub name: String,
    /// Whether the plugin's result matched.
    pub passed: bool,
    /// The fields that differ.
    pub mismatches: Vec<Mismatch>,
}

/// A fixture run's outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FixtureReport {
    /// One per fixture run, in name order.
    pub outcomes: Vec<FixtureOutcome>,
    /// How long the first fixture's call took (instantiation and call, in
    /// a fresh instance like every call), microseconds; `None` without
    /// fixtures. The first call after a load is the slowest: it is what a
    /// publish reports as part of the cold start.
    pub first_call_us: Option<u64>,
}

impl FixtureReport {
    /// How many failed.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed).count()
    }

    /// `"12 of 12 fixtures passed"`.
    pub fn summary(&self) -> String {
        let total = self.outcomes.len();
        format!("{} of {total} fixtures passed", total - self.failed())
    }
}

/// Runs the fixtures of the hooks in `hooks` against `plugin`, each call
/// isolated and under the program's limits.
pub fn run(
    runtime: &Runtime,
    plugin: &Plugin,
    program: &Program,
    fixtures: &[Fixture],
    hooks: &[HookKind],
) -> FixtureReport {
    let mut first_call_us = None;
    let outcomes = fixtures
        .iter()
        .filter(|f| hooks.contains(&f.hook))
        .map(|f| {
            let actual = match f.hook {
                HookKind::Routing => call::<Routing>(runtime, plugin, program, f),
                HookKind::Approval => call::<Approval>(runtime, plugin, program, f),
                HookKind::Commission => call::<Commission>(runtime, plugin, program, f),
                HookKind::TierEvaluation => call::<TierEvaluation>(runtime, plugin, program, f),
            };
            let actual = actual.map(|(result, took)| {
                first_call_us.get_or_insert(took.as_micros() as u64);
                result
            });
            let mut mismatches = Vec::new();
            match actual {
                // A result where an error was expected, or the reverse:
                // show both whole.
                Ok(actual) if f.result.get("ok").is_some() != actual.get("ok").is_some() => {
                    mismatches.push(Mismatch { path: "result".into(), expected: f.result.clone(), actual })
                }
                Ok(actual) => compare(&f.result, &actual, "", &mut mismatches),
                Err(message) => mismatches.push(Mismatch {
                    path: "input".into(),
                    expected: f.input.clone(),
                    actual: message.into(),
                }),
            }
            FixtureOutcome { name: f.name.clone(), passed: mismatches.is_empty(), mismatches }
        })
        .collect();
    FixtureReport { outcomes, first_call_us }
}

/// The fixture's result, and how long the call took.
fn call<H: Hook>(
    runtime: &Runtime,
    plugin: &Plugin,
    program: &Program,
    f: &Fixture,
) -> Result<(Value, std::time::Duration), String> {
    let mut input = f.input.clone();
    if let Some(fields) = input.as_object_mut()
        && !fields.contains_key("context")
    {
        let context = serde_json::to_value(program.context(f.event_time)).map_err(|e| e.to_string())?;
        fields.insert("context".into(), context);
    }
    let typed: H::Input = serde_path_to_error::deserialize(input)
        .map_err(|e| format!("the input does not fit the {} hook: `{}`: {}", H::KIND, e.path(), e.inner()))?;
    let record = runtime.call::<H>(plugin, &program.limits, typed);
    Ok((record.result_json(), record.duration))
}

/// Collects where `actual` differs from the fields `expected` gives.
fn compare(expected: &Value, actual: &Value, path: &str, out: &mut Vec<Mismatch>) {
    let at = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                compare(value, a.get(key).unwrap_or(&Value::Null), &at(key), out);
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                compare(e, a, &format!("{path}[{i}]"), out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(Mismatch { path: path.to_string(), expected: e.clone(), actual: a.clone() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_the_fields_the_fixture_gives() {
        let mut out = Vec::new();
        let expected = json!({ "ok": { "lines": [{ "amount": 5 }], "tier": "gold" } });
        let actual = json!({ "ok": { "lines": [{ "amount": 5, "description": "x" }], "tier": "gold", "reason": "y" } });
        compare(&expected, &actual, "", &mut out);
        assert!(out.is_empty(), "{out:?}");

        let actual = json!({ "ok": { "lines": [{ "amount": 6 }], "tier": "silver" } });
        compare(&expected, &actual, "", &mut out);
        let paths: Vec<&str> = out.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["ok.lines[0].amount", "ok.tier"]);
        assert_eq!((out[0].expected.clone(), out[0].actual.clone()), (json!(5), json!(6)));

        // A list of another length, or an error instead of a result, differs whole.
        let mut out = Vec::new();
        compare(&expected, &json!({ "ok": { "lines": [], "tier": "gold" } }), "", &mut out);
        compare(&expected, &json!({ "error": { "kind": "Trap" } }), "", &mut out);
        let paths: Vec<&str> = out.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["ok.lines", "ok"]);
    }

    #[test]
    fn a_fixture_needs_an_input_and_a_result() {
        let parse = |text: &str| Fixture::parse("commission/x", HookKind::Commission, text);
        assert!(parse(r#"{"input": {}, "result": {"ok": {}}}"#).is_ok());
        for (text, needle) in [
            ("nope", "not JSON"),
            (r#"{"result": {"ok": {}}}"#, "no `input`"),
            (r#"{"input": {}, "result": {}}"#, "no `result`"),
            (r#"{"input": {}, "result": {"ok": 1}, "event_time": "now"}"#, "event_time"),
        ] {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(needle) && message.contains("commission/x"), "{message}");
        }
    }
}
