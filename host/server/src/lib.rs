//! Pactum's HTTP API: the axum router over the application layer
//! (`pactum-app`), its error mapping, authentication and idempotency, and
//! the OpenAPI document derived from the handlers' types.

pub mod api;
pub mod openapi;

use pactum_app::{service, workflows};
use pactum_runtime as runtime;
use pactum_store as store;
