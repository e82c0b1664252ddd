//! Issue 4: Pactum against the alternatives a platform vendor would consider
//! for per-customer business rules.
//!
//! The stock commission rule and the stock routing rule (`plugins/stock`),
//! each in five engines behind one [`Engine`] trait:
//!
//! | engine | what runs | per decision |
//! |---|---|---|
//! | [`Native`] | `pactum-stock` compiled for the host | the input converted to the rule's types (the cost of a clone) |
//! | [`PactumEngine`] | the stock Wasm component, `Runtime::call` | fresh store and instance, lowering, validation, audit record |
//! | [`RegoEngine`] | `policies/stock.rego` on `regorus` | the parsed, prepared policy reused; a fresh engine (clone of the prepared one), or the one engine reused (labelled), and a new input document |
//! | [`ExtismEngine`] | `extism-plugin/` (Rust, `extism-pdk`) | JSON in and out; a fresh plugin instance from the compiled module, or one instance reused (labelled) |
//! | [`RhaiEngine`] | `policies/stock.rhai` on `rhai` | the compiled AST and the engine reused; a fresh scope and a new input map |
//!
//! Every engine receives the same thing per decision: the host's
//! `CommissionInput` / `RoutingInput` (the WIT records, with the company's
//! 21 parameters in the context), and converts it into its own input form
//! inside the timed call, as Pactum lowers it into the component. Money is
//! `i64` minor units and rates basis points in every engine; rounding is
//! half away from zero in integers.
//!
//! [`data`] generates the 1,000 deals and 1,000 leads (seeded, deterministic);
//! `tests/agree.rs` checks every engine gives the same answers on them, and
//! `benches/compare.rs` times them.

pub mod data;
mod doc;

use anyhow::{Context as _, Result, anyhow, bail};
use pactum::runtime::hooks::{Commission, Routing};
use pactum::runtime::types::{CommissionInput, Destination, LineKind, RoutingInput};
use pactum::runtime::{Limits, Plugin, Runtime, RuntimeConfig};
use std::sync::Arc;
use std::time::Duration;

/// The Extism plugin (`extism-plugin/`), built for `wasm32-unknown-unknown`
/// by this crate's build script.
pub static EXTISM_PLUGIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/extism_plugin.wasm"));

/// The stock rules in Rego.
pub const REGO_POLICY: &str = include_str!("../policies/stock.rego");

/// The stock rules in Rhai.
pub const RHAI_SCRIPT: &str = include_str!("../policies/stock.rhai");

/// One commission line, as compared across engines: the kind, the amount in
/// minor units and its currency (explanations may differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `Fee`, `Margin`, `Bonus` or `Clawback`.
    pub kind: String,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
}

/// A commission decision as compared: its lines.
pub type CommissionAnswer = Vec<Line>;

/// A routing decision as compared: the partner's id, or `None` for direct
/// sales.
pub type RoutingAnswer = Option<String>;

/// One way to run the two stock rules.
pub trait Engine {
    /// The engine's label in reports.
    fn name(&self) -> &'static str;
    /// The stock commission rule on `input`.
    fn commission(&mut self, input: &CommissionInput) -> Result<CommissionAnswer>;
    /// The stock routing rule on `input`.
    fn route(&mut self, input: &RoutingInput) -> Result<RoutingAnswer>;
}

/// The wall-clock limit per decision of the engines that have one
/// (Pactum's deadline, regorus's execution timer, Extism's timeout): the
/// service's default, 100 ms. The agreement test uses a longer one, since a
/// debug build on a loaded machine can stall one decision past 100 ms.
pub const DEADLINE: Duration = Duration::from_millis(100);

/// Every engine of the comparison, in report order, each set up from source
/// or bytes, with `deadline` per decision.
pub fn all_engines(deadline: Duration) -> Result<Vec<Box<dyn Engine>>> {
    ENGINE_NAMES.iter().map(|name| engine_by_name(name, deadline)).collect()
}

/// Names accepted by [`engine_by_name`], as printed by [`Engine::name`].
pub const ENGINE_NAMES: &[&str] = &[
    "native Rust",
    "Pactum (isolated)",
    "regorus (fresh engine)",
    "regorus (reused engine)",
    "Extism (fresh instance)",
    "Extism (reused instance)",
    "Rhai",
];

/// Pactum's default limits with `deadline`.
pub fn pactum_limits(deadline: Duration) -> Limits {
    Limits { deadline_ms: deadline.as_millis() as u64, ..Limits::default() }
}

