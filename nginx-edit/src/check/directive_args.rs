//! The argument checks of handlers that parse their own arguments, by
//! handler (the `set` of the directive table), as nginx 1.22 words them:
//! `error_log` levels (`ngx_log_set_levels`), `rewrite` flags,
//! `limit_req`, `ssl_session_cache`, `expires`, `allow`/`deny`,
//! `*_cache_valid`, `open_file_cache`, sizes that may hold variables
//! (`limit_rate`), and the numbers a `ngx_conf_num_bounds_t` bounds.

use super::handlers::{atoi, parse_size, parse_time};
use super::networks::cidr;

/// nginx's page size on Linux (`ngx_pagesize`), for `ssl_session_cache`.
const PAGE_SIZE: i64 = 4096;

/// Directives whose number `ngx_conf_check_num_bounds` bounds.
const BOUNDS: &[(&str, i64, i64)] = &[
    ("gzip_comp_level", 1, 9),
    ("limit_conn_status", 400, 599),
    ("limit_req_status", 400, 599),
    ("uwsgi_modifier1", 0, 255),
    ("uwsgi_modifier2", 0, 255),
];

/// Whether [`check`] has rules for handler `set` of directive `name`
/// (a cheap test, before the arguments are copied).
pub fn handles(set: &str, name: &str) -> bool {
    match set {
        "ngx_conf_set_num_slot" => BOUNDS.iter().any(|(n, _, _)| *n == name),
        _ => {
            set.ends_with("_error_log")
                || set.ends_with("_session_cache")
                || set.ends_with("_access_rule")
                || matches!(
                    set,
                    "ngx_error_log"
                        | "ngx_http_rewrite"
                        | "ngx_http_limit_req"
                        | "ngx_http_headers_expires"
                        | "ngx_http_file_cache_valid_set_slot"
                        | "ngx_http_core_open_file_cache"
                        | "ngx_http_set_complex_value_size_slot"
                        | "ngx_set_worker_processes"
                        | "ngx_event_use"
                        | "ngx_http_log_set_format"
                        | "ngx_stream_log_set_format"
                        | "ngx_http_map_block"
                        | "ngx_stream_map_block"
                        | "ngx_conf_split_clients_block"
                        | "ngx_http_geo_block"
                        | "ngx_stream_geo_block"
                        | "ngx_http_core_limit_except"
                        | "ngx_http_try_files"
                        | "ngx_http_proxy_cookie_path"
                        | "ngx_http_proxy_cookie_domain"
                        | "ngx_http_headers_add"
                        | "ngx_http_limit_req_zone"
                        | "ngx_http_limit_conn_zone"
                        | "ngx_stream_limit_conn_zone"
                )
        }
    }
}

