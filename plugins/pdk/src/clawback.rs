//! Clawback of earned commission when a deal is refunded.
//!
//! The stock rule, and a sensible default for custom plugins: take back the
//! refunded share of the commission earned on the deal. Earned is the sum of
//! the deal's positive prior lines; the clawback is `earned × refund ÷
//! first-year ACV`, rounded half away from zero, and never more than what is
//! still outstanding (earned minus earlier clawbacks).

use crate::commission::{CommissionDecision, CommissionInput, CommissionLine, LineKind};
use crate::money::{FULL_BPS, mul_div_round};
use crate::types::{Money, PolicyError};

/// Clawback lines for a refund of `refund` on `input`'s deal.
pub fn proportional_clawback(input: &CommissionInput, refund: &Money) -> Result<CommissionDecision, PolicyError> {
    let acv = &input.deal.first_year_acv;
    if refund.currency != acv.currency {
        return Err(PolicyError::new(
            "currency-mismatch",
            format!("refund is in {} but the deal is in {}", refund.currency, acv.currency),
        ));
    }
    if refund.amount <= 0 || acv.amount <= 0 {
        return Err(PolicyError::new("bad-input", format!("refund {refund} of a {acv} deal cannot be clawed back")));
    }
    let mut earned: i64 = 0;
    let mut outstanding: i64 = 0;
    for line in &input.prior_lines {
        if line.amount.currency != acv.currency {
            return Err(PolicyError::new("currency-mismatch", format!("prior line in {}", line.amount.currency)));
        }
        if line.amount.amount > 0 {
            earned = earned.saturating_add(line.amount.amount);
        }
        outstanding = outstanding.saturating_add(line.amount.amount);
    }
    if outstanding <= 0 {
        return Ok(CommissionDecision {
            lines: Vec::new(),
            explanation: format!(
                "Refund of {refund}: no commission outstanding on deal {}, nothing to claw back.",
                input.deal.id
            ),
        });
    }
    let refunded = refund.amount.min(acv.amount);
    let share = mul_div_round(earned, i128::from(refunded), i128::from(acv.amount))
        .ok_or_else(|| PolicyError::new("overflow", "clawback overflows"))?;
    let amount = share.min(outstanding);
    let rate = mul_div_round(i64::from(FULL_BPS), i128::from(refunded), i128::from(acv.amount)).unwrap_or(0) as u32;
    let clawback = Money::new(-amount, &acv.currency);
    let explanation = format!(
        "Refund of {refund} on deal {} ({} bp of first-year ACV {acv}): clawback {clawback} of {} earned.",
        input.deal.id,
        rate,
        Money::new(earned, &acv.currency),
    );
    Ok(CommissionDecision {
        lines: vec![CommissionLine {
            partner_id: input.partner.id.clone(),
            kind: LineKind::Clawback,
            amount: clawback,
            basis: refund.clone(),
            rate,
            description: explanation.clone(),
        }],
        explanation,
    })
}
