//! The monthly scorecard: the tier hook per partner.

use super::{ApiError, AppState, Auth, Body, ReasonBody};
use crate::openapi::Api;
use crate::service::now;
use crate::store::ScorecardRow;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

pub(super) fn routes(api: &mut Api) {
    api.post("/v1/scorecards/{period}", "Run the monthly scorecard (`YYYY-MM`): tier hook per partner", run)
        .get("/v1/scorecards/{period}", "A month's scorecards", get_period)
        .get(
            "/v1/tier-changes",
            "Tier changes waiting for a manager (programs with `tier-approval = true`), oldest period first",
            tier_changes,
        )
        .post(
            "/v1/tier-changes/{partner}/{period}/approve",
            "Approve a scorecard's tier change, with a reason (admin, manager): the partner's tier changes; in the \
         decision log with who approved. 409 when it is not waiting or the partner's tier changed since",
            approve,
        )
        .post(
            "/v1/tier-changes/{partner}/{period}/reject",
            "Reject a scorecard's tier change, with a reason (admin, manager): the partner keeps its tier; in the \
         decision log. 409 when it is not waiting",
            reject,
        );
}

/// Scorecards whose tier change waits for a manager.
#[derive(Serialize, schemars::JsonSchema)]
pub struct TierChanges {
    /// Oldest period first.
    pub scorecards: Vec<ScorecardRow>,
}

async fn tier_changes(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<TierChanges>, ApiError> {
    Ok(Json(TierChanges { scorecards: service.tier_changes(&caller).await? }))
}

async fn approve(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path((partner, period)): Path<(String, String)>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<ScorecardRow>, ApiError> {
    Ok(Json(service.decide_tier_change(&caller, &partner, &period, true, &body.reason, now()).await?))
}

async fn reject(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path((partner, period)): Path<(String, String)>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<ScorecardRow>, ApiError> {
    Ok(Json(service.decide_tier_change(&caller, &partner, &period, false, &body.reason, now()).await?))
}

/// A month's scorecards.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Scorecards {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// One per partner.
    pub scorecards: Vec<ScorecardRow>,
}

async fn run(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(period): Path<String>,
) -> Result<Json<Scorecards>, ApiError> {
    let scorecards = service.run_scorecards(&caller, &period).await?;
    Ok(Json(Scorecards { period, scorecards }))
}

async fn get_period(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(period): Path<String>,
) -> Result<Json<Scorecards>, ApiError> {
    let scorecards = service.scorecards(&caller, &period).await?;
    Ok(Json(Scorecards { period, scorecards }))
}
