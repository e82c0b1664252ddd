//! The plugin lifecycle: publish a component (validated, stored, not live),
//! activate it for a hook (atomically: calls already started finish on the
//! plugin they started with), roll back to the previous binding, and replay
//! a recorded decision through the plugin that made it.

use super::bad;
use crate::auth::Capability;
use crate::fixtures::{Fixture, FixtureReport};
use crate::program::Program;
use crate::runtime::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use crate::runtime::{HookKind, LoadSource, Plugin};
use crate::service::{Caller, Fallback, Service, ServiceError, Tenant};
use crate::store::{
    ActivationRequestRow, BindingChangeRow, DecisionRow, NewBindingChange, NewPublication, PublicationRow,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// What publishing returned.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Published {
    /// The stored publication.
    #[serde(flatten)]
    pub plugin: PublicationRow,
    /// False when the company had published these exact bytes before.
    pub created: bool,
    /// Validation and compilation (the cold start a replica pays once per
    /// hash; later loads come from the compiled cache), milliseconds.
    pub compile_ms: u64,
    /// What running this plugin costs from cold, to judge it before
    /// activating it: a Python or JavaScript component takes seconds to
    /// compile where a Rust one takes a fraction of one.
    pub cold_start: ColdStart,
}

/// A published plugin's cold-start cost.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ColdStart {
    /// `compiled` (compiled now: every replica pays `load_ms` once, then
    /// loads it from its compiled cache), `cache` (loaded from the
    /// compiled cache) or `memory` (already loaded in this server).
    pub source: LoadSource,
    /// This load's wall time: checks, compilation or cache load, linking
    /// and a type-checking instantiation, milliseconds.
    pub load_ms: u64,
    /// The component's size, bytes.
    pub component_bytes: u64,
    /// The compiled code's size (about what the compiled cache stores per
    /// replica), bytes.
    pub artifact_bytes: u64,
    /// The first isolated call's time (a fixture's), microseconds; `null`
    /// when the company has no fixture for the plugin's hooks.
    pub first_call_us: Option<u64>,
    /// Whether calls start from the component's pre-initialized state (a
    /// large component, after one warm-up call of each hook at compile
    /// time) rather than from its state as published.
    pub preinitialized: bool,
}

/// What an activation did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Activation {
    /// The plugin is live.
    Live(BindingChangeRow),
    /// A four-eyes company: the request waits for a second admin.
    Pending(ActivationRequestRow),
}

/// A recorded decision run again.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Replay {
    /// The decision.
    pub decision_id: i64,
    /// Its company.
    pub tenant: String,
    /// Its hook.
    pub hook: String,
    /// The plugin that made it, and made it again.
    pub plugin: String,
    /// Whether the replayed result equals the recorded one exactly.
    pub same: bool,
    /// The recorded result: `{"ok": output}` or `{"error": ...}`.
    pub recorded: serde_json::Value,
    /// The replayed result, in the same shape.
    pub replayed: serde_json::Value,
}

/// What a failing fixture does to a publish or an activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixturePolicy {
    /// Refuse.
    Enforce,
    /// Go on: the admin overrode the fixtures (recorded).
    Override,
    /// Go on and record the result: a rollback restores what ran before.
    Record,
}

fn check_label(field: &str, value: &str) -> Result<(), ServiceError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if ok { Ok(()) } else { Err(bad(format!("`{field}` must be 1 to 64 letters, digits, `-`, `_`, `.` or `+`"))) }
}

