//! Zero failed requests through every switch, under load of every kind.

use bgswitch::config::SwitchKind;
use std::time::Duration;

use e2e::lab::{assert_no_failures, bgswitch, code, lab, last_result, load, serving, text};

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
            Duration::from_secs(10),
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
