//! The HTTP API (axum): JSON over `/v1`, bearer API keys, one error shape.
//!
//! One module per resource registers its routes on an [`Api`]
//! ([`crate::openapi`]), which builds the router and the OpenAPI document
//! (`GET /openapi.json`) from the same declarations: each operation's body,
//! query, security and responses are read off its handler's types.
//!
//! | module | routes |
//! |---|---|
//! | [`program`] | `/healthz`, `/metrics`, `/openapi.json`, `/v1/program`, `/v1/program/metrics`, `/v1/webhook`, `/v1/notifications` |
//! | [`decisions`] | `/v1/decisions`: run a hook, read the log, replay |
//! | [`partners`] | `/v1/partners`: partners, their keys, statements and lifecycle steps; `/v1/keys` |
//! | [`registrations`] | `/v1/registrations`, `/v1/reviews`: deal registration and manual review |
//! | [`deals`] | `/v1/deals`: deals, won, lost, refund |
//! | [`leads`] | `/v1/leads`: lead routing |
//! | [`payouts`] | `/v1/lines`, `/v1/payout-runs`: line steps (hold, release, void, dispute, resolve, adjust), payout runs and their CSV |
//! | [`scorecards`] | `/v1/scorecards/{period}`, `/v1/tier-changes` |
//! | [`import`] | `/v1/import`: history from another PRM, JSON or CSV |
//! | [`users`] | `/v1/invitations`: people invited to the portal |
//! | [`plugins`] | `/v1/plugins`, `/v1/bindings`, `/v1/activations`, `/v1/shadows`, `/v1/backtests`: the plugin lifecycle |
//!
//! Every POST accepts an `Idempotency-Key` header: a retry with the same key
//! (and the same API key) gets the first response back, marked
//! `Idempotent-Replayed: true`, and creates nothing new.
//!
//! Errors are `{"error": {"code": "...", "message": "..."}}` with 400/422
//! for bad input (naming the field), 401 without a valid key, 403 for what
//! the caller's role may not do, 404 for what does not exist for the
//! caller, 409 for conflicts, 413 for bodies over the route's limit and 503
//! with `Retry-After` at capacity.

pub mod deals;
pub mod decisions;
pub mod import;
pub mod leads;
pub mod partners;
pub mod payouts;
pub mod plugins;
pub mod program;
pub mod registrations;
pub mod scorecards;
pub mod users;

use crate::openapi::Api;
use crate::runtime::HookKind;
use crate::service::{Caller, Service, ServiceError, now};
use crate::workflows::{IDEMPOTENT, IdempotentRequest};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Shared state of every handler.
pub type AppState = Arc<Service>;

/// The body limit of every route but those taking a component.
pub const BODY_LIMIT: usize = 2 << 20;

/// Registers every resource's routes.
pub fn routes(api: &mut Api) {
    program::routes(api);
    decisions::routes(api);
    partners::routes(api);
    registrations::routes(api);
    deals::routes(api);
    leads::routes(api);
    scorecards::routes(api);
    payouts::routes(api);
    import::routes(api);
    plugins::routes(api);
    users::routes(api);
}

/// Builds the router: every resource's routes, the portal's pages
/// (`pactum-portal`), the JSON 404 for the rest, idempotency and the
/// request count.
pub fn router(service: AppState) -> Router {
    let api = crate::openapi::api();
    // The routes whose body is a component ([`WasmBody`]): the idempotency
    // middleware reads the body before the route does, so it applies their
    // limit too.
    let large: Arc<[&'static str]> = api.large_body_paths().into();
    api.into_router(service.runtime().config().max_component_bytes + 1)
        // The browser portal (`/`, `/sign-in`, ...): its own pages over the
        // same application, served by the same listener.
        .merge(pactum_portal::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such route") })
        .layer(middleware::from_fn_with_state((service.clone(), large), idempotency))
        .layer(middleware::from_fn_with_state(service.clone(), count_requests))
        .with_state(service)
}

/// An API error: a status and `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for a `Retry-After` header (503 at capacity).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        match self.retry_after {
            Some(s) => (self.status, [(header::RETRY_AFTER, s.to_string())], body).into_response(),
            None => (self.status, body).into_response(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::BadInput(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", m),
            ServiceError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not-found", m),
            ServiceError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Program(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-program", e.to_string())
            }
            ServiceError::Plugin { source: crate::runtime::LoadError::TooLarge { .. }, .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", e.to_string())
            }
            ServiceError::Plugin { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-plugin", e.to_string())
            }
            ServiceError::FixturesFailed(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "fixtures-failed", e.to_string())
            }
            ServiceError::Overloaded { retry_after_s, .. } => ApiError {
                retry_after: Some(retry_after_s),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", e.to_string())
            },
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
            }
        }
    }
}

