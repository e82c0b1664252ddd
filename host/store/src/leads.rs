//! A routed lead's answers and reports: its partner accepts it, then
//! reports contact, qualification and the outcome; the scheduler finds the
//! offers that ran out. (Routing and routing again are decisions: they go
//! through the unit of work in [`crate::decided`].)
//!
//! Each step is one guarded statement with its event in one transaction:
//! a lead moves only from the status the step expects and only for the
//! partner it is with, so of concurrent answers one counts.

use super::insights::{LeadRow, lead};
use super::{Db, Get, PersonDecision, StoreError};
use pactum_core::LeadStatus;

/// A partner's answer or report on a lead.
#[derive(Debug, Clone)]
pub struct LeadStep<'a> {
    /// The lead.
    pub id: &'a str,
    /// The partner it must be with.
    pub partner: &'a str,
    /// The statuses it may move from.
    pub from: &'a [LeadStatus],
    /// Where it moves.
    pub to: LeadStatus,
    /// The partner's note.
    pub note: Option<&'a str>,
    /// Who (`key:<12 hex>`).
    pub actor: &'a str,
    /// When.
    pub at: i64,
}

impl Db {
    /// Moves a lead as `step` says (setting `accepted_at` on acceptance and
    /// `first_contact_at` on the first report of contact), records it in
    /// the decision log with who did it and queues `lead.accepted` or
    /// `lead.status`.
    pub async fn lead_step(&self, tenant: &str, step: &LeadStep<'_>) -> Result<LeadRow, StoreError> {
        let from: Vec<&str> = step.from.iter().map(|s| s.as_str()).collect();
        // The statuses are the host's own constants, never input.
        let guard = format!("'{}'", from.join("', '"));
        let accepted = step.to == LeadStatus::Accepted;
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE leads SET status = $1, status_note = $2, \
                 accepted_at = CASE WHEN $3 THEN $4 ELSE accepted_at END, \
                 first_contact_at = CASE WHEN $5 THEN COALESCE(first_contact_at, $4) ELSE first_contact_at END, \
                 respond_by = NULL \
                 WHERE tenant = $6 AND id = $7 AND partner_id = $8 AND status IN ({guard})"
            )))
            .bind(step.to.as_str())
            .bind(step.note)
            .bind(accepted)
            .bind(step.at)
            .bind(step.to.contacted())
            .bind(tenant)
            .bind(step.id)
            .bind(step.partner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                let now = sqlx::query("SELECT status, partner_id FROM leads WHERE tenant = $1 AND id = $2")
                    .bind(tenant)
                    .bind(step.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(StoreError::Conflict(match now {
                    None => format!("lead `{}` no longer exists", step.id),
                    Some(row) => {
                        let (status, partner): (String, Option<String>) = (Get::get(&row, 0), Get::get(&row, 1));
                        if partner.as_deref() != Some(step.partner) {
                            format!("lead `{}` is no longer with partner `{}`", step.id, step.partner)
                        } else {
                            format!(
                                "lead `{}` is {status}; to make it {}, it must be {}",
                                step.id,
                                step.to,
                                from.join(" or ")
                            )
                        }
                    }
                }));
            }
            let row = sqlx::query("SELECT * FROM leads WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(step.id)
                .fetch_one(&mut *tx)
                .await?;
            let row = lead(&row);
            // The partner's answer or report, in the decision log with who
            // gave it (a person's step on the routing hook's record).
            self.before_write()?;
            let person = PersonDecision {
                hook: "routing",
                subject: step.id,
                at: step.at,
                outcome: "manual",
                record: &serde_json::json!({ "actor": step.actor, "partner_id": step.partner }),
                decision: &serde_json::json!({ "status": step.to, "note": step.note }),
                actor: step.actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, super::now());
            let event = if accepted { "lead.accepted" } else { "lead.status" };
            let payload = serde_json::json!({ "lead": row, "actor": step.actor, "decision_id": decision_id });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, event, &payload);
            tx.commit().await?;
            row
        }))
    }

    /// Leads whose offer ran out by `at`, every company's, the longest
    /// overdue first, at most `limit`: `(company, lead)`.
    pub async fn offers_due(&self, at: i64, limit: i64) -> Result<Vec<(String, LeadRow)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM leads WHERE status = 'offered' AND respond_by <= $1 ORDER BY respond_by, id LIMIT $2",
            )
            .bind(at)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(|r| (r.get("tenant"), lead(r))).collect()
        }))
    }
}
