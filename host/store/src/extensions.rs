//! Protection extensions: a partner asks for more days on an approved
//! registration's protection, a manager grants or refuses them. Each step
//! is one guarded statement with its event (and, for the manager's
//! decision, its decision-log entry naming the manager) in one
//! transaction.

use super::records::{RegistrationRow, registration};
use super::{Db, PersonDecision, StoreError};

/// A manager's decision on an extension request.
#[derive(Debug, Clone, Copy)]
pub struct ExtensionDecision<'a> {
    /// The registration.
    pub id: &'a str,
    /// Grant (the protection is extended to `protected_until`) or refuse.
    pub grant: bool,
    /// Days granted.
    pub days: i64,
    /// The protection's end the manager saw: the guard expects it.
    pub protected_until: i64,
    /// Its new end, when granted.
    pub extended_until: i64,
    /// Why.
    pub reason: &'a str,
    /// Who (`key:<12 hex>`).
    pub actor: &'a str,
    /// When.
    pub at: i64,
}

impl Db {
    /// Records partner `partner`'s request for `days` more days on its
    /// approved registration `id` and queues
    /// `registration.extension-requested`. 409 unless the registration is
    /// approved and has no request waiting.
    pub async fn request_extension(
        &self,
        tenant: &str,
        id: &str,
        days: i64,
        reason: &str,
        actor: &str,
    ) -> Result<RegistrationRow, StoreError> {
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(
                "UPDATE registrations SET extension_days = $1, extension_reason = $2, extension_status = 'requested' \
                 WHERE tenant = $3 AND id = $4 AND status = 'approved' \
                 AND (extension_status IS NULL OR extension_status <> 'requested')",
            )
            .bind(days)
            .bind(reason)
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let row = sqlx::query("SELECT * FROM registrations WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| registration(&r));
            let Some(row) = row else {
                return Err(StoreError::Conflict(format!("registration `{id}` no longer exists")));
            };
            if moved == 0 {
                return Err(StoreError::Conflict(if row.status != pactum_core::RegistrationStatus::Approved {
                    format!(
                        "registration `{id}` is {}; only an approved registration's protection is extended",
                        row.status
                    )
                } else {
                    format!("registration `{id}` has an extension request waiting already")
                }));
            }
            let payload = serde_json::json!({ "registration": row, "by": actor });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, "registration.extension-requested", &payload);
            tx.commit().await?;
            row
        }))
    }

    /// A manager's decision on a waiting extension request: granted, the
    /// protection runs to `d.extended_until`; refused, it stays. Guarded
    /// on the request waiting and the protection the manager saw. With the
    /// decision-log entry (the approval hook's, by a person) and
    /// `registration.extension-granted` or `-refused`.
    pub async fn decide_extension(
        &self,
        tenant: &str,
        d: &ExtensionDecision<'_>,
    ) -> Result<RegistrationRow, StoreError> {
        let created_at = super::now();
        let (status, until) = if d.grant { ("granted", d.extended_until) } else { ("refused", d.protected_until) };
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(
                "UPDATE registrations SET extension_status = $1, extension_days = $2, extension_reason = $3, \
                 protected_until = $4 WHERE tenant = $5 AND id = $6 AND status = 'approved' \
                 AND extension_status = 'requested' AND protected_until = $7",
            )
            .bind(status)
            .bind(d.days)
            .bind(d.reason)
            .bind(until)
            .bind(tenant)
            .bind(d.id)
            .bind(d.protected_until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Err(StoreError::Conflict(format!(
                    "registration `{}` has no extension request waiting any more (or its protection changed)",
                    d.id
                )));
            }
            let row = sqlx::query("SELECT * FROM registrations WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(d.id)
                .fetch_one(&mut *tx)
                .await?;
            let row = registration(&row);
            let decision = if d.grant {
                serde_json::json!({ "extend": d.days, "protected_until": until, "reason": d.reason })
            } else {
                serde_json::json!({ "refuse": true, "reason": d.reason })
            };
            self.before_write()?;
            let record = serde_json::json!({ "actor": d.actor, "input": { "extension_of": row.id } });
            let person = PersonDecision {
                hook: "approval",
                subject: d.id,
                at: d.at,
                outcome: "manual",
                record: &record,
                decision: &decision,
                actor: d.actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, created_at);
            let event = if d.grant { "registration.extension-granted" } else { "registration.extension-refused" };
            let payload = serde_json::json!({ "registration": row, "by": d.actor, "decision_id": decision_id });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, event, &payload);
            tx.commit().await?;
            row
        }))
    }

    /// The registrations with an extension request waiting, oldest first.
    pub async fn extension_requests(&self, tenant: &str, limit: i64) -> Result<Vec<RegistrationRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM registrations WHERE tenant = $1 AND extension_status = 'requested' \
                 ORDER BY created_at, id LIMIT $2",
            )
            .bind(tenant)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(registration).collect()
        }))
    }
}
