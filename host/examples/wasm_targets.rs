//! The stock plugin built for `wasm32-unknown-unknown` (what
//! `plugins/artifacts` ships) against the same crate built for
//! `wasm32-wasip2`: component size, compile time, compiled size, and one
//! isolated commission call (new store, instantiate, call, drop), interleaved
//! in rounds, best round's median. See BENCHMARKS.md, "Which Wasm target".
//!
//! ```sh
//! rustup target add wasm32-wasip2
//! cargo rustc -p pactum-stock --target wasm32-wasip2 --profile plugin --crate-type cdylib \
//!     --target-dir /tmp/wasip2 -- -C link-arg=-zstack-size=16384
//! cargo run --release -p pactum --example wasm_targets -- /tmp/wasip2/wasm32-wasip2/plugin/pactum_stock.wasm
//! ```
//!
//! The host refuses WASI imports, so both components run here on a bare
//! linker with every import defined as a trap (neither calls an import on
//! this path) and an engine configured as `Runtime`'s (copied: keep in step
//! with `engine_config` in `src/runtime/mod.rs`).

use pactum::program::Program;
use pactum::runtime::types::*;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

const NOW: i64 = 1_795_651_200;

fn engine() -> Engine {
    let mut pool = PoolingAllocationConfig::new();
    let n = 256;
    pool.total_component_instances(n)
        .total_core_instances(n * 4)
        .total_memories(n * 2)
        .total_tables(n * 4)
        .max_memory_size(256 << 20)
        .max_core_instances_per_component(32)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .linear_memory_keep_resident(256 << 10)
        .table_keep_resident(16 << 10)
        .pagemap_scan(Enabled::No);
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .signals_based_traps(false)
        .memory_guard_size(0)
        .memory_reservation(256 << 20)
        .memory_reservation_for_growth(0)
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true);
    Engine::new(&cfg).unwrap()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let acme = Program::load(&root.join("policies/acme")).unwrap();
    let engine = engine();
    let builds = [
        ("wasm32-unknown-unknown", std::fs::read(pactum_plugin_artifacts::STOCK).unwrap()),
        ("wasm32-wasip2", std::fs::read(std::env::args().nth(1).expect("wasip2 component path")).unwrap()),
    ];
    let input = CommissionInput {
        context: acme.context(NOW),
        event: CommissionEvent::Won,
        deal: Deal {
            id: "d-1".into(),
            first_year_acv: Money { amount: 12_000_000, currency: "USD".into() },
            services: Money { amount: 0, currency: "USD".into() },
            source: DealSource::PartnerSourced,
            closed_at: NOW,
        },
        partner: Partner {
            id: "p-1".into(),
            name: "Partner One".into(),
            kind: PartnerKind::Referral,
            tier: Tier::Silver,
            territories: vec!["emea".into()],
            certifications: vec![Certification { name: "sales".into(), expires_at: Some(NOW + 86_400 * 90) }],
            active: true,
        },
        prior_lines: vec![],
        quarter_to_date: Money { amount: 10_000_000, currency: "USD".into() },
    };
    let mut pres = Vec::new();
    for (name, bytes) in &builds {
        let t = Instant::now();
        let component = Component::new(&engine, bytes).unwrap();
        let compile = t.elapsed();
        let artifact = component.serialize().unwrap().len();
        let mut linker: Linker<()> = Linker::new(&engine);
        linker.define_unknown_imports_as_traps(&component).unwrap();
        let pre = linker.instantiate_pre(&component).unwrap();
        let iface = component.get_export_index(None, "pactum:policy/commission@0.1.0").unwrap();
        let func = component.get_export_index(Some(&iface), "compute").unwrap();
        println!(
            "{name:<24} component {} bytes, compile {:.0} ms, compiled artifact {} bytes",
            bytes.len(),
            compile.as_secs_f64() * 1e3,
            artifact
        );
        pres.push((name, pre, func));
    }
    let rounds = 10;
    let per = 5_000;
    println!("{rounds} interleaved rounds of {per} calls, best round's median:");
    let mut best = vec![(f64::MAX, f64::MAX); pres.len()];
    for _ in 0..rounds {
        for (i, (_, pre, func)) in pres.iter().enumerate() {
            let mut total = Vec::with_capacity(per);
            let mut inst = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                let mut store = Store::new(&engine, ());
                store.set_fuel(50_000_000).unwrap();
                store.set_epoch_deadline(1_000);
                let instance = pre.instantiate(&mut store).unwrap();
                let t1 = t.elapsed();
                let f = instance
                    .get_typed_func::<(&CommissionInput,), (Result<CommissionDecision, PolicyError>,)>(&mut store, func)
                    .unwrap();
                let (out,) = f.call(&mut store, (&input,)).unwrap();
                black_box(out.unwrap());
                drop(store);
                total.push(t.elapsed().as_nanos() as f64 / 1e3);
                inst.push(t1.as_nanos() as f64 / 1e3);
            }
            total.sort_by(|a, b| a.partial_cmp(b).unwrap());
            inst.sort_by(|a, b| a.partial_cmp(b).unwrap());
            best[i].0 = best[i].0.min(total[per / 2]);
            best[i].1 = best[i].1.min(inst[per / 2]);
        }
    }
    for ((name, _, _), (total, inst)) in pres.iter().zip(best) {
        println!(
            "{name:<24} isolated commission call (store+instantiate+call+drop) median {total:.2} µs, of which store+instantiate {inst:.2} µs"
        );
    }
}
