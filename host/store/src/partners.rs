//! A partner's changes made by people (its details, certifications, a
//! manual tier) and the notices the scheduler sends once.
//!
//! A change is computed on the partner as read and written only if the
//! partner is still that version (`version`, bumped by every change, the
//! scorecard's tier changes and the lifecycle steps included): of two
//! concurrent changes one writes, the other gets a conflict and is made
//! again on the new state (or refused, when it was decided on the old one).

use super::records::{PartnerRow, partner};
use super::{Db, PersonDecision, StoreError};

/// A person's change to a partner.
#[derive(Debug, Clone)]
pub struct PartnerChange<'a> {
    /// The partner as read: the change is written only if it is still this
    /// version.
    pub version: i64,
    /// The partner as it is to be.
    pub after: &'a PartnerRow,
    /// The event to queue.
    pub event: &'static str,
    /// What else the event says (who, why, what changed).
    pub details: serde_json::Value,
    /// A decision-log entry for it (a manual tier): `(hook, record,
    /// decision, actor, at)`.
    pub decision: Option<ManualEntry<'a>>,
}

/// A person's decision, for the decision log.
#[derive(Debug, Clone)]
pub struct ManualEntry<'a> {
    /// The hook whose decision it stands for (`tier-evaluation`).
    pub hook: &'static str,
    /// What was decided on.
    pub record: serde_json::Value,
    /// What was decided.
    pub decision: serde_json::Value,
    /// Who.
    pub actor: &'a str,
    /// When.
    pub at: i64,
}

impl Db {
    /// Writes `change` if the partner is still at `change.version`, with
    /// its decision-log entry and event: one transaction. A partner changed
    /// meanwhile is a [`StoreError::Conflict`] and nothing is written.
    pub async fn change_partner(&self, tenant: &str, change: &PartnerChange<'_>) -> Result<PartnerRow, StoreError> {
        let created_at = super::now();
        let p = change.after;
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(
                "UPDATE partners SET name = $1, tier = $2, territories = $3, certifications = $4, manager = $5, \
                 contact_email = $6, version = version + 1 WHERE tenant = $7 AND id = $8 AND version = $9",
            )
            .bind(&p.name)
            .bind(&p.tier)
            .bind(serde_json::to_string(&p.territories).unwrap_or_default())
            .bind(p.certifications.to_string())
            .bind(&p.manager)
            .bind(&p.contact_email)
            .bind(tenant)
            .bind(&p.id)
            .bind(change.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Err(StoreError::Conflict(format!(
                    "partner `{}` was changed by another request meanwhile; read it again",
                    p.id
                )));
            }
            let row = sqlx::query("SELECT * FROM partners WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(&p.id)
                .fetch_one(&mut *tx)
                .await?;
            let row = partner(&row);
            let mut decision_id = None;
            if let Some(d) = &change.decision {
                self.before_write()?;
                let person = PersonDecision {
                    hook: d.hook,
                    subject: &p.id,
                    at: d.at,
                    outcome: "manual",
                    record: &d.record,
                    decision: &d.decision,
                    actor: d.actor,
                };
                decision_id = Some(insert_person_decision!(&mut *tx, tenant, &person, created_at));
            }
            let payload = serde_json::json!({ "partner": row, "change": change.details, "decision_id": decision_id });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, change.event, &payload);
            tx.commit().await?;
            row
        }))
    }

    /// Queues `event` with `payload` unless the notice `(kind, subject)`
    /// was sent before; returns whether it was sent now. The notice and
    /// its event are one transaction: once across passes and replicas.
    pub async fn notice_once(
        &self,
        tenant: &str,
        kind: &str,
        subject: &str,
        event: &str,
        payload: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let created_at = super::now();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let fresh = sqlx::query(
                "INSERT INTO notices (tenant, kind, subject, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(kind)
            .bind(subject)
            .bind(created_at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if fresh {
                self.before_write()?;
                enqueue_event!(&mut *tx, tenant, event, payload);
            }
            tx.commit().await?;
            fresh
        }))
    }

    /// Every company's partners holding a certification that expires in
    /// `[from, to)`: `(company, partner)`. (Certifications are a JSON list
    /// on the partner; the partners without any are skipped in SQL.)
    pub async fn certifications_expiring(&self, from: i64, to: i64) -> Result<Vec<(String, PartnerRow)>, StoreError> {
        let rows: Vec<(String, PartnerRow)> = with_reader!(self, |e| {
            let rows = sqlx::query("SELECT * FROM partners WHERE certifications <> '[]' AND status = 'active'")
                .fetch_all(e)
                .await?;
            rows.iter().map(|r| (super::Get::get(r, "tenant"), partner(r))).collect()
        });
        Ok(rows
            .into_iter()
            .filter(|(_, p)| {
                p.certifications
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["expires_at"].as_i64().is_some_and(|at| (from..to).contains(&at)))
            })
            .collect())
    }

    /// Every company's registrations in review since before `before`:
    /// `(company, registration, its partner's manager)`.
    pub async fn reviews_waiting_since(
        &self,
        before: i64,
    ) -> Result<Vec<(String, super::RegistrationRow, Option<String>)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT r.*, p.manager AS partner_manager FROM registrations r \
                 LEFT JOIN partners p ON p.tenant = r.tenant AND p.id = r.partner_id \
                 WHERE r.status = 'review' AND r.created_at < $1 ORDER BY r.created_at LIMIT 1000",
            )
            .bind(before)
            .fetch_all(e)
            .await?;
            rows.iter()
                .map(|r| {
                    (
                        super::Get::get(r, "tenant"),
                        super::records::registration(r),
                        super::Get::get(r, "partner_manager"),
                    )
                })
                .collect()
        }))
    }
}
