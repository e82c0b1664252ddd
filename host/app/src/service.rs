//! The decision service: runs a tenant's hook on an event, takes the
//! documented fallback when the plugin fails, and records every decision.
//!
//! This is the step every workflow shares: the host gathers the input, the
//! company's plugin decides, and the decision log keeps the input, the
//! output or error, the plugin hash, fuel and time, so it can be replayed.
//! A plugin failure never loses the event: the fallback decides and the
//! record says why.
//!
//! | hook | fallback when the plugin fails |
//! |---|---|
//! | routing | the lead goes to direct sales |
//! | approval | the registration goes to manual review |
//! | commission | no lines: the commission is held for a person to settle |
//! | tier-evaluation | the partner keeps its tier, escalated to its manager |

use crate::admission::{Admission, AdmissionLimits, CpuShare, CpuShareMode};
use crate::metrics::Metrics;
use crate::program::{Program, ProgramError};
use crate::runtime::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use crate::runtime::types::*;
use crate::runtime::{HookError, HookKind, Limits, LoadError, Plugin, PluginHash, Runtime};
use crate::store::{Db, DecisionRow, NewBindingChange, NewDecision, NewPublication, StoreError};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

/// What a hook's workflow does when the plugin gives no decision.
pub trait Fallback: Hook {
    /// The safe decision for `input` after `error`.
    fn fallback(input: &Self::Input, error: &HookError) -> Self::Output;

    /// What the decision is about (the lead, registration, deal or partner
    /// id), recorded beside it in the decision log.
    fn subject(input: &Self::Input) -> &str;
}

impl Fallback for Routing {
    fn subject(input: &RoutingInput) -> &str {
        &input.lead.id
    }

    fn fallback(_input: &RoutingInput, error: &HookError) -> RoutingDecision {
        RoutingDecision {
            destination: Destination::Direct,
            reason: format!("The routing policy failed ({error}); the lead goes to direct sales."),
            attribution: "fallback".into(),
        }
    }
}

impl Fallback for Approval {
    fn subject(input: &ApprovalInput) -> &str {
        &input.registration.id
    }

    fn fallback(_input: &ApprovalInput, error: &HookError) -> ApprovalDecision {
        ApprovalDecision {
            outcome: ApprovalOutcome::Review,
            reason: format!("The approval policy failed ({error}); the registration goes to manual review."),
        }
    }
}

impl Fallback for Commission {
    fn subject(input: &CommissionInput) -> &str {
        &input.deal.id
    }

    fn fallback(_input: &CommissionInput, error: &HookError) -> CommissionDecision {
        CommissionDecision {
            lines: Vec::new(),
            explanation: format!(
                "Commission held: the commission policy failed ({error}); a partner manager must settle it."
            ),
        }
    }
}

impl Fallback for TierEvaluation {
    fn subject(input: &TierInput) -> &str {
        &input.partner.id
    }

    fn fallback(input: &TierInput, error: &HookError) -> TierDecision {
        TierDecision {
            tier: input.partner.tier,
            change: TierChange::Keep,
            escalate: true,
            reason: format!(
                "The tier policy failed ({error}); the partner keeps its tier until its manager reviews it."
            ),
        }
    }
}

/// Why a request to the service failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The caller's input is malformed; names the field.
    #[error("{0}")]
    BadInput(String),
    /// The caller's key may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing (for this tenant).
    #[error("{0}")]
    NotFound(String),
    /// It exists already.
    #[error("{0}")]
    Conflict(String),
    /// A program file is invalid.
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// A plugin was refused.
    #[error("plugin `{name}`: {source}")]
    Plugin {
        /// The plugin's name.
        name: String,
        /// Why.
        source: LoadError,
    },
    /// A plugin fails the company's fixtures.
    #[error("{}", fixtures_failed(.0))]
    FixturesFailed(crate::fixtures::FixtureReport),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// No instance slot came free in time: the service is at capacity (for
    /// this company, or as a whole). Nothing was decided or recorded; the
    /// request may be sent again after `retry_after_s` seconds.
    #[error("the service is at capacity ({scope}); nothing was recorded, retry in {retry_after_s} s")]
    Overloaded {
        /// What is full: `this company's share` or `every instance slot`.
        scope: &'static str,
        /// When to try again, in seconds.
        retry_after_s: u64,
    },
    /// Something inside the host failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    /// A guarded transition that found its record changed is the caller's
    /// conflict (409), not a storage failure.
    fn from(e: StoreError) -> ServiceError {
        match e {
            StoreError::Conflict(message) => ServiceError::Conflict(message),
            other => ServiceError::Store(other),
        }
    }
}

