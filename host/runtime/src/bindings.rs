//! Host bindings for each supported version of the `pactum:policy` WIT
//! package, one module per version.
//!
//! When the contract grows (`0.2.0`), its bindings are added beside these
//! and plugins built against `0.1.x` keep loading through this module, as in
//! Zed's extension host.

/// Bindings for `pactum:policy@0.1.0`.
pub mod v0_1_0 {
    wasmtime::component::bindgen!({
        world: "program",
        path: "../../wit",
        additional_derives: [pactum_wit_serde::WitSerde, PartialEq, Eq],
    });

    /// The version string of this package.
    pub const VERSION: &str = "0.1.0";
}

#[cfg(test)]
mod tests {
    use crate::types::{ApprovalOutcome, Destination, Money, PartnerKind, Tier};
    use serde_json::{Value, json};

    /// The WIT's case names on the wire (`#[derive(WitSerde)]`), the Rust
    /// names still read; records keep their snake_case field names.
    #[test]
    fn wit_types_are_spelled_as_the_wit_spells_them() {
        let cases: Vec<(Value, Value)> = vec![
            (serde_json::to_value(PartnerKind::Referral).unwrap(), json!("referral")),
            (serde_json::to_value(Tier::Platinum).unwrap(), json!("platinum")),
            (serde_json::to_value(ApprovalOutcome::Approve(90)).unwrap(), json!({ "approve": 90 })),
            (serde_json::to_value(ApprovalOutcome::Review).unwrap(), json!("review")),
            (serde_json::to_value(Destination::Partner("p-1".into())).unwrap(), json!({ "partner": "p-1" })),
            (serde_json::to_value(Destination::Direct).unwrap(), json!("direct")),
        ];
        for (written, expected) in cases {
            assert_eq!(written, expected);
        }
        let outcome: ApprovalOutcome = serde_json::from_value(json!({ "Approve": 30 })).unwrap();
        assert_eq!(outcome, ApprovalOutcome::Approve(30));
        let kind: PartnerKind = serde_json::from_value(json!("Strategic")).unwrap();
        assert_eq!(kind, PartnerKind::Strategic);
        assert!(serde_json::from_value::<Tier>(json!("GOLD")).is_err());
        let money = Money { amount: 5, currency: "USD".into() };
        assert_eq!(serde_json::to_value(&money).unwrap(), json!({ "amount": 5, "currency": "USD" }));
    }
}
