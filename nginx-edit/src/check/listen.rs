//! What the `listen` handlers refuse before touching the machine: the
//! parameters of `ngx_http_core_listen` (`src/http/ngx_http_core_module.c`)
//! and `ngx_stream_core_listen` (`src/stream/ngx_stream_core_module.c`),
//! and the address table of `ngx_http_add_listen` / `ngx_http_add_addresses`
//! (`src/http/ngx_http.c`). Platform choices are Linux's, as Debian builds
//! nginx: no `setfib`, `accept_filter` ignored, `deferred`, `reuseport`,
//! `fastopen`, `ipv6only` and tunable `so_keepalive` available, SSL and
//! HTTP/2 built in.

use std::collections::HashMap;

use super::handlers::{atoi, parse_size, parse_time};
use super::url::{addr_text, Addr};

fn so_keepalive(value: &[u8]) -> bool {
    if value == b"on" || value == b"off" {
        return true;
    }
    let mut parts = value.splitn(3, |&b| b == b':');
    let idle = parts.next().unwrap_or_default();
    let interval = parts.next().unwrap_or_default();
    let count = parts.next().unwrap_or_default();
    let time = |s: &[u8]| {
        if s.is_empty() {
            Some(0)
        } else {
            parse_time(s, true)
        }
    };
    let count = if count.is_empty() {
        Some(0)
    } else {
        atoi(count)
    };
    match (time(idle), time(interval), count) {
        (Some(a), Some(b), Some(c)) => a != 0 || b != 0 || c != 0,
        _ => false,
    }
}

/// The parameter checks both `listen` handlers share; `Ok(true)` when the
/// parameter was one of them (and `set` says whether it sets socket
/// options), `Ok(false)` when it is none of them.
fn common_param(p: &str, set: &mut bool) -> Result<bool, String> {
    let b = p.as_bytes();
    let number = |prefix: &str, what: &str, zero_ok: bool| {
        let n = atoi(&b[prefix.len()..]);
        if n.is_none() || (!zero_ok && n == Some(0)) {
            Err(format!("invalid {what} \"{p}\""))
        } else {
            Ok(true)
        }
    };
    *set = true;
    if p == "bind" || p == "reuseport" {
        return Ok(true);
    }
    if p.starts_with("fastopen=") {
        return number("fastopen=", "fastopen", true);
    }
    if p.starts_with("backlog=") {
        return number("backlog=", "backlog", false);
    }
    for what in ["rcvbuf", "sndbuf"] {
        if b.starts_with(what.as_bytes()) && b.get(what.len()) == Some(&b'=') {
            return match parse_size(&b[what.len() + 1..]) {
                Some(_) => Ok(true),
                None => Err(format!("invalid {what} \"{p}\"")),
            };
        }
    }
    if let Some(flag) = b.strip_prefix(b"ipv6only=o") {
        return match flag {
            b"n" | b"ff" => Ok(true),
            _ => Err(format!("invalid ipv6only flags \"{}\"", &p[9..])),
        };
    }
    if let Some(value) = b.strip_prefix(b"so_keepalive=") {
        return if so_keepalive(value) {
            Ok(true)
        } else {
            Err(format!("invalid so_keepalive value: \"{}\"", &p[13..]))
        };
    }
    *set = false;
    Ok(p == "proxy_protocol" || p == "ssl")
}

/// The parameters of an http `listen` (`ngx_http_core_listen`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpParams {
    pub default_server: bool,
    pub ssl: bool,
    /// `lsopt.set`: socket options that only one `listen` of an address
    /// may give.
    pub set: bool,
}

/// `ngx_http_core_listen`'s parameter loop.
pub fn http_params(params: &[String]) -> Result<HttpParams, String> {
    let mut out = HttpParams::default();
    for p in params {
        match p.as_str() {
            "default_server" | "default" => out.default_server = true,
            "http2" => {}
            "ssl" => out.ssl = true,
            "deferred" => out.set = true,
            // Logged as an error, but the configuration still passes.
            _ if p.starts_with("accept_filter=") => {}
            _ => {
                let mut set = false;
                if !common_param(p, &mut set)? {
                    return Err(format!("invalid parameter \"{p}\""));
                }
                out.set |= set;
            }
        }
    }
    Ok(out)
}

