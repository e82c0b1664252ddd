//! Several service processes on one database (replicas): an activation
//! made through one reaches the others (PostgreSQL: LISTEN/NOTIFY within a
//! second, with a periodic re-check behind it), and a replica started later
//! serves the live bindings. On SQLite the same code path runs on the
//! re-check alone.

mod common;

use axum::http::StatusCode;
use common::app::app;
use pactum::metrics::Metrics;
use pactum::runtime::{HookKind, Runtime, RuntimeConfig};
use pactum::service::Service;
use pactum::store::Db;
use pactum_plugin_artifacts::{NORTHWIND_BYTES, STOCK_BYTES};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

async fn replica(url: &str) -> Arc<Service> {
    let db = Db::open(url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await.unwrap())
}

fn commission(service: &Service) -> String {
    service.tenant("northwind").unwrap().plugins[&HookKind::Commission].hash().to_hex()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activation_reaches_every_replica() {
    let app = app().await;
    let other = replica(&app.database_url).await;
    // The re-check interval: what a missed notification costs at most. On
    // PostgreSQL it is longer than the test, so only the notification can
    // bring the change in time.
    let postgres = app.database_url.starts_with("postgres");
    let every = if postgres { Duration::from_secs(60) } else { Duration::from_millis(250) };
    let _watching = other.watch_bindings(every);
    tokio::time::sleep(Duration::from_millis(100)).await; // the listener is up
    let (northwind, stock) = (sha256(NORTHWIND_BYTES), sha256(STOCK_BYTES));
    assert_eq!(commission(&other), northwind);

    let admin = app.key("northwind").to_string();
    let body = json!({ "plugin": stock, "reason": "replica test", "override_fixtures": true });
    let started = Instant::now();
    let (status, change) = app.send("PUT", "/v1/bindings/commission", Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{change}");
    while commission(&other) != stock {
        assert!(started.elapsed() < Duration::from_secs(1), "the other replica still serves the old plugin");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("{} replica follows in {:?}", if postgres { "postgres" } else { "sqlite" }, started.elapsed());

    // A replica started afterwards serves the live binding.
    let late = replica(&app.database_url).await;
    assert_eq!(commission(&late), stock);

    // A rollback travels the same way.
    let (status, _) =
        app.send("POST", "/v1/bindings/commission/rollback", Some(&admin), Some(json!({ "reason": "back" }))).await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    while commission(&other) != northwind {
        assert!(started.elapsed() < Duration::from_secs(1), "the rollback did not reach the other replica");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Nothing changed: a re-check changes nothing.
    assert_eq!(other.refresh().await.unwrap(), 0);
}
