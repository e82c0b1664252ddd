//! Every engine gives the same answers as native Rust on the 1,000 generated
//! deals and the 1,000 generated leads: the commission lines (kind, amount
//! in minor units, currency) and the routing destination.

use pactum_compare::data::{self, CASES};
use pactum_compare::{Engine, Native, all_engines};
use std::time::Duration;

#[test]
fn all_engines_agree_on_every_deal_and_lead() {
    let acme = data::acme();
    let deals = data::deals(&acme);
    let leads = data::leads(&acme);
    assert_eq!((deals.len(), leads.len()), (CASES, CASES));

    let mut native = Native;
    let expected_lines: Vec<_> = deals.iter().map(|d| native.commission(d).unwrap()).collect();
    let expected_routes: Vec<_> = leads.iter().map(|l| native.route(l).unwrap()).collect();

    // The data exercises every branch of both rules.
    let kinds = |k: &str| expected_lines.iter().flatten().filter(|l| l.kind == k).count();
    assert!(kinds("Fee") > 100 && kinds("Margin") > 50 && kinds("Clawback") > 50, "{expected_lines:?}");
    assert!(expected_lines.iter().filter(|l| l.is_empty()).count() > 50, "no-commission cases");
    assert!(expected_routes.iter().filter(|r| r.is_none()).count() > 50, "direct sales");
    assert!(expected_routes.iter().filter(|r| r.is_some()).count() > 300, "partners");

    let mut disagreements = Vec::new();
    // Answers, not limits, are under test: a debug build on a loaded machine
    // can stall one decision past the service's 100 ms deadline.
    for mut engine in all_engines(Duration::from_secs(10)).unwrap() {
        for (deal, expected) in deals.iter().zip(&expected_lines) {
            match engine.commission(deal) {
                Ok(got) if &got == expected => {}
                got => disagreements.push(format!(
                    "{}: deal {}: {got:?}, native {expected:?}",
                    engine.name(),
                    deal.deal.id
                )),
            }
        }
        for (lead, expected) in leads.iter().zip(&expected_routes) {
            match engine.route(lead) {
                Ok(got) if &got == expected => {}
                got => disagreements.push(format!(
                    "{}: lead {}: {got:?}, native {expected:?}",
                    engine.name(),
                    lead.lead.id
                )),
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first ones:\n{}",
        disagreements.len(),
        disagreements.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}
