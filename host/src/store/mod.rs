//! Storage: tenants, API keys, plugins, hook bindings and the decision log,
//! in SQLite through sqlx (one file, WAL, created and migrated on first
//! start).
//!
//! Every query that reads tenant data takes the tenant's slug, so one
//! tenant's rows never reach another's requests.

use crate::runtime::{HookKind, PluginHash};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;

/// The columns [`decision_row`] reads, in its order.
macro_rules! select_decision {
    () => {
        "SELECT id, hook, plugin_hash, event_time, outcome, fallback, decision, record, created_at FROM decisions"
    };
}

/// The embedded migrations (`host/migrations/sqlite`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub mod insights;
pub mod outbox;
pub use outbox::{DueEvent, OutboxEvent};
pub mod records;
pub use insights::{DealCounts, LeadRow, ProgramNumbers, ScorecardRow};
pub use records::{CommissionLineRow, DealRow, PartnerRow, RegistrationRow};

/// A storage error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one this build supports.
    #[error("unsupported database URL {0:?}: use sqlite://<file> (PostgreSQL support is not built yet)")]
    UnsupportedUrl(String),
    /// The database failed.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The database. SQLite takes one writer at a time: writes go through a
/// pool of one connection, so they queue in order instead of colliding and
/// backing off on SQLITE_BUSY; reads use their own pool, concurrently.
#[derive(Clone)]
pub struct Db {
    read: SqlitePool,
    write: SqlitePool,
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
}

