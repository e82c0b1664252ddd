//! The plugin lifecycle: publish a component, bind it to a hook (four eyes
//! where the company asks for them), roll back, shadow it on live traffic,
//! backtest it on recorded decisions. Admin keys only.

use super::{ApiError, AppState, Auth, Body, CreatedOrExisting, NoContent, Query, WasmBody, parse_hook, parse_id};
use crate::openapi::{Api, DocResponse, Operation};
use crate::store::{ActivationRequestRow, BindingChangeRow, PublicationRow};
use crate::workflows::lifecycle::{Activation, Backtest, FixturePolicy, Published, ShadowReport};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemars::SchemaGenerator;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where components are published: the one route whose body is a
/// component, with the server's component limit.
pub const PLUGINS: &str = "/v1/plugins";

pub(super) fn routes(api: &mut Api) {
    api.post(
        PLUGINS,
        "Publish a component (body: its bytes, `application/wasm`; query: `name`, `version`): validated, compiled, \
         its company's fixtures run, stored, not live (admin). 201 when new, 200 when these bytes were published \
         before; `cold_start` reports the compile time (or cache load), the compiled size and the first call's \
         time. 413 over the company's `[limits] component-bytes` or the server's limit",
        publish,
    )
    .get(PLUGINS, "The company's published plugins, newest first (admin)", list)
    .get("/v1/bindings", "The plugin serving each hook, and every change of the bindings (admin)", bindings)
    .put(
        "/v1/bindings/{hook}",
        "Make a published plugin serve the hook, atomically: calls already started finish on the old one (admin). \
         200 when live; 202 when the company's four-eyes rule makes it wait for a second admin",
        activate,
    )
    .post(
        "/v1/bindings/{hook}/rollback",
        "Bind the hook back to the plugin it had before its latest change (admin)",
        rollback,
    )
    .get("/v1/activations", "Activation requests of a four-eyes company, newest first (admin)", activations)
    .post(
        "/v1/activations/{id}/approve",
        "A second admin (not the requester, not the publisher) approves a pending activation: it goes live",
        approve_activation,
    )
    .post(
        "/v1/backtests",
        "Replay the company's recorded decisions of a period through a published plugin; what would change (admin)",
        backtest,
    )
    .put(
        "/v1/shadows/{hook}",
        "Run a published plugin beside the live one on live traffic, never acted on (admin)",
        start_shadow,
    )
    .get("/v1/shadows/{hook}", "How often the shadow agrees with the live plugin, and where not (admin)", shadow_report)
    .delete("/v1/shadows/{hook}", "Stop the shadow; its results stay recorded (admin)", stop_shadow);
}

fn fixture_policy(override_fixtures: bool) -> FixturePolicy {
    if override_fixtures { FixturePolicy::Override } else { FixturePolicy::Enforce }
}

/// `POST /v1/plugins`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishQuery {
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

async fn publish(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<PublishQuery>,
    WasmBody(wasm): WasmBody,
) -> Result<CreatedOrExisting<Published>, ApiError> {
    let hook = q.hook.as_deref().map(parse_hook).transpose()?;
    let published =
        service.publish_plugin(&caller, &q.name, &q.version, hook, fixture_policy(q.override_fixtures), wasm).await?;
    Ok(CreatedOrExisting { created: published.created, value: published })
}

/// Published plugins.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Plugins {
    /// Newest first.
    pub plugins: Vec<PublicationRow>,
}

async fn list(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Plugins>, ApiError> {
    Ok(Json(Plugins { plugins: service.publications(&caller).await? }))
}

/// `GET /v1/bindings`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HookQuery {
    /// Only this hook's binding changes.
    hook: Option<String>,
}

/// The bindings and their history.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Bindings {
    /// The sha256 of the plugin serving each hook, by hook.
    pub bindings: BTreeMap<String, String>,
    /// Every change, newest first.
    pub changes: Vec<BindingChangeRow>,
}

async fn bindings(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<HookQuery>,
) -> Result<Json<Bindings>, ApiError> {
    let hook = q.hook.as_deref().map(parse_hook).transpose()?;
    let changes = service.binding_changes(&caller, hook).await?;
    Ok(Json(Bindings { bindings: service.bindings(&caller.tenant).await?.into_iter().collect(), changes }))
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

/// What an activation answers: 200 with the binding change when live, 202
/// with the request when it waits for a second admin.
pub struct Activated(Activation);

impl IntoResponse for Activated {
    fn into_response(self) -> Response {
        match self.0 {
            Activation::Live(change) => (StatusCode::OK, Json(change)).into_response(),
            Activation::Pending(request) => (StatusCode::ACCEPTED, Json(request)).into_response(),
        }
    }
}

impl DocResponse for Activated {
    fn document(op: &mut Operation, schemas: &mut SchemaGenerator) {
        Json::<BindingChangeRow>::document(op, schemas);
        op.respond(202, Some(("application/json", schemas.subschema_for::<ActivationRequestRow>())));
    }
}

async fn activate(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
    Body(body): Body<ActivateBody>,
) -> Result<Activated, ApiError> {
    let hook = parse_hook(&hook)?;
    let policy = fixture_policy(body.override_fixtures);
    Ok(Activated(service.activate(&caller, hook, &body.plugin, &body.reason, policy).await?))
}

/// Activation requests.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Activations {
    /// Newest first.
    pub activations: Vec<ActivationRequestRow>,
}

async fn activations(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Activations>, ApiError> {
    Ok(Json(Activations { activations: service.activation_requests(&caller).await? }))
}

async fn approve_activation(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<BindingChangeRow>, ApiError> {
    let id = parse_id(&id, "an activation request id")?;
    Ok(Json(service.approve_activation(&caller, id).await?))
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
) -> Result<Json<BindingChangeRow>, ApiError> {
    let hook = parse_hook(&hook)?;
    Ok(Json(service.rollback(&caller, hook, &body.reason).await?))
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
) -> Result<Json<Backtest>, ApiError> {
    let hook = parse_hook(&body.hook)?;
    Ok(Json(service.backtest_published(&caller, hook, body.from, body.to, &body.plugin).await?))
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
) -> Result<Json<ShadowReport>, ApiError> {
    Ok(Json(service.start_shadow(&caller, parse_hook(&hook)?, &body.plugin).await?))
}

async fn shadow_report(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
) -> Result<Json<ShadowReport>, ApiError> {
    Ok(Json(service.shadow_report(&caller, parse_hook(&hook)?).await?))
}

async fn stop_shadow(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
) -> Result<NoContent, ApiError> {
    service.stop_shadow(&caller, parse_hook(&hook)?).await?;
    Ok(NoContent)
}
