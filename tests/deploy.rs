//! `bgswitch deploy` end to end, as the seed scripts do it with nothing
//! but a bgswitch.toml: a real nginx on loopback, apps that answer their
//! own `/health` and are really started and stopped by the pools' `start`
//! and `stop` commands (`start.sh` / `stop.sh` in the lab), traffic
//! through the load balancer. Then the faults: a start that keeps the old
//! version, fails or hangs; a stop that fails; a rollback after the old
//! pool was stopped; and bad input.
#![allow(clippy::unwrap_used)]

use std::process::Output;
use std::time::Duration;

use bgswitch::config::SwitchKind;
use bgswitch::lab::Lab;
use e2e::deploy::{
    deploy_lab, deploy_lab_of, edit_config, events, journal, running_pid, version_through,
    wait_until, Apps,
};
use e2e::lab::{
    assert_no_failures, bgswitch, code, events as json_events, last_result, load, serving, text,
};

fn step<'a>(o: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    o.iter()
        .find(|e| e["step"] == name)
        .unwrap_or_else(|| panic!("no {name} step in {o:#?}"))
}

/// The detail of step `name` of a `--json` run.
fn detail(o: &Output, name: &str) -> String {
    step(&json_events(o), name)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `bgswitch ARGS` on the lab, which must exit 0.
fn ok(lab: &Lab, args: &[&str]) -> Output {
    let o = bgswitch(lab, args);
    assert_eq!(code(&o), 0, "{args:?}: {}", text(&o));
    o
}

/// A deploy lab whose apps answer a bare 200 on `/health`.
fn bare_lab() -> Option<Lab> {
    deploy_lab(&Apps {
        health: "bare",
        ..Apps::default()
    })
}

/// `deploy v2 --dry-run`: the plan names green's start with v2, the
/// version gate and blue's stop; its text.
fn plans_v2(lab: &Lab) -> String {
    let t = text(&ok(lab, &["deploy", "v2", "--dry-run"]));
    assert!(t.contains("start: `./start.sh green v2`"), "{t}");
    assert!(t.contains("report version \"v2\""), "{t}");
    assert!(
        t.contains("stop: `./stop.sh blue` once blue is drained"),
        "{t}"
    );
    assert_eq!(running_pid(lab, "green"), None, "a dry run starts nothing");
    t
}

/// green's `start` as the lab writes it.
const GREEN_START: &str = "[pools.green]\nstart = [\"./start.sh\", \"{pool}\", \"{version}\"]";

#[test]
fn deploy_v2_under_load_stops_the_old_app_only_after_it_drained() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let blue_pid = running_pid(&lab, "blue").unwrap();
    let traffic = load(&lab);
    std::thread::sleep(Duration::from_millis(300));
    let o = bgswitch(&lab, &["deploy", "v2", "--json"]);
    let stats = traffic.stop();
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched");
    assert_no_failures(&stats);
    assert!(stats.slow_done > 0, "no slow request completed: {stats:?}");
    assert_eq!(serving(&lab), "green");
    assert_eq!(version_through(&lab), "v2");
    let ev = json_events(&o);
    // start ran with the version; the gate waited out the app's 503
    // `starting` on its own /health and saw v2
    assert!(step(&ev, "start")["ok"].as_bool().unwrap());
    assert_eq!(step(&ev, "start")["version"], "v2");
    let gate = detail(&o, "gate");
    assert!(
        gate.contains("healthy (HTTP 200)") && gate.contains("v2"),
        "{gate}"
    );
    assert!(!gate.contains("sidecar"), "{gate}");
    // the old app was stopped, and only after it reported drained
    assert!(step(&ev, "stop")["ok"].as_bool().unwrap(), "{}", text(&o));
    assert_eq!(running_pid(&lab, "blue"), None);
    assert!(std::fs::read_to_string(format!("/proc/{blue_pid}/stat"))
        .map_or(true, |s| s.contains(") Z ")));
    let log = events(&lab);
    let drained = log.iter().position(|l| l == "blue v1 drained");
    let stopped = log.iter().position(|l| l.starts_with("stop blue"));
    assert!(
        matches!((drained, stopped), (Some(d), Some(s)) if d < s),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("start green v2") && l.contains("(env: green v2 blue)")),
        "{log:#?}"
    );
    // the journal holds v2 for green, v1 for blue, and that blue was stopped
    let j = journal(&lab);
    let last = j.last().unwrap();
    assert_eq!(last["command"], "deploy");
    assert_eq!(last["version"], "v2");
    assert_eq!(last["versions"]["green"], "v2");
    assert_eq!(last["versions"]["blue"], "v1");
    assert_eq!(last["stopped"], "blue");
    // history and status say the versions
    let h = text(&bgswitch(&lab, &["history"]));
    assert!(
        h.contains("deploy   v2 blue -> green") && h.contains("stopped blue"),
        "{h}"
    );
    let s = bgswitch(&lab, &["status", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(s["live"], "green");
    assert_eq!(s["pools"]["green"]["version"], "v2");
    assert_eq!(s["pools"]["green"]["deployed_version"], "v2");
    assert_eq!(s["pools"]["green"]["health"][0]["status"], "healthy");
    assert_eq!(s["pools"]["blue"]["deployed_version"], "v1");
    assert_eq!(s["pools"]["blue"]["ready"], false);
}

#[test]
fn rollback_after_the_old_pool_was_stopped_starts_it_with_its_old_version() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    ok(&lab, &["deploy", "v2"]);
    assert_eq!(running_pid(&lab, "blue"), None);
    let traffic = load(&lab);
    let o = bgswitch(&lab, &["rollback", "--json"]);
    let stats = traffic.stop();
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched");
    let ev = json_events(&o);
    assert_eq!(step(&ev, "start")["version"], "v1");
    assert!(running_pid(&lab, "blue").is_some());
    assert_eq!(serving(&lab), "blue");
    assert_eq!(version_through(&lab), "v1");
    assert_no_failures(&stats);
    // a rollback does not stop the pool it leaves
    assert!(running_pid(&lab, "green").is_some());
    assert!(ev.iter().all(|e| e["step"] != "stop"), "{ev:#?}");
    let last = journal(&lab).pop().unwrap();
    assert_eq!(last["command"], "rollback");
    assert_eq!(last["versions"]["blue"], "v1");
}

