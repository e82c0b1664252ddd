//! Leads, scorecards and the aggregates behind them and behind the program
//! metrics. The aggregates are one grouped query each, so a scorecard run
//! over thousands of partners reads the database a handful of times.

use super::{Db, Get, PersonDecision, StoreError};
use pactum_core::{LeadStatus, TierChangeStatus};
use serde::Serialize;
use std::collections::HashMap;

/// A routed lead.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LeadRow {
    /// Its id.
    pub id: String,
    /// The account.
    pub account_domain: String,
    /// The contact, if given.
    pub contact_email: Option<String>,
    /// Where it came from (webinar, inbound, ...).
    pub source: String,
    /// `partner` or `direct`.
    pub destination: String,
    /// The partner it went to.
    pub partner_id: Option<String>,
    /// Why.
    pub reason: String,
    /// Source attribution (registered-deal, partner-territory, direct, fallback).
    pub attribution: String,
    /// The routing decision (the latest, when it was routed again).
    pub decision_id: i64,
    /// When it arrived.
    pub created_at: i64,
    /// Where it is: offered to its partner, accepted and onwards, or direct.
    pub status: LeadStatus,
    /// While offered: when the offer runs out and the lead is routed again.
    pub respond_by: Option<i64>,
    /// When its partner accepted it.
    pub accepted_at: Option<i64>,
    /// When its partner first reported contact.
    pub first_contact_at: Option<i64>,
    /// When it was offered to its current partner.
    pub offered_at: Option<i64>,
    /// Partners it was offered to before, who declined or did not answer.
    pub tried: Vec<String>,
    /// The last report's or answer's note.
    pub status_note: Option<String>,
}

/// A partner's monthly scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ScorecardRow {
    /// The partner.
    pub partner_id: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Registrations submitted in the month.
    pub registered_deals: i64,
    /// Deals won in the month.
    pub won_deals: i64,
    /// Deals lost in the month.
    pub lost_deals: i64,
    /// First-year ACV won in the month.
    pub won_revenue: i64,
    /// won / (won + lost), basis points.
    pub win_rate_bps: i64,
    /// Average won deal, minor units.
    pub average_deal_size: i64,
    /// Won ACV over the trailing twelve months.
    pub trailing_revenue: i64,
    /// Currency of the amounts.
    pub currency: String,
    /// Tier before the evaluation.
    pub tier_before: String,
    /// Tier after it.
    pub tier_after: String,
    /// Keep, Promote or Demote.
    pub change: String,
    /// Whether the partner manager must be told.
    pub escalate: bool,
    /// Why.
    pub reason: String,
    /// The tier decision.
    pub decision_id: i64,
    /// Leads the partner accepted in the month.
    pub leads_accepted: i64,
    /// Their average time from offer to acceptance, seconds.
    pub accept_avg_s: Option<i64>,
    /// Average time from offer to first contact of the leads first
    /// contacted in the month, seconds.
    pub first_contact_avg_s: Option<i64>,
    /// In a program whose tier changes wait for a manager
    /// (`tier-approval`): where this card's change is. None: applied by
    /// the run, or no change.
    pub tier_status: Option<TierChangeStatus>,
    /// The manager's reason for approving or rejecting it.
    pub tier_note: Option<String>,
}

/// A manager's decision on a scorecard's tier change
/// ([`Db::decide_tier_change`]).
#[derive(Debug, Clone, Copy)]
pub struct TierDecision<'a> {
    /// The partner.
    pub partner: &'a str,
    /// The scorecard's month, `YYYY-MM`.
    pub period: &'a str,
    /// Approve (the tier changes) or reject (it stays).
    pub approve: bool,
    /// Why.
    pub reason: &'a str,
    /// Who (`key:<12 hex>`).
    pub actor: &'a str,
    /// When.
    pub at: i64,
}

/// A partner's lead response times in a period ([`Db::lead_times`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LeadTimes {
    /// Leads accepted.
    pub accepted: i64,
    /// Their average seconds from offer to acceptance.
    pub accept_avg_s: Option<i64>,
    /// Average seconds from offer to first contact of the leads first
    /// contacted.
    pub first_contact_avg_s: Option<i64>,
}

