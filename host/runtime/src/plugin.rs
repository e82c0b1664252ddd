//! Loading a plugin: validation, compilation (or the compiled cache), and
//! pre-instantiation.

use super::call::CallState;
use super::error::{ListOrNothing, LoadError};
use super::hooks::{Approval, Commission, Hook, Routing, TierEvaluation, takes_older_input};
use super::types::{PolicyError, RoutingInputV0_1};
use super::{Runtime, WitVersion, cache};
use pactum_core::{HookKind, PluginHash};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::Engine;
use wasmtime::component::{Component, ComponentExportIndex, Instance, InstancePre};

/// Where a load found the plugin's compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoadSource {
    /// Compiled from Wasm now (then written to the compiled cache).
    Compiled,
    /// Deserialized from the on-disk compiled cache: no compilation.
    Cache,
    /// Already loaded in this process.
    Memory,
}

/// What loading a plugin cost: its cold start, as a publish reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct LoadCost {
    /// Where the compiled code came from.
    pub source: LoadSource,
    /// Wall time of the load: checks, compilation or deserialization,
    /// linking and one instantiation to type-check the hooks, milliseconds.
    pub load_ms: u64,
    /// The compiled code's size in memory (about the size of its artifact
    /// in the compiled cache), bytes.
    pub artifact_bytes: u64,
    /// Whether the compiled code is of the pre-initialized component (see
    /// [`RuntimeConfig::preinitialize_large`](super::RuntimeConfig::preinitialize_large)).
    pub preinitialized: bool,
}

/// A validated, compiled, pre-instantiated plugin, ready for calls.
pub struct Plugin {
    hash: PluginHash,
    size: usize,
    artifact_bytes: u64,
    hooks: Vec<HookKind>,
    pub(crate) pre: InstancePre<CallState>,
    /// The engine it was compiled for (see `RuntimeConfig::large_component_bytes`).
    pub(crate) engine: Engine,
    /// Per hook (indexed by `HookKind as usize`), the exported function,
    /// type-checked once at load, and the contract version it was
    /// exported at.
    pub(crate) functions: [Option<HookExport>; 4],
    /// Whether a call may still be tried on the caller's own thread (see
    /// [`Runtime::call_within`]): true until a call runs past the budget,
    /// false from the start for a component on the large engine.
    pub(crate) quick: AtomicBool,
    /// Whether it runs the pre-initialized version of its component.
    pub(crate) preinitialized: bool,
    /// Its spare instances, for a large component (see `spares`).
    pub(crate) spares: Option<Arc<super::spares::SpareQueue>>,
}

impl Plugin {
    /// The plugin's sha256.
    pub fn hash(&self) -> PluginHash {
        self.hash
    }

    /// The component's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The compiled code's size in bytes.
    pub fn artifact_bytes(&self) -> u64 {
        self.artifact_bytes
    }

    /// The hooks it exports.
    pub fn hooks(&self) -> &[HookKind] {
        &self.hooks
    }

    /// Whether it exports `hook`.
    pub fn exports(&self, hook: HookKind) -> bool {
        self.hooks.contains(&hook)
    }

    /// The version of `pactum:policy` at which it exports `hook`.
    pub fn hook_version(&self, hook: HookKind) -> Option<WitVersion> {
        self.functions[hook as usize].as_ref().map(|e| e.version)
    }

    /// The newest version of `pactum:policy` among its exports: the
    /// version it was built against.
    pub fn wit_version(&self) -> WitVersion {
        self.functions.iter().flatten().map(|e| e.version).max().unwrap_or(WitVersion::V0_1_0)
    }

    /// Whether it runs a pre-initialized version of its component (see
    /// [`RuntimeConfig::preinitialize_large`](super::RuntimeConfig::preinitialize_large)).
    pub fn is_preinitialized(&self) -> bool {
        self.preinitialized
    }

    /// Whether its calls may be tried on the caller's thread within a
    /// budget ([`Runtime::call_within`]): no call of it has run past one,
    /// and it is not a large (Python, JavaScript) component.
    pub fn is_quick(&self) -> bool {
        self.quick.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin").field("hash", &self.hash).field("hooks", &self.hooks).finish()
    }
}

/// A hook function a plugin exports.
#[derive(Clone, Copy)]
pub(crate) struct HookExport {
    /// The function, found once at load.
    pub(crate) index: ComponentExportIndex,
    /// The contract version of the interface that exports it.
    pub(crate) version: WitVersion,
}

const PACKAGE: &str = "pactum:policy";
/// The compiled cache's variant for pre-initialized components, followed by
/// the warm-up's digest; a new version of the pre-initialization (its
/// warm-up inputs) needs a new name.
const WARM: &str = "warm2";
const ALLOWED_IMPORTS: &[&str] = &["host", "types"];