/// `ngx_stream_core_listen`'s parameter loop and its `udp` rules; `Ok`
/// says whether the socket is UDP.
pub fn stream_params(params: &[String]) -> Result<bool, String> {
    let (mut udp, mut backlog, mut ssl, mut keepalive, mut proxy, mut fastopen) =
        (false, false, false, false, false, false);
    for p in params {
        if p == "udp" {
            udp = true;
            continue;
        }
        let mut set = false;
        if !common_param(p, &mut set)? {
            return Err(format!("the invalid \"{p}\" parameter"));
        }
        backlog |= p.starts_with("backlog=");
        ssl |= p == "ssl";
        keepalive |= p.starts_with("so_keepalive=");
        proxy |= p == "proxy_protocol";
        fastopen |= p.starts_with("fastopen=");
    }
    if udp {
        let clash = [
            (backlog, "backlog"),
            (ssl, "ssl"),
            (keepalive, "so_keepalive"),
            (proxy, "proxy_protocol"),
            (fastopen, "fastopen"),
        ];
        if let Some((_, what)) = clash.iter().find(|(on, _)| *on) {
            return Err(format!(
                "\"listen\" directive \"{what}\" parameter is incompatible with \"udp\""
            ));
        }
    }
    Ok(udp)
}

/// One address:port of an http block (`ngx_http_conf_addr_t`).
struct HttpAddr {
    servers: Vec<usize>,
    set: bool,
    default_server: bool,
    /// The default server: the one with `default_server`, else the first.
    default: usize,
    /// Whether a `listen` of it has `ssl`.
    ssl: bool,
    /// Its port's rank and its own, in the order nginx made them.
    rank: (usize, usize),
}

/// The addresses the `listen`s of one http block opened, as
/// `ngx_http_add_addresses` keeps them.
#[derive(Default)]
pub struct HttpListens {
    addrs: HashMap<(Addr, u16), HttpAddr>,
    /// Ports in the order of their first `listen`, and how many addresses each has.
    ports: Vec<(u16, usize)>,
}

/// An address:port a `listen ... ssl` opened: its default server and
/// every server listening there, by server number.
pub struct SslAddr {
    pub default: usize,
    pub servers: Vec<usize>,
}

impl HttpListens {
    /// Adds `addr:port` for server number `server`; `Err` is nginx's
    /// message for a second `listen` of one server, a second set of socket
    /// options or a second default server.
    pub fn add(
        &mut self,
        server: usize,
        addr: &Addr,
        port: u16,
        params: HttpParams,
    ) -> Result<(), String> {
        let Some(known) = self.addrs.get_mut(&(addr.clone(), port)) else {
            let p = match self.ports.iter().position(|&(n, _)| n == port) {
                Some(p) => p,
                None => {
                    self.ports.push((port, 0));
                    self.ports.len() - 1
                }
            };
            self.ports[p].1 += 1;
            let entry = HttpAddr {
                servers: vec![server],
                set: params.set,
                default_server: params.default_server,
                default: server,
                ssl: params.ssl,
                rank: (p, self.ports[p].1),
            };
            self.addrs.insert((addr.clone(), port), entry);
            return Ok(());
        };
        let text = || addr_text(addr, port);
        // Servers are numbered in order: this one, if there, is the last.
        if known.servers.last() == Some(&server) {
            return Err(format!("a duplicate listen {}", text()));
        }
        known.servers.push(server);
        known.ssl |= params.ssl;
        if params.set {
            if known.set {
                return Err(format!("duplicate listen options for {}", text()));
            }
            known.set = true;
        }
        if params.default_server {
            if known.default_server {
                return Err(format!("a duplicate default server for {}", text()));
            }
            known.default_server = true;
            known.default = server;
        }
        Ok(())
    }

    /// The addresses with `ssl`, in the order `ngx_http_ssl_init` visits
    /// them (port by port, each port's addresses as they were added).
    pub fn ssl_addrs(&self) -> Vec<SslAddr> {
        let mut list: Vec<&HttpAddr> = self.addrs.values().filter(|a| a.ssl).collect();
        list.sort_by_key(|a| a.rank);
        list.into_iter()
            .map(|a| SslAddr {
                default: a.default,
                servers: a.servers.clone(),
            })
            .collect()
    }
}

/// The addresses of one stream block: a TCP or UDP address:port may be
/// listened on once.
#[derive(Default)]
pub struct StreamListens {
    seen: std::collections::HashSet<(bool, Addr, u16)>,
}

impl StreamListens {
    pub fn add(&mut self, udp: bool, addr: &Addr, port: u16) -> Result<(), String> {
        if self.seen.insert((udp, addr.clone(), port)) {
            Ok(())
        } else {
            Err(format!(
                "duplicate \"{}\" address and port pair",
                addr_text(addr, port)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn http_listen_parameters() {
        let params =
            |ps: &[&str]| http_params(&ps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
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
    fn stream_listen_parameters() {
        let params =
            |ps: &[&str]| stream_params(&ps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(params(&["udp", "reuseport"]), Ok(true));
        assert_eq!(params(&["ssl", "backlog=10"]), Ok(false));
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
        assert_eq!(s.add(false, &any, 53,), Ok(()));
        assert_eq!(s.add(true, &any, 53), Ok(()));
        assert_eq!(
            s.add(true, &any, 53),
            Err("duplicate \"0.0.0.0:53\" address and port pair".into())
        );
    }
}