impl Service {
    /// Validates and stores a component for the caller's company. It is
    /// not live until [`Service::activate`] binds it to a hook. A refused
    /// component changes nothing.
    /// The company's fixtures run first, for `hook` (or every hook the
    /// component exports): a failure refuses it unless `fixtures` is
    /// [`FixturePolicy::Override`], which is recorded.
    pub async fn publish_plugin(
        &self,
        caller: &Caller,
        name: &str,
        version: &str,
        hook: Option<HookKind>,
        fixtures: FixturePolicy,
        wasm: Vec<u8>,
    ) -> Result<Published, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        check_label("name", name)?;
        check_label("version", version)?;
        let program = self.tenant(&caller.tenant)?.program.clone();
        Service::check_component_size(name, &wasm, &program.limits)?;
        let started = Instant::now();
        let runtime = self.runtime().clone();
        let warm_up = program.warm_up();
        let (plugin, cost, wasm) = tokio::task::spawn_blocking(move || {
            runtime.load_for_with_cost(&wasm, &warm_up).map(|(p, cost)| (p, cost, wasm))
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("compiling task: {e}")))?
        .map_err(|source| ServiceError::Plugin { name: name.to_string(), source })?;
        let compile_ms = started.elapsed().as_millis() as u64;
        let hooks = match hook {
            Some(hook) if !plugin.exports(hook) => {
                return Err(bad(format!(
                    "`hook`: the component does not export the {hook} hook (it exports: {})",
                    plugin.hooks().iter().map(|h| h.interface()).collect::<Vec<_>>().join(", ")
                )));
            }
            Some(hook) => vec![hook],
            None => plugin.hooks().to_vec(),
        };
        let (verdict, first_call_us) = self.check_fixtures_timed(caller, &plugin, &hooks, fixtures).await?;
        let cold_start = ColdStart {
            source: cost.source,
            load_ms: cost.load_ms,
            component_bytes: wasm.len() as u64,
            artifact_bytes: cost.artifact_bytes,
            first_call_us,
            preinitialized: cost.preinitialized,
        };
        let hash = plugin.hash().to_hex();
        let (row, created) = self
            .db
            .publish(NewPublication {
                tenant: &caller.tenant,
                hash: &hash,
                name,
                version,
                hooks: plugin.hooks(),
                wit_version: plugin.wit_version().as_str(),
                wasm: &wasm,
                by: &caller.key,
                fixtures: &verdict,
            })
            .await?;
        tracing::info!(
            tenant = %caller.tenant, plugin = %hash, name, version, compile_ms, source = ?cold_start.source,
            artifact_bytes = cold_start.artifact_bytes, first_call_us = ?cold_start.first_call_us, "plugin published"
        );
        Ok(Published { plugin: row, created, compile_ms, cold_start })
    }

    /// The company's published plugins, newest first.
    pub async fn publications(&self, caller: &Caller) -> Result<Vec<PublicationRow>, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        Ok(self.db.publications(&caller.tenant).await?)
    }

    /// The company's binding changes, newest first.
    pub async fn binding_changes(
        &self,
        caller: &Caller,
        hook: Option<HookKind>,
    ) -> Result<Vec<BindingChangeRow>, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        Ok(self.db.binding_changes(&caller.tenant, hook).await?)
    }

    /// Makes a published plugin serve `hook`. The switch is atomic: a call
    /// that already started finishes on the plugin it started with, every
    /// call after it uses the new one, and each decision records the hash
    /// of the plugin that made it. The company's fixtures for `hook` run
    /// first, as `fixtures` says. A four-eyes company gets a pending
    /// request instead, which a second admin approves
    /// ([`Service::approve_activation`]).
    pub async fn activate(
        &self,
        caller: &Caller,
        hook: HookKind,
        hash: &str,
        reason: &str,
        fixtures: FixturePolicy,
    ) -> Result<Activation, ServiceError> {
        self.activation(caller, hook, hash, reason, fixtures, true).await
    }

    async fn activation(
        &self,
        caller: &Caller,
        hook: HookKind,
        hash: &str,
        reason: &str,
        fixtures: FixturePolicy,
        four_eyes: bool,
    ) -> Result<Activation, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        if reason.trim().is_empty() {
            return Err(bad("`reason` must say why the binding changes"));
        }
        let (name, plugin) = self.published_plugin(&caller.tenant, hook, hash).await?;
        let verdict = self.check_fixtures(caller, &plugin, &[hook], fixtures).await?;
        if four_eyes && self.tenant(&caller.tenant)?.program.lifecycle.four_eyes {
            let request =
                self.db.request_activation(&caller.tenant, hook, hash, reason.trim(), &verdict, &caller.key).await?;
            tracing::info!(tenant = %caller.tenant, %hook, plugin = %hash, name, request = request.id, "activation awaits a second admin");
            return Ok(Activation::Pending(request));
        }
        let change = self.switch(&caller.tenant, hook, plugin, hash, &caller.key, reason.trim(), &verdict).await?;
        Ok(Activation::Live(change))
    }

    /// A published plugin of the company that exports `hook`, loaded:
    /// `(its name, the plugin)`.
    async fn published_plugin(
        &self,
        tenant: &str,
        hook: HookKind,
        hash: &str,
    ) -> Result<(String, Arc<Plugin>), ServiceError> {
        let publication = self
            .db
            .publication(tenant, hash)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no plugin {hash} published by company `{tenant}`")))?;
        if !publication.hooks.iter().any(|h| h == hook.interface()) {
            return Err(bad(format!(
                "plugin {hash} ({} {}) does not export the {hook} hook; it exports: {}",
                publication.name,
                publication.version,
                publication.hooks.join(", ")
            )));
        }
        let program = self.tenant(tenant)?.program.clone();
        let plugin = self.stored_plugin(&publication.name, hash, &program).await?;
        Ok((publication.name, plugin))
    }

    /// A stored plugin, loaded (from the compiled cache when this replica
    /// has seen the hash), for the company running `program`.
    async fn stored_plugin(&self, name: &str, hash: &str, program: &Program) -> Result<Arc<Plugin>, ServiceError> {
        let wasm = self
            .db
            .plugin_wasm(hash)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("plugin {hash} is bound or published but not stored")))?;
        self.load(name, &wasm, program)
    }

    /// Binds `hook` to `plugin`, records the change and tells the other
    /// replicas.
    #[allow(clippy::too_many_arguments)]
    async fn switch(
        &self,
        tenant: &str,
        hook: HookKind,
        plugin: Arc<Plugin>,
        hash: &str,
        by: &str,
        reason: &str,
        verdict: &str,
    ) -> Result<BindingChangeRow, ServiceError> {
        let _one_at_a_time = self.swap.lock().await;
        let current = self.tenant(tenant)?;
        let from = current.plugins.get(&hook).map(|p| p.hash().to_hex());
        if from.as_deref() == Some(hash) {
            return Err(ServiceError::Conflict(format!("plugin {hash} already serves the {hook} hook")));
        }
        let change = self
            .db
            .change_binding(NewBindingChange {
                tenant,
                hook,
                from: from.as_deref(),
                to: hash,
                by,
                reason,
                fixtures: verdict,
            })
            .await?
            .ok_or_else(|| {
                ServiceError::Conflict(format!("the {hook} binding changed meanwhile (another replica?); try again"))
            })?;
        let mut plugins = current.plugins.clone();
        plugins.insert(hook, plugin);
        let next = Arc::new(Tenant { program: current.program.clone(), plugins, shadows: current.shadows.clone() });
        self.tenants.write().expect("tenants").insert(tenant.to_string(), next);
        tracing::info!(%tenant, %hook, from = ?from, to = %hash, %by, "binding changed");
        if let Err(e) = self.db.announce_bindings(tenant).await {
            // The others' periodic re-check still finds it.
            tracing::warn!(error = %e, "announcing the binding change to other replicas");
        }
        Ok(change)
    }

    /// A second admin approves a pending four-eyes activation: it goes
    /// live. The approver can be neither the admin who asked nor the
    /// plugin's publisher.
    pub async fn approve_activation(&self, caller: &Caller, id: i64) -> Result<BindingChangeRow, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let request = self
            .db
            .activation_request(&caller.tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no activation request {id}")))?;
        if request.status != "pending" {
            return Err(ServiceError::Conflict(format!("activation request {id} is {} already", request.status)));
        }
        if request.requested_by == caller.key {
            return Err(ServiceError::Forbidden(
                "four eyes: another admin must approve the activation you asked for".into(),
            ));
        }
        let publication = self.db.publication(&caller.tenant, &request.plugin_hash).await?;
        if publication.is_some_and(|p| p.published_by == caller.key) {
            return Err(ServiceError::Forbidden(
                "four eyes: the plugin's publisher cannot approve its activation".into(),
            ));
        }
        let hook = HookKind::parse(&request.hook)
            .ok_or_else(|| ServiceError::Internal(format!("stored hook {}", request.hook)))?;
        let (_, plugin) = self.published_plugin(&caller.tenant, hook, &request.plugin_hash).await?;
        if !self.db.decide_activation(&caller.tenant, id, "approved", &caller.key).await? {
            return Err(ServiceError::Conflict(format!("activation request {id} was decided meanwhile")));
        }
        let by = format!("{} approved by {}", request.requested_by, caller.key);
        self.switch(&caller.tenant, hook, plugin, &request.plugin_hash, &by, &request.reason, &request.fixtures).await
    }

    /// The company's activation requests, newest first.
    pub async fn activation_requests(&self, caller: &Caller) -> Result<Vec<ActivationRequestRow>, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        Ok(self.db.activation_requests(&caller.tenant).await?)
    }

    /// Binds `hook` back to the plugin it had before its latest change.
    pub async fn rollback(
        &self,
        caller: &Caller,
        hook: HookKind,
        reason: &str,
    ) -> Result<BindingChangeRow, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let latest = self.db.binding_changes(&caller.tenant, Some(hook)).await?.into_iter().next();
        let previous = latest
            .and_then(|c| c.from_hash)
            .ok_or_else(|| ServiceError::Conflict(format!("the {hook} hook has no earlier binding to roll back to")))?;
        let reason =
            if reason.trim().is_empty() { "rollback".to_string() } else { format!("rollback: {}", reason.trim()) };
        // The previous plugin comes back at once (no four-eyes wait) even if
        // today's fixtures fail it (they may be what changed); the result
        // is recorded.
        match self.activation(caller, hook, &previous, &reason, FixturePolicy::Record, false).await? {
            Activation::Live(change) => Ok(change),
            Activation::Pending(_) => Err(ServiceError::Internal("a rollback never waits".into())),
        }
    }

    /// Brings this replica up to date with the database: tenants created
    /// and bindings changed elsewhere (another replica, the CLI). Returns
    /// how many tenants changed. Calls already running keep the plugin
    /// they started with.
    pub async fn refresh(&self) -> Result<usize, ServiceError> {
        let _one_at_a_time = self.swap.lock().await;
        let by_tenant = |rows: Vec<(String, String, String)>| {
            let mut map: BTreeMap<String, BTreeMap<HookKind, String>> = BTreeMap::new();
            for (tenant, hook, hash) in rows {
                let hook =
                    HookKind::parse(&hook).ok_or_else(|| ServiceError::Internal(format!("stored hook {hook}")))?;
                map.entry(tenant).or_default().insert(hook, hash);
            }
            Ok::<_, ServiceError>(map)
        };
        let mut bound = by_tenant(self.db.all_bindings().await?)?;
        let mut shadowed = by_tenant(self.db.all_shadows().await?)?;
        let mut changed = 0;
        for row in self.db.tenants().await? {
            let current = self.tenants.read().expect("tenants").get(&row.slug).cloned();
            let program = match &current {
                Some(t) => t.program.clone(),
                None => {
                    let mut program = Program::parse(&row.program, Path::new(&format!("tenant {}", row.slug)))?;
                    // The tenant may have been created under another slug than its file's.
                    program.slug = row.slug.clone();
                    program
                }
            };
            let mut plugins = current.as_ref().map(|t| t.plugins.clone()).unwrap_or_default();
            let mut shadows = current.as_ref().map(|t| t.shadows.clone()).unwrap_or_default();
            let mut dirty = current.is_none();
            dirty |= self.sync_plugins(&mut plugins, bound.remove(&row.slug).unwrap_or_default(), &program).await?;
            dirty |= self.sync_plugins(&mut shadows, shadowed.remove(&row.slug).unwrap_or_default(), &program).await?;
            if dirty {
                if current.is_some() {
                    tracing::info!(tenant = %row.slug, "bindings changed elsewhere: now serving them");
                }
                let next = Arc::new(Tenant { program, plugins, shadows });
                self.tenants.write().expect("tenants").insert(row.slug.clone(), next);
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Makes `have` hold exactly the plugins `want` names (by hash),
    /// loading the ones it lacks; whether anything changed.
    async fn sync_plugins(
        &self,
        have: &mut BTreeMap<HookKind, Arc<Plugin>>,
        want: BTreeMap<HookKind, String>,
        program: &Program,
    ) -> Result<bool, ServiceError> {
        let before = have.len();
        have.retain(|hook, _| want.contains_key(hook));
        let mut changed = have.len() != before;
        for (hook, hash) in want {
            if have.get(&hook).is_some_and(|p| p.hash().to_hex() == hash) {
                continue;
            }
            have.insert(hook, self.stored_plugin(&hash, &hash, program).await?);
            changed = true;
        }
        Ok(changed)
    }

    /// Keeps this replica's bindings current: on PostgreSQL it listens for
    /// other replicas' changes (`LISTEN`, within a second) and re-checks
    /// every `every` in case a notification was missed; on SQLite it
    /// re-checks every `every`.
    pub fn watch_bindings(self: &Arc<Self>, every: std::time::Duration) {
        let service = self.clone();
        let mut stopping = self.tasks.stopping();
        self.tasks.spawn("binding watcher", async move {
            let mut listener = match service.db.bindings_listener().await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::error!(error = %e, "listening for binding changes; falling back to re-checking");
                    None
                }
            };
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                match &mut listener {
                    Some(l) => {
                        tokio::select! {
                            _ = stopping.stopped() => return,
                            n = l.recv() => if let Err(e) = n {
                                tracing::warn!(error = %e, "binding notifications interrupted; re-checking");
                            },
                            _ = tick.tick() => {}
                        }
                    }
                    None => {
                        tokio::select! {
                            _ = stopping.stopped() => return,
                            _ = tick.tick() => {}
                        }
                    }
                }
                if let Err(e) = service.refresh().await {
                    tracing::error!(error = %e, "refreshing bindings");
                }
            }
        });
    }

    /// Runs the company's fixtures of `hooks` against `plugin` and says
    /// what they said, or refuses.
    async fn check_fixtures(
        &self,
        caller: &Caller,
        plugin: &Arc<Plugin>,
        hooks: &[HookKind],
        policy: FixturePolicy,
    ) -> Result<String, ServiceError> {
        Ok(self.check_fixtures_timed(caller, plugin, hooks, policy).await?.0)
    }

    /// [`Service::check_fixtures`], with the first call's time in
    /// microseconds (`None` without fixtures).
    async fn check_fixtures_timed(
        &self,
        caller: &Caller,
        plugin: &Arc<Plugin>,
        hooks: &[HookKind],
        policy: FixturePolicy,
    ) -> Result<(String, Option<u64>), ServiceError> {
        let fixtures = self
            .db
            .fixtures(&caller.tenant)
            .await?
            .into_iter()
            .map(|(name, hook, text)| {
                let hook = HookKind::parse(&hook)
                    .ok_or_else(|| ServiceError::Internal(format!("fixture {name}: stored hook {hook}")))?;
                Fixture::parse(&name, hook, &text).map_err(|e| ServiceError::Internal(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let program = self.tenant(&caller.tenant)?.program.clone();
        let (runtime, plugin, hooks) = (self.runtime().clone(), plugin.clone(), hooks.to_vec());
        let report: FixtureReport =
            tokio::task::spawn_blocking(move || crate::fixtures::run(&runtime, &plugin, &program, &fixtures, &hooks))
                .await
                .map_err(|e| ServiceError::Internal(format!("fixture task: {e}")))?;
        let first_call_us = report.first_call_us;
        let verdict = match (report.failed(), policy) {
            (0, _) => report.summary(),
            (_, FixturePolicy::Enforce) => return Err(ServiceError::FixturesFailed(report)),
            (_, FixturePolicy::Override) => format!("{}; overridden by {}", report.summary(), caller.key),
            (_, FixturePolicy::Record) => report.summary(),
        };
        Ok((verdict, first_call_us))
    }

    /// Runs a recorded decision's input through the plugin hash it records
    /// (under the company's current limits) and compares the results.
    /// `caller` scopes it to a company; `None` is an operator's tool.
    pub async fn replay(&self, caller: Option<&Caller>, id: i64) -> Result<Replay, ServiceError> {
        let (tenant, row) = match caller {
            Some(caller) => {
                caller.require(Capability::ReadDecisions)?;
                (caller.tenant.clone(), self.decision(&caller.tenant, id).await?)
            }
            None => {
                self.db.decision_by_id(id).await?.ok_or_else(|| ServiceError::NotFound(format!("no decision {id}")))?
            }
        };
        if let Some(actor) = &row.actor {
            return Err(ServiceError::Conflict(format!(
                "decision {id} was made by {actor} in manual review, not by a plugin: there is nothing to replay"
            )));
        }
        let hook = HookKind::parse(&row.hook)
            .ok_or_else(|| ServiceError::Internal(format!("decision {id} has an unknown hook {}", row.hook)))?;
        match hook {
            HookKind::Routing => self.replay_as::<Routing>(&tenant, &row).await,
            HookKind::Approval => self.replay_as::<Approval>(&tenant, &row).await,
            HookKind::Commission => self.replay_as::<Commission>(&tenant, &row).await,
            HookKind::TierEvaluation => self.replay_as::<TierEvaluation>(&tenant, &row).await,
        }
    }

    async fn replay_as<H: Fallback>(&self, tenant: &str, row: &DecisionRow) -> Result<Replay, ServiceError> {
        let input: <H as Hook>::Input = serde_json::from_value(row.record["input"].clone()).map_err(|e| {
            ServiceError::Internal(format!("decision {}: its recorded input does not parse: {e}", row.id))
        })?;
        let wasm = self
            .db
            .plugin_wasm(&row.plugin)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("plugin {} is no longer stored", row.plugin)))?;
        // Warmed (if it is pre-initialized) as it was for the decision: with
        // the company and parameters its recorded input carries.
        let context = &row.record["input"]["context"];
        let warm_up = crate::runtime::WarmUp {
            company: context["company"].as_str().unwrap_or(tenant).to_string(),
            params: context["params"].as_str().unwrap_or("{}").to_string(),
        };
        let runtime = self.runtime().clone();
        let plugin = runtime
            .load_for(&wasm, &warm_up)
            .map_err(|source| ServiceError::Plugin { name: row.plugin.clone(), source })?;
        let limits = self.tenant(tenant)?.program.limits;
        let runtime = self.runtime().clone();
        let record = tokio::task::spawn_blocking(move || runtime.call::<H>(&plugin, &limits, input))
            .await
            .map_err(|e| ServiceError::Internal(format!("replay task: {e}")))?;
        let replayed = record.result_json();
        let recorded = respelled::<H>(row.record["result"].clone());
        Ok(Replay {
            decision_id: row.id,
            tenant: tenant.to_string(),
            hook: row.hook.clone(),
            plugin: row.plugin.clone(),
            same: replayed == recorded,
            recorded,
            replayed,
        })
    }
}

/// What a candidate plugin would have decided over a period of recorded
/// decisions.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Backtest {
    /// The hook.
    pub hook: String,
    /// The candidate's sha256.
    pub candidate: String,
    /// The period's start (Unix seconds, inclusive).
    pub from: i64,
    /// Its end (exclusive).
    pub to: i64,
    /// Recorded decisions replayed.
    pub decisions: usize,
    /// Of which the candidate decides differently (explanations aside).
    pub changed: usize,
    /// The first [`BACKTEST_LISTED`] changed decisions, recorded beside candidate.
    pub differences: Vec<BacktestDifference>,
    /// Commission: per partner, paid vs would pay (minor units).
    pub by_partner: Vec<PartnerTotals>,
    /// Routing, approval, tier evaluation: how often each recorded outcome
    /// would become each candidate outcome (`approve → reject`, ...).
    pub transitions: Vec<Transition>,
    /// Wall time, milliseconds.
    pub elapsed_ms: u64,
}

