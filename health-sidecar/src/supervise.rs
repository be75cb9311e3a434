//! Supervision of the app command given after `--`.
//!
//! The sidecar starts the app, forwards SIGINT and SIGHUP to it, turns
//! SIGTERM into "drain, wait for `drained`, then SIGTERM the app", reaps
//! orphaned zombies when it runs as PID 1 (a container's init), and exits
//! with the app's status (128 + signal when the app died of a signal, as
//! shells report it).

use std::collections::BTreeSet;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::shared::AppState;
use crate::state::Status;

/// Pids some task of ours waits for itself (the app, exec probes). The PID 1
/// reaper leaves them alone, or their owner would lose the exit status.
static OWN_PIDS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Keeps a pid in [`OWN_PIDS`] for as long as it lives.
#[derive(Debug)]
pub struct OwnPid(u32);

impl OwnPid {
    pub fn register(pid: u32) -> OwnPid {
        own_pids().insert(pid);
        OwnPid(pid)
    }

    pub fn pid(&self) -> u32 {
        self.0
    }
}

impl Drop for OwnPid {
    fn drop(&mut self) {
        own_pids().remove(&self.0);
    }
}

fn own_pids() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
    OWN_PIDS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the app with the sidecar's stdio and environment.
pub fn spawn(command: &[String]) -> io::Result<(Child, OwnPid)> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("child exited before its pid was read"))?;
    Ok((child, OwnPid::register(pid)))
}

/// The exit code the sidecar reports for the app's status.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from((128 + sig) & 0xff).unwrap_or(1),
        _ => 1,
    }
}

/// How long the app gets to exit after SIGTERM before SIGKILL.
#[derive(Debug, Clone, Copy)]
pub struct StopPolicy {
    pub stop_timeout: Duration,
}

/// Supervises `child` until it exits; returns the sidecar's exit code.
pub async fn supervise(
    state: AppState,
    mut child: Child,
    pid: u32,
    mut signals: Signals,
    policy: StopPolicy,
) -> u8 {
    let mut status_rx = state.subscribe();
    let mut term_seen = false;
    loop {
        tokio::select! {
            status = child.wait() => {
                state.update(|m| m.mark_stopping());
                return match status {
                    Ok(s) => {
                        eprintln!("health-sidecar: app exited ({})", describe(s));
                        exit_code(s)
                    }
                    Err(e) => {
                        eprintln!("health-sidecar: lost the app: {e}");
                        1
                    }
                };
            }
            _ = signals.term.recv() => {
                if term_seen {
                    eprintln!("health-sidecar: second SIGTERM; stopping the app now");
                    break;
                }
                term_seen = true;
                eprintln!("health-sidecar: SIGTERM; draining before stopping the app");
                state.update(|m| m.mark_stopping());
                state.request_drain();
            }
            _ = signals.int.recv() => forward(pid, libc::SIGINT, "SIGINT"),
            _ = signals.hup.recv() => forward(pid, libc::SIGHUP, "SIGHUP"),
            _ = wait_for_drained(&mut status_rx), if term_seen => {
                eprintln!("health-sidecar: drained; stopping the app");
                break;
            }
            _ = signals.child.recv() => reap_orphans(),
        }
    }
    stop(&mut child, pid, policy).await
}

/// Without an app to supervise: SIGTERM drains and exits 0 once `drained`
/// (a second SIGTERM exits at once); SIGINT exits at once; SIGHUP is
/// ignored (there is nothing to reload).
pub async fn standalone(state: AppState, mut signals: Signals) -> u8 {
    let mut status_rx = state.subscribe();
    let mut term_seen = false;
    loop {
        tokio::select! {
            _ = signals.term.recv() => {
                if term_seen {
                    eprintln!("health-sidecar: second SIGTERM; exiting");
                    return 0;
                }
                term_seen = true;
                eprintln!("health-sidecar: SIGTERM; draining before exit");
                state.update(|m| m.mark_stopping());
                state.request_drain();
            }
            _ = signals.int.recv() => {
                eprintln!("health-sidecar: SIGINT; exiting");
                return 0;
            }
            _ = signals.hup.recv() => {}
            _ = wait_for_drained(&mut status_rx), if term_seen => {
                eprintln!("health-sidecar: drained; exiting");
                return 0;
            }
            _ = signals.child.recv() => reap_orphans(),
        }
    }
}

