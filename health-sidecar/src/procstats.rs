//! Memory and CPU of the app process, for `/health`'s `process` field.
//!
//! `sysinfo` is asked about one pid and for memory and CPU only: refreshing
//! the whole process table would cost more than everything else the
//! sidecar does, and its memory would count against our own footprint.

use serde::Serialize;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProcSample {
    pub pid: u32,
    /// False once the process has exited (or was never there).
    #[serde(skip)]
    pub alive: bool,
    pub rss_bytes: u64,
    /// Share of one CPU since the previous reading (can exceed 100 on
    /// several cores).
    pub cpu_percent: f64,
}

/// Keeps the `System` between readings, because CPU usage is a difference
/// between two of them.
#[derive(Debug)]
pub struct ProcSampler {
    pid: u32,
    sys: System,
}

impl ProcSampler {
    pub fn new(pid: u32) -> Self {
        let mut s = ProcSampler {
            pid,
            sys: System::new(),
        };
        // A first reading so the next one has a CPU baseline.
        s.sample();
        s
    }

    pub fn sample(&mut self) -> ProcSample {
        let pid = Pid::from_u32(self.pid);
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        match self.sys.process(pid) {
            Some(p) => ProcSample {
                pid: self.pid,
                alive: true,
                rss_bytes: p.memory(),
                cpu_percent: (f64::from(p.cpu_usage()) * 10.0).round() / 10.0,
            },
            None => ProcSample {
                pid: self.pid,
                alive: false,
                rss_bytes: 0,
                cpu_percent: 0.0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_process() {
        let mut s = ProcSampler::new(std::process::id());
        let r = s.sample();
        assert!(r.alive);
        assert_eq!(r.pid, std::process::id());
        // a test binary has at least a MiB resident
        assert!(r.rss_bytes > 1 << 20, "rss {}", r.rss_bytes);
    }

    #[test]
    fn a_missing_pid_is_not_alive() {
        // pid_max is at most 2^22 on Linux; this one cannot exist.
        let mut s = ProcSampler::new(u32::MAX - 7);
        assert!(!s.sample().alive);
    }
}
