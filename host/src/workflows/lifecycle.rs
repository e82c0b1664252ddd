//! The plugin lifecycle: publish a component (validated, stored, not live),
//! activate it for a hook (atomically: calls already started finish on the
//! plugin they started with), roll back to the previous binding, and replay
//! a recorded decision through the plugin that made it.

use super::bad;
use crate::fixtures::{Fixture, FixtureReport};
use crate::program::Program;
use crate::runtime::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use crate::runtime::{HookKind, Plugin, WIT_VERSION};
use crate::service::{Caller, Fallback, Service, ServiceError, Tenant};
use crate::store::{BindingChangeRow, DecisionRow, NewBindingChange, NewPublication, PublicationRow};
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

fn admin_only(caller: &Caller) -> Result<(), ServiceError> {
    if caller.role == "admin" {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("managing plugins needs an admin key".into()))
    }
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
        admin_only(caller)?;
        check_label("name", name)?;
        check_label("version", version)?;
        let started = Instant::now();
        let runtime = self.runtime().clone();
        let (plugin, wasm) = tokio::task::spawn_blocking(move || runtime.load(&wasm).map(|p| (p, wasm)))
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
        let verdict = self.check_fixtures(caller, &plugin, &hooks, fixtures).await?;
        let hash = plugin.hash().to_hex();
        let (row, created) = self
            .db
            .publish(NewPublication {
                tenant: &caller.tenant,
                hash: &hash,
                name,
                version,
                hooks: plugin.hooks(),
                wit_version: WIT_VERSION,
                wasm: &wasm,
                by: &caller.key,
                fixtures: &verdict,
            })
            .await?;
        tracing::info!(tenant = %caller.tenant, plugin = %hash, name, version, compile_ms, "plugin published");
        Ok(Published { plugin: row, created, compile_ms })
    }

    /// The company's published plugins, newest first.
    pub async fn publications(&self, caller: &Caller) -> Result<Vec<PublicationRow>, ServiceError> {
        admin_only(caller)?;
        Ok(self.db.publications(&caller.tenant).await?)
    }

    /// The company's binding changes, newest first.
    pub async fn binding_changes(
        &self,
        caller: &Caller,
        hook: Option<HookKind>,
    ) -> Result<Vec<BindingChangeRow>, ServiceError> {
        admin_only(caller)?;
        Ok(self.db.binding_changes(&caller.tenant, hook).await?)
    }

    /// Makes a published plugin serve `hook`. The switch is atomic: a call
    /// that already started finishes on the plugin it started with, every
    /// call after it uses the new one, and each decision records the hash
    /// of the plugin that made it.
    /// The company's fixtures for `hook` run first, as `fixtures` says.
    pub async fn activate(
        &self,
        caller: &Caller,
        hook: HookKind,
        hash: &str,
        reason: &str,
        fixtures: FixturePolicy,
    ) -> Result<BindingChangeRow, ServiceError> {
        admin_only(caller)?;
        if reason.trim().is_empty() {
            return Err(bad("`reason` must say why the binding changes"));
        }
        let publication = self.db.publication(&caller.tenant, hash).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("no plugin {hash} published by company `{}`", caller.tenant))
        })?;
        if !publication.hooks.iter().any(|h| h == hook.interface()) {
            return Err(bad(format!(
                "plugin {hash} ({} {}) does not export the {hook} hook; it exports: {}",
                publication.name,
                publication.version,
                publication.hooks.join(", ")
            )));
        }
        let wasm = self
            .db
            .plugin_wasm(hash)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("plugin {hash} published but its bytes are missing")))?;
        // From the compiled cache when this replica has seen the hash.
        let plugin = self.load(&publication.name, &wasm)?;
        let verdict = self.check_fixtures(caller, &plugin, &[hook], fixtures).await?;

        let _one_at_a_time = self.swap.lock().await;
        let current = self.tenant(&caller.tenant)?;
        let from = current.plugins.get(&hook).map(|p| p.hash().to_hex());
        if from.as_deref() == Some(hash) {
            return Err(ServiceError::Conflict(format!("plugin {hash} already serves the {hook} hook")));
        }
        let change = self
            .db
            .change_binding(NewBindingChange {
                tenant: &caller.tenant,
                hook,
                from: from.as_deref(),
                to: hash,
                by: &caller.key,
                reason: reason.trim(),
                fixtures: &verdict,
            })
            .await?
            .ok_or_else(|| {
                ServiceError::Conflict(format!("the {hook} binding changed meanwhile (another replica?); try again"))
            })?;
        let mut plugins = current.plugins.clone();
        plugins.insert(hook, plugin);
        let next = Arc::new(Tenant { program: current.program.clone(), plugins });
        self.tenants.write().expect("tenants").insert(caller.tenant.clone(), next);
        tracing::info!(tenant = %caller.tenant, %hook, from = ?from, to = %hash, by = %caller.key, "binding changed");
        if let Err(e) = self.db.announce_bindings(&caller.tenant).await {
            // The others' periodic re-check still finds it.
            tracing::warn!(error = %e, "announcing the binding change to other replicas");
        }
        Ok(change)
    }

    /// Binds `hook` back to the plugin it had before its latest change.
    pub async fn rollback(
        &self,
        caller: &Caller,
        hook: HookKind,
        reason: &str,
    ) -> Result<BindingChangeRow, ServiceError> {
        admin_only(caller)?;
        let latest = self.db.binding_changes(&caller.tenant, Some(hook)).await?.into_iter().next();
        let previous = latest
            .and_then(|c| c.from_hash)
            .ok_or_else(|| ServiceError::Conflict(format!("the {hook} hook has no earlier binding to roll back to")))?;
        let reason =
            if reason.trim().is_empty() { "rollback".to_string() } else { format!("rollback: {}", reason.trim()) };
        // The previous plugin comes back even if today's fixtures fail it
        // (they may be what changed); the result is recorded.
        self.activate(caller, hook, &previous, &reason, FixturePolicy::Record).await
    }

    /// Brings this replica up to date with the database: tenants created
    /// and bindings changed elsewhere (another replica, the CLI). Returns
    /// how many tenants changed. Calls already running keep the plugin
    /// they started with.
    pub async fn refresh(&self) -> Result<usize, ServiceError> {
        let _one_at_a_time = self.swap.lock().await;
        let mut bound: BTreeMap<String, BTreeMap<HookKind, String>> = BTreeMap::new();
        for (tenant, hook, hash) in self.db.all_bindings().await? {
            let hook = HookKind::parse(&hook).ok_or_else(|| ServiceError::Internal(format!("stored hook {hook}")))?;
            bound.entry(tenant).or_default().insert(hook, hash);
        }
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
            let mut dirty = current.is_none();
            for (hook, hash) in bound.remove(&row.slug).unwrap_or_default() {
                if plugins.get(&hook).is_some_and(|p| p.hash().to_hex() == hash) {
                    continue;
                }
                let wasm = self
                    .db
                    .plugin_wasm(&hash)
                    .await?
                    .ok_or_else(|| ServiceError::Internal(format!("plugin {hash} missing")))?;
                plugins.insert(hook, self.load(&hash, &wasm)?);
                dirty = true;
            }
            if dirty {
                if current.is_some() {
                    tracing::info!(tenant = %row.slug, "bindings changed elsewhere: now serving them");
                }
                let next = Arc::new(Tenant { program, plugins });
                self.tenants.write().expect("tenants").insert(row.slug.clone(), next);
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Keeps this replica's bindings current: on PostgreSQL it listens for
    /// other replicas' changes (`LISTEN`, within a second) and re-checks
    /// every `every` in case a notification was missed; on SQLite it
    /// re-checks every `every`.
    pub fn watch_bindings(self: &Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
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
                            n = l.recv() => if let Err(e) = n {
                                tracing::warn!(error = %e, "binding notifications interrupted; re-checking");
                            },
                            _ = tick.tick() => {}
                        }
                    }
                    None => {
                        tick.tick().await;
                    }
                }
                if let Err(e) = service.refresh().await {
                    tracing::error!(error = %e, "refreshing bindings");
                }
            }
        })
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
        match (report.failed(), policy) {
            (0, _) => Ok(report.summary()),
            (_, FixturePolicy::Enforce) => Err(ServiceError::FixturesFailed(report)),
            (_, FixturePolicy::Override) => Ok(format!("{}; overridden by {}", report.summary(), caller.key)),
            (_, FixturePolicy::Record) => Ok(report.summary()),
        }
    }

    /// Runs a recorded decision's input through the plugin hash it records
    /// (under the company's current limits) and compares the results.
    /// `caller` scopes it to a company; `None` is an operator's tool.
    pub async fn replay(&self, caller: Option<&Caller>, id: i64) -> Result<Replay, ServiceError> {
        let (tenant, row) = match caller {
            Some(caller) => {
                super::forbidden_unless_staff(caller)?;
                (caller.tenant.clone(), self.decision(&caller.tenant, id).await?)
            }
            None => {
                self.db.decision_by_id(id).await?.ok_or_else(|| ServiceError::NotFound(format!("no decision {id}")))?
            }
        };
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
        let plugin = self.load(&row.plugin, &wasm)?;
        let limits = self.tenant(tenant)?.program.limits;
        let runtime = self.runtime().clone();
        let record = tokio::task::spawn_blocking(move || runtime.call::<H>(&plugin, &limits, input))
            .await
            .map_err(|e| ServiceError::Internal(format!("replay task: {e}")))?;
        let replayed = record.to_json()["result"].clone();
        let recorded = row.record["result"].clone();
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