#[test]
fn a_start_that_brings_up_the_wrong_version_changes_no_traffic() {
    let apps = Apps {
        pinned_version: Some("v1"),
        ..Apps::default()
    };
    let Some(lab) = deploy_lab(&apps) else { return };
    edit_config(&lab, "[gate]\n", "[gate]\ntimeout = \"2s\"\n");
    edit_config(&lab, "timeout = \"10s\"\ninterval", "interval");
    let blue = running_pid(&lab, "blue").unwrap();
    let o = bgswitch(&lab, &["deploy", "v2"]);
    let t = text(&o);
    assert_eq!(code(&o), 1, "{t}");
    assert!(t.contains("reports version \"v1\", expected \"v2\""), "{t}");
    assert!(t.contains("pool green left as start left it"), "{t}");
    assert!(t.starts_with("ok   lock") || t.contains("aborted"), "{t}");
    assert_eq!(serving(&lab), "blue");
    assert_eq!(running_pid(&lab, "blue"), Some(blue), "blue was stopped");
    assert!(!events(&lab).iter().any(|l| l.starts_with("stop blue")));
}

#[test]
fn a_start_that_fails_or_hangs_is_exit_1_and_switches_nothing() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let original = std::fs::read_to_string(&lab.config).unwrap();
    let set_start = |start: &str, timeout: &str| {
        let toml = original
            .replacen(GREEN_START, &format!("[pools.green]\nstart = {start}"), 1)
            .replace(
                "start_timeout = \"20s\"",
                &format!("start_timeout = \"{timeout}\""),
            );
        std::fs::write(&lab.config, toml).unwrap();
    };
    set_start(
        r#"["sh", "-c", "echo pulling; echo no such image >&2; exit 3"]"#,
        "20s",
    );
    let o = bgswitch(&lab, &["deploy", "v2"]);
    let t = text(&o);
    assert_eq!(code(&o), 1, "{t}");
    assert!(
        t.contains("exit status: 3") && t.contains("no such image"),
        "{t}"
    );
    assert!(
        t.contains("nothing switched") && t.contains("left as start left it"),
        "{t}"
    );
    assert!(t.contains("output in "), "{t}");
    set_start(r#"["sleep", "30"]"#, "1s");
    let started = std::time::Instant::now();
    let o = bgswitch(&lab, &["deploy", "v2", "--json"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert_eq!(last_result(&o), "aborted");
    assert!(
        text(&o).contains("did not finish within 1s: killed"),
        "{}",
        text(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(25));
    assert_eq!(serving(&lab), "blue");
    assert!(running_pid(&lab, "blue").is_some());
    // both attempts are in the journal, neither changed a version
    let j = journal(&lab);
    assert_eq!(j.len(), 2, "{j:#?}");
    assert!(j
        .iter()
        .all(|e| e["result"] == "aborted" && e["versions"].get("green").is_none()));
}

#[test]
fn a_stop_that_fails_is_exit_8_with_traffic_on_the_new_version() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    edit_config(
        &lab,
        "stop = [\"./stop.sh\", \"{pool}\"]",
        "stop = [\"sh\", \"-c\", \"echo permission denied >&2; exit 4\"]",
    );
    let o = bgswitch(&lab, &["deploy", "v2", "--json"]);
    let t = text(&o);
    assert_eq!(code(&o), 8, "{t}");
    assert_eq!(last_result(&o), "switched");
    let ev = json_events(&o);
    assert_eq!(step(&ev, "stop")["ok"], false);
    assert!(
        t.contains("permission denied") && t.contains("traffic is on green"),
        "{t}"
    );
    assert_eq!(serving(&lab), "green");
    assert_eq!(version_through(&lab), "v2");
    assert!(running_pid(&lab, "blue").is_some());
    assert_eq!(journal(&lab).last().unwrap()["versions"]["green"], "v2");
}

#[test]
fn gates_on_a_bare_200_health_and_on_an_exec_probe() {
    let Some(lab) = bare_lab() else { return };
    let o = ok(&lab, &["deploy", "v2", "--json"]);
    let gate = detail(&o, "gate");
    assert!(
        gate.contains("1/1 health URLs of green ready: HTTP 200"),
        "{gate}"
    );
    // a bare 200 takes no drain; the stop still waited for the old workers
    let drain = detail(&o, "drain");
    assert!(drain.contains("take no drain"), "{drain}");
    assert_eq!(running_pid(&lab, "blue"), None);
    // back to blue, gated on an exec: probe of the blue app's port
    let probe = format!(
        "exec:curl -fsS -o /dev/null http://127.0.0.1:{}/health",
        lab.blue.app
    );
    let toml = std::fs::read_to_string(&lab.config).unwrap();
    let blue_health = format!("health = [\"http://127.0.0.1:{}/health\"]", lab.blue.app);
    std::fs::write(
        &lab.config,
        toml.replacen(&blue_health, &format!("health = [{probe:?}]"), 1),
    )
    .unwrap();
    let gate = detail(&ok(&lab, &["deploy", "v3", "--json"]), "gate");
    assert!(
        gate.contains("1/1 health URLs of blue ready: exit 0"),
        "{gate}"
    );
    assert_eq!(serving(&lab), "blue");
    // an exec: probe that fails is a failed gate that says how it exited
    let green_health = format!("health = [\"http://127.0.0.1:{}/health\"]", lab.green.app);
    edit_config(&lab, &green_health, "health = [\"exec:exit 3\"]");
    edit_config(
        &lab,
        "[gate]\ntimeout = \"10s\"",
        "[gate]\ntimeout = \"1s\"",
    );
    let o = bgswitch(&lab, &["deploy", "v4"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("exec:exit 3: exit status: 3"),
        "{}",
        text(&o)
    );
    assert_eq!(serving(&lab), "blue");
}

#[test]
fn a_health_url_without_the_version_field_fails_the_gate_naming_both() {
    let Some(lab) = bare_lab() else { return };
    edit_config(
        &lab,
        "[gate]\ntimeout = \"10s\"",
        "[gate]\nversion_field = \"version\"\ntimeout = \"1s\"",
    );
    let o = bgswitch(&lab, &["deploy", "v2"]);
    let t = text(&o);
    assert_eq!(code(&o), 1, "{t}");
    let url = format!("http://127.0.0.1:{}/health", lab.green.app);
    assert!(
        t.contains(&format!("{url} answers HTTP 200 without \"version\"")),
        "{t}"
    );
    assert_eq!(serving(&lab), "blue");
}

#[test]
fn a_version_with_spaces_and_quotes_is_one_argument() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let version = "v2 \"rc 1\" it's";
    ok(&lab, &["deploy", version]);
    let args = std::fs::read_to_string(lab.dir.join("args-green.txt")).unwrap();
    assert_eq!(args, version);
    assert_eq!(journal(&lab).last().unwrap()["version"], version);
}

#[test]
fn dry_run_prints_the_commands_and_the_diff_and_runs_nothing() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let before = std::fs::read(&lab.site).unwrap();
    let t = plans_v2(&lab);
    assert!(t.contains("+    default app_green;"), "{t}");
    assert_eq!(std::fs::read(&lab.site).unwrap(), before);
    assert!(journal(&lab).is_empty());
}

/// A switch killed after its write, before its reload: the file names
/// green, nginx still serves blue. deploy must not take blue for the idle
/// pool and restart it under traffic.
#[test]
fn deploy_after_an_interrupted_switch_starts_nothing() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let blue_pid = running_pid(&lab, "blue").unwrap();
    let site = std::fs::read_to_string(&lab.site).unwrap();
    std::fs::write(
        &lab.site,
        site.replacen("    default app_blue;", "    default app_green;", 1),
    )
    .unwrap();
    let o = bgswitch(&lab, &["deploy", "v2"]);
    let t = text(&o);
    assert_eq!(code(&o), 2, "{t}");
    assert!(
        t.contains("interrupted") && t.contains("switch --to green"),
        "{t}"
    );
    assert_eq!(running_pid(&lab, "blue"), Some(blue_pid));
    assert!(
        events(&lab)
            .iter()
            .all(|l| !l.starts_with("start blue v2") && !l.starts_with("start green")),
        "{:#?}",
        events(&lab)
    );
    assert_eq!(serving(&lab), "blue");
    assert_eq!(version_through(&lab), "v1");
}

