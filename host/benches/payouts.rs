//! Payout run benchmark (issue 16): `cargo bench -p pactum --bench payouts`.
//!
//! 10,000 partners with 1,000,000 commission lines due in September 2026
//! (SQLite, release build): about 2 % of them negative (clawbacks), 1 %
//! held, 1 % disputed, and a payout minimum of $100 so that some balances
//! are carried. Prints the time of the payout run (`Service::run_payouts`:
//! one transaction that pays, sums and carries) and of its CSV export, and
//! checks that the run paid every payable line and nothing else.
//!
//! `PACTUM_BENCH_LINES` and `PACTUM_BENCH_PARTNERS` change the sizes,
//! `PACTUM_BENCH_MINIMUM` the payout minimum in cents (10,000 by default;
//! 4,800,000 carries about half the balances, the slow path).

use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Caller, Service};
use pactum::store::Db;
use pactum::workflows::NewRun;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const SEP_1: i64 = 1_788_220_800; // 2026-09-01
const DAY: i64 = 86_400;

fn size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
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

fn admin() -> Caller {
    Caller { tenant: "payco".into(), role: pactum::service::Role::Admin, partner: None, key: "key:bench".into() }
}

/// Seeds the partners and lines; returns (payable lines, their sum).
async fn seed(db: &Db, partners: usize, lines: usize) -> (i64, i64) {
    let pool = db.sqlite_pool().expect("the benchmark runs on SQLite");
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    let decision: i64 = sqlx::query_scalar(
        "INSERT INTO decisions (tenant, hook, plugin_hash, subject, event_time, outcome, record, decision, fallback, \
         created_at) VALUES ('payco', 'commission', 'bench', 'bench', 0, 'ok', '{}', '{}', 0, 0) RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    for chunk in (0..partners).collect::<Vec<_>>().chunks(1_000) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO partners (tenant, id, name, kind, tier, territories, certifications, manager, status, joined_at) ",
        );
        q.push_values(chunk, |mut b, i| {
            b.push_bind("payco")
                .push_bind(format!("p-{i:05}"))
                .push_bind(format!("Partner {i}"))
                .push_bind("referral")
                .push_bind("registered")
                .push_bind("[]")
                .push_bind("[]")
                .push_bind(None::<String>)
                .push_bind("active")
                .push_bind(SEP_1 - 400 * DAY);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut payable, mut sum) = (0i64, 0i64);
    for start in (0..lines).step_by(1_000) {
        let rows: Vec<(usize, u64)> = (start..(start + 1_000).min(lines)).map(|i| (i, rng.next())).collect();
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO commission_lines (tenant, deal_id, partner_id, kind, amount, currency, rate_bps, description, \
             status, due_at, decision_id, created_at) ",
        );
        q.push_values(rows, |mut b, (i, r)| {
            let negative = r % 50 == 0;
            let amount = ((r >> 8) % 100_000) as i64 + 1;
            let status = match r % 100 {
                1 => "held",
                2 => "disputed",
                _ => "pending",
            };
            if status == "pending" {
                payable += 1;
                sum += if negative { -amount } else { amount };
            }
            b.push_bind("payco")
                .push_bind(format!("d-{i:07}"))
                .push_bind(format!("p-{:05}", (r >> 32) as usize % partners))
                .push_bind(if negative { "clawback" } else { "fee" })
                .push_bind(if negative { -amount } else { amount })
                .push_bind("USD")
                .push_bind(1500i64)
                .push_bind("bench")
                .push_bind(status)
                .push_bind(SEP_1 + ((r >> 16) % 30) as i64 * DAY)
                .push_bind(decision)
                .push_bind(SEP_1);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    eprintln!("  seeded {partners} partners and {lines} lines in {:.1} s", started.elapsed().as_secs_f64());
    (payable, sum)
}

#[tokio::main]
async fn main() {
    let partners = size("PACTUM_BENCH_PARTNERS", 10_000);
    let lines = size("PACTUM_BENCH_LINES", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::open(&url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let service = Arc::new(Service::open(db.clone(), runtime, Arc::new(Metrics::default())).await.unwrap());
    let program = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/acme/policy.toml"))
        .unwrap()
        .replace("slug = \"acme\"", "slug = \"payco\"")
        + &format!("\npayout-minimum = {{ amount = {}, currency = \"USD\" }}\n", size("PACTUM_BENCH_MINIMUM", 10_000));
    service
        .create_tenant(&program, Path::new("payco/policy.toml"), |name| pactum::bundled_plugin(Path::new("."), name))
        .await
        .unwrap();
    let (payable, sum) = seed(&db, partners, lines).await;

    let started = Instant::now();
    let run = service.run_payouts(&admin(), NewRun { period: "2026-09".into(), reference: None }).await.unwrap();
    let ran = started.elapsed();
    let started = Instant::now();
    let csv = service.payout_csv(&admin(), run.id).await.unwrap();
    let exported = started.elapsed();

    let carried: i64 = run.summary.carried.iter().map(|c| c.amount).sum();
    let carried_lines: i64 = run.summary.carried.iter().map(|c| c.lines).sum();
    assert_eq!(run.summary.lines + carried_lines, payable, "every payable line is paid or carried");
    assert_eq!(run.summary.totals["USD"] + carried, sum, "paid plus carried is what was payable");
    assert_eq!(csv.lines().count() as i64, run.summary.payouts + 1);
    println!(
        "payout run   {partners} partners, {lines} lines: {:>7.2} s  ({} payouts, {} lines paid, {} balances carried)",
        ran.as_secs_f64(),
        run.summary.payouts,
        run.summary.lines,
        run.summary.carried.len()
    );
    println!("csv export   {} rows: {:>7.3} s", run.summary.payouts, exported.as_secs_f64());
}
