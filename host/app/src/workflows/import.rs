//! Importing history (issue 16, item 7): a company moving from another PRM
//! or a spreadsheet brings its partners, accounts, registrations, deals and
//! commission lines with their original dates and statuses, as JSON (every
//! kind in one document) or CSV (one kind a file, a header row naming the
//! fields). Every row is checked (fields, bounds, references to partners,
//! registrations and deals already there or in the same import, duplicate
//! ids) and the report names each refused row and why. Nothing is written
//! while any row is refused, unless `partial` asks to import the others;
//! what is written is one transaction.

use super::{MAX_LABEL, MAX_MONEY, MAX_NAME, bad, check_domain, check_email, check_id, check_text, check_time};
use crate::auth::Capability;
use crate::service::{Caller, Service, ServiceError};
use crate::store::import::{AccountImport, DealImport, ImportBatch, LineImport, PartnerImport, RegistrationImport};
use pactum_core::{DealSource, DealStage, LineStatus, PartnerStatus, RegistrationStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Rows one import may carry.
pub const MAX_IMPORT_ROWS: usize = 2_000_000;
/// Refusals a report lists at most (the count is always exact).
const MAX_LISTED: usize = 1_000;

/// A partner row.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerIn {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// referral, reseller, implementation, technology or strategic.
    pub kind: String,
    /// registered (default), silver, gold or platinum.
    #[serde(default)]
    pub tier: Option<String>,
    /// Territories, separated by `;`.
    #[serde(default)]
    pub territories: Option<String>,
    /// Its partner manager.
    #[serde(default)]
    pub manager: Option<String>,
    /// Its contact's email.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// active (default), suspended or offboarded.
    #[serde(default)]
    pub status: Option<PartnerStatus>,
    /// When it joined (Unix seconds).
    pub joined_at: i64,
}

/// An account row.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountIn {
    /// Its domain.
    pub domain: String,
    /// Its name.
    pub name: String,
    /// Industry.
    #[serde(default)]
    pub industry: Option<String>,
    /// Employees.
    #[serde(default)]
    pub employees: Option<u32>,
    /// Country (ISO 3166 alpha-2).
    #[serde(default)]
    pub country: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
}

/// A registration row.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationIn {
    /// Its id.
    pub id: String,
    /// The partner.
    pub partner_id: String,
    /// The account's domain.
    pub account_domain: String,
    /// Expected value, minor units.
    pub amount: i64,
    /// Its currency (the program's).
    pub currency: String,
    /// Expected close.
    #[serde(default)]
    pub expected_close: Option<i64>,
    /// Its status then.
    pub status: RegistrationStatus,
    /// The protection's end (required when approved).
    #[serde(default)]
    pub protected_until: Option<i64>,
    /// Why it was decided so.
    #[serde(default)]
    pub reason: Option<String>,
    /// When it was submitted.
    pub created_at: i64,
}

/// A deal row.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DealIn {
    /// Its id.
    pub id: String,
    /// The partner (none for a direct deal).
    #[serde(default)]
    pub partner_id: Option<String>,
    /// The account's domain.
    pub account_domain: String,
    /// First-year ACV, minor units.
    pub first_year_acv: i64,
    /// Services revenue, minor units.
    #[serde(default)]
    pub services: Option<i64>,
    /// Its currency (the program's).
    pub currency: String,
    /// partner-sourced, partner-influenced or direct.
    pub source: DealSource,
    /// open, won or lost.
    pub stage: DealStage,
    /// Refunded so far, minor units.
    #[serde(default)]
    pub refunded: Option<i64>,
    /// When it closed (won or lost).
    #[serde(default)]
    pub closed_at: Option<i64>,
    /// When it was created.
    pub created_at: i64,
    /// The registration it came from.
    #[serde(default)]
    pub registration_id: Option<String>,
}

/// A commission line row.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    /// The deal.
    pub deal_id: String,
    /// Who is paid.
    pub partner_id: String,
    /// fee, margin, bonus, clawback or adjustment.
    pub kind: String,
    /// Minor units (negative for a clawback).
    pub amount: i64,
    /// Its currency (the program's).
    pub currency: String,
    /// The rate applied, basis points.
    #[serde(default)]
    pub rate_bps: Option<i64>,
    /// Why.
    #[serde(default)]
    pub description: Option<String>,
    /// pending, held, disputed, paid or voided.
    pub status: LineStatus,
    /// When it is (or was) due.
    pub due_at: i64,
}

/// An import as JSON: any of the five kinds.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportDocument {
    /// Partners.
    #[serde(default)]
    pub partners: Vec<PartnerIn>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<AccountIn>,
    /// Registrations.
    #[serde(default)]
    pub registrations: Vec<RegistrationIn>,
    /// Deals.
    #[serde(default)]
    pub deals: Vec<DealIn>,
    /// Commission lines.
    #[serde(default)]
    pub lines: Vec<LineIn>,
}

