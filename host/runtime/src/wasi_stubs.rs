//! WASI 0.2 imports of guest-language runtimes, satisfied by traps.
//!
//! A component built by componentize-py (CPython) or componentize-js
//! (StarlingMonkey) imports WASI 0.2 interfaces whether or not the policy
//! uses them: its language runtime links stdio, clocks, random, the
//! filesystem and sockets. Plugins get no clock, randomness, files, network
//! or environment (see `wit/host.wit`), so none of these imports is given
//! anything: each function of an interface named in [`STUBBED`] is defined
//! as a trap. A component that only *imports* them loads; a call that
//! *uses* one ends in [`super::HookError::Trap`] naming the function. Any
//! other import is still refused at load.
//!
//! Nothing here is language-specific: the list is of WASI interfaces, and
//! the same rule applies to every component.

use super::call::CallState;
use wasmtime::StoreContextMut;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, Resource, ResourceType};

/// The WASI interfaces (without package version) a component may import,
/// each satisfied by trapping functions. Only WASI 0.2.x is accepted.
pub(super) const STUBBED: &[&str] = &[
    "wasi:io/poll",
    "wasi:io/error",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/ip-name-lookup",
];

/// Whether `import` (for example `wasi:io/poll@0.2.9`) is a WASI 0.2
/// interface satisfied by traps.
pub(super) fn is_stubbed(import: &str) -> bool {
    import.split_once('@').is_some_and(|(iface, version)| STUBBED.contains(&iface) && version.starts_with("0.2."))
}

/// `base` plus trapping definitions of every import of `component` that
/// `base` does not define. Call only after every import was checked with
/// [`is_stubbed`] or found in `base`.
pub(super) fn linker_with_traps(
    base: &Linker<CallState>,
    component: &Component,
) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = base.clone();
    let engine = component.engine();
    for (name, item) in component.component_type().imports(engine) {
        // Every WASI instance that re-exports `output-stream` or
        // `input-stream` (streams, cli stdin/stdout/stderr, filesystem,
        // sockets) must be given the same host type for it, the one the
        // stdin/stdout/stderr functions below use.
        if let ComponentItem::ComponentInstance(instance) = item.ty
            && is_stubbed(name)
        {
            if instance.get_export(engine, "output-stream").is_some() {
                linker.instance(name)?.resource(
                    "output-stream",
                    ResourceType::host::<OutputStream>(),
                    |_, _| Ok(()),
                )?;
            }
            if instance.get_export(engine, "input-stream").is_some() {
                linker.instance(name)?.resource("input-stream", ResourceType::host::<InputStream>(), |_, _| Ok(()))?;
            }
        }
        define_deterministic(&mut linker, name)?;
    }
    linker.define_unknown_imports_as_traps(component)?;
    Ok(linker)
}