/// `kind = "flag"`: the dry run plans the whole deploy (start, version
/// gate, the flag, stop), and the deploy itself runs it with no reload.
#[test]
fn deploy_with_the_flag_switch_starts_gates_flags_and_stops() {
    let Some(lab) = deploy_lab_of(SwitchKind::Flag, &Apps::default()) else {
        return;
    };
    let t = plans_v2(&lab);
    assert!(t.contains("flag: create"), "{t}");
    assert!(!t.contains("sidecar"), "{t}");
    assert!(!lab.flag_dir.join("green").exists());

    let o = ok(&lab, &["deploy", "v2", "--json"]);
    assert_eq!(last_result(&o), "switched");
    let ev = json_events(&o);
    assert_eq!(step(&ev, "start")["version"], "v2");
    assert!(step(&ev, "flag")["ok"].as_bool().unwrap());
    assert!(ev.iter().all(|e| e["step"] != "reload"), "{ev:#?}");
    assert!(step(&ev, "stop")["ok"].as_bool().unwrap(), "{}", text(&o));
    assert!(lab.flag_dir.join("green").is_file());
    assert_eq!(serving(&lab), "green");
    assert_eq!(version_through(&lab), "v2");
    assert_eq!(running_pid(&lab, "blue"), None);
}

#[test]
fn bad_input_is_exit_2_before_anything_runs() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let original = std::fs::read_to_string(&lab.config).unwrap();
    let check = |toml: String, args: &[&str], key: &str| {
        std::fs::write(&lab.config, toml).unwrap();
        let o = bgswitch(&lab, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o));
        assert!(text(&o).contains(key), "{key} not named: {}", text(&o));
        assert_eq!(running_pid(&lab, "green"), None, "something ran");
        assert_eq!(serving(&lab), "blue");
    };
    check(
        original.replacen(GREEN_START, "[pools.green]\nstart = []", 1),
        &["deploy", "v2"],
        "pools.green.start",
    );
    check(
        original.replacen(
            GREEN_START,
            "[pools.green]\nstart = [\"./no-such-script\"]",
            1,
        ),
        &["deploy", "v2"],
        "pools.green.start: ",
    );
    check(
        original.replacen(
            GREEN_START,
            "[pools.green]\nstart = [\"no-such-program-anywhere\"]",
            1,
        ),
        &["deploy", "v2"],
        "not found on PATH",
    );
    check(
        original.replacen(GREEN_START, "[pools.green]", 1),
        &["deploy", "v2"],
        "pools.green.start: missing",
    );
    check(
        original.replacen(
            "stop = [\"./stop.sh\", \"{pool}\"]",
            "stop = [\"./gone.sh\"]",
            1,
        ),
        &["deploy", "v2"],
        "pools.blue.stop",
    );
    check(original.clone(), &["deploy", ""], "VERSION is empty");
    check(
        original.clone(),
        &["deploy", "v2", "--to", "blue"],
        "pool blue is live",
    );
    assert!(journal(&lab).is_empty());
    wait_until(Duration::from_secs(20), || {
        running_pid(&lab, "blue").is_some()
    });
}

