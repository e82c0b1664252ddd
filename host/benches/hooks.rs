//! Isolated hook-call benchmark: `cargo bench -p pactum --bench hooks`.
//!
//! For each stock hook (and Northwind's custom commission), the time of one
//! call on a fresh, isolated instance (new store, instantiate, call, output
//! validation, audit record, drop), as median and p99 over many calls; the
//! same commission rule as native Rust for the ratio; compiling a plugin,
//! and loading it from the compiled cache as a restart does; and the
//! throughput of both cores together.

use pactum::program::Program;
use pactum::runtime::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use pactum::runtime::types::*;
use pactum::runtime::{Limits, Phase, Plugin, Runtime, RuntimeConfig, encode_params};
use pactum_plugin_artifacts::{NORTHWIND, STOCK};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const NOW: i64 = 1_795_651_200;
const WARMUP: usize = 2_000;
const SAMPLES: usize = 50_000;

struct Stats {
    median: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let n = samples.len();
    Stats {
        median: samples[n / 2],
        p99: samples[(n * 99 / 100).min(n - 1)],
        mean: samples.iter().sum::<Duration>() / n as u32,
    }
}

/// Times `f` on a fresh `setup()` each time; `setup` (the caller handing
/// over an input it owns: a clone here) is not timed.
fn measure<T>(mut setup: impl FnMut() -> T, mut f: impl FnMut(T)) -> Stats {
    for _ in 0..WARMUP {
        f(setup());
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let given = setup();
        let t = Instant::now();
        f(given);
        samples.push(t.elapsed());
    }
    stats(samples)
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_nanos() as f64 / 1_000.0)
}

fn row(name: &str, s: &Stats) {
    println!(
        "{name:<34} median {:>10}  p99 {:>10}  mean {:>10}  {:>9.0} calls/s",
        us(s.median),
        us(s.p99),
        us(s.mean),
        1.0 / s.mean.as_secs_f64()
    );
}

fn bench_hook<H: Hook>(name: &str, rt: &Runtime, plugin: &Plugin, limits: &Limits, input: H::Input) -> Stats {
    let check = rt.call::<H>(plugin, limits, input.clone());
    assert!(check.result.is_ok(), "{name}: {:?}", check.result);
    let s = measure(
        || input.clone(),
        |input| {
            black_box(rt.call::<H>(plugin, limits, black_box(input)));
        },
    );
    row(name, &s);
    s
}

/// Median of each phase of [`Runtime::call`] (and of their sum).
fn breakdown<H: Hook>(name: &str, rt: &Runtime, plugin: &Plugin, limits: &Limits, input: H::Input) {
    for _ in 0..WARMUP {
        black_box(rt.call_phases::<H>(plugin, limits, input.clone()));
    }
    let mut per_phase: Vec<Vec<Duration>> = (0..Phase::COUNT).map(|_| Vec::with_capacity(SAMPLES)).collect();
    let mut totals = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let input = input.clone();
        let (record, phases) = rt.call_phases::<H>(plugin, limits, input);
        assert!(record.result.is_ok(), "{name}: {:?}", record.result);
        for (samples, d) in per_phase.iter_mut().zip(phases) {
            samples.push(d);
        }
        totals.push(phases.iter().sum());
    }
    let mut line = format!("{name:<30}");
    for (phase, samples) in Phase::ALL.iter().zip(per_phase) {
        line += &format!(" {phase:?} {:.2}", stats(samples).median.as_nanos() as f64 / 1e3);
    }
    line += &format!("  | total {}", us(stats(totals).median));
    println!("{line}");
}

fn usd(amount: i64) -> Money {
    Money { amount, currency: "USD".into() }
}

fn partner(kind: PartnerKind, tier: Tier) -> Partner {
    Partner {
        id: "p-1".into(),
        name: "Partner One".into(),
        kind,
        tier,
        territories: vec!["emea".into()],
        certifications: vec![Certification { name: "sales".into(), expires_at: Some(NOW + 86_400 * 90) }],
        active: true,
    }
}

fn commission_input(program: &Program) -> CommissionInput {
    CommissionInput {
        context: program.context(NOW),
        event: CommissionEvent::Won,
        deal: Deal {
            id: "d-1".into(),
            first_year_acv: usd(12_000_000),
            services: usd(0),
            source: DealSource::PartnerSourced,
            closed_at: NOW,
        },
        partner: partner(PartnerKind::Referral, Tier::Silver),
        prior_lines: vec![],
        quarter_to_date: usd(10_000_000),
    }
}

