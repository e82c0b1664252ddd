//! Pre-initialization: a component's state after a first call, taken as its
//! initial state (Wizer, as a library).
//!
//! A Python or JavaScript component spends most of an isolated call on
//! first-call work of its language runtime (SpiderMonkey creating the
//! standard classes the bindings use, componentize-py's runtime set-up),
//! redone in every fresh instance. Calling each exported hook once at load,
//! on a built-in input, and snapshotting the instance's memories and globals
//! into a new component moves that work out of every later call. Every call
//! still starts from one fixed state, the same for all of them: isolation and
//! replay are as before.

use super::call::{CallState, invoke};
use super::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use super::plugin::Plugin;
use super::{Limits, Runtime};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use wasmtime::Store;
use wasmtime::component::{Instance, WasmList};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

/// Runs `future`, whose every await is ready at once (the state reads below
/// are synchronous calls).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("pre-initialization awaits nothing"),
    }
}

struct State<'a> {
    store: &'a mut Store<CallState>,
    instance: Instance,
}

impl State<'_> {
    fn call<R: wasmtime::component::Lift + 'static, T>(
        &mut self,
        instance: &str,
        func: &str,
        use_ret: impl FnOnce(&Store<CallState>, R) -> T,
    ) -> T {
        let (_, exported) = self.instance.get_export(&mut *self.store, None, instance).expect("instrumented export");
        let (_, func) =
            self.instance.get_export(&mut *self.store, Some(&exported), func).expect("instrumented function");
        let func = self.instance.get_typed_func::<(), (R,)>(&mut *self.store, func).expect("instrumented type");
        let (ret,) = func.call(&mut *self.store, ()).expect("reading the instance's state");
        use_ret(self.store, ret)
    }
}

impl ComponentInstanceState for State<'_> {
    fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) -> impl Future<Output = ()> + Send {
        self.call(instance, func, |store, list: WasmList<u8>| contents(list.as_le_slice(store)));
        std::future::ready(())
    }

    fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> impl Future<Output = i32> + Send {
        std::future::ready(self.call(instance, func, |_, r: i32| r))
    }

    fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> impl Future<Output = i64> + Send {
        std::future::ready(self.call(instance, func, |_, r: i64| r))
    }

    fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> impl Future<Output = u32> + Send {
        std::future::ready(self.call(instance, func, |_, r: f32| r.to_bits()))
    }

    fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> impl Future<Output = u64> + Send {
        std::future::ready(self.call(instance, func, |_, r: f64| r.to_bits()))
    }
}

/// The warm-up calls' context. A component is shared by every company that
/// binds it, so no company's own: the default program's parameters (the
/// seed's, as Acme's `policy.toml` has them), which the stock rules and
/// the starters read. A policy that expects others may answer with an
/// error; the language runtime's first-call work is done either way, but a
/// warm-up that takes the policy's usual path also warms what that path
/// touches (measured: JavaScript 787 µs as published, 593 µs after a
/// warm-up without parameters, less with these).
const CONTEXT: &str = r#"{"company": "pactum-warm-up", "event_time": 1767225600, "params":
    "{\"cosell-rate-bps\":1200,\"gold-certifications\":1,\"gold-revenue\":{\"amount\":20000000,\"currency\":\"USD\"},\"icp-countries\":[\"US\",\"CA\",\"GB\",\"DE\",\"FR\",\"NL\"],\"icp-industries\":[\"software\",\"fintech\",\"healthcare\",\"ecommerce\"],\"icp-min-employees\":50,\"platinum-certifications\":2,\"platinum-revenue\":{\"amount\":50000000,\"currency\":\"USD\"},\"protection-days\":90,\"referral-rate-bps\":1500,\"reseller-margin-bps\":2500,\"silver-certifications\":0,\"silver-revenue\":{\"amount\":5000000,\"currency\":\"USD\"},\"territory-routing\":true}"}"#;

const PARTNER: &str = r#"{"active": true, "certifications": [], "id": "p-1", "kind": "Referral",
    "name": "Warm-up", "territories": ["emea"], "tier": "Registered"}"#;

/// The warm-up input of the Commission hook (without its context).
const WON: &str = r#"{"event": "Won", "partner": PARTNER, "prior_lines": [],
                    "quarter_to_date": {"amount": 0, "currency": "USD"},
                    "deal": {"id": "d-1", "closed_at": 1767225600, "source": "PartnerSourced",
                        "first_year_acv": {"amount": 12000000, "currency": "USD"},
                        "services": {"amount": 0, "currency": "USD"}}}"#;

