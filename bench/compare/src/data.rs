//! The comparison's inputs: 1,000 deals and 1,000 leads for Acme's program
//! (`policies/acme`, its 21 parameters), generated from a seed with a small
//! LCG, so every run and every engine sees the same data.
//!
//! Deals cover every partner kind and both deal sources, USD and EUR, amounts
//! that land exactly on half a cent after the rate (the rounding rule's edge),
//! and refunds (a quarter) with prior fee and clawback lines, including none
//! outstanding. Leads cover live and expired registrations, inactive
//! partners, territories in mixed case, ties on tier broken by id, missing
//! region or country, and nobody covering the lead.

use pactum::program::Program;
use pactum::runtime::types::*;
use std::path::Path;

/// The event time of every decision: 2026-11-26 00:00 UTC.
pub const NOW: i64 = 1_795_651_200;
const DAY: i64 = 86_400;

/// How many deals and leads.
pub const CASES: usize = 1_000;

/// The seed of the generated data.
pub const SEED: u64 = 4;

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(u64);

impl Lcg {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 31 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.bits() % n
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Acme's program (`policies/acme`): the company and its 21 parameters.
pub fn acme() -> Program {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Program::load(&root.join("policies/acme")).expect("policies/acme loads")
}

const KINDS: [PartnerKind; 5] = [
    PartnerKind::Referral,
    PartnerKind::Reseller,
    PartnerKind::Implementation,
    PartnerKind::Technology,
    PartnerKind::Strategic,
];
const TIERS: [Tier; 4] = [Tier::Registered, Tier::Silver, Tier::Gold, Tier::Platinum];
const TERRITORIES: [&str; 12] = ["emea", "EMEA", "amer", "Amer", "apac", "DE", "us", "US", "FR", "jp", "BR", "gb"];

fn money(amount: i64, currency: &str) -> Money {
    Money { amount, currency: currency.into() }
}

fn partner(rng: &mut Lcg, id: String) -> Partner {
    let territories = (0..1 + rng.below(3)).map(|_| rng.pick(&TERRITORIES).to_string()).collect();
    Partner {
        name: format!("Partner {id}"),
        id,
        kind: *rng.pick(&KINDS),
        tier: *rng.pick(&TIERS),
        territories,
        certifications: (0..rng.below(3))
            .map(|i| Certification { name: format!("cert-{i}"), expires_at: Some(NOW + 90 * DAY) })
            .collect(),
        active: rng.chance(17, 20),
    }
}

/// `CASES` commission inputs: three quarters won deals, a quarter refunds.
pub fn deals(program: &Program) -> Vec<CommissionInput> {
    let mut rng = Lcg::new(SEED);
    (0..CASES)
        .map(|i| {
            let currency = if rng.chance(1, 5) { "EUR" } else { "USD" };
            // A quarter of the amounts are 10 mod 20 cents: at 15 %, 25 % or
            // 12 % they round from exactly half a cent.
            let acv =
                if rng.chance(1, 4) { rng.below(500_000) as i64 * 20 + 10 } else { 1 + rng.below(50_000_000) as i64 };
            let id = format!("p-{:02}", rng.below(40));
            let mut p = partner(&mut rng, id);
            p.active = true;
            let (event, prior_lines) = if rng.chance(1, 4) {
                let refund = 1 + rng.below((acv as u64) * 6 / 5) as i64;
                let fee = (acv * (1 + rng.below(3_000) as i64)) / 10_000;
                let mut prior = Vec::new();
                if rng.chance(4, 5) {
                    prior.push(PriorLine { kind: LineKind::Fee, amount: money(fee, currency) });
                    if rng.chance(1, 3) {
                        // An earlier clawback, sometimes of everything.
                        let back = if rng.chance(1, 3) { fee } else { rng.below(fee as u64 + 1) as i64 };
                        prior.push(PriorLine { kind: LineKind::Clawback, amount: money(-back, currency) });
                    }
                }
                (CommissionEvent::Refund(money(refund, currency)), prior)
            } else {
                (CommissionEvent::Won, Vec::new())
            };
            CommissionInput {
                context: program.context(NOW),
                event,
                deal: Deal {
                    id: format!("d-{i}"),
                    first_year_acv: money(acv, currency),
                    services: money(rng.below(5_000_000) as i64, currency),
                    source: if rng.chance(1, 2) { DealSource::PartnerSourced } else { DealSource::PartnerInfluenced },
                    closed_at: NOW,
                },
                partner: p,
                prior_lines,
                quarter_to_date: money(rng.below(100_000_000) as i64, currency),
            }
        })
        .collect()
}

/// `CASES` routing inputs over a pool of 30 partners.
pub fn leads(program: &Program) -> Vec<RoutingInput> {
    let mut rng = Lcg::new(SEED + 1);
    let pool: Vec<Partner> = (0..30).map(|i| partner(&mut rng, format!("p-{i:02}"))).collect();
    let regions = [Some("emea"), Some("AMER"), Some("apac"), None];
    let countries = [Some("DE"), Some("us"), Some("FR"), Some("JP"), Some("BR"), None];
    (0..CASES)
        .map(|i| {
            let registrations = match rng.below(20) {
                0..12 => 0,
                12..17 => 1,
                _ => 2,
            };
            let registrations = (0..registrations)
                .map(|j| LiveRegistration {
                    id: format!("r-{i}-{j}"),
                    partner_id: pool[rng.below(30) as usize].id.clone(),
                    protected_until: NOW + (rng.below(200) as i64 - 100) * DAY,
                })
                .collect();
            let mut chosen: Vec<usize> = Vec::new();
            for _ in 0..rng.below(9) {
                let k = rng.below(30) as usize;
                if !chosen.contains(&k) {
                    chosen.push(k);
                }
            }
            RoutingInput {
                context: program.context(NOW),
                lead: Lead {
                    id: format!("l-{i}"),
                    account_domain: format!("account-{i}.example"),
                    account_name: format!("Account {i}"),
                    country: rng.pick(&countries).map(String::from),
                    region: rng.pick(&regions).map(String::from),
                    industry: Some("software".into()),
                    source: "webinar".into(),
                },
                registrations,
                partners: chosen.into_iter().map(|k| pool[k].clone()).collect(),
                tried: vec![],
            }
        })
        .collect()
}
