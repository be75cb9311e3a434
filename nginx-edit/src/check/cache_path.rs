//! `proxy_cache_path` (and `fastcgi_`, `uwsgi_`, `scgi_cache_path`) as
//! nginx 1.22's `ngx_http_file_cache_set_slot` reads its parameters, and
//! the paths the configuration names (`ngx_add_path` in
//! `src/core/ngx_file.c`): one directory may not be a cache and something
//! else, nor the same thing with other `levels`. `*_temp_path`
//! (`ngx_conf_set_path_slot`) names paths too.

use super::numbers::{atoi, parse_size, parse_time};
use super::{args_of, Walker};
use crate::directives::Context;
use crate::document::Directive;

/// nginx's page size on Linux: a keys zone needs two pages.
const PAGE_SIZE: i64 = 4096;

/// A parsed `*_cache_path`: its directory, `levels`, zone name and size.
#[derive(Debug, PartialEq, Eq)]
pub struct CachePath {
    pub dir: String,
    pub levels: Vec<u8>,
}

/// The parameters of `name` (`proxy_cache_path` ...) in nginx's order and
/// words; `Ok` is the directory and its levels.
pub fn params(name: &str, args: &[String]) -> Result<CachePath, String> {
    let Some((dir, params)) = args.split_first() else {
        return Err(format!("\"{name}\" must have \"keys_zone\" parameter"));
    };
    let mut path = CachePath {
        dir: dir.strip_suffix('/').unwrap_or(dir).to_string(),
        levels: Vec::new(),
    };
    let mut zone: Option<(&str, i64)> = None;
    let mut levels_len = 0;
    for p in params {
        let invalid = |what: &str| Err(format!("invalid {what} value \"{p}\""));
        if let Some(levels) = p.strip_prefix("levels=") {
            let bad = || format!("invalid \"levels\" \"{p}\"");
            path.levels = levels_of(levels).ok_or_else(bad)?;
            // nginx adds up the path length of every `levels=` it reads
            levels_len += path
                .levels
                .iter()
                .map(|&l| usize::from(l) + 1)
                .sum::<usize>();
            if levels_len >= 13 {
                return Err(bad());
            }
        } else if let Some(v) = p.strip_prefix("use_temp_path=") {
            if v != "on" && v != "off" {
                return Err(format!(
                    "invalid use_temp_path value \"{p}\", it must be \"on\" or \"off\""
                ));
            }
        } else if let Some(v) = p.strip_prefix("keys_zone=") {
            let bad_size = || format!("invalid keys zone size \"{p}\"");
            let (zone_name, size) = v.split_once(':').ok_or_else(bad_size)?;
            let size = parse_size(size.as_bytes()).ok_or_else(bad_size)?;
            if size < 2 * PAGE_SIZE {
                return Err(format!("keys zone \"{p}\" is too small"));
            }
            zone = Some((zone_name, size));
        } else if let Some(v) = p.strip_prefix("inactive=") {
            if parse_time(v.as_bytes(), true).is_none() {
                return invalid("inactive");
            }
        } else if let Some(v) = p.strip_prefix("max_size=") {
            if offset(v).is_none() {
                return invalid("max_size");
            }
        } else if let Some(v) = p.strip_prefix("min_free=") {
            if offset(v).is_none() {
                return invalid("min_free");
            }
        } else if let Some((key, v)) = p.split_once('=').filter(|(k, _)| TIMES.contains(k)) {
            if parse_time(v.as_bytes(), false).is_none() {
                return invalid(key);
            }
        } else if let Some(v) = p.strip_prefix("loader_files=") {
            if atoi(v.as_bytes()).is_none() {
                return invalid("loader_files");
            }
        } else if let Some(v) = p.strip_prefix("manager_files=") {
            if atoi(v.as_bytes()).is_none() {
                return invalid("manager_files");
            }
        } else {
            // (`purger=` and the like are NGINX Plus's)
            return Err(format!("invalid parameter \"{p}\""));
        }
    }
    match zone {
        Some((zone_name, _)) if !zone_name.is_empty() => Ok(path),
        _ => Err(format!("\"{name}\" must have \"keys_zone\" parameter")),
    }
}

/// The millisecond parameters (`ngx_parse_time(&s, 0)`).
const TIMES: &[&str] = &[
    "loader_sleep",
    "loader_threshold",
    "manager_sleep",
    "manager_threshold",
];

