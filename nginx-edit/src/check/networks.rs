//! Address lists that handlers read themselves: the entries of a `geo`
//! block (`ngx_http_geo` and `ngx_stream_geo`: CIDR networks, or
//! `a.b.c.d-e.f.g.h` ranges after `ranges`) and the name servers of
//! `resolver` (`ngx_resolver_create`: `valid=`, `ipv6=`, and since 1.23.1
//! `ipv4=`; anything else is an address, a name nginx looks up).

use super::numbers::{atoi, parse_time};
use super::url::{self, inet6_addr, inet_addr};

/// `ngx_ptocidr` (with geo's `255.255.255.255` special case): an IPv4 or
/// IPv6 address with an optional `/bits`.
pub(super) fn cidr(net: &[u8]) -> bool {
    if net == b"255.255.255.255" {
        return true;
    }
    let (addr, mask) = match net.iter().position(|&b| b == b'/') {
        Some(i) => (&net[..i], Some(&net[i + 1..])),
        None => (net, None),
    };
    let max = if inet_addr(addr).is_some() {
        32
    } else if inet6_addr(addr).is_some() {
        128
    } else {
        return false;
    };
    mask.is_none_or(|m| atoi(m).is_some_and(|bits| bits <= max))
}

/// `a.b.c.d-e.f.g.h` with start <= end, as host-order numbers.
fn range(net: &[u8]) -> Option<(u32, u32)> {
    let dash = net.iter().position(|&b| b == b'-')?;
    let a = u32::from_be_bytes(inet_addr(&net[..dash])?);
    let b = u32::from_be_bytes(inet_addr(&net[dash + 1..])?);
    (a <= b).then_some((a, b))
}

/// The `/16` blocks a range covers, as `ngx_http_geo_add_range` walks
/// them: (block, first, last) with 16-bit ends.
fn blocks(start: u32, end: u32) -> impl Iterator<Item = (u16, u16, u16)> {
    let mut n = Some(start);
    std::iter::from_fn(move || {
        let at = n?;
        let high = (at >> 16) as u16;
        let s = if at == start { at as u16 } else { 0 };
        let e = if (at | 0xffff) > end {
            end as u16
        } else {
            0xffff
        };
        n = (high != 0xffff)
            .then(|| (at + 0x10000) & 0xffff_0000)
            .filter(|&next| next <= end);
        Some((high, s, e))
    })
}

/// A `geo` block's entries as its handler reads them, one call per entry.
#[derive(Debug, Default)]
pub struct Geo {
    /// `ngx_stream_geo`, which has no `proxy` and `proxy_recursive`.
    stream: bool,
    ranges: bool,
    /// Whether a network entry (or `default` without `ranges`) made the tree.
    tree: bool,
    /// After `ranges`: each `/16` block's sorted ranges, as nginx keeps them
    /// (an entry that overlaps one without nesting in it is refused).
    spans: std::collections::HashMap<u16, Vec<(u16, u16)>>,
}

impl Geo {
    /// An empty `geo` block of http, or of stream.
    pub fn new(stream: bool) -> Self {
        Geo {
            stream,
            ..Geo::default()
        }
    }

    /// One entry (`key`, then its arguments); `Err` is nginx's refusal.
    pub fn entry(&mut self, key: &str, args: &[String]) -> Result<(), String> {
        if args.is_empty() {
            match key {
                "ranges" if self.tree => {
                    return Err(
                        "the \"ranges\" directive must be the first directive inside \"geo\" block"
                            .into(),
                    );
                }
                "ranges" => {
                    self.ranges = true;
                    return Ok(());
                }
                "proxy_recursive" if !self.stream => return Ok(()),
                _ => {}
            }
        }
        let [value] = args else {
            return Err("invalid number of the geo parameters".into());
        };
        match key {
            "include" => return Ok(()),
            "proxy" if !self.stream => {
                return if cidr(value.as_bytes()) {
                    Ok(())
                } else {
                    Err(format!("invalid network \"{value}\""))
                };
            }
            _ => {}
        }
        if self.ranges {
            if key == "default" {
                return Ok(());
            }
            let net = if key == "delete" { value } else { key };
            let Some((start, end)) = range(net.as_bytes()) else {
                return Err(format!("invalid range \"{net}\""));
            };
            if key == "delete" {
                self.delete(start, end);
                return Ok(());
            }
            return self.add(net, start, end);
        }
        self.tree = true;
        if key == "default" {
            return Ok(());
        }
        let net = if key == "delete" { value } else { key };
        if cidr(net.as_bytes()) {
            Ok(())
        } else {
            Err(format!("invalid network \"{net}\""))
        }
    }
}

