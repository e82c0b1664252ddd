//! The stock plugins and Northwind's custom commission plugin, run as Wasm
//! components through the runtime, against the seed's numbers.

mod common;

use common::*;
use pactum::runtime::hooks::{Approval, Commission, Routing, TierEvaluation};
use pactum::runtime::types::*;
use pactum::runtime::{HookKind, Limits, WitVersion};
use pactum_plugin_artifacts::{NORTHWIND, ROUTING_V0_2, STOCK};

#[test]
fn stock_exports_every_hook_and_northwind_only_commission() {
    let rt = runtime();
    assert_eq!(load(rt, STOCK).hooks(), HookKind::ALL);
    assert_eq!(load(rt, NORTHWIND).hooks(), [HookKind::Commission]);
}

#[test]
fn commission_pays_the_seed_rates() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let pay = |kind| {
        let record = rt.call::<Commission>(&stock, &acme.limits, won_deal(&acme, kind, 12_000_000, 0));
        record.result.unwrap()
    };
    // $120,000 first-year ACV from a referral partner at 15 % -> $18,000.00.
    let referral = pay(PartnerKind::Referral);
    assert_eq!(total(&referral), 1_800_000);
    assert!(referral.explanation.contains("USD 18,000.00"), "{}", referral.explanation);
    // Reseller margin 25 % off list; technology co-sell 12 %.
    assert_eq!(total(&pay(PartnerKind::Reseller)), 3_000_000);
    assert_eq!(pay(PartnerKind::Reseller).lines[0].kind, LineKind::Margin);
    assert_eq!(total(&pay(PartnerKind::Technology)), 1_440_000);
    // Implementation partners keep services revenue: no software commission.
    assert!(pay(PartnerKind::Implementation).lines.is_empty());
}

#[test]
fn refund_claws_back_through_the_runtime() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let mut input = won_deal(&acme, PartnerKind::Referral, 12_000_000, 0);
    input.event = CommissionEvent::Refund(usd(3_000_000));
    input.prior_lines = vec![PriorLine { kind: LineKind::Fee, amount: usd(1_800_000) }];
    let d = rt.call::<Commission>(&stock, &acme.limits, input).result.unwrap();
    assert_eq!(d.lines.len(), 1);
    assert_eq!((d.lines[0].kind, d.lines[0].amount.amount), (LineKind::Clawback, -450_000));
}

#[test]
fn northwind_pays_differently_on_the_same_deals() {
    let rt = runtime();
    let (stock, northwind) = (load(rt, STOCK), load(rt, NORTHWIND));
    let (acme, nw) = (program("acme"), program("northwind"));
    // (ACV, quarter-to-date before the deal) -> (stock, northwind) in cents.
    let cases = [
        (12_000_000, 0, 1_800_000, 1_440_000),          // below quota: 12 % base
        (12_000_000, 10_000_000, 1_800_000, 1_860_000), // $70K above quota: + 6 % of it
        (30_000_000, 20_000_000, 4_500_000, 2_500_000), // all above: $54K capped at $25K
    ];
    for (acv, qtd, stock_pays, northwind_pays) in cases {
        let s = rt.call::<Commission>(&stock, &acme.limits, won_deal(&acme, PartnerKind::Referral, acv, qtd));
        let n = rt.call::<Commission>(&northwind, &nw.limits, won_deal(&nw, PartnerKind::Referral, acv, qtd));
        assert_eq!(total(&s.result.unwrap()), stock_pays, "stock on {acv}/{qtd}");
        let n = n.result.unwrap();
        assert_eq!(total(&n), northwind_pays, "northwind on {acv}/{qtd}: {}", n.explanation);
    }
}

