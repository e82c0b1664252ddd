//! Storage: tenants, API keys, plugins, hook bindings, the program's
//! records and the decision log, through sqlx, on one of two backends:
//!
//! - **SQLite** (`sqlite://<file>`), the embedded default: one file, WAL,
//!   created and migrated on first start. One process owns it.
//! - **PostgreSQL** (`postgres://...`): how several host replicas share one
//!   program.
//!
//! Every query is written once, in the SQL both accept (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`, sums cast to `BIGINT`), and run through
//! [`with_reader!`]/[`with_writer!`], which expand it for the backend's own driver: no
//! type erasure on the hot path. Each backend has its own migrations
//! (`host/store/migrations/{sqlite,postgres}`). On a SQLite file, the few reads
//! every registration and lead makes run the same SQL through rusqlite on
//! the request's own thread instead ([`direct`]): sqlx's SQLite driver hands
//! each statement to a thread of its own, which costs more than the read.
//!
//! Every query that reads tenant data takes the tenant's slug, so one
//! tenant's rows never reach another's requests.

use pactum_core::{HookKind, PluginHash, Role};
use serde::Serialize;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{ColumnIndex, Decode, Postgres, Sqlite, Type};
use std::str::FromStr;

/// Runs `$body` with `$e` bound to the backend's pool for reads.
macro_rules! with_reader {
    ($db:expr, |$e:ident| $body:expr) => {
        match &$db.backend {
            $crate::Backend::Sqlite { read: $e, .. } => $body,
            $crate::Backend::Postgres($e) => $body,
        }
    };
}

/// Runs `$body` with `$e` bound to the backend's pool for writes (on
/// SQLite, the single writing connection).
macro_rules! with_writer {
    ($db:expr, |$e:ident| $body:expr) => {
        match &$db.backend {
            $crate::Backend::Sqlite { write: $e, .. } => $body,
            $crate::Backend::Postgres($e) => $body,
        }
    };
}

/// Inserts the decisions `$decisions` (an iterator of [`NewDecision`] or
/// `&NewDecision`) through `$conn` in one multi-row statement, and
/// evaluates to their ids by `(tenant, hook, subject)` (the order of
/// `RETURNING` rows is not promised; each decision of one statement has a
/// key of its own).
macro_rules! insert_decisions {
    ($conn:expr, $decisions:expr, $created_at:expr) => {{
        let created_at: i64 = $created_at;
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO decisions (tenant, hook, plugin_hash, subject, event_time, outcome, record, decision, \
             fallback, created_at) ",
        );
        q.push_values($decisions, |mut b, d| {
            b.push_bind(d.tenant)
                .push_bind(d.hook.interface())
                .push_bind(d.plugin.to_hex())
                .push_bind(d.subject)
                .push_bind(d.event_time)
                .push_bind(d.outcome)
                .push_bind(d.record.to_string())
                .push_bind(d.decision.to_string())
                .push_bind(d.fallback)
                .push_bind(created_at);
        });
        q.push(" RETURNING id, tenant, hook, subject");
        let ids: std::collections::HashMap<(String, String, String), i64> = q
            .build()
            .fetch_all($conn)
            .await?
            .iter()
            .map(|r| {
                use $crate::Get;
                ((r.get(1), r.get(2), r.get(3)), r.get(0))
            })
            .collect();
        ids
    }};
}

/// A person's step in the decision log, written like a plugin's decision
/// but with no plugin hash and the person (`actor`) who took it.
pub(crate) struct PersonDecision<'a> {
    /// The hook whose decision it stands for (`approval`, `routing`...).
    pub hook: &'a str,
    /// What it is about: the registration, lead, partner or line.
    pub subject: &'a str,
    /// When it was taken.
    pub at: i64,
    /// `manual`, or `import` for imported history.
    pub outcome: &'a str,
    /// What it was decided on (the decision log's `record`).
    pub record: &'a serde_json::Value,
    /// What was decided.
    pub decision: &'a serde_json::Value,
    /// Who took it.
    pub actor: &'a str,
}

