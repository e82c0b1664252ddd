//! The plugin lifecycle's records: each company's published plugins and
//! the history of its bindings.

use super::{Db, DecisionRow, Get, StoreError, now};
use pactum_core::Fixture;
use pactum_core::HookKind;
use serde::Serialize;

/// The PostgreSQL channel replicas listen on for binding changes.
pub const BINDINGS_CHANNEL: &str = "pactum_bindings";

/// A plugin a company published.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PublicationRow {
    /// sha256 of the component, hex.
    pub hash: String,
    /// Its name, as the publisher gave it.
    pub name: String,
    /// Its version, as the publisher gave it.
    pub version: String,
    /// The hooks it exports.
    pub hooks: Vec<String>,
    /// The WIT package version it was built against.
    pub wit_version: String,
    /// Component size, bytes.
    pub size: i64,
    /// The key that published it.
    pub published_by: String,
    /// When (Unix seconds).
    pub published_at: i64,
    /// What the company's fixtures said, or who overrode them.
    pub fixtures: String,
}

/// A change of a company's binding of one hook.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BindingChangeRow {
    /// Its id, in order of the changes.
    pub id: i64,
    /// The hook.
    pub hook: String,
    /// The plugin bound before, if any.
    pub from_hash: Option<String>,
    /// The plugin bound since.
    pub to_hash: String,
    /// The key that made the change.
    pub changed_by: String,
    /// Why.
    pub reason: String,
    /// When (Unix seconds).
    pub changed_at: i64,
    /// What the company's fixtures said for the hook, or who overrode them.
    pub fixtures: String,
}

/// A binding change to make.
pub struct NewBindingChange<'a> {
    /// The company.
    pub tenant: &'a str,
    /// The hook.
    pub hook: HookKind,
    /// The plugin bound now (`None` for the first binding).
    pub from: Option<&'a str>,
    /// The plugin to bind.
    pub to: &'a str,
    /// Who changes it.
    pub by: &'a str,
    /// Why.
    pub reason: &'a str,
    /// What the fixtures said.
    pub fixtures: &'a str,
}

/// A new publication.
pub struct NewPublication<'a> {
    /// The company.
    pub tenant: &'a str,
    /// sha256, hex.
    pub hash: &'a str,
    /// Name.
    pub name: &'a str,
    /// Version.
    pub version: &'a str,
    /// Exported hooks.
    pub hooks: &'a [HookKind],
    /// WIT version.
    pub wit_version: &'a str,
    /// The component's bytes.
    pub wasm: &'a [u8],
    /// Who publishes.
    pub by: &'a str,
    /// What the fixtures said.
    pub fixtures: &'a str,
}

fn publication(r: &impl Get) -> PublicationRow {
    PublicationRow {
        hash: r.get("hash"),
        name: r.get("name"),
        version: r.get("version"),
        hooks: r.get::<String>("hooks").split(',').filter(|h| !h.is_empty()).map(String::from).collect(),
        wit_version: r.get("wit_version"),
        size: r.get("size"),
        published_by: r.get("published_by"),
        published_at: r.get("published_at"),
        fixtures: r.get("fixtures"),
    }
}

fn change(r: &impl Get) -> BindingChangeRow {
    BindingChangeRow {
        id: r.get("id"),
        hook: r.get("hook"),
        from_hash: r.get("from_hash"),
        to_hash: r.get("to_hash"),
        changed_by: r.get("changed_by"),
        reason: r.get("reason"),
        changed_at: r.get("changed_at"),
        fixtures: r.get("fixtures"),
    }
}

