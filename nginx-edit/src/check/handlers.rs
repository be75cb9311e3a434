//! What nginx's set-handlers check once `ngx_conf_handler` has accepted a
//! directive's context and argument count: a value set twice in one block
//! (`"root" directive is duplicate`), numbers, sizes and times that do not
//! parse (`"keepalive_timeout" directive invalid value`), and the
//! condition of an `if`.
//!
//! Read from nginx 1.22.1: `src/core/ngx_conf_file.c` (the generic
//! `ngx_conf_set_*_slot` handlers; their numbers are in `numbers`) and
//! `src/http/modules/ngx_http_rewrite_module.c` (`if` conditions).

use super::numbers::{atoi, parse_offset, parse_size, parse_time};

/// Set-handlers that refuse a second value in the same block: each starts
/// with `if (field is set) return "is duplicate";`, whatever the
/// arguments. Found by reading every handler of nginx 1.22.1 that returns
/// "is duplicate"; the ones whose refusal depends on the arguments
/// (`limit_req`, `mirror`, `proxy_redirect`, `proxy_cookie_*`, `http2_push`)
/// are left out.
const SET_ONCE: &[&str] = &[
    "ngx_conf_set_access_slot",
    "ngx_conf_set_bufs_slot",
    "ngx_conf_set_enum_slot",
    "ngx_conf_set_flag_slot",
    "ngx_conf_set_msec_slot",
    "ngx_conf_set_num_slot",
    "ngx_conf_set_off_slot",
    "ngx_conf_set_path_slot",
    "ngx_conf_set_sec_slot",
    "ngx_conf_set_size_slot",
    "ngx_conf_set_str_slot",
    "ngx_event_connections",
    "ngx_event_use",
    "ngx_events_block",
    "ngx_http_auth_basic_user_file",
    "ngx_http_auth_request",
    "ngx_http_block",
    "ngx_http_core_directio",
    "ngx_http_core_internal",
    "ngx_http_core_keepalive",
    "ngx_http_core_limit_except",
    "ngx_http_core_open_file_cache",
    "ngx_http_core_resolver",
    "ngx_http_core_root",
    "ngx_http_core_set_aio",
    "ngx_http_disable_symlinks",
    "ngx_http_fastcgi_cache",
    "ngx_http_fastcgi_cache_key",
    "ngx_http_fastcgi_pass",
    "ngx_http_fastcgi_store",
    "ngx_http_geoip_city",
    "ngx_http_geoip_country",
    "ngx_http_geoip_org",
    "ngx_http_grpc_pass",
    "ngx_http_grpc_ssl_password_file",
    "ngx_http_headers_expires",
    "ngx_http_log_open_file_cache",
    "ngx_http_memcached_pass",
    "ngx_http_proxy_cache",
    "ngx_http_proxy_cache_key",
    "ngx_http_proxy_pass",
    "ngx_http_proxy_ssl_password_file",
    "ngx_http_proxy_store",
    "ngx_http_realip",
    "ngx_http_scgi_cache",
    "ngx_http_scgi_cache_key",
    "ngx_http_scgi_pass",
    "ngx_http_scgi_store",
    "ngx_http_set_charset_slot",
    "ngx_http_set_complex_value_size_slot",
    "ngx_http_set_complex_value_slot",
    "ngx_http_set_complex_value_zero_slot",
    "ngx_http_ssl_enable",
    "ngx_http_ssl_ocsp_cache",
    "ngx_http_ssl_password_file",
    "ngx_http_try_files",
    "ngx_http_upstream_bind_set_slot",
    "ngx_http_upstream_keepalive",
    "ngx_http_userid_expires",
    "ngx_http_userid_mark",
    "ngx_http_uwsgi_cache",
    "ngx_http_uwsgi_cache_key",
    "ngx_http_uwsgi_pass",
    "ngx_http_uwsgi_ssl_password_file",
    "ngx_http_uwsgi_store",
    "ngx_http_xslt_entities",
    "ngx_mail_block",
    "ngx_mail_core_resolver",
    "ngx_mail_ssl_enable",
    "ngx_mail_ssl_password_file",
    "ngx_mail_ssl_starttls",
    "ngx_openssl_engine",
    "ngx_set_cpu_affinity",
    "ngx_set_user",
    "ngx_set_worker_processes",
    "ngx_stream_block",
    "ngx_stream_core_resolver",
    "ngx_stream_geoip_city",
    "ngx_stream_geoip_country",
    "ngx_stream_geoip_org",
    "ngx_stream_log_open_file_cache",
    "ngx_stream_proxy_bind",
    "ngx_stream_proxy_pass",
    "ngx_stream_proxy_ssl_password_file",
    "ngx_stream_return",
    "ngx_stream_set_complex_value_size_slot",
    "ngx_stream_set_complex_value_slot",
    "ngx_stream_set_complex_value_zero_slot",
    "ngx_stream_ssl_alpn",
    "ngx_stream_ssl_password_file",
];