fn fixtures_failed(report: &crate::fixtures::FixtureReport) -> String {
    let mut message = format!("the plugin fails the company's fixtures ({})", report.summary());
    for o in report.outcomes.iter().filter(|o| !o.passed) {
        for m in &o.mismatches {
            message.push_str(&format!("; {}: {} expected {}, got {}", o.name, m.path, m.expected, m.actual));
        }
    }
    message
}

/// A tenant ready to decide: its program and the plugin serving each hook.
pub struct Tenant {
    /// The program.
    pub program: Program,
    /// The plugin bound to each hook.
    pub plugins: BTreeMap<HookKind, Arc<Plugin>>,
    /// A candidate running beside the live plugin of a hook, recorded and
    /// compared, never acted on.
    pub shadows: BTreeMap<HookKind, Arc<Plugin>>,
}

/// A recorded decision and what the workflow acts on.
pub struct Decided<H: Hook> {
    /// The decision log row.
    pub row: DecisionRow,
    /// The plugin's output, or the fallback's.
    pub output: H::Output,
    /// Whether the fallback decided.
    pub fallback: bool,
    /// The plugin called.
    pub plugin: PluginHash,
}

/// One hook call, settled: its record, what the workflow acts on (the
/// plugin's output or the fallback's), and whether the fallback decided.
pub(crate) struct Called<H: Hook> {
    pub record: crate::runtime::CallRecord<H>,
    pub output: H::Output,
    pub fallback: bool,
}

impl<H: Fallback> Called<H> {
    fn settle(record: crate::runtime::CallRecord<H>) -> Called<H> {
        let (output, fallback) = match &record.result {
            Ok(output) => (output.clone(), false),
            Err(error) => (H::fallback(&record.input, error), true),
        };
        Called { record, output, fallback }
    }

    /// `ok`, or the error kind.
    pub fn outcome(&self) -> &'static str {
        self.record.result.as_ref().err().map(HookError::kind).unwrap_or("ok")
    }

    /// The call record and the decision, as the decision log stores them.
    pub fn json(&self) -> Result<(serde_json::Value, serde_json::Value), ServiceError> {
        let decision = serde_json::to_value(&self.output).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok((self.record.to_json(), decision))
    }

    /// The decision-log entry for this call.
    pub fn decision<'a>(
        &'a self,
        tenant: &'a Tenant,
        event_time: i64,
        record: &'a serde_json::Value,
        decision: &'a serde_json::Value,
    ) -> NewDecision<'a> {
        NewDecision {
            tenant: &tenant.program.slug,
            hook: H::KIND,
            plugin: self.record.plugin,
            subject: H::subject(&self.record.input),
            event_time,
            outcome: self.outcome(),
            record,
            decision,
            fallback: self.fallback,
        }
    }
}

/// Service-wide settings beside the database and the runtime.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// Certificate authorities (PEM) trusted for `https://` webhooks beside
    /// the public roots: a private CA's certificate.
    pub webhook_ca_pem: Option<Vec<u8>>,
    /// How many hook calls may run at once, in all and per company, and how
    /// long a call waits for a slot (default: sized to the runtime's pool,
    /// [`AdmissionLimits::for_pool`]).
    pub admission: Option<AdmissionLimits>,
    /// How long a claimed `Idempotency-Key` whose request has not finished
    /// stays claimed (a crash leaves such claims): past it a retry takes the
    /// claim over. Seconds; [`DEFAULT_LEASE_S`] when `None`.
    pub idempotency_lease_s: Option<i64>,
    /// How long a courier's claim on a batch of due notifications lasts: a
    /// courier that dies leaves them due again when it ends. Seconds;
    /// [`DEFAULT_LEASE_S`] when `None`.
    pub delivery_lease_s: Option<i64>,
    /// Whether hook calls run in a foreground and a background class
    /// (the default) or all in the foreground ([`crate::admission`]).
    pub cpu_share: CpuShareMode,
}

/// The default of both leases ([`ServiceOptions`]), seconds.
pub const DEFAULT_LEASE_S: i64 = 60;

pub use crate::auth::{Caller, Capability, Role};