#[test]
fn smoke_requests_with_a_body_and_an_error_budget_as_seed_003_sends_them() {
    let Some(lab) = deploy_lab(&Apps::default()) else {
        return;
    };
    let predict = r#"{ method = "POST", path = "/predict", headers = { "Content-Type" = "application/json" }, body = '{"text":"test input"}', status = 200, repeat = 50, max_failure_ratio = 0.05 }"#;
    edit_config(
        &lab,
        "requests = [\"GET /health 200\"]",
        &format!("requests = [\"GET /health 200\", {predict}]"),
    );
    let ev = json_events(&ok(&lab, &["deploy", "v2", "--json"]));
    assert!(step(&ev, "smoke")["ok"].as_bool().unwrap());
    assert!(step(&ev, "smoke-lb")["ok"].as_bool().unwrap());
    // the same 50 requests expecting another status: all fail, over budget
    edit_config(
        &lab,
        "status = 200, repeat = 50",
        "status = 201, repeat = 50",
    );
    let o = bgswitch(&lab, &["deploy", "v3"]);
    let t = text(&o);
    assert_eq!(code(&o), 1, "{t}");
    assert!(
        t.contains(
            "/predict: 50/50 failed (100.0% > 5.0% allowed); first: answered 200, expected 201"
        ),
        "{t}"
    );
    assert_eq!(serving(&lab), "green");
}
