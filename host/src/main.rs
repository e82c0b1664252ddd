//! The `pactum` command: run the service, migrate its database.

mod steps;

use clap::{Parser, Subcommand};
use pactum::metrics::Metrics;
use pactum::runtime::{Runtime, RuntimeConfig};
use pactum::service::{Service, ServiceOptions};
use pactum::store::Db;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc instead of glibc's allocator: under load the service spent
/// 13 % of its CPU in glibc's `malloc` and `free` (arena locks, free-list
/// consolidation), allocating request bodies, JSON and call records across
/// threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pactum",
    version,
    about = "B2B channel-partner programs as code: a multi-tenant service running each company's Wasm policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP service. It starts with the companies in its database
    /// (none at first: create them with `pactum tenant create`); with
    /// --demo, an empty database first gets the example companies found
    /// under --policies, and their admin API keys are printed.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "PACTUM_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// On an empty database, create the example companies found under
        /// --policies (the demo program) and print their admin API keys.
        #[arg(long, env = "PACTUM_DEMO")]
        demo: bool,
        /// Folder of example companies for --demo, one sub-folder with a
        /// policy.toml each.
        #[arg(long, env = "PACTUM_POLICIES", default_value = "policies")]
        policies: PathBuf,
        /// Hook calls that may run at once over the whole service; a call
        /// that finds none free waits up to --admission-wait-ms, then gets
        /// 503 with Retry-After (default: the instance pool's 256 slots).
        #[arg(long, env = "PACTUM_MAX_CONCURRENT_CALLS")]
        max_concurrent_calls: Option<u32>,
        /// Hook calls one company may run at once (default: an eighth of
        /// --max-concurrent-calls, at least 2).
        #[arg(long, env = "PACTUM_COMPANY_CONCURRENT_CALLS")]
        company_concurrent_calls: Option<u32>,
        /// How long a hook call waits for a free slot, milliseconds.
        #[arg(long, env = "PACTUM_ADMISSION_WAIT_MS", default_value_t = 2_000)]
        admission_wait_ms: u64,
        /// `on`: hook calls that run past a few milliseconds run again on
        /// low-priority threads, so a company whose plugins spin cannot
        /// take the CPU from the others;
        /// `off`: every call at normal priority (for measuring).
        #[arg(long, env = "PACTUM_CPU_SHARE", default_value = "on", value_parser = ["on", "off"])]
        cpu_share: String,
        /// How often to re-check the database for binding changes made by
        /// other replicas, in case a notification was missed (PostgreSQL)
        /// or there is none (SQLite), milliseconds.
        #[arg(long, env = "PACTUM_BINDINGS_RECHECK_MS", default_value_t = 5_000)]
        bindings_recheck_ms: u64,
        /// A PEM file of certificate authorities to trust for https://
        /// webhooks beside the public roots (a private CA).
        #[arg(long, env = "PACTUM_WEBHOOK_CA_FILE")]
        webhook_ca_file: Option<PathBuf>,
        /// How long a claimed Idempotency-Key whose request never finished
        /// (the process died) stays claimed before a retry may take it
        /// over, seconds.
        #[arg(long, env = "PACTUM_IDEMPOTENCY_LEASE_S", default_value_t = 60)]
        idempotency_lease_s: i64,
        /// How long a courier's claim on due notifications lasts before
        /// another pass (or replica) may post them again, seconds; keep it
        /// above the 10 s delivery timeout.
        #[arg(long, env = "PACTUM_DELIVERY_LEASE_S", default_value_t = 60)]
        delivery_lease_s: i64,
        #[command(flatten)]
        storage: Storage,
    },
    /// Manages tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manages API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manages the people who sign in to the portal.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Publishes plugins to a running server.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Works on recorded decisions.
    Decision {
        #[command(subcommand)]
        command: DecisionCommand,
    },
    /// Imports a company's history (partners, accounts, registrations,
    /// deals, commission lines with their original dates and statuses)
    /// into the database: a JSON document with any of the five lists, or
    /// a CSV file of one kind (--kind). Every row is checked; while one is
    /// refused nothing is written (unless --partial), and the refused rows
    /// are listed with why. Exits 1 when rows were refused.
    Import {
        /// The JSON or CSV file.
        file: PathBuf,
        /// The company.
        #[arg(long)]
        tenant: String,
        /// For a CSV file: partners, accounts, registrations, deals or lines.
        #[arg(long)]
        kind: Option<String>,
        /// Import the rows that pass even when others are refused.
        #[arg(long)]
        partial: bool,
        #[command(flatten)]
        storage: Storage,
    },
    /// Runs and exports payouts on a running server.
    Payout {
        #[command(subcommand)]
        command: PayoutCommand,
    },
    /// The managers' review queue on a running server: list, approve,
    /// reject.
    Review {
        #[command(subcommand)]
        command: steps::ReviewCommand,
    },
    /// A partner's answers to the leads offered to it, on a running server:
    /// accept, decline, report.
    Lead {
        #[command(subcommand)]
        command: steps::LeadCommand,
    },
    /// A step on a commission line on a running server: hold, release and
    /// void (a manager), dispute (the partner), resolve and adjust (a
    /// manager; `--amount` in minor units makes a linked adjustment line).
    Line {
        /// The step.
        step: steps::LineStep,
        /// The line's id.
        id: i64,
        /// Minor units of the linked adjustment line (resolve, adjust);
        /// negative to take money back.
        #[arg(long, allow_hyphen_values = true)]
        amount: Option<i64>,
        #[command(flatten)]
        reason: steps::Reason,
        #[command(flatten)]
        target: steps::Target,
    },
    /// A partner's lifecycle on a running server: details, certifications,
    /// a manual tier, suspend, reactivate, offboard.
    Partner {
        #[command(subcommand)]
        command: steps::PartnerCommand,
    },
    /// Protection extensions on a running server: a partner asks, a
    /// manager grants or refuses.
    Extension {
        #[command(subcommand)]
        command: steps::ExtensionCommand,
    },
    /// Tier changes waiting for a manager (program parameter
    /// `tier-approval`), on a running server: list, approve, reject.
    TierChange {
        #[command(subcommand)]
        command: steps::TierChangeCommand,
    },
    /// Creates the database if needed and applies its migrations.
    Migrate {
        /// Database URL: `sqlite://<file>` (the embedded default) or
        /// `postgres://<user>@<host>/<database>` (shared by several replicas).
        #[arg(long, env = "PACTUM_DATABASE_URL", default_value = "sqlite://pactum.db")]
        database_url: String,
    },
}

