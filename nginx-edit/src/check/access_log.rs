//! `access_log` as `ngx_http_log_set_log` and `ngx_stream_log_set_log`
//! read it (nginx 1.22.1): `off` alone, a format the block declared
//! (stream has no `combined` and needs one), then `buffer=`, `flush=`,
//! `gzip[=N]` and `if=`, and the rules a buffer brings (one file's
//! buffer is shared: every buffered `access_log` of it, http or stream,
//! must give the same size, flush and gzip); and `open_log_file_cache`.

use super::numbers::{atoi, parse_size, parse_time};

/// A log file's buffer as nginx keeps it on the open file: its size,
/// flush time (ms, 0 none) and gzip level (0 none).
pub type Buffer = (i64, i64, i64);

/// The buffers of the log files opened so far, by full path (a relative
/// name joined to nginx's prefix, as `ngx_conf_open_file` keys them).
pub type Buffers = std::collections::HashMap<String, Buffer>;

/// The refusal of `access_log ARGS`; `known` says whether a format name
/// was declared (`None`: the formats are not all known, as in a snippet);
/// `prefix` is nginx's, that a relative path is joined to. A buffered log
/// records its buffer in `buffers`, or must match the one there.
pub fn check(
    args: &[String],
    stream: bool,
    known: Option<&dyn Fn(&str) -> bool>,
    prefix: &str,
    buffers: &mut Buffers,
) -> Result<(), String> {
    let Some((path, rest)) = args.split_first() else {
        return Ok(());
    };
    if path == "off" {
        return match rest.first() {
            Some(p) => Err(format!("invalid parameter \"{p}\"")),
            None => Ok(()),
        };
    }
    let format = match rest.first() {
        Some(f) => f.as_str(),
        None if stream => return Err("log format is not specified".into()),
        None => "combined",
    };
    if let Some(known) = known {
        if !known(format) {
            return Err(format!("unknown log format \"{format}\""));
        }
    }
    let (mut size, mut flush, mut gzip) = (0, 0, 0);
    for p in rest.iter().skip(1) {
        if let Some(s) = p.strip_prefix("buffer=") {
            size = parse_size(s.as_bytes())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("invalid buffer size \"{s}\""))?;
        } else if let Some(s) = p.strip_prefix("flush=") {
            flush = parse_time(s.as_bytes(), false)
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("invalid flush time \"{s}\""))?;
        } else if p == "gzip" || p.starts_with("gzip=") {
            if size == 0 {
                size = 64 * 1024;
            }
            gzip = 1;
            if let Some(s) = p.strip_prefix("gzip=") {
                gzip = atoi(s.as_bytes())
                    .filter(|n| (1..=9).contains(n))
                    .ok_or_else(|| format!("invalid compression level \"{s}\""))?;
            }
        } else if !p.starts_with("if=") {
            return Err(format!("invalid parameter \"{p}\""));
        }
    }
    if flush > 0 && size == 0 {
        // a name with variables is joined to the prefix in place
        let path = if path.contains('$') {
            super::full_name(prefix, path)
        } else {
            path.into()
        };
        return Err(format!("no buffer is defined for access_log \"{path}\""));
    }
    if size > 0 && path.contains('$') {
        return Err("buffered logs cannot have variables in name".into());
    }
    if size > 0 && path.starts_with("syslog:") {
        return Err("logs to syslog cannot be buffered".into());
    }
    if size > 0 {
        let buffer = (size, flush, gzip);
        let file = super::full_name(prefix, path).into_owned();
        if *buffers.entry(file).or_insert(buffer) != buffer {
            return Err(format!(
                "access_log \"{path}\" already defined with conflicting parameters"
            ));
        }
    }
    Ok(())
}

