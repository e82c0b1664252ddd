//! Lifecycle benchmark: `cargo bench -p pactum --bench lifecycle`.
//!
//! 1. Backtest: 100,000 recorded commission decisions (real records: each
//!    input run through the stock plugin once, stored as the decision log
//!    stores them) replayed through a candidate, SQLite, release build.
//! 2. Activation: the time from the activation request to the first call
//!    on the new plugin, on the same replica and on a second replica of the
//!    same database (SQLite: its periodic re-check; with
//!    `PACTUM_BENCH_POSTGRES_URL` set, also PostgreSQL's LISTEN/NOTIFY).

use pactum::metrics::Metrics;
use pactum::program::Program;
use pactum::runtime::hooks::Commission;
use pactum::runtime::types::*;
use pactum::runtime::{HookKind, Runtime, RuntimeConfig};
use pactum::service::{Caller, Service};
use pactum::store::Db;
use pactum::workflows::lifecycle::FixturePolicy;
use pactum_plugin_artifacts::{NORTHWIND_BYTES, STOCK_BYTES};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DECISIONS: usize = 100_000;
const T: i64 = 1_795_651_200; // 2026-11-26

async fn service(url: &str) -> Arc<Service> {
    let db = Db::open(url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await.unwrap())
}

fn admin(tenant: &str) -> Caller {
    Caller { tenant: tenant.into(), role: pactum::service::Role::Admin, partner: None, key: "key:bench".into() }
}

fn usd(amount: i64) -> Money {
    Money { amount, currency: "USD".into() }
}

