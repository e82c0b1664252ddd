//! Pactum: B2B channel-partner programs as code.
//!
//! Every company (tenant) runs its partner program's decisions (lead
//! routing, deal-registration approval, commission, tier evaluation) through
//! its own sandboxed WebAssembly components, implementing the
//! `pactum:policy` WIT contract in `wit/`.
//!
//! The crate reads top-down and a lower layer never imports a higher one:
//!
//! - [`runtime`]: the only module that knows wasmtime. Loads, validates and
//!   caches plugins, and runs each hook call in a fresh, limited instance.
//! - [`program`]: a company's program as declared in `policies/<company>/`:
//!   its parameters, limits and which plugin serves each hook.
//! - [`store`]: SQLite storage (sqlx): tenants, keys, plugins, bindings and
//!   the decision log.
//! - [`service`]: the decision step every workflow shares: run the hook,
//!   take the fallback on failure, record the decision.
//! - [`workflows`]: partners, deal registration, deals won and refunded,
//!   commission lines and statements, on top of that step.
//! - [`notify`]: the outbox and signed webhook delivery.
//! - [`api`]: the HTTP API (axum); [`metrics`]: Prometheus metrics.
//!
//! The `pactum` binary (`src/main.rs`) is a thin CLI over these.

pub mod admission;
pub mod api;
pub mod client;
pub mod fixtures;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod program;
pub mod runtime;
pub mod service;
pub mod store;
pub mod tasks;
pub mod workflows;