/// One refused row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Refusal {
    /// partners, accounts, registrations, deals or lines.
    pub kind: String,
    /// Its place among its kind's rows, from 1 (in a CSV file: the line
    /// after the header, so row 1 is line 2).
    pub row: usize,
    /// Why, naming the field.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImportReport {
    /// Whether anything was written: false when rows were refused and the
    /// import was not `partial`.
    pub applied: bool,
    /// Rows written per kind (what would have been, when not applied).
    pub imported: BTreeMap<String, usize>,
    /// How many rows were refused.
    pub refused_count: usize,
    /// The refused rows (the first 1,000).
    pub refused: Vec<Refusal>,
    /// The decision-log entry naming who imported, when applied.
    pub decision_id: Option<i64>,
}

/// The kinds, as a CSV import names them.
pub const KINDS: [&str; 5] = ["partners", "accounts", "registrations", "deals", "lines"];

/// Reads a CSV file of one `kind` into a document.
pub fn from_csv(kind: &str, csv: &[u8]) -> Result<ImportDocument, ServiceError> {
    fn rows<T: serde::de::DeserializeOwned>(csv: &[u8]) -> Result<Vec<T>, ServiceError> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(csv);
        let mut out = Vec::new();
        for (i, row) in reader.deserialize().enumerate() {
            if out.len() >= MAX_IMPORT_ROWS {
                return Err(bad(format!("an import carries at most {MAX_IMPORT_ROWS} rows")));
            }
            out.push(row.map_err(|e| bad(format!("CSV line {}: {}", i + 2, csv_error(&e))))?);
        }
        Ok(out)
    }
    let mut doc = ImportDocument::default();
    match kind {
        "partners" => doc.partners = rows(csv)?,
        "accounts" => doc.accounts = rows(csv)?,
        "registrations" => doc.registrations = rows(csv)?,
        "deals" => doc.deals = rows(csv)?,
        "lines" => doc.lines = rows(csv)?,
        other => return Err(bad(format!("no import kind {other:?}: use {}", KINDS.join(", ")))),
    }
    Ok(doc)
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(field) => format!("field {}: {err}", field + 1),
            None => err.to_string(),
        },
        _ => e.to_string(),
    }
}

/// What one row's checks found: the first problem, as a message.
type Checked<T> = Result<T, String>;

fn msg(e: ServiceError) -> String {
    e.to_string()
}

fn money(field: &str, amount: i64, signed: bool) -> Checked<i64> {
    let ok = if signed { amount.unsigned_abs() <= MAX_MONEY as u64 } else { (0..=MAX_MONEY).contains(&amount) };
    if ok {
        Ok(amount)
    } else {
        Err(format!("`{field}` must be {} at most {MAX_MONEY} minor units", if signed { "" } else { "0 to" }))
    }
}

fn optional_text(field: &str, text: Option<&str>, max: usize) -> Checked<()> {
    text.map_or(Ok(()), |t| check_text(field, t, max)).map_err(msg)
}

