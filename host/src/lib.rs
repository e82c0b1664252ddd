//! Pactum: B2B channel-partner programs as code.
//!
//! Every company (tenant) runs its partner program's decisions (lead
//! routing, deal-registration approval, commission, tier evaluation) through
//! its own sandboxed WebAssembly components, implementing the
//! `pactum:policy` WIT contract in `wit/`.
//!
//! The host is layered crates, each importing only those below it, so the
//! compiler keeps the layering:
//!
//! | crate | what |
//! |---|---|
//! | `pactum-core` (`host/core`) | hook kinds, plugin hashes, fixtures as data, background tasks and their shutdown signal |
//! | `pactum-runtime` (`host/runtime`) | the only crate that knows wasmtime: loads, validates and caches plugins, runs each hook call in a fresh, limited instance |
//! | `pactum-store` (`host/store`) | SQLite or PostgreSQL through sqlx: migrations, records, the unit of work with group commit, the outbox |
//! | `pactum-app` (`host/app`) | programs, the decision step, workflows, the plugin lifecycle, notifications, admission, metrics |
//! | `pactum-portal` (`host/portal`) | the browser portal: server-rendered pages, sign-in and sessions, over the application |
//! | `pactum-server` (`host/server`) | the HTTP API (axum) and its OpenAPI document; serves the portal's pages beside it |
//! | `pactum` (`host`) | the command line (`src/main.rs`) and its HTTP client |
//!
//! This library re-exports the layers under one name for the end-to-end
//! tests and benchmarks in `host/tests` and `host/benches`.

pub mod client;

use std::path::Path;

pub use pactum_app::{admission, fixtures, metrics, notify, program, scheduler, service, users, workflows};
pub use pactum_core::{domain, tasks};
pub use pactum_runtime as runtime;
pub use pactum_server::{api, openapi};
pub use pactum_store as store;

/// The component for plugin `name` of the program in folder `dir`: a plugin
/// built into this binary (the stock program, the example companies' own,
/// see `pactum_plugin_artifacts::bundled`), else `<dir>/<name>.wasm`.
pub fn bundled_plugin(dir: &Path, name: &str) -> Option<Vec<u8>> {
    pactum_plugin_artifacts::bundled(name)
        .map(<[u8]>::to_vec)
        .or_else(|| std::fs::read(dir.join(format!("{name}.wasm"))).ok())
}