impl Db {
    /// Stores a plugin's bytes (once per hash) and the company's
    /// publication of it; publishing the same bytes again keeps the first
    /// publication. Returns the publication as stored and whether it is new.
    pub async fn publish(&self, p: NewPublication<'_>) -> Result<(PublicationRow, bool), StoreError> {
        let hooks: Vec<&str> = p.hooks.iter().map(|h| h.interface()).collect();
        let hooks = hooks.join(",");
        let at = now();
        let created = with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            sqlx::query(
                "INSERT INTO plugins (hash, name, size, hooks, wasm, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(p.hash)
            .bind(p.name)
            .bind(p.wasm.len() as i64)
            .bind(&hooks)
            .bind(p.wasm)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let created = sqlx::query(
                "INSERT INTO publications (tenant, hash, name, version, hooks, wit_version, size, published_by, \
                 published_at, fixtures) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant, hash) DO NOTHING",
            )
            .bind(p.tenant)
            .bind(p.hash)
            .bind(p.name)
            .bind(p.version)
            .bind(&hooks)
            .bind(p.wit_version)
            .bind(p.wasm.len() as i64)
            .bind(p.by)
            .bind(at)
            .bind(p.fixtures)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            tx.commit().await?;
            created
        });
        let row = self
            .publication(p.tenant, p.hash)
            .await?
            .ok_or_else(|| StoreError::Inconsistent(format!("publication {} not found after storing it", p.hash)))?;
        Ok((row, created))
    }

    /// One of the company's publications.
    pub async fn publication(&self, tenant: &str, hash: &str) -> Result<Option<PublicationRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT * FROM publications WHERE tenant = $1 AND hash = $2")
                .bind(tenant)
                .bind(hash)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(publication)
        }))
    }

    /// The company's publications, newest first.
    pub async fn publications(&self, tenant: &str) -> Result<Vec<PublicationRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT * FROM publications WHERE tenant = $1 ORDER BY published_at DESC, hash")
                .bind(tenant)
                .fetch_all(e)
                .await?;
            rows.iter().map(publication).collect()
        }))
    }

    /// Binds the hook to `c.to` and records the change, in one
    /// transaction. `Ok(None)` when the binding is no longer `c.from`
    /// (another change got there first).
    pub async fn change_binding(&self, c: NewBindingChange<'_>) -> Result<Option<BindingChangeRow>, StoreError> {
        let NewBindingChange { tenant, hook, from, to, by, reason, fixtures } = c;
        let at = now();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            let current: Option<String> =
                sqlx::query_scalar("SELECT plugin_hash FROM bindings WHERE tenant = $1 AND hook = $2")
                    .bind(tenant)
                    .bind(hook.interface())
                    .fetch_optional(&mut *tx)
                    .await?;
            if current.as_deref() != from {
                return Ok(None);
            }
            sqlx::query(
                "INSERT INTO bindings (tenant, hook, plugin_hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant, hook) DO UPDATE SET plugin_hash = excluded.plugin_hash",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(to)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query(
                "INSERT INTO binding_changes (tenant, hook, from_hash, to_hash, changed_by, reason, changed_at, fixtures) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(from)
            .bind(to)
            .bind(by)
            .bind(reason)
            .bind(at)
            .bind(fixtures)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Some(change(&row))
        }))
    }

    /// The company's binding changes, newest first, optionally of one hook.
    pub async fn binding_changes(
        &self,
        tenant: &str,
        hook: Option<HookKind>,
    ) -> Result<Vec<BindingChangeRow>, StoreError> {
        let hook = hook.map(|h| h.interface());
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM binding_changes WHERE tenant = $1 AND ($2 IS NULL OR hook = $3) ORDER BY id DESC",
            )
            .bind(tenant)
            .bind(hook)
            .bind(hook)
            .fetch_all(e)
            .await?;
            rows.iter().map(change).collect()
        }))
    }

    /// Tells the other replicas that `tenant`'s bindings changed (PostgreSQL
    /// `NOTIFY` on [`BINDINGS_CHANNEL`]; SQLite has one process).
    pub async fn announce_bindings(&self, tenant: &str) -> Result<(), StoreError> {
        if let super::Backend::Postgres(pool) = &self.backend {
            sqlx::query("SELECT pg_notify($1, $2)").bind(BINDINGS_CHANNEL).bind(tenant).execute(pool).await?;
        }
        Ok(())
    }

    /// A listener for [`Db::announce_bindings`] on PostgreSQL; `None` on
    /// SQLite.
    pub async fn bindings_listener(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        match &self.backend {
            super::Backend::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(BINDINGS_CHANNEL).await?;
                Ok(Some(listener))
            }
            super::Backend::Sqlite { .. } => Ok(None),
        }
    }

    /// Every tenant's bindings, `(tenant, hook, plugin hash)`.
    pub async fn all_bindings(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT tenant, hook, plugin_hash FROM bindings ORDER BY tenant, hook")
                .fetch_all(e)
                .await?;
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
        }))
    }

    /// How many decisions of `hook` plugins made for the company's events in
    /// `[from, to)` (a person's decisions have no plugin to replay).
    pub async fn count_decisions(&self, tenant: &str, hook: HookKind, from: i64, to: i64) -> Result<i64, StoreError> {
        Ok(with_reader!(self, |e| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM decisions WHERE tenant = $1 AND hook = $2 AND event_time >= $3 AND event_time < $4 \
                 AND actor IS NULL",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(from)
            .bind(to)
            .fetch_one(e)
            .await?
        }))
    }

    /// A page of those decisions after id `after`, in id order:
    /// `(id, subject, record JSON)`.
    pub async fn decision_records(
        &self,
        tenant: &str,
        hook: HookKind,
        from: i64,
        to: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT id, subject, record FROM decisions WHERE tenant = $1 AND hook = $2 AND event_time >= $3 \
                 AND event_time < $4 AND id > $5 AND actor IS NULL ORDER BY id LIMIT $6",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(from)
            .bind(to)
            .bind(after)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
        }))
    }

    /// Replaces the company's fixtures.
    pub async fn put_fixtures(&self, tenant: &str, fixtures: &[Fixture]) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            sqlx::query("DELETE FROM fixtures WHERE tenant = $1").bind(tenant).execute(&mut *tx).await?;
            for f in fixtures {
                sqlx::query("INSERT INTO fixtures (tenant, name, hook, body) VALUES ($1, $2, $3, $4)")
                    .bind(tenant)
                    .bind(&f.name)
                    .bind(f.hook.interface())
                    .bind(&f.text)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The company's fixtures, `(name, hook, text)`, in name order.
    pub async fn fixtures(&self, tenant: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT name, hook, body FROM fixtures WHERE tenant = $1 ORDER BY name")
                .bind(tenant)
                .fetch_all(e)
                .await?;
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
        }))
    }

    /// A decision by id alone, with its company: for operators' tools
    /// (replay), not for the tenant-scoped API.
    pub async fn decision_by_id(&self, id: i64) -> Result<Option<(String, DecisionRow)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query(concat!(select_decision!(), " WHERE id = $1")).bind(id).fetch_optional(e).await?;
            row.as_ref().map(|r| (r.get("tenant"), super::decision_row(r)))
        }))
    }
}

