//! Finding a directive's table entries by name: one hash lookup for both
//! tables, built once per process.

use super::{table, DirectiveSpec};

/// All entries named `name` in a name-sorted table (binary search, no
/// allocation).
fn equal_range(table: &'static [DirectiveSpec], name: &str) -> &'static [DirectiveSpec] {
    let lo = table.partition_point(|d| d.name < name);
    let rest = &table[lo..];
    let len = rest.partition_point(|d| d.name == name);
    &rest[..len]
}

/// A name -> entries index of both sorted tables (nginx's, then the
/// third-party one), built on first use: a checker looks up every
/// directive of a config, and one hash of a short name beats a binary
/// search over 800 names per table.
pub(super) struct Index(
    std::collections::HashMap<
        &'static str,
        (&'static [DirectiveSpec], &'static [DirectiveSpec]),
        std::hash::BuildHasherDefault<NameHasher>,
    >,
);

/// A multiply-rotate hash, eight bytes at a time: directive names are
/// short and the keys are fixed, so SipHash's flood resistance buys
/// nothing and costs most of a lookup.
#[derive(Default)]
pub(crate) struct NameHasher(u64);

/// [`NameHasher`] for maps and sets keyed by names from a config
/// (variables, upstreams): the checker's own, not an attacker's, input.
pub(crate) type FastHash = std::hash::BuildHasherDefault<NameHasher>;

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Index {
    fn build() -> Index {
        let mut map = std::collections::HashMap::with_capacity_and_hasher(
            table::NGINX.len() + table::THIRD_PARTY.len(),
            std::hash::BuildHasherDefault::default(),
        );
        for spec in table::NGINX.iter().chain(table::THIRD_PARTY) {
            map.entry(spec.name).or_insert_with(|| {
                (
                    equal_range(table::NGINX, spec.name),
                    equal_range(table::THIRD_PARTY, spec.name),
                )
            });
        }
        Index(map)
    }

    /// The nginx entries and the third-party entries named `name`.
    pub(super) fn get(name: &str) -> (&'static [DirectiveSpec], &'static [DirectiveSpec]) {
        static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
        let index = INDEX.get_or_init(Index::build);
        index.0.get(name).copied().unwrap_or((&[], &[]))
    }
}

/// Every nginx entry named `name`, all kinds and all versions (a name can
/// exist in several kinds: `server`, `upstream`, `map`, `proxy_pass`, ...).
/// Empty for unknown names. Use [`DirectiveSet`] to filter by version/modules.
pub fn lookup(name: &str) -> &'static [DirectiveSpec] {
    Index::get(name).0
}

/// Every third-party entry named `name`.
pub fn lookup_third_party(name: &str) -> &'static [DirectiveSpec] {
    Index::get(name).1
}

/// A dense number for an entry of the tables (its place in the nginx
/// table, then in the third-party table), below [`entry_count`]: lets a
/// caller keep facts about entries in a `Vec` instead of a map.
pub fn entry_index(spec: &DirectiveSpec) -> Option<usize> {
    let size = std::mem::size_of::<DirectiveSpec>();
    let addr = spec as *const DirectiveSpec as usize;
    let place = |t: &[DirectiveSpec]| {
        let start = t.as_ptr() as usize;
        (addr >= start && addr < start + std::mem::size_of_val(t)).then(|| (addr - start) / size)
    };
    place(table::NGINX).or_else(|| place(table::THIRD_PARTY).map(|i| table::NGINX.len() + i))
}

/// How many entries [`entry_index`] numbers.
pub fn entry_count() -> usize {
    table::NGINX.len() + table::THIRD_PARTY.len()
}

/// The whole nginx table, sorted by name.
pub fn nginx_table() -> &'static [DirectiveSpec] {
    table::NGINX
}

/// The whole third-party table, sorted by name.
pub fn third_party_table() -> &'static [DirectiveSpec] {
    table::THIRD_PARTY
}
