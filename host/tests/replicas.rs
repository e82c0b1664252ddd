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
    other.watch_bindings(every);
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

/// A `pactum serve` process, killed when dropped.
struct Serve {
    child: std::process::Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `pactum serve` on `database_url`; waits until it answers.
async fn serve(database_url: &str, recheck_ms: u64, dir: &std::path::Path) -> (Serve, String) {
    let port = free_port();
    let policies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let out = dir.join(format!("serve-{port}.out"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pactum"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
        .arg("--policies")
        .arg(&policies)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(["--bindings-recheck-ms", &recheck_ms.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let server = Serve { child, base: format!("http://127.0.0.1:{port}") };
    let client = pactum::client::ApiClient::new(&server.base, "probe").unwrap();
    for _ in 0..300 {
        if client.send("GET", "/healthz", "application/json", Vec::new()).await.is_ok() {
            return (server, std::fs::read_to_string(&out).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("pactum serve did not start");
}

async fn live_commission(base: &str, key: &str) -> String {
    let client = pactum::client::ApiClient::new(base, key).unwrap();
    let (_, program) = client.send("GET", "/v1/program", "application/json", Vec::new()).await.unwrap();
    program["plugins"]["commission"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_serve_processes_on_one_database_and_a_third_started_later() {
    let db = common::app::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let postgres = db.url.starts_with("postgres");
    // On PostgreSQL only the notification can be fast enough: its re-check
    // is a minute. SQLite has no notification: it re-checks often.
    let recheck = if postgres { 60_000 } else { 200 };
    let (first, printed) = serve(&db.url, recheck, dir.path()).await;
    let key = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("northwind").map(|k| k.trim().to_string()))
        .unwrap_or_else(|| panic!("no key printed: {printed}"));
    let (second, _) = serve(&db.url, recheck, dir.path()).await;
    let (northwind, stock) = (sha256(NORTHWIND_BYTES), sha256(STOCK_BYTES));
    assert_eq!(live_commission(&second.base, &key).await, northwind);

    let client = pactum::client::ApiClient::new(&first.base, &key).unwrap();
    let body = json!({ "plugin": stock, "reason": "replicas", "override_fixtures": true }).to_string();
    let started = Instant::now();
    let (status, change) =
        client.send("PUT", "/v1/bindings/commission", "application/json", body.into_bytes()).await.unwrap();
    assert_eq!(status, 200, "{change}");
    while live_commission(&second.base, &key).await != stock {
        assert!(started.elapsed() < Duration::from_secs(1), "the second process still serves the old plugin");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("second pactum serve follows in {:?}", started.elapsed());
    let (third, _) = serve(&db.url, recheck, dir.path()).await;
    assert_eq!(live_commission(&third.base, &key).await, stock);
    drop((first, second, third));
}

/// `SIGTERM` under load: the server stops taking connections, finishes the
/// requests in flight and the writes queued behind them, and exits 0;
/// after a restart every write it acknowledged is there, with its event.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_keeps_every_acknowledged_write() {
    let db = common::app::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut first, printed) = serve(&db.url, 200, dir.path()).await;
    let key = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("acme").map(|k| k.trim().to_string()))
        .unwrap_or_else(|| panic!("no key printed: {printed}"));
    let client = pactum::client::ApiClient::new(&first.base, &key).unwrap();
    let partner = json!({ "id": "p-1", "name": "Initech", "kind": "referral" }).to_string();
    let (status, body) = client.send("POST", "/v1/partners", "application/json", partner.into_bytes()).await.unwrap();
    assert_eq!(status, 201, "{body}");

    // Eight clients register deals back to back until the server is gone.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..8 {
        let (client, acknowledged) = (client.clone(), acknowledged.clone());
        clients.spawn(async move {
            for i in 0.. {
                let body = json!({ "partner_id": "p-1", "account_domain": format!("c{c}-{i}.com"),
                                   "account_name": "Load", "amount": { "amount": 100_000, "currency": "USD" } });
                match client.send("POST", "/v1/registrations", "application/json", body.to_string().into_bytes()).await
                {
                    Ok((201, body)) => acknowledged.lock().unwrap().push(body["id"].as_str().unwrap().to_string()),
                    Ok((status, body)) => panic!("a request in flight was answered {status}: {body}"),
                    Err(_) => return, // refused: the server has stopped listening
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before_signal = acknowledged.lock().unwrap().len();
    assert!(before_signal > 0, "no registration was acknowledged under load");
    let pid = first.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || {
        let status = first.child.wait().unwrap();
        (status, first)
    });
    let (status, first) = tokio::time::timeout(Duration::from_secs(30), status).await.expect("exits").unwrap();
    assert_eq!(status.code(), Some(0), "pactum serve exits 0 on SIGTERM");
    drop(first);
    while clients.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (second, _) = serve(&db.url, 200, dir.path()).await;
    let client = pactum::client::ApiClient::new(&second.base, &key).unwrap();
    for id in &acknowledged {
        let (status, body) =
            client.send("GET", &format!("/v1/registrations/{id}"), "application/json", Vec::new()).await.unwrap();
        assert_eq!(status, 200, "acknowledged registration {id} is missing after the restart: {body}");
    }
    // Every registration stored has its decision and its event.
    let count = |sql: &'static str| common::app::query_i64(&db.url, sql);
    let stored = count("SELECT COUNT(*) FROM registrations").await;
    assert!(stored >= acknowledged.len() as i64);
    assert_eq!(count("SELECT COUNT(*) FROM outbox WHERE event = 'registration.decided'").await, stored);
    assert_eq!(count("SELECT COUNT(*) FROM decisions WHERE hook = 'approval'").await, stored);
    eprintln!("{} registrations acknowledged ({before_signal} before SIGTERM), all present", acknowledged.len());
}
