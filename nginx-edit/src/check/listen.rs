//! What the `listen` handlers refuse before touching the machine: the
//! parameters of `ngx_http_core_listen` (`src/http/ngx_http_core_module.c`)
//! and `ngx_stream_core_listen` (`src/stream/ngx_stream_core_module.c`),
//! and the address table of `ngx_http_add_listen` / `ngx_http_add_addresses`
//! (`src/http/ngx_http.c`). Platform choices are Linux's, as Debian builds
//! nginx: no `setfib`, `accept_filter` ignored, `deferred`, `reuseport`,
//! `fastopen`, `ipv6only` and tunable `so_keepalive` available, SSL and
//! HTTP/2 built in.

use std::collections::HashMap;

use super::numbers::{atoi, parse_size, parse_time};
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

/// A stream `listen`'s socket: UDP or not, and whether it binds on its
/// own (`bind` or any socket option, as `ls->bind`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamParams {
    pub udp: bool,
    pub bind: bool,
}

/// `ngx_stream_core_listen`'s parameter loop and its `udp` rules.
pub fn stream_params(params: &[String]) -> Result<StreamParams, String> {
    let (mut udp, mut backlog, mut ssl, mut keepalive, mut proxy, mut fastopen) =
        (false, false, false, false, false, false);
    let mut bind = false;
    for p in params {
        if p == "udp" {
            udp = true;
            continue;
        }
        let mut set = false;
        if !common_param(p, &mut set)? {
            return Err(format!("the invalid \"{p}\" parameter"));
        }
        bind |= set;
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
    Ok(StreamParams { udp, bind })
}

/// `ngx_mail_core_listen`'s parameter loop: the shared ones but
/// `reuseport` and `fastopen`, which mail does not have. `Ok` says
/// whether the socket binds on its own.
pub fn mail_params(params: &[String]) -> Result<bool, String> {
    let mut bind = false;
    for p in params {
        let mut set = false;
        let shared = p != "reuseport" && !p.starts_with("fastopen=");
        if !shared || !common_param(p, &mut set)? {
            return Err(format!("the invalid \"{p}\" parameter"));
        }
        bind |= set;
    }
    Ok(bind)
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
    /// The servers of each address:port, marked when it is `0.0.0.0:80`.
    /// Each address: whether it is `*:80`, its servers, its text, its
    /// default server.
    pub fn groups(&self) -> Vec<(bool, Vec<usize>, String, usize)> {
        let mut list: Vec<_> = self.addrs.iter().collect();
        list.sort_by_key(|(_, a)| a.rank);
        list.into_iter()
            .map(|((addr, port), a)| {
                let wildcard_80 = *addr == Addr::V4([0, 0, 0, 0]) && *port == 80;
                let text = super::url::addr_text(addr, *port);
                (wildcard_80, a.servers.clone(), text, a.default)
            })
            .collect()
    }

    /// The sockets the http block opens; `listenless`: a server without
    /// `listen` listens on `*:80` (nginx run as root).
    pub fn sockets(&self, listenless: bool) -> usize {
        let implicit = (Addr::V4([0; 4]), 80);
        let extra = listenless && !self.addrs.contains_key(&implicit);
        let list = self.addrs.iter().map(|((a, p), x)| (a, *p, false, x.set));
        sockets(list.chain(extra.then_some((&implicit.0, 80, false, false))))
    }

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

/// The addresses of one stream (or mail) block: a TCP or UDP
/// address:port may be listened on once; whether it binds on its own.
#[derive(Default)]
pub struct StreamListens {
    seen: HashMap<(bool, Addr, u16), bool>,
}

impl StreamListens {
    pub fn add(&mut self, params: StreamParams, addr: &Addr, port: u16) -> Result<(), String> {
        let key = (params.udp, addr.clone(), port);
        if self.seen.insert(key, params.bind).is_none() {
            Ok(())
        } else {
            Err(format!(
                "duplicate \"{}\" address and port pair",
                addr_text(addr, port)
            ))
        }
    }

    /// The sockets the block opens (`ngx_stream_optimize_servers`).
    pub fn sockets(&self) -> usize {
        let list = self.seen.iter();
        sockets(list.map(|((udp, addr, port), bind)| (addr, *port, *udp, *bind)))
    }
}

/// How many sockets `ngx_http_init_listening` (and stream's, mail's)
/// opens for (address, port, UDP, binds on its own): on a port (of one
/// family and type) with a wildcard address, the wildcard and the
/// addresses that bind; on any other port, one per address.
fn sockets<'a>(list: impl Iterator<Item = (&'a Addr, u16, bool, bool)>) -> usize {
    // (family, port, udp) -> (has a wildcard, wildcard or binding, all)
    let mut ports: HashMap<(u8, u16, bool), (bool, usize, usize)> = HashMap::new();
    for (addr, port, udp, bind) in list {
        let (family, wildcard) = match addr {
            Addr::V4(a) => (4, *a == [0; 4]),
            Addr::V6(a) => (6, *a == [0; 16]),
            Addr::Unix(_) => (1, false),
        };
        let p = ports.entry((family, port, udp)).or_default();
        p.0 |= wildcard;
        p.1 += usize::from(wildcard || bind);
        p.2 += 1;
    }
    ports
        .values()
        .map(|&(wildcard, bound, all)| if wildcard { bound } else { all })
        .sum()
}

#[cfg(test)]
#[path = "listen_tests.rs"]
mod tests;
