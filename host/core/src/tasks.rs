//! The service's background tasks and the one signal that stops them.
//!
//! Every long-lived task (the group-commit writer, the shadow writer, the
//! registration expirer, the notification courier, the binding watcher) is
//! spawned through [`Tasks`] with a [`Stopping`] receiver. On shutdown
//! ([`Tasks::shutdown`]) each finishes what it holds (a writer drains its
//! queue, the courier its current pass) and returns; shutdown waits for all
//! of them, so a process that exits after it has lost no acknowledged write.

use std::future::Future;
use std::sync::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The background tasks of one service.
pub struct Tasks {
    stop: watch::Sender<bool>,
    running: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks { stop: watch::Sender::new(false), running: Mutex::default() }
    }
}

/// A task's view of the shutdown signal.
#[derive(Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Completes once shutdown has begun (at once if it already has).
    pub async fn stopped(&mut self) {
        // An error means the sender is gone: the service is gone too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

impl Tasks {
    /// A receiver of the shutdown signal, for a task to watch.
    pub fn stopping(&self) -> Stopping {
        Stopping(self.stop.subscribe())
    }

    /// Spawns `task` on the current runtime and keeps it to be awaited at
    /// shutdown. The task must watch a [`Stopping`] and return after it
    /// fires.
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.adopt(name, tokio::spawn(task));
    }

    /// Keeps an already spawned task to be awaited at shutdown.
    pub fn adopt(&self, name: &'static str, handle: JoinHandle<()>) {
        self.running.lock().expect("tasks").push((name, handle));
    }

    /// Signals every task to stop and waits until each has finished.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let running = std::mem::take(&mut *self.running.lock().expect("tasks"));
        for (name, handle) in running {
            match handle.await {
                Ok(()) => tracing::debug!(task = name, "background task stopped"),
                Err(e) => tracing::error!(task = name, error = %e, "background task failed"),
            }
        }
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }
}

/// Runs `pass` every `every` until shutdown; the pass running when shutdown
/// begins is finished first.
pub async fn every<F, Fut>(every: std::time::Duration, mut stopping: Stopping, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = stopping.stopped() => return,
            _ = tick.tick() => pass().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn shutdown_waits_for_every_task_to_finish_its_work() {
        let tasks = Tasks::default();
        let finished = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let (mut stopping, finished) = (tasks.stopping(), finished.clone());
            tasks.spawn("worker", async move {
                stopping.stopped().await;
                // Work left to do after the signal: shutdown must wait for it.
                tokio::time::sleep(Duration::from_millis(20)).await;
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert!(!tasks.is_stopping());
        tasks.shutdown().await;
        assert!(tasks.is_stopping());
        assert_eq!(finished.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_periodic_task_stops_between_passes() {
        let tasks = Tasks::default();
        let passes = Arc::new(AtomicUsize::new(0));
        let counted = passes.clone();
        tasks.spawn(
            "ticker",
            every(Duration::from_millis(1), tasks.stopping(), move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            }),
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
        tasks.shutdown().await;
        let after = passes.load(Ordering::SeqCst);
        assert!(after > 0);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(passes.load(Ordering::SeqCst), after, "no pass after shutdown");
    }
}