/// Whether a directive with this set-handler may appear once per block.
pub fn set_once(handler: &str) -> bool {
    SET_ONCE.binary_search(&handler).is_ok()
}

/// The key under which a set-once directive's field is remembered in its
/// block: `root` and `alias` fill the same field, and so do stream's
/// `proxy_buffer_size` and its deprecated names.
pub fn field_key<'n>(handler: &str, name: &'n str) -> &'n str {
    match (handler, name) {
        ("ngx_http_core_root", _) => "root",
        (_, "proxy_downstream_buffer" | "proxy_upstream_buffer") => "proxy_buffer_size",
        _ => name,
    }
}

/// nginx's message for `name` set again in a block where `earlier` (the
/// name that set the same field) was seen: only `root`/`alias` name the
/// earlier one; the generic slots say `is duplicate` under the new name.
pub fn duplicate_message(handler: &str, name: &str, earlier: &str) -> String {
    if name == earlier || handler != "ngx_http_core_root" {
        format!("\"{name}\" directive is duplicate")
    } else {
        format!("\"{name}\" directive is duplicate, \"{earlier}\" directive was specified earlier")
    }
}

/// Whether [`slot_value`] has anything to check for this handler.
pub fn has_slot_value(handler: &str) -> bool {
    matches!(
        handler,
        "ngx_conf_set_num_slot"
            | "ngx_conf_set_size_slot"
            | "ngx_conf_set_off_slot"
            | "ngx_conf_set_msec_slot"
            | "ngx_conf_set_sec_slot"
            | "ngx_conf_set_bufs_slot"
            | "ngx_conf_set_path_slot"
    )
}

/// The value checks of the generic number, size, offset, time and buffer
/// handlers, as the handler's error (nginx prefixes `"NAME" directive `).
pub fn slot_value(handler: &str, args: &[String]) -> Result<(), &'static str> {
    let first = args.first().map(String::as_bytes).unwrap_or_default();
    let ok = match handler {
        "ngx_conf_set_num_slot" => {
            return atoi(first).map(drop).ok_or("invalid number");
        }
        "ngx_conf_set_size_slot" => parse_size(first).is_some(),
        "ngx_conf_set_off_slot" => parse_offset(first).is_some(),
        "ngx_conf_set_msec_slot" => parse_time(first, false).is_some(),
        "ngx_conf_set_sec_slot" => parse_time(first, true).is_some(),
        "ngx_conf_set_bufs_slot" => {
            let size = args.get(1).map(String::as_bytes).unwrap_or_default();
            atoi(first).is_some_and(|n| n > 0) && parse_size(size).is_some_and(|s| s > 0)
        }
        // `*_temp_path PATH [L1 [L2 [L3]]]`: levels are positive numbers
        // whose lengths (plus a `/` each) fit in 10 + their count.
        "ngx_conf_set_path_slot" => {
            let levels: Option<Vec<i64>> = args
                .iter()
                .skip(1)
                .map(|l| atoi(l.as_bytes()).filter(|&n| n > 0))
                .collect();
            levels.is_some_and(|l| {
                let len: i64 = l.iter().map(|n| n.saturating_add(1)).sum();
                len <= 10 + l.len() as i64
            })
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err("invalid value")
    }
}