impl Service {
    /// Checks every row of `doc` and, when none is refused (or `partial`),
    /// writes the accepted ones in one transaction (admin).
    pub async fn import(
        &self,
        caller: &Caller,
        doc: ImportDocument,
        partial: bool,
        at: i64,
    ) -> Result<ImportReport, ServiceError> {
        caller.require(Capability::ChangeProgram)?;
        let total =
            doc.partners.len() + doc.accounts.len() + doc.registrations.len() + doc.deals.len() + doc.lines.len();
        if total > MAX_IMPORT_ROWS {
            return Err(bad(format!("an import carries at most {MAX_IMPORT_ROWS} rows")));
        }
        let tenant = self.tenant(&caller.tenant)?;
        let known = self.db.known_ids(&caller.tenant).await?;
        let mut refused: Vec<Refusal> = Vec::new();
        let mut refuse = |kind: &str, row: usize, message: String| {
            refused.push(Refusal { kind: kind.into(), row, message });
        };
        let check_currency = |field: &str, c: &str| -> Checked<()> {
            if tenant.program.accepts(c) {
                Ok(())
            } else {
                Err(format!("`{field}` is {c:?}; this program accepts {}", tenant.program.currencies.join(", ")))
            }
        };
        let mut batch = ImportBatch::default();

        // Partners first: later kinds refer to them.
        let mut partners: HashSet<String> = known.partners.clone();
        for (i, p) in doc.partners.into_iter().enumerate() {
            let checked = (|| -> Checked<PartnerImport> {
                check_id("id", &p.id).map_err(msg)?;
                if partners.contains(&p.id) {
                    return Err(format!("partner `{}` exists already", p.id));
                }
                if p.name.trim().is_empty() {
                    return Err("`name` must not be empty".into());
                }
                check_text("name", &p.name, MAX_NAME).map_err(msg)?;
                let kind = super::parse_enum::<crate::runtime::types::PartnerKind>("kind", &p.kind)
                    .map_err(|_| "`kind` must be referral, reseller, implementation, technology or strategic")?;
                let tier = p.tier.as_deref().unwrap_or("registered");
                let tier = super::parse_enum::<crate::runtime::types::Tier>("tier", tier)
                    .map_err(|_| "`tier` must be registered, silver, gold or platinum")?;
                let territories: Vec<String> = p
                    .territories
                    .as_deref()
                    .unwrap_or("")
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
                if territories.len() > 100 {
                    return Err("`territories` may list at most 100".into());
                }
                for t in &territories {
                    check_text("territories", t, MAX_LABEL).map_err(msg)?;
                }
                optional_text("manager", p.manager.as_deref(), MAX_NAME)?;
                check_email("contact_email", p.contact_email.as_deref()).map_err(msg)?;
                check_time("joined_at", p.joined_at).map_err(msg)?;
                Ok(PartnerImport {
                    id: p.id.clone(),
                    name: p.name,
                    kind: super::enum_name(&kind),
                    tier: super::enum_name(&tier),
                    territories,
                    manager: p.manager,
                    contact_email: p.contact_email,
                    status: p.status.unwrap_or(PartnerStatus::Active),
                    joined_at: p.joined_at,
                })
            })();
            match checked {
                Ok(row) => {
                    partners.insert(row.id.clone());
                    batch.partners.push(row);
                }
                Err(m) => refuse("partners", i + 1, m),
            }
        }

        let mut domains: HashSet<String> = HashSet::new();
        for (i, a) in doc.accounts.into_iter().enumerate() {
            let checked = (|| -> Checked<AccountImport> {
                let domain = check_domain(&a.domain).map_err(msg)?;
                if !domains.insert(domain.clone()) {
                    return Err(format!("account `{domain}` is in this import twice"));
                }
                check_text("name", &a.name, MAX_NAME).map_err(msg)?;
                for (field, value) in [("industry", &a.industry), ("country", &a.country), ("region", &a.region)] {
                    optional_text(field, value.as_deref(), MAX_LABEL)?;
                }
                Ok(AccountImport {
                    domain,
                    name: a.name,
                    industry: a.industry,
                    employees: a.employees.map(i64::from),
                    country: a.country,
                    region: a.region,
                })
            })();
            match checked {
                Ok(row) => batch.accounts.push(row),
                Err(m) => refuse("accounts", i + 1, m),
            }
        }

        let mut registrations: HashSet<String> = known.registrations.clone();
        for (i, r) in doc.registrations.into_iter().enumerate() {
            let checked = (|| -> Checked<RegistrationImport> {
                check_id("id", &r.id).map_err(msg)?;
                if registrations.contains(&r.id) {
                    return Err(format!("registration `{}` exists already", r.id));
                }
                if !partners.contains(&r.partner_id) {
                    return Err(format!(
                        "`partner_id` `{}` is no partner of the company or of this import",
                        r.partner_id
                    ));
                }
                let domain = check_domain(&r.account_domain).map_err(msg)?;
                money("amount", r.amount, false)?;
                check_currency("currency", &r.currency)?;
                check_time("created_at", r.created_at).map_err(msg)?;
                if let Some(t) = r.expected_close {
                    check_time("expected_close", t).map_err(msg)?;
                }
                match (r.status, r.protected_until) {
                    (RegistrationStatus::Approved, None) => {
                        return Err("`protected_until` is required for an approved registration".into());
                    }
                    (_, Some(t)) => {
                        check_time("protected_until", t).map_err(msg)?;
                    }
                    _ => {}
                }
                optional_text("reason", r.reason.as_deref(), 1_000)?;
                Ok(RegistrationImport {
                    id: r.id.clone(),
                    partner_id: r.partner_id,
                    account_domain: domain,
                    amount: r.amount,
                    currency: r.currency,
                    expected_close: r.expected_close,
                    status: r.status,
                    protected_until: r.protected_until,
                    reason: r.reason.unwrap_or_else(|| "Imported.".into()),
                    created_at: r.created_at,
                })
            })();
            match checked {
                Ok(row) => {
                    registrations.insert(row.id.clone());
                    batch.registrations.push(row);
                }
                Err(m) => refuse("registrations", i + 1, m),
            }
        }

        let mut deals: HashSet<String> = known.deals.clone();
        let mut from_registration: HashSet<String> = HashSet::new();
        for (i, d) in doc.deals.into_iter().enumerate() {
            let checked = (|| -> Checked<DealImport> {
                check_id("id", &d.id).map_err(msg)?;
                if deals.contains(&d.id) {
                    return Err(format!("deal `{}` exists already", d.id));
                }
                match (&d.partner_id, d.source) {
                    (None, DealSource::Direct) => {}
                    (Some(p), DealSource::PartnerSourced | DealSource::PartnerInfluenced) => {
                        if !partners.contains(p) {
                            return Err(format!("`partner_id` `{p}` is no partner of the company or of this import"));
                        }
                    }
                    (Some(_), DealSource::Direct) => return Err("a direct deal has no `partner_id`".into()),
                    (None, _) => return Err("`partner_id` is required for a partner deal".into()),
                }
                if let Some(reg) = &d.registration_id {
                    if !registrations.contains(reg) {
                        return Err(format!(
                            "`registration_id` `{reg}` is no registration of the company or of this import"
                        ));
                    }
                    if !from_registration.insert(reg.clone()) {
                        return Err(format!("registration `{reg}` opens one deal; this import names it twice"));
                    }
                }
                let domain = check_domain(&d.account_domain).map_err(msg)?;
                money("first_year_acv", d.first_year_acv, false)?;
                let services = money("services", d.services.unwrap_or(0), false)?;
                let refunded = money("refunded", d.refunded.unwrap_or(0), false)?;
                if refunded > d.first_year_acv {
                    return Err("`refunded` is more than `first_year_acv`".into());
                }
                check_currency("currency", &d.currency)?;
                check_time("created_at", d.created_at).map_err(msg)?;
                match (d.stage, d.closed_at) {
                    (DealStage::Open, Some(_)) => return Err("an open deal has no `closed_at`".into()),
                    (DealStage::Won | DealStage::Lost, None) => {
                        return Err("`closed_at` is required for a won or lost deal".into());
                    }
                    (_, Some(t)) => {
                        check_time("closed_at", t).map_err(msg)?;
                    }
                    _ => {}
                }
                Ok(DealImport {
                    id: d.id.clone(),
                    partner_id: d.partner_id,
                    account_domain: domain,
                    first_year_acv: d.first_year_acv,
                    services,
                    currency: d.currency,
                    source: d.source,
                    stage: d.stage,
                    refunded,
                    closed_at: d.closed_at,
                    created_at: d.created_at,
                    registration_id: d.registration_id,
                })
            })();
            match checked {
                Ok(row) => {
                    deals.insert(row.id.clone());
                    batch.deals.push(row);
                }
                Err(m) => refuse("deals", i + 1, m),
            }
        }

        for (i, l) in doc.lines.into_iter().enumerate() {
            let checked = (|| -> Checked<LineImport> {
                if !deals.contains(&l.deal_id) {
                    return Err(format!("`deal_id` `{}` is no deal of the company or of this import", l.deal_id));
                }
                if !partners.contains(&l.partner_id) {
                    return Err(format!(
                        "`partner_id` `{}` is no partner of the company or of this import",
                        l.partner_id
                    ));
                }
                if !matches!(l.kind.as_str(), "fee" | "margin" | "bonus" | "clawback" | "adjustment") {
                    return Err("`kind` must be fee, margin, bonus, clawback or adjustment".into());
                }
                money("amount", l.amount, true)?;
                check_currency("currency", &l.currency)?;
                let rate = l.rate_bps.unwrap_or(0);
                if !(0..=10_000).contains(&rate) {
                    return Err("`rate_bps` must be 0 to 10000".into());
                }
                optional_text("description", l.description.as_deref(), 1_000)?;
                check_time("due_at", l.due_at).map_err(msg)?;
                Ok(LineImport {
                    deal_id: l.deal_id,
                    partner_id: l.partner_id,
                    kind: l.kind,
                    amount: l.amount,
                    currency: l.currency,
                    rate_bps: rate,
                    description: l.description.unwrap_or_else(|| "Imported.".into()),
                    status: l.status,
                    due_at: l.due_at,
                })
            })();
            match checked {
                Ok(row) => batch.lines.push(row),
                Err(m) => refuse("lines", i + 1, m),
            }
        }

        let imported: BTreeMap<String, usize> = [
            ("partners", batch.partners.len()),
            ("accounts", batch.accounts.len()),
            ("registrations", batch.registrations.len()),
            ("deals", batch.deals.len()),
            ("lines", batch.lines.len()),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
        let refused_count = refused.len();
        refused.truncate(MAX_LISTED);
        let apply = refused_count == 0 || partial;
        let decision_id = if apply && imported.values().any(|&n| n > 0) {
            Some(self.db.import(&caller.tenant, &batch, &caller.key, at).await?)
        } else {
            None
        };
        if decision_id.is_some() {
            tracing::info!(tenant = %caller.tenant, ?imported, refused = refused_count, "history imported");
        }
        Ok(ImportReport { applied: apply, imported, refused_count, refused, decision_id })
    }
}
