//! Notifications: decisions land in the outbox, are delivered to the
//! tenant's webhook with a verifiable signature, retried with backoff after
//! a failure, and survive a restart.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::app::app;
use pactum::metrics::Metrics;
use pactum::notify::signature;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Service, ServiceOptions, now};
use pactum::store::Db;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Receiver {
    status: AtomicU16,
    got: Mutex<Vec<(HeaderMap, String)>>,
}

/// `POST /hook`: records what arrives and answers with the receiver's status.
fn hook_app(state: Arc<Receiver>) -> axum::Router {
    axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|State(r): State<Arc<Receiver>>, headers: HeaderMap, body: String| async move {
                r.got.lock().unwrap().push((headers, body));
                StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
            }),
        )
        .with_state(state)
}

/// A webhook receiver on a local port that answers with `status`.
async fn receiver() -> (String, Arc<Receiver>) {
    let state = Arc::new(Receiver { status: AtomicU16::new(500), ..Default::default() });
    let app = hook_app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

const SECRET: &str = "whsec-0123456789abcdef";

/// A webhook receiver over https on a local port, answering 200, with a
/// certificate for `localhost` from a CA of its own; returns its URL, the
/// CA's certificate (PEM) and what it received.
async fn tls_receiver() -> (String, Vec<u8>, Arc<Receiver>) {
    use tower::ServiceExt;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let state = Arc::new(Receiver { status: AtomicU16::new(200), ..Default::default() });
    let app = hook_app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/hook", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the CA hangs up mid-handshake.
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    app.clone().oneshot(request.map(axum::body::Body::new))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (url, certified.cert.pem().into_bytes(), state)
}

/// An https webhook is delivered when its certificate chains to a trusted
/// root (here the operator's `--webhook-ca-file`), and refused, with the
/// reason kept for the retry, when it does not.
#[tokio::test]
async fn https_webhooks_are_verified_against_the_trusted_roots() {
    let app = app().await;
    let (url, ca_pem, hook) = tls_receiver().await;
    let admin = app.key("acme").to_string();
    let (status, body) =
        app.send("PUT", "/v1/webhook", Some(&admin), Some(json!({ "url": url, "secret": SECRET }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .send("POST", "/v1/leads", Some(&admin), Some(json!({ "account_domain": "hooli.com", "source": "inbound" })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The public roots alone do not vouch for the receiver's CA.
    let t = now();
    assert_eq!(app.service.deliver_due(t).await.unwrap().failed, 1);
    let (_, outbox) = app.send("GET", "/v1/notifications", Some(&admin), None).await;
    let error = outbox["notifications"][0]["last_error"].as_str().unwrap().to_string();
    assert!(error.contains("certificate"), "{error}");
    assert!(hook.got.lock().unwrap().is_empty());

    // A process that trusts the CA delivers it, signed as over http.
    let db = Db::open(&app.database_url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let options = ServiceOptions { webhook_ca_pem: Some(ca_pem), ..Default::default() };
    let trusting = Service::open_with(db, runtime, Arc::new(Metrics::default()), options).await.unwrap();
    assert_eq!(trusting.deliver_due(t + 3_600).await.unwrap().delivered, 1);
    let (headers, body) = hook.got.lock().unwrap().last().cloned().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["event"], "lead.routed");
    let sig = headers["pactum-signature"].to_str().unwrap();
    let t_sent: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    assert_eq!(sig, signature(SECRET, t_sent, body.as_bytes()));

    // A CA file without a certificate is refused at start.
    let db = Db::open(&app.database_url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let options = ServiceOptions { webhook_ca_pem: Some(b"not a certificate".to_vec()), ..Default::default() };
    let refused = Service::open_with(db, runtime, Arc::new(Metrics::default()), options).await;
    assert!(refused.err().unwrap().to_string().contains("no PEM certificate"));
}

#[tokio::test]
async fn decisions_are_delivered_signed_retried_and_survive_a_restart() {
    let app = app().await;
    let (url, hook) = receiver().await;
    let admin = app.key("acme").to_string();
    let (status, body) =
        app.send("PUT", "/v1/webhook", Some(&admin), Some(json!({ "url": url, "secret": SECRET }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.send("POST", "/v1/partners", Some(&admin), Some(json!({ "id": "p-1", "name": "P", "kind": "referral" }))).await;
    let registration = json!({
        "partner_id": "p-1", "account_domain": "globex.com", "account_name": "Globex", "industry": "software",
        "employees": 400, "country": "US", "amount": { "amount": 12_000_000, "currency": "USD" }
    });
    let (_, reg) = app.send("POST", "/v1/registrations", Some(&admin), Some(registration)).await;

    // The receiver is down: the attempt fails and is scheduled again.
    let t = now();
    let report = app.service.deliver_due(t).await.unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1));
    let (_, outbox) = app.send("GET", "/v1/notifications", Some(&admin), None).await;
    let event = &outbox["notifications"][0];
    assert_eq!((event["event"].as_str(), event["attempts"].as_i64()), (Some("registration.decided"), Some(1)));
    assert_eq!(event["last_error"], "HTTP 500 Internal Server Error");
    assert!(event["next_attempt_at"].as_i64().unwrap() > t);
    assert_eq!(app.service.deliver_due(t).await.unwrap().failed, 0, "not due again yet");

    // It comes back: the retry is delivered, signed.
    hook.status.store(200, Ordering::SeqCst);
    let report = app.service.deliver_due(t + 60).await.unwrap();
    assert_eq!((report.delivered, report.failed), (1, 0));
    let (headers, body) = hook.got.lock().unwrap().last().cloned().unwrap();
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["event"], "registration.decided");
    assert_eq!(sent["data"]["id"], reg["id"]);
    assert_eq!(headers["pactum-event-id"].to_str().unwrap(), sent["id"].to_string());
    let sig = headers["pactum-signature"].to_str().unwrap();
    let t_sent: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    assert_eq!(sig, signature(SECRET, t_sent, body.as_bytes()), "the receiver can verify the signature");
    assert_ne!(sig, signature("wrong-secret-0123456", t_sent, body.as_bytes()));

    // An event recorded before a restart is delivered by the next process.
    app.send("POST", "/v1/leads", Some(&admin), Some(json!({ "account_domain": "hooli.com", "source": "inbound" })))
        .await;
    let db = Db::open(&app.database_url).await.unwrap();
    let restarted =
        Service::open(db, Arc::new(Runtime::new(RuntimeConfig::default()).unwrap()), Arc::new(Metrics::default()))
            .await
            .unwrap();
    assert_eq!(restarted.deliver_due(now() + 120).await.unwrap().delivered, 1);
    assert_eq!(hook.got.lock().unwrap().len(), 3);
    let (_, body) = hook.got.lock().unwrap().last().cloned().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["event"], "lead.routed");
}

#[tokio::test]
async fn webhook_settings_are_checked() {
    let app = app().await;
    let admin = app.key("acme").to_string();
    for (body, field) in [
        (json!({ "url": "ftp://example.com/hook", "secret": SECRET }), "url"),
        (json!({ "url": "not a url", "secret": SECRET }), "url"),
        (json!({ "url": "http://127.0.0.1:9/hook", "secret": "short" }), "secret"),
    ] {
        let (status, error) = app.send("PUT", "/v1/webhook", Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains(field), "{error}");
    }
    let (status, body) = app
        .send("PUT", "/v1/webhook", Some(&admin), Some(json!({ "url": "https://example.com/hook", "secret": SECRET })))
        .await;
    assert_eq!(status, StatusCode::OK, "https webhooks are accepted: {body}");
    let manager = app.service.create_key("acme", "manager", None).await.unwrap();
    let (status, _) = app
        .send("PUT", "/v1/webhook", Some(&manager), Some(json!({ "url": "http://127.0.0.1:9/h", "secret": SECRET })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Two replicas' couriers on one database, passing at the same moment:
/// every event is posted once, not once per replica, and all of them are
/// delivered in batches (more than one batch here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_post_each_event_once() {
    let app = app().await;
    let (url, hook) = receiver().await;
    hook.status.store(200, Ordering::SeqCst);
    let admin = app.key("acme").to_string();
    let (status, _) = app.send("PUT", "/v1/webhook", Some(&admin), Some(json!({ "url": url, "secret": SECRET }))).await;
    assert_eq!(status, StatusCode::OK);
    const EVENTS: usize = 700;
    for i in 0..EVENTS {
        let lead = json!({ "account_domain": format!("lead-{i}.com"), "source": "webinar" });
        let (status, body) = app.send("POST", "/v1/leads", Some(&admin), Some(lead)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let db = Db::open(&app.database_url).await.unwrap();
    let second =
        Service::open(db, Arc::new(Runtime::new(RuntimeConfig::default()).unwrap()), Arc::new(Metrics::default()))
            .await
            .unwrap();
    let at = now();
    let (first, other) = tokio::join!(app.service.deliver_due(at), second.deliver_due(at));
    let (first, other) = (first.unwrap(), other.unwrap());
    assert_eq!((first.failed, other.failed), (0, 0));
    assert_eq!(first.delivered + other.delivered, EVENTS, "{first:?} {other:?}");
    let mut ids: Vec<String> =
        hook.got.lock().unwrap().iter().map(|(h, _)| h["pactum-event-id"].to_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), EVENTS, "one post per event");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), EVENTS, "no event posted twice");
    // Nothing is left due.
    assert_eq!(app.service.deliver_due(at + 3_600).await.unwrap().delivered, 0);
}
