//! Notifications: every decision puts an event in the outbox (in the
//! database, so a restart loses none); the delivery worker posts due events
//! to the tenant's webhook (`https://`, verified against the public root
//! certificates and any private CA the operator adds, or plain `http://`),
//! signed with HMAC-SHA256, and retries failures with exponential backoff.
//! Delivery is at least once: receivers drop duplicates by the event id.
//! Events are posted concurrently, so one tenant's slow endpoint does not
//! hold up another's.
//!
//! Each POST carries `Pactum-Event-Id` and `Pactum-Signature: t=<unix
//! seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the tenant's secret>`;
//! the body is `{"id", "event", "tenant", "created_at", "data"}`.

use crate::service::{Caller, Service, ServiceError};
use crate::store::OutboxEvent;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The HTTP client the worker posts with.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for webhook delivery: `https://` URLs are verified against the
/// public (Mozilla) root certificates plus the PEM certificates in
/// `extra_roots_pem` (a company's private CA), and `http://` is plain.
pub fn http_client(extra_roots_pem: Option<&[u8]>) -> Result<HttpClient, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_roots_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("reading the webhook CA certificates: {e}"))?;
            roots.add(cert).map_err(|e| format!("a webhook CA certificate is not usable: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("the webhook CA file holds no PEM certificate".into());
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("configuring TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Ok(Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector))
}

/// At most this many webhook posts in flight per delivery pass.
const CONCURRENT_DELIVERIES: usize = 32;

/// At most this many posts in flight to one webhook URL, so one company's
/// receiver is not flooded (and a slow one holds up only its own share).
const PER_RECEIVER: usize = 8;

/// Events claimed per batch; a pass claims batches until one comes back
/// short, at most [`MAX_BATCHES_PER_PASS`] of them.
const DELIVERY_BATCH: usize = 512;

/// Bounds one pass (so shutdown is not held up behind a backlog): the next
/// pass, two seconds later, goes on.
const MAX_BATCHES_PER_PASS: usize = 64;

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// `Pactum-Signature` for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Seconds to wait after the `attempts`-th failure: 2, 4, 8, ... up to an hour.
pub fn backoff(attempts: i64) -> i64 {
    (1i64 << attempts.clamp(1, 12)).min(3_600)
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Events delivered.
    pub delivered: usize,
    /// Attempts that failed (to be retried).
    pub failed: usize,
}

impl Service {
    /// Sets the caller's webhook (admin): `http://` URL and signing secret.
    pub async fn set_webhook(&self, caller: &Caller, url: &str, secret: &str) -> Result<(), ServiceError> {
        caller.require(crate::auth::Capability::SetWebhook)?;
        let parsed: Result<http::Uri, _> = url.parse();
        match parsed {
            Ok(uri) if matches!(uri.scheme_str(), Some("https" | "http")) && uri.host().is_some() => {}
            _ => return Err(ServiceError::BadInput(format!("`url` {url:?} is not an https:// or http:// URL"))),
        }
        if secret.len() < 16 {
            return Err(ServiceError::BadInput("`secret` must be at least 16 characters".into()));
        }
        Ok(self.db.set_webhook(&caller.tenant, Some(url), Some(secret)).await?)
    }

    /// The caller's latest notifications with their delivery state (staff).
    pub async fn notifications(&self, caller: &Caller, limit: i64) -> Result<Vec<OutboxEvent>, ServiceError> {
        caller.require(crate::auth::Capability::ReadDecisions)?;
        Ok(self.db.outbox(&caller.tenant, limit).await?)
    }

    /// Posts every event due at `at` to its tenant's webhook, up to
    /// [`CONCURRENT_DELIVERIES`] at a time and [`PER_RECEIVER`] per webhook;
    /// what fails is retried later with backoff. Events are claimed in
    /// batches with a lease ([`crate::store::Db::claim_due`]), so several
    /// replicas' couriers never post the same event in the same pass.
    pub async fn deliver_due(&self, at: i64) -> Result<DeliveryReport, ServiceError> {
        use futures_util::StreamExt;
        let mut report = DeliveryReport::default();
        for _ in 0..MAX_BATCHES_PER_PASS {
            let due = self.db.claim_due(at, DELIVERY_BATCH as i64, at + self.delivery_lease_s).await?;
            let claimed = due.len();
            // At most PER_RECEIVER posts in flight to any one webhook.
            let mut receivers: HashMap<String, Arc<Semaphore>> = HashMap::new();
            let outcomes: Vec<_> = futures_util::stream::iter(due)
                .map(|due| {
                    let receiver = receivers
                        .entry(due.url.clone())
                        .or_insert_with(|| Arc::new(Semaphore::new(PER_RECEIVER)))
                        .clone();
                    async move {
                        let _turn = receiver.acquire_owned().await;
                        let outcome = self.post(&due, at).await;
                        (due.event, outcome)
                    }
                })
                .buffer_unordered(CONCURRENT_DELIVERIES)
                .collect()
                .await;
            let mut delivered = Vec::with_capacity(outcomes.len());
            for (e, outcome) in outcomes {
                match outcome {
                    Ok(()) => delivered.push(e.id),
                    Err(error) => {
                        let retry_at = at + backoff(e.attempts + 1);
                        tracing::warn!(tenant = %e.tenant, event = e.id, %error, retry_at, "webhook delivery failed");
                        self.db.delivery_failed(e.id, &error, retry_at).await?;
                        report.failed += 1;
                    }
                }
            }
            self.db.delivered(&delivered, at).await?;
            report.delivered += delivered.len();
            if claimed < DELIVERY_BATCH {
                break;
            }
        }
        Ok(report)
    }

    /// One delivery attempt of `due`, signed at `at`.
    async fn post(&self, due: &crate::store::DueEvent, at: i64) -> Result<(), String> {
        let e = &due.event;
        let body = serde_json::json!({
            "id": e.id, "event": e.event, "tenant": e.tenant, "created_at": e.created_at, "data": e.payload,
        })
        .to_string();
        let request = http::Request::post(&due.url)
            .header("content-type", "application/json")
            .header("pactum-event-id", e.id.to_string())
            .header("pactum-signature", signature(&due.secret, at, body.as_bytes()))
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| format!("bad request: {err}"))?;
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.http.request(request)).await {
            Err(_) => Err("timed out".to_string()),
            Ok(Err(err)) => Err(error_chain(&err)),
            Ok(Ok(response)) if response.status().is_success() => Ok(()),
            Ok(Ok(response)) => Err(format!("HTTP {}", response.status())),
        }
    }
}

