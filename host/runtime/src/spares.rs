//! Spare instances: large (Python, JavaScript) components instantiated ahead
//! of the calls that take them, and torn down after, on a thread of their
//! own.
//!
//! Instantiating a Python component takes about 90 µs (14 core modules
//! linked against one shared function table) and tearing it down (resetting
//! the pages the call wrote) about as long, against 130 µs for the call
//! itself. Neither depends on the call:
//! a spare is exactly what the call would have instantiated, a fresh
//! instance of the plugin's component that no guest code has run in (its
//! start functions aside, which see no input). Each spare serves one call
//! and is then discarded, so isolation is what it was; only the time moves
//! off the request's path. What it does not move is the CPU: on a machine
//! whose cores are all busy, the worker competes with the calls, the queue
//! runs dry and calls instantiate inline as before.
//!
//! The instantiation's fuel (start functions) is charged to the call that
//! takes the spare, so a call uses the same fuel either way. A company whose
//! memory cap is below what instantiation needed does not get a spare: its
//! call instantiates inline and fails with `MemoryLimit`, as before.

use super::Limits;
use super::call::CallState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

/// A fresh instance, ready for one call.
pub(crate) struct Spare {
    pub(crate) store: Store<CallState>,
    pub(crate) instance: Instance,
    /// Fuel the instantiation consumed.
    pub(crate) fuel_used: u64,
    /// The largest linear memory the instantiation asked for, in bytes.
    pub(crate) memory_bytes: u64,
}

/// One plugin's spares.
#[derive(Default)]
pub(crate) struct SpareQueue {
    ready: Mutex<Vec<Spare>>,
    /// A refill is queued or running.
    refilling: AtomicBool,
    /// The component instantiates fast enough that spares cost more than
    /// they save: no more are made.
    not_worth_it: AtomicBool,
}

/// Fuel and epoch budget of an instantiation on the worker: start functions
/// are bounded by the component, not by a company's limits.
const INSTANTIATION_BUDGET: u64 = u64::MAX / 2;

impl SpareQueue {
    /// A spare fit for a call under `limits`, if one is ready.
    pub(crate) fn take(&self, limits: &Limits) -> Option<Spare> {
        let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        let fits = |s: &Spare| s.memory_bytes <= limits.memory_bytes && s.fuel_used < limits.fuel;
        let at = ready.iter().rposition(fits)?;
        Some(ready.swap_remove(at))
    }

    /// Whether spares are kept for this plugin (see
    /// `RuntimeConfig::spare_min_instantiation`).
    pub(crate) fn in_use(&self) -> bool {
        !self.not_worth_it.load(Ordering::Relaxed)
    }

    /// How many spares are ready.
    pub(crate) fn len(&self) -> usize {
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

enum Job {
    /// Instantiate spares until the queue holds the target number.
    Refill { queue: Arc<SpareQueue>, pre: InstancePre<CallState> },
    /// Tear down a used instance.
    Discard(Store<CallState>),
}

/// The thread that makes and discards spares.
pub(crate) struct SpareWorker {
    jobs: Sender<Job>,
    handle: JoinHandle<()>,
}

impl SpareWorker {
    /// Starts the worker, keeping `per_plugin` spares of each plugin that
    /// asks and instantiates in at least `worth_it`.
    pub(crate) fn start(per_plugin: usize, worth_it: Duration) -> SpareWorker {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("pactum-spares".into())
            .spawn(move || work(rx, per_plugin, worth_it))
            .expect("spawning the spare-instance thread");
        SpareWorker { jobs: tx, handle }
    }

    /// Asks for `queue` to be topped up, unless a refill is already on its way.
    pub(crate) fn refill(&self, queue: &Arc<SpareQueue>, pre: &InstancePre<CallState>) {
        if queue.not_worth_it.load(Ordering::Relaxed) || queue.refilling.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.jobs.send(Job::Refill { queue: queue.clone(), pre: pre.clone() }).is_err() {
            queue.refilling.store(false, Ordering::Release);
        }
    }

    /// Tears `store` down on the worker (here, if the worker is gone).
    pub(crate) fn discard(&self, store: Store<CallState>) {
        // A failed send hands the job back, and dropping it drops the store.
        let _ = self.jobs.send(Job::Discard(store));
    }

    /// Stops the worker once it has done what was sent to it.
    pub(crate) fn stop(self) {
        drop(self.jobs);
        let _ = self.handle.join();
    }
}

fn work(jobs: Receiver<Job>, per_plugin: usize, worth_it: Duration) {
    for job in jobs {
        match job {
            Job::Discard(store) => drop(store),
            Job::Refill { queue, pre } => {
                while queue.len() < per_plugin {
                    let started = Instant::now();
                    match instantiate(&pre) {
                        Ok(spare) => {
                            if started.elapsed() < worth_it {
                                queue.not_worth_it.store(true, Ordering::Relaxed);
                            }
                            queue.ready.lock().unwrap_or_else(|e| e.into_inner()).push(spare);
                            if queue.not_worth_it.load(Ordering::Relaxed) {
                                break;
                            }
                        }
                        Err(e) => {
                            // The pool is full, most likely: calls
                            // instantiate inline meanwhile, and the next
                            // call asks again.
                            tracing::debug!(error = %format!("{e:#}"), "could not make a spare instance");
                            break;
                        }
                    }
                }
                queue.refilling.store(false, Ordering::Release);
            }
        }
    }
}

fn instantiate(pre: &InstancePre<CallState>) -> wasmtime::Result<Spare> {
    let limits = Limits { memory_bytes: u64::MAX, ..Limits::default() };
    let mut store = CallState::store(pre.engine(), &limits);
    store.set_fuel(INSTANTIATION_BUDGET)?;
    store.set_epoch_deadline(INSTANTIATION_BUDGET);
    let instance = pre.instantiate(&mut store)?;
    let fuel_used = INSTANTIATION_BUDGET - store.get_fuel()?;
    let memory_bytes = store.data().memory_peak;
    Ok(Spare { store, instance, fuel_used, memory_bytes })
}
