//! The lifecycle state machine: `starting / ready / failing / draining / drained`.
//!
//! Pure and synchronous: every input carries the `Instant` it happened at,
//! so tests drive it with paused tokio time and the daemon's tasks stay thin.
//! Wall-clock times (for RFC 3339 fields) are derived from one anchor taken
//! at construction, which keeps them consistent with the monotonic clock.
//!
//! Transitions (DESIGN.md, "health-sidecar"):
//! - `starting` -> `ready` on the first successful probe;
//! - `starting` -> `failing` when `--startup-timeout` passes without one
//!   (0 disables this: it then stays `starting`);
//! - `ready` -> `failing` after `--failure-threshold` consecutive failures;
//! - `failing` -> `ready` after `--success-threshold` consecutive successes;
//! - any of those -> `draining` on a drain request or SIGTERM;
//! - `draining` -> `drained` when the app holds no connection on
//!   `--app-port` and `--drain-min` has passed, or `--drain-timeout` passed;
//! - `draining`/`drained` -> back to what the probe says on undrain, unless
//!   the app is being stopped.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::time::Instant;

/// The public status names; `/health`'s `status` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Starting,
    Ready,
    Failing,
    Draining,
    Drained,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Starting,
        Status::Ready,
        Status::Failing,
        Status::Draining,
        Status::Drained,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Ready => "ready",
            Status::Failing => "failing",
            Status::Draining => "draining",
            Status::Drained => "drained",
        }
    }

    fn is_drain(self) -> bool {
        matches!(self, Status::Draining | Status::Drained)
    }
}

/// How a drain ended; `/health`'s `drain.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DrainReason {
    /// No connection left on `--app-port` and `--drain-min` passed.
    ConnectionsClosed,
    /// `--drain-timeout` passed with connections still open.
    Timeout,
    /// No `--app-port` given, so nothing to count: `--drain-min` passed.
    NoAppPort,
}

/// The knobs of the machine, from the command line.
#[derive(Debug, Clone)]
pub struct Policy {
    pub failure_threshold: u32,
    pub success_threshold: u32,
    /// `None`: stay `starting` until the first success, however long.
    pub startup_timeout: Option<Duration>,
    pub drain_min: Duration,
    pub drain_timeout: Duration,
    /// Whether connections are counted (an `--app-port` was given). When
    /// not, a drain ends once `--drain-min` has passed.
    pub counting: bool,
}

/// An ongoing or finished drain.
#[derive(Debug, Clone)]
pub struct Drain {
    pub started: Instant,
    pub deadline: Instant,
    pub min_until: Instant,
    pub completed: Option<(Instant, DrainReason)>,
}

/// Why an undrain was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UndrainError {
    #[error("the app is being stopped; it cannot be undrained")]
    Stopping,
}

#[derive(Debug, Clone)]
pub struct Machine {
    policy: Policy,
    origin: Instant,
    wall_origin: SystemTime,
    status: Status,
    since: Instant,
    reason: Option<String>,
    consecutive_failures: u32,
    consecutive_successes: u32,
    last_ok: Option<Instant>,
    last_result: Option<bool>,
    last_error: Option<String>,
    drain: Option<Drain>,
    stopping: bool,
}

impl Machine {
    pub fn new(policy: Policy, now: Instant) -> Self {
        Machine {
            policy,
            origin: now,
            wall_origin: SystemTime::now(),
            status: Status::Starting,
            since: now,
            reason: None,
            consecutive_failures: 0,
            consecutive_successes: 0,
            last_ok: None,
            last_result: None,
            last_error: None,
            drain: None,
            stopping: false,
        }
    }

