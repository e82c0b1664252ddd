//! A small client of Pactum's own HTTP API, for the CLI commands that talk
//! to a running server (`pactum plugin push`).

use crate::notify::{HttpClient, http_client};
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

/// A server and the API key to use with it. Cheap to clone (the
/// connection pool is shared).
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    key: String,
    http: HttpClient,
}

impl ApiClient {
    /// A client of the server at `base` (`https://host` or `http://host:port`).
    pub fn new(base: &str, key: &str) -> Result<ApiClient, String> {
        let base = base.trim_end_matches('/').to_string();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(format!("--server {base:?}: give the server as https://host or http://host:port"));
        }
        if key.trim().is_empty() {
            return Err("no API key: pass --key or set PACTUM_KEY".into());
        }
        Ok(ApiClient { base, key: key.trim().to_string(), http: http_client(None)? })
    }

    /// Sends a request; returns the status and the JSON body, or why it
    /// could not be sent.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Value), String> {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("building the request: {e}"))?;
        let response = self.http.request(request).await.map_err(|e| format!("{} unreachable: {e}", self.base))?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|e| format!("reading the answer: {e}"))?.to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }
}

/// The message of an API error body, or the body itself.
pub fn error_message(body: &Value) -> String {
    body["error"]["message"].as_str().map(String::from).unwrap_or_else(|| body.to_string())
}
