//! The argument checks of handlers that parse their own arguments, by
//! handler (the `set` of the directive table), as nginx 1.22 words them:
//! `error_log` levels (`ngx_log_set_levels`), `rewrite` flags,
//! `allow`/`deny`, sizes that may hold variables (`limit_rate`), and the
//! numbers a `ngx_conf_num_bounds_t` bounds; the caches' own in
//! `cache_args`.

use super::networks::cidr;
use super::numbers::{atoi, parse_size};
use super::{cache_args, limits};

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
        "ngx_conf_set_num_slot" => {
            BOUNDS.iter().any(|(n, _, _)| *n == name) || name == "http2_streams_index_size"
        }
        "ngx_conf_set_size_slot" => SIZE_POSTS.contains(&name),
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
                        | "ngx_http_log_open_file_cache"
                        | "ngx_stream_log_open_file_cache"
                        | "ngx_http_set_complex_value_size_slot"
                        | "ngx_stream_set_complex_value_size_slot"
                        | "ngx_set_worker_processes"
                        | "ngx_event_use"
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
                        | "ngx_http_sub_filter"
                        | "ngx_http_upstream_param_set_slot"
                        | "ngx_http_limit_req_zone"
                        | "ngx_http_limit_conn_zone"
                        | "ngx_stream_limit_conn_zone"
                        | "ngx_http_modern_browser"
                        | "ngx_http_ssl_ocsp_cache"
                        | "ngx_stream_ssl_alpn"
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
        "ngx_http_limit_req" => limits::limit_req(name, args),
        "ngx_http_ssl_session_cache"
        | "ngx_stream_ssl_session_cache"
        | "ngx_mail_ssl_session_cache" => cache_args::session_cache(args),
        "ngx_http_headers_expires" => cache_args::expires(args),
        "ngx_http_access_rule" | "ngx_stream_access_rule" => access_rule(args),
        "ngx_http_file_cache_valid_set_slot" => cache_args::cache_valid(args),
        "ngx_http_core_open_file_cache" => cache_args::open_file_cache(args),
        "ngx_http_log_open_file_cache" | "ngx_stream_log_open_file_cache" => {
            super::access_log::open_log_file_cache(args)
        }
        "ngx_http_set_complex_value_size_slot" | "ngx_stream_set_complex_value_size_slot" => {
            match args.first() {
                Some(v) if !v.contains('$') && parse_size(v.as_bytes()).is_none() => {
                    Err(format!("\"{name}\" directive invalid value"))
                }
                _ => Ok(()),
            }
        }
        "ngx_conf_set_num_slot" if name == "http2_streams_index_size" => {
            match args.first().and_then(|v| atoi(v.as_bytes())) {
                Some(n) if n == 0 || n & (n - 1) != 0 => {
                    Err(format!("\"{name}\" directive must be a power of two"))
                }
                _ => Ok(()),
            }
        }
        "ngx_conf_set_num_slot" => bounds(name, args),
        "ngx_conf_set_size_slot" => match args.first().and_then(|v| parse_size(v.as_bytes())) {
            Some(n) => size_post(name, n),
            None => Ok(()),
        },
        "ngx_set_worker_processes" => match args.first() {
            Some(v) if v != "auto" && atoi(v.as_bytes()).is_none() => {
                Err("\"worker_processes\" directive invalid value".into())
            }
            _ => Ok(()),
        },
        // The event methods of Debian's build: on Linux `auto/modules`
        // builds select and poll only when asked to (or with no epoll).
        "ngx_event_use" => match args.first().map(String::as_str) {
            Some("epoll") | None => Ok(()),
            Some(other) => Err(format!("invalid event type \"{other}\"")),
        },
        // The variable these blocks define is their last argument.
        // (`$` alone: ngx_http_add_variable refuses the empty name)
        "ngx_http_map_block" | "ngx_stream_map_block" | "ngx_conf_split_clients_block" => {
            match args.last() {
                Some(v) if !v.starts_with('$') => Err(format!("invalid variable name \"{v}\"")),
                Some(v) if v == "$" => Err("invalid variable name \"$\"".into()),
                _ => Ok(()),
            }
        }
        // geo's source, when given, is a plain variable too (read first).
        "ngx_http_geo_block" | "ngx_stream_geo_block" => {
            match args.iter().find(|v| !v.starts_with('$') || v.len() == 1) {
                Some(v) if v == "$" => Err("invalid variable name \"$\"".into()),
                Some(v) => Err(format!("invalid variable name \"{v}\"")),
                None => Ok(()),
            }
        }
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
            // ngx_strncasecmp: `get` is GET
            let known = |m: &String| METHODS.iter().any(|k| k.eq_ignore_ascii_case(m));
            match args.iter().find(|m| !known(m)) {
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
        "ngx_http_upstream_param_set_slot" => match args.get(2) {
            Some(flag) if flag != "if_not_empty" => Err(format!("invalid parameter \"{flag}\"")),
            _ => Ok(()),
        },
        "ngx_http_sub_filter" if args.first().is_some_and(String::is_empty) => {
            Err("empty search pattern".into())
        }
        // (after its duplicate check: an ALPN protocol has a length byte)
        "ngx_stream_ssl_alpn" if args.iter().any(|a| a.len() > 255) => {
            Err(format!("\"{name}\" directive protocol too long"))
        }
        "ngx_http_limit_req_zone" => limits::limit_zone(name, args, true),
        "ngx_http_limit_conn_zone" | "ngx_stream_limit_conn_zone" => {
            limits::limit_zone(name, args, false)
        }
        "ngx_http_modern_browser" => modern_browser(args),
        "ngx_http_ssl_ocsp_cache" => cache_args::ocsp_cache(args),
        "ngx_http_proxy_cookie_path" | "ngx_http_proxy_cookie_domain" => match args {
            [one] if one != "off" => Err(format!("invalid parameter \"{one}\"")),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Size directives whose `ngx_conf_post_t` checks the parsed value.
const SIZE_POSTS: &[&str] = &[
    "gzip_window",
    "gzip_hash",
    "connection_pool_size",
    "request_pool_size",
    "http2_pool_size",
    "http2_recv_buffer_size",
    "http2_body_preread_size",
    "http2_chunk_size",
];

/// The post handlers of [`SIZE_POSTS`] (`ngx_http_gzip_window`,
/// `ngx_http_core_pool_size`, `ngx_http_v2_*`), for 64-bit Linux.
fn size_post(name: &str, n: i64) -> Result<(), String> {
    // NGX_MIN_POOL_SIZE: sizeof(ngx_pool_t) + 2 * sizeof(ngx_pool_large_t), aligned
    const MIN_POOL_SIZE: i64 = 112;
    const POOL_ALIGNMENT: i64 = 16;
    let powers = |low: i64, high: i64| {
        std::iter::successors(Some(low), |&p| (p < high).then_some(p * 2)).any(|p| p == n)
    };
    match name {
        "gzip_window" if !powers(512, 32 * 1024) => Err(format!(
            "\"{name}\" directive must be 512, 1k, 2k, 4k, 8k, 16k, or 32k"
        )),
        "gzip_hash" if !powers(512, 128 * 1024) => Err(format!(
            "\"{name}\" directive must be 512, 1k, 2k, 4k, 8k, 16k, 32k, 64k, or 128k"
        )),
        "connection_pool_size" | "request_pool_size" | "http2_pool_size" => {
            if n < MIN_POOL_SIZE {
                Err(format!(
                    "the pool size must be no less than {MIN_POOL_SIZE}"
                ))
            } else if n % POOL_ALIGNMENT != 0 {
                Err(format!(
                    "the pool size must be a multiple of {POOL_ALIGNMENT}"
                ))
            } else {
                Ok(())
            }
        }
        // 2 * NGX_HTTP_V2_STATE_BUFFER_SIZE
        "http2_recv_buffer_size" if n <= 32 => {
            Err(format!("\"{name}\" directive value is too small"))
        }
        "http2_body_preread_size" if n > 0x7fff_ffff => {
            Err("the maximum body preread buffer size is 2147483647".into())
        }
        "http2_chunk_size" if n == 0 => Err("the http2 chunk size cannot be zero".into()),
        _ => Ok(()),
    }
}

/// `ngx_http_modern_browser NAME VERSION`: a browser nginx knows, a
/// version of digits and dots; one argument must be `unlisted` (nginx
/// refuses another without a word: `nginx -t` only says it failed, so
/// this message is check's own).
fn modern_browser(args: &[String]) -> Result<(), String> {
    if let [arg] = args {
        if arg != "unlisted" {
            return Err(format!(
                "\"modern_browser\" with one argument takes only \"unlisted\", not \"{arg}\" \
                 (nginx -t fails here without a message)"
            ));
        }
        return Ok(());
    }
    let [browser, version] = args else {
        return Ok(());
    };
    const BROWSERS: &[&str] = &["opera", "msie", "gecko", "safari", "konqueror"];
    if !BROWSERS.iter().any(|b| b.eq_ignore_ascii_case(browser)) {
        return Err(format!("unknown browser name \"{browser}\""));
    }
    if !version.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return Err(format!("invalid browser version \"{version}\""));
    }
    Ok(())
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

/// `ngx_http_access_rule`: `all`, `unix:` or a network.
fn access_rule(args: &[String]) -> Result<(), String> {
    match args.first() {
        Some(v) if v != "all" && v != "unix:" && !cidr(v.as_bytes()) => {
            Err(format!("invalid parameter \"{v}\""))
        }
        _ => Ok(()),
    }
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