/// The same input for the native build of the stock plugin.
fn native_commission_input(program: &Program) -> pactum_pdk::commission::CommissionInput {
    use pactum_pdk::commission as n;
    let mut partner = pactum_pdk::testing::partner("p-1", n::PartnerKind::Referral);
    partner.tier = n::Tier::Silver;
    n::CommissionInput {
        context: n::Context { company: program.slug.clone(), event_time: NOW, params: program.params_json.clone() },
        event: n::CommissionEvent::Won,
        deal: n::Deal {
            id: "d-1".into(),
            first_year_acv: n::Money::new(12_000_000, "USD"),
            services: n::Money::zero("USD"),
            source: n::DealSource::PartnerSourced,
            closed_at: NOW,
        },
        partner,
        prior_lines: vec![],
        quarter_to_date: n::Money::new(10_000_000, "USD"),
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let acme = Program::load(&root.join("policies/acme")).unwrap();
    let northwind = Program::load(&root.join("policies/northwind")).unwrap();
    let rt = Runtime::new(RuntimeConfig::default()).unwrap();
    let stock_bytes = std::fs::read(STOCK).unwrap();
    let stock = rt.load(&stock_bytes).unwrap();
    let nw = rt.load(&std::fs::read(NORTHWIND).unwrap()).unwrap();
    let limits = acme.limits;

    println!("Isolated hook calls (fresh store + instance per call), {SAMPLES} samples each, one thread:");
    let commission = bench_hook::<Commission>("stock commission", &rt, &stock, &limits, commission_input(&acme));
    bench_hook::<Commission>(
        "northwind commission (custom)",
        &rt,
        &nw,
        &northwind.limits,
        commission_input(&northwind),
    );
    bench_hook::<Routing>(
        "stock routing",
        &rt,
        &stock,
        &limits,
        RoutingInput {
            context: acme.context(NOW),
            lead: Lead {
                id: "l-1".into(),
                account_domain: "globex.com".into(),
                account_name: "Globex".into(),
                country: Some("DE".into()),
                region: Some("emea".into()),
                industry: Some("software".into()),
                source: "webinar".into(),
            },
            registrations: vec![],
            partners: vec![partner(PartnerKind::Reseller, Tier::Gold)],
            tried: vec![],
        },
    );
    bench_hook::<Approval>(
        "stock approval",
        &rt,
        &stock,
        &limits,
        ApprovalInput {
            context: acme.context(NOW),
            registration: Registration {
                id: "r-1".into(),
                account_domain: "globex.com".into(),
                account_name: "Globex".into(),
                industry: Some("software".into()),
                employees: Some(400),
                country: Some("US".into()),
                amount: usd(12_000_000),
                expected_close: None,
            },
            partner: partner(PartnerKind::Referral, Tier::Silver),
            existing: vec![],
        },
    );
    bench_hook::<TierEvaluation>(
        "stock tier-evaluation",
        &rt,
        &stock,
        &limits,
        TierInput {
            context: acme.context(NOW),
            partner: partner(PartnerKind::Reseller, Tier::Silver),
            scorecard: Scorecard {
                period: "2026-10".into(),
                trailing_revenue: usd(21_000_000),
                registered_deals: 4,
                won_deals: 2,
                lost_deals: 1,
                win_rate: 6_667,
                average_deal_size: usd(10_500_000),
            },
        },
    );

    // The floor: a commission plugin that does almost nothing (the hostile
    // fixture's `count` mode: one parameter, returns a short string).
    let hostile = rt.load(&std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap()).unwrap();
    let mut trivial = commission_input(&acme);
    trivial.context.params = encode_params(&[Param { name: "mode".into(), value: ParamValue::Text("count".into()) }]);
    bench_hook::<Commission>("floor: trivial commission plugin", &rt, &hostile, &limits, trivial);

    println!("\nWhere the time goes (median of each phase over {SAMPLES} calls, one thread):");
    let mut lean = commission_input(&acme);
    let rates: Vec<Param> = acme.params.iter().filter(|p| p.name.ends_with("-bps")).cloned().collect();
    lean.context.params = encode_params(&rates);
    breakdown::<Commission>("stock commission", &rt, &stock, &limits, commission_input(&acme));
    breakdown::<Commission>("stock commission, 3 params", &rt, &stock, &limits, lean);
    let mut trivial = commission_input(&acme);
    trivial.context.params = encode_params(&[Param { name: "mode".into(), value: ParamValue::Text("count".into()) }]);
    breakdown::<Commission>("floor", &rt, &hostile, &limits, trivial);

    println!("\nThe same commission rule as native Rust (pactum-stock compiled for the host):");
    let native_input = native_commission_input(&acme);
    let native = measure(
        || native_input.clone(),
        |input| {
            use pactum_pdk::commission::Commission as _;
            black_box(pactum_stock::Stock::compute(black_box(input)).unwrap());
        },
    );
    row("native stock commission", &native);
    println!(
        "isolated Wasm / native: {:.1}x (median)",
        commission.median.as_nanos() as f64 / native.median.as_nanos() as f64
    );

    ab_settings(&acme, &stock_bytes);

    println!("\nBoth cores, 2 threads x {SAMPLES} isolated stock commission calls:");
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let input = commission_input(&acme);
                for _ in 0..SAMPLES {
                    black_box(rt.call::<Commission>(&stock, &limits, input.clone()));
                }
            });
        }
    });
    let elapsed = started.elapsed();
    println!("{:.0} decisions/s", (2 * SAMPLES) as f64 / elapsed.as_secs_f64());

    println!("\nLoading the stock plugin ({} bytes):", stock_bytes.len());
    let cold = Runtime::new(RuntimeConfig::default()).unwrap();
    let t = Instant::now();
    cold.load(&stock_bytes).unwrap();
    println!("{:<34} {:>10.2} ms", "compile (no cache)", t.elapsed().as_secs_f64() * 1e3);
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig { cache_dir: Some(dir.path().into()), ..RuntimeConfig::default() };
    Runtime::new(config.clone()).unwrap().load(&stock_bytes).unwrap();
    let mut samples = Vec::new();
    for _ in 0..50 {
        let restarted = Runtime::new(config.clone()).unwrap();
        let t = Instant::now();
        black_box(restarted.load(&stock_bytes).unwrap());
        samples.push(t.elapsed());
        assert_eq!(restarted.stats().compiled, 0);
    }
    let s = stats(samples);
    println!("{:<34} median {:>10}  p99 {:>10}", "load from compiled cache (restart)", us(s.median), us(s.p99));
}

