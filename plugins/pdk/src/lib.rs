//! The Pactum plugin SDK.
//!
//! A Pactum plugin is a WebAssembly component that implements one or more of
//! the program hooks defined by the `pactum:policy` WIT package (`wit/` at the
//! root of the repository): routing, approval, commission and
//! tier-evaluation. This crate hides the wit-bindgen glue: a policy author
//! enables the hooks they implement as cargo features, writes a plain Rust
//! trait impl, and exports it with one macro.
//!
//! ```ignore
//! use pactum_pdk::commission::*;
//! use pactum_pdk::prelude::*;
//!
//! struct FlatFee;
//!
//! impl Commission for FlatFee {
//!     fn compute(input: CommissionInput) -> Result<CommissionDecision, PolicyError> {
//!         let rate = input.context.bps("fee-rate-bps")?;
//!         let amount = input.deal.first_year_acv.times_bps(rate)?;
//!         Ok(CommissionDecision { lines: vec![/* ... */], explanation: format!("{amount}") })
//!     }
//! }
//!
//! pactum_pdk::export_commission!(FlatFee);
//! ```
//!
//! Plugins see nothing but their input: no clock (use
//! `input.context.event_time`), no randomness, no files, no network, no
//! environment. [`log`] lines go to the decision record of the call. A panic
//! traps the call; its message is recorded as the trap's message.
//!
//! Plugins are ordinary crates, so they are unit-tested natively with
//! `cargo test`: call your trait impl with an input you build. The
//! [`testing`] module has builders for the common inputs.

#![warn(missing_docs)]

extern crate self as pactum_pdk;

#[cfg(all(target_family = "wasm", feature = "bump-allocator"))]
mod alloc;

#[cfg(all(target_family = "wasm", feature = "bump-allocator"))]
#[global_allocator]
static ALLOCATOR: alloc::Bump = alloc::Bump::new();

#[cfg(feature = "commission")]
pub mod clawback;
mod context;
pub mod log;
pub mod money;
mod params;
pub mod testing;
pub mod time;

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    /// Routes a panic's message to the host log before the module aborts, so
    /// the host can report `Trap` with the guest's own words. Idempotent.
    pub fn install_panic_hook() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                crate::log::error(&format!("plugin {info}"));
            }));
        });
    }
}

/// Bindings shared by every hook: the `types` and `host` interfaces.
#[doc(hidden)]
pub mod base {
    wit_bindgen::generate!({
        world: "base",
        path: "../../wit",
        additional_derives: [PartialEq, Eq],
        generate_unused_types: true,
        runtime_path: "pactum_pdk::__private::wit_bindgen::rt",
    });
}

/// The types every hook shares: money, parameters, partners, errors.
pub mod types {
    pub use crate::base::pactum::policy::types::*;
}

/// Everything a plugin usually needs in scope.
pub mod prelude {
    pub use crate::money::{DAY, apply_bps};
    pub use crate::time::format_date;
    pub use crate::types::{Certification, Context, Money, Param, ParamValue, Partner, PartnerKind, PolicyError, Tier};
}

macro_rules! hook {
    (
        feature = $feature:literal,
        world = $world:literal,
        world_mod = $world_mod:ident,
        export_world = $export_world:literal,
        public = $public:ident,
        interface = $iface:ident,
        trait = $trait:ident,
        export = $export:ident,
        bindings = $bindings:literal,
        fn $func:ident($input:ident) -> $output:ident,
        types = [$($ty:ident),* $(,)?],
        doc = $doc:literal,
    ) => {
        #[cfg(feature = $feature)]
        #[doc(hidden)]
        pub mod $world_mod {
            wit_bindgen::generate!({
                world: $world,
                path: "../../wit",
                with: {
                    "pactum:policy/types@0.1.0": crate::base::pactum::policy::types,
                    "pactum:policy/host@0.1.0": crate::base::pactum::policy::host,
                },
                additional_derives: [PartialEq, Eq],
                pub_export_macro: true,
                export_macro_name: $export_world,
                default_bindings_module: $bindings,
                runtime_path: "pactum_pdk::__private::wit_bindgen::rt",
            });
        }

        #[cfg(feature = $feature)]
        #[doc = $doc]
        pub mod $public {
            pub use crate::$world_mod::exports::pactum::policy::$iface::Guest as __Guest;
            pub use crate::$world_mod::exports::pactum::policy::$iface::{$($ty),*};
            pub use crate::types::*;

            #[doc = concat!("Implement this for your `", $feature, "` policy, then export it with [`", stringify!($export), "!`](crate::", stringify!($export), ").")]
            pub trait $trait {
                #[doc = concat!("Decides one `", $feature, "` call. Must be a pure function of `input`.")]
                fn $func(input: $input) -> Result<$output, PolicyError>;
            }
        }
    };
}

