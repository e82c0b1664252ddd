//! Lead routing: identify the account, check live registrations and partner
//! territories, run the routing hook, record the route and its attribution.

use super::{
    MAX_LABEL, MAX_NAME, bad, check_domain, check_optional_text, check_text, program_integer, random_id, wit_partner,
};
use crate::auth::Capability;
use crate::runtime::hooks::Routing;
use crate::runtime::types as wit;
use crate::service::{Called, Caller, Service, ServiceError, Tenant};
use crate::store::records::AccountRow;
use crate::store::{DecidedRecord, LeadReroute, LeadRow, LeadStep};
use pactum_core::LeadStatus;
use serde::Deserialize;

/// Hours a partner has to accept or decline a lead offered to it, unless
/// the program sets `lead-sla-hours`.
pub const DEFAULT_LEAD_SLA_HOURS: i64 = 48;

/// A partner's answer to a lead offered to it.
#[derive(Debug, Clone)]
pub enum LeadAnswer {
    /// The partner takes it.
    Accept,
    /// The partner does not: the lead is routed again at once.
    Decline {
        /// Why (1 to 1,000 characters).
        reason: String,
    },
}

/// A partner's report on a lead it accepted.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadReport {
    /// contacted, qualified, converted or disqualified (forwards only).
    pub status: LeadStatus,
    /// A note for the managers (at most 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// Where the routing answer sends a lead: `("partner", Some(id))`, or
/// direct when it says so or names a partner in `excluded`.
fn destination(d: &wit::Destination, excluded: &[String]) -> (&'static str, Option<String>) {
    match d {
        wit::Destination::Partner(p) if !excluded.contains(p) => ("partner", Some(p.clone())),
        _ => ("direct", None),
    }
}