    pub fn status(&self) -> Status {
        self.status
    }
    /// When the current status was entered.
    pub fn since(&self) -> Instant {
        self.since
    }
    /// Why the machine is in its status, for `failing` and `drained`.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
    pub fn last_ok(&self) -> Option<Instant> {
        self.last_ok
    }
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }
    pub fn drain(&self) -> Option<&Drain> {
        self.drain.as_ref()
    }
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }
    pub fn started(&self) -> Instant {
        self.origin
    }

    /// The wall-clock time of a monotonic instant of this machine.
    pub fn wall(&self, t: Instant) -> SystemTime {
        self.wall_origin + t.saturating_duration_since(self.origin)
    }

    fn enter(&mut self, status: Status, reason: Option<String>, now: Instant) {
        if self.status != status {
            self.since = now;
        }
        self.status = status;
        self.reason = reason;
    }

    /// Records one probe result.
    pub fn on_probe(&mut self, result: Result<(), String>, now: Instant) {
        match result {
            Ok(()) => {
                self.consecutive_failures = 0;
                self.consecutive_successes = self.consecutive_successes.saturating_add(1);
                self.last_ok = Some(now);
                self.last_result = Some(true);
                self.last_error = None;
            }
            Err(e) => {
                self.consecutive_successes = 0;
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.last_result = Some(false);
                self.last_error = Some(e);
            }
        }
        match self.status {
            Status::Starting if self.last_result == Some(true) => {
                self.enter(Status::Ready, None, now)
            }
            Status::Ready if self.consecutive_failures >= self.policy.failure_threshold => {
                let reason = self.failure_reason();
                self.enter(Status::Failing, Some(reason), now)
            }
            Status::Failing if self.consecutive_successes >= self.policy.success_threshold => {
                self.enter(Status::Ready, None, now)
            }
            // Keep the reason current while failing (the error may change),
            // except the startup timeout's, which says more.
            Status::Failing
                if self.last_result == Some(false)
                    && !self
                        .reason
                        .as_deref()
                        .is_some_and(|r| r.starts_with("startup_timeout")) =>
            {
                self.reason = Some(self.failure_reason());
            }
            _ => {}
        }
    }

    fn failure_reason(&self) -> String {
        format!(
            "probe failed {} times in a row: {}",
            self.consecutive_failures,
            self.last_error.as_deref().unwrap_or("unknown error")
        )
    }

    /// Time-driven transitions other than drain completion: the startup
    /// timeout. Call it on every housekeeping tick.
    pub fn tick(&mut self, now: Instant) {
        if self.status != Status::Starting {
            return;
        }
        if let Some(limit) = self.policy.startup_timeout {
            if now.saturating_duration_since(self.since) >= limit {
                let reason = format!(
                    "startup_timeout: no successful probe within {}{}",
                    humantime::format_duration(limit),
                    self.last_error
                        .as_deref()
                        .map(|e| format!(" (last error: {e})"))
                        .unwrap_or_default()
                );
                self.enter(Status::Failing, Some(reason), now);
            }
        }
    }

    /// Starts draining. Idempotent: a second request keeps the first
    /// deadline. Returns true when this call started the drain.
    pub fn start_drain(&mut self, now: Instant) -> bool {
        if self.status.is_drain() {
            return false;
        }
        self.drain = Some(Drain {
            started: now,
            deadline: now + self.policy.drain_timeout,
            min_until: now + self.policy.drain_min,
            completed: None,
        });
        self.enter(Status::Draining, None, now);
        true
    }

    /// Feeds a connection count sample while draining; `now` is when the
    /// count was started. `None` means the count is not known: no
    /// `--app-port` (then `--drain-min` ends the drain), or the kernel
    /// table could not be read (then only the timeout can end it).
    ///
    /// A count started before the drain began is ignored: it may predate
    /// connections the drain must wait for (a client typically opens its
    /// connections, then asks for the drain), and its zero once ended a
    /// drain at once with a connection open.
    pub fn on_connections(&mut self, active: Option<usize>, now: Instant) {
        if self.status != Status::Draining {
            return;
        }
        let Some(drain) = self.drain.as_mut() else {
            return;
        };
        if now < drain.started {
            return;
        }
        let reason = if now >= drain.deadline {
            Some(DrainReason::Timeout)
        } else if now >= drain.min_until {
            match active {
                Some(0) => Some(DrainReason::ConnectionsClosed),
                Some(_) => None,
                None if !self.policy.counting => Some(DrainReason::NoAppPort),
                None => None,
            }
        } else {
            None
        };
        if let Some(reason) = reason {
            drain.completed = Some((now, reason));
            let text = serde_json::to_value(reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            self.enter(Status::Drained, text, now);
        }
    }

    /// Leaves `draining`/`drained` for the status the probe results imply:
    /// `ready` if the last probe passed, `failing` if it failed, `starting`
    /// if no probe ever passed. Undraining when not drained is a no-op.
    pub fn undrain(&mut self, now: Instant) -> Result<Status, UndrainError> {
        if self.stopping {
            return Err(UndrainError::Stopping);
        }
        if !self.status.is_drain() {
            return Ok(self.status);
        }
        self.drain = None;
        match (self.last_ok, self.last_result) {
            (_, Some(true)) => self.enter(Status::Ready, None, now),
            (Some(_), _) => {
                let reason = self.failure_reason();
                self.consecutive_successes = 0;
                self.enter(Status::Failing, Some(reason), now)
            }
            (None, _) => self.enter(Status::Starting, None, now),
        }
        Ok(self.status)
    }

    /// The app is being stopped (SIGTERM path or the child exited): undrain
    /// is refused from now on.
    pub fn mark_stopping(&mut self) {
        self.stopping = true;
    }
}

#[cfg(test)]
mod tests;
