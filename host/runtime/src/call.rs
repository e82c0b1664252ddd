//! One hook call: a fresh store and instance under the company's limits,
//! the call, the classification of any failure, output validation, and the
//! record kept for the decision log.

use super::bindings::v0_1_0::pactum::policy::{host, types as wit_types};
use super::error::HookError;
use super::hooks::Hook;
use super::plugin::Plugin;
use super::types::{LogLevel, PolicyError, RoutingInputV0_1};
use super::{EPOCH_TICK, Limits, Runtime};
use pactum_core::PluginHash;
use serde::Serialize;
use std::io;
use std::time::{Duration, Instant};
use wasmtime::component::{Instance, TypedFunc};
use wasmtime::{ResourceLimiter, Store, Trap};

/// A line a plugin logged during a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Its severity.
    pub level: LogLevel,
    /// Its text.
    pub message: String,
}

/// The store data of one call: its limits and what the plugin logged.
pub struct CallState {
    memory_cap: u64,
    memory_cap_hit: bool,
    /// The largest linear memory asked for so far, in bytes.
    pub(crate) memory_peak: u64,
    log: Vec<LogLine>,
    log_bytes: usize,
    log_cap: usize,
    log_dropped: usize,
    /// The line being written, 32 bytes at a time; `None` once it is past
    /// the cap (the rest of it is discarded as it comes).
    line: Option<Vec<u8>>,
    /// What the plugin wrote to stdout (`[0]`) and stderr (`[1]`) since
    /// its last newline (WASI, see `wasi_stubs`): a log line is a line of
    /// text, however many writes it took.
    pending: [Vec<u8>; 2],
    /// The last line written to stderr, language runtimes' trailing noise
    /// aside: kept even past the log cap, for a trap's message.
    last_stderr: Option<String>,
    /// Inside a Rust panic report on stderr (see [`is_runtime_noise`]).
    in_panic_report: bool,
}

impl CallState {
    /// A store on `engine` for one instance under `limits`, its limiter
    /// being the state itself.
    pub(crate) fn store(engine: &wasmtime::Engine, limits: &Limits) -> Store<CallState> {
        let mut store = Store::new(engine, CallState::new(limits));
        store.limiter(|state| state);
        store
    }

    pub(crate) fn new(limits: &Limits) -> CallState {
        CallState {
            memory_cap: limits.memory_bytes,
            memory_cap_hit: false,
            memory_peak: 0,
            log: Vec::new(),
            log_bytes: 0,
            log_cap: limits.log_bytes,
            log_dropped: 0,
            line: Some(Vec::new()),
            pending: [Vec::new(), Vec::new()],
            last_stderr: None,
            in_panic_report: false,
        }
    }
}

impl host::Host for CallState {
    fn log(&mut self, level: LogLevel, len: u8, last: bool, b0: u64, b1: u64, b2: u64, b3: u64) {
        if let Some(line) = &mut self.line {
            let len = usize::from(len.min(32));
            if self.log_bytes + line.len() + len > self.log_cap {
                // Over the cap: drop the whole line, not a prefix of it.
                self.line = None;
            } else {
                let mut piece = [0u8; 32];
                for (i, word) in [b0, b1, b2, b3].into_iter().enumerate() {
                    piece[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
                }
                line.extend_from_slice(&piece[..len]);
            }
        }
        if !last {
            return;
        }
        match self.line.replace(Vec::new()) {
            Some(bytes) => {
                self.log_bytes += bytes.len();
                let message =
                    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                self.log.push(LogLine { level, message });
            }
            None => self.log_dropped += 1,
        }
    }
}

/// The longest stdout/stderr line kept whole; the rest of a longer line is
/// dropped.
const MAX_OUTPUT_LINE: usize = 4 << 10;
/// The longest stderr line a trap's message quotes.
const MAX_TRAP_LINE: usize = 1 << 10;

impl CallState {
    /// Takes text a plugin wrote to stdout or stderr (WASI, see
    /// `wasi_stubs`): each complete line goes to the call's log (stdout at
    /// `info`, stderr at `error`) under the same cap as `host.log`; the
    /// rest waits for its newline or the end of the call
    /// ([`CallState::flush_output`]).
    pub(crate) fn write_output(&mut self, stderr: bool, mut bytes: &[u8]) {
        let stream = usize::from(stderr);
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.pending[stream]);
            line.extend_from_slice(&bytes[..end.min(MAX_OUTPUT_LINE.saturating_sub(line.len()))]);
            self.output_line(stderr, &line);
            bytes = &bytes[end + 1..];
        }
        let pending = &mut self.pending[stream];
        let room = MAX_OUTPUT_LINE.saturating_sub(pending.len());
        pending.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Logs what is left of unfinished stdout/stderr lines.
    pub(crate) fn flush_output(&mut self) {
        for stream in 0..2 {
            let line = std::mem::take(&mut self.pending[stream]);
            if !line.is_empty() {
                self.output_line(stream == 1, &line);
            }
        }
    }

