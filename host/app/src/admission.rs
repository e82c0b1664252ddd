//! Admission control in front of the instance pool: how many hook calls
//! may run at once, in all and per company, and how the CPU is shared
//! between companies while they run.
//!
//! # Slots
//!
//! Every call holds one slot of the whole service and one of its company's
//! share while it runs. A call that finds no free slot waits a bounded
//! time, then is refused as [`ServiceError::Overloaded`] (503 with
//! `Retry-After`): overload is never a plugin failure, so it never takes a
//! hook's fallback and is never recorded as a decision. A company's share
//! is smaller than the whole, so one company flooding the service leaves
//! slots for the others.
//!
//! The slots are sized to the runtime's pool (its instance slots), so an
//! admitted call finds an instance; a call the pool still refuses is
//! treated the same as one refused here (see `Service::call_many`).
//!
//! # The CPU: a foreground and a background class ([`CpuShare`])
//!
//! Slots do not bound the CPU. A share of 32 slots is 32 threads that may
//! all spin to their deadline, and on a 2-core machine the kernel gives
//! each runnable thread its turn: the other companies' requests (the async
//! workers, the writer) got a few percent of the cores, and their p99 went
//! from 12 ms to seconds. So a call runs in one of two classes:
//!
//! - **Foreground**, the default: on the request's thread (a quick plugin's
//!   single call, within 1 ms) or on the blocking pool, at normal priority,
//!   with its deadline cut to [`FOREGROUND_BUDGET`].
//! - **Background**: a few dedicated threads (one per core) that lowered
//!   their own priority to nice 19 when they started. A call goes there when
//!   it ran past the foreground budget, using at least half of it in CPU
//!   time (a call preempted on a busy machine is called again in the
//!   foreground instead; it is then called again there with
//!   its full deadline: exact, since a plugin sees only its input), when its
//!   plugin did so before (a *heavy* plugin; one call in [`PROBE_EVERY`] is
//!   still tried in the foreground, and a heavy plugin whose probe finishes
//!   within the budget is light again).
//!
//! Nice 19 against nice 0 is a weight of 15 against 1024 in the kernel's
//! fair scheduler: while any normal-priority thread wants a core, a
//! background call gets about 1.5 % of it; when none does, it gets all of
//! it. So the share is *work-conserving*: a company alone still uses both
//! cores, whether its calls are light or heavy, but a company whose calls
//! spin cannot take the cores from another's light ones. The background
//! threads take calls company by company in turn ([`FairQueue`]), so two
//! heavy companies share them evenly, whatever each one's backlog. A call
//! that waits longer than the admission wait for a background thread is
//! refused like one that found no slot (503, nothing recorded).
//!
//! The deadline stays wall-clock time: a background call on a busy machine
//! gets less CPU before its deadline than it would alone. A plugin that
//! needs more than a few milliseconds of CPU per call should expect its
//! timeouts to come sooner under load; a light plugin is not affected.
//! A thread's priority is only ever lowered (raising it back needs a
//! privilege), so the background threads are dedicated, never tokio's.
//!
//! `--cpu-share off` (`PACTUM_CPU_SHARE=off`) runs every call in the
//! foreground without a budget, as before this existed: for measuring it
//! (`host/benches/noisy.sh`).

use crate::runtime::PluginHash;
use crate::service::ServiceError;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many calls may run at once, and how long a call waits for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Calls running at once over the whole service.
    pub slots: u32,
    /// Calls one company may run at once (at most `slots`).
    pub share: u32,
    /// How long a call waits for a slot before it is refused.
    pub wait: Duration,
}

impl AdmissionLimits {
    /// Limits for a pool of `slots` instances: a company may take an eighth
    /// of them (at least 2), and a call waits up to 2 s.
    pub fn for_pool(slots: u32) -> AdmissionLimits {
        let slots = slots.max(1);
        AdmissionLimits { slots, share: (slots / 8).max(2).min(slots), wait: Duration::from_secs(2) }
    }
}

/// What a refused call is told: try again after this many seconds.
pub const RETRY_AFTER_S: u64 = 1;

/// The slots: one semaphore for the service, one per company.
pub struct Admission {
    limits: AdmissionLimits,
    slots: Arc<Semaphore>,
    shares: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Slots held by running calls; released when dropped.
#[derive(Debug)]
pub struct Admitted {
    _share: OwnedSemaphorePermit,
    _slots: OwnedSemaphorePermit,
}

impl Admission {
    /// Admission with `limits`.
    pub fn new(limits: AdmissionLimits) -> Admission {
        let share = limits.share.clamp(1, limits.slots.max(1));
        let limits = AdmissionLimits { share, ..limits };
        Admission { limits, slots: Arc::new(Semaphore::new(limits.slots as usize)), shares: Mutex::default() }
    }

