//! The service and the caller's company: liveness, metrics, this API's
//! document, the program, its metrics, where notifications go and the
//! outbox.

use super::{ApiError, AppState, Auth, Body, LimitQuery, Period, Query, Text, check_limit};
use crate::openapi::Api;
use crate::service::Capability;
use crate::store::OutboxEvent;
use crate::workflows::{ProgramMetrics, Rates, RatesIn};
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(super) fn routes(api: &mut Api) {
    api.get("/healthz", "Liveness", health)
        .get("/metrics", "Prometheus metrics (text)", metrics)
        .get("/openapi.json", "This document", openapi)
        .get("/v1/program", "The caller's company: parameters, limits, plugin per hook", program)
        .get("/v1/program/metrics", "Program metrics in [`from`, `to`) beside the seed's benchmarks", program_metrics)
        .put(
            "/v1/program/rates/{period}",
            "A month's conversion rates for the program's other currencies (admin): units of the program currency \
             one unit is worth, as decimals (`{\"rates\": {\"EUR\": \"1.0842\"}}`); tiers and program revenue \
             convert deals in other currencies with them",
            set_rates,
        )
        .get("/v1/program/rates/{period}", "A month's conversion rates, in millionths", get_rates)
        .put("/v1/webhook", "Where notifications go (admin)", set_webhook)
        .get("/v1/notifications", "The outbox and delivery state (staff)", notifications);
}

/// `GET /healthz`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn metrics(State(service): State<AppState>) -> Text {
    Text(service.metrics().render())
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// The caller's company.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ProgramView {
    /// Who it is.
    pub company: Company,
    /// The sha256 of the plugin serving each hook, by hook.
    pub plugins: BTreeMap<String, String>,
    /// Per-call limits (`[limits]` of its program).
    pub limits: serde_json::Value,
    /// Its parameters, sorted by name.
    pub params: serde_json::Value,
}

/// A company.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Company {
    /// Its slug (tenant id).
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// Its program's currency (ISO 4217).
    pub currency: String,
}

async fn program(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<ProgramView>, ApiError> {
    caller.require(Capability::ReadProgram)?;
    let tenant = service.tenant(&caller.tenant)?;
    let p = &tenant.program;
    let to_value = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| crate::service::ServiceError::Internal(e.to_string()))
    };
    Ok(Json(ProgramView {
        company: Company { slug: p.slug.clone(), name: p.name.clone(), currency: p.currency.clone() },
        plugins: service.bindings(&caller.tenant).await?.into_iter().collect(),
        limits: to_value(serde_json::to_value(p.limits))?,
        params: to_value(serde_json::to_value(&p.params))?,
    }))
}

async fn program_metrics(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(period): Query<Period>,
) -> Result<Json<ProgramMetrics>, ApiError> {
    Ok(Json(service.program_metrics(&caller, period.from, period.to).await?))
}

/// `PUT /v1/webhook`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where events are posted (`https://`, or `http://` to a local address).
    url: String,
    /// The secret each post is signed with (HMAC-SHA256, `Pactum-Signature`).
    secret: String,
}

/// Where notifications now go.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Webhook {
    /// The receiver's URL.
    pub url: String,
}

async fn set_webhook(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<WebhookBody>,
) -> Result<Json<Webhook>, ApiError> {
    service.set_webhook(&caller, &body.url, &body.secret).await?;
    Ok(Json(Webhook { url: body.url }))
}

/// The outbox, newest first.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Notifications {
    /// Events and their delivery state.
    pub notifications: Vec<OutboxEvent>,
}

async fn notifications(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Notifications>, ApiError> {
    let limit = check_limit(q.limit)?;
    Ok(Json(Notifications { notifications: service.notifications(&caller, limit).await? }))
}

async fn set_rates(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(period): Path<String>,
    Body(new): Body<RatesIn>,
) -> Result<Json<Rates>, ApiError> {
    Ok(Json(service.set_rates(&caller, &period, new).await?))
}

async fn get_rates(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(period): Path<String>,
) -> Result<Json<Rates>, ApiError> {
    Ok(Json(service.rates(&caller, &period).await?))
}
