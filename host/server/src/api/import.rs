//! Importing a company's history from another PRM or a spreadsheet.

use super::{ApiError, AppState, Auth, CsvBody, LargeBody, Query};
use crate::openapi::Api;
use crate::service::now;
use crate::workflows::import::{ImportDocument, ImportReport, from_csv};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub(super) fn routes(api: &mut Api) {
    api.post(
        "/v1/import",
        "Import history as JSON (admin): partners, accounts, registrations, deals and commission lines with their \
         original dates and statuses. Every row is checked; 422 with the report of the refused rows and nothing \
         written, unless `partial=true` imports the others. One transaction",
        import_json,
    )
    .post(
        "/v1/import/{kind}",
        "Import one kind as CSV (admin): `partners`, `accounts`, `registrations`, `deals` or `lines`, a header row \
         naming the fields as in the JSON import. As `POST /v1/import`",
        import_csv,
    );
}

/// An import's query.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Import the rows that pass even when others are refused (default
    /// false: nothing is imported while a row is refused).
    #[serde(default)]
    partial: Option<bool>,
}

/// 200 with the report when the import was applied; 422 with it when rows
/// were refused and nothing was written.
pub struct ImportAnswer(pub ImportReport);

impl IntoResponse for ImportAnswer {
    fn into_response(self) -> Response {
        let status = if self.0.applied { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        (status, Json(self.0)).into_response()
    }
}

async fn import_json(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<ImportQuery>,
    LargeBody(doc): LargeBody<ImportDocument>,
) -> Result<ImportAnswer, ApiError> {
    Ok(ImportAnswer(service.import(&caller, doc, q.partial.unwrap_or(false), now()).await?))
}

async fn import_csv(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    CsvBody(csv): CsvBody,
) -> Result<ImportAnswer, ApiError> {
    caller.require(crate::service::Capability::ChangeProgram)?;
    let doc = from_csv(&kind, &csv)?;
    Ok(ImportAnswer(service.import(&caller, doc, q.partial.unwrap_or(false), now()).await?))
}