#[derive(clap::Args)]
struct Storage {
    /// Database URL: `sqlite://<file>` (the embedded default) or
    /// `postgres://<user>@<host>/<database>` (shared by several replicas).
    #[arg(long, env = "PACTUM_DATABASE_URL", default_value = "sqlite://pactum.db")]
    database_url: String,
    /// Where compiled plugins are cached between restarts.
    #[arg(long, env = "PACTUM_CACHE_DIR", default_value = ".pactum-cache")]
    cache_dir: PathBuf,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Creates a tenant from a program folder (its policy.toml and any
    /// <plugin>.wasm it names) and prints the tenant's admin API key.
    Create {
        /// The new tenant's slug.
        slug: String,
        /// The program folder.
        #[arg(long)]
        policy: PathBuf,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Invites a person to the portal and prints their one-time link (valid
    /// 7 days): opened, it asks for a password and signs them in. How the
    /// first admin of a company gets in; opens the database only.
    Invite {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Their email (unique across the service).
        #[arg(long)]
        email: String,
        /// Their name.
        #[arg(long)]
        name: String,
        /// admin, manager or partner.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The partner a partner user acts for.
        #[arg(long)]
        partner: Option<String>,
        /// The address people open the portal at, to print the whole link.
        #[arg(long, env = "PACTUM_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Creates an API key and prints it (only its hash is stored).
    Create {
        /// The tenant.
        tenant: String,
        /// admin, manager or partner.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The partner a partner key is bound to.
        #[arg(long)]
        partner: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// Lists a tenant's API keys by id (never the keys themselves).
    List {
        /// The tenant.
        tenant: String,
        #[command(flatten)]
        storage: Storage,
    },
    /// Revokes an API key: from then on it authenticates nothing (on a
    /// running server within seconds).
    Revoke {
        /// The tenant.
        tenant: String,
        /// The key's id, `key:` and 12 hex digits (see `pactum key list`).
        id: String,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Publishes a component to a running server: validated, stored, not
    /// live until an admin activates it (`PUT /v1/bindings/<hook>`).
    Push {
        /// The component (`.wasm`).
        file: PathBuf,
        /// The hook it is for: the server must find it exported.
        #[arg(long)]
        hook: String,
        /// The company: must be the key's.
        #[arg(long)]
        tenant: String,
        /// Its name (default: the file's stem).
        #[arg(long)]
        name: Option<String>,
        /// Its version (default: the first 12 hex digits of its sha256).
        #[arg(long)]
        version: Option<String>,
        /// The server.
        #[arg(long, env = "PACTUM_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// An admin API key of the company.
        #[arg(long, env = "PACTUM_KEY", hide_env_values = true)]
        key: String,
        /// Publish even if the company's fixtures fail (recorded).
        #[arg(long)]
        override_fixtures: bool,
    },
    /// Makes a published plugin serve a hook on a running server (a
    /// four-eyes company gets a pending request for a second admin).
    Activate {
        /// The published plugin's sha256.
        plugin: String,
        /// The hook.
        #[arg(long)]
        hook: String,
        /// Why (kept in the binding history).
        #[arg(long)]
        reason: String,
        /// Activate even if the company's fixtures fail (recorded).
        #[arg(long)]
        override_fixtures: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Binds a hook back to its previous plugin on a running server, at once.
    Rollback {
        /// The hook.
        #[arg(long)]
        hook: String,
        /// Why (kept in the binding history).
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Replays a company's recorded decisions of a period through a
    /// candidate (a .wasm file, or the sha256 of a stored plugin), offline
    /// on the database, and reports what would change.
    Backtest {
        /// The candidate: a `.wasm` file or a stored plugin's sha256.
        candidate: String,
        /// The company.
        #[arg(long)]
        tenant: String,
        /// The hook.
        #[arg(long)]
        hook: String,
        /// First day, `YYYY-MM-DD` (UTC, inclusive).
        #[arg(long)]
        from: String,
        /// Last day, `YYYY-MM-DD` (UTC, exclusive).
        #[arg(long)]
        to: String,
        /// Print the report as JSON instead of tables.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: Storage,
    },
    /// Shows how a hook's shadow plugin agrees with the live one (offline,
    /// on the database): runs, agreement rate, the latest disagreements.
    ShadowReport {
        /// The company.
        #[arg(long)]
        tenant: String,
        /// The hook.
        #[arg(long)]
        hook: String,
        #[command(flatten)]
        storage: Storage,
    },
    /// Runs a company's fixtures against a component, offline (no server):
    /// prints each failing fixture's expected and actual values side by
    /// side; exits 0 only when all pass.
    Test {
        /// The component (`.wasm`).
        file: PathBuf,
        /// The fixtures folder (`<hook>/<name>.json` inside).
        fixtures: PathBuf,
        /// The company folder whose policy.toml gives the parameters and
        /// limits (default: the fixtures folder's parent).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Where compiled plugins are cached.
        #[arg(long, env = "PACTUM_CACHE_DIR", default_value = ".pactum-cache")]
        cache_dir: PathBuf,
    },
}

/// A running server and an API key of the company.
#[derive(clap::Args)]
struct ServerArgs {
    /// The server.
    #[arg(long, env = "PACTUM_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An API key of the company: an admin's, a manager's for the steps
    /// managers take, a partner's for a partner's.
    #[arg(long, env = "PACTUM_KEY", hide_env_values = true)]
    key: String,
}

#[derive(Subcommand)]
enum PayoutCommand {
    /// Pays a month: each partner's pending lines due before its end, per
    /// currency, when the balance reaches the program's payout-minimum
    /// (the rest is carried over). Refused while the month's review window
    /// is open, and for a month paid already.
    Run {
        /// The month, `YYYY-MM`.
        #[arg(long)]
        period: String,
        /// The finance system's reference for the run (default
        /// `<company>-<period>`).
        #[arg(long)]
        reference: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Writes a payout run as CSV, one row per partner and currency.
    Export {
        /// The run's id (`pactum payout run` prints it).
        run: i64,
        /// Where to write it (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Subcommand)]
enum DecisionCommand {
    /// Re-runs a recorded decision's input through the plugin hash it
    /// records and confirms the same result bit for bit (exit 0), or shows
    /// the difference (exit 1).
    Replay {
        /// The decision's id.
        id: i64,
        #[command(flatten)]
        storage: Storage,
    },
}

async fn open_service(storage: &Storage) -> Result<Arc<Service>, Box<dyn std::error::Error>> {
    open_service_with(storage, ServiceOptions::default()).await
}

async fn open_service_with(
    storage: &Storage,
    options: ServiceOptions,
) -> Result<Arc<Service>, Box<dyn std::error::Error>> {
    let db = Db::open(&storage.database_url).await?;
    let runtime = Arc::new(
        Runtime::new(RuntimeConfig { cache_dir: Some(storage.cache_dir.clone()), ..RuntimeConfig::default() })
            .map_err(|e| format!("starting the Wasm engine: {e}"))?,
    );
    Ok(Arc::new(Service::open_with(db, runtime, Arc::new(Metrics::default()), options).await?))
}

/// `YYYY-MM-DD` as Unix seconds (UTC midnight).
fn parse_day(flag: &str, day: &str) -> Result<i64, String> {
    let parts: Vec<&str> = day.split('-').collect();
    let bad = || format!("--{flag} {day:?}: give a day as YYYY-MM-DD");
    let [y, m, d] = parts[..] else { return Err(bad()) };
    let (y, m, d): (i64, u32, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(pactum_pdk::time::days_from_civil(y, m, d))
}

/// Sends a JSON request to a running server; the answer, or the server's
/// error message.
async fn call(
    server: &ServerArgs,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<(u16, serde_json::Value), Box<dyn std::error::Error>> {
    use pactum::client::{ApiClient, error_message};
    let client = ApiClient::new(&server.server, &server.key)?;
    let (status, answer) = client.send(method, path, "application/json", body.to_string().into_bytes()).await?;
    if !(200..300).contains(&status) {
        return Err(format!("refused ({status}): {}", error_message(&answer)).into());
    }
    Ok((status, answer))
}

/// `pactum plugin backtest`.
async fn backtest(
    candidate: &str,
    tenant: &str,
    hook: &str,
    from: &str,
    to: &str,
    json: bool,
    storage: &Storage,
) -> Result<(), Box<dyn std::error::Error>> {
    let hook = pactum::runtime::HookKind::parse(hook)
        .ok_or_else(|| format!("--hook {hook:?}: use routing, approval, commission or tier-evaluation"))?;
    let (from, to) = (parse_day("from", from)?, parse_day("to", to)?);
    let service = open_service(storage).await?;
    let wasm = if std::path::Path::new(candidate).exists() {
        std::fs::read(candidate).map_err(|e| format!("reading {candidate}: {e}"))?
    } else if candidate.len() == 64 && candidate.chars().all(|c| c.is_ascii_hexdigit()) {
        service.db().plugin_wasm(candidate).await?.ok_or_else(|| format!("no stored plugin {candidate}"))?
    } else {
        return Err(format!("{candidate}: neither a file nor a plugin sha256").into());
    };
    let warm_up = service.tenant(tenant)?.program.warm_up();
    let plugin = service.runtime().load_for(&wasm, &warm_up).map_err(|e| format!("{candidate}: {e}"))?;
    let last = std::sync::atomic::AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        // One line per tenth, on stderr: the report goes to stdout.
        let tenth = done * 10 / total.max(1);
        if tenth > last.swap(tenth, std::sync::atomic::Ordering::Relaxed) {
            eprintln!("backtest: {done} of {total} decisions replayed");
        }
    };
    let report = service.backtest(tenant, hook, from, to, plugin, &progress).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} {} decisions of {tenant} replayed through {} in {} ms: {} would change",
        report.decisions, report.hook, report.candidate, report.elapsed_ms, report.changed
    );
    if !report.by_partner.is_empty() {
        println!("{:<24} {:>16} {:>16} {:>16}", "partner", "paid", "would pay", "difference");
        for p in &report.by_partner {
            println!("{:<24} {:>16} {:>16} {:>16}", p.partner_id, p.recorded, p.candidate, p.candidate - p.recorded);
        }
    }
    for t in &report.transitions {
        println!("{:<32} -> {:<32} {:>8}", t.from, t.to, t.count);
    }
    for d in report.differences.iter().take(20) {
        println!(
            "decision {} ({}): {} -> {}",
            d.decision_id,
            d.subject.as_deref().unwrap_or("-"),
            d.recorded,
            d.candidate
        );
    }
    Ok(())
}

/// `pactum plugin test`.
fn test_plugin(
    file: &std::path::Path,
    dir: &std::path::Path,
    policy: Option<PathBuf>,
    cache_dir: PathBuf,
) -> Result<(), Box<dyn std::error::Error>> {
    use pactum::fixtures::{Fixture, run};
    let company = policy.or_else(|| dir.parent().map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("."));
    let program = pactum::program::Program::load(&company)?;
    let fixtures = Fixture::load_dir(dir)?;
    if fixtures.is_empty() {
        return Err(format!("no fixtures under {} (expected <hook>/<name>.json)", dir.display()).into());
    }
    let wasm = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let runtime = Runtime::new(RuntimeConfig { cache_dir: Some(cache_dir), ..RuntimeConfig::default() })
        .map_err(|e| format!("starting the Wasm engine: {e}"))?;
    // Warmed with the company's parameters, as the server would load it.
    let (plugin, cost) =
        runtime.load_for_with_cost(&wasm, &program.warm_up()).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut load = match cost.source {
        pactum::runtime::LoadSource::Compiled => format!("compiled in {:.1} s", cost.load_ms as f64 / 1e3),
        _ => format!("loaded from the compiled cache in {} ms", cost.load_ms),
    };
    if cost.preinitialized {
        load.push_str(" (pre-initialized)");
    }
    println!(
        "{}: {} bytes, {load}, compiled code {:.1} MB",
        file.display(),
        wasm.len(),
        cost.artifact_bytes as f64 / 1e6
    );
    let report = run(&runtime, &plugin, &program, &fixtures, plugin.hooks());
    let skipped = fixtures.len() - report.outcomes.len();
    for o in &report.outcomes {
        println!("{} {}", if o.passed { "pass" } else { "FAIL" }, o.name);
        if !o.mismatches.is_empty() {
            println!("     {:<32} {:<40} actual", "field", "expected");
            for m in &o.mismatches {
                println!("     {:<32} {:<40} {}", m.path, m.expected.to_string(), m.actual);
            }
        }
    }
    println!(
        "{}{}",
        report.summary(),
        if skipped > 0 {
            format!(" ({skipped} for hooks the component does not export skipped)")
        } else {
            String::new()
        }
    );
    if report.failed() > 0 { Err(format!("{} fixture(s) failed", report.failed()).into()) } else { Ok(()) }
}

/// `pactum plugin push`.
#[allow(clippy::too_many_arguments)]
async fn push(
    file: &std::path::Path,
    hook: &str,
    tenant: &str,
    name: Option<String>,
    version: Option<String>,
    server: &str,
    key: &str,
    override_fixtures: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    use pactum::client::{ApiClient, error_message};
    let hook = pactum::runtime::HookKind::parse(hook)
        .ok_or_else(|| format!("--hook {hook:?}: use routing, approval, commission or tier-evaluation"))?;
    let wasm = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let name = name.unwrap_or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    let version = version.unwrap_or_else(|| pactum::runtime::PluginHash::of(&wasm).to_hex()[..12].to_string());
    let client = ApiClient::new(server, key)?;
    let (status, program) = client.send("GET", "/v1/program", "application/json", Vec::new()).await?;
    if status != 200 {
        return Err(format!("{server}: {}", error_message(&program)).into());
    }
    if program["company"]["slug"] != tenant {
        return Err(format!("--tenant {tenant}: the key belongs to company {}", program["company"]["slug"]).into());
    }
    let query = format!("/v1/plugins?name={name}&version={version}&hook={hook}&override_fixtures={override_fixtures}");
    let (status, published) = client.send("POST", &query, "application/wasm", wasm).await?;
    if !(200..300).contains(&status) {
        return Err(format!("refused ({status}): {}", error_message(&published)).into());
    }
    let hash = published["hash"].as_str().unwrap_or_default();
    println!(
        "published {name} {version}: {hash} ({} bytes; fixtures: {}){}",
        published["size"],
        published["fixtures"].as_str().unwrap_or_default(),
        if published["created"] == false { ", already published before" } else { "" }
    );
    println!("cold start: {}", cold_start(&published["cold_start"]));
    println!(
        "not live yet: activate it with PUT {server}/v1/bindings/{hook} {{\"plugin\": \"{hash}\", \"reason\": \"...\"}}"
    );
    Ok(())
}

/// `POST /v1/plugins`'s `cold_start`, in words: "compiled in 18.3 s,
/// 56.1 MB compiled; first call 1.8 ms".
fn cold_start(c: &serde_json::Value) -> String {
    let ms = c["load_ms"].as_u64().unwrap_or_default();
    let load = match c["source"].as_str() {
        Some("compiled") => {
            format!("compiled in {:.1} s (once per replica, then loaded from its cache)", ms as f64 / 1e3)
        }
        Some("cache") => format!("loaded from the compiled cache in {ms} ms"),
        _ => "already loaded".to_string(),
    };
    let mb = |v: &serde_json::Value| v.as_u64().unwrap_or_default() as f64 / 1e6;
    let call = match c["first_call_us"].as_u64() {
        Some(us) => format!("first call {:.2} ms", us as f64 / 1e3),
        None => "no fixture to time a call".to_string(),
    };
    let warm = if c["preinitialized"].as_bool() == Some(true) { ", pre-initialized" } else { "" };
    format!(
        "{load}; component {:.1} MB, compiled code {:.1} MB{warm}; {call}",
        mb(&c["component_bytes"]),
        mb(&c["artifact_bytes"])
    )
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pactum: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Tenant { command: TenantCommand::Create { slug, policy, storage } } => {
            let service = open_service(&storage).await?;
            let path = policy.join("policy.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let (slug, key) = service
                .create_tenant_as(Some(&slug), &text, &path, |name| pactum::bundled_plugin(&policy, name))
                .await?;
            println!("Created tenant {slug}. Its admin API key (shown once):\n  {key}");
        }
        Command::Key { command: KeyCommand::Create { tenant, role, partner, storage } } => {
            let service = open_service(&storage).await?;
            let key = service.create_key(&tenant, &role, partner.as_deref()).await?;
            println!("{key}");
        }
        // Admin commands on keys open the database only.
        Command::Key { command: KeyCommand::List { tenant, storage } } => {
            let db = Db::open(&storage.database_url).await?;
            for k in db.keys(&tenant).await? {
                let partner = k.partner_id.as_deref().unwrap_or("-");
                let state = k.revoked_at.map_or("active".to_string(), |at| format!("revoked at {at}"));
                println!("{}  {:<8} {:<16} {state}", k.id, k.role, partner);
            }
        }
        Command::Key { command: KeyCommand::Revoke { tenant, id, storage } } => {
            let db = Db::open(&storage.database_url).await?;
            let revoked = db
                .revoke_key(&tenant, &id, "cli", pactum::service::now())
                .await?
                .ok_or_else(|| format!("no API key {id:?} in tenant {tenant:?} (ids look like key:0123456789ab)"))?;
            println!("{} revoked at {}", revoked.id, revoked.revoked_at.unwrap_or_default());
        }
        Command::User { command: UserCommand::Invite { tenant, email, name, role, partner, public_url, storage } } => {
            let db = Db::open(&storage.database_url).await?;
            if !db.tenants().await?.iter().any(|t| t.slug == tenant) {
                return Err(format!("no tenant {tenant:?}").into());
            }
            let role = pactum::service::Role::parse(&role)
                .ok_or_else(|| format!("--role {role:?}: use admin, manager or partner"))?;
            // An operator's tool on the database: it acts as the company's admin.
            let caller = pactum::service::Caller {
                tenant: tenant.clone(),
                role: pactum::service::Role::Admin,
                partner: None,
                key: "cli".into(),
            };
            let new = pactum::users::NewInvitation { email, name, role, partner_id: partner };
            let invitation = pactum::users::invite(&db, &caller, new, pactum::service::now()).await?;
            println!(
                "Invited {} ({}) to {tenant}. Their one-time link, valid 7 days (shown once):\n  {}{}",
                invitation.email,
                role.as_str(),
                public_url.trim_end_matches('/'),
                invitation.link
            );
        }
        Command::Plugin {
            command: PluginCommand::Push { file, hook, tenant, name, version, server, key, override_fixtures },
        } => push(&file, &hook, &tenant, name, version, &server, &key, override_fixtures).await?,
        Command::Plugin { command: PluginCommand::Backtest { candidate, tenant, hook, from, to, json, storage } } => {
            backtest(&candidate, &tenant, &hook, &from, &to, json, &storage).await?
        }
        Command::Plugin { command: PluginCommand::Activate { plugin, hook, reason, override_fixtures, server } } => {
            let body =
                serde_json::json!({ "plugin": plugin, "reason": reason, "override_fixtures": override_fixtures });
            let (status, answer) = call(&server, "PUT", &format!("/v1/bindings/{hook}"), body).await?;
            if status == 202 {
                println!("activation request {} waits for a second admin's approval", answer["id"]);
            } else {
                println!("{hook}: {} -> {} (fixtures: {})", answer["from_hash"], answer["to_hash"], answer["fixtures"]);
            }
        }
        Command::Plugin { command: PluginCommand::Rollback { hook, reason, server } } => {
            let body = serde_json::json!({ "reason": reason });
            let (_, answer) = call(&server, "POST", &format!("/v1/bindings/{hook}/rollback"), body).await?;
            println!("{hook}: rolled back {} -> {}", answer["from_hash"], answer["to_hash"]);
        }
        Command::Plugin { command: PluginCommand::ShadowReport { tenant, hook, storage } } => {
            let hook = pactum::runtime::HookKind::parse(&hook)
                .ok_or_else(|| format!("--hook {hook:?}: use routing, approval, commission or tier-evaluation"))?;
            let service = open_service(&storage).await?;
            // An operator's tool on the database: it acts as the company's admin.
            let caller = pactum::service::Caller {
                tenant: tenant.clone(),
                role: pactum::service::Role::Admin,
                partner: None,
                key: "cli".into(),
            };
            service.tenant(&tenant)?;
            let report = service.shadow_report(&caller, hook).await?;
            match &report.plugin {
                None => println!("no shadow runs for {tenant}'s {hook} hook"),
                Some(plugin) => {
                    println!(
                        "shadow {plugin} on {tenant}'s {hook} hook: {} of {} live decisions agreed ({}.{:02} %)",
                        report.agreed,
                        report.runs,
                        report.agreement_bps / 100,
                        report.agreement_bps % 100
                    );
                    for d in &report.differences {
                        println!("decision {}: live {} | shadow {}", d.decision_id, d.live, d.shadow);
                    }
                }
            }
        }
        Command::Plugin { command: PluginCommand::Test { file, fixtures, policy, cache_dir } } => {
            test_plugin(&file, &fixtures, policy, cache_dir)?
        }
        Command::Import { file, tenant, kind, partial, storage } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            let doc = match &kind {
                Some(kind) => pactum::workflows::import::from_csv(kind, &bytes)?,
                None => serde_json::from_slice(&bytes).map_err(|e| {
                    format!("{}: not an import document: {e} (a CSV file needs --kind)", file.display())
                })?,
            };
            let service = open_service(&storage).await?;
            service.tenant(&tenant)?;
            // An operator's tool on the database: it acts as the company's admin.
            let caller = pactum::service::Caller {
                tenant: tenant.clone(),
                role: pactum::service::Role::Admin,
                partner: None,
                key: "cli".into(),
            };
            let report = service.import(&caller, doc, partial, pactum::service::now()).await?;
            service.shutdown().await;
            let counts: Vec<String> =
                report.imported.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {k}")).collect();
            for r in &report.refused {
                eprintln!("refused: {} row {}: {}", r.kind, r.row, r.message);
            }
            if report.applied {
                println!(
                    "imported into {tenant}: {}",
                    if counts.is_empty() { "nothing".into() } else { counts.join(", ") }
                );
            } else {
                println!(
                    "nothing imported: {} rows refused (fix them, or --partial to import the others)",
                    report.refused_count
                );
            }
            if report.refused_count > 0 {
                std::process::exit(1);
            }
        }
        Command::Review { command } => steps::review(command).await?,
        Command::Lead { command } => steps::lead(command).await?,
        Command::Line { step, id, amount, reason, target } => steps::line(step, id, amount, reason, target).await?,
        Command::Partner { command } => steps::partner(command).await?,
        Command::Extension { command } => steps::extension(command).await?,
        Command::TierChange { command } => steps::tier_change(command).await?,
        Command::Payout { command: PayoutCommand::Run { period, reference, server } } => {
            let body = serde_json::json!({ "period": period, "reference": reference });
            let (_, run) = call(&server, "POST", "/v1/payout-runs", body).await?;
            let run: pactum::store::PayoutRunRow = serde_json::from_value(run)?;
            use pactum::workflows::payouts::{decimal, minor_digits};
            let totals: Vec<String> =
                run.summary.totals.iter().map(|(c, a)| format!("{c} {}", decimal(*a, minor_digits(c)))).collect();
            println!(
                "payout run {} for {}: {} payouts, {} lines, {}; {} balances carried over",
                run.id,
                run.period,
                run.summary.payouts,
                run.summary.lines,
                if totals.is_empty() { "nothing paid".to_string() } else { totals.join(", ") },
                run.summary.carried.len()
            );
        }
        Command::Payout { command: PayoutCommand::Export { run, output, server } } => {
            let (_, csv) = call(&server, "GET", &format!("/v1/payout-runs/{run}/csv"), serde_json::Value::Null).await?;
            let csv = csv.as_str().ok_or("the server sent no CSV")?;
            match output {
                Some(path) => std::fs::write(&path, csv).map_err(|e| format!("writing {}: {e}", path.display()))?,
                None => print!("{csv}"),
            }
        }
        Command::Decision { command: DecisionCommand::Replay { id, storage } } => {
            let service = open_service(&storage).await?;
            let replay = service.replay(None, id).await?;
            let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
            if replay.same {
                println!(
                    "decision {id} ({} of {}): replayed through plugin {}: same result",
                    replay.hook, replay.tenant, replay.plugin
                );
            } else {
                println!("decision {id}: replayed through plugin {}: DIFFERENT", replay.plugin);
                println!("recorded:\n{}\nreplayed:\n{}", pretty(&replay.recorded), pretty(&replay.replayed));
                return Err(format!("decision {id} does not replay to its recorded result").into());
            }
        }
        Command::Migrate { database_url } => {
            let db = Db::open(&database_url).await?;
            // The URL may carry a password: log the backend only.
            tracing::info!(backend = db.kind(), "database migrated");
        }
        Command::Serve {
            listen,
            demo,
            policies,
            max_concurrent_calls,
            company_concurrent_calls,
            admission_wait_ms,
            cpu_share,
            bindings_recheck_ms,
            webhook_ca_file,
            idempotency_lease_s,
            delivery_lease_s,
            storage,
        } => {
            if idempotency_lease_s < 1 || delivery_lease_s < 1 {
                return Err("--idempotency-lease-s and --delivery-lease-s must be at least 1".into());
            }
            let webhook_ca_pem = match &webhook_ca_file {
                Some(path) => Some(
                    std::fs::read(path).map_err(|e| format!("reading --webhook-ca-file {}: {e}", path.display()))?,
                ),
                None => None,
            };
            let pool = RuntimeConfig::default().max_concurrent_instances;
            let slots = max_concurrent_calls.unwrap_or(pool);
            if slots == 0 || slots > pool {
                return Err(
                    format!("--max-concurrent-calls {slots}: give 1 to {pool} (the instance pool's slots)").into()
                );
            }
            let defaults = pactum::admission::AdmissionLimits::for_pool(slots);
            let share = company_concurrent_calls.unwrap_or(defaults.share);
            if share == 0 || share > slots {
                return Err(format!("--company-concurrent-calls {share}: give 1 to {slots}").into());
            }
            let admission = pactum::admission::AdmissionLimits {
                slots,
                share,
                wait: std::time::Duration::from_millis(admission_wait_ms),
            };
            let cpu_share = match cpu_share.as_str() {
                "off" => pactum::admission::CpuShareMode::Off,
                _ => pactum::admission::CpuShareMode::On,
            };
            let empty = Db::open(&storage.database_url).await?.is_empty().await?;
            let service = open_service_with(
                &storage,
                ServiceOptions {
                    webhook_ca_pem,
                    admission: Some(admission),
                    idempotency_lease_s: Some(idempotency_lease_s),
                    delivery_lease_s: Some(delivery_lease_s),
                    cpu_share,
                },
            )
            .await?;
            if demo && empty {
                let created = service.seed_examples(&policies, pactum::bundled_plugin).await?;
                // The keys are shown once, to the operator: stdout, not the log.
                println!(
                    "Created the example companies from {}. Their admin API keys (shown once):",
                    policies.display()
                );
                for (slug, key) in &created {
                    println!("  {slug:<12} {key}");
                }
                println!("Try: curl -H 'Authorization: Bearer <key>' http://{listen}/v1/program");
            }
            // Background job: the scheduler fires every timer that came due
            // (registrations whose protection ended expire; leads whose
            // offer ran out are routed again). Due times are in the
            // database: a restart loses none.
            let scheduler = service.clone();
            service.spawn_periodic("scheduler", std::time::Duration::from_secs(5), move || {
                let scheduler = scheduler.clone();
                async move {
                    let limit = pactum::scheduler::OFFERS_PER_PASS;
                    match scheduler.fire_due(pactum::service::now(), limit).await {
                        Ok(fired) if fired == pactum::scheduler::Fired::default() => {}
                        Ok(fired) => tracing::info!(?fired, "timers fired"),
                        Err(e) => tracing::error!(error = %e, "firing due timers"),
                    }
                }
            });
            // Background job: follow binding changes made by other replicas
            // (PostgreSQL LISTEN, re-checked every --bindings-recheck-ms) or the CLI.
            service.watch_bindings(std::time::Duration::from_millis(bindings_recheck_ms.max(10)));
            // Background job: deliver due notifications to tenants' webhooks.
            let courier = service.clone();
            service.spawn_periodic("notification courier", std::time::Duration::from_secs(2), move || {
                let courier = courier.clone();
                async move {
                    if let Err(e) = courier.deliver_due(pactum::service::now()).await {
                        tracing::error!(error = %e, "delivering notifications");
                    }
                }
            });
            let listener =
                tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("listening on {listen}: {e}"))?;
            tracing::info!(%listen, backend = service.db().kind(), "pactum serving");
            // SIGTERM or Ctrl-C: stop accepting, finish the requests in
            // flight, then let every background task finish its writes.
            axum::serve(listener, pactum::api::router(service.clone()))
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            tracing::info!("requests finished; stopping background tasks");
            service.shutdown().await;
            tracing::info!("stopped");
        }
    }
    Ok(())
}