/// Whose parameters a large component is pre-initialized with (see
/// `runtime/preinit.rs`): a company's, so that whatever the warm-up leaves
/// in the snapshot (a policy's cached, parsed parameters included) is that
/// company's own. Components that are not pre-initialized ignore it, and
/// are loaded once for every company.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WarmUp {
    /// The company slug the warm-up calls name in their context.
    pub company: String,
    /// The company's parameters, as the context carries them (JSON).
    pub params: String,
}

impl WarmUp {
    /// The warm-up of a load that serves no company (a local run of a
    /// plugin, a test): no parameters at all.
    pub fn neutral() -> WarmUp {
        WarmUp { company: "pactum-warm-up".into(), params: "{}".into() }
    }

    /// 16 hex digits naming this warm-up in the compiled cache.
    fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.company.as_bytes());
        h.update([0]);
        h.update(self.params.as_bytes());
        hex::encode(&h.finalize()[..8])
    }
}

impl Runtime {
    /// Validates and loads a component for no company in particular (a
    /// large component is pre-initialized with no parameters: see
    /// [`Runtime::load_for`]). The same bytes load once: later calls return
    /// the plugin already loaded. Compilation happens at most once per hash
    /// and engine while the cache directory is kept.
    pub fn load(&self, bytes: &[u8]) -> Result<Arc<Plugin>, LoadError> {
        self.load_with_cost(bytes).map(|(plugin, _)| plugin)
    }

    /// [`Runtime::load`], saying what the load cost: compiled now, or
    /// loaded from the compiled cache or memory, and how long it took.
    pub fn load_with_cost(&self, bytes: &[u8]) -> Result<(Arc<Plugin>, LoadCost), LoadError> {
        self.load_for_with_cost(bytes, &WarmUp::neutral())
    }

    /// Loads a component for the company `warm_up` names. A large component
    /// that is pre-initialized gets a snapshot of its own per company
    /// (parameters), so no company's calls start from a state another
    /// company's parameters made; every other component is shared.
    pub fn load_for(&self, bytes: &[u8], warm_up: &WarmUp) -> Result<Arc<Plugin>, LoadError> {
        self.load_for_with_cost(bytes, warm_up).map(|(plugin, _)| plugin)
    }

    /// [`Runtime::load_for`], saying what the load cost.
    pub fn load_for_with_cost(&self, bytes: &[u8], warm_up: &WarmUp) -> Result<(Arc<Plugin>, LoadCost), LoadError> {
        let started = std::time::Instant::now();
        let hash = PluginHash::of(bytes);
        let elapsed = || started.elapsed().as_millis() as u64;
        let (engine, _) = self.engine_for(bytes.len());
        let warm_up = (self.is_large_engine(engine) && self.config.preinitialize_large).then_some(warm_up);
        let key = (hash, warm_up.cloned());
        if let Some(p) = self.plugins.lock().expect("plugin map poisoned").get(&key) {
            let cost = LoadCost {
                source: LoadSource::Memory,
                load_ms: elapsed(),
                artifact_bytes: p.artifact_bytes,
                preinitialized: p.preinitialized,
            };
            return Ok((p.clone(), cost));
        }
        check_header(bytes, self.config.max_component_bytes)?;
        // Refuse a forbidden import before compiling: a Python or
        // JavaScript component takes 20-40 s to compile.
        for name in component_imports(bytes)? {
            check_import(&name)?;
        }
        let (component, source, preinitialized) = self.compile(engine, hash, bytes, warm_up)?;
        let mut plugin = self.link(hash, bytes.len(), component)?;
        plugin.preinitialized = preinitialized;
        let plugin = Arc::new(plugin);
        let cost = LoadCost { source, load_ms: elapsed(), artifact_bytes: plugin.artifact_bytes, preinitialized };
        let mut plugins = self.plugins.lock().expect("plugin map poisoned");
        Ok((plugins.entry(key).or_insert(plugin).clone(), cost))
    }

    /// A loaded plugin with this hash, if any (for any company).
    pub fn plugin(&self, hash: &PluginHash) -> Option<Arc<Plugin>> {
        self.plugins.lock().expect("plugin map poisoned").iter().find(|((h, _), _)| h == hash).map(|(_, p)| p.clone())
    }

