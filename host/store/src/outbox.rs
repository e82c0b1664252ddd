//! The notification outbox and each tenant's webhook.

use super::{Db, Get, StoreError};
use serde::Serialize;

/// An event waiting for (or done with) delivery.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutboxEvent {
    /// Its id: receivers use it to drop duplicates (delivery is at least once).
    pub id: i64,
    /// The tenant.
    pub tenant: String,
    /// What happened, e.g. `registration.decided`.
    pub event: String,
    /// The event's data.
    pub payload: serde_json::Value,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: i64,
    /// When it was delivered, if it was.
    pub delivered_at: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it happened.
    pub created_at: i64,
}

/// A due event with where to send it.
#[derive(Debug, Clone)]
pub struct DueEvent {
    /// The event.
    pub event: OutboxEvent,
    /// The tenant's webhook URL.
    pub url: String,
    /// The tenant's signing secret.
    pub secret: String,
}

fn event(r: &impl Get) -> OutboxEvent {
    OutboxEvent {
        id: r.get("id"),
        tenant: r.get("tenant"),
        event: r.get("event"),
        payload: serde_json::from_str(&r.get::<String>("payload")).unwrap_or_default(),
        attempts: r.get("attempts"),
        next_attempt_at: r.get("next_attempt_at"),
        delivered_at: r.get("delivered_at"),
        last_error: r.get("last_error"),
        created_at: r.get("created_at"),
    }
}

impl Db {
    /// Sets (or clears) a tenant's webhook.
    pub async fn set_webhook(&self, tenant: &str, url: Option<&str>, secret: Option<&str>) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query("UPDATE tenants SET webhook_url = $1, webhook_secret = $2 WHERE slug = $3")
                .bind(url)
                .bind(secret)
                .bind(tenant)
                .execute(e)
                .await?;
        });
        Ok(())
    }

    /// A tenant's webhook URL, if set.
    pub async fn webhook(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        Ok(with_reader!(self, |e| {
            sqlx::query_scalar("SELECT webhook_url FROM tenants WHERE slug = $1").bind(tenant).fetch_one(e).await?
        }))
    }

    /// Claims up to `limit` undelivered events due at `at` whose tenant has
    /// a webhook, oldest first, until `lease_until`: their next attempt is
    /// moved there, so no other replica's courier takes them meanwhile. One
    /// guarded statement: of two couriers claiming at once, each event goes
    /// to one (PostgreSQL re-checks the `next_attempt_at` guard on a row
    /// another transaction changed; SQLite has one writer). A courier that
    /// dies with a claim leaves the events due again at `lease_until`.
    pub async fn claim_due(&self, at: i64, limit: i64, lease_until: i64) -> Result<Vec<DueEvent>, StoreError> {
        let ids: Vec<i64> = with_writer!(self, |e| {
            sqlx::query_scalar(
                "UPDATE outbox SET next_attempt_at = $1 WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
                 AND id IN (SELECT o.id FROM outbox o JOIN tenants t ON t.slug = o.tenant \
                 WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $2 AND t.webhook_url IS NOT NULL \
                 ORDER BY o.id LIMIT $3) RETURNING id",
            )
            .bind(lease_until)
            .bind(at)
            .bind(limit)
            .fetch_all(e)
            .await?
        });
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(with_reader!(self, |e| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT o.*, t.webhook_url, t.webhook_secret FROM outbox o JOIN tenants t ON t.slug = o.tenant \
                 WHERE o.id IN (",
            );
            let mut list = q.separated(", ");
            for id in &ids {
                list.push_bind(*id);
            }
            q.push(") ORDER BY o.id");
            let rows = q.build().fetch_all(e).await?;
            rows.iter()
                .map(|r| DueEvent {
                    event: event(r),
                    url: r.get("webhook_url"),
                    secret: r.get::<Option<String>>("webhook_secret").unwrap_or_default(),
                })
                .collect()
        }))
    }

    /// Marks events delivered at `at`, in one statement.
    pub async fn delivered(&self, ids: &[i64], at: i64) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        with_writer!(self, |e| {
            let mut q = sqlx::QueryBuilder::new("UPDATE outbox SET delivered_at = ");
            q.push_bind(at).push(", attempts = attempts + 1, last_error = NULL WHERE id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            q.push(")");
            q.build().execute(e).await?;
        });
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn delivery_failed(&self, id: i64, error: &str, retry_at: i64) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
            )
            .bind(error)
            .bind(retry_at)
            .bind(id)
            .execute(e)
            .await?;
        });
        Ok(())
    }

    /// A tenant's latest events, newest first.
    pub async fn outbox(&self, tenant: &str, limit: i64) -> Result<Vec<OutboxEvent>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT * FROM outbox WHERE tenant = $1 ORDER BY id DESC LIMIT $2")
                .bind(tenant)
                .bind(limit)
                .fetch_all(e)
                .await?;
            rows.iter().map(event).collect()
        }))
    }
}
