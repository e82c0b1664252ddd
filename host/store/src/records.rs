//! The program's records: partners, accounts, deal registrations, deals and
//! commission lines. Every query is scoped by tenant.

use super::{Db, DealStep, Get, PersonDecision, StoreError};
use pactum_core::{DealSource, DealStage, ExtensionStatus, LineStatus, PartnerStatus, RegistrationStatus};
use serde::{Deserialize, Serialize};

/// How a deal closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// Won: commission follows.
    Won,
    /// Lost.
    Lost,
}

impl Close {
    /// The stage it sets.
    pub fn stage(self) -> DealStage {
        match self {
            Close::Won => DealStage::Won,
            Close::Lost => DealStage::Lost,
        }
    }

    /// The stage (and registration status) it sets: `won` or `lost`.
    pub fn as_str(self) -> &'static str {
        self.stage().as_str()
    }
}

/// A partner as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PartnerRow {
    /// Its id within the tenant.
    pub id: String,
    /// Display name.
    pub name: String,
    /// referral, reseller, implementation, technology or strategic (the
    /// WIT's `partner-kind`).
    pub kind: String,
    /// registered, silver, gold or platinum (the WIT's `tier`).
    pub tier: String,
    /// Territories it covers.
    pub territories: Vec<String>,
    /// Certifications, `{name, expires_at}`.
    pub certifications: serde_json::Value,
    /// Its partner manager, if any.
    pub manager: Option<String>,
    /// Where it is in its lifecycle.
    pub status: PartnerStatus,
    /// When it joined (Unix seconds).
    pub joined_at: i64,
    /// Its contact's email, if known.
    pub contact_email: Option<String>,
    /// Bumped by every change: a change made on the partner as read is
    /// written only if it is still this version.
    pub version: i64,
}

/// An account (the customer a deal is with).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountRow {
    /// Its domain, unique per tenant.
    pub domain: String,
    /// Its name.
    pub name: String,
    /// Industry, if known.
    pub industry: Option<String>,
    /// Employee count, if known.
    pub employees: Option<u32>,
    /// Country (ISO 3166 alpha-2), if known.
    pub country: Option<String>,
    /// Region, if known.
    pub region: Option<String>,
}

/// How an account row already stored takes what a step learned of it: the
/// name is the latest, every other field keeps what is known unless the
/// step knows it.
pub(crate) const ACCOUNT_UPSERT: &str = " ON CONFLICT (tenant, domain) DO UPDATE SET name = excluded.name, \
     industry = COALESCE(excluded.industry, accounts.industry), \
     employees = COALESCE(excluded.employees, accounts.employees), \
     country = COALESCE(excluded.country, accounts.country), \
     region = COALESCE(excluded.region, accounts.region)";

impl AccountRow {
    /// `later` written over `self`, as [`ACCOUNT_UPSERT`] would write it.
    pub(crate) fn merge(&mut self, later: &AccountRow) {
        self.name = later.name.clone();
        let keep = |known: &mut Option<String>, new: &Option<String>| {
            if new.is_some() {
                known.clone_from(new);
            }
        };
        keep(&mut self.industry, &later.industry);
        keep(&mut self.country, &later.country);
        keep(&mut self.region, &later.region);
        if later.employees.is_some() {
            self.employees = later.employees;
        }
    }
}

/// A person's decision on a registration in review (see
/// [`Db::review_registration`]).
pub struct ManualReview<'a> {
    /// The registration.
    pub id: &'a str,
    /// `approved` or `rejected`.
    pub status: &'a str,
    /// The end of the protection period, when approved.
    pub protected_until: Option<i64>,
    /// Why, in the person's words.
    pub reason: &'a str,
    /// Who decided (`key:<12 hex>`).
    pub actor: &'a str,
    /// When (Unix seconds).
    pub at: i64,
    /// The decision-log record: who, what was reviewed.
    pub record: &'a serde_json::Value,
    /// The decision, in the approval hook's shape.
    pub decision: &'a serde_json::Value,
}

