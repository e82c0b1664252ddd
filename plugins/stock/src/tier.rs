//! Stock tier evaluation: Registered / Silver / Gold / Platinum.
//!
//! A partner qualifies for the highest tier whose revenue threshold its
//! trailing-twelve-month won revenue meets **and** whose certification count
//! its valid (unexpired at the event time) certifications meet. Moving to
//! another tier is a promotion or a demotion, and is escalated to the
//! partner manager.
//!
//! Parameters: `silver-revenue`, `gold-revenue`, `platinum-revenue`
//! (money; the seed's $50K, $200K, $500K); `silver-certifications`,
//! `gold-certifications`, `platinum-certifications` (integers, default 0).

use crate::Stock;
use pactum_pdk::prelude::*;
use pactum_pdk::tier_evaluation::*;

impl TierEvaluation for Stock {
    fn evaluate(input: TierInput) -> Result<TierDecision, PolicyError> {
        let ctx = &input.context;
        let revenue = &input.scorecard.trailing_revenue;
        let valid_certs =
            input.partner.certifications.iter().filter(|c| c.expires_at.is_none_or(|at| at > ctx.event_time)).count()
                as i64;

        let mut by_revenue = Tier::Registered;
        let mut qualified = Tier::Registered;
        let mut held_back = None;
        for tier in [Tier::Silver, Tier::Gold, Tier::Platinum] {
            let threshold = ctx.money(&format!("{}-revenue", tier.name()))?;
            if threshold.currency != revenue.currency {
                return Err(PolicyError::new(
                    "currency-mismatch",
                    format!(
                        "{} threshold is in {} but revenue is in {}",
                        tier.name(),
                        threshold.currency,
                        revenue.currency
                    ),
                ));
            }
            if revenue.amount < threshold.amount {
                break;
            }
            by_revenue = tier;
            let certs = ctx.integer_or(&format!("{}-certifications", tier.name()), 0)?;
            if valid_certs >= certs && held_back.is_none() {
                qualified = tier;
            } else if held_back.is_none() {
                held_back = Some((tier, certs));
            }
        }

        let current = input.partner.tier;
        let change = match qualified.rank().cmp(&current.rank()) {
            std::cmp::Ordering::Greater => TierChange::Promote,
            std::cmp::Ordering::Less => TierChange::Demote,
            std::cmp::Ordering::Equal => TierChange::Keep,
        };
        let mut reason = format!(
            "Trailing-twelve-month won revenue {revenue} meets {} on revenue; {valid_certs} valid certification(s).",
            title(by_revenue)
        );
        if let Some((tier, certs)) = held_back {
            reason.push_str(&format!(" {} needs {certs} certification(s).", title(tier)));
        }
        reason.push_str(&match change {
            TierChange::Keep => format!(" Stays {}.", title(current)),
            TierChange::Promote => {
                format!(" Promoted from {} to {}.", title(current), title(qualified))
            }
            TierChange::Demote => {
                format!(" Demoted from {} to {}.", title(current), title(qualified))
            }
        });
        Ok(TierDecision { tier: qualified, change, escalate: change != TierChange::Keep, reason })
    }
}

fn title(tier: Tier) -> &'static str {
    match tier {
        Tier::Registered => "Registered",
        Tier::Silver => "Silver",
        Tier::Gold => "Gold",
        Tier::Platinum => "Platinum",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pactum_pdk::testing::{context, partner};

    const NOW: i64 = 1_795_651_200;

    fn input(revenue_cents: i64, tier: Tier, certs: usize) -> TierInput {
        let mut p = partner("p-1", PartnerKind::Reseller);
        p.tier = tier;
        p.certifications =
            (0..certs).map(|i| Certification { name: format!("cert-{i}"), expires_at: Some(NOW + DAY) }).collect();
        TierInput {
            context: context("acme", NOW)
                .with_money("silver-revenue", 5_000_000, "USD")
                .with_money("gold-revenue", 20_000_000, "USD")
                .with_money("platinum-revenue", 50_000_000, "USD")
                .with_integer("gold-certifications", 1)
                .with_integer("platinum-certifications", 2),
            partner: p,
            scorecard: Scorecard {
                period: "2026-10".into(),
                trailing_revenue: Money::new(revenue_cents, "USD"),
                registered_deals: 4,
                won_deals: 2,
                lost_deals: 1,
                win_rate: 6_667,
                average_deal_size: Money::new(revenue_cents / 2, "USD"),
            },
        }
    }

    #[test]
    fn seed_thresholds() {
        let tier = |rev, certs| Stock::evaluate(input(rev, Tier::Registered, certs)).unwrap().tier;
        assert_eq!(tier(4_999_999, 5), Tier::Registered);
        assert_eq!(tier(5_000_000, 0), Tier::Silver);
        assert_eq!(tier(21_000_000, 1), Tier::Gold); // $210,000 -> Gold
        assert_eq!(tier(50_000_000, 2), Tier::Platinum);
    }

    #[test]
    fn certifications_hold_back_and_expired_ones_do_not_count() {
        let d = Stock::evaluate(input(60_000_000, Tier::Registered, 0)).unwrap();
        assert_eq!(d.tier, Tier::Silver);
        assert!(d.reason.contains("Gold needs 1 certification"), "{}", d.reason);
        let mut i = input(21_000_000, Tier::Gold, 1);
        i.partner.certifications[0].expires_at = Some(NOW);
        let d = Stock::evaluate(i).unwrap();
        assert_eq!((d.tier, d.change, d.escalate), (Tier::Silver, TierChange::Demote, true));
    }

    #[test]
    fn promotion_escalates_and_keep_does_not() {
        let d = Stock::evaluate(input(21_000_000, Tier::Silver, 1)).unwrap();
        assert_eq!((d.tier, d.change, d.escalate), (Tier::Gold, TierChange::Promote, true));
        assert!(d.reason.contains("Promoted from Silver to Gold"), "{}", d.reason);
        let d = Stock::evaluate(input(21_000_000, Tier::Gold, 1)).unwrap();
        assert_eq!((d.change, d.escalate), (TierChange::Keep, false));
    }
}
