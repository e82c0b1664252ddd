//! An in-process app with the example companies, on a fresh database: a
//! new SQLite file, or, when `PACTUM_TEST_DATABASE_URL` names a PostgreSQL
//! server (`postgres://...`), a new schema there, dropped afterwards. So the
//! same tests run on both backends.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Service, ServiceOptions};
use pactum::store::Db;
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

pub struct App {
    pub router: axum::Router,
    pub service: Arc<Service>,
    pub keys: Vec<(String, String)>,
    pub database_url: String,
    // Last: dropped after the service's connections.
    _db: TestDb,
}

/// One test's database; a PostgreSQL schema is dropped with it.
pub struct TestDb {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("PACTUM_TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
                let schema =
                    format!("pactum_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
                let mut conn = PgConnection::connect(&base).await.expect("PACTUM_TEST_DATABASE_URL: connect");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options[search_path]={schema}");
                TestDb { url, postgres: Some((base, schema)), _dir: dir }
            }
            Ok(other) if !other.is_empty() => {
                panic!("PACTUM_TEST_DATABASE_URL must be a postgres:// URL, not {other:?}")
            }
            _ => {
                let url = format!("sqlite://{}", dir.path().join("pactum.db").display());
                TestDb { url, postgres: None, _dir: dir }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, schema)) = self.postgres.take() else { return };
        // Drop runs inside the test's runtime: drop the schema from a thread
        // of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut conn = PgConnection::connect(&base).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("dropping the test schema: {e}");
        }
    }
}

pub async fn app() -> App {
    app_with(RuntimeConfig::default()).await
}

/// [`app`] with its own runtime settings.
pub async fn app_with(config: RuntimeConfig) -> App {
    app_with_options(config, ServiceOptions::default()).await
}

/// [`app`] with its own runtime and service settings.
pub async fn app_with_options(config: RuntimeConfig, options: ServiceOptions) -> App {
    let test_db = TestDb::new().await;
    let database_url = test_db.url.clone();
    let db = Db::open(&database_url).await.unwrap();
    let runtime = Arc::new(Runtime::new(config).unwrap());
    let service = Arc::new(Service::open_with(db, runtime, Arc::new(Metrics::default()), options).await.unwrap());
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let keys = service.seed_examples(&policies, pactum::bundled_plugin).await.unwrap();
    App { router: pactum::api::router(service.clone()), service, keys, database_url, _db: test_db }
}

impl App {
    pub fn key(&self, slug: &str) -> &str {
        &self.keys.iter().find(|(s, _)| s == slug).unwrap().1
    }

    pub async fn send(&self, method: &str, uri: &str, key: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        self.send_raw(method, uri, key, body.map(|b| b.to_string().into_bytes()).unwrap_or_default()).await
    }

    /// Like [`App::send`] with a body of raw bytes (a component to publish).
    pub async fn send_raw(&self, method: &str, uri: &str, key: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
        let (status, _, value) = self.send_full(method, uri, key, body).await;
        (status, value)
    }

    /// Like [`App::send_raw`], with the response's headers.
    pub async fn send_full(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let body = if body.is_empty() { Body::empty() } else { Body::from(body) };
        let response = self.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, headers, value)
    }
}

/// Runs one SQL statement on the test database directly, bypassing the
/// service: how a test tampers with stored records. Returns rows affected.
pub async fn execute_sql(database_url: &str, sql: &str) -> u64 {
    use sqlx::Executor;
    if database_url.starts_with("postgres") {
        let mut conn = PgConnection::connect(database_url).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(sql.to_string())).await.unwrap().rows_affected()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(sql.to_string())).await.unwrap().rows_affected()
    }
}

/// The one integer `sql` selects, read from the test database directly.
pub async fn query_i64(database_url: &str, sql: &str) -> i64 {
    if database_url.starts_with("postgres") {
        let mut conn = PgConnection::connect(database_url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut conn).await.unwrap()
    }
}
