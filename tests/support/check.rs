//! `nginx-edit check`'s verdict in the form [`crate::Verdict`] has, and
//! which of nginx's messages it claims to model: shared by the tests that
//! compare it with the real `nginx -t` (fixtures, corpus, mutants).

use std::path::{Path, PathBuf};

use crate::Verdict;
use nginx_edit::check::{check_set, CheckOptions};
use nginx_edit::includes::{ConfigSet, LoadError, LoadOptions};

/// The first error `nginx-edit check` finds, as a verdict.
pub use self::ours as check_verdict;

/// The first error `nginx-edit check` finds, as a verdict (nginx's prefix
/// Debian's, as `nginx -t` without `-p`).
pub fn ours(path: &Path) -> Verdict {
    ours_at(path, Path::new(nginx_edit::check::DEBIAN_PREFIX))
}

/// [`ours`] with nginx's prefix `prefix`, as `nginx -t -p PREFIX`.
pub fn ours_at(path: &Path, prefix: &Path) -> Verdict {
    let options = LoadOptions {
        tolerate_cycles: true,
        keep_partial: true,
        ..LoadOptions::default()
    };
    let set = match ConfigSet::load_with(path, &options) {
        Ok(set) => set,
        Err(LoadError::Parse { error, .. }) => {
            return Verdict::Error {
                message: error.message(),
                line: error.line,
            }
        }
        Err(LoadError::Cycle { line, .. }) => {
            return Verdict::Error {
                message: "include cycle".into(),
                line,
            }
        }
        Err(e) => {
            return Verdict::Error {
                message: format!("cannot load: {e}"),
                line: 0,
            }
        }
    };
    let cycle = set
        .cycles
        .first()
        .map(|c| (c.line, "include cycle".to_string()));
    let options = CheckOptions {
        nginx_prefix: prefix.display().to_string(),
        ..CheckOptions::default()
    };
    match check_set(&set, &options)
        .into_iter()
        .find(|f| f.severity == "error")
        .map(|f| (f.line, f.message))
        .or(cycle)
    {
        None => Verdict::Ok,
        Some((line, message)) => Verdict::Error { message, line },
    }
}

