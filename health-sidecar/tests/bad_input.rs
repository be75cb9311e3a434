//! Bad flags, an address that cannot be bound, a missing app, malformed
//! and oversized requests, and the token rules on a real socket.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::*;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(SIDECAR)
        .args(args)
        .env_remove("HEALTH_SIDECAR_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let base = ["--listen", "127.0.0.1:1", "--probe", "tcp://127.0.0.1:2"];
    let cases: &[(&[&str], &str)] = &[
        (&["--probe-interval", "5x"], "--probe-interval"),
        (&["--drain-timeout", "30"], "--drain-timeout"),
        (&["--drain-min", "1.5x"], "--drain-min"),
        (&["--startup-timeout", "-1s"], "--startup-timeout"),
        (&["--probe-timeout", "0"], "--probe-timeout"),
        (&["--failure-threshold", "zero"], "--failure-threshold"),
        (&["--app-port", "0"], "--app-port"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--drain-min", "1m"], "--drain-min"),
        (&["--token-file", "/nonexistent/token"], "--token-file"),
    ];
    for (extra, flag) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let (code, err) = run(&args);
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(err.contains(flag), "{extra:?} should name {flag}: {err}");
    }
    let (code, err) = run(&["--listen", "127.0.0.1:1", "--probe", "https://app/"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--probe") && err.contains("https"), "{err}");
    let (code, err) = run(&["--listen", "localhost", "--probe", "tcp://a:1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--listen"), "{err}");
    let (code, err) = run(&["--probe", "tcp://a:1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn help_and_version_exit_0() {
    let (code, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    let out = Command::new(SIDECAR).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Exit codes") && help.contains("--drain-min"),
        "{help}"
    );
    let (code, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_taken_listen_address_exits_3() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = run(&[
        "--listen",
        &addr,
        "--probe",
        "exec:true",
        "--",
        TESTAPP,
        "--port",
        "1",
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("could not bind --listen") && err.contains(&addr),
        "{err}"
    );
    assert!(
        !err.contains("testapp: listening"),
        "the app is not started when binding fails"
    );
}

#[test]
fn an_app_command_that_cannot_start_exits_127() {
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let (code, err) = run(&[
        "--listen",
        &listen,
        "--probe",
        "exec:true",
        "--",
        "/nonexistent/app",
    ]);
    assert_eq!(code, Some(127), "{err}");
    assert!(err.contains("could not start /nonexistent/app"), "{err}");
    let (code, err) = run(&[
        "--listen",
        &listen,
        "--probe",
        "exec:true",
        "--",
        "/etc/hostname",
    ]);
    assert_eq!(code, Some(126), "{err}");
}

#[test]
fn malformed_and_oversized_requests_get_4xx() {
    let sc = Sidecar::start(&["--probe", "exec:true", "--probe-interval", "100ms"]);
    let r = raw(sc.port, b"THIS IS NOT HTTP\r\n\r\n").unwrap();
    assert!((400..500).contains(&r.code), "{r:?}");
    let r = raw(sc.port, b"GET /health HTTP/1.1\r\nBad Header Line\r\n\r\n").unwrap();
    assert!((400..500).contains(&r.code), "{r:?}");
    let big = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let r = raw(sc.port, big.as_bytes());
    // Either a 4xx, or the connection is cut after the limit; never a 2xx.
    if let Ok(r) = r {
        assert!((400..500).contains(&r.code), "{}", r.code);
    }
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "p".repeat(70_000));
    if let Ok(r) = raw(sc.port, long_uri.as_bytes()) {
        assert!((400..500).contains(&r.code), "{}", r.code);
    }
    let many = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "X-A: b\r\n".repeat(200)
    );
    assert_eq!(
        raw(sc.port, many.as_bytes()).unwrap().code,
        431,
        "too many headers"
    );
    // a body on POST is ignored
    wait_status(sc.port, "ready");
    let req = "POST /health/drain HTTP/1.1
Host: x
Connection: close
Content-Length: 5

hello";
    let r = raw(sc.port, req.as_bytes()).unwrap();
    assert_eq!(r.code, 202);
    // the sidecar is still fine
    assert_eq!(get(sc.port, "/livez").code, 200);
}

#[test]
fn token_rules_on_a_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "file-token\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    let sc = Sidecar::start(&[
        "--probe",
        "exec:true",
        "--probe-interval",
        "100ms",
        "--token-file",
        &path,
    ]);
    wait_status(sc.port, "ready");
    let r = post(sc.port, "/health/drain");
    assert_eq!(r.code, 401, "loopback is not enough once a token is set");
    assert!(r.head.contains("www-authenticate: bearer"), "{}", r.head);
    assert_eq!(
        request(
            sc.port,
            "POST",
            "/health/drain",
            "Authorization: Bearer nope\r\n"
        )
        .code,
        401
    );
    assert_eq!(status(sc.port), "ready");
    let r = request(
        sc.port,
        "POST",
        "/health/drain",
        "Authorization: Bearer file-token\r\n",
    );
    assert_eq!(r.code, 202);
    drop(sc);

    let sc = Sidecar::start_with_env(
        &["--probe", "exec:true", "--probe-interval", "100ms"],
        &[
            ("HEALTH_SIDECAR_TOKEN", "env-token"),
            ("APP_VERSION", "from-env"),
        ],
    );
    wait_status(sc.port, "ready");
    assert_eq!(health(sc.port)["version"], "from-env");
    assert_eq!(post(sc.port, "/health/drain").code, 401);
    let r = request(
        sc.port,
        "POST",
        "/health/drain",
        "Authorization: Bearer env-token\r\n",
    );
    assert_eq!(r.code, 202);
}

#[test]
fn without_a_token_loopback_posts_are_accepted() {
    let sc = Sidecar::start(&["--probe", "exec:true", "--probe-interval", "100ms"]);
    wait_status(sc.port, "ready");
    assert_eq!(post(sc.port, "/health/drain").code, 202);
    assert_eq!(get(sc.port, "/health/drain").code, 405, "GET never drains");
    wait_status(sc.port, "drained");
    assert_eq!(post(sc.port, "/health/undrain").code, 200);
    wait_status(sc.port, "ready");
}

#[test]
fn the_drain_client_drains_and_waits() {
    let app_port = free_port();
    let args = supervising(app_port, &["--drain-timeout", "5m"], &[]);
    let sc = Sidecar::start(&strs(&args));
    wait_status(sc.port, "ready");
    let url = format!("http://127.0.0.1:{}", sc.port);
    let conn = hold_connection(app_port);
    // held connection: not drained within a short wait
    let out = Command::new(SIDECAR)
        .args(["drain", "--url", &url, "--wait", "500ms"])
        .env_remove("HEALTH_SIDECAR_TOKEN")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not drained within 500ms"));
    assert_eq!(status(sc.port), "draining");
    drop(conn);
    let out = Command::new(SIDECAR)
        .args(["drain", "--url", &url, "--wait", "20s"])
        .env_remove("HEALTH_SIDECAR_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("drained (connections_closed)"));

    let (code, err) = run(&["drain", "--url", "tcp://x:1"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(&["drain", "--url", &url, "--wait", "soon"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--wait"), "{err}");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let (code, _) = run(&["drain", "--url", &dead, "--wait", "0"]);
    assert_eq!(code, Some(1), "unreachable sidecar");
}

#[test]
fn the_drain_client_sends_the_token() {
    let sc = Sidecar::start_with_env(
        &["--probe", "exec:true", "--probe-interval", "100ms"],
        &[("HEALTH_SIDECAR_TOKEN", "tok")],
    );
    let url = format!("http://127.0.0.1:{}", sc.port);
    let (code, err) = run(&["drain", "--url", &url, "--wait", "0"]);
    assert_eq!(code, Some(1), "no token: refused");
    assert!(err.contains("401"), "{err}");
    let out = Command::new(SIDECAR)
        .args(["drain", "--url", &url, "--wait", "10s"])
        .env("HEALTH_SIDECAR_TOKEN", "tok")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_drain_client_posts_to_the_url_as_given() {
    let sc = Sidecar::start(&["--probe", "exec:true", "--probe-interval", "100ms"]);
    wait_status(sc.port, "ready");
    // a path is the drain URL itself (behind a proxy it routes): here no
    // such path, so the sidecar answers 404 and nothing drains
    let wrong = format!("http://127.0.0.1:{}/elsewhere/drain", sc.port);
    let (code, err) = run(&["drain", "--url", &wrong, "--wait", "0"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("404"), "{err}");
    assert_eq!(status(sc.port), "ready", "a POST elsewhere drains nothing");
    let (code, err) = run(&["drain", "--url", &format!("{wrong}age")]);
    assert_eq!(code, Some(2), "no status URL to wait on: {err}");
    assert!(err.contains("/elsewhere/drainage"), "{err}");
    let given = format!("http://127.0.0.1:{}/health/drain?by=test", sc.port);
    let (code, err) = run(&["drain", "--url", &given, "--wait", "10s"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("drained (no_app_port)"), "{err}");
}
