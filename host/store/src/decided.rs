//! The unit of work of every decided workflow step, with group commit. A
//! deal registration, a lead routing or a deal's commission ends with
//! several writes: the state transition it follows (a deal closing won, a
//! refund), the decision, the records it decided (the registration, the
//! lead, the commission lines, each pointing at the decision) and the
//! outbox event announcing it. [`GroupCommit`] writes them in one
//! transaction, so a crash never keeps a decision without its records, a
//! won deal without its commission, or a record without its event; and
//! concurrent requests' writes share that transaction, one multi-row
//! statement per table.
//!
//! Transitions are guarded in SQL (`UPDATE deals ... WHERE stage = 'open'`):
//! of many concurrent requests to win one deal, exactly one finds it open
//! and pays; the others write nothing and get [`StoreError::Conflict`]
//! naming the deal's stage. The guard is evaluated inside the transaction,
//! so it holds across PostgreSQL replicas (the row lock) as well as on
//! SQLite's single writer.
//!
//! Why: every statement is a round trip (to PostgreSQL, or on SQLite to the
//! connection's own worker thread), and the single SQLite writer serialises
//! them. Three statements per request made the writer the bottleneck of
//! the load benchmark; a batch of thirty requests now takes five.

use super::records::AccountRow;
use super::{CommissionLineRow, Db, DealRow, DecisionRow, Get, LeadRow, RegistrationRow, StoreError};
use pactum_core::{HookKind, PluginHash};
use tokio::sync::{mpsc, oneshot};

fn tried(partners: &[String]) -> String {
    serde_json::to_string(partners).expect("a list of strings serializes")
}

/// Guarded: the lead is still offered to `from_partner` (and, for a
/// timeout, its offer has run out). `Err` names what it found instead.
macro_rules! reroute {
    ($tx:ident, $tenant:expr, $r:expr) => {{
        let (tenant, r) = ($tenant, $r);
        let l = &r.lead;
        let moved = sqlx::query(
            "UPDATE leads SET destination = $1, partner_id = $2, reason = $3, attribution = $4, status = $5, \
             respond_by = $6, tried = $7, accepted_at = NULL, status_note = NULL, offered_at = $12 \
             WHERE tenant = $8 AND id = $9 AND status = 'offered' AND partner_id = $10 \
             AND ($11 IS NULL OR respond_by <= $11)",
        )
        .bind(&l.destination)
        .bind(&l.partner_id)
        .bind(&l.reason)
        .bind(&l.attribution)
        .bind(l.status.as_str())
        .bind(l.respond_by)
        .bind(tried(&l.tried))
        .bind(tenant)
        .bind(&l.id)
        .bind(&r.from_partner)
        .bind(r.timeout_at)
        .bind(l.offered_at)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if moved == 1 {
            Ok(0)
        } else {
            let now = sqlx::query("SELECT status, partner_id, respond_by FROM leads WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(&l.id)
                .fetch_optional(&mut *$tx)
                .await?;
            Err(match now {
                None => format!("lead `{}` no longer exists", l.id),
                Some(row) => {
                    let (status, partner): (String, Option<String>) = (Get::get(&row, 0), Get::get(&row, 1));
                    if status != "offered" {
                        format!("lead `{}` is {status} already", l.id)
                    } else if partner.as_deref() != Some(r.from_partner.as_str()) {
                        format!("lead `{}` is offered to another partner now", l.id)
                    } else {
                        format!("lead `{}`'s offer has not run out yet", l.id)
                    }
                }
            })
        }
    }};
}

/// At most this many requests' writes per transaction (ten binds a
/// decision: well under both backends' limits on one statement).
const MAX_BATCH: usize = 256;

/// A decision to record, owned (it travels to the writer task).
#[derive(Debug, Clone)]
pub struct DecisionToWrite {
    /// The tenant.
    pub tenant: String,
    /// The hook.
    pub hook: HookKind,
    /// The plugin called.
    pub plugin: PluginHash,
    /// What it is about: the registration or lead id.
    pub subject: String,
    /// The event's time.
    pub event_time: i64,
    /// `ok` or the error kind.
    pub outcome: &'static str,
    /// The call record, JSON.
    pub record: serde_json::Value,
    /// The decision acted on, JSON.
    pub decision: serde_json::Value,
    /// Whether the fallback decided.
    pub fallback: bool,
}

/// The record a decision decided; its `decision_id` is filled in on write.
#[derive(Debug, Clone)]
pub enum DecidedRecord {
    /// A deal registration.
    Registration(RegistrationRow),
    /// A routed lead.
    Lead(LeadRow),
    /// A deal's commission: the transition that triggered it and its lines.
    Commission(CommissionWrite),
    /// A lead routed again, after its partner declined it or let the offer
    /// run out.
    Reroute(LeadReroute),
}

/// A lead routed again: its new state, guarded on the offer it ends.
#[derive(Debug, Clone)]
pub struct LeadReroute {
    /// The lead as it is to be (its `decision_id` filled in on write).
    pub lead: LeadRow,
    /// The partner whose offer ends: the guard expects the lead still
    /// offered to it.
    pub from_partner: String,
    /// For a timeout, the time it fires: the guard also expects the offer
    /// to have run out by then (a partner who accepted first wins).
    pub timeout_at: Option<i64>,
    /// Why it is routed again: who declined and why, or the offer's end.
    pub trigger: serde_json::Value,
}

/// A commission decision's writes: the deal's guarded transition and the
/// lines (pending, or one held line when the plugin failed).
#[derive(Debug, Clone)]
pub struct CommissionWrite {
    /// The deal as read before the hook ran (what the guard expects).
    pub deal: DealRow,
    /// The transition.
    pub step: DealStep,
    /// The lines to store.
    pub lines: Vec<CommissionLineRow>,
}

/// A deal's state transition, guarded against concurrent callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealStep {
    /// An open deal closes won at this time (and the partner's approved
    /// registration on its account with it).
    Won {
        /// The close time.
        at: i64,
    },
    /// A won deal is refunded by `amount`; the guard expects the refunded
    /// total the hook saw, so two refunds computed on the same state cannot
    /// both claw back.
    Refund {
        /// Minor units refunded now.
        amount: i64,
    },
}