/// Inserts the [`PersonDecision`] `$decision` of `$tenant` through `$conn`
/// (the step's transaction) and evaluates to its id.
macro_rules! insert_person_decision {
    ($conn:expr, $tenant:expr, $decision:expr, $created_at:expr) => {{
        let d: &$crate::PersonDecision<'_> = $decision;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decisions (tenant, hook, plugin_hash, subject, event_time, outcome, record, decision, \
             fallback, created_at, actor) VALUES ($1, $2, '', $3, $4, $5, $6, $7, FALSE, $8, $9) RETURNING id",
        )
        .bind($tenant)
        .bind(d.hook)
        .bind(d.subject)
        .bind(d.at)
        .bind(d.outcome)
        .bind(d.record.to_string())
        .bind(d.decision.to_string())
        .bind($created_at)
        .bind(d.actor)
        .fetch_one($conn)
        .await?;
        id
    }};
}

/// Queues the outbox event `$event` of `$tenant` with the serializable
/// `$payload`, due now, through `$conn` (a transaction: the event commits
/// with the step it announces, or not at all).
macro_rules! enqueue_event {
    ($conn:expr, $tenant:expr, $event:expr, $payload:expr) => {{
        let payload = serde_json::to_string($payload)
            .map_err(|e| $crate::StoreError::Inconsistent(format!("an event payload: {e}")))?;
        let at = $crate::now();
        sqlx::query(
            "INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind($tenant)
        .bind($event)
        .bind(payload)
        .bind(at)
        .execute($conn)
        .await?;
    }};
}

/// The columns [`decision_row`] reads, in its order.
macro_rules! select_decision {
    () => {
        "SELECT id, hook, plugin_hash, event_time, outcome, fallback, decision, record, created_at, subject, tenant, \
         actor FROM decisions"
    };
}

/// The embedded SQLite migrations (`host/store/migrations/sqlite`).
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// The embedded PostgreSQL migrations (`host/store/migrations/postgres`).
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub mod insights;
pub mod lifecycle;
pub mod outbox;
pub use outbox::{DueEvent, OutboxEvent};
pub mod decided;
mod direct;
pub mod extensions;
pub mod fx;
pub use fx::ForeignRevenue;
pub mod import;
pub mod leads;
pub use extensions::ExtensionDecision;
pub mod partners;
pub use partners::{ManualEntry, PartnerChange};
pub mod payouts;
pub use leads::LeadStep;
pub mod records;
pub mod users;
pub use decided::{
    CommissionWrite, DealStep, DecidedRecord, DecidedWrite, DecisionToWrite, GroupCommit, LeadReroute, Written,
};
pub use insights::{DealCounts, LeadRow, LeadTimes, ProgramNumbers, ScorecardRow, TierDecision};
pub use lifecycle::{
    ActivationRequestRow, BindingChangeRow, NewBindingChange, NewPublication, NewShadowResult, PublicationRow,
    ShadowDifference,
};
pub use payouts::{CarriedBalance, LineChange, LineStepped, NewPayoutRun, PayoutRow, PayoutRunRow, PayoutSummary};
pub use records::{
    CommissionLineRow, DealRow, Extension, ManualReview, PartnerRow, PartnerStep, RegistrationRow, StatementLine,
};
pub use users::{InvitationRow, NewInvitation, NewSession, SessionRow, UserRow};

/// A storage error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one this build supports.
    #[error("unsupported database URL {0:?}: use sqlite://<file> or postgres://<user>@<host>/<database>")]
    UnsupportedUrl(String),
    /// The database failed.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// The database failed, read on the calling thread (SQLite).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// What was written does not read back as expected (a bug, not bad input).
    #[error("inconsistent store: {0}")]
    Inconsistent(String),
    /// Migrations failed.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A guarded transition found the record in another state than the
    /// step expects: another request changed it first. Nothing was
    /// written; the message names the record's current state.
    #[error("{0}")]
    Conflict(String),
    /// A failure injected by a test between two writes of one unit of work
    /// (see [`Db::fail_at_statement`]).
    #[error("injected failure at write statement {0}")]
    Injected(u64),
}

