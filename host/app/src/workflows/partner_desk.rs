//! What a partner's own pages need beyond the API's steps (issue 17, item
//! 3): whether an account is registered already (by anyone, saying no
//! more), a commission estimate from the live plugin that records nothing,
//! and a statement as CSV.

use super::payouts::{csv_field, decimal, minor_digits};
use super::{Statement, check_accepted, check_domain, check_money, wit_partner};
use crate::auth::Capability;
use crate::runtime::hooks::Commission;
use crate::runtime::types as wit;
use crate::service::{Caller, Service, ServiceError};
use pactum_pdk::time::quarter_start;

pub use pactum_core::{DealSource, LeadStatus, LineStatus, LineStep, RegistrationStatus};

/// A deal as a partner describes it to the commission estimator.
#[derive(Debug, Clone)]
pub struct EstimateRequest {
    /// First-year ACV of the software, at list.
    pub first_year_acv: wit::Money,
    /// Services revenue, same currency.
    pub services: i64,
    /// Partner-sourced or partner-influenced.
    pub source: DealSource,
}

/// What the live commission plugin would pay ([`Service::estimate_commission`]).
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The lines it would write, for this partner and any other.
    pub lines: Vec<wit::CommissionLine>,
    /// Its explanation.
    pub explanation: String,
    /// The plugin failed: a won deal would have its commission held.
    pub failed: bool,
    /// The sum of the lines for the asking partner, in the deal's currency.
    pub total: i64,
}

impl Service {
    /// Whether account `domain` has a live registration (submitted, in
    /// review, or approved and protected at `at`), by any partner. Says
    /// nothing else: not whose, nor what. For callers who may register
    /// deals.
    pub async fn account_registered(&self, caller: &Caller, domain: &str, at: i64) -> Result<bool, ServiceError> {
        caller.require(Capability::RegisterDeals)?;
        let domain = check_domain(domain)?;
        let (_, live) = self.db.account_with_live_registrations(&caller.tenant, &domain, at).await?;
        Ok(!live.is_empty())
    }

    /// What the company's live commission plugin would pay `partner` if a
    /// deal like `deal` were won at `at`: the real plugin, run on the input
    /// the won-deal workflow would build, and nothing recorded (no
    /// decision-log entry, no line, no event, no shadow run).
    pub async fn estimate_commission(
        &self,
        caller: &Caller,
        partner: &str,
        deal: EstimateRequest,
        at: i64,
    ) -> Result<Estimate, ServiceError> {
        caller.require(Capability::ReadOwnRecords)?;
        let row = self.partner(caller, partner).await?;
        let tenant = self.tenant(&caller.tenant)?;
        let currency = deal.first_year_acv.currency.clone();
        check_accepted("first_year_acv", &currency, &tenant)?;
        check_money("first_year_acv", &deal.first_year_acv, &currency, true)?;
        let services = wit::Money { amount: deal.services, currency: currency.clone() };
        check_money("services", &services, &currency, false)?;
        let source = match deal.source {
            DealSource::PartnerInfluenced => wit::DealSource::PartnerInfluenced,
            DealSource::PartnerSourced => wit::DealSource::PartnerSourced,
            DealSource::Direct => {
                return Err(super::bad("`source` must be partner-sourced or partner-influenced"));
            }
        };
        let quarter_to_date = self.db.won_acv(&caller.tenant, partner, quarter_start(at), at, &currency).await?;
        let input = wit::CommissionInput {
            context: tenant.program.context(at),
            event: wit::CommissionEvent::Won,
            deal: wit::Deal {
                id: "estimate".into(),
                first_year_acv: deal.first_year_acv,
                services,
                source,
                closed_at: at,
            },
            partner: wit_partner(&row)?,
            prior_lines: Vec::new(),
            quarter_to_date: wit::Money { amount: quarter_to_date, currency },
        };
        // `call_one` runs the plugin and records nothing: the workflows
        // record through `write_decided`, which is not called here.
        let called = self.call_one::<Commission>(&tenant, input).await?;
        if called.fallback {
            tracing::warn!(tenant = %caller.tenant, partner, outcome = called.outcome(), "commission estimate: the plugin failed");
            return Ok(Estimate { lines: Vec::new(), explanation: called.output.explanation, failed: true, total: 0 });
        }
        let mut total: i64 = 0;
        for line in called.output.lines.iter().filter(|l| l.partner_id == partner) {
            total = total
                .checked_add(line.amount.amount)
                .ok_or_else(|| ServiceError::Internal("the estimate overflows".into()))?;
        }
        Ok(Estimate { lines: called.output.lines, explanation: called.output.explanation, failed: false, total })
    }
}

/// A statement as CSV: `line_id,deal_id,kind,status,due_at,currency,
/// amount,amount_minor,description`, one row per line, then one `total`
/// row per currency (voided lines left out, as in the statement's totals).
pub fn statement_csv(statement: &Statement) -> String {
    let mut out = String::from("line_id,deal_id,kind,status,due_at,currency,amount,amount_minor,description\n");
    let mut push = |fields: [String; 9]| {
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    };
    for l in &statement.lines {
        let line = &l.line;
        push([
            line.id.to_string(),
            line.deal_id.clone(),
            line.kind.clone(),
            line.status.as_str().to_string(),
            line.due_at.to_string(),
            line.currency.clone(),
            decimal(line.amount, minor_digits(&line.currency)),
            line.amount.to_string(),
            line.description.clone(),
        ]);
    }
    for (currency, total) in &statement.totals {
        push([
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            currency.clone(),
            decimal(*total, minor_digits(currency)),
            total.to_string(),
            String::new(),
        ]);
    }
    out
}
