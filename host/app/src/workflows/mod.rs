//! The program's workflows on top of the decision step: partners, deal
//! registration with its protection period, deals won and refunded with
//! commission lines due on the program's payment terms, and per-partner
//! statements.
//!
//! Each workflow gathers what its hook needs from the database, runs the
//! company's plugin through [`Service::run`] (which records the decision and
//! falls back on failure), and stores the outcome with the decision's id.

mod extensions;
pub mod fx;
pub mod import;
mod leads;
pub mod lifecycle;
pub mod partner_desk;
pub mod partners;
pub mod payouts;
mod scorecards;

pub use extensions::{ExtensionAnswer, ExtensionRequest};
pub use fx::{Rates, RatesIn};
pub use leads::{LeadAnswer, LeadReport, NewLead};
pub use partner_desk::{Estimate, EstimateRequest, statement_csv};
pub use partners::{Certify, PartnerUpdate, TierOverride};
pub use payouts::{LineQuery, LineStepRequest, NewRun, PayoutRunDetail};
pub use scorecards::{Benchmark, ProgramMetrics};

use crate::auth::Capability;
use crate::runtime::hooks::{Approval, Commission};
use crate::runtime::types as wit;
use crate::service::{Caller, Service, ServiceError, Tenant, key_hash, new_key};
use crate::store::records::Close;
use crate::store::{CommissionLineRow, CommissionWrite, DealRow, DealStep, DecidedRecord, PartnerRow, RegistrationRow};
use pactum_core::{DealSource, DealStage, LineStatus, PartnerStatus, RegistrationStatus};
use pactum_pdk::time::quarter_start;
use serde::{Deserialize, Serialize};

pub(crate) const DAY: i64 = 86_400;

/// Days from close (or refund) to payment when the program does not set
/// `payment-terms-days`: NET 30.
pub const DEFAULT_PAYMENT_TERMS_DAYS: i64 = 30;

/// A new partner.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    /// Its id within the company (letters, digits, `-`, `_`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Referral, Reseller, Implementation, Technology or Strategic.
    pub kind: wit::PartnerKind,
    /// Starting tier; Registered by default.
    pub tier: Option<wit::Tier>,
    /// Territories it covers.
    #[serde(default)]
    pub territories: Vec<String>,
    /// Certifications held.
    #[serde(default)]
    pub certifications: Vec<wit::Certification>,
    /// Its partner manager.
    pub manager: Option<String>,
    /// Its contact's email.
    #[serde(default)]
    pub contact_email: Option<String>,
}

/// A deal registration as a partner submits it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    /// The registering partner (a partner key may only name itself).
    pub partner_id: String,
    /// The account's domain, e.g. `globex.com`.
    pub account_domain: String,
    /// The account's name.
    pub account_name: String,
    /// Industry, if known (else the account record's).
    pub industry: Option<String>,
    /// Employees, if known (else the account record's).
    pub employees: Option<u32>,
    /// Country, if known (else the account record's).
    pub country: Option<String>,
    /// Expected deal value.
    pub amount: wit::Money,
    /// Expected close (Unix seconds).
    pub expected_close: Option<i64>,
}

/// A person's decision on a registration in manual review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// Approve it: protected for `protection_days` (the program's
    /// `protection-days` when `None`).
    Approve {
        /// Days of protection.
        protection_days: Option<u32>,
        /// Why; a standard sentence naming the reviewer when `None`.
        reason: Option<String>,
    },
    /// Reject it.
    Reject {
        /// Why (required: the partner reads it).
        reason: String,
    },
}

/// A new deal.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    /// Its id; generated when absent.
    pub id: Option<String>,
    /// The approved registration the deal is opened from: its partner and
    /// account are carried over (`partner_id` and `account_domain` may then
    /// be left out; given, they must be the registration's), the deal keeps
    /// the link, and winning or losing it closes the registration.
    pub registration_id: Option<String>,
    /// The partner, for partner-sourced and partner-influenced deals.
    pub partner_id: Option<String>,
    /// The account's domain (required without `registration_id`).
    pub account_domain: Option<String>,
    /// First-year ACV of the software, at list.
    pub first_year_acv: wit::Money,
    /// Services revenue, same currency; zero when absent.
    pub services: Option<wit::Money>,
    /// Where it came from: `partner-sourced` or `partner-influenced` (with
    /// `partner_id`), or `direct` (without).
    pub source: DealSource,
}

/// A partner's statement for a period.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Statement {
    /// The partner.
    pub partner_id: String,
    /// Period start (Unix seconds, inclusive).
    pub from: i64,
    /// Period end (exclusive).
    pub to: i64,
    /// The program currency, which `total` and `by_status` are in.
    pub currency: String,
    /// Net of the lines in the program currency due in the period but the
    /// voided ones.
    pub total: i64,
    /// Net of the lines in the program currency by status: pending, held,
    /// disputed, paid, voided.
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Net of the lines in each currency (voided ones left out): a deal's
    /// lines keep its currency, and currencies are never added together.
    pub totals: std::collections::BTreeMap<String, i64>,
    /// The lines, by due date, each with the decision (and the plugin, or
    /// the person) that made it, and the payout run that paid it.
    pub lines: Vec<crate::store::StatementLine>,
}

