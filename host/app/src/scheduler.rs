//! The scheduler: every timer of every program, in one pass that is a
//! function of the time it is given (so a test injects its clock by
//! calling [`Service::fire_due`] with any time it likes).
//!
//! Timers live in the database as due times on their records, never in
//! memory: a deal registration's `protected_until` (and, while it is in
//! review, its `created_at` plus the review SLA), a lead offer's
//! `respond_by`, a certification's `expires_at`. A restart loses none, and a pass after a long stop fires
//! everything that came due meanwhile. Each timer's effect is a guarded
//! write (the lead must still be offered to the same partner, its offer
//! run out), so two replicas' passes over the same due timer fire it once:
//! the second finds it done and counts it as such.

use crate::service::{Service, ServiceError};
use crate::workflows::{DAY, program_integer};
use serde::Serialize;

/// Days ahead a partner hears that a certification expires.
pub const CERTIFICATION_NOTICE_DAYS: i64 = 30;

/// Business days a registration may wait in review before its partner's
/// manager is told (and twice that before it is escalated), unless the
/// program sets `review-sla-days`.
pub const DEFAULT_REVIEW_SLA_DAYS: i64 = 2;

/// `days` business days (Monday to Friday) after `at`.
pub fn add_business_days(at: i64, days: i64) -> i64 {
    let mut t = at;
    let mut left = days.clamp(0, 3_650);
    while left > 0 {
        t += DAY;
        // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
        if (t.div_euclid(DAY) + 3).rem_euclid(7) < 5 {
            left -= 1;
        }
    }
    t
}

/// Lead offers routed again per pass at most; the rest wait for the next.
pub const OFFERS_PER_PASS: i64 = 200;

/// What one pass fired.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    /// Approved registrations whose protection ended, now expired.
    pub registrations_expired: u64,
    /// Leads whose offer ran out, routed again.
    pub leads_rerouted: u64,
    /// Due timers another replica (or the partner's answer) got to first.
    pub already_done: u64,
    /// Due timers that failed; they stay due for the next pass.
    pub failed: u64,
    /// Notices sent: certifications about to expire, reviews overdue or
    /// escalated.
    pub notices: u64,
}

impl Service {
    /// Fires every timer due at `now`: registrations expire, and leads
    /// whose offer ran out are routed again without the partners tried
    /// (at most `limit` per pass, the longest overdue first). At capacity
    /// it stops and leaves the rest due: overload is never a decision.
    pub async fn fire_due(&self, now: i64, limit: i64) -> Result<Fired, ServiceError> {
        let mut fired = Fired { registrations_expired: self.db.expire_registrations(now).await?, ..Fired::default() };
        for (company, lead) in self.db.offers_due(now, limit).await? {
            let trigger = serde_json::json!({
                "offer_ran_out": lead.respond_by,
                "partner_id": lead.partner_id,
            });
            let id = lead.id.clone();
            match self.route_again(&company, lead, trigger, Some(now), now).await {
                Ok(_) => fired.leads_rerouted += 1,
                Err(ServiceError::Conflict(_)) => fired.already_done += 1,
                Err(ServiceError::Overloaded { .. }) => {
                    fired.failed += 1;
                    break;
                }
                Err(e) => {
                    tracing::warn!(company, lead = %id, error = %e, "routing a lead again after its offer ran out");
                    fired.failed += 1;
                }
            }
        }
        fired.notices += self.certification_notices(now).await?;
        fired.notices += self.review_notices(now).await?;
        Ok(fired)
    }

    /// `partner.certification-expiring`, once per certification and
    /// expiry date, [`CERTIFICATION_NOTICE_DAYS`] ahead.
    async fn certification_notices(&self, now: i64) -> Result<u64, ServiceError> {
        let until = now.saturating_add(CERTIFICATION_NOTICE_DAYS * DAY);
        let mut sent = 0;
        for (company, partner) in self.db.certifications_expiring(now, until).await? {
            for c in partner.certifications.as_array().into_iter().flatten() {
                let (Some(name), Some(expires_at)) = (c["name"].as_str(), c["expires_at"].as_i64()) else { continue };
                if !(now..until).contains(&expires_at) {
                    continue;
                }
                let payload = serde_json::json!({
                    "partner_id": partner.id, "manager": partner.manager, "contact_email": partner.contact_email,
                    "certification": name, "expires_at": expires_at,
                });
                let subject = format!("{}/{name}/{expires_at}", partner.id);
                let event = "partner.certification-expiring";
                sent += u64::from(
                    self.db.notice_once(&company, "certification-expiring", &subject, event, &payload).await?,
                );
            }
        }
        Ok(sent)
    }

    /// `registration.review-overdue` to the partner's manager once a
    /// registration has waited `review-sla-days` business days in review,
    /// and `registration.review-escalated` at twice that; once each.
    async fn review_notices(&self, now: i64) -> Result<u64, ServiceError> {
        let mut sent = 0;
        // Every company's SLA is at least a business day, so at least a
        // calendar day: what waited less is not read.
        for (company, registration, manager) in self.db.reviews_waiting_since(now - DAY).await? {
            let Ok(tenant) = self.tenant(&company) else { continue };
            let days = program_integer(&tenant, "review-sla-days").unwrap_or(DEFAULT_REVIEW_SLA_DAYS).clamp(1, 365);
            for (kind, after) in [("review-overdue", days), ("review-escalated", 2 * days)] {
                let due = add_business_days(registration.created_at, after);
                if now < due {
                    continue;
                }
                let payload = serde_json::json!({
                    "registration": registration, "manager": manager, "review_sla_days": days, "due_at": due,
                });
                let event = if kind == "review-overdue" {
                    "registration.review-overdue"
                } else {
                    "registration.review-escalated"
                };
                sent += u64::from(self.db.notice_once(&company, kind, &registration.id, event, &payload).await?);
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_days_skip_weekends() {
        // 2026-11-26 is a Thursday.
        let thursday = 1_795_651_200;
        assert_eq!(add_business_days(thursday, 1), thursday + DAY, "Friday");
        assert_eq!(add_business_days(thursday, 2), thursday + 4 * DAY, "Monday, past the weekend");
        assert_eq!(add_business_days(thursday, 5), thursday + 7 * DAY, "a week");
        assert_eq!(add_business_days(thursday + 2 * DAY, 1), thursday + 4 * DAY, "Saturday + 1 = Monday");
        assert_eq!(add_business_days(thursday, 0), thursday);
    }
}