/// Per-partner deal counts in a period.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DealCounts {
    /// Deals won.
    pub won: i64,
    /// Deals lost.
    pub lost: i64,
    /// First-year ACV won.
    pub won_revenue: i64,
}

/// The raw numbers behind the program metrics for a period.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProgramNumbers {
    /// First-year ACV of every deal won in the period.
    pub won_revenue: i64,
    /// Of which partner-sourced or partner-influenced: the two below.
    pub partner_won_revenue: i64,
    /// First-year ACV of won deals the partner brought (`source` =
    /// `partner-sourced`): the partner found the opportunity and registered
    /// or referred it.
    pub partner_sourced_revenue: i64,
    /// First-year ACV of won deals a partner helped close but the company
    /// found (`source` = `partner-influenced`).
    pub partner_influenced_revenue: i64,
    /// Active partners now.
    pub active_partners: i64,
    /// Active partners with a registration or a won deal in the period.
    pub engaged_partners: i64,
    /// Partner deals won in the period.
    pub partner_won: i64,
    /// Partner deals lost in the period.
    pub partner_lost: i64,
    /// Partners that joined before the period.
    pub cohort: i64,
    /// Of those, still active.
    pub cohort_active: i64,
}

pub(crate) fn lead(r: &impl Get) -> LeadRow {
    LeadRow {
        id: r.get("id"),
        account_domain: r.get("account_domain"),
        contact_email: r.get("contact_email"),
        source: r.get("source"),
        destination: r.get("destination"),
        partner_id: r.get("partner_id"),
        reason: r.get("reason"),
        attribution: r.get("attribution"),
        decision_id: r.get("decision_id"),
        created_at: r.get("created_at"),
        status: crate::records::spelled(r, "status", LeadStatus::parse, LeadStatus::Accepted),
        respond_by: r.get("respond_by"),
        accepted_at: r.get("accepted_at"),
        first_contact_at: r.get("first_contact_at"),
        offered_at: r.get("offered_at"),
        tried: serde_json::from_str(&r.get::<String>("tried")).unwrap_or_default(),
        status_note: r.get("status_note"),
    }
}

pub(crate) fn scorecard(r: &impl Get) -> ScorecardRow {
    ScorecardRow {
        partner_id: r.get("partner_id"),
        period: r.get("period"),
        registered_deals: r.get("registered_deals"),
        won_deals: r.get("won_deals"),
        lost_deals: r.get("lost_deals"),
        won_revenue: r.get("won_revenue"),
        win_rate_bps: r.get("win_rate_bps"),
        average_deal_size: r.get("average_deal_size"),
        trailing_revenue: r.get("trailing_revenue"),
        currency: r.get("currency"),
        tier_before: r.get("tier_before"),
        tier_after: r.get("tier_after"),
        change: r.get("change"),
        escalate: r.get("escalate"),
        reason: r.get("reason"),
        decision_id: r.get("decision_id"),
        leads_accepted: r.get("leads_accepted"),
        accept_avg_s: r.get("accept_avg_s"),
        first_contact_avg_s: r.get("first_contact_avg_s"),
        tier_status: r
            .get::<Option<String>>("tier_status")
            .map(|t| TierChangeStatus::parse(&t).unwrap_or(TierChangeStatus::Pending)),
        tier_note: r.get("tier_note"),
    }
}

/// Scorecards stored per statement: within both backends' limits on bound
/// parameters (18 per scorecard).
pub const SCORECARD_BATCH: usize = 500;

