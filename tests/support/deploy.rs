//! A lab for `bgswitch deploy`: no sidecars, the apps answer their own
//! `/health` (seed 004's `starting / healthy / draining / drained` and
//! `POST /health/drain`, or a bare 200), and no app runs until a `start`
//! command launches it. The test writes that command into the lab: a
//! `start.sh` that launches `bgswitch lab-app` with the version it is
//! given and records its pid, and a `stop.sh` that kills it. Both append
//! to `events.log`, where the apps also print `POOL VERSION drained`.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bgswitch::config::SwitchKind;
use bgswitch::lab::Lab;

use crate::lab::lab_with;
use crate::workspace_binaries;

/// How the lab's apps are started.
#[derive(Debug, Clone)]
pub struct Apps {
    /// `lab-app --health`: `healthy` or `bare`.
    pub health: &'static str,
    /// `healthy`: 503 `starting` this long after launch.
    pub starting: &'static str,
    /// Launch this version whatever `start` is asked for (a start that
    /// keeps the old image).
    pub pinned_version: Option<&'static str>,
}

impl Default for Apps {
    fn default() -> Self {
        Apps {
            health: "healthy",
            starting: "1s",
            pinned_version: None,
        }
    }
}

/// A map lab whose pools are started by `start.sh`, with blue running
/// `v1` and live; `[gate] version_field = "version"` unless the app is
/// `bare`. `None` when nginx is missing outside CI.
pub fn deploy_lab(apps: &Apps) -> Option<Lab> {
    deploy_lab_of(SwitchKind::Map, apps)
}

/// [`deploy_lab`] for another switch kind (`flag`: deploy with no reload).
pub fn deploy_lab_of(kind: SwitchKind, apps: &Apps) -> Option<Lab> {
    let lab = lab_with(kind, |o| {
        o.app_health = Some(apps.health.to_string());
        o.scripted_apps = true;
    })?;
    write_scripts(&lab, apps);
    let mut toml = std::fs::read_to_string(&lab.config).unwrap();
    for pool in ["blue", "green"] {
        toml = toml.replace(
            &format!("[pools.{pool}]\n"),
            &format!(
                "[pools.{pool}]\nstart = [\"./start.sh\", \"{{pool}}\", \"{{version}}\"]\nstop = [\"./stop.sh\", \"{{pool}}\"]\n"
            ),
        );
    }
    if apps.health != "bare" {
        toml = toml.replace("[gate]\n", "[gate]\nversion_field = \"version\"\n");
    }
    toml.push_str("\n[deploy]\nstart_timeout = \"20s\"\nstop_old = \"after_drain\"\n");
    std::fs::write(&lab.config, toml).unwrap();
    let out = Command::new("sh")
        .arg(lab.dir.join("start.sh"))
        .args(["blue", "v1"])
        .current_dir(&lab.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "start.sh blue v1: {out:?}");
    wait_until(Duration::from_secs(20), || {
        crate::lab::serving(&lab) == "blue" && version_through(&lab) == "v1"
    });
    Some(lab)
}

fn write_scripts(lab: &Lab, apps: &Apps) {
    let (bin, _) = workspace_binaries();
    let d = lab.dir.display();
    let version = match apps.pinned_version {
        Some(v) => format!("\"{v}\""),
        None => "\"$2\"".into(),
    };
    let start = format!(
        r#"#!/bin/sh
# start.sh POOL VERSION: (re)launches the lab app for POOL reporting
# VERSION, records its pid, as `docker compose up -d --force-recreate`.
set -eu
pool="$1"
case "$pool" in
  blue) port={bp} ;;
  green) port={gp} ;;
  *) echo "no pool $pool" >&2; exit 2 ;;
esac
printf '%s' "$2" > "{d}/args-$pool.txt"
"{d}/stop.sh" "$pool" quiet
"{bin}" lab-app --listen "127.0.0.1:$port" --pool "$pool" --version {version} \
  --health {health} --starting {starting} >> "{d}/events.log" 2>&1 &
echo $! > "{d}/pids/$pool.pid"
echo "start $pool $2 pid $! (env: ${{BGSWITCH_POOL:-}} ${{BGSWITCH_VERSION:-}} ${{BGSWITCH_FROM:-}})" | tee -a "{d}/events.log"
"#,
        bp = lab.blue.app,
        gp = lab.green.app,
        bin = bin.display(),
        health = apps.health,
        starting = apps.starting,
    );
    let stop = format!(
        r#"#!/bin/sh
# stop.sh POOL: stops the pool's app and waits until it is gone.
pool="$1"
pidfile="{d}/pids/$pool.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
[ "${{2:-}}" = quiet ] || echo "stop $pool pid $pid" >> "{d}/events.log"
kill "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
rm -f "$pidfile"
"#
    );
    for (name, text) in [("start.sh", start), ("stop.sh", stop)] {
        let p = lab.dir.join(name);
        std::fs::write(&p, text).unwrap();
        make_executable(&p);
    }
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Replaces `old` with `new` in the lab's bgswitch.toml (once, checked).
pub fn edit_config(lab: &Lab, old: &str, new: &str) {
    let toml = std::fs::read_to_string(&lab.config).unwrap();
    assert!(toml.contains(old), "{old:?} not in {toml}");
    std::fs::write(&lab.config, toml.replacen(old, new, 1)).unwrap();
}

/// The version the load balancer's answer reports (header `X-Version`).
pub fn version_through(lab: &Lab) -> String {
    let url = bgswitch::http::Url::parse(&lab.lb_url("/")).unwrap();
    bgswitch::http::request("GET", &url, &[], Duration::from_secs(5))
        .ok()
        .and_then(|r| r.header("x-version").map(String::from))
        .unwrap_or_default()
}

/// The pid `start.sh` recorded for a pool, if its app runs.
pub fn running_pid(lab: &Lab, pool: &str) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(lab.dir.join(format!("pids/{pool}.pid")))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // a zombie is not running
    (!stat.contains(") Z ")).then_some(pid)
}

/// What start.sh, stop.sh and the apps wrote, in order.
pub fn events(lab: &Lab) -> Vec<String> {
    std::fs::read_to_string(lab.dir.join("events.log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// The journal's entries.
pub fn journal(lab: &Lab) -> Vec<serde_json::Value> {
    std::fs::read_to_string(lab.dir.join("state/journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The lab's directory.
pub fn dir(lab: &Lab) -> PathBuf {
    lab.dir.clone()
}

/// Polls `ok` until it holds; panics after `timeout`.
pub fn wait_until(timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "not true within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