/// A shadow run's outcome to record.
#[derive(Debug, Clone)]
pub struct NewShadowResult {
    /// The company.
    pub tenant: String,
    /// The hook.
    pub hook: HookKind,
    /// The shadow plugin.
    pub plugin: String,
    /// The live decision it shadowed.
    pub decision_id: i64,
    /// Whether it decided the same, explanations aside.
    pub agree: bool,
    /// The live result, JSON.
    pub live: serde_json::Value,
    /// The shadow's result, JSON.
    pub shadow: serde_json::Value,
    /// How long the shadow call took.
    pub duration_us: i64,
}

/// A shadow run that disagreed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ShadowDifference {
    /// The live decision.
    pub decision_id: i64,
    /// The live result.
    pub live: serde_json::Value,
    /// The shadow's.
    pub shadow: serde_json::Value,
}

impl Db {
    /// Makes `plugin` the shadow of the company's `hook`.
    pub async fn set_shadow(&self, tenant: &str, hook: HookKind, plugin: &str, by: &str) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query(
                "INSERT INTO shadows (tenant, hook, plugin_hash, started_by, started_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant, hook) DO UPDATE SET plugin_hash = excluded.plugin_hash, \
                 started_by = excluded.started_by, started_at = excluded.started_at",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(plugin)
            .bind(by)
            .bind(now())
            .execute(e)
            .await?;
        });
        Ok(())
    }

    /// Stops the shadow of `hook`; whether there was one.
    pub async fn clear_shadow(&self, tenant: &str, hook: HookKind) -> Result<bool, StoreError> {
        Ok(with_writer!(self, |e| {
            sqlx::query("DELETE FROM shadows WHERE tenant = $1 AND hook = $2")
                .bind(tenant)
                .bind(hook.interface())
                .execute(e)
                .await?
                .rows_affected()
                == 1
        }))
    }

    /// Every shadow, `(tenant, hook, plugin hash)`.
    pub async fn all_shadows(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows =
                sqlx::query("SELECT tenant, hook, plugin_hash FROM shadows ORDER BY tenant, hook").fetch_all(e).await?;
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
        }))
    }

    /// Records shadow runs, many per statement.
    pub async fn record_shadows(&self, runs: &[NewShadowResult]) -> Result<(), StoreError> {
        let at = now();
        with_writer!(self, |e| {
            for chunk in runs.chunks(500) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO shadow_results (tenant, hook, plugin_hash, decision_id, agree, live, shadow, \
                     duration_us, created_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.tenant)
                        .push_bind(r.hook.interface())
                        .push_bind(&r.plugin)
                        .push_bind(r.decision_id)
                        .push_bind(r.agree)
                        .push_bind(r.live.to_string())
                        .push_bind(r.shadow.to_string())
                        .push_bind(r.duration_us)
                        .push_bind(at);
                });
                q.build().execute(e).await?;
            }
        });
        Ok(())
    }

    /// A shadow's runs and agreements so far, and its latest `limit`
    /// disagreements, newest first.
    pub async fn shadow_report(
        &self,
        tenant: &str,
        hook: HookKind,
        plugin: &str,
        limit: i64,
    ) -> Result<(i64, i64, Vec<ShadowDifference>), StoreError> {
        Ok(with_reader!(self, |e| {
            let counts = sqlx::query(
                "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN agree THEN 1 ELSE 0 END), 0) AS BIGINT) FROM shadow_results \
                 WHERE tenant = $1 AND hook = $2 AND plugin_hash = $3",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(plugin)
            .fetch_one(e)
            .await?;
            let rows = sqlx::query(
                "SELECT decision_id, live, shadow FROM shadow_results \
                 WHERE tenant = $1 AND hook = $2 AND plugin_hash = $3 AND NOT agree ORDER BY id DESC LIMIT $4",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(plugin)
            .bind(limit)
            .fetch_all(e)
            .await?;
            let json = |s: String| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null);
            let differences = rows
                .iter()
                .map(|r| ShadowDifference { decision_id: r.get(0), live: json(r.get(1)), shadow: json(r.get(2)) })
                .collect();
            (counts.get(0), counts.get(1), differences)
        }))
    }
}

