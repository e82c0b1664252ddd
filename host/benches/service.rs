//! Service benchmark: `cargo bench -p pactum --bench service`.
//!
//! 1. The monthly scorecard for 10,000 partners over 1,000,000 deals
//!    (SQLite, release build): the time of `run_scorecards`.
//! 2. Deal registrations and lead routings per second through the service
//!    (workflow + hook + SQLite), 32 concurrent tasks, in process. The
//!    HTTP figures with a real load generator come from `bench/load.sh`.
//!
//! `PACTUM_BENCH_SKIP_SCORECARD=1` runs part 2 alone.

use pactum::metrics::Metrics;
use pactum::runtime::types::Money;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Caller, Service};
use pactum::store::Db;
use pactum::workflows::{NewLead, NewRegistration};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PARTNERS: usize = 10_000;
const DEALS: usize = 1_000_000;
const OCT_1: i64 = 1_790_812_800; // 2026-10-01
const DAY: i64 = 86_400;

async fn service(dir: &Path) -> (Arc<Service>, Db) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let db = Db::open(&url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let service = Arc::new(Service::open(db.clone(), runtime, Arc::new(Metrics::default())).await.unwrap());
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    service.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();
    (service, db)
}

fn admin() -> Caller {
    Caller { tenant: "acme".into(), role: pactum::service::Role::Admin, partner: None, key: "key:bench".into() }
}

/// A cheap deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

async fn seed(db: &Db) {
    let pool = db.sqlite_pool().expect("the benchmark runs on SQLite");
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for chunk in (0..PARTNERS).collect::<Vec<_>>().chunks(1_000) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO partners (tenant, id, name, kind, tier, territories, certifications, manager, status, joined_at) ",
        );
        q.push_values(chunk, |mut b, i| {
            let kind = ["referral", "reseller", "technology", "strategic", "implementation"][i % 5];
            b.push_bind("acme")
                .push_bind(format!("p-{i:05}"))
                .push_bind(format!("Partner {i}"))
                .push_bind(kind)
                .push_bind("registered")
                .push_bind("[]")
                .push_bind(if i % 3 == 0 { r#"[{"name":"sales","expires_at":null}]"# } else { "[]" })
                .push_bind(None::<String>)
                .push_bind("active")
                .push_bind(OCT_1 - 400 * DAY);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for start in (0..DEALS).step_by(2_000) {
        let rows: Vec<(usize, u64)> = (start..(start + 2_000).min(DEALS)).map(|i| (i, rng.next())).collect();
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO deals (tenant, id, partner_id, account_domain, first_year_acv, services, currency, source, stage, refunded, closed_at, created_at) ",
        );
        q.push_values(rows, |mut b, (i, r)| {
            let stage = if r % 4 == 0 { "lost" } else { "won" };
            let closed = OCT_1 - (r % 400) as i64 * DAY; // spread over 13 months before the period's end
            b.push_bind("acme")
                .push_bind(format!("d-{i:07}"))
                .push_bind(format!("p-{:05}", (r >> 8) as usize % PARTNERS))
                .push_bind(format!("account-{i}.com"))
                .push_bind(((r >> 20) % 5_000_000) as i64 * 10 + 100_000)
                .push_bind(0i64)
                .push_bind("USD")
                .push_bind("partner-sourced")
                .push_bind(stage)
                .push_bind(0i64)
                .push_bind(closed + 30 * DAY)
                .push_bind(closed);
        });
        q.build().execute(&mut *tx).await.unwrap();
        if start % 200_000 == 0 {
            eprintln!("  seeding deals: {start}/{DEALS}");
        }
    }
    tx.commit().await.unwrap();
    eprintln!("  seeded {PARTNERS} partners and {DEALS} deals in {:.1} s", started.elapsed().as_secs_f64());
}

fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

async fn throughput<F, Fut>(name: &str, total: usize, make: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let make = Arc::new(make);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..32 {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in (t..total).step_by(32) {
                let s = Instant::now();
                make(i).await;
                samples.push(s.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let p50 = percentile(&mut samples, 50);
    let p99 = percentile(&mut samples, 99);
    println!(
        "{name:<24} {:>8.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({total} in {:.2} s)",
        total as f64 / elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        elapsed.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    // Phase timings of the scorecard run come as a tracing event.
    tracing_subscriber::fmt().with_env_filter("pactum::workflows=info").init();
    let dir = tempfile::tempdir().unwrap();
    let (service, db) = service(dir.path()).await;

    println!("Workflows through the service (in process, 32 concurrent tasks, SQLite):");
    let caller = admin();
    let s = service.clone();
    let c = caller.clone();
    service
        .create_partner(
            &caller,
            serde_json::from_value(
                serde_json::json!({ "id": "bench", "name": "Bench", "kind": "referral", "territories": ["emea"] }),
            )
            .unwrap(),
            OCT_1,
        )
        .await
        .unwrap();
    throughput("deal registrations", 20_000, move |i| {
        let (s, c) = (s.clone(), c.clone());
        async move {
            let new = NewRegistration {
                partner_id: "bench".into(),
                account_domain: format!("account-{}.com", i % 5_000),
                account_name: "Account".into(),
                industry: Some("software".into()),
                employees: Some(400),
                country: Some("US".into()),
                amount: Money { amount: 12_000_000, currency: "USD".into() },
                expected_close: None,
            };
            s.register_deal(&c, new, OCT_1).await.unwrap();
        }
    })
    .await;
    let s = service.clone();
    let c = caller.clone();
    throughput("lead routings", 20_000, move |i| {
        let (s, c) = (s.clone(), c.clone());
        async move {
            let new = NewLead {
                account_domain: format!("lead-{}.com", i % 7_000),
                account_name: None,
                contact_email: None,
                country: Some("DE".into()),
                region: Some(if i % 2 == 0 { "emea" } else { "apac" }.into()),
                industry: None,
                source: "webinar".into(),
            };
            s.route_lead(&c, new, OCT_1).await.unwrap();
        }
    })
    .await;

    if std::env::var_os("PACTUM_BENCH_SKIP_SCORECARD").is_some() {
        return;
    }
    println!("\nMonthly scorecard, {PARTNERS} partners over {DEALS} deals:");
    seed(&db).await;
    let started = Instant::now();
    let cards = service.run_scorecards(&caller, "2026-09").await.unwrap();
    let elapsed = started.elapsed();
    let promoted = cards.iter().filter(|c| c.change == "promote").count();
    println!(
        "run_scorecards(2026-09): {} scorecards in {:.2} s ({promoted} promotions)",
        cards.len(),
        elapsed.as_secs_f64()
    );
}
