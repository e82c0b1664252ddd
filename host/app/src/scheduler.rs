//! The scheduler: every timer of every program, in one pass that is a
//! function of the time it is given (so a test injects its clock by
//! calling [`Service::fire_due`] with any time it likes).
//!
//! Timers live in the database as due times on their records, never in
//! memory: a deal registration's `protected_until`, a lead offer's
//! `respond_by`. A restart loses none, and a pass after a long stop fires
//! everything that came due meanwhile. Each timer's effect is a guarded
//! write (the lead must still be offered to the same partner, its offer
//! run out), so two replicas' passes over the same due timer fire it once:
//! the second finds it done and counts it as such.

use crate::service::{Service, ServiceError};
use serde::Serialize;

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
        Ok(fired)
    }
}