    /// The limits in force.
    pub fn limits(&self) -> AdmissionLimits {
        self.limits
    }

    /// Slots free in the whole service now.
    pub fn available(&self) -> usize {
        self.slots.available_permits()
    }

    /// Takes `n` slots (at least one, at most the company's share) for
    /// `tenant`, waiting up to the limits' `wait` for them; `Overloaded`
    /// when they do not come free in time.
    pub async fn admit(&self, tenant: &str, n: usize) -> Result<Admitted, ServiceError> {
        let n = n.clamp(1, self.limits.share as usize) as u32;
        let share = {
            let mut shares = self.shares.lock().expect("admission shares");
            shares
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.limits.share as usize)))
                .clone()
        };
        let deadline = tokio::time::Instant::now() + self.limits.wait;
        let overloaded = |scope| ServiceError::Overloaded { scope, retry_after_s: RETRY_AFTER_S };
        let share = tokio::time::timeout_at(deadline, share.acquire_many_owned(n))
            .await
            .map_err(|_| overloaded("this company's share of the instance slots"))?
            .map_err(|_| overloaded("shutting down"))?;
        let slots = tokio::time::timeout_at(deadline, self.slots.clone().acquire_many_owned(n))
            .await
            .map_err(|_| overloaded("every instance slot"))?
            .map_err(|_| overloaded("shutting down"))?;
        Ok(Admitted { _share: share, _slots: slots })
    }
}

/// How long a foreground call may run before it is moved to the
/// background class: a Rust plugin's call takes microseconds, a Python or
/// JavaScript one a fifth of a millisecond.
pub const FOREGROUND_BUDGET: Duration = Duration::from_millis(5);

/// A heavy plugin's calls go to the background, but one in this many is
/// tried in the foreground again, so a plugin that was slow once (or ran
/// on a busy machine) becomes light again when it is.
pub const PROBE_EVERY: u32 = 64;

/// Whether calls are put in classes ([`CpuShare`]) or all run in the
/// foreground without a budget, as before the classes existed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CpuShareMode {
    /// Foreground and background classes (the default).
    #[default]
    On,
    /// Every call in the foreground, with its full deadline.
    Off,
}

/// The class a hook call runs in (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Normal priority, deadline cut to [`FOREGROUND_BUDGET`].
    Foreground,
    /// The nice-19 threads, full deadline.
    Background,
}

/// What the classes remember: the heavy plugins, with their calls since
/// the last foreground probe.
#[derive(Debug, Default)]
struct Classes {
    heavy: HashMap<PluginHash, u32>,
}

impl Classes {
    /// The class of a call of `plugin`, and whether it is a heavy plugin's
    /// probe.
    fn place(&mut self, plugin: PluginHash) -> (Class, bool) {
        let Some(since) = self.heavy.get_mut(&plugin) else {
            return (Class::Foreground, false);
        };
        *since += 1;
        if *since < PROBE_EVERY {
            return (Class::Background, false);
        }
        *since = 0;
        (Class::Foreground, true)
    }
}

/// Queued work taken company by company in turn: each company's items in
/// their order, one company's item after another's, so a company with a
/// long backlog delays another's next item by at most one of its own.
#[derive(Debug)]
pub struct FairQueue<T> {
    by_company: HashMap<String, VecDeque<T>>,
    turns: VecDeque<String>,
}

impl<T> Default for FairQueue<T> {
    fn default() -> Self {
        FairQueue { by_company: HashMap::new(), turns: VecDeque::new() }
    }
}

impl<T> FairQueue<T> {
    /// Queues `item` for `company`.
    pub fn push(&mut self, company: &str, item: T) {
        let queue = self.by_company.entry(company.to_string()).or_default();
        if queue.is_empty() {
            self.turns.push_back(company.to_string());
        }
        queue.push_back(item);
    }

    /// The next item: the oldest of the company whose turn it is.
    pub fn pop(&mut self) -> Option<T> {
        let company = self.turns.pop_front()?;
        let queue = self.by_company.get_mut(&company).expect("a company in turn has items");
        let item = queue.pop_front().expect("a company in turn has items");
        if queue.is_empty() {
            self.by_company.remove(&company);
        } else {
            self.turns.push_back(company);
        }
        Some(item)
    }

