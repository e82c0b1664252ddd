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
//!
//! The warm-up calls run in the context of the company the component is
//! loaded for ([`WarmUp`]: its slug and parameters, at a fixed event time),
//! and the snapshot is that company's alone: a policy that caches its parsed
//! parameters in a module-level variable keeps its own company's, never
//! another's. A component bound by several companies is snapshotted (and
//! compiled) once per distinct set of parameters; a load for no company
//! ([`WarmUp::neutral`]) warms up with no parameters at all.

use super::call::{CallState, invoke};
use super::hooks::{Approval, Commission, Hook, Routing, TierEvaluation};
use super::plugin::{Plugin, WarmUp};
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

/// The warm-up calls' event time (2026-01-01): fixed, so a snapshot depends
/// on the component and the company's parameters alone.
const WARM_UP_TIME: i64 = 1_767_225_600;

const PARTNER: &str = r#"{"active": true, "certifications": [], "id": "p-1", "kind": "referral",
    "name": "Warm-up", "territories": ["emea"], "tier": "registered"}"#;

/// The warm-up input of the Commission hook (without its context).
const WON: &str = r#"{"event": "won", "partner": PARTNER, "prior_lines": [],
                    "quarter_to_date": {"amount": 0, "currency": "USD"},
                    "deal": {"id": "d-1", "closed_at": 1767225600, "source": "partner-sourced",
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

/// One input of hook `H`, from `fields` (JSON, without `context`), in the
/// context of the company `warm_up` names.
fn input<H: Hook>(fields: &str, warm_up: &WarmUp) -> wasmtime::Result<H::Input> {
    let mut value: serde_json::Value = serde_json::from_str(&fields.replace("PARTNER", PARTNER))?;
    value["context"] =
        serde_json::json!({ "company": warm_up.company, "event_time": WARM_UP_TIME, "params": warm_up.params });
    Ok(serde_json::from_value(value)?)
}

/// Calls hook `H` once on its warm-up input `fields`, if `plugin` exports
/// it. A policy error is a normal outcome here.
fn warm<H: Hook>(
    plugin: &Plugin,
    store: &mut Store<CallState>,
    instance: &Instance,
    fields: &str,
    warm_up: &WarmUp,
) -> wasmtime::Result<()> {
    if plugin.exports(H::KIND) {
        let _decided = invoke::<H>(plugin, store, instance, &input::<H>(fields, warm_up)?)?;
    }
    Ok(())
}

impl Runtime {
    /// `bytes`, pre-initialized: instrumented, instantiated once, each hook
    /// it exports called once on a built-in input, and the instance's
    /// memories and globals written back as the component's initial state.
    /// Fails (and the component is then used as published) where Wizer
    /// cannot snapshot the component or a warm-up call traps.
    pub(crate) fn preinitialize(&self, bytes: &[u8], warm_up: &WarmUp) -> wasmtime::Result<Vec<u8>> {
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
        warm::<Commission>(&plugin, &mut store, &instance, WON, warm_up)?;
        warm::<Routing>(&plugin, &mut store, &instance, LEAD, warm_up)?;
        warm::<Approval>(&plugin, &mut store, &instance, REGISTRATION, warm_up)?;
        warm::<TierEvaluation>(&plugin, &mut store, &instance, SCORECARD, warm_up)?;
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
        let acme = WarmUp { company: "acme".into(), params: r#"{"referral-rate-bps":1500}"#.into() };
        let won = input::<Commission>(WON, &acme).unwrap();
        assert_eq!(won.deal.first_year_acv.amount, 12_000_000);
        // The company's own context, and nothing but it.
        assert_eq!((won.context.company.as_str(), won.context.params.as_str()), ("acme", acme.params.as_str()));
        assert_eq!(won.context.event_time, WARM_UP_TIME);
        let neutral = input::<Commission>(WON, &WarmUp::neutral()).unwrap();
        assert_eq!(neutral.context.params, "{}");
        assert_eq!(input::<Routing>(LEAD, &acme).unwrap().partners.len(), 1);
        assert_eq!(input::<Approval>(REGISTRATION, &acme).unwrap().registration.employees, Some(400));
        assert_eq!(input::<TierEvaluation>(SCORECARD, &acme).unwrap().scorecard.won_deals, 2);
        assert!(input::<Commission>(r#"{"event": "won", "partner": PARTNER}"#, &acme).is_err(), "fields are checked");
    }
}