/// `ngx_http_rewrite_if_condition`'s checks of an `if`'s arguments, in its
/// words, then PCRE2's verdict on its pattern; `Ok` has the pattern's
/// named groups.
pub fn if_condition(args: &[String]) -> Result<Vec<String>, String> {
    let invalid = |s: &str| Err(format!("invalid condition \"{s}\""));
    // nginx strips the parentheses in place, so with one argument the
    // first and the last are the same string.
    let mut values: Vec<String> = args.to_vec();
    let Some(first) = values.first() else {
        return Ok(Vec::new());
    };
    if !first.starts_with('(') {
        return invalid(first);
    }
    let mut cur = 0;
    if first.len() == 1 {
        cur = 1;
    } else {
        values[0].remove(0);
    }
    let mut last = values.len() - 1;
    if !values[last].ends_with(')') {
        return invalid(&values[last]);
    }
    if values[last].len() == 1 {
        // `( $a )`: the `)` alone; with `()` nothing is left after it.
        match last.checked_sub(1) {
            Some(l) => last = l,
            None => return invalid(")"),
        }
    } else {
        values[last].pop();
    }
    let Some(p) = values.get(cur).map(String::as_str) else {
        return invalid(")");
    };
    if p.len() > 1 && p.starts_with('$') {
        if cur != last && cur + 2 != last {
            return invalid(p);
        }
        if cur == last {
            return Ok(Vec::new());
        }
        let op = values[cur + 1].as_str();
        return match op {
            "=" | "!=" => Ok(Vec::new()),
            "~" | "~*" | "!~" | "!~*" => super::regex::if_pattern(&values[last], op),
            _ => Err(format!("unexpected \"{op}\" in condition")),
        };
    }
    let file_test = matches!(p, "-f" | "-d" | "-e" | "-x" | "!-f" | "!-d" | "!-e" | "!-x");
    if (p.len() == 2 && p.starts_with('-')) || (p.len() == 3 && p.starts_with("!-")) {
        if cur + 1 != last || !file_test {
            return invalid(p);
        }
        return Ok(Vec::new());
    }
    invalid(p)
}

/// `ngx_http_rewrite_return`: a status up to 999, or a lone URL
/// (`http://`, `https://`, `$scheme...`) that means 302.
pub fn return_code(args: &[String]) -> Result<(), String> {
    let Some(code) = args.first() else {
        return Ok(());
    };
    let url = ["http://", "https://", "$scheme"]
        .iter()
        .any(|p| code.starts_with(p));
    match atoi(code.as_bytes()) {
        Some(n) if n <= 999 => Ok(()),
        None if args.len() == 1 && url => Ok(()),
        _ => Err(format!("invalid return code \"{code}\"")),
    }
}

/// `ngx_http_core_error_page`'s checks of `=code` and of the status codes
/// (the URI is not compiled here).
pub fn error_page(args: &[String]) -> Result<(), String> {
    let invalid = |v: &str| Err(format!("invalid value \"{v}\""));
    let Some(before_uri) = args.len().checked_sub(2) else {
        return Ok(());
    };
    let mut codes = &args[..before_uri + 1];
    if let Some(answer) = args[before_uri].strip_prefix('=') {
        if before_uri == 0 || (!answer.is_empty() && atoi(answer.as_bytes()).is_none()) {
            return invalid(&args[before_uri]);
        }
        codes = &args[..before_uri];
    }
    for code in codes {
        match atoi(code.as_bytes()) {
            None | Some(499) => return invalid(code),
            Some(300..=599) => {}
            Some(_) => return Err(format!("value \"{code}\" must be between 300 and 599")),
        }
    }
    Ok(())
}

