//! The monthly scorecard: the tier hook per partner.

use super::{ApiError, AppState, Auth};
use crate::openapi::Api;
use crate::store::ScorecardRow;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

pub(super) fn routes(api: &mut Api) {
    api.post("/v1/scorecards/{period}", "Run the monthly scorecard (`YYYY-MM`): tier hook per partner", run).get(
        "/v1/scorecards/{period}",
        "A month's scorecards",
        get_period,
    );
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