pub(crate) fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(message.into())
}

pub(crate) fn check_id(field: &str, id: &str) -> Result<(), ServiceError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(bad(format!("`{field}` must be 1 to 64 letters, digits, `-` or `_`"))) }
}

pub(crate) fn check_domain(domain: &str) -> Result<String, ServiceError> {
    let d = domain.trim().to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && !d.starts_with('.')
        && !d.ends_with('.')
        && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok { Ok(d) } else { Err(bad(format!("`account_domain` {domain:?} is not a domain like globex.com"))) }
}

/// The largest amount of money an input may carry, in minor units: 10^15
/// (ten trillion dollars in cents). Sums of many such amounts stay far from
/// `i64`'s limit, so totals, statements and metrics cannot overflow.
pub const MAX_MONEY: i64 = 1_000_000_000_000_000;

/// The last second an input's timestamp may name: 9999-12-31T23:59:59Z.
/// With the first, 1970-01-01, every date the host computes from one (a
/// protection period's end, a payment's due date) fits in an `i64`.
pub const MAX_TIME: i64 = 253_402_300_799;

fn check_money(field: &str, m: &wit::Money, currency: &str, positive: bool) -> Result<(), ServiceError> {
    if m.currency != currency {
        return Err(bad(format!("`{field}.currency` is {:?}; it must be {currency}", m.currency)));
    }
    if m.amount < 0 || (positive && m.amount == 0) || m.amount > MAX_MONEY {
        return Err(bad(format!(
            "`{field}.amount` must be {} minor units, at most {MAX_MONEY}",
            if positive { "a positive number of" } else { "zero or more" }
        )));
    }
    Ok(())
}

/// `Ok` when the program accepts deals in `currency`; else 422 naming the
/// ones it does.
pub(crate) fn check_accepted(field: &str, currency: &str, tenant: &Tenant) -> Result<(), ServiceError> {
    if tenant.program.accepts(currency) {
        Ok(())
    } else {
        Err(bad(format!(
            "`{field}.currency` is {currency:?}; this program accepts {}",
            tenant.program.currencies.join(", ")
        )))
    }
}

/// `at`, an input's Unix time, if it lies in the years 1970 to 9999.
pub(crate) fn check_time(field: &str, at: i64) -> Result<i64, ServiceError> {
    if (0..=MAX_TIME).contains(&at) {
        Ok(at)
    } else {
        Err(bad(format!("`{field}` must be a Unix time in the years 1970 to 9999 (0 to {MAX_TIME}), not {at}")))
    }
}

/// An optional email address: at most 254 characters, with an `@`.
pub(crate) fn check_email(field: &str, email: Option<&str>) -> Result<(), ServiceError> {
    let Some(email) = email else { return Ok(()) };
    check_text(field, email, 254)?;
    let ok = email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if ok { Ok(()) } else { Err(bad(format!("`{field}` {email:?} is not an email address"))) }
}

/// A text field: at most `max` characters, no control characters (a NUL
/// is refused by PostgreSQL, the others by every reader of a statement).
pub(crate) fn check_text(field: &str, text: &str, max: usize) -> Result<(), ServiceError> {
    if text.chars().count() > max {
        return Err(bad(format!("`{field}` must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(bad(format!("`{field}` must not contain control characters")));
    }
    Ok(())
}

/// An optional text field (see [`check_text`]).
pub(crate) fn check_optional_text(field: &str, text: Option<&str>, max: usize) -> Result<(), ServiceError> {
    text.map_or(Ok(()), |t| check_text(field, t, max))
}

/// Names and descriptions: at most this many characters.
pub(crate) const MAX_NAME: usize = 200;
/// Short labels (industry, country, region, source, territory): at most this many.
pub(crate) const MAX_LABEL: usize = 64;

/// A new record id: `prefix`, `_`, the time in milliseconds (12 hex digits)
/// and 64 random bits (16 hex digits).
///
/// The time comes first so that new ids sort after older ones: each insert
/// then lands at the end of the primary-key index, where the batch's other
/// inserts are, instead of on a random page of it. With random ids, each
/// registration or lead rewrote a leaf page of its own in the write-ahead
/// log (4 KiB per request).
///
/// Within a request that carries an `Idempotency-Key` ([`IDEMPOTENT`]) the
/// id is instead derived from the key and its scope: a request run again
/// after a crash (the record committed, the answer not yet stored for the
/// key) makes the same id, finds the record ([`replayed_id`]) and answers
/// with it instead of creating a second one. A request makes at most one
/// record per prefix, so the prefix alone tells them apart.
pub(crate) fn random_id(prefix: &str) -> Result<String, ServiceError> {
    if let Some(id) = replayed_id(prefix) {
        return Ok(id);
    }
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(format!("no randomness for an id: {e}")))?;
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    Ok(format!("{prefix}_{:012x}{}", ms & 0xffff_ffff_ffff, hex::encode(bytes)))
}

tokio::task_local! {
    /// Set by the API around a request that carries an `Idempotency-Key`:
    /// the seed its new records' ids are derived from ([`random_id`]).
    pub static IDEMPOTENT: IdempotentRequest;
}

/// A request that carries an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    seed: [u8; 32],
}

impl IdempotentRequest {
    /// The request with key `key` from the caller `scope` (its API key's
    /// hash): the same pair, the same ids.
    pub fn new(scope: &str, key: &str) -> IdempotentRequest {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in [scope, key] {
            hasher.update(part.len().to_le_bytes());
            hasher.update(part);
        }
        IdempotentRequest { seed: hasher.finalize().into() }
    }
}

/// The id a record with `prefix` gets in this request when it carries an
/// `Idempotency-Key` (`prefix`, `_`, 28 hex digits); `None` outside one.
/// A workflow that creates a record looks it up by this id first: found,
/// the request ran before and its record is the answer.
pub(crate) fn replayed_id(prefix: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    IDEMPOTENT
        .try_with(|request| {
            let digest = Sha256::new().chain_update(request.seed).chain_update(prefix).finalize();
            format!("{prefix}_{}", &hex::encode(digest)[..28])
        })
        .ok()
}

pub(crate) fn parse_enum<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T, ServiceError> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| ServiceError::Internal(format!("stored {field} {value:?} is not valid")))
}

