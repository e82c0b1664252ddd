//! Isolated commission calls of large (Python, JavaScript) components with
//! and without pre-initialization (`RuntimeConfig::preinitialize_large`),
//! on Acme's commission fixtures: the time each way and whether every
//! fixture's result is the same.
//!
//! `cargo run --release --workspace --example preinit_probe -- name=file.wasm ...`
//! (`CALLS`: calls per variant, default 1000).

use pactum::fixtures::Fixture;
use pactum::program::Program;
use pactum::runtime::hooks::Commission;
use pactum::runtime::{Runtime, RuntimeConfig};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let program = Program::load(&root.join("policies/acme"))?;
    let inputs: Vec<_> = Fixture::load_dir(&root.join("policies/acme/fixtures"))?
        .into_iter()
        .filter(|f| f.name.starts_with("commission/"))
        .map(|f| {
            let mut input = f.input.clone();
            input["context"] = serde_json::to_value(program.context(f.event_time)).unwrap();
            serde_json::from_value::<<Commission as pactum::runtime::Hook>::Input>(input).unwrap()
        })
        .collect();
    let calls: usize = std::env::var("CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let limits = program.limits;
    for arg in std::env::args().skip(1) {
        let (name, file) = arg.split_once('=').ok_or("arguments are name=file.wasm")?;
        let bytes = std::fs::read(file)?;
        let mut results = Vec::new();
        for preinitialize_large in [false, true] {
            let runtime = Runtime::new(RuntimeConfig { preinitialize_large, ..RuntimeConfig::default() })?;
            let started = Instant::now();
            let plugin = runtime.load(&bytes)?;
            let load = started.elapsed();
            let outputs: Vec<_> = inputs
                .iter()
                .map(|i| runtime.call::<Commission>(&plugin, &limits, i.clone()).result_json().to_string())
                .collect();
            let mut times = Vec::with_capacity(calls);
            for i in 0..calls {
                let input = inputs[i % inputs.len()].clone();
                let t = Instant::now();
                let record = runtime.call::<Commission>(&plugin, &limits, input);
                times.push(t.elapsed());
                assert!(record.result.is_ok(), "{:?}", record.result.err());
            }
            times.sort();
            println!(
                "{name:8} pre-initialized: {:5}  load {:6.1} s  median {:7.1} µs  p99 {:7.1} µs",
                plugin.is_preinitialized(),
                load.as_secs_f64(),
                us(times[calls / 2]),
                us(times[calls * 99 / 100])
            );
            results.push(outputs);
        }
        println!("{name:8} same results on all {} fixtures: {}", inputs.len(), results[0] == results[1]);
    }
    Ok(())
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
