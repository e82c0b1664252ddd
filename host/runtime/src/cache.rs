//! The on-disk cache of compiled plugins.
//!
//! One file per plugin and engine: `<sha256>-<engine>.cwasm`, where
//! `<engine>` hashes wasmtime's version, every setting that affects
//! compiled code ([`Engine::precompile_compatibility_hash`]) and the layout
//! of the vendored wasmtime's artifacts (`ARTIFACT_LAYOUT`). Files are
//! written to a temporary name and renamed, so a crash never leaves a torn
//! artifact; a file that fails to deserialize is removed and recompiled.
//!
//! Deserializing trusts its bytes, so this directory must hold only files
//! this cache wrote: never point it at anything user-supplied.

use super::PluginHash;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The layout of the vendored wasmtime's compiled artifacts, which its
/// version string does not tell apart: the patches in `vendor/` that add
/// metadata to a compiled module bump it, so that an artifact compiled
/// before such a patch is never deserialized by a build that has it.
const ARTIFACT_LAYOUT: &str = "pactum-wasmtime-48.0.8-imported-table-segments";

/// A directory of compiled plugins for one engine configuration.
#[derive(Clone)]
pub struct CompiledCache<'a> {
    dir: &'a Path,
    engine: &'a Engine,
    engine_key: String,
}

impl<'a> CompiledCache<'a> {
    /// The cache in `dir` for `engine`.
    pub fn new(dir: &'a Path, engine: &'a Engine) -> CompiledCache<'a> {
        let mut h = DefaultHasher::new();
        ARTIFACT_LAYOUT.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        CompiledCache { dir, engine, engine_key: format!("{:016x}", h.finish()) }
    }

    /// The same cache, for artifacts compiled from a pre-initialized
    /// version of each plugin (`<sha256>-<engine>-<variant>.cwasm`): the
    /// plugin keeps the hash of the bytes it was published as.
    pub fn variant(mut self, variant: &str) -> CompiledCache<'a> {
        self.engine_key = format!("{}-{variant}", self.engine_key);
        self
    }

    /// Where the artifact for `hash` lives.
    pub fn path(&self, hash: &PluginHash) -> PathBuf {
        self.dir.join(format!("{hash}-{}.cwasm", self.engine_key))
    }

    /// The cached compiled plugin, if there is a usable one.
    pub fn get(&self, hash: &PluginHash) -> Option<Component> {
        let path = self.path(hash);
        // Read into memory rather than mapping the file: a mapped file that
        // something truncates later would crash the process (SIGBUS).
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: files in this directory are only ever written by `put`
        // below, from `Component::serialize` of this same engine config;
        // wasmtime still checks the header and engine compatibility.
        match unsafe { Component::deserialize(self.engine, &bytes) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "dropping an unusable compiled plugin");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a compiled plugin.
    pub fn put(&self, hash: &PluginHash, component: &Component) -> io::Result<()> {
        std::fs::create_dir_all(self.dir)?;
        let bytes = component.serialize().map_err(io::Error::other)?;
        let path = self.path(hash);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }
}
