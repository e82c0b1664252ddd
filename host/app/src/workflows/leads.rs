//! Lead routing: identify the account, check live registrations and partner
//! territories, run the routing hook, record the route and its attribution.

use super::{MAX_LABEL, MAX_NAME, bad, check_domain, check_optional_text, check_text, random_id, wit_partner};
use crate::auth::Capability;
use crate::runtime::hooks::Routing;
use crate::runtime::types as wit;
use crate::service::{Caller, Service, ServiceError};
use crate::store::records::AccountRow;
use crate::store::{DecidedRecord, LeadRow};
use serde::Deserialize;

/// A new inbound lead.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    /// The account's domain.
    pub account_domain: String,
    /// The account's name (else the account record's, else the domain).
    pub account_name: Option<String>,
    /// The contact's email.
    pub contact_email: Option<String>,
    /// Country (ISO 3166 alpha-2), if known.
    pub country: Option<String>,
    /// Region or segment, if known.
    pub region: Option<String>,
    /// Industry, if known.
    pub industry: Option<String>,
    /// Where it came from (webinar, inbound, ...).
    pub source: String,
}

impl Service {
    /// Routes a lead (admin or manager): a live registration on the account
    /// sends it to that partner, a partner territory to that partner,
    /// otherwise to direct sales, as the company's routing plugin decides.
    pub async fn route_lead(&self, caller: &Caller, new: NewLead, at: i64) -> Result<LeadRow, ServiceError> {
        caller.require(Capability::ManageDeals)?;
        if let Some(id) = super::replayed_id("l")
            && let Some(done) = self.db.lead(&caller.tenant, &id).await?
        {
            return Ok(done);
        }
        let tenant = self.tenant(&caller.tenant)?;
        let domain = check_domain(&new.account_domain)?;
        if new.source.trim().is_empty() {
            return Err(bad("`source` must not be empty"));
        }
        check_text("source", &new.source, MAX_LABEL)?;
        check_optional_text("account_name", new.account_name.as_deref(), MAX_NAME)?;
        check_optional_text("contact_email", new.contact_email.as_deref(), 254)?;
        check_optional_text("industry", new.industry.as_deref(), MAX_LABEL)?;
        check_optional_text("country", new.country.as_deref(), MAX_LABEL)?;
        check_optional_text("region", new.region.as_deref(), MAX_LABEL)?;
        if let Some(email) = &new.contact_email
            && !email.contains('@')
        {
            return Err(bad(format!("`contact_email` {email:?} is not an email address")));
        }

        // Identify: what the lead does not say comes from the account record.
        let (known, live) = self.db.account_with_live_registrations(&caller.tenant, &domain, at).await?;
        let pick = |given: &Option<String>, stored: fn(&AccountRow) -> Option<String>| {
            given.clone().or_else(|| known.as_ref().and_then(stored))
        };
        let account = AccountRow {
            domain: domain.clone(),
            name: new
                .account_name
                .clone()
                .or_else(|| known.as_ref().map(|a| a.name.clone()))
                .unwrap_or_else(|| domain.clone()),
            industry: pick(&new.industry, |a| a.industry.clone()),
            employees: known.as_ref().and_then(|a| a.employees),
            country: pick(&new.country, |a| a.country.clone()),
            region: pick(&new.region, |a| a.region.clone()),
        };
        // Stored with the decision (one unit of work), and only when the
        // account record does not already say all of this.
        let learned = (known.as_ref() != Some(&account)).then(|| account.clone());

        let registrations = live
            .into_iter()
            .filter(|r| r.status == pactum_core::RegistrationStatus::Approved)
            .filter_map(|r| {
                Some(wit::LiveRegistration { protected_until: r.protected_until?, id: r.id, partner_id: r.partner_id })
            })
            .collect();
        let keys: Vec<String> =
            [&account.region, &account.country].into_iter().flatten().map(|k| k.to_lowercase()).collect();
        let partners = self
            .db
            .partners_for_territories(&caller.tenant, &keys)
            .await?
            .iter()
            .filter(|p| p.territories.iter().any(|t| keys.contains(&t.to_lowercase())))
            .map(wit_partner)
            .collect::<Result<Vec<_>, _>>()?;

        let id = random_id("l")?;
        let input = wit::RoutingInput {
            context: tenant.program.context(at),
            lead: wit::Lead {
                id: id.clone(),
                account_domain: domain.clone(),
                account_name: account.name.clone(),
                country: account.country.clone(),
                region: account.region.clone(),
                industry: account.industry.clone(),
                source: new.source.clone(),
            },
            registrations,
            partners,
        };
        let called = self.call_one::<Routing>(&tenant, input).await?;
        let (destination, partner_id) = match &called.output.destination {
            wit::Destination::Partner(p) => ("partner", Some(p.clone())),
            wit::Destination::Direct => ("direct", None),
        };
        let row = LeadRow {
            id,
            account_domain: domain,
            contact_email: new.contact_email,
            source: new.source,
            destination: destination.into(),
            partner_id,
            reason: called.output.reason.clone(),
            attribution: called.output.attribution.clone(),
            decision_id: 0,
            created_at: at,
        };
        // The decision, the lead and its notification: one write.
        let written = self.write_decided(&tenant, at, called, DecidedRecord::Lead(row), "lead.routed", learned).await?;
        let DecidedRecord::Lead(row) = written.record else {
            unreachable!("a lead was written");
        };
        tracing::info!(tenant = %caller.tenant, lead = %row.id, destination, partner = ?row.partner_id, "lead routed");
        Ok(row)
    }

    /// One lead; a partner key sees only leads routed to its partner.
    pub async fn lead(&self, caller: &Caller, id: &str) -> Result<LeadRow, ServiceError> {
        self.db
            .lead(&caller.tenant, id)
            .await?
            .filter(|l| caller.partner.is_none() || caller.partner == l.partner_id)
            .ok_or_else(|| ServiceError::NotFound(format!("no lead `{id}`")))
    }

    /// Leads, newest first; a partner key sees only its own.
    pub async fn leads(
        &self,
        caller: &Caller,
        partner: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LeadRow>, ServiceError> {
        let partner = match (&caller.partner, partner) {
            (Some(own), Some(asked)) if own != asked => return Ok(Vec::new()),
            (Some(own), _) => Some(own.as_str()),
            (None, asked) => asked,
        };
        Ok(self.db.leads(&caller.tenant, partner, limit).await?)
    }
}