/// The service: storage, the runtime, and the tenants loaded in memory.
pub struct Service {
    pub(crate) db: Db,
    pub(crate) http: crate::notify::HttpClient,
    runtime: Arc<Runtime>,
    metrics: Arc<Metrics>,
    pub(crate) tenants: RwLock<HashMap<String, Arc<Tenant>>>,
    /// Callers by API key hash, as found in the database, with when they
    /// were read. A key's tenant, role and partner never change, but a key
    /// can be revoked: a revocation here drops its entry at once, and one
    /// made on another replica (or by the CLI) is seen once the entry is
    /// older than [`CALLER_RECHECK`]. Unknown keys are not kept (a key
    /// created on another replica works at once).
    callers: RwLock<HashMap<String, (Caller, std::time::Instant)>>,
    /// Writes decisions with the records they decide, batched.
    decided: crate::store::GroupCommit,
    /// Serialises binding changes (activations, rollbacks) in this process.
    pub(crate) swap: tokio::sync::Mutex<()>,
    /// Shadow results on their way to the batch writer.
    pub(crate) shadow_results: tokio::sync::mpsc::UnboundedSender<crate::store::NewShadowResult>,
    /// Slots in front of the instance pool.
    admission: Admission,
    /// [`ServiceOptions::idempotency_lease_s`], resolved.
    idempotency_lease_s: i64,
    /// [`ServiceOptions::delivery_lease_s`], resolved.
    pub(crate) delivery_lease_s: i64,
    /// The CPU's foreground and background classes.
    cpu_share: CpuShare,
    /// Every background task, stopped and awaited by [`Service::shutdown`].
    pub(crate) tasks: crate::tasks::Tasks,
}

/// At most this many API keys' callers are kept in memory; past it the
/// cache starts over.
const MAX_CACHED_CALLERS: usize = 100_000;

/// How long an authenticated key is trusted without reading it again: the
/// longest a key revoked on another replica keeps working here.
pub const CALLER_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// How long one hook call may hold an async worker thread before it is
/// given to the blocking pool instead (see [`Runtime::call_within`]): a
/// Rust plugin's call takes 5 to 10 microseconds.
const INLINE_BUDGET: std::time::Duration = std::time::Duration::from_millis(1);

