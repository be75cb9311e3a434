//! Address lists that handlers read themselves: the entries of a `geo`
//! block (`ngx_http_geo` and `ngx_stream_geo`: CIDR networks, or
//! `a.b.c.d-e.f.g.h` ranges after `ranges`) and the name servers of
//! `resolver` (`ngx_resolver_create`: `valid=`, `ipv6=`, and since 1.23.1
//! `ipv4=`; anything else is an address, a name nginx looks up).

use super::handlers::{atoi, parse_time};
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

/// `a.b.c.d-e.f.g.h` with start <= end.
fn range(net: &[u8]) -> bool {
    let Some(dash) = net.iter().position(|&b| b == b'-') else {
        return false;
    };
    match (inet_addr(&net[..dash]), inet_addr(&net[dash + 1..])) {
        (Some(a), Some(b)) => u32::from_be_bytes(a) <= u32::from_be_bytes(b),
        _ => false,
    }
}

/// A `geo` block's entries as its handler reads them, one call per entry.
#[derive(Debug, Default)]
pub struct Geo {
    ranges: bool,
    /// Whether a network entry (or `default` without `ranges`) made the tree.
    tree: bool,
}

impl Geo {
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
                "proxy_recursive" => return Ok(()),
                _ => {}
            }
        }
        let [value] = args else {
            return Err("invalid number of the geo parameters".into());
        };
        match key {
            "include" => return Ok(()),
            "proxy" => {
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
            return if range(net.as_bytes()) {
                Ok(())
            } else {
                Err(format!("invalid range \"{net}\""))
            };
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
