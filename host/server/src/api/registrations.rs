//! Deal registration and the managers' review of it.

use super::{ApiError, AppState, Auth, Body, Created, LimitQuery, Query, ReasonBody, check_limit};
use crate::openapi::Api;
use crate::service::now;
use crate::store::RegistrationRow;
use crate::workflows::{ExtensionAnswer, ExtensionRequest, NewRegistration, Review};
use axum::Json;
use axum::extract::{Path, State};
use pactum_core::RegistrationStatus;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: &mut Api) {
    api.post(
        "/v1/registrations",
        "Register a deal: duplicates and conflicts checked, approval hook, protection period",
        register,
    )
    .get("/v1/registrations", "Registrations, newest first", list)
    .get("/v1/registrations/{id}", "One registration", get_one)
    .get("/v1/reviews", "The managers' queue: registrations in manual review, oldest first, with their reason", queue)
    .post(
        "/v1/registrations/{id}/approve",
        "Approve a registration in review (admin, manager): protected for `protection_days` (the program's by \
         default); recorded in the decision log with the reviewer. 409 when it is no longer in review",
        approve,
    )
    .post(
        "/v1/registrations/{id}/reject",
        "Reject a registration in review with a reason (admin, manager); recorded in the decision log with the \
         reviewer. 409 when it is no longer in review",
        reject,
    )
    .post(
        "/v1/registrations/{id}/extension",
        "Ask for more days on an approved registration's protection (its partner, or staff), with a reason. 409 \
         unless approved with no request waiting",
        request_extension,
    )
    .post(
        "/v1/registrations/{id}/extension/grant",
        "Grant an extension request (admin, manager): the protection runs `days` longer (the days asked for by \
         default); in the decision log with who granted it. 409 when no request is waiting",
        grant_extension,
    )
    .post(
        "/v1/registrations/{id}/extension/refuse",
        "Refuse an extension request with a reason (admin, manager); in the decision log. 409 when no request is \
         waiting",
        refuse_extension,
    )
    .get("/v1/extensions", "Extension requests waiting for a manager, oldest first", extensions);
}

async fn request_extension(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<ExtensionRequest>,
) -> Result<Json<RegistrationRow>, ApiError> {
    Ok(Json(service.request_extension(&caller, &id, request).await?))
}

async fn grant_extension(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(answer): Body<ExtensionAnswer>,
) -> Result<Json<RegistrationRow>, ApiError> {
    Ok(Json(service.decide_extension(&caller, &id, true, answer, now()).await?))
}

async fn refuse_extension(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(answer): Body<ExtensionAnswer>,
) -> Result<Json<RegistrationRow>, ApiError> {
    Ok(Json(service.decide_extension(&caller, &id, false, answer, now()).await?))
}

async fn extensions(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Registrations>, ApiError> {
    let limit = check_limit(q.limit)?;
    Ok(Json(Registrations { registrations: service.extension_requests(&caller, limit).await? }))
}

async fn register(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewRegistration>,
) -> Result<Created<RegistrationRow>, ApiError> {
    Ok(Created(service.register_deal(&caller, new, now()).await?))
}

/// `GET /v1/registrations`'s query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationQuery {
    /// Only this partner's (a partner key sees only its own anyway).
    partner: Option<String>,
    /// Only those in this status.
    status: Option<RegistrationStatus>,
    /// At most this many, newest first (1 to 500; 50 by default).
    limit: Option<i64>,
}

/// Registrations.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Registrations {
    /// The registrations.
    pub registrations: Vec<RegistrationRow>,
}

async fn list(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<RegistrationQuery>,
) -> Result<Json<Registrations>, ApiError> {
    let limit = check_limit(q.limit)?;
    let registrations = service.registrations(&caller, q.partner.as_deref(), q.status, limit).await?;
    Ok(Json(Registrations { registrations }))
}

async fn get_one(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<RegistrationRow>, ApiError> {
    Ok(Json(service.registration(&caller, &id).await?))
}

async fn queue(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Registrations>, ApiError> {
    let limit = check_limit(q.limit)?;
    Ok(Json(Registrations { registrations: service.review_queue(&caller, limit).await? }))
}

/// `POST /v1/registrations/{id}/approve`.
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Days of protection from now (1 to 3650); the program's
    /// `protection-days` when absent.
    protection_days: Option<u32>,
    /// Why, for the partner; a standard sentence naming the reviewer when absent.
    reason: Option<String>,
}

async fn approve(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<ApproveBody>,
) -> Result<Json<RegistrationRow>, ApiError> {
    let review = Review::Approve { protection_days: body.protection_days, reason: body.reason };
    Ok(Json(service.review_registration(&caller, &id, review, now()).await?))
}

async fn reject(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<ReasonBody>,
) -> Result<Json<RegistrationRow>, ApiError> {
    Ok(Json(service.review_registration(&caller, &id, Review::Reject { reason: body.reason }, now()).await?))
}
