//! The four hooks, their inputs and outputs, and the host's validation of
//! every output before a workflow may act on it.

use super::WitVersion;
use super::types::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use wasmtime::component::{ComponentType, Lift, Lower};

pub use pactum_core::HookKind;

/// One hook of the contract: its input and output types, how to call it on
/// an instance, and what the host checks of its output.
pub trait Hook: Sized + 'static {
    /// Which hook this is.
    const KIND: HookKind;
    /// What the plugin receives.
    type Input: ComponentType + Lower + Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync;
    /// What the plugin answers.
    type Output: ComponentType + Lift + Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Send + Sync;

    /// The input's context (company, event time, parameters).
    fn context(input: &Self::Input) -> &Context;

    /// The exported function's name in the hook's interface.
    const FUNCTION: &'static str;

    /// Checks an output against its input; `Err` names what is wrong.
    fn validate(input: &Self::Input, output: &Self::Output) -> Result<(), String>;

    /// At least the length of the output's JSON form, computed without
    /// serializing it: the output-size cap serializes only outputs this
    /// bound does not already clear.
    fn json_size_bound(output: &Self::Output) -> usize;

    /// The input as a plugin exporting this hook at `version` receives
    /// it, where that is not [`Hook::Input`] itself: routing's at 0.1.0,
    /// whose input has no `tried`.
    #[doc(hidden)]
    fn input_as(_input: &Self::Input, _version: WitVersion) -> Option<RoutingInputV0_1<'_>> {
        None
    }
}

/// Whether hook `hook` exported at `version` takes another input than the
/// host's [`Hook::Input`] (see [`Hook::input_as`]).
pub(crate) fn takes_older_input(hook: HookKind, version: WitVersion) -> bool {
    hook == HookKind::Routing && version == WitVersion::V0_1_0
}

/// Room for a JSON field's name, quotes, colon and comma, or for a unit
/// variant's name, an integer or a boolean: every name in the contract is
/// far shorter.
const SLOT: usize = 64;

/// At most the JSON length of the string `s`: quotes, and each byte at
/// worst a `\u00XX` escape.
fn str_bound(s: &str) -> usize {
    2 + 6 * s.len()
}

fn money_bound(m: &Money) -> usize {
    let Money { amount: _, currency } = m;
    3 * SLOT + str_bound(currency)
}

/// The `routing` hook.
pub enum Routing {}
/// The `approval` hook.
pub enum Approval {}
/// The `commission` hook.
pub enum Commission {}
/// The `tier-evaluation` hook.
pub enum TierEvaluation {}

fn require_text(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() { Err(format!("`{field}` is empty: every decision must say why")) } else { Ok(()) }
}

impl Hook for Routing {
    const KIND: HookKind = HookKind::Routing;
    const FUNCTION: &'static str = "route";
    type Input = RoutingInput;
    type Output = RoutingDecision;

    fn context(input: &RoutingInput) -> &Context {
        &input.context
    }

    fn input_as(input: &RoutingInput, version: WitVersion) -> Option<RoutingInputV0_1<'_>> {
        takes_older_input(Self::KIND, version).then(|| input.v0_1())
    }

    fn json_size_bound(output: &RoutingDecision) -> usize {
        let RoutingDecision { destination, reason, attribution } = output;
        let destination = match destination {
            Destination::Partner(id) => 2 * SLOT + str_bound(id),
            Destination::Direct => SLOT,
        };
        4 * SLOT + destination + str_bound(reason) + str_bound(attribution)
    }

    fn validate(input: &RoutingInput, output: &RoutingDecision) -> Result<(), String> {
        require_text("reason", &output.reason)?;
        require_text("attribution", &output.attribution)?;
        if let Destination::Partner(id) = &output.destination {
            let known =
                input.partners.iter().any(|p| &p.id == id) || input.registrations.iter().any(|r| &r.partner_id == id);
            if !known {
                return Err(format!(
                    "routes to partner `{id}`, which is neither among the input's partners nor holds a live registration"
                ));
            }
        }
        Ok(())
    }
}

/// The longest protection period a plugin may grant.
pub const MAX_PROTECTION_DAYS: u32 = 3_650;

impl Hook for Approval {
    const KIND: HookKind = HookKind::Approval;
    const FUNCTION: &'static str = "evaluate";
    type Input = ApprovalInput;
    type Output = ApprovalDecision;

    fn context(input: &ApprovalInput) -> &Context {
        &input.context
    }

    fn json_size_bound(output: &ApprovalDecision) -> usize {
        let ApprovalDecision { outcome: _, reason } = output;
        6 * SLOT + str_bound(reason)
    }

    fn validate(_input: &ApprovalInput, output: &ApprovalDecision) -> Result<(), String> {
        require_text("reason", &output.reason)?;
        if let ApprovalOutcome::Approve(days) = output.outcome
            && (days == 0 || days > MAX_PROTECTION_DAYS)
        {
            return Err(format!(
                "approves with a protection period of {days} days (must be 1 to {MAX_PROTECTION_DAYS})"
            ));
        }
        Ok(())
    }
}

impl Hook for Commission {
    const KIND: HookKind = HookKind::Commission;
    const FUNCTION: &'static str = "compute";
    type Input = CommissionInput;
    type Output = CommissionDecision;

    fn context(input: &CommissionInput) -> &Context {
        &input.context
    }

