//! `valid_referers` as the referer module merges it
//! (`ngx_http_referer_merge_conf`): a server or location whose
//! `valid_referers` accept `none` or `blocked` but name no host at all
//! (regex referers do not count) is refused once the http block is read,
//! with no line: `the "none" or "blocked" referers are specified in the
//! "valid_referers" directive without any valid referer`; then its hash
//! (`referer_hash_max_size` 0, a bucket of 0 or too small for a host).

use super::header_hashes::inherited;
use super::ssl::Place;
use super::Walker;
use crate::directives::Context;
use crate::document::Directive;

/// What one block's `valid_referers` said so far.
#[derive(Debug, Default, PartialEq)]
pub struct Block {
    /// The first `valid_referers` of the block.
    at: Option<Place>,
    none_or_blocked: bool,
    /// A host name given (the server's, for `server_names`, are added as
    /// the block is merged).
    hosts: bool,
    /// The longest hash key of its hosts (a wildcard's labels).
    longest: usize,
    /// `referer_hash_max_size`, `referer_hash_bucket_size` set here.
    max: Option<i64>,
    bucket: Option<i64>,
    /// `server_names` given: the server's names join the hash as the
    /// block is merged.
    server_names: bool,
    /// The hash keys its hosts made, as `hash_keys::slots` gives them.
    keys: Vec<(&'static str, Vec<u8>)>,
    /// The server it is in (its names are the ones `server_names` adds).
    server: usize,
    /// The enclosing block; whether nginx merges this one.
    parent: Option<usize>,
    merged: bool,
}

/// Every block met, in the order nginx merges them (the order they
/// open), the ones being read, and how many were merged already.
#[derive(Debug, Default)]
pub struct Referers {
    all: Vec<Block>,
    open: Vec<usize>,
    merged: usize,
}

impl Walker<'_> {
    /// A block opens.
    pub(super) fn referers_open(&mut self) {
        let parent = self.referers.open.last().copied();
        self.referers.open.push(self.referers.all.len());
        self.referers.all.push(Block {
            parent,
            server: self.server_id,
            ..Default::default()
        });
    }

    /// A block closes: a server or location is merged (once the http
    /// block is read, as its later sizes count too).
    pub(super) fn referers_close(&mut self, ctx: Context) {
        if let Some(i) = self.referers.open.pop() {
            let referers = &mut self.referers;
            referers.all[i].merged = matches!(ctx, Context::HttpServer | Context::HttpLocation);
            // A block that set nothing, with none below it kept, refuses
            // nothing and passes nothing down: dropped (a big config has
            // one per block).
            let block = &referers.all[i];
            let bare = Block {
                parent: block.parent,
                server: block.server,
                merged: block.merged,
                ..Block::default()
            };
            let last = i + 1 == referers.all.len() && i >= referers.merged;
            if last && *block == bare {
                referers.all.pop();
            }
        }
    }

    /// The first refusal of a block's merge: `none` or `blocked` alone,
    /// then the hash of its hosts, with sizes inherited from the nearest
    /// block that sets them.
    fn referer_refusal(&self, i: usize, end: Place) -> Option<(Place, String)> {
        let all = &self.referers.all;
        let block = &all[i];
        let at = block.at.filter(|_| block.merged)?;
        let (mut hosts, mut longest) = (block.hosts, block.longest);
        if block.server_names {
            match self.server_names_as_referers(block) {
                Err(message) => return Some((end, message)),
                Ok(Some(names_longest)) => {
                    hosts = true;
                    longest = longest.max(names_longest);
                }
                Ok(None) => {}
            }
        }
        if block.none_or_blocked && !hosts {
            let message = "the \"none\" or \"blocked\" referers are specified in the \
                           \"valid_referers\" directive without any valid referer";
            return Some((at, message.into()));
        }
        if !hosts {
            return None;
        }
        let up = |f: fn(&Block) -> Option<i64>| inherited(all, i, |b| b.parent, f);
        let (max, bucket) = (up(|b| b.max), up(|b| b.bucket));
        let hash = super::hash_keys::hash_init("referer_hash", max, bucket, longest);
        hash.err().map(|message| (at, message))
    }

    /// `server_names`: the server's names that are no regex added to the
    /// block's keys as `ngx_http_add_referer` adds them, in order
    /// (`conflicting parameter "x"` for a name already there, at the http
    /// block's end, where the merge runs). `Some` longest key when the
    /// server has such a name (regexes are compiled apart, not hashed).
    fn server_names_as_referers(&self, block: &Block) -> Result<Option<usize>, String> {
        let mut keys: std::collections::HashSet<_> = block.keys.iter().cloned().collect();
        let names = self.server_names.hashed_names(block.server);
        for &name in &names {
            let Some(slots) = super::hash_keys::slots(name.as_bytes(), true) else {
                return Err(format!("invalid hostname or wildcard \"{name}\""));
            };
            for slot in slots {
                if !keys.insert(slot) {
                    return Err(format!("conflicting parameter \"{name}\""));
                }
            }
        }
        let longest = names.iter().map(|n| key_length(n)).max();
        Ok(longest)
    }

    /// `referer_hash_max_size` or `referer_hash_bucket_size` here.
    pub(super) fn referer_hash_size(&mut self, name: &str, d: Directive<'_>) {
        let n = d
            .arg(0)
            .and_then(|a| super::numbers::atoi(a.text().as_bytes()));
        if let Some(&i) = self.referers.open.last() {
            let block = &mut self.referers.all[i];
            if name == "referer_hash_max_size" {
                block.max = n;
            } else {
                block.bucket = n;
            }
        }
    }

    /// A `valid_referers` of the innermost block.
    pub(super) fn valid_referers(&mut self, d: Directive<'_>, here: Place) {
        let Some(&i) = self.referers.open.last() else {
            return;
        };
        let block = &mut self.referers.all[i];
        block.at.get_or_insert(here);
        for a in d.args().map(|a| a.text()) {
            match a.as_str() {
                "none" | "blocked" => block.none_or_blocked = true,
                a if a.starts_with('~') => {}
                "server_names" => block.server_names = true,
                a => {
                    block.hosts = true;
                    let host = a.split('/').next().unwrap_or_default();
                    let lower = host.to_ascii_lowercase();
                    if let Some(slots) = super::hash_keys::slots(lower.as_bytes(), true) {
                        block.keys.extend(slots);
                    }
                    block.longest = block.longest.max(key_length(host));
                }
            }
        }
    }

    /// At the http block's end, `end` (the referer module's merge).
    pub(super) fn referers_merge(&mut self, end: Place) {
        let first = (self.referers.merged..self.referers.all.len())
            .find_map(|i| self.referer_refusal(i, end));
        self.referers.merged = self.referers.all.len();
        if let Some(((file, at), message)) = first {
            self.error(file, at, message);
        }
    }
}

/// The longest hash key a referer host makes: the name without its
/// wildcard part, or one of its labels (a wildcard's hashes are keyed by
/// labels).
fn key_length(host: &str) -> usize {
    let labels = host.split('.').map(str::len);
    let exact = host.trim_start_matches("*.").trim_start_matches('.').len();
    labels.chain([exact]).max().unwrap_or(0)
}
