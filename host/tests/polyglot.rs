//! Issue 7: plugins written in Python and JavaScript load and run like any
//! plugin. One fixture set, three languages: every fixture of the commission
//! and routing hooks gives the same output from the Rust stock plugin and
//! the Python and JavaScript starters (explanations aside); the hostile
//! cases hold in both languages; a restart does not recompile.
//!
//! The components are built outside cargo, by each language's own tool:
//!
//! ```sh
//! plugins/polyglot/build.sh     # prints the folder, target/polyglot by default
//! PACTUM_POLYGLOT_DIR=target/polyglot cargo test -p pactum --test polyglot -- --ignored
//! ```
//!
//! Every test is `#[ignore]`d so that the README's `cargo test --workspace`
//! needs neither Python nor Node; run without the components, they fail.
//!
//! A Python or JavaScript component takes seconds to compile: every test
//! loads through one runtime whose compiled cache lives under the target
//! directory, so each component compiles at most once per run (and not at
//! all when its bytes did not change since the last run).

mod common;

use common::*;
use pactum::fixtures::Fixture;
use pactum::program::Program;
use pactum::runtime::hooks::{Commission, Hook, Routing};
use pactum::runtime::types::*;
use pactum::runtime::{HookError, HookKind, Limits, LoadError, Plugin, PluginHash, Runtime, RuntimeConfig};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const IGNORE: &str = "needs the Python/JS components: plugins/polyglot/build.sh, then PACTUM_POLYGLOT_DIR=<its output> cargo test --test polyglot -- --ignored";

/// The folder `plugins/polyglot/build.sh` wrote the components to (a
/// relative path is taken from the repository's root, not from `host/`
/// where cargo runs the tests).
fn components_dir() -> PathBuf {
    let dir = std::env::var_os("PACTUM_POLYGLOT_DIR").map(PathBuf::from).unwrap_or_else(|| panic!("{IGNORE}"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    assert!(dir.is_dir(), "PACTUM_POLYGLOT_DIR={}: no such folder; {IGNORE}", dir.display());
    dir
}

fn component(name: &str) -> Vec<u8> {
    let path = components_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; {IGNORE}", path.display()))
}

/// The compiled cache shared by every test of this binary, and kept
/// between runs.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyglot-cache")
}

fn cached_config() -> RuntimeConfig {
    RuntimeConfig { cache_dir: Some(cache_dir()), ..RuntimeConfig::default() }
}

/// The one runtime the tests share.
fn shared() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        prune_cache();
        Runtime::new(cached_config()).expect("engine")
    })
}

/// Removes the compiled artifacts of components that are no longer built
/// (55-85 MB each), keeping those of today's components and the stock plugin.
fn prune_cache() {
    let mut keep: Vec<String> = vec![PluginHash::of(pactum_plugin_artifacts::STOCK_BYTES).to_hex()];
    for entry in std::fs::read_dir(components_dir()).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "wasm") {
            keep.push(PluginHash::of(&std::fs::read(entry.path()).unwrap()).to_hex());
        }
    }
    for entry in std::fs::read_dir(cache_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.iter().any(|hash| name.starts_with(hash.as_str())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Loads a built component through the shared runtime, one load at a time
/// (two tests loading the same component at once would compile it twice),
/// and says how long the load took the first time.
fn plugin(name: &str) -> Arc<Plugin> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<Plugin>>>> = OnceLock::new();
    let mut loaded = LOADED.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = loaded.get(name) {
        return p.clone();
    }
    let bytes = component(name);
    let (plugin, cost) = shared().load_with_cost(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    eprintln!(
        "{name}: {} bytes, {:?} in {:.1} s, compiled code {} bytes, pre-initialized: {}",
        bytes.len(),
        cost.source,
        cost.load_ms as f64 / 1e3,
        cost.artifact_bytes,
        cost.preinitialized
    );
    // The starters are pre-initialized (the hostile fixtures may not be: a
    // warm-up call that traps leaves the component as published).
    if !name.starts_with("hostile") {
        assert!(cost.preinitialized && plugin.is_preinitialized(), "{name} was not pre-initialized");
    }
    loaded.insert(name.to_string(), plugin.clone());
    plugin
}

/// The rust stock plugin, through the shared runtime.
fn stock() -> Arc<Plugin> {
    shared().load(pactum_plugin_artifacts::STOCK_BYTES).expect("the stock plugin loads")
}

/// A fixture's input, with the company's context when it gives none.
fn input_of(program: &Program, f: &Fixture) -> Value {
    let mut input = f.input.clone();
    if input.get("context").is_none() {
        input["context"] = serde_json::to_value(program.context(f.event_time)).unwrap();
    }
    input
}

/// The plugin's result for a fixture, as the decision log records it.
fn run<H: Hook>(plugin: &Plugin, program: &Program, f: &Fixture) -> Value {
    let input: H::Input = serde_json::from_value(input_of(program, f)).unwrap();
    let record = shared().call::<H>(plugin, &program.limits, input);
    record.result_json()
}

/// `value` without its explanations (the human-readable texts the fixtures
/// do not compare): `explanation`, `description`, `reason`.
fn without_explanations(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "explanation" | "description" | "reason"))
                .map(|(k, v)| (k.clone(), without_explanations(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_explanations).collect()),
        other => other.clone(),
    }
}

