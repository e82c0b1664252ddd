//! Hostile plugins and bad components: every misbehaviour becomes a typed
//! error, no call leaks state into the next, and the host stays healthy.

mod common;

use common::*;
use pactum::runtime::hooks::{Commission, Routing};
use pactum::runtime::types::*;
use pactum::runtime::{HookError, Limits, LoadError, Runtime, RuntimeConfig, encode_params};
use pactum_plugin_artifacts::{HOSTILE, STOCK};
use std::time::{Duration, Instant};

fn call(mode: &str, limits: Limits) -> Result<CommissionDecision, HookError> {
    let rt = runtime();
    let plugin = load(rt, HOSTILE);
    rt.call::<Commission>(&plugin, &limits, hostile(mode)).result
}

/// The stock program still answers correctly: the host is healthy.
fn assert_healthy() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let d = rt.call::<Commission>(&stock, &acme.limits, won_deal(&acme, PartnerKind::Referral, 12_000_000, 0));
    assert_eq!(total(&d.result.unwrap()), 1_800_000);
}

#[test]
fn infinite_loop_times_out_within_the_deadline() {
    let limits = Limits { deadline_ms: 50, fuel: u64::MAX / 2, ..Limits::default() };
    let started = Instant::now();
    let err = call("spin", limits).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err, HookError::Timeout { deadline_ms: 50 });
    // The deadline has 1 ms resolution; allow generous scheduling slack.
    assert!(elapsed >= Duration::from_millis(50), "stopped early: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_000), "stopped late: {elapsed:?}");
    assert_healthy();
}

#[test]
fn infinite_loop_runs_out_of_fuel_first_when_fuel_is_tighter() {
    let limits = Limits { deadline_ms: 10_000, fuel: 1_000_000, ..Limits::default() };
    assert_eq!(call("spin", limits).unwrap_err(), HookError::OutOfFuel { fuel: 1_000_000 });
    assert_healthy();
}

#[test]
fn memory_bomb_hits_the_cap() {
    let limits = Limits { memory_bytes: 8 << 20, ..Limits::default() };
    assert_eq!(call("bomb", limits).unwrap_err(), HookError::MemoryLimit { limit_bytes: 8 << 20 });
    assert_healthy();
}