impl DecidedRecord {
    fn set_decision(&mut self, id: i64) {
        match self {
            DecidedRecord::Registration(r) => r.decision_id = Some(id),
            DecidedRecord::Lead(l) => l.decision_id = id,
            DecidedRecord::Commission(c) => c.lines.iter_mut().for_each(|l| l.decision_id = id),
            DecidedRecord::Reroute(r) => r.lead.decision_id = id,
        }
    }

    fn payload(&self) -> serde_json::Value {
        match self {
            DecidedRecord::Registration(r) => serde_json::to_value(r),
            DecidedRecord::Lead(l) => serde_json::to_value(l),
            DecidedRecord::Commission(c) => Ok(serde_json::json!({ "deal_id": c.deal.id, "lines": c.lines })),
            DecidedRecord::Reroute(r) => Ok(serde_json::json!({ "lead": r.lead, "trigger": r.trigger })),
        }
        .expect("a record always serializes")
    }
}

/// A decision, its record and the event to queue, written together.
#[derive(Debug, Clone)]
pub struct DecidedWrite {
    /// The decision.
    pub decision: DecisionToWrite,
    /// The record it decided.
    pub record: DecidedRecord,
    /// The outbox event's name (its payload is the record, as stored).
    pub event: &'static str,
    /// What the step learned of the account it is about (a registration's
    /// or a lead's), stored with it: a step that fails leaves the account
    /// record as it was. `None`: nothing new.
    pub account: Option<AccountRow>,
}

/// What was written: the decision log row and the record, with its
/// `decision_id`.
#[derive(Debug, Clone)]
pub struct Written {
    /// The decision as stored.
    pub decision: DecisionRow,
    /// The record as stored.
    pub record: DecidedRecord,
}

/// Commission lines per insert statement: twelve binds a line, well under
/// both backends' limits on one statement.
const LINES_PER_STATEMENT: usize = 1_000;

/// Each write's outcome inside a batch: its decision's id, or why its
/// guard refused it (the record's current state).
type Outcome = Result<i64, String>;

