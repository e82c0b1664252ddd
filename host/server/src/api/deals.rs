//! Deals: create and read them, close them won (commission) or lost,
//! refund them (clawback).

use super::{ApiError, AppState, Auth, Body, Created};
use crate::openapi::Api;
use crate::runtime::types::Money;
use crate::service::now;
use crate::store::{CommissionLineRow, DealRow};
use crate::workflows::NewDeal;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: &mut Api) {
    api.post(
        "/v1/deals",
        "Create a deal (admin, manager), or open one from an approved registration (`registration_id`): its \
         partner and account carried over, and closed with the deal. 409 when the registration is not approved",
        create,
    )
    .get("/v1/deals/{id}", "A deal with its `commission_lines`", get_one)
    .post("/v1/deals/{id}/won", "Close won: commission hook, lines due on the payment terms", won)
    .post("/v1/deals/{id}/lost", "Close lost", lost)
    .post("/v1/deals/{id}/refund", "Refund: commission hook claws back", refund);
}

async fn create(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewDeal>,
) -> Result<Created<DealRow>, ApiError> {
    Ok(Created(service.create_deal(&caller, new, now()).await?))
}

/// A deal and its commission lines.
#[derive(Serialize, schemars::JsonSchema)]
pub struct DealView {
    /// The deal.
    #[serde(flatten)]
    pub deal: DealRow,
    /// Its commission lines, clawbacks included.
    pub commission_lines: Vec<CommissionLineRow>,
}

impl From<(DealRow, Vec<CommissionLineRow>)> for DealView {
    fn from((deal, commission_lines): (DealRow, Vec<CommissionLineRow>)) -> DealView {
        DealView { deal, commission_lines }
    }
}

async fn get_one(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<DealView>, ApiError> {
    Ok(Json(service.deal(&caller, &id).await?.into()))
}

/// `POST /v1/deals/{id}/won` and `/lost`.
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// When the deal closed (Unix seconds); now when absent.
    closed_at: Option<i64>,
}

async fn won(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<CloseBody>,
) -> Result<Json<DealView>, ApiError> {
    Ok(Json(service.win_deal(&caller, &id, body.closed_at.unwrap_or_else(now)).await?.into()))
}

async fn lost(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<CloseBody>,
) -> Result<Json<DealView>, ApiError> {
    Ok(Json(service.lose_deal(&caller, &id, body.closed_at.unwrap_or_else(now)).await?.into()))
}

/// `POST /v1/deals/{id}/refund`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// How much the customer was refunded.
    amount: Money,
    /// When (Unix seconds); now when absent.
    at: Option<i64>,
}

async fn refund(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<RefundBody>,
) -> Result<Json<DealView>, ApiError> {
    Ok(Json(service.refund_deal(&caller, &id, body.amount, body.at.unwrap_or_else(now)).await?.into()))
}
