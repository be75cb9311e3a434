//! Addresses as nginx 1.22.1 reads them (`ngx_parse_url` and its helpers,
//! `src/core/ngx_inet.c`): `listen` addresses, upstream servers, `*_pass`
//! URLs, name servers. Host names need DNS: they are kept, not looked up.

use super::numbers::atoi;

/// `sizeof(((struct sockaddr_un *) 0)->sun_path)` on Linux.
const SUN_PATH: usize = 108;

/// A socket address that needs no name resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
    Unix(Vec<u8>),
}

/// What `ngx_parse_url` made of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `None`: a host name, resolved (or not) by DNS.
    pub addr: Option<Addr>,
    /// The port, or the default port when none was written (0 for unix).
    pub port: u16,
    /// The end of a `listen` port range (`8000-8010`), 0 without one.
    pub last_port: u16,
    /// Whether a URI part followed the address (`uri_part` callers only).
    pub has_uri: bool,
    /// The host as written when it is a name (`addr` is `None`), which
    /// nginx resolves; empty otherwise.
    pub host: Vec<u8>,
    /// No port was written (`u.no_port`): the default port applies.
    pub no_port: bool,
    /// An IP address as written (`[::1]` with its brackets), which nginx
    /// also keeps as `u.host`: an upstream's name; empty otherwise.
    pub literal: Vec<u8>,
}

impl Url {
    /// `u.host` of an inet URL: the name an upstream gets from it (host
    /// names and IP literals alike), and whether it needs no lookup.
    pub fn upstream_host(&self) -> Option<(String, bool)> {
        if !self.host.is_empty() {
            Some((String::from_utf8_lossy(&self.host).into_owned(), false))
        } else if !self.literal.is_empty() {
            Some((String::from_utf8_lossy(&self.literal).into_owned(), true))
        } else {
            None
        }
    }
}

/// How the caller sets up `ngx_url_t` before `ngx_parse_url`.
#[derive(Debug, Clone, Copy)]
pub struct UrlKind {
    /// `u.listen`: a bare number is a port, ranges are allowed.
    pub listen: bool,
    /// `u.uri_part`: a `/...` (or `?...`) after the address is a URI.
    pub uri_part: bool,
    pub default_port: u16,
}

/// `ngx_parse_url`: `Err` is the `u->err` text.
/// An address with no default port (stream `server`, `proxy_pass`).
pub const NO_PORT: UrlKind = UrlKind {
    listen: false,
    uri_part: false,
    default_port: 0,
};

/// A name server of `resolver` (port 53 by default).
pub const RESOLVER: UrlKind = UrlKind {
    listen: false,
    uri_part: false,
    default_port: 53,
};

/// A `listen` address with no default port (stream, mail).
pub const LISTEN_NO_PORT: UrlKind = UrlKind {
    listen: true,
    uri_part: false,
    default_port: 0,
};

pub fn parse_url(url: &[u8], kind: UrlKind) -> Result<Url, &'static str> {
    if url.len() >= 5 && url[..5].eq_ignore_ascii_case(b"unix:") {
        return parse_unix(&url[5..], kind);
    }
    if url.first() == Some(&b'[') {
        return parse_inet6(&url[1..], kind);
    }
    parse_inet(url, kind)
}

fn find(s: &[u8], c: u8) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// `ngx_atoi` limited to a port: 1..=65535, else `invalid port`.
fn port_number(s: &[u8]) -> Result<u16, &'static str> {
    atoi(s)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|&n| n >= 1)
        .ok_or("invalid port")
}

/// The `:PORT` or `:PORT-LAST` of an address (ranges for `listen` only).
fn port_and_range(port: &[u8], listen: bool) -> Result<(u16, u16), &'static str> {
    let (first, last) = match find(port, b'-').filter(|_| listen) {
        Some(d) => (&port[..d], port_number(&port[d + 1..])?),
        None => (port, 0),
    };
    let n = port_number(first)?;
    if last != 0 && n > last {
        return Err("invalid port range");
    }
    Ok((n, last))
}

/// `ngx_parse_unix_domain_url`.
fn parse_unix(rest: &[u8], kind: UrlKind) -> Result<Url, &'static str> {
    let (path, has_uri) = match find(rest, b':').filter(|_| kind.uri_part) {
        Some(colon) => (&rest[..colon], colon + 1 < rest.len()),
        None => (rest, false),
    };
    if path.is_empty() {
        return Err("no path in the unix domain socket");
    }
    if path.len() + 1 > SUN_PATH {
        return Err("too long path in the unix domain socket");
    }
    Ok(Url {
        addr: Some(Addr::Unix(path.to_vec())),
        port: 0,
        last_port: 0,
        has_uri,
        host: Vec::new(),
        no_port: false,
        literal: Vec::new(),
    })
}

