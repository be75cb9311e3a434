//! Flag switches back and forth under load of every kind: zero failures,
//! no reload, the old pool drained.

use std::time::Duration;

use bgswitch::config::SwitchKind;
use e2e::lab::{
    assert_no_failures, bgswitch, code, events, lab, last_result, load_every_kind, serving, text,
};

use crate::{flag_files, selected};

#[test]
fn flag_switches_under_every_client_kind_fail_no_request_and_drain_the_old_pool() {
    let Some(lab) = lab(SwitchKind::Flag) else {
        return;
    };
    let master = lab.master_pid();
    let traffic = load_every_kind(&lab);
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..6 {
        let to = if i % 2 == 0 { "green" } else { "blue" };
        let from = if to == "green" { "blue" } else { "green" };
        let o = bgswitch(&lab, &["switch", "--to", to, "--json"]);
        assert_eq!(code(&o), 0, "switch {i} to {to}:\n{}", text(&o));
        assert_eq!(last_result(&o), "switched");
        let steps: Vec<String> = events(&o)
            .iter()
            .filter_map(|e| e["step"].as_str().map(String::from))
            .collect();
        assert!(steps.contains(&"flag".to_string()), "{steps:?}");
        assert!(!steps.contains(&"reload".to_string()), "{steps:?}");
        assert!(!steps.contains(&"edit".to_string()), "{steps:?}");
        assert_eq!(selected(&lab), to);
        assert_eq!(serving(&lab), to);
        // the old pool reached drained: nginx's idle upstream keep-alive
        // connections to it closed (upstream keepalive_timeout)
        let drained = bgswitch::switch::sidecar_status(
            &Default::default(),
            &lab.sidecar_url(from),
            Duration::from_secs(10),
        );
        assert_eq!(drained, "drained", "{from} after switch {i}:\n{}", text(&o));
        std::thread::sleep(Duration::from_millis(200));
    }
    let stats = traffic.stop();
    assert_no_failures(&stats);
    for kind in ["fresh", "keepalive", "keepalive-noretry", "slow"] {
        let k = stats.per_kind.get(kind).copied().unwrap_or_default();
        assert!(k.total > 0, "no {kind} request: {stats:?}");
        assert_eq!(k.failed, 0, "{kind}: {stats:?}");
    }
    assert_eq!(
        stats.retried, 0,
        "a keep-alive connection closed: {stats:?}"
    );
    assert!(stats.per_pool.get("green").copied().unwrap_or(0) > 0);
    // nothing reloaded: the same master, and the flags alone moved
    assert_eq!(lab.master_pid(), master);
    assert!(flag_files(&lab).is_empty(), "{:?}", flag_files(&lab));
    // history and rollback work as for the other kinds
    let h = bgswitch(&lab, &["history", "--json"]);
    assert_eq!(String::from_utf8_lossy(&h.stdout).lines().count(), 6);
    let r = bgswitch(&lab, &["rollback", "--json"]);
    assert_eq!(code(&r), 0, "{}", text(&r));
    assert_eq!(serving(&lab), "green");
}

#[test]
fn dry_run_prints_the_flag_change_and_changes_nothing() {
    let Some(lab) = lab(SwitchKind::Flag) else {
        return;
    };
    let o = bgswitch(&lab, &["switch", "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let want = format!("flag: create {}", lab.flag_dir.join("green").display());
    assert!(text(&o).contains(&want), "{}", text(&o));
    assert!(flag_files(&lab).is_empty());
    let s = bgswitch(&lab, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v["live"], "blue");
}
