//! Supervision under signals, from outside: SIGTERM drains before the app
//! is stopped, SIGINT/SIGHUP are forwarded, exit statuses pass through.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::*;

fn signal_log() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signals");
    let s = path.to_string_lossy().into_owned();
    (dir, path, s)
}

#[test]
fn sigterm_drains_first_then_stops_the_app_and_exits_with_its_status() {
    let app_port = free_port();
    let (_d, log, log_s) = signal_log();
    let args = supervising(
        app_port,
        &["--drain-timeout", "5m"],
        &["--signal-log", &log_s, "--term-exit-code", "3"],
    );
    let mut sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    let app = sc.app_pid();

    let conn = hold_connection(app_port);
    signal(sc.pid(), "TERM");
    wait_status(sc.port, "draining");
    // While a connection is open the app is left alone.
    std::thread::sleep(Duration::from_millis(500));
    assert!(alive(app), "the app must not be stopped before drained");
    assert_eq!(read(&log), "", "no signal reached the app yet");
    assert!(sc.is_running());
    // The app is going to be stopped: undrain is refused.
    let r = post(sc.port, "/health/undrain");
    assert_eq!(r.code, 409, "{}", r.body);

    drop(conn);
    let st = sc.wait_exit();
    assert_eq!(
        st.code(),
        Some(3),
        "the app's exit status; stderr:\n{}",
        sc.stderr()
    );
    assert_eq!(read(&log), "SIGTERM\n");
    assert!(!alive(app));
    let err = sc.stderr();
    assert!(err.contains("drained; stopping the app"), "{err}");
}

#[test]
fn an_app_killed_by_a_signal_gives_128_plus_the_signal() {
    let app_port = free_port();
    let args = supervising(app_port, &[], &["--on-term", "die"]);
    let mut sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    signal(sc.pid(), "TERM");
    let st = sc.wait_exit();
    assert_eq!(st.code(), Some(128 + 15), "stderr:\n{}", sc.stderr());
}

#[test]
fn an_app_ignoring_sigterm_is_killed_after_the_stop_timeout() {
    let app_port = free_port();
    let (_d, log, log_s) = signal_log();
    let args = supervising(
        app_port,
        // long enough for a loaded machine to deliver and log SIGTERM
        &["--stop-timeout", "3s"],
        &["--on-term", "ignore", "--signal-log", &log_s],
    );
    let mut sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    let app = sc.app_pid();
    signal(sc.pid(), "TERM");
    let st = sc.wait_exit();
    assert_eq!(st.code(), Some(128 + 9), "stderr:\n{}", sc.stderr());
    assert_eq!(read(&log), "SIGTERM\n", "SIGTERM came first");
    assert!(!alive(app));
    assert!(sc.stderr().contains("sending SIGKILL"));
}

#[test]
fn a_second_sigterm_skips_the_drain_wait() {
    let app_port = free_port();
    let args = supervising(app_port, &["--drain-timeout", "5m"], &[]);
    let mut sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    let _conn = hold_connection(app_port);
    signal(sc.pid(), "TERM");
    wait_status(sc.port, "draining");
    signal(sc.pid(), "TERM");
    let st = sc.wait_exit();
    assert_eq!(st.code(), Some(0));
}

#[test]
fn sighup_and_sigint_are_forwarded() {
    let app_port = free_port();
    let (_d, log, log_s) = signal_log();
    let args = supervising(app_port, &[], &["--signal-log", &log_s]);
    let mut sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    signal(sc.pid(), "HUP");
    wait_until("SIGHUP at the app", || read(&log) == "SIGHUP\n");
    assert!(sc.is_running(), "SIGHUP does not stop anything");
    assert_eq!(status(sc.port), "ready");
    signal(sc.pid(), "INT");
    let st = sc.wait_exit();
    assert_eq!(read(&log), "SIGHUP\nSIGINT\n");
    assert_eq!(st.code(), Some(130), "the test app exits 130 on SIGINT");
}

#[test]
fn the_sidecar_exits_with_the_status_of_an_app_that_exits_by_itself() {
    let app_port = free_port();
    let args = supervising(app_port, &[], &["--exit-after", "1s", "--exit-code", "7"]);
    // not `start`: on a loaded machine the app may be gone before the
    // sidecar first answers
    let mut sc = Sidecar::spawn(&strs(&args));
    let st = sc.wait_exit();
    assert_eq!(st.code(), Some(7), "stderr:\n{}", sc.stderr());
    assert!(sc.stderr().contains("app exited (status 7)"));
}

#[test]
fn standalone_sigterm_drains_then_exits_zero() {
    // No supervision: the app runs on its own, the sidecar only watches it.
    let app_port = free_port();
    let mut app = std::process::Command::new(TESTAPP)
        .args(["--port", &app_port.to_string(), "--exit-after", "60s"])
        .spawn()
        .unwrap();
    let probe = format!("tcp://127.0.0.1:{app_port}");
    let app_pid = app.id().to_string();
    let mut sc = Sidecar::start(&[
        "--probe",
        &probe,
        "--app-port",
        &app_port.to_string(),
        "--app-pid",
        &app_pid,
        "--probe-interval",
        "100ms",
    ]);
    let j = wait_status(sc.port, "ready");
    assert_eq!(j["process"]["pid"], app.id());
    let conn = hold_connection(app_port);
    signal(sc.pid(), "TERM");
    wait_status(sc.port, "draining");
    std::thread::sleep(Duration::from_millis(300));
    assert!(sc.is_running());
    drop(conn);
    let st = sc.wait_exit();
    assert_eq!(st.code(), Some(0));
    assert!(
        alive(app.id()),
        "a standalone sidecar never signals the app"
    );
    let _ = app.kill();
    let _ = app.wait();
}

#[test]
fn sigint_stops_a_standalone_sidecar_at_once() {
    let mut sc = Sidecar::start(&["--probe", "exec:true"]);
    signal(sc.pid(), "INT");
    let st = sc.wait_exit();
    assert_eq!((st.code(), st.signal()), (Some(0), None));
}
