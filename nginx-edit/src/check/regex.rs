//! The regular expressions of a configuration, compiled as nginx 1.22
//! compiles them (`ngx_regex_compile` in `src/core/ngx_regex.c`): with the
//! PCRE2 library itself, the one Debian's nginx links, so a pattern is
//! refused exactly when `nginx -t` refuses it, in PCRE2's words:
//! `pcre2_compile() failed: missing closing parenthesis in "^(a"`.
//!
//! Which arguments are patterns, and with which options, is each
//! handler's business; this module knows the handlers of nginx's own http
//! modules that compile at configuration time (`location`, `if`,
//! `rewrite`, `server_name`, `map`, `proxy_redirect`, `proxy_cookie_*`,
//! `valid_referers`, `gzip_disable`, `fastcgi_split_path_info`), with the
//! checks those handlers make around their patterns.

use crate::directives::FastHash;

/// A pattern PCRE2 compiled: its capture count and its group names.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub captures: usize,
    pub names: Vec<String>,
}

/// `ngx_regex_compile`: PCRE2's verdict on `pattern` (caseless for `~*`
/// and the handlers that ask for it).
pub fn compile(pattern: &str, caseless: bool) -> Result<Compiled, String> {
    // Configs repeat their patterns (the same `location ~` in every
    // server): each is compiled once per process; PCRE2 takes microseconds
    // a pattern, the walk a fraction of one per directive.
    type Cache = std::collections::HashMap<(String, bool), Result<Compiled, String>, FastHash>;
    thread_local! {
        static CACHE: std::cell::RefCell<Cache> = Default::default();
    }
    CACHE.with(|cache| {
        let key = (pattern.to_string(), caseless);
        if let Some(known) = cache.borrow().get(&key) {
            return known.clone();
        }
        let verdict = compile_now(pattern, caseless);
        cache.borrow_mut().insert(key, verdict.clone());
        verdict
    })
}

fn compile_now(pattern: &str, caseless: bool) -> Result<Compiled, String> {
    let built = pcre2::bytes::RegexBuilder::new()
        .caseless(caseless)
        .build(pattern);
    match built {
        Ok(re) => Ok(Compiled {
            captures: re.captures_len().saturating_sub(1),
            names: re.capture_names().iter().flatten().cloned().collect(),
        }),
        Err(e) => {
            let offset = e.offset().unwrap_or(0);
            let display = e.to_string();
            let message = pcre2_message(&display, offset);
            let text = if offset >= pattern.len() {
                format!("pcre2_compile() failed: {message} in \"{pattern}\"")
            } else {
                let rest = pattern.get(offset..).unwrap_or_default();
                format!("pcre2_compile() failed: {message} in \"{pattern}\" at \"{rest}\"")
            };
            Err(super::errstr(text))
        }
    }
}

/// PCRE2's own message, out of the `pcre2` crate's display of a compile
/// error (`PCRE2: error compiling pattern at offset 3: missing ...`).
fn pcre2_message(display: &str, offset: usize) -> &str {
    let prefix = format!("PCRE2: error compiling pattern at offset {offset}: ");
    display
        .strip_prefix(prefix.as_str())
        .or_else(|| display.strip_prefix("PCRE2: "))
        .unwrap_or(display)
}

/// A pattern whose named groups become variables (`ngx_http_regex_compile`)
/// or not (the handlers that call `ngx_regex_compile` directly).
fn http(pattern: &str, caseless: bool, names: &mut Vec<String>) -> Result<Compiled, String> {
    let compiled = compile(pattern, caseless)?;
    names.extend(compiled.names.iter().cloned());
    Ok(compiled)
}

/// The handler of directive `name` with `args`, as far as its patterns go:
/// nginx's first refusal, or the named groups that become variables.
/// `if` is [`if_pattern`]'s (its condition is parsed first).
pub fn directive(name: &str, args: &[String]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    match (name, args) {
        ("location", [modifier, pattern]) if modifier == "~" || modifier == "~*" => {
            http(pattern, modifier == "~*", &mut names)?;
        }
        ("location", [one]) if one.starts_with('~') => {
            let (pattern, caseless) = match one[1..].strip_prefix('*') {
                Some(rest) => (rest, true),
                None => (&one[1..], false),
            };
            http(pattern, caseless, &mut names)?;
        }
        // `empty replacement` (directive_args) comes first.
        ("rewrite", [pattern, replacement, ..]) if !replacement.is_empty() => {
            http(pattern, false, &mut names)?;
        }
        ("server_name", _) => server_names(args, &mut names)?,
        // `~*` is caseless, `~` is not
        ("proxy_redirect" | "proxy_cookie_path", [pattern, _]) => {
            if let Some(p) = pattern.strip_prefix('~') {
                match p.strip_prefix('*') {
                    Some(p) => http(p, true, &mut names)?,
                    None => http(p, false, &mut names)?,
                };
            }
        }
        // `~` is caseless (and `~*x` is the pattern `*x`)
        ("proxy_cookie_domain", [pattern, _]) | ("proxy_cookie_flags", [pattern, _, ..]) => {
            if let Some(p) = pattern.strip_prefix('~') {
                http(p, true, &mut names)?;
            }
        }
        ("valid_referers", _) => {
            for a in args {
                if a.is_empty() {
                    return Err("invalid referer \"\"".into());
                }
                if let Some(p) = a.strip_prefix('~') {
                    if p.is_empty() {
                        return Err(format!("empty regex in \"{a}\""));
                    }
                    compile(p, true)?;
                }
            }
        }
        ("gzip_disable", _) => {
            for a in args.iter().filter(|a| *a != "msie6") {
                compile(a, true)?;
            }
        }
        ("fastcgi_split_path_info", [pattern]) => {
            let compiled = compile(pattern, false)?;
            if compiled.captures != 2 {
                return Err(format!("pattern \"{pattern}\" must have 2 captures"));
            }
        }
        _ => {}
    }
    Ok(names)
}