/// Every fixture of `hook` in `company`'s folder gives the same result,
/// explanations aside, from the Rust, Python and JavaScript plugins, and
/// each passes the fixture.
fn one_fixture_set_three_languages(company: &str, hook: HookKind, python: &str, js: &str) {
    let program = program(company);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies").join(company).join("fixtures");
    let fixtures: Vec<Fixture> = Fixture::load_dir(&dir).unwrap().into_iter().filter(|f| f.hook == hook).collect();
    assert!(!fixtures.is_empty(), "{company} has no {hook} fixtures");
    let plugins = [("rust", stock()), ("python", plugin(python)), ("javascript", plugin(js))];
    for (language, plugin) in &plugins {
        let report = pactum::fixtures::run(shared(), plugin, &program, &fixtures, &[hook]);
        assert_eq!(report.failed(), 0, "{language} {company} {hook}: {report:#?}");
    }
    for f in &fixtures {
        let results: Vec<(&str, Value)> = plugins
            .iter()
            .map(|(language, plugin)| {
                let result = match hook {
                    HookKind::Commission => run::<Commission>(plugin, &program, f),
                    HookKind::Routing => run::<Routing>(plugin, &program, f),
                    other => unreachable!("{other}"),
                };
                (*language, result)
            })
            .collect();
        let (_, rust) = &results[0];
        assert!(rust.get("ok").is_some(), "{company} {}: {rust}", f.name);
        for (language, result) in &results[1..] {
            assert_eq!(
                without_explanations(result),
                without_explanations(rust),
                "{company} {}: {language} and rust differ",
                f.name
            );
        }
    }
}

#[test]
#[ignore = "needs the Python/JS components: plugins/polyglot/build.sh, then cargo test --test polyglot -- --ignored"]
fn commission_fixtures_give_the_same_results_in_rust_python_and_javascript() {
    // Northwind's commission is its own plugin: Acme's fixtures are the
    // stock rule's.
    one_fixture_set_three_languages("acme", HookKind::Commission, "python-commission", "js-commission");
}

#[test]
#[ignore = "needs the Python/JS components: plugins/polyglot/build.sh, then cargo test --test polyglot -- --ignored"]
fn routing_fixtures_give_the_same_results_in_rust_python_and_javascript() {
    // Both companies route with the stock rule, under their own parameters.
    for company in ["acme", "northwind"] {
        one_fixture_set_three_languages(company, HookKind::Routing, "python-routing", "js-routing");
    }
}

/// The hostile component of `language` in `mode` (see
/// tests/fixtures/hostile-{python,js}), under `limits`.
fn hostile_call(hostile_plugin: &Plugin, mode: &str, limits: Limits) -> pactum::runtime::CallRecord<Commission> {
    shared().call::<Commission>(hostile_plugin, &limits, hostile(mode))
}

/// Acme's limits, as a company running a Python or JavaScript plugin would
/// keep them.
fn limits() -> Limits {
    Limits { memory_bytes: 32 << 20, ..program("acme").limits }
}

#[test]
#[ignore = "needs the Python/JS components: plugins/polyglot/build.sh, then cargo test --test polyglot -- --ignored"]
fn hostile_python_and_javascript_get_typed_errors() {
    for language in ["python", "js"] {
        let plugin = plugin(&format!("hostile-{language}"));
        let hostile_call = |mode: &str, limits: Limits| hostile_call(&plugin, mode, limits);
        // Warm up: the first call after a load may pay for page faults.
        hostile_call("print", limits());

        // An infinite loop stops at the deadline, whatever the fuel.
        let spin = Limits { deadline_ms: 100, fuel: u64::MAX / 2, ..limits() };
        let started = Instant::now();
        let err = hostile_call("spin", spin).result.unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(err, HookError::Timeout { deadline_ms: 100 }, "{language}");
        assert!(elapsed < Duration::from_millis(2_000), "{language}: stopped after {elapsed:?}");

        // A memory bomb hits the cap.
        let err = hostile_call("bomb", limits()).result.unwrap_err();
        assert_eq!(err, HookError::MemoryLimit { limit_bytes: 32 << 20 }, "{language}");

        // An uncaught exception carries the guest's own message, whole on
        // one log line: Python traps, quoting the traceback's last line; the
        // JavaScript starters' guard makes it the policy error `exception`
        // (see plugins/js/README.md).
        let record = hostile_call("raise", limits());
        let message = match (language, record.result.clone().unwrap_err()) {
            ("python", HookError::Trap { message }) => message,
            ("js", HookError::Policy { code, message }) if code == "exception" => message,
            (_, other) => panic!("{language}: expected a trap or policy error, got {other:?}"),
        };
        assert!(
            message.contains("commission table for partner p-1 is corrupt"),
            "{language}: {message:?}, log {:#?}",
            record.logs
        );
        eprintln!("{language} exception: {message}");
        // The exception's own line, not a language runtime's report after it.
        let expected = if language == "python" { "ValueError: " } else { "Error: " };
        assert!(message.starts_with(&format!("{expected}commission table")), "{language}: {message}");
        assert!(
            record.logs.iter().any(|l| l.message.contains("Error: commission table for partner p-1 is corrupt")),
            "{language}: {:#?}",
            record.logs
        );

        if language == "js" {
            // Without the guard, an Error still traps cleanly.
            let err = hostile_call("raise-unguarded", limits()).result.unwrap_err();
            assert!(matches!(err, HookError::Trap { .. }), "{err:?}");
        }

        // A policy error keeps its code and message.
        assert_eq!(
            hostile_call("policy-error", limits()).result.unwrap_err(),
            HookError::Policy { code: "no-rate".into(), message: "no rate for this partner".into() },
            "{language}"
        );

        // print / console.log reach the decision's log.
        let record = hostile_call("print", limits());
        assert_eq!(record.result.unwrap().explanation, "printed", "{language}");
        let expected = format!("hello from {}", if language == "js" { "js" } else { "python" });
        assert!(record.logs.iter().any(|l| l.message == expected), "{language}: {:#?}", record.logs);

        // No clock and no randomness: the same answer on every call.
        for mode in ["clock", "random"] {
            let first = hostile_call(mode, limits()).result.unwrap().explanation;
            let second = hostile_call(mode, limits()).result.unwrap().explanation;
            assert_eq!(first, second, "{language} {mode}");
            if mode == "clock" {
                // The host's clock, stopped at the epoch: not the build
                // machine's time frozen into the component.
                assert!(matches!(first.as_str(), "time 0" | "time 0.0"), "{language}: {first}");
            }
        }
    }
}