/// A deal registration.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RegistrationRow {
    /// Its id.
    pub id: String,
    /// The registering partner.
    pub partner_id: String,
    /// The account.
    pub account_domain: String,
    /// Expected deal value, minor units.
    pub amount: i64,
    /// Its currency.
    pub currency: String,
    /// Expected close (Unix seconds), if given.
    pub expected_close: Option<i64>,
    /// Where it is.
    pub status: RegistrationStatus,
    /// End of the protection period, when approved.
    pub protected_until: Option<i64>,
    /// The decision's explanation.
    pub reason: String,
    /// The decision log entry that decided it.
    pub decision_id: Option<i64>,
    /// The plugin that decided it.
    pub plugin_hash: Option<String>,
    /// When it was submitted.
    pub created_at: i64,
    /// The partner's latest request to extend its protection, if any.
    pub extension: Option<Extension>,
}

/// A partner's request to extend a registration's protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Extension {
    /// Days asked for (or granted).
    pub days: i64,
    /// The partner's reason, then the manager's.
    pub reason: String,
    /// Where it is.
    pub status: ExtensionStatus,
}

/// A deal.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DealRow {
    /// Its id.
    pub id: String,
    /// The registration it was opened from, if any.
    pub registration_id: Option<String>,
    /// The partner, if partner-sourced or -influenced.
    pub partner_id: Option<String>,
    /// The account.
    pub account_domain: String,
    /// First-year ACV, minor units.
    pub first_year_acv: i64,
    /// Services revenue, minor units.
    pub services: i64,
    /// Currency.
    pub currency: String,
    /// Where it came from.
    pub source: DealSource,
    /// Where it is.
    pub stage: DealStage,
    /// Refunded so far, minor units.
    pub refunded: i64,
    /// When it closed.
    pub closed_at: Option<i64>,
    /// When it was created.
    pub created_at: i64,
}

/// A commission line.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CommissionLineRow {
    /// Its id.
    pub id: i64,
    /// The deal.
    pub deal_id: String,
    /// Who is paid.
    pub partner_id: String,
    /// Fee, Margin, Bonus or Clawback.
    pub kind: String,
    /// Amount, minor units (negative for clawbacks).
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Rate applied.
    pub rate_bps: i64,
    /// Why.
    pub description: String,
    /// Where it is on its way to being paid.
    pub status: LineStatus,
    /// When it is due (payment terms after the close or refund).
    pub due_at: i64,
    /// The decision that produced it: a plugin's, or a person's for an
    /// adjustment line.
    pub decision_id: i64,
    /// For an adjustment line, the line it adjusts.
    pub adjusts: Option<i64>,
    /// Why a person last moved it (held, released, voided, disputed,
    /// resolved).
    pub note: Option<String>,
    /// For a paid line, the payout run that paid it.
    pub payout_run: Option<i64>,
    /// How much of it clawbacks linked to it (their `adjusts`) took back,
    /// minor units, zero or more.
    pub clawed_back: i64,
}

/// A statement's line: the line and who made it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StatementLine {
    /// The line.
    #[serde(flatten)]
    pub line: CommissionLineRow,
    /// The plugin whose decision made it (`decision_id`); none for a
    /// person's adjustment line.
    pub plugin_hash: Option<String>,
    /// The person who made it (an adjustment line), as `key:<12 hex>`.
    pub decided_by: Option<String>,
}

/// A stored enum column. Each such column has a CHECK that allows only
/// the spellings `parse` reads, so `otherwise` is for a database changed by
/// hand; it is logged.
pub(crate) fn spelled<T: Copy + std::fmt::Debug>(
    r: &impl Get,
    column: &str,
    parse: fn(&str) -> Option<T>,
    otherwise: T,
) -> T {
    let text: String = r.get(column);
    parse(&text).unwrap_or_else(|| {
        tracing::error!(column, text, ?otherwise, "a stored value that is none of its spellings");
        otherwise
    })
}

pub(crate) fn partner(r: &impl Get) -> PartnerRow {
    PartnerRow {
        id: r.get("id"),
        name: r.get("name"),
        kind: r.get("kind"),
        tier: r.get("tier"),
        territories: serde_json::from_str(&r.get::<String>("territories")).unwrap_or_default(),
        certifications: serde_json::from_str(&r.get::<String>("certifications")).unwrap_or_default(),
        manager: r.get("manager"),
        status: spelled(r, "status", PartnerStatus::parse, PartnerStatus::Active),
        joined_at: r.get("joined_at"),
        contact_email: r.get("contact_email"),
        version: r.get("version"),
    }
}

