//! Importing a company's history (issue 16, item 7): partners, accounts,
//! registrations, deals and commission lines with their original dates and
//! statuses, written in one transaction (or not at all). Validation is the
//! application's; this writes rows already checked.

use super::{Db, PersonDecision, StoreError};
use pactum_core::{DealSource, DealStage, LineStatus, PartnerStatus, RegistrationStatus};
use std::collections::HashSet;

/// A partner as imported.
// Fields as the columns of the same names (see the row types in `records`).
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct PartnerImport {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub tier: String,
    pub territories: Vec<String>,
    pub manager: Option<String>,
    pub contact_email: Option<String>,
    pub status: PartnerStatus,
    pub joined_at: i64,
}

/// An account as imported.
// Fields as the columns of the same names (see the row types in `records`).
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct AccountImport {
    pub domain: String,
    pub name: String,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    pub country: Option<String>,
    pub region: Option<String>,
}

/// A registration as imported.
// Fields as the columns of the same names (see the row types in `records`).
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct RegistrationImport {
    pub id: String,
    pub partner_id: String,
    pub account_domain: String,
    pub amount: i64,
    pub currency: String,
    pub expected_close: Option<i64>,
    pub status: RegistrationStatus,
    pub protected_until: Option<i64>,
    pub reason: String,
    pub created_at: i64,
}

/// A deal as imported.
// Fields as the columns of the same names (see the row types in `records`).
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct DealImport {
    pub id: String,
    pub partner_id: Option<String>,
    pub account_domain: String,
    pub first_year_acv: i64,
    pub services: i64,
    pub currency: String,
    pub source: DealSource,
    pub stage: DealStage,
    pub refunded: i64,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub registration_id: Option<String>,
}

/// A commission line as imported.
// Fields as the columns of the same names (see the row types in `records`).
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct LineImport {
    pub deal_id: String,
    pub partner_id: String,
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub rate_bps: i64,
    pub description: String,
    pub status: LineStatus,
    pub due_at: i64,
}

/// Everything one import writes.
// Fields as the columns of the same names (see the row types in `records`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub partners: Vec<PartnerImport>,
    pub accounts: Vec<AccountImport>,
    pub registrations: Vec<RegistrationImport>,
    pub deals: Vec<DealImport>,
    pub lines: Vec<LineImport>,
}

/// The ids a company has already, to check an import's references and
/// duplicates against.
#[derive(Debug, Default)]
#[allow(missing_docs)]
pub struct KnownIds {
    pub partners: HashSet<String>,
    pub registrations: HashSet<String>,
    pub deals: HashSet<String>,
}

/// Rows per insert statement (at most 13 binds a row: well under both
/// backends' limits on one statement).
const ROWS_PER_STATEMENT: usize = 2_000;

impl Db {
    /// The company's partner, registration and deal ids.
    pub async fn known_ids(&self, tenant: &str) -> Result<KnownIds, StoreError> {
        Ok(with_reader!(self, |e| {
            let mut known = KnownIds::default();
            for (table, set) in [
                ("partners", &mut known.partners),
                ("registrations", &mut known.registrations),
                ("deals", &mut known.deals),
            ] {
                let ids: Vec<String> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM {table} WHERE tenant = $1")))
                        .bind(tenant)
                        .fetch_all(e)
                        .await?;
                set.extend(ids);
            }
            known
        }))
    }