/// `ngx_parse_inet_url`.
fn parse_inet(url: &[u8], kind: UrlKind) -> Result<Url, &'static str> {
    // The first `:`, and the first `/` or `?` (one pass).
    let (mut port_at, mut uri) = (None, None);
    for (i, &c) in url.iter().enumerate() {
        match c {
            b':' if port_at.is_none() => port_at = Some(i),
            b'/' | b'?' => {
                uri = Some(i);
                break;
            }
            _ => {}
        }
    }
    let mut last = url.len();
    if let Some(u) = uri {
        if kind.listen || !kind.uri_part {
            return Err("invalid host");
        }
        last = u;
        if port_at.is_some_and(|p| u < p) {
            port_at = None;
        }
    }
    let mut out = Url {
        addr: None,
        port: kind.default_port,
        last_port: 0,
        has_uri: uri.is_some(),
        host: Vec::new(),
        no_port: true,
        literal: Vec::new(),
    };
    if let Some(p) = port_at {
        (out.port, out.last_port) = port_and_range(&url[p + 1..last], kind.listen)?;
        out.no_port = false;
        last = p;
    } else if uri.is_none() && kind.listen {
        // A bare value is tried as a port (or range) first.
        let mut err = None;
        let mut number = url;
        let mut is_port = true;
        if let Some(d) = find(url, b'-') {
            match atoi(&url[d + 1..]) {
                None => is_port = false,
                Some(n) => match u16::try_from(n).ok().filter(|&n| n >= 1) {
                    Some(n) => out.last_port = n,
                    None => err = Some("invalid port"),
                },
            }
            number = &url[..d];
        }
        if is_port && atoi(number).is_some() {
            if let Some(e) = err {
                return Err(e);
            }
            out.port = port_number(number)?;
            if out.last_port != 0 && out.port > out.last_port {
                return Err("invalid port range");
            }
            out.addr = Some(Addr::V4([0; 4]));
            out.no_port = false;
            return Ok(out);
        }
        out.last_port = 0;
    }
    let host = &url[..last];
    if host.is_empty() {
        return Err("no host");
    }
    if kind.listen && host == b"*" {
        out.addr = Some(Addr::V4([0; 4]));
    } else {
        out.addr = inet_addr(host).map(Addr::V4);
    }
    if out.addr.is_none() {
        out.host = host.to_vec();
    } else {
        out.literal = host.to_vec();
    }
    Ok(out)
}

/// `ngx_parse_inet6_url`, given what follows the `[`.
fn parse_inet6(rest: &[u8], kind: UrlKind) -> Result<Url, &'static str> {
    let close = find(rest, b']').ok_or("invalid host")?;
    let after = &rest[close + 1..];
    let mut last = after.len();
    let uri = find(after, b'/');
    if let Some(u) = uri {
        if kind.listen || !kind.uri_part {
            return Err("invalid host");
        }
        last = u;
    }
    let mut out = Url {
        addr: None,
        port: kind.default_port,
        last_port: 0,
        has_uri: uri.is_some(),
        host: Vec::new(),
        no_port: true,
        literal: Vec::new(),
    };
    if last > 0 {
        if after[0] != b':' {
            return Err("invalid host");
        }
        (out.port, out.last_port) = port_and_range(&after[1..last], kind.listen)?;
        out.no_port = false;
    }
    let host = &rest[..close];
    if host.is_empty() {
        return Err("no host");
    }
    out.addr = Some(Addr::V6(inet6_addr(host).ok_or("invalid IPv6 address")?));
    out.literal = [b"[", host, b"]"].concat();
    Ok(out)
}

/// `ngx_inet_addr`: four dotted decimal octets; `255.255.255.255` is
/// `INADDR_NONE`, so nginx takes it for a host name.
pub(super) fn inet_addr(text: &[u8]) -> Option<[u8; 4]> {
    let (mut addr, mut octet, mut dots) = (0u32, 0u32, 0);
    for &c in text {
        match c {
            b'0'..=b'9' => {
                octet = octet * 10 + u32::from(c - b'0');
                if octet > 255 {
                    return None;
                }
            }
            b'.' => {
                addr = addr.wrapping_shl(8).wrapping_add(octet);
                octet = 0;
                dots += 1;
            }
            _ => return None,
        }
    }
    if dots != 3 {
        return None;
    }
    let addr = addr.wrapping_shl(8).wrapping_add(octet);
    (addr != u32::MAX).then(|| addr.to_be_bytes())
}

