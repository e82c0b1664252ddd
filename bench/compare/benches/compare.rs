//! Issue 4's side-by-side benchmark: `cargo bench -p pactum-compare`.
//!
//! 1. Generates the 1,000 deals and 1,000 leads, sets every engine up, and
//!    checks each engine agrees with native Rust on all of them (a
//!    disagreement aborts the run).
//! 2. Times every decision, one thread: rounds over the 2,000 inputs, the
//!    engines interleaved within each round so machine noise hits them alike.
//!    Per engine and rule: median, p99, decisions per second on one core
//!    (1 / mean), ratio to native (median).
//! 3. Cold start and memory, each engine in a fresh child process (this
//!    binary re-run with `--child <engine>`, several times, medians): cold
//!    start is from source or bytes to the first commission decision;
//!    memory is the child's RSS growth up to there (setup), and how far its
//!    peak RSS rises above that over 1,000 commission and 1,000 routing
//!    decisions more (decisions).
//!
//! `COMPARE_ROUNDS` (default 10) sets the rounds, `COMPARE_CHILD_RUNS`
//! (default 5) the child processes per engine (0: none), `COMPARE_ONLY` keeps
//! native Rust and the engines whose name contains it (for profiling one
//! engine under `perf record`).

use pactum::runtime::RuntimeConfig;
use pactum_compare::data::{self, CASES};
use pactum_compare::{DEADLINE, ENGINE_NAMES, Engine, PactumEngine, all_engines, engine_by_name, pactum_limits};
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

const PACTUM_CACHED: &str = "Pactum (compiled cache)";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], args.get(i + 2).map(String::as_str));
        return;
    }

    let acme = data::acme();
    let deals = data::deals(&acme);
    let leads = data::leads(&acme);
    let mut engines = all_engines(DEADLINE).expect("engines set up");
    if let Ok(only) = std::env::var("COMPARE_ONLY") {
        engines.retain(|e| e.name() == "native Rust" || e.name().contains(&only));
    }

    // 1. Same answers, checked before anything is timed. A decision that
    // fails (a deadline hit while the shared machine stalls) is retried
    // once; an answer that differs aborts the run.
    let mut native = pactum_compare::Native;
    let want_c: Vec<_> = deals.iter().map(|d| native.commission(d).unwrap()).collect();
    let want_r: Vec<_> = leads.iter().map(|l| native.route(l).unwrap()).collect();
    for engine in &mut engines {
        for (d, want) in deals.iter().zip(&want_c) {
            let got = engine.commission(d).or_else(|_| engine.commission(d));
            assert_eq!(&got.unwrap(), want, "{} on deal {}", engine.name(), d.deal.id);
        }
        for (l, want) in leads.iter().zip(&want_r) {
            let got = engine.route(l).or_else(|_| engine.route(l));
            assert_eq!(&got.unwrap(), want, "{} on lead {}", engine.name(), l.lead.id);
        }
    }
    println!(
        "All {} engines agree with native Rust on {CASES} deals and {CASES} leads ({} commission lines, {} routed to partners).\n",
        engines.len(),
        want_c.iter().map(Vec::len).sum::<usize>(),
        want_r.iter().filter(|r| r.is_some()).count()
    );

    // 2. Per-decision timing, engines interleaved in rounds.
    let rounds = env_usize("COMPARE_ROUNDS", 10);
    // A decision that fails (its deadline hit during a stall of the shared
    // machine) keeps its time as a sample and is counted and reported.
    let mut samples: Vec<[Vec<Duration>; 2]> = engines.iter().map(|_| [Vec::new(), Vec::new()]).collect();
    let mut failed = vec![0usize; engines.len()];
    for round in 0..=rounds {
        for ((engine, s), failed) in engines.iter_mut().zip(&mut samples).zip(&mut failed) {
            for d in &deals {
                let t = Instant::now();
                let ok = black_box(engine.commission(black_box(d))).is_ok();
                let e = t.elapsed();
                *failed += usize::from(!ok);
                if round > 0 {
                    s[0].push(e); // round 0 warms up
                }
            }
            for l in &leads {
                let t = Instant::now();
                let ok = black_box(engine.route(black_box(l))).is_ok();
                let e = t.elapsed();
                *failed += usize::from(!ok);
                if round > 0 {
                    s[1].push(e);
                }
            }
        }
    }
    for (engine, failed) in engines.iter().zip(&failed) {
        if *failed > 0 {
            println!("{}: {failed} decisions failed during timing (a limit hit), timed all the same", engine.name());
        }
    }
    let stats: Vec<[Stats; 2]> = samples.into_iter().map(|[c, r]| [Stats::of(c), Stats::of(r)]).collect();

    // Pactum's fixed cost: the same isolated call with a plugin that does
    // nothing (the hostile fixture's `count` mode, one parameter).
    let floor = {
        let hostile = std::fs::read(pactum_plugin_artifacts::HOSTILE).expect("hostile fixture");
        let engine = PactumEngine::with_component(RuntimeConfig::default(), pactum_limits(DEADLINE), &hostile).unwrap();
        let mut input = deals[0].clone();
        input.context.params = r#"{"mode":"count"}"#.into();
        assert!(engine.raw_commission(&input));
        let mut s = Vec::with_capacity(rounds * CASES);
        for _ in 0..(rounds + 1) * CASES {
            let t = Instant::now();
            black_box(engine.raw_commission(black_box(&input)));
            s.push(t.elapsed());
        }
        Stats::of(s.split_off(CASES))
    };
    let stock_hash = PactumEngine::new(RuntimeConfig::default(), pactum_limits(DEADLINE)).unwrap().plugin_hash();

    // 3. Cold start and memory in fresh processes.
    let runs = env_usize("COMPARE_CHILD_RUNS", 5);
    let cache = std::env::temp_dir().join(format!("pactum-compare-cache-{}", std::process::id()));
    let mut children: Vec<(String, Duration, u64, u64)> = Vec::new();
    let mut names: Vec<&str> = ENGINE_NAMES.to_vec();
    names.insert(2, PACTUM_CACHED);
    if runs == 0 {
        names.clear();
    }
    for name in names {
        if name == PACTUM_CACHED {
            // Fill the cache once, as the first start of a service would.
            run_child(name, Some(&cache));
        }
        let mut cold = Vec::new();
        let mut setup = Vec::new();
        let mut peak = Vec::new();
        for _ in 0..runs {
            let (c, s, p) = run_child(name, (name == PACTUM_CACHED).then_some(&cache));
            cold.push(c);
            setup.push(s);
            peak.push(p);
        }
        cold.sort();
        setup.sort();
        peak.sort();
        let mid = runs / 2;
        children.push((name.to_string(), cold[mid], setup[mid], peak[mid]));
    }
    let _ = std::fs::remove_dir_all(&cache);

    println!(
        "Per decision, one thread, {rounds} rounds x {CASES} inputs per rule (median, p99; decisions/s = 1/mean; x native = median ratio):\n"
    );
    println!(
        "| engine | commission median | p99 | decisions/s | x native | routing median | p99 | decisions/s | x native |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let native = &stats[0];
    for (engine, s) in engines.iter().zip(&stats) {
        let cells = |i: usize| {
            format!(
                "{} | {} | {:.0} | {:.1}x",
                us(s[i].median),
                us(s[i].p99),
                1.0 / s[i].mean.as_secs_f64(),
                s[i].median.as_secs_f64() / native[i].median.as_secs_f64()
            )
        };
        println!("| {} | {} | {} |", engine.name(), cells(0), cells(1));
    }
    println!(
        "\nPactum's fixed cost, the same isolated call with a plugin that does nothing: median {}, p99 {}. Stock component sha256 {stock_hash}.",
        us(floor.median),
        us(floor.p99)
    );
    if children.is_empty() {
        return;
    }
    println!(
        "\nCold start (source or bytes to the first decision) and memory (RSS growth of a fresh process over setup and the first decision; then how far its peak RSS rises above that over 1,000 + 1,000 more decisions), median of {runs} processes:\n"
    );
    println!("| engine | cold start | RSS, setup | peak RSS rise, decisions |");
    println!("|---|---|---|---|");
    for (name, cold, setup, peak) in &children {
        println!("| {name} | {:.2} ms | {:.1} MiB | {peak} KiB |", cold.as_secs_f64() * 1e3, *setup as f64 / 1024.0,);
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
    mean: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let n = samples.len();
        Stats {
            median: samples[n / 2],
            p99: samples[(n * 99 / 100).min(n - 1)],
            mean: samples.iter().sum::<Duration>() / n as u32,
        }
    }
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_nanos() as f64 / 1_000.0)
}