/// Sends SIGTERM, waits up to the stop timeout, then SIGKILL.
async fn stop(child: &mut Child, pid: u32, policy: StopPolicy) -> u8 {
    crate::sys::kill(pid, libc::SIGTERM);
    let status = match tokio::time::timeout(policy.stop_timeout, child.wait()).await {
        Ok(s) => s,
        Err(_) => {
            eprintln!(
                "health-sidecar: app still running {} after SIGTERM; sending SIGKILL",
                humantime::format_duration(policy.stop_timeout)
            );
            let _ = child.start_kill();
            child.wait().await
        }
    };
    match status {
        Ok(s) => {
            eprintln!("health-sidecar: app exited ({})", describe(s));
            exit_code(s)
        }
        Err(e) => {
            eprintln!("health-sidecar: lost the app: {e}");
            1
        }
    }
}

fn describe(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("status {c}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown status".into(),
    }
}

fn forward(pid: u32, sig: libc::c_int, name: &str) {
    if !crate::sys::kill(pid, sig) {
        eprintln!("health-sidecar: could not forward {name} to the app (pid {pid})");
    }
}

/// Resolves once the status is `drained` (at once if it already is).
pub async fn wait_for_drained(rx: &mut watch::Receiver<Status>) {
    // `wait_for` only errs when the sender is dropped, which the state
    // never does while we hold it; then never resolve rather than spin.
    if rx.wait_for(|s| *s == Status::Drained).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The signals the sidecar listens to. Installing a handler replaces the
/// default action (terminate), which is what lets us drain first.
#[derive(Debug)]
pub struct Signals {
    pub term: tokio::signal::unix::Signal,
    pub int: tokio::signal::unix::Signal,
    pub hup: tokio::signal::unix::Signal,
    pub child: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            child: signal(SignalKind::child())?,
        })
    }
}

/// As PID 1, reaps zombies that were reparented to us (daemons the app
/// double-forked, orphans of a crashed worker). Pids in [`OWN_PIDS`] are
/// left to their owners. Elsewhere the kernel reparents orphans to the real
/// init, so there is nothing to do.
pub fn reap_orphans() {
    if std::process::id() != 1 {
        return;
    }
    for pid in zombie_children() {
        if own_pids().contains(&pid) {
            continue;
        }
        let _ = crate::sys::reap(pid);
    }
}

/// Our children that are zombies, found in `/proc` (`waitpid(-1)` would
/// also take the statuses our own tasks are waiting for).
fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_stat(&s))
                .is_some_and(|(state, ppid)| state == 'Z' && ppid == me)
        })
        .collect()
}

/// State and parent pid from `/proc/PID/stat`. The command name is in
/// parentheses and may itself contain spaces or parentheses, so fields are
/// read after the last `)`.
fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Reaps any zombie children at most every `every`, for PID 1 when SIGCHLD
/// notifications were coalesced. Used by the non-supervising path too.
pub async fn reaper_loop(every: Duration) {
    if std::process::id() != 1 {
        return;
    }
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    loop {
        tick.tick().await;
        reap_orphans();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGKILL)), 137);
    }

    #[test]
    fn stat_lines() {
        assert_eq!(parse_stat("12 (sh) Z 1 12 12 0"), Some(('Z', 1)));
        assert_eq!(parse_stat("13 (we ird) (name)) S 40 13"), Some(('S', 40)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn own_pids_are_registered_for_their_lifetime() {
        let g = OwnPid::register(4_000_000_001);
        assert!(own_pids().contains(&4_000_000_001));
        drop(g);
        assert!(!own_pids().contains(&4_000_000_001));
    }

    #[tokio::test]
    async fn spawn_reports_a_missing_program() {
        let err = spawn(&["/nonexistent/app".to_string()]).err();
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::NotFound));
    }
}