/// An API key as the company sees it: never the key, nor its whole hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct KeyRow {
    /// `key:` and the first 12 hex digits of the key's sha256: how audit
    /// records name the key, and how it is revoked.
    pub id: String,
    /// Its role.
    pub role: Role,
    /// The partner a partner key is bound to.
    pub partner_id: Option<String>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it was revoked; `None` while it works.
    pub revoked_at: Option<i64>,
    /// Who revoked it (a key id, or `cli`).
    pub revoked_by: Option<String>,
}

/// A role as stored (the table's CHECK allows no other).
fn stored_role(name: &str) -> Result<Role, StoreError> {
    Role::parse(name).ok_or_else(|| StoreError::Inconsistent(format!("stored API key role {name:?}")))
}

/// The id of the key whose sha256 is `hash` (hex): see [`KeyRow::id`].
pub fn key_id(hash: &str) -> String {
    format!("key:{}", &hash[..12.min(hash.len())])
}

/// The database.
#[derive(Clone)]
pub struct Db {
    pub(crate) backend: Backend,
    faults: std::sync::Arc<Faults>,
}

/// A test's injected failure: the statement at which the next unit of
/// work fails. Zero (the default) is disarmed; the check is one atomic
/// load per write statement.
#[derive(Default)]
struct Faults {
    /// Write statements left before the failure; 0: none armed.
    countdown: std::sync::atomic::AtomicU64,
    /// The statement number the armed failure is at, for its message.
    at: std::sync::atomic::AtomicU64,
}

/// The connection pools of one backend.
#[derive(Clone)]
pub(crate) enum Backend {
    /// SQLite takes one writer at a time: writes go through a pool of one
    /// connection, so they queue in order instead of colliding and backing
    /// off on SQLITE_BUSY; reads use their own pool, concurrently.
    /// The hot path's reads skip the read pool (see [`direct`]) when the
    /// database is a file.
    Sqlite { read: SqlitePool, write: SqlitePool, direct: Option<std::sync::Arc<direct::DirectReads>> },
    /// PostgreSQL: one pool for both.
    Postgres(PgPool),
}

/// A value every driver decodes (sqlx's two, and rusqlite for [`direct`]
/// reads).
pub(crate) trait Value:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> + rusqlite::types::FromSql
{
}
impl<T> Value for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + rusqlite::types::FromSql
{
}

/// A column index (a position or a name) every driver's rows take.
pub(crate) trait Index: ColumnIndex<SqliteRow> + ColumnIndex<PgRow> + rusqlite::RowIndex {}
impl<I> Index for I where I: ColumnIndex<SqliteRow> + ColumnIndex<PgRow> + rusqlite::RowIndex {}

/// A result row of any driver, so each row mapping is written once.
pub(crate) trait Get {
    /// The column at `index`, decoded. Panics when the column is missing or
    /// of another type: the queries and the migrations disagree.
    fn get<T: Value>(&self, index: impl Index) -> T;
}

impl Get for SqliteRow {
    fn get<T: Value>(&self, index: impl Index) -> T {
        sqlx::Row::get(self, index)
    }
}

impl Get for PgRow {
    fn get<T: Value>(&self, index: impl Index) -> T {
        sqlx::Row::get(self, index)
    }
}

/// A row of the decision log.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DecisionRow {
    /// The decision's id.
    pub id: i64,
    /// The hook.
    pub hook: String,
    /// The plugin that was called.
    pub plugin: String,
    /// What it is about: the lead, registration, deal or partner id.
    pub subject: Option<String>,
    /// The event's time (Unix seconds).
    pub event_time: i64,
    /// `ok`, or the error kind when the plugin failed.
    pub outcome: String,
    /// Whether the workflow's fallback decided instead of the plugin.
    pub fallback: bool,
    /// What the workflow acts on: the plugin's output or the fallback.
    pub decision: serde_json::Value,
    /// The runtime's full call record (input, output or error, fuel, time, logs).
    pub record: serde_json::Value,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
    /// Who decided, when a person did (`key:<12 hex>`; then `plugin` is
    /// empty and `outcome` is `manual`); `None` for a plugin's decision.
    pub actor: Option<String>,
}