/// `ngx_http_core_server_name`, name by name: `*` and `.` forms that are
/// too short, then the `~` regexes (caseless when they hold a capital).
fn server_names(args: &[String], names: &mut Vec<String>) -> Result<(), String> {
    for a in args {
        let b = a.as_bytes();
        let bad_star = b.first() == Some(&b'*') && (b.len() < 3 || b[1] != b'.');
        let bad_dot = b.first() == Some(&b'.') && b.len() < 2;
        if bad_star || bad_dot {
            return Err(format!("server name \"{a}\" is invalid"));
        }
        if let Some(pattern) = a.strip_prefix('~') {
            if pattern.is_empty() {
                return Err(format!("empty regex in server name \"{a}\""));
            }
            let caseless = pattern.bytes().any(|c| c.is_ascii_uppercase());
            http(pattern, caseless, names)?;
        }
    }
    Ok(())
}

/// The pattern of an `if` (`ngx_http_rewrite_if_condition`, once the
/// condition parsed, its `)` cut off): `op` is `~`, `~*`, `!~` or `!~*`.
pub fn if_pattern(pattern: &str, op: &str) -> Result<Vec<String>, String> {
    compile(pattern, op.ends_with('*')).map(|c| c.names)
}

/// A `map` key (`ngx_http_map`, `ngx_stream_map`): `~pattern` or
/// `~*pattern` is compiled; other keys are strings.
pub fn map_key(key: &str) -> Result<Vec<String>, String> {
    let Some(pattern) = key.strip_prefix('~') else {
        return Ok(Vec::new());
    };
    let (pattern, caseless) = match pattern.strip_prefix('*') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    compile(pattern, caseless).map(|c| c.names)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use crate::check::strings;
    #[test]
    fn a_pattern_met_again_gets_the_same_verdict() {
        for (p, caseless) in [("^(a", false), ("^/(?<id>\\d+)$", true), ("^/x", false)] {
            let first = compile(p, caseless);
            assert_eq!(compile(p, caseless), first);
            assert_eq!(compile_now(p, caseless), first);
        }
        assert_ne!(compile("[a-Z]", false), compile("[a-z]", false));
    }

    #[test]
    fn pcre2_words_and_offsets() {
        assert_eq!(
            compile("^(a", false),
            Err("pcre2_compile() failed: missing closing parenthesis in \"^(a\"".into())
        );
        assert_eq!(
            compile("a{2,1}b", false),
            Err(
                "pcre2_compile() failed: numbers out of order in {} quantifier in \"a{2,1}b\" at \"}b\""
                    .into()
            )
        );
        let ok = compile("^/(?<user>[^/]+)/(\\d+)$", true).unwrap();
        assert_eq!(ok.captures, 2);
        assert_eq!(ok.names, vec!["user"]);
        assert!(compile("", false).is_ok());
        assert!(compile("[[:alpha:]]+\\.php$", false).is_ok());
    }

    #[test]
    fn long_messages_are_cut_as_nginx_cuts_them() {
        let pattern = format!("({}", "a".repeat(2000));
        let e = compile(&pattern, false).unwrap_err();
        assert_eq!(e.len(), crate::check::ERRSTR);
    }

    #[test]
    fn handlers_and_their_patterns() {
        let run = |name: &str, args: &[&str]| directive(name, &strings(args));
        assert_eq!(
            run("location", &["~*", "\\.(?<ext>php)$"]),
            Ok(vec!["ext".into()])
        );
        assert!(run("location", &["~(a"]).is_err());
        assert!(run("location", &["=", "(a"]).is_ok());
        assert!(run("location", &["(a"]).is_ok());
        assert!(run("rewrite", &["(a", ""]).is_ok());
        assert!(run("rewrite", &["(a", "/b"]).is_err());
        assert_eq!(
            run("server_name", &["*x"]),
            Err("server name \"*x\" is invalid".into())
        );
        assert_eq!(
            run("server_name", &["~"]),
            Err("empty regex in server name \"~\"".into())
        );
        assert!(run("server_name", &["example.com", "~^(www\\.)?(?<d>.+)$"]).is_ok());
        assert!(run("proxy_redirect", &["~*(a", "/"]).is_err());
        assert!(run("proxy_redirect", &["(a", "/"]).is_ok());
        assert!(run("proxy_cookie_flags", &["~*x", "secure"]).is_err());
        assert_eq!(
            run("valid_referers", &["none", "~"]),
            Err("empty regex in \"~\"".into())
        );
        assert!(run("gzip_disable", &["msie6", "MSIE [4-6]\\."]).is_ok());
        assert!(run("gzip_disable", &["(x"]).is_err());
        assert_eq!(
            run("fastcgi_split_path_info", &["^(.+\\.php)$"]),
            Err("pattern \"^(.+\\.php)$\" must have 2 captures".into())
        );
        assert!(run("fastcgi_split_path_info", &["^(.+\\.php)(/.+)$"]).is_ok());
    }

    #[test]
    fn map_keys_and_if_patterns() {
        assert_eq!(map_key("~*^(?<v>x)"), Ok(vec!["v".into()]));
        assert!(map_key("\\~(a").is_ok());
        assert!(map_key("~(a").is_err());
        assert!(if_pattern("^/a(", "!~*").is_err());
        assert!(if_pattern("^/A", "~*").is_ok());
    }
}
