//! The HTTP API (axum): JSON over `/v1`, bearer API keys, one error shape.
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | liveness |
//! | `GET /metrics` | Prometheus metrics |
//! | `GET /openapi.json` | the OpenAPI 3.1 document, generated from the code ([`crate::openapi`]) |
//! | `GET /v1/program` | the caller's company: parameters, limits, the plugin bound to each hook |
//! | `POST /v1/decisions/{hook}` | run a hook on an event: `{"event_time": <unix s, optional>, "input": {...}}` |
//! | `GET /v1/decisions?hook=&limit=` | the latest decisions, newest first |
//! | `GET /v1/decisions/{id}` | one decision, with its full call record |
//! | `POST /v1/partners`, `GET /v1/partners`, `GET /v1/partners/{id}` | partners |
//! | `POST /v1/partners/{id}/keys` | an API key bound to that partner |
//! | `GET /v1/partners/{id}/statement?from=&to=` | commission lines due in a period, with totals |
//! | `POST /v1/registrations`, `GET /v1/registrations?partner=&status=&limit=`, `GET /v1/registrations/{id}` | deal registration |
//! | `POST /v1/deals`, `GET /v1/deals/{id}` | deals and their commission lines |
//! | `POST /v1/deals/{id}/won`, `/lost`, `/refund` | close a deal (commission), lose it, refund it (clawback) |
//! | `POST /v1/leads`, `GET /v1/leads?partner=&limit=`, `GET /v1/leads/{id}` | lead routing |
//! | `POST /v1/scorecards/{period}`, `GET /v1/scorecards/{period}` | run / read the monthly scorecard (`YYYY-MM`) |
//! | `GET /v1/program/metrics?from=&to=` | program metrics beside the seed's good/great benchmarks |
//! | `PUT /v1/webhook` | where notifications go: `{"url": "https://...", "secret": "..."}` (admin) |
//! | `GET /v1/notifications?limit=` | the outbox: events and their delivery state |
//! | `POST /v1/plugins?name=&version=&hook=&override_fixtures=` | publish a component (the body, `application/wasm`): validated, its company's fixtures run, stored, not live (admin) |
//! | `GET /v1/plugins` | the company's published plugins (admin) |
//! | `GET /v1/bindings?hook=` | the plugin serving each hook and every change of it (admin) |
//! | `PUT /v1/bindings/{hook}` | make a published plugin serve a hook: `{"plugin": "<sha256>", "reason": "...", "override_fixtures": false}` (admin) |
//! | `GET /v1/activations`, `POST /v1/activations/{id}/approve` | four-eyes companies: pending activations; a second admin approves one (admin) |
//! | `POST /v1/bindings/{hook}/rollback` | bind the hook back to its previous plugin: `{"reason": "..."}` (admin) |
//! | `GET /v1/decisions/{id}/replay` | run a recorded decision again through its plugin and compare |
//! | `PUT /v1/shadows/{hook}`, `GET`, `DELETE` | run a published plugin beside the live one on live traffic (`{"plugin": "<sha256>"}`), see how often it agrees and where not, stop it (admin) |
//! | `POST /v1/backtests` | what a published plugin would have decided over a period: `{"hook", "from", "to", "plugin"}` (admin) |
//!
//! Every POST accepts an `Idempotency-Key` header: a retry with the same key
//! (and the same API key) gets the first response back, marked
//! `Idempotent-Replayed: true`, and creates nothing new.
//!
//! Errors are `{"error": {"code": "...", "message": "..."}}` with 400/422
//! for bad input (naming the field), 401 without a valid key, 404 for
//! what does not exist for the caller's tenant, 409 for conflicts.

