//! The decision log: run a hook directly, read the log, replay a decision.

use super::{ApiError, AppState, Auth, Body, Created, Query, check_limit, parse_hook, parse_id};
use crate::openapi::Api;
use crate::service::{Capability, now};
use crate::store::DecisionRow;
use crate::workflows::lifecycle::Replay;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) fn routes(api: &mut Api) {
    // One path for both: `{key}` is a hook name to POST to, or a decision
    // id to GET.
    api.post(
        "/v1/decisions/{key}",
        "Run a hook (`key` = routing, approval, commission, tier-evaluation) on an event; the server adds \
         `input.context` (staff)",
        decide,
    )
    .get("/v1/decisions/{key}", "One decision by id (`key`), with its call record", get_decision)
    .get("/v1/decisions", "Latest decisions, newest first (staff)", list_decisions)
    .get(
        "/v1/decisions/{key}/replay",
        "Run a recorded decision (`key` = its id) again through the plugin it records; compare",
        replay,
    );
}

/// `POST /v1/decisions/{hook}`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    /// Unix seconds; the server's clock when absent.
    event_time: Option<i64>,
    /// The hook's input without `context`.
    input: Value,
}

async fn decide(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(hook): Path<String>,
    Body(body): Body<DecideBody>,
) -> Result<Created<DecisionRow>, ApiError> {
    caller.require(Capability::ReadDecisions)?;
    let hook = parse_hook(&hook)?;
    Ok(Created(service.decide(&caller.tenant, hook, body.event_time.unwrap_or_else(now), body.input).await?))
}

/// `GET /v1/decisions`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this hook's decisions: routing, approval, commission or tier-evaluation.
    hook: Option<String>,
    /// At most this many, newest first (1 to 500; 50 by default).
    limit: Option<i64>,
}

/// Decisions, newest first.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Decisions {
    /// The decisions.
    pub decisions: Vec<DecisionRow>,
}

async fn list_decisions(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<Decisions>, ApiError> {
    caller.require(Capability::ReadDecisions)?;
    let hook = query.hook.as_deref().map(parse_hook).transpose()?;
    let limit = check_limit(query.limit)?;
    Ok(Json(Decisions { decisions: service.decisions(&caller.tenant, hook, limit).await? }))
}

async fn get_decision(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<DecisionRow>, ApiError> {
    caller.require(Capability::ReadDecisions)?;
    let id = parse_id(&id, "a decision id")?;
    Ok(Json(service.decision(&caller.tenant, id).await?))
}

async fn replay(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Replay>, ApiError> {
    let id = parse_id(&id, "a decision id")?;
    Ok(Json(service.replay(Some(&caller), id).await?))
}
