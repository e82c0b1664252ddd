//! Policy tests as data: a company's fixtures, each one hook input and the
//! result expected (`pactum_app::fixtures` runs them against a plugin).
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

use crate::HookKind;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One fixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// `<hook>/<file stem>`.
    pub name: String,
    /// Its hook.
    pub hook: HookKind,
    /// The file's text, as stored.
    pub text: String,
    /// The event time the context is built for.
    pub event_time: i64,
    /// The hook's input.
    pub input: Value,
    /// The expected result: `{"ok": ...}` or `{"error": ...}`.
    pub result: Value,
}

/// A fixture that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a fixture.
    #[error("fixture {name}: {message}")]
    Invalid {
        /// The fixture.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl Fixture {
    /// Parses a fixture's text.
    pub fn parse(name: &str, hook: HookKind, text: &str) -> Result<Fixture, FixtureError> {
        let invalid = |message: String| FixtureError::Invalid { name: name.to_string(), message };
        let value: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let input = value.get("input").filter(|i| i.is_object()).ok_or_else(|| invalid("no `input` object".into()))?;
        let result = value.get("result").filter(|r| r.get("ok").is_some() || r.get("error").is_some());
        let result = result.ok_or_else(|| invalid("no `result` with `ok` or `error`".into()))?;
        let event_time = match value.get("event_time") {
            None => 0,
            Some(t) => t.as_i64().ok_or_else(|| invalid("`event_time` must be Unix seconds".into()))?,
        };
        Ok(Fixture {
            name: name.to_string(),
            hook,
            text: text.to_string(),
            event_time,
            input: input.clone(),
            result: result.clone(),
        })
    }

    /// Every fixture under `dir` (`<hook>/<name>.json`), in name order.
    /// A missing folder has none.
    pub fn load_dir(dir: &Path) -> Result<Vec<Fixture>, FixtureError> {
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FixtureError + '_ {
            move |source| FixtureError::Io { path: path.to_path_buf(), source }
        }
        let mut fixtures = Vec::new();
        if !dir.exists() {
            return Ok(fixtures);
        }
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let hook_dir = entry.map_err(io(dir))?.path();
            if !hook_dir.is_dir() {
                continue;
            }
            let hook_name = hook_dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let hook = HookKind::parse(&hook_name).ok_or_else(|| FixtureError::Invalid {
                name: hook_name.clone(),
                message: "fixture folders are named after hooks: routing, approval, commission, tier-evaluation".into(),
            })?;
            for file in std::fs::read_dir(&hook_dir).map_err(io(&hook_dir))? {
                let path = file.map_err(io(&hook_dir))?.path();
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                fixtures.push(Fixture::parse(&format!("{hook_name}/{stem}"), hook, &text)?);
            }
        }
        fixtures.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(fixtures)
    }
}
