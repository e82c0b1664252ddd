//! An in-process app on a fresh SQLite file with the example companies.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::Service;
use pactum::store::Db;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

pub struct App {
    pub router: axum::Router,
    pub service: Arc<Service>,
    pub keys: Vec<(String, String)>,
    pub database_url: String,
    _dir: tempfile::TempDir,
}

pub async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("pactum.db").display());
    let db = Db::open(&database_url).await.unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let service = Arc::new(Service::open(db, runtime, Arc::new(Metrics::default())).await.unwrap());
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let keys = service.seed_examples(&policies).await.unwrap();
    App { router: pactum::api::router(service.clone()), service, keys, database_url, _dir: dir }
}

impl App {
    pub fn key(&self, slug: &str) -> &str {
        &self.keys.iter().find(|(s, _)| s == slug).unwrap().1
    }

    pub async fn send(&self, method: &str, uri: &str, key: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        let response = self.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, value)
    }
}