use crate::runtime::HookKind;
use crate::runtime::types::Money;
use crate::service::{Caller, Capability, Service, ServiceError, now};
use crate::workflows::lifecycle::{Activation, FixturePolicy};
use crate::workflows::{NewDeal, NewLead, NewPartner, NewRegistration, Review};
use axum::extract::FromRequest;
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
        .route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/v1/program", get(program))
        .route("/v1/decisions", get(list_decisions))
        // One path for both: `{key}` is a hook name to POST to, or a
        // decision id to GET.
        .route("/v1/decisions/{key}", post(decide).get(get_decision))
        .route("/v1/partners", post(create_partner).get(list_partners))
        .route("/v1/partners/{id}", get(get_partner))
        .route("/v1/partners/{id}/keys", post(create_partner_key))
        .route("/v1/partners/{id}/suspend", post(partner_step))
        .route("/v1/partners/{id}/reactivate", post(partner_step))
        .route("/v1/partners/{id}/offboard", post(partner_step))
        .route("/v1/keys", get(list_keys))
        .route("/v1/keys/{id}", axum::routing::delete(revoke_key))
        .route("/v1/partners/{id}/statement", get(statement))
        .route("/v1/registrations", post(register_deal).get(list_registrations))
        .route("/v1/registrations/{id}", get(get_registration))
        .route("/v1/registrations/{id}/approve", post(approve_registration))
        .route("/v1/registrations/{id}/reject", post(reject_registration))
        .route("/v1/reviews", get(review_queue))
        .route("/v1/deals", post(create_deal))
        .route("/v1/deals/{id}", get(get_deal))
        .route("/v1/deals/{id}/won", post(win_deal))
        .route("/v1/deals/{id}/refund", post(refund_deal))
        .route("/v1/deals/{id}/lost", post(lose_deal))
        .route("/v1/leads", post(route_lead).get(list_leads))
        .route("/v1/leads/{id}", get(get_lead))
        .route("/v1/scorecards/{period}", post(run_scorecards).get(get_scorecards))
        .route("/v1/program/metrics", get(program_metrics))
        .route("/v1/webhook", axum::routing::put(set_webhook))
        .route("/v1/notifications", get(notifications))
        .route(
            "/v1/plugins",
            post(publish_plugin)
                .get(list_plugins)
                .layer(axum::extract::DefaultBodyLimit::max(service.runtime().config().max_component_bytes + 1)),
        )
        .route("/v1/bindings", get(list_bindings))
        .route("/v1/bindings/{hook}", axum::routing::put(activate))
        .route("/v1/bindings/{hook}/rollback", post(rollback))
        .route("/v1/activations", get(list_activations))
        .route("/v1/activations/{id}/approve", post(approve_activation))
        .route("/v1/decisions/{key}/replay", get(replay))
        .route("/v1/backtests", post(backtest))
        .route("/v1/shadows/{hook}", get(shadow_report).put(start_shadow).delete(stop_shadow))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such route") })
        .layer(middleware::from_fn_with_state(service.clone(), idempotency))
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
async fn idempotency(State(service): State<AppState>, request: Request, next: Next) -> Response {
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
    let limit = if request.uri().path() == "/v1/plugins" {
        service.runtime().config().max_component_bytes + 1
    } else {
        2 << 20
    };
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
    match tokio::spawn(run).await {
        Ok(response) => response,
        Err(e) => ApiError::from(ServiceError::Internal(format!("idempotent request task: {e}"))).into_response(),
    }
}

async fn metrics(State(service): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], service.metrics().render())
}

async fn program(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    caller.require(Capability::ReadProgram)?;
    let tenant = service.tenant(&caller.tenant)?;
    let p = &tenant.program;
    let bindings: serde_json::Map<String, Value> =
        service.bindings(&caller.tenant).await?.into_iter().map(|(hook, hash)| (hook, Value::String(hash))).collect();
    Ok(Json(json!({
        "company": { "slug": p.slug, "name": p.name, "currency": p.currency },
        "plugins": bindings,
        "limits": p.limits,
        "params": p.params,
    })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecideBody {
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
    Auth(caller): Auth,
    Path(hook): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Capability::ReadDecisions)?;
    let body = body.map_err(body_rejected)?;
    let hook = parse_hook(&hook)?;
    let body: DecideBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            format!("the body must be {{\"event_time\"?, \"input\"}}: {e}"),
        )
    })?;
    let row = service.decide(&caller.tenant, hook, body.event_time.unwrap_or_else(now), body.input).await?;
    Ok((StatusCode::CREATED, to_json(&row)?))
}