pub(crate) fn enum_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The WIT view of a stored partner.
pub(crate) fn wit_partner(p: &PartnerRow) -> Result<wit::Partner, ServiceError> {
    Ok(wit::Partner {
        id: p.id.clone(),
        name: p.name.clone(),
        kind: parse_enum("partner kind", &p.kind)?,
        tier: parse_enum("tier", &p.tier)?,
        territories: p.territories.clone(),
        certifications: serde_json::from_value(p.certifications.clone()).unwrap_or_default(),
        active: p.status == PartnerStatus::Active,
    })
}

/// The company's integer parameter `name`, if it sets one.
pub(crate) fn program_integer(tenant: &Tenant, name: &str) -> Option<i64> {
    tenant
        .program
        .params
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| if let wit::ParamValue::Integer(d) = p.value { Some(d) } else { None })
}

/// A flag parameter of the program (false when absent).
pub(crate) fn program_flag(tenant: &Tenant, name: &str) -> bool {
    tenant.program.params.iter().any(|p| p.name == name && matches!(p.value, wit::ParamValue::Flag(true)))
}

fn payment_terms(tenant: &Tenant) -> i64 {
    program_integer(tenant, "payment-terms-days").unwrap_or(DEFAULT_PAYMENT_TERMS_DAYS)
}

impl Service {
    /// Creates a partner (admin or manager).
    pub async fn create_partner(&self, caller: &Caller, new: NewPartner, at: i64) -> Result<PartnerRow, ServiceError> {
        caller.require(Capability::ManagePartners)?;
        check_id("id", &new.id)?;
        if new.name.trim().is_empty() {
            return Err(bad("`name` must not be empty"));
        }
        check_text("name", &new.name, MAX_NAME)?;
        check_optional_text("manager", new.manager.as_deref(), MAX_NAME)?;
        check_email("contact_email", new.contact_email.as_deref())?;
        if new.territories.len() > 100 {
            return Err(bad("`territories` may list at most 100"));
        }
        for (i, t) in new.territories.iter().enumerate() {
            check_text(&format!("territories[{i}]"), t, MAX_LABEL)?;
        }
        if new.certifications.len() > 100 {
            return Err(bad("`certifications` may list at most 100"));
        }
        for (i, c) in new.certifications.iter().enumerate() {
            check_text(&format!("certifications[{i}].name"), &c.name, MAX_NAME)?;
            if let Some(at) = c.expires_at {
                check_time(&format!("certifications[{i}].expires_at"), at)?;
            }
        }
        let row = PartnerRow {
            id: new.id,
            name: new.name,
            kind: enum_name(&new.kind),
            tier: enum_name(&new.tier.unwrap_or(wit::Tier::Registered)),
            territories: new.territories,
            certifications: serde_json::to_value(&new.certifications)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            manager: new.manager,
            status: PartnerStatus::Active,
            joined_at: at,
            contact_email: new.contact_email,
            version: 0,
        };
        if !self.db.create_partner(&caller.tenant, &row).await? {
            return Err(ServiceError::Conflict(format!("partner `{}` exists already", row.id)));
        }
        Ok(row)
    }

    /// One partner; a partner key sees only its own.
    pub async fn partner(&self, caller: &Caller, id: &str) -> Result<PartnerRow, ServiceError> {
        if !caller.sees_partner(id) {
            return Err(ServiceError::NotFound(format!("no partner `{id}`")));
        }
        self.db.partner(&caller.tenant, id).await?.ok_or_else(|| ServiceError::NotFound(format!("no partner `{id}`")))
    }

