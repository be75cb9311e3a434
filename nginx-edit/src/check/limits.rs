//! `limit_req` and `limit_conn` as their handlers read them: a zone may
//! be limited once per block (`ngx_http_limit_req`,
//! `ngx_http_limit_conn`, `ngx_stream_limit_conn` compare the zone with
//! the block's earlier limits: `"limit_req" directive is duplicate`), and
//! `limit_conn`'s number is a positive count under 65536; `limit_req`'s
//! parameters, and the zones `limit_req_zone` and `limit_conn_zone` declare.

use super::numbers::{atoi, parse_size};

/// nginx's page size on Linux (`ngx_pagesize`): a zone has 8 at least.
const PAGE_SIZE: i64 = 4096;

/// The zone a limit directive names, as the key of its block's limits
/// (`None` for other handlers, or when the zone is missing: the handler
/// refused that earlier).
pub fn limit_key(set: &str, args: &[String]) -> Option<String> {
    let zone = match set {
        "ngx_http_limit_req" => args.iter().find_map(|a| a.strip_prefix("zone="))?,
        "ngx_http_limit_conn" | "ngx_stream_limit_conn" => args.first()?.as_str(),
        _ => return None,
    };
    Some(format!("{set} zone {zone}"))
}

/// `limit_conn ZONE NUMBER`'s number, once the zone is known.
pub fn connections(set: &str, args: &[String]) -> Result<(), String> {
    if !matches!(set, "ngx_http_limit_conn" | "ngx_stream_limit_conn") {
        return Ok(());
    }
    let Some(n) = args.get(1) else {
        return Ok(());
    };
    match atoi(n.as_bytes()) {
        None | Some(0) => Err(format!("invalid number of connections \"{n}\"")),
        Some(65536..) => Err("connection limit must be less 65536".into()),
        Some(_) => Ok(()),
    }
}

/// `ngx_http_limit_req`: `zone=`, `burst=`, `delay=`, `nodelay`.
pub fn limit_req(name: &str, args: &[String]) -> Result<(), String> {
    let positive = |v: &str| atoi(v.as_bytes()).is_some_and(|n| n > 0);
    let mut zone = false;
    for a in args {
        if a.starts_with("zone=") {
            zone = true;
        } else if let Some(v) = a.strip_prefix("burst=") {
            if !positive(v) {
                return Err(format!("invalid burst value \"{a}\""));
            }
        } else if let Some(v) = a.strip_prefix("delay=") {
            if !positive(v) {
                return Err(format!("invalid delay value \"{a}\""));
            }
        } else if a != "nodelay" {
            return Err(format!("invalid parameter \"{a}\""));
        }
    }
    if !zone {
        return Err(format!("\"{name}\" must have \"zone\" parameter"));
    }
    Ok(())
}

/// `ngx_http_limit_req_zone` (`rate`) and `ngx_http_limit_conn_zone`:
/// a key, `zone=NAME:SIZE` of at least 8 pages.
pub fn limit_zone(name: &str, args: &[String], rate: bool) -> Result<(), String> {
    let mut zone = false;
    for a in args.iter().skip(1) {
        if let Some(z) = a.strip_prefix("zone=") {
            let Some((_, size)) = z.split_once(':') else {
                return Err(format!("invalid zone size \"{a}\""));
            };
            match parse_size(size.as_bytes()) {
                None => return Err(format!("invalid zone size \"{a}\"")),
                Some(n) if n < 8 * PAGE_SIZE => return Err(format!("zone \"{a}\" is too small")),
                Some(_) => zone = !z.starts_with(':'),
            }
        } else if let Some(r) = a.strip_prefix("rate=").filter(|_| rate) {
            let n = r
                .strip_suffix("r/s")
                .or_else(|| r.strip_suffix("r/m"))
                .unwrap_or(r);
            if atoi(n.as_bytes()).is_none_or(|n| n <= 0) {
                return Err(format!("invalid rate \"{a}\""));
            }
        } else {
            return Err(format!("invalid parameter \"{a}\""));
        }
    }
    if !zone {
        return Err(format!("\"{name}\" must have \"zone\" parameter"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn limits_are_keyed_by_zone() {
        let req = limit_key("ngx_http_limit_req", &strings("zone=one burst=5"));
        assert_eq!(req.as_deref(), Some("ngx_http_limit_req zone one"));
        let conn = limit_key("ngx_http_limit_conn", &strings("addr 10"));
        assert_eq!(conn.as_deref(), Some("ngx_http_limit_conn zone addr"));
        assert_eq!(limit_key("ngx_http_core_root", &strings("/x")), None);
    }

    #[test]
    fn limit_req_parameters() {
        assert_eq!(
            limit_req("limit_req", &strings("zone=a burst=x")),
            Err("invalid burst value \"burst=x\"".into())
        );
        assert_eq!(
            limit_req("limit_req", &strings("burst=5 nodelay")),
            Err("\"limit_req\" must have \"zone\" parameter".into())
        );
    }

    #[test]
    fn connection_counts() {
        let c = |s: &str| connections("ngx_http_limit_conn", &strings(s));
        assert_eq!(c("addr 10"), Ok(()));
        assert_eq!(
            c("addr 12q"),
            Err("invalid number of connections \"12q\"".into())
        );
        assert_eq!(
            c("addr 0"),
            Err("invalid number of connections \"0\"".into())
        );
        assert_eq!(
            c("addr 70000"),
            Err("connection limit must be less 65536".into())
        );
    }
}
