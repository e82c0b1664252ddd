//! The second pool for large components (`RuntimeConfig::large_component_bytes`):
//! a plugin on it keeps the same isolation and limits as on the default one.
//! Here every plugin is put on it (threshold 0), so the small Rust fixtures
//! exercise it without building a Python or JavaScript component.

mod common;

use common::*;
use pactum::runtime::hooks::Commission;
use pactum::runtime::types::PartnerKind;
use pactum::runtime::{HookError, Limits, Runtime, RuntimeConfig};
use pactum_plugin_artifacts::{HOSTILE, STOCK};

fn large_only() -> Runtime {
    Runtime::new(RuntimeConfig { large_component_bytes: Some(0), ..RuntimeConfig::default() }).expect("engines")
}

#[test]
fn plugins_on_the_large_pool_get_a_fresh_instance_every_call() {
    let rt = large_only();
    let plugin = load(&rt, HOSTILE);
    for _ in 0..5 {
        let record = rt.call::<Commission>(&plugin, &Limits::default(), hostile("count"));
        assert_eq!(record.result.unwrap().explanation, "call #1");
    }
}

#[test]
fn limits_hold_on_the_large_pool() {
    let rt = large_only();
    let plugin = load(&rt, HOSTILE);
    let timeout = Limits { deadline_ms: 50, fuel: u64::MAX / 2, ..Limits::default() };
    let err = rt.call::<Commission>(&plugin, &timeout, hostile("spin")).result.unwrap_err();
    assert_eq!(err, HookError::Timeout { deadline_ms: 50 });
    let memory = Limits { memory_bytes: 8 << 20, ..Limits::default() };
    let err = rt.call::<Commission>(&plugin, &memory, hostile("bomb")).result.unwrap_err();
    assert_eq!(err, HookError::MemoryLimit { limit_bytes: 8 << 20 });
    // The pool is healthy afterwards.
    let record = rt.call::<Commission>(&plugin, &Limits::default(), hostile("count"));
    assert_eq!(record.result.unwrap().explanation, "call #1");
}

#[test]
fn the_same_decisions_on_either_pool() {
    let acme = program("acme");
    let small = Runtime::new(RuntimeConfig { large_component_bytes: None, ..RuntimeConfig::default() }).unwrap();
    let large = large_only();
    let (a, b) = (load(&small, STOCK), load(&large, STOCK));
    for (kind, acv) in [(PartnerKind::Referral, 12_000_000), (PartnerKind::Reseller, 5_000_000)] {
        let input = won_deal(&acme, kind, acv, 0);
        let x = small.call::<Commission>(&a, &acme.limits, input.clone()).result.unwrap();
        let y = large.call::<Commission>(&b, &acme.limits, input).result.unwrap();
        assert_eq!(x, y);
    }
}