#[test]
fn panic_is_a_trap_with_the_guest_message() {
    match call("panic", Limits::default()).unwrap_err() {
        HookError::Trap { message } => {
            assert!(message.contains("commission table for partner p-1 is corrupt"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_healthy();
}

#[test]
fn oversized_output_is_rejected() {
    let err = call("huge-output", Limits::default()).unwrap_err();
    assert!(matches!(&err, HookError::InvalidOutput { reason } if reason.contains("larger than the limit")), "{err:?}");
    // With a cap large enough, the same output is accepted.
    let roomy = Limits { output_bytes: 2 << 20, ..Limits::default() };
    assert_eq!(call("huge-output", roomy).unwrap().explanation.len(), 1 << 20);
}

#[test]
fn every_call_gets_a_fresh_instance() {
    for _ in 0..3 {
        assert_eq!(call("count", Limits::default()).unwrap().explanation, "call #1");
    }
}

#[test]
fn output_is_validated_against_the_input() {
    let invalid = |mode: &str| match call(mode, Limits::default()).unwrap_err() {
        HookError::InvalidOutput { reason } => reason,
        other => panic!("{mode}: expected InvalidOutput, got {other:?}"),
    };
    assert!(invalid("wrong-currency").contains("is in EUR"));
    assert!(invalid("negative").contains("negative payout"));

    let rt = runtime();
    let plugin = load(rt, HOSTILE);
    let acme = program("acme");
    let mut context = acme.context(NOW);
    context.params = encode_params(&[Param { name: "route-to".into(), value: ParamValue::Text("ghost".into()) }]);
    let input = RoutingInput {
        context,
        lead: Lead {
            id: "l-1".into(),
            account_domain: "globex.com".into(),
            account_name: "Globex".into(),
            country: None,
            region: None,
            industry: None,
            source: "inbound".into(),
        },
        registrations: vec![],
        partners: vec![partner("p-1", PartnerKind::Referral, Tier::Silver)],
        tried: vec![],
    };
    let err = rt.call::<Routing>(&plugin, &Limits::default(), input).result.unwrap_err();
    assert!(matches!(&err, HookError::InvalidOutput { reason } if reason.contains("`ghost`")), "{err:?}");
}

#[test]
fn policy_errors_and_logs_are_recorded() {
    assert_eq!(
        call("policy-error", Limits::default()).unwrap_err(),
        HookError::Policy { code: "no-rate".into(), message: "no rate for this partner".into() }
    );
    let rt = runtime();
    let plugin = load(rt, HOSTILE);
    let record =
        rt.call::<Commission>(&plugin, &Limits { log_bytes: 1_000, ..Limits::default() }, hostile("log-flood"));
    assert_eq!(record.result.unwrap().explanation, "flooded");
    let kept: usize = record.logs.iter().map(|l| l.message.len()).sum();
    assert!(kept <= 1_000 && !record.logs.is_empty(), "kept {kept} bytes");
    assert_eq!(record.logs.len() + record.logs_dropped, 10_000);
    assert_eq!(record.logs[0].message, "line 0 of a flood");
}

#[test]
fn a_hook_the_plugin_does_not_export_is_an_error() {
    let rt = runtime();
    let northwind = load(rt, pactum_plugin_artifacts::NORTHWIND);
    let err = rt
        .call::<pactum::runtime::hooks::TierEvaluation>(
            &northwind,
            &Limits::default(),
            TierInput {
                context: program("northwind").context(NOW),
                partner: partner("p-1", PartnerKind::Referral, Tier::Silver),
                scorecard: Scorecard {
                    period: "2026-10".into(),
                    trailing_revenue: usd(0),
                    registered_deals: 0,
                    won_deals: 0,
                    lost_deals: 0,
                    win_rate: 0,
                    average_deal_size: usd(0),
                },
            },
        )
        .result
        .unwrap_err();
    assert_eq!(err, HookError::NotExported { hook: "tier-evaluation".into() });
}

fn load_err(bytes: &[u8]) -> LoadError {
    runtime().load(bytes).unwrap_err()
}

#[test]
fn bad_components_are_refused_with_a_clear_message() {
    assert_eq!(load_err(b"PK\x03\x04 a zip file"), LoadError::NotWasm);
    assert_eq!(load_err(&wat::parse_str("(module)").unwrap()), LoadError::NotAComponent);

    let err = load_err(&wat::parse_str("(component)").unwrap());
    assert!(matches!(err, LoadError::NoHook { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("exports no Pactum hook (it exports: nothing)"), "{message}");
    assert!(message.contains("pactum:policy/commission@0.2.0"), "{message}");
    assert!(message.ends_with("(at any supported version: 0.1.0, 0.2.0)"), "{message}");

    let future = wat::parse_str(
        r#"(component
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func $f (canon lift (core func $i "f")))
            (instance $hook (export "compute" (func $f)))
            (export "pactum:policy/commission@0.9.0" (instance $hook)))"#,
    )
    .unwrap();
    let err = load_err(&future);
    assert_eq!(
        err.to_string(),
        "the component exports `pactum:policy/commission@0.9.0`, but this host supports pactum:policy at versions 0.1.0, 0.2.0"
    );

    let http = wat::parse_str(r#"(component (import "wasi:http/outgoing-handler@0.2.0" (instance)))"#).unwrap();
    let err = load_err(&http);
    assert_eq!(err, LoadError::ForbiddenImport { import: "wasi:http/outgoing-handler@0.2.0".into() });
    assert!(err.to_string().contains("no clock, randomness, files, network or environment"));

    // WASI 0.2 interfaces that language runtimes link (componentize-py)
    // pass the import check, satisfied by stubs (runtime::wasi_stubs); a
    // WASI version other than 0.2 does not.
    let clock = wat::parse_str(r#"(component (import "wasi:clocks/wall-clock@0.2.9" (instance)))"#).unwrap();
    assert!(matches!(load_err(&clock), LoadError::NoHook { .. }), "{}", load_err(&clock));
    let clock3 = wat::parse_str(r#"(component (import "wasi:clocks/wall-clock@0.3.0" (instance)))"#).unwrap();
    assert_eq!(load_err(&clock3), LoadError::ForbiddenImport { import: "wasi:clocks/wall-clock@0.3.0".into() });

    let small = Runtime::new(RuntimeConfig { max_component_bytes: 1_000, ..RuntimeConfig::default() }).unwrap();
    let stock = std::fs::read(STOCK).unwrap();
    assert_eq!(small.load(&stock).unwrap_err(), LoadError::TooLarge { size: stock.len(), limit: 1_000 });
}

#[test]
fn a_forbidden_import_is_refused_before_compiling() {
    // A component with code to compile, and (or not) imports no plugin is given.
    let component = |imports: &str| {
        let functions: String =
            (0..2_000).map(|i| format!("(func (export \"f{i}\") (result i32) i32.const {i})")).collect();
        wat::parse_str(format!(
            r#"(component {imports} (core module $m {functions}) (core instance $i (instantiate $m)))"#
        ))
        .unwrap()
    };
    let forbidden = component(
        r#"(import "wasi:clocks/wall-clock@0.2.9" (instance)) (import "wasi:http/outgoing-handler@0.2.0" (instance))"#,
    );
    let rt = Runtime::new(RuntimeConfig::default()).unwrap();
    let started = Instant::now();
    let err = rt.load(&forbidden).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, LoadError::ForbiddenImport { import: "wasi:http/outgoing-handler@0.2.0".into() });
    assert!(err.to_string().contains("`wasi:http/outgoing-handler@0.2.0`"), "{err}");
    // Nothing was compiled: the import names were read from the bytes.
    assert_eq!(rt.stats().compiled, 0);
    assert!(took < Duration::from_millis(500), "refused after {took:?}");

    // Without the forbidden import, the same code compiles (and is refused
    // later, for exporting no hook).
    let err = rt.load(&component(r#"(import "wasi:clocks/wall-clock@0.2.9" (instance))"#)).unwrap_err();
    assert!(matches!(err, LoadError::NoHook { .. }), "{err}");
    assert_eq!(rt.stats().compiled, 1);
}

#[test]
fn a_call_past_the_budget_gives_its_input_back_and_its_plugin_is_not_tried_again() {
    // A runtime of its own: the quick flag belongs to the loaded plugin.
    let rt = Runtime::new(RuntimeConfig::default()).expect("engine");
    let budget = Duration::from_millis(1);
    let limits = Limits { deadline_ms: 2_000, fuel: u64::MAX / 2, ..Limits::default() };

    // A quick plugin answers within the budget, as `call` would.
    let stock = load(&rt, STOCK);
    let acme = program("acme");
    let record = rt
        .call_within::<Commission>(&stock, &acme.limits, won_deal(&acme, PartnerKind::Referral, 12_000_000, 0), budget)
        .expect("a stock call fits the budget");
    assert_eq!(total(&record.result.unwrap()), 1_800_000);
    assert!(stock.is_quick());

    // A spinning one is stopped at the budget, not at its deadline, and
    // its input comes back untouched, to be called elsewhere.
    let spinner = load(&rt, HOSTILE);
    assert!(spinner.is_quick());
    let started = Instant::now();
    let Err(back) = rt.call_within::<Commission>(&spinner, &limits, hostile("spin"), budget) else {
        panic!("a spinning call fitted the budget");
    };
    let elapsed = started.elapsed();
    assert_eq!(back, hostile("spin"));
    assert!(elapsed < Duration::from_millis(500), "held the caller's thread for {elapsed:?}");
    assert!(!spinner.is_quick());

    // From then on it is not run here at all: its input comes straight back.
    let started = Instant::now();
    assert!(rt.call_within::<Commission>(&spinner, &limits, hostile("spin"), budget).is_err());
    assert!(started.elapsed() < budget, "ran again: {:?}", started.elapsed());

    // The full call, where the caller sends it, keeps the full deadline.
    let full = rt.call::<Commission>(&spinner, &Limits { deadline_ms: 30, ..limits }, back);
    assert_eq!(full.result.unwrap_err(), HookError::Timeout { deadline_ms: 30 });
}

#[test]
fn a_deadline_inside_the_budget_is_the_call_s_own() {
    let rt = Runtime::new(RuntimeConfig::default()).expect("engine");
    let spinner = load(&rt, HOSTILE);
    let limits = Limits { deadline_ms: 5, fuel: u64::MAX / 2, ..Limits::default() };
    let record = rt
        .call_within::<Commission>(&spinner, &limits, hostile("spin"), Duration::from_millis(10))
        .expect("the deadline is inside the budget: the call is final");
    assert_eq!(record.result.unwrap_err(), HookError::Timeout { deadline_ms: 5 });
    // A timeout at its own deadline says nothing about the budget.
    assert!(spinner.is_quick());
}

#[test]
fn one_company_spinning_does_not_stall_another() {
    let rt = runtime();
    let hostile_plugin = load(rt, HOSTILE);
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let spin_limits = Limits { deadline_ms: 1_500, fuel: u64::MAX / 2, ..Limits::default() };

    std::thread::scope(|s| {
        let spinner = s.spawn(|| {
            let r = rt.call::<Commission>(&hostile_plugin, &spin_limits, hostile("spin"));
            (r.result, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(20));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..200 {
                        let input = won_deal(&acme, PartnerKind::Referral, 12_000_000, 0);
                        let d = rt.call::<Commission>(&stock, &acme.limits, input).result.unwrap();
                        assert_eq!(total(&d), 1_800_000);
                    }
                    Instant::now()
                })
            })
            .collect();
        let finished: Vec<Instant> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        let (spin_result, spin_done) = spinner.join().unwrap();
        assert_eq!(spin_result.unwrap_err(), HookError::Timeout { deadline_ms: 1_500 });
        for done in finished {
            assert!(done < spin_done, "the other company's 200 calls finished only after the spinner's deadline");
        }
    });
}

#[test]
fn a_restart_loads_compiled_plugins_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig { cache_dir: Some(dir.path().into()), ..RuntimeConfig::default() };
    let bytes = std::fs::read(STOCK).unwrap();

    let first = Runtime::new(config.clone()).unwrap();
    let hash = first.load(&bytes).unwrap().hash();
    first.load(&bytes).unwrap();
    assert_eq!((first.stats().compiled, first.stats().cache_hits), (1, 0));
    drop(first);

    let second = Runtime::new(config.clone()).unwrap();
    let plugin = second.load(&bytes).unwrap();
    assert_eq!((second.stats().compiled, second.stats().cache_hits), (0, 1));
    assert_eq!(plugin.hash(), hash);
    let acme = program("acme");
    let d = second.call::<Commission>(&plugin, &acme.limits, won_deal(&acme, PartnerKind::Referral, 12_000_000, 0));
    assert_eq!(total(&d.result.unwrap()), 1_800_000);

    // A corrupt artifact is dropped and recompiled, never trusted.
    let artifact = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&artifact, b"garbage").unwrap();
    let third = Runtime::new(config).unwrap();
    third.load(&bytes).unwrap();
    assert_eq!((third.stats().compiled, third.stats().cache_hits), (1, 0));
}