impl Db {
    /// Writes `batch` in one transaction. A write whose guarded transition
    /// finds its record changed is left out, with its conflict; everything
    /// else is written together, or nothing is (the outer error).
    pub async fn write_decided(
        &self,
        mut batch: Vec<DecidedWrite>,
    ) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
        let (created_at, outcomes) = self.write_decided_in_place(&mut batch).await?;
        Ok(batch
            .into_iter()
            .zip(outcomes)
            .map(|(w, o)| o.map(|id| w.written(created_at, id)).map_err(StoreError::Conflict))
            .collect())
    }

    /// [`Db::write_decided`], filling in each record's `decision_id` in
    /// place; returns the time written and each write's outcome.
    async fn write_decided_in_place(&self, batch: &mut [DecidedWrite]) -> Result<(i64, Vec<Outcome>), StoreError> {
        let created_at = super::now();
        let outcomes = with_writer!(self, |e| {
            let mut tx = e.begin().await?;

            // The guarded transitions first: a write whose record is no
            // longer in the state its decision was made on writes nothing.
            let mut outcomes: Vec<Outcome> = Vec::with_capacity(batch.len());
            for w in batch.iter() {
                if let DecidedRecord::Reroute(r) = &w.record {
                    self.before_write()?;
                    outcomes.push(reroute!(tx, &w.decision.tenant, r));
                    continue;
                }
                let DecidedRecord::Commission(c) = &w.record else {
                    outcomes.push(Ok(0));
                    continue;
                };
                let tenant = &w.decision.tenant;
                self.before_write()?;
                let moved = match c.step {
                    DealStep::Won { at } => {
                        sqlx::query(
                            "UPDATE deals SET stage = 'won', closed_at = $1 \
                             WHERE tenant = $2 AND id = $3 AND stage = 'open'",
                        )
                        .bind(at)
                        .bind(tenant)
                        .bind(&c.deal.id)
                        .execute(&mut *tx)
                        .await?
                    }
                    DealStep::Refund { amount } => {
                        sqlx::query(
                            "UPDATE deals SET refunded = refunded + $1 \
                             WHERE tenant = $2 AND id = $3 AND stage = 'won' AND refunded = $4",
                        )
                        .bind(amount)
                        .bind(tenant)
                        .bind(&c.deal.id)
                        .bind(c.deal.refunded)
                        .execute(&mut *tx)
                        .await?
                    }
                }
                .rows_affected();
                if moved == 0 {
                    let now: Option<(String, i64)> =
                        sqlx::query("SELECT stage, refunded FROM deals WHERE tenant = $1 AND id = $2")
                            .bind(tenant)
                            .bind(&c.deal.id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| (Get::get(&r, 0), Get::get(&r, 1)));
                    outcomes.push(Err(conflict(&c.deal.id, c.step, now)));
                    continue;
                }
                if let (DealStep::Won { .. }, Some(partner)) = (c.step, &c.deal.partner_id) {
                    self.before_write()?;
                    sqlx::query(
                        "UPDATE registrations SET status = 'won' \
                         WHERE tenant = $1 AND partner_id = $2 AND account_domain = $3 AND status = 'approved'",
                    )
                    .bind(tenant)
                    .bind(partner)
                    .bind(&c.deal.account_domain)
                    .execute(&mut *tx)
                    .await?;
                }
                outcomes.push(Ok(0));
            }
            let accepted: Vec<usize> = (0..batch.len()).filter(|&i| outcomes[i].is_ok()).collect();
            if accepted.is_empty() {
                tx.commit().await?;
                return Ok((created_at, outcomes));
            }

            // Matched by tenant, hook and subject: a fresh registration or
            // lead id, or a deal that only one accepted write moved.
            self.before_write()?;
            let ids = insert_decisions!(&mut *tx, accepted.iter().map(|&i| batch[i].decision.as_new()), created_at);
            for &i in &accepted {
                let w = &mut batch[i];
                let key =
                    (w.decision.tenant.clone(), w.decision.hook.interface().to_string(), w.decision.subject.clone());
                let id = *ids.get(&key).ok_or_else(|| {
                    StoreError::Inconsistent(format!("no decision stored for {}", w.decision.subject))
                })?;
                w.record.set_decision(id);
                outcomes[i] = Ok(id);
                if let DecidedRecord::Reroute(r) = &w.record {
                    self.before_write()?;
                    sqlx::query("UPDATE leads SET decision_id = $1 WHERE tenant = $2 AND id = $3")
                        .bind(id)
                        .bind(&w.decision.tenant)
                        .bind(&r.lead.id)
                        .execute(&mut *tx)
                        .await?;
                }
            }

            // What the steps learned of their accounts. One statement: the
            // same account twice in a batch is merged first (a multi-row
            // upsert may not touch one row twice), the later step's fields
            // over the earlier's, as two upserts in order would leave it.
            let mut accounts: Vec<(&str, AccountRow)> = Vec::new();
            for &i in &accepted {
                let (tenant, Some(a)) = (batch[i].decision.tenant.as_str(), &batch[i].account) else { continue };
                match accounts.iter_mut().find(|(t, known)| *t == tenant && known.domain == a.domain) {
                    Some((_, known)) => known.merge(a),
                    None => accounts.push((tenant, a.clone())),
                }
            }
            if !accounts.is_empty() {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO accounts (tenant, domain, name, industry, employees, country, region) ",
                );
                q.push_values(&accounts, |mut b, (tenant, a)| {
                    b.push_bind(*tenant)
                        .push_bind(&a.domain)
                        .push_bind(&a.name)
                        .push_bind(&a.industry)
                        .push_bind(a.employees.map(i64::from))
                        .push_bind(&a.country)
                        .push_bind(&a.region);
                });
                q.push(super::records::ACCOUNT_UPSERT);
                q.build().execute(&mut *tx).await?;
            }

            let registrations: Vec<(&str, &RegistrationRow)> = accepted
                .iter()
                .filter_map(|&i| match &batch[i].record {
                    DecidedRecord::Registration(r) => Some((batch[i].decision.tenant.as_str(), r)),
                    _ => None,
                })
                .collect();
            if !registrations.is_empty() {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO registrations (tenant, id, partner_id, account_domain, amount, currency, \
                     expected_close, status, protected_until, reason, decision_id, plugin_hash, created_at) ",
                );
                q.push_values(&registrations, |mut b, (tenant, r)| {
                    b.push_bind(*tenant)
                        .push_bind(&r.id)
                        .push_bind(&r.partner_id)
                        .push_bind(&r.account_domain)
                        .push_bind(r.amount)
                        .push_bind(&r.currency)
                        .push_bind(r.expected_close)
                        .push_bind(r.status.as_str())
                        .push_bind(r.protected_until)
                        .push_bind(&r.reason)
                        .push_bind(r.decision_id)
                        .push_bind(&r.plugin_hash)
                        .push_bind(r.created_at);
                });
                q.build().execute(&mut *tx).await?;
            }

            let leads: Vec<(&str, &LeadRow)> = accepted
                .iter()
                .filter_map(|&i| match &batch[i].record {
                    DecidedRecord::Lead(l) => Some((batch[i].decision.tenant.as_str(), l)),
                    _ => None,
                })
                .collect();
            if !leads.is_empty() {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO leads (tenant, id, account_domain, contact_email, source, destination, partner_id, \
                     reason, attribution, decision_id, created_at, status, respond_by, tried, offered_at) ",
                );
                q.push_values(&leads, |mut b, (tenant, l)| {
                    b.push_bind(*tenant)
                        .push_bind(&l.id)
                        .push_bind(&l.account_domain)
                        .push_bind(&l.contact_email)
                        .push_bind(&l.source)
                        .push_bind(&l.destination)
                        .push_bind(&l.partner_id)
                        .push_bind(&l.reason)
                        .push_bind(&l.attribution)
                        .push_bind(l.decision_id)
                        .push_bind(l.created_at)
                        .push_bind(l.status.as_str())
                        .push_bind(l.respond_by)
                        .push_bind(tried(&l.tried))
                        .push_bind(l.offered_at);
                });
                q.build().execute(&mut *tx).await?;
            }

            let lines: Vec<(&str, &CommissionLineRow)> = accepted
                .iter()
                .filter_map(|&i| match &batch[i].record {
                    DecidedRecord::Commission(c) => Some((batch[i].decision.tenant.as_str(), c)),
                    _ => None,
                })
                .flat_map(|(tenant, c)| c.lines.iter().map(move |l| (tenant, l)))
                .collect();
            for chunk in lines.chunks(LINES_PER_STATEMENT) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO commission_lines (tenant, deal_id, partner_id, kind, amount, currency, rate_bps, \
                     description, status, due_at, decision_id, created_at, adjusts) ",
                );
                q.push_values(chunk, |mut b, (tenant, l)| {
                    b.push_bind(*tenant)
                        .push_bind(&l.deal_id)
                        .push_bind(&l.partner_id)
                        .push_bind(&l.kind)
                        .push_bind(l.amount)
                        .push_bind(&l.currency)
                        .push_bind(l.rate_bps)
                        .push_bind(&l.description)
                        .push_bind(l.status.as_str())
                        .push_bind(l.due_at)
                        .push_bind(l.decision_id)
                        .push_bind(created_at)
                        .push_bind(l.adjusts);
                });
                q.build().execute(&mut *tx).await?;
            }
            // Each clawback shows on the line it takes back.
            for (tenant, l) in lines.iter().filter(|(_, l)| l.amount < 0) {
                let Some(target) = l.adjusts else { continue };
                self.before_write()?;
                sqlx::query("UPDATE commission_lines SET clawed_back = clawed_back - $1 WHERE tenant = $2 AND id = $3")
                    .bind(l.amount)
                    .bind(*tenant)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
            }

            self.before_write()?;
            let mut q =
                sqlx::QueryBuilder::new("INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) ");
            q.push_values(accepted.iter().map(|&i| &batch[i]), |mut b, w| {
                b.push_bind(&w.decision.tenant)
                    .push_bind(w.event)
                    .push_bind(w.record.payload().to_string())
                    .push_bind(created_at)
                    .push_bind(created_at);
            });
            q.build().execute(&mut *tx).await?;
            tx.commit().await?;
            outcomes
        });
        Ok((created_at, outcomes))
    }
}

