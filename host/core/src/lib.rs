//! Pactum's core vocabulary: what every layer of the host shares and none
//! of them owns. The hooks by name ([`HookKind`]), a plugin's identity
//! ([`PluginHash`]), a key's [`Role`], a company's policy tests as data
//! ([`Fixture`]), the states and kinds of its records with one spelling
//! each ([`domain`]) and the
//! background tasks with the one shutdown signal they all obey
//! ([`tasks`]).
//!
//! No wasmtime, no sqlx, no axum: the runtime (`pactum-runtime`), the store
//! (`pactum-store`), the application (`pactum-app`) and the HTTP server
//! (`pactum-server`) build on this crate, and the compiler keeps a lower
//! layer from importing a higher one.

pub mod domain;
pub mod fixture;
mod hook;
mod plugin_hash;
mod role;
pub mod tasks;

pub use domain::{
    DealSource, DealStage, ExtensionStatus, LeadStatus, LineStatus, LineStep, PartnerStatus, RegistrationStatus,
    TierChangeStatus,
};
pub use fixture::{Fixture, FixtureError};
pub use hook::HookKind;
pub use plugin_hash::PluginHash;
pub use role::Role;