/// `ngx_http_log_open_file_cache` (stream's is the same): `max=`,
/// `inactive=`, `min_uses=`, `valid=`, `off`; a cache needs `max=` not 0.
pub fn open_log_file_cache(args: &[String]) -> Result<(), String> {
    let (mut max, mut off) = (0, false);
    for a in args {
        let ok = if let Some(n) = a.strip_prefix("max=") {
            atoi(n.as_bytes()).map(|n| max = n).is_some()
        } else if let Some(t) = a.strip_prefix("inactive=").or(a.strip_prefix("valid=")) {
            parse_time(t.as_bytes(), true).is_some()
        } else if let Some(n) = a.strip_prefix("min_uses=") {
            atoi(n.as_bytes()).is_some()
        } else if a == "off" {
            off = true;
            true
        } else {
            false
        };
        if !ok {
            return Err(format!("invalid \"open_log_file_cache\" parameter \"{a}\""));
        }
    }
    if !off && max == 0 {
        return Err("\"open_log_file_cache\" must have \"max\" parameter".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_log_file_cache_parameters() {
        let run = |a: &str| {
            let args: Vec<String> = a.split_whitespace().map(String::from).collect();
            open_log_file_cache(&args)
        };
        assert_eq!(run("max=10 inactive=20s valid=1m min_uses=2"), Ok(()));
        assert_eq!(run("off"), Ok(()));
        let no_max = Err("\"open_log_file_cache\" must have \"max\" parameter".into());
        assert_eq!(run("inactive=20s"), no_max);
        assert_eq!(run("max=0"), no_max);
        assert_eq!(
            run("max=10 valid=1x"),
            Err("invalid \"open_log_file_cache\" parameter \"valid=1x\"".into())
        );
    }

    fn run(line: &str, stream: bool) -> Result<(), String> {
        let mut buffers = Buffers::default();
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let known = |f: &str| f == "main" || (!stream && f == "combined");
        check(&args, stream, Some(&known), "/p/", &mut buffers)
    }

    #[test]
    fn one_buffer_per_file() {
        let mut buffers = Buffers::default();
        let mut run = |line: &str| {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            check(&args, false, None, "/p/", &mut buffers)
        };
        assert_eq!(run("/a combined buffer=64k gzip"), Ok(()));
        assert_eq!(run("/a combined gzip=1"), Ok(()));
        assert_eq!(run("/a combined"), Ok(()));
        assert_eq!(
            run("/a combined gzip=2"),
            Err("access_log \"/a\" already defined with conflicting parameters".into())
        );
        assert_eq!(run("/b combined buffer=4k flush=1s"), Ok(()));
        // a relative name is the file under the prefix
        assert_eq!(run("c combined buffer=8k"), Ok(()));
        assert!(run("/p/c combined buffer=4k").is_err());
        assert!(run("/b combined buffer=4k flush=2s").is_err());
    }

    #[test]
    fn access_log_parameters() {
        assert_eq!(
            run("/var/log/a.log main buffer=32k flush=5s gzip=4", false),
            Ok(())
        );
        assert_eq!(run("/var/log/a.log", false), Ok(()));
        assert_eq!(
            run("/var/log/a.log", true),
            Err("log format is not specified".into())
        );
        assert_eq!(
            run("/var/log/a.log combined", true),
            Err("unknown log format \"combined\"".into())
        );
        assert_eq!(
            run("/var/log/a.log main x1", true),
            Err("invalid parameter \"x1\"".into())
        );
        assert_eq!(
            run("off main", false),
            Err("invalid parameter \"main\"".into())
        );
        // a relative name with variables is shown joined to the prefix
        assert_eq!(
            run("logs/$host.log main flush=1s", false),
            Err("no buffer is defined for access_log \"/p/logs/$host.log\"".into())
        );
        assert_eq!(
            run("logs/a.log main flush=1s", false),
            Err("no buffer is defined for access_log \"logs/a.log\"".into())
        );
        assert_eq!(
            run("/var/log/a.log main flush=1s", false),
            Err("no buffer is defined for access_log \"/var/log/a.log\"".into())
        );
        assert_eq!(
            run("/var/log/$host.log main gzip", false),
            Err("buffered logs cannot have variables in name".into())
        );
        assert_eq!(
            run("/a main buffer=0", false),
            Err("invalid buffer size \"0\"".into())
        );
        assert_eq!(
            run("/a main gzip=10", false),
            Err("invalid compression level \"10\"".into())
        );
    }
}
