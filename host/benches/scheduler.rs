//! Scheduler benchmark (issue 16): `cargo bench -p pactum --bench scheduler`.
//!
//! Lead routing latency through the service (in process, 32 concurrent
//! tasks, SQLite, a scheduler pass every second as `pactum serve` runs one
//! every five) with no pending lead offers, then with 1,000,000 pending
//! offers (timers not yet due) in the database: p50 and p99 side by side,
//! in one run. Then one scheduler pass that finds 10,000 of them due.
//!
//! `PACTUM_BENCH_TIMERS` and `PACTUM_BENCH_LEADS` change the sizes.

use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Caller, Service};
use pactum::store::Db;
use pactum::workflows::NewLead;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn admin() -> Caller {
    Caller { tenant: "acme".into(), role: pactum::service::Role::Admin, partner: None, key: "key:bench".into() }
}

fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

/// Routes `total` leads from 32 tasks; returns (per second, p50, p99).
async fn route(service: &Arc<Service>, round: usize, total: usize) -> (f64, Duration, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..32 {
        let service = service.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in (t..total).step_by(32) {
                let new = NewLead {
                    account_domain: format!("lead-{round}-{i}.com"),
                    account_name: None,
                    contact_email: None,
                    country: Some("DE".into()),
                    region: Some(if i % 2 == 0 { "emea" } else { "apac" }.into()),
                    industry: None,
                    source: "webinar".into(),
                };
                let s = Instant::now();
                service.route_lead(&admin(), new, pactum::service::now()).await.unwrap();
                samples.push(s.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    (rate, percentile(&mut samples, 50), percentile(&mut samples, 99))
}

/// Seeds `timers` offered leads whose offers run out over the next 48
/// hours.
async fn seed(db: &Db, timers: usize) {
    let pool = db.sqlite_pool().expect("the benchmark runs on SQLite");
    let started = Instant::now();
    let now = pactum::service::now();
    let mut tx = pool.begin().await.unwrap();
    let decision: i64 = sqlx::query_scalar(
        "INSERT INTO decisions (tenant, hook, plugin_hash, subject, event_time, outcome, record, decision, fallback, \
         created_at) VALUES ('acme', 'routing', 'bench', 'bench', 0, 'ok', '{}', '{}', 0, 0) RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    for start in (0..timers).step_by(1_000) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO leads (tenant, id, account_domain, source, destination, partner_id, reason, attribution, \
             decision_id, created_at, status, respond_by, offered_at, tried) ",
        );
        q.push_values(start..(start + 1_000).min(timers), |mut b, i| {
            let respond_by = now + 3_600 + (i as i64 * 7) % (47 * 3_600);
            b.push_bind("acme")
                .push_bind(format!("timer-{i:07}"))
                .push_bind(format!("timer-{i}.com"))
                .push_bind("bench")
                .push_bind("partner")
                .push_bind("bench")
                .push_bind("bench")
                .push_bind("partner-territory")
                .push_bind(decision)
                .push_bind(now - 3_600)
                .push_bind("offered")
                .push_bind(respond_by)
                .push_bind(now - 3_600)
                .push_bind("[]");
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    eprintln!("  seeded {timers} pending offers in {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::main]
async fn main() {
    let timers = size("PACTUM_BENCH_TIMERS", 1_000_000);
    let leads = size("PACTUM_BENCH_LEADS", 20_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::open(&url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let service = Arc::new(Service::open(db.clone(), runtime, Arc::new(Metrics::default())).await.unwrap());
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    service.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();
    let partner = serde_json::json!({ "id": "bench", "name": "Bench", "kind": "referral", "territories": ["emea"] });
    service.create_partner(&admin(), serde_json::from_value(partner).unwrap(), 0).await.unwrap();
    // The scheduler, as `pactum serve` runs it (every 5 s there; every
    // second here, to weigh more), until the latency rounds are done.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scheduler = {
        let (service, stop) = (service.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                service.fire_due(pactum::service::now(), pactum::scheduler::OFFERS_PER_PASS).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };

    // Warm-up, then each state in turn.
    route(&service, 0, 2_000).await;
    let (rate, p50, p99) = route(&service, 1, leads).await;
    let before = (rate, p50, p99);
    seed(&db, timers).await;
    route(&service, 2, 2_000).await;
    let (rate, p50, p99_after) = route(&service, 3, leads).await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("lead routing, 32 tasks, {leads} leads, scheduler pass every second:");
    println!(
        "  no pending offers        {:>7.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        before.0,
        ms(before.1),
        ms(before.2)
    );
    println!("  {timers:>9} pending offers {rate:>7.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms", ms(p50), ms(p99_after));
    println!("  p99 ratio: {:.2}", p99_after.as_secs_f64() / before.2.as_secs_f64());

    // Passes that find 10,000 offers due.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    scheduler.await.unwrap();
    let pool = db.sqlite_pool().unwrap();
    sqlx::query("UPDATE leads SET respond_by = respond_by - 200000 WHERE id IN (SELECT id FROM leads WHERE id LIKE 'timer-%' ORDER BY id LIMIT 10000)")
        .execute(pool)
        .await
        .unwrap();
    let started = Instant::now();
    let mut fired = 0;
    loop {
        let pass = service.fire_due(pactum::service::now(), pactum::scheduler::OFFERS_PER_PASS).await.unwrap();
        fired += pass.leads_rerouted;
        if pass.leads_rerouted == 0 {
            break;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "scheduler: {fired} due offers routed again in {:.2} s ({:.0} /s), with {timers} pending",
        elapsed.as_secs_f64(),
        fired as f64 / elapsed.as_secs_f64()
    );
}
