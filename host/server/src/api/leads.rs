//! Lead routing.

use super::{ApiError, AppState, Auth, Body, Created, Query, ReasonBody, check_limit};
use crate::openapi::Api;
use crate::service::now;
use crate::store::LeadRow;
use crate::workflows::{LeadAnswer, LeadReport, NewLead};
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: &mut Api) {
    api.post("/v1/leads", "Route a lead: registration, territory or direct", route)
        .get("/v1/leads", "Leads, newest first", list)
        .get("/v1/leads/{id}", "One lead", get_one)
        .post(
            "/v1/leads/{id}/accept",
            "Accept a lead offered to the partner (its key, or staff) before its offer runs out (`respond_by`, the \
             program's `lead-sla-hours` after the offer). 409 when it is no longer offered to that partner",
            accept,
        )
        .post(
            "/v1/leads/{id}/decline",
            "Decline a lead offered to the partner, with a reason: it is routed again at once, without the partners \
             tried so far (a new routing decision). 409 when it is no longer offered to that partner",
            decline,
        )
        .post(
            "/v1/leads/{id}/status",
            "Report on an accepted lead (its partner's key, or staff): contacted, qualified, converted or \
             disqualified, forwards only. 409 otherwise",
            report,
        );
}

async fn accept(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<LeadRow>, ApiError> {
    Ok(Json(service.answer_lead(&caller, &id, LeadAnswer::Accept, now()).await?))
}

async fn decline(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<LeadRow>, ApiError> {
    Ok(Json(service.answer_lead(&caller, &id, LeadAnswer::Decline { reason: body.reason }, now()).await?))
}

async fn report(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(report): Body<LeadReport>,
) -> Result<Json<LeadRow>, ApiError> {
    Ok(Json(service.report_lead(&caller, &id, report, now()).await?))
}

async fn route(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewLead>,
) -> Result<Created<LeadRow>, ApiError> {
    Ok(Created(service.route_lead(&caller, new, now()).await?))
}

/// `GET /v1/leads`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadQuery {
    /// Only leads routed to this partner.
    partner: Option<String>,
    /// At most this many, newest first (1 to 500; 50 by default).
    limit: Option<i64>,
}

/// Leads.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Leads {
    /// The leads.
    pub leads: Vec<LeadRow>,
}

async fn list(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<LeadQuery>,
) -> Result<Json<Leads>, ApiError> {
    let limit = check_limit(q.limit)?;
    Ok(Json(Leads { leads: service.leads(&caller, q.partner.as_deref(), limit).await? }))
}

async fn get_one(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<LeadRow>, ApiError> {
    Ok(Json(service.lead(&caller, &id).await?))
}