/// Why a guarded deal transition wrote nothing, from the deal's state as
/// the transaction found it (`None`: it is gone).
pub(super) fn conflict(deal: &str, step: DealStep, now: Option<(String, i64)>) -> String {
    match (step, now) {
        (_, None) => format!("deal `{deal}` no longer exists"),
        (DealStep::Won { .. }, Some((stage, _))) => format!("deal `{deal}` is {stage} already"),
        (DealStep::Refund { .. }, Some((stage, _))) if stage != "won" => {
            format!("deal `{deal}` is {stage}, only a won deal can be refunded")
        }
        (DealStep::Refund { .. }, Some((_, refunded))) => format!(
            "deal `{deal}` was refunded by another request meanwhile ({refunded} refunded now); \
             send the refund again if it is still due"
        ),
    }
}

impl DecisionToWrite {
    fn as_new(&self) -> super::NewDecision<'_> {
        super::NewDecision {
            tenant: &self.tenant,
            hook: self.hook,
            plugin: self.plugin,
            subject: &self.subject,
            event_time: self.event_time,
            outcome: self.outcome,
            record: &self.record,
            decision: &self.decision,
            fallback: self.fallback,
        }
    }
}

impl DecidedWrite {
    fn written(self, created_at: i64, id: i64) -> Written {
        let d = self.decision;
        Written {
            decision: DecisionRow {
                id,
                hook: d.hook.interface().to_string(),
                plugin: d.plugin.to_hex(),
                subject: Some(d.subject),
                event_time: d.event_time,
                outcome: d.outcome.to_string(),
                fallback: d.fallback,
                decision: d.decision,
                record: d.record,
                created_at,
                actor: None,
            },
            record: self.record,
        }
    }
}

