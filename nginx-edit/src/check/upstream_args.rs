//! What the upstream module's handlers refuse in their arguments:
//! `keepalive` (`ngx_http_upstream_keepalive`), `hash` and `random`
//! (`ngx_*_upstream_hash`, `ngx_*_upstream_random`), `*_bind`
//! (`ngx_http_upstream_bind_set_slot`, `ngx_stream_proxy_bind`) and a
//! `server`'s parameters (`ngx_http_upstream_server`,
//! `ngx_stream_upstream_server`).

use super::numbers::{atoi, parse_time};
use super::url::{inet6_addr, inet_addr};

/// `ngx_http_upstream_keepalive`: a number of connections, not 0 in the
/// one-argument form (1.22); the two-argument form (1.29.7) allows 0 and
/// a second argument `local`.
pub fn keepalive(args: &[String], two_forms: bool) -> Result<(), String> {
    let Some(count) = args.first() else {
        return Ok(());
    };
    match atoi(count.as_bytes()) {
        None => {}
        Some(0) if !two_forms => {}
        Some(_) => {
            return match args.get(1) {
                Some(p) if p != "local" => Err(format!("invalid parameter \"{p}\"")),
                _ => Ok(()),
            };
        }
    }
    Err(format!(
        "invalid value \"{count}\" in \"keepalive\" directive"
    ))
}

/// `hash KEY [consistent]` and `random [two [least_conn]]`, the same in
/// http and stream: any other word is refused.
pub fn balancer(name: &str, args: &[String]) -> Result<(), String> {
    let allowed: &[&str] = match name {
        "hash" => &["", "consistent"],
        "random" => &["two", "least_conn"],
        _ => return Ok(()),
    };
    match args
        .iter()
        .zip(allowed)
        .find(|(a, ok)| !ok.is_empty() && a != *ok)
    {
        Some((a, _)) => Err(format!("invalid parameter \"{a}\"")),
        None => Ok(()),
    }
}

/// `proxy_bind ADDRESS [transparent]` (and http's other `*_bind`): `off`
/// alone, a value with variables, or an IP address with an optional port
/// (`ngx_parse_addr_port`: no host names).
pub fn bind(args: &[String]) -> Result<(), String> {
    let Some(addr) = args.first() else {
        return Ok(());
    };
    if args.len() == 1 && addr == "off" {
        return Ok(());
    }
    if !addr.contains('$') && !addr_port(addr.as_bytes()) {
        return Err(format!("invalid address \"{addr}\""));
    }
    match args.get(1) {
        Some(p) if p != "transparent" => Err(format!("invalid parameter \"{p}\"")),
        _ => Ok(()),
    }
}

/// `ngx_parse_addr_port`: `ADDR`, `ADDR:PORT` or `[ADDR6]:PORT`.
fn addr_port(text: &[u8]) -> bool {
    let addr = |t: &[u8]| inet_addr(t).is_some() || inet6_addr(t).is_some();
    if addr(text) {
        return true;
    }
    let (host, port) = if text.first() == Some(&b'[') {
        match text.iter().position(|&b| b == b']') {
            Some(close) if text.get(close + 1) == Some(&b':') => {
                (&text[1..close], &text[close + 2..])
            }
            _ => return false,
        }
    } else {
        match text.iter().position(|&b| b == b':') {
            Some(colon) => (&text[..colon], &text[colon + 1..]),
            None => return false,
        }
    };
    atoi(port).is_some_and(|p| (1..=65535).contains(&p)) && addr(host)
}

/// `ngx_http_upstream_server`'s parameters (1.22 to 1.27.2): `weight=`
/// (not 0), `max_conns=`, `max_fails=`, `fail_timeout=`, `backup` (unless
/// the balancing method so far is `hash`, `ip_hash` or `random`), `down`.
pub fn upstream_server(params: &[String], backup_ok: bool) -> Result<(), String> {
    for p in params {
        let b = p.as_bytes();
        let number = |prefix: &[u8]| atoi(&b[prefix.len()..]);
        let ok = if b.starts_with(b"weight=") {
            number(b"weight=").is_some_and(|n| n != 0)
        } else if b.starts_with(b"max_conns=") {
            number(b"max_conns=").is_some()
        } else if b.starts_with(b"max_fails=") {
            number(b"max_fails=").is_some()
        } else if let Some(time) = b.strip_prefix(b"fail_timeout=") {
            parse_time(time, true).is_some()
        } else if p == "backup" {
            if !backup_ok {
                return Err(format!(
                    "balancing method does not support parameter \"{p}\""
                ));
            }
            true
        } else {
            p == "down"
        };
        if !ok {
            return Err(format!("invalid parameter \"{p}\""));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::strings;
    #[test]
    fn keepalive_counts() {
        let one = |s: &str| keepalive(&strings(&[s]), false);
        assert_eq!(one("16"), Ok(()));
        let invalid = |s: &str| Err(format!("invalid value \"{s}\" in \"keepalive\" directive"));
        assert_eq!(one("0"), invalid("0"));
        assert_eq!(one("x"), invalid("x"));
        assert_eq!(keepalive(&strings(&["0", "local"]), true), Ok(()));
        assert_eq!(
            keepalive(&strings(&["1", "remote"]), true),
            Err("invalid parameter \"remote\"".into())
        );
    }

    #[test]
    fn bind_addresses() {
        let run = |a: &[&str]| bind(&strings(a));
        for ok in [
            &["off"][..],
            &["127.0.0.1"],
            &["127.0.0.1:8000"],
            &["::1"],
            &["[::1]:80"],
            &["$remote_addr", "transparent"],
        ] {
            assert_eq!(run(ok), Ok(()), "{ok:?}");
        }
        for bad in ["localhost", "127.0.0.1:abc", "[::1]", "127.0.0.1:0"] {
            assert_eq!(run(&[bad]), Err(format!("invalid address \"{bad}\"")));
        }
        assert_eq!(
            run(&["off", "transparent"]),
            Err("invalid address \"off\"".into())
        );
        assert_eq!(
            run(&["127.0.0.1", "foo"]),
            Err("invalid parameter \"foo\"".into())
        );
    }

    #[test]
    fn balancing_method_parameters() {
        let run = |name: &str, a: &[&str]| balancer(name, &strings(a));
        assert_eq!(run("hash", &["$remote_addr", "consistent"]), Ok(()));
        assert_eq!(run("random", &["two", "least_conn"]), Ok(()));
        assert_eq!(run("random", &[]), Ok(()));
        let invalid = |p: &str| Err(format!("invalid parameter \"{p}\""));
        assert_eq!(
            run("hash", &["$remote_addr", "Consistent"]),
            invalid("Consistent")
        );
        assert_eq!(run("random", &["three"]), invalid("three"));
        assert_eq!(run("random", &["two", "ip_hash"]), invalid("ip_hash"));
    }

    #[test]
    fn upstream_server_parameters() {
        let check = |ps: &[&str]| upstream_server(&strings(ps), true);
        assert_eq!(
            check(&[
                "weight=5",
                "max_conns=0",
                "max_fails=0",
                "fail_timeout=1m30s",
                "backup",
                "down"
            ]),
            Ok(())
        );
        for bad in [
            "weight=0",
            "weigth=2",
            "max_fails=x",
            "fail_timeout=10x",
            "DOWN",
            "resolve",
        ] {
            assert_eq!(check(&[bad]), Err(format!("invalid parameter \"{bad}\"")));
        }
        assert_eq!(
            upstream_server(&strings(&["backup"]), false),
            Err("balancing method does not support parameter \"backup\"".into())
        );
    }
}
