//! What the walk asks of every directive's table entry (is its field
//! set once per block, does its handler read a number or its own
//! arguments, does it name a zone, compile a pattern ...), worked out once
//! per entry: these are string tests on the entry's names, and a config
//! repeats the same few entries thousands of times.

use super::{core_args, directive_args, handlers, patterns, zones};
use crate::directives::{entry_count, entry_index, DirectiveSpec};

/// The answers for one entry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Facts {
    /// `handlers::set_once`: a second one in a block is a duplicate.
    pub set_once: bool,
    /// `handlers::has_slot_value`: a number, size or time to parse.
    pub slot_value: bool,
    /// `directive_args::handles`: the handler reads its own arguments.
    pub arg_rules: bool,
    /// `core_args::HANDLERS`.
    pub core_args: bool,
    /// A `limit_req`/`limit_conn` handler (`limits`).
    pub limits: bool,
    /// `patterns::applies`: the handler compiles regexes or adds a variable.
    pub patterns: bool,
    /// `zones::may_name_a_zone`.
    pub zone: bool,
    /// A `*_pass` or `*_ssl_*` directive, for `upstream_tls`.
    pub upstream_tls: bool,
    /// A buffer or temp file size, for `buffers`.
    pub buffers: bool,
}

impl Facts {
    fn of(spec: &DirectiveSpec) -> Facts {
        Facts {
            set_once: handlers::set_once(spec.set),
            slot_value: handlers::has_slot_value(spec.set),
            arg_rules: directive_args::handles(spec.set, spec.name),
            core_args: core_args::HANDLERS.contains(&spec.set),
            limits: spec.set.contains("_limit_"),
            patterns: patterns::applies(spec),
            zone: zones::may_name_a_zone(spec.name),
            upstream_tls: spec.name.ends_with("_pass") || spec.name.contains("_ssl_"),
            buffers: spec.name.contains("_buffer") || spec.name.contains("temp_file"),
        }
    }
}

/// [`Facts`] by entry, filled as entries are met.
#[derive(Debug, Default)]
pub(super) struct FactsCache(Vec<Option<Facts>>);

impl FactsCache {
    pub(super) fn get(&mut self, spec: &DirectiveSpec) -> Facts {
        let Some(i) = entry_index(spec) else {
            return Facts::of(spec);
        };
        if self.0.is_empty() {
            self.0 = vec![None; entry_count()];
        }
        *self.0[i].get_or_insert_with(|| Facts::of(spec))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::directives::{lookup, lookup_third_party, nginx_table, third_party_table};

    #[test]
    fn every_entry_has_its_own_number() {
        let all: Vec<_> = nginx_table().iter().chain(third_party_table()).collect();
        for (i, spec) in all.iter().enumerate() {
            assert_eq!(entry_index(spec), Some(i), "{}", spec.name);
        }
        assert_eq!(all.len(), entry_count());
        // A copy is not an entry of the tables.
        let copy = nginx_table()[0];
        assert_eq!(entry_index(&copy), None);
    }

    #[test]
    fn cached_answers_are_the_handlers_own() {
        let mut cache = FactsCache::default();
        for name in [
            "root",
            "alias",
            "gzip_comp_level",
            "proxy_pass",
            "more_set_headers",
        ] {
            for spec in lookup(name).iter().chain(lookup_third_party(name)) {
                for _ in 0..2 {
                    let f = cache.get(spec);
                    assert_eq!(f.set_once, handlers::set_once(spec.set), "{name}");
                    assert_eq!(f.slot_value, handlers::has_slot_value(spec.set), "{name}");
                    assert_eq!(
                        f.arg_rules,
                        directive_args::handles(spec.set, name),
                        "{name}"
                    );
                }
            }
        }
        assert!(cache.get(&lookup("gzip_comp_level")[0]).arg_rules);
        assert!(cache.get(&lookup("root")[0]).set_once);
    }
}
