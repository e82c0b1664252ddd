//! Shared set-up for the runtime's integration tests: the built plugins, the
//! example companies' programs, and input builders with the seed's numbers.

#![allow(dead_code)]

pub mod app;
pub mod pages;

use pactum::program::Program;
use pactum::runtime::types::*;
use pactum::runtime::{Plugin, Runtime, RuntimeConfig, encode_params};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// 2026-11-26T00:00:00Z.
pub const NOW: i64 = 1_795_651_200;
pub const DAY: i64 = 86_400;

/// One runtime per test binary, so each plugin compiles once.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("engine"))
}

pub fn load(runtime: &Runtime, path: &str) -> Arc<Plugin> {
    let bytes = std::fs::read(path).expect("plugin built by pactum-plugin-artifacts");
    runtime.load(&bytes).expect("plugin loads")
}

pub fn program(company: &str) -> Program {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies").join(company);
    Program::load(&dir).expect("example program parses")
}

pub fn usd(amount: i64) -> Money {
    Money { amount, currency: "USD".into() }
}

pub fn partner(id: &str, kind: PartnerKind, tier: Tier) -> Partner {
    Partner {
        id: id.into(),
        name: format!("Partner {id}"),
        kind,
        tier,
        territories: vec![],
        certifications: vec![],
        active: true,
    }
}

/// A won deal of `acv` cents first-year ACV.
pub fn won_deal(program: &Program, kind: PartnerKind, acv: i64, quarter_to_date: i64) -> CommissionInput {
    CommissionInput {
        context: program.context(NOW),
        event: CommissionEvent::Won,
        deal: Deal {
            id: "d-1".into(),
            first_year_acv: usd(acv),
            services: usd(0),
            source: DealSource::PartnerSourced,
            closed_at: NOW,
        },
        partner: partner("p-1", kind, Tier::Registered),
        prior_lines: vec![],
        quarter_to_date: usd(quarter_to_date),
    }
}

/// A commission input for the hostile plugin in `mode`.
pub fn hostile(mode: &str) -> CommissionInput {
    let mut input = won_deal(&program("acme"), PartnerKind::Referral, 12_000_000, 0);
    input.context.params = encode_params(&[Param { name: "mode".into(), value: ParamValue::Text(mode.into()) }]);
    input
}

pub fn total(decision: &CommissionDecision) -> i64 {
    decision.lines.iter().map(|l| l.amount.amount).sum()
}
