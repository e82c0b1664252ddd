//! Payouts: the steps people take on commission lines (hold, release,
//! void, dispute, resolve, adjust) and the payout run that pays a period.
//!
//! Each is one transaction with its decision-log entry (the person as
//! actor) and its outbox event, guarded in SQL: a step moves a line only
//! from the statuses [`LineStep::from`] names, so of concurrent requests
//! one moves it and the others get a conflict naming its status; a payout
//! run takes only pending lines and is unique per company and period, so
//! a line is paid once and a period is paid out once.

use super::records::{CommissionLineRow, line};
use super::{Db, Get, PersonDecision, StoreError};
use pactum_core::{LineStatus, LineStep};
use serde::Serialize;
use std::collections::BTreeMap;

/// A person's step on one commission line.
#[derive(Debug, Clone)]
pub struct LineChange<'a> {
    /// The line.
    pub id: i64,
    /// The step.
    pub step: LineStep,
    /// Why, in the person's words.
    pub reason: &'a str,
    /// The amount of the adjustment line to add (minor units, signed,
    /// nonzero): with [`LineStep::Adjust`], or [`LineStep::Resolve`] when
    /// the dispute is upheld.
    pub adjustment: Option<i64>,
    /// Who (`key:<12 hex>`).
    pub actor: &'a str,
    /// When (Unix seconds).
    pub at: i64,
}

/// What a line step wrote.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LineStepped {
    /// The line, as it is now.
    pub line: CommissionLineRow,
    /// The adjustment line added, linked to it by `adjusts`.
    pub adjustment: Option<CommissionLineRow>,
    /// The decision-log entry naming who did it.
    pub decision_id: i64,
}

/// A payout run to make.
#[derive(Debug, Clone)]
pub struct NewPayoutRun<'a> {
    /// The period, `YYYY-MM`.
    pub period: &'a str,
    /// Its end (Unix seconds): lines due before it are payable.
    pub period_end: i64,
    /// The finance system's reference for the run (a bank batch, say).
    pub reference: &'a str,
    /// A partner's balance below this is carried over (in
    /// `minimum_currency`; a balance in another currency only needs to be
    /// positive).
    pub minimum: i64,
    /// The minimum's currency (the program's).
    pub minimum_currency: &'a str,
    /// Who ran it.
    pub actor: &'a str,
    /// When.
    pub at: i64,
}

/// A payout run.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PayoutRunRow {
    /// Its id.
    pub id: i64,
    /// The period it paid, `YYYY-MM`.
    pub period: String,
    /// The period's end: it paid the payable lines due before it.
    pub period_end: i64,
    /// The finance system's reference.
    pub reference: String,
    /// The payout minimum it applied, minor units.
    pub minimum: i64,
    /// The decision-log entry naming who ran it.
    pub decision_id: i64,
    /// When it ran.
    pub created_at: i64,
    /// What it paid and what it carried over.
    #[serde(flatten)]
    pub summary: PayoutSummary,
}

/// What a payout run paid and carried over.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PayoutSummary {
    /// Payouts made (one per partner and currency).
    pub payouts: i64,
    /// Lines paid.
    pub lines: i64,
    /// Paid per currency, minor units.
    pub totals: BTreeMap<String, i64>,
    /// Balances left for a later run: below the minimum, or negative (a
    /// clawback larger than what was owed is carried, not collected).
    pub carried: Vec<CarriedBalance>,
}

/// A partner's balance a payout run did not pay.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CarriedBalance {
    /// The partner.
    pub partner_id: String,
    /// The currency.
    pub currency: String,
    /// The balance, minor units (zero or negative, or below the minimum).
    pub amount: i64,
    /// Its lines.
    pub lines: i64,
}

/// One partner's payout in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PayoutRow {
    /// The run.
    pub run_id: i64,
    /// The partner.
    pub partner_id: String,
    /// The partner's name (empty when the partner is gone).
    pub partner_name: String,
    /// The currency.
    pub currency: String,
    /// Paid, minor units (positive).
    pub amount: i64,
    /// Lines paid.
    pub lines: i64,
    /// `<run reference>/<partner>/<currency>`: what the transfer carries.
    pub reference: String,
}

/// Lines a manager's queue lists at most per page.
pub const MAX_LINES_LISTED: i64 = 1_000;