/// nginx's messages the checker models (the rest depend on the machine:
/// users, files, modules on disk, or on handler semantics not modelled).
pub fn modelled(message: &str) -> bool {
    [
        "unexpected",
        "unknown directive",
        "directive is not allowed here",
        "is not terminated by",
        "has no opening",
        "invalid number of arguments",
        "it must be \"on\" or \"off\"",
        "no servers are inside upstream",
        "map parameter",
        "no \"events\" section",
        "too long parameter",
        "is outside location",
        "cannot be inside the",
        "can be on the server level only",
        "invalid location modifier",
        "duplicate upstream",
        "unknown log format",
        "directive is duplicate",
        "directive invalid value",
        "directive invalid number",
        "invalid condition",
        "in condition",
        "host not found in upstream",
        "may not have port",
        "no servers in upstream",
        "no port in upstream",
        // enum and bitmask slots, error_page, *_store_access, keepalive
        "invalid value \"",
        "must be between 300 and 599",
        "a duplicate default server for",
        "a duplicate listen ",
        "duplicate listen options for",
        "invalid backlog",
        "invalid fastopen",
        "invalid rcvbuf",
        "invalid sndbuf",
        "invalid ipv6only flags",
        "invalid so_keepalive value",
        // listen and upstream server parameters (other handlers word
        // theirs the same: the corpus has none of those)
        "invalid parameter \"",
        "balancing method does not support parameter",
        "duplicate location",
        "invalid return code",
        "cannot have URI part",
        "invalid URL prefix",
        // post-configuration: merge and init functions
        "no \"ssl_certificate\" is defined",
        "no \"ssl_certificate_key\" is defined",
        "no ssl_client_certificate for ssl_verify_client",
        "\"ssl_ocsp\" is incompatible",
        "no \"listen\" is defined for server",
        "no handler for server",
        "unknown mail protocol for server",
        "no \"auth_http\" is defined for server",
        "zero size shared memory zone",
        "is already declared for a different use",
        // geo blocks and resolver (a name server's name needs DNS)
        "invalid range \"",
        "invalid network \"",
        "invalid number of the geo parameters",
        "the \"ranges\" directive must be the first",
        "no name servers defined",
        // handlers that read their own arguments
        "invalid log level \"",
        "duplicate log level \"",
        "invalid burst value",
        "invalid delay value",
        "must have \"zone\" parameter",
        "invalid session cache \"",
        "is too small",
        "invalid time value \"",
        "invalid status \"",
        "\"open_file_cache\" parameter",
        "must have the \"max\" parameter",
        "value must be between",
        "cannot be used inside the named location",
        "empty replacement",
        "invalid event type",
        "duplicate \"log_format\" name",
        "unknown log format escaping",
        "invalid variable name",
        "percent total is greater than 100%",
        "invalid percent value",
        "invalid method \"",
        "invalid code \"",
        "_ssl_trusted_certificate for ",
        "the closing bracket in \"",
        "invalid zone size \"",
        "invalid rate \"",
        "invalid variable name",
        "_ssl_certificate_key\" is defined for certificate",
        // limit_conn, mail and stream listen, upstream zone
        "invalid number of connections \"",
        "connection limit must be less 65536",
        "the invalid \"",
        "address and port pair",
        "invalid zone name \"",
        "\"proxy_redirect default\"",
        // map keys, limit zones, index, mail protocol
        "conflicting parameter \"",
        "invalid hostname or wildcard \"",
        "invalid referer \"",
        "is already bound to key \"",
        "\" in \"index\" directive is invalid",
        "unknown protocol \"",
        // access_log
        "log format is not specified",
        "invalid buffer size \"",
        "invalid flush time \"",
        "invalid compression level \"",
        "no buffer is defined for access_log",
        "buffered logs cannot have variables in name",
        "logs to syslog cannot be buffered",
        "is unsupported on this platform",
        "\" is already loaded",
        // proxy, fastcgi, uwsgi, scgi buffers (merge)
        "_buffers_size\" must be",
        "_temp_file_write_size\" must be",
        "_max_temp_file_size\" must be",
        "there must be at least 2 \"",
        "could not build map_hash, you should increase map_hash_bucket_size: ",
        "could not build server_names_hash, you should increase server_names_hash_bucket_size: ",
        "directive value must be \"off\" or a single letter, digit or \"=\"",
        // worker_connections
        "invalid number \"",
        // charset_map entries, disable_symlinks
        "invalid parameters number",
        "must have \"off\", \"on\" or \"if_not_owner\" parameter",
        "duplicate parameters \"",
        "\"from=\" cannot be used with \"off\" parameter",
        // from branch pcre: regular expressions (PCRE2), *_cache_path, log_format
        "pcre2_compile() failed: ",
        "must have 2 captures",
        "empty regex in ",
        "the duplicate \"",
        "invalid \"levels\" \"",
        "invalid keys zone size \"",
        "invalid inactive value \"",
        "invalid max_size value \"",
        "invalid min_free value \"",
        "invalid loader_",
        "invalid manager_",
        "invalid use_temp_path value \"",
        "must have \"keys_zone\" parameter",
        "duplicate zone \"",
        "conflicts with already declared size",
        "the same path name \"",
        "has the same name as default path",
        "ngx_slab_alloc() failed: no memory",
        "referers are specified in the \"valid_referers\" directive",
        // from branch hard: geo ranges, main-context handlers, syslog
        "overlaps \"",
        "thread pool \"",
        "invalid threads value \"",
        "invalid max_queue value \"",
        "must have \"threads\" parameter",
        "in \"worker_cpu_affinity\"",
        "supports up to 1024 CPUs only",
        "directive is specified too late",
        "syslog",
        "directive is incompatible with \"",
        "invalid address \"",
        "directive must be 512, 1k",
        "the pool size must be",
        "directive must be a power of two",
        "directive value is too small",
        "the maximum body preread buffer size is",
        "the http2 chunk size cannot be zero",
        "variable cannot be used in the \"",
        // from branch stream: stream and mail handlers and merges, syslog
        "host not found in auth_http \"",
        " in auth_http \"",
        "invalid address \"",
        "\" directive conflicts with \"",
        "no proxy_ssl_trusted_certificate for proxy_ssl_verify",
        "no \"proxy_ssl_certificate_key\" is defined for certificate",
        "\"load_module\" directive is specified too late",
        "\"open_log_file_cache\" must have \"max\" parameter",
        "invalid \"open_log_file_cache\" parameter",
        "syslog server",
        "no syslog server specified",
        "unknown syslog ",
        "duplicate syslog \"",
        "syslog \"tag\" only allows",
        "syslog tag length exceeds 32",
        // mail ssl and starttls in one block
        "directive conflicts with \"",
        "unknown browser name \"",
        "invalid browser version \"",
        "in set_real_ip_from \"",
        "in debug_connection \"",
        "\"charset_map\" between ",
        "invalid OCSP cache \"",
    ]
    .iter()
    .any(|m| message.contains(m))
        || (message.starts_with("unknown \"") && message.ends_with("\" variable"))
        || (message.starts_with("the duplicate \"") && message.ends_with("\" variable"))
        || (message.contains("_cache\" zone \"") && message.ends_with("is unknown"))
        || (message.contains(" in resolver \"")
            && (!message.starts_with("host not found") || message.contains('=')))
        || (message.starts_with("server name \"") && message.ends_with("\" is invalid"))
        || message.starts_with("invalid parameter \"$")
        // (a host name in `listen` is looked up, as nginx does)
        || message.ends_with("of the \"listen\" directive")
}

/// Compares verdicts; `no "events" section` has no line in nginx's output.
pub fn same(theirs: &Verdict, mine: &Verdict) -> bool {
    match (theirs, mine) {
        // nginx refused without a message: any error of ours agrees
        (
            Verdict::Error {
                message: a,
                line: 0,
            },
            Verdict::Error { .. },
        ) if a.is_empty() => true,
        (
            Verdict::Error {
                message: a,
                line: 0,
            },
            Verdict::Error { message: b, .. },
        ) => a == b,
        _ => theirs == mine,
    }
}

/// Files with a top-level `events` or `http` block: whole nginx configs.
/// Unreadable entries are left out.
pub fn collect_mains(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for p in entries.flatten().map(|e| e.path()) {
        if p.is_dir() {
            collect_mains(&p, out);
        } else if p.extension().is_some_and(|x| x == "conf") {
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            if text
                .lines()
                .any(|l| l.starts_with("events") || l.starts_with("http"))
            {
                out.push(p);
            }
        }
    }
}
