//! Pactum's application layer: what a company's program does, on top of
//! the runtime (`pactum-runtime`, which runs the hooks) and the store
//! (`pactum-store`, which keeps everything in one unit of work per step).
//!
//! - [`program`]: a company's program as declared in `policy.toml`: its
//!   parameters, limits and which plugin serves each hook.
//! - [`service`]: the companies loaded in memory and the decision step every
//!   workflow shares: admit the call ([`admission`]), run the hook, take the
//!   fallback on the plugin's own failure, record the decision.
//! - [`workflows`]: partners, deal registration, leads, deals won, lost and
//!   refunded, statements, scorecards, program metrics; `lifecycle`:
//!   publish, fixtures ([`fixtures`]), backtest, shadow, activate, rollback,
//!   replay, replicas.
//! - [`notify`]: signed webhook delivery of the outbox; [`metrics`]:
//!   Prometheus counters.
//! - [`auth`]: roles and capabilities, the one table of who may do what.
//! - [`users`]: people who sign in to the portal: invitations, passwords,
//!   sessions, the sign-in throttle, a partner's home.
//!
//! It knows nothing of HTTP (`pactum-server`) or of the command line (the
//! `pactum` binary).

pub mod admission;
pub mod auth;
pub mod fixtures;
pub mod metrics;
pub mod notify;
pub mod program;
pub mod scheduler;
pub mod service;
pub mod users;
pub mod workflows;

// The layers below, under the names this crate's modules use for them.
pub use pactum_core::tasks;
pub use pactum_runtime as runtime;
pub use pactum_store as store;