type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// The group-commit writer: one task that takes every waiting request's
/// [`DecidedWrite`] and writes them in one transaction. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::UnboundedSender<(DecidedWrite, Reply)>,
}

impl GroupCommit {
    /// Starts the writer task on the current tokio runtime. At shutdown
    /// (`stopping`) it takes no new writes, writes every one already queued
    /// and stops; the returned handle completes then.
    pub fn start(db: Db, stopping: pactum_core::tasks::Stopping) -> (GroupCommit, tokio::task::JoinHandle<()>) {
        let (queue, waiting) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(db, waiting, stopping));
        (GroupCommit { queue }, task)
    }

    /// Writes `write` with whatever else is waiting, and returns it as
    /// stored. Once queued, the write happens even if the caller goes away.
    pub async fn write(&self, write: DecidedWrite) -> Result<Written, StoreError> {
        let (reply, written) = oneshot::channel();
        self.queue
            .send((write, reply))
            .map_err(|_| StoreError::Inconsistent("the group-commit writer has stopped".into()))?;
        written.await.map_err(|_| StoreError::Inconsistent("the group-commit writer dropped a write".into()))?
    }
}

async fn run(
    db: Db,
    mut waiting: mpsc::UnboundedReceiver<(DecidedWrite, Reply)>,
    mut stopping: pactum_core::tasks::Stopping,
) {
    let mut batch = Vec::new();
    let mut closed = false;
    loop {
        let received = tokio::select! {
            n = waiting.recv_many(&mut batch, MAX_BATCH) => n,
            // Refuse new writes; those queued are still received below,
            // until the queue is empty and `recv_many` answers 0.
            _ = stopping.stopped(), if !closed => {
                waiting.close();
                closed = true;
                continue;
            }
        };
        if received == 0 {
            break;
        }
        let (mut writes, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut batch).into_iter().unzip();
        match db.write_decided_in_place(&mut writes).await {
            Ok((created_at, outcomes)) => {
                for ((reply, w), outcome) in replies.into_iter().zip(writes).zip(outcomes) {
                    let _ = reply.send(outcome.map(|id| w.written(created_at, id)).map_err(StoreError::Conflict));
                }
            }
            // One bad write must not fail its neighbours: alone, each
            // succeeds or fails on its own.
            Err(e) if writes.len() > 1 => {
                tracing::warn!(error = %e, writes = writes.len(), "a batched write failed; writing one by one");
                for (write, reply) in writes.into_iter().zip(replies) {
                    let alone = db.write_decided(vec![write]).await.and_then(|mut w| w.remove(0));
                    let _ = reply.send(alone);
                }
            }
            Err(e) => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }
}
