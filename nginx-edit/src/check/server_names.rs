//! The server names hash of each address (`ngx_http_server_names`, nginx
//! 1.22.1 `src/http/ngx_http.c`): built when an address:port has more
//! than one server, its exact names must fit `server_names_hash_bucket_size`
//! (`could not build server_names_hash, you should increase
//! server_names_hash_bucket_size: 64`, no line). A server without
//! `listen` listens on `*:80` (nginx run as root).

use crate::directives::FastHash;
use std::collections::{HashMap, HashSet};

use super::hash_keys;

/// The http block's servers: their exact names, and which have a `listen`.
#[derive(Debug, Default)]
pub struct ServerNames {
    servers: Vec<usize>,
    with_listen: HashSet<usize, FastHash>,
    longest: Vec<(usize, usize)>,
    /// The servers with a `server_name`: the others are named "" (a key).
    named: HashSet<usize, FastHash>,
    /// Each server's names that are no regex, lowered, in order.
    hashed: Vec<(usize, String)>,
    /// The servers whose last regex name has captures (`cscf->captures`).
    captures: HashSet<usize, FastHash>,
}

impl ServerNames {
    /// A `server {` of the http block.
    pub fn server(&mut self, id: usize) {
        self.servers.push(id);
    }

    /// Whether a server has no `listen` (it listens on `*:80`).
    pub fn listenless(&self) -> bool {
        self.servers.iter().any(|s| !self.with_listen.contains(s))
    }

    /// A `listen` of server `id`.
    pub fn listen(&mut self, id: usize) {
        self.with_listen.insert(id);
    }

    /// A `server_name` of server `id`: the lengths of its keys (exact
    /// names, and a wildcard's labels; `.x` is the exact `x` too; regexes
    /// are not hashed).
    pub fn names(&mut self, id: usize, args: &[String]) {
        self.named.insert(id);
        for name in args {
            if let Some(pattern) = name.strip_prefix('~') {
                let compiled = super::regex::compile(pattern, true);
                if compiled.is_ok_and(|c| c.captures > 0) {
                    self.captures.insert(id);
                } else {
                    self.captures.remove(&id);
                }
            }
            if name.starts_with(['~', '$']) {
                continue;
            }
            self.hashed.push((id, name.to_ascii_lowercase()));
            if name.starts_with('.') || name.contains('*') {
                // a wildcard's hashes are keyed by its labels
                let labels = name.split('.').filter(|l| *l != "*");
                self.longest.extend(labels.map(|l| (id, l.len())));
            }
            let exact = name.strip_prefix('.').unwrap_or(name);
            if name.is_empty() || !exact.is_empty() && !exact.contains('*') {
                self.longest.push((id, exact.len()));
            }
        }
    }

    /// Server `id`'s names that are no regex, lowered, in order; `""` for
    /// a server without `server_name` (as the core module's merge names it).
    pub fn hashed_names(&self, id: usize) -> Vec<&str> {
        if !self.named.contains(&id) {
            return vec![""];
        }
        let names = self.hashed.iter().filter(|(s, _)| *s == id);
        names.map(|(_, n)| n.as_str()).collect()
    }

    /// Once the http block is read: `groups` are the servers of each
    /// address:port `listen`s named (the `*:80` one with its key), and
    /// `sizes` the `server_names_hash_max_size` and `_bucket_size` given.
    pub fn check(
        &self,
        mut groups: Vec<(bool, Vec<usize>, String, usize)>,
        sizes: (Option<i64>, Option<i64>),
    ) -> Option<String> {
        let listenless: Vec<usize> = self
            .servers
            .iter()
            .copied()
            .filter(|s| !self.with_listen.contains(s))
            .collect();
        if !listenless.is_empty() {
            match groups.iter_mut().find(|(wildcard_80, ..)| *wildcard_80) {
                Some((_, servers, ..)) => servers.extend(listenless),
                None => {
                    let default = listenless.first().copied().unwrap_or_default();
                    groups.push((true, listenless, "0.0.0.0:80".into(), default));
                }
            }
        }
        // Each server's hashed names and longest key, found once: a big
        // config has thousands of servers on one address.
        let mut by_server: HashMap<usize, (Vec<&str>, Option<usize>), FastHash> =
            HashMap::default();
        for (id, name) in &self.hashed {
            by_server.entry(*id).or_default().0.push(name);
        }
        for &(id, n) in &self.longest {
            let longest = &mut by_server.entry(id).or_default().1;
            *longest = Some(longest.unwrap_or(0).max(n));
        }
        groups
            .iter()
            // (one server builds the hash too when its regex captures)
            .filter(|(_, s, _, default)| s.len() > 1 || self.captures.contains(default))
            .find_map(|(_, servers, addr, _)| {
                // ngx_hash_add_key declines a malformed wildcard
                for id in servers {
                    let names = by_server.get(id).map(|(n, _)| n.as_slice());
                    let bad = names
                        .unwrap_or_default()
                        .iter()
                        .find(|n| hash_keys::slots(n.as_bytes(), true).is_none());
                    if let Some(name) = bad {
                        return Some(format!(
                            "invalid server name or wildcard \"{name}\" on {addr}"
                        ));
                    }
                }
                let unnamed = servers.iter().any(|s| !self.named.contains(s));
                let longest = servers
                    .iter()
                    .filter_map(|id| by_server.get(id).and_then(|(_, n)| *n))
                    .chain(unnamed.then_some(0))
                    .max()?;
                hash_keys::hash_init("server_names_hash", sizes.0, sizes.1, longest).err()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn long_names_on_a_shared_address() {
        let long = "a".repeat(47);
        let mut s = ServerNames::default();
        s.server(1);
        s.names(1, &names(&[&long]));
        s.server(2);
        // both without listen: both on *:80
        assert!(s.check(vec![], (None, None)).is_some());
        s.listen(1);
        s.listen(2);
        // one server alone on each address: no hash
        assert_eq!(
            s.check(
                vec![
                    (false, vec![1], String::new(), 1),
                    (false, vec![2], String::new(), 1)
                ],
                (None, None)
            ),
            None
        );
        assert!(s
            .check(vec![(false, vec![1, 2], String::new(), 1)], (None, None))
            .is_some());
        assert_eq!(
            s.check(
                vec![(false, vec![1, 2], String::new(), 1)],
                (None, Some(128))
            ),
            None
        );
    }
}