    /// The compiled plugin, from the cache or compiled now, and whether it
    /// is the pre-initialized component.
    /// `warm_up`: whose parameters to pre-initialize it with, `None` when
    /// it is not pre-initialized.
    fn compile(
        &self,
        engine: &Engine,
        hash: PluginHash,
        bytes: &[u8],
        warm_up: Option<&WarmUp>,
    ) -> Result<(Component, LoadSource, bool), LoadError> {
        let preinit = warm_up.is_some();
        let cache = self.config.cache_dir.as_deref().map(|dir| cache::CompiledCache::new(dir, engine));
        let warm_cache = warm_up.and_then(|w| cache.clone().map(|c| c.variant(&format!("{WARM}-{}", w.digest()))));
        if preinit && let Some(component) = warm_cache.as_ref().and_then(|c| c.get(&hash)) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok((component, LoadSource::Cache, true));
        }
        // Without pre-initialization, or where it failed before (it would
        // again: it depends only on the bytes).
        if let Some(component) = cache.as_ref().and_then(|c| c.get(&hash)) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok((component, LoadSource::Cache, false));
        }
        let started = std::time::Instant::now();
        let warmed = if let Some(warm_up) = warm_up {
            match self.preinitialize(bytes, warm_up) {
                Ok(warmed) => Some(warmed),
                Err(e) => {
                    tracing::warn!(plugin = %hash, error = %format!("{e:#}"), "pre-initialization failed; compiling the component as published");
                    None
                }
            }
        } else {
            None
        };
        let component = Component::new(engine, warmed.as_deref().unwrap_or(bytes))
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            plugin = %hash,
            bytes = bytes.len(),
            preinitialized = warmed.is_some(),
            ms = started.elapsed().as_millis() as u64,
            "compiled plugin"
        );
        if let Some(cache) = if warmed.is_some() { warm_cache } else { cache }
            && let Err(e) = cache.put(&hash, &component)
        {
            tracing::warn!(plugin = %hash, error = %e, "could not write the compiled plugin cache");
        }
        Ok((component, LoadSource::Compiled, warmed.is_some()))
    }

    pub(crate) fn link(&self, hash: PluginHash, size: usize, component: Component) -> Result<Plugin, LoadError> {
        let (engine, base_linker) = self.engine_for(size);
        let ty = component.component_type();
        let mut wasi = false;
        for (name, _) in ty.imports(engine) {
            wasi |= check_import(name)?;
        }

        // Per hook, the newest supported version it is exported at.
        let mut versions: [Option<WitVersion>; 4] = [None; 4];
        let mut unsupported = None;
        let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
        for name in &exports {
            let Some((iface, version)) = parse_interface(name) else {
                continue;
            };
            let Some(hook) = HookKind::ALL.into_iter().find(|h| h.interface() == iface) else {
                continue;
            };
            match WitVersion::parse(version) {
                Some(version) => {
                    let slot = &mut versions[hook as usize];
                    *slot = (*slot).max(Some(version));
                }
                None => {
                    unsupported.get_or_insert_with(|| name.clone());
                }
            }
        }
        let hooks: Vec<HookKind> = HookKind::ALL.into_iter().filter(|&h| versions[h as usize].is_some()).collect();
        if hooks.is_empty() {
            return Err(match unsupported {
                Some(export) => LoadError::UnsupportedVersion { export, supported: WitVersion::supported() },
                None => LoadError::NoHook {
                    exports: ListOrNothing(&exports).to_string(),
                    expected: format!(
                        "{} (at any supported version: {})",
                        HookKind::ALL.map(|h| export_name(h, WitVersion::LATEST)).join(", "),
                        WitVersion::supported()
                    ),
                },
            });
        }

        let stubbed;
        let linker = if wasi {
            stubbed = super::wasi_stubs::linker_with_traps(base_linker, &component)
                .map_err(|e| LoadError::ForbiddenImport { import: format!("{e:#}") })?;
            &stubbed
        } else {
            base_linker
        };
        let pre =
            linker.instantiate_pre(&component).map_err(|e| LoadError::ForbiddenImport { import: format!("{e:#}") })?;
        let mut functions = [None; 4];
        for &hook in &hooks {
            let version = versions[hook as usize].expect("hooks are those with a version");
            let export = export_name(hook, version);
            let bad = |reason: String| LoadError::BadExport { export: export.clone(), reason };
            let iface = component.get_export_index(None, &export).ok_or_else(|| bad("missing".into()))?;
            let index = component
                .get_export_index(Some(&iface), hook_function(hook))
                .ok_or_else(|| bad(format!("it has no `{}` function", hook_function(hook))))?;
            functions[hook as usize] = Some(HookExport { index, version });
        }
        let image = component.image_range();
        let artifact_bytes = (image.end as usize - image.start as usize) as u64;
        let large = self.is_large_engine(engine);
        let quick = AtomicBool::new(!large);
        let plugin = Plugin {
            hash,
            size,
            artifact_bytes,
            hooks,
            pre,
            engine: engine.clone(),
            functions,
            quick,
            preinitialized: false,
            spares: (large && self.config.spare_instances > 0).then(Default::default),
        };
        self.typecheck(&plugin)?;
        Ok(plugin)
    }

    /// Instantiates the plugin once and checks every hook function's type
    /// against the contract, so calls can skip the check.
    fn typecheck(&self, plugin: &Plugin) -> Result<(), LoadError> {
        let limits = super::Limits { memory_bytes: self.config.max_memory_bytes, ..super::Limits::default() };
        let mut store = CallState::store(&plugin.engine, &limits);
        // A start function that spins must not hang the load.
        store.set_fuel(1_000_000_000).expect("fuel is enabled");
        store.set_epoch_deadline(5_000 / super::EPOCH_TICK.as_millis() as u64);
        let instance = plugin.pre.instantiate(&mut store).map_err(|e| LoadError::BadExport {
            export: "(instantiation)".into(),
            reason: format!("the component does not instantiate: {e:#}"),
        })?;
        for &hook in &plugin.hooks {
            let check = match hook {
                HookKind::Routing => typecheck::<Routing>(&mut store, &instance, plugin),
                HookKind::Approval => typecheck::<Approval>(&mut store, &instance, plugin),
                HookKind::Commission => typecheck::<Commission>(&mut store, &instance, plugin),
                HookKind::TierEvaluation => typecheck::<TierEvaluation>(&mut store, &instance, plugin),
            };
            check.map_err(|e| LoadError::BadExport {
                export: export_name(hook, plugin.hook_version(hook).expect("an exported hook")),
                reason: format!("{e:#}"),
            })?;
        }
        Ok(())
    }
}

