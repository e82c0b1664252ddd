//! Stock commission, from the seed's partner economics.
//!
//! On a won deal, by partner kind and deal source:
//!
//! | partner | partner-sourced | partner-influenced |
//! |---|---|---|
//! | referral | `referral-rate-bps` of first-year ACV (fee) | `cosell-rate-bps` (fee) |
//! | reseller | `reseller-margin-bps` off list (margin) | same |
//! | technology | `cosell-rate-bps` (fee) | same |
//! | strategic | `strategic-rate-bps`, else `cosell-rate-bps` (fee) | same |
//! | implementation | no software commission: it keeps the services revenue | same |
//!
//! On a refund: the refunded share of what was earned is clawed back
//! ([`pactum_pdk::clawback::proportional_clawback`]).

use crate::Stock;
use pactum_pdk::commission::*;
use pactum_pdk::money::push_bps_percent;

impl Commission for Stock {
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
    let (kind, param, label) = match (partner.kind, deal.source) {
        (PartnerKind::Implementation, _) => {
            return Ok(CommissionDecision {
                lines: Vec::new(),
                explanation: format!(
                    "Implementation partner {} keeps the services revenue ({}); no software commission on deal {}.",
                    partner.id, deal.services, deal.id
                ),
            });
        }
        (PartnerKind::Referral, DealSource::PartnerSourced) => (LineKind::Fee, "referral-rate-bps", "Referral fee"),
        (PartnerKind::Referral, DealSource::PartnerInfluenced) => (LineKind::Fee, "cosell-rate-bps", "Co-sell fee"),
        (PartnerKind::Reseller, _) => (LineKind::Margin, "reseller-margin-bps", "Reseller margin off list"),
        (PartnerKind::Technology, _) => (LineKind::Fee, "cosell-rate-bps", "Co-sell fee"),
        (PartnerKind::Strategic, _) if ctx.has("strategic-rate-bps") => {
            (LineKind::Fee, "strategic-rate-bps", "Strategic alliance fee")
        }
        (PartnerKind::Strategic, _) => (LineKind::Fee, "cosell-rate-bps", "Co-sell fee"),
    };
    let rate = ctx.bps(param)?;
    let amount = deal.first_year_acv.times_bps(rate)?;
    // "Referral fee USD 18,000.00: 15.00 % of first-year ACV USD 120,000.00
    // on deal d-1", built without the formatting machinery (a third of
    // this hook's time in Wasm went to it).
    let mut description = String::with_capacity(80 + deal.id.len());
    description.push_str(label);
    description.push(' ');
    amount.push_to(&mut description);
    description.push_str(": ");
    push_bps_percent(&mut description, rate);
    description.push_str(" % of first-year ACV ");
    deal.first_year_acv.push_to(&mut description);
    description.push_str(" on deal ");
    description.push_str(&deal.id);
    let mut explanation = String::with_capacity(description.len() + 1);
    explanation.push_str(&description);
    explanation.push('.');
    Ok(CommissionDecision {
        explanation,
        lines: vec![CommissionLine {
            partner_id: partner.id.clone(),
            kind,
            amount,
            basis: deal.first_year_acv.clone(),
            rate,
            description,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pactum_pdk::testing::{context, partner};

    fn input(kind: PartnerKind, acv: i64) -> CommissionInput {
        CommissionInput {
            context: context("acme", 1_795_651_200)
                .with_integer("referral-rate-bps", 1_500)
                .with_integer("reseller-margin-bps", 2_500)
                .with_integer("cosell-rate-bps", 1_200),
            event: CommissionEvent::Won,
            deal: Deal {
                id: "d-1".into(),
                first_year_acv: Money::new(acv, "USD"),
                services: Money::new(3_000_000, "USD"),
                source: DealSource::PartnerSourced,
                closed_at: 1_795_651_200,
            },
            partner: partner("p-1", kind),
            prior_lines: vec![],
            quarter_to_date: Money::zero("USD"),
        }
    }

    #[test]
    fn referral_fee_on_first_year_acv() {
        let d = Stock::compute(input(PartnerKind::Referral, 12_000_000)).unwrap();
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.lines[0].amount, Money::new(1_800_000, "USD")); // $18,000.00
        assert_eq!(d.lines[0].kind, LineKind::Fee);
        assert!(d.explanation.contains("Referral fee USD 18,000.00: 15.00 %"), "{}", d.explanation);
    }

    #[test]
    fn reseller_margin_and_cosell() {
        let d = Stock::compute(input(PartnerKind::Reseller, 12_000_000)).unwrap();
        assert_eq!((d.lines[0].kind, d.lines[0].amount.amount), (LineKind::Margin, 3_000_000));
        let d = Stock::compute(input(PartnerKind::Technology, 12_000_000)).unwrap();
        assert_eq!(d.lines[0].amount.amount, 1_440_000);
        let mut i = input(PartnerKind::Referral, 12_000_000);
        i.deal.source = DealSource::PartnerInfluenced;
        assert_eq!(Stock::compute(i).unwrap().lines[0].amount.amount, 1_440_000);
    }

    #[test]
    fn implementation_partner_gets_no_software_commission() {
        let d = Stock::compute(input(PartnerKind::Implementation, 12_000_000)).unwrap();
        assert!(d.lines.is_empty());
        assert!(d.explanation.contains("keeps the services revenue (USD 30,000.00)"), "{}", d.explanation);
    }

    #[test]
    fn refund_claws_back_the_refunded_share() {
        let mut i = input(PartnerKind::Referral, 12_000_000);
        i.event = CommissionEvent::Refund(Money::new(6_000_000, "USD"));
        i.prior_lines.push(PriorLine { kind: LineKind::Fee, amount: Money::new(1_800_000, "USD") });
        let d = Stock::compute(i.clone()).unwrap();
        assert_eq!(d.lines[0].amount, Money::new(-900_000, "USD"));
        assert_eq!(d.lines[0].kind, LineKind::Clawback);
        // A second full refund cannot take back more than is outstanding.
        i.prior_lines.push(PriorLine { kind: LineKind::Clawback, amount: Money::new(-900_000, "USD") });
        i.event = CommissionEvent::Refund(Money::new(12_000_000, "USD"));
        assert_eq!(Stock::compute(i).unwrap().lines[0].amount.amount, -900_000);
    }

    #[test]
    fn missing_rate_is_a_policy_error() {
        let mut i = input(PartnerKind::Referral, 12_000_000);
        i.context.params.clear();
        let e = Stock::compute(i).unwrap_err();
        assert_eq!(e.code, "bad-param");
        assert!(e.message.contains("referral-rate-bps"));
    }
}