/// How many changed decisions a backtest lists one by one.
pub const BACKTEST_LISTED: usize = 1_000;

/// One decision the candidate would change.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BacktestDifference {
    /// The recorded decision.
    pub decision_id: i64,
    /// What it is about.
    pub subject: Option<String>,
    /// Its recorded result.
    pub recorded: serde_json::Value,
    /// The candidate's result.
    pub candidate: serde_json::Value,
}

/// A partner's commission under the recorded and the candidate plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PartnerTotals {
    /// The partner.
    pub partner_id: String,
    /// Paid (recorded).
    pub recorded: i64,
    /// Would pay (candidate).
    pub candidate: i64,
}

/// A count of one outcome turning into another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Transition {
    /// The recorded outcome.
    pub from: String,
    /// The candidate's.
    pub to: String,
    /// How many decisions.
    pub count: usize,
}

/// Decisions read and replayed per round.
const BACKTEST_PAGE: i64 = 4_000;

/// A result without its human-readable explanations.
fn substance(result: &serde_json::Value) -> serde_json::Value {
    match result {
        serde_json::Value::Object(fields) => fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "reason" | "explanation" | "description"))
            .map(|(k, v)| (k.clone(), substance(v)))
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(substance).collect(),
        other => other.clone(),
    }
}