    /// Items queued.
    pub fn len(&self) -> usize {
        self.by_company.values().map(VecDeque::len).sum()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The background threads' queue.
#[derive(Default)]
struct Background {
    queue: Mutex<(FairQueue<Job>, bool)>,
    ready: Condvar,
}

impl Background {
    fn work(&self) {
        lower_own_priority();
        loop {
            let job = {
                let mut guard = self.queue.lock().expect("background queue");
                loop {
                    if let Some(job) = guard.0.pop() {
                        break job;
                    }
                    if guard.1 {
                        return;
                    }
                    guard = self.ready.wait(guard).expect("background queue");
                }
            };
            // A hook call never panics (`Runtime::call`); should one, the
            // thread stays and the caller sees its answer dropped.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }
}

/// CPU time the calling thread has used: a call that ran past the
/// foreground budget in wall-clock time but used less than half of it in
/// CPU was preempted (a busy machine), not heavy.
pub fn thread_cpu_time() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: writes the calling thread's CPU clock into `t`.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
        }
    }
    // Unknown: count the whole budget as used.
    Duration::MAX
}

/// Sets the calling thread's nice value to 19, the lowest priority. Only
/// for threads that never run anything else: it cannot be raised back.
fn lower_own_priority() {
    #[cfg(target_os = "linux")]
    {
        // `PACTUM_BACKGROUND_NICE` (0 to 19, default 19): for measuring.
        let nice = std::env::var("PACTUM_BACKGROUND_NICE").ok().and_then(|n| n.parse().ok()).unwrap_or(19).clamp(0, 19);
        // SAFETY: plain system calls on the calling thread's own id.
        let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) };
        if done != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "background thread: could not lower its priority");
        }
    }
}

/// The CPU share: which class each call runs in, and the background threads.
pub struct CpuShare {
    mode: CpuShareMode,
    classes: Mutex<Classes>,
    background: Arc<Background>,
}

/// Where a call (or a batch of calls) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    class: Class,
    probe: bool,
}

impl Placement {
    /// Its class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// Whether it tries a heavy plugin in the foreground again.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl CpuShare {
    /// The share for a machine with `cores` cores: that many background
    /// threads (none when `mode` is off).
    pub fn new(mode: CpuShareMode, cores: usize) -> CpuShare {
        let cores = cores.max(1);
        let background = Arc::new(Background::default());
        if mode == CpuShareMode::On {
            for i in 0..cores {
                let background = background.clone();
                std::thread::Builder::new()
                    .name(format!("pactum-bg-{i}"))
                    .spawn(move || background.work())
                    .expect("spawning a background hook thread");
            }
        }
        CpuShare { mode, classes: Mutex::default(), background }
    }

    /// Whether calls are put in classes.
    pub fn mode(&self) -> CpuShareMode {
        self.mode
    }

    /// Places a call of `plugin` (always in the foreground when the share
    /// is off).
    pub fn place(&self, plugin: PluginHash) -> Placement {
        let (class, probe) = match self.mode {
            CpuShareMode::On => self.classes.lock().expect("cpu classes").place(plugin),
            CpuShareMode::Off => (Class::Foreground, false),
        };
        Placement { class, probe }
    }

    /// A foreground call of `plugin` ran past [`FOREGROUND_BUDGET`]: its
    /// calls go to the background from now on.
    pub fn ran_past_budget(&self, plugin: PluginHash) {
        let mut classes = self.classes.lock().expect("cpu classes");
        if classes.heavy.insert(plugin, 0).is_none() {
            tracing::info!(%plugin, "a call ran past the foreground budget: this plugin's calls run in the background class");
        }
    }

    /// A heavy plugin's probe finished within the budget: light again.
    pub fn light_again(&self, plugin: PluginHash) {
        self.classes.lock().expect("cpu classes").heavy.remove(&plugin);
    }

    /// Runs `job` on a background thread, in `company`'s turn.
    pub fn background(&self, company: &str, job: impl FnOnce() + Send + 'static) {
        let mut queue = self.background.queue.lock().expect("background queue");
        queue.0.push(company, Box::new(job));
        drop(queue);
        self.background.ready.notify_one();
    }
}