/// The authenticated caller of a request: its API key, checked. The one
/// place the API authenticates; what the caller may do is the application's
/// to decide.
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &AppState) -> Result<Auth, ApiError> {
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
        service.authenticate(key.trim()).await?.map(Auth).ok_or_else(|| unauthorized("unknown or revoked API key"))
    }
}

async fn count_requests(State(service): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    service.metrics().request(&method, &route, response.status().as_u16());
    response
}

/// How long a claimed Idempotency-Key stays claimed while its request has
/// not finished, by default: past it, a retry takes the claim over (the
/// request was cut short by a crash; one the client abandons still
/// finishes, below). `--idempotency-lease-s` sets it
/// ([`crate::service::Service::idempotency_lease_s`]).
pub const IDEMPOTENCY_LEASE_S: i64 = crate::service::DEFAULT_LEASE_S;

/// `Idempotency-Key` on a POST: the first request's response is stored and
/// replayed for retries with the same key (per API key); the same key with
/// another request (method, path, query or body) is refused, and one still
/// running answers 409 until it finishes or its lease runs out.
///
/// The request runs in a task of its own, so a client that goes away does
/// not leave the key claimed: the request finishes and its response is
/// stored for the retry.
async fn idempotency(
    State((service, large_body_paths)): State<(AppState, Arc<[&'static str]>)>,
    request: Request,
    next: Next,
) -> Response {
    use sha2::{Digest, Sha256};
    let Some(key) = request.headers().get("idempotency-key").cloned() else {
        return next.run(request).await;
    };
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k.to_string(),
        _ => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-idempotency-key",
                "Idempotency-Key must be 1 to 255 visible characters",
            )
            .into_response();
        }
    };
    // The scope is the API key itself (as authentication reads it), not the
    // header's text: `Bearer  k` and `Bearer k` are one caller.
    let Some(api_key) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return next.run(request).await; // the handler answers 401
    };
    let scope = crate::service::key_hash(api_key);
    // The route's own body limit: a plugin's bytes may be large.
    let large = request.extensions().get::<MatchedPath>().is_some_and(|p| large_body_paths.contains(&p.as_str()));
    let limit = if large { service.runtime().config().max_component_bytes + 1 } else { BODY_LIMIT };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the request body is over {limit} bytes"),
        )
        .into_response();
    };
    let mut hasher = Sha256::new();
    for part in [parts.method.as_str(), parts.uri.path(), parts.uri.query().unwrap_or("")] {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part);
    }
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());

    let lease_s = service.idempotency_lease_s();
    let lease_from = now() - lease_s;
    match service.db().claim_idempotency(&scope, &key, &request_hash, lease_from).await {
        Err(e) => return ApiError::from(ServiceError::from(e)).into_response(),
        Ok(Some((stored_hash, status, body))) => {
            if stored_hash != request_hash {
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency-key-reused",
                    "this Idempotency-Key was used for a different request",
                )
                .into_response();
            }
            if status == 0 {
                return ApiError::new(
                    StatusCode::CONFLICT,
                    "in-progress",
                    format!(
                        "a request with this Idempotency-Key is still running; retry when it has finished \
                         (a claim is given up after {lease_s} s)"
                    ),
                )
                .into_response();
            }
            let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
            return (
                status,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::HeaderName::from_static("idempotent-replayed"), "true"),
                ],
                body,
            )
                .into_response();
        }
        Ok(None) => {}
    }

    // Ids of the records it creates derive from the key: run again after a
    // crash that lost its stored answer, it finds them instead of creating
    // them twice (`workflows::random_id`).
    let ids = IdempotentRequest::new(&scope, &key);
    let run = async move {
        let response = next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        // A server error is not a result: release the key so a retry runs again.
        let stored = (!parts.status.is_server_error()).then_some((parts.status.as_u16(), bytes.as_ref()));
        if let Err(e) = service.db().finish_idempotent(&scope, &key, stored).await {
            tracing::error!(error = %e, "storing an idempotent response");
        }
        Response::from_parts(parts, axum::body::Body::from(bytes))
    };
    match tokio::spawn(IDEMPOTENT.scope(ids, run)).await {
        Ok(response) => response,
        Err(e) => ApiError::from(ServiceError::Internal(format!("idempotent request task: {e}"))).into_response(),
    }
}

