//! Builds the workspace's plugin crates into Wasm components.
//!
//! See `src/lib.rs` for what and why. Each plugin is compiled with
//! `cargo rustc --crate-type cdylib --profile plugin` for
//! `wasm32-unknown-unknown`, then componentized with `wit-component`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (constant name, cargo package, crate directory relative to the workspace root)
const PLUGINS: &[(&str, &str, &str)] = &[
    ("STOCK", "pactum-stock", "plugins/stock"),
    ("NORTHWIND", "northwind-commission", "policies/northwind/plugin"),
    ("HOSTILE", "pactum-hostile-plugin", "tests/fixtures/hostile-plugin"),
    ("ROUTING_V0_2", "pactum-routing-v0-2", "tests/fixtures/routing-0.2"),
];

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().and_then(Path::parent).expect("plugins/artifacts sits two levels below the root");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let wasm_target_dir = wasm_target_dir(&out_dir);

    for dir in ["wit", "plugins/pdk", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    ensure_target();

    let mut paths = String::new();
    for (name, package, dir) in PLUGINS {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
        let core = build_core_module(root, &wasm_target_dir, package);
        let component = componentize(&core, package);
        let path = out_dir.join(format!("{}.wasm", package.replace('-', "_")));
        fs::write(&path, component).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        writeln!(paths, "/// The `{package}` component (from `{dir}`).").unwrap();
        writeln!(paths, "pub const {name}: &str = {:?};", path.display().to_string()).unwrap();
    }
    fs::write(out_dir.join("paths.rs"), paths).unwrap();
}

/// Installs the Wasm target through rustup when it is missing, so a plain
/// `cargo test` works on a fresh machine with Rust installed.
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
    println!("cargo:warning=installing the {TARGET} target with rustup (needed to build the Wasm plugins)");
    let added = Command::new("rustup").args(["target", "add", TARGET]).status().is_ok_and(|s| s.success());
    if !added {
        panic!("the {TARGET} target is missing and rustup could not install it: run `rustup target add {TARGET}`");
    }
}

/// `<target>/wasm-plugins`, shared by every host profile so the Wasm build
/// runs once for debug tests and release benches alike.
fn wasm_target_dir(out_dir: &Path) -> PathBuf {
    if let Ok(dir) = env::var("PACTUM_WASM_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // OUT_DIR is <target>[/<triple>]/<profile>/build/<pkg>-<hash>/out.
    let build =
        out_dir.ancestors().find(|p| p.file_name().is_some_and(|n| n == "build")).expect("OUT_DIR under build/");
    let profile_dir = build.parent().unwrap();
    let target = profile_dir.parent().unwrap();
    target.join("wasm-plugins")
}

fn build_core_module(root: &Path, target_dir: &Path, package: &str) -> Vec<u8> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["rustc", "--quiet", "--locked", "-p", package, "--target", TARGET, "--profile", "plugin"])
        .args(["--crate-type", "cdylib", "--target-dir"])
        .arg(target_dir)
        // A 16 KiB shadow stack instead of 1 MiB: with the SDK allocator
        // starting at `__heap_base`, the stack, data and heap of a call fit
        // in the module's one initial 64 KiB page, all the host resets.
        .args(["--", "-C", "link-arg=-zstack-size=16384"]);
    // Nothing of the host build's configuration may leak into the guest build.
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
    let status = cmd.status().unwrap_or_else(|e| panic!("running cargo for {package}: {e}"));
    if !status.success() {
        panic!(
            "building plugin `{package}` for {TARGET} failed (is the target installed? `rustup target add {TARGET}`)"
        );
    }
    let wasm = target_dir.join(TARGET).join("plugin").join(format!("{}.wasm", package.replace('-', "_")));
    fs::read(&wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()))
}

fn componentize(core: &[u8], package: &str) -> Vec<u8> {
    wit_component::ComponentEncoder::default()
        .module(core)
        .and_then(|e| e.validate(true).encode())
        .unwrap_or_else(|e| panic!("turning `{package}` into a component: {e:?}"))
}