#[test]
fn tiers_from_trailing_revenue_and_certifications() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let evaluate = |revenue: i64, current: Tier, certs: usize| {
        let mut partner = partner("p-1", PartnerKind::Reseller, current);
        partner.certifications =
            (0..certs).map(|i| Certification { name: format!("cert-{i}"), expires_at: Some(NOW + 30 * DAY) }).collect();
        let input = TierInput {
            context: acme.context(NOW),
            partner,
            scorecard: Scorecard {
                period: "2026-10".into(),
                trailing_revenue: usd(revenue),
                registered_deals: 3,
                won_deals: 2,
                lost_deals: 1,
                win_rate: 6_667,
                average_deal_size: usd(revenue / 2),
            },
        };
        rt.call::<TierEvaluation>(&stock, &acme.limits, input).result.unwrap()
    };
    // $210,000 trailing won revenue -> Gold (Acme's Gold needs 1 certification).
    let d = evaluate(21_000_000, Tier::Silver, 1);
    assert_eq!((d.tier, d.change, d.escalate), (Tier::Gold, TierChange::Promote, true));
    assert_eq!(evaluate(4_000_000, Tier::Registered, 0).tier, Tier::Registered);
    assert_eq!(evaluate(5_000_000, Tier::Registered, 0).tier, Tier::Silver);
    assert_eq!(evaluate(50_000_000, Tier::Platinum, 2).change, TierChange::Keep);
    // Without the certification Gold needs, $210,000 stays Silver.
    let d = evaluate(21_000_000, Tier::Gold, 0);
    assert_eq!((d.tier, d.change, d.escalate), (Tier::Silver, TierChange::Demote, true));
}

fn lead(region: &str) -> Lead {
    Lead {
        id: "l-1".into(),
        account_domain: "globex.com".into(),
        account_name: "Globex".into(),
        country: Some("DE".into()),
        region: Some(region.into()),
        industry: Some("software".into()),
        source: "webinar".into(),
    }
}

#[test]
fn routing_registration_then_territory_then_direct() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let mut emea = partner("p-emea", PartnerKind::Reseller, Tier::Silver);
    emea.territories = vec!["emea".into()];
    let route = |registrations: Vec<LiveRegistration>, region: &str| {
        let input = RoutingInput {
            context: acme.context(NOW),
            lead: lead(region),
            registrations,
            partners: vec![emea.clone()],
            tried: vec![],
        };
        rt.call::<Routing>(&stock, &acme.limits, input).result.unwrap()
    };
    let live = LiveRegistration { id: "r-7".into(), partner_id: "p-reg".into(), protected_until: NOW + 10 * DAY };
    let d = route(vec![live], "emea");
    assert_eq!((d.destination, d.attribution.as_str()), (Destination::Partner("p-reg".into()), "registered-deal"));
    let d = route(vec![], "emea");
    assert_eq!((d.destination, d.attribution.as_str()), (Destination::Partner("p-emea".into()), "partner-territory"));
    let d = route(vec![], "apac");
    assert_eq!((d.destination, d.attribution.as_str()), (Destination::Direct, "direct"));
    assert!(d.reason.contains("direct sales"), "{}", d.reason);
}

#[test]
fn approval_approves_rejects_conflicts_and_reviews_outside_the_profile() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let base = ApprovalInput {
        context: acme.context(NOW),
        registration: Registration {
            id: "r-2".into(),
            account_domain: "globex.com".into(),
            account_name: "Globex".into(),
            industry: Some("software".into()),
            employees: Some(400),
            country: Some("US".into()),
            amount: usd(12_000_000),
            expected_close: Some(NOW + 60 * DAY),
        },
        partner: partner("p-1", PartnerKind::Referral, Tier::Registered),
        existing: vec![],
    };
    let decide = |input: ApprovalInput| rt.call::<Approval>(&stock, &acme.limits, input).result.unwrap();

    let d = decide(base.clone());
    assert_eq!(d.outcome, ApprovalOutcome::Approve(90));
    assert!(d.reason.contains("2027-02-24"), "{}", d.reason);

    let mut conflict = base.clone();
    conflict.existing.push(ExistingRegistration {
        id: "r-1".into(),
        partner_id: "p-9".into(),
        status: RegistrationStatus::Approved,
        protected_until: Some(NOW + 30 * DAY),
    });
    let d = decide(conflict);
    assert_eq!(d.outcome, ApprovalOutcome::Reject);
    assert!(d.reason.contains("in conflict with another partner's registration"), "{}", d.reason);
    assert!(!d.reason.contains("r-1") && !d.reason.contains("p-9"), "another partner's data: {}", d.reason);

    let mut small = base;
    small.registration.employees = Some(12);
    let d = decide(small);
    assert_eq!(d.outcome, ApprovalOutcome::Review);
    assert!(d.reason.contains("12 employees is below the minimum of 50"), "{}", d.reason);
}

