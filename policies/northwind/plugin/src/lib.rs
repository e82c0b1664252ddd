//! Northwind Cloud's commission plugin, written with the Pactum SDK.
//!
//! Every partner kind that sells software earns `base-rate-bps` of the
//! deal's first-year ACV. The part of the partner's quarter that goes past
//! `quarterly-quota` earns `accelerator-rate-bps` instead: the difference
//! is paid as a bonus line. The whole won deal pays at most `deal-cap`,
//! bonus trimmed first. Implementation partners keep services revenue and
//! earn no software commission. Refunds claw back the refunded share
//! proportionally, as the stock program does.

use pactum_pdk::commission::*;
use pactum_pdk::money::{FULL_BPS, apply_bps};

/// Northwind's commission rule.
pub struct Northwind;

impl Commission for Northwind {
    fn compute(input: CommissionInput) -> Result<CommissionDecision, PolicyError> {
        match &input.event {
            CommissionEvent::Refund(refund) => pactum_pdk::clawback::proportional_clawback(&input, refund),
            CommissionEvent::Won => won(&input),
        }
    }
}

fn won(input: &CommissionInput) -> Result<CommissionDecision, PolicyError> {
    let ctx = &input.context;
    let deal = &input.deal;
    let partner = &input.partner;
    if partner.kind == PartnerKind::Implementation {
        return Ok(CommissionDecision {
            lines: Vec::new(),
            explanation: format!(
                "Implementation partner {} keeps the services revenue; no software commission.",
                partner.id
            ),
        });
    }
    let base_rate = ctx.bps("base-rate-bps")?;
    let accel_rate = ctx.bps("accelerator-rate-bps")?;
    if accel_rate < base_rate {
        return Err(PolicyError::new("bad-param", "accelerator-rate-bps must not be below base-rate-bps"));
    }
    let quota = ctx.money("quarterly-quota")?;
    let cap = ctx.money("deal-cap")?;
    let acv = &deal.first_year_acv;
    for (name, m) in [("quarterly-quota", &quota), ("deal-cap", &cap), ("quarter-to-date", &input.quarter_to_date)] {
        if m.currency != acv.currency {
            return Err(PolicyError::new(
                "currency-mismatch",
                format!("{name} is in {} but the deal is in {}", m.currency, acv.currency),
            ));
        }
    }

    let base = acv.times_bps(base_rate)?;
    // How much of this deal lands above the quota for the quarter.
    let room = (quota.amount - input.quarter_to_date.amount).max(0);
    let above = (acv.amount - room).clamp(0, acv.amount);
    let bonus_rate = accel_rate - base_rate;
    let bonus = apply_bps(above, bonus_rate).ok_or_else(|| PolicyError::new("overflow", "bonus overflows"))?;

    // The cap trims the bonus first, then the base.
    let total = base.amount.saturating_add(bonus);
    let capped_total = total.min(cap.amount);
    let bonus_paid = bonus.min(capped_total).min((capped_total - base.amount).max(0));
    let base_paid = capped_total - bonus_paid;

    let mut lines = vec![CommissionLine {
        partner_id: partner.id.clone(),
        kind: LineKind::Fee,
        amount: Money::new(base_paid, &acv.currency),
        basis: acv.clone(),
        rate: base_rate,
        description: format!("Base fee at {}.{:02} % of first-year ACV {acv}", base_rate / 100, base_rate % 100),
    }];
    if bonus_paid > 0 {
        lines.push(CommissionLine {
            partner_id: partner.id.clone(),
            kind: LineKind::Bonus,
            amount: Money::new(bonus_paid, &acv.currency),
            basis: Money::new(above, &acv.currency),
            rate: bonus_rate,
            description: format!(
                "Accelerator: {} above the quarterly quota of {quota} earns {}.{:02} % instead of {}.{:02} %",
                Money::new(above, &acv.currency),
                accel_rate / 100,
                accel_rate % 100,
                base_rate / 100,
                base_rate % 100
            ),
        });
    }
    let mut explanation = format!(
        "Northwind commission on deal {}: {} ({} base",
        deal.id,
        Money::new(capped_total, &acv.currency),
        Money::new(base_paid, &acv.currency)
    );
    if bonus_paid > 0 {
        explanation.push_str(&format!(" + {} accelerator", Money::new(bonus_paid, &acv.currency)));
    }
    explanation.push(')');
    if capped_total < total {
        explanation.push_str(&format!(", capped at {cap} per deal (uncapped {})", Money::new(total, &acv.currency)));
    }
    explanation.push('.');
    debug_assert!(base_rate <= FULL_BPS);
    Ok(CommissionDecision { lines, explanation })
}

pactum_pdk::export_commission!(Northwind);

#[cfg(test)]
mod tests {
    use super::*;
    use pactum_pdk::testing::{context, partner};

    fn input(acv: i64, quarter_to_date: i64) -> CommissionInput {
        CommissionInput {
            context: context("northwind", 1_795_651_200)
                .with_integer("base-rate-bps", 1_200)
                .with_integer("accelerator-rate-bps", 1_800)
                .with_money("quarterly-quota", 15_000_000, "USD")
                .with_money("deal-cap", 2_500_000, "USD"),
            event: CommissionEvent::Won,
            deal: Deal {
                id: "d-1".into(),
                first_year_acv: Money::new(acv, "USD"),
                services: Money::zero("USD"),
                source: DealSource::PartnerSourced,
                closed_at: 1_795_651_200,
            },
            partner: partner("p-1", PartnerKind::Referral),
            prior_lines: vec![],
            quarter_to_date: Money::new(quarter_to_date, "USD"),
        }
    }

    fn total(d: &CommissionDecision) -> i64 {
        d.lines.iter().map(|l| l.amount.amount).sum()
    }

    #[test]
    fn below_quota_pays_base_only() {
        let d = Northwind::compute(input(12_000_000, 0)).unwrap();
        assert_eq!(total(&d), 1_440_000); // 12 % of $120,000
        assert_eq!(d.lines.len(), 1);
    }

    #[test]
    fn accelerates_above_quota() {
        // $100K already this quarter, quota $150K: $70K of this deal is above.
        let d = Northwind::compute(input(12_000_000, 10_000_000)).unwrap();
        assert_eq!(d.lines[0].amount.amount, 1_440_000);
        assert_eq!(d.lines[1].amount.amount, 420_000); // 6 % of $70,000
        assert_eq!(total(&d), 1_860_000);
    }

    #[test]
    fn caps_per_deal() {
        // $300K deal fully above quota: 12 % + 6 % = $54,000, capped at $25,000.
        let d = Northwind::compute(input(30_000_000, 20_000_000)).unwrap();
        assert_eq!(total(&d), 2_500_000);
        assert!(d.explanation.contains("capped at USD 25,000.00"), "{}", d.explanation);
    }
}
