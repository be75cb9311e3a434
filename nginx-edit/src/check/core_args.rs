//! Handlers of the http core, rewrite and charset modules that read their
//! own arguments, as nginx 1.22 words their refusals: `worker_connections`
//! (`ngx_event_connections`), `keepalive_timeout`
//! (`ngx_http_core_keepalive`), `aio` (`ngx_http_core_set_aio`: Debian's
//! build has thread pools, not file AIO), `disable_symlinks`
//! (`ngx_http_disable_symlinks`), the variable a `set` or
//! `auth_request_set` names (`ngx_http_rewrite_set`,
//! `ngx_stream_set`, `ngx_http_auth_request_set`), `index`
//! (`ngx_http_index_set_index`), the mail `protocol`
//! (`ngx_mail_core_protocol`), and `charset_map` entries
//! (`ngx_http_charset_map`).

use super::numbers::{atoi, parse_offset, parse_time};

/// The handlers [`check`] has rules for (the walk asks once per table
/// entry, see `facts`).
pub const HANDLERS: &[&str] = &[
    "ngx_http_core_keepalive",
    "ngx_event_connections",
    "ngx_http_core_set_aio",
    "ngx_http_userid_mark",
    "ngx_http_index_set_index",
    "ngx_mail_core_protocol",
    "ngx_http_disable_symlinks",
    "ngx_http_rewrite_set",
    "ngx_stream_set",
    "ngx_http_auth_request_set",
    "ngx_http_core_directio",
    "ngx_http_userid_expires",
];