/// The warm-up input of the Routing hook (without its context).
const LEAD: &str = r#"{"partners": [PARTNER], "registrations": [],
                    "lead": {"id": "l-1", "account_domain": "example.com", "account_name": "Example",
                        "country": "DE", "region": "emea", "industry": "software", "source": "webinar"}}"#;

/// The warm-up input of the Approval hook (without its context).
const REGISTRATION: &str = r#"{"existing": [], "partner": PARTNER,
                    "registration": {"id": "r-1", "account_domain": "example.com", "account_name": "Example",
                        "amount": {"amount": 12000000, "currency": "USD"}, "country": "US", "employees": 400,
                        "expected_close": 1769904000, "industry": "software"}}"#;

/// The warm-up input of the TierEvaluation hook (without its context).
const SCORECARD: &str = r#"{"partner": PARTNER,
                    "scorecard": {"period": "2026-01", "registered_deals": 3, "won_deals": 2, "lost_deals": 1,
                        "win_rate": 6667, "trailing_revenue": {"amount": 21000000, "currency": "USD"},
                        "average_deal_size": {"amount": 10500000, "currency": "USD"}}}"#;

/// One input of hook `H`, from `fields` (JSON, without `context`).
fn input<H: Hook>(fields: &str) -> wasmtime::Result<H::Input> {
    let mut value: serde_json::Value = serde_json::from_str(&fields.replace("PARTNER", PARTNER))?;
    value["context"] = serde_json::from_str(CONTEXT)?;
    Ok(serde_json::from_value(value)?)
}

/// Calls hook `H` once on its warm-up input `fields`, if `plugin` exports
/// it. A policy error is a normal outcome here.
fn warm<H: Hook>(
    plugin: &Plugin,
    store: &mut Store<CallState>,
    instance: &Instance,
    fields: &str,
) -> wasmtime::Result<()> {
    if plugin.exports(H::KIND) {
        let _decided = invoke::<H>(plugin, store, instance, &input::<H>(fields)?)?;
    }
    Ok(())
}

impl Runtime {
    /// `bytes`, pre-initialized: instrumented, instantiated once, each hook
    /// it exports called once on a built-in input, and the instance's
    /// memories and globals written back as the component's initial state.
    /// Fails (and the component is then used as published) where Wizer
    /// cannot snapshot the component or a warm-up call traps.
    pub(crate) fn preinitialize(&self, bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
        let wizer = Wizer::new();
        let (cx, instrumented) = wizer.instrument_component(bytes)?;
        let (engine, _) = self.engine_for(bytes.len());
        let component = wasmtime::component::Component::new(engine, &instrumented)?;
        let plugin = self
            .link(super::PluginHash::of(&instrumented), bytes.len(), component)
            .map_err(|e| wasmtime::format_err!("{e}"))?;
        let limits = Limits { deadline_ms: 5_000, ..Limits::default() };
        let mut store = CallState::store(&plugin.engine, &limits);
        store.set_fuel(limits.fuel)?;
        store.set_epoch_deadline(limits.deadline_ms.div_ceil(super::EPOCH_TICK.as_millis() as u64) + 1);
        let instance = plugin.pre.instantiate(&mut store)?;
        warm::<Commission>(&plugin, &mut store, &instance, WON)?;
        warm::<Routing>(&plugin, &mut store, &instance, LEAD)?;
        warm::<Approval>(&plugin, &mut store, &instance, REGISTRATION)?;
        warm::<TierEvaluation>(&plugin, &mut store, &instance, SCORECARD)?;
        // Reading the state back runs the instrumentation's own exports: they
        // must not stop on what the warm-up calls left of the fuel or the
        // deadline (a failure there would be a bug, and `State` panics on it).
        store.set_fuel(u64::MAX / 2)?;
        store.set_epoch_deadline(u64::MAX / 2);
        ready(wizer.snapshot_component(&cx, &mut State { store: &mut store, instance }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_warm_up_input_is_a_valid_input_of_its_hook() {
        let won = input::<Commission>(WON).unwrap();
        assert_eq!(won.deal.first_year_acv.amount, 12_000_000);
        let params: serde_json::Value = serde_json::from_str(&won.context.params).unwrap();
        assert_eq!(params["referral-rate-bps"], 1500);
        assert_eq!(input::<Routing>(LEAD).unwrap().partners.len(), 1);
        assert_eq!(input::<Approval>(REGISTRATION).unwrap().registration.employees, Some(400));
        assert_eq!(input::<TierEvaluation>(SCORECARD).unwrap().scorecard.won_deals, 2);
        assert!(input::<Commission>(r#"{"event": "Won", "partner": PARTNER}"#).is_err(), "fields are checked");
    }
}
