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
    serve_with(database_url, recheck_ms, dir, &[]).await
}

/// [`serve`] with more environment variables (its options' `PACTUM_*`).
async fn serve_with(
    database_url: &str,
    recheck_ms: u64,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (Serve, String) {
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
        .envs(env.iter().copied())
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

/// One POST of the kill -9 load, with its Idempotency-Key, and what it got.
#[derive(Debug, Clone)]
struct Sent {
    path: String,
    body: String,
    idempotency_key: String,
    /// The first answer, when one came (the connection may die first).
    answer: Option<(u16, serde_json::Value)>,
}

/// POSTs `body` to `base` + `path` with an `Idempotency-Key`; the status,
/// whether the answer is a replay, and the body.
async fn post_idempotent(
    http: &pactum::notify::HttpClient,
    base: &str,
    key: &str,
    path: &str,
    body: &str,
    idempotency_key: &str,
) -> Result<(u16, bool, serde_json::Value), String> {
    use http_body_util::BodyExt;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .header("idempotency-key", idempotency_key)
        .body(http_body_util::Full::new(axum::body::Bytes::from(body.to_string())))
        .unwrap();
    let response = http.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, replayed, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
}

/// A webhook receiver on a local port answering 200: the `Pactum-Event-Id`
/// of every post, duplicates included.
async fn event_receiver() -> (String, Arc<std::sync::Mutex<Vec<i64>>>) {
    use axum::http::HeaderMap;
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let state = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let got = state.clone();
            async move {
                let id =
                    headers.get("pactum-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
                got.lock().unwrap().extend(id);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// `kill -9` under load: registrations, leads and deals won, each POST with
/// an `Idempotency-Key`, from concurrent clients, and the process killed
/// without warning in the middle. After a restart on the same database:
/// every acknowledged write is there with its decision and its event; no
/// deal is paid twice; every request retried with its key succeeds (the
/// first answer replayed, or run afresh if it never finished), never stuck
/// behind a claim past the lease; and every event reaches the webhook.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_under_load_loses_no_acknowledged_write_and_pays_once() {
    const CLIENTS: usize = 6;
    const ROUNDS: usize = 150; // each round: a registration, a lead, a deal created and won
    const LEASE_S: u64 = 2;
    let db = common::app::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let lease = LEASE_S.to_string();
    let env = [("PACTUM_IDEMPOTENCY_LEASE_S", lease.as_str()), ("PACTUM_DELIVERY_LEASE_S", lease.as_str())];
    let (mut first, printed) = serve_with(&db.url, 200, dir.path(), &env).await;
    let key = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("acme").map(|k| k.trim().to_string()))
        .unwrap_or_else(|| panic!("no key printed: {printed}"));
    let http = pactum::notify::http_client(None).unwrap();
    let (webhook, received) = event_receiver().await;
    let setup =
        [("/v1/partners", json!({ "id": "p-1", "name": "Initech", "kind": "Referral", "territories": ["emea"] }))];
    for (path, body) in setup {
        let (status, _, answer) =
            post_idempotent(&http, &first.base, &key, path, &body.to_string(), "setup-partner").await.unwrap();
        assert_eq!(status, 201, "{answer}");
    }
    let client = pactum::client::ApiClient::new(&first.base, &key).unwrap();
    let hook = json!({ "url": webhook, "secret": "whsec-0123456789abcdef" }).to_string();
    let (status, answer) = client.send("PUT", "/v1/webhook", "application/json", hook.into_bytes()).await.unwrap();
    assert_eq!(status, 200, "{answer}");

    // The load: each client's requests in order, with their answers.
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acknowledged = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (http, base, key) = (http.clone(), first.base.clone(), key.clone());
        let (finished, acknowledged) = (finished.clone(), acknowledged.clone());
        clients.spawn(async move {
            let mut sent: Vec<Sent> = Vec::new();
            'rounds: for i in 0..ROUNDS {
                let usd = |amount: i64| json!({ "amount": amount, "currency": "USD" });
                let round = [
                    ("/v1/registrations".to_string(),
                     json!({ "partner_id": "p-1", "account_domain": format!("r{c}-{i}.com"), "account_name": "Load",
                             "amount": usd(100_000) })),
                    ("/v1/leads".to_string(), json!({ "account_domain": format!("l{c}-{i}.com"), "source": "load" })),
                    ("/v1/deals".to_string(),
                     json!({ "id": format!("d{c}-{i}"), "partner_id": "p-1", "account_domain": format!("d{c}-{i}.com"),
                             "first_year_acv": usd(1_000_000), "source": "PartnerSourced" })),
                    (format!("/v1/deals/d{c}-{i}/won"), json!({ "closed_at": 1_795_651_200 })),
                ];
                for (n, (path, body)) in round.into_iter().enumerate() {
                    let idempotency_key = format!("k{c}-{i}-{n}");
                    let body = body.to_string();
                    let answer = post_idempotent(&http, &base, &key, &path, &body, &idempotency_key).await.ok();
                    let (status, _, _) = answer.clone().unwrap_or((0, false, serde_json::Value::Null));
                    let lost = answer.is_none();
                    if (200..300).contains(&status) {
                        acknowledged.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    sent.push(Sent { path, body, idempotency_key, answer: answer.map(|(s, _, b)| (s, b)) });
                    if lost {
                        break 'rounds; // the server is gone
                    }
                }
            }
            finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            sent
        });
    }
    // Kill once a good share of the load is acknowledged, with every
    // client still sending.
    let started = Instant::now();
    while acknowledged.load(std::sync::atomic::Ordering::Relaxed) < CLIENTS * 40 {
        assert!(started.elapsed() < Duration::from_secs(120), "the load made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(finished.load(std::sync::atomic::Ordering::SeqCst), 0, "a client finished before the kill");
    first.child.kill().unwrap(); // SIGKILL
    let killed = first.child.wait().unwrap();
    assert_eq!(killed.code(), None, "killed by a signal, not exited");
    drop(first);
    let mut sent = Vec::new();
    while let Some(client) = clients.join_next().await {
        sent.push(client.unwrap());
    }
    let all: Vec<&Sent> = sent.iter().flatten().collect();
    let acked: Vec<&Sent> =
        all.iter().copied().filter(|s| s.answer.as_ref().is_some_and(|(st, _)| (200..300).contains(st))).collect();
    let unanswered = all.iter().filter(|s| s.answer.is_none()).count();
    let refused: Vec<_> =
        all.iter().filter_map(|s| s.answer.as_ref().filter(|(st, _)| !(200..300).contains(st))).collect();
    assert!(refused.is_empty(), "requests refused under load: {refused:?}");

    let (second, _) = serve_with(&db.url, 200, dir.path(), &env).await;
    let client = pactum::client::ApiClient::new(&second.base, &key).unwrap();
    let count = |sql: String| {
        let url = db.url.clone();
        async move { common::app::query_i64(&url, &sql).await }
    };

    // Every acknowledged write is there, as acknowledged.
    for s in &acked {
        let (_, first_answer) = s.answer.as_ref().unwrap();
        let read = match s.path.as_str() {
            "/v1/registrations" => format!("/v1/registrations/{}", first_answer["id"].as_str().unwrap()),
            "/v1/leads" => format!("/v1/leads/{}", first_answer["id"].as_str().unwrap()),
            "/v1/deals" => format!("/v1/deals/{}", first_answer["id"].as_str().unwrap()),
            won => won.strip_suffix("/won").unwrap().to_string(),
        };
        let (status, body) = client.send("GET", &read, "application/json", Vec::new()).await.unwrap();
        assert_eq!(status, 200, "acknowledged {} ({read}) is missing after kill -9: {body}", s.path);
        if s.path.ends_with("/won") {
            assert_eq!(body["stage"], "won", "{body}");
            assert_eq!(body["commission_lines"].as_array().unwrap().len(), 1, "{body}");
        }
    }

    // Retry everything with its key, in each client's order.
    let lease = Duration::from_secs(LEASE_S);
    let (mut replayed, mut fresh, mut waited, mut ran_twice) = (0, 0, 0, 0);
    for client_sent in &sent {
        for s in client_sent {
            let retried = Instant::now();
            let (status, was_replay, body) = loop {
                let answer =
                    post_idempotent(&http, &second.base, &key, &s.path, &s.body, &s.idempotency_key).await.unwrap();
                if answer.0 == 409 && answer.2["error"]["code"] == "in-progress" {
                    assert!(
                        retried.elapsed() < lease + Duration::from_secs(5),
                        "{} {}: still in progress {:?} after the restart: {}",
                        s.path,
                        s.idempotency_key,
                        retried.elapsed(),
                        answer.2
                    );
                    waited += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
                break answer;
            };
            // The answer is stored after the unit of work commits, not in
            // it. A request cut off between the two is run again once its
            // claim has lapsed: a registration or lead finds the record its
            // first run made (its id comes from the key) and answers with
            // it; a deal created with the client's id or a win is refused
            // by its guard (409 naming what is there, never paid twice).
            if s.answer.is_none() && status == 409 && body["error"]["code"] == "conflict" {
                ran_twice += 1;
                continue;
            }
            assert!((200..300).contains(&status), "retry of {} {} got {status}: {body}", s.path, s.idempotency_key);
            match &s.answer {
                Some((first_status, first_body)) if (200..300).contains(first_status) => {
                    assert!(was_replay, "an acknowledged request ran again: {} {body}", s.path);
                    assert_eq!((status, &body), (*first_status, first_body), "the replay differs");
                    replayed += 1;
                }
                _ if was_replay => replayed += 1,
                _ => fresh += 1,
            }
        }
    }

    // Once each: one registration per account, one lead per account, one
    // set of commission lines per won deal; each with its decision and its
    // event.
    let sql = |s: &str| s.to_string();
    let registrations = count(sql("SELECT COUNT(*) FROM registrations WHERE tenant = 'acme'")).await;
    let leads = count(sql("SELECT COUNT(*) FROM leads WHERE tenant = 'acme'")).await;
    let won = count(sql("SELECT COUNT(*) FROM deals WHERE tenant = 'acme' AND stage = 'won'")).await;
    let sent_to = |path: &str| all.iter().filter(|s| s.path == path).count() as i64;
    let cut_off = |path: &str| all.iter().filter(|s| s.path == path && s.answer.is_none()).count() as i64;
    let won_sent = all.iter().filter(|s| s.path.ends_with("/won")).count() as i64;
    let deals = count(sql("SELECT COUNT(*) FROM deals WHERE tenant = 'acme'")).await;
    assert_eq!((deals, won), (sent_to("/v1/deals"), won_sent), "every deal created and won exactly once");
    // Each registration and lead sent is there once, cut off or not.
    for (path, table, stored) in [("/v1/registrations", "registrations", registrations), ("/v1/leads", "leads", leads)]
    {
        let distinct = count(format!("SELECT COUNT(DISTINCT account_domain) FROM {table} WHERE tenant = 'acme'")).await;
        assert_eq!(distinct, sent_to(path), "every {path} sent is stored");
        assert_eq!(stored, distinct, "{path}: {stored} stored for {distinct} sent ({} cut off)", cut_off(path));
    }
    assert_eq!(
        count(sql(
            "SELECT COUNT(*) FROM (SELECT deal_id FROM commission_lines GROUP BY deal_id HAVING COUNT(*) <> 1) t"
        ))
        .await,
        0,
        "a deal with other than one commission line"
    );
    assert_eq!(count(sql("SELECT COUNT(*) FROM commission_lines WHERE tenant = 'acme'")).await, won);
    for (hook, event, records) in [
        ("approval", "registration.decided", registrations),
        ("routing", "lead.routed", leads),
        ("commission", "commission.created", won),
    ] {
        let decisions =
            count(format!("SELECT COUNT(*) FROM decisions WHERE tenant = 'acme' AND hook = '{hook}'")).await;
        let events = count(format!("SELECT COUNT(*) FROM outbox WHERE tenant = 'acme' AND event = '{event}'")).await;
        assert_eq!((decisions, events), (records, records), "{hook} decisions and {event} events");
    }

    // Every event reaches the webhook (at least once).
    let events = count(sql("SELECT COUNT(*) FROM outbox WHERE tenant = 'acme'")).await;
    let max_id = count(sql("SELECT COALESCE(MAX(id), 0) FROM outbox WHERE tenant = 'acme'")).await;
    let started = Instant::now();
    loop {
        let got: std::collections::BTreeSet<i64> = received.lock().unwrap().iter().copied().collect();
        let undelivered =
            count(sql("SELECT COUNT(*) FROM outbox WHERE tenant = 'acme' AND delivered_at IS NULL")).await;
        if got.len() as i64 == events && undelivered == 0 {
            assert!(got.iter().all(|&id| id <= max_id));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{} of {events} events received, {undelivered} undelivered",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let posts = received.lock().unwrap().len();
    eprintln!(
        "kill -9 ({}): {} requests sent, {} acknowledged before the kill, {unanswered} cut off; after restart: \
         {replayed} replayed, {fresh} ran afresh, \
         {ran_twice} refused as already done (their first run had committed), {waited} waits on a claim; {registrations} registrations, {leads} \
         leads, {won} deals won (one line each); {events} events delivered in {posts} posts",
        if db.url.starts_with("postgres") { "postgres" } else { "sqlite" },
        all.len(),
        acked.len(),
    );
    drop(second);
}
