//! Finding the switch in an nginx config: which seed style it uses, the
//! two pools it selects between, and what else looked like a switch.
//! Read-only, through `nginx-edit`; nothing here writes.

use nginx_edit::includes::ConfigSet;
use nginx_edit::{Document, ServerState};

use super::servers::{descendants, proxied_targets, proxying_servers, virtual_servers};
use crate::flag::selector;

/// The switch kinds `init` knows (DESIGN.md's `[switch] kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Map,
    Upstream,
    Replace,
    Flag,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Map => "map",
            Kind::Upstream => "upstream",
            Kind::Replace => "replace",
            Kind::Flag => "flag",
        }
    }

    /// What `init` looks for, for the "nothing found" message.
    pub fn looked_for(self) -> &'static str {
        match self {
            Kind::Map => "a `map` whose default names an upstream (map $http_x_deploy_color $backend { default app_blue; green app_green; })",
            Kind::Upstream => "an upstream with an enabled server and a commented-out (`# server ...;`) or `down` one",
            Kind::Replace => "an upstream with exactly one server (its address is swapped)",
            Kind::Flag => "a flag selector (`set $backend app_blue;` and `if (-f DIR/green) { set $backend app_green; }` in a server that proxies to $backend)",
        }
    }
}

/// Where a pool's servers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// Read from the nginx file.
    Read,
    /// Derived from the other pool's address (`api-blue:3000` -> `api-green:3000`).
    Guessed,
    /// Unknown: a placeholder the user must fill in.
    Placeholder,
}

/// One of the two pools of a switch, as far as the file tells.
#[derive(Debug, Clone)]
pub struct PoolGuess {
    pub name: String,
    /// map / flag: the upstream name that means "this pool is live".
    pub target: Option<String>,
    pub servers: Vec<String>,
    pub servers_from: Servers,
    /// Live now, as nginx reads the file (flag: with no flag file).
    pub live: bool,
}

/// A switch found in the file.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub kind: Kind,
    /// Index into the config set's files.
    pub file: usize,
    pub line: usize,
    /// map / flag: the variable (`$backend`); upstream / replace: the upstream.
    pub name: String,
    /// Sorted by name.
    pub pools: [PoolGuess; 2],
    /// flag: the directory of the flag files.
    pub flag_dir: Option<String>,
    /// The upstreams this switch selects between (map / flag).
    pub selects: Vec<String>,
}

impl Candidate {
    /// `map $backend (sites/app.conf:25)`.
    pub fn describe(&self, set: &ConfigSet) -> String {
        let what = match self.kind {
            Kind::Map => format!("map {}", self.name),
            Kind::Flag => format!("flag selector {}", self.name),
            Kind::Upstream | Kind::Replace => format!("upstream {}", self.name),
        };
        format!(
            "{what} ({}:{})",
            set.files[self.file].path.display(),
            self.line
        )
    }
}

/// Every switch in `set`, most specific kind first (flag, map, upstream,
/// replace), then in the order nginx reads the files. `only` keeps one
/// kind; without it, upstreams a map or selector picks between are pools,
/// not switches of their own, and are left out.
pub fn candidates(set: &ConfigSet, only: Option<Kind>) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (i, f) in set.files.iter().enumerate() {
        out.extend(flags(set, i, f.doc()));
    }
    for (i, f) in set.files.iter().enumerate() {
        out.extend(maps(set, i, f.doc()));
    }
    let selected: Vec<String> = out.iter().flat_map(|c| c.selects.clone()).collect();
    for kind in [Kind::Upstream, Kind::Replace] {
        for (i, f) in set.files.iter().enumerate() {
            for c in upstreams(i, f.doc(), kind) {
                if only.is_some() || !selected.contains(&c.name) {
                    out.push(c);
                }
            }
        }
    }
    if let Some(k) = only {
        out.retain(|c| c.kind == k);
    }
    out
}

/// A colour word in `s`, if exactly one.
pub fn colour(s: &str) -> Option<&'static str> {
    let s = s.to_ascii_lowercase();
    match (s.contains("blue"), s.contains("green")) {
        (true, false) => Some("blue"),
        (false, true) => Some("green"),
        _ => None,
    }
}

