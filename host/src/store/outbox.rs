//! The notification outbox and each tenant's webhook.

use super::{Db, StoreError, now};
use serde::Serialize;
use sqlx::Row;

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

fn event(r: &sqlx::sqlite::SqliteRow) -> OutboxEvent {
    OutboxEvent {
        id: r.get("id"),
        tenant: r.get("tenant"),
        event: r.get("event"),
        payload: serde_json::from_str(&r.get::<String, _>("payload")).unwrap_or_default(),
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
        sqlx::query("UPDATE tenants SET webhook_url = ?, webhook_secret = ? WHERE slug = ?")
            .bind(url)
            .bind(secret)
            .bind(tenant)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A tenant's webhook URL, if set.
    pub async fn webhook(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT webhook_url FROM tenants WHERE slug = ?")
            .bind(tenant)
            .fetch_one(&self.read)
            .await?)
    }

    /// Puts an event in the outbox, due now.
    pub async fn enqueue(&self, tenant: &str, event: &str, payload: &serde_json::Value) -> Result<i64, StoreError> {
        let at = now();
        Ok(sqlx::query(
            "INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(tenant)
        .bind(event)
        .bind(payload.to_string())
        .bind(at)
        .bind(at)
        .execute(&self.write)
        .await?
        .last_insert_rowid())
    }

    /// Undelivered events due at `at` whose tenant has a webhook, oldest first.
    pub async fn due_events(&self, at: i64, limit: i64) -> Result<Vec<DueEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.*, t.webhook_url, t.webhook_secret FROM outbox o JOIN tenants t ON t.slug = o.tenant \
             WHERE o.delivered_at IS NULL AND o.next_attempt_at <= ? AND t.webhook_url IS NOT NULL ORDER BY o.id LIMIT ?",
        )
        .bind(at)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DueEvent {
                event: event(r),
                url: r.get("webhook_url"),
                secret: r.get::<Option<String>, _>("webhook_secret").unwrap_or_default(),
            })
            .collect())
    }

    /// Marks an event delivered.
    pub async fn delivered(&self, id: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
            .bind(at)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn delivery_failed(&self, id: i64, error: &str, retry_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?")
            .bind(error)
            .bind(retry_at)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A tenant's latest events, newest first.
    pub async fn outbox(&self, tenant: &str, limit: i64) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = sqlx::query("SELECT * FROM outbox WHERE tenant = ? ORDER BY id DESC LIMIT ?")
            .bind(tenant)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(event).collect())
    }
}
