//! The sidecar beside a real app process, on real sockets: every state,
//! a connection held open through a drain, and the probe kinds.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;

#[test]
fn app_that_starts_late_goes_starting_ready_failing_ready() {
    let app_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let fail_file = dir.path().join("fail");
    let fail = fail_file.to_string_lossy().into_owned();
    let listen_file = dir.path().join("listen");
    let listen = listen_file.to_string_lossy().into_owned();
    let args = supervising(
        app_port,
        &[
            "--failure-threshold",
            "2",
            "--success-threshold",
            "2",
            "--version-label",
            "v7",
        ],
        &["--listen-file", &listen, "--fail-file", &fail],
    );
    let sc = Sidecar::start(&strs(&args));

    // The app is not listening until told: starting, with the probe error
    // shown.
    wait_until("a failed probe", || {
        health(sc.port)["probe"]["last_error"].is_string()
    });
    let r = get(sc.port, "/health");
    assert_eq!(r.code, 503);
    let j = r.json();
    assert_eq!(j["status"], "starting");
    assert_eq!(j["version"], "v7");
    assert_eq!(j["probe"]["kind"], "http");
    assert_eq!(j["connections"]["app_port"], app_port);
    assert!(j["process"]["pid"].as_u64().is_some());
    assert_eq!(get(sc.port, "/readyz").code, 503);
    assert_eq!(get(sc.port, "/livez").code, 200, "starting is alive");

    std::fs::write(&listen_file, "").unwrap();
    let j = wait_status(sc.port, "ready");
    assert!(j["probe"]["last_ok"].is_string());
    assert_eq!(get(sc.port, "/health").code, 200);
    assert_eq!(get(sc.port, "/readyz").body, "ok");

    std::fs::write(&fail_file, "").unwrap();
    let j = wait_status(sc.port, "failing");
    assert!(j["probe"]["consecutive_failures"].as_u64().unwrap() >= 2);
    assert!(
        j["reason"].as_str().unwrap().contains("HTTP status 500"),
        "{j}"
    );
    assert_eq!(get(sc.port, "/health").code, 503);
    assert_eq!(get(sc.port, "/livez").code, 503);

    std::fs::remove_file(&fail_file).unwrap();
    wait_status(sc.port, "ready");
    let m = get(sc.port, "/metrics").body;
    assert!(
        m.contains("health_sidecar_status{state=\"ready\"} 1"),
        "{m}"
    );
    let failures: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("health_sidecar_probes_total{result=\"failure\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(failures >= 2, "{m}");
}

#[test]
fn startup_timeout_turns_starting_into_failing() {
    let app_port = free_port();
    let args = supervising(
        app_port,
        &["--startup-timeout", "500ms"],
        &["--start-delay", "60s"],
    );
    let sc = Sidecar::start(&strs(&args));
    let j = wait_status(sc.port, "failing");
    assert!(
        j["reason"].as_str().unwrap().starts_with("startup_timeout"),
        "{j}"
    );
}

#[test]
fn drain_waits_for_a_held_connection_then_completes() {
    let app_port = free_port();
    let args = supervising(app_port, &["--drain-timeout", "5m"], &[]);
    let sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");

    let conn = hold_connection(app_port);
    let r = post(sc.port, "/health/drain");
    assert_eq!((r.code, r.body.as_str()), (202, r#"{"status":"draining"}"#));
    // The kernel reports the held connection; the drain must not complete.
    wait_until("the held connection to be counted", || {
        health(sc.port)["connections"]["active"].as_u64() >= Some(1)
    });
    // Nothing may end this drain while the connection is held: watch it a
    // while (on a slow machine fewer counts fit in; none may end it).
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(100));
        let j = health(sc.port);
        assert_eq!(j["status"], "draining", "{j}");
    }
    let j = health(sc.port);
    assert_eq!(j["status"], "draining", "{j}");
    // At least the held one: a probe of the app in flight at that moment
    // is an open connection on the app port too.
    assert!(j["connections"]["active"].as_u64() >= Some(1), "{j}");
    assert_eq!(j["drain"]["reason"], serde_json::Value::Null);
    assert_eq!(get(sc.port, "/readyz").code, 503);
    assert_eq!(get(sc.port, "/livez").code, 200, "draining is alive");
    // idempotent
    assert_eq!(post(sc.port, "/health/drain").code, 202);

    drop(conn);
    let j = wait_status(sc.port, "drained");
    assert_eq!(j["drain"]["reason"], "connections_closed");
    assert_eq!(j["reason"], "connections_closed");
    assert_eq!(j["connections"]["active"], 0);
    assert!(
        j["drain"]["completed_at"].as_str().unwrap() >= j["drain"]["started_at"].as_str().unwrap()
    );

    // undrain: the app still answers, so back to ready
    let r = post(sc.port, "/health/undrain");
    assert_eq!((r.code, r.body.as_str()), (200, r#"{"status":"ready"}"#));
    assert_eq!(get(sc.port, "/health").code, 200);
}

#[test]
fn drain_min_holds_drained_back_even_without_connections() {
    let app_port = free_port();
    let args = supervising(app_port, &["--drain-min", "2s"], &[]);
    let sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    assert_eq!(post(sc.port, "/health/drain").code, 202);
    // Before drain-min passed it is still draining although nothing is
    // open. Checked on every answer read before min_until (by the clock
    // here, read after the answer came): a slow machine reads fewer.
    let mut seen_before_min = 0;
    loop {
        let j = health(sc.port);
        let read_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        let min_until = j["drain"]["min_until"].as_str().unwrap().to_string();
        if read_at >= min_until {
            break;
        }
        assert_eq!(j["status"], "draining", "read at {read_at}: {j}");
        seen_before_min += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{seen_before_min} answers before drain-min were draining");
    let j = wait_status(sc.port, "drained");
    assert_eq!(j["drain"]["reason"], "connections_closed");
    assert!(
        j["drain"]["completed_at"].as_str().unwrap() >= j["drain"]["min_until"].as_str().unwrap()
    );
}

#[test]
fn drain_timeout_ends_a_drain_with_a_connection_still_open() {
    let app_port = free_port();
    let args = supervising(app_port, &["--drain-timeout", "1s"], &[]);
    let sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    let _conn = hold_connection(app_port);
    assert_eq!(post(sc.port, "/health/drain").code, 202);
    let j = wait_status(sc.port, "drained");
    assert_eq!(j["drain"]["reason"], "timeout");
    // at least the held one (a probe in flight is a connection too)
    assert!(j["connections"]["active"].as_u64() >= Some(1), "{j}");
}

#[test]
fn a_connection_in_close_wait_still_holds_the_drain() {
    // The client half-closes; the app never closes its side (it is waiting
    // to answer until the test releases it), so the socket sits in
    // ESTABLISHED or CLOSE_WAIT on the app's side and must keep the drain
    // open.
    let app_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let release_file = dir.path().join("release");
    let release = release_file.to_string_lossy().into_owned();
    let args = supervising(app_port, &[], &["--release-file", &release]);
    let sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", app_port)).unwrap();
    s.write_all(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    wait_until("the connection to be counted", || {
        health(sc.port)["connections"]["active"] == 1
    });
    assert_eq!(post(sc.port, "/health/drain").code, 202);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(status(sc.port), "draining");
    }
    // the app answers and closes: drained
    std::fs::write(&release_file, "").unwrap();
    let j = wait_status(sc.port, "drained");
    assert_eq!(j["drain"]["reason"], "connections_closed");
}

#[test]
fn tcp_and_exec_probes_against_the_real_app() {
    let app_port = free_port();
    let mut args = vec![
        "--probe".to_string(),
        format!("tcp://127.0.0.1:{app_port}"),
        "--probe-interval".into(),
        "100ms".into(),
        "--".into(),
    ];
    args.extend(testapp(app_port, &["--start-delay", "500ms"]));
    let sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    assert_eq!(health(sc.port)["probe"]["kind"], "tcp");
    drop(sc);

    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("ok");
    let probe = format!("exec:test -e {}", flag.display());
    let sc = Sidecar::start(&["--probe", &probe, "--probe-interval", "100ms"]);
    wait_until("a failed exec probe", || {
        health(sc.port)["probe"]["last_error"] == "command exited 1"
    });
    assert_eq!(status(sc.port), "starting");
    std::fs::write(&flag, "").unwrap();
    wait_status(sc.port, "ready");
}

#[test]
fn a_hanging_app_is_a_failed_probe_not_a_hung_sidecar() {
    // A listener that never accepts: the kernel completes the handshakes
    // (into the backlog), and nothing ever answers, however long it takes.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hang.local_addr().unwrap().port();
    let probe = format!("http://127.0.0.1:{port}/health");
    let sc = Sidecar::start(&[
        "--probe",
        &probe,
        "--probe-interval",
        "200ms",
        "--probe-timeout",
        "300ms",
    ]);
    wait_until("a timed-out probe", || {
        health(sc.port)["probe"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out"))
    });
    // still answering while probes hang
    assert_eq!(get(sc.port, "/livez").code, 200);
    assert_eq!(status(sc.port), "starting");

    let sc2 = Sidecar::start(&["--probe", "exec:sleep 30", "--probe-timeout", "200ms"]);
    wait_until("a timed-out exec probe", || {
        health(sc2.port)["probe"]["last_error"] == "command timed out after 200ms"
    });
    drop(hang);
}

#[test]
fn without_app_port_a_drain_ends_after_drain_min() {
    let sc = Sidecar::start(&[
        "--probe",
        "exec:true",
        "--probe-interval",
        "100ms",
        "--drain-min",
        "200ms",
    ]);
    wait_status(sc.port, "ready");
    assert_eq!(post(sc.port, "/health/drain").code, 202);
    let j = wait_status(sc.port, "drained");
    assert_eq!(j["drain"]["reason"], "no_app_port");
    assert_eq!(j["connections"]["active"], serde_json::Value::Null);
}

#[test]
fn an_app_that_stops_makes_a_watching_sidecar_fail() {
    // Standalone: the app runs on its own; the sidecar knows its pid.
    let app_port = free_port();
    let mut app = std::process::Command::new(TESTAPP)
        .args(["--port", &app_port.to_string(), "--exit-after", "60s"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let probe = format!("http://127.0.0.1:{app_port}/health");
    let (port_s, pid_s) = (app_port.to_string(), app.id().to_string());
    let sc = Sidecar::start(&[
        "--probe",
        &probe,
        "--app-port",
        &port_s,
        "--app-pid",
        &pid_s,
        "--probe-interval",
        "100ms",
        "--failure-threshold",
        "2",
    ]);
    wait_status(sc.port, "ready");
    assert_eq!(get(sc.port, "/livez").code, 200);
    signal(app.id(), "KILL");
    app.wait().unwrap();
    let j = wait_status(sc.port, "failing");
    assert!(
        j["probe"]["last_error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{j}"
    );
    wait_until("livez to see the process gone", || {
        get(sc.port, "/livez?verbose")
            .body
            .contains("[-]process failed")
    });
    assert_eq!(get(sc.port, "/livez").code, 503);
    assert_eq!(get(sc.port, "/health").code, 503);
}
