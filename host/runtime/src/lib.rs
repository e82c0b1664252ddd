//! The policy runtime: the one module that knows wasmtime.
//!
//! A [`Runtime`] owns one wasmtime [`Engine`] configured for many small,
//! short, isolated calls: the pooling allocator with copy-on-write memory
//! images, pre-instantiated components, explicit bounds checks instead of
//! signal handlers and guard pages (cheaper to create and tear down), fuel
//! and an epoch deadline per call, and deterministic floating point so any
//! decision can be replayed bit for bit. Large components (Python and
//! JavaScript, with their interpreter's memory snapshot) get a second engine
//! whose pool keeps their dirty pages resident between calls
//! ([`RuntimeConfig::large_component_bytes`]), whose code runs without
//! bounds checks behind guard pages ([`RuntimeConfig::large_guard_pages`]),
//! and whose instances are made ahead of the calls that take them
//! ([`RuntimeConfig::spare_instances`]).
//!
//! [`Runtime::load`] validates a component (a component; exports a hook at a
//! supported version; imports nothing but `pactum:policy/host`; within the
//! size limit), compiles it once per sha256 and keeps the compiled artifact
//! in an on-disk [`cache`], so a restart deserializes instead of
//! recompiling. [`Runtime::call`] runs one hook call in a fresh instance
//! under the company's [`Limits`] and returns a [`CallRecord`]: the result
//! (or a typed [`HookError`]) plus everything the decision log keeps.

mod bindings;
pub mod cache;
mod call;
mod error;
pub mod hooks;
mod plugin;
mod preinit;
mod spares;
mod wasi_stubs;

pub use bindings::WitVersion;
pub use call::{CallRecord, LogLine, Phase};
pub use error::{HookError, LoadError};
pub use hooks::{Hook, HookKind};
pub use pactum_core::PluginHash;
pub use plugin::{LoadCost, LoadSource};
pub use plugin::{Plugin, WarmUp};

pub mod types;

/// The JSON object a hook's `context.params` carries (see `wit/types.wit`):
/// each parameter under its name, with its value written as in `policy.toml`
/// (`1500`, `"emea"`, `["US","CA"]`, `true`, `{"amount":500,"currency":"USD"}`).
/// Encode once per program, not per call.
pub fn encode_params(params: &[types::Param]) -> String {
    use serde_json::{Value, json};
    let mut map = serde_json::Map::new();
    for p in params {
        let value = match &p.value {
            types::ParamValue::Integer(i) => json!(i),
            types::ParamValue::Text(t) => json!(t),
            types::ParamValue::Texts(t) => json!(t),
            types::ParamValue::Flag(f) => json!(f),
            types::ParamValue::Money(m) => json!({ "amount": m.amount, "currency": m.currency }),
        };
        map.insert(p.name.clone(), value);
    }
    Value::Object(map).to_string()
}

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch ticker advances the engine's epoch: the resolution of
/// execution deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Engine-wide settings, fixed for the life of a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled plugins are cached (`None`: compile every load).
    pub cache_dir: Option<PathBuf>,
    /// How many instances may run at once (pooling allocator slots).
    pub max_concurrent_instances: u32,
    /// The largest linear memory any company may be allowed, in bytes. Each
    /// company's [`Limits::memory_bytes`] must fit under it.
    pub max_memory_bytes: u64,
    /// The largest component accepted at load, in bytes.
    pub max_component_bytes: usize,
    /// Bytes of each freed linear memory kept resident and reset in place
    /// for the next call, instead of being returned to the kernel.
    pub keep_resident_bytes: usize,
    /// Reset freed memories by asking the kernel for their dirty pages
    /// (PAGEMAP_SCAN, Linux 6.7+) instead of resetting every resident byte.
    pub pagemap_scan: bool,
    /// Components at least this large (bytes) run on a second engine whose
    /// pool is tuned for big linear memories: Python and JavaScript
    /// components carry their interpreter's 10-20 MB memory snapshot, and a
    /// call dirties a few hundred of its pages. That pool keeps
    /// [`RuntimeConfig::large_keep_resident_bytes`] of each freed memory
    /// resident and resets only the dirty pages (PAGEMAP_SCAN), so the next
    /// call takes no copy-on-write faults on them; the ioctl would cost a
    /// small (Rust) plugin about 1.3 µs per call, which is why it is not the
    /// only pool. That engine also uses guard pages (see
    /// [`RuntimeConfig::large_guard_pages`]).
    /// `None`: one engine for every plugin. Default 1 MiB
    /// (SDK-built Rust plugins are about 130 KB).
    pub large_component_bytes: Option<usize>,
    /// Bytes of each freed linear memory the large-component pool keeps
    /// resident (see [`RuntimeConfig::large_component_bytes`]). Only pages
    /// a call wrote are reset, at most this many bytes' worth; a call that
    /// dirties more has the rest returned to the kernel.
    pub large_keep_resident_bytes: usize,
    /// Whether the large-component engine reserves 4 GiB of address space
    /// (plus a 32 MiB guard) per linear memory, so that its compiled code
    /// needs no bounds checks: a 32-bit address cannot leave the
    /// reservation, and an access past the memory's end traps through the
    /// signal handler. An interpreter's loads and stores then run about a
    /// third faster (JavaScript's call: 265 -> 182 µs). Only address space:
    /// the memory cap ([`Limits::memory_bytes`]) is unchanged. Turn it off
    /// where address space is limited (`ulimit -v`); the small plugins'
    /// engine always checks bounds, which keeps their instantiation cheap.
    /// Default on.
    pub large_guard_pages: bool,
    /// Whether a large component is pre-initialized when it is compiled:
    /// each hook it exports is called once on a built-in input and the
    /// instance's state becomes the component's initial state, so the
    /// language runtime's first-call work is not redone in every call (see
    /// `runtime/preinit.rs`). Default on.
    pub preinitialize_large: bool,
    /// How many instances of each large component are kept instantiated
    /// ahead of its calls, on a thread of their own, which also tears used
    /// ones down (see `runtime/spares.rs`): a Python call then waits for
    /// neither its instantiation (about 90 µs) nor its teardown (about
    /// 95 µs). Each spare serves one call, so every call still starts from a
    /// fresh instance. 0: instantiate in the call, as for small plugins.
    /// Default 1.
    pub spare_instances: usize,
    /// Spares are kept only for components whose instantiation takes at
    /// least this long; below it the hand-off between threads costs about
    /// what it saves (a JavaScript component instantiates in about 30 µs,
    /// and with spares its calls were no faster and used 45 % more CPU; a
    /// Python one takes about 90 µs, and spares take 100 µs off its call
    /// back to back). Default 50 µs.
    pub spare_min_instantiation: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            max_concurrent_instances: 256,
            max_memory_bytes: 256 << 20,
            max_component_bytes: 64 << 20,
            keep_resident_bytes: 256 << 10,
            pagemap_scan: false,
            large_component_bytes: Some(1 << 20),
            large_keep_resident_bytes: 64 << 20,
            large_guard_pages: true,
            preinitialize_large: true,
            spare_instances: 1,
            spare_min_instantiation: Duration::from_micros(50),
        }
    }
}

