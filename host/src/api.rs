//! The HTTP API (axum): JSON over `/v1`, bearer API keys, one error shape.
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | liveness |
//! | `GET /metrics` | Prometheus metrics |
//! | `GET /v1/program` | the caller's company: parameters, limits, the plugin bound to each hook |
//! | `POST /v1/decisions/{hook}` | run a hook on an event: `{"event_time": <unix s, optional>, "input": {...}}` |
//! | `GET /v1/decisions?hook=&limit=` | the latest decisions, newest first |
//! | `GET /v1/decisions/{id}` | one decision, with its full call record |
//!
//! Errors are `{"error": {"code": "...", "message": "..."}}` with 400/422
//! for bad input (naming the field), 401 without a valid key, 404 for
//! what does not exist for the caller's tenant, 409 for conflicts.

use crate::runtime::HookKind;
use crate::service::{Caller, Service, ServiceError, now};
use axum::extract::{FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Shared state of every handler.
pub type AppState = Arc<Service>;

/// Builds the router.
pub fn router(service: AppState) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/metrics", get(metrics))
        .route("/v1/program", get(program))
        .route("/v1/decisions", get(list_decisions))
        // One path for both: `{key}` is a hook name to POST to, or a
        // decision id to GET.
        .route("/v1/decisions/{key}", post(decide).get(get_decision))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such route") })
        .layer(middleware::from_fn_with_state(
            service.clone(),
            count_requests,
        ))
        .with_state(service)
}

/// An API error: a status and `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::BadInput(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", m)
            }
            ServiceError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not-found", m),
            ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Program(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-program",
                e.to_string(),
            ),
            ServiceError::Plugin { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-plugin",
                e.to_string(),
            ),
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &AppState) -> Result<Caller, ApiError> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing `Authorization: Bearer <api key>` header"))?;
        let key = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <api key>`"))?;
        service
            .authenticate(key.trim())
            .await?
            .ok_or_else(|| unauthorized("unknown API key"))
    }
}

async fn count_requests(State(service): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    service
        .metrics()
        .request(&method, &route, response.status().as_u16());
    response
}

async fn metrics(State(service): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics().render(),
    )
}

async fn program(State(service): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let tenant = service.tenant(&caller.tenant)?;
    let p = &tenant.program;
    let bindings: serde_json::Map<String, Value> = service
        .bindings(&caller.tenant)
        .await?
        .into_iter()
        .map(|(hook, hash)| (hook, Value::String(hash)))
        .collect();
    Ok(Json(json!({
        "company": { "slug": p.slug, "name": p.name, "currency": p.currency },
        "plugins": bindings,
        "limits": p.limits,
        "params": p.params,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    /// Unix seconds; the server's clock when absent.
    event_time: Option<i64>,
    /// The hook's input without `context`.
    input: Value,
}

fn parse_hook(hook: &str) -> Result<HookKind, ApiError> {
    HookKind::parse(hook).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-hook",
            format!("no hook `{hook}`: use routing, approval, commission or tier-evaluation"),
        )
    })
}

async fn decide(
    State(service): State<AppState>,
    caller: Caller,
    Path(hook): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let hook = parse_hook(&hook)?;
    let body: DecideBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            format!("the body must be {{\"event_time\"?, \"input\"}}: {e}"),
        )
    })?;
    let row = service
        .decide(
            &caller.tenant,
            hook,
            body.event_time.unwrap_or_else(now),
            body.input,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(row).map_err(|e| ServiceError::Internal(e.to_string()))?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    hook: Option<String>,
    limit: Option<i64>,
}

async fn list_decisions(
    State(service): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let hook = query.hook.as_deref().map(parse_hook).transpose()?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            "`limit` must be 1 to 500",
        ));
    }
    let rows = service.decisions(&caller.tenant, hook, limit).await?;
    Ok(Json(json!({ "decisions": rows })))
}

async fn get_decision(
    State(service): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-id",
            format!("`{id}` is not a decision id"),
        )
    })?;
    let row = service.decision(&caller.tenant, id).await?;
    Ok(Json(
        serde_json::to_value(row).map_err(|e| ServiceError::Internal(e.to_string()))?,
    ))
}
