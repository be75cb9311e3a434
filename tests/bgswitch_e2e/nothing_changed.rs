//! Failures before the reload: the documented exit code, the exact old bytes,
//! the old pool still serving.

use bgswitch::config::SwitchKind;
use std::time::Duration;
use std::time::Instant;

use e2e::lab::{bgswitch, code, events, lab, lab_with, last_result, read, serving, text};

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
fn a_second_switch_exits_6_at_once() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let _held = bgswitch::state::Lock::try_acquire(&lab.dir.join("state/bgswitch.lock")).unwrap();
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 6, "{}", text(&o));
    // fails fast: the lock is still held, so this is no wait that ended;
    // and nothing ran after the lock step (no gate, no health request)
    let steps: Vec<_> = events(&o)
        .into_iter()
        .filter_map(|e| e["step"].as_str().map(String::from))
        .collect();
    assert_eq!(steps, ["lock"], "{}", text(&o));
    assert_eq!(read(&lab.site), before);
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