/// `ngx_inet6_addr`: hex groups, one `::`, an optional dotted IPv4 tail.
pub(super) fn inet6_addr(text: &[u8]) -> Option<[u8; 16]> {
    if text.is_empty() {
        return None;
    }
    let mut out = [0u8; 16];
    let mut at = 0;
    let (mut zero, mut digit) = (None, None);
    let (mut nibbles, mut word, mut words_left) = (0, 0u32, 8);
    let mut i = usize::from(text[0] == b':');
    while i < text.len() {
        let c = text[i];
        i += 1;
        if c == b':' {
            if nibbles > 0 {
                digit = Some(i);
                out[at..at + 2].copy_from_slice(&(word as u16).to_be_bytes());
                at += 2;
                words_left -= 1;
                if words_left > 0 {
                    nibbles = 0;
                    word = 0;
                    continue;
                }
            } else if zero.is_none() {
                digit = Some(i);
                zero = Some(at);
                continue;
            }
            return None;
        }
        if c == b'.' && nibbles > 0 {
            let from = digit.filter(|_| words_left >= 2)?;
            let v4 = u32::from_be_bytes(inet_addr(&text[from..])?);
            out[at..at + 2].copy_from_slice(&((v4 >> 16) as u16).to_be_bytes());
            at += 2;
            words_left -= 1;
            word = v4 & 0xffff;
            break;
        }
        nibbles += 1;
        if nibbles > 4 {
            return None;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            _ if (b'a'..=b'f').contains(&(c | 0x20)) => (c | 0x20) - b'a' + 10,
            _ => return None,
        };
        word = word * 16 + u32::from(v);
    }
    if nibbles == 0 && zero.is_none() {
        return None;
    }
    out[at..at + 2].copy_from_slice(&(word as u16).to_be_bytes());
    at += 2;
    words_left -= 1;
    match (words_left, zero) {
        (0, None) => Some(out),
        (n, Some(z)) if n > 0 => {
            // Move what followed `::` to the end, zeros in the gap.
            let gap = n * 2;
            out.copy_within(z..at, z + gap);
            out[z..z + gap].fill(0);
            Some(out)
        }
        _ => None,
    }
}

/// `ngx_sock_ntop` with the port: `127.0.0.1:80`, `[::1]:80`,
/// `unix:/run/x.sock`.
pub fn addr_text(addr: &Addr, port: u16) -> String {
    match addr {
        Addr::V4([a, b, c, d]) => format!("{a}.{b}.{c}.{d}:{port}"),
        Addr::V6(bytes) => format!("[{}]:{port}", inet6_ntop(bytes)),
        Addr::Unix(path) => format!("unix:{}", String::from_utf8_lossy(path)),
    }
}

/// `ngx_inet6_ntop`: the longest run of two or more zero groups becomes
/// `::`; some addresses that start with zeros keep a dotted IPv4 tail.
fn inet6_ntop(p: &[u8; 16]) -> String {
    let group = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
    let (mut zero, mut max, mut run, mut start) = (None, 1, 0, 0);
    for i in (0..16).step_by(2) {
        if group(i) != 0 {
            if max < run {
                zero = Some(start);
                max = run;
            }
            run = 0;
            continue;
        }
        if run == 0 {
            start = i;
        }
        run += 1;
    }
    if max < run {
        zero = Some(start);
        max = run;
    }
    let mut text = String::new();
    let mut end = 16;
    if zero == Some(0) {
        if (max == 5 && p[10] == 0xff && p[11] == 0xff)
            || max == 6
            || (max == 7 && p[14] != 0 && p[15] != 1)
        {
            end = 12;
        }
        text.push(':');
    }
    let mut i = 0;
    while i < end {
        if Some(i) == zero {
            text.push(':');
            i += max * 2;
            continue;
        }
        text.push_str(&format!("{:x}", group(i)));
        if i < 14 {
            text.push(':');
        }
        i += 2;
    }
    if end == 12 {
        text.push_str(&format!("{}.{}.{}.{}", p[12], p[13], p[14], p[15]));
    }
    text
}

/// The `so_keepalive=` value when not `on`/`off`: `idle:interval:count`,
/// any part may be empty, not all zero.
#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