impl Db {
    /// One lead.
    pub async fn lead(&self, tenant: &str, id: &str) -> Result<Option<LeadRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let row = sqlx::query("SELECT * FROM leads WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(e)
                .await?;
            row.as_ref().map(lead)
        }))
    }

    /// Leads, newest first, optionally those routed to one partner.
    pub async fn leads(&self, tenant: &str, partner: Option<&str>, limit: i64) -> Result<Vec<LeadRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM leads WHERE tenant = $1 AND ($2 IS NULL OR partner_id = $3) \
                 ORDER BY created_at DESC, id DESC LIMIT $4",
            )
            .bind(tenant)
            .bind(partner)
            .bind(partner)
            .bind(limit)
            .fetch_all(e)
            .await?;
            rows.iter().map(lead).collect()
        }))
    }

    /// Per partner, the leads it accepted in `[from, to)` and the average
    /// time from offer to acceptance, and the average time from offer to
    /// first contact of the leads it first contacted then. One grouped
    /// query; the averages are divided here (the same on both databases).
    pub async fn lead_times(&self, tenant: &str, from: i64, to: i64) -> Result<HashMap<String, LeadTimes>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT partner_id, \
                 CAST(SUM(CASE WHEN accepted_at >= $2 AND accepted_at < $3 THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN accepted_at >= $2 AND accepted_at < $3 THEN accepted_at - offered_at ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN first_contact_at >= $2 AND first_contact_at < $3 THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN first_contact_at >= $2 AND first_contact_at < $3 THEN first_contact_at - offered_at ELSE 0 END) AS BIGINT) \
                 FROM leads WHERE tenant = $1 AND partner_id IS NOT NULL AND offered_at IS NOT NULL \
                 AND ((accepted_at >= $2 AND accepted_at < $3) OR (first_contact_at >= $2 AND first_contact_at < $3)) \
                 GROUP BY partner_id",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_all(e)
            .await?;
            rows.iter()
                .map(|r| {
                    let avg = |n: i64, sum: i64| (n > 0).then(|| sum / n);
                    let (accepted, accept_s, contacted, contact_s): (i64, i64, i64, i64) =
                        (r.get(1), r.get(2), r.get(3), r.get(4));
                    let times = LeadTimes {
                        accepted,
                        accept_avg_s: avg(accepted, accept_s),
                        first_contact_avg_s: avg(contacted, contact_s),
                    };
                    (r.get::<String>(0), times)
                })
                .collect()
        }))
    }

    /// Registrations submitted in `[from, to)`, per partner.
    pub async fn registrations_by_partner(
        &self,
        tenant: &str,
        from: i64,
        to: i64,
    ) -> Result<HashMap<String, i64>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT partner_id, COUNT(*) FROM registrations WHERE tenant = $1 AND created_at >= $2 AND created_at < $3 \
                 GROUP BY partner_id",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_all(e)
            .await?;
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        }))
    }

    /// Partner deals won and lost (by close date) in `[from, to)`, per
    /// partner; the revenue of those in `currency`.
    pub async fn deals_by_partner(
        &self,
        tenant: &str,
        from: i64,
        to: i64,
        currency: &str,
    ) -> Result<HashMap<String, DealCounts>, StoreError> {
        Ok(self
            .deal_stats(tenant, from, from, to, currency)
            .await?
            .into_iter()
            .map(|(p, (counts, _))| (p, counts))
            .collect())
    }

    /// A partner's won revenue (deals in `currency`, minor units) in each
    /// window `[bounds[i], bounds[i + 1])`: one value per window, one
    /// statement whatever the number of deals.
    pub async fn won_revenue_by_window(
        &self,
        tenant: &str,
        partner: &str,
        bounds: &[i64],
        currency: &str,
    ) -> Result<Vec<i64>, StoreError> {
        if bounds.len() < 2 {
            return Ok(Vec::new());
        }
        Ok(with_reader!(self, |e| {
            let mut q = sqlx::QueryBuilder::new("SELECT ");
            for (i, w) in bounds.windows(2).enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("CAST(COALESCE(SUM(CASE WHEN closed_at >= ")
                    .push_bind(w[0])
                    .push(" AND closed_at < ")
                    .push_bind(w[1])
                    .push(" THEN first_year_acv ELSE 0 END), 0) AS BIGINT)");
            }
            q.push(" FROM deals WHERE tenant = ")
                .push_bind(tenant)
                .push(" AND partner_id = ")
                .push_bind(partner)
                .push(" AND stage = 'won' AND currency = ")
                .push_bind(currency)
                .push(" AND closed_at >= ")
                .push_bind(bounds[0])
                .push(" AND closed_at < ")
                .push_bind(bounds[bounds.len() - 1]);
            let row = q.build().fetch_one(e).await?;
            (0..bounds.len() - 1).map(|i| -> i64 { row.get(i) }).collect()
        }))
    }

    /// One scan for the scorecard: per partner, the deals won and lost in
    /// `[month_from, to)` and the first-year ACV won in `[trailing_from, to)`
    /// of the deals in `currency` (the program's: tiers are in it; deals in
    /// the program's other currencies count as deals, not as revenue, until
    /// conversion rates exist).
    pub async fn deal_stats(
        &self,
        tenant: &str,
        trailing_from: i64,
        month_from: i64,
        to: i64,
        currency: &str,
    ) -> Result<HashMap<String, (DealCounts, i64)>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT partner_id, \
                   CAST(SUM(CASE WHEN stage = 'won' AND closed_at >= $1 THEN 1 ELSE 0 END) AS BIGINT), \
                   CAST(SUM(CASE WHEN stage = 'lost' AND closed_at >= $1 THEN 1 ELSE 0 END) AS BIGINT), \
                   CAST(SUM(CASE WHEN stage = 'won' AND closed_at >= $1 AND currency = $5 THEN first_year_acv ELSE 0 END) AS BIGINT), \
                   CAST(SUM(CASE WHEN stage = 'won' AND currency = $5 THEN first_year_acv ELSE 0 END) AS BIGINT) \
                 FROM deals WHERE tenant = $2 AND closed_at >= $3 AND closed_at < $4 AND partner_id IS NOT NULL \
                 GROUP BY partner_id",
            )
            .bind(month_from)
            .bind(tenant)
            .bind(trailing_from.min(month_from))
            .bind(to)
            .bind(currency)
            .fetch_all(e)
            .await?;
            rows.iter()
                .map(|r| (r.get(0), (DealCounts { won: r.get(1), lost: r.get(2), won_revenue: r.get(3) }, r.get(4))))
                .collect()
        }))
    }

    /// Records each tier decision, stores (or replaces) its scorecard,
    /// applies the tier where it changed and queues a `tier.escalated`
    /// notification where the decision escalates, all in one transaction: a
    /// run is stored whole or not at all. Rows go in batches of
    /// [`SCORECARD_BATCH`] per statement (a statement is a round trip to the
    /// database: ten thousand partners would otherwise take forty thousand).
    /// Each decision's subject is its partner, one per run.
    pub async fn put_scorecards(
        &self,
        tenant: &str,
        cards: Vec<(super::NewDecision<'_>, ScorecardRow)>,
        notices: Vec<(&'static str, serde_json::Value)>,
        at: i64,
    ) -> Result<Vec<ScorecardRow>, StoreError> {
        let created_at = super::now();
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            let mut stored = Vec::with_capacity(cards.len());
            for chunk in cards.chunks(SCORECARD_BATCH) {
                self.before_write()?;
                let ids = insert_decisions!(&mut *tx, chunk.iter().map(|(d, _)| d), created_at);
                let done = chunk
                    .iter()
                    .map(|(d, s)| {
                        match ids.get(&(tenant.to_string(), d.hook.interface().to_string(), d.subject.to_string())) {
                            Some(&decision_id) => Ok(ScorecardRow { decision_id, ..s.clone() }),
                            None => {
                                Err(StoreError::Inconsistent(format!("no decision stored for partner {}", d.subject)))
                            }
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;

                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO scorecards (tenant, partner_id, period, registered_deals, won_deals, lost_deals, \
                     won_revenue, win_rate_bps, average_deal_size, trailing_revenue, currency, tier_before, tier_after, \
                     change, escalate, reason, decision_id, created_at, leads_accepted, accept_avg_s, \
                     first_contact_avg_s, tier_status, tier_note) ",
                );
                q.push_values(&done, |mut b, s| {
                    b.push_bind(tenant)
                        .push_bind(&s.partner_id)
                        .push_bind(&s.period)
                        .push_bind(s.registered_deals)
                        .push_bind(s.won_deals)
                        .push_bind(s.lost_deals)
                        .push_bind(s.won_revenue)
                        .push_bind(s.win_rate_bps)
                        .push_bind(s.average_deal_size)
                        .push_bind(s.trailing_revenue)
                        .push_bind(&s.currency)
                        .push_bind(&s.tier_before)
                        .push_bind(&s.tier_after)
                        .push_bind(&s.change)
                        .push_bind(s.escalate)
                        .push_bind(&s.reason)
                        .push_bind(s.decision_id)
                        .push_bind(at)
                        .push_bind(s.leads_accepted)
                        .push_bind(s.accept_avg_s)
                        .push_bind(s.first_contact_avg_s)
                        .push_bind(s.tier_status.map(TierChangeStatus::as_str))
                        .push_bind(&s.tier_note);
                });
                q.push(
                    " ON CONFLICT (tenant, partner_id, period) DO UPDATE SET registered_deals = excluded.registered_deals, \
                     won_deals = excluded.won_deals, lost_deals = excluded.lost_deals, won_revenue = excluded.won_revenue, \
                     win_rate_bps = excluded.win_rate_bps, average_deal_size = excluded.average_deal_size, \
                     trailing_revenue = excluded.trailing_revenue, currency = excluded.currency, \
                     tier_before = excluded.tier_before, tier_after = excluded.tier_after, change = excluded.change, \
                     escalate = excluded.escalate, reason = excluded.reason, decision_id = excluded.decision_id, \
                     created_at = excluded.created_at, leads_accepted = excluded.leads_accepted, \
                     accept_avg_s = excluded.accept_avg_s, first_contact_avg_s = excluded.first_contact_avg_s, \
                     tier_status = excluded.tier_status, tier_note = excluded.tier_note",
                );
                q.build().execute(&mut *tx).await?;

                // Tier changes, one statement per (old tier, new tier),
                // guarded: a partner whose tier changed since the run read
                // it (another run, a manager) is not overwritten; the whole
                // run is refused instead, to be run again on the new state.
                let mut by_tier: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
                // (A change waiting for a manager is applied on approval.)
                for s in done.iter().filter(|s| s.tier_after != s.tier_before && s.tier_status.is_none()) {
                    by_tier.entry((&s.tier_before, &s.tier_after)).or_default().push(&s.partner_id);
                }
                for ((before, tier), partners) in by_tier {
                    self.before_write()?;
                    let mut q = sqlx::QueryBuilder::new("UPDATE partners SET tier = ");
                    q.push_bind(tier)
                        .push(", version = version + 1 WHERE tenant = ")
                        .push_bind(tenant)
                        .push(" AND tier = ")
                        .push_bind(before)
                        .push(" AND id IN (");
                    let mut ids = q.separated(", ");
                    for p in &partners {
                        ids.push_bind(*p);
                    }
                    q.push(")");
                    let moved = q.build().execute(&mut *tx).await?.rows_affected();
                    if moved != partners.len() as u64 {
                        return Err(StoreError::Conflict(format!(
                            "{} of the partners moving from {before} to {tier} changed tier while the scorecard ran; \
                             run it again",
                            partners.len() as u64 - moved
                        )));
                    }
                }

                let escalated: Vec<&ScorecardRow> = done.iter().filter(|s| s.escalate).collect();
                if !escalated.is_empty() {
                    self.before_write()?;
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) ",
                    );
                    q.push_values(escalated, |mut b, s| {
                        b.push_bind(tenant)
                            .push_bind("tier.escalated")
                            .push_bind(serde_json::to_string(s).unwrap_or_default())
                            .push_bind(created_at)
                            .push_bind(created_at);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                stored.extend(done);
            }
            for chunk in notices.chunks(SCORECARD_BATCH) {
                self.before_write()?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO outbox (tenant, event, payload, next_attempt_at, created_at) ",
                );
                q.push_values(chunk, |mut b, (event, payload)| {
                    b.push_bind(tenant)
                        .push_bind(*event)
                        .push_bind(payload.to_string())
                        .push_bind(created_at)
                        .push_bind(created_at);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            stored
        }))
    }

    /// A manager's decision on a scorecard's tier change that waits for
    /// one: guarded (only a pending change), the partner's tier changed on
    /// approval (guarded too: only from the tier the scorecard saw), the
    /// decision-log entry naming the manager and `tier.approved` or
    /// `tier.rejected`, in one transaction.
    pub async fn decide_tier_change(&self, tenant: &str, d: &TierDecision<'_>) -> Result<ScorecardRow, StoreError> {
        let TierDecision { partner, period, approve, reason, actor, at } = *d;
        let created_at = super::now();
        let to = if approve { TierChangeStatus::Approved } else { TierChangeStatus::Rejected };
        Ok(with_writer!(self, |e| {
            let mut tx = e.begin().await?;
            self.before_write()?;
            let moved = sqlx::query(
                "UPDATE scorecards SET tier_status = $1, tier_note = $2 \
                 WHERE tenant = $3 AND partner_id = $4 AND period = $5 AND tier_status = 'pending'",
            )
            .bind(to.as_str())
            .bind(reason)
            .bind(tenant)
            .bind(partner)
            .bind(period)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                let now: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT tier_status FROM scorecards WHERE tenant = $1 AND partner_id = $2 AND period = $3",
                )
                .bind(tenant)
                .bind(partner)
                .bind(period)
                .fetch_optional(&mut *tx)
                .await?;
                return Err(StoreError::Conflict(match now {
                    None => format!("partner `{partner}` has no scorecard for {period}"),
                    Some(None) => format!("the {period} scorecard of `{partner}` has no tier change waiting"),
                    Some(Some(status)) => format!("the {period} tier change of `{partner}` is {status} already"),
                }));
            }
            let card = sqlx::query("SELECT * FROM scorecards WHERE tenant = $1 AND partner_id = $2 AND period = $3")
                .bind(tenant)
                .bind(partner)
                .bind(period)
                .fetch_one(&mut *tx)
                .await?;
            let card = scorecard(&card);
            if approve {
                self.before_write()?;
                let moved = sqlx::query(
                    "UPDATE partners SET tier = $1, version = version + 1 WHERE tenant = $2 AND id = $3 AND tier = $4",
                )
                .bind(&card.tier_after)
                .bind(tenant)
                .bind(partner)
                .bind(&card.tier_before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 0 {
                    return Err(StoreError::Conflict(format!(
                        "partner `{partner}` is no longer {} as the {period} scorecard saw it; run the scorecard again",
                        card.tier_before
                    )));
                }
            }
            let tier = if approve { &card.tier_after } else { &card.tier_before };
            self.before_write()?;
            let person = PersonDecision {
                hook: "tier-evaluation",
                subject: partner,
                at,
                outcome: "manual",
                record: &serde_json::json!({ "actor": actor, "input": { "scorecard": card } }),
                decision: &serde_json::json!({ "tier": tier, "approved": approve, "reason": reason }),
                actor,
            };
            let decision_id = insert_person_decision!(&mut *tx, tenant, &person, created_at);
            let event = if approve { "tier.approved" } else { "tier.rejected" };
            let payload =
                serde_json::json!({ "scorecard": card, "by": actor, "reason": reason, "decision_id": decision_id });
            self.before_write()?;
            enqueue_event!(&mut *tx, tenant, event, &payload);
            tx.commit().await?;
            card
        }))
    }

    /// The scorecards whose tier change is in `status`, oldest period
    /// first (`pending`: the managers' queue).
    pub async fn tier_changes(&self, tenant: &str, status: TierChangeStatus) -> Result<Vec<ScorecardRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM scorecards WHERE tenant = $1 AND tier_status = $2 ORDER BY period, partner_id LIMIT 1000",
            )
            .bind(tenant)
            .bind(status.as_str())
            .fetch_all(e)
            .await?;
            rows.iter().map(scorecard).collect()
        }))
    }

    /// A period's scorecards, optionally one partner's.
    pub async fn scorecards(
        &self,
        tenant: &str,
        period: &str,
        partner: Option<&str>,
    ) -> Result<Vec<ScorecardRow>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT * FROM scorecards WHERE tenant = $1 AND period = $2 AND ($3 IS NULL OR partner_id = $4) \
                 ORDER BY partner_id",
            )
            .bind(tenant)
            .bind(period)
            .bind(partner)
            .bind(partner)
            .fetch_all(e)
            .await?;
            rows.iter().map(scorecard).collect()
        }))
    }

    /// The numbers behind the program metrics for `[from, to)`; revenue of
    /// the deals in `currency` (the program's).
    pub async fn program_numbers(
        &self,
        tenant: &str,
        from: i64,
        to: i64,
        currency: &str,
    ) -> Result<ProgramNumbers, StoreError> {
        Ok(with_reader!(self, |e| {
            let revenue = sqlx::query(
                "SELECT CAST(COALESCE(SUM(CASE WHEN currency = $4 THEN first_year_acv ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN partner_id IS NOT NULL AND currency = $4 THEN first_year_acv ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN partner_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN source = 'partner-sourced' AND currency = $4 THEN first_year_acv ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN source = 'partner-influenced' AND currency = $4 THEN first_year_acv ELSE 0 END), 0) AS BIGINT) \
                 FROM deals WHERE tenant = $1 AND stage = 'won' AND closed_at >= $2 AND closed_at < $3",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .bind(currency)
            .fetch_one(e)
            .await?;
            let lost: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM deals WHERE tenant = $1 AND partner_id IS NOT NULL AND stage = 'lost' \
                 AND closed_at >= $2 AND closed_at < $3",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_one(e)
            .await?;
            let partners = sqlx::query(
                "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN status = 'active' AND (\
                     EXISTS (SELECT 1 FROM registrations r WHERE r.tenant = p.tenant AND r.partner_id = p.id \
                             AND r.created_at >= $2 AND r.created_at < $3) \
                  OR EXISTS (SELECT 1 FROM deals d WHERE d.tenant = p.tenant AND d.partner_id = p.id AND d.stage = 'won' \
                             AND d.closed_at >= $2 AND d.closed_at < $3)) THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN joined_at < $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN joined_at < $2 AND status = 'active' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM partners p WHERE tenant = $1",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_one(e)
            .await?;
            ProgramNumbers {
                won_revenue: revenue.get(0),
                partner_won_revenue: revenue.get(1),
                partner_won: revenue.get(2),
                partner_sourced_revenue: revenue.get(3),
                partner_influenced_revenue: revenue.get(4),
                partner_lost: lost,
                active_partners: partners.get(0),
                engaged_partners: partners.get(1),
                cohort: partners.get(2),
                cohort_active: partners.get(3),
            }
        }))
    }

    /// Days from joining to the first won deal, for every partner that has
    /// one and joined before `to`.
    pub async fn days_to_first_deal(&self, tenant: &str, to: i64) -> Result<Vec<i64>, StoreError> {
        Ok(with_reader!(self, |e| {
            let rows = sqlx::query(
                "SELECT CAST((MIN(d.closed_at) - p.joined_at) / 86400 AS BIGINT) FROM partners p \
                 JOIN deals d ON d.tenant = p.tenant AND d.partner_id = p.id \
                 WHERE p.tenant = $1 AND d.stage = 'won' AND d.closed_at < $2 GROUP BY p.id, p.joined_at",
            )
            .bind(tenant)
            .bind(to)
            .fetch_all(e)
            .await?;
            rows.iter().map(|r| r.get::<i64>(0).max(0)).collect()
        }))
    }
}