    fn output_line(&mut self, stderr: bool, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let line = text.trim_end();
        if line.trim().is_empty() {
            return;
        }
        if stderr && !self.runtime_noise(line) {
            let mut end = line.len().min(MAX_TRAP_LINE);
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            self.last_stderr = Some(line[..end].to_string());
        }
        if self.log_bytes + line.len() > self.log_cap {
            self.log_dropped += 1;
            return;
        }
        self.log_bytes += line.len();
        let level = if stderr { LogLevel::Error } else { LogLevel::Info };
        self.log.push(LogLine { level, message: line.to_string() });
    }

    /// What the guest last said about an error: its last stderr line, else
    /// the last line it logged at `error` through `host.log` (a Rust
    /// plugin's panic hook).
    fn guest_error(&self) -> Option<&str> {
        self.last_stderr
            .as_deref()
            .or_else(|| self.log.iter().rev().find(|l| l.level == LogLevel::Error).map(|l| l.message.as_str()))
    }
}

impl CallState {
    /// Whether a stderr line is part of the report a language runtime
    /// written in Rust prints when it aborts after the guest's own error
    /// (componentize-py does, after a Python traceback): from `thread '…'
    /// panicked at …` to the `note: run with RUST_BACKTRACE…` hint.
    fn runtime_noise(&mut self, line: &str) -> bool {
        if line.starts_with("thread '") && line.contains("panicked") {
            self.in_panic_report = true;
            return true;
        }
        if line.starts_with("note: run with `RUST_BACKTRACE") || line.starts_with("note: some details are omitted") {
            self.in_panic_report = false;
            return true;
        }
        self.in_panic_report
    }
}

impl wit_types::Host for CallState {}

/// A `pactum:policy@0.2.0` plugin's imports: the same `host.log`.
impl super::bindings::v0_2_0::pactum::policy::host::Host for CallState {
    fn log(
        &mut self,
        level: super::bindings::v0_2_0::pactum::policy::host::LogLevel,
        len: u8,
        last: bool,
        b0: u64,
        b1: u64,
        b2: u64,
        b3: u64,
    ) {
        use super::bindings::v0_2_0::pactum::policy::host::LogLevel as V0_2;
        let level = match level {
            V0_2::Debug => LogLevel::Debug,
            V0_2::Info => LogLevel::Info,
            V0_2::Warn => LogLevel::Warn,
            V0_2::Error => LogLevel::Error,
        };
        host::Host::log(self, level, len, last, b0, b1, b2, b3);
    }
}

impl super::bindings::v0_2_0::pactum::policy::types::Host for CallState {}