/// Per-call limits, configurable per company. Every breach is a typed
/// [`HookError`] and leaves the host healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Wall-clock deadline per call, in milliseconds ([`HookError::Timeout`]).
    pub deadline_ms: u64,
    /// Fuel (roughly, Wasm instructions) per call ([`HookError::OutOfFuel`]).
    pub fuel: u64,
    /// Linear memory cap per call, in bytes ([`HookError::MemoryLimit`]).
    /// A cap, not a reservation: a Rust plugin uses 64 KiB, a Python one
    /// 16 MiB, a JavaScript one 12 MiB; the default of 32 MiB fits all
    /// three with room for the policy's own data.
    pub memory_bytes: u64,
    /// Largest accepted output, in bytes of its JSON form
    /// ([`HookError::InvalidOutput`]).
    pub output_bytes: usize,
    /// Log bytes kept per call; the rest is dropped and the record says so.
    pub log_bytes: usize,
    /// The largest component the company may publish, in bytes
    /// ([`LoadError::TooLarge`], checked before the component is parsed or compiled).
    /// The host's [`RuntimeConfig::max_component_bytes`] applies too,
    /// whichever is smaller. The default of 64 MiB takes a Python (about
    /// 18 MB) or JavaScript (about 12 MB) component.
    pub component_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 100,
            fuel: 50_000_000,
            memory_bytes: 32 << 20,
            output_bytes: 64 << 10,
            log_bytes: 4 << 10,
            component_bytes: 64 << 20,
        }
    }
}

/// What a loaded plugin is kept under: its hash and, for a pre-initialized
/// one, the company warm-up its snapshot was made with.
type LoadKey = (PluginHash, Option<WarmUp>);

/// Counters of what the runtime has done since it started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Plugins compiled from Wasm.
    pub compiled: u64,
    /// Plugins loaded from the compiled cache instead.
    pub cache_hits: u64,
    /// Calls served by a spare instance (see [`RuntimeConfig::spare_instances`]).
    pub spare_calls: u64,
}