/// `ngx_parse_offset` (sizes up to `g`).
fn offset(v: &str) -> Option<i64> {
    let (&last, head) = v.as_bytes().split_last()?;
    let scale = match last.to_ascii_lowercase() {
        b'k' => 1 << 10,
        b'm' => 1 << 20,
        b'g' => 1 << 30,
        _ => return atoi(v.as_bytes()),
    };
    atoi(head)?.checked_mul(scale)
}

/// `levels=1:2`: up to three levels of 1 or 2 characters.
fn levels_of(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut levels = Vec::new();
    let mut i = 0;
    while levels.len() < 3 && i < b.len() {
        if !matches!(b[i], b'1' | b'2') {
            return None;
        }
        levels.push(b[i] - b'0');
        i += 1;
        if i == b.len() {
            break;
        }
        let colon = b[i] == b':';
        i += 1;
        if !(colon && levels.len() < 3 && i < b.len()) {
            return None;
        }
    }
    Some(levels)
}

/// `ngx_conf_set_path_slot`'s levels (`proxy_temp_path /x 1 2`): numbers
/// from 1, no longer than nginx's path buffer; `None` is `invalid value`.
pub fn temp_levels(levels: &[String]) -> Option<Vec<u8>> {
    let mut len = 0;
    let mut out = Vec::new();
    for l in levels {
        let n = atoi(l.as_bytes()).filter(|&n| n > 0)?;
        len += n + 1;
        out.push(u8::try_from(n).unwrap_or(u8::MAX));
    }
    (len <= 10 + out.len() as i64).then_some(out)
}

/// One named path: the name nginx compares, its directory, levels,
/// whether a cache owns it, and where it was named (`FILE:LINE`).
#[derive(Debug)]
struct Path {
    key: String,
    dir: String,
    levels: Vec<u8>,
    cache: bool,
    at: String,
}

/// The paths named so far (`cycle->paths`), and which servers of the
/// http block set each module's temporary path themselves.
#[derive(Debug, Default)]
pub struct Paths {
    list: Vec<Path>,
    /// `*_temp_path` set in `http` (by directive name).
    http_temp: Vec<String>,
    /// (directive name, server number) of those set in a `server`.
    server_temp: Vec<(String, usize)>,
    /// The number of the last server before the http block.
    servers_before: usize,
}

/// The temporary paths the http modules merge when a server has none
/// (Debian's build: `--http-*-temp-path`), in module order, with their
/// levels (`ngx_path_init_t`).
const DEFAULT_TEMP: &[(&str, &str, &[u8])] = &[
    ("client_body_temp_path", "/var/lib/nginx/body", &[]),
    ("proxy_temp_path", "/var/lib/nginx/proxy", &[1, 2]),
    ("fastcgi_temp_path", "/var/lib/nginx/fastcgi", &[1, 2]),
    ("uwsgi_temp_path", "/var/lib/nginx/uwsgi", &[1, 2]),
    ("scgi_temp_path", "/var/lib/nginx/scgi", &[1, 2]),
];

impl Paths {
    /// An http block opens after server number `servers_before`.
    pub fn open_http(&mut self, servers_before: usize) {
        self.servers_before = servers_before;
        self.http_temp.clear();
        self.server_temp.clear();
    }

    /// The servers' merge (`ngx_conf_merge_path_value`): each module whose
    /// temporary path some server up to `last_server` lacks (and `http`
    /// does not set) adds its default path; `Err` is nginx's refusal of a
    /// name already used otherwise (`at` is where the merge runs).
    pub fn merge_defaults(&mut self, last_server: usize, at: &str) -> Result<(), String> {
        for &(name, dir, levels) in DEFAULT_TEMP {
            if self.http_temp.iter().any(|n| n == name) {
                continue;
            }
            let lacking = (self.servers_before + 1..=last_server)
                .any(|s| !self.server_temp.iter().any(|(n, id)| n == name && *id == s));
            if !lacking {
                continue;
            }
            match self.list.iter().find(|p| p.key == dir) {
                Some(p) if p.cache => {
                    return Err(format!(
                        "the same path name \"{dir}\" used in {} and in {at}",
                        p.at
                    ));
                }
                Some(p) if p.levels != levels => {
                    return Err(format!(
                        "the path name \"{dir}\" in {} has the same name as default path, \
                         but the different levels, you need to define default path in http section",
                        p.at
                    ));
                }
                Some(_) => {}
                None => self.list.push(Path {
                    key: dir.to_string(),
                    dir: dir.to_string(),
                    levels: levels.to_vec(),
                    cache: false,
                    at: String::new(),
                }),
            }
        }
        Ok(())
    }

