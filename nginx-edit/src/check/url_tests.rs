//! `parse_url` against what `ngx_parse_url` makes of each address.
#![allow(clippy::unwrap_used)]
use super::super::listen::{http_params, stream_params};
use super::*;

const LISTEN: UrlKind = UrlKind {
    listen: true,
    uri_part: false,
    default_port: 80,
};
const PROXY: UrlKind = UrlKind {
    listen: false,
    uri_part: true,
    default_port: 80,
};

fn listen(s: &str) -> Result<(Option<Addr>, u16, u16), &'static str> {
    parse_url(s.as_bytes(), LISTEN).map(|u| (u.addr, u.port, u.last_port))
}

#[test]
fn listen_addresses_as_ngx_parse_url_reads_them() {
    let any = Some(Addr::V4([0; 4]));
    assert_eq!(listen("80"), Ok((any.clone(), 80, 0)));
    assert_eq!(listen("*:8080"), Ok((any.clone(), 8080, 0)));
    assert_eq!(listen("8000-8010"), Ok((any.clone(), 8000, 8010)));
    assert_eq!(
        listen("127.0.0.1"),
        Ok((Some(Addr::V4([127, 0, 0, 1])), 80, 0))
    );
    assert_eq!(listen("localhost:81"), Ok((None, 81, 0)));
    assert_eq!(listen("app-1"), Ok((None, 80, 0)));
    assert_eq!(listen("255.255.255.255:1"), Ok((None, 1, 0)));
    assert_eq!(listen("[::]:443").unwrap().0, Some(Addr::V6([0; 16])));
    assert_eq!(
        listen("unix:/run/a.sock"),
        Ok((Some(Addr::Unix(b"/run/a.sock".to_vec())), 0, 0))
    );
    for (bad, err) in [
        ("0", "invalid port"),
        ("65536", "invalid port"),
        ("1.2.3.4:http", "invalid port"),
        ("1.2.3.4:", "invalid port"),
        ("90-80", "invalid port range"),
        ("80-0", "invalid port"),
        ("1.2.3.4:80-x", "invalid port"),
        (":80", "no host"),
        ("1.2.3.4/", "invalid host"),
        ("x?y", "invalid host"),
        ("[::1", "invalid host"),
        ("[::1]80", "invalid host"),
        ("[]:80", "no host"),
        ("[::g]:80", "invalid IPv6 address"),
        ("[1:2:3:4:5:6:7:8:9]", "invalid IPv6 address"),
        ("unix:", "no path in the unix domain socket"),
    ] {
        assert_eq!(listen(bad), Err(err), "{bad}");
    }
    let long = format!("unix:/{}", "a".repeat(107));
    assert_eq!(
        listen(&long),
        Err("too long path in the unix domain socket")
    );
}

#[test]
fn proxy_urls_have_uri_parts() {
    let uri = |s: &str| parse_url(s.as_bytes(), PROXY).map(|u| u.has_uri);
    assert_eq!(uri("app"), Ok(false));
    assert_eq!(uri("app:8080/"), Ok(true));
    assert_eq!(uri("app?x"), Ok(true));
    assert_eq!(uri("[::1]:80/x"), Ok(true));
    assert_eq!(uri("unix:/tmp/s:"), Ok(false));
    assert_eq!(uri("unix:/tmp/s:/x"), Ok(true));
    assert_eq!(uri("app:x"), Err("invalid port"));
    assert_eq!(uri("/x"), Err("no host"));
}

#[test]
fn ipv6_addresses_and_their_text() {
    let text = |s: &str| addr_text(&Addr::V6(inet6_addr(s.as_bytes()).unwrap()), 80);
    assert_eq!(text("::"), "[::]:80");
    assert_eq!(text("::0:0"), "[::]:80");
    assert_eq!(text("::1"), "[::1]:80");
    assert_eq!(text("2001:db8:0:0:1:0:0:1"), "[2001:db8::1:0:0:1]:80");
    assert_eq!(text("fe80::1:2"), "[fe80::1:2]:80");
    assert_eq!(text("::ffff:10.0.0.1"), "[::ffff:10.0.0.1]:80");
    assert_eq!(text("1:2:3:4:5:6:7:8"), "[1:2:3:4:5:6:7:8]:80");
    assert_eq!(text("1::"), "[1::]:80");
    for bad in [
        "1:", "12345::", "1::2::3", ":::", "1.2.3.4", "::1.2.3", "g::",
    ] {
        assert_eq!(inet6_addr(bad.as_bytes()), None, "{bad}");
    }
}

proptest::proptest! {
    /// Any address, any parameter: an answer, never a panic.
    #[test]
    fn no_panics(url in "[\\[\\]:.0-9a-fA-F/?*x-]{0,24}|unix:[a-z:/]{0,120}", param in "[a-z_=:0-9]{0,20}") {
        for kind in [LISTEN, PROXY] {
            if let Ok(u) = parse_url(url.as_bytes(), kind) {
                if let Some(addr) = u.addr {
                    let _ = addr_text(&addr, u.port);
                }
            }
        }
        let _ = http_params(std::slice::from_ref(&param));
        let _ = stream_params(&[param]);
    }
}