/// 100,000 real decision-log rows for Acme's commission hook.
async fn record_history(service: &Service, runtime: &Runtime) {
    let started = Instant::now();
    let program = Program::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/acme")).unwrap();
    let stock = runtime.load(STOCK_BYTES).unwrap();
    let pool = service.db().sqlite_pool().expect("the benchmark history goes to SQLite");
    let mut tx = pool.begin().await.unwrap();
    for start in (0..DECISIONS).step_by(1_000) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO decisions (tenant, hook, plugin_hash, subject, event_time, outcome, record, decision, fallback, created_at) ",
        );
        let rows: Vec<_> = (start..start + 1_000)
            .map(|i| {
                let kind = [PartnerKind::Referral, PartnerKind::Reseller, PartnerKind::Strategic][i % 3];
                let input = CommissionInput {
                    context: program.context(T),
                    event: CommissionEvent::Won,
                    deal: Deal {
                        id: format!("d-{i}"),
                        first_year_acv: usd(1_000_000 + (i as i64 * 7_919) % 50_000_000),
                        services: usd(0),
                        source: DealSource::PartnerSourced,
                        closed_at: T,
                    },
                    partner: Partner {
                        id: format!("p-{}", i % 1_000),
                        name: "Partner".into(),
                        kind,
                        tier: Tier::Silver,
                        territories: vec![],
                        certifications: vec![],
                        active: true,
                    },
                    prior_lines: vec![],
                    quarter_to_date: usd(0),
                };
                let record = runtime.call::<Commission>(&stock, &program.limits, input);
                (i, record.to_json().to_string(), record.result_json()["ok"].to_string())
            })
            .collect();
        q.push_values(rows, |mut b, (i, record, decision)| {
            b.push_bind("acme")
                .push_bind("commission")
                .push_bind(stock.hash().to_hex())
                .push_bind(format!("d-{i}"))
                .push_bind(T)
                .push_bind("ok")
                .push_bind(record)
                .push_bind(decision)
                .push_bind(false)
                .push_bind(T);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    eprintln!("  recorded {DECISIONS} commission decisions in {:.1} s", started.elapsed().as_secs_f64());
}

async fn activation(url: &str, label: &str, recheck: Duration) {
    let (one, two) = (service(url).await, service(url).await);
    two.watch_bindings(recheck);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let caller = admin("northwind");
    let hashes = [
        pactum::runtime::PluginHash::of(STOCK_BYTES).to_hex(),
        pactum::runtime::PluginHash::of(NORTHWIND_BYTES).to_hex(),
    ];
    let mut same = Vec::new();
    let mut other = Vec::new();
    for round in 0..20 {
        let to = &hashes[round % 2];
        let started = Instant::now();
        let done = one.activate(&caller, HookKind::Commission, to, "bench", FixturePolicy::Override).await.unwrap();
        assert!(matches!(done, pactum::workflows::lifecycle::Activation::Live(_)));
        // The next call on this replica uses the new plugin.
        assert_eq!(&one.tenant("northwind").unwrap().plugins[&HookKind::Commission].hash().to_hex(), to);
        same.push(started.elapsed());
        while &two.tenant("northwind").unwrap().plugins[&HookKind::Commission].hash().to_hex() != to {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        other.push(started.elapsed());
    }
    same.sort();
    other.sort();
    println!(
        "activation to first call ({label}): same replica median {:.2} ms (max {:.2} ms); second replica median {:.1} ms (max {:.1} ms)",
        same[same.len() / 2].as_secs_f64() * 1e3,
        same.last().unwrap().as_secs_f64() * 1e3,
        other[other.len() / 2].as_secs_f64() * 1e3,
        other.last().unwrap().as_secs_f64() * 1e3,
    );
}

/// The live decision's latency without a shadow and with one (the stock
/// plugin shadowing itself), interleaved in rounds so noise hits both alike.
async fn shadow_overhead(service: &Service) {
    let caller = admin("acme");
    let stock = pactum::runtime::PluginHash::of(STOCK_BYTES).to_hex();
    let input = serde_json::json!({
        "event": "won",
        "deal": { "id": "d-1", "first_year_acv": { "amount": 12_000_000, "currency": "USD" },
                  "services": { "amount": 0, "currency": "USD" }, "source": "partner-sourced", "closed_at": T },
        "partner": { "id": "p-1", "name": "P", "kind": "referral", "tier": "silver", "territories": [],
                     "certifications": [], "active": true },
        "prior_lines": [], "quarter_to_date": { "amount": 0, "currency": "USD" }
    });
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..10 {
        let shadowed = round % 2 == 1;
        if shadowed {
            service.start_shadow(&caller, HookKind::Commission, &stock).await.unwrap();
        } else if round > 0 {
            service.stop_shadow(&caller, HookKind::Commission).await.unwrap();
        }
        for _ in 0..300 {
            let started = Instant::now();
            service.decide("acme", HookKind::Commission, T, input.clone()).await.unwrap();
            let took = started.elapsed();
            if shadowed { with.push(took) } else { without.push(took) }
        }
        // Let the background shadow calls drain before the next round.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (name, samples) in [("without a shadow", &mut without), ("with a shadow", &mut with)] {
        samples.sort();
        println!(
            "  live decision {name:<18} median {:>7.1} µs  p99 {:>7.1} µs  ({} decisions)",
            samples[samples.len() / 2].as_secs_f64() * 1e6,
            samples[samples.len() * 99 / 100].as_secs_f64() * 1e6,
            samples.len()
        );
    }
    let report = service.shadow_report(&caller, HookKind::Commission).await.unwrap();
    println!("  shadow agreement (stock shadowing itself): {} of {} runs", report.agreed, report.runs);
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let first = service(&url).await;
    first.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();

    println!("Backtest, {DECISIONS} recorded commission decisions (SQLite):");
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    record_history(&first, &runtime).await;
    for (name, bytes) in
        [("stock (the recorded plugin)", STOCK_BYTES), ("northwind (fails on Acme's params)", NORTHWIND_BYTES)]
    {
        let candidate = first.runtime().load(bytes).unwrap();
        let started = Instant::now();
        let report = first.backtest("acme", HookKind::Commission, T - 1, T + 1, candidate, &|_, _| {}).await.unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "backtest through {name:<36} {} decisions, {} changed, in {elapsed:.2} s ({:.0} decisions/s)",
            report.decisions,
            report.changed,
            report.decisions as f64 / elapsed
        );
    }

    println!("\nShadow: live commission decisions (decide + record), one at a time:");
    shadow_overhead(&first).await;

    println!("\nActivation (20 swaps back and forth):");
    activation(&url, "SQLite, second replica re-checks every 100 ms", Duration::from_millis(100)).await;
    if let Ok(pg) = std::env::var("PACTUM_BENCH_POSTGRES_URL") {
        let schema = format!("pactum_bench_{}", std::process::id());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
        let url = format!("{pg}{}options[search_path]={schema}", if pg.contains('?') { '&' } else { '?' });
        service(&url).await.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();
        activation(&url, "PostgreSQL, LISTEN/NOTIFY, re-check every 60 s", Duration::from_secs(60)).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await.unwrap();
    }
}
