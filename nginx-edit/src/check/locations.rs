//! `duplicate location "X"`: nginx 1.22.1 finds it only once the whole
//! `http` block is read, while it builds each server's static location
//! tree (`ngx_http_init_locations`, `ngx_http_init_static_location_trees`
//! and `ngx_http_join_exact_locations` in `src/http/ngx_http.c`). Exact
//! (`=`) and prefix locations of one parent are sorted by name; two exact
//! ones, or two prefix ones (`^~` or none), with the same name are a
//! duplicate, reported at the second one's line. Regex and named
//! locations are never compared, nor are the locations nested in them.

use std::cmp::Ordering;

/// How a location takes part in the static tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `location = /x`
    Exact,
    /// `location /x`, `location ^~ /x`
    Prefix,
    /// Regex and named locations, and the server itself.
    Other,
}

struct Node {
    name: String,
    kind: Kind,
    /// Where to report it: the file and the offset of its `{`.
    at: (usize, usize),
    children: Vec<usize>,
}

/// The locations of the server being read, as a tree; the first
/// duplicate of the servers read before it.
#[derive(Default)]
pub struct Tree {
    nodes: Vec<Node>,
    /// The root of the server being read, when there is one.
    root: Option<usize>,
    found: Option<(String, (usize, usize))>,
}

impl Tree {
    /// A new server (or the implicit parent of a snippet's locations);
    /// returns its node. The one before it is done: its duplicate (if no
    /// server before it had one) is kept, its nodes dropped.
    pub fn server(&mut self) -> usize {
        self.settle();
        self.root = Some(self.nodes.len());
        self.push(String::new(), Kind::Other, (0, 0))
    }

    /// Finishes the current server's tree.
    fn settle(&mut self) {
        let Some(root) = self.root.take() else { return };
        if self.found.is_none() && self.any_duplicate() {
            self.found = self.duplicate_below(root);
        }
        self.nodes.truncate(root);
    }

