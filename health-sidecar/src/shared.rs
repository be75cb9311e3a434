//! The state every task and handler shares: a small `Clone` of one `Arc`.
//!
//! The machine sits behind a `std` mutex held only for a few field reads or
//! one transition, never across an await. Status changes are also published
//! on a `watch` channel so the signal path can wait for `drained`.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::metrics::Metrics;
use crate::procstats::ProcSample;
use crate::state::{Machine, Policy, Status};

/// Fixed facts from the command line that the handlers report.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub probe_kind: &'static str,
    pub probe_target: String,
    pub app_port: Option<u16>,
    pub version: Option<String>,
    /// Bearer token for POST endpoints; `None`: loopback only.
    pub token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    machine: Mutex<Machine>,
    status_tx: watch::Sender<Status>,
    metrics: Metrics,
    connections: Mutex<Option<usize>>,
    process: Mutex<Option<ProcSample>>,
    wake: Notify,
}

impl AppState {
    pub fn new(settings: Settings, policy: Policy) -> Self {
        let machine = Machine::new(policy, Instant::now());
        let (status_tx, _) = watch::channel(machine.status());
        AppState {
            inner: Arc::new(Inner {
                settings,
                machine: Mutex::new(machine),
                status_tx,
                metrics: Metrics::default(),
                connections: Mutex::new(None),
                process: Mutex::new(None),
                wake: Notify::new(),
            }),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    fn machine(&self) -> MutexGuard<'_, Machine> {
        // A panic while holding the lock cannot leave the machine half
        // updated in a way worse than stopping to answer, so recover.
        self.inner
            .machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the machine.
    pub fn read<R>(&self, f: impl FnOnce(&Machine) -> R) -> R {
        f(&self.machine())
    }

    /// Changes the machine and publishes the resulting status.
    pub fn update<R>(&self, f: impl FnOnce(&mut Machine) -> R) -> R {
        let (r, status) = {
            let mut m = self.machine();
            let r = f(&mut m);
            (r, m.status())
        };
        self.inner.status_tx.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
        r
    }

    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.inner.status_tx.subscribe()
    }

    /// Starts a drain (HTTP or SIGTERM) and wakes the connection sampler so
    /// a drain with nothing to wait for completes at once.
    pub fn request_drain(&self) -> Status {
        self.inner.metrics.count_drain_request();
        let status = self.update(|m| {
            m.start_drain(Instant::now());
            m.status()
        });
        self.inner.wake.notify_one();
        status
    }

    /// Resolves when someone called [`AppState::request_drain`].
    pub async fn woken(&self) {
        self.inner.wake.notified().await
    }

    pub fn connections(&self) -> Option<usize> {
        *lock(&self.inner.connections)
    }

    pub fn set_connections(&self, n: Option<usize>) {
        *lock(&self.inner.connections) = n;
    }

    pub fn process(&self) -> Option<ProcSample> {
        *lock(&self.inner.process)
    }

    pub fn set_process(&self, p: Option<ProcSample>) {
        *lock(&self.inner.process) = p;
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A policy for tests and examples: thresholds 3/1, 60s startup, no drain
/// minimum, 30s drain timeout, counting connections.
pub fn default_policy() -> Policy {
    Policy {
        failure_threshold: 3,
        success_threshold: 1,
        startup_timeout: Some(std::time::Duration::from_secs(60)),
        drain_min: std::time::Duration::ZERO,
        drain_timeout: std::time::Duration::from_secs(30),
        counting: true,
    }
}
