//! Paths of the workspace's plugins, built as Wasm components by this
//! crate's build script.
//!
//! The build script compiles each plugin crate for `wasm32-unknown-unknown`
//! (a separate cargo invocation per plugin, so each component carries only
//! the hooks its crate enables) into `<target>/wasm-plugins`, then turns the
//! core module into a component with `wit-component`. Depending on this
//! crate is what makes a plain `cargo test` or `cargo bench` build every
//! plugin first; the debug and release builds share the one Wasm build.
//!
//! Needs `rustup target add wasm32-unknown-unknown`.

include!(concat!(env!("OUT_DIR"), "/paths.rs"));

/// The stock plugin's component bytes, embedded in the service binary.
pub static STOCK_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pactum_stock.wasm"));

/// Northwind's commission plugin, embedded for the demo program.
pub static NORTHWIND_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/northwind_commission.wasm"));

/// Every plugin built here, as `(name, path)`.
pub const ALL: &[(&str, &str)] =
    &[("stock", STOCK), ("northwind", NORTHWIND), ("hostile", HOSTILE), ("routing-v0.2", ROUTING_V0_2)];

/// The component built here for the plugin a program names `name` in its
/// `[hooks]`: the stock program (`stock`) and the example companies' own
/// plugins. What the command line resolves a program's plugin names to
/// before it looks for `<name>.wasm` beside the program.
pub fn bundled(name: &str) -> Option<&'static [u8]> {
    match name {
        "stock" => Some(STOCK_BYTES),
        "northwind-commission" => Some(NORTHWIND_BYTES),
        _ => None,
    }
}