fn run_child(name: &str, cache: Option<&std::path::PathBuf>) -> (Duration, u64, u64) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg("--child").arg(name);
    if let Some(dir) = cache {
        cmd.arg(dir);
    }
    let out = cmd.output().expect("child runs");
    assert!(out.status.success(), "child {name}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let nanos: u64 = parts.next().and_then(|s| s.parse().ok()).expect("cold start");
    let setup: u64 = parts.next().and_then(|s| s.parse().ok()).expect("memory after setup");
    let peak: u64 = parts.next().and_then(|s| s.parse().ok()).expect("peak memory");
    (Duration::from_nanos(nanos), setup, peak)
}

/// `VmRSS` or `VmHWM` of this process, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim_start_matches(':').split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// One engine in this fresh process: prints the nanoseconds from nothing to
/// the first commission decision, then the KiB of RSS growth up to there
/// (setup), and the KiB the peak RSS grew over that during 2,000 more
/// decisions.
fn child(name: &str, cache: Option<&str>) {
    let acme = data::acme();
    let deals = data::deals(&acme);
    let leads = data::leads(&acme);
    let before = status_kib("VmRSS");
    let t = Instant::now();
    let mut engine: Box<dyn Engine> = if name == PACTUM_CACHED {
        let config = RuntimeConfig { cache_dir: cache.map(Into::into), ..RuntimeConfig::default() };
        Box::new(PactumEngine::new(config, pactum_limits(DEADLINE)).unwrap())
    } else {
        engine_by_name(name, DEADLINE).unwrap()
    };
    black_box(engine.commission(&deals[0]).unwrap());
    let cold = t.elapsed();
    let after_setup = status_kib("VmRSS");
    let setup = after_setup.saturating_sub(before);
    // Reset the peak to the current RSS (Linux: `5` into clear_refs), so
    // the peak below is that of the decisions, not of compiling.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    // Answers were checked by the parent; a limit hit here changes no memory.
    for d in &deals {
        let _ = black_box(engine.commission(d));
    }
    for l in &leads {
        let _ = black_box(engine.route(l));
    }
    let peak = status_kib("VmHWM");
    println!("{} {setup} {}", cold.as_nanos(), peak.saturating_sub(after_setup));
}