#[test]
fn every_call_returns_its_audit_record() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let acme = program("acme");
    let input = won_deal(&acme, PartnerKind::Referral, 12_000_000, 0);
    let record = rt.call::<Commission>(&stock, &Limits::default(), input.clone());
    assert_eq!(record.company, "acme");
    assert_eq!(record.hook, HookKind::Commission);
    assert_eq!(record.plugin, stock.hash());
    assert_eq!(record.input, input);
    assert!(record.fuel_used > 0);
    let json = record.to_json();
    assert_eq!(json["plugin"], stock.hash().to_hex());
    assert_eq!(json["hook"], "commission");
    assert_eq!(json["result"]["ok"]["lines"][0]["amount"]["amount"], 1_800_000);
    assert_eq!(json["input"]["deal"]["first_year_acv"]["amount"], 12_000_000);
    // Replayable: the same input gives the same output and the same fuel.
    let again = rt.call::<Commission>(&stock, &Limits::default(), input);
    assert_eq!(again.result, record.result);
    assert_eq!(again.fuel_used, record.fuel_used);
}

/// Issue 16: `pactum:policy@0.2.0` beside 0.1.0. The stock plugin (0.1.0)
/// and a 0.2.0 routing plugin load in one runtime and take the same input:
/// the 0.2.0 plugin sees the partners tried, the 0.1.0 one is called
/// without them, and the decision log's input is the same for both.
#[test]
fn routing_plugins_of_both_contract_versions_run_side_by_side() {
    let rt = runtime();
    let stock = load(rt, STOCK);
    let v0_2 = load(rt, ROUTING_V0_2);
    assert_eq!(
        (stock.hook_version(HookKind::Routing), stock.wit_version()),
        (Some(WitVersion::V0_1_0), WitVersion::V0_1_0)
    );
    assert_eq!(
        (v0_2.hook_version(HookKind::Routing), v0_2.wit_version()),
        (Some(WitVersion::V0_2_0), WitVersion::V0_2_0)
    );
    assert_eq!((v0_2.hooks(), v0_2.hook_version(HookKind::Commission)), ([HookKind::Routing].as_slice(), None));

    let acme = program("acme");
    let mut emea = partner("p-b", PartnerKind::Reseller, Tier::Silver);
    emea.territories = vec!["emea".into()];
    let input = |tried: &[&str]| RoutingInput {
        context: acme.context(NOW),
        lead: lead("emea"),
        registrations: vec![],
        partners: vec![emea.clone()],
        tried: tried.iter().map(|t| t.to_string()).collect(),
    };
    let route = |plugin, tried: &[&str]| {
        let record = rt.call::<Routing>(plugin, &acme.limits, input(tried));
        assert_eq!(record.input.tried, tried, "the record keeps the input whole");
        record.result.unwrap()
    };

    // First routing: both send the lead to the territory's partner.
    assert_eq!(route(&stock, &[]).destination, Destination::Partner("p-b".into()));
    let first = route(&v0_2, &[]);
    assert_eq!(
        (first.destination, first.reason.as_str()),
        (Destination::Partner("p-b".into()), "first offer, to p-b in the lead's territory")
    );

    // Routed again after p-a and p-c declined: the 0.1.0 plugin, blind to
    // them, offers the lead to the next partner; the 0.2.0 one sees who had
    // it, in order, and sends it direct.
    assert_eq!(route(&stock, &["p-a", "p-c"]).destination, Destination::Partner("p-b".into()));
    let again = route(&v0_2, &["p-a", "p-c"]);
    assert_eq!(
        (again.destination, again.reason.as_str(), again.attribution.as_str()),
        (Destination::Direct, "already offered to p-a, p-c: direct sales takes it from here", "direct")
    );
}