/// At most this many instances, tables and memories per call: a plugin
/// component needs a handful; Python and JavaScript ones a few dozen.
const MAX_INSTANCES: usize = 64;
const MAX_TABLES: usize = 64;
const MAX_MEMORIES: usize = 8;
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for CallState {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.memory_peak = self.memory_peak.max(desired as u64);
        if desired as u64 > self.memory_cap {
            // Deny the growth; the guest sees `memory.grow` fail. Remember
            // it, so a resulting trap is reported as `MemoryLimit`.
            self.memory_cap_hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Everything one hook call produced: the result and what the decision log
/// keeps (company, hook, plugin hash, input, output or error, fuel used,
/// duration, the plugin's log).
#[derive(Debug, Clone, Serialize)]
#[serde(bound = "")]
pub struct CallRecord<H: Hook> {
    /// The company (tenant) slug, from the input's context.
    pub company: String,
    /// The hook called.
    pub hook: super::HookKind,
    /// The plugin that decided.
    pub plugin: PluginHash,
    /// The input, exactly as the plugin received it.
    pub input: H::Input,
    /// The decision, or why there is none.
    #[serde(serialize_with = "serialize_result")]
    pub result: Result<H::Output, HookError>,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Wall time of instantiation and call.
    #[serde(serialize_with = "serialize_micros", rename = "duration_us")]
    pub duration: Duration,
    /// Lines the plugin logged, up to the cap.
    pub logs: Vec<LogLine>,
    /// Lines dropped over the cap.
    pub logs_dropped: usize,
}

fn serialize_result<S: serde::Serializer, T: Serialize>(r: &Result<T, HookError>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum Outcome<'a, T> {
        Ok(&'a T),
        Error(&'a HookError),
    }
    match r {
        Ok(v) => Outcome::Ok(v).serialize(s),
        Err(e) => Outcome::<T>::Error(e).serialize(s),
    }
}

fn serialize_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_micros() as u64)
}

impl<H: Hook> CallRecord<H> {
    /// The record as the decision log's JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a call record always serializes")
    }

    /// The result alone, as the decision log records it: `{"ok": output}`
    /// or `{"error": ...}`.
    pub fn result_json(&self) -> serde_json::Value {
        serialize_result(&self.result, serde_json::value::Serializer).expect("a result always serializes")
    }
}

impl Runtime {
    /// Calls hook `H` of `plugin` with `input`, in a fresh instance under
    /// `limits`. Never panics and never fails the host: every failure is a
    /// [`HookError`] in the returned record.
    pub fn call<H: Hook>(&self, plugin: &Plugin, limits: &Limits, input: H::Input) -> CallRecord<H> {
        self.call_probed::<H>(plugin, limits, input, &mut |_| {})
    }

