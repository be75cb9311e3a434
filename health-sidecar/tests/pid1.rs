//! As PID 1 (a container's init), the sidecar reaps orphaned zombies but
//! leaves its own children (the app, exec probes) to their waiters.
//! Runs the sidecar in a new PID namespace with `unshare`, as root.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};

use common::*;

/// Children of `parent`: (pid, state, command name).
fn children(parent: u32) -> Vec<(u32, char, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let mut f = stat[close + 1..].split_ascii_whitespace();
        let state = f.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid: u32 = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        if ppid == parent {
            out.push((pid, state, comm));
        }
    }
    out
}

#[test]
fn as_pid_1_it_reaps_orphans_and_keeps_exit_statuses() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    // The app leaves an orphan (`sleep 1` whose parent subshell exits at
    // once); it is reparented to PID 1, the sidecar, and must be reaped.
    let mut unshare = Command::new("unshare")
        .args([
            "--pid",
            "--fork",
            "--mount-proc",
            SIDECAR,
            "--listen",
            &listen,
        ])
        .args(["--probe", "exec:true", "--probe-interval", "100ms"])
        .args(["--", "/bin/sh", "-c", "(sleep 1 &); exec sleep 60"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let outer = unshare.id();
    let mut sidecar = 0;
    wait_until("the sidecar under unshare", || {
        sidecar = children(outer).first().map(|c| c.0).unwrap_or(0);
        sidecar != 0
    });
    wait_until("the orphan to be reparented to the sidecar", || {
        children(sidecar)
            .iter()
            .any(|(_, s, c)| c == "sleep" && *s != 'Z')
            && children(sidecar).len() >= 2
    });
    // exec probes run and are waited for by their own task: still ready
    wait_until("ready", || {
        raw(port, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").is_ok_and(|r| r.code == 200)
    });
    // once the orphan exits, no zombie is left behind
    wait_until("the orphan to be reaped", || {
        let kids = children(sidecar);
        kids.len() == 1 && kids.iter().all(|(_, s, _)| *s != 'Z')
    });
    assert_eq!(
        status(port),
        "ready",
        "probe statuses were not stolen by the reaper"
    );

    signal(sidecar, "TERM");
    let st = unshare.wait().unwrap();
    // `sleep` dies of the forwarded SIGTERM: 128 + 15
    assert_eq!(st.code(), Some(143));
}