    /// Every partner (admin or manager).
    pub async fn partners(&self, caller: &Caller) -> Result<Vec<PartnerRow>, ServiceError> {
        caller.require(Capability::ManagePartners)?;
        Ok(self.db.partners(&caller.tenant).await?)
    }

    /// A partner's lifecycle step (admin or manager), with a reason:
    /// suspend (no new registrations), reactivate, or offboard (no leads,
    /// its open registrations released). Lines it has earned are still
    /// paid. Guarded in SQL: of concurrent steps one moves it, the others
    /// get 409 naming its status.
    pub async fn partner_step(
        &self,
        caller: &Caller,
        id: &str,
        step: crate::store::PartnerStep,
        reason: &str,
    ) -> Result<(PartnerRow, u64), ServiceError> {
        caller.require(Capability::ManagePartners)?;
        if reason.trim().is_empty() {
            return Err(bad("`reason` must not be empty"));
        }
        check_text("reason", reason, 1_000)?;
        self.partner(caller, id).await?;
        let (row, released) = self.db.partner_step(&caller.tenant, id, step, reason, &caller.key).await?;
        tracing::info!(tenant = %caller.tenant, partner = %id, status = %row.status, released, by = %caller.key, "partner lifecycle step");
        Ok((row, released))
    }

    /// Creates an API key bound to a partner (admin or manager). Shown once.
    pub async fn create_partner_key(&self, caller: &Caller, partner: &str) -> Result<String, ServiceError> {
        caller.require(Capability::ManagePartners)?;
        self.partner(caller, partner).await?;
        let key = new_key(&caller.tenant)?;
        self.db.add_key(&caller.tenant, &key_hash(&key), crate::auth::Role::Partner, Some(partner)).await?;
        Ok(key)
    }