/// `ngx_conf_set_access_slot`: `user:`, `group:` or `all:` followed by
/// `rw` or `r`.
pub fn access(args: &[String]) -> Result<(), String> {
    for a in args {
        let rights = ["user:", "group:", "all:"]
            .iter()
            .find_map(|who| a.strip_prefix(who));
        if !matches!(rights, Some("rw" | "r")) {
            return Err(format!("invalid value \"{a}\""));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::strings;
    #[test]
    fn set_once_is_sorted_for_binary_search() {
        assert!(SET_ONCE.windows(2).all(|w| w[0] < w[1]));
        assert!(set_once("ngx_conf_set_flag_slot"));
        assert!(set_once("ngx_stream_set_complex_value_zero_slot"));
        assert!(!set_once("ngx_conf_set_str_array_slot"));
    }

    #[test]
    fn slot_messages() {
        let one = |s: &str| strings(&[s]);
        assert_eq!(
            slot_value("ngx_conf_set_num_slot", &one("x")),
            Err("invalid number")
        );
        assert_eq!(
            slot_value("ngx_conf_set_size_slot", &one("10MB")),
            Err("invalid value")
        );
        assert_eq!(slot_value("ngx_conf_set_msec_slot", &one("75s")), Ok(()));
        assert_eq!(
            slot_value("ngx_conf_set_bufs_slot", &strings(&["0", "4k"])),
            Err("invalid value")
        );
        assert_eq!(
            slot_value("ngx_conf_set_bufs_slot", &strings(&["8", "4k"])),
            Ok(())
        );
        assert_eq!(slot_value("ngx_http_core_root", &one("x")), Ok(()));
        let path = |a: &[&str]| slot_value("ngx_conf_set_path_slot", &strings(a));
        assert_eq!(path(&["/t", "1", "2"]), Ok(()));
        assert_eq!(path(&["/t", "proxy_temp_path", "/u"]), Err("invalid value"));
        assert_eq!(path(&["/t", "0"]), Err("invalid value"));
        assert_eq!(path(&["/t", "9", "3"]), Err("invalid value"));
    }

    #[test]
    fn return_codes() {
        let check = |args: &[&str]| return_code(&strings(args));
        assert_eq!(check(&["204"]), Ok(()));
        assert_eq!(check(&["301", "https://$host$request_uri"]), Ok(()));
        assert_eq!(check(&["https://example.com"]), Ok(()));
        assert_eq!(check(&["$scheme://x"]), Ok(()));
        assert_eq!(check(&["999", "x"]), Ok(()));
        let invalid = |s: &str| Err(format!("invalid return code \"{s}\""));
        assert_eq!(check(&["1000"]), invalid("1000"));
        assert_eq!(check(&["30x"]), invalid("30x"));
        assert_eq!(check(&["https://x", "y"]), invalid("https://x"));
        assert_eq!(check(&["/index.html"]), invalid("/index.html"));
        assert_eq!(check(&["HTTP://x"]), invalid("HTTP://x"));
    }

    #[test]
    fn error_pages() {
        let check = |args: &[&str]| error_page(&strings(args));
        assert_eq!(check(&["404", "/404.html"]), Ok(()));
        assert_eq!(check(&["500", "502", "=", "/50x"]), Ok(()));
        assert_eq!(check(&["404", "=200", "/empty.gif"]), Ok(()));
        assert_eq!(check(&["404", "@fallback"]), Ok(()));
        let invalid = |s: &str| Err(format!("invalid value \"{s}\""));
        assert_eq!(check(&["=200", "/x"]), invalid("=200"));
        assert_eq!(check(&["404", "=2x", "/x"]), invalid("=2x"));
        assert_eq!(check(&["40x", "/x"]), invalid("40x"));
        assert_eq!(check(&["499", "/x"]), invalid("499"));
        assert_eq!(
            check(&["200", "/x"]),
            Err("value \"200\" must be between 300 and 599".into())
        );
    }

    #[test]
    fn access_rights() {
        assert_eq!(access(&strings(&["user:rw", "group:r", "all:r"])), Ok(()));
        assert_eq!(
            access(&strings(&["user:rwx"])),
            Err("invalid value \"user:rwx\"".into())
        );
        assert_eq!(
            access(&strings(&["other:r"])),
            Err("invalid value \"other:r\"".into())
        );
    }

    #[test]
    fn if_conditions_as_nginx_reads_them() {
        let check = |args: &[&str]| if_condition(&strings(args));
        for good in [
            &["($a)"][..],
            &["(", "$a", ")"],
            &["($a", "=", "b)"],
            &["($a", "!~*", "^x)"],
            &["(-f", "$request_filename)"],
            &["(!-e", "/x)"],
        ] {
            assert!(check(good).is_ok(), "{good:?}");
        }
        let invalid = |s: &str| Err(format!("invalid condition \"{s}\""));
        assert_eq!(check(&["$slow"]), invalid("$slow"));
        assert_eq!(check(&["$slow)"]), invalid("$slow)"));
        assert_eq!(check(&["($slow"]), invalid("$slow"));
        assert_eq!(check(&["()"]), invalid(")"));
        assert_eq!(check(&["(", ")"]), invalid(")"));
        assert_eq!(check(&["($a", "b", "c", "d)"]), invalid("$a"));
        assert_eq!(check(&["(-q", "x)"]), invalid("-q"));
        assert_eq!(check(&["(a", "=", "b)"]), invalid("a"));
        assert_eq!(
            check(&["($a", "==", "b)"]),
            Err("unexpected \"==\" in condition".into())
        );
    }
}
