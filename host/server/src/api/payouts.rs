//! Payouts: the steps people take on commission lines and the payout run.

use super::{ApiError, AppState, Auth, Body, Created, Csv, Query, parse_id};
use crate::openapi::Api;
use crate::store::{CommissionLineRow, LineStepped, PayoutRunRow};
use crate::workflows::{LineQuery, LineStepRequest, NewRun, PayoutRunDetail};
use axum::Json;
use axum::extract::{Path, State};
use pactum_core::LineStep;
use serde::Serialize;

pub(super) fn routes(api: &mut Api) {
    api.get(
        "/v1/lines",
        "Commission lines by status and partner, oldest first (`status=disputed`: the managers' queue; a partner \
         key sees its own)",
        list,
    )
    .get("/v1/lines/{id}", "One commission line", get_one)
    .post(
        "/v1/lines/{id}/hold",
        "Hold a pending line (admin, manager): no payout run pays it until it is released. 409 unless pending",
        hold,
    )
    .post("/v1/lines/{id}/release", "Release a held line back to pending (admin, manager). 409 unless held", release)
    .post("/v1/lines/{id}/void", "Void a held line with a reason (admin, manager): never paid. 409 unless held", void)
    .post(
        "/v1/lines/{id}/dispute",
        "Dispute a pending line (its partner, or staff): no payout run pays it until a manager resolves it. 409 \
         unless pending",
        dispute,
    )
    .post(
        "/v1/lines/{id}/resolve",
        "Resolve a dispute (admin, manager): with `amount`, an adjustment line linked to the line; without, the \
         dispute is rejected with the reason. The line is pending again. 409 unless disputed",
        resolve,
    )
    .post(
        "/v1/lines/{id}/adjust",
        "Add an adjustment line (`amount`, positive or negative) linked to a line (admin, manager); paid with it, or \
         by the next run when it was paid already. 409 for a voided line",
        adjust,
    )
    .post(
        "/v1/payout-runs",
        "Pay a period (admin, manager): each partner's pending lines due before the period's end, per currency, when \
         the balance reaches the program's `payout-minimum`; the rest is carried over. 409 while the period's review \
         window is open, or when it was paid already",
        run,
    )
    .get("/v1/payout-runs", "The payout runs, newest first", runs)
    .get("/v1/payout-runs/{id}", "One payout run with its payouts", get_run)
    .get("/v1/payout-runs/{id}/csv", "A payout run as CSV for the finance system, one row per payout", csv);
}

/// Commission lines.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Lines {
    /// The lines, oldest first.
    pub lines: Vec<CommissionLineRow>,
}

async fn list(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<LineQuery>,
) -> Result<Json<Lines>, ApiError> {
    Ok(Json(Lines { lines: service.lines(&caller, q).await? }))
}

async fn get_one(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<CommissionLineRow>, ApiError> {
    let id = parse_id(&id, "a line id")?;
    Ok(Json(service.line(&caller, id).await?))
}

async fn step(
    service: AppState,
    caller: crate::service::Caller,
    id: &str,
    step: LineStep,
    request: LineStepRequest,
) -> Result<Json<LineStepped>, ApiError> {
    let id = parse_id(id, "a line id")?;
    Ok(Json(service.line_step(&caller, id, step, request).await?))
}

async fn hold(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<LineStepRequest>,
) -> Result<Json<LineStepped>, ApiError> {
    step(service, caller, &id, LineStep::Hold, request).await
}

async fn release(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<LineStepRequest>,
) -> Result<Json<LineStepped>, ApiError> {
    step(service, caller, &id, LineStep::Release, request).await
}

async fn void(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<LineStepRequest>,
) -> Result<Json<LineStepped>, ApiError> {
    step(service, caller, &id, LineStep::Void, request).await
}

async fn dispute(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<LineStepRequest>,
) -> Result<Json<LineStepped>, ApiError> {
    step(service, caller, &id, LineStep::Dispute, request).await
}

async fn resolve(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<LineStepRequest>,
) -> Result<Json<LineStepped>, ApiError> {
    step(service, caller, &id, LineStep::Resolve, request).await
}

async fn adjust(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<LineStepRequest>,
) -> Result<Json<LineStepped>, ApiError> {
    step(service, caller, &id, LineStep::Adjust, request).await
}

async fn run(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewRun>,
) -> Result<Created<PayoutRunRow>, ApiError> {
    Ok(Created(service.run_payouts(&caller, new).await?))
}

/// Payout runs.
#[derive(Serialize, schemars::JsonSchema)]
pub struct PayoutRuns {
    /// The runs, newest period first.
    pub runs: Vec<PayoutRunRow>,
}

async fn runs(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<PayoutRuns>, ApiError> {
    Ok(Json(PayoutRuns { runs: service.payout_runs(&caller).await? }))
}

async fn get_run(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<PayoutRunDetail>, ApiError> {
    let id = parse_id(&id, "a payout run id")?;
    Ok(Json(service.payout_run(&caller, id).await?))
}

async fn csv(State(service): State<AppState>, Auth(caller): Auth, Path(id): Path<String>) -> Result<Csv, ApiError> {
    let id = parse_id(&id, "a payout run id")?;
    let body = service.payout_csv(&caller, id).await?;
    Ok(Csv { filename: format!("payout-run-{id}.csv"), body })
}