/// Names for two pools labelled `a` and `b` (upstream names, server lines):
/// their colours when they say blue and green, else `fallback` when those
/// are usable and distinct, else blue and green in that order.
fn names(a: &str, b: &str, fallback: Option<(&str, &str)>) -> (String, String) {
    if let (Some(x), Some(y)) = (colour(a), colour(b)) {
        if x != y {
            return (x.into(), y.into());
        }
    }
    if let Some((x, y)) = fallback {
        if x != y && usable_name(x) && usable_name(y) {
            return (x.into(), y.into());
        }
    }
    ("blue".into(), "green".into())
}

/// A pool name that can be a bare TOML key and a flag file name.
fn usable_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn sorted(a: PoolGuess, b: PoolGuess) -> [PoolGuess; 2] {
    if a.name <= b.name {
        [a, b]
    } else {
        [b, a]
    }
}

/// The enabled addresses of upstream `name`, wherever in the set it is.
fn upstream_servers(set: &ConfigSet, name: &str) -> Option<Vec<String>> {
    set.files.iter().find_map(|f| {
        f.doc()
            .upstreams()
            .into_iter()
            .find(|u| u.name() == name)
            .map(|u| {
                u.servers()
                    .into_iter()
                    .filter(|s| s.state == ServerState::Enabled)
                    .map(|s| s.address)
                    .collect()
            })
    })
}

fn upstream_exists(set: &ConfigSet, name: &str) -> bool {
    upstream_servers(set, name).is_some()
}

/// A pool whose target is an upstream name: its servers from that upstream.
fn target_pool(set: &ConfigSet, name: String, target: &str, live: bool) -> PoolGuess {
    let servers = upstream_servers(set, target);
    PoolGuess {
        name,
        target: Some(target.to_string()),
        servers_from: if servers.is_some() {
            Servers::Read
        } else {
            Servers::Placeholder
        },
        servers: servers.unwrap_or_default(),
        live,
    }
}

/// `blue` <-> `green` in `s`, if it has exactly one of them.
pub fn swap_colour(s: &str) -> Option<String> {
    match colour(s)? {
        "blue" => Some(replace_ci(s, "blue", "green")),
        _ => Some(replace_ci(s, "green", "blue")),
    }
}

fn replace_ci(s: &str, from: &str, to: &str) -> String {
    let lower = s.to_ascii_lowercase();
    match lower.find(from) {
        Some(i) => format!("{}{to}{}", &s[..i], &s[i + from.len()..]),
        None => s.to_string(),
    }
}

/// Maps that select between upstreams: the default names an upstream, or
/// the variable feeds a `proxy_pass` and the map has two values.
fn maps(set: &ConfigSet, file: usize, doc: &Document) -> Vec<Candidate> {
    let mut out = Vec::new();
    for m in doc.maps() {
        let Some(default) = m.default() else { continue };
        let var = m.variable();
        let entries = m.entries();
        let mut values = vec![default.clone()];
        for (_, v) in &entries {
            if !values.contains(v) {
                values.push(v.clone());
            }
        }
        let proxied = !proxying_servers(set, |t| t == var).is_empty();
        let selects = upstream_exists(set, &default) || (proxied && values.len() >= 2);
        if !selects {
            continue;
        }
        // The other pool: the first other value, else the default's
        // colour-swapped sibling when that upstream exists.
        let other = values
            .get(1)
            .cloned()
            .or_else(|| swap_colour(&default).filter(|s| upstream_exists(set, s)));
        let key_of = |v: &str| {
            entries
                .iter()
                .find(|(_, value)| value == v)
                .map(|(k, _)| k.clone())
        };
        let other_name = other.clone().unwrap_or_default();
        let (ka, kb) = (key_of(&default), key_of(&other_name));
        let fallback = match (&ka, &kb) {
            (Some(a), Some(b)) => Some((a.as_str(), b.as_str())),
            _ => None,
        };
        let (na, nb) = names(&default, &other_name, fallback);
        let a = target_pool(set, na, &default, true);
        let b = match &other {
            Some(o) => target_pool(set, nb, o, false),
            None => PoolGuess {
                name: nb,
                target: None,
                servers: Vec::new(),
                servers_from: Servers::Placeholder,
                live: false,
            },
        };
        out.push(Candidate {
            kind: Kind::Map,
            file,
            line: m.directive().line(),
            name: var,
            selects: values,
            pools: sorted(a, b),
            flag_dir: None,
        });
    }
    out
}