/// A new decision to record.
pub struct NewDecision<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The hook.
    pub hook: HookKind,
    /// The plugin called.
    pub plugin: PluginHash,
    /// What it is about: the lead, registration, deal or partner id.
    pub subject: &'a str,
    /// The event's time.
    pub event_time: i64,
    /// `ok` or the error kind.
    pub outcome: &'a str,
    /// The call record, JSON.
    pub record: &'a serde_json::Value,
    /// The decision acted on, JSON.
    pub decision: &'a serde_json::Value,
    /// Whether it is the fallback's.
    pub fallback: bool,
}

/// A tenant as stored.
#[derive(Debug, Clone)]
pub struct TenantRow {
    /// Its slug.
    pub slug: String,
    /// The `policy.toml` text it was created from.
    pub program: String,
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Db {
    /// Opens and migrates the database at `url`: `sqlite://<file>`
    /// (created if missing) or `postgres://...`.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL with NORMAL sync: durable across a crash of the process,
                // one fsync per checkpoint instead of per commit.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true);
            // No liveness ping before each use (sqlx's default): an embedded
            // file's connection cannot go stale, and on SQLite the ping is a
            // round trip to the connection's worker thread, doubling the
            // thread hand-offs of every statement.
            let pool = || SqlitePoolOptions::new().test_before_acquire(false);
            let write = pool().max_connections(1).connect_with(options.clone()).await?;
            SQLITE_MIGRATOR.run(&write).await?;
            let direct = match options.get_filename() {
                memory if memory.as_os_str() == ":memory:" => None,
                file => Some(std::sync::Arc::new(direct::DirectReads::new(file))),
            };
            let read = pool().max_connections(8).connect_with(options).await?;
            Backend::Sqlite { read, write, direct }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new().max_connections(16).connect(url).await?;
            // Replicas starting together: sqlx serialises them on an
            // advisory lock, so each migration runs once.
            POSTGRES_MIGRATOR.run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        Ok(Db { backend, faults: Default::default() })
    }

    /// Test aid: the `n`-th write statement from now (1 = the next one)
    /// fails with [`StoreError::Injected`] instead of running, inside its
    /// transaction, which then rolls back. Every unit of work checks before
    /// each of its write statements, so a test can fail a workflow step
    /// between any two of its writes and see that none of them is kept.
    /// `0` disarms it.
    pub fn fail_at_statement(&self, n: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        self.faults.at.store(n, SeqCst);
        self.faults.countdown.store(n, SeqCst);
    }