impl Drop for CpuShare {
    /// The background threads finish what is queued, then exit.
    fn drop(&mut self) {
        self.background.queue.lock().expect("background queue").1 = true;
        self.background.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(slots: u32, share: u32) -> AdmissionLimits {
        AdmissionLimits { slots, share, wait: Duration::from_millis(20) }
    }

    #[tokio::test]
    async fn a_company_cannot_take_more_than_its_share() {
        let admission = Admission::new(limits(4, 2));
        let a1 = admission.admit("a", 1).await.unwrap();
        let _a2 = admission.admit("a", 1).await.unwrap();
        let refused = admission.admit("a", 1).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Overloaded { scope, .. } if scope.contains("company")), "{refused}");
        // Another company still gets in, while `a` is at its share.
        let _b = admission.admit("b", 1).await.unwrap();
        drop(a1);
        let _a3 = admission.admit("a", 1).await.unwrap();
    }

    #[tokio::test]
    async fn the_whole_service_refuses_when_every_slot_is_taken() {
        let admission = Admission::new(limits(3, 2));
        let _a = admission.admit("a", 2).await.unwrap();
        let _b = admission.admit("b", 1).await.unwrap();
        assert_eq!(admission.available(), 0);
        let refused = admission.admit("c", 1).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Overloaded { scope: "every instance slot", retry_after_s: 1 }));
    }

    #[tokio::test]
    async fn a_waiting_call_gets_the_slot_freed_within_its_wait() {
        let admission = Arc::new(Admission::new(AdmissionLimits { slots: 1, share: 1, wait: Duration::from_secs(5) }));
        let held = admission.admit("a", 1).await.unwrap();
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit("a", 1).await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    fn hash(n: u8) -> PluginHash {
        PluginHash([n; 32])
    }

    #[test]
    fn a_heavy_plugins_calls_go_to_the_background_but_for_a_probe() {
        let mut classes = Classes::default();
        assert_eq!(classes.place(hash(1)), (Class::Foreground, false));
        classes.heavy.insert(hash(1), 0);
        let mut probes = 0;
        for _ in 0..PROBE_EVERY * 3 {
            match classes.place(hash(1)) {
                (Class::Foreground, true) => probes += 1,
                (Class::Background, false) => {}
                other => panic!("a heavy plugin's call placed {other:?}"),
            }
        }
        assert_eq!(probes, 3, "one call in {PROBE_EVERY} is a probe");
        // Another plugin is not heavy.
        assert_eq!(classes.place(hash(2)), (Class::Foreground, false));
    }

    #[test]
    fn a_plugin_past_the_budget_is_heavy_until_a_probe_is_within_it() {
        let share = CpuShare::new(CpuShareMode::On, 1);
        assert_eq!(share.place(hash(1)).class(), Class::Foreground);
        share.ran_past_budget(hash(1));
        assert_eq!(share.place(hash(1)).class(), Class::Background);
        assert_eq!(share.place(hash(2)).class(), Class::Foreground, "another plugin");
        share.light_again(hash(1));
        assert_eq!(share.place(hash(1)).class(), Class::Foreground);
    }

    #[test]
    fn off_puts_every_call_in_the_foreground() {
        let share = CpuShare::new(CpuShareMode::Off, 1);
        share.ran_past_budget(hash(1));
        let held: Vec<_> = (0..4).map(|_| share.place(hash(1))).collect();
        assert!(held.iter().all(|p| p.class() == Class::Foreground));
    }

    #[test]
    fn the_fair_queue_takes_companies_in_turn() {
        let mut queue = FairQueue::default();
        for i in 0..5 {
            queue.push("flood", format!("flood-{i}"));
        }
        queue.push("quiet", "quiet-0".to_string());
        queue.push("quiet", "quiet-1".to_string());
        queue.push("other", "other-0".to_string());
        assert_eq!(queue.len(), 8);
        let order: Vec<String> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(
            order,
            ["flood-0", "quiet-0", "other-0", "flood-1", "quiet-1", "flood-2", "flood-3", "flood-4"],
            "each company's items in order, one company after another"
        );
        assert!(queue.is_empty());
        // A company that comes back later joins the end of the turns.
        queue.push("flood", "flood-5".to_string());
        queue.push("quiet", "quiet-2".to_string());
        queue.push("flood", "flood-6".to_string());
        assert_eq!(queue.pop().as_deref(), Some("flood-5"));
        assert_eq!(queue.pop().as_deref(), Some("quiet-2"));
        assert_eq!(queue.pop().as_deref(), Some("flood-6"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn background_calls_run_at_the_lowest_priority() {
        // SAFETY: reads the calling thread's own nice value.
        let own = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let share = CpuShare::new(CpuShareMode::On, 2);
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let tx = tx.clone();
            share.background("a", move || {
                // SAFETY: reads the calling thread's own nice value.
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
                tx.send((nice, std::thread::current().name().map(str::to_string))).unwrap();
            });
        }
        for _ in 0..4 {
            let (nice, name) = rx.recv_timeout(Duration::from_secs(60)).expect("a background thread ran the job");
            assert_eq!(nice, 19);
            assert!(name.is_some_and(|n| n.starts_with("pactum-bg-")));
        }
        // The caller's own thread is untouched.
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }, own);
    }

    #[test]
    fn pool_sized_limits_keep_a_share_below_the_whole() {
        assert_eq!(AdmissionLimits::for_pool(256).share, 32);
        assert_eq!(AdmissionLimits::for_pool(4).share, 2);
        assert_eq!(AdmissionLimits::for_pool(1).share, 1);
    }
}
