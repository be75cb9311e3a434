//! The header hashes the proxy, fastcgi, uwsgi, scgi and grpc modules
//! build as they merge each server and location (nginx 1.22.1
//! `ngx_http_upstream_hide_headers_hash`, `ngx_http_proxy_init_headers`,
//! `ngx_http_fastcgi_init_params` ...): the hidden headers, and the headers
//! sent (`proxy_set_header`, `grpc_set_header`; the `HTTP_` params of
//! `fastcgi_param` and the like). A level builds a hash when it sets its
//! own list or is a server (the http level's is never built); the others
//! inherit the built one. Only proxy's sizes are settings
//! (`proxy_headers_hash_*`); the others are 512 and 64. The same levels
//! give the core module's types hash and `ngx_http_merge_types`' lists.
//! nginx names no line: the http block's `}` stands in.

use super::hash_keys::hash_init;

/// The directives of `ngx_http_types_slot`, hashed by
/// `ngx_http_merge_types` (`test_types_hash`, 2048 and 64).
const TYPE_LISTS: &[&str] = &[
    "addition_types",
    "charset_types",
    "gzip_types",
    "ssi_types",
    "sub_filter_types",
    "xslt_types",
];

/// The modules, in nginx's merge order.
const MODULES: &[&str] = &["proxy", "fastcgi", "uwsgi", "scgi", "grpc"];
/// The longest default hidden header (`X-Accel-Limit-Rate`), and the
/// longest default sent one (`Transfer-Encoding`).
const DEFAULT_HIDDEN: usize = 18;
const DEFAULT_SENT: usize = 17;

/// A setting of level `i` or, unset there, of the nearest enclosing level
/// that sets it: how nginx's merge hands values down.
pub(super) fn inherited<L, T>(
    all: &[L],
    i: usize,
    parent: impl Fn(&L) -> Option<usize>,
    value: impl Fn(&L) -> Option<T>,
) -> Option<T> {
    let mut cur = Some(i);
    while let Some(c) = cur {
        if let Some(v) = value(&all[c]) {
            return Some(v);
        }
        cur = parent(&all[c]);
    }
    None
}

