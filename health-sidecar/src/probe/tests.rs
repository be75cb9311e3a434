//! The probe specs as written on the command line, the HTTP answer parser,
//! and each probe kind against a real listener or program.

#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn parses_http() {
    assert_eq!(
        ProbeSpec::parse("http://127.0.0.1:8080/healthz").unwrap(),
        ProbeSpec::Http {
            host: "127.0.0.1".into(),
            port: 8080,
            path: "/healthz".into()
        }
    );
    assert_eq!(
        ProbeSpec::parse("http://app").unwrap(),
        ProbeSpec::Http {
            host: "app".into(),
            port: 80,
            path: "/".into()
        }
    );
    assert_eq!(
        ProbeSpec::parse("http://[::1]:3000?x=1").unwrap(),
        ProbeSpec::Http {
            host: "::1".into(),
            port: 3000,
            path: "/?x=1".into()
        }
    );
}

#[test]
fn parses_tcp_and_exec() {
    assert_eq!(
        ProbeSpec::parse("tcp://localhost:5432").unwrap(),
        ProbeSpec::Tcp {
            host: "localhost".into(),
            port: 5432
        }
    );
    assert_eq!(
        ProbeSpec::parse("exec:pg_isready -q").unwrap(),
        ProbeSpec::Exec {
            command: "pg_isready -q".into()
        }
    );
}

#[test]
fn target_round_trips() {
    for s in [
        "http://127.0.0.1:8080/healthz",
        "http://[::1]:80/",
        "tcp://db:5432",
        "exec:true",
    ] {
        assert_eq!(ProbeSpec::parse(s).unwrap().target(), s);
    }
}

#[test]
fn refuses_bad_probes() {
    use ProbeSpecError::*;
    assert!(matches!(ProbeSpec::parse("ftp://x:1"), Err(Scheme(_))));
    assert!(matches!(ProbeSpec::parse("127.0.0.1:80"), Err(Scheme(_))));
    assert!(matches!(ProbeSpec::parse("https://x/"), Err(Https(_))));
    assert!(matches!(ProbeSpec::parse("tcp://db"), Err(Port(_))));
    assert!(matches!(ProbeSpec::parse("tcp://db:0"), Err(Port(_))));
    assert!(matches!(ProbeSpec::parse("tcp://db:99999"), Err(Port(_))));
    assert!(matches!(ProbeSpec::parse("http://:80/"), Err(Host(_))));
    assert!(matches!(ProbeSpec::parse("http://[::1/"), Err(Host(_))));
    assert_eq!(ProbeSpec::parse("exec:  "), Err(EmptyCommand));
}

#[test]
fn status_lines() {
    assert_eq!(parse_status_line(b"HTTP/1.1 204 No Content"), Ok(204));
    assert_eq!(parse_status_line(b"HTTP/1.0 503"), Ok(503));
    assert!(parse_status_line(b"SSH-2.0-OpenSSH").is_err());
    assert!(parse_status_line(b"HTTP/1.1 abc").is_err());
}

#[test]
fn completeness() {
    let c = response_complete;
    assert!(!c(200, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no"));
    assert!(c(200, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    assert!(c(
        200,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    ));
    assert!(!c(200, b"HTTP/1.1 200 OK\r\n\r\nstream"));
    assert!(!c(204, b"HTTP/1.1 204 No Content\r\n"));
    assert!(c(204, b"HTTP/1.1 204 No Content\r\n\r\n"));
}

#[tokio::test]
async fn unreachable_and_hanging_targets_fail_within_the_timeout() {
    // Nothing listens on a port we bound and released.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = ProbeSpec::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let err = p.run(Duration::from_secs(2)).await.unwrap_err();
    assert!(err.contains("connect"), "{err}");

    // A listener that accepts and never answers: the HTTP probe must give up.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = hang.local_addr().unwrap();
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hang.accept().await {
            held.push(s);
        }
    });
    let p = ProbeSpec::parse(&format!("http://{addr}/")).unwrap();
    let err = p.run(Duration::from_millis(300)).await.unwrap_err();
    assert!(err.contains("timed out"), "{err}");
    keep.abort();
}

#[tokio::test]
async fn a_status_then_silence_is_still_a_pass() {
    // Answers 200 without a length and never closes.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = l.accept().await {
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b).await;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\npartial").await;
            held.push(s);
        }
    });
    let p = ProbeSpec::parse(&format!("http://{addr}/health")).unwrap();
    assert_eq!(p.run(Duration::from_secs(5)).await, Ok(()));
    server.abort();
}

#[tokio::test]
async fn exec_probe_reports_exit_status() {
    let ok = ProbeSpec::parse("exec:exit 0").unwrap();
    assert_eq!(ok.run(Duration::from_secs(5)).await, Ok(()));
    let bad = ProbeSpec::parse("exec:exit 7").unwrap();
    assert_eq!(
        bad.run(Duration::from_secs(5)).await,
        Err("command exited 7".to_string())
    );
    let said =
        ProbeSpec::parse("exec:echo; echo '  db is down  ' >&2; echo more >&2; exit 3").unwrap();
    assert_eq!(
        said.run(Duration::from_secs(5)).await,
        Err("command exited 3: db is down".to_string())
    );
    // a background child holding stderr open does not stall the probe,
    // and does not outlive it
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let cmd = format!(
        "exec:sleep 30 & echo $! > {}; echo gone >&2; exit 1",
        pidfile.display()
    );
    let held = ProbeSpec::parse(&cmd).unwrap();
    assert_eq!(
        held.run(Duration::from_secs(5)).await,
        Err("command exited 1: gone".to_string())
    );
    let bg: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut gone = false;
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{bg}/stat")).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the probe's background child was left running");
    let slow = ProbeSpec::parse("exec:sleep 30").unwrap();
    let err = slow.run(Duration::from_millis(200)).await.unwrap_err();
    assert!(err.contains("timed out"), "{err}");
}