pub(crate) fn registration(r: &impl Get) -> RegistrationRow {
    RegistrationRow {
        id: r.get("id"),
        partner_id: r.get("partner_id"),
        account_domain: r.get("account_domain"),
        amount: r.get("amount"),
        currency: r.get("currency"),
        expected_close: r.get("expected_close"),
        status: spelled(r, "status", RegistrationStatus::parse, RegistrationStatus::Submitted),
        protected_until: r.get("protected_until"),
        reason: r.get("reason"),
        decision_id: r.get("decision_id"),
        plugin_hash: r.get("plugin_hash"),
        created_at: r.get("created_at"),
        extension: extension(r),
    }
}

fn extension(r: &impl Get) -> Option<Extension> {
    let status: Option<String> = r.get("extension_status");
    Some(Extension {
        days: r.get::<Option<i64>>("extension_days")?,
        reason: r.get::<Option<String>>("extension_reason").unwrap_or_default(),
        status: ExtensionStatus::parse(&status?)?,
    })
}

/// A row of [`Db::account_with_live_registrations`]: the account (the same
/// on every row; `None` when the domain is unknown) and one live
/// registration (`None` when there is none).
fn account_and_registration(r: &impl Get, domain: &str) -> (Option<AccountRow>, Option<RegistrationRow>) {
    let account = r.get::<Option<String>>("a_name").map(|name| AccountRow {
        domain: domain.to_string(),
        name,
        industry: r.get("a_industry"),
        employees: r.get::<Option<i64>>("a_employees").and_then(|e| u32::try_from(e).ok()),
        country: r.get("a_country"),
        region: r.get("a_region"),
    });
    let live = r.get::<Option<String>>("id").is_some().then(|| registration(r));
    (account, live)
}

fn deal(r: &impl Get) -> DealRow {
    DealRow {
        id: r.get("id"),
        registration_id: r.get("registration_id"),
        partner_id: r.get("partner_id"),
        account_domain: r.get("account_domain"),
        first_year_acv: r.get("first_year_acv"),
        services: r.get("services"),
        currency: r.get("currency"),
        source: spelled(r, "source", DealSource::parse, DealSource::Direct),
        stage: spelled(r, "stage", DealStage::parse, DealStage::Open),
        refunded: r.get("refunded"),
        closed_at: r.get("closed_at"),
        created_at: r.get("created_at"),
    }
}

pub(crate) fn line(r: &impl Get) -> CommissionLineRow {
    CommissionLineRow {
        id: r.get("id"),
        deal_id: r.get("deal_id"),
        partner_id: r.get("partner_id"),
        kind: r.get("kind"),
        amount: r.get("amount"),
        currency: r.get("currency"),
        rate_bps: r.get("rate_bps"),
        description: r.get("description"),
        status: spelled(r, "status", LineStatus::parse, LineStatus::Held),
        due_at: r.get("due_at"),
        decision_id: r.get("decision_id"),
        adjusts: r.get("adjusts"),
        note: r.get("note"),
        payout_run: r.get("payout_run"),
        clawed_back: r.get("clawed_back"),
    }
}

/// A partner's lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerStep {
    /// active → suspended: no new registrations; earned lines still paid.
    Suspend,
    /// suspended → active.
    Reactivate,
    /// active or suspended → offboarded: no leads, its open registrations
    /// released; earned lines still paid.
    Offboard,
}

impl PartnerStep {
    /// The statuses it moves from, and the one it moves to.
    fn moves(self) -> (&'static [&'static str], &'static str) {
        match self {
            PartnerStep::Suspend => (&["active"], "suspended"),
            PartnerStep::Reactivate => (&["suspended"], "active"),
            PartnerStep::Offboard => (&["active", "suspended"], "offboarded"),
        }
    }

    /// The outbox event it queues.
    pub fn event(self) -> &'static str {
        match self {
            PartnerStep::Suspend => "partner.suspended",
            PartnerStep::Reactivate => "partner.reactivated",
            PartnerStep::Offboard => "partner.offboarded",
        }
    }
}

