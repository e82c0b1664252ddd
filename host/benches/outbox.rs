//! Outbox delivery benchmark (issue 18): `cargo bench -p pactum --bench outbox`.
//!
//! 20,000 events queued for one company whose webhook is a local receiver
//! (an in-process HTTP server that answers 200 and counts each event id),
//! then delivered by courier passes run back to back (`deliver_due`, as
//! `pactum serve` runs every 2 s): events per second with one replica, then
//! with two replicas (two services on the same database, passes in
//! parallel). Checks that every event arrived exactly once.
//!
//! `PACTUM_BENCH_EVENTS` changes the count; `PACTUM_BENCH_DATABASE_URL`
//! (a `postgres://` URL) runs on PostgreSQL, in a schema of its own that is
//! dropped at the end (the default: a SQLite file).

use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Caller, Service};
use pactum::store::Db;
use sqlx::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn admin() -> Caller {
    Caller { tenant: "acme".into(), role: pactum::service::Role::Admin, partner: None, key: "key:bench".into() }
}

type Seen = Arc<Mutex<HashMap<i64, u32>>>;

/// A webhook receiver on 127.0.0.1 that counts each event id it gets.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let counted = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let counted = counted.clone();
            async move {
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if let Some(id) = event["id"].as_i64() {
                    *counted.lock().unwrap().entry(id).or_default() += 1;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());
    (url, seen)
}

async fn open(url: &str) -> Arc<Service> {
    let db = Db::open(url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await.unwrap())
}

/// Queues `n` events for acme, each a registration-sized payload.
async fn queue(service: &Service, n: usize) {
    let payload = serde_json::json!({
        "id": "r-0123456789abcdef", "partner_id": "p-1", "account_domain": "globex.com", "amount": 12_000_000,
        "currency": "USD", "status": "approved", "protected_until": 1_800_000_000, "reason": "Approved: in the ICP",
    })
    .to_string();
    let now = pactum::service::now();
    const SQL: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST($1 AS BIGINT)) \
        INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) \
        SELECT 'acme', 'registration.decided', $2, $3, $3 FROM n";
    let db = service.db();
    let count = n as i64;
    if let Some(pool) = db.sqlite_pool() {
        sqlx::query(SQL).bind(count).bind(&payload).bind(now).execute(pool).await.unwrap();
    } else if let Some(pool) = db.postgres_pool() {
        sqlx::query(SQL).bind(count).bind(&payload).bind(now).execute(pool).await.unwrap();
    }
}

/// Courier passes on `replicas` until `n` events were delivered; returns
/// the seconds it took.
async fn deliver(replicas: &[Arc<Service>], n: usize) -> f64 {
    let started = Instant::now();
    let delivered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for service in replicas {
        let (service, delivered) = (service.clone(), delivered.clone());
        tasks.push(tokio::spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            while delivered.load(Relaxed) < n {
                let report = service.deliver_due(pactum::service::now()).await.unwrap();
                assert_eq!(report.failed, 0, "a delivery failed");
                delivered.fetch_add(report.delivered, Relaxed);
                if report.delivered == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("PACTUM_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let (url, schema) = match std::env::var("PACTUM_BENCH_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let schema = format!("pactum_bench_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
            let separator = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{separator}options[search_path]={schema}"), Some((base, schema)))
        }
        _ => (format!("sqlite://{}", dir.path().join("bench.db").display()), None),
    };
    let one = open(&url).await;
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    one.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();
    let (hook, seen) = receiver().await;
    one.set_webhook(&admin(), &hook, "bench-secret-bench-secret").await.unwrap();
    let two = open(&url).await;

    println!(
        "outbox delivery to a local receiver, {n} events ({}):",
        if schema.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    for replicas in [vec![one.clone()], vec![one.clone(), two.clone()]] {
        seen.lock().unwrap().clear();
        queue(&one, n).await;
        let seconds = deliver(&replicas, n).await;
        let seen = seen.lock().unwrap();
        let twice = seen.values().filter(|&&c| c > 1).count();
        assert_eq!(seen.len(), n, "every event arrives");
        println!(
            "  {} replica{}: {:>6.0} events/s ({n} in {seconds:.2} s), {twice} delivered more than once",
            replicas.len(),
            if replicas.len() == 1 { " " } else { "s" },
            n as f64 / seconds
        );
    }
    if let Some((base, schema)) = schema {
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await.unwrap();
    }
}
