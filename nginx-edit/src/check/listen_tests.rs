//! Unit tests of `listen`.

#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn http_listen_parameters() {
    let params = |ps: &[&str]| http_params(&ps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        params(&["default_server", "ssl", "http2", "proxy_protocol"]),
        Ok(HttpParams {
            default_server: true,
            set: false,
            ssl: true,
        })
    );
    assert_eq!(
        params(&[
            "backlog=511",
            "so_keepalive=30m::10",
            "ipv6only=off",
            "accept_filter=x"
        ]),
        Ok(HttpParams {
            default_server: false,
            set: true,
            ssl: false,
        })
    );
    for (bad, err) in [
        (&["defaults"][..], "invalid parameter \"defaults\""),
        (&["setfib=1"], "invalid parameter \"setfib=1\""),
        (&["SSL"], "invalid parameter \"SSL\""),
        (&["udp"], "invalid parameter \"udp\""),
        (&["backlog=0"], "invalid backlog \"backlog=0\""),
        (&["fastopen=x"], "invalid fastopen \"fastopen=x\""),
        (&["rcvbuf=1g"], "invalid rcvbuf \"rcvbuf=1g\""),
        (&["ipv6only=oof"], "invalid ipv6only flags \"oof\""),
        (&["ipv6only=yes"], "invalid parameter \"ipv6only=yes\""),
        (&["so_keepalive=0"], "invalid so_keepalive value: \"0\""),
        (&["so_keepalive=1x"], "invalid so_keepalive value: \"1x\""),
    ] {
        assert_eq!(params(bad), Err(err.to_string()), "{bad:?}");
    }
}

#[test]
fn mail_listen_parameters() {
    let p = |a: &[&str]| mail_params(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(p(&["ssl", "bind", "backlog=8", "proxy_protocol"]), Ok(true));
    assert_eq!(p(&["ssl", "proxy_protocol"]), Ok(false));
    assert_eq!(
        p(&["backlog=x"]),
        Err("invalid backlog \"backlog=x\"".into())
    );
    assert_eq!(
        p(&["rcvbuf=zz"]),
        Err("invalid rcvbuf \"rcvbuf=zz\"".into())
    );
    assert_eq!(
        p(&["reuseport"]),
        Err("the invalid \"reuseport\" parameter".into())
    );
}

#[test]
fn stream_listen_parameters() {
    let params = |ps: &[&str]| stream_params(&ps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let sp = |udp, bind| Ok(StreamParams { udp, bind });
    assert_eq!(params(&["udp", "reuseport"]), sp(true, true));
    assert_eq!(params(&["ssl", "backlog=10"]), sp(false, true));
    assert_eq!(params(&["ssl"]), sp(false, false));
    assert_eq!(
        params(&["default_server"]),
        Err("the invalid \"default_server\" parameter".into())
    );
    assert_eq!(
        params(&["udp", "ssl"]),
        Err("\"listen\" directive \"ssl\" parameter is incompatible with \"udp\"".into())
    );
}

#[test]
fn addresses_shared_between_servers() {
    let any = Addr::V4([0; 4]);
    let plain = HttpParams::default();
    let default = HttpParams {
        default_server: true,
        set: false,
        ssl: false,
    };
    let opts = HttpParams {
        default_server: false,
        set: true,
        ssl: false,
    };
    let mut l = HttpListens::default();
    assert_eq!(l.add(1, &any, 80, default), Ok(()));
    assert_eq!(l.add(2, &any, 80, plain), Ok(()));
    assert_eq!(
        l.add(2, &any, 80, plain),
        Err("a duplicate listen 0.0.0.0:80".into())
    );
    assert_eq!(
        l.add(3, &any, 80, default),
        Err("a duplicate default server for 0.0.0.0:80".into())
    );
    assert_eq!(l.add(4, &any, 443, opts), Ok(()));
    assert_eq!(
        l.add(5, &any, 443, opts),
        Err("duplicate listen options for 0.0.0.0:443".into())
    );
    let mut s = StreamListens::default();
    let (tcp, udp) = (
        StreamParams::default(),
        StreamParams {
            udp: true,
            bind: false,
        },
    );
    assert_eq!(s.add(tcp, &any, 53,), Ok(()));
    assert_eq!(s.add(udp, &any, 53), Ok(()));
    assert_eq!(
        s.add(udp, &any, 53),
        Err("duplicate \"0.0.0.0:53\" address and port pair".into())
    );
}

/// A wildcard takes in the addresses of its port that do not bind;
/// other families, types and ports have sockets of their own.
#[test]
fn listening_sockets_as_nginx_opens_them() {
    let (any, lo, lo2) = (
        Addr::V4([0; 4]),
        Addr::V4([127, 0, 0, 1]),
        Addr::V4([127, 0, 0, 2]),
    );
    let plain = HttpParams::default();
    let bind = HttpParams { set: true, ..plain };
    let mut l = HttpListens::default();
    l.add(1, &lo, 80, plain).unwrap();
    l.add(1, &lo2, 80, plain).unwrap();
    assert_eq!(l.sockets(false), 2);
    // `server { }` listens on *:80, which takes both in
    assert_eq!(l.sockets(true), 1);
    l.add(2, &any, 80, plain).unwrap();
    l.add(2, &lo, 8080, plain).unwrap();
    l.add(3, &lo2, 8080, bind).unwrap();
    l.add(3, &Addr::V6([0; 16]), 80, plain).unwrap();
    l.add(3, &Addr::Unix(b"/run/a.sock".to_vec()), 0, plain)
        .unwrap();
    assert_eq!(l.sockets(true), 5);
    let mut s = StreamListens::default();
    let p = |udp, bind| StreamParams { udp, bind };
    s.add(p(false, false), &any, 53).unwrap();
    s.add(p(false, false), &lo, 53).unwrap();
    s.add(p(false, true), &lo2, 53).unwrap();
    s.add(p(true, false), &lo, 53).unwrap();
    assert_eq!(s.sockets(), 3);
}