/// The few functions language runtimes call on every instance, given fixed
/// answers instead of traps: an empty environment, no arguments, no working
/// directory, no preopened directories, zero random bytes, clocks at 0.
/// Each is the same on every call, so decisions still replay.
fn define_deterministic(linker: &mut Linker<CallState>, import: &str) -> wasmtime::Result<()> {
    let Some((iface, version)) = import.split_once('@') else {
        return Ok(());
    };
    if !version.starts_with("0.2.") {
        return Ok(());
    }
    // Fixed bytes, not entropy: CPython seeds `random` from
    // `get-random-bytes` on its first call, so a decision stays a pure
    // function of its input. Documented: plugins have no randomness.
    match iface {
        "wasi:random/random" => {
            let mut random = linker.instance(import)?;
            random.func_wrap("get-random-bytes", |_, (len,): (u64,)| Ok((fixed_bytes(len)?,)))?;
            random.func_wrap("get-random-u64", |_, (): ()| Ok((0u64,)))?;
        }
        "wasi:random/insecure" => {
            let mut random = linker.instance(import)?;
            random.func_wrap("get-insecure-random-bytes", |_, (len,): (u64,)| Ok((fixed_bytes(len)?,)))?;
            random.func_wrap("get-insecure-random-u64", |_, (): ()| Ok((0u64,)))?;
        }
        "wasi:random/insecure-seed" => {
            linker.instance(import)?.func_wrap("insecure-seed", |_, (): ()| Ok(((0u64, 0u64),)))?;
        }
        // A clock stopped at the epoch: the event's time is in the input.
        "wasi:clocks/wall-clock" => {
            let mut clock = linker.instance(import)?;
            clock.func_wrap("now", |_, (): ()| Ok((Datetime { seconds: 0, nanoseconds: 0 },)))?;
            clock.func_wrap("resolution", |_, (): ()| Ok((Datetime { seconds: 0, nanoseconds: 1 },)))?;
        }
        "wasi:clocks/monotonic-clock" => {
            let mut clock = linker.instance(import)?;
            clock.func_wrap("now", |_, (): ()| Ok((0u64,)))?;
            clock.func_wrap("resolution", |_, (): ()| Ok((1u64,)))?;
        }
        // No directories: a file lookup fails (ENOENT) instead of trapping.
        // CPython looks for source files while formatting a traceback.
        "wasi:filesystem/preopens" => {
            // `descriptor` is defined by `define_unknown_imports_as_traps`
            // as the host resource type of `()`.
            linker.instance(import)?.func_wrap("get-directories", |_, (): ()| {
                Ok((Vec::<(wasmtime::component::Resource<()>, String)>::new(),))
            })?;
        }
        // stdout and stderr: what the plugin writes goes to the call's log
        // (stdout at `info`, stderr at `error`, so an uncaught exception's
        // last line becomes the trap's message).
        "wasi:io/streams" => {
            let mut streams = linker.instance(import)?;
            streams.func_wrap("[method]output-stream.check-write", |_, (_,): (Resource<OutputStream>,)| {
                Ok((Ok::<u64, StreamError>(4096),))
            })?;
            for name in ["[method]output-stream.write", "[method]output-stream.blocking-write-and-flush"] {
                streams.func_wrap(
                    name,
                    |mut store: StoreContextMut<'_, CallState>, (stream, bytes): (Resource<OutputStream>, Vec<u8>)| {
                        store.data_mut().write_output(stream.rep() == STDERR, &bytes);
                        Ok((Ok::<(), StreamError>(()),))
                    },
                )?;
            }
            for name in ["[method]output-stream.flush", "[method]output-stream.blocking-flush"] {
                streams.func_wrap(name, |_, (_,): (Resource<OutputStream>,)| Ok((Ok::<(), StreamError>(()),)))?;
            }
        }
        "wasi:cli/stdout" => {
            let mut cli = linker.instance(import)?;
            cli.func_wrap("get-stdout", |_, (): ()| Ok((Resource::<OutputStream>::new_own(STDOUT),)))?;
        }
        "wasi:cli/stderr" => {
            let mut cli = linker.instance(import)?;
            cli.func_wrap("get-stderr", |_, (): ()| Ok((Resource::<OutputStream>::new_own(STDERR),)))?;
        }
        // stdin: a stream whose reads trap (nothing is ever read from it).
        // The WASI preview 1 adapter (componentize-js with `stdio`) asks
        // for stdin and the terminals while setting up its file
        // descriptors, before its first write to stderr.
        "wasi:cli/stdin" => {
            linker.instance(import)?.func_wrap("get-stdin", |_, (): ()| Ok((Resource::<InputStream>::new_own(0),)))?;
        }
        // Not a terminal: no terminal resource. Its type is the trap-only
        // `()` resource `define_unknown_imports_as_traps` gives it.
        "wasi:cli/terminal-stdin" | "wasi:cli/terminal-stdout" | "wasi:cli/terminal-stderr" => {
            let function = &iface["wasi:cli/".len()..];
            linker.instance(import)?.func_wrap(&format!("get-{function}"), |_, (): ()| Ok((None::<Resource<()>>,)))?;
        }
        _ => {}
    }
    if iface == "wasi:cli/environment" {
        let mut env = linker.instance(import)?;
        env.func_wrap("get-environment", |_, (): ()| Ok((Vec::<(String, String)>::new(),)))?;
        env.func_wrap("get-arguments", |_, (): ()| Ok((Vec::<String>::new(),)))?;
        env.func_wrap("initial-cwd", |_, (): ()| Ok((None::<String>,)))?;
    }
    Ok(())
}

/// `len` zero bytes, refusing absurd lengths.
fn fixed_bytes(len: u64) -> wasmtime::Result<Vec<u8>> {
    if len > 1 << 20 {
        wasmtime::bail!("get-random-bytes: {len} bytes asked, at most 1 MiB given");
    }
    Ok(vec![0; len as usize])
}

/// `wasi:clocks/wall-clock.datetime`.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lower, Clone, Copy)]
#[component(record)]
struct Datetime {
    seconds: u64,
    nanoseconds: u32,
}

/// `wasi:io/streams.output-stream`, as the host sees it: stdout or stderr
/// (the resource's rep).
struct OutputStream;
/// `wasi:io/streams.input-stream`, as the host sees it: stdin, always empty.
struct InputStream;
const STDOUT: u32 = 1;
const STDERR: u32 = 2;

/// `wasi:io/streams.stream-error`; never returned (writes always succeed),
/// but part of the functions' types. `error` is the trap-only `()` resource.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lower, wasmtime::component::Lift)]
#[component(variant)]
enum StreamError {
    #[component(name = "last-operation-failed")]
    LastOperationFailed(Resource<()>),
    #[component(name = "closed")]
    Closed,
}