hook! {
    feature = "routing",
    world = "routing-policy",
    world_mod = routing_world,
    export_world = "__export_routing_world",
    public = routing,
    interface = routing,
    trait = Routing,
    export = export_routing,
    bindings = "pactum_pdk::routing_world",
    fn route(RoutingInput) -> RoutingDecision,
    types = [Lead, LiveRegistration, RoutingInput, Destination, RoutingDecision],
    doc = "The `routing` hook: where a lead goes.",
}

hook! {
    feature = "approval",
    world = "approval-policy",
    world_mod = approval_world,
    export_world = "__export_approval_world",
    public = approval,
    interface = approval,
    trait = Approval,
    export = export_approval,
    bindings = "pactum_pdk::approval_world",
    fn evaluate(ApprovalInput) -> ApprovalDecision,
    types = [Registration, RegistrationStatus, ExistingRegistration, ApprovalInput, ApprovalOutcome, ApprovalDecision],
    doc = "The `approval` hook: approve, reject or review a deal registration.",
}

hook! {
    feature = "commission",
    world = "commission-policy",
    world_mod = commission_world,
    export_world = "__export_commission_world",
    public = commission,
    interface = commission,
    trait = Commission,
    export = export_commission,
    bindings = "pactum_pdk::commission_world",
    fn compute(CommissionInput) -> CommissionDecision,
    types = [DealSource, Deal, CommissionEvent, LineKind, PriorLine, CommissionInput, CommissionLine, CommissionDecision],
    doc = "The `commission` hook: commission and clawback lines for a deal.",
}

hook! {
    feature = "tier-evaluation",
    world = "tier-evaluation-policy",
    world_mod = tier_evaluation_world,
    export_world = "__export_tier_evaluation_world",
    public = tier_evaluation,
    interface = tier_evaluation,
    trait = TierEvaluation,
    export = export_tier_evaluation,
    bindings = "pactum_pdk::tier_evaluation_world",
    fn evaluate(TierInput) -> TierDecision,
    types = [Scorecard, TierInput, TierChange, TierDecision],
    doc = "The `tier-evaluation` hook: a partner's tier after the monthly scorecard.",
}

#[doc(hidden)]
#[macro_export]
#[rustfmt::skip]
macro_rules! __export_hook {
    ($ty:ty, $module:ident, $world:ident, $export:ident, $trait:ident, $func:ident, $input:ident, $output:ident) => {
        const _: () = {
            struct __PactumExport;
            impl $crate::$module::__Guest for __PactumExport {
                fn $func(
                    input: $crate::$module::$input,
                ) -> ::core::result::Result<$crate::$module::$output, $crate::types::PolicyError> {
                    $crate::__private::install_panic_hook();
                    <$ty as $crate::$module::$trait>::$func(input)
                }
            }
            $crate::$world::$export!(__PactumExport with_types_in $crate::$world);
        };
    };
}

/// Exports a type implementing [`routing::Routing`] as the plugin's
/// `pactum:policy/routing` hook. Needs the `routing` feature.
#[macro_export]
macro_rules! export_routing {
    ($ty:ty) => {
        $crate::__export_hook!(
            $ty,
            routing,
            routing_world,
            __export_routing_world,
            Routing,
            route,
            RoutingInput,
            RoutingDecision
        );
    };
}

/// Exports a type implementing [`approval::Approval`] as the plugin's
/// `pactum:policy/approval` hook. Needs the `approval` feature.
#[macro_export]
macro_rules! export_approval {
    ($ty:ty) => {
        $crate::__export_hook!(
            $ty,
            approval,
            approval_world,
            __export_approval_world,
            Approval,
            evaluate,
            ApprovalInput,
            ApprovalDecision
        );
    };
}

/// Exports a type implementing [`commission::Commission`] as the plugin's
/// `pactum:policy/commission` hook. Needs the `commission` feature.
#[macro_export]
macro_rules! export_commission {
    ($ty:ty) => {
        $crate::__export_hook!(
            $ty,
            commission,
            commission_world,
            __export_commission_world,
            Commission,
            compute,
            CommissionInput,
            CommissionDecision
        );
    };
}

/// Exports a type implementing [`tier_evaluation::TierEvaluation`] as the
/// plugin's `pactum:policy/tier-evaluation` hook. Needs the
/// `tier-evaluation` feature.
#[macro_export]
macro_rules! export_tier_evaluation {
    ($ty:ty) => {
        $crate::__export_hook!(
            $ty,
            tier_evaluation,
            tier_evaluation_world,
            __export_tier_evaluation_world,
            TierEvaluation,
            evaluate,
            TierInput,
            TierDecision
        );
    };
}