    /// [`Runtime::call`] for a caller whose thread must not be held long
    /// (an async runtime's worker): the call runs here with its deadline
    /// cut to `budget` and, if it runs past that, gives its input back
    /// (`Err`) to be called again elsewhere with the full deadline.
    ///
    /// Retrying is exact: a plugin sees only its input (no clock, no
    /// randomness, no I/O), so the second call decides what the first
    /// would have. A plugin that runs past the budget once is not tried
    /// here again ([`Plugin::is_quick`]), so a slow or hostile plugin
    /// holds the caller's thread for at most one budget per process;
    /// neither is a large (Python, JavaScript) component, whose
    /// instantiation alone takes a large share of a millisecond.
    pub fn call_within<H: Hook>(
        &self,
        plugin: &Plugin,
        limits: &Limits,
        input: H::Input,
        budget: Duration,
    ) -> Result<CallRecord<H>, H::Input> {
        if !plugin.is_quick() {
            return Err(input);
        }
        self.call_budgeted::<H>(plugin, limits, input, budget).inspect_err(|_| {
            plugin.quick.store(false, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(
                plugin = %plugin.hash(),
                budget_ms = budget.as_millis() as u64,
                "a call ran past the budget for the caller's thread: this plugin's calls go to the blocking pool"
            );
        })
    }

    /// [`Runtime::call`] with the deadline cut to `budget` (when the
    /// company's is longer): a call that runs past it gives its input back
    /// (`Err`) to be called again, elsewhere, with the full deadline. Exact
    /// for the same reason as [`Runtime::call_within`], which is this plus
    /// the plugin's [`Plugin::is_quick`] mark; the caller decides what a
    /// call past the budget says about the plugin.
    pub fn call_budgeted<H: Hook>(
        &self,
        plugin: &Plugin,
        limits: &Limits,
        input: H::Input,
        budget: Duration,
    ) -> Result<CallRecord<H>, H::Input> {
        let budget_ms = (budget.as_millis() as u64).max(1);
        if limits.deadline_ms <= budget_ms {
            return Ok(self.call::<H>(plugin, limits, input));
        }
        let record = self.call::<H>(plugin, &Limits { deadline_ms: budget_ms, ..*limits }, input);
        if let Err(HookError::Timeout { .. }) = record.result {
            return Err(record.input);
        }
        Ok(record)
    }

    /// [`Runtime::call`], timing each phase: for the benchmark's breakdown.
    #[doc(hidden)]
    pub fn call_phases<H: Hook>(
        &self,
        plugin: &Plugin,
        limits: &Limits,
        input: H::Input,
    ) -> (CallRecord<H>, [Duration; Phase::COUNT]) {
        let mut at = [None; Phase::COUNT + 1];
        at[0] = Some(Instant::now());
        let record = self.call_probed::<H>(plugin, limits, input, &mut |phase| {
            at[phase as usize + 1] = Some(Instant::now());
        });
        let mut phases = [Duration::ZERO; Phase::COUNT];
        let mut last = at[0].expect("set above");
        for (i, t) in at[1..].iter().enumerate() {
            if let Some(t) = *t {
                phases[i] = t - last;
                last = t;
            }
        }
        (record, phases)
    }

    fn call_probed<H: Hook>(
        &self,
        plugin: &Plugin,
        limits: &Limits,
        input: H::Input,
        probe: &mut dyn FnMut(Phase),
    ) -> CallRecord<H> {
        let started = Instant::now();
        let spare = self.take_spare(plugin, limits);
        let (mut store, ready) = match spare {
            Some(mut spare) => {
                *spare.store.data_mut() = CallState::new(limits);
                (spare.store, Some((spare.instance, spare.fuel_used)))
            }
            None => (CallState::store(&plugin.engine, limits), None),
        };
        probe(Phase::Store);
        let (result, fuel_used) = self.run::<H>(&mut store, plugin, limits, &input, ready, probe);
        let duration = started.elapsed();
        let state = store.data_mut();
        let (logs, logs_dropped) = (std::mem::take(&mut state.log), state.log_dropped);
        // A small plugin's instance is torn down here, on the calling
        // thread: handing the store to a background thread measured slower
        // on this 2-core machine (see BENCHMARKS.md), the pool reset being
        // cheap once the call's pages stay resident. A large one's goes to
        // the spare worker, with the instantiation of the next (`spares`).
        self.discard(plugin, store);
        probe(Phase::Drop);
        let record = CallRecord {
            company: H::context(&input).company.clone(),
            hook: H::KIND,
            plugin: plugin.hash(),
            input,
            result,
            fuel_used,
            duration,
            logs,
            logs_dropped,
        };
        match &record.result {
            Ok(_) => tracing::debug!(
                company = %record.company, hook = %H::KIND, plugin = %record.plugin,
                fuel = fuel_used, us = duration.as_micros() as u64, "hook call"
            ),
            Err(e) => tracing::warn!(
                company = %record.company, hook = %H::KIND, plugin = %record.plugin,
                fuel = fuel_used, us = duration.as_micros() as u64, outcome = e.kind(), error = %e, "hook call failed"
            ),
        }
        probe(Phase::Record);
        record
    }

    fn run<H: Hook>(
        &self,
        store: &mut Store<CallState>,
        plugin: &Plugin,
        limits: &Limits,
        input: &H::Input,
        ready: Option<(Instance, u64)>,
        probe: &mut dyn FnMut(Phase),
    ) -> (Result<H::Output, HookError>, u64) {
        if !plugin.exports(H::KIND) {
            return (Err(HookError::NotExported { hook: H::KIND.to_string() }), 0);
        }
        // A spare's instantiation already used some fuel: the call gets the
        // rest, as it would have instantiating here.
        let spent = ready.map_or(0, |(_, fuel)| fuel);
        if let Err(e) = store.set_fuel(limits.fuel - spent) {
            return (Err(HookError::Host { message: format!("{e:#}") }), 0);
        }
        let ticks = limits.deadline_ms.div_ceil(EPOCH_TICK.as_millis() as u64);
        // One extra tick: the first may come at once.
        store.set_epoch_deadline(ticks + 1);

        let instance = match ready {
            Some((instance, _)) => Ok(instance),
            None => plugin.pre.instantiate(&mut *store),
        };
        let outcome = instance.map_err(Failure::Instantiate).and_then(|instance| {
            probe(Phase::Instantiate);
            invoke::<H>(plugin, store, &instance, input).map_err(Failure::Call)
        });
        probe(Phase::Call);
        store.data_mut().flush_output();
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));