/// One engine, set up from source or bytes, with `deadline` per decision.
pub fn engine_by_name(name: &str, deadline: Duration) -> Result<Box<dyn Engine>> {
    Ok(match name {
        "native Rust" => Box::new(Native),
        "Pactum (isolated)" => Box::new(PactumEngine::new(RuntimeConfig::default(), pactum_limits(deadline))?),
        "regorus (fresh engine)" => Box::new(RegoEngine::new(true, deadline)?),
        "regorus (reused engine)" => Box::new(RegoEngine::new(false, deadline)?),
        "Extism (fresh instance)" => Box::new(ExtismEngine::new(true, deadline)?),
        "Extism (reused instance)" => Box::new(ExtismEngine::new(false, deadline)?),
        "Rhai" => Box::new(RhaiEngine::new()?),
        other => bail!("no engine named {other:?}"),
    })
}

fn line_kind(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Fee => "Fee",
        LineKind::Margin => "Margin",
        LineKind::Bonus => "Bonus",
        LineKind::Clawback => "Clawback",
    }
}

// ------------------------------------------------------------------ native

/// `pactum-stock` compiled for the host: the baseline.
pub struct Native;

impl Engine for Native {
    fn name(&self) -> &'static str {
        "native Rust"
    }

    fn commission(&mut self, input: &CommissionInput) -> Result<CommissionAnswer> {
        use pactum_pdk::commission::{Commission as _, LineKind as N};
        let decision = pactum_stock::Stock::compute(doc::native_commission(input))
            .map_err(|e| anyhow!("{}: {}", e.code, e.message))?;
        Ok(decision
            .lines
            .into_iter()
            .map(|l| Line {
                kind: match l.kind {
                    N::Fee => "Fee",
                    N::Margin => "Margin",
                    N::Bonus => "Bonus",
                    N::Clawback => "Clawback",
                }
                .into(),
                amount: l.amount.amount,
                currency: l.amount.currency,
            })
            .collect())
    }

    fn route(&mut self, input: &RoutingInput) -> Result<RoutingAnswer> {
        use pactum_pdk::routing::{Destination as N, Routing as _};
        let decision =
            pactum_stock::Stock::route(doc::native_routing(input)).map_err(|e| anyhow!("{}: {}", e.code, e.message))?;
        Ok(match decision.destination {
            N::Partner(id) => Some(id),
            N::Direct => None,
        })
    }
}

// ------------------------------------------------------------------ Pactum

/// The stock component on Pactum's runtime: every decision a fresh, limited
/// instance (`Runtime::call`), exactly as the service runs it.
pub struct PactumEngine {
    runtime: Runtime,
    plugin: Arc<Plugin>,
    limits: Limits,
}

impl PactumEngine {
    /// A runtime with `config`, the stock component loaded (compiled, or
    /// from the cache if `config` has one), calls under `limits`.
    ///
    /// The component's bytes are the ones embedded in this binary
    /// (`STOCK_BYTES`), so a run measures the plugin it was built with.
    pub fn new(config: RuntimeConfig, limits: Limits) -> Result<PactumEngine> {
        PactumEngine::with_component(config, limits, pactum_plugin_artifacts::STOCK_BYTES)
    }

    /// The same with another component (the bench's floor: a plugin that
    /// does nothing).
    pub fn with_component(config: RuntimeConfig, limits: Limits, bytes: &[u8]) -> Result<PactumEngine> {
        let runtime = Runtime::new(config).map_err(|e| anyhow!("{e}"))?;
        let plugin = runtime.load(bytes)?;
        Ok(PactumEngine { runtime, plugin, limits })
    }

    /// The loaded component's sha256, for the record of a run.
    pub fn plugin_hash(&self) -> String {
        self.plugin.hash().to_hex()
    }

    /// One isolated commission call, its result discarded: for measuring
    /// the runtime's fixed cost with a plugin that does nothing.
    pub fn raw_commission(&self, input: &CommissionInput) -> bool {
        self.runtime.call::<Commission>(&self.plugin, &self.limits, input.clone()).result.is_ok()
    }
}