/// The refusal of handler `set` for directive `name` with `args`, if any.
pub fn check(set: &str, name: &str, args: &[String]) -> Result<(), String> {
    match set {
        "ngx_error_log"
        | "ngx_http_core_error_log"
        | "ngx_stream_core_error_log"
        | "ngx_mail_core_error_log" => log_levels(args.get(1..).unwrap_or_default()),
        "ngx_http_rewrite" => rewrite(args),
        "ngx_http_limit_req" => limit_req(name, args),
        "ngx_http_ssl_session_cache"
        | "ngx_stream_ssl_session_cache"
        | "ngx_mail_ssl_session_cache" => session_cache(args),
        "ngx_http_headers_expires" => expires(args),
        "ngx_http_access_rule" | "ngx_stream_access_rule" => access_rule(args),
        "ngx_http_file_cache_valid_set_slot" => cache_valid(args),
        "ngx_http_core_open_file_cache" => open_file_cache(args),
        "ngx_http_set_complex_value_size_slot" => match args.first() {
            Some(v) if !v.contains('$') && parse_size(v.as_bytes()).is_none() => {
                Err(format!("\"{name}\" directive invalid value"))
            }
            _ => Ok(()),
        },
        "ngx_conf_set_num_slot" => bounds(name, args),
        "ngx_set_worker_processes" => match args.first() {
            Some(v) if v != "auto" && atoi(v.as_bytes()).is_none() => {
                Err("\"worker_processes\" directive invalid value".into())
            }
            _ => Ok(()),
        },
        // The event methods of Linux (Debian's build).
        "ngx_event_use" => match args.first().map(String::as_str) {
            Some("epoll" | "poll" | "select") | None => Ok(()),
            Some(other) => Err(format!("invalid event type \"{other}\"")),
        },
        "ngx_http_log_set_format" | "ngx_stream_log_set_format" => {
            match args.get(1).and_then(|a| a.strip_prefix("escape=")) {
                Some("default" | "json" | "none") | None => Ok(()),
                Some(other) => Err(format!("unknown log format escaping \"{other}\"")),
            }
        }
        // The variable these blocks define is their last argument.
        "ngx_http_map_block"
        | "ngx_stream_map_block"
        | "ngx_conf_split_clients_block"
        | "ngx_http_geo_block"
        | "ngx_stream_geo_block" => match args.last() {
            Some(v) if !v.starts_with('$') => Err(format!("invalid variable name \"{v}\"")),
            _ => Ok(()),
        },
        "ngx_http_core_limit_except" => {
            const METHODS: &[&str] = &[
                "GET",
                "HEAD",
                "POST",
                "PUT",
                "DELETE",
                "MKCOL",
                "COPY",
                "MOVE",
                "OPTIONS",
                "PROPFIND",
                "PROPPATCH",
                "LOCK",
                "UNLOCK",
                "PATCH",
            ];
            match args.iter().find(|m| !METHODS.contains(&m.as_str())) {
                Some(m) => Err(format!("invalid method \"{m}\"")),
                None => Ok(()),
            }
        }
        "ngx_http_try_files" => match args.last().and_then(|a| a.strip_prefix('=')) {
            Some(code) if atoi(code.as_bytes()).is_none_or(|n| n > 999) => {
                Err(format!("invalid code \"={code}\""))
            }
            _ => Ok(()),
        },
        "ngx_http_headers_add" => match args.get(2) {
            Some(flag) if flag != "always" => Err(format!("invalid parameter \"{flag}\"")),
            _ => Ok(()),
        },
        "ngx_http_limit_req_zone" => limit_zone(name, args, true),
        "ngx_http_limit_conn_zone" | "ngx_stream_limit_conn_zone" => limit_zone(name, args, false),
        "ngx_http_proxy_cookie_path" | "ngx_http_proxy_cookie_domain" => match args {
            [one] if one != "off" => Err(format!("invalid parameter \"{one}\"")),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// `split_clients` entries: `N%` (two decimals at most, not 0) or `*`,
/// at most 100% in all; `Err` has the entry index and nginx's message
/// (the total is checked at the block's end: index `None`).
pub fn split_clients<'a>(
    entries: impl Iterator<Item = &'a str>,
) -> Result<(), (Option<usize>, String)> {
    let mut sum = 0u64;
    let mut parts = Vec::new();
    for (i, e) in entries.enumerate() {
        if e == "*" {
            parts.push(0);
            continue;
        }
        let percent = e.strip_suffix('%').and_then(fixed_point);
        match percent {
            Some(n) if n > 0 => parts.push(n),
            _ => return Err((Some(i), format!("invalid percent value \"{e}\""))),
        }
    }
    for p in parts {
        sum = if p > 0 { sum + p } else { 10000 };
        if sum > 10000 {
            return Err((None, "percent total is greater than 100%".into()));
        }
    }
    Ok(())
}

/// `ngx_atofp(s, 2)`: a decimal with at most two digits after the point,
/// times 100.
fn fixed_point(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if s.is_empty() || frac.len() > 2 || !digits(int) || !digits(frac) {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: u64 = format!("{frac:0<2}").parse().ok()?;
    Some(int * 100 + frac)
}

fn bounds(name: &str, args: &[String]) -> Result<(), String> {
    let Some(&(_, low, high)) = BOUNDS.iter().find(|(n, _, _)| *n == name) else {
        return Ok(());
    };
    match args.first().and_then(|v| atoi(v.as_bytes())) {
        Some(n) if n < low || n > high => Err(format!("value must be between {low} and {high}")),
        _ => Ok(()),
    }
}

/// `ngx_log_set_levels`: one level of `emerg` .. `debug`, or any
/// `debug_*` (not after a level; a level not after one).
fn log_levels(levels: &[String]) -> Result<(), String> {
    const LEVELS: &[&str] = &[
        "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    ];
    const DEBUG: &[&str] = &[
        "debug_core",
        "debug_alloc",
        "debug_mutex",
        "debug_event",
        "debug_http",
        "debug_mail",
        "debug_stream",
    ];
    let (mut level, mut debug) = (false, false);
    for l in levels {
        if LEVELS.contains(&l.as_str()) {
            if level || debug {
                return Err(format!("duplicate log level \"{l}\""));
            }
            level = true;
        } else if DEBUG.contains(&l.as_str()) && !level {
            debug = true;
        } else {
            return Err(format!("invalid log level \"{l}\""));
        }
    }
    Ok(())
}

/// `ngx_http_rewrite`: a replacement, and a flag among four.
fn rewrite(args: &[String]) -> Result<(), String> {
    if args.get(1).is_some_and(String::is_empty) {
        return Err("empty replacement".into());
    }
    match args.get(2).map(String::as_str) {
        None | Some("last" | "break" | "redirect" | "permanent") => Ok(()),
        Some(flag) => Err(format!("invalid parameter \"{flag}\"")),
    }
}

/// `ngx_http_limit_req`: `zone=`, `burst=`, `delay=`, `nodelay`.
fn limit_req(name: &str, args: &[String]) -> Result<(), String> {
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
fn limit_zone(name: &str, args: &[String], rate: bool) -> Result<(), String> {
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

/// `ngx_http_ssl_session_cache`: `off`, `none`, `builtin[:N]`,
/// `shared:NAME:SIZE` (at least 8 pages).
fn session_cache(args: &[String]) -> Result<(), String> {
    for a in args {
        let invalid = || Err(format!("invalid session cache \"{a}\""));
        if matches!(a.as_str(), "off" | "none" | "builtin") {
            continue;
        }
        if let Some(n) = a.strip_prefix("builtin:").filter(|n| !n.is_empty()) {
            if atoi(n.as_bytes()).is_none() {
                return invalid();
            }
            continue;
        }
        let Some(shared) = a.strip_prefix("shared:").filter(|s| !s.is_empty()) else {
            return invalid();
        };
        let Some((zone, size)) = shared.split_once(':').filter(|(z, _)| !z.is_empty()) else {
            return invalid();
        };
        let _ = zone;
        match parse_size(size.as_bytes()) {
            None => return invalid(),
            Some(n) if n < 8 * PAGE_SIZE => {
                return Err(format!("session cache \"{a}\" is too small"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `ngx_http_headers_expires` and `ngx_http_parse_expires`.
fn expires(args: &[String]) -> Result<(), String> {
    let (modified, value) = match args {
        [v] => (false, v),
        [m, v] if m == "modified" => (true, v),
        _ => return Err("\"expires\" directive invalid value".into()),
    };
    if value.contains('$') {
        return Ok(());
    }
    if !modified && matches!(value.as_str(), "epoch" | "max" | "off") {
        return Ok(());
    }
    let (daily, time) = match value.strip_prefix('@') {
        Some(_) if modified => {
            return Err(
                "\"expires\" directive daily time cannot be used with \"modified\" parameter"
                    .into(),
            );
        }
        Some(t) => (true, t),
        None => (false, value.strip_prefix(['+', '-']).unwrap_or(value)),
    };
    match parse_time(time.as_bytes(), true) {
        None => Err("\"expires\" directive invalid value".into()),
        Some(t) if daily && t > 24 * 60 * 60 => {
            Err("\"expires\" directive daily time value must be less than 24 hours".into())
        }
        Some(_) => Ok(()),
    }
}

/// `ngx_http_access_rule`: `all`, `unix:` or a network.
fn access_rule(args: &[String]) -> Result<(), String> {
    match args.first() {
        Some(v) if v != "all" && v != "unix:" && !cidr(v.as_bytes()) => {
            Err(format!("invalid parameter \"{v}\""))
        }
        _ => Ok(()),
    }
}

/// `ngx_http_file_cache_valid_set_slot`: `[code ...|any] time`.
fn cache_valid(args: &[String]) -> Result<(), String> {
    let Some((time, codes)) = args.split_last() else {
        return Ok(());
    };
    if parse_time(time.as_bytes(), true).is_none() {
        return Err(format!("invalid time value \"{time}\""));
    }
    for c in codes {
        let ok = c == "any" || atoi(c.as_bytes()).is_some_and(|n| (100..=599).contains(&n));
        if !ok {
            return Err(format!("invalid status \"{c}\""));
        }
    }
    Ok(())
}

/// `ngx_http_core_open_file_cache`: `off`, or `max=N [inactive=time]`.
fn open_file_cache(args: &[String]) -> Result<(), String> {
    let mut max = false;
    let mut off = false;
    for a in args {
        let ok = if let Some(n) = a.strip_prefix("max=") {
            max = atoi(n.as_bytes()).is_some_and(|n| n > 0);
            max
        } else if let Some(t) = a.strip_prefix("inactive=") {
            parse_time(t.as_bytes(), true).is_some()
        } else if a == "off" {
            off = true;
            true
        } else {
            false
        };
        if !ok {
            return Err(format!("invalid \"open_file_cache\" parameter \"{a}\""));
        }
    }
    if !off && !max {
        return Err("\"open_file_cache\" must have the \"max\" parameter".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(set: &str, name: &str, line: &str) -> Result<(), String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        check(set, name, &args)
    }

    #[test]
    fn handlers_in_nginx_words() {
        assert_eq!(run("ngx_error_log", "error_log", "/x warn"), Ok(()));
        assert_eq!(
            run("ngx_error_log", "error_log", "/x debug_http debug_core"),
            Ok(())
        );
        assert_eq!(
            run("ngx_error_log", "error_log", "/x debugx"),
            Err("invalid log level \"debugx\"".into())
        );
        assert_eq!(
            run("ngx_error_log", "error_log", "/x warn error"),
            Err("duplicate log level \"error\"".into())
        );
        assert_eq!(
            run("ngx_http_rewrite", "rewrite", "^ /x bogus"),
            Err("invalid parameter \"bogus\"".into())
        );
        assert_eq!(
            run("ngx_http_limit_req", "limit_req", "zone=a burst=x"),
            Err("invalid burst value \"burst=x\"".into())
        );
        assert_eq!(
            run("ngx_http_limit_req", "limit_req", "burst=5 nodelay"),
            Err("\"limit_req\" must have \"zone\" parameter".into())
        );
        assert_eq!(
            run(
                "ngx_http_ssl_session_cache",
                "ssl_session_cache",
                "builtin:1000 shared:SSL:10m"
            ),
            Ok(())
        );
        assert_eq!(
            run(
                "ngx_http_ssl_session_cache",
                "ssl_session_cache",
                "shared:SSL"
            ),
            Err("invalid session cache \"shared:SSL\"".into())
        );
        assert_eq!(
            run(
                "ngx_http_ssl_session_cache",
                "ssl_session_cache",
                "shared:SSL:16k"
            ),
            Err("session cache \"shared:SSL:16k\" is too small".into())
        );
        assert_eq!(
            run("ngx_http_headers_expires", "expires", "modified +1h"),
            Ok(())
        );
        assert_eq!(
            run("ngx_http_headers_expires", "expires", "@15h30m"),
            Ok(())
        );
        assert_eq!(
            run("ngx_http_headers_expires", "expires", "bogus"),
            Err("\"expires\" directive invalid value".into())
        );
        assert_eq!(run("ngx_http_access_rule", "deny", "10.0.0.0/8"), Ok(()));
        assert_eq!(
            run("ngx_http_access_rule", "allow", "alll"),
            Err("invalid parameter \"alll\"".into())
        );
        assert_eq!(
            run(
                "ngx_http_file_cache_valid_set_slot",
                "proxy_cache_valid",
                "200 302 10q"
            ),
            Err("invalid time value \"10q\"".into())
        );
        assert_eq!(
            run(
                "ngx_http_file_cache_valid_set_slot",
                "proxy_cache_valid",
                "99 1m"
            ),
            Err("invalid status \"99\"".into())
        );
        assert_eq!(
            run("ngx_http_core_open_file_cache", "open_file_cache", "max=0"),
            Err("invalid \"open_file_cache\" parameter \"max=0\"".into())
        );
        assert_eq!(
            run("ngx_conf_set_num_slot", "gzip_comp_level", "10"),
            Err("value must be between 1 and 9".into())
        );
        assert_eq!(
            run("ngx_http_set_complex_value_size_slot", "limit_rate", "100x"),
            Err("\"limit_rate\" directive invalid value".into())
        );
        assert_eq!(
            run(
                "ngx_http_set_complex_value_size_slot",
                "limit_rate",
                "$rate"
            ),
            Ok(())
        );
    }
}
