//! The stock plugins: the seed's default partner program as one component
//! exporting all four hooks, every number a company parameter.
//!
//! | hook | rule |
//! |---|---|
//! | routing | live registration → that partner; partner territory → that partner; otherwise direct sales |
//! | approval | duplicate or conflicting live registration → reject; outside the ideal partner profile → review; otherwise approve for `protection-days` (90) |
//! | commission | referral fee, reseller margin, co-sell fee by partner kind and deal source; implementation partners keep services revenue; proportional clawback on refund |
//! | tier-evaluation | Registered / Silver / Gold / Platinum from trailing-twelve-month won revenue and valid certifications |
//!
//! The parameters each rule reads are documented on its module; the example
//! company `policies/acme/policy.toml` sets them to the seed's numbers.

pub mod approval;
pub mod commission;
pub mod routing;
pub mod tier;

/// The stock program: one type implementing every hook.
pub struct Stock;

pactum_pdk::export_routing!(Stock);
pactum_pdk::export_approval!(Stock);
pactum_pdk::export_commission!(Stock);
pactum_pdk::export_tier_evaluation!(Stock);