    /// Deal registration: validate, enrich from the account record, check
    /// live registrations on the account, run the approval hook, store the
    /// outcome with its protection period.
    pub async fn register_deal(
        &self,
        caller: &Caller,
        new: NewRegistration,
        at: i64,
    ) -> Result<RegistrationRow, ServiceError> {
        caller.require(Capability::RegisterDeals)?;
        if !caller.sees_partner(&new.partner_id) {
            return Err(ServiceError::Forbidden("a partner key can register deals only for its own partner".into()));
        }
        if let Some(id) = replayed_id("r")
            && let Some(done) = self.db.registration(&caller.tenant, &id).await?
        {
            return Ok(done);
        }
        let tenant = self.tenant(&caller.tenant)?;
        let domain = check_domain(&new.account_domain)?;
        check_accepted("amount", &new.amount.currency, &tenant)?;
        check_money("amount", &new.amount, &new.amount.currency, true)?;
        if new.account_name.trim().is_empty() {
            return Err(bad("`account_name` must not be empty"));
        }
        check_text("account_name", &new.account_name, MAX_NAME)?;
        check_optional_text("industry", new.industry.as_deref(), MAX_LABEL)?;
        check_optional_text("country", new.country.as_deref(), MAX_LABEL)?;
        if let Some(close) = new.expected_close {
            check_time("expected_close", close)?;
        }
        let partner = self
            .db
            .partner(&caller.tenant, &new.partner_id)
            .await?
            .ok_or_else(|| bad(format!("`partner_id`: no partner `{}`", new.partner_id)))?;
        if partner.status != PartnerStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "partner `{}` is {}: it cannot register deals",
                partner.id, partner.status
            )));
        }

        // Enrich: what the partner did not say comes from the account record.
        let (known, live) = self.db.account_with_live_registrations(&caller.tenant, &domain, at).await?;
        let account = crate::store::records::AccountRow {
            domain: domain.clone(),
            name: new.account_name.clone(),
            industry: new.industry.clone().or_else(|| known.as_ref().and_then(|a| a.industry.clone())),
            employees: new.employees.or_else(|| known.as_ref().and_then(|a| a.employees)),
            country: new.country.clone().or_else(|| known.as_ref().and_then(|a| a.country.clone())),
            region: known.as_ref().and_then(|a| a.region.clone()),
        };
        // Stored with the decision (one unit of work), and only when the
        // account record does not already say all of this.
        let learned = (known.as_ref() != Some(&account)).then(|| account.clone());

        let existing = live
            .into_iter()
            .map(|r| wit::ExistingRegistration {
                status: match r.status {
                    RegistrationStatus::Approved => wit::RegistrationStatus::Approved,
                    RegistrationStatus::Review => wit::RegistrationStatus::Review,
                    _ => wit::RegistrationStatus::Submitted,
                },
                id: r.id,
                partner_id: r.partner_id,
                protected_until: r.protected_until,
            })
            .collect();
        let id = random_id("r")?;
        let input = wit::ApprovalInput {
            context: tenant.program.context(at),
            registration: wit::Registration {
                id: id.clone(),
                account_domain: domain.clone(),
                account_name: account.name.clone(),
                industry: account.industry.clone(),
                employees: account.employees,
                country: account.country.clone(),
                amount: new.amount.clone(),
                expected_close: new.expected_close,
            },
            partner: wit_partner(&partner)?,
            existing,
        };
        let called = self.call_one::<Approval>(&tenant, input).await?;
        let (status, protected_until) = match called.output.outcome {
            wit::ApprovalOutcome::Approve(days) => (RegistrationStatus::Approved, Some(at + i64::from(days) * DAY)),
            wit::ApprovalOutcome::Reject => (RegistrationStatus::Rejected, None),
            wit::ApprovalOutcome::Review => (RegistrationStatus::Review, None),
        };
        let row = RegistrationRow {
            id,
            partner_id: partner.id,
            account_domain: domain,
            amount: new.amount.amount,
            currency: new.amount.currency,
            expected_close: new.expected_close,
            status,
            protected_until,
            reason: called.output.reason.clone(),
            decision_id: None,
            plugin_hash: Some(called.record.plugin.to_hex()),
            created_at: at,
            extension: None,
        };
        // The decision, the registration and its notification: one write.
        let written = self
            .write_decided(&tenant, at, called, DecidedRecord::Registration(row), "registration.decided", learned)
            .await?;
        let DecidedRecord::Registration(row) = written.record else {
            unreachable!("a registration was written");
        };
        tracing::info!(tenant = %caller.tenant, registration = %row.id, status = %status, "deal registration decided");
        Ok(row)
    }

    /// One registration; a partner key sees only its partner's.
    pub async fn registration(&self, caller: &Caller, id: &str) -> Result<RegistrationRow, ServiceError> {
        let row = self.db.registration(&caller.tenant, id).await?;
        row.filter(|r| caller.sees_partner(&r.partner_id))
            .ok_or_else(|| ServiceError::NotFound(format!("no registration `{id}`")))
    }

    /// Registrations, newest first; a partner key sees only its partner's.
    pub async fn registrations(
        &self,
        caller: &Caller,
        partner: Option<&str>,
        status: Option<RegistrationStatus>,
        limit: i64,
    ) -> Result<Vec<RegistrationRow>, ServiceError> {
        let partner = match (&caller.partner, partner) {
            (Some(own), Some(asked)) if own != asked => return Ok(Vec::new()),
            (Some(own), _) => Some(own.as_str()),
            (None, asked) => asked,
        };
        Ok(self.db.registrations(&caller.tenant, partner, status.map(RegistrationStatus::as_str), limit).await?)
    }

    /// The partner managers' queue: registrations in manual review, oldest
    /// first, each with the reason it is there (admin or manager).
    pub async fn review_queue(&self, caller: &Caller, limit: i64) -> Result<Vec<RegistrationRow>, ServiceError> {
        caller.require(Capability::ReviewRegistrations)?;
        Ok(self.db.review_queue(&caller.tenant, limit).await?)
    }

    /// A person's decision on a registration in review (admin or manager):
    /// approved with a protection period (the program's `protection-days`
    /// unless given) or rejected with a reason. Recorded in the decision log
    /// like a plugin's decision, with the person instead of a plugin hash;
    /// the transition, the entry and `registration.reviewed` are one unit of
    /// work, and of concurrent reviews one decides, the others get 409.
    pub async fn review_registration(
        &self,
        caller: &Caller,
        id: &str,
        review: Review,
        at: i64,
    ) -> Result<RegistrationRow, ServiceError> {
        caller.require(Capability::ReviewRegistrations)?;
        let at = check_time("at", at)?;
        let tenant = self.tenant(&caller.tenant)?;
        let current = self.registration(caller, id).await?;
        if current.status != RegistrationStatus::Review {
            return Err(ServiceError::Conflict(format!("registration `{id}` is {}, not in review", current.status)));
        }
        let (status, protected_until, reason, outcome) = match review {
            Review::Approve { protection_days, reason } => {
                let days = match protection_days {
                    Some(d) => d,
                    None => u32::try_from(program_integer(&tenant, "protection-days").unwrap_or(90)).unwrap_or(90),
                };
                if !(1..=3_650).contains(&days) {
                    return Err(bad("`protection_days` must be 1 to 3650"));
                }
                let until = at
                    .checked_add(i64::from(days) * DAY)
                    .filter(|&t| t <= MAX_TIME)
                    .ok_or_else(|| bad("the protection period would end after the year 9999"))?;
                let reason = reason.unwrap_or_else(|| {
                    format!("Approved in manual review by {}: protected for {days} days.", caller.key)
                });
                ("approved", Some(until), reason, wit::ApprovalOutcome::Approve(days))
            }
            Review::Reject { reason } => ("rejected", None, reason, wit::ApprovalOutcome::Reject),
        };
        if reason.trim().is_empty() {
            return Err(bad("`reason` must not be empty"));
        }
        check_text("reason", &reason, 1_000)?;
        let decision = wit::ApprovalDecision { outcome, reason: reason.clone() };
        let decision = serde_json::to_value(&decision).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = serde_json::json!({
            "actor": caller.key,
            "input": { "registration": current },
            "result": { "ok": decision },
        });
        let row = self
            .db
            .review_registration(
                &caller.tenant,
                &crate::store::ManualReview {
                    id,
                    status,
                    protected_until,
                    reason: &reason,
                    actor: &caller.key,
                    at,
                    record: &record,
                    decision: &decision,
                },
            )
            .await?;
        tracing::info!(tenant = %caller.tenant, registration = %id, status, actor = %caller.key, "registration reviewed");
        Ok(row)
    }

    /// Expires approved registrations whose protection ended (the
    /// background job); returns how many.
    pub async fn expire_registrations(&self, at: i64) -> Result<u64, ServiceError> {
        Ok(self.db.expire_registrations(at).await?)
    }

    /// Creates a deal (admin or manager).
    pub async fn create_deal(&self, caller: &Caller, mut new: NewDeal, at: i64) -> Result<DealRow, ServiceError> {
        caller.require(Capability::ManageDeals)?;
        let tenant = self.tenant(&caller.tenant)?;
        let id = match new.id.take() {
            Some(id) => {
                check_id("id", &id)?;
                id
            }
            None => {
                if let Some(id) = replayed_id("d")
                    && let Some(done) = self.db.deal(&caller.tenant, &id).await?
                {
                    return Ok(done);
                }
                random_id("d")?
            }
        };
        if let Some(registration_id) = &new.registration_id {
            let registration = self
                .db
                .registration(&caller.tenant, registration_id)
                .await?
                .ok_or_else(|| bad(format!("`registration_id`: no registration `{registration_id}`")))?;
            if registration.status != RegistrationStatus::Approved {
                return Err(ServiceError::Conflict(format!(
                    "registration `{registration_id}` is {}: a deal is opened from an approved registration",
                    registration.status
                )));
            }
            for (field, given, registered) in [
                ("partner_id", &new.partner_id, &registration.partner_id),
                ("account_domain", &new.account_domain, &registration.account_domain),
            ] {
                if given.as_ref().is_some_and(|g| !g.eq_ignore_ascii_case(registered)) {
                    return Err(bad(format!("`{field}` must be the registration's (`{registered}`) or left out")));
                }
            }
            new.partner_id = Some(registration.partner_id);
            new.account_domain = Some(registration.account_domain);
        }
        let domain = check_domain(
            new.account_domain
                .as_deref()
                .ok_or_else(|| bad("`account_domain` is required without `registration_id`"))?,
        )?;
        // The deal's currency: one the program accepts; services in it too.
        let currency = new.first_year_acv.currency.clone();
        check_accepted("first_year_acv", &currency, &tenant)?;
        check_money("first_year_acv", &new.first_year_acv, &currency, true)?;
        let services = new.services.unwrap_or(wit::Money { amount: 0, currency: currency.clone() });
        check_money("services", &services, &currency, false)?;
        match (new.source, &new.partner_id) {
            (DealSource::Direct, None) => {}
            (DealSource::Direct, Some(_)) => {
                return Err(bad("`partner_id` must be absent for a direct deal"));
            }
            (_, Some(p)) => {
                if self.db.partner(&caller.tenant, p).await?.is_none() {
                    return Err(bad(format!("`partner_id`: no partner `{p}`")));
                }
            }
            (source, None) => {
                return Err(bad(format!("`partner_id` is required for a {source} deal")));
            }
        }
        let row = DealRow {
            id,
            registration_id: new.registration_id,
            partner_id: new.partner_id,
            account_domain: domain,
            first_year_acv: new.first_year_acv.amount,
            services: services.amount,
            currency,
            source: new.source,
            stage: DealStage::Open,
            refunded: 0,
            closed_at: None,
            created_at: at,
        };
        if !self.db.create_deal(&caller.tenant, &row).await? {
            return Err(ServiceError::Conflict(
                match (&row.registration_id, self.db.deal(&caller.tenant, &row.id).await?) {
                    (Some(registration), None) => format!("registration `{registration}` has opened a deal already"),
                    _ => format!("deal `{}` exists already", row.id),
                },
            ));
        }
        Ok(row)
    }

    /// A deal and its commission lines (admin or manager, or its partner).
    pub async fn deal(&self, caller: &Caller, id: &str) -> Result<(DealRow, Vec<CommissionLineRow>), ServiceError> {
        let deal = self
            .db
            .deal(&caller.tenant, id)
            .await?
            .filter(|d| caller.partner.is_none() || caller.partner == d.partner_id)
            .ok_or_else(|| ServiceError::NotFound(format!("no deal `{id}`")))?;
        let lines = self.db.deal_lines(&caller.tenant, id).await?;
        Ok((deal, lines))
    }

    /// The deal `id` for a step that changes it (admin or manager), with a
    /// 409 naming its stage unless it is at `stage`. A fast refusal only:
    /// the step's own write is guarded in SQL against concurrent callers.
    async fn deal_at(&self, caller: &Caller, id: &str, stage: DealStage) -> Result<DealRow, ServiceError> {
        caller.require(Capability::ManageDeals)?;
        let (deal, _) = self.deal(caller, id).await?;
        if deal.stage != stage {
            let why = if stage == DealStage::Won { ", only a won deal can be refunded" } else { " already" };
            return Err(ServiceError::Conflict(format!("deal `{id}` is {}{why}", deal.stage)));
        }
        Ok(deal)
    }

    /// Marks a deal won at `at` and, for a partner deal, runs the commission
    /// hook: its lines are stored pending, due on the program's payment
    /// terms after the close. When the plugin fails, a held line records
    /// that the commission waits for a person. The close, the decision, the
    /// lines and the event are one unit of work; of concurrent calls on one
    /// deal exactly one pays, the others get a conflict naming its stage.
    pub async fn win_deal(
        &self,
        caller: &Caller,
        id: &str,
        at: i64,
    ) -> Result<(DealRow, Vec<CommissionLineRow>), ServiceError> {
        let at = check_time("closed_at", at)?;
        let deal = self.deal_at(caller, id, DealStage::Open).await?;
        if deal.partner_id.is_some() {
            self.commission(caller, &deal, DealStep::Won { at }, wit::CommissionEvent::Won, at).await?;
        } else {
            self.db.close_deal(&caller.tenant, &deal, Close::Won, at).await?;
        }
        self.deal(caller, id).await
    }

    /// Marks an open deal lost at `at` (admin or manager).
    pub async fn lose_deal(
        &self,
        caller: &Caller,
        id: &str,
        at: i64,
    ) -> Result<(DealRow, Vec<CommissionLineRow>), ServiceError> {
        let at = check_time("closed_at", at)?;
        let deal = self.deal_at(caller, id, DealStage::Open).await?;
        self.db.close_deal(&caller.tenant, &deal, Close::Lost, at).await?;
        self.deal(caller, id).await
    }

    /// Records a refund on a won deal and runs the commission hook for the
    /// clawback: the refund, the decision, the clawback lines and the event
    /// are one unit of work, guarded on the refunded total the hook saw.
    pub async fn refund_deal(
        &self,
        caller: &Caller,
        id: &str,
        amount: wit::Money,
        at: i64,
    ) -> Result<(DealRow, Vec<CommissionLineRow>), ServiceError> {
        let at = check_time("at", at)?;
        let deal = self.deal_at(caller, id, DealStage::Won).await?;
        check_money("amount", &amount, &deal.currency, true)?;
        if amount.amount > deal.first_year_acv {
            return Err(bad(format!(
                "`amount` {} is more than the deal's first-year ACV ({})",
                amount.amount, deal.first_year_acv
            )));
        }
        // Within the ACV, but past what earlier refunds left: the deal's
        // state, not the request, is in the way (409, naming it).
        let outstanding = deal.first_year_acv - deal.refunded;
        if amount.amount > outstanding {
            return Err(ServiceError::Conflict(format!(
                "deal `{id}` has {} refunded already; at most {outstanding} remains to refund",
                deal.refunded
            )));
        }
        let step = DealStep::Refund { amount: amount.amount };
        if deal.partner_id.is_some() {
            self.commission(caller, &deal, step, wit::CommissionEvent::Refund(amount), at).await?;
        } else {
            self.db.add_refund(&caller.tenant, &deal, amount.amount).await?;
        }
        self.deal(caller, id).await
    }

    /// Runs the commission hook on `deal` for `event` and writes `step`
    /// (the deal's transition), the decision, its lines and the event in
    /// one unit of work.
    async fn commission(
        &self,
        caller: &Caller,
        deal: &DealRow,
        step: DealStep,
        event: wit::CommissionEvent,
        at: i64,
    ) -> Result<(), ServiceError> {
        let tenant = self.tenant(&caller.tenant)?;
        let partner_id = deal.partner_id.as_deref().expect("partner deal");
        let partner = self
            .db
            .partner(&caller.tenant, partner_id)
            .await?
            .ok_or_else(|| ServiceError::Internal("deal partner vanished".into()))?;
        let money = |amount| wit::Money { amount, currency: deal.currency.clone() };
        let recorded = self.db.deal_lines(&caller.tenant, &deal.id).await?;
        let prior_lines = recorded
            .iter()
            // Not a held or voided line (never owed), nor a person's
            // adjustment (the WIT knows the plugin's own kinds only).
            .filter(|l| !matches!(l.status, LineStatus::Held | LineStatus::Voided) && l.kind != "adjustment")
            .map(|l| Ok(wit::PriorLine { kind: parse_enum("line kind", &l.kind)?, amount: money(l.amount) }))
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let closed_at = deal.closed_at.unwrap_or(at);
        // Won ACV earlier in the same calendar quarter, before this deal, in
        // its currency.
        let quarter_to_date =
            self.db.won_acv(&caller.tenant, partner_id, quarter_start(closed_at), closed_at, &deal.currency).await?;
        let input = wit::CommissionInput {
            context: tenant.program.context(at),
            event,
            deal: wit::Deal {
                id: deal.id.clone(),
                first_year_acv: money(deal.first_year_acv),
                services: money(deal.services),
                source: if deal.source == DealSource::PartnerInfluenced {
                    wit::DealSource::PartnerInfluenced
                } else {
                    wit::DealSource::PartnerSourced
                },
                closed_at,
            },
            partner: wit_partner(&partner)?,
            prior_lines,
            quarter_to_date: money(quarter_to_date),
        };
        let called = self.call_one::<Commission>(&tenant, input).await?;
        let due_at = at
            .checked_add(payment_terms(&tenant).saturating_mul(DAY))
            .ok_or_else(|| bad("the payment date is past the end of time"))?;
        let line = |kind: String, amount, currency, rate_bps, description, status: LineStatus| CommissionLineRow {
            id: 0,
            deal_id: deal.id.clone(),
            partner_id: partner_id.to_string(),
            kind,
            amount,
            currency,
            rate_bps,
            description,
            status,
            due_at,
            decision_id: 0,
            adjusts: None,
            note: None,
            payout_run: None,
            clawed_back: 0,
        };
        let lines: Vec<CommissionLineRow> = if called.fallback {
            vec![line("fee".into(), 0, deal.currency.clone(), 0, called.output.explanation.clone(), LineStatus::Held)]
        } else {
            called
                .output
                .lines
                .iter()
                .map(|l| CommissionLineRow {
                    partner_id: l.partner_id.clone(),
                    // A clawback is linked to the line it takes back: the
                    // partner's first earned line on the deal.
                    adjusts: if l.amount.amount < 0 {
                        recorded
                            .iter()
                            .find(|r| {
                                r.partner_id == l.partner_id
                                    && r.amount > 0
                                    && r.kind != "adjustment"
                                    && !matches!(r.status, LineStatus::Held | LineStatus::Voided)
                            })
                            .map(|r| r.id)
                    } else {
                        None
                    },
                    ..line(
                        enum_name(&l.kind),
                        l.amount.amount,
                        l.amount.currency.clone(),
                        i64::from(l.rate),
                        l.description.clone(),
                        LineStatus::Pending,
                    )
                })
                .collect()
        };
        let event = if called.fallback {
            "commission.held"
        } else if lines.iter().any(|l| l.amount < 0) {
            "commission.clawback"
        } else {
            "commission.created"
        };
        let record = DecidedRecord::Commission(CommissionWrite { deal: deal.clone(), step, lines });
        self.write_decided(&tenant, at, called, record, event, None).await?;
        Ok(())
    }

    /// A partner's commission statement: lines due in `[from, to)`.
    pub async fn statement(
        &self,
        caller: &Caller,
        partner: &str,
        from: i64,
        to: i64,
    ) -> Result<Statement, ServiceError> {
        if from >= to {
            return Err(bad("`from` must be before `to`"));
        }
        self.partner(caller, partner).await?;
        let tenant = self.tenant(&caller.tenant)?;
        let lines = self.db.partner_lines(&caller.tenant, partner, from, to).await?;
        let mut by_status = std::collections::BTreeMap::new();
        let mut totals = std::collections::BTreeMap::new();
        let currency = tenant.program.currency.clone();
        for l in &lines {
            let amount = l.line.amount;
            // Amounts are bounded on input (MAX_MONEY), a sum of a
            // statement's lines cannot overflow; checked all the same.
            let overflow = || ServiceError::Internal(format!("the statement of `{partner}` overflows"));
            if l.line.currency == currency {
                let entry = by_status.entry(l.line.status.as_str().to_string()).or_insert(0i64);
                *entry = entry.checked_add(amount).ok_or_else(overflow)?;
            }
            if l.line.status != LineStatus::Voided {
                let entry = totals.entry(l.line.currency.clone()).or_insert(0i64);
                *entry = entry.checked_add(amount).ok_or_else(overflow)?;
            }
        }
        let total = totals.get(&currency).copied().unwrap_or(0);
        Ok(Statement { partner_id: partner.to_string(), from, to, currency, total, by_status, totals, lines })
    }
}

#[cfg(test)]
mod tests {
    use super::random_id;

    #[test]
    fn ids_are_prefixed_hex_and_sort_by_creation() {
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(random_id("l").unwrap());
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        for id in &ids {
            let hex = id.strip_prefix("l_").expect("prefixed");
            assert_eq!(hex.len(), 28, "{id}");
            assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "later ids sort later");
        // Within one millisecond, the random part keeps them apart.
        let same: std::collections::HashSet<_> = (0..1_000).map(|_| random_id("r").unwrap()).collect();
        assert_eq!(same.len(), 1_000);
    }
}