/// `pactum:policy/<hook's interface>@<version>`.
fn export_name(hook: HookKind, version: WitVersion) -> String {
    format!("{PACKAGE}/{}@{version}", hook.interface())
}

fn hook_function(hook: HookKind) -> &'static str {
    match hook {
        HookKind::Routing => Routing::FUNCTION,
        HookKind::Approval => Approval::FUNCTION,
        HookKind::Commission => Commission::FUNCTION,
        HookKind::TierEvaluation => TierEvaluation::FUNCTION,
    }
}

fn typecheck<H: Hook>(
    store: &mut wasmtime::Store<CallState>,
    instance: &Instance,
    plugin: &Plugin,
) -> wasmtime::Result<()> {
    let export = plugin.functions[H::KIND as usize].as_ref().expect("indexed at load");
    if takes_older_input(H::KIND, export.version) {
        instance
            .get_typed_func::<(RoutingInputV0_1<'_>,), (Result<H::Output, PolicyError>,)>(&mut *store, export.index)?;
    } else {
        instance.get_typed_func::<(&H::Input,), (Result<H::Output, PolicyError>,)>(&mut *store, export.index)?;
    }
    Ok(())
}

/// Whether a component may import `name`: `pactum:policy/{host,types}` at
/// a supported version, or a WASI 0.2 interface the host stubs (then
/// `Ok(true)`: the load needs the stubs). Anything else is refused.
fn check_import(name: &str) -> Result<bool, LoadError> {
    let ours = parse_interface(name)
        .is_some_and(|(iface, version)| ALLOWED_IMPORTS.contains(&iface) && WitVersion::parse(version).is_some());
    if ours {
        Ok(false)
    } else if super::wasi_stubs::is_stubbed(name) {
        Ok(true)
    } else {
        Err(LoadError::ForbiddenImport { import: name.to_string() })
    }
}

/// The names the component itself imports (not those of the modules and
/// components nested in it), read from its import sections without
/// validating or compiling anything: milliseconds, even for a Python
/// component.
fn component_imports(bytes: &[u8]) -> Result<Vec<String>, LoadError> {
    use wasmparser::{Parser, Payload};
    let malformed = |e: wasmparser::BinaryReaderError| LoadError::Compile(format!("malformed component: {e}"));
    let mut names = Vec::new();
    // 0: the outer component; nested modules and components each open a
    // level that their `End` closes.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) if depth > 0 => depth -= 1,
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    names.push(import.map_err(malformed)?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// `pactum:policy/<iface>@<version>` → `(iface, version)`.
fn parse_interface(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(PACKAGE)?.strip_prefix('/')?;
    rest.split_once('@')
}

fn check_header(bytes: &[u8], limit: usize) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(LoadError::NotWasm);
    }
    // Core modules have layer 0 (version 1); components layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::NotAComponent);
    }
    if bytes.len() > limit {
        return Err(LoadError::TooLarge { size: bytes.len(), limit });
    }
    Ok(())
}
