//! Stock deal-registration approval.
//!
//! 1. The partner is not active → reject.
//! 2. A live registration on the same account → reject, naming it: by the
//!    same partner it is a duplicate, by another partner a conflict.
//! 3. Outside the company's ideal profile → manual review, naming each
//!    criterion missed.
//! 4. Otherwise → approve, protected for `protection-days`.
//!
//! Parameters: `protection-days` (integer, default 90); `icp-industries`,
//! `icp-countries` (lists; empty or absent means any); `icp-min-employees`
//! (integer, default 0); `icp-min-deal` (money, optional).

use crate::Stock;
use pactum_pdk::approval::*;
use pactum_pdk::prelude::*;

impl Approval for Stock {
    fn evaluate(input: ApprovalInput) -> Result<ApprovalDecision, PolicyError> {
        let ctx = &input.context;
        let reg = &input.registration;
        if !input.partner.active {
            return Ok(reject(format!("Partner {} is not active and cannot register deals.", input.partner.id)));
        }
        if let Some(other) = input.existing.first() {
            // The reason is shown to the registering partner: another
            // partner's registration is described, never named.
            let what = if other.partner_id == input.partner.id {
                format!("a duplicate of your registration {}", other.id)
            } else {
                "in conflict with another partner's registration".to_string()
            };
            let status = match (other.status, other.protected_until) {
                (RegistrationStatus::Approved, Some(until)) => {
                    format!("approved, protected until {}", format_date(until))
                }
                (RegistrationStatus::Approved, None) => "approved".into(),
                (RegistrationStatus::Review, _) => "in review".into(),
                (RegistrationStatus::Submitted, _) => "submitted".into(),
            };
            return Ok(reject(format!("Registration for {} is {what} ({status}).", reg.account_domain)));
        }

        let mut misses = Vec::new();
        let industries = ctx.texts("icp-industries")?;
        if !industries.is_empty() {
            match &reg.industry {
                Some(i) if industries.iter().any(|x| x.eq_ignore_ascii_case(i)) => {}
                Some(i) => misses.push(format!("industry {i} is not in the ideal profile ({})", industries.join(", "))),
                None => misses.push("industry is unknown".to_string()),
            }
        }
        let countries = ctx.texts("icp-countries")?;
        if !countries.is_empty() {
            match &reg.country {
                Some(c) if countries.iter().any(|x| x.eq_ignore_ascii_case(c)) => {}
                Some(c) => misses.push(format!("country {c} is outside the program ({})", countries.join(", "))),
                None => misses.push("country is unknown".to_string()),
            }
        }
        let min_employees = ctx.integer_or("icp-min-employees", 0)?;
        if min_employees > 0 {
            match reg.employees {
                Some(e) if i64::from(e) >= min_employees => {}
                Some(e) => misses.push(format!("{e} employees is below the minimum of {min_employees}")),
                None => misses.push("employee count is unknown".to_string()),
            }
        }
        if ctx.has("icp-min-deal") {
            let min = ctx.money("icp-min-deal")?;
            if min.currency == reg.amount.currency && reg.amount.amount < min.amount {
                misses.push(format!("deal size {} is below the minimum of {min}", reg.amount));
            } else if min.currency != reg.amount.currency {
                misses
                    .push(format!("deal currency {} differs from the program's {}", reg.amount.currency, min.currency));
            }
        }
        if !misses.is_empty() {
            return Ok(ApprovalDecision {
                outcome: ApprovalOutcome::Review,
                reason: format!("Sent to partner manager review: {}.", misses.join("; ")),
            });
        }

        let days = ctx.integer_or("protection-days", 90)?;
        let days = u32::try_from(days).ok().filter(|d| *d > 0).ok_or_else(|| {
            PolicyError::new(
                "bad-param",
                format!("parameter `protection-days` must be a positive number of days, got {days}"),
            )
        })?;
        let until = ctx.event_time.saturating_add(i64::from(days) * DAY);
        Ok(ApprovalDecision {
            outcome: ApprovalOutcome::Approve(days),
            reason: format!(
                "Approved: {} fits the ideal profile and has no other live registration; protected for {days} days, until {}.",
                reg.account_domain,
                format_date(until)
            ),
        })
    }
}

fn reject(reason: String) -> ApprovalDecision {
    ApprovalDecision { outcome: ApprovalOutcome::Reject, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pactum_pdk::testing::{context, partner};

    const NOW: i64 = 1_795_651_200;

    fn input() -> ApprovalInput {
        ApprovalInput {
            context: context("acme", NOW)
                .with_texts("icp-industries", &["software", "fintech"])
                .with_integer("icp-min-employees", 50)
                .with_integer("protection-days", 90),
            registration: Registration {
                id: "r-2".into(),
                account_domain: "globex.com".into(),
                account_name: "Globex".into(),
                industry: Some("Software".into()),
                employees: Some(400),
                country: Some("US".into()),
                amount: Money::new(12_000_000, "USD"),
                expected_close: None,
            },
            partner: partner("p-1", PartnerKind::Referral),
            existing: vec![],
        }
    }

    #[test]
    fn approves_with_protection_period() {
        let d = Stock::evaluate(input()).unwrap();
        assert_eq!(d.outcome, ApprovalOutcome::Approve(90));
        assert!(d.reason.contains("until 2027-02-24"), "{}", d.reason);
    }

    #[test]
    fn rejects_conflict_without_naming_the_other_partner() {
        let mut i = input();
        i.existing.push(ExistingRegistration {
            id: "r-1".into(),
            partner_id: "p-9".into(),
            status: RegistrationStatus::Approved,
            protected_until: Some(NOW + 10 * DAY),
        });
        let d = Stock::evaluate(i).unwrap();
        assert_eq!(d.outcome, ApprovalOutcome::Reject);
        assert!(
            d.reason.contains("in conflict with another partner's registration (approved, protected until"),
            "{}",
            d.reason
        );
        assert!(!d.reason.contains("r-1") && !d.reason.contains("p-9"), "{}", d.reason);
    }

    #[test]
    fn rejects_duplicate() {
        let mut i = input();
        i.existing.push(ExistingRegistration {
            id: "r-1".into(),
            partner_id: "p-1".into(),
            status: RegistrationStatus::Submitted,
            protected_until: None,
        });
        let d = Stock::evaluate(i).unwrap();
        assert!(d.reason.contains("a duplicate of your registration r-1 (submitted)"), "{}", d.reason);
    }

    #[test]
    fn outside_profile_goes_to_review() {
        let mut i = input();
        i.registration.industry = Some("mining".into());
        i.registration.employees = Some(10);
        let d = Stock::evaluate(i).unwrap();
        assert_eq!(d.outcome, ApprovalOutcome::Review);
        assert!(d.reason.contains("industry mining") && d.reason.contains("10 employees"), "{}", d.reason);
    }
}