/// `GET /v1/decisions`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only this hook's decisions: routing, approval, commission or tier-evaluation.
    hook: Option<String>,
    /// At most this many, newest first (1 to 500; 100 by default).
    limit: Option<i64>,
}

async fn list_decisions(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Capability::ReadDecisions)?;
    let query = parse_query(query)?;
    let hook = query.hook.as_deref().map(parse_hook).transpose()?;
    let limit = check_limit(query.limit)?;
    let rows = service.decisions(&caller.tenant, hook, limit).await?;
    Ok(Json(json!({ "decisions": rows })))
}

async fn get_decision(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Capability::ReadDecisions)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid-id", format!("`{id}` is not a decision id")))?;
    let row = service.decision(&caller.tenant, id).await?;
    to_json(&row)
}

/// A JSON body whose errors name the field: 400 when it is not JSON, 422
/// when a field is missing or of the wrong type.
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

/// A query string, or 400 naming what is wrong with it.
fn parse_query<T>(query: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))
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

fn to_json<T: serde::Serialize>(value: &T) -> Result<Json<Value>, ApiError> {
    Ok(Json(serde_json::to_value(value).map_err(|e| ServiceError::Internal(e.to_string()))?))
}

async fn create_partner(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewPartner>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, to_json(&service.create_partner(&caller, new, now()).await?)?))
}

async fn list_partners(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "partners": service.partners(&caller).await? })))
}

async fn get_partner(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    to_json(&service.partner(&caller, &id).await?)
}

async fn create_partner_key(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = service.create_partner_key(&caller, &id).await?;
    let key_id = crate::store::key_id(&crate::service::key_hash(&key));
    Ok((StatusCode::CREATED, Json(json!({ "partner_id": id, "key": key, "id": key_id }))))
}

/// The body of a step a person takes and must explain: a rejection, a
/// partner's suspension or offboarding.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonBody {
    /// Why, in the person's words (required, at most 1,000 characters):
    /// recorded with the step and shown to the partner.
    reason: String,
}

/// `POST /v1/partners/{id}/suspend`, `/reactivate` or `/offboard`: the
/// step is the route's last segment.
async fn partner_step(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    route: MatchedPath,
    Body(body): Body<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    use crate::store::PartnerStep;
    let step = match route.as_str().rsplit('/').next() {
        Some("suspend") => PartnerStep::Suspend,
        Some("reactivate") => PartnerStep::Reactivate,
        _ => PartnerStep::Offboard,
    };
    let (partner, released) = service.partner_step(&caller, &id, step, &body.reason).await?;
    Ok(Json(json!({ "partner": partner, "released_registrations": released })))
}

async fn list_keys(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "keys": service.keys(&caller).await? })))
}

async fn revoke_key(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    to_json(&service.revoke_key_as(&caller, &id).await?)
}

/// A period's query: `[from, to)`, Unix seconds.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Period {
    /// Its start (Unix seconds, inclusive).
    from: i64,
    /// Its end (Unix seconds, exclusive).
    to: i64,
}

async fn statement(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    query: Result<Query<Period>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let period = parse_query(query)?;
    to_json(&service.statement(&caller, &id, period.from, period.to).await?)
}

async fn register_deal(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewRegistration>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, to_json(&service.register_deal(&caller, new, now()).await?)?))
}

/// `GET /v1/registrations`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistrationQuery {
    /// Only this partner's (a partner key sees only its own anyway).
    partner: Option<String>,
    /// Only those in this status: submitted, approved, rejected, review, won, lost or expired.
    status: Option<String>,
    /// At most this many, newest first (1 to 500; 100 by default).
    limit: Option<i64>,
}

async fn list_registrations(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<RegistrationQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = parse_query(query)?;
    let limit = check_limit(q.limit)?;
    let rows = service.registrations(&caller, q.partner.as_deref(), q.status.as_deref(), limit).await?;
    Ok(Json(json!({ "registrations": rows })))
}

async fn get_registration(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    to_json(&service.registration(&caller, &id).await?)
}

async fn create_deal(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewDeal>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, to_json(&service.create_deal(&caller, new, now()).await?)?))
}