#[test]
#[ignore = "needs the Python/JS components: plugins/polyglot/build.sh, then cargo test --test polyglot -- --ignored"]
fn a_restart_loads_python_and_javascript_from_the_compiled_cache() {
    for name in ["python-commission", "js-commission"] {
        // Compiled (or found in the cache) by the shared runtime first.
        plugin(name);
        let bytes = component(name);
        let restarted = Runtime::new(cached_config()).unwrap();
        let started = Instant::now();
        let (plugin, cost) = restarted.load_with_cost(&bytes).unwrap();
        let took = started.elapsed();
        assert_eq!((restarted.stats().compiled, restarted.stats().cache_hits), (0, 1), "{name}");
        assert_eq!(cost.source, pactum::runtime::LoadSource::Cache, "{name}");
        eprintln!("{name}: loaded from the compiled cache in {took:?}");
        let acme = program("acme");
        let d =
            restarted.call::<Commission>(&plugin, &acme.limits, won_deal(&acme, PartnerKind::Referral, 12_000_000, 0));
        assert_eq!(total(&d.result.unwrap()), 1_800_000, "{name}");
    }
}

#[test]
#[ignore = "needs the Python/JS components: plugins/polyglot/build.sh, then cargo test --test polyglot -- --ignored"]
fn size_and_memory_limits_fit_python_and_javascript() {
    let defaults = Limits::default();
    for name in ["python-commission", "js-commission"] {
        let bytes = component(name);
        assert!(bytes.len() < defaults.component_bytes, "{name}: {} bytes", bytes.len());
        // The default memory cap fits with room to spare: half of it is
        // enough.
        let plugin = plugin(name);
        let acme = program("acme");
        let half = Limits { memory_bytes: defaults.memory_bytes / 2, ..acme.limits };
        let d = shared().call::<Commission>(&plugin, &half, won_deal(&acme, PartnerKind::Referral, 12_000_000, 0));
        assert_eq!(total(&d.result.unwrap()), 1_800_000, "{name}");
        // Over the host's component limit: refused before compiling.
        let small = Runtime::new(RuntimeConfig { max_component_bytes: 1 << 20, ..RuntimeConfig::default() }).unwrap();
        assert_eq!(small.load(&bytes).unwrap_err(), LoadError::TooLarge { size: bytes.len(), limit: 1 << 20 });
    }
}

#[test]
#[ignore = "needs the Python/JS components: plugins/polyglot/build.sh, then cargo test --test polyglot -- --ignored"]
fn forty_concurrent_python_calls_fit_the_pool() {
    // A Python component is a few dozen core instances per call: with the
    // pool sized as for Rust plugins, 16 concurrent calls exhausted it and
    // the rest failed ("maximum concurrent limit of 1024 for core
    // instances"). The deadline is long: only capacity is under test here.
    let plugin = plugin("python-commission");
    let acme = program("acme");
    let limits = Limits { deadline_ms: 60_000, ..acme.limits };
    let input = won_deal(&acme, PartnerKind::Referral, 12_000_000, 0);
    let barrier = std::sync::Barrier::new(40);
    let failures: Vec<String> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..40)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    (0..3)
                        .filter_map(|_| shared().call::<Commission>(&plugin, &limits, input.clone()).result.err())
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        calls.into_iter().flat_map(|c| c.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} of 120 calls failed, the first: {}", failures.len(), failures[0]);
}