/// Loads plugins and runs hook calls. Cheap to share: clone the `Arc`.
pub struct Runtime {
    engine: Engine,
    linker: Linker<call::CallState>,
    /// The engine and linker for large components, if configured (see
    /// [`RuntimeConfig::large_component_bytes`]).
    large: Option<(Engine, Linker<call::CallState>)>,
    config: RuntimeConfig,
    /// Loaded plugins, by hash and, for a pre-initialized one, the company
    /// warm-up its snapshot was made with.
    plugins: Mutex<HashMap<LoadKey, Arc<Plugin>>>,
    compiled: AtomicU64,
    cache_hits: AtomicU64,
    spare_calls: AtomicU64,
    ticker: Option<EpochTicker>,
    /// Makes and discards large components' spare instances.
    spares: Option<spares::SpareWorker>,
}

impl Runtime {
    /// Builds the engines (the second only with
    /// [`RuntimeConfig::large_component_bytes`]) and starts the epoch ticker
    /// thread.
    pub fn new(config: RuntimeConfig) -> wasmtime::Result<Runtime> {
        let engine = Engine::new(&engine_config(&config, false))?;
        let linker = program_linker(&engine)?;
        let large = match config.large_component_bytes {
            Some(_) => {
                let engine = Engine::new(&engine_config(&config, true))?;
                let linker = program_linker(&engine)?;
                Some((engine, linker))
            }
            None => None,
        };
        let mut engines = vec![engine.clone()];
        engines.extend(large.as_ref().map(|(e, _)| e.clone()));
        let ticker = EpochTicker::start(engines);
        let spares = (large.is_some() && config.spare_instances > 0)
            .then(|| spares::SpareWorker::start(config.spare_instances, config.spare_min_instantiation));
        Ok(Runtime {
            engine,
            linker,
            large,
            config,
            plugins: Mutex::new(HashMap::new()),
            compiled: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            spare_calls: AtomicU64::new(0),
            ticker: Some(ticker),
            spares,
        })
    }

    /// The engine-wide settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// What the runtime has compiled and loaded from cache so far.
    pub fn stats(&self) -> RuntimeStats {
        RuntimeStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            spare_calls: self.spare_calls.load(Ordering::Relaxed),
        }
    }

    /// Checks that `limits` fit this runtime (memory under the pool's slot size).
    pub fn check_limits(&self, limits: &Limits) -> Result<(), String> {
        if limits.memory_bytes > self.config.max_memory_bytes {
            return Err(format!(
                "memory-bytes {} is over this host's maximum of {}",
                limits.memory_bytes, self.config.max_memory_bytes
            ));
        }
        if limits.deadline_ms == 0 || limits.fuel == 0 {
            return Err("deadline-ms and fuel must be positive".into());
        }
        Ok(())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(spares) = self.spares.take() {
            spares.stop();
        }
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
        }
    }
}

/// The linker with the host's `pactum:policy` imports.
fn program_linker(engine: &Engine) -> wasmtime::Result<Linker<call::CallState>> {
    let mut linker = Linker::new(engine);
    bindings::v0_1_0::Program::add_to_linker::<_, HasSelf<call::CallState>>(&mut linker, |state| state)?;
    bindings::v0_2_0::Program::add_to_linker::<_, HasSelf<call::CallState>>(&mut linker, |state| state)?;
    Ok(linker)
}

impl Runtime {
    /// Whether `engine` is the large-component engine.
    pub(crate) fn is_large_engine(&self, engine: &Engine) -> bool {
        !Engine::same(engine, &self.engine)
    }

    /// A spare instance of `plugin` fit for `limits`, if one is ready; asks
    /// for the next one either way.
    pub(crate) fn take_spare(&self, plugin: &Plugin, limits: &Limits) -> Option<spares::Spare> {
        let (worker, queue) = (self.spares.as_ref()?, plugin.spares.as_ref()?);
        let spare = queue.take(limits);
        worker.refill(queue, &plugin.pre);
        if spare.is_some() {
            self.spare_calls.fetch_add(1, Ordering::Relaxed);
        }
        spare
    }

    /// Tears a call's instance down: a large plugin's on the spare worker,
    /// any other here.
    pub(crate) fn discard(&self, plugin: &Plugin, store: wasmtime::Store<call::CallState>) {
        match &self.spares {
            Some(worker) if plugin.spares.as_ref().is_some_and(|q| q.in_use()) => worker.discard(store),
            _ => drop(store),
        }
    }