    /// `ngx_add_path`: `at` is `FILE:LINE` of this directive; `Err` is
    /// nginx's message.
    pub fn add(
        &mut self,
        key: &str,
        dir: &str,
        levels: &[u8],
        cache: bool,
        at: String,
    ) -> Result<(), String> {
        match self.list.iter().find(|p| p.key == key) {
            Some(p) if p.cache || cache => Err(format!(
                "the same path name \"{}\" used in {} and",
                p.dir, p.at
            )),
            Some(p) if p.levels != levels => Err(format!(
                "the same path name \"{}\" in {} has the different levels than",
                p.dir, p.at
            )),
            Some(_) => Ok(()),
            None => {
                self.list.push(Path {
                    key: key.to_string(),
                    dir: dir.to_string(),
                    levels: levels.to_vec(),
                    cache,
                    at,
                });
                Ok(())
            }
        }
    }
}

impl Walker<'_> {
    /// `*_cache_path` and `*_temp_path`: their parameters, then their path
    /// against the ones named before (`here` is the directive's `;`).
    pub(super) fn named_path(
        &mut self,
        d: Directive<'_>,
        name: &str,
        ctx: Context,
        here: (usize, usize),
    ) -> Result<(), String> {
        let args = args_of(d);
        let (dir, levels, cache) = if name.ends_with("_cache_path") {
            let path = params(name, &args)?;
            (path.dir, path.levels, true)
        } else {
            let levels = temp_levels(args.get(1..).unwrap_or_default())
                .ok_or_else(|| format!("\"{name}\" directive invalid value"))?;
            let dir = args.first().map(String::as_str).unwrap_or_default();
            if ctx == Context::Http {
                self.paths.http_temp.push(name.to_string());
            } else if ctx == Context::HttpServer {
                let id = self.server_id;
                self.paths.server_temp.push((name.to_string(), id));
            }
            (
                dir.strip_suffix('/').unwrap_or(dir).to_string(),
                levels,
                false,
            )
        };
        // nginx compares an absolute name as written (`ngx_strcmp`: with
        // its `/`), a relative one once the prefix is joined (without),
        // and prints the joined one.
        let raw = args.first().map(String::as_str).unwrap_or_default();
        let dir = super::full_name(&self.options.nginx_prefix, &dir).into_owned();
        let key = if raw.starts_with('/') {
            raw
        } else {
            dir.as_str()
        };
        let (file, at) = here;
        let f = &self.set.files[file];
        let at = format!("{}:{}", f.path.display(), f.doc().line_col(at).0);
        self.paths.add(key, &dir, &levels, cache, at)
    }

    /// At the http block's `}` (`close`), as the servers merge: the
    /// default temporary paths against the named ones.
    pub(super) fn default_temp_paths(&mut self, file: usize, close: usize) {
        if self.options.modules != super::Modules::Debian {
            return;
        }
        let f = &self.set.files[file];
        let at = format!("{}:{}", f.path.display(), f.doc().line_col(close).0);
        if let Err(message) = self.paths.merge_defaults(self.server_id, &at) {
            // nginx's message ends with the place (` in FILE:LINE`), or
            // names none (`ngx_log_error`): the finding is at the `}`.
            let message = match message.strip_suffix(&format!(" in {at}")) {
                Some(m) => m.to_string(),
                None => message,
            };
            self.error(file, close, message);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(line: &str) -> Result<CachePath, String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        params("proxy_cache_path", &args)
    }

    #[test]
    fn parameters_in_nginx_words() {
        let ok = run("/c/ levels=1:2 keys_zone=one:10m inactive=1d max_size=1g min_free=100m use_temp_path=off loader_files=10 loader_sleep=10ms manager_threshold=1s").unwrap();
        assert_eq!(
            ok,
            CachePath {
                dir: "/c".into(),
                levels: vec![1, 2]
            }
        );
        for (line, message) in [
            (
                "/c levels=1:3 keys_zone=a:1m",
                "invalid \"levels\" \"levels=1:3\"",
            ),
            (
                "/c levels=1:2:2:2 keys_zone=a:1m",
                "invalid \"levels\" \"levels=1:2:2:2\"",
            ),
            (
                "/c levels=1: keys_zone=a:1m",
                "invalid \"levels\" \"levels=1:\"",
            ),
            ("/c keys_zone=a", "invalid keys zone size \"keys_zone=a\""),
            (
                "/c keys_zone=a:10q",
                "invalid keys zone size \"keys_zone=a:10q\"",
            ),
            (
                "/c keys_zone=a:4k",
                "keys zone \"keys_zone=a:4k\" is too small",
            ),
            (
                "/c keys_zone=a:1m inactive=1q",
                "invalid inactive value \"inactive=1q\"",
            ),
            (
                "/c keys_zone=a:1m max_size=1t",
                "invalid max_size value \"max_size=1t\"",
            ),
            (
                "/c keys_zone=a:1m loader_sleep=1y",
                "invalid loader_sleep value \"loader_sleep=1y\"",
            ),
            (
                "/c keys_zone=a:1m manager_files=x",
                "invalid manager_files value \"manager_files=x\"",
            ),
            (
                "/c keys_zone=a:1m purger=on",
                "invalid parameter \"purger=on\"",
            ),
            (
                "/c levels=1:2",
                "\"proxy_cache_path\" must have \"keys_zone\" parameter",
            ),
            (
                "/c keys_zone=:1m",
                "\"proxy_cache_path\" must have \"keys_zone\" parameter",
            ),
            (
                "/c keys_zone=a:1m use_temp_path=yes",
                "invalid use_temp_path value \"use_temp_path=yes\", it must be \"on\" or \"off\"",
            ),
        ] {
            assert_eq!(run(line), Err(message.to_string()), "{line}");
        }
        assert_eq!(
            run("/c levels= keys_zone=a:1m").unwrap().levels,
            Vec::<u8>::new()
        );
        assert!(run("/c levels=2:2 levels=2 keys_zone=a:1m").is_ok());
        assert_eq!(
            run("/c levels=2:2 levels=2:2:2 keys_zone=a:1m"),
            Err("invalid \"levels\" \"levels=2:2:2\"".into())
        );
    }

    #[test]
    fn default_temporary_paths_merged_for_servers_without_their_own() {
        let mut p = Paths::default();
        let proxy = "/var/lib/nginx/proxy";
        p.add(proxy, proxy, &[], true, "a:3".into()).unwrap();
        assert!(p.merge_defaults(0, "a:9").is_ok(), "no server: no merge");
        p.server_temp.push(("proxy_temp_path".into(), 1));
        assert!(p.merge_defaults(1, "a:9").is_ok(), "the server has its own");
        assert_eq!(
            p.merge_defaults(2, "a:9"),
            Err(format!(
                "the same path name \"{proxy}\" used in a:3 and in a:9"
            ))
        );
        let mut p = Paths::default();
        let body = "/var/lib/nginx/body";
        p.add(body, body, &[1], false, "a:3".into()).unwrap();
        let e = p.merge_defaults(1, "a:9").unwrap_err();
        assert!(e.contains("same name as default path"), "{e}");
    }

    #[test]
    fn paths_as_ngx_add_path_keeps_them() {
        let mut p = Paths::default();
        p.add("/t", "/t", &[1], false, "a.conf:1".into()).unwrap();
        p.add("/t", "/t", &[1], false, "a.conf:2".into()).unwrap();
        assert_eq!(
            p.add("/t", "/t", &[2], false, "a.conf:3".into()),
            Err("the same path name \"/t\" in a.conf:1 has the different levels than".into())
        );
        assert_eq!(
            p.add("/t", "/t", &[1], true, "a.conf:4".into()),
            Err("the same path name \"/t\" used in a.conf:1 and".into())
        );
        assert_eq!(temp_levels(&["1".into(), "2".into()]), Some(vec![1, 2]));
        assert_eq!(temp_levels(&["0".into()]), None);
        assert_eq!(temp_levels(&["11".into()]), None);
    }
}