/// An activation waiting for (or given) a second admin's approval.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ActivationRequestRow {
    /// Its id.
    pub id: i64,
    /// The hook.
    pub hook: String,
    /// The plugin to activate.
    pub plugin_hash: String,
    /// Why.
    pub reason: String,
    /// What the fixtures said when it was asked for.
    pub fixtures: String,
    /// The admin who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: i64,
    /// `pending`, `approved` or `withdrawn`.
    pub status: String,
    /// The admin who approved it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
}

fn activation_request(r: &impl Get) -> ActivationRequestRow {
    ActivationRequestRow {
        id: r.get("id"),
        hook: r.get("hook"),
        plugin_hash: r.get("plugin_hash"),
        reason: r.get("reason"),
        fixtures: r.get("fixtures"),
        requested_by: r.get("requested_by"),
        requested_at: r.get("requested_at"),
        status: r.get("status"),
        decided_by: r.get("decided_by"),
        decided_at: r.get("decided_at"),
    }
}

impl Db {
    /// Stores a pending activation request.
    pub async fn request_activation(
        &self,
        tenant: &str,
        hook: HookKind,
        plugin: &str,
        reason: &str,
        fixtures: &str,
        by: &str,
    ) -> Result<ActivationRequestRow, StoreError> {
        Ok(with_writer!(self, |e| {
            let row = sqlx::query(
                "INSERT INTO activation_requests (tenant, hook, plugin_hash, reason, fixtures, requested_by, \
                 requested_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') RETURNING *",
            )
            .bind(tenant)
            .bind(hook.interface())
            .bind(plugin)
            .bind(reason)
            .bind(fixtures)
            .bind(by)
            .bind(now())
            .fetch_one(e)
            .await?;
            activation_request(&row)
        }))
    }

    /// One of the company's activation requests.
    pub async fn activation_request(&self, tenant: &str, id: i64) -> Result<Option<ActivationRequestRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT * FROM activation_requests WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(activation_request)
        }))
    }

    /// The company's activation requests, newest first.
    pub async fn activation_requests(&self, tenant: &str) -> Result<Vec<ActivationRequestRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT * FROM activation_requests WHERE tenant = $1 ORDER BY id DESC LIMIT 100")
                .bind(tenant)
                .fetch_all(e)
                .await?;
            rows.iter().map(activation_request).collect()
        }))
    }

    /// Marks a pending request `status` (`approved` or `withdrawn`);
    /// `false` when it was not pending any more.
    pub async fn decide_activation(&self, tenant: &str, id: i64, status: &str, by: &str) -> Result<bool, StoreError> {
        Ok(with_writer!(self, |e| {
            sqlx::query(
                "UPDATE activation_requests SET status = $1, decided_by = $2, decided_at = $3 \
                 WHERE tenant = $4 AND id = $5 AND status = 'pending'",
            )
            .bind(status)
            .bind(by)
            .bind(now())
            .bind(tenant)
            .bind(id)
            .execute(e)
            .await?
            .rows_affected()
                == 1
        }))
    }
}