        let result = match outcome {
            Ok(Ok(output)) => check_output::<H>(limits, input, output),
            Ok(Err(e)) => Err(HookError::Policy { code: e.code, message: e.message }),
            Err(failure) => Err(classify(failure, store.data(), limits)),
        };
        probe(Phase::Validate);
        (result, fuel_used)
    }
}

/// Calls the hook's function on a fresh instance. The function's type was
/// checked once when the plugin loaded, so the per-call check is skipped;
/// so is `post_return` (the guest freeing its output), since the instance is
/// discarded right after.
pub(crate) fn invoke<H: Hook>(
    plugin: &Plugin,
    store: &mut Store<CallState>,
    instance: &Instance,
    input: &H::Input,
) -> wasmtime::Result<Result<H::Output, PolicyError>> {
    let export = plugin.functions[H::KIND as usize].as_ref().expect("checked that the plugin exports the hook");
    let func = instance.get_func(&mut *store, export.index).expect("export indexed at load");
    // SAFETY: `Runtime::typecheck` checked this export of this component
    // against exactly these parameter and result types at load: the
    // older input where `takes_older_input`, else the host's.
    let (result,) = match H::input_as(input, export.version) {
        Some(older) => {
            let typed =
                unsafe { TypedFunc::<(RoutingInputV0_1<'_>,), (Result<H::Output, PolicyError>,)>::new_unchecked(func) };
            typed.call(&mut *store, (older,))?
        }
        None => {
            let typed = unsafe { TypedFunc::<(&H::Input,), (Result<H::Output, PolicyError>,)>::new_unchecked(func) };
            typed.call(&mut *store, (input,))?
        }
    };
    Ok(result)
}

/// The phases of one call, in order, as [`Runtime::call_phases`] times them.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A new store with its limiter, fuel and deadline.
    Store,
    /// Instantiating the pre-instantiated component.
    Instantiate,
    /// The call: lowering the input, the guest's code, lifting the output.
    Call,
    /// Output checks (size cap, validation against the input).
    Validate,
    /// Dropping the store: the pool resets the instance's memory and tables.
    Drop,
    /// Building the call record.
    Record,
}

impl Phase {
    /// How many phases there are.
    pub const COUNT: usize = 6;
    /// Every phase, in order.
    pub const ALL: [Phase; Phase::COUNT] =
        [Phase::Store, Phase::Instantiate, Phase::Call, Phase::Validate, Phase::Drop, Phase::Record];
}

enum Failure {
    Instantiate(wasmtime::Error),
    Call(wasmtime::Error),
}

fn classify(failure: Failure, state: &CallState, limits: &Limits) -> HookError {
    let (error, instantiating) = match failure {
        Failure::Instantiate(e) => (e, true),
        Failure::Call(e) => (e, false),
    };
    if state.memory_cap_hit {
        return HookError::MemoryLimit { limit_bytes: limits.memory_bytes };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => HookError::Timeout { deadline_ms: limits.deadline_ms },
        Some(Trap::OutOfFuel) => HookError::OutOfFuel { fuel: limits.fuel },
        // A Rust plugin's panic hook logs the panic's message just before
        // the module aborts; a Python or JavaScript runtime writes the
        // uncaught exception to stderr: report the guest's own words first,
        // then what stopped it.
        Some(trap) => HookError::Trap { message: with_guest_error(state, &trap.to_string()) },
        None if instantiating => HookError::Host { message: format!("instantiating the plugin: {error:#}") },
        None => HookError::Trap { message: with_guest_error(state, &format!("{error:#}")) },
    }
}

/// `"<the guest's last error line> (<what>)"`, or `what` alone.
fn with_guest_error(state: &CallState, what: &str) -> String {
    match state.guest_error() {
        Some(guest) if guest != what => format!("{guest} ({what})"),
        _ => what.to_string(),
    }
}

fn check_output<H: Hook>(limits: &Limits, input: &H::Input, output: H::Output) -> Result<H::Output, HookError> {
    // Counting the JSON costs about as much as the rest of the validation:
    // only when the cheap bound does not clear the cap.
    let mut counter = CappedCounter { written: 0, cap: limits.output_bytes };
    if H::json_size_bound(&output) > limits.output_bytes && serde_json::to_writer(&mut counter, &output).is_err() {
        return Err(HookError::InvalidOutput {
            reason: format!("the output is larger than the limit of {} bytes", limits.output_bytes),
        });
    }
    H::validate(input, &output).map_err(|reason| HookError::InvalidOutput { reason })?;
    Ok(output)
}

/// Counts bytes written and fails once past the cap, so an oversized output
/// is rejected without being copied.
struct CappedCounter {
    written: usize,
    cap: usize,
}

impl io::Write for CappedCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        if self.written > self.cap { Err(io::Error::other("over the output cap")) } else { Ok(buf.len()) }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use host::Host as _;

    /// Sends `message` as the SDK does: 32 bytes at a time.
    fn send(state: &mut CallState, level: LogLevel, message: &str) {
        let bytes = message.as_bytes();
        let pieces = bytes.len().div_ceil(32).max(1);
        for i in 0..pieces {
            let piece = &bytes[(i * 32).min(bytes.len())..((i + 1) * 32).min(bytes.len())];
            let mut buf = [0u8; 32];
            buf[..piece.len()].copy_from_slice(piece);
            let w = |n: usize| u64::from_le_bytes(buf[n * 8..n * 8 + 8].try_into().unwrap());
            state.log(level, piece.len() as u8, i + 1 == pieces, w(0), w(1), w(2), w(3));
        }
    }

    #[test]
    fn log_lines_arrive_in_pieces_and_keep_to_the_cap() {
        let mut state = CallState::new(&Limits { log_bytes: 100, ..Limits::default() });
        // 40 bytes: a two-byte character straddles the first piece's end.
        let accented = "é".repeat(20);
        send(&mut state, LogLevel::Info, &accented);
        send(&mut state, LogLevel::Warn, "");
        send(&mut state, LogLevel::Debug, &"x".repeat(61));
        send(&mut state, LogLevel::Error, "short");
        let lines: Vec<_> = state.log.iter().map(|l| (l.level, l.message.as_str())).collect();
        assert_eq!(lines, [(LogLevel::Info, accented.as_str()), (LogLevel::Warn, ""), (LogLevel::Error, "short")]);
        assert_eq!((state.log_dropped, state.log_bytes), (1, 45));
    }

    #[test]
    fn stdout_and_stderr_are_logged_line_by_line() {
        let mut state = CallState::new(&Limits::default());
        // A Python traceback's last line arrives in three writes; stdout
        // and stderr interleave; a runtime's panic report follows.
        state.write_output(true, b"Traceback (most recent call last):\n  File \"app.py\"\n");
        state.write_output(false, b"hello ");
        state.write_output(true, b"ValueError");
        state.write_output(true, b": ");
        state.write_output(false, b"world\nno newline");
        state.write_output(true, b"table is corrupt\n");
        state.write_output(true, b"thread '<unnamed>' panicked at src/lib.rs:1:1:\nPython exception\n");
        state.write_output(true, b"note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n");
        state.flush_output();
        let lines: Vec<_> = state.log.iter().map(|l| (l.level, l.message.as_str())).collect();
        assert_eq!(
            lines,
            [
                (LogLevel::Error, "Traceback (most recent call last):"),
                (LogLevel::Error, "  File \"app.py\""),
                (LogLevel::Info, "hello world"),
                (LogLevel::Error, "ValueError: table is corrupt"),
                (LogLevel::Error, "thread '<unnamed>' panicked at src/lib.rs:1:1:"),
                (LogLevel::Error, "Python exception"),
                (LogLevel::Error, "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"),
                (LogLevel::Info, "no newline"),
            ]
        );
        // A trap quotes the exception, not the runtime's panic report.
        assert_eq!(state.guest_error(), Some("ValueError: table is corrupt"));
    }
}