impl Db {
    /// One commission line.
    pub async fn line(&self, tenant: &str, id: i64) -> Result<Option<CommissionLineRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT * FROM commission_lines WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(line)
        }))
    }

    /// Lines in `status` (every status: `None`), of one partner or every
    /// one, oldest first, after line `after`, at most `limit`.
    pub async fn lines(
        &self,
        tenant: &str,
        status: Option<LineStatus>,
        partner: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<CommissionLineRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM commission_lines WHERE tenant = $1 AND ($2 IS NULL OR status = $2) \
                 AND ($3 IS NULL OR partner_id = $3) AND id > $4 ORDER BY id LIMIT $5",
            )
            .bind(tenant)
            .bind(status.map(LineStatus::as_str))
            .bind(partner)
            .bind(after)
            .bind(limit.clamp(1, MAX_LINES_LISTED))
            .fetch_all(e)
            .await?;
            rows.iter().map(line).collect()
        }))
    }

    /// A person's step on a line: the guarded transition, the
    /// decision-log entry naming the person, the adjustment line (if any)
    /// pointing at both, and the step's event, in one transaction.
    pub async fn line_step(&self, tenant: &str, change: &LineChange<'_>) -> Result<LineStepped, StoreError> {
        let created_at = super::now();
        let from: Vec<&str> = change.step.from().iter().map(|s| s.as_str()).collect();
        // The statuses are the host's own constants, never input.
        let guard = format!("'{}'", from.join("', '"));
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE commission_lines SET status = COALESCE($1, status), note = $2 \
                 WHERE tenant = $3 AND id = $4 AND status IN ({guard})"
            )))
            .bind(change.step.to().map(LineStatus::as_str))
            .bind(change.reason)
            .bind(tenant)
            .bind(change.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                let now: Option<String> =
                    sqlx::query_scalar("SELECT status FROM commission_lines WHERE tenant = $1 AND id = $2")
                        .bind(tenant)
                        .bind(change.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                return Err(StoreError::Conflict(match now {
                    Some(status) => format!(
                        "line {} is {status}; to {} it, it must be {}",
                        change.id,
                        change.step,
                        from.join(" or ")
                    ),
                    None => format!("line {} no longer exists", change.id),
                }));
            }
            let stepped = sqlx::query("SELECT * FROM commission_lines WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(change.id)
                .fetch_one(&mut *tx)
                .await?;
            let stepped = line(&stepped);

            let record = serde_json::json!({
                "step": change.step,
                "line_id": change.id,
                "reason": change.reason,
                "actor": change.actor,
            });
            let decision = serde_json::json!({
                "status": stepped.status,
                "adjustment": change.adjustment,
            });
            self.before_write()?;
            let person = PersonDecision {
                hook: "commission",
                subject: &format!("line:{}", change.id),
                at: change.at,
                outcome: "manual",
                record: &record,
                decision: &decision,
                actor: change.actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, created_at);

            let adjustment = match change.adjustment {
                None => None,
                Some(amount) => {
                    // Paid with the line when it is still to be paid; with
                    // the next run when it was paid already.
                    let due_at = if stepped.status == LineStatus::Paid { change.at } else { stepped.due_at };
                    self.before_write()?;
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO commission_lines (tenant, deal_id, partner_id, kind, amount, currency, rate_bps, \
                         description, status, due_at, decision_id, created_at, adjusts) \
                         VALUES ($1, $2, $3, 'adjustment', $4, $5, 0, $6, 'pending', $7, $8, $9, $10) RETURNING id",
                    )
                    .bind(tenant)
                    .bind(&stepped.deal_id)
                    .bind(&stepped.partner_id)
                    .bind(amount)
                    .bind(&stepped.currency)
                    .bind(change.reason)
                    .bind(due_at)
                    .bind(decision_id)
                    .bind(created_at)
                    .bind(change.id)
                    .fetch_one(&mut *tx)
                    .await?;
                    let row = sqlx::query("SELECT * FROM commission_lines WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                    Some(line(&row))
                }
            };
            let done = LineStepped { line: stepped, adjustment, decision_id };
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, change.step.event(), &done);
            tx.commit().await?;
            done
        }))
    }

    /// Pays a period: every pending line due before `run.period_end` is
    /// gathered per partner and currency; a balance at or above the
    /// minimum (and positive) becomes one payout and its lines are paid,
    /// the rest stay pending for a later run. The run, its decision-log
    /// entry, the payouts, the lines' new status and `payout.run` commit
    /// together. A period is paid once, and not after a later one.
    pub async fn run_payouts(&self, tenant: &str, run: &NewPayoutRun<'_>) -> Result<PayoutRunRow, StoreError> {
        let created_at = super::now();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            let last: Option<(i64, String)> =
                sqlx::query("SELECT id, period FROM payout_runs WHERE tenant = $1 ORDER BY period DESC LIMIT 1")
                    .bind(tenant)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| (Get::get(&r, 0), Get::get(&r, 1)));
            if let Some((id, period)) = last
                && period.as_str() >= run.period
            {
                return Err(StoreError::Conflict(if period == run.period {
                    format!("the payouts of {period} were made already, by payout run {id}")
                } else {
                    format!(
                        "payout run {id} paid {period}, after {}: its lines were paid then or are carried over",
                        run.period
                    )
                }));
            }

            let record = serde_json::json!({
                "period": run.period,
                "reference": run.reference,
                "minimum": run.minimum,
                "actor": run.actor,
            });
            self.before_write()?;
            let person = PersonDecision {
                hook: "commission",
                subject: &format!("payout:{}", run.period),
                at: run.at,
                outcome: "manual",
                record: &record,
                decision: &serde_json::json!({}),
                actor: run.actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, created_at);
            self.before_write()?;
            let run_id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO payout_runs (tenant, period, period_end, reference, minimum, decision_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(tenant)
            .bind(run.period)
            .bind(run.period_end)
            .bind(run.reference)
            .bind(run.minimum)
            .bind(decision_id)
            .bind(created_at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(run_id) = run_id else {
                return Err(StoreError::Conflict(format!(
                    "the payouts of {} are being made by another request",
                    run.period
                )));
            };

            // Take every payable line, pay the balances that clear the
            // minimum, give the others back. (Three passes over the lines,
            // none of them through an index that the update must keep.)
            self.before_write()?;
            sqlx::query(
                "UPDATE commission_lines SET status = 'paid', payout_run = $1 \
                 WHERE tenant = $2 AND status = 'pending' AND due_at < $3",
            )
            .bind(run_id)
            .bind(tenant)
            .bind(run.period_end)
            .execute(&mut *tx)
            .await?;
            let groups = sqlx::query(
                "SELECT partner_id, currency, CAST(SUM(amount) AS BIGINT), COUNT(*) FROM commission_lines \
                 WHERE tenant = $1 AND payout_run = $2 GROUP BY partner_id, currency ORDER BY partner_id, currency",
            )
            .bind(tenant)
            .bind(run_id)
            .fetch_all(&mut *tx)
            .await?;
            let (paid, carried): (Vec<CarriedBalance>, Vec<CarriedBalance>) = groups
                .iter()
                .map(|r| CarriedBalance {
                    partner_id: Get::get(r, 0),
                    currency: Get::get(r, 1),
                    amount: Get::get(r, 2),
                    lines: Get::get(r, 3),
                })
                .partition(|g| g.amount > 0 && (g.currency != run.minimum_currency || g.amount >= run.minimum));
            for chunk in paid.chunks(1_000) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO payouts (tenant, run_id, partner_id, currency, amount, lines, reference) ",
                );
                q.push_values(chunk, |mut b, p| {
                    b.push_bind(tenant)
                        .push_bind(run_id)
                        .push_bind(&p.partner_id)
                        .push_bind(&p.currency)
                        .push_bind(p.amount)
                        .push_bind(p.lines)
                        .push_bind(format!("{}/{}/{}", run.reference, p.partner_id, p.currency));
                });
                q.build().execute(&mut *tx).await?;
            }
            if !carried.is_empty() {
                self.before_write()?;
                if carried.len() <= 500 {
                    let mut q = sqlx::QueryBuilder::new(
                        "UPDATE commission_lines SET status = 'pending', payout_run = NULL WHERE tenant = ",
                    );
                    q.push_bind(tenant).push(" AND payout_run = ").push_bind(run_id);
                    q.push(" AND (partner_id, currency) IN (");
                    let mut pairs = q.separated(", ");
                    for c in &carried {
                        pairs.push("(").push_bind_unseparated(&c.partner_id);
                        pairs.push_unseparated(", ").push_bind_unseparated(&c.currency).push_unseparated(")");
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                } else {
                    sqlx::query(
                        "UPDATE commission_lines SET status = 'pending', payout_run = NULL \
                         WHERE tenant = $1 AND payout_run = $2 AND NOT EXISTS (SELECT 1 FROM payouts p \
                         WHERE p.run_id = $2 AND p.partner_id = commission_lines.partner_id \
                         AND p.currency = commission_lines.currency)",
                    )
                    .bind(tenant)
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }

            let mut summary = PayoutSummary::default();
            for p in &paid {
                let total = summary.totals.entry(p.currency.clone()).or_insert(0);
                *total = total
                    .checked_add(p.amount)
                    .ok_or_else(|| StoreError::Inconsistent(format!("the {} total overflows", p.currency)))?;
                summary.payouts += 1;
                summary.lines += p.lines;
            }
            summary.carried = carried;

            let done = PayoutRunRow {
                id: run_id,
                period: run.period.to_string(),
                period_end: run.period_end,
                reference: run.reference.to_string(),
                minimum: run.minimum,
                decision_id,
                created_at,
                summary,
            };
            let decision = serde_json::to_string(&done.summary)
                .map_err(|e| StoreError::Inconsistent(format!("a payout summary: {e}")))?;
            self.before_write()?;
            sqlx::query("UPDATE decisions SET decision = $1 WHERE id = $2")
                .bind(decision)
                .bind(decision_id)
                .execute(&mut *tx)
                .await?;
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, "payout.run", &done);
            tx.commit().await?;
            done
        }))
    }

    /// The company's payout runs, newest first.
    pub async fn payout_runs(&self, tenant: &str) -> Result<Vec<PayoutRunRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT r.id, r.period, r.period_end, r.reference, r.minimum, r.decision_id, r.created_at, d.decision \
                 FROM payout_runs r JOIN decisions d ON d.id = r.decision_id \
                 WHERE r.tenant = $1 ORDER BY r.period DESC",
            )
            .bind(tenant)
            .fetch_all(e)
            .await?;
            rows.iter().map(payout_run).collect::<Result<_, _>>()?
        }))
    }

    /// One payout run and its payouts, by partner and currency.
    pub async fn payout_run(
        &self,
        tenant: &str,
        id: i64,
    ) -> Result<Option<(PayoutRunRow, Vec<PayoutRow>)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let run = sqlx::query(
                "SELECT r.id, r.period, r.period_end, r.reference, r.minimum, r.decision_id, r.created_at, d.decision \
                 FROM payout_runs r JOIN decisions d ON d.id = r.decision_id WHERE r.tenant = $1 AND r.id = $2",
            )
            .bind(tenant)
            .bind(id)
            .fetch_optional(e)
            .await?;
            match run {
                None => None,
                Some(run) => {
                    let payouts = sqlx::query(
                        "SELECT p.run_id, p.partner_id, COALESCE(t.name, ''), p.currency, p.amount, p.lines, \
                         p.reference FROM payouts p LEFT JOIN partners t ON t.tenant = p.tenant AND t.id = p.partner_id \
                         WHERE p.tenant = $1 AND p.run_id = $2 ORDER BY p.partner_id, p.currency",
                    )
                    .bind(tenant)
                    .bind(id)
                    .fetch_all(e)
                    .await?;
                    let payouts = payouts
                        .iter()
                        .map(|r| PayoutRow {
                            run_id: Get::get(r, 0),
                            partner_id: Get::get(r, 1),
                            partner_name: Get::get(r, 2),
                            currency: Get::get(r, 3),
                            amount: Get::get(r, 4),
                            lines: Get::get(r, 5),
                            reference: Get::get(r, 6),
                        })
                        .collect();
                    Some((payout_run(&run)?, payouts))
                }
            }
        }))
    }
}

fn payout_run(r: &impl Get) -> Result<PayoutRunRow, StoreError> {
    let summary: String = r.get(7);
    Ok(PayoutRunRow {
        id: r.get(0),
        period: r.get(1),
        period_end: r.get(2),
        reference: r.get(3),
        minimum: r.get(4),
        decision_id: r.get(5),
        created_at: r.get(6),
        summary: serde_json::from_str(&summary)
            .map_err(|e| StoreError::Inconsistent(format!("payout run {}'s summary: {e}", r.get::<i64>(0))))?,
    })
}