/// The outcome a transition counts: the decision's kind, not its text.
fn label(hook: HookKind, result: &serde_json::Value) -> String {
    let Some(ok) = result.get("ok") else {
        return format!("error: {}", result["error"]["kind"].as_str().unwrap_or("?"));
    };
    let variant = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.to_lowercase(),
        serde_json::Value::Object(o) => {
            o.iter().next().map(|(k, v)| format!("{} {}", k.to_lowercase(), v).replace('"', "")).unwrap_or_default()
        }
        other => other.to_string(),
    };
    match hook {
        HookKind::Routing => variant(&ok["destination"]),
        HookKind::Approval => variant(&ok["outcome"]),
        HookKind::TierEvaluation => format!("{} ({})", variant(&ok["tier"]), variant(&ok["change"])),
        HookKind::Commission => String::new(),
    }
}

/// Commission paid per partner in a result.
fn paid(result: &serde_json::Value) -> Vec<(String, i64)> {
    result["ok"]["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    (
                        l["partner_id"].as_str().unwrap_or_default().to_string(),
                        l["amount"]["amount"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Service {
    /// Replays `tenant`'s recorded `hook` decisions of `[from, to)`
    /// through `candidate` (each call isolated, under the company's
    /// limits, spread over the cores) and reports what would change.
    /// `progress(done, total)` is called after each page.
    pub async fn backtest(
        &self,
        tenant: &str,
        hook: HookKind,
        from: i64,
        to: i64,
        candidate: Arc<Plugin>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Backtest, ServiceError> {
        if !candidate.exports(hook) {
            return Err(bad(format!("the candidate does not export the {hook} hook")));
        }
        if from >= to {
            return Err(bad("`from` must be before `to`"));
        }
        let started = Instant::now();
        let limits = self.tenant(tenant)?.program.limits;
        let total = self.db.count_decisions(tenant, hook, from, to).await? as usize;
        let mut report = Backtest {
            hook: hook.interface().into(),
            candidate: candidate.hash().to_hex(),
            from,
            to,
            decisions: 0,
            changed: 0,
            differences: Vec::new(),
            by_partner: Vec::new(),
            transitions: Vec::new(),
            elapsed_ms: 0,
        };
        let mut partners: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut transitions: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut after = 0;
        loop {
            let page = self.db.decision_records(tenant, hook, from, to, after, BACKTEST_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.0;
            let (runtime, plugin) = (self.runtime().clone(), candidate.clone());
            let replayed = tokio::task::spawn_blocking(move || replay_page(&runtime, &plugin, &limits, hook, page))
                .await
                .map_err(|e| ServiceError::Internal(format!("backtest task: {e}")))??;
            for (id, subject, recorded, candidate) in replayed {
                report.decisions += 1;
                if hook == HookKind::Commission {
                    for (partner, amount) in paid(&recorded) {
                        partners.entry(partner).or_default().0 += amount;
                    }
                    for (partner, amount) in paid(&candidate) {
                        partners.entry(partner).or_default().1 += amount;
                    }
                } else {
                    *transitions.entry((label(hook, &recorded), label(hook, &candidate))).or_default() += 1;
                }
                if substance(&recorded) != substance(&candidate) {
                    report.changed += 1;
                    if report.differences.len() < BACKTEST_LISTED {
                        report.differences.push(BacktestDifference { decision_id: id, subject, recorded, candidate });
                    }
                }
            }
            progress(report.decisions, total.max(report.decisions));
        }
        report.by_partner = partners
            .into_iter()
            .map(|(partner_id, (recorded, candidate))| PartnerTotals { partner_id, recorded, candidate })
            .collect();
        report.transitions =
            transitions.into_iter().map(|((from, to), count)| Transition { from, to, count }).collect();
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// [`Service::backtest`] for a company's admin, of a plugin it published.
    pub async fn backtest_published(
        &self,
        caller: &Caller,
        hook: HookKind,
        from: i64,
        to: i64,
        hash: &str,
    ) -> Result<Backtest, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let (_, plugin) = self.published_plugin(&caller.tenant, hook, hash).await?;
        self.backtest(&caller.tenant, hook, from, to, plugin, &|_, _| {}).await
    }
}

/// `(id, subject, recorded result, candidate result)` for a page, on every
/// core.
type Replayed = Vec<(i64, Option<String>, serde_json::Value, serde_json::Value)>;

fn replay_page(
    runtime: &crate::runtime::Runtime,
    plugin: &Plugin,
    limits: &crate::runtime::Limits,
    hook: HookKind,
    page: Vec<(i64, Option<String>, String)>,
) -> Result<Replayed, ServiceError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = page.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = page
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(id, subject, record)| {
                            let (recorded, candidate) = match hook {
                                HookKind::Routing => replay_one::<Routing>(runtime, plugin, limits, record),
                                HookKind::Approval => replay_one::<Approval>(runtime, plugin, limits, record),
                                HookKind::Commission => replay_one::<Commission>(runtime, plugin, limits, record),
                                HookKind::TierEvaluation => {
                                    replay_one::<TierEvaluation>(runtime, plugin, limits, record)
                                }
                            }
                            .map_err(|e| ServiceError::Internal(format!("decision {id}: {e}")))?;
                            Ok((*id, subject.clone(), recorded, candidate))
                        })
                        .collect::<Result<Vec<_>, ServiceError>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(page.len());
        for h in handles {
            out.extend(h.join().map_err(|_| ServiceError::Internal("backtest worker panicked".into()))??);
        }
        Ok(out)
    })
}

/// The two fields of a recorded call a replay needs, the input parsed
/// straight into the hook's type.
#[derive(serde::Deserialize)]
#[serde(bound = "")]
struct Recorded<H: Hook> {
    input: H::Input,
    result: serde_json::Value,
}

/// `(recorded result, candidate's result)` for one recorded call.
fn replay_one<H: Hook>(
    runtime: &crate::runtime::Runtime,
    plugin: &Plugin,
    limits: &crate::runtime::Limits,
    record: &str,
) -> Result<(serde_json::Value, serde_json::Value), String> {
    let recorded: Recorded<H> =
        serde_json::from_str(record).map_err(|e| format!("its recorded call does not parse: {e}"))?;
    Ok((recorded.result, runtime.call::<H>(plugin, limits, recorded.input).result_json()))
}

/// How long the shadow writer gathers results before writing them: one
/// write per interval at most, whatever the traffic.
pub const SHADOW_WRITE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Writes shadow results in batches. Results still in memory at a crash are
/// lost: they are observations about a candidate, not events of the
/// program.
pub(crate) async fn shadow_writer(
    db: crate::store::Db,
    mut results: tokio::sync::mpsc::UnboundedReceiver<crate::store::NewShadowResult>,
    mut stopping: crate::tasks::Stopping,
) {
    let mut closed = false;
    loop {
        let first = tokio::select! {
            first = results.recv() => first,
            // At shutdown: take no more, write what is queued, stop.
            _ = stopping.stopped(), if !closed => {
                results.close();
                closed = true;
                continue;
            }
        };
        let Some(first) = first else { break };
        if !closed {
            tokio::time::sleep(SHADOW_WRITE_INTERVAL).await;
        }
        let mut batch = vec![first];
        while let Ok(more) = results.try_recv() {
            batch.push(more);
        }
        if let Err(e) = db.record_shadows(&batch).await {
            tracing::error!(error = %e, lost = batch.len(), "recording shadow results");
        }
    }
}

/// How a shadow compares with its live plugin.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ShadowReport {
    /// The hook.
    pub hook: String,
    /// The shadow plugin (`null` when none runs now).
    pub plugin: Option<String>,
    /// Live decisions it ran beside.
    pub runs: i64,
    /// Of which it decided the same (explanations aside).
    pub agreed: i64,
    /// `agreed / runs` in basis points (10,000 = all).
    pub agreement_bps: i64,
    /// The latest disagreements, newest first.
    pub differences: Vec<crate::store::ShadowDifference>,
}