impl Geo {
    /// `ngx_http_geo_add_range`: a range goes after, inside (split) or
    /// over the same start or end of one already there; any other overlap
    /// is refused, naming that range (as split so far) in its block.
    fn add(&mut self, net: &str, start: u32, end: u32) -> Result<(), String> {
        for (h, s, e) in blocks(start, end) {
            let list = self.spans.entry(h).or_default();
            let mut i = list.len();
            let mut placed = false;
            while i > 0 {
                i -= 1;
                let (rs, re) = list[i];
                if e < rs {
                    continue;
                }
                if s > re {
                    list.insert(i + 1, (s, e));
                } else if s == rs && e == re {
                    // a duplicate: nginx warns and takes the new value
                } else if s > rs && e < re {
                    list[i] = (rs, s - 1);
                    list.insert(i + 1, (s, e));
                    list.insert(i + 2, (e + 1, re));
                } else if s == rs && e < re {
                    list[i] = (e + 1, re);
                    list.insert(i, (s, e));
                } else if s > rs && e == re {
                    list[i] = (rs, s - 1);
                    list.insert(i + 1, (s, e));
                } else {
                    let (hi, lo) = (h >> 8, h & 0xff);
                    return Err(format!(
                        "range \"{net}\" overlaps \"{hi}.{lo}.{}.{}-{hi}.{lo}.{}.{}\"",
                        rs >> 8,
                        rs & 0xff,
                        re >> 8,
                        re & 0xff
                    ));
                }
                placed = true;
                break;
            }
            if !placed {
                list.insert(0, (s, e));
            }
        }
        Ok(())
    }

    /// `ngx_http_geo_delete_range`: removes the pieces that match exactly.
    fn delete(&mut self, start: u32, end: u32) {
        for (h, s, e) in blocks(start, end) {
            if let Some(list) = self.spans.get_mut(&h) {
                if let Some(i) = list.iter().position(|&r| r == (s, e)) {
                    list.remove(i);
                }
            }
        }
    }
}

