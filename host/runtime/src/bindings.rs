//! Host bindings for each supported version of the `pactum:policy` WIT
//! package, one module per version, as in Zed's extension host: a plugin
//! built against an older version keeps loading and working beside plugins
//! built against the newest.
//!
//! The host's own types are those of 0.1.0 ([`crate::types`]), plus the
//! one record 0.2.0 changed ([`crate::types::RoutingInput`]): the
//! component model checks types by their structure, not by the package
//! that declares them, so the same Rust record lowers into a plugin of
//! either version wherever the two versions agree.

/// A version of the `pactum:policy` WIT package that this host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WitVersion {
    /// `pactum:policy@0.1.0` (`wit/*.wit`).
    V0_1_0,
    /// `pactum:policy@0.2.0` (`wit/v0.2.0/`): the routing input carries the
    /// partners a lead was already offered to (`tried`).
    V0_2_0,
}

impl WitVersion {
    /// Every supported version, oldest first.
    pub const ALL: [WitVersion; 2] = [WitVersion::V0_1_0, WitVersion::V0_2_0];
    /// The newest supported version.
    pub const LATEST: WitVersion = WitVersion::V0_2_0;

    /// The version as the WIT writes it, for example `"0.2.0"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            WitVersion::V0_1_0 => v0_1_0::VERSION,
            WitVersion::V0_2_0 => v0_2_0::VERSION,
        }
    }

    /// The supported version written `version`, if there is one.
    pub fn parse(version: &str) -> Option<WitVersion> {
        WitVersion::ALL.into_iter().find(|v| v.as_str() == version)
    }

    /// `"0.1.0, 0.2.0"`: the supported versions, for an error message.
    pub fn supported() -> String {
        WitVersion::ALL.map(WitVersion::as_str).join(", ")
    }
}

impl std::fmt::Display for WitVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Bindings for `pactum:policy@0.2.0`: what the host links for its
/// imports (`host`, `types`); its hook types are not used as such (see the
/// module's documentation).
pub mod v0_2_0 {
    wasmtime::component::bindgen!({
        world: "program",
        path: "../../wit/v0.2.0",
    });

    /// The version string of this package.
    pub const VERSION: &str = "0.2.0";
}

#[cfg(test)]
mod tests {
    use crate::types::{ApprovalOutcome, Destination, Money, PartnerKind, Tier};
    use serde_json::{Value, json};

    /// The WIT's case names on the wire (`#[derive(WitSerde)]`), the Rust
    /// names still read; records keep their snake_case field names.
    #[test]
    fn versions_are_spelled_as_their_packages() {
        assert_eq!(super::WitVersion::supported(), "0.1.0, 0.2.0");
        assert_eq!(super::WitVersion::parse("0.2.0"), Some(super::WitVersion::V0_2_0));
        assert_eq!(super::WitVersion::parse("0.3.0"), None);
        assert_eq!(super::WitVersion::LATEST, *super::WitVersion::ALL.last().unwrap());
    }

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
