//! bgswitch end to end: a real nginx on loopback, two pools of real app
//! processes behind real health-sidecars, and the `bgswitch` binary run as
//! a user runs it, through switches and faults. Traffic goes only to
//! 127.0.0.1 and every wait is bounded.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use bgswitch::config::SwitchKind;
use bgswitch::lab::load::{Load, LoadOptions, LoadStats};
use bgswitch::lab::{Lab, LabOptions};
use e2e::{require_nginx, workspace_binaries};

fn lab_with(kind: SwitchKind, tweak: impl FnOnce(&mut LabOptions)) -> Option<Lab> {
    let nginx = require_nginx()?;
    let (bgswitch, sidecar) = workspace_binaries();
    let mut opts = LabOptions {
        kind,
        nginx,
        sidecar,
        bgswitch,
        green_app_delay: None,
        green_answers_as: None,
        worker_processes: 2,
        tls: None,
    };
    tweak(&mut opts);
    Some(Lab::start(&opts).unwrap())
}

fn lab(kind: SwitchKind) -> Option<Lab> {
    lab_with(kind, |_| {})
}

fn bgswitch(lab: &Lab, args: &[&str]) -> Output {
    let (bin, _) = workspace_binaries();
    Command::new(bin)
        .arg("-c")
        .arg(&lab.config)
        .args(args)
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The JSON events of a `--json` run.
fn events(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn last_result(o: &Output) -> String {
    events(o)
        .last()
        .and_then(|e| e["result"].as_str().map(String::from))
        .unwrap_or_default()
}

/// Which pool answers through the load balancer now.
fn serving(lab: &Lab) -> String {
    let url = bgswitch::http::Url::parse(&lab.lb_url("/")).unwrap();
    let r = bgswitch::http::request("GET", &url, &[], Duration::from_secs(5)).unwrap();
    r.header("x-pool").unwrap_or("").to_string()
}

fn load(lab: &Lab) -> Load {
    Load::start(&LoadOptions {
        url: lab.lb_url("/"),
        fresh_clients: 2,
        keepalive_clients: 2,
        slow_clients: 2,
        slow_ms: 2500,
        pause: Duration::from_millis(3),
    })
    .unwrap()
}

fn assert_no_failures(stats: &LoadStats) {
    assert_eq!(stats.failed, 0, "failures: {:#?}", stats.failures);
    assert!(stats.total > 100, "too little traffic: {stats:?}");
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

fn zero_downtime(kind: SwitchKind, switches: usize) {
    let Some(lab) = lab(kind) else { return };
    let traffic = load(&lab);
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..switches {
        let to = if i % 2 == 0 { "green" } else { "blue" };
        let from = if to == "green" { "blue" } else { "green" };
        let o = bgswitch(&lab, &["switch", "--to", to, "--json"]);
        assert_eq!(code(&o), 0, "switch {i} to {to}:\n{}", text(&o));
        assert_eq!(last_result(&o), "switched");
        // the old pool was drained after nginx stopped using it
        let drained = bgswitch::switch::sidecar_status(
            &Default::default(),
            &lab.sidecar_url(from),
            Duration::from_secs(2),
        );
        assert_eq!(drained, "drained", "{from} after switch {i}");
        assert_eq!(serving(&lab), to);
        // the next switch's gate brings the drained pool back
        if i > 0 {
            assert!(text(&o).contains("undrained"), "switch {i}: {}", text(&o));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let stats = traffic.stop();
    assert_no_failures(&stats);
    assert!(stats.per_pool.get("blue").copied().unwrap_or(0) > 0);
    assert!(stats.per_pool.get("green").copied().unwrap_or(0) > 0);
    assert!(stats.slow_done > 0, "no slow request completed: {stats:?}");
}

#[test]
fn zero_downtime_map_switches_under_load() {
    zero_downtime(SwitchKind::Map, 4);
}

#[test]
fn zero_downtime_upstream_switches_under_load() {
    zero_downtime(SwitchKind::Upstream, 2);
}

#[test]
fn zero_downtime_replace_switches_under_load() {
    zero_downtime(SwitchKind::Replace, 2);
}

#[test]
fn target_not_ready_exits_1_and_changes_nothing() {
    let Some(lab) = lab_with(SwitchKind::Map, |o| {
        o.green_app_delay = Some(Duration::from_secs(120))
    }) else {
        return;
    };
    std::fs::write(
        &lab.config,
        std::fs::read_to_string(&lab.config)
            .unwrap()
            .replace("timeout = \"10s\"", "timeout = \"1s\""),
    )
    .unwrap();
    let before = read(&lab.site);
    let t = Instant::now();
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert_eq!(last_result(&o), "aborted");
    assert!(
        text(&o).contains(&lab.sidecar_url("green")),
        "names the sidecar: {}",
        text(&o)
    );
    assert!(t.elapsed() < Duration::from_secs(20), "the gate is bounded");
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");
}

#[test]
fn nginx_test_failure_restores_the_exact_bytes_and_exits_3() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // a config broken elsewhere: nginx -t fails, the running nginx is fine
    std::fs::write(
        lab.dir.join("sites-enabled/zz-broken.conf"),
        "server { listen 127.0.0.1:1; prox_pass x; }\n",
    )
    .unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(text(&o).contains("prox_pass"), "says why: {}", text(&o));
    assert_eq!(read(&lab.site), before);
    assert!(
        std::fs::symlink_metadata(lab.dir.join("sites-enabled/app.conf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(serving(&lab), "blue");
}

#[test]
fn a_syntax_error_elsewhere_in_the_include_tree_exits_3_too() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // `main` set: the whole include tree is read, and one file of it does
    // not even parse. Only the file with the switch must: nginx -t says
    // the rest.
    let mut config = std::fs::read_to_string(&lab.config).unwrap();
    config = config.replacen("[nginx]\n", "[nginx]\nmain = \"nginx.conf\"\n", 1);
    std::fs::write(&lab.config, config).unwrap();
    std::fs::write(
        lab.dir.join("sites-enabled/zz-broken.conf"),
        "server { listen 127.0.0.1:1;\n",
    )
    .unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(text(&o).contains("zz-broken.conf"), "{}", text(&o));
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");
    // fixed: the same config switches
    std::fs::remove_file(lab.dir.join("sites-enabled/zz-broken.conf")).unwrap();
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(serving(&lab), "green");
}

#[test]
fn reload_that_nginx_ignores_is_detected_and_rolled_back() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // A port taken by someone else: nginx -t passes, the reload does not take.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    std::fs::write(
        lab.dir.join("sites-enabled/zz-other.conf"),
        format!("server {{ listen 127.0.0.1:{port}; return 204; }}\n"),
    )
    .unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 4, "{}", text(&o));
    assert_eq!(last_result(&o), "rolled_back", "{}", text(&o));
    assert!(text(&o).contains("no new worker processes"), "{}", text(&o));
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");
    drop(squatter);
}

#[test]
fn wrong_pool_through_the_lb_is_rolled_back() {
    let Some(lab) = lab_with(SwitchKind::Map, |o| {
        o.green_answers_as = Some("impostor".into())
    }) else {
        return;
    };
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 4, "{}", text(&o));
    assert_eq!(last_result(&o), "rolled_back");
    assert!(text(&o).contains("impostor"), "{}", text(&o));
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");
    // the journal records the attempt; history shows it
    let h = bgswitch(&lab, &["history", "--json"]);
    assert!(text(&h).contains("\"rolled_back\""), "{}", text(&h));
}

#[test]
fn soak_breach_rolls_back_and_exits_5() {
    let Some(mut lab) = lab(SwitchKind::Map) else {
        return;
    };
    let before = read(&lab.site);
    let traffic = load(&lab);
    let (bin, _) = workspace_binaries();
    let mut child = Command::new(bin)
        .arg("-c")
        .arg(&lab.config)
        .args(["switch", "--soak", "20s", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the switch is verified and soaking, green's app dies: nginx
    // answers 502 and green's sidecar starts failing.
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line.unwrap();
        if line.contains("\"step\":\"smoke-lb\"") {
            assert!(line.contains("\"ok\":true"), "{line}");
            lab.kill_app("green");
        }
        lines.push(line);
    }
    let status = child.wait().unwrap();
    let stats = traffic.stop();
    let all = lines.join("\n");
    assert_eq!(status.code(), Some(5), "{all}");
    assert!(
        lines.last().unwrap().contains("\"result\":\"rolled_back\""),
        "{all}"
    );
    assert!(
        all.contains("\"step\":\"soak\",") || all.contains("\"step\":\"soak\""),
        "{all}"
    );
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");
    assert!(stats.failed > 0, "the breach was real: {stats:?}");
}

#[test]
fn a_second_switch_exits_6_at_once() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let _held = bgswitch::state::Lock::try_acquire(&lab.dir.join("state/bgswitch.lock")).unwrap();
    let before = read(&lab.site);
    let t = Instant::now();
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 6, "{}", text(&o));
    assert!(t.elapsed() < Duration::from_secs(2), "fails fast");
    assert_eq!(read(&lab.site), before);
}

#[test]
fn map_flip_changes_one_line_and_keeps_the_link_and_look_alikes() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let before = String::from_utf8(read(&lab.site)).unwrap();
    let o = bgswitch(&lab, &["switch"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let after = String::from_utf8(read(&lab.site)).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        vec![("    default app_blue;", "    default app_green;")]
    );
    assert!(after.contains("    # default app_green;  (a comment that looks like the switch)"));
    assert!(
        std::fs::symlink_metadata(lab.dir.join("sites-enabled/app.conf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // no backup or temporary file left where nginx's include glob looks
    let names: Vec<_> = std::fs::read_dir(lab.dir.join("sites-enabled"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn dry_run_changes_nothing_and_rollback_goes_back() {
    let Some(lab) = lab(SwitchKind::Upstream) else {
        return;
    };
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains(&format!("+    # server 127.0.0.1:{}; # blue", lab.blue.app)),
        "{}",
        text(&o)
    );
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");

    let o = bgswitch(&lab, &["switch", "--no-drain"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(serving(&lab), "green");
    let o = bgswitch(&lab, &["rollback", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched");
    assert_eq!(serving(&lab), "blue");
    assert_eq!(
        read(&lab.site),
        before,
        "rollback restores the original bytes"
    );
    let s = bgswitch(&lab, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v["live"], "blue");
    assert_eq!(v["serving"], "blue");
    assert_eq!(v["pools"]["green"]["health"][0]["status"], "drained");
}

#[test]
fn a_switch_interrupted_before_its_reload_is_finished_by_the_next_run() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // What a run killed between its write and its reload leaves: the file
    // says green, nginx still serves blue.
    let blue = String::from_utf8(read(&lab.site)).unwrap();
    let green = blue.replace("    default app_blue;", "    default app_green;");
    std::fs::write(&lab.site, &green).unwrap();
    assert_eq!(serving(&lab), "blue");
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert!(
        text(&o).contains("finishing an interrupted switch"),
        "{}",
        text(&o)
    );
    assert_eq!(serving(&lab), "green");
    assert_eq!(String::from_utf8(read(&lab.site)).unwrap(), green);
    // the pool drained is the one that stopped serving, not the new one
    let status = |pool| {
        bgswitch::switch::sidecar_status(
            &Default::default(),
            &lab.sidecar_url(pool),
            Duration::from_secs(2),
        )
    };
    assert_eq!(status("green"), "ready");
    assert_eq!(status("blue"), "drained");
    // and now it is really live: nothing to do
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(last_result(&o), "unchanged", "{}", text(&o));
}

#[test]
fn kill_9_at_any_moment_leaves_a_whole_file_and_a_serving_nginx() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let (bin, _) = workspace_binaries();
    let blue = read(&lab.site);
    let green = String::from_utf8(blue.clone())
        .unwrap()
        .replace("    default app_blue;", "    default app_green;")
        .into_bytes();
    for i in 0..12u64 {
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&lab.config)
            .args(["switch", "--no-drain"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(i * 37 % 400));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = read(&lab.site);
        assert!(
            now == blue || now == green,
            "kill {i}: the file is neither the old nor the new version"
        );
        let who = serving(&lab);
        assert!(
            who == "blue" || who == "green",
            "kill {i}: nginx answers {who:?}"
        );
    }
    // the next run works
    let o = bgswitch(&lab, &["switch", "--to", "green", "--no-drain"]);
    assert!(code(&o) == 0, "{}", text(&o));
    assert_eq!(serving(&lab), "green");
    assert_eq!(read(&lab.site), green);
    // and a run that writes sweeps the temporary files killed runs left
    let o = bgswitch(&lab, &["switch", "--to", "blue", "--no-drain"]);
    assert!(code(&o) == 0, "{}", text(&o));
    let leftovers: Vec<String> = std::fs::read_dir(lab.site.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".nginx-edit-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_config_key_exits_2_before_anything() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["rollback"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("no switch to roll back"), "{}", text(&o));
    let o = bgswitch(&lab, &["switch", "--to", "purple"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("--to purple: no such pool"),
        "{}",
        text(&o)
    );
    let o = bgswitch(&lab, &["switch", "--soak", "soon"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("--soak"), "{}", text(&o));
    assert_eq!(read(&lab.site), before);
    let good = std::fs::read_to_string(&lab.config).unwrap();
    std::fs::write(
        &lab.config,
        good.replace("target = \"app_green\"", "target = \"app_purple\""),
    )
    .unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("pools.green.target"), "{}", text(&o));
    assert_eq!(read(&lab.site), before);
    std::fs::write(
        &lab.config,
        good.replace("interval = \"100ms\"", "interval = \"soon\""),
    )
    .unwrap();
    let o = bgswitch(&lab, &["switch"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("gate.interval"), "{}", text(&o));
}

#[test]
fn without_a_pid_file_the_proof_rests_on_verify_and_rollback_undrains() {
    let Some(lab) = lab(SwitchKind::Upstream) else {
        return;
    };
    // DESIGN: `pid_file` unset (nginx in a container) means verify alone.
    let config = std::fs::read_to_string(&lab.config).unwrap();
    let without: String = config
        .lines()
        .filter(|l| !l.starts_with("pid_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, config);
    std::fs::write(&lab.config, without).unwrap();
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert!(
        text(&o).contains("proven by [verify] alone"),
        "{}",
        text(&o)
    );
    assert_eq!(serving(&lab), "green");
    let status = |pool| {
        bgswitch::switch::sidecar_status(
            &Default::default(),
            &lab.sidecar_url(pool),
            Duration::from_secs(2),
        )
    };
    assert_eq!(status("blue"), "drained");
    // rollback goes back to the pool it drained: the gate brings it back
    let o = bgswitch(&lab, &["rollback", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert!(text(&o).contains("undrained"), "{}", text(&o));
    assert_eq!(serving(&lab), "blue");
    assert_eq!(status("green"), "drained");
}

#[test]
fn verify_by_json_field_and_a_drain_not_waited_for() {
    let Some(lab) = lab(SwitchKind::Replace) else {
        return;
    };
    // `[verify] json_field` instead of `header`, and `wait_drained = "0s"`:
    // the drain is sent, not waited for.
    let config = std::fs::read_to_string(&lab.config)
        .unwrap()
        .replace("header = \"X-Pool\"", "json_field = \"pool\"")
        .replace("wait_drained = \"30s\"", "wait_drained = \"0s\"");
    assert!(config.contains("json_field = \"pool\"") && config.contains("wait_drained = \"0s\""));
    std::fs::write(&lab.config, config).unwrap();
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert_eq!(serving(&lab), "green");
    assert!(
        text(&o).contains("drain requested from 1 sidecar(s) of blue"),
        "{}",
        text(&o)
    );
    let blue = bgswitch::switch::sidecar_status(
        &Default::default(),
        &lab.sidecar_url("blue"),
        Duration::from_secs(2),
    );
    assert!(blue == "draining" || blue == "drained", "{blue}");
    // A field that never names a pool: verify fails, the rollback puts the
    // old bytes back and reloads, and then cannot verify the old pool
    // either. That is exit 7, saying what state things are in.
    let config = std::fs::read_to_string(&lab.config)
        .unwrap()
        .replace("json_field = \"pool\"", "json_field = \"status\"");
    std::fs::write(&lab.config, config).unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--to", "blue", "--json"]);
    assert_eq!(code(&o), 7, "{}", text(&o));
    assert_eq!(last_result(&o), "failed", "{}", text(&o));
    assert!(
        text(&o).contains("holds the exact old bytes and nginx reloaded them"),
        "{}",
        text(&o)
    );
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "green");
}

#[test]
fn a_soak_log_that_cannot_be_read_exits_2_before_anything_changes() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let config = std::fs::read_to_string(&lab.config).unwrap().replace(
        "access_log = \"logs/access.log\"",
        "access_log = \"logs/nope.log\"",
    );
    std::fs::write(&lab.config, config).unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--soak", "2s", "--json"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("soak.access_log"), "{}", text(&o));
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");
}
