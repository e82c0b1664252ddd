//! Group commit for the busiest workflows. A deal registration or a lead
//! routing ends with three writes: the decision, the record it decided (the
//! registration or the lead, pointing at the decision) and the outbox event
//! announcing it. [`GroupCommit`] writes them in one transaction, so a crash
//! never keeps a decision without its record or a record without its
//! event; and concurrent requests' writes share that transaction, one
//! multi-row statement per table.
//!
//! Why: every statement is a round trip (to PostgreSQL, or on SQLite to the
//! connection's own worker thread), and the single SQLite writer serialises
//! them. Three statements per request made the writer the bottleneck of
//! the load benchmark; a batch of thirty requests now takes five.

use super::{Db, DecisionRow, LeadRow, RegistrationRow, StoreError};
use crate::runtime::{HookKind, PluginHash};
use tokio::sync::{mpsc, oneshot};

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
}

impl DecidedRecord {
    fn set_decision(&mut self, id: i64) {
        match self {
            DecidedRecord::Registration(r) => r.decision_id = Some(id),
            DecidedRecord::Lead(l) => l.decision_id = id,
        }
    }

    fn payload(&self) -> serde_json::Value {
        match self {
            DecidedRecord::Registration(r) => serde_json::to_value(r),
            DecidedRecord::Lead(l) => serde_json::to_value(l),
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

impl Db {
    /// Writes `batch` in one transaction: all of it or none of it.
    pub async fn write_decided(&self, mut batch: Vec<DecidedWrite>) -> Result<Vec<Written>, StoreError> {
        let created_at = self.write_decided_in_place(&mut batch).await?;
        Ok(batch.into_iter().map(|w| w.written(created_at)).collect())
    }

    /// [`Db::write_decided`], filling in each record's `decision_id` in
    /// place; returns the time written.
    async fn write_decided_in_place(&self, batch: &mut [DecidedWrite]) -> Result<i64, StoreError> {
        let created_at = super::now();
        with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            // Matched by subject: a fresh registration or lead id, one per write.
            let ids = insert_decisions!(&mut *tx, batch.iter().map(|w| w.decision.as_new()), created_at);
            for w in batch.iter_mut() {
                let id = *ids.get(&w.decision.subject).ok_or_else(|| {
                    StoreError::Inconsistent(format!("no decision stored for {}", w.decision.subject))
                })?;
                w.record.set_decision(id);
            }

            let registrations: Vec<(&str, &RegistrationRow)> = batch
                .iter()
                .filter_map(|w| match &w.record {
                    DecidedRecord::Registration(r) => Some((w.decision.tenant.as_str(), r)),
                    DecidedRecord::Lead(_) => None,
                })
                .collect();
            if !registrations.is_empty() {
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
                        .push_bind(&r.status)
                        .push_bind(r.protected_until)
                        .push_bind(&r.reason)
                        .push_bind(r.decision_id)
                        .push_bind(&r.plugin_hash)
                        .push_bind(r.created_at);
                });
                q.build().execute(&mut *tx).await?;
            }

            let leads: Vec<(&str, &LeadRow)> = batch
                .iter()
                .filter_map(|w| match &w.record {
                    DecidedRecord::Lead(l) => Some((w.decision.tenant.as_str(), l)),
                    DecidedRecord::Registration(_) => None,
                })
                .collect();
            if !leads.is_empty() {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO leads (tenant, id, account_domain, contact_email, source, destination, partner_id, \
                     reason, attribution, decision_id, created_at) ",
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
                        .push_bind(l.created_at);
                });
                q.build().execute(&mut *tx).await?;
            }

            let mut q =
                sqlx::QueryBuilder::new("INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) ");
            q.push_values(batch.iter(), |mut b, w| {
                b.push_bind(&w.decision.tenant)
                    .push_bind(w.event)
                    .push_bind(w.record.payload().to_string())
                    .push_bind(created_at)
                    .push_bind(created_at);
            });
            q.build().execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(created_at)
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
    fn written(self, created_at: i64) -> Written {
        let d = self.decision;
        let id = match &self.record {
            DecidedRecord::Registration(r) => r.decision_id.unwrap_or_default(),
            DecidedRecord::Lead(l) => l.decision_id,
        };
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
    /// Starts the writer task on the current tokio runtime.
    pub fn start(db: Db) -> GroupCommit {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(db, waiting));
        GroupCommit { queue }
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

async fn run(db: Db, mut waiting: mpsc::UnboundedReceiver<(DecidedWrite, Reply)>) {
    let mut batch = Vec::new();
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (mut writes, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut batch).into_iter().unzip();
        match db.write_decided_in_place(&mut writes).await {
            Ok(created_at) => {
                for (reply, w) in replies.into_iter().zip(writes) {
                    let _ = reply.send(Ok(w.written(created_at)));
                }
            }
            // One bad write must not fail its neighbours: alone, each
            // succeeds or fails on its own.
            Err(e) if writes.len() > 1 => {
                tracing::warn!(error = %e, writes = writes.len(), "a batched write failed; writing one by one");
                for (write, reply) in writes.into_iter().zip(replies) {
                    let _ = reply.send(db.write_decided(vec![write]).await.map(|mut w| w.remove(0)));
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
