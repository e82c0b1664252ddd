//! The monthly partner scorecard and the program metrics.
//!
//! A scorecard run reads the period's numbers for every partner with a few
//! grouped queries, runs the tier-evaluation hook per partner at the
//! period's end (so certifications are judged as of then and the run
//! replays the same), stores the scorecard and applies the tier.

use super::{bad, enum_name, wit_partner};
use crate::auth::Capability;
use crate::runtime::hooks::TierEvaluation;
use crate::runtime::types as wit;
use crate::service::{Caller, Service, ServiceError};
use crate::store::{ProgramNumbers, ScorecardRow};
use pactum_core::TierChangeStatus;
use pactum_pdk::time::{civil_date, days_from_civil};
use serde::Serialize;

/// `YYYY-MM` → `(start, end)` of that month, Unix seconds.
pub(crate) fn month(period: &str) -> Result<(i64, i64), ServiceError> {
    let parsed = period.split_once('-').and_then(|(y, m)| {
        let (y, m) = (y.parse::<i64>().ok()?, m.parse::<u32>().ok()?);
        (period.len() == 7 && (1..=12).contains(&m) && (1970..=9999).contains(&y)).then_some((y, m))
    });
    let (y, m) = parsed.ok_or_else(|| bad(format!("period {period:?} must be a month like 2026-10")))?;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Ok((days_from_civil(y, m, 1), days_from_civil(ny, nm, 1)))
}