/// The machine's cores: how many workers a batch of hook calls is spread
/// over. Read once: `available_parallelism` reads the cgroup's files on
/// every call (4 % of the server's CPU when it was read per call).
fn workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// sha256 of an API key, hex: what the database stores.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The current Unix time: events without a time of their own happen now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Service {
    /// The database it runs on.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Loads every stored tenant and its plugins, with default options.
    pub async fn open(db: Db, runtime: Arc<Runtime>, metrics: Arc<Metrics>) -> Result<Service, ServiceError> {
        Service::open_with(db, runtime, metrics, ServiceOptions::default()).await
    }

    /// Loads every stored tenant and its plugins.
    pub async fn open_with(
        db: Db,
        runtime: Arc<Runtime>,
        metrics: Arc<Metrics>,
        options: ServiceOptions,
    ) -> Result<Service, ServiceError> {
        let http = crate::notify::http_client(options.webhook_ca_pem.as_deref()).map_err(ServiceError::BadInput)?;
        let tasks = crate::tasks::Tasks::default();
        let (shadow_results, to_write) = tokio::sync::mpsc::unbounded_channel();
        tasks
            .spawn("shadow writer", crate::workflows::lifecycle::shadow_writer(db.clone(), to_write, tasks.stopping()));
        let (decided, writer) = crate::store::GroupCommit::start(db.clone(), tasks.stopping());
        tasks.adopt("group commit", writer);
        let admission = Admission::new(
            options.admission.unwrap_or_else(|| AdmissionLimits::for_pool(runtime.config().max_concurrent_instances)),
        );
        let service = Service {
            db: db.clone(),
            http,
            runtime,
            metrics,
            tenants: RwLock::new(HashMap::new()),
            callers: RwLock::new(HashMap::new()),
            decided,
            swap: tokio::sync::Mutex::new(()),
            shadow_results,
            admission,
            idempotency_lease_s: options.idempotency_lease_s.unwrap_or(DEFAULT_LEASE_S).max(1),
            delivery_lease_s: options.delivery_lease_s.unwrap_or(DEFAULT_LEASE_S).max(1),
            cpu_share: CpuShare::new(options.cpu_share, workers()),
            tasks,
        };
        service.refresh().await?;
        Ok(service)
    }

    /// Runs `pass` every `every` in the background until shutdown (see
    /// [`crate::tasks::every`]).
    pub fn spawn_periodic<F, Fut>(&self, name: &'static str, every: std::time::Duration, pass: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(name, crate::tasks::every(every, self.tasks.stopping(), pass));
    }

    /// Stops every background task after it has finished what it holds
    /// (queued decisions and shadow results are written, the courier's
    /// current pass completes) and waits for them. Call it once the HTTP
    /// server has finished its requests.
    pub async fn shutdown(&self) {
        self.tasks.shutdown().await;
    }

    /// The Wasm runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Loads plugin `name` for the company running `program` (see
    /// [`Runtime::load_for`]: a pre-initialized component is warmed with
    /// that company's parameters only).
    pub(crate) fn load(&self, name: &str, wasm: &[u8], program: &Program) -> Result<Arc<Plugin>, ServiceError> {
        self.runtime
            .load_for(wasm, &program.warm_up())
            .map_err(|source| ServiceError::Plugin { name: name.to_string(), source })
    }

    /// Refuses a component over the company's `[limits] component-bytes`,
    /// before anything parses or compiles it.
    pub(crate) fn check_component_size(name: &str, wasm: &[u8], limits: &Limits) -> Result<(), ServiceError> {
        if wasm.len() > limits.component_bytes {
            let source = LoadError::TooLarge { size: wasm.len(), limit: limits.component_bytes };
            return Err(ServiceError::Plugin { name: name.to_string(), source });
        }
        Ok(())
    }

    /// The metrics registry.
    /// How long an unfinished `Idempotency-Key` claim holds, seconds
    /// ([`ServiceOptions::idempotency_lease_s`]).
    pub fn idempotency_lease_s(&self) -> i64 {
        self.idempotency_lease_s
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Creates a tenant from a `policy.toml` and returns its first admin
    /// API key (shown once; only its hash is stored). `resolve` gives the
    /// component bytes for each plugin name the program uses.
    pub async fn create_tenant(
        &self,
        program_text: &str,
        source: &Path,
        resolve: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<(String, String), ServiceError> {
        self.create_tenant_as(None, program_text, source, resolve).await
    }

    /// Like [`Service::create_tenant`], under `slug` instead of the file's
    /// own, so one program can serve several tenants.
    pub async fn create_tenant_as(
        &self,
        slug: Option<&str>,
        program_text: &str,
        source: &Path,
        resolve: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<(String, String), ServiceError> {
        let mut program = Program::parse(program_text, source)?;
        if let Some(slug) = slug {
            if slug.is_empty() || !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                return Err(ServiceError::BadInput(format!(
                    "tenant slug {slug:?} must be lower-case letters, digits and `-`"
                )));
            }
            program.slug = slug.to_string();
        }
        if self.tenants.read().expect("tenants").contains_key(&program.slug) {
            return Err(ServiceError::Conflict(format!("tenant `{}` exists already", program.slug)));
        }
        if let Err(message) = self.runtime.check_limits(&program.limits) {
            return Err(ServiceError::BadInput(format!("{}: limits: {message}", source.display())));
        }
        let mut plugins = BTreeMap::new();
        let mut stored = Vec::new();
        for (&hook, name) in &program.hooks {
            let wasm = resolve(name).ok_or_else(|| {
                ServiceError::BadInput(format!("{}: hooks.{hook}: no plugin named `{name}`", source.display()))
            })?;
            Service::check_component_size(name, &wasm, &program.limits)?;
            let plugin = self.load(name, &wasm, &program)?;
            if !plugin.exports(hook) {
                return Err(ServiceError::BadInput(format!(
                    "{}: hooks.{hook}: plugin `{name}` does not export the {hook} hook",
                    source.display()
                )));
            }
            stored.push((hook, name.clone(), wasm));
            plugins.insert(hook, plugin);
        }

        // The program's own plugins must pass its fixtures.
        let fixtures = match source.parent() {
            Some(dir) => crate::fixtures::Fixture::load_dir(&dir.join("fixtures"))
                .map_err(|e| ServiceError::BadInput(e.to_string()))?,
            None => Vec::new(),
        };
        // Per hook for each binding, and per plugin (every hook it is bound
        // to) for its publication.
        let mut verdicts = BTreeMap::new();
        let mut by_plugin: BTreeMap<PluginHash, crate::fixtures::FixtureReport> = BTreeMap::new();
        for (&hook, plugin) in &plugins {
            let report = crate::fixtures::run(&self.runtime, plugin, &program, &fixtures, &[hook]);
            if report.failed() > 0 {
                return Err(ServiceError::FixturesFailed(report));
            }
            verdicts.insert(hook, report.summary());
            let all = by_plugin
                .entry(plugin.hash())
                .or_insert(crate::fixtures::FixtureReport { outcomes: vec![], first_call_us: None });
            all.outcomes.extend(report.outcomes);
        }
        let published: BTreeMap<PluginHash, String> = by_plugin.into_iter().map(|(h, r)| (h, r.summary())).collect();

        let slug = program.slug.clone();
        self.db.create_tenant(&slug, &program.name, &program.currency, program_text).await?;
        self.db.put_fixtures(&slug, &fixtures).await?;
        for (hook, name, wasm) in &stored {
            let plugin = &plugins[hook];
            let hash = plugin.hash().to_hex();
            self.db
                .publish(NewPublication {
                    tenant: &slug,
                    hash: &hash,
                    name,
                    version: "bundled",
                    hooks: plugin.hooks(),
                    wit_version: plugin.wit_version().as_str(),
                    wasm,
                    by: "tenant-create",
                    fixtures: &published[&plugin.hash()],
                })
                .await?;
            self.db
                .change_binding(NewBindingChange {
                    tenant: &slug,
                    hook: *hook,
                    from: None,
                    to: &hash,
                    by: "tenant-create",
                    reason: "created with the company",
                    fixtures: &verdicts[hook],
                })
                .await?;
        }
        let key = new_key(&slug)?;
        self.db.add_key(&slug, &key_hash(&key), Role::Admin, None).await?;
        self.tenants
            .write()
            .expect("tenants")
            .insert(slug.clone(), Arc::new(Tenant { program, plugins, shadows: BTreeMap::new() }));
        if let Err(e) = self.db.announce_bindings(&slug).await {
            tracing::warn!(error = %e, "announcing the new tenant to other replicas");
        }
        Ok((slug, key))
    }

    /// The caller an API key belongs to, if any.
    pub async fn authenticate(&self, key: &str) -> Result<Option<Caller>, ServiceError> {
        let hash = key_hash(key);
        if let Some((caller, read)) = self.callers.read().expect("callers").get(&hash)
            && read.elapsed() < CALLER_RECHECK
        {
            return Ok(Some(caller.clone()));
        }
        let id = crate::store::key_id(&hash);
        let caller = self.db.key(&hash).await?.map(|(tenant, role, partner)| Caller { tenant, role, partner, key: id });
        if let Some(caller) = &caller {
            let mut callers = self.callers.write().expect("callers");
            if callers.len() >= MAX_CACHED_CALLERS {
                callers.clear();
            }
            callers.insert(hash, (caller.clone(), std::time::Instant::now()));
        } else {
            self.callers.write().expect("callers").remove(&hash);
        }
        Ok(caller)
    }

    /// The loaded tenant `slug`.
    pub fn tenant(&self, slug: &str) -> Result<Arc<Tenant>, ServiceError> {
        self.tenants
            .read()
            .expect("tenants")
            .get(slug)
            .cloned()
            .ok_or_else(|| ServiceError::NotFound(format!("no tenant `{slug}`")))
    }

    /// Runs `hook` for `tenant` on `input` (the hook's input without its
    /// `context`, which comes from the tenant's program) and records it.
    pub async fn decide(
        &self,
        tenant: &str,
        hook: HookKind,
        event_time: i64,
        input: serde_json::Value,
    ) -> Result<DecisionRow, ServiceError> {
        match hook {
            HookKind::Routing => self.decide_as::<Routing>(tenant, event_time, input).await,
            HookKind::Approval => self.decide_as::<Approval>(tenant, event_time, input).await,
            HookKind::Commission => self.decide_as::<Commission>(tenant, event_time, input).await,
            HookKind::TierEvaluation => self.decide_as::<TierEvaluation>(tenant, event_time, input).await,
        }
    }

    async fn decide_as<H: Fallback>(
        &self,
        slug: &str,
        event_time: i64,
        mut input: serde_json::Value,
    ) -> Result<DecisionRow, ServiceError> {
        let event_time = crate::workflows::check_time("event_time", event_time)?;
        let tenant = self.tenant(slug)?;
        let fields =
            input.as_object_mut().ok_or_else(|| ServiceError::BadInput("`input` must be a JSON object".into()))?;
        if fields.contains_key("context") {
            return Err(ServiceError::BadInput(
                "`input.context` is set by the server from the company's program; leave it out".into(),
            ));
        }
        let context = serde_json::to_value(tenant.program.context(event_time))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        fields.insert("context".into(), context);
        let typed: H::Input = serde_path_to_error::deserialize(input)
            .map_err(|e| ServiceError::BadInput(format!("`input.{}`: {}", e.path(), e.inner())))?;
        Ok(self.run::<H>(&tenant, event_time, typed).await?.row)
    }

    /// Runs hook `H` of `tenant` on a typed input (whose context the caller
    /// built from the tenant's program), takes the fallback on failure and
    /// records the decision.
    pub(crate) async fn run<H: Fallback>(
        &self,
        tenant: &Tenant,
        event_time: i64,
        input: H::Input,
    ) -> Result<Decided<H>, ServiceError> {
        let called = self.call_one::<H>(tenant, input).await?;
        let (record, decision) = called.json()?;
        let row = self.db.record_decision(called.decision(tenant, event_time, &record, &decision)).await?;
        self.shadow_decision::<H>(tenant, &called.record.input, &record, row.id);
        Ok(Decided { row, output: called.output, fallback: called.fallback, plugin: called.record.plugin })
    }

    /// Runs hook `H` of `tenant` on `input`, taking the fallback on failure;
    /// nothing is recorded yet (see [`Service::write_decided`]).
    pub(crate) async fn call_one<H: Fallback>(
        &self,
        tenant: &Tenant,
        input: H::Input,
    ) -> Result<Called<H>, ServiceError> {
        Ok(self.call_many::<H>(tenant, vec![input]).await?.pop().expect("one call per input"))
    }

    /// Records `called` with the record it decided, that record's outbox
    /// event `event` and what the step learned of its `account`, in one
    /// transaction shared with other requests'
    /// (group commit); then starts the hook's shadow, if any.
    pub(crate) async fn write_decided<H: Fallback>(
        &self,
        tenant: &Tenant,
        event_time: i64,
        called: Called<H>,
        record: crate::store::DecidedRecord,
        event: &'static str,
        account: Option<crate::store::records::AccountRow>,
    ) -> Result<crate::store::Written, ServiceError> {
        let (call_record, decision) = called.json()?;
        let write = crate::store::DecidedWrite {
            decision: crate::store::DecisionToWrite {
                tenant: tenant.program.slug.clone(),
                hook: H::KIND,
                plugin: called.record.plugin,
                subject: H::subject(&called.record.input).to_string(),
                event_time,
                outcome: called.outcome(),
                record: call_record,
                decision,
                fallback: called.fallback,
            },
            record,
            event,
            account,
        };
        let written = self.decided.write(write).await?;
        self.shadow_decision::<H>(tenant, &called.record.input, &written.decision.record, written.decision.id);
        Ok(written)
    }

    /// Runs hook `H`'s shadow plugin, if `tenant` has one, on the input of
    /// the recorded live decision `decision_id` (whose call record is
    /// `record`). Off the live path: the decision is made and recorded.
    fn shadow_decision<H: Fallback>(
        &self,
        tenant: &Tenant,
        input: &H::Input,
        record: &serde_json::Value,
        decision_id: i64,
    ) {
        if let Some(shadow) = tenant.shadows.get(&H::KIND) {
            self.shadow::<H>(tenant, shadow.clone(), input.clone(), record["result"].clone(), decision_id);
        }
    }

    /// Runs hook `H` of `tenant` on many inputs, spread over the machine's
    /// cores (one quick call on the calling thread), taking the fallback for
    /// each failure. Nothing is recorded:
    /// the caller records the decisions with what they decide.
    pub(crate) async fn call_many<H: Fallback>(
        &self,
        tenant: &Tenant,
        inputs: Vec<H::Input>,
    ) -> Result<Vec<Called<H>>, ServiceError> {
        let plugin = tenant
            .plugins
            .get(&H::KIND)
            .cloned()
            .ok_or_else(|| ServiceError::NotFound(format!("no plugin bound to {}", H::KIND)))?;
        let limits = tenant.program.limits;
        // Slots for as many calls as run at once below: the inline call,
        // then one worker per core.
        let _admitted = self.admission.admit(&tenant.program.slug, inputs.len().min(workers())).await?;
        // One call of a quick plugin (a few microseconds) runs right here:
        // handing it to the blocking pool and back costs more than the call
        // (two thread switches). Held to a budget, so it cannot hold this
        // worker (and the other requests on it) long.
        let mut inputs = inputs;
        let mut called = Vec::new();
        if inputs.len() == 1 && plugin.is_quick() {
            let input = inputs.pop().expect("one input");
            match self.runtime.call_within::<H>(&plugin, &limits, input, INLINE_BUDGET) {
                Ok(record) => called.push(Called::settle(record)),
                Err(input) => inputs.push(input),
            }
        }
        let per_worker = inputs.len().div_ceil(workers()).max(1);
        let mut inputs = inputs.into_iter();
        let mut parts = Vec::new();
        loop {
            let part: Vec<H::Input> = inputs.by_ref().take(per_worker).collect();
            if part.is_empty() {
                break;
            }
            let placement = self.cpu_share.place(plugin.hash());
            parts.push(self.call_part::<H>(&tenant.program.slug, plugin.clone(), limits, part, placement));
        }
        for part in futures_util::future::join_all(parts).await {
            called.extend(part?);
        }
        for c in &called {
            self.metrics.hook_call(&tenant.program.slug, H::KIND.interface(), c.outcome(), c.record.duration);
        }
        // The host could not run a call (no instance came free): that is
        // overload, not the plugin's decision, so no fallback decides it and
        // nothing is recorded; the caller is told to retry.
        if called.iter().any(|c| matches!(c.record.result, Err(HookError::Host { .. }))) {
            return Err(ServiceError::Overloaded {
                scope: "every instance slot",
                retry_after_s: crate::admission::RETRY_AFTER_S,
            });
        }
        Ok(called)
    }

    /// Calls hook `H` of `plugin` on `part`, in order, in the class
    /// `placement` gives (see [`crate::admission`]): in the foreground on the
    /// blocking pool, each call within the foreground budget (the first
    /// call past it sends it and the rest of the part to the background),
    /// or on the background threads, with the full deadline.
    async fn call_part<H: Fallback>(
        &self,
        company: &str,
        plugin: Arc<Plugin>,
        limits: Limits,
        part: Vec<H::Input>,
        placement: crate::admission::Placement,
    ) -> Result<Vec<Called<H>>, ServiceError> {
        use crate::admission::{Class, CpuShareMode, FOREGROUND_BUDGET};
        let task_failed = |e| ServiceError::Internal(format!("hook call task: {e}"));
        let runtime = self.runtime.clone();
        if self.cpu_share.mode() == CpuShareMode::Off {
            return tokio::task::spawn_blocking(move || {
                part.into_iter()
                    .map(|input| Called::settle(runtime.call::<H>(&plugin, &limits, input)))
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(task_failed);
        }
        let mut called = Vec::new();
        let mut rest = part;
        if placement.class() == Class::Foreground {
            let probe = placement.is_probe();
            let (runtime, called_plugin) = (runtime.clone(), plugin.clone());
            let (done, past) = tokio::task::spawn_blocking(move || {
                let mut done = Vec::new();
                let mut inputs = rest.into_iter();
                while let Some(input) = inputs.next() {
                    let cpu = crate::admission::thread_cpu_time();
                    match runtime.call_budgeted::<H>(&called_plugin, &limits, input, FOREGROUND_BUDGET) {
                        Ok(record) => done.push(Called::settle(record)),
                        // Preempted, not heavy: the full deadline, here.
                        Err(input)
                            if crate::admission::thread_cpu_time().saturating_sub(cpu) < FOREGROUND_BUDGET / 2 =>
                        {
                            done.push(Called::settle(runtime.call::<H>(&called_plugin, &limits, input)))
                        }
                        Err(input) => return (done, std::iter::once(input).chain(inputs).collect()),
                    }
                }
                (done, Vec::new())
            })
            .await
            .map_err(task_failed)?;
            called = done;
            rest = past;
            if !rest.is_empty() {
                self.cpu_share.ran_past_budget(plugin.hash());
            } else if probe {
                self.cpu_share.light_again(plugin.hash());
            }
        }
        if rest.is_empty() {
            return Ok(called);
        }
        // The background threads, within the admission wait.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let deadline = std::time::Instant::now() + self.admission.limits().wait;
        self.cpu_share.background(company, move || {
            let answer = (std::time::Instant::now() <= deadline).then(|| {
                rest.into_iter()
                    .map(|input| Called::settle(runtime.call::<H>(&plugin, &limits, input)))
                    .collect::<Vec<_>>()
            });
            let _ = tx.send(answer);
        });
        match rx.await {
            Ok(Some(done)) => {
                called.extend(done);
                Ok(called)
            }
            Ok(None) => Err(ServiceError::Overloaded {
                scope: "this company's share of the background threads",
                retry_after_s: crate::admission::RETRY_AFTER_S,
            }),
            Err(_) => Err(ServiceError::Internal("a background hook call was dropped".into())),
        }
    }

    /// One of `tenant`'s recorded decisions.
    pub async fn decision(&self, tenant: &str, id: i64) -> Result<DecisionRow, ServiceError> {
        self.db.decision(tenant, id).await?.ok_or_else(|| ServiceError::NotFound(format!("no decision {id}")))
    }

    /// `tenant`'s latest decisions.
    pub async fn decisions(
        &self,
        tenant: &str,
        hook: Option<HookKind>,
        limit: i64,
    ) -> Result<Vec<DecisionRow>, ServiceError> {
        Ok(self.db.decisions(tenant, hook, limit).await?)
    }

    /// `tenant`'s bindings, `(hook, plugin hash)`.
    pub async fn bindings(&self, tenant: &str) -> Result<Vec<(String, String)>, ServiceError> {
        Ok(self.db.bindings(tenant).await?)
    }

    /// Creates every company found under `policies` (each folder with a
    /// `policy.toml`), returning `(slug, admin key)` for each. `resolve`
    /// gives the component for a plugin name the program in a folder names
    /// (the command line's: the plugins built into the binary, then
    /// `<folder>/<name>.wasm`).
    pub async fn seed_examples(
        &self,
        policies: &Path,
        resolve: impl Fn(&Path, &str) -> Option<Vec<u8>>,
    ) -> Result<Vec<(String, String)>, ServiceError> {
        let mut dirs: Vec<_> = std::fs::read_dir(policies)
            .map_err(|e| ServiceError::BadInput(format!("reading {}: {e}", policies.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("policy.toml").is_file())
            .collect();
        dirs.sort();
        let mut created = Vec::new();
        for dir in dirs {
            let path = dir.join("policy.toml");
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ServiceError::Program(ProgramError::Read { path: path.clone(), source }))?;
            created.push(self.create_tenant(&text, &path, |name| resolve(&dir, name)).await?);
        }
        Ok(created)
    }

    /// Creates an API key for `tenant`: `admin` or `manager`, or bound to
    /// `partner`. Shown once; only its hash is stored.
    pub async fn create_key(&self, tenant: &str, role: &str, partner: Option<&str>) -> Result<String, ServiceError> {
        self.tenant(tenant)?;
        let role = Role::parse(role)
            .ok_or_else(|| ServiceError::BadInput(format!("role {role:?} must be admin, manager or partner")))?;
        let key = new_key(tenant)?;
        match (role, partner) {
            (Role::Admin | Role::Manager, None) => self.db.add_key(tenant, &key_hash(&key), role, None).await?,
            (Role::Partner, Some(p)) => {
                if self.db.partner(tenant, p).await?.is_none() {
                    return Err(ServiceError::NotFound(format!("no partner `{p}` in tenant `{tenant}`")));
                }
                self.db.add_key(tenant, &key_hash(&key), role, Some(p)).await?
            }
            (Role::Partner, None) => {
                return Err(ServiceError::BadInput("a partner key needs --partner <id>".into()));
            }
            (_, Some(_)) => {
                return Err(ServiceError::BadInput("--partner goes with --role partner".into()));
            }
        }
        Ok(key)
    }

    /// `tenant`'s API keys, as ids (admin).
    pub async fn keys(&self, caller: &Caller) -> Result<Vec<crate::store::KeyRow>, ServiceError> {
        caller.require(Capability::ManageKeys)?;
        Ok(self.db.keys(&caller.tenant).await?)
    }

    /// Revokes `tenant`'s key `id` (`key:` and 12 hex digits, as
    /// [`Service::keys`] lists it), by `by`: from now on it authenticates
    /// nothing, on this replica at once and on others within
    /// [`CALLER_RECHECK`]. Revoking a revoked key changes nothing.
    pub async fn revoke_key(&self, tenant: &str, id: &str, by: &str) -> Result<crate::store::KeyRow, ServiceError> {
        let revoked = self
            .db
            .revoke_key(tenant, id, by, now())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no API key `{id}` in `{tenant}`")))?;
        self.callers.write().expect("callers").retain(|hash, _| crate::store::key_id(hash) != revoked.id);
        tracing::info!(tenant, key = %revoked.id, by, "API key revoked");
        Ok(revoked)
    }

    /// [`Service::revoke_key`] for an API caller (admin), who may not
    /// revoke the key it is using (it would lock itself out mid-request).
    pub async fn revoke_key_as(&self, caller: &Caller, id: &str) -> Result<crate::store::KeyRow, ServiceError> {
        caller.require(Capability::ManageKeys)?;
        if caller.key == id {
            return Err(ServiceError::Conflict(
                "a key cannot revoke itself; revoke it with another admin key or `pactum key revoke`".into(),
            ));
        }
        self.revoke_key(&caller.tenant, id, &caller.key).await
    }

    /// The plugin hash bound to `hook` for `tenant`.
    pub fn plugin_for(&self, tenant: &str, hook: HookKind) -> Option<PluginHash> {
        self.tenant(tenant).ok()?.plugins.get(&hook).map(|p| p.hash())
    }
}

/// A fresh API key: `pk_<tenant>_<32 random hex>`.
pub(crate) fn new_key(tenant: &str) -> Result<String, ServiceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(format!("no randomness for an API key: {e}")))?;
    Ok(format!("pk_{tenant}_{}", hex::encode(bytes)))
}