    fn json_size_bound(output: &CommissionDecision) -> usize {
        let CommissionDecision { lines, explanation } = output;
        let lines: usize = lines
            .iter()
            .map(|line| {
                let CommissionLine { partner_id, kind: _, amount, basis, rate: _, description } = line;
                8 * SLOT + str_bound(partner_id) + money_bound(amount) + money_bound(basis) + str_bound(description)
            })
            .sum();
        3 * SLOT + lines + str_bound(explanation)
    }

    fn validate(input: &CommissionInput, output: &CommissionDecision) -> Result<(), String> {
        require_text("explanation", &output.explanation)?;
        let currency = &input.deal.first_year_acv.currency;
        let mut total: i128 = 0;
        for (i, line) in output.lines.iter().enumerate() {
            // Formatted only for an error: validation runs on every call.
            let at = || format!("line {}", i + 1);
            if &line.amount.currency != currency || &line.basis.currency != currency {
                return Err(format!(
                    "{} is in {} (basis {}) but the deal is in {currency}",
                    at(),
                    line.amount.currency,
                    line.basis.currency
                ));
            }
            if line.partner_id != input.partner.id {
                return Err(format!(
                    "{} pays partner `{}`, not the deal's partner `{}`",
                    at(),
                    line.partner_id,
                    input.partner.id
                ));
            }
            if line.description.trim().is_empty() {
                require_text(&format!("{} description", at()), &line.description)?;
            }
            match input.event {
                CommissionEvent::Won if line.amount.amount < 0 || line.kind == LineKind::Clawback => {
                    return Err(format!(
                        "{} is a negative payout or clawback ({}) on a won deal",
                        at(),
                        line.amount.amount
                    ));
                }
                CommissionEvent::Refund(_) if line.amount.amount > 0 => {
                    return Err(format!("{} pays {} on a refund; refunds only claw back", at(), line.amount.amount));
                }
                _ => {}
            }
            total += i128::from(line.amount.amount);
        }
        match &input.event {
            CommissionEvent::Won => {
                let value = i128::from(input.deal.first_year_acv.amount) + i128::from(input.deal.services.amount);
                if total > value {
                    return Err(format!("pays {total} in total, more than the deal's whole value of {value}"));
                }
            }
            CommissionEvent::Refund(_) => {
                let outstanding: i128 = input.prior_lines.iter().map(|l| i128::from(l.amount.amount)).sum();
                if -total > outstanding.max(0) {
                    return Err(format!("claws back {} but only {outstanding} is outstanding on the deal", -total));
                }
            }
        }
        Ok(())
    }
}

impl Hook for TierEvaluation {
    const KIND: HookKind = HookKind::TierEvaluation;
    const FUNCTION: &'static str = "evaluate";
    type Input = TierInput;
    type Output = TierDecision;

    fn context(input: &TierInput) -> &Context {
        &input.context
    }

    fn json_size_bound(output: &TierDecision) -> usize {
        let TierDecision { tier: _, change: _, escalate: _, reason } = output;
        6 * SLOT + str_bound(reason)
    }

    fn validate(input: &TierInput, output: &TierDecision) -> Result<(), String> {
        require_text("reason", &output.reason)?;
        let (from, to) = (input.partner.tier as u8, output.tier as u8);
        let expected = match to.cmp(&from) {
            std::cmp::Ordering::Greater => TierChange::Promote,
            std::cmp::Ordering::Less => TierChange::Demote,
            std::cmp::Ordering::Equal => TierChange::Keep,
        };
        if output.change != expected {
            return Err(format!(
                "says {:?} but moves the partner from {:?} to {:?} ({expected:?})",
                output.change, input.partner.tier, output.tier
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A string at its most expensive in JSON: quotes, backslashes, control
    /// characters (each a 6-byte escape), multi-byte characters.
    fn nasty() -> String {
        "\"\\\u{1}\u{1f}é💥x".repeat(40)
    }

    fn check<H: Hook>(output: &H::Output) {
        let exact = serde_json::to_vec(output).unwrap().len();
        let bound = H::json_size_bound(output);
        assert!(bound >= exact, "{}: bound {bound} < JSON length {exact}", H::KIND);
    }

    #[test]
    fn size_bounds_are_never_below_the_json_length() {
        let money = |amount| Money { amount, currency: nasty() };
        let line = CommissionLine {
            partner_id: nasty(),
            kind: LineKind::Clawback,
            amount: money(i64::MIN),
            basis: money(i64::MAX),
            rate: u32::MAX,
            description: nasty(),
        };
        for lines in [vec![], vec![line.clone()], vec![line; 5]] {
            check::<Commission>(&CommissionDecision { lines, explanation: nasty() });
        }
        check::<Commission>(&CommissionDecision { lines: vec![], explanation: String::new() });
        for destination in [Destination::Partner(nasty()), Destination::Direct] {
            check::<Routing>(&RoutingDecision { destination, reason: nasty(), attribution: nasty() });
        }
        for outcome in [ApprovalOutcome::Approve(u32::MAX), ApprovalOutcome::Reject, ApprovalOutcome::Review] {
            check::<Approval>(&ApprovalDecision { outcome, reason: nasty() });
        }
        for change in [TierChange::Keep, TierChange::Promote, TierChange::Demote] {
            check::<TierEvaluation>(&TierDecision { tier: Tier::Platinum, change, escalate: true, reason: nasty() });
        }
    }
}