impl Service {
    /// Runs the scorecard for `period` (`YYYY-MM`) over every active
    /// partner (admin or manager). Running it again replaces it.
    pub async fn run_scorecards(&self, caller: &Caller, period: &str) -> Result<Vec<ScorecardRow>, ServiceError> {
        caller.require(Capability::RunScorecards)?;
        let (from, to) = month(period)?;
        // The trailing twelve months end with the period.
        let (end_year, end_month, _) = civil_date(to);
        let trailing_from = days_from_civil(end_year - 1, end_month, 1);
        let tenant = self.tenant(&caller.tenant)?;
        let currency = tenant.program.currency.clone();
        let approval = super::program_flag(&tenant, "tier-approval");
        let started = std::time::Instant::now();
        let registered = self.db.registrations_by_partner(&caller.tenant, from, to).await?;
        let mut deals = self.db.deal_stats(&caller.tenant, trailing_from, from, to, &currency).await?;
        // Deals in the program's other currencies count at the month's rates.
        if tenant.program.currencies.len() > 1 {
            let foreign = self.db.foreign_revenue(&caller.tenant, trailing_from, from, to, &currency).await?;
            if !foreign.is_empty() {
                let convert = self.converter(&tenant, period).await?;
                for f in foreign {
                    let Some(partner) = f.partner_id else { continue };
                    let (month, trailing) = (convert(&f.currency, f.month)?, convert(&f.currency, f.trailing)?);
                    let entry = deals.entry(partner).or_default();
                    let overflow = || ServiceError::Internal("a partner's revenue overflows".into());
                    entry.0.won_revenue = entry.0.won_revenue.checked_add(month).ok_or_else(overflow)?;
                    entry.1 = entry.1.checked_add(trailing).ok_or_else(overflow)?;
                }
            }
        }
        let lead_times = self.db.lead_times(&caller.tenant, from, to).await?;
        let money = |amount| wit::Money { amount, currency: currency.clone() };

        let aggregated = started.elapsed();
        let partners: Vec<_> = self
            .db
            .partners(&caller.tenant)
            .await?
            .into_iter()
            .filter(|p| p.status == pactum_core::PartnerStatus::Active)
            .collect();
        let mut inputs = Vec::with_capacity(partners.len());
        let mut cards = Vec::with_capacity(partners.len());
        for partner in &partners {
            let (counts, trailing_revenue) = deals.get(&partner.id).copied().unwrap_or_default();
            let registered_deals = registered.get(&partner.id).copied().unwrap_or(0);
            let times = lead_times.get(&partner.id).copied().unwrap_or_default();
            let decided_deals = counts.won + counts.lost;
            let win_rate = if decided_deals == 0 { 0 } else { counts.won * 10_000 / decided_deals };
            let average = if counts.won == 0 { 0 } else { counts.won_revenue / counts.won };
            inputs.push(wit::TierInput {
                context: tenant.program.context(to),
                partner: wit_partner(partner)?,
                scorecard: wit::Scorecard {
                    period: period.to_string(),
                    trailing_revenue: money(trailing_revenue),
                    registered_deals: u32::try_from(registered_deals).unwrap_or(u32::MAX),
                    won_deals: u32::try_from(counts.won).unwrap_or(u32::MAX),
                    lost_deals: u32::try_from(counts.lost).unwrap_or(u32::MAX),
                    win_rate: win_rate as u32,
                    average_deal_size: money(average),
                },
            });
            cards.push(ScorecardRow {
                partner_id: partner.id.clone(),
                period: period.to_string(),
                registered_deals,
                won_deals: counts.won,
                lost_deals: counts.lost,
                won_revenue: counts.won_revenue,
                win_rate_bps: win_rate,
                average_deal_size: average,
                trailing_revenue,
                currency: currency.clone(),
                tier_before: partner.tier.clone(),
                tier_after: String::new(),
                change: String::new(),
                escalate: false,
                reason: String::new(),
                decision_id: 0,
                leads_accepted: times.accepted,
                accept_avg_s: times.accept_avg_s,
                first_contact_avg_s: times.first_contact_avg_s,
                tier_status: None,
                tier_note: None,
            });
        }

        // Every partner's tier decision, on both cores; then the whole run
        // stored in one transaction.
        let prepared = started.elapsed();
        let called = self.call_many::<TierEvaluation>(&tenant, inputs).await?;
        let decided = started.elapsed();
        let json = called.iter().map(|c| c.json()).collect::<Result<Vec<_>, _>>()?;
        let mut rows = Vec::with_capacity(cards.len());
        for ((c, (record, decision)), mut card) in called.iter().zip(&json).zip(cards) {
            card.tier_after = enum_name(&c.output.tier);
            card.change = enum_name(&c.output.change);
            card.escalate = c.output.escalate;
            card.reason = c.output.reason.clone();
            if approval && card.tier_after != card.tier_before {
                card.tier_status = Some(TierChangeStatus::Pending);
            }
            rows.push((c.decision(&tenant, to, record, decision), card));
        }
        // Each partner's scorecard goes to its manager, with the run.
        let notices: Vec<(&'static str, serde_json::Value)> = partners
            .iter()
            .zip(&rows)
            .filter_map(|(p, (_, card))| {
                let manager = p.manager.as_ref()?;
                Some(("scorecard.ready", serde_json::json!({ "manager": manager, "scorecard": card })))
            })
            .collect();
        let serialized = started.elapsed();
        let cards = self.db.put_scorecards(&caller.tenant, rows, notices, to).await?;
        let escalated = cards.iter().filter(|c| c.escalate).count();
        tracing::info!(
            tenant = %caller.tenant, period, partners = cards.len(), escalated,
            aggregate_ms = aggregated.as_millis() as u64,
            prepare_ms = (prepared - aggregated).as_millis() as u64,
            hooks_ms = (decided - prepared).as_millis() as u64,
            serialize_ms = (serialized - decided).as_millis() as u64,
            store_ms = (started.elapsed() - serialized).as_millis() as u64,
            "scorecard run"
        );
        Ok(cards)
    }

    /// The tier changes waiting for a manager (`tier-approval`), oldest
    /// period first (admin or manager).
    pub async fn tier_changes(&self, caller: &Caller) -> Result<Vec<ScorecardRow>, ServiceError> {
        caller.require(Capability::ManagePartners)?;
        Ok(self.db.tier_changes(&caller.tenant, TierChangeStatus::Pending).await?)
    }

    /// A manager approves (the partner's tier changes) or rejects (it keeps
    /// its tier) a scorecard's tier change, with a reason; in the decision
    /// log with who decided. 409 when it is not waiting, or when the
    /// partner's tier changed since the scorecard.
    pub async fn decide_tier_change(
        &self,
        caller: &Caller,
        partner: &str,
        period: &str,
        approve: bool,
        reason: &str,
        at: i64,
    ) -> Result<ScorecardRow, ServiceError> {
        caller.require(Capability::ManagePartners)?;
        month(period)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(bad("`reason` must not be empty"));
        }
        super::check_text("reason", reason, 1_000)?;
        if self.db.scorecards(&caller.tenant, period, Some(partner)).await?.is_empty() {
            return Err(ServiceError::NotFound(format!("partner `{partner}` has no scorecard for {period}")));
        }
        let decision = crate::store::TierDecision { partner, period, approve, reason, actor: &caller.key, at };
        Ok(self.db.decide_tier_change(&caller.tenant, &decision).await?)
    }

    /// A period's scorecards; a partner key sees only its own.
    pub async fn scorecards(&self, caller: &Caller, period: &str) -> Result<Vec<ScorecardRow>, ServiceError> {
        month(period)?;
        Ok(self.db.scorecards(&caller.tenant, period, caller.partner.as_deref()).await?)
    }

