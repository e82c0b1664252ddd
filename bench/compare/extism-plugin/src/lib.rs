//! The stock commission and routing rules as an Extism plugin, for issue 4's
//! comparison (`bench/compare`).
//!
//! The same rules as `plugins/stock` (commission by partner kind and deal
//! source, proportional clawback on refund; routing by live registration,
//! then territory, then direct sales), written as an Extism plugin author
//! would: JSON in, JSON out, `serde` types, money in `i64` minor units and
//! rates in basis points, rounded half away from zero. Built for
//! `wasm32-unknown-unknown` by `pactum-compare`'s build script.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A company parameter, as the comparison's JSON input carries it.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Param {
    Integer(i64),
    Flag(bool),
    Text(String),
    Texts(Vec<String>),
    Money(Money),
}

#[derive(Deserialize, Serialize, Clone)]
pub struct Money {
    pub amount: i64,
    pub currency: String,
}

#[derive(Deserialize)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub tier: String,
    pub territories: Vec<String>,
    pub active: bool,
}

#[derive(Deserialize)]
pub struct Deal {
    pub id: String,
    pub first_year_acv: Money,
    pub services: Money,
    pub source: String,
}

#[derive(Deserialize)]
pub struct Event {
    pub kind: String,
    pub amount: Option<Money>,
}

#[derive(Deserialize)]
pub struct PriorLine {
    pub amount: Money,
}

#[derive(Deserialize)]
pub struct CommissionInput {
    pub params: BTreeMap<String, Param>,
    pub event: Event,
    pub deal: Deal,
    pub partner: Partner,
    pub prior_lines: Vec<PriorLine>,
}

#[derive(Serialize)]
pub struct Line {
    pub partner_id: String,
    pub kind: &'static str,
    pub amount: Money,
    pub rate: i64,
    pub description: String,
}

#[derive(Serialize)]
pub struct CommissionDecision {
    pub lines: Vec<Line>,
    pub explanation: String,
}

#[derive(Deserialize)]
pub struct Lead {
    pub account_domain: String,
    pub country: Option<String>,
    pub region: Option<String>,
}

#[derive(Deserialize)]
pub struct LiveRegistration {
    pub id: String,
    pub partner_id: String,
    pub protected_until: i64,
}

#[derive(Deserialize)]
pub struct RoutingInput {
    pub event_time: i64,
    pub params: BTreeMap<String, Param>,
    pub lead: Lead,
    pub registrations: Vec<LiveRegistration>,
    pub partners: Vec<Partner>,
}

#[derive(Serialize)]
pub struct RoutingDecision {
    /// The partner's id, or `None` for direct sales.
    pub destination: Option<String>,
    pub attribution: &'static str,
    pub reason: String,
}

/// `amount * num / den`, rounded half away from zero (`den > 0`).
pub fn mul_div_round(amount: i64, num: i64, den: i64) -> Result<i64, String> {
    let p = i128::from(amount) * i128::from(num);
    let (q, r) = (p / i128::from(den), p % i128::from(den));
    let q = if 2 * r.abs() >= i128::from(den) { if p < 0 { q - 1 } else { q + 1 } } else { q };
    i64::try_from(q).map_err(|_| "overflow".to_string())
}

fn money(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{currency} {}.{:02}", abs / 100, abs % 100)
}

fn bps(params: &BTreeMap<String, Param>, name: &str) -> Result<i64, String> {
    match params.get(name) {
        Some(Param::Integer(v)) if (0..=10_000).contains(v) => Ok(*v),
        _ => Err(format!("parameter `{name}` must be 0 to 10000 basis points")),
    }
}

