//! Issue 7 prototype: measures commission components of any language on
//! Acme's commission fixtures (size, compile, cache load, smallest memory
//! cap that works, isolated call time by phase) and prints their results,
//! explanations included, to compare languages.
//!
//! `cargo run --release -p pactum --example polyglot_measure -- [name=file.wasm ...]`
//! (the Rust stock plugin is measured as `rust` unless `SKIP_RUST=1`;
//! `CALLS`, `KEEP_RESIDENT`, `PAGEMAP_SCAN=1`, `LARGE=0` (no large-component
//! pool), `LARGE_KEEP_RESIDENT`, `CACHE=<dir>`, `SPARES=<n>` (spare
//! instances per large plugin; 0: instantiate in the call), `SPARE_MIN_US=<µs>` (the
//! spare threshold), `GUARD=0` (no
//! guard pages on the large engine: bounds checks), `GAP_US=<µs>`
//! (idle time between timed calls, as between a service's requests) change
//! the run; `POLICY=<dir>`
//! `ONLY_RESULTS=1` runs the first fixture under another company's params
//! and prints its result and log).

use pactum::fixtures::Fixture;
use pactum::program::Program;
use pactum::runtime::hooks::Commission;
use pactum::runtime::{Limits, Phase, Runtime, RuntimeConfig};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // `POLICY=<company dir>`: its params and limits instead of Acme's.
    let company = std::env::var_os("POLICY").map(std::path::PathBuf::from).unwrap_or(root.join("policies/acme"));
    let program = Program::load(&company)?;
    let fixtures: Vec<Fixture> = Fixture::load_dir(&root.join("policies/acme/fixtures"))?
        .into_iter()
        .filter(|f| f.name.starts_with("commission/"))
        .collect();
    let inputs: Vec<_> = fixtures
        .iter()
        .map(|f| {
            let mut input = f.input.clone();
            input["context"] = serde_json::to_value(program.context(f.event_time)).unwrap();
            serde_json::from_value::<<Commission as pactum::runtime::Hook>::Input>(input).unwrap()
        })
        .collect();
    let calls: usize = env_or("CALLS", 300);

    let mut plugins = Vec::new();
    if env_or("SKIP_RUST", 0usize) == 0 {
        plugins.push(("rust".to_string(), pactum_plugin_artifacts::STOCK_BYTES.to_vec()));
    }
    for arg in std::env::args().skip(1) {
        let (name, file) = arg.split_once('=').ok_or("arguments are name=file.wasm")?;
        plugins.push((name.to_string(), std::fs::read(file)?));
    }
    for (name, bytes) in &plugins {
        println!("== {name}: component {} bytes", bytes.len());
        // `CACHE=<dir>`: keep compiled artifacts there across runs (profiling).
        let cache = tempfile::tempdir()?;
        let cache_dir = std::env::var_os("CACHE").map(std::path::PathBuf::from).unwrap_or(cache.path().to_path_buf());
        // Pool settings to try: `KEEP_RESIDENT=<bytes>`, `PAGEMAP_SCAN=1`.
        let defaults = RuntimeConfig::default();
        let config = RuntimeConfig {
            cache_dir: Some(cache_dir.clone()),
            keep_resident_bytes: env_or("KEEP_RESIDENT", defaults.keep_resident_bytes),
            pagemap_scan: env_or("PAGEMAP_SCAN", 0usize) == 1,
            // `LARGE=0`: one pool for every plugin (as before the large pool).
            large_component_bytes: if env_or("LARGE", 1usize) == 0 { None } else { defaults.large_component_bytes },
            large_keep_resident_bytes: env_or("LARGE_KEEP_RESIDENT", defaults.large_keep_resident_bytes),
            spare_instances: env_or("SPARES", defaults.spare_instances),
            // `GUARD=0`: bounds checks on the large engine too.
            large_guard_pages: env_or("GUARD", 1) == 1,
            spare_min_instantiation: std::time::Duration::from_micros(env_or(
                "SPARE_MIN_US",
                defaults.spare_min_instantiation.as_micros() as usize,
            ) as u64),
            ..defaults
        };
        let t = Instant::now();
        Runtime::new(config.clone())?.load(bytes)?;
        println!("   compile+link (cold, writes cache): {:.2} s", t.elapsed().as_secs_f64());
        let artifact: u64 = walk(&cache_dir);
        println!("   compiled artifact: {artifact} bytes");
        let runtime = Runtime::new(config)?;
        let t = Instant::now();
        let plugin = runtime.load(bytes)?;
        println!(
            "   load from cache (deserialize + link + typecheck instantiation): {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );

        let mut cap = None;
        for mib in [1u64, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256] {
            let limits = Limits { memory_bytes: mib << 20, ..program.limits };
            if runtime.call::<Commission>(&plugin, &limits, inputs[0].clone()).result.is_ok() {
                cap = Some(mib);
                break;
            }
        }
        println!(
            "   smallest memory cap that passes: {cap:?} MiB (Acme's is {} MiB)",
            program.limits.memory_bytes >> 20
        );

        for (f, input) in fixtures.iter().zip(&inputs) {
            let record = runtime.call::<Commission>(&plugin, &program.limits, input.clone());
            println!("   {}: fuel {} -> {}", f.name, record.fuel_used, record.result_json());
            for line in &record.logs {
                println!("     log {:?}: {}", line.level, line.message);
            }
            if std::env::var_os("ONLY_RESULTS").is_some() {
                return Ok(());
            }
        }
        let limits = Limits { deadline_ms: 1_000, fuel: u64::MAX / 2, ..program.limits };
        let mut totals = Vec::with_capacity(calls);
        let mut phases: Vec<Vec<Duration>> = (0..Phase::COUNT).map(|_| Vec::with_capacity(calls)).collect();
        let gap = Duration::from_micros(env_or("GAP_US", 0) as u64);
        let cpu_before = cpu_ticks();
        for i in 0..calls + calls / 10 {
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
            let t = Instant::now();
            let (record, split) = runtime.call_phases::<Commission>(&plugin, &limits, inputs[0].clone());
            let total = t.elapsed();
            assert!(record.result.is_ok(), "{:?}", record.result);
            if i >= calls / 10 {
                totals.push(total);
                for (p, d) in split.iter().enumerate() {
                    phases[p].push(*d);
                }
            }
        }
        // The process's CPU time, the spare worker's included: what a call
        // costs the machine, wherever it ran.
        let cpu = (cpu_ticks() - cpu_before) as f64 * 1e4 / (calls + calls / 10) as f64;
        let (median, p99) = stats(&mut totals);
        println!(
            "   isolated call, {calls} calls: median {:.1} µs, p99 {:.1} µs; CPU per call {cpu:.0} µs",
            us(median),
            us(p99)
        );
        let names = ["store", "instantiate", "call", "validate", "drop", "record"];
        let split: Vec<String> =
            phases.iter_mut().zip(names).map(|(v, n)| format!("{n} {:.1}", us(stats(v).0))).collect();
        println!("   phase medians (µs): {}", split.join(", "));
    }
    Ok(())
}

fn stats(v: &mut [Duration]) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)])
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn walk(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { e.metadata().map(|m| m.len()).unwrap_or(0) }
        })
        .sum()
}

/// This process's user + system CPU time so far, in clock ticks (1/100 s).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat[stat.rfind(')').map_or(0, |i| i + 2)..].split(' ').collect();
    // Fields 14 and 15 (utime, stime), counted from field 3 here.
    fields.get(11).zip(fields.get(12)).map_or(0, |(u, s)| u.parse::<u64>().unwrap_or(0) + s.parse::<u64>().unwrap_or(0))
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}