/// The refusal of handler `set` for directive `name` with `args`, if any.
pub fn check(set: &str, name: &str, args: &[String]) -> Result<(), String> {
    match set {
        "ngx_http_core_keepalive" => {
            let timeout = args.first().map(|a| parse_time(a.as_bytes(), false));
            let header = args.get(1).map(|a| parse_time(a.as_bytes(), true));
            if matches!(timeout, Some(None)) || matches!(header, Some(None)) {
                return Err(format!("\"{name}\" directive invalid value"));
            }
            Ok(())
        }
        "ngx_http_disable_symlinks" => disable_symlinks(name, args),
        "ngx_http_userid_expires" => match args.first().map(String::as_str) {
            Some("max" | "off") | None => Ok(()),
            Some(v) if parse_time(v.as_bytes(), true).is_some() => Ok(()),
            Some(_) => Err(format!("\"{name}\" directive invalid value")),
        },
        "ngx_http_core_directio" => match args.first() {
            Some(v) if v != "off" && parse_offset(v.as_bytes()).is_none() => {
                Err(format!("\"{name}\" directive invalid value"))
            }
            _ => Ok(()),
        },
        "ngx_http_userid_mark" => match args.first().map(String::as_bytes) {
            Some(b"off") | None => Ok(()),
            Some([c]) if c.is_ascii_alphanumeric() || *c == b'=' => Ok(()),
            Some(_) => Err(format!(
                "\"{name}\" directive value must be \"off\" or a single letter, digit or \"=\""
            )),
        },
        // Debian builds with threads, without file AIO (`--with-file-aio`)
        "ngx_http_core_set_aio" => match args.first().map(String::as_str) {
            Some("off" | "threads") | None => Ok(()),
            Some("on") => Err("\"aio on\" is unsupported on this platform".into()),
            Some(v) if v.starts_with("threads=") => Ok(()),
            Some(_) => Err(format!("\"{name}\" directive invalid value")),
        },
        // nginx names the first index, whichever is empty
        "ngx_http_index_set_index" if args.iter().any(String::is_empty) => Err(format!(
            "index \"{}\" in \"index\" directive is invalid",
            args.first().map_or("", String::as_str)
        )),
        // the protocols of Debian's mail module: imap, pop3, smtp
        "ngx_mail_core_protocol" => match args.first().map(String::as_str) {
            Some("imap" | "pop3" | "smtp") | None => Ok(()),
            Some(other) => Err(format!("unknown protocol \"{other}\"")),
        },
        "ngx_event_connections" => match args.first() {
            Some(v) if atoi(v.as_bytes()).is_none() => Err(format!("invalid number \"{v}\"")),
            _ => Ok(()),
        },
        "ngx_http_rewrite_set" | "ngx_stream_set" | "ngx_http_auth_request_set" => {
            match args.first().map(String::as_str) {
                Some(v) if !v.starts_with('$') => Err(format!("invalid variable name \"{v}\"")),
                Some("$") => Err("invalid variable name \"$\"".into()),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// `disable_symlinks off|on|if_not_owner [from=PART]`.
fn disable_symlinks(name: &str, args: &[String]) -> Result<(), String> {
    let (mut mode, mut from) = (None, false);
    for a in args {
        match a.as_str() {
            "off" | "on" | "if_not_owner" => mode = Some(a.as_str()),
            _ if a.starts_with("from=") => from = true,
            _ => return Err(format!("invalid parameter \"{a}\"")),
        }
    }
    let Some(mode) = mode else {
        return Err(format!(
            "\"{name}\" must have \"off\", \"on\" or \"if_not_owner\" parameter"
        ));
    };
    match args {
        [_] => Ok(()),
        [a, b, ..] if !from => Err(format!("duplicate parameters \"{a} {b}\"")),
        _ if mode == "off" => Err("\"from=\" cannot be used with \"off\" parameter".into()),
        _ => Ok(()),
    }
}

/// One `charset_map` entry: two arguments, the first a byte in hex, the
/// second a byte in hex, or (a map to `utf-8`) a UTF-8 sequence in hex.
pub fn charset_map_entry(key: &str, args: &[String], utf8: bool) -> Result<(), String> {
    let [value] = args else {
        return Err("invalid parameters number".into());
    };
    let byte = |s: &str| {
        !s.is_empty()
            && s.len() <= 8
            && s.bytes().all(|b| b.is_ascii_hexdigit())
            && u32::from_str_radix(s, 16).is_ok_and(|n| n <= 255)
    };
    if !byte(key) {
        return Err(format!("invalid value \"{key}\""));
    }
    let ok = if utf8 {
        value.len() % 2 == 0
            && value.bytes().all(|b| b.is_ascii_hexdigit())
            && utf8_character(value).is_some_and(|c| c <= 0xffff)
    } else {
        byte(value)
    };
    if ok {
        Ok(())
    } else {
        Err(format!("invalid value \"{value}\""))
    }
}

/// `ngx_utf8_decode` of a `charset_map` utf-8 value's bytes (hex pairs):
/// the character its first sequence makes, `None` where nginx's decoder
/// refuses it (a first byte below 0xc2, ASCII included; too few bytes; a
/// byte under 0x80 inside; an overlong form). Later bytes are not read.
fn utf8_character(hex: &str) -> Option<u32> {
    let bytes: Vec<u32> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u32::from_str_radix(p, 16).ok())
        })
        .collect::<Option<_>>()?;
    let (&first, rest) = bytes.split_first()?;
    let (mut u, valid, len) = match first {
        0xf0.. => (first & 0x07, 0xffff, 3),
        0xe0.. => (first & 0x0f, 0x7ff, 2),
        0xc2.. => (first & 0x1f, 0x7f, 1),
        _ => return None,
    };
    for &b in rest.get(..len)? {
        if b < 0x80 {
            return None;
        }
        u = (u << 6) | (b & 0x3f);
    }
    (u > valid).then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_map_utf8_values_decode_as_nginx_decodes_them() {
        let ok = |v: &str| charset_map_entry("C0", &[v.to_string()], true).is_ok();
        assert!(ok("D0B0") && ok("E282AC") && ok("D0B0FF"));
        // empty, ASCII, a lone lead byte, overlong, beyond U+FFFF, odd
        for bad in ["", "41", "D0", "C080", "E08080", "F0908080", "D0B"] {
            assert!(!ok(bad), "{bad}");
        }
    }

    /// `HANDLERS` is exactly the handlers `check` refuses something for.
    #[test]
    fn handlers_lists_every_handler_with_rules() {
        let bad = |set: &str| {
            [vec![String::new()], vec!["bogus".to_string()]]
                .iter()
                .any(|args| check(set, "x", args).is_err())
        };
        for spec in crate::directives::nginx_table() {
            assert_eq!(bad(spec.set), HANDLERS.contains(&spec.set), "{}", spec.set);
        }
    }

    fn run(set: &str, name: &str, line: &str) -> Result<(), String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        check(set, name, &args)
    }

    #[test]
    fn keepalive_timeouts() {
        let k = |l: &str| run("ngx_http_core_keepalive", "keepalive_timeout", l);
        assert_eq!(k("75s 60"), Ok(()));
        assert_eq!(
            k("10ss"),
            Err("\"keepalive_timeout\" directive invalid value".into())
        );
        assert_eq!(
            k("75s 1ms"),
            Err("\"keepalive_timeout\" directive invalid value".into())
        );
    }

    #[test]
    fn worker_connections_is_a_number() {
        let w = |l: &str| run("ngx_event_connections", "worker_connections", l);
        assert_eq!(w("1024"), Ok(()));
        assert_eq!(w("1.5"), Err("invalid number \"1.5\"".into()));
    }

    #[test]
    fn aio_as_debian_builds_it() {
        let a = |l: &str| run("ngx_http_core_set_aio", "aio", l);
        assert_eq!(a("threads=pool"), Ok(()));
        assert_eq!(
            a("on"),
            Err("\"aio on\" is unsupported on this platform".into())
        );
        assert_eq!(a("yes"), Err("\"aio\" directive invalid value".into()));
    }

    #[test]
    fn userid_mark_is_one_character() {
        let m = |l: &str| run("ngx_http_userid_mark", "userid_mark", l);
        assert_eq!(m("="), Ok(()));
        assert_eq!(
            m("xy"),
            Err("\"userid_mark\" directive value must be \"off\" or a single letter, digit or \"=\"".into())
        );
    }

    #[test]
    fn disable_symlinks_parameters() {
        let d = |l: &str| run("ngx_http_disable_symlinks", "disable_symlinks", l);
        assert_eq!(d("if_not_owner from=$document_root"), Ok(()));
        assert_eq!(d("yes"), Err("invalid parameter \"yes\"".into()));
        assert_eq!(d("on off"), Err("duplicate parameters \"on off\"".into()));
        assert_eq!(
            d("off from=/x"),
            Err("\"from=\" cannot be used with \"off\" parameter".into())
        );
    }

    #[test]
    fn index_and_protocol() {
        let index = |l: &[&str]| {
            let args: Vec<String> = l.iter().map(|s| s.to_string()).collect();
            check("ngx_http_index_set_index", "index", &args)
        };
        assert_eq!(index(&["index.html", "/x.html"]), Ok(()));
        assert_eq!(
            index(&["index.html", ""]),
            Err("index \"index.html\" in \"index\" directive is invalid".into())
        );
        assert_eq!(
            run("ngx_mail_core_protocol", "protocol", "imap4"),
            Err("unknown protocol \"imap4\"".into())
        );
    }

    #[test]
    fn set_names_a_variable() {
        assert_eq!(run("ngx_http_rewrite_set", "set", "$a 1"), Ok(()));
        assert_eq!(
            run("ngx_http_rewrite_set", "set", "a 1"),
            Err("invalid variable name \"a\"".into())
        );
        assert_eq!(
            run("ngx_http_rewrite_set", "set", "$ 1"),
            Err("invalid variable name \"$\"".into())
        );
    }

    #[test]
    fn charset_map_entries() {
        let one = |v: &str| vec![v.to_string()];
        let invalid = |v: &str| Err(format!("invalid value \"{v}\""));
        assert_eq!(charset_map_entry("A4", &one("E284AE"), true), Ok(()));
        assert_eq!(
            charset_map_entry("A4", &one("E284AE"), false),
            invalid("E284AE")
        );
        assert_eq!(
            charset_map_entry("58", &[], false),
            Err("invalid parameters number".into())
        );
        assert_eq!(charset_map_entry("-1", &one("41"), false), invalid("-1"));
        assert_eq!(charset_map_entry("58", &one("-1"), false), invalid("-1"));
        assert_eq!(charset_map_entry("100", &one("41"), false), invalid("100"));
    }
}