/// The stock commission rule.
pub fn commission(input: &CommissionInput) -> Result<CommissionDecision, String> {
    let deal = &input.deal;
    let partner = &input.partner;
    let acv = &deal.first_year_acv;
    if input.event.kind == "refund" {
        let refund = input.event.amount.as_ref().ok_or("refund without an amount")?;
        let earned: i64 = input.prior_lines.iter().map(|l| l.amount.amount).filter(|a| *a > 0).sum();
        let outstanding: i64 = input.prior_lines.iter().map(|l| l.amount.amount).sum();
        if outstanding <= 0 {
            return Ok(CommissionDecision {
                lines: Vec::new(),
                explanation: format!(
                    "Refund of {}: no commission outstanding on deal {}, nothing to claw back.",
                    money(refund.amount, &refund.currency),
                    deal.id
                ),
            });
        }
        let refunded = refund.amount.min(acv.amount);
        let amount = mul_div_round(earned, refunded, acv.amount)?.min(outstanding);
        let rate = mul_div_round(10_000, refunded, acv.amount)?;
        let explanation = format!(
            "Refund of {} on deal {} ({rate} bp of first-year ACV {}): clawback {} of {} earned.",
            money(refund.amount, &refund.currency),
            deal.id,
            money(acv.amount, &acv.currency),
            money(-amount, &acv.currency),
            money(earned, &acv.currency)
        );
        return Ok(CommissionDecision {
            lines: vec![Line {
                partner_id: partner.id.clone(),
                kind: "Clawback",
                amount: Money { amount: -amount, currency: acv.currency.clone() },
                rate,
                description: explanation.clone(),
            }],
            explanation,
        });
    }
    let (kind, param, label) = match (partner.kind.as_str(), deal.source.as_str()) {
        ("Implementation", _) => {
            return Ok(CommissionDecision {
                lines: Vec::new(),
                explanation: format!(
                    "Implementation partner {} keeps the services revenue ({}); no software commission on deal {}.",
                    partner.id,
                    money(deal.services.amount, &deal.services.currency),
                    deal.id
                ),
            });
        }
        ("Referral", "PartnerSourced") => ("Fee", "referral-rate-bps", "Referral fee"),
        ("Referral", _) => ("Fee", "cosell-rate-bps", "Co-sell fee"),
        ("Reseller", _) => ("Margin", "reseller-margin-bps", "Reseller margin off list"),
        ("Strategic", _) if input.params.contains_key("strategic-rate-bps") => {
            ("Fee", "strategic-rate-bps", "Strategic alliance fee")
        }
        _ => ("Fee", "cosell-rate-bps", "Co-sell fee"),
    };
    let rate = bps(&input.params, param)?;
    let amount = mul_div_round(acv.amount, rate, 10_000)?;
    let description = format!(
        "{label} {}: {}.{:02} % of first-year ACV {} on deal {}",
        money(amount, &acv.currency),
        rate / 100,
        rate % 100,
        money(acv.amount, &acv.currency),
        deal.id
    );
    Ok(CommissionDecision {
        explanation: format!("{description}."),
        lines: vec![Line {
            partner_id: partner.id.clone(),
            kind,
            amount: Money { amount, currency: acv.currency.clone() },
            rate,
            description,
        }],
    })
}

fn tier_rank(tier: &str) -> u8 {
    match tier {
        "Silver" => 1,
        "Gold" => 2,
        "Platinum" => 3,
        _ => 0,
    }
}

/// The stock routing rule.
pub fn route(input: &RoutingInput) -> Result<RoutingDecision, String> {
    let lead = &input.lead;
    if let Some(reg) = input.registrations.iter().find(|r| r.protected_until > input.event_time) {
        return Ok(RoutingDecision {
            destination: Some(reg.partner_id.clone()),
            attribution: "registered-deal",
            reason: format!(
                "{} has a live deal registration {} held by partner {}, protected until {}.",
                lead.account_domain, reg.id, reg.partner_id, reg.protected_until
            ),
        });
    }
    let territory_routing = match input.params.get("territory-routing") {
        None => true,
        Some(Param::Flag(f)) => *f,
        Some(_) => return Err("parameter `territory-routing` must be a flag".into()),
    };
    if territory_routing {
        let keys: Vec<String> = [&lead.region, &lead.country].into_iter().flatten().map(|k| k.to_lowercase()).collect();
        let best = input
            .partners
            .iter()
            .filter(|p| p.active)
            .filter_map(|p| Some((p, p.territories.iter().find(|t| keys.contains(&t.to_lowercase()))?)))
            .min_by(|(a, _), (b, _)| tier_rank(&b.tier).cmp(&tier_rank(&a.tier)).then_with(|| a.id.cmp(&b.id)));
        if let Some((partner, territory)) = best {
            return Ok(RoutingDecision {
                destination: Some(partner.id.clone()),
                attribution: "partner-territory",
                reason: format!(
                    "No live registration on {}; territory {territory} belongs to partner {} ({}, {}).",
                    lead.account_domain, partner.id, partner.name, partner.tier
                ),
            });
        }
    }
    let place = match (&lead.region, &lead.country) {
        (Some(r), Some(c)) => format!("region {r} / country {c}"),
        (Some(r), None) => format!("region {r}"),
        (None, Some(c)) => format!("country {c}"),
        (None, None) => "an unknown location".into(),
    };
    Ok(RoutingDecision {
        destination: None,
        attribution: "direct",
        reason: format!(
            "No live registration on {} and no active partner covers {place}: direct sales.",
            lead.account_domain
        ),
    })
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use extism_pdk::{FnResult, Json, plugin_fn};

    #[plugin_fn]
    pub fn commission(Json(input): Json<super::CommissionInput>) -> FnResult<Json<super::CommissionDecision>> {
        Ok(Json(super::commission(&input).map_err(extism_pdk::Error::msg)?))
    }

    #[plugin_fn]
    pub fn route(Json(input): Json<super::RoutingInput>) -> FnResult<Json<super::RoutingDecision>> {
        Ok(Json(super::route(&input).map_err(extism_pdk::Error::msg)?))
    }
}