/// A JSON body whose errors name the field: 400 when it is not JSON, 422
/// when a field is missing or of the wrong type, 413 over the route's limit.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Body<T>, ApiError> {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(body_rejected)?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut de) {
            // One JSON value and nothing after it but whitespace.
            Ok(value) => match de.end() {
                Ok(()) => Ok(Body(value)),
                Err(e) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-json",
                    format!("the body is not valid JSON: {e} (text after the JSON value)"),
                )),
            },
            Err(e) if e.inner().is_syntax() || e.inner().is_eof() => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                format!("the body is not valid JSON: {}", e.inner()),
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-input",
                format!("`{}`: {}", e.path(), e.inner()),
            )),
        }
    }
}

/// [`Body`] on a route that takes large bodies (an import): the same
/// parsing, up to the large-body limit.
pub struct LargeBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for LargeBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<LargeBody<T>, ApiError> {
        Body::<T>::from_request(request, state).await.map(|Body(value)| LargeBody(value))
    }
}

/// A CSV file as the body (`text/csv`), up to the large-body limit.
pub struct CsvBody(pub Vec<u8>);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<CsvBody, ApiError> {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(body_rejected)?;
        Ok(CsvBody(bytes.to_vec()))
    }
}

/// A component's bytes as the body (`application/wasm`): 413 in the API's
/// JSON shape over the server's limit, 400 when empty.
pub struct WasmBody(pub Vec<u8>);

impl FromRequest<AppState> for WasmBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, service: &AppState) -> Result<WasmBody, ApiError> {
        let limit = service.runtime().config().max_component_bytes;
        let wasm = axum::body::Bytes::from_request(request, service).await.map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("the component is over this server's limit of {limit} bytes"),
            ),
            status => ApiError::new(status, "invalid-body", e.body_text()),
        })?;
        if wasm.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-input",
                "the request body must be the component's bytes (Content-Type: application/wasm)",
            ));
        }
        Ok(WasmBody(wasm.to_vec()))
    }
}

/// Why a request's body could not be read, in the API's JSON shape: 413
/// over the route's limit, 400 otherwise.
fn body_rejected(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the request body is too large: {}", e.body_text()),
        )
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-body", e.body_text())
    }
}

/// A query string parsed into `T`, or 400 naming what is wrong with it.
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Query<T>, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| Query(q))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))
    }
}

/// 201 with the created resource.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// 201 when the resource is new, 200 when it existed already (the same
/// bytes published again).
pub struct CreatedOrExisting<T> {
    /// What was created or found.
    pub value: T,
    /// Whether it is new.
    pub created: bool,
}

impl<T: Serialize> IntoResponse for CreatedOrExisting<T> {
    fn into_response(self) -> Response {
        let status = if self.created { StatusCode::CREATED } else { StatusCode::OK };
        (status, Json(self.value)).into_response()
    }
}

/// 204, no body.
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// 200 with a `text/plain` body (the Prometheus exposition format).
pub struct Text(pub String);

impl IntoResponse for Text {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], self.0).into_response()
    }
}

/// 200 with a `text/csv` body (an export for a finance system), offered
/// as a download named `filename`.
pub struct Csv {
    /// The file name the browser saves it as.
    pub filename: String,
    /// The CSV.
    pub body: String,
}

impl IntoResponse for Csv {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.filename);
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
            self.body,
        )
            .into_response()
    }
}

/// A hook named in a path or a body, or 404 naming the hooks there are.
fn parse_hook(hook: &str) -> Result<HookKind, ApiError> {
    HookKind::parse(hook).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-hook",
            format!("no hook `{hook}`: use routing, approval, commission or tier-evaluation"),
        )
    })
}

/// A numeric id in a path, or 400 naming what it should have been.
fn parse_id(id: &str, what: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid-id", format!("`{id}` is not {what}")))
}

/// A list's query: how many.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// At most this many, newest first (1 to 500; 50 by default).
    limit: Option<i64>,
}

/// A list's `limit`: 50 by default, 1 to 500.
fn check_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=500).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", "`limit` must be 1 to 500"))
    }
}

/// The body of a step a person takes and must explain: a rejection, a
/// partner's suspension or offboarding.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why, in the person's words (required, at most 1,000 characters):
    /// recorded with the step and shown to the partner.
    reason: String,
}

/// A period's query: `[from, to)`, Unix seconds.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Its start (Unix seconds, inclusive).
    from: i64,
    /// Its end (Unix seconds, exclusive).
    to: i64,
}
