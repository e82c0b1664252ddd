//! Stock lead routing.
//!
//! 1. A live registration on the lead's account (protected past the event
//!    time) → the partner holding the oldest one.
//! 2. An active partner whose territories include the lead's region or
//!    country (case-insensitive) → that partner; several → the highest tier,
//!    then the lowest id, so the choice is deterministic.
//! 3. Otherwise → direct sales.
//!
//! Parameters: `territory-routing` (flag, default true) turns step 2 off.

use crate::Stock;
use pactum_pdk::prelude::*;
use pactum_pdk::routing::*;

impl Routing for Stock {
    fn route(input: RoutingInput) -> Result<RoutingDecision, PolicyError> {
        let now = input.context.event_time;
        let lead = &input.lead;
        if let Some(reg) = input.registrations.iter().find(|r| r.protected_until > now) {
            return Ok(RoutingDecision {
                destination: Destination::Partner(reg.partner_id.clone()),
                reason: format!(
                    "{} has a live deal registration {} held by partner {}, protected until {}.",
                    lead.account_domain,
                    reg.id,
                    reg.partner_id,
                    format_date(reg.protected_until)
                ),
                attribution: "registered-deal".into(),
            });
        }
        if input.context.flag_or("territory-routing", true)? {
            let keys: Vec<String> =
                [&lead.region, &lead.country].into_iter().flatten().map(|k| k.to_lowercase()).collect();
            let best = input
                .partners
                .iter()
                .filter(|p| p.active)
                .filter_map(|p| {
                    let hit = p.territories.iter().find(|t| keys.contains(&t.to_lowercase()))?;
                    Some((p, hit))
                })
                .min_by(|(a, _), (b, _)| b.tier.rank().cmp(&a.tier.rank()).then_with(|| a.id.cmp(&b.id)));
            if let Some((partner, territory)) = best {
                return Ok(RoutingDecision {
                    destination: Destination::Partner(partner.id.clone()),
                    reason: format!(
                        "No live registration on {}; territory {territory} belongs to partner {} ({}, {}).",
                        lead.account_domain,
                        partner.id,
                        partner.name,
                        partner.tier.name()
                    ),
                    attribution: "partner-territory".into(),
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
            destination: Destination::Direct,
            reason: format!(
                "No live registration on {} and no active partner covers {place}: direct sales.",
                lead.account_domain
            ),
            attribution: "direct".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pactum_pdk::testing::{context, partner};

    const NOW: i64 = 1_795_651_200; // 2026-11-26

    fn input() -> RoutingInput {
        let mut emea = partner("p-emea", PartnerKind::Reseller);
        emea.territories = vec!["EMEA".into()];
        let mut emea_gold = partner("p-emea-gold", PartnerKind::Referral);
        emea_gold.territories = vec!["emea".into()];
        emea_gold.tier = Tier::Gold;
        RoutingInput {
            context: context("acme", NOW),
            lead: Lead {
                id: "l-1".into(),
                account_domain: "globex.com".into(),
                account_name: "Globex".into(),
                country: Some("DE".into()),
                region: Some("emea".into()),
                industry: None,
                source: "webinar".into(),
            },
            registrations: vec![],
            partners: vec![emea, emea_gold],
        }
    }

    #[test]
    fn live_registration_wins() {
        let mut i = input();
        i.registrations.push(LiveRegistration {
            id: "r-1".into(),
            partner_id: "p-reg".into(),
            protected_until: NOW + DAY,
        });
        let d = Stock::route(i).unwrap();
        assert_eq!(d.destination, Destination::Partner("p-reg".into()));
        assert_eq!(d.attribution, "registered-deal");
        assert!(d.reason.contains("r-1"), "{}", d.reason);
    }

    #[test]
    fn expired_registration_is_ignored_and_territory_picks_highest_tier() {
        let mut i = input();
        i.registrations.push(LiveRegistration { id: "r-1".into(), partner_id: "p-reg".into(), protected_until: NOW });
        let d = Stock::route(i).unwrap();
        assert_eq!(d.destination, Destination::Partner("p-emea-gold".into()));
        assert_eq!(d.attribution, "partner-territory");
    }

    #[test]
    fn otherwise_direct() {
        let mut i = input();
        i.lead.region = Some("apac".into());
        i.lead.country = Some("JP".into());
        let d = Stock::route(i).unwrap();
        assert_eq!(d.destination, Destination::Direct);
        assert!(d.reason.contains("region apac / country JP"), "{}", d.reason);
    }

    #[test]
    fn territory_routing_can_be_turned_off() {
        let mut i = input();
        i.context.set_param("territory-routing", ParamValue::Flag(false));
        assert_eq!(Stock::route(i).unwrap().destination, Destination::Direct);
    }
}
