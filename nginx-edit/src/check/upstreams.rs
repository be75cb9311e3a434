//! The upstreams of an http block by name, as `ngx_http_upstream_add`
//! keeps them (`src/http/ngx_http_upstream.c`, nginx 1.22.1): `upstream`
//! blocks and the implicit ones a `proxy_pass` to a name makes; then what
//! `ngx_http_upstream_init_round_robin` refuses once the block is read.

use super::machine::Resolver;

/// Where a directive ends: (file index, byte offset).
pub type At = (usize, usize);

/// An upstream nginx knows by name (`ngx_http_upstream_srv_conf_t`).
#[derive(Debug)]
struct Upstream {
    /// The name as first written.
    host: String,
    /// The `proxy_pass` port (the scheme's default when none is written);
    /// 0 for a block.
    port: u16,
    no_port: bool,
    /// An IP address, which nginx needs not look up.
    literal: bool,
    /// An `upstream { }` block, not one a `proxy_pass` made.
    block: bool,
    /// A block's `server`s, and whether one is not `backup`.
    servers: usize,
    primary: bool,
    /// Where its `upstream {` or `proxy_pass` ends.
    at: At,
}

/// The upstreams of one http block, in the order nginx creates them.
#[derive(Debug, Default)]
pub struct Upstreams {
    list: Vec<Upstream>,
    /// Indices in `list` by lowercased name, in order (thousands of
    /// upstreams must not make each lookup a scan).
    by_name: std::collections::HashMap<String, Vec<usize>, crate::directives::FastHash>,
    /// The block whose `server`s are being read.
    current: Option<usize>,
}

impl Upstreams {
    /// `upstream NAME {`: an implicit upstream of that name becomes the
    /// block, unless its `proxy_pass` wrote a port: then nginx refuses, at
    /// the `proxy_pass` line (returned).
    pub fn block(&mut self, name: &str, at: At) -> Result<(), (At, String)> {
        let found = self
            .named(name)
            .iter()
            .copied()
            .find(|&i| !self.list[i].block);
        let index = match found {
            Some(i) => {
                let u = &mut self.list[i];
                u.block = true; // (when refused, nginx stops: no lookup)
                if !u.no_port {
                    let message = format!("upstream \"{}\" may not have port {}", u.host, u.port);
                    return Err((u.at, message));
                }
                u.at = at;
                i
            }
            None => {
                self.index(name);
                self.list.push(Upstream {
                    host: name.to_string(),
                    port: 0,
                    no_port: true,
                    literal: false,
                    block: true,
                    servers: 0,
                    primary: false,
                    at,
                });
                self.list.len() - 1
            }
        };
        self.current = Some(index);
        Ok(())
    }

    /// The upstreams named `name` (any case), in order.
    fn named(&self, name: &str) -> &[usize] {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Records that the next upstream pushed is named `name`.
    fn index(&mut self, name: &str) {
        let next = self.list.len();
        self.by_name
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(next);
    }

    /// A `server` of the block being read.
    pub fn server(&mut self, params: &[String]) {
        if let Some(u) = self.current.and_then(|i| self.list.get_mut(i)) {
            u.servers += 1;
            u.primary |= !params.iter().any(|p| p == "backup");
        }
    }

    /// `proxy_pass http://HOST[:PORT]` (or `fastcgi_pass HOST:PORT` ...):
    /// the upstream of that name (a block may not be given a port), or a
    /// new implicit one (`literal`: an IP address, not looked up).
    pub fn pass(
        &mut self,
        (host, literal): (&str, bool),
        port: u16,
        no_port: bool,
        at: At,
    ) -> Result<(), String> {
        for &i in self.named(host) {
            let u = &self.list[i];
            if u.block && !no_port {
                return Err(format!("upstream \"{host}\" may not have port {port}"));
            }
            if u.port != 0 && port != 0 && u.port != port {
                continue;
            }
            return Ok(());
        }
        self.index(host);
        self.list.push(Upstream {
            host: host.to_string(),
            port,
            no_port,
            literal,
            block: false,
            servers: 0,
            primary: false,
            at,
        });
        Ok(())
    }

    /// Once the http block is read, each upstream in order: a block whose
    /// servers are all `backup`; with `implicit`, one a `*_pass` made that
    /// has no port (`fastcgi_pass php;`) or, with a resolver, whose host
    /// does not resolve (without `implicit`, a snippet's, only those that
    /// wrote a port are looked up). The first refusal, as nginx stops there.
    pub fn init(self, implicit: bool, resolver: Option<&Resolver>) -> Option<(At, String)> {
        for u in self.list {
            if u.block && u.servers > 0 && !u.primary {
                return Some((u.at, format!("no servers in upstream \"{}\"", u.host)));
            }
            // A snippet's `proxy_pass http://app` may name an upstream of
            // the config that includes it; `http://app:3000` may not (a
            // block refuses a port), so nginx looks that one up anyway.
            if u.block || (!implicit && u.no_port) {
                continue;
            }
            if u.port == 0 {
                return Some((u.at, format!("no port in upstream \"{}\"", u.host)));
            }
            if let Some(r) = resolver.filter(|_| !u.literal) {
                if !r.resolves(&u.host) {
                    return Some((u.at, format!("host not found in upstream \"{}\"", u.host)));
                }
            }
        }
        None
    }
}
