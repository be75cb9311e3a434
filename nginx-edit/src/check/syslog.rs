//! Log destinations as nginx 1.22.1 reads them before the levels or the
//! format: `syslog:` parameters (`ngx_syslog_process_conf`, for
//! `error_log` and `access_log` in every module) and the `memory:` buffer
//! of a debug build's `error_log` (`ngx_log_set_log`; Debian builds with
//! `--with-debug`).

use super::numbers::parse_size;
use super::url;

const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "intern", "lpr", "news", "uucp", "clock", "authpriv",
    "ftp", "ntp", "audit", "alert", "cron", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

const SEVERITIES: &[&str] = &[
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
];

/// `ngx_syslog_parse_args` and the server it requires, for a destination
/// that starts with `syslog:`; `resolves` looks a server's host name up
/// (`None`: do not).
pub fn syslog(dest: &str, resolves: Option<&dyn Fn(&str) -> bool>) -> Result<(), String> {
    let params = dest.strip_prefix("syslog:").unwrap_or(dest);
    let (mut server, mut facility, mut severity, mut tag) = (false, false, false, false);
    for p in params.split(',') {
        if let Some(u) = p.strip_prefix("server=") {
            if server {
                return Err("duplicate syslog \"server\"".into());
            }
            let kind = url::UrlKind {
                listen: false,
                uri_part: false,
                default_port: 514,
            };
            let parsed = url::parse_url(u.as_bytes(), kind)
                .map_err(|e| format!("{e} in syslog server \"{u}\""))?;
            if !parsed.host.is_empty() {
                let host = String::from_utf8_lossy(&parsed.host);
                if resolves.is_some_and(|lookup| !lookup(&host)) {
                    return Err(format!("host not found in syslog server \"{u}\""));
                }
            }
            server = true;
        } else if let Some(f) = p.strip_prefix("facility=") {
            if facility {
                return Err("duplicate syslog \"facility\"".into());
            }
            if !FACILITIES.contains(&f) {
                return Err(format!("unknown syslog facility \"{f}\""));
            }
            facility = true;
        } else if let Some(s) = p.strip_prefix("severity=") {
            if severity {
                return Err("duplicate syslog \"severity\"".into());
            }
            if !SEVERITIES.contains(&s) {
                return Err(format!("unknown syslog severity \"{s}\""));
            }
            severity = true;
        } else if let Some(t) = p.strip_prefix("tag=") {
            if tag {
                return Err("duplicate syslog \"tag\"".into());
            }
            // RFC 3164: at most 32 alphanumeric characters
            if t.len() > 32 {
                return Err("syslog tag length exceeds 32".into());
            }
            if !t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                return Err(
                    "syslog \"tag\" only allows alphanumeric characters and underscore".into(),
                );
            }
            tag = true;
        } else if p != "nohostname" {
            return Err(format!("unknown syslog parameter \"{p}\""));
        }
    }
    if !server {
        return Err("no syslog server specified".into());
    }
    Ok(())
}

/// An `error_log` destination: `syslog:` as above, `memory:SIZE` with room
/// for its header line (which names the file, `conf_file` as nginx holds
/// it) and one message.
pub fn error_log(
    dest: &str,
    conf_file: &str,
    resolves: Option<&dyn Fn(&str) -> bool>,
) -> Result<(), String> {
    if dest.starts_with("syslog:") {
        return syslog(dest, resolves);
    }
    if let Some(size) = dest.strip_prefix("memory:") {
        // sizeof("MEMLOG  :\n"), NGX_SIZE_T_LEN, NGX_INT_T_LEN, NGX_MAX_ERROR_STR
        let needed = 11 + conf_file.len() + 20 + 20 + 2048;
        return match parse_size(size.as_bytes()) {
            Some(n) if usize::try_from(n).is_ok_and(|n| n >= needed) => Ok(()),
            _ => Err(format!("invalid buffer size \"{size}\"")),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_parameters() {
        let s = |d: &str| syslog(d, None);
        assert_eq!(
            s("syslog:server=127.0.0.1:514,facility=local7,severity=info,tag=web_1,nohostname"),
            Ok(())
        );
        assert_eq!(s("syslog:server=unix:/dev/log"), Ok(()));
        for (bad, err) in [
            ("syslog:tag=a", "no syslog server specified"),
            ("syslog:", "unknown syslog parameter \"\""),
            ("syslog:server=127.0.0.1,", "unknown syslog parameter \"\""),
            ("syslog:foo=1", "unknown syslog parameter \"foo=1\""),
            (
                "syslog:server=127.0.0.1,nohostname=1",
                "unknown syslog parameter \"nohostname=1\"",
            ),
            (
                "syslog:server=127.0.0.1,server=::1",
                "duplicate syslog \"server\"",
            ),
            (
                "syslog:server=127.0.0.1,facility=x",
                "unknown syslog facility \"x\"",
            ),
            (
                "syslog:server=127.0.0.1,severity=warning",
                "unknown syslog severity \"warning\"",
            ),
            (
                "syslog:server=127.0.0.1,tag=a-b",
                "syslog \"tag\" only allows alphanumeric characters and underscore",
            ),
            ("syslog:server=", "no host in syslog server \"\""),
            (
                "syslog:server=127.0.0.1:x",
                "invalid port in syslog server \"127.0.0.1:x\"",
            ),
        ] {
            assert_eq!(s(bad), Err(err.to_string()), "{bad}");
        }
        let long = format!("syslog:server=127.0.0.1,tag={}", "a".repeat(33));
        assert_eq!(s(&long), Err("syslog tag length exceeds 32".into()));
    }

    #[test]
    fn memory_buffer_holds_a_message() {
        let conf = "/etc/nginx/nginx.conf";
        assert_eq!(error_log("memory:1m", conf, None), Ok(()));
        assert_eq!(
            error_log("memory:2k", conf, None),
            Err("invalid buffer size \"2k\"".into())
        );
        assert_eq!(
            error_log("memory:x", conf, None),
            Err("invalid buffer size \"x\"".into())
        );
        assert_eq!(error_log("/var/log/e.log", conf, None), Ok(()));
    }
}
