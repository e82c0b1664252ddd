//! A partner's lifecycle by people (issue 16, item 3): its details, its
//! certifications (issued with an expiry, renewed by a call), and a manual
//! tier with a reason, in the decision log. Suspend, reactivate and
//! offboard are [`Service::partner_step`].

use super::{MAX_LABEL, MAX_NAME, bad, check_email, check_text, check_time, enum_name};
use crate::auth::Capability;
use crate::runtime::types as wit;
use crate::service::{Caller, Service, ServiceError};
use crate::store::{ManualEntry, PartnerChange, PartnerRow};
use serde::{Deserialize, Deserializer};

/// How many times a change is made when other requests change the partner
/// first: a request loses at most once per other change that wins, so up
/// to this many changes to one partner at once all go through.
const ATTEMPTS: usize = 10;

/// `Some(value)` for a field that is present (`null` included), so
/// `Option<Option<T>>` tells "leave it" (absent) from "clear it" (`null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `PATCH /v1/partners/{id}`: the fields to change; the others stay.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerUpdate {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Territories it covers (replaces the list).
    #[serde(default)]
    pub territories: Option<Vec<String>>,
    /// Its partner manager; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub manager: Option<Option<String>>,
    /// Its contact's email; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub contact_email: Option<Option<String>>,
}

/// `PUT /v1/partners/{id}/certifications/{name}`: a certification issued
/// or renewed.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certify {
    /// When it expires (Unix seconds); `null` if it does not.
    pub expires_at: Option<i64>,
}

/// `POST /v1/partners/{id}/tier`: a manual tier.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierOverride {
    /// registered, silver, gold or platinum.
    pub tier: wit::Tier,
    /// Why (1 to 1,000 characters): in the decision log and the event.
    pub reason: String,
}

fn check_territories(territories: &[String]) -> Result<(), ServiceError> {
    if territories.len() > 100 {
        return Err(bad("`territories` may list at most 100"));
    }
    for (i, t) in territories.iter().enumerate() {
        check_text(&format!("territories[{i}]"), t, MAX_LABEL)?;
    }
    Ok(())
}

impl Service {
    /// The partner for a change by staff (admin or manager): 404 unless it
    /// exists.
    async fn partner_to_change(&self, caller: &Caller, id: &str) -> Result<PartnerRow, ServiceError> {
        caller.require(Capability::ManagePartners)?;
        self.db.partner(&caller.tenant, id).await?.ok_or_else(|| ServiceError::NotFound(format!("no partner `{id}`")))
    }

    /// Changes a partner's details (admin or manager): the fields given,
    /// the rest as they are; `partner.updated` names who and what.
    pub async fn update_partner(
        &self,
        caller: &Caller,
        id: &str,
        update: PartnerUpdate,
    ) -> Result<PartnerRow, ServiceError> {
        if let Some(name) = &update.name {
            if name.trim().is_empty() {
                return Err(bad("`name` must not be empty"));
            }
            check_text("name", name, MAX_NAME)?;
        }
        if let Some(territories) = &update.territories {
            check_territories(territories)?;
        }
        if let Some(Some(manager)) = &update.manager {
            check_text("manager", manager, MAX_NAME)?;
        }
        if let Some(email) = &update.contact_email {
            check_email("contact_email", email.as_deref())?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let before = self.partner_to_change(caller, id).await?;
            let mut after = before.clone();
            if let Some(name) = &update.name {
                after.name.clone_from(name);
            }
            if let Some(territories) = &update.territories {
                after.territories.clone_from(territories);
            }
            if let Some(manager) = &update.manager {
                after.manager.clone_from(manager);
            }
            if let Some(email) = &update.contact_email {
                after.contact_email.clone_from(email);
            }
            if after == before {
                return Ok(before);
            }
            let change = PartnerChange {
                version: before.version,
                after: &after,
                event: "partner.updated",
                details: serde_json::json!({
                    "by": caller.key,
                    "before": { "name": before.name, "territories": before.territories,
                                "manager": before.manager, "contact_email": before.contact_email },
                }),
                decision: None,
            };
            match self.db.change_partner(&caller.tenant, &change).await {
                Err(crate::store::StoreError::Conflict(_)) if attempt < ATTEMPTS => continue,
                done => return Ok(done?),
            }
        }
    }

    /// Issues or renews certification `name` (admin or manager): added, or
    /// its expiry replaced; `partner.certified`.
    pub async fn certify_partner(
        &self,
        caller: &Caller,
        id: &str,
        name: &str,
        certify: Certify,
    ) -> Result<PartnerRow, ServiceError> {
        if name.trim().is_empty() {
            return Err(bad("the certification's name must not be empty"));
        }
        check_text("name", name, MAX_NAME)?;
        if let Some(at) = certify.expires_at {
            check_time("expires_at", at)?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let before = self.partner_to_change(caller, id).await?;
            let mut held: Vec<wit::Certification> = serde_json::from_value(before.certifications.clone())
                .map_err(|e| ServiceError::Internal(format!("partner `{id}`'s certifications: {e}")))?;
            let renewed = held.iter().any(|c| c.name == name);
            held.retain(|c| c.name != name);
            if held.len() >= 100 {
                return Err(bad("a partner holds at most 100 certifications"));
            }
            held.push(wit::Certification { name: name.to_string(), expires_at: certify.expires_at });
            held.sort_by(|a, b| a.name.cmp(&b.name));
            let after = PartnerRow {
                certifications: serde_json::to_value(&held).map_err(|e| ServiceError::Internal(e.to_string()))?,
                ..before.clone()
            };
            let change = PartnerChange {
                version: before.version,
                after: &after,
                event: "partner.certified",
                details: serde_json::json!({
                    "by": caller.key, "certification": name, "expires_at": certify.expires_at, "renewed": renewed,
                }),
                decision: None,
            };
            match self.db.change_partner(&caller.tenant, &change).await {
                Err(crate::store::StoreError::Conflict(_)) if attempt < ATTEMPTS => continue,
                done => return Ok(done?),
            }
        }
    }

    /// Sets a partner's tier by hand (admin or manager), with a reason: in
    /// the decision log as a person's tier decision, and
    /// `partner.tier-overridden`. Refused (409) if the partner changed
    /// while the override was made: it was decided on what it was.
    pub async fn override_tier(
        &self,
        caller: &Caller,
        id: &str,
        request: TierOverride,
        at: i64,
    ) -> Result<PartnerRow, ServiceError> {
        let reason = request.reason.trim();
        if reason.is_empty() {
            return Err(bad("`reason` must not be empty"));
        }
        check_text("reason", reason, 1_000)?;
        let before = self.partner_to_change(caller, id).await?;
        let tier = enum_name(&request.tier);
        if tier == before.tier {
            return Err(ServiceError::Conflict(format!("partner `{id}` is {tier} already")));
        }
        let after = PartnerRow { tier: tier.clone(), ..before.clone() };
        let change = PartnerChange {
            version: before.version,
            after: &after,
            event: "partner.tier-overridden",
            details: serde_json::json!({ "by": caller.key, "from": before.tier, "to": tier, "reason": reason }),
            decision: Some(ManualEntry {
                hook: "tier-evaluation",
                record: serde_json::json!({ "actor": caller.key, "input": { "partner": before } }),
                decision: serde_json::json!({ "tier": tier, "reason": reason, "manual": true }),
                actor: &caller.key,
                at,
            }),
        };
        Ok(self.db.change_partner(&caller.tenant, &change).await?)
    }
}
