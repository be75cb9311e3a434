//! The bgswitch lab as the end-to-end tests drive it: a real nginx on
//! loopback with two pools behind real health-sidecars (bgswitch's
//! `lab`), the `bgswitch` binary run as a user runs it, and what its
//! output and the load balancer say.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use bgswitch::config::SwitchKind;
use bgswitch::lab::load::{Load, LoadOptions, LoadStats};
use bgswitch::lab::{Lab, LabOptions};

use crate::{require_nginx, workspace_binaries};

/// A lab of `kind` with two nginx workers, changed by `tweak`; `None`
/// when nginx is missing outside CI.
pub fn lab_with(kind: SwitchKind, tweak: impl FnOnce(&mut LabOptions)) -> Option<Lab> {
    let mut opts = LabOptions::new(kind, crate::lab_binaries()?);
    tweak(&mut opts);
    Some(Lab::start(&opts).unwrap())
}

/// A lab of `kind` as [`lab_with`] builds it by default.
pub fn lab(kind: SwitchKind) -> Option<Lab> {
    lab_with(kind, |_| {})
}

/// `bgswitch -c <lab config> ARGS`, not run yet.
fn command(lab: &Lab, args: &[&str]) -> Command {
    let (bin, _) = workspace_binaries();
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(&lab.config).args(args);
    cmd
}

/// Runs `bgswitch -c <lab config> ARGS`.
pub fn bgswitch(lab: &Lab, args: &[&str]) -> Output {
    command(lab, args).output().unwrap()
}

/// `bgswitch -c <lab config> ARGS` started, its output discarded, for a
/// test to kill at some moment ([`kill_9`]).
pub fn spawn_bgswitch(lab: &Lab, args: &[&str]) -> Child {
    command(lab, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The lab's map site with green as the default: the bytes a map switch
/// to green writes.
pub fn green_of(blue: &[u8]) -> Vec<u8> {
    String::from_utf8(blue.to_vec())
        .unwrap()
        .replace("    default app_blue;", "    default app_green;")
        .into_bytes()
}

/// SIGKILL, then reap (it may have ended by itself already).
pub fn kill_9(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The exit code (-1 for a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The JSON events of a `--json` run.
pub fn events(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn last_result(o: &Output) -> String {
    events(o)
        .last()
        .and_then(|e| e["result"].as_str().map(String::from))
        .unwrap_or_default()
}

/// Which pool answers through the load balancer now.
pub fn serving(lab: &Lab) -> String {
    let url = bgswitch::http::Url::parse(&lab.lb_url("/")).unwrap();
    let r = bgswitch::http::request("GET", &url, &[], Duration::from_secs(5)).unwrap();
    r.header("x-pool").unwrap_or("").to_string()
}

/// Traffic through the load balancer: fresh, keep-alive and slow clients.
pub fn load(lab: &Lab) -> Load {
    Load::start(&LoadOptions {
        url: lab.lb_url("/"),
        fresh_clients: 2,
        keepalive_clients: 2,
        keepalive_noretry_clients: 0,
        slow_clients: 2,
        slow_ms: 2500,
        pause: Duration::from_millis(3),
    })
    .unwrap()
}

/// Traffic of every kind, keep-alive clients that never retry included
/// (for `kind = "flag"`, which must not fail them either).
pub fn load_every_kind(lab: &Lab) -> Load {
    Load::start(&LoadOptions {
        url: lab.lb_url("/"),
        fresh_clients: 2,
        keepalive_clients: 2,
        keepalive_noretry_clients: 3,
        slow_clients: 2,
        slow_ms: 2500,
        pause: Duration::from_millis(3),
    })
    .unwrap()
}

/// No request failed, and there was traffic.
pub fn assert_no_failures(stats: &LoadStats) {
    assert_eq!(stats.failed, 0, "failures: {:#?}", stats.failures);
    assert!(stats.total > 100, "too little traffic: {stats:?}");
}

/// The bytes of a file.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

/// A lab whose nginx runs as in a container ([`LabOptions::namespace`]:
/// its own mount namespace, single-file bind mounts, `nsenter`, no
/// `pid_file`); `None` when nginx or the privilege is missing outside CI.
///
/// # Panics
/// Under `CI=true` when the machine cannot make a mount namespace.
pub fn lab_in_namespace(kind: SwitchKind) -> Option<Lab> {
    require_nginx()?;
    if let Err(e) = bgswitch::lab::namespace::available() {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("this test needs a mount namespace (root or CAP_SYS_ADMIN): {e}");
        }
        eprintln!("{e}: skipping (set CI=true to make this a failure)");
        return None;
    }
    lab_with(kind, |o| o.namespace = true)
}

/// Removes `[nginx] pid_file` from the lab's `bgswitch.toml` (nginx in a
/// container: the proof rests on verify alone).
pub fn drop_pid_file(lab: &Lab) {
    let config = std::fs::read_to_string(&lab.config).unwrap();
    let without: String = config
        .lines()
        .filter(|l| !l.starts_with("pid_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, config, "no pid_file in {}", lab.config.display());
    std::fs::write(&lab.config, without).unwrap();
}

/// Sets `[nginx] write` in the lab's `bgswitch.toml`.
pub fn set_write(lab: &Lab, mode: &str) {
    let toml = std::fs::read_to_string(&lab.config).unwrap();
    let toml: String = toml
        .lines()
        .filter(|l| !l.starts_with("write ="))
        .map(|l| format!("{l}\n"))
        .collect();
    let toml = toml.replacen("[nginx]\n", &format!("[nginx]\nwrite = \"{mode}\"\n"), 1);
    std::fs::write(&lab.config, toml).unwrap();
}

/// The argv of `[nginx] KEY` (`test_command`, `reload_command`) in the
/// lab's `bgswitch.toml`.
pub fn nginx_command(lab: &Lab, key: &str) -> Vec<String> {
    let toml: toml::Table = std::fs::read_to_string(&lab.config)
        .unwrap()
        .parse()
        .unwrap();
    toml["nginx"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// Sets `[nginx] KEY = argv` in the lab's `bgswitch.toml`.
pub fn set_nginx_command(lab: &Lab, key: &str, argv: &[String]) {
    let config = std::fs::read_to_string(&lab.config).unwrap();
    let line = format!("{key} = {argv:?}");
    let prefix = format!("{key} =");
    assert!(config.lines().any(|l| l.starts_with(&prefix)), "no {key}");
    let config: String = config
        .lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                line.as_str()
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&lab.config, config).unwrap();
}