    /// Writes `batch` in one transaction, with one decision-log entry
    /// (`import`, naming `actor`) that the imported lines point at, and an
    /// `import.done` event with the counts. A row whose id exists already
    /// fails the whole import (the application checks first).
    pub async fn import(&self, tenant: &str, batch: &ImportBatch, actor: &str, at: i64) -> Result<i64, StoreError> {
        let created_at = super::now();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            let counts = serde_json::json!({
                "partners": batch.partners.len(), "accounts": batch.accounts.len(),
                "registrations": batch.registrations.len(), "deals": batch.deals.len(), "lines": batch.lines.len(),
            });
            self.before_write()?;
            let person = PersonDecision {
                hook: "commission",
                subject: "import",
                at,
                outcome: "import",
                record: &counts,
                decision: &counts,
                actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, created_at);
            for chunk in batch.partners.chunks(ROWS_PER_STATEMENT) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO partners (tenant, id, name, kind, tier, territories, certifications, manager, status, \
                     joined_at, contact_email) ",
                );
                q.push_values(chunk, |mut b, p| {
                    b.push_bind(tenant)
                        .push_bind(&p.id)
                        .push_bind(&p.name)
                        .push_bind(&p.kind)
                        .push_bind(&p.tier)
                        .push_bind(serde_json::to_string(&p.territories).unwrap_or_default())
                        .push_bind("[]")
                        .push_bind(&p.manager)
                        .push_bind(p.status.as_str())
                        .push_bind(p.joined_at)
                        .push_bind(&p.contact_email);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in batch.accounts.chunks(ROWS_PER_STATEMENT) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO accounts (tenant, domain, name, industry, employees, country, region) ",
                );
                q.push_values(chunk, |mut b, a| {
                    b.push_bind(tenant)
                        .push_bind(&a.domain)
                        .push_bind(&a.name)
                        .push_bind(&a.industry)
                        .push_bind(a.employees)
                        .push_bind(&a.country)
                        .push_bind(&a.region);
                });
                q.push(super::records::ACCOUNT_UPSERT);
                q.build().execute(&mut *tx).await?;
            }
            for chunk in batch.registrations.chunks(ROWS_PER_STATEMENT) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO registrations (tenant, id, partner_id, account_domain, amount, currency, \
                     expected_close, status, protected_until, reason, decision_id, plugin_hash, created_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(tenant)
                        .push_bind(&r.id)
                        .push_bind(&r.partner_id)
                        .push_bind(&r.account_domain)
                        .push_bind(r.amount)
                        .push_bind(&r.currency)
                        .push_bind(r.expected_close)
                        .push_bind(r.status.as_str())
                        .push_bind(r.protected_until)
                        .push_bind(&r.reason)
                        .push_bind(None::<i64>)
                        .push_bind(None::<String>)
                        .push_bind(r.created_at);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in batch.deals.chunks(ROWS_PER_STATEMENT) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO deals (tenant, id, partner_id, account_domain, first_year_acv, services, currency, \
                     source, stage, refunded, closed_at, created_at, registration_id) ",
                );
                q.push_values(chunk, |mut b, d| {
                    b.push_bind(tenant)
                        .push_bind(&d.id)
                        .push_bind(&d.partner_id)
                        .push_bind(&d.account_domain)
                        .push_bind(d.first_year_acv)
                        .push_bind(d.services)
                        .push_bind(&d.currency)
                        .push_bind(d.source.as_str())
                        .push_bind(d.stage.as_str())
                        .push_bind(d.refunded)
                        .push_bind(d.closed_at)
                        .push_bind(d.created_at)
                        .push_bind(&d.registration_id);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in batch.lines.chunks(ROWS_PER_STATEMENT) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO commission_lines (tenant, deal_id, partner_id, kind, amount, currency, rate_bps, \
                     description, status, due_at, decision_id, created_at) ",
                );
                q.push_values(chunk, |mut b, l| {
                    b.push_bind(tenant)
                        .push_bind(&l.deal_id)
                        .push_bind(&l.partner_id)
                        .push_bind(&l.kind)
                        .push_bind(l.amount)
                        .push_bind(&l.currency)
                        .push_bind(l.rate_bps)
                        .push_bind(&l.description)
                        .push_bind(l.status.as_str())
                        .push_bind(l.due_at)
                        .push_bind(decision_id)
                        .push_bind(created_at);
                });
                q.build().execute(&mut *tx).await?;
            }
            let payload = serde_json::json!({ "imported": counts, "by": actor, "decision_id": decision_id });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, "import.done", &payload);
            tx.commit().await?;
            decision_id
        }))
    }
}
