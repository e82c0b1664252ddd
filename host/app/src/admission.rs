//! Admission control in front of the instance pool: how many hook calls
//! may run at once, in all and per company.
//!
//! Every call holds one slot of the whole service and one of its company's
//! share while it runs. A call that finds no free slot waits a bounded
//! time, then is refused as [`ServiceError::Overloaded`] (503 with
//! `Retry-After`): overload is never a plugin failure, so it never takes a
//! hook's fallback and is never recorded as a decision. A company's share
//! is smaller than the whole, so one company flooding the service (say,
//! with plugins that spin to their deadline) leaves slots for the others.
//!
//! The slots are sized to the runtime's pool (its instance slots), so an
//! admitted call finds an instance; a call the pool still refuses is
//! treated the same as one refused here (see `Service::call_many`).

use crate::service::ServiceError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many calls may run at once, and how long a call waits for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Calls running at once over the whole service.
    pub slots: u32,
    /// Calls one company may run at once (at most `slots`).
    pub share: u32,
    /// How long a call waits for a slot before it is refused.
    pub wait: Duration,
}

impl AdmissionLimits {
    /// Limits for a pool of `slots` instances: a company may take an eighth
    /// of them (at least 2), and a call waits up to 2 s.
    pub fn for_pool(slots: u32) -> AdmissionLimits {
        let slots = slots.max(1);
        AdmissionLimits { slots, share: (slots / 8).max(2).min(slots), wait: Duration::from_secs(2) }
    }
}

/// What a refused call is told: try again after this many seconds.
pub const RETRY_AFTER_S: u64 = 1;

/// The slots: one semaphore for the service, one per company.
pub struct Admission {
    limits: AdmissionLimits,
    slots: Arc<Semaphore>,
    shares: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Slots held by running calls; released when dropped.
#[derive(Debug)]
pub struct Admitted {
    _share: OwnedSemaphorePermit,
    _slots: OwnedSemaphorePermit,
}

impl Admission {
    /// Admission with `limits`.
    pub fn new(limits: AdmissionLimits) -> Admission {
        let share = limits.share.clamp(1, limits.slots.max(1));
        let limits = AdmissionLimits { share, ..limits };
        Admission { limits, slots: Arc::new(Semaphore::new(limits.slots as usize)), shares: Mutex::default() }
    }

    /// The limits in force.
    pub fn limits(&self) -> AdmissionLimits {
        self.limits
    }

    /// Slots free in the whole service now.
    pub fn available(&self) -> usize {
        self.slots.available_permits()
    }

    /// Takes `n` slots (at least one, at most the company's share) for
    /// `tenant`, waiting up to the limits' `wait` for them; `Overloaded`
    /// when they do not come free in time.
    pub async fn admit(&self, tenant: &str, n: usize) -> Result<Admitted, ServiceError> {
        let n = n.clamp(1, self.limits.share as usize) as u32;
        let share = {
            let mut shares = self.shares.lock().expect("admission shares");
            shares
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.limits.share as usize)))
                .clone()
        };
        let deadline = tokio::time::Instant::now() + self.limits.wait;
        let overloaded = |scope| ServiceError::Overloaded { scope, retry_after_s: RETRY_AFTER_S };
        let share = tokio::time::timeout_at(deadline, share.acquire_many_owned(n))
            .await
            .map_err(|_| overloaded("this company's share of the instance slots"))?
            .map_err(|_| overloaded("shutting down"))?;
        let slots = tokio::time::timeout_at(deadline, self.slots.clone().acquire_many_owned(n))
            .await
            .map_err(|_| overloaded("every instance slot"))?
            .map_err(|_| overloaded("shutting down"))?;
        Ok(Admitted { _share: share, _slots: slots })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(slots: u32, share: u32) -> AdmissionLimits {
        AdmissionLimits { slots, share, wait: Duration::from_millis(20) }
    }

    #[tokio::test]
    async fn a_company_cannot_take_more_than_its_share() {
        let admission = Admission::new(limits(4, 2));
        let a1 = admission.admit("a", 1).await.unwrap();
        let _a2 = admission.admit("a", 1).await.unwrap();
        let refused = admission.admit("a", 1).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Overloaded { scope, .. } if scope.contains("company")), "{refused}");
        // Another company still gets in, while `a` is at its share.
        let _b = admission.admit("b", 1).await.unwrap();
        drop(a1);
        let _a3 = admission.admit("a", 1).await.unwrap();
    }

    #[tokio::test]
    async fn the_whole_service_refuses_when_every_slot_is_taken() {
        let admission = Admission::new(limits(3, 2));
        let _a = admission.admit("a", 2).await.unwrap();
        let _b = admission.admit("b", 1).await.unwrap();
        assert_eq!(admission.available(), 0);
        let refused = admission.admit("c", 1).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Overloaded { scope: "every instance slot", retry_after_s: 1 }));
    }

    #[tokio::test]
    async fn a_waiting_call_gets_the_slot_freed_within_its_wait() {
        let admission = Arc::new(Admission::new(AdmissionLimits { slots: 1, share: 1, wait: Duration::from_secs(5) }));
        let held = admission.admit("a", 1).await.unwrap();
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit("a", 1).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    #[test]
    fn pool_sized_limits_keep_a_share_below_the_whole() {
        assert_eq!(AdmissionLimits::for_pool(256).share, 32);
        assert_eq!(AdmissionLimits::for_pool(4).share, 2);
        assert_eq!(AdmissionLimits::for_pool(1).share, 1);
    }
}