fn deal_json(
    (deal, lines): (crate::store::DealRow, Vec<crate::store::CommissionLineRow>),
) -> Result<Json<Value>, ApiError> {
    let mut value = serde_json::to_value(deal).map_err(|e| ServiceError::Internal(e.to_string()))?;
    value["commission_lines"] = serde_json::to_value(lines).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Json(value))
}

async fn get_deal(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    deal_json(service.deal(&caller, &id).await?)
}

/// `POST /v1/registrations/{id}/approve`.
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    /// Days of protection from now (1 to 3650); the program's
    /// `protection-days` when absent.
    protection_days: Option<u32>,
    /// Why, for the partner; a standard sentence naming the reviewer when absent.
    reason: Option<String>,
}

async fn approve_registration(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<ApproveBody>,
) -> Result<Json<Value>, ApiError> {
    let review = Review::Approve { protection_days: body.protection_days, reason: body.reason };
    to_json(&service.review_registration(&caller, &id, review, now()).await?)
}

async fn reject_registration(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    to_json(&service.review_registration(&caller, &id, Review::Reject { reason: body.reason }, now()).await?)
}

async fn review_queue(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<LimitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let limit = check_limit(parse_query(query)?.limit)?;
    Ok(Json(json!({ "registrations": service.review_queue(&caller, limit).await? })))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WonBody {
    /// When the deal closed; now when absent.
    closed_at: Option<i64>,
}

async fn win_deal(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<WonBody>,
) -> Result<Json<Value>, ApiError> {
    deal_json(service.win_deal(&caller, &id, body.closed_at.unwrap_or_else(now)).await?)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundBody {
    /// How much the customer was refunded.
    amount: Money,
    /// When; now when absent.
    at: Option<i64>,
}

async fn refund_deal(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<RefundBody>,
) -> Result<Json<Value>, ApiError> {
    deal_json(service.refund_deal(&caller, &id, body.amount, body.at.unwrap_or_else(now)).await?)
}

async fn lose_deal(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<WonBody>,
) -> Result<Json<Value>, ApiError> {
    deal_json(service.lose_deal(&caller, &id, body.closed_at.unwrap_or_else(now)).await?)
}

async fn route_lead(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewLead>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, to_json(&service.route_lead(&caller, new, now()).await?)?))
}

/// `GET /v1/leads`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadQuery {
    /// Only leads routed to this partner.
    partner: Option<String>,
    /// At most this many, newest first (1 to 500; 100 by default).
    limit: Option<i64>,
}

async fn list_leads(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<LeadQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = parse_query(query)?;
    let limit = check_limit(q.limit)?;
    Ok(Json(json!({ "leads": service.leads(&caller, q.partner.as_deref(), limit).await? })))
}

async fn get_lead(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    to_json(&service.lead(&caller, &id).await?)
}

async fn run_scorecards(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(period): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "period": period, "scorecards": service.run_scorecards(&caller, &period).await? })))
}

async fn get_scorecards(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(period): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "period": period, "scorecards": service.scorecards(&caller, &period).await? })))
}

async fn program_metrics(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<Period>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let period = parse_query(query)?;
    to_json(&service.program_metrics(&caller, period.from, period.to).await?)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    url: String,
    secret: String,
}

async fn set_webhook(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<WebhookBody>,
) -> Result<Json<Value>, ApiError> {
    service.set_webhook(&caller, &body.url, &body.secret).await?;
    Ok(Json(json!({ "url": body.url })))
}

/// A list's query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitQuery {
    /// At most this many, newest first (1 to 500; 100 by default).
    limit: Option<i64>,
}

async fn notifications(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<LimitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = parse_query(query)?;
    let limit = check_limit(q.limit)?;
    Ok(Json(json!({ "notifications": service.notifications(&caller, limit).await? })))
}

/// `POST /v1/plugins`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishQuery {
    /// The plugin's name (letters, digits, `-`, `_`, `.`).
    name: String,
    /// Its version label.
    version: String,
    /// The hook it is for: its fixtures run (default: every hook it exports).
    hook: Option<String>,
    /// `true` publishes even if the company's fixtures fail (recorded).
    #[serde(default)]
    override_fixtures: bool,
}

fn fixture_policy(override_fixtures: bool) -> FixturePolicy {
    if override_fixtures { FixturePolicy::Override } else { FixturePolicy::Enforce }
}

