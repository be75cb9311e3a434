//! Shared memory zones as `ngx_shared_memory_add` keeps them: one name
//! space for the whole configuration (http, stream and mail), each zone
//! owned by the module that first named it. A use (`limit_req zone=NAME`,
//! `proxy_cache NAME`, `zone NAME;` in an upstream) names a zone with no
//! size; a declaration (`limit_req_zone ... zone=NAME:10m`,
//! `proxy_cache_path ... keys_zone=NAME:10m`) gives it one. nginx refuses
//! a name declared for two modules as it reads the second, a cache zone
//! no `*_cache_path` declares as it merges the locations, and a zone that
//! never got a size once the whole configuration is read
//! (`ngx_init_cycle`: `zero size shared memory zone`).

use super::numbers::parse_size;
use super::ssl::Place;

/// One zone: its name, owner, whether it has a size, and where it was first named.
#[derive(Debug)]
struct Zone {
    name: String,
    owner: &'static str,
    size: Option<i64>,
    at: Place,
    /// Whether a `*_cache_path` declared it (nginx's `shm_zone->data`).
    cache: bool,
    /// The key a `limit_*_zone` bound it to (its `shm_zone->data`).
    key: Option<String>,
}

/// The `*_cache` directives and the module that owns their zones, in
/// the order the http modules merge (`ngx_modules.c`).
const CACHES: &[(&str, &str)] = &[
    ("proxy_cache", "http_proxy"),
    ("fastcgi_cache", "http_fastcgi"),
    ("uwsgi_cache", "http_uwsgi"),
    ("scgi_cache", "http_scgi"),
];

/// The configuration's zones, in the order they were first named.
#[derive(Debug, Default)]
pub struct Zones {
    list: Vec<Zone>,
    /// Index in `list` by name (a generated config has thousands).
    by_name: std::collections::HashMap<String, usize, crate::directives::FastHash>,
    /// The http block's `*_cache NAME` uses, in order: (directive, zone).
    cache_uses: Vec<(&'static str, String)>,
}

/// Whether directive `name` may name a zone (a cheap test first).
pub fn may_name_a_zone(name: &str) -> bool {
    name.starts_with("limit_")
        || name.ends_with("_cache")
        || name.ends_with("_cache_path")
        || name == "zone"
        || name == "ssl_session_cache"
        || name == "ssl_ocsp_cache"
}

/// The zone a directive names: (name, owner, size text if declared).
fn zone_of<'a>(
    name: &str,
    stream: bool,
    args: &'a [String],
) -> Option<(&'a str, &'static str, Option<&'a str>)> {
    let param = |prefix: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(prefix))
            .map(|v| match v.split_once(':') {
                Some((n, size)) => (n, Some(size)),
                None => (v, None),
            })
    };
    let (zone, size, owner) = match (name, stream) {
        ("limit_req_zone", false) => {
            let (n, s) = param("zone=")?;
            (n, s, "http_limit_req")
        }
        ("limit_req", false) => (param("zone=")?.0, None, "http_limit_req"),
        ("limit_conn_zone", _) => {
            let (n, s) = param("zone=")?;
            (
                n,
                s,
                if stream {
                    "stream_limit_conn"
                } else {
                    "http_limit_conn"
                },
            )
        }
        ("limit_conn", _) => {
            let owner = if stream {
                "stream_limit_conn"
            } else {
                "http_limit_conn"
            };
            (args.first()?.as_str(), None, owner)
        }
        ("zone", _) => {
            let owner = if stream {
                "stream_upstream"
            } else {
                "http_upstream"
            };
            (
                args.first()?.as_str(),
                args.get(1).map(String::as_str),
                owner,
            )
        }
        ("ssl_session_cache", _) => {
            let shared = args.iter().find_map(|a| a.strip_prefix("shared:"))?;
            let (n, s) = shared.split_once(':')?;
            (n, Some(s), if stream { "stream_ssl" } else { "http_ssl" })
        }
        // its tag is the module's context, not the module
        ("ssl_ocsp_cache", false) => {
            let (n, s) = args.first()?.strip_prefix("shared:")?.split_once(':')?;
            (n, Some(s), "http_ssl_ocsp")
        }
        (_, false) => {
            if let Some(dir) = name.strip_suffix("_path") {
                let &(_, owner) = CACHES.iter().find(|(c, _)| *c == dir)?;
                let (n, s) = param("keys_zone=")?;
                (n, s, owner)
            } else {
                let &(_, owner) = CACHES.iter().find(|(c, _)| *c == name)?;
                let zone = args.first()?;
                if zone == "off" || zone.contains('$') {
                    return None;
                }
                (zone.as_str(), None, owner)
            }
        }
        _ => return None,
    };
    Some((zone, owner, size))
}