/// When an offer to `partner` made at `at` runs out (none for direct).
fn offer_ends(tenant: &Tenant, partner: Option<&str>, at: i64) -> Option<i64> {
    let hours = program_integer(tenant, "lead-sla-hours").unwrap_or(DEFAULT_LEAD_SLA_HOURS).clamp(1, 8_760);
    partner.map(|_| at.saturating_add(hours * 3_600).min(super::MAX_TIME))
}

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

        let id = random_id("l")?;
        let lead = wit::Lead {
            id: id.clone(),
            account_domain: domain.clone(),
            account_name: account.name.clone(),
            country: account.country.clone(),
            region: account.region.clone(),
            industry: account.industry.clone(),
            source: new.source.clone(),
        };
        let called = self.route(&tenant, lead, &account, live, &[], at).await?;
        let (destination, partner_id) = destination(&called.output.destination, &[]);
        let row = LeadRow {
            id,
            account_domain: domain,
            contact_email: new.contact_email,
            source: new.source,
            destination: destination.into(),
            status: if partner_id.is_some() { LeadStatus::Offered } else { LeadStatus::Direct },
            respond_by: offer_ends(&tenant, partner_id.as_deref(), at),
            offered_at: partner_id.is_some().then_some(at),
            partner_id,
            reason: called.output.reason.clone(),
            attribution: called.output.attribution.clone(),
            decision_id: 0,
            created_at: at,
            accepted_at: None,
            first_contact_at: None,
            tried: Vec::new(),
            status_note: None,
        };
        // The decision, the lead and its notification: one write.
        let written = self.write_decided(&tenant, at, called, DecidedRecord::Lead(row), "lead.routed", learned).await?;
        let DecidedRecord::Lead(row) = written.record else {
            unreachable!("a lead was written");
        };
        tracing::info!(tenant = %caller.tenant, lead = %row.id, destination, partner = ?row.partner_id, "lead routed");
        Ok(row)
    }

    /// Runs the routing hook on `lead` for `account`, without the partners
    /// in `excluded` (those a lead was offered to before): they are left
    /// out of the registrations and partners the plugin sees, and a 0.2.0
    /// plugin sees them as `tried`.
    async fn route(
        &self,
        tenant: &Tenant,
        lead: wit::Lead,
        account: &AccountRow,
        live: Vec<crate::store::RegistrationRow>,
        excluded: &[String],
        at: i64,
    ) -> Result<Called<Routing>, ServiceError> {
        let registrations = live
            .into_iter()
            .filter(|r| r.status == pactum_core::RegistrationStatus::Approved && !excluded.contains(&r.partner_id))
            .filter_map(|r| {
                Some(wit::LiveRegistration { protected_until: r.protected_until?, id: r.id, partner_id: r.partner_id })
            })
            .collect();
        let keys: Vec<String> =
            [&account.region, &account.country].into_iter().flatten().map(|k| k.to_lowercase()).collect();
        let partners = self
            .db
            .partners_for_territories(&tenant.program.slug, &keys)
            .await?
            .iter()
            .filter(|p| p.territories.iter().any(|t| keys.contains(&t.to_lowercase())))
            .filter(|p| !excluded.contains(&p.id))
            .map(wit_partner)
            .collect::<Result<Vec<_>, _>>()?;
        let tried = excluded.to_vec();
        let input = wit::RoutingInput { context: tenant.program.context(at), lead, registrations, partners, tried };
        self.call_one::<Routing>(tenant, input).await
    }

    /// A partner's answer to a lead offered to it (its own key, or staff
    /// for it): `accept` keeps it; `decline` routes it again at once
    /// without the partners tried so far. 409 when it is no longer offered
    /// to that partner.
    pub async fn answer_lead(
        &self,
        caller: &Caller,
        id: &str,
        answer: LeadAnswer,
        at: i64,
    ) -> Result<LeadRow, ServiceError> {
        caller.require(Capability::AnswerLeads)?;
        let lead = self.lead(caller, id).await?;
        let Some(partner) = lead.partner_id.clone() else {
            return Err(ServiceError::Conflict(format!(
                "lead `{id}` went to direct sales; there is nothing to answer"
            )));
        };
        match answer {
            LeadAnswer::Accept => {
                let step = LeadStep {
                    id,
                    partner: &partner,
                    from: &[LeadStatus::Offered],
                    to: LeadStatus::Accepted,
                    note: None,
                    actor: &caller.key,
                    at,
                };
                Ok(self.db.lead_step(&caller.tenant, &step).await?)
            }
            LeadAnswer::Decline { reason } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(bad("`reason` must not be empty"));
                }
                check_text("reason", reason, 1_000)?;
                if lead.status != LeadStatus::Offered {
                    return Err(ServiceError::Conflict(format!(
                        "lead `{id}` is {}; only an offered lead can be declined",
                        lead.status
                    )));
                }
                let trigger = serde_json::json!({ "declined_by": caller.key, "partner_id": partner, "reason": reason });
                self.route_again(&caller.tenant, lead, trigger, None, at).await
            }
        }
    }

    /// A partner's report on a lead it accepted: contacted, qualified,
    /// converted or disqualified, forwards only (409 otherwise).
    pub async fn report_lead(
        &self,
        caller: &Caller,
        id: &str,
        report: LeadReport,
        at: i64,
    ) -> Result<LeadRow, ServiceError> {
        caller.require(Capability::AnswerLeads)?;
        check_optional_text("note", report.note.as_deref(), 1_000)?;
        if !matches!(
            report.status,
            LeadStatus::Contacted | LeadStatus::Qualified | LeadStatus::Converted | LeadStatus::Disqualified
        ) {
            return Err(bad(format!(
                "`status` reports what the partner did: contacted, qualified, converted or disqualified, not {}",
                report.status
            )));
        }
        let lead = self.lead(caller, id).await?;
        let Some(partner) = lead.partner_id.clone() else {
            return Err(ServiceError::Conflict(format!(
                "lead `{id}` went to direct sales; there is nothing to report"
            )));
        };
        let from: Vec<LeadStatus> = [LeadStatus::Accepted, LeadStatus::Contacted, LeadStatus::Qualified]
            .into_iter()
            .filter(|s| s.reportable().contains(&report.status))
            .collect();
        let step = LeadStep {
            id,
            partner: &partner,
            from: &from,
            to: report.status,
            note: report.note.as_deref(),
            actor: &caller.key,
            at,
        };
        Ok(self.db.lead_step(&caller.tenant, &step).await?)
    }

    /// Routes `lead` again (its offer declined, or run out at `timeout_at`):
    /// the routing hook without the partners tried so far, written as one
    /// unit of work guarded on the offer it ends. The partners tried are
    /// left out of the plugin's input; a 0.2.0 routing plugin sees them
    /// (`tried`), a 0.1.0 one does not; an answer naming one of them
    /// anyway sends the lead direct.
    pub(crate) async fn route_again(
        &self,
        company: &str,
        lead: LeadRow,
        trigger: serde_json::Value,
        timeout_at: Option<i64>,
        at: i64,
    ) -> Result<LeadRow, ServiceError> {
        let tenant = self.tenant(company)?;
        let from_partner = lead.partner_id.clone().ok_or_else(|| ServiceError::Internal("no partner".into()))?;
        let mut tried = lead.tried.clone();
        tried.push(from_partner.clone());
        let (known, live) = self.db.account_with_live_registrations(company, &lead.account_domain, at).await?;
        let account = known.unwrap_or_else(|| AccountRow {
            domain: lead.account_domain.clone(),
            name: lead.account_domain.clone(),
            industry: None,
            employees: None,
            country: None,
            region: None,
        });
        let wit_lead = wit::Lead {
            id: lead.id.clone(),
            account_domain: lead.account_domain.clone(),
            account_name: account.name.clone(),
            country: account.country.clone(),
            region: account.region.clone(),
            industry: account.industry.clone(),
            source: lead.source.clone(),
        };
        let called = self.route(&tenant, wit_lead, &account, live, &tried, at).await?;
        let (destination, partner_id) = destination(&called.output.destination, &tried);
        let mut reason = called.output.reason.clone();
        if destination == "direct" && matches!(called.output.destination, wit::Destination::Partner(_)) {
            reason.push_str(" (the host sent it direct: that partner was offered it before)");
        }
        let row = LeadRow {
            destination: destination.into(),
            status: if partner_id.is_some() { LeadStatus::Offered } else { LeadStatus::Direct },
            respond_by: offer_ends(&tenant, partner_id.as_deref(), at),
            offered_at: partner_id.is_some().then_some(at),
            partner_id,
            reason,
            attribution: called.output.attribution.clone(),
            accepted_at: None,
            status_note: None,
            tried,
            ..lead
        };
        let record = DecidedRecord::Reroute(LeadReroute { lead: row, from_partner, timeout_at, trigger });
        let written = self.write_decided(&tenant, at, called, record, "lead.rerouted", None).await?;
        let DecidedRecord::Reroute(r) = written.record else {
            unreachable!("a lead was routed again");
        };
        tracing::info!(tenant = %company, lead = %r.lead.id, destination, partner = ?r.lead.partner_id, "lead routed again");
        Ok(r.lead)
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
