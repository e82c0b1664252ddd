//! Host bindings for each supported version of the `pactum:policy` WIT
//! package, one module per version.
//!
//! When the contract grows (`0.2.0`), its bindings are added beside these
//! and plugins built against `0.1.x` keep loading through this module, as in
//! Zed's extension host.

/// Bindings for `pactum:policy@0.1.0`.
pub mod v0_1_0 {
    wasmtime::component::bindgen!({
        world: "program",
        path: "../../wit",
        additional_derives: [serde::Serialize, serde::Deserialize, schemars::JsonSchema, PartialEq, Eq],
    });

    /// The version string of this package.
    pub const VERSION: &str = "0.1.0";
}