async fn publish_plugin(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<PublishQuery>, axum::extract::rejection::QueryRejection>,
    wasm: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let q = parse_query(query)?;
    let limit = service.runtime().config().max_component_bytes;
    let wasm = wasm.map_err(|e| match e.status() {
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
    let hook = q.hook.as_deref().map(parse_hook).transpose()?;
    let published = service
        .publish_plugin(&caller, &q.name, &q.version, hook, fixture_policy(q.override_fixtures), wasm.to_vec())
        .await?;
    let status = if published.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(published)).into_response())
}

async fn list_plugins(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "plugins": service.publications(&caller).await? })))
}

/// `GET /v1/bindings`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HookQuery {
    /// Only this hook's binding changes.
    hook: Option<String>,
}

async fn list_bindings(
    State(service): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<HookQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let hook = parse_query(query)?.hook.as_deref().map(parse_hook).transpose()?;
    let changes = service.binding_changes(&caller, hook).await?;
    let bindings: serde_json::Map<String, Value> =
        service.bindings(&caller.tenant).await?.into_iter().map(|(hook, hash)| (hook, Value::String(hash))).collect();
    Ok(Json(json!({ "bindings": bindings, "changes": changes })))
}

/// `PUT /v1/bindings/{hook}`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateBody {
    /// The published plugin's sha256 (hex).
    pub plugin: String,
    /// Why the binding changes (kept in the history).
    pub reason: String,
    /// `true` activates even if the company's fixtures fail (recorded).
    #[serde(default)]
    pub override_fixtures: bool,
}

async fn activate(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
    Body(body): Body<ActivateBody>,
) -> Result<Response, ApiError> {
    let hook = parse_hook(&hook)?;
    let activation =
        service.activate(&caller, hook, &body.plugin, &body.reason, fixture_policy(body.override_fixtures)).await?;
    let status = match activation {
        Activation::Live(_) => StatusCode::OK,
        Activation::Pending(_) => StatusCode::ACCEPTED,
    };
    Ok((status, Json(activation)).into_response())
}

async fn list_activations(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "activations": service.activation_requests(&caller).await? })))
}

async fn approve_activation(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-id", format!("`{id}` is not an activation request id"))
    })?;
    let change = service.approve_activation(&caller, id).await?;
    to_json(&change)
}

/// `POST /v1/bindings/{hook}/rollback`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// Why (kept in the history).
    #[serde(default)]
    pub reason: String,
}

async fn rollback(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
    Body(body): Body<RollbackBody>,
) -> Result<Json<Value>, ApiError> {
    let hook = parse_hook(&hook)?;
    let change = service.rollback(&caller, hook, &body.reason).await?;
    to_json(&change)
}

async fn replay(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid-id", format!("`{id}` is not a decision id")))?;
    let replay = service.replay(Some(&caller), id).await?;
    to_json(&replay)
}

/// `POST /v1/backtests`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestBody {
    /// The hook whose recorded decisions are replayed.
    pub hook: String,
    /// Events from (Unix seconds, inclusive).
    pub from: i64,
    /// Events to (Unix seconds, exclusive).
    pub to: i64,
    /// The candidate: the sha256 of a plugin the company published.
    pub plugin: String,
}

async fn backtest(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<BacktestBody>,
) -> Result<Json<Value>, ApiError> {
    let hook = parse_hook(&body.hook)?;
    let report = service.backtest_published(&caller, hook, body.from, body.to, &body.plugin).await?;
    to_json(&report)
}

/// `PUT /v1/shadows/{hook}`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowBody {
    /// The sha256 of a plugin the company published.
    pub plugin: String,
}

async fn start_shadow(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
    Body(body): Body<ShadowBody>,
) -> Result<Json<Value>, ApiError> {
    let report = service.start_shadow(&caller, parse_hook(&hook)?, &body.plugin).await?;
    to_json(&report)
}

async fn shadow_report(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let report = service.shadow_report(&caller, parse_hook(&hook)?).await?;
    to_json(&report)
}

async fn stop_shadow(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.stop_shadow(&caller, parse_hook(&hook)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