impl Service {
    /// Runs a published plugin as `hook`'s shadow: beside the live plugin,
    /// on live traffic, recorded and compared, never acted on.
    pub async fn start_shadow(
        &self,
        caller: &Caller,
        hook: HookKind,
        hash: &str,
    ) -> Result<ShadowReport, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let (_, plugin) = self.published_plugin(&caller.tenant, hook, hash).await?;
        {
            let _one_at_a_time = self.swap.lock().await;
            self.db.set_shadow(&caller.tenant, hook, hash, &caller.key).await?;
            let current = self.tenant(&caller.tenant)?;
            let mut shadows = current.shadows.clone();
            shadows.insert(hook, plugin);
            let next = Tenant { program: current.program.clone(), plugins: current.plugins.clone(), shadows };
            self.tenants.write().expect("tenants").insert(caller.tenant.clone(), Arc::new(next));
        }
        let _ = self.db.announce_bindings(&caller.tenant).await;
        tracing::info!(tenant = %caller.tenant, %hook, shadow = %hash, "shadow started");
        self.shadow_report(caller, hook).await
    }

    /// Stops `hook`'s shadow; its results stay recorded.
    pub async fn stop_shadow(&self, caller: &Caller, hook: HookKind) -> Result<(), ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let _one_at_a_time = self.swap.lock().await;
        if !self.db.clear_shadow(&caller.tenant, hook).await? {
            return Err(ServiceError::NotFound(format!("no shadow runs for the {hook} hook")));
        }
        let current = self.tenant(&caller.tenant)?;
        let mut shadows = current.shadows.clone();
        shadows.remove(&hook);
        let next = Tenant { program: current.program.clone(), plugins: current.plugins.clone(), shadows };
        self.tenants.write().expect("tenants").insert(caller.tenant.clone(), Arc::new(next));
        let _ = self.db.announce_bindings(&caller.tenant).await;
        Ok(())
    }

    /// The agreement of `hook`'s current shadow with the live plugin.
    pub async fn shadow_report(&self, caller: &Caller, hook: HookKind) -> Result<ShadowReport, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let plugin = self.tenant(&caller.tenant)?.shadows.get(&hook).map(|p| p.hash().to_hex());
        let (runs, agreed, differences) = match &plugin {
            Some(hash) => self.db.shadow_report(&caller.tenant, hook, hash, 100).await?,
            None => (0, 0, Vec::new()),
        };
        let agreement_bps = if runs == 0 { 0 } else { agreed * 10_000 / runs };
        Ok(ShadowReport { hook: hook.interface().into(), plugin, runs, agreed, agreement_bps, differences })
    }

    /// Runs `shadow` on a live decision's input in the background and
    /// records how it compares. Its failure or slowness never reaches the
    /// live decision, which is made and recorded already.
    pub(crate) fn shadow<H: Fallback>(
        &self,
        tenant: &Tenant,
        shadow: Arc<Plugin>,
        input: H::Input,
        live: serde_json::Value,
        decision_id: i64,
    ) {
        let (runtime, results, limits) = (self.runtime().clone(), self.shadow_results.clone(), tenant.program.limits);
        let slug = tenant.program.slug.clone();
        tokio::spawn(async move {
            let record = match tokio::task::spawn_blocking(move || runtime.call::<H>(&shadow, &limits, input)).await {
                Ok(record) => record,
                Err(e) => return tracing::error!(error = %e, "shadow call task"),
            };
            let result = record.result_json();
            // Written in batches by the shadow writer, not here: the single
            // writer of a SQLite database is the live path's too.
            let _ = results.send(crate::store::NewShadowResult {
                tenant: slug,
                hook: H::KIND,
                plugin: record.plugin.to_hex(),
                decision_id,
                agree: substance(&result) == substance(&live),
                live,
                shadow: result,
                duration_us: record.duration.as_micros() as i64,
            });
        });
    }
}

