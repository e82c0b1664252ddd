//! The runtime's errors: why a plugin could not be loaded, and why a hook
//! call produced no decision.

use serde::Serialize;
use std::fmt;

/// Why a plugin was refused at load. Each variant names what is wrong so an
/// admin can fix the upload; none of them changes anything.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly file (it does not start with the `\\0asm` magic)")]
    NotWasm,
    /// A core Wasm module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component: build plugins with the Pactum SDK, or turn the module into a component with `wasm-tools component new`"
    )]
    NotAComponent,
    /// Larger than the size limit.
    #[error("the component is {size} bytes, over the limit of {limit} bytes (`[limits] component-bytes`)")]
    TooLarge {
        /// The component's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Wasmtime could not compile it.
    #[error("the component does not compile: {0}")]
    Compile(String),
    /// It exports no Pactum hook.
    #[error("the component exports no Pactum hook (it exports: {exports}); expected at least one of {expected}")]
    NoHook {
        /// What it does export, comma-separated (or "nothing").
        exports: String,
        /// The hook interfaces this host supports.
        expected: String,
    },
    /// It exports a hook at a version this host does not support.
    #[error("the component exports `{export}`, but this host supports pactum:policy at versions {supported}")]
    UnsupportedVersion {
        /// The export's full name.
        export: String,
        /// The supported versions, comma-separated.
        supported: String,
    },
    /// It imports something plugins are not given.
    #[error(
        "the component imports `{import}`, which Pactum does not provide: plugins get no clock, randomness, files, network or environment, only `pactum:policy/host`"
    )]
    ForbiddenImport {
        /// The import's name.
        import: String,
    },
    /// A hook export does not have the contract's shape.
    #[error("the component's `{export}` export does not match the contract: {reason}")]
    BadExport {
        /// The export.
        export: String,
        /// What wasmtime reported.
        reason: String,
    },
}

/// Why a hook call produced no decision. Each is recorded in the decision
/// log; the workflow then takes its documented fallback.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HookError {
    /// The call ran past its execution deadline.
    #[error("the plugin ran past its deadline of {deadline_ms} ms")]
    Timeout {
        /// The deadline.
        deadline_ms: u64,
    },
    /// The call used up its fuel (instruction budget).
    #[error("the plugin used up its fuel budget of {fuel}")]
    OutOfFuel {
        /// The budget.
        fuel: u64,
    },
    /// The plugin tried to grow its memory past the cap.
    #[error("the plugin tried to use more than its memory cap of {limit_bytes} bytes")]
    MemoryLimit {
        /// The cap.
        limit_bytes: u64,
    },
    /// The plugin trapped (a panic, an unreachable, a bad memory access).
    #[error("the plugin trapped: {message}")]
    Trap {
        /// The guest's own message when it left one (a Rust panic's text),
        /// otherwise the trap's description.
        message: String,
    },
    /// The plugin answered something the contract does not allow.
    #[error("the plugin's output is invalid: {reason}")]
    InvalidOutput {
        /// What is wrong with it.
        reason: String,
    },
    /// The plugin reported a policy error on purpose.
    #[error("the policy refused to decide ({code}): {message}")]
    Policy {
        /// Its machine-readable code.
        code: String,
        /// Its explanation.
        message: String,
    },
    /// The plugin does not export this hook.
    #[error("the plugin does not export the `{hook}` hook")]
    NotExported {
        /// The hook.
        hook: String,
    },
    /// The host could not run the call (for example every instance slot is
    /// busy). Not the plugin's fault; the call may be retried.
    #[error("the host could not run the plugin: {message}")]
    Host {
        /// What went wrong.
        message: String,
    },
}

impl HookError {
    /// A short stable name for metrics and logs ("timeout", "trap", ...).
    pub fn kind(&self) -> &'static str {
        match self {
            HookError::Timeout { .. } => "timeout",
            HookError::OutOfFuel { .. } => "out-of-fuel",
            HookError::MemoryLimit { .. } => "memory-limit",
            HookError::Trap { .. } => "trap",
            HookError::InvalidOutput { .. } => "invalid-output",
            HookError::Policy { .. } => "policy",
            HookError::NotExported { .. } => "not-exported",
            HookError::Host { .. } => "host",
        }
    }
}

/// A comma-separated list, or "nothing".
pub(crate) struct ListOrNothing<'a>(pub &'a [String]);

impl fmt::Display for ListOrNothing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("nothing") } else { f.write_str(&self.0.join(", ")) }
    }
}