impl Db {
    /// Moves partner `id` through `step`, guarded in SQL on its status, and
    /// (offboarding) releases its open registrations; queues the step's
    /// event naming who did it and why: one transaction. Returns the partner
    /// as it is now and how many registrations were released.
    pub async fn partner_step(
        &self,
        tenant: &str,
        id: &str,
        step: PartnerStep,
        reason: &str,
        by: &str,
    ) -> Result<(PartnerRow, u64), StoreError> {
        let (from, to) = step.moves();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let mut q = sqlx::QueryBuilder::new("UPDATE partners SET status = ");
            q.push_bind(to)
                .push(", version = version + 1 WHERE tenant = ")
                .push_bind(tenant)
                .push(" AND id = ")
                .push_bind(id);
            q.push(" AND status IN (");
            let mut list = q.separated(", ");
            for status in from {
                list.push_bind(*status);
            }
            q.push(")");
            if q.build().execute(&mut *tx).await?.rows_affected() == 0 {
                let now: Option<String> =
                    sqlx::query_scalar("SELECT status FROM partners WHERE tenant = $1 AND id = $2")
                        .bind(tenant)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                return Err(StoreError::Conflict(match now {
                    Some(status) => format!("partner `{id}` is {status}; this step needs it {}", from.join(" or ")),
                    None => format!("partner `{id}` no longer exists"),
                }));
            }
            let mut released = 0;
            if step == PartnerStep::Offboard {
                self.before_write()?;
                released = sqlx::query(
                    "UPDATE registrations SET status = 'expired', reason = $1 \
                     WHERE tenant = $2 AND partner_id = $3 AND status IN ('submitted', 'review', 'approved')",
                )
                .bind(format!("Released: partner {id} was offboarded ({reason})"))
                .bind(tenant)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            let row = sqlx::query("SELECT * FROM partners WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let row = partner(&row);
            self.before_write()?;
            let payload =
                serde_json::json!({ "partner": row, "reason": reason, "by": by, "released_registrations": released });
            enqueue_event!(&mut *tx, tenant, step.event(), &payload);
            tx.commit().await?;
            (row, released)
        }))
    }

    /// Creates a partner; `Ok(false)` when the id is taken.
    pub async fn create_partner(&self, tenant: &str, p: &PartnerRow) -> Result<bool, StoreError> {
        let done = with_writer!(self, |e| {
            sqlx::query(
                "INSERT INTO partners (tenant, id, name, kind, tier, territories, certifications, manager, status, joined_at, \
                 contact_email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (tenant, id) DO NOTHING",
            )
            .bind(tenant)
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.kind)
            .bind(&p.tier)
            .bind(serde_json::to_string(&p.territories).unwrap_or_default())
            .bind(p.certifications.to_string())
            .bind(&p.manager)
            .bind(p.status.as_str())
            .bind(p.joined_at)
            .bind(&p.contact_email)
            .execute(e)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// One partner.
    pub async fn partner(&self, tenant: &str, id: &str) -> Result<Option<PartnerRow>, StoreError> {
        const SQL: &str = "SELECT * FROM partners WHERE tenant = $1 AND id = $2";
        if let Some(direct) = self.direct() {
            return Ok(direct.query(SQL, &[&tenant, &id], |r| partner(r))?.pop());
        }
        Ok(with_reader!(self, |e| {
            let row = sqlx::query(SQL).bind(tenant).bind(id).fetch_optional(e).await?;
            row.as_ref().map(partner)
        }))
    }

    /// Every partner of `tenant`, by id.
    pub async fn partners(&self, tenant: &str) -> Result<Vec<PartnerRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows =
                sqlx::query("SELECT * FROM partners WHERE tenant = $1 ORDER BY id").bind(tenant).fetch_all(e).await?;
            rows.iter().map(partner).collect()
        }))
    }

    /// The active partners of `tenant` that may cover one of `keys` (region
    /// or country, lowercase), by id; the caller checks the match exactly.
    /// The database narrows them down first, so a lead does not read every
    /// partner of a large program: a territory list containing `"<key>"`,
    /// compared in lowercase. Keys whose JSON form or lowercase the
    /// database might see differently (non-ASCII, quotes, backslashes)
    /// skip the narrowing.
    pub async fn partners_for_territories(&self, tenant: &str, keys: &[String]) -> Result<Vec<PartnerRow>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let narrow = keys.iter().all(|k| k.bytes().all(|b| b.is_ascii() && b >= b' ' && b != b'"' && b != b'\\'));
        let patterns: Vec<String> = keys.iter().map(|k| format!("%\"{k}\"%")).collect();
        let mut sql = String::from("SELECT * FROM partners WHERE tenant = $1 AND status = 'active'");
        if narrow {
            sql.push_str(" AND (");
            for n in 0..patterns.len() {
                if n > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!("lower(territories) LIKE ${}", n + 2));
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY id");
        let patterns = if narrow { &patterns[..] } else { &[] };
        if let Some(direct) = self.direct() {
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&tenant];
            params.extend(patterns.iter().map(|p| p as &dyn rusqlite::ToSql));
            return direct.query(&sql, &params, |r| partner(r));
        }
        Ok(with_reader!(self, |e| {
            // Fixed text and `$n` placeholders only: every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(tenant);
            for p in patterns {
                q = q.bind(p);
            }
            let rows = q.fetch_all(e).await?;
            rows.iter().map(partner).collect()
        }))
    }

    /// An account (if known) and its live registrations at `at`: submitted,
    /// in review, or approved and still protected, oldest first. One
    /// statement (one round trip): what registering a deal or routing a
    /// lead reads first.
    pub async fn account_with_live_registrations(
        &self,
        tenant: &str,
        domain: &str,
        at: i64,
    ) -> Result<(Option<AccountRow>, Vec<RegistrationRow>), StoreError> {
        const SQL: &str = "SELECT a.name AS a_name, a.industry AS a_industry, a.employees AS a_employees, \
             a.country AS a_country, a.region AS a_region, r.* \
             FROM (SELECT 1 AS one) k \
             LEFT JOIN accounts a ON a.tenant = $1 AND a.domain = $2 \
             LEFT JOIN registrations r ON r.tenant = $1 AND r.account_domain = $2 \
             AND (r.status IN ('submitted', 'review') OR (r.status = 'approved' AND r.protected_until > $3)) \
             ORDER BY r.created_at, r.id";
        // Each row: the account (the same on every row, absent if unknown)
        // and one live registration (absent if there is none).
        let rows: Vec<(Option<AccountRow>, Option<RegistrationRow>)> = match self.direct() {
            Some(direct) => direct.query(SQL, &[&tenant, &domain, &at], |r| account_and_registration(r, domain))?,
            None => with_reader!(self, |e| {
                let rows = sqlx::query(SQL).bind(tenant).bind(domain).bind(at).fetch_all(e).await?;
                rows.iter().map(|r| account_and_registration(r, domain)).collect()
            }),
        };
        let account = rows.first().and_then(|(a, _)| a.clone());
        Ok((account, rows.into_iter().filter_map(|(_, r)| r).collect()))
    }

    /// One registration.
    pub async fn registration(&self, tenant: &str, id: &str) -> Result<Option<RegistrationRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT * FROM registrations WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(registration)
        }))
    }

    /// Registrations, newest first, filtered by partner and status.
    pub async fn registrations(
        &self,
        tenant: &str,
        partner: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RegistrationRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM registrations WHERE tenant = $1 AND ($2 IS NULL OR partner_id = $3) \
                 AND ($4 IS NULL OR status = $5) ORDER BY created_at DESC, id DESC LIMIT $6",
            )
            .bind(tenant)
            .bind(partner)
            .bind(partner)
            .bind(status)
            .bind(status)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(registration).collect()
        }))
    }

    /// `tenant`'s registrations in manual review, oldest first: the
    /// partner managers' queue.
    pub async fn review_queue(&self, tenant: &str, limit: i64) -> Result<Vec<RegistrationRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM registrations WHERE tenant = $1 AND status = 'review' \
                 ORDER BY created_at, id LIMIT $2",
            )
            .bind(tenant)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(registration).collect()
        }))
    }

    /// A person's decision on a registration in review: the guarded
    /// transition (only from `review`), the decision-log entry naming the
    /// person, the registration pointing at it and `registration.reviewed`,
    /// in one transaction. Of concurrent reviews one writes; the others get
    /// a conflict naming the status it found.
    pub async fn review_registration(
        &self,
        tenant: &str,
        review: &ManualReview<'_>,
    ) -> Result<RegistrationRow, StoreError> {
        let created_at = super::now();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(
                "UPDATE registrations SET status = $1, protected_until = $2, reason = $3, plugin_hash = NULL \
                 WHERE tenant = $4 AND id = $5 AND status = 'review'",
            )
            .bind(review.status)
            .bind(review.protected_until)
            .bind(review.reason)
            .bind(tenant)
            .bind(review.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                let now: Option<String> =
                    sqlx::query_scalar("SELECT status FROM registrations WHERE tenant = $1 AND id = $2")
                        .bind(tenant)
                        .bind(review.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                return Err(StoreError::Conflict(match now {
                    Some(status) => format!("registration `{}` is {status}, no longer in review", review.id),
                    None => format!("registration `{}` no longer exists", review.id),
                }));
            }
            self.before_write()?;
            let person = PersonDecision {
                hook: "approval",
                subject: review.id,
                at: review.at,
                outcome: "manual",
                record: review.record,
                decision: review.decision,
                actor: review.actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, created_at);
            self.before_write()?;
            sqlx::query("UPDATE registrations SET decision_id = $1 WHERE tenant = $2 AND id = $3")
                .bind(decision_id)
                .bind(tenant)
                .bind(review.id)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query("SELECT * FROM registrations WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(review.id)
                .fetch_one(&mut *tx)
                .await?;
            let row = registration(&row);
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, "registration.reviewed", &row);
            tx.commit().await?;
            row
        }))
    }

    /// Marks approved registrations whose protection ended by `at` as
    /// expired; returns how many.
    pub async fn expire_registrations(&self, at: i64) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |e| {
            sqlx::query(
                "UPDATE registrations SET status = 'expired' WHERE status = 'approved' AND protected_until <= $1",
            )
            .bind(at)
            .execute(e)
            .await?
            .rows_affected()
        }))
    }

    /// Creates a deal; `Ok(false)` when the id is taken or its
    /// registration has opened a deal already (`deals_by_registration`).
    pub async fn create_deal(&self, tenant: &str, d: &DealRow) -> Result<bool, StoreError> {
        let done = with_writer!(self, |e| {
            sqlx::query(
                "INSERT INTO deals (tenant, id, partner_id, account_domain, first_year_acv, services, currency, source, \
                 stage, refunded, closed_at, created_at, registration_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(&d.id)
            .bind(&d.partner_id)
            .bind(&d.account_domain)
            .bind(d.first_year_acv)
            .bind(d.services)
            .bind(&d.currency)
            .bind(d.source.as_str())
            .bind(d.stage.as_str())
            .bind(d.refunded)
            .bind(d.closed_at)
            .bind(d.created_at)
            .bind(&d.registration_id)
            .execute(e)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// One deal.
    pub async fn deal(&self, tenant: &str, id: &str) -> Result<Option<DealRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT * FROM deals WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(deal)
        }))
    }

    /// Closes the open deal `d` at `at` as won or lost, closes the
    /// partner's approved registration on its account the same way, and
    /// queues `deal.won` or `deal.lost`: one transaction. Guarded: a deal
    /// that is no longer open is left as it is, and the conflict names its
    /// stage. (A partner deal's win goes through its commission's unit of
    /// work instead: [`Db::write_decided`].)
    pub async fn close_deal(&self, tenant: &str, d: &DealRow, outcome: Close, at: i64) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let stage: Option<String> = sqlx::query_scalar(
                "UPDATE deals SET stage = $1, closed_at = $2 WHERE tenant = $3 AND id = $4 AND stage = 'open' \
                 RETURNING stage",
            )
            .bind(outcome.as_str())
            .bind(at)
            .bind(tenant)
            .bind(&d.id)
            .fetch_optional(&mut *tx)
            .await?;
            if stage.is_none() {
                let now: Option<String> = sqlx::query_scalar("SELECT stage FROM deals WHERE tenant = $1 AND id = $2")
                    .bind(tenant)
                    .bind(&d.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(StoreError::Conflict(match now {
                    Some(stage) => format!("deal `{}` is {stage} already", d.id),
                    None => format!("deal `{}` no longer exists", d.id),
                }));
            }
            if let Some(partner) = &d.partner_id {
                self.before_write()?;
                sqlx::query(
                    "UPDATE registrations SET status = $1 \
                     WHERE tenant = $2 AND partner_id = $3 AND account_domain = $4 AND status = 'approved'",
                )
                .bind(outcome.as_str())
                .bind(tenant)
                .bind(partner)
                .bind(&d.account_domain)
                .execute(&mut *tx)
                .await?;
            }
            let closed = DealRow { stage: outcome.stage(), closed_at: Some(at), ..d.clone() };
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, format!("deal.{}", outcome.as_str()), &closed);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Adds `amount` to the refunded total of the won deal `d` (one with no
    /// partner, so no commission to claw back) and queues `deal.refunded`:
    /// one transaction, guarded on the refunded total `d` was read with.
    pub async fn add_refund(&self, tenant: &str, d: &DealRow, amount: i64) -> Result<(), StoreError> {
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(
                "UPDATE deals SET refunded = refunded + $1 \
                 WHERE tenant = $2 AND id = $3 AND stage = 'won' AND refunded = $4",
            )
            .bind(amount)
            .bind(tenant)
            .bind(&d.id)
            .bind(d.refunded)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                let now: Option<(String, i64)> =
                    sqlx::query("SELECT stage, refunded FROM deals WHERE tenant = $1 AND id = $2")
                        .bind(tenant)
                        .bind(&d.id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| (Get::get(&r, 0), Get::get(&r, 1)));
                return Err(StoreError::Conflict(super::decided::conflict(&d.id, DealStep::Refund { amount }, now)));
            }
            let refunded = DealRow { refunded: d.refunded + amount, ..d.clone() };
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, "deal.refunded", &refunded);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A deal's commission lines, oldest first.
    pub async fn deal_lines(&self, tenant: &str, deal_id: &str) -> Result<Vec<CommissionLineRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query("SELECT * FROM commission_lines WHERE tenant = $1 AND deal_id = $2 ORDER BY id")
                .bind(tenant)
                .bind(deal_id)
                .fetch_all(e)
                .await?;
            rows.iter().map(line).collect()
        }))
    }

    /// A partner's commission lines due in `[from, to)`, by due date, each
    /// with who decided it: the plugin's hash, or the person.
    pub async fn partner_lines(
        &self,
        tenant: &str,
        partner: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<StatementLine>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT l.*, d.plugin_hash AS decided_plugin, d.actor AS decided_actor \
                 FROM commission_lines l JOIN decisions d ON d.id = l.decision_id \
                 WHERE l.tenant = $1 AND l.partner_id = $2 AND l.due_at >= $3 AND l.due_at < $4 \
                 ORDER BY l.due_at, l.id",
            )
            .bind(tenant)
            .bind(partner)
            .bind(from)
            .bind(to)
            .fetch_all(e)
            .await?;
            rows.iter()
                .map(|r| {
                    let plugin: String = r.get("decided_plugin");
                    StatementLine {
                        line: line(r),
                        plugin_hash: (!plugin.is_empty()).then_some(plugin),
                        decided_by: r.get("decided_actor"),
                    }
                })
                .collect()
        }))
    }

    /// First-year ACV of the partner's deals in `currency` won in `[from, to)`.
    pub async fn won_acv(
        &self,
        tenant: &str,
        partner: &str,
        from: i64,
        to: i64,
        currency: &str,
    ) -> Result<i64, StoreError> {
        Ok(with_reader!(self, |e| {
            sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(first_year_acv), 0) AS BIGINT) FROM deals \
                 WHERE tenant = $1 AND partner_id = $2 AND stage = 'won' AND closed_at >= $3 AND closed_at < $4 \
                 AND currency = $5",
            )
            .bind(tenant)
            .bind(partner)
            .bind(from)
            .bind(to)
            .bind(currency)
            .fetch_one(e)
            .await?
        }))
    }
}