    /// A location inside `parent`; returns its node.
    pub fn location(&mut self, parent: usize, name: &str, kind: Kind, at: (usize, usize)) -> usize {
        let id = self.push(name.to_string(), kind, at);
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(id);
        }
        id
    }

    fn push(&mut self, name: String, kind: Kind, at: (usize, usize)) -> usize {
        self.nodes.push(Node {
            name,
            kind,
            at,
            children: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// The first duplicate nginx would report, server by server: its
    /// message and where, then forgets every server.
    pub fn take_duplicate(&mut self) -> Option<(String, (usize, usize))> {
        self.settle();
        std::mem::take(self).found
    }

    /// Whether some parent has two exact or two prefix children of one
    /// name, found by a plain byte sort (most configs have none, and then
    /// nginx's order does not matter).
    fn any_duplicate(&self) -> bool {
        let mut names: Vec<(&str, bool)> = Vec::new();
        self.nodes.iter().any(|parent| {
            names.clear();
            let children = parent.children.iter().map(|&c| &self.nodes[c]);
            names.extend(
                children
                    .filter(|c| c.kind != Kind::Other)
                    .map(|c| (c.name.as_str(), c.kind == Kind::Exact)),
            );
            names.sort_unstable();
            names.windows(2).any(|w| w[0] == w[1])
        })
    }

    /// `ngx_http_init_static_location_trees` for one parent: the children
    /// first (in sorted order), then this level's join.
    fn duplicate_below(&self, parent: usize) -> Option<(String, (usize, usize))> {
        let mut sorted: Vec<usize> = self.nodes[parent]
            .children
            .iter()
            .copied()
            .filter(|&c| self.nodes[c].kind != Kind::Other)
            .collect();
        // ngx_queue_sort is an insertion sort: stable.
        sorted.sort_by(|&a, &b| cmp_locations(&self.nodes[a], &self.nodes[b]));
        if let Some(found) = sorted.iter().find_map(|&c| self.duplicate_below(c)) {
            return Some(found);
        }
        // ngx_http_join_exact_locations: equal names are adjacent, exact
        // first; a second exact or a second prefix one is the duplicate.
        let mut current: Option<(&str, bool, bool)> = None;
        for node in sorted.into_iter().map(|c| &self.nodes[c]) {
            let exact = node.kind == Kind::Exact;
            match current {
                Some((name, has_exact, has_prefix)) if name == node.name => {
                    if (exact && has_exact) || (!exact && has_prefix) {
                        return Some((format!("duplicate location \"{}\"", node.name), node.at));
                    }
                    current = Some((name, has_exact || exact, has_prefix || !exact));
                }
                _ => current = Some((&node.name, exact, !exact)),
            }
        }
        None
    }
}

/// `ngx_http_cmp_locations` for exact and prefix locations: names as
/// `ngx_filename_cmp` orders them (`/` below every other byte, a name
/// before its extensions), an exact location before a prefix one.
fn cmp_locations(a: &Node, b: &Node) -> Ordering {
    let key = |c: &u8| if *c == b'/' { 0 } else { u16::from(*c) + 1 };
    let by_name = a
        .name
        .as_bytes()
        .iter()
        .map(key)
        .cmp(b.name.as_bytes().iter().map(key));
    by_name.then_with(|| (a.kind == Kind::Prefix).cmp(&(b.kind == Kind::Prefix)))
}

/// A `location`'s name as `ngx_http_core_location` records it.
#[derive(Debug, Clone)]
pub struct Location {
    pub name: String,
    pub exact: bool,
    pub named: bool,
    pub regex: bool,
}

impl Location {
    /// `location [=|~|~*|^~] name` or `location @name`; `Err` is nginx's
    /// message for a bad modifier.
    pub fn from_args(args: &[String]) -> Result<Location, String> {
        let mut loc = Location {
            name: String::new(),
            exact: false,
            named: false,
            regex: false,
        };
        match args {
            [modifier, name] => {
                loc.name = name.clone();
                match modifier.as_str() {
                    "=" => loc.exact = true,
                    "^~" => {}
                    "~" | "~*" => loc.regex = true,
                    other => return Err(format!("invalid location modifier \"{other}\"")),
                }
            }
            [name] => {
                if let Some(rest) = name.strip_prefix('=') {
                    loc.name = rest.into();
                    loc.exact = true;
                } else if let Some(rest) = name.strip_prefix("^~") {
                    loc.name = rest.into();
                } else if let Some(rest) = name.strip_prefix('~') {
                    loc.name = rest.strip_prefix('*').unwrap_or(rest).into();
                    loc.regex = true;
                } else {
                    loc.name = name.clone();
                    loc.named = name.starts_with('@');
                }
            }
            _ => {}
        }
        Ok(loc)
    }

    /// Where the location sits in nginx's static location tree.
    pub fn tree_kind(&self) -> Kind {
        if self.regex || self.named {
            Kind::Other
        } else if self.exact {
            Kind::Exact
        } else {
            Kind::Prefix
        }
    }

    /// `ngx_http_core_location`'s rules for a location inside `parent`.
    pub fn nested_in(&self, parent: &Location) -> Result<(), String> {
        let (n, p) = (&self.name, &parent.name);
        if parent.exact {
            return Err(format!(
                "location \"{n}\" cannot be inside the exact location \"{p}\""
            ));
        }
        if parent.named {
            return Err(format!(
                "location \"{n}\" cannot be inside the named location \"{p}\""
            ));
        }
        if self.named {
            return Err(format!(
                "named location \"{n}\" can be on the server level only"
            ));
        }
        if !self.regex && !n.as_bytes().starts_with(p.as_bytes()) {
            return Err(format!("location \"{n}\" is outside location \"{p}\""));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(build: impl FnOnce(&mut Tree)) -> Option<(String, usize)> {
        let mut tree = Tree::default();
        build(&mut tree);
        tree.take_duplicate().map(|(m, (_, at))| (m, at))
    }

    #[test]
    fn duplicates_of_one_kind_under_one_parent() {
        let dup = |name: &str, at| Some((format!("duplicate location \"{name}\""), at));
        assert_eq!(
            first(|t| {
                let s = t.server();
                t.location(s, "/a", Kind::Prefix, (0, 1));
                t.location(s, "/a", Kind::Exact, (0, 2));
                t.location(s, "/a", Kind::Prefix, (0, 3));
            }),
            dup("/a", 3)
        );
        assert_eq!(
            first(|t| {
                let s = t.server();
                t.location(s, "/a", Kind::Exact, (0, 1));
                t.location(s, "/a", Kind::Prefix, (0, 2));
                t.location(s, "/a/", Kind::Prefix, (0, 3));
                t.location(s, "/a", Kind::Other, (0, 4));
                t.location(s, "/a", Kind::Other, (0, 5));
            }),
            None
        );
        // Two servers may share names.
        assert_eq!(
            first(|t| {
                let s = t.server();
                t.location(s, "/", Kind::Prefix, (0, 1));
                let s = t.server();
                t.location(s, "/", Kind::Prefix, (0, 2));
            }),
            None
        );
    }

    #[test]
    fn nginx_order_children_first_then_sorted_names() {
        let found = first(|t| {
            let s = t.server();
            t.location(s, "/b", Kind::Exact, (0, 1));
            t.location(s, "/b", Kind::Exact, (0, 2));
            let a = t.location(s, "/a", Kind::Prefix, (0, 3));
            t.location(a, "/a/x", Kind::Prefix, (0, 4));
            t.location(a, "/a/x", Kind::Prefix, (0, 5));
        });
        assert_eq!(found.map(|f| f.1), Some(5));
        let found = first(|t| {
            let s = t.server();
            t.location(s, "/b", Kind::Exact, (0, 1));
            t.location(s, "/b", Kind::Exact, (0, 2));
            t.location(s, "/a", Kind::Exact, (0, 3));
            t.location(s, "/a", Kind::Exact, (0, 4));
        });
        assert_eq!(found.map(|f| f.1), Some(4));
        // Nothing below a regex location is compared.
        let found = first(|t| {
            let s = t.server();
            let r = t.location(s, "\\.php$", Kind::Other, (0, 1));
            t.location(r, "/x", Kind::Prefix, (0, 2));
            t.location(r, "/x", Kind::Prefix, (0, 3));
        });
        assert_eq!(found, None);
    }

    /// Servers are compared one by one as they end: the first server with
    /// a duplicate is the one reported, and a server's nodes go when the
    /// next one starts.
    #[test]
    fn servers_in_order_each_alone() {
        let two = |first_dup: bool| {
            first(|t| {
                let s = t.server();
                t.location(s, "/a", Kind::Prefix, (0, 1));
                if first_dup {
                    t.location(s, "/z", Kind::Prefix, (0, 2));
                    t.location(s, "/z", Kind::Prefix, (0, 3));
                }
                let s2 = t.server();
                assert_eq!(t.nodes.len(), 1, "the first server's nodes are gone");
                // the same name as the first server's: no duplicate
                t.location(s2, "/a", Kind::Prefix, (0, 4));
                t.location(s2, "/b", Kind::Exact, (0, 5));
                t.location(s2, "/b", Kind::Exact, (0, 6));
            })
        };
        assert_eq!(two(false).map(|f| f.1), Some(6));
        assert_eq!(two(true).map(|f| f.1), Some(3));
    }

    #[test]
    fn filename_order() {
        let node = |name: &str, kind| Node {
            name: name.into(),
            kind,
            at: (0, 0),
            children: Vec::new(),
        };
        let lt = |a: &str, b: &str| {
            cmp_locations(&node(a, Kind::Prefix), &node(b, Kind::Prefix)) == Ordering::Less
        };
        assert!(lt("/a", "/a/"));
        assert!(lt("/a/", "/a-"));
        assert!(lt("/a", "/ab"));
        assert!(lt("/A", "/a"));
        assert_eq!(
            cmp_locations(&node("/a", Kind::Exact), &node("/a", Kind::Prefix)),
            Ordering::Less
        );
    }
}