    /// Whether an injected failure is still armed (not yet reached).
    pub fn fault_armed(&self) -> bool {
        self.faults.countdown.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    /// Called before each write statement of a unit of work: fails when a
    /// test's injected failure is due (see [`Db::fail_at_statement`]).
    pub(crate) fn before_write(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.faults.countdown.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return Ok(());
        }
        match self.faults.countdown.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)) {
            Ok(1) => Err(StoreError::Injected(self.faults.at.load(SeqCst))),
            _ => Ok(()),
        }
    }

    /// Reads on the calling thread, when the database is a SQLite file.
    pub(crate) fn direct(&self) -> Option<&direct::DirectReads> {
        match &self.backend {
            Backend::Sqlite { direct, .. } => direct.as_deref(),
            Backend::Postgres(_) => None,
        }
    }

    /// Which backend this is: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The SQLite writing connection, for bulk loading tools and
    /// benchmarks; `None` on PostgreSQL.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backend::Sqlite { write, .. } => Some(write),
            Backend::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for bulk loading tools and benchmarks; `None`
    /// on SQLite.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite { .. } => None,
        }
    }

    /// Whether no tenant exists yet.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = with_reader!(self, |e| sqlx::query_scalar("SELECT COUNT(*) FROM tenants").fetch_one(e).await?);
        Ok(n == 0)
    }

    /// Creates a tenant.
    pub async fn create_tenant(&self, slug: &str, name: &str, currency: &str, program: &str) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query("INSERT INTO tenants (slug, name, currency, program, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(slug)
                .bind(name)
                .bind(currency)
                .bind(program)
                .bind(now())
                .execute(e)
                .await?;
        });
        Ok(())
    }

    /// Every tenant.
    pub async fn tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT slug, program FROM tenants ORDER BY slug").fetch_all(e).await?;
            rows.iter().map(|r| TenantRow { slug: r.get(0), program: r.get(1) }).collect()
        }))
    }

    /// A stored plugin's bytes.
    pub async fn plugin_wasm(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(with_reader!(self, |e| {
            sqlx::query_scalar("SELECT wasm FROM plugins WHERE hash = $1").bind(hash).fetch_optional(e).await?
        }))
    }

    /// A tenant's bindings, `(hook, plugin hash)`.
    pub async fn bindings(&self, tenant: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT hook, plugin_hash FROM bindings WHERE tenant = $1 ORDER BY hook")
                .bind(tenant)
                .fetch_all(e)
                .await?;
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        }))
    }

    /// Stores an API key's hash for `tenant` with `role`; for role
    /// `partner`, bound to `partner_id`.
    pub async fn add_key(
        &self,
        tenant: &str,
        key_hash: &str,
        role: Role,
        partner_id: Option<&str>,
    ) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query(
                "INSERT INTO api_keys (key_hash, tenant, role, partner_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key_hash)
            .bind(tenant)
            .bind(role.as_str())
            .bind(partner_id)
            .bind(now())
            .execute(e)
            .await?;
        });
        Ok(())
    }

    /// The tenant, role and (for partner keys) partner of the key with this
    /// hash, unless it is revoked.
    pub async fn key(&self, key_hash: &str) -> Result<Option<(String, Role, Option<String>)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row =
                sqlx::query("SELECT tenant, role, partner_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                    .bind(key_hash)
                    .fetch_optional(e)
                    .await?;
            match row {
                Some(r) => {
                    let role: String = r.get(1);
                    Some((r.get(0), stored_role(&role)?, r.get(2)))
                }
                None => None,
            }
        }))
    }

    /// `tenant`'s API keys (never the keys themselves), oldest first.
    pub async fn keys(&self, tenant: &str) -> Result<Vec<KeyRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT key_hash, role, partner_id, created_at, revoked_at, revoked_by FROM api_keys \
                 WHERE tenant = $1 ORDER BY created_at, key_hash",
            )
            .bind(tenant)
            .fetch_all(e)
            .await?;
            rows.iter()
                .map(|r| {
                    let (hash, role): (String, String) = (r.get(0), r.get(1));
                    Ok(KeyRow {
                        id: key_id(&hash),
                        role: stored_role(&role)?,
                        partner_id: r.get(2),
                        created_at: r.get(3),
                        revoked_at: r.get(4),
                        revoked_by: r.get(5),
                    })
                })
                .collect::<Result<_, StoreError>>()?
        }))
    }

    /// Revokes `tenant`'s key `id` (see [`KeyRow::id`]) at `at`, by `by`.
    /// Guarded: of concurrent revocations one writes; a key revoked
    /// already keeps its first revocation. `None`: no such key.
    pub async fn revoke_key(&self, tenant: &str, id: &str, by: &str, at: i64) -> Result<Option<KeyRow>, StoreError> {
        let Some(prefix) =
            id.strip_prefix("key:").filter(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            return Ok(None);
        };
        let prefix = prefix.to_ascii_lowercase();
        let matching = |keys: Vec<KeyRow>| keys.into_iter().find(|k| k.id == format!("key:{prefix}"));
        if matching(self.keys(tenant).await?).is_none() {
            return Ok(None);
        }
        with_writer!(self, |e| {
            // The 12 hex digits are a prefix of the stored hash; the range
            // [prefix, prefix + 'g') holds exactly the hashes starting with it.
            sqlx::query(
                "UPDATE api_keys SET revoked_at = $1, revoked_by = $2 \
                 WHERE tenant = $3 AND key_hash >= $4 AND key_hash < $5 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(by)
            .bind(tenant)
            .bind(&prefix)
            .bind(format!("{prefix}g"))
            .execute(e)
            .await?;
        });
        Ok(matching(self.keys(tenant).await?))
    }

    /// Claims an idempotency key for a request. `Ok(None)` when it is new,
    /// or was claimed by the same request before `lease_from` and never
    /// finished (the caller runs the request, then
    /// [`Db::finish_idempotent`]); otherwise the stored `(request hash,
    /// status, body)`, status 0 meaning the first request is still running.
    pub async fn claim_idempotency(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        lease_from: i64,
    ) -> Result<Option<(String, i64, Vec<u8>)>, StoreError> {
        // New, or an unfinished claim of the same request made before
        // `lease_from` (its request was cut short): taken.
        let claimed = with_writer!(self, |e| {
            sqlx::query(
                "INSERT INTO idempotency (scope, key, request_hash, status, created_at) VALUES ($1, $2, $3, 0, $4) \
                 ON CONFLICT (scope, key) DO UPDATE SET created_at = excluded.created_at \
                 WHERE idempotency.status = 0 AND idempotency.created_at < $5 \
                 AND idempotency.request_hash = excluded.request_hash",
            )
            .bind(scope)
            .bind(key)
            .bind(request_hash)
            .bind(now())
            .bind(lease_from)
            .execute(e)
            .await?
            .rows_affected()
        });
        if claimed == 1 {
            return Ok(None);
        }
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .fetch_one(e)
                .await?;
            Some((row.get(0), row.get(1), row.get::<Option<Vec<u8>>>(2).unwrap_or_default()))
        }))
    }

    /// Stores the response to a claimed idempotency key, or releases the
    /// claim (`None`) so the request can be retried.
    pub async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        response: Option<(u16, &[u8])>,
    ) -> Result<(), StoreError> {
        with_writer!(self, |e| match response {
            Some((status, body)) => {
                sqlx::query("UPDATE idempotency SET status = $1, body = $2 WHERE scope = $3 AND key = $4")
                    .bind(i64::from(status))
                    .bind(body)
                    .bind(scope)
                    .bind(key)
                    .execute(e)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND key = $2")
                    .bind(scope)
                    .bind(key)
                    .execute(e)
                    .await?;
            }
        });
        Ok(())
    }

    /// Records a decision; returns it as stored.
    pub async fn record_decision(&self, d: NewDecision<'_>) -> Result<DecisionRow, StoreError> {
        let created_at = now();
        let ids = with_writer!(self, |e| insert_decisions!(e, std::iter::once(&d), created_at));
        let id = ids.into_values().next().ok_or_else(|| StoreError::Inconsistent("no decision id returned".into()))?;
        Ok(DecisionRow {
            id,
            hook: d.hook.interface().to_string(),
            plugin: d.plugin.to_hex(),
            subject: Some(d.subject.to_string()),
            event_time: d.event_time,
            outcome: d.outcome.to_string(),
            fallback: d.fallback,
            decision: d.decision.clone(),
            record: d.record.clone(),
            created_at,
            actor: None,
        })
    }

    /// One of `tenant`'s decisions.
    pub async fn decision(&self, tenant: &str, id: i64) -> Result<Option<DecisionRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query(concat!(select_decision!(), " WHERE tenant = $1 AND id = $2"))
                .bind(tenant)
                .bind(id)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(decision_row)
        }))
    }

    /// `tenant`'s latest decisions, newest first, optionally of one hook.
    pub async fn decisions(
        &self,
        tenant: &str,
        hook: Option<HookKind>,
        limit: i64,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let hook = hook.map(|h| h.interface());
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(concat!(
                select_decision!(),
                " WHERE tenant = $1 AND ($2 IS NULL OR hook = $3) ORDER BY id DESC LIMIT $4"
            ))
            .bind(tenant)
            .bind(hook)
            .bind(hook)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(decision_row).collect()
        }))
    }
}

fn decision_row(r: &impl Get) -> DecisionRow {
    let json = |i: usize| serde_json::from_str(&r.get::<String>(i)).unwrap_or(serde_json::Value::Null);
    DecisionRow {
        id: r.get(0),
        hook: r.get(1),
        plugin: r.get(2),
        event_time: r.get(3),
        outcome: r.get(4),
        fallback: r.get(5),
        decision: json(6),
        record: json(7),
        created_at: r.get(8),
        subject: r.get(9),
        actor: r.get(11),
    }
}