impl Engine for PactumEngine {
    fn name(&self) -> &'static str {
        "Pactum (isolated)"
    }

    fn commission(&mut self, input: &CommissionInput) -> Result<CommissionAnswer> {
        let record = self.runtime.call::<Commission>(&self.plugin, &self.limits, input.clone());
        let decision = record.result?;
        Ok(decision
            .lines
            .into_iter()
            .map(|l| Line { kind: line_kind(l.kind).into(), amount: l.amount.amount, currency: l.amount.currency })
            .collect())
    }

    fn route(&mut self, input: &RoutingInput) -> Result<RoutingAnswer> {
        let record = self.runtime.call::<Routing>(&self.plugin, &self.limits, input.clone());
        Ok(match record.result?.destination {
            Destination::Partner(id) => Some(id),
            Destination::Direct => None,
        })
    }
}

// ----------------------------------------------------------------- regorus

/// `policies/stock.rego` on `regorus`, with an execution time limit.
pub struct RegoEngine {
    prepared: regorus::Engine,
    fresh: bool,
}

impl RegoEngine {
    /// Parses the policy and prepares the engine once. With `fresh`, each
    /// decision runs on a clone of the prepared engine (no evaluation state
    /// can carry over); without, one engine is reused with a new input.
    pub fn new(fresh: bool, deadline: Duration) -> Result<RegoEngine> {
        let mut engine = regorus::Engine::new();
        // A wall-clock limit like Pactum's deadline (checked every 100 units
        // of work: regorus's cooperative timer).
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: deadline,
            check_interval: std::num::NonZeroU32::new(100).unwrap(),
        });
        engine.add_policy("stock.rego".into(), REGO_POLICY.into())?;
        // Prepare (analysis, scheduling) before the first clone, so clones
        // share a prepared policy. The empty input leaves the rules undefined.
        engine.set_input(regorus::Value::new_object());
        engine.eval_rule("data.pactum.stock.route".into())?;
        Ok(RegoEngine { prepared: engine, fresh })
    }

    fn eval(&mut self, input: regorus::Value, rule: &str) -> Result<regorus::Value> {
        let value = if self.fresh {
            let mut engine = self.prepared.clone();
            engine.set_input(input);
            engine.eval_rule(rule.into())?
        } else {
            self.prepared.set_input(input);
            self.prepared.eval_rule(rule.into())?
        };
        if value == regorus::Value::Undefined {
            bail!("{rule} is undefined for this input");
        }
        Ok(value)
    }
}

impl Engine for RegoEngine {
    fn name(&self) -> &'static str {
        if self.fresh { "regorus (fresh engine)" } else { "regorus (reused engine)" }
    }

    fn commission(&mut self, input: &CommissionInput) -> Result<CommissionAnswer> {
        let out = self.eval(doc::commission(input), "data.pactum.stock.commission")?;
        out["lines"]
            .as_array()?
            .iter()
            .map(|l| {
                Ok(Line {
                    kind: l["kind"].as_string()?.to_string(),
                    amount: l["amount"]["amount"].as_i64()?,
                    currency: l["amount"]["currency"].as_string()?.to_string(),
                })
            })
            .collect()
    }

    fn route(&mut self, input: &RoutingInput) -> Result<RoutingAnswer> {
        let out = self.eval(doc::routing(input), "data.pactum.stock.route")?;
        Ok(match &out["destination"] {
            regorus::Value::Null => None,
            id => Some(id.as_string()?.to_string()),
        })
    }
}

// ------------------------------------------------------------------ Extism

/// The Extism plugin (`extism-plugin/`) under the same limits as Pactum's
/// calls: 16 MiB of memory, 50 M fuel, the deadline as its timeout, no WASI.
pub struct ExtismEngine {
    compiled: extism::CompiledPlugin,
    reused: Option<extism::Plugin>,
}

impl ExtismEngine {
    /// Compiles the plugin (no on-disk cache). With `fresh`, each decision
    /// instantiates the compiled plugin anew (Pactum's isolation); without,
    /// one instance serves every decision.
    pub fn new(fresh: bool, deadline: Duration) -> Result<ExtismEngine> {
        let manifest =
            extism::Manifest::new([extism::Wasm::data(EXTISM_PLUGIN)]).with_memory_max(256).with_timeout(deadline);
        let builder =
            extism::PluginBuilder::new(manifest).with_wasi(false).with_fuel_limit(50_000_000).with_cache_disabled();
        let compiled = extism::CompiledPlugin::new(builder)?;
        let reused = if fresh { None } else { Some(extism::Plugin::new_from_compiled(&compiled)?) };
        Ok(ExtismEngine { compiled, reused })
    }

