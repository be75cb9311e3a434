#![allow(clippy::unwrap_used)]
use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;

#[test]
fn urls() {
    let u = Url::parse("http://127.0.0.1:9901/health").unwrap();
    assert_eq!(
        (u.https, u.host.as_str(), u.port, u.path.as_str()),
        (false, "127.0.0.1", 9901, "/health")
    );
    let u = Url::parse("http://lb.example").unwrap();
    assert_eq!((u.port, u.path.as_str()), (80, "/"));
    let u = Url::parse("https://lb.test/health").unwrap();
    assert_eq!((u.https, u.port), (true, 443));
    assert_eq!(u.to_string(), "https://lb.test:443/health");
    let u = Url::parse("https://lb.test?x=1").unwrap();
    assert_eq!(u.path, "/?x=1");
    let u = Url::parse("http://[::1]:8080/x?y=1").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("::1", 8080, "/x?y=1")
    );
    assert_eq!(u.to_string(), "http://[::1]:8080/x?y=1");
    assert_eq!(u.with_path("/z").to_string(), "http://[::1]:8080/z");
    assert!(Url::parse("ftp://x/").is_err());
    assert!(Url::parse("http://x:port/").is_err());
    assert!(Url::parse("http://u:p@x/").is_err());
    let u = Url::parse("https://[::1]/health").unwrap();
    assert_eq!((u.host.as_str(), u.port), ("::1", 443));
    assert_eq!(u.authority(), "[::1]:443");
    assert!(Url::parse("http://::1:80/").is_err());
    assert!(Url::parse("http://[::1:80/").is_err());
    assert!(Url::parse("http://[::1]x/").is_err());
    assert_eq!(
        Url::from_address("10.0.1.10:3000").unwrap().to_string(),
        "http://10.0.1.10:3000/"
    );
}

#[test]
fn connect_to_values() {
    for good in ["127.0.0.1:443", "[::1]:8443", "lb.internal:443"] {
        assert!(check_connect_to(good).is_ok(), "{good}");
    }
    for bad in ["127.0.0.1", "[::1]", "lb:https", ":443", "::1:443", "x:0"] {
        assert!(check_connect_to(bad).is_err(), "{bad}");
    }
}

#[test]
fn ca_file_must_hold_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let missing = CaFile::read(&dir.path().join("nope.pem")).unwrap_err();
    assert!(missing.contains("nope.pem"), "{missing}");
    std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").unwrap();
    let empty = CaFile::read(&dir.path().join("empty.pem")).unwrap_err();
    assert!(empty.contains("no certificate"), "{empty}");
}

/// Accepts `n` connections, answers each with the next reply, and returns
/// the request heads (and bodies) it read.
fn serve(
    listener: TcpListener,
    replies: Vec<&'static str>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for r in replies {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // read until the head is complete and a body (if any) has come
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            seen.push(String::from_utf8_lossy(&got).into_owned());
            s.write_all(r.as_bytes()).unwrap();
        }
        seen
    })
}

/// nginx answers 400 to `Host: ::1:port`; the request must bracket it,
/// and a name that stands for `::1` and `127.0.0.1` must reach a server on
/// either.
#[test]
fn ipv6_and_names_with_several_addresses() {
    let t = Duration::from_secs(5);
    if let Ok(v6) = TcpListener::bind("[::1]:0") {
        let port = v6.local_addr().unwrap().port();
        let server = serve(v6, vec!["HTTP/1.1 204 No Content\r\n\r\n"]);
        let url = Url::parse(&format!("http://[::1]:{port}/x")).unwrap();
        assert_eq!(request("GET", &url, &[], t).unwrap().status, 204);
        let head = &server.join().unwrap()[0];
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("host: [::1]:{port}\r\n")),
            "{head}"
        );
    }
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    let server = serve(v4, vec!["HTTP/1.1 204 No Content\r\n\r\n"]);
    let url = Url::parse(&format!("http://localhost:{port}/")).unwrap();
    assert_eq!(request("GET", &url, &[], t).unwrap().status, 204);
    server.join().unwrap();
}

#[test]
fn reads_content_length_chunked_and_close_delimited_and_any_status() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve(
        listener,
        vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pool: blue\r\n\r\nhi",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\n7\r\na\":\"b\"}\r\n0\r\n\r\n",
            "HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\nclosed",
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n",
        ],
    );
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let t = Duration::from_secs(5);
    let r = request("GET", &url, &[], t).unwrap();
    assert_eq!(
        (r.status, r.header("x-pool"), r.body.as_slice()),
        (200, Some("blue"), &b"hi"[..])
    );
    let r = request("GET", &url, &[], t).unwrap();
    assert_eq!(r.json_field("a").as_deref(), Some("b"));
    let r = request("GET", &url, &[], t).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (503, &b"closed"[..]));
    // a redirect is an answer, not followed
    assert_eq!(request("GET", &url, &[], t).unwrap().status, 302);
    server.join().unwrap();
}

#[test]
fn post_with_a_body_and_headers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve(
        listener,
        vec!["HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"],
    );
    let url = Url::parse(&format!("http://127.0.0.1:{port}/health/drain")).unwrap();
    let r = Client::default()
        .request(
            "POST",
            &url,
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer t"),
            ],
            Some(br#"{"a":1}"#),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(r.status, 202);
    let seen = server.join().unwrap();
    let req = seen[0].to_ascii_lowercase();
    assert!(req.starts_with("post /health/drain http/1.1\r\n"), "{req}");
    assert!(req.contains("authorization: bearer t\r\n"), "{req}");
    assert!(req.ends_with(r#"{"a":1}"#), "{req}");
}

/// `connect_to` reaches its address while `Host` stays the URL's.
#[test]
fn connect_to_keeps_the_host() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve(listener, vec!["HTTP/1.1 204 No Content\r\n\r\n"]);
    let client = Client::new(&Transport {
        connect_to: Some(format!("127.0.0.1:{port}")),
        ..Transport::default()
    });
    let url = Url::parse("http://lb.invalid/health").unwrap();
    let r = client
        .request("GET", &url, &[], None, Duration::from_secs(5))
        .unwrap();
    assert_eq!(r.status, 204);
    let head = &server.join().unwrap()[0];
    assert!(
        head.to_ascii_lowercase().contains("host: lb.invalid\r\n"),
        "{head}"
    );
}

/// A server that accepts and never answers costs the timeout, no more.
#[test]
fn a_silent_server_is_bounded_by_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let e = request("GET", &url, &[], Duration::from_millis(300)).unwrap_err();
    assert!(e.reason.contains("timed out"), "{e}");
    assert_eq!(e.kind, Failure::Timeout);
    drop(listener);
}

/// A closed port is a connection failure (the verify pre-flight says to
/// check the URL or `connect_to`), worth trying again.
#[test]
fn a_closed_port_is_a_connect_failure() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let e = request("GET", &url, &[], Duration::from_secs(2)).unwrap_err();
    assert_eq!(e.kind, Failure::Connect, "{e}");
    assert!(e.kind.transient());
}