/// An error and its causes, `: `-separated (a TLS failure is two levels
/// down a client error).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_timestamp_and_body() {
        // Known answers, computed independently of this code (Python's
        // `hmac.new(secret, b"<t>.<body>", hashlib.sha256).hexdigest()`):
        // what a receiver's own verification must agree with.
        assert_eq!(
            signature("whsec_5f2a", 1_767_225_600, br#"{"event":"lead.routed","id":42}"#),
            "t=1767225600,v1=52a26dd5818588e339f8e2b38add80b7c4b9950ae1198a435a4401f0589bf512"
        );
        assert_eq!(
            signature("Jefe", 1, b"what do ya want for nothing?"),
            "t=1,v1=a9049465ce89cfb8e9aac62333abda66f80e3403f51f57f6bae3c3a4485eca38"
        );
        // The time is signed with the body: a replayed body under another
        // time, or another secret, does not verify.
        assert_ne!(
            signature("Jefe", 2, b"what do ya want for nothing?"),
            signature("Jefe", 1, b"what do ya want for nothing?")
        );
        assert_ne!(
            signature("jefe", 1, b"what do ya want for nothing?"),
            signature("Jefe", 1, b"what do ya want for nothing?")
        );
    }

    #[test]
    fn backs_off_exponentially_up_to_an_hour() {
        assert_eq!([1, 2, 3, 4].map(backoff), [2, 4, 8, 16]);
        assert_eq!(backoff(40), 3_600);
    }
}
