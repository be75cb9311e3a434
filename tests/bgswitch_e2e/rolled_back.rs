//! Failures after the reload: the switch is rolled back (exit 4, 5), or says
//! exactly what state it left when the rollback itself fails (exit 7).

use bgswitch::config::SwitchKind;
use e2e::workspace_binaries;
use std::process::Command;
use std::time::Duration;

use e2e::lab::{
    bgswitch, code, events, lab, lab_with, last_result, load, nginx_command, read, serving,
    set_nginx_command, text,
};

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
fn old_bytes_that_cannot_go_back_after_a_failed_nginx_test_exit_7() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // by the time nginx -t runs, the directory the link points into is
    // gone: nginx -t fails, and the old bytes cannot be written back
    let mut argv = nginx_command(&lab, "test_command");
    argv.splice(
        0..0,
        ["sh", "-c", "mv \"$0\" \"$0.gone\"; exec \"$@\""].map(String::from),
    );
    argv.insert(3, lab.dir.join("sites-available").display().to_string());
    set_nginx_command(&lab, "test_command", &argv);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 7, "{}", text(&o));
    assert_eq!(last_result(&o), "failed", "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("test failed"),
        "says why nginx -t failed: {said}"
    );
    assert!(
        said.contains("ROLLBACK FAILED: could not write the old bytes back")
            && said.contains("the file holds the NEW version; nginx was not reloaded"),
        "{said}"
    );
    // the state is as said: the new bytes on disk, nginx on the old config
    std::fs::rename(
        lab.dir.join("sites-available.gone"),
        lab.dir.join("sites-available"),
    )
    .unwrap();
    assert!(String::from_utf8(read(&lab.site))
        .unwrap()
        .contains("    default app_green;"));
    assert_eq!(serving(&lab), "blue");
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

/// The nginx workers other than the newest `n` that still hold a
/// listening socket (they would still take new connections).
fn older_workers_listening(lab: &bgswitch::lab::Lab, n: usize) -> Vec<u32> {
    let pid = std::fs::read_to_string(lab.dir.join("nginx.pid")).unwrap();
    let master: u32 = pid.trim().parse().unwrap();
    let started = |p: &u32| {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
        // field 22 (starttime), the 20th after `pid (comm)`
        let t: u64 = after
            .split_whitespace()
            .nth(19)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        t
    };
    let mut workers = bgswitch::nginx::children_of(master).unwrap();
    workers.sort_by_key(started);
    let older = &workers[..workers.len().saturating_sub(n)];
    bgswitch::listeners::still_listening(master, older).unwrap()
}

#[test]
fn the_undo_waits_for_the_workers_of_the_new_version_to_stop_accepting() {
    let Some(lab) = lab_with(SwitchKind::Map, |o| {
        o.green_answers_as = Some("impostor".into())
    }) else {
        return;
    };
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 4, "{}", text(&o));
    // the moment it reports the rollback done, only the newest workers
    // (the old config again) accept: every new request reaches blue
    assert_eq!(older_workers_listening(&lab, 2), Vec::<u32>::new());
    let rollback = events(&o)
        .into_iter()
        .find(|e| e["step"] == "rollback")
        .unwrap();
    assert_eq!(rollback["ok"], true, "{}", text(&o));
    let detail = rollback["detail"].as_str().unwrap();
    assert!(
        detail.contains("blue verified (")
            && detail.contains("old worker(s) no longer accept connections"),
        "{detail}"
    );
    for _ in 0..20 {
        assert_eq!(serving(&lab), "blue");
    }
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
        text(&o).contains("drain requested from 1 health URL(s) of blue"),
        "{}",
        text(&o)
    );
    let blue = bgswitch::switch::sidecar_status(
        &Default::default(),
        &lab.sidecar_url("blue"),
        Duration::from_secs(10),
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