/// `ngx_http_upstream_zone` (and stream's): a name, and a size of at
/// least 8 pages if one is given.
fn upstream_zone(args: &[String]) -> Result<(), String> {
    match args {
        [zone, ..] if zone.is_empty() => Err("invalid zone name \"\"".into()),
        [zone, size] => match parse_size(size.as_bytes()) {
            None => Err(format!("invalid zone size \"{size}\"")),
            Some(n) if n < 8 * 4096 => Err(format!("zone \"{zone}\" is too small")),
            Some(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

impl Zones {
    /// A directive that may name a zone; `Err` is nginx's refusal of a
    /// name another module owns.
    pub fn directive(
        &mut self,
        name: &str,
        stream: bool,
        args: &[String],
        here: Place,
    ) -> Result<(), String> {
        if name == "zone" {
            upstream_zone(args)?;
        }
        let Some((zone, owner, size)) = zone_of(name, stream, args) else {
            return Ok(());
        };
        if let Some(&(dir, _)) = CACHES.iter().find(|(c, _)| *c == name) {
            self.cache_uses.push((dir, zone.to_string()));
        }
        self.name_zone(name, zone, owner, size, args, here)
    }

    /// mail's one zone, `ssl_session_cache shared:NAME:SIZE`: its tag is
    /// `ngx_mail_ssl_module`, so http's or stream's zone of that name is
    /// "a different use".
    pub fn mail_directive(
        &mut self,
        name: &str,
        args: &[String],
        here: Place,
    ) -> Result<(), String> {
        if name != "ssl_session_cache" {
            return Ok(());
        }
        let Some((zone, size)) = args
            .iter()
            .find_map(|a| a.strip_prefix("shared:"))
            .and_then(|s| s.split_once(':'))
        else {
            return Ok(());
        };
        self.name_zone(name, zone, "mail_ssl", Some(size), args, here)
    }

    /// Records zone `zone` named by directive `name` for `owner`, as
    /// `ngx_shared_memory_add` does.
    fn name_zone(
        &mut self,
        name: &str,
        zone: &str,
        owner: &'static str,
        size: Option<&str>,
        args: &[String],
        here: Place,
    ) -> Result<(), String> {
        let size = size
            .and_then(|s| parse_size(s.as_bytes()))
            .filter(|&n| n > 0);
        let cache = name.ends_with("_cache_path");
        match self.by_name.get(zone).map(|&i| &mut self.list[i]) {
            Some(z) if z.owner != owner => Err(format!(
                "the shared memory zone \"{zone}\" is already declared for a different use"
            )),
            Some(z) => {
                z.size = z.size.or(size);
                if let (Some(new), Some(old)) = (size, z.size) {
                    if new != old {
                        return Err(format!("the size {new} of shared memory zone \"{zone}\" conflicts with already declared size {old}"));
                    }
                }
                if cache && z.cache {
                    return Err(format!("duplicate zone \"{zone}\""));
                }
                z.cache |= cache;
                if name.ends_with("_zone") && name.starts_with("limit_") {
                    if let Some(key) = &z.key {
                        return Err(format!(
                            "{name} \"{zone}\" is already bound to key \"{key}\""
                        ));
                    }
                    z.key = args.first().cloned();
                }
                Ok(())
            }
            None => {
                self.by_name.insert(zone.to_string(), self.list.len());
                self.list.push(Zone {
                    name: zone.to_string(),
                    owner,
                    size,
                    at: here,
                    cache,
                    key: (name.ends_with("_zone") && name.starts_with("limit_"))
                        .then(|| args.first().cloned())
                        .flatten(),
                });
                Ok(())
            }
        }
    }

    /// Once an http block is read (the locations' merge): the first
    /// `*_cache` zone no `*_cache_path` declared, module by module.
    pub fn unknown_cache(&mut self) -> Option<String> {
        let uses = std::mem::take(&mut self.cache_uses);
        CACHES.iter().find_map(|&(dir, owner)| {
            uses.iter()
                .filter(|(d, _)| *d == dir)
                .find(|(_, zone)| {
                    let z = self.by_name.get(zone).map(|&i| &self.list[i]);
                    !z.is_some_and(|z| z.owner == owner && z.size.is_some())
                })
                .map(|(_, zone)| format!("\"{dir}\" zone \"{zone}\" is unknown"))
        })
    }

    /// Once everything is read (`ngx_init_cycle`, zone by zone): the first
    /// zone that never got a size, or a cache zone too small for its own
    /// bookkeeping: `*_cache_path` accepts two pages, the cache's init
    /// needs three (`[crit] ngx_slab_alloc() failed: no memory`).
    pub fn zero_size(&self) -> Option<(Place, String)> {
        let z = self
            .list
            .iter()
            .find(|z| z.size.is_none_or(|n| z.cache && n < 3 * 4096))?;
        let message = match z.size {
            None => format!("zero size shared memory zone \"{}\"", z.name),
            Some(_) => "ngx_slab_alloc() failed: no memory".to_string(),
        };
        Some((z.at, message))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn upstream_zone_sizes() {
        assert_eq!(upstream_zone(&args("u 64k")), Ok(()));
        assert_eq!(upstream_zone(&args("u")), Ok(()));
        assert_eq!(
            upstream_zone(&args("u 12q")),
            Err("invalid zone size \"12q\"".into())
        );
        assert_eq!(
            upstream_zone(&args("u 16k")),
            Err("zone \"u\" is too small".into())
        );
    }

    #[test]
    fn uses_declarations_and_owners() {
        let mut z = Zones::default();
        let at = (0, 0);
        z.directive("limit_req", false, &args("zone=one burst=5"), at)
            .unwrap();
        z.directive("proxy_cache", false, &args("c1"), at).unwrap();
        z.directive("proxy_cache", false, &args("$cache"), at)
            .unwrap();
        assert_eq!(
            z.unknown_cache().unwrap(),
            "\"proxy_cache\" zone \"c1\" is unknown"
        );
        assert_eq!(
            z.zero_size().unwrap().1,
            "zero size shared memory zone \"one\""
        );
        z.directive(
            "limit_req_zone",
            false,
            &args("$a zone=one:10m rate=1r/s"),
            at,
        )
        .unwrap();
        assert_eq!(
            z.zero_size().unwrap().1,
            "zero size shared memory zone \"c1\""
        );
        z.directive("proxy_cache_path", false, &args("/x keys_zone=c1:1m"), at)
            .unwrap();
        assert!(z.zero_size().is_none());
        assert_eq!(
            z.directive("limit_conn_zone", false, &args("$a zone=one:1m"), at),
            Err("the shared memory zone \"one\" is already declared for a different use".into())
        );
        z.directive(
            "ssl_session_cache",
            false,
            &args("builtin shared:SSL:10m"),
            at,
        )
        .unwrap();
        z.directive("zone", true, &args("backend 64k"), at).unwrap();
        assert!(z.zero_size().is_none());
        assert_eq!(
            z.directive(
                "limit_req_zone",
                false,
                &args("$b zone=one:10m rate=2r/s"),
                at
            ),
            Err("limit_req_zone \"one\" is already bound to key \"$a\"".into())
        );
        let mut small = Zones::default();
        small
            .directive("proxy_cache_path", false, &args("/s keys_zone=s:8k"), at)
            .unwrap();
        assert_eq!(
            small.zero_size().unwrap().1,
            "ngx_slab_alloc() failed: no memory"
        );
        assert_eq!(
            z.directive("proxy_cache_path", false, &args("/y keys_zone=c1:2m"), at),
            Err("the size 2097152 of shared memory zone \"c1\" conflicts with already declared size 1048576".into())
        );
        assert_eq!(
            z.directive("proxy_cache_path", false, &args("/y keys_zone=c1:1m"), at),
            Err("duplicate zone \"c1\"".into())
        );
    }
}