    /// The engine and linker a component of `size` bytes runs on.
    pub(crate) fn engine_for(&self, size: usize) -> (&Engine, &Linker<call::CallState>) {
        match (&self.large, self.config.large_component_bytes) {
            (Some((engine, linker)), Some(threshold)) if size >= threshold => (engine, linker),
            _ => (&self.engine, &self.linker),
        }
    }
}

/// What the small plugins' engine and the large components' set differently.
struct EngineShape {
    /// Of each freed linear memory, bytes kept resident and reset in place.
    keep_resident_bytes: usize,
    /// Of each freed table, bytes kept resident and reset in place.
    table_keep_resident_bytes: usize,
    /// Reset only the pages a call wrote, found with `PAGEMAP_SCAN`.
    pagemap_scan: bool,
    /// Guard pages instead of bounds checks.
    guard_pages: bool,
    core_instances_per_slot: u32,
    tables_per_slot: u32,
}

/// The settings of one engine: the small plugins' (`large: false`) or the
/// large components' (see [`RuntimeConfig::large_component_bytes`]).
fn engine_config(config: &RuntimeConfig, large: bool) -> Config {
    // Most settings are per engine. Rust plugins are one or two core
    // instances and tables each. A Python component is a few dozen core
    // instances (its 14 modules and their adapters): on its engine, every
    // instance slot may use the per-component maximum, or 16 concurrent
    // Python calls would exhaust the pool (these totals are counters, not
    // reservations). Its shared function table holds about 6,000 elements
    // (48 KiB): reset in place rather than returned to the kernel and
    // faulted back in, zero page by zero page, at the next instantiation.
    const CORE_INSTANCES: u32 = 32;
    const TABLES: u32 = 8;
    let shape = match large {
        true => EngineShape {
            keep_resident_bytes: config.large_keep_resident_bytes,
            table_keep_resident_bytes: 128 << 10,
            pagemap_scan: true,
            guard_pages: config.large_guard_pages,
            core_instances_per_slot: CORE_INSTANCES,
            tables_per_slot: TABLES,
        },
        false => EngineShape {
            keep_resident_bytes: config.keep_resident_bytes,
            table_keep_resident_bytes: 16 << 10,
            pagemap_scan: config.pagemap_scan,
            guard_pages: false,
            core_instances_per_slot: 4,
            tables_per_slot: 4,
        },
    };
    let mut pool = PoolingAllocationConfig::new();
    let n = config.max_concurrent_instances;
    pool.total_component_instances(n)
        .total_core_instances(n * shape.core_instances_per_slot)
        .total_memories(n * 2)
        .total_tables(n * shape.tables_per_slot)
        .max_memory_size(config.max_memory_bytes as usize)
        .max_core_instances_per_component(CORE_INSTANCES)
        .max_memories_per_component(4)
        .max_tables_per_component(TABLES)
        // Keep the first pages of a freed slot resident and reset them in
        // place: the next call then takes no page faults on them. An
        // SDK-built plugin's whole call (16 KiB stack, data, heap) fits in
        // its one initial 64 KiB page, so the reset is one 64 KiB copy.
        .linear_memory_keep_resident(shape.keep_resident_bytes)
        .table_keep_resident(shape.table_keep_resident_bytes)
        // PAGEMAP_SCAN finds the dirty pages with one ioctl per memory,
        // which costs more (about 1 µs here) than resetting a small memory
        // outright; it pays off only for memories much larger than the
        // pages kept resident (see BENCHMARKS.md).
        .pagemap_scan(if shape.pagemap_scan { Enabled::Auto } else { Enabled::No });

    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        // Explicit bounds checks instead of guard pages and signal handlers:
        // far fewer mprotect calls and TLB shoot-downs per instance.
        .signals_based_traps(false)
        .memory_guard_size(0)
        .memory_reservation(config.max_memory_bytes)
        .memory_reservation_for_growth(0)
        .consume_fuel(true)
        .epoch_interruption(true)
        // Replayable decisions: the same input gives the same bits.
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true);
    if shape.guard_pages {
        // No bounds checks: see `RuntimeConfig::large_guard_pages`.
        cfg.signals_based_traps(true).memory_guard_size(32 << 20).memory_reservation(4 << 30);
    }
    // `PACTUM_WASM_PERFMAP=1` writes /tmp/perf-<pid>.map so `perf report`
    // can name the plugins' compiled functions.
    if std::env::var_os("PACTUM_WASM_PERFMAP").is_some() {
        cfg.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    cfg
}

/// Advances the engines' epochs every [`EPOCH_TICK`] on a background thread,
/// which is what makes execution deadlines fire.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl EpochTicker {
    fn start(engines: Vec<Engine>) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("pactum-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    for engine in &engines {
                        engine.increment_epoch();
                    }
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker { stop, handle }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}
