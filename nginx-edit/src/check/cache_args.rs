//! The argument checks of the caches' directives, as nginx 1.22 words
//! them: `ssl_session_cache`, `ssl_ocsp_cache`, `open_file_cache`,
//! `*_cache_valid`, and `expires` (how long clients may cache).

use super::numbers::{atoi, parse_size, parse_time};

/// nginx's page size on Linux (`ngx_pagesize`): shared zones' minimum.
const PAGE_SIZE: i64 = 4096;

/// `ngx_http_ssl_session_cache`: `off`, `none`, `builtin[:N]`,
/// `shared:NAME:SIZE` (at least 8 pages).
pub fn session_cache(args: &[String]) -> Result<(), String> {
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

/// `ngx_http_ssl_ocsp_cache`: `off` or `shared:NAME:SIZE` (8 pages at
/// least).
pub fn ocsp_cache(args: &[String]) -> Result<(), String> {
    match args.first() {
        Some(a) if a != "off" => {
            let invalid = || format!("invalid OCSP cache \"{a}\"");
            let (zone, size) = a
                .strip_prefix("shared:")
                .and_then(|s| s.split_once(':'))
                .ok_or_else(invalid)?;
            match parse_size(size.as_bytes()) {
                _ if zone.is_empty() => Err(invalid()),
                None => Err(invalid()),
                Some(n) if n < 8 * PAGE_SIZE => Err(format!("OCSP cache \"{a}\" is too small")),
                Some(_) => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// `ngx_http_headers_expires` and `ngx_http_parse_expires`.
pub fn expires(args: &[String]) -> Result<(), String> {
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

/// `ngx_http_file_cache_valid_set_slot`: `[code ...|any] time`.
pub fn cache_valid(args: &[String]) -> Result<(), String> {
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
pub fn open_file_cache(args: &[String]) -> Result<(), String> {
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
