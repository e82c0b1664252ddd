//! Import benchmark (issue 16): `cargo bench -p pactum --bench import`.
//!
//! 10,000 partners and 1,000,000 won deals (SQLite, release build) as one
//! import document, through `Service::import`: every row checked, then
//! written in one transaction. Prints the time of each part.
//!
//! `PACTUM_BENCH_DEALS` changes the count.

use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Caller, Service};
use pactum::store::Db;
use pactum::workflows::import::ImportDocument;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const OCT_15: i64 = 1_792_022_400;

#[tokio::main]
async fn main() {
    let deals: usize = std::env::var("PACTUM_BENCH_DEALS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let service = Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await.unwrap());
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    service.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();
    let admin =
        Caller { tenant: "acme".into(), role: pactum::service::Role::Admin, partner: None, key: "key:bench".into() };

    let started = Instant::now();
    let partners: Vec<serde_json::Value> = (0..10_000)
        .map(|i| {
            serde_json::json!({ "id": format!("p-{i:05}"), "name": format!("Partner {i}"), "kind": "reseller",
                                     "joined_at": OCT_15 - 400 * 86_400 })
        })
        .collect();
    let rows: Vec<serde_json::Value> = (0..deals)
        .map(|i| {
            serde_json::json!({ "id": format!("d-{i:07}"), "partner_id": format!("p-{:05}", i % 10_000),
                "account_domain": format!("account-{i}.example"), "first_year_acv": 100_000 + (i as i64 % 5_000) * 1_000,
                "currency": "USD", "source": "partner-sourced", "stage": "won", "closed_at": OCT_15 - (i as i64 % 365) * 86_400,
                "created_at": OCT_15 - 400 * 86_400 })
        })
        .collect();
    let doc: ImportDocument =
        serde_json::from_value(serde_json::json!({ "partners": partners, "deals": rows })).unwrap();
    let parsed = started.elapsed();

    let started = Instant::now();
    let report = service.import(&admin, doc, false, OCT_15).await.unwrap();
    let imported = started.elapsed();
    assert!(report.applied && report.refused_count == 0, "{:?}", report.refused);
    assert_eq!(report.imported["deals"], deals);
    println!(
        "import   10000 partners + {deals} deals: {:>6.2} s checked and written (one transaction)",
        imported.as_secs_f64()
    );
    println!("         (building and parsing the document beforehand: {:.2} s)", parsed.as_secs_f64());
}