    /// The program metrics for `[from, to)` beside the seed's benchmarks
    /// (admin or manager).
    pub async fn program_metrics(&self, caller: &Caller, from: i64, to: i64) -> Result<ProgramMetrics, ServiceError> {
        caller.require(Capability::RunScorecards)?;
        if from >= to {
            return Err(bad("`from` must be before `to`"));
        }
        let tenant = self.tenant(&caller.tenant)?;
        let mut n = self.db.program_numbers(&caller.tenant, from, to, &tenant.program.currency).await?;
        // Deals in the program's other currencies count at the rates of the
        // period's last month.
        if tenant.program.currencies.len() > 1 {
            let foreign = self.db.foreign_revenue(&caller.tenant, from, from, to, &tenant.program.currency).await?;
            if !foreign.is_empty() {
                let last = pactum_pdk::time::format_date(to - 1)[..7].to_string();
                let convert = self.converter(&tenant, &last).await?;
                let overflow = || ServiceError::Internal("the program's revenue overflows".into());
                for f in foreign {
                    let add = |total: &mut i64, amount: i64| -> Result<(), ServiceError> {
                        *total = total.checked_add(convert(&f.currency, amount)?).ok_or_else(overflow)?;
                        Ok(())
                    };
                    add(&mut n.won_revenue, f.month)?;
                    if f.partner_id.is_some() {
                        add(&mut n.partner_won_revenue, f.month)?;
                    }
                    add(&mut n.partner_sourced_revenue, f.sourced)?;
                    add(&mut n.partner_influenced_revenue, f.influenced)?;
                }
            }
        }
        let mut days = self.db.days_to_first_deal(&caller.tenant, to).await?;
        days.sort_unstable();
        let median_days = (!days.is_empty()).then(|| days[days.len() / 2]);
        let bps = |num: i64, den: i64| (den > 0).then(|| num * 10_000 / den);
        let metrics = vec![
            Benchmark::higher("partner-revenue", bps(n.partner_won_revenue, n.won_revenue), 1_500, 3_000),
            Benchmark::higher("active-partners", bps(n.engaged_partners, n.active_partners), 4_000, 6_000),
            Benchmark::higher("partner-win-rate", bps(n.partner_won, n.partner_won + n.partner_lost), 2_500, 4_000),
            Benchmark::lower("time-to-first-deal", median_days, 182, 91),
            Benchmark::higher("partner-retention", bps(n.cohort_active, n.cohort), 7_000, 8_500),
        ];
        Ok(ProgramMetrics { from, to, numbers: n, metrics })
    }
}

/// One program metric beside the seed's good and great benchmarks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Benchmark {
    /// Its name.
    pub metric: &'static str,
    /// Its value; `None` when the period has no data for it.
    pub value: Option<i64>,
    /// `bps` (basis points of 100 %) or `days`.
    pub unit: &'static str,
    /// The seed's "good" threshold.
    pub good: i64,
    /// The seed's "great" threshold.
    pub great: i64,
    /// `great`, `good`, `below` or `no-data`.
    pub rating: &'static str,
}

impl Benchmark {
    fn higher(metric: &'static str, value: Option<i64>, good: i64, great: i64) -> Benchmark {
        let rating = match value {
            None => "no-data",
            Some(v) if v >= great => "great",
            Some(v) if v >= good => "good",
            Some(_) => "below",
        };
        Benchmark { metric, value, unit: "bps", good, great, rating }
    }

    fn lower(metric: &'static str, value: Option<i64>, good: i64, great: i64) -> Benchmark {
        let rating = match value {
            None => "no-data",
            Some(v) if v <= great => "great",
            Some(v) if v <= good => "good",
            Some(_) => "below",
        };
        Benchmark { metric, value, unit: "days", good, great, rating }
    }
}

/// The program metrics of a period.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProgramMetrics {
    /// Period start (inclusive).
    pub from: i64,
    /// Period end (exclusive).
    pub to: i64,
    /// The raw numbers.
    pub numbers: ProgramNumbers,
    /// Each metric with its benchmark.
    pub metrics: Vec<Benchmark>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(month("2026-11").unwrap(), (days_from_civil(2026, 11, 1), days_from_civil(2026, 12, 1)));
        assert_eq!(month("2026-12").unwrap().1, days_from_civil(2027, 1, 1));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert!(month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ratings() {
        assert_eq!(Benchmark::higher("x", Some(3_000), 1_500, 3_000).rating, "great");
        assert_eq!(Benchmark::higher("x", Some(1_500), 1_500, 3_000).rating, "good");
        assert_eq!(Benchmark::higher("x", Some(1_499), 1_500, 3_000).rating, "below");
        assert_eq!(Benchmark::lower("t", Some(91), 182, 91).rating, "great");
        assert_eq!(Benchmark::lower("t", Some(200), 182, 91).rating, "below");
        assert_eq!(Benchmark::higher("x", None, 1, 2).rating, "no-data");
    }
}
