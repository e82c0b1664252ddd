//! Builds the Extism plugin (`extism-plugin/`, package
//! `pactum-compare-extism-plugin`) for `wasm32-unknown-unknown` as a plain
//! core module, the way `plugins/artifacts/build.rs` builds Pactum's plugins
//! (same `plugin` profile, same separate Wasm target directory), so that
//! `cargo test` / `cargo bench` on a fresh machine need nothing but Rust.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "pactum-compare-extism-plugin";
const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().and_then(Path::parent).expect("bench/compare sits two levels below the root");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", manifest_dir.join("extism-plugin").display());
    println!("cargo:rerun-if-changed={}", root.join("Cargo.lock").display());
    println!("cargo:rerun-if-env-changed=PACTUM_WASM_TARGET_DIR");

    ensure_target();
    let target_dir = match env::var("PACTUM_WASM_TARGET_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            let build = out_dir
                .ancestors()
                .find(|p| p.file_name().is_some_and(|n| n == "build"))
                .expect("OUT_DIR under build/");
            build.parent().unwrap().parent().unwrap().join("wasm-plugins")
        }
    };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["rustc", "--quiet", "--locked", "-p", PACKAGE, "--target", TARGET, "--profile", "plugin"])
        .args(["--crate-type", "cdylib", "--target-dir"])
        .arg(&target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("running cargo for {PACKAGE}: {e}"));
    assert!(status.success(), "building the Extism plugin `{PACKAGE}` for {TARGET} failed");
    let wasm = target_dir.join(TARGET).join("plugin").join(format!("{}.wasm", PACKAGE.replace('-', "_")));
    let dest = out_dir.join("extism_plugin.wasm");
    std::fs::copy(&wasm, &dest).unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
}

/// Installs the Wasm target through rustup when it is missing, as
/// `plugins/artifacts/build.rs` does (cargo does not order this script after
/// that one).
fn ensure_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc).args(["--print", "sysroot"]).output().ok().filter(|o| o.status.success());
    let installed = sysroot.is_some_and(|o| {
        let root = String::from_utf8_lossy(&o.stdout).trim().to_string();
        Path::new(&root).join("lib/rustlib").join(TARGET).is_dir()
    });
    if installed {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup (needed to build the Extism plugin)");
    let added = Command::new("rustup").args(["target", "add", TARGET]).status().is_ok_and(|s| s.success());
    assert!(added, "the {TARGET} target is missing and rustup could not install it: run `rustup target add {TARGET}`");
}