/// A recorded result in today's spelling: an answer recorded before the
/// WIT cases were spelled as the WIT spells them (`"Gold"`, now `"gold"`)
/// is read through the hook's output type, which accepts both, and written
/// again. Only the spelling of cases may change that way: when writing it
/// again would drop or add a field (an edited record with a field the type
/// does not have), or it does not parse, or it is an error, it is left as
/// recorded, to be compared as it is.
fn respelled<H: Hook>(mut recorded: serde_json::Value) -> serde_json::Value {
    if let Some(ok) = recorded.get_mut("ok")
        && let Ok(output) = serde_json::from_value::<H::Output>(ok.clone())
        && let Ok(now) = serde_json::to_value(&output)
        && same_fields(ok, &now)
    {
        *ok = now;
    }
    recorded
}

/// Whether two JSON values have the same object keys at every level (case
/// names as keys aside: a variant's one key may be respelled).
fn same_fields(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Object(a), Object(b)) if a.len() == 1 && b.len() == 1 => {
            a.values().zip(b.values()).all(|(a, b)| same_fields(a, b))
        }
        (Object(a), Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_fields(v, w)))
        }
        (Array(a), Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_fields(a, b)),
        (Object(_) | Array(_), _) | (_, Object(_) | Array(_)) => false,
        _ => true,
    }
}