/// Upstreams that are switches themselves: `Upstream` (an enabled and a
/// commented-out or `down` server) or `Replace` (exactly one server).
fn upstreams(file: usize, doc: &Document, kind: Kind) -> Vec<Candidate> {
    let mut out = Vec::new();
    for u in doc.upstreams() {
        let servers = u.servers();
        let enabled: Vec<_> = servers
            .iter()
            .filter(|s| s.state == ServerState::Enabled)
            .collect();
        let pools = match kind {
            Kind::Upstream if !enabled.is_empty() && enabled.len() < servers.len() => {
                // Two servers: one pool each, named by what their lines say
                // (`server 127.0.0.1:3001;  # blue (active)`), else in
                // source order. More: the enabled ones are one pool.
                let label = |line: usize| String::from_utf8_lossy(doc.line_text(line)).into_owned();
                let (a, b): (Vec<_>, Vec<_>) = if servers.len() == 2 {
                    (vec![&servers[0]], vec![&servers[1]])
                } else {
                    servers.iter().partition(|s| s.state == servers[0].state)
                };
                let (na, nb) = names(&label(a[0].line), &label(b[0].line), None);
                let pool = |name: String, group: &[&nginx_edit::UpstreamServer]| PoolGuess {
                    name,
                    target: None,
                    servers: group.iter().map(|s| s.address.clone()).collect(),
                    servers_from: Servers::Read,
                    live: group[0].state == ServerState::Enabled,
                };
                sorted(pool(na, &a), pool(nb, &b))
            }
            Kind::Replace if servers.len() == 1 && enabled.len() == 1 => {
                let addr = &servers[0].address;
                let (live, other, from) = match swap_colour(addr) {
                    Some(o) => (
                        colour(addr).unwrap_or("blue").to_string(),
                        o,
                        Servers::Guessed,
                    ),
                    None => (
                        "blue".to_string(),
                        "FILL-IN-HOST:PORT".to_string(),
                        Servers::Placeholder,
                    ),
                };
                let other_name = if live == "blue" { "green" } else { "blue" };
                sorted(
                    PoolGuess {
                        name: live,
                        target: None,
                        servers: vec![addr.clone()],
                        servers_from: Servers::Read,
                        live: true,
                    },
                    PoolGuess {
                        name: other_name.into(),
                        target: None,
                        servers: vec![other],
                        servers_from: from,
                        live: false,
                    },
                )
            }
            _ => continue,
        };
        out.push(Candidate {
            kind,
            file,
            line: u.line(),
            name: u.name(),
            pools,
            flag_dir: None,
            selects: Vec::new(),
        });
    }
    out
}

/// Flag selectors: in a `server` that proxies to `$VAR`, `set $VAR A;` and
/// `if (-f DIR/POOL) { set $VAR B; }`, read by the switch's own selector
/// reader ([`crate::flag::selector`]). One candidate per variable; a
/// selector not in the expected form is no candidate (the switch names
/// its line).
fn flags(set: &ConfigSet, file: usize, doc: &Document) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for server in virtual_servers(doc) {
        let inner = descendants(server);
        for var in proxied_targets(&inner) {
            if !var.starts_with('$') || out.iter().any(|c| c.name == var) {
                continue;
            }
            let Ok(Some(sel)) = selector::read_server(set, file, server, &var) else {
                continue;
            };
            let (default, test) = (sel.default.clone(), &sel.tests[0]);
            let value = test.value.clone();
            let (dir, pool) = match test.dir_and_name() {
                (d, p) if !d.is_empty() => (d.to_string(), p.to_string()),
                _ => continue,
            };
            let default_name = match colour(&default) {
                Some(c) if c != pool => c.to_string(),
                _ if pool == "blue" => "green".into(),
                _ => "blue".into(),
            };
            let pool_name = if usable_name(&pool) && pool != default_name {
                pool.clone()
            } else {
                "green".into()
            };
            out.push(Candidate {
                kind: Kind::Flag,
                file,
                line: server.line(),
                name: var.clone(),
                selects: vec![default.clone(), value.clone()],
                pools: sorted(
                    target_pool(set, default_name, &default, true),
                    target_pool(set, pool_name, &value, false),
                ),
                flag_dir: Some(dir),
            });
        }
    }
    out
}
