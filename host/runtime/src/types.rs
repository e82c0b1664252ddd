//! The WIT types as the host sees them: those of `pactum:policy@0.1.0`,
//! and the routing input of 0.2.0, the one record that version changed.

pub use super::bindings::v0_1_0::exports::pactum::policy::approval::{
    ApprovalDecision, ApprovalInput, ApprovalOutcome, ExistingRegistration, Registration, RegistrationStatus,
};
pub use super::bindings::v0_1_0::exports::pactum::policy::commission::{
    CommissionDecision, CommissionEvent, CommissionInput, CommissionLine, Deal, DealSource, LineKind, PriorLine,
};
pub use super::bindings::v0_1_0::exports::pactum::policy::routing::{
    Destination, Lead, LiveRegistration, RoutingDecision,
};
pub use super::bindings::v0_1_0::exports::pactum::policy::tier_evaluation::{
    Scorecard, TierChange, TierDecision, TierInput,
};
pub use super::bindings::v0_1_0::pactum::policy::host::LogLevel;
pub use super::bindings::v0_1_0::pactum::policy::types::{
    Certification, Context, Money, Param, ParamValue, Partner, PartnerKind, PolicyError, Tier,
};
use wasmtime::component::{ComponentType, Lower};

/// Everything routing needs: `routing-input` of `pactum:policy@0.2.0`
/// (`wit/v0.2.0/routing.wit`). A 0.1.0 plugin receives it without `tried`
/// ([`RoutingInputV0_1`]); the decision log keeps it whole.
#[derive(
    Debug, Clone, PartialEq, Eq, ComponentType, Lower, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[component(record)]
pub struct RoutingInput {
    /// Company, event time and parameters.
    pub context: Context,
    /// The lead.
    pub lead: Lead,
    /// Live registrations on the lead's account, oldest first, without
    /// those of the partners in `tried`.
    pub registrations: Vec<LiveRegistration>,
    /// The company's active partners whose territories could match,
    /// without the partners in `tried`.
    pub partners: Vec<Partner>,
    /// The ids of the partners this lead was already offered to, in the
    /// order it was offered to them (each declined it or let the offer run
    /// out); empty when the lead is routed for the first time. New in
    /// 0.2.0: a 0.1.0 plugin is called without it, and an input written
    /// without it (a decision recorded before 0.2.0, a fixture) reads as
    /// empty.
    #[serde(default)]
    pub tried: Vec<String>,
}

/// The routing input as a `pactum:policy@0.1.0` plugin receives it: a view
/// of [`RoutingInput`] without `tried`, lowered without a copy.
#[doc(hidden)]
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct RoutingInputV0_1<'a> {
    context: &'a Context,
    lead: &'a Lead,
    registrations: &'a [LiveRegistration],
    partners: &'a [Partner],
}

impl RoutingInput {
    /// This input as a 0.1.0 plugin receives it.
    pub(crate) fn v0_1(&self) -> RoutingInputV0_1<'_> {
        let RoutingInput { context, lead, registrations, partners, tried: _ } = self;
        RoutingInputV0_1 { context, lead, registrations, partners }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An input recorded before 0.2.0 (no `tried`) still reads, so its
    /// decision replays; one written now carries the list.
    #[test]
    fn a_routing_input_without_tried_reads_as_none_tried() {
        let mut written = json!({
            "context": { "company": "acme", "event_time": 0, "params": "{}" },
            "lead": { "id": "l-1", "account_domain": "globex.com", "account_name": "Globex",
                      "country": null, "region": "emea", "industry": null, "source": "webinar" },
            "registrations": [],
            "partners": [],
        });
        let old: RoutingInput = serde_json::from_value(written.clone()).unwrap();
        assert!(old.tried.is_empty());
        written["tried"] = json!(["p-a", "p-b"]);
        let new: RoutingInput = serde_json::from_value(written.clone()).unwrap();
        assert_eq!(new.tried, ["p-a", "p-b"]);
        assert_eq!(serde_json::to_value(&new).unwrap(), written);
        let schema = serde_json::to_value(schemars::schema_for!(RoutingInput)).unwrap();
        let required: Vec<&str> = schema["required"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        assert_eq!(required, ["context", "lead", "registrations", "partners"]);
    }
}
