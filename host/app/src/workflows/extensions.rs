//! Protection extensions (issue 16, item 2): a partner asks for more days
//! on an approved registration's protection; a manager grants (possibly
//! fewer days) or refuses them, in the decision log.

use super::{DAY, MAX_TIME, bad, check_text};
use crate::auth::Capability;
use crate::service::{Caller, Service, ServiceError};
use crate::store::{ExtensionDecision, RegistrationRow};
use pactum_core::ExtensionStatus;
use serde::Deserialize;

/// The most days one extension may add.
pub const MAX_EXTENSION_DAYS: i64 = 365;

/// `POST /v1/registrations/{id}/extension`: the partner's request.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// Days to add to the protection (1 to 365).
    pub days: i64,
    /// Why (1 to 1,000 characters).
    pub reason: String,
}

/// `POST /v1/registrations/{id}/extension/grant` or `/refuse`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionAnswer {
    /// Why (1 to 1,000 characters).
    pub reason: String,
    /// Granting: the days to add (1 to 365), the days asked for by
    /// default. Not for a refusal.
    #[serde(default)]
    pub days: Option<i64>,
}

fn check_reason(reason: &str) -> Result<&str, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(bad("`reason` must not be empty"));
    }
    check_text("reason", reason, 1_000)?;
    Ok(reason)
}

fn check_days(days: i64) -> Result<i64, ServiceError> {
    if (1..=MAX_EXTENSION_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(bad(format!("`days` must be 1 to {MAX_EXTENSION_DAYS}")))
    }
}

impl Service {
    /// A partner asks for more protection on its approved registration (its
    /// key, or staff for it): `registration.extension-requested` for the
    /// managers. 409 unless approved with no request waiting.
    pub async fn request_extension(
        &self,
        caller: &Caller,
        id: &str,
        request: ExtensionRequest,
    ) -> Result<RegistrationRow, ServiceError> {
        caller.require(Capability::RegisterDeals)?;
        let days = check_days(request.days)?;
        let reason = check_reason(&request.reason)?;
        self.registration(caller, id).await?;
        Ok(self.db.request_extension(&caller.tenant, id, days, reason, &caller.key).await?)
    }

    /// A manager grants (the protection is extended by the days asked for,
    /// or `days`) or refuses an extension request, with a reason; in the
    /// decision log with who decided. 409 when no request is waiting.
    pub async fn decide_extension(
        &self,
        caller: &Caller,
        id: &str,
        grant: bool,
        answer: ExtensionAnswer,
        at: i64,
    ) -> Result<RegistrationRow, ServiceError> {
        caller.require(Capability::ReviewRegistrations)?;
        let reason = check_reason(&answer.reason)?;
        if !grant && answer.days.is_some() {
            return Err(bad("`days` is only for granting an extension"));
        }
        let current = self.registration(caller, id).await?;
        let Some(asked) = current.extension.as_ref().filter(|e| e.status == ExtensionStatus::Requested) else {
            return Err(ServiceError::Conflict(format!("registration `{id}` has no extension request waiting")));
        };
        let days = check_days(answer.days.unwrap_or(asked.days))?;
        let protected_until = current
            .protected_until
            .ok_or_else(|| ServiceError::Conflict(format!("registration `{id}` is not protected")))?;
        let extended_until = protected_until
            .checked_add(days * DAY)
            .filter(|&t| t <= MAX_TIME)
            .ok_or_else(|| bad("the protection period would end after the year 9999"))?;
        let decision =
            ExtensionDecision { id, grant, days, protected_until, extended_until, reason, actor: &caller.key, at };
        Ok(self.db.decide_extension(&caller.tenant, &decision).await?)
    }

    /// The extension requests waiting for a manager, oldest first.
    pub async fn extension_requests(&self, caller: &Caller, limit: i64) -> Result<Vec<RegistrationRow>, ServiceError> {
        caller.require(Capability::ReviewRegistrations)?;
        Ok(self.db.extension_requests(&caller.tenant, limit).await?)
    }
}
