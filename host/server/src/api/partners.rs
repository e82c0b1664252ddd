//! Partners: create and read them, their keys, their statements and the
//! steps of their lifecycle; the company's API keys.

use super::{ApiError, AppState, Auth, Body, Created, Period, Query, ReasonBody};
use crate::openapi::Api;
use crate::service::now;
use crate::store::{KeyRow, PartnerRow, PartnerStep};
use crate::workflows::{Certify, NewPartner, PartnerUpdate, Statement, TierOverride};
use axum::Json;
use axum::extract::{MatchedPath, Path, State};
use serde::Serialize;

pub(super) fn routes(api: &mut Api) {
    api.post("/v1/partners", "Create a partner (admin, manager)", create_partner)
        .get("/v1/partners", "Every partner (admin, manager)", list_partners)
        .get("/v1/partners/{id}", "One partner", get_partner)
        .patch(
            "/v1/partners/{id}",
            "Change a partner's name, territories, manager or contact (admin, manager): the fields given; `null` \
             clears the manager or the contact",
            update_partner,
        )
        .put(
            "/v1/partners/{id}/certifications/{name}",
            "Issue or renew a certification with its expiry (admin, manager); the partner hears 30 days before it \
             expires",
            certify,
        )
        .post(
            "/v1/partners/{id}/tier",
            "Set a partner's tier by hand, with a reason (admin, manager): in the decision log with who did it",
            override_tier,
        )
        .post("/v1/partners/{id}/keys", "An API key bound to the partner (shown once), with its id", create_key)
        .get("/v1/partners/{id}/statement", "Commission lines due in [`from`, `to`) with totals", statement)
        .post(
            "/v1/partners/{id}/suspend",
            "Suspend a partner (admin, manager): no new registrations; earned lines still paid",
            step,
        )
        .post("/v1/partners/{id}/reactivate", "Reactivate a suspended partner (admin, manager)", step)
        .post(
            "/v1/partners/{id}/offboard",
            "Offboard a partner (admin, manager): no leads, its open registrations released; earned lines still paid",
            step,
        )
        .get("/v1/keys", "The company's API keys, by id: role, partner, created, revoked (admin)", list_keys)
        .delete("/v1/keys/{id}", "Revoke an API key (admin; not the key making the request)", revoke_key);
}

async fn create_partner(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewPartner>,
) -> Result<Created<PartnerRow>, ApiError> {
    Ok(Created(service.create_partner(&caller, new, now()).await?))
}

/// Partners.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Partners {
    /// Every partner of the company.
    pub partners: Vec<PartnerRow>,
}

async fn list_partners(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Partners>, ApiError> {
    Ok(Json(Partners { partners: service.partners(&caller).await? }))
}

async fn get_partner(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<PartnerRow>, ApiError> {
    Ok(Json(service.partner(&caller, &id).await?))
}

async fn update_partner(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(update): Body<PartnerUpdate>,
) -> Result<Json<PartnerRow>, ApiError> {
    Ok(Json(service.update_partner(&caller, &id, update).await?))
}

async fn certify(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path((id, name)): Path<(String, String)>,
    Body(certify): Body<Certify>,
) -> Result<Json<PartnerRow>, ApiError> {
    Ok(Json(service.certify_partner(&caller, &id, &name, certify).await?))
}

async fn override_tier(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(request): Body<TierOverride>,
) -> Result<Json<PartnerRow>, ApiError> {
    Ok(Json(service.override_tier(&caller, &id, request, now()).await?))
}

/// A new partner-bound API key.
#[derive(Serialize, schemars::JsonSchema)]
pub struct NewKey {
    /// The partner it acts for.
    pub partner_id: String,
    /// The key itself: shown this once, stored only as a hash.
    pub key: String,
    /// Its id, to list or revoke it (`/v1/keys/{id}`).
    pub id: String,
}

async fn create_key(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Created<NewKey>, ApiError> {
    let key = service.create_partner_key(&caller, &id).await?;
    let key_id = crate::store::key_id(&crate::service::key_hash(&key));
    Ok(Created(NewKey { partner_id: id, key, id: key_id }))
}

async fn statement(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Query(period): Query<Period>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(service.statement(&caller, &id, period.from, period.to).await?))
}

/// A partner after a lifecycle step.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Stepped {
    /// The partner, with its new status.
    pub partner: PartnerRow,
    /// How many of its open registrations were released (offboarding).
    pub released_registrations: u64,
}

/// `POST /v1/partners/{id}/suspend`, `/reactivate` or `/offboard`: the
/// step is the route's last segment.
async fn step(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    route: MatchedPath,
    Body(body): Body<ReasonBody>,
) -> Result<Json<Stepped>, ApiError> {
    let step = match route.as_str().rsplit('/').next() {
        Some("suspend") => PartnerStep::Suspend,
        Some("reactivate") => PartnerStep::Reactivate,
        _ => PartnerStep::Offboard,
    };
    let (partner, released_registrations) = service.partner_step(&caller, &id, step, &body.reason).await?;
    Ok(Json(Stepped { partner, released_registrations }))
}

/// API keys.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Keys {
    /// Every key of the company (never the key itself).
    pub keys: Vec<KeyRow>,
}

async fn list_keys(State(service): State<AppState>, Auth(caller): Auth) -> Result<Json<Keys>, ApiError> {
    Ok(Json(Keys { keys: service.keys(&caller).await? }))
}

async fn revoke_key(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<KeyRow>, ApiError> {
    Ok(Json(service.revoke_key_as(&caller, &id).await?))
}