/// Runtime settings compared in one process, interleaved in rounds so that
/// machine noise hits every variant alike; reports the best round's median.
fn ab_settings(acme: &Program, stock_bytes: &[u8]) {
    const ROUNDS: usize = 12;
    const PER_ROUND: usize = 4_000;
    let variants: Vec<(&str, RuntimeConfig)> = vec![
        ("default (256 KiB kept resident, reset outright)", RuntimeConfig::default()),
        ("PAGEMAP_SCAN: reset only the dirty pages", RuntimeConfig { pagemap_scan: true, ..RuntimeConfig::default() }),
        ("64 KiB kept resident", RuntimeConfig { keep_resident_bytes: 64 << 10, ..RuntimeConfig::default() }),
    ];
    let hostile_bytes = std::fs::read(pactum_plugin_artifacts::HOSTILE).unwrap();
    let runtimes: Vec<_> = variants
        .iter()
        .map(|(_, config)| {
            let rt = Runtime::new(config.clone()).unwrap();
            let stock = rt.load(stock_bytes).unwrap();
            let floor = rt.load(&hostile_bytes).unwrap();
            (rt, stock, floor)
        })
        .collect();
    let input = commission_input(acme);
    let mut trivial = input.clone();
    trivial.context.params = encode_params(&[Param { name: "mode".into(), value: ParamValue::Text("count".into()) }]);
    println!("\nSettings compared ({ROUNDS} interleaved rounds of {PER_ROUND} calls, best round's median):");
    let mut best = vec![(Duration::MAX, Duration::MAX); variants.len()];
    for _ in 0..ROUNDS {
        for (i, (rt, stock, floor)) in runtimes.iter().enumerate() {
            let one = |plugin: &Plugin, input: &CommissionInput| {
                let mut samples = Vec::with_capacity(PER_ROUND);
                for _ in 0..PER_ROUND {
                    let input = input.clone();
                    let t = Instant::now();
                    black_box(rt.call::<Commission>(plugin, &acme.limits, input));
                    samples.push(t.elapsed());
                }
                stats(samples).median
            };
            let (s, f) = (one(stock, &input), one(floor, &trivial));
            best[i] = (best[i].0.min(s), best[i].1.min(f));
        }
    }
    for ((name, _), (s, f)) in variants.iter().zip(best) {
        println!("{name:<50} stock commission {:>10}  trivial plugin {:>10}", us(s), us(f));
    }
}
