//! "switched" means every new request reaches the target: nginx's master
//! lets its old workers accept for about 100 ms after a reload, so a switch
//! that reports success before they stopped accepting leaves a window in
//! which fresh connections still reach the old pool. Two nginx workers,
//! twenty switches, and right after each one 200 fresh connections through
//! the load balancer. Traffic goes only to 127.0.0.1; every wait is bounded.
#![allow(clippy::unwrap_used)]

use bgswitch::config::SwitchKind;
use e2e::lab::{bgswitch, code, drop_pid_file, events, lab, serving, text};

#[test]
fn right_after_each_switch_every_fresh_connection_reaches_the_target() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    for i in 0..20 {
        let to = if i % 2 == 0 { "green" } else { "blue" };
        let o = bgswitch(&lab, &["switch", "--to", to, "--no-drain", "--json"]);
        assert_eq!(code(&o), 0, "switch {i} to {to}:\n{}", text(&o));
        let answers: Vec<String> = (0..200).map(|_| serving(&lab)).collect();
        let elsewhere: Vec<(usize, &String)> = answers
            .iter()
            .enumerate()
            .filter(|(_, a)| a.as_str() != to)
            .collect();
        assert!(
            elsewhere.is_empty(),
            "switch {i} to {to}: {} of 200 fresh connections answered from another pool (first: {:?}):\n{}",
            elsewhere.len(),
            elsewhere.first(),
            text(&o)
        );
        // the verify step says the old workers stopped accepting
        let verify = events(&o)
            .into_iter()
            .find(|e| e["step"] == "verify")
            .unwrap();
        assert!(verify["old_workers_listening"] == 0, "{verify}");
    }
}

#[test]
fn without_a_pid_file_the_output_says_the_handover_is_judged_by_verify_alone() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    drop_pid_file(&lab);
    let o = bgswitch(&lab, &["switch", "--to", "green", "--no-drain", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let verify = events(&o)
        .into_iter()
        .find(|e| e["step"] == "verify")
        .unwrap();
    assert!(
        verify["detail"]
            .as_str()
            .unwrap()
            .ends_with("no pid_file: the handover is judged by verify alone"),
        "{verify}"
    );
    assert!(verify.get("old_workers_listening").is_none(), "{verify}");
}