    fn call(&mut self, function: &str, input: serde_json::Value) -> Result<serde_json::Value> {
        let bytes = serde_json::to_vec(&input)?;
        match &mut self.reused {
            Some(plugin) => Ok(serde_json::from_slice(plugin.call::<&[u8], &[u8]>(function, bytes.as_slice())?)?),
            None => {
                let mut plugin = extism::Plugin::new_from_compiled(&self.compiled)?;
                Ok(serde_json::from_slice(plugin.call::<&[u8], &[u8]>(function, bytes.as_slice())?)?)
            }
        }
    }
}

impl Engine for ExtismEngine {
    fn name(&self) -> &'static str {
        if self.reused.is_none() { "Extism (fresh instance)" } else { "Extism (reused instance)" }
    }

    fn commission(&mut self, input: &CommissionInput) -> Result<CommissionAnswer> {
        let out = self.call("commission", doc::commission(input))?;
        let lines = out["lines"].as_array().context("lines")?;
        lines
            .iter()
            .map(|l| {
                Ok(Line {
                    kind: l["kind"].as_str().context("kind")?.into(),
                    amount: l["amount"]["amount"].as_i64().context("amount")?,
                    currency: l["amount"]["currency"].as_str().context("currency")?.into(),
                })
            })
            .collect()
    }

    fn route(&mut self, input: &RoutingInput) -> Result<RoutingAnswer> {
        let out = self.call("route", doc::routing(input))?;
        Ok(out["destination"].as_str().map(String::from))
    }
}

// -------------------------------------------------------------------- Rhai

/// `policies/stock.rhai` on `rhai`, with sandbox limits set (operations,
/// call depth, string, array and map sizes).
pub struct RhaiEngine {
    engine: rhai::Engine,
    ast: rhai::AST,
}

impl RhaiEngine {
    /// A limited engine and the compiled script, both reused.
    pub fn new() -> Result<RhaiEngine> {
        let mut engine = rhai::Engine::new();
        engine
            .set_max_operations(50_000_000)
            .set_max_call_levels(32)
            .set_max_expr_depths(64, 32)
            .set_max_string_size(64 << 10)
            .set_max_array_size(10_000)
            .set_max_map_size(10_000);
        let ast = engine.compile(RHAI_SCRIPT).map_err(|e| anyhow!("compiling stock.rhai: {e}"))?;
        Ok(RhaiEngine { engine, ast })
    }

    fn call(&self, function: &str, input: rhai::Dynamic) -> Result<rhai::Map> {
        let mut scope = rhai::Scope::new();
        let options = rhai::CallFnOptions::new().eval_ast(false).rewind_scope(true);
        self.engine
            .call_fn_with_options::<rhai::Map>(options, &mut scope, &self.ast, function, (input,))
            .map_err(|e| anyhow!("{function}: {e}"))
    }
}

fn rhai_field<'a>(map: &'a rhai::Map, key: &str) -> Result<&'a rhai::Dynamic> {
    map.get(key).with_context(|| format!("missing {key}"))
}

fn rhai_map(value: &rhai::Dynamic) -> Result<rhai::Map> {
    value.clone().try_cast::<rhai::Map>().context("not a map")
}

impl Engine for RhaiEngine {
    fn name(&self) -> &'static str {
        "Rhai"
    }

    fn commission(&mut self, input: &CommissionInput) -> Result<CommissionAnswer> {
        let out = self.call("commission", doc::commission(input))?;
        let lines = rhai_field(&out, "lines")?.clone().into_array().map_err(|t| anyhow!("lines: {t}"))?;
        lines
            .iter()
            .map(|l| {
                let l = rhai_map(l)?;
                let amount = rhai_map(rhai_field(&l, "amount")?)?;
                Ok(Line {
                    kind: rhai_field(&l, "kind")?.clone().into_string().map_err(|t| anyhow!("kind: {t}"))?,
                    amount: rhai_field(&amount, "amount")?.as_int().map_err(|t| anyhow!("amount: {t}"))?,
                    currency: rhai_field(&amount, "currency")?
                        .clone()
                        .into_string()
                        .map_err(|t| anyhow!("currency: {t}"))?,
                })
            })
            .collect()
    }

    fn route(&mut self, input: &RoutingInput) -> Result<RoutingAnswer> {
        let out = self.call("route", doc::routing(input))?;
        let destination = rhai_field(&out, "destination")?;
        if destination.is_unit() {
            Ok(None)
        } else {
            Ok(Some(destination.clone().into_string().map_err(|t| anyhow!("destination: {t}"))?))
        }
    }
}