/// `ngx_resolver_create`'s refusals for release `version`; `resolves`
/// looks a name up (`None`: do not).
pub fn resolver(
    args: &[String],
    version: u32,
    resolves: Option<&dyn Fn(&str) -> bool>,
) -> Result<(), String> {
    let ipv4 = version >= crate::directives::nginx_version(1, 23, 1);
    let mut servers = 0;
    for a in args {
        if let Some(t) = a.strip_prefix("valid=") {
            if parse_time(t.as_bytes(), true).is_none() {
                return Err(format!("invalid parameter: {a}"));
            }
            continue;
        }
        let flag = a
            .strip_prefix("ipv6=")
            .or(a.strip_prefix("ipv4=").filter(|_| ipv4));
        if let Some(v) = flag {
            if v != "on" && v != "off" {
                return Err(format!("invalid parameter: {a}"));
            }
            continue;
        }
        let u = url::parse_url(a.as_bytes(), url::RESOLVER)
            .map_err(|e| format!("{e} in resolver \"{a}\""))?;
        if !u.host.is_empty() {
            // `ipv4=off` before 1.23.1 is a name no resolver knows.
            let host = String::from_utf8_lossy(&u.host);
            let found = match resolves {
                _ if host.contains('=') => false,
                Some(lookup) => lookup(&host),
                None => true,
            };
            if !found {
                return Err(format!("host not found in resolver \"{a}\""));
            }
        }
        servers += 1;
    }
    if servers == 0 {
        return Err("no name servers defined".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::directives::nginx_version;

    fn geo(entries: &[&str]) -> Result<(), String> {
        let mut g = Geo::default();
        for e in entries {
            let mut words = e.split_whitespace().map(String::from);
            let key = words.next().unwrap();
            let args: Vec<String> = words.collect();
            g.entry(&key, &args)?;
        }
        Ok(())
    }

    #[test]
    fn stream_geo_has_no_proxy_entries() {
        let stream = |entries: &[&str]| {
            let mut g = Geo::new(true);
            entries.iter().try_for_each(|e| {
                let mut words = e.split_whitespace();
                let key = words.next().unwrap_or_default();
                g.entry(key, &words.map(String::from).collect::<Vec<_>>())
            })
        };
        assert_eq!(stream(&["default 0", "10.0.0.0/8 1"]), Ok(()));
        assert_eq!(
            stream(&["proxy 10.0.0.1"]),
            Err("invalid network \"proxy\"".into())
        );
        assert_eq!(
            stream(&["proxy_recursive"]),
            Err("invalid number of the geo parameters".into())
        );
    }

    #[test]
    fn geo_networks_and_ranges() {
        assert_eq!(
            geo(&[
                "default 0",
                "10.0.0.0/8 1",
                "::1 2",
                "delete 10.1.0.0/16",
                "255.255.255.255 3"
            ]),
            Ok(())
        );
        assert_eq!(
            geo(&["ranges", "default 0", "192.168.1.0/24 1"]),
            Err("invalid range \"192.168.1.0/24\"".into())
        );
        assert_eq!(
            geo(&["ranges", "10.0.0.1-10.0.0.9 1", "10.0.0.9-10.0.0.1 2"]),
            Err("invalid range \"10.0.0.9-10.0.0.1\"".into())
        );
        assert_eq!(
            geo(&["ranges", "10.0.0.1-10.0.0.5 1", "10.0.0.3-10.0.0.9 2"]),
            Err("range \"10.0.0.3-10.0.0.9\" overlaps \"10.0.0.1-10.0.0.5\"".into())
        );
        // nested ranges split the outer one; the overlap names the piece
        assert_eq!(
            geo(&[
                "ranges",
                "10.0.0.0-10.0.0.255 1",
                "10.0.0.10-10.0.0.20 2",
                "10.0.0.15-10.0.0.30 3"
            ]),
            Err("range \"10.0.0.15-10.0.0.30\" overlaps \"10.0.0.21-10.0.0.255\"".into())
        );
        assert_eq!(
            geo(&[
                "ranges",
                "10.0.0.1-10.0.0.5 1",
                "delete 10.0.0.1-10.0.0.5",
                "10.0.0.3-10.0.0.9 2",
                "0.0.0.0-10.255.255.254 4"
            ]),
            Err("range \"0.0.0.0-10.255.255.254\" overlaps \"10.0.0.3-10.0.0.9\"".into())
        );
        assert_eq!(
            geo(&["default 0", "ranges"]),
            Err("the \"ranges\" directive must be the first directive inside \"geo\" block".into())
        );
        assert_eq!(
            geo(&["10.0.0.0/33 1"]),
            Err("invalid network \"10.0.0.0/33\"".into())
        );
        assert_eq!(
            geo(&["10.0.0.0 1 2"]),
            Err("invalid number of the geo parameters".into())
        );
    }

    #[test]
    fn resolver_parameters_by_release() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let v22 = nginx_version(1, 22, 1);
        assert_eq!(
            resolver(&args("127.0.0.1 [::1]:53 valid=30s ipv6=off"), v22, None),
            Ok(())
        );
        assert_eq!(
            resolver(&args("127.0.0.1 ipv4=off"), v22, None),
            Err("host not found in resolver \"ipv4=off\"".into())
        );
        assert_eq!(
            resolver(&args("127.0.0.1 ipv4=off"), nginx_version(1, 23, 1), None),
            Ok(())
        );
        assert_eq!(
            resolver(&args("127.0.0.1 ipv6=no"), v22, None),
            Err("invalid parameter: ipv6=no".into())
        );
        assert_eq!(
            resolver(&args("127.0.0.1:abc"), v22, None),
            Err("invalid port in resolver \"127.0.0.1:abc\"".into())
        );
        assert_eq!(
            resolver(&args("valid=10s"), v22, None),
            Err("no name servers defined".into())
        );
    }
}