/// A new decision to record.
pub struct NewDecision<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The hook.
    pub hook: HookKind,
    /// The plugin called.
    pub plugin: PluginHash,
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
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL sync: durable across a crash of the process,
            // one fsync per checkpoint instead of per commit.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Db { read, write })
    }

    /// The writing connection, for bulk loading tools and benchmarks.
    pub fn pool(&self) -> &SqlitePool {
        &self.write
    }

    /// Whether no tenant exists yet.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants").fetch_one(&self.read).await?;
        Ok(n == 0)
    }

    /// Creates a tenant.
    pub async fn create_tenant(&self, slug: &str, name: &str, currency: &str, program: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tenants (slug, name, currency, program, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(slug)
            .bind(name)
            .bind(currency)
            .bind(program)
            .bind(now())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Every tenant.
    pub async fn tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        let rows = sqlx::query("SELECT slug, program FROM tenants ORDER BY slug").fetch_all(&self.read).await?;
        Ok(rows.into_iter().map(|r| TenantRow { slug: r.get(0), program: r.get(1) }).collect())
    }

    /// Stores a plugin (content-addressed: storing the same bytes twice is a no-op).
    pub async fn put_plugin(
        &self,
        hash: PluginHash,
        name: &str,
        hooks: &[HookKind],
        wasm: &[u8],
    ) -> Result<(), StoreError> {
        let hooks: Vec<&str> = hooks.iter().map(|h| h.interface()).collect();
        sqlx::query(
            "INSERT INTO plugins (hash, name, size, hooks, wasm, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash.to_hex())
        .bind(name)
        .bind(wasm.len() as i64)
        .bind(hooks.join(","))
        .bind(wasm)
        .bind(now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A stored plugin's bytes.
    pub async fn plugin_wasm(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT wasm FROM plugins WHERE hash = ?").bind(hash).fetch_optional(&self.read).await?)
    }

    /// Binds `hook` of `tenant` to a plugin.
    pub async fn bind(&self, tenant: &str, hook: HookKind, plugin: PluginHash) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bindings (tenant, hook, plugin_hash) VALUES (?, ?, ?) ON CONFLICT (tenant, hook) DO UPDATE SET plugin_hash = excluded.plugin_hash",
        )
        .bind(tenant)
        .bind(hook.interface())
        .bind(plugin.to_hex())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A tenant's bindings, `(hook, plugin hash)`.
    pub async fn bindings(&self, tenant: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT hook, plugin_hash FROM bindings WHERE tenant = ? ORDER BY hook")
            .bind(tenant)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Stores an API key's hash for `tenant` with `role`.
    pub async fn add_key(&self, tenant: &str, key_hash: &str, role: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_keys (key_hash, tenant, role, created_at) VALUES (?, ?, ?, ?)")
            .bind(key_hash)
            .bind(tenant)
            .bind(role)
            .bind(now())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Stores a partner key's hash, bound to `partner_id`.
    pub async fn add_partner_key(&self, tenant: &str, key_hash: &str, partner_id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (key_hash, tenant, role, partner_id, created_at) VALUES (?, ?, 'partner', ?, ?)",
        )
        .bind(key_hash)
        .bind(tenant)
        .bind(partner_id)
        .bind(now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The tenant, role and (for partner keys) partner of the key with this hash.
    pub async fn key(&self, key_hash: &str) -> Result<Option<(String, String, Option<String>)>, StoreError> {
        let row = sqlx::query("SELECT tenant, role, partner_id FROM api_keys WHERE key_hash = ?")
            .bind(key_hash)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// Claims an idempotency key for a request. `Ok(None)` when it is new
    /// (the caller runs the request, then [`Db::finish_idempotent`]);
    /// otherwise the stored `(request hash, status, body)`, status 0 meaning
    /// the first request is still running.
    pub async fn claim_idempotency(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Option<(String, i64, Vec<u8>)>, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO idempotency (scope, key, request_hash, status, created_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(request_hash)
        .bind(now())
        .execute(&self.write)
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, COALESCE(body, x'') FROM idempotency WHERE scope = ? AND key = ?",
        )
        .bind(scope)
        .bind(key)
        .fetch_one(&self.read)
        .await?;
        Ok(Some((row.get(0), row.get(1), row.get(2))))
    }

    /// Stores the response to a claimed idempotency key, or releases the
    /// claim (`None`) so the request can be retried.
    pub async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        response: Option<(u16, &[u8])>,
    ) -> Result<(), StoreError> {
        match response {
            Some((status, body)) => {
                sqlx::query("UPDATE idempotency SET status = ?, body = ? WHERE scope = ? AND key = ?")
                    .bind(i64::from(status))
                    .bind(body)
                    .bind(scope)
                    .bind(key)
                    .execute(&self.write)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM idempotency WHERE scope = ? AND key = ?")
                    .bind(scope)
                    .bind(key)
                    .execute(&self.write)
                    .await?;
            }
        }
        Ok(())
    }

    /// Records a decision; returns it as stored.
    pub async fn record_decision(&self, d: NewDecision<'_>) -> Result<DecisionRow, StoreError> {
        let mut conn = self.write.acquire().await?;
        insert_decision(&mut conn, &d).await
    }

    /// One of `tenant`'s decisions.
    pub async fn decision(&self, tenant: &str, id: i64) -> Result<Option<DecisionRow>, StoreError> {
        let row = sqlx::query(concat!(select_decision!(), " WHERE tenant = ? AND id = ?"))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(decision_row))
    }

    /// `tenant`'s latest decisions, newest first, optionally of one hook.
    pub async fn decisions(
        &self,
        tenant: &str,
        hook: Option<HookKind>,
        limit: i64,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let rows = sqlx::query(concat!(
            select_decision!(),
            " WHERE tenant = ? AND (? IS NULL OR hook = ?) ORDER BY id DESC LIMIT ?"
        ))
        .bind(tenant)
        .bind(hook.map(|h| h.interface()))
        .bind(hook.map(|h| h.interface()))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(decision_row).collect())
    }
}

fn decision_row(r: sqlx::sqlite::SqliteRow) -> DecisionRow {
    let json = |i: usize| serde_json::from_str(&r.get::<String, _>(i)).unwrap_or(serde_json::Value::Null);
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
    }
}

/// Inserts a decision on `conn` (inside a caller's transaction or not).
pub(crate) async fn insert_decision(
    conn: &mut sqlx::SqliteConnection,
    d: &NewDecision<'_>,
) -> Result<DecisionRow, StoreError> {
    let created_at = now();
    let id = sqlx::query(
        "INSERT INTO decisions (tenant, hook, plugin_hash, event_time, outcome, record, decision, fallback, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(d.tenant)
    .bind(d.hook.interface())
    .bind(d.plugin.to_hex())
    .bind(d.event_time)
    .bind(d.outcome)
    .bind(d.record.to_string())
    .bind(d.decision.to_string())
    .bind(d.fallback)
    .bind(created_at)
    .execute(&mut *conn)
    .await?
    .last_insert_rowid();
    Ok(DecisionRow {
        id,
        hook: d.hook.interface().to_string(),
        plugin: d.plugin.to_hex(),
        event_time: d.event_time,
        outcome: d.outcome.to_string(),
        fallback: d.fallback,
        decision: d.decision.clone(),
        record: d.record.clone(),
        created_at,
    })
}