/// A key length as a level keeps it (tokens are far under 64 KiB; kept
/// small, as a big config has a level per block).
fn key_len(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// What one level sets: per module, the longest key of its own hidden
/// and sent lists (`Some` when it has the list); proxy's sizes.
#[derive(Debug, Default, PartialEq)]
struct Level {
    parent: Option<usize>,
    merged: bool,
    server: bool,
    own: [[Option<u16>; 2]; 5],
    /// Its own `types` (the longest extension, if any).
    types: Option<Option<u16>>,
    /// Per [`TYPE_LISTS`] entry set here, its longest type (0 for `*`).
    type_lists: [Option<u16>; 6],
    /// The sizes it sets, when it sets any (few levels do; boxed, the
    /// level is half as big).
    sizes: Option<Box<Sizes>>,
    /// `secure_link_secret`; `secure_link` or `secure_link_md5` here.
    link_secret: bool,
    link_md5: bool,
}

/// The sizes a level sets: proxy's `proxy_headers_hash_*`,
/// `types_hash_*`, `connection_pool_size` and the
/// `large_client_header_buffers` size.
#[derive(Debug, Default, PartialEq)]
struct Sizes {
    max: Option<i64>,
    bucket: Option<i64>,
    types_max: Option<i64>,
    types_bucket: Option<i64>,
    pool: Option<i64>,
    large_header: Option<i64>,
}

impl Level {
    /// One of the sizes, when this level sets it.
    fn size(&self, which: fn(&Sizes) -> Option<i64>) -> Option<i64> {
        self.sizes.as_deref().and_then(which)
    }

    fn sizes_mut(&mut self) -> &mut Sizes {
        self.sizes.get_or_insert_with(Box::default)
    }
}

/// Every level of the http block in the order nginx merges them.
#[derive(Debug, Default)]
pub struct HeaderHashes {
    all: Vec<Level>,
    open: Vec<usize>,
}

impl HeaderHashes {
    /// A level opens: http, a server, a location, an `if`, a `limit_except`.
    pub fn open(&mut self, server: bool) {
        let parent = self.open.last().copied();
        self.open.push(self.all.len());
        self.all.push(Level {
            parent,
            server,
            ..Default::default()
        });
    }

    /// The open level closes; `merged`: it is not the http level.
    pub fn close(&mut self, merged: bool) {
        if let Some(i) = self.open.pop() {
            self.all[i].merged = merged;
            // A location that sets none of this and has no level below it
            // kept builds nothing and passes nothing down: dropped (a big
            // config has a level per block).
            let level = &self.all[i];
            let bare = Level {
                parent: level.parent,
                merged: level.merged,
                ..Level::default()
            };
            if merged && !level.server && i + 1 == self.all.len() && *level == bare {
                self.all.pop();
            }
        }
    }

    /// Whether directive `name` is one this module reads (before its
    /// arguments are copied).
    pub fn reads(name: &str) -> bool {
        name.ends_with("_header")
            || name.ends_with("_param")
            || name.starts_with("proxy_headers_")
            || name.starts_with("types_hash_")
            || TYPE_LISTS.contains(&name)
            || name == "connection_pool_size"
            || name == "large_client_header_buffers"
            || name.starts_with("secure_link")
    }

    /// A directive of the open level.
    pub fn directive(&mut self, name: &str, args: &[String]) {
        let Some(&i) = self.open.last() else {
            return;
        };
        let level = &mut self.all[i];
        let n = || {
            args.first()
                .and_then(|a| super::numbers::atoi(a.as_bytes()))
        };
        let size = |i: usize| {
            args.get(i)
                .and_then(|a| super::numbers::parse_size(a.as_bytes()))
        };
        match name {
            "proxy_headers_hash_max_size" => level.sizes_mut().max = n(),
            "proxy_headers_hash_bucket_size" => level.sizes_mut().bucket = n(),
            "types_hash_max_size" => level.sizes_mut().types_max = n(),
            "types_hash_bucket_size" => level.sizes_mut().types_bucket = n(),
            "connection_pool_size" => level.sizes_mut().pool = size(0),
            "large_client_header_buffers" => level.sizes_mut().large_header = size(1),
            "secure_link_secret" => level.link_secret = true,
            "secure_link" | "secure_link_md5" => level.link_md5 = true,
            _ => {}
        }
        if let Some(t) = TYPE_LISTS.iter().position(|x| *x == name) {
            // `*` is any type: no hash
            let any = args.iter().any(|a| a == "*");
            let longest = args.iter().map(String::len).max().filter(|_| !any);
            let own = &mut level.type_lists[t];
            *own = Some(own.unwrap_or(0).max(key_len(longest.unwrap_or(0))));
            return;
        }
        let Some((module, what)) = name.split_once('_') else {
            return;
        };
        let Some(m) = MODULES.iter().position(|x| *x == module) else {
            return;
        };
        let key = args.first().map_or(0, String::len);
        let (list, len) = match what {
            "hide_header" => (0, key),
            "pass_header" => (0, 0),
            "set_header" if m == 0 || m == 4 => (1, key),
            // a param is a header to send only as HTTP_NAME
            "param" if (1..=3).contains(&m) => {
                let header = args.first().and_then(|a| a.strip_prefix("HTTP_"));
                (1, header.map_or(0, str::len))
            }
            _ => return,
        };
        let own = &mut level.own[m][list];
        *own = Some(own.unwrap_or(0).max(key_len(len)));
    }

    /// A `types` block of the open level, its longest extension.
    pub fn types(&mut self, longest: Option<usize>) {
        if let Some(&i) = self.open.last() {
            let own = &mut self.all[i].types;
            *own = Some(own.flatten().max(longest.map(key_len)));
        }
    }

    /// Once the http block is read, as the core module merges (first of
    /// all): the types hash (`ngx_http_core_merge_loc_conf`). The http
    /// level's `types` are hashed as the first server merges, with its
    /// sizes; a server without `types` under an http level without them
    /// hashes the three defaults; any other level only its own `types`.
    /// Before it, each server's own merge (`ngx_http_core_merge_srv_conf`):
    /// the header buffers against the connection pool (512, 8k by default).
    pub fn types_first(&self) -> Option<String> {
        let all = &self.all;
        let http = all.first().filter(|l| !l.merged)?;
        for server in all.iter().filter(|l| l.merged && l.server) {
            let set = |f: fn(&Sizes) -> Option<i64>| server.size(f).or(http.size(f));
            let pool = set(|s| s.pool).unwrap_or(512);
            if set(|s| s.large_header).unwrap_or(8192) < pool {
                return Some(
                    "the \"large_client_header_buffers\" size must be equal to or greater \
                     than \"connection_pool_size\""
                        .into(),
                );
            }
        }
        let mut http_built = false;
        for (i, level) in all.iter().enumerate().filter(|(_, l)| l.merged) {
            let max = inherited(all, i, |l| l.parent, |l| l.size(|s| s.types_max));
            let bucket = inherited(all, i, |l| l.parent, |l| l.size(|s| s.types_bucket));
            let mut hashes = Vec::new();
            if level.server && !http_built {
                http_built = true;
                hashes.extend(http.types);
            }
            match level.types {
                Some(own) => hashes.push(own),
                // "html", "gif", "jpg"
                None if level.server && http.types.is_none() => hashes.push(Some(4)),
                None => {}
            }
            for longest in hashes {
                // no keys: no key to fit the bucket
                let result = match longest {
                    Some(n) => hash_init("types_hash", max, bucket, n.into()),
                    None => hash_init("types_hash", max, bucket.map(|b| b.max(1)), 0),
                };
                if let Err(message) = result {
                    return Some(message);
                }
            }
        }
        None
    }

    /// Once the http block is read: the first refusal, module by module
    /// and level by level in merge order.
    pub fn take_first(&mut self) -> Option<String> {
        let all = std::mem::take(&mut self.all);
        self.open.clear();
        let up = |i: usize, f: fn(&Sizes) -> Option<i64>| {
            inherited(&all, i, |l| l.parent, |l| l.size(f))
        };
        let list = |i: usize, m: usize, k: usize| inherited(&all, i, |l| l.parent, |l| l.own[m][k]);
        for (m, module) in MODULES.iter().enumerate() {
            for (i, level) in all.iter().enumerate().filter(|(_, l)| l.merged) {
                for k in 0..2 {
                    if level.own[m][k].is_none() && !level.server {
                        continue;
                    }
                    let mut longest = list(i, m, k).map_or(0, usize::from);
                    let (name, max, bucket) = if m == 0 {
                        longest = longest.max([DEFAULT_HIDDEN, DEFAULT_SENT][k]);
                        let max = up(i, |s| s.max).or(Some(512));
                        ("proxy_headers_hash".to_string(), max, up(i, |s| s.bucket))
                    } else {
                        let name = match (m, k) {
                            (4, _) => "grpc_headers_hash".to_string(),
                            (_, 0) => format!("{module}_hide_headers_hash"),
                            _ => format!("{module}_params_hash"),
                        };
                        (name, Some(512), Some(64))
                    };
                    if let Err(message) = hash_init(&name, max, bucket, longest) {
                        return Some(message);
                    }
                }
            }
        }
        // secure_link_secret and the others set in one level
        // (ngx_http_secure_link_merge_conf)
        if all.iter().any(|l| l.merged && l.link_secret && l.link_md5) {
            return Some(
                "\"secure_link_secret\" cannot be mixed with \"secure_link\" and \
                 \"secure_link_md5\""
                    .into(),
            );
        }
        // the type lists: a level's own, the http level's once a server
        // without its own list merges
        let http = all.first().filter(|l| !l.merged);
        for t in 0..TYPE_LISTS.len() {
            let inherited = http.and_then(|h| h.type_lists[t]).filter(|_| {
                all.iter()
                    .any(|l| l.merged && l.server && l.type_lists[t].is_none())
            });
            let own = all
                .iter()
                .filter(|l| l.merged)
                .filter_map(|l| l.type_lists[t]);
            for longest in inherited.into_iter().chain(own) {
                let longest = usize::from(longest);
                if let Err(message) = hash_init("test_types_hash", Some(2048), Some(64), longest) {
                    return Some(message);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_long_header_needs_a_larger_bucket() {
        let long = "X-A-Header-Name-Of-Forty-Seven-Bytes-In-Length";
        let mut h = HeaderHashes::default();
        h.open(false);
        h.open(true);
        h.open(false);
        h.directive("proxy_set_header", &args(&[long, "1"]));
        h.close(true);
        h.close(true);
        h.close(false);
        assert_eq!(h.take_first(), None);
        let mut h = HeaderHashes::default();
        h.open(false);
        h.open(true);
        h.directive("proxy_set_header", &args(&[&format!("{long}x"), "1"]));
        h.close(true);
        h.close(false);
        assert_eq!(
            h.take_first(),
            Some(
                "could not build proxy_headers_hash, you should increase \
                 proxy_headers_hash_bucket_size: 64"
                    .into()
            )
        );
    }

    /// Locations that set nothing are dropped as they close, unless a
    /// kept level below refers to them; the hashes are judged as before.
    #[test]
    fn empty_levels_are_dropped_and_inheritance_kept() {
        let run = |bucket: Option<&str>| {
            let mut h = HeaderHashes::default();
            h.open(false);
            h.open(true);
            if let Some(b) = bucket {
                h.directive("proxy_headers_hash_bucket_size", &args(&[b]));
            }
            for _ in 0..3 {
                h.open(false);
                h.close(true);
            }
            assert_eq!(h.all.len(), 2);
            h.open(false); // empty itself, but its child sets a header
            h.open(false);
            h.directive(
                "proxy_set_header",
                &args(&["X-Header-Of-Thirty-Bytes-Long", "1"]),
            );
            h.close(true);
            h.close(true);
            h.close(true);
            h.close(false);
            assert_eq!(h.all.len(), 4);
            h.take_first()
        };
        assert_eq!(run(None), None);
        assert!(run(Some("0")).is_some_and(|m| m.starts_with("could not build proxy_headers_hash")));
    }

    #[test]
    fn the_http_level_alone_builds_nothing() {
        let mut h = HeaderHashes::default();
        h.open(false);
        h.directive("proxy_headers_hash_bucket_size", &args(&["0"]));
        h.close(false);
        assert_eq!(h.take_first(), None);
    }
}
