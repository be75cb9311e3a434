//! The nginx directive table, as data, and nginx's own acceptance rules for a
//! directive at a given place (`ngx_conf_handler` in `src/core/ngx_conf_file.c`).
//!
//! # Source
//!
//! [`table`] is generated from nginx's C sources: every `ngx_command_t` array
//! of every module (directive name, `type` bitmask evaluated with nginx's own
//! `#define`s, set-handler name, owning module and its type, and the names of
//! the `ngx_conf_enum_t` / `ngx_conf_bitmask_t` array its `post` points to,
//! see [`DirectiveSpec::values`]). The nginx source
//! is <https://github.com/nginx/nginx>; see [`NGINX_SOURCE`] / [`NGINX_COMMIT`]
//! for the exact snapshot (at generation time `release-1.31.4-4-g3f6f7824d`).
//! Every `release-X.Y.Z` tag from 1.22.0 up to that snapshot was scanned, so
//! each entry knows the releases it exists in ([`DirectiveSpec::since`],
//! [`DirectiveSpec::removed_in`]). When a directive's mask or set-handler
//! changed between releases there is one entry per variant (e.g. `keepalive`
//! in `upstream` was `TAKE1` up to 1.29.6 and is `TAKE12` since 1.29.7).
//!
//! Third-party modules live in a separate table ([`third_party_table`]), each
//! entry tagged with [`Source::ThirdParty`]; see [`THIRD_PARTY_SOURCES`].
//!
//! # Regenerating
//!
//! ```text
//! python3 scripts/gen-directive-table.py \
//!     --history /path/to/nginx.git  git:/path/to/nginx.git@HEAD \
//!     lua-nginx-module=git:/path/to/lua-nginx-module.git@HEAD \
//!     stream-lua-nginx-module=git:/path/to/stream-lua-nginx-module.git@HEAD \
//!     njs=git:/path/to/njs.git@HEAD \
//!     headers-more-nginx-module=git:/path/to/headers-more-nginx-module.git@HEAD \
//!     ngx_http_geoip2_module=git:/path/to/ngx_http_geoip2_module.git@HEAD \
//!     > nginx-edit/src/directives/table.rs
//! ```
//!
//! (The header's repository URLs come from `--repo-url NAME=URL`; the
//! script's docstring has the exact command for the mirrors here.)
//!
//! Plain source directories work too (`python3 scripts/gen-directive-table.py
//! /path/to/nginx [NAME=/path/to/module ...]`); without `--history` every entry
//! gets `since = BASELINE`. Then `rustfmt --edition 2021
//! nginx-edit/src/directives/*.rs` (the tables themselves are `#[rustfmt::skip]`).
//!
//! # How nginx decides (what [`DirectiveSet::check`] mirrors)
//!
//! For a directive `name arg1 .. argN` ending in `;` or `{`, nginx walks the
//! loaded modules in order and, for every command with that exact
//! (case-sensitive) name:
//!
//! 1. remembers that the name exists ("found");
//! 2. skips it unless the module's type is the type of the current block
//!    ([`Context::module_kind`]) or `NGX_CONF_MODULE` (`include`);
//! 3. skips it unless `type & cf->cmd_type` ([`Context::cmd_type`]);
//! 4. the first command surviving 2-3 decides: non-block directive not ended by
//!    `;` → [`DirectiveError::NotTerminated`]; block directive not ended by `{`
//!    → [`DirectiveError::NoOpeningBrace`]; bad argument count →
//!    [`DirectiveError::InvalidArgCount`]; otherwise the module's handler runs
//!    (handler errors, such as a bad `on`/`off`, are outside this table except
//!    [`DirectiveSpec::check_flag_value`] and, for enum and bitmask values,
//!    [`DirectiveSpec::check_values`]).
//!
//! If no command survived: [`DirectiveError::NotAllowedHere`] when the name was
//! found at all, else [`DirectiveError::Unknown`].
//!
//! # Things a caller must know
//!
//! * Order of the checks: place, then terminator, then argument count. A
//!   misplaced block with wrong arguments is "not allowed here"; a `proxy_pass
//!   a b {` in a location is "not terminated by `;`", not an argument error.
//! * "Found" counts every *loaded* module, whatever its type: a stream-only
//!   name used in `http` is "not allowed here", not "unknown", but only when
//!   the stream module is loaded (Debian builds stream, mail, geoip, perl,
//!   xslt, image_filter as dynamic modules: without `load_module` they are
//!   "unknown directive"; see [`DirectiveSet::with_filter`]).
//! * Argument counts exclude the name; `NGX_CONF_MAX_ARGS` (8) includes it, so
//!   fixed-arity directives take at most 7 arguments while `1MORE`, `2MORE`
//!   and `ANY` are unbounded. `FLAG` means exactly one argument.
//! * The `on`/`off` check is done by the set-handler, not by the FLAG bit
//!   ([`DirectiveSpec::on_off`]); it is ASCII case-insensitive and sees the
//!   unquoted value (`"on"` is fine). Directive names are case-sensitive.
//! * `if` opens `HttpSif` directly in a server and `HttpLif` in a location; no
//!   `if` accepts another `if`, and `location` is not allowed in `if` or
//!   `limit_except`. `add_header`/`add_trailer` are allowed in `if` in a
//!   location but not in `if` at server level.
//! * `include` (the only `NGX_CONF_MODULE` directive) is `NGX_ANY_CONF|TAKE1`:
//!   one argument, every context including `events`, `upstream`, `if`,
//!   `limit_except`. Inside custom-handler bodies ([`BlockBody::Custom`])
//!   `ngx_conf_handler` is not called at all: `map`, `geo` and `types` handle
//!   `include file;` themselves, `split_clients`, `charset_map` and `geoip2`
//!   do not; a `{` there is `unexpected "{"`.
//! * A block must end in the file it started in: `}` at the top of an included
//!   file is `unexpected "}"`, end of file inside a block is `unexpected end of
//!   file, expecting "}"` (`ngx_conf_parse`). A missing `events` block is
//!   reported later (`no "events" section in configuration`).
//! * Versions matter: e.g. `ssl` is unknown since 1.25.1, `http2` exists since
//!   1.25.1, `keepalive` in `upstream` takes 1-2 arguments since 1.29.7 (1
//!   before), stream/mail `proxy_protocol` stopped being `on`/`off`-only in
//!   1.31.4. Pick the version with [`DirectiveSet::nginx`].

mod context;
mod error;
mod index;
mod spec;
#[rustfmt::skip]
mod table;
#[cfg(test)]
mod tests;

pub use context::{BlockBody, Context, Terminator, CUSTOM_BODY_BLOCKS};
pub use error::DirectiveError;
pub(crate) use index::FastHash;
use index::Index;
pub use index::{
    entry_count, entry_index, lookup, lookup_third_party, nginx_table, third_party_table,
};

pub use table::bits;
pub use table::{BASELINE, NGINX_COMMIT, NGINX_SOURCE, THIRD_PARTY_SOURCES};

use bits::*;

/// `since` value of entries that only exist after the newest release tag of
/// the snapshot (unreleased nginx commits). Also the version of
/// [`DirectiveSet::latest`].
pub const UNRELEASED: u32 = u32::MAX;

/// `NGX_CONF_MAX_ARGS`: nginx counts the directive name too, so a fixed-arity
/// directive takes at most 7 arguments.
pub const MAX_ARGS: usize = NGX_CONF_MAX_ARGS as usize;

/// nginx's `argument_number[]`: the bit required for `nelts - 1` arguments.
const ARGUMENT_NUMBER: [u32; 8] = [
    NGX_CONF_NOARGS,
    NGX_CONF_TAKE1,
    NGX_CONF_TAKE2,
    NGX_CONF_TAKE3,
    NGX_CONF_TAKE4,
    NGX_CONF_TAKE5,
    NGX_CONF_TAKE6,
    NGX_CONF_TAKE7,
];

/// nginx version number as nginx encodes it (`nginx_version`):
/// `major * 1_000_000 + minor * 1_000 + patch`, e.g. 1.22.1 = `1_022_001`.
pub const fn nginx_version(major: u32, minor: u32, patch: u32) -> u32 {
    major * 1_000_000 + minor * 1_000 + patch
}

/// Which kind of module a directive belongs to (the module's `type`:
/// `NGX_CORE_MODULE`, `NGX_EVENT_MODULE`, ...). Context bits of the mask mean
/// different contexts per kind (as in nginx: `NGX_HTTP_MAIN_CONF`,
/// `NGX_EVENT_CONF`, `NGX_MAIL_MAIN_CONF` and `NGX_STREAM_MAIN_CONF` are all
/// `0x0200_0000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    /// `NGX_CORE_MODULE`: main-context directives (`worker_processes`, `http`,
    /// `events`, `stream`, `mail`, ...).
    Core,
    /// `NGX_EVENT_MODULE`: inside `events { }`.
    Event,
    /// `NGX_HTTP_MODULE`: inside `http { }`.
    Http,
    /// `NGX_MAIL_MODULE`: inside `mail { }`.
    Mail,
    /// `NGX_STREAM_MODULE`: inside `stream { }`.
    Stream,
    /// `NGX_CONF_MODULE` (only `include`): accepted whatever the block's kind.
    Conf,
}

/// Where a directive comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// nginx's own modules (some are optional at build time or dynamic).
    Nginx,
    /// A third-party module set, by label (see [`THIRD_PARTY_SOURCES`]).
    ThirdParty(&'static str),
}

/// One `ngx_command_t` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectiveSpec {
    /// Directive name (nginx compares it case-sensitively).
    pub name: &'static str,
    /// Type of the owning module.
    pub kind: ModuleKind,
    /// The evaluated `type` field: context bits | argument bits | BLOCK/FLAG.
    pub mask: u32,
    /// nginx module name, e.g. `ngx_http_proxy_module` (lets callers drop
    /// modules that are not built in or not loaded).
    pub module: &'static str,
    /// Name of the C set-handler (`ngx_conf_set_flag_slot`, ...).
    pub set: &'static str,
    /// The handler checks the value with `ngx_conf_set_flag_slot`: exactly
    /// `on` or `off` (ASCII case-insensitive). Not the same as
    /// [`is_flag`](Self::is_flag): e.g. `ssl_ocsp` was FLAG with an enum
    /// handler (`leaf` is valid), `uwsgi_cache_background_update` is TAKE1
    /// with the flag handler.
    pub on_off: bool,
    /// A block whose set-handler installs a custom body handler
    /// (`cf->handler`): the body is not directives (see [`BlockBody`]).
    pub custom_body: bool,
    /// nginx or third-party.
    pub source: Source,
    /// First nginx release with this entry ([`nginx_version`] encoding);
    /// [`BASELINE`] means "1.22.0 or older"; [`UNRELEASED`] means only in the
    /// snapshot after its newest tag. Third-party entries always carry
    /// [`BASELINE`] (their versions are not tracked).
    pub since: u32,
    /// First nginx release without this entry (removed, or replaced by
    /// another entry with a different mask/handler); `None` = still present.
    pub removed_in: Option<u32>,
    /// The names listed by the `ngx_conf_enum_t` / `ngx_conf_bitmask_t`
    /// array the command's `post` field points to, each with the first
    /// release that lists it (e.g. `proxy_http_version` gained `2` in 1.29);
    /// empty when `post` is no such array. What is checked against them
    /// depends on the handler: see [`value_rule`](Self::value_rule).
    pub values: &'static [(&'static str, u32)],
}

/// Which arguments a directive's handler looks up in its
/// [`DirectiveSpec::values`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRule {
    /// No lookup.
    None,
    /// `ngx_conf_set_enum_slot`: the first argument is one of the names.
    First,
    /// `ngx_conf_set_bitmask_slot`: every argument is one of the names.
    All,
}

/// How the argument count is constrained (derived from the mask, in the
/// order `ngx_conf_handler` tests the bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgRule {
    /// `NGX_CONF_ANY`: any number, including none.
    Any,
    /// `NGX_CONF_FLAG`: exactly one argument.
    Flag,
    /// `NGX_CONF_1MORE`: one or more.
    OneOrMore,
    /// `NGX_CONF_2MORE`: two or more.
    TwoOrMore,
    /// `NOARGS`/`TAKEn` bits: bit `n` set means `n` arguments are accepted
    /// (bit 0 = no arguments), at most 7.
    Exact(u8),
}

/// `"on"`/`"off"` as `ngx_conf_set_flag_slot` reads them (`ngx_strcasecmp`).
pub fn parse_on_off(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("on") {
        Some(true)
    } else if value.eq_ignore_ascii_case("off") {
        Some(false)
    } else {
        None
    }
}

/// Which directives exist: an nginx version, the enabled third-party module
/// sets and an optional module filter. `Copy`, no allocation.
#[derive(Debug, Clone, Copy)]
pub struct DirectiveSet {
    version: u32,
    third_party: u64,
    filter: Option<fn(&DirectiveSpec) -> bool>,
}

impl Default for DirectiveSet {
    /// [`DirectiveSet::latest`].
    fn default() -> Self {
        Self::latest()
    }
}

impl DirectiveSet {
    /// nginx's own directives as of release `version` ([`nginx_version`]), no
    /// third-party modules. Versions older than [`BASELINE`] behave like it.
    pub const fn nginx(version: u32) -> Self {
        DirectiveSet {
            version,
            third_party: 0,
            filter: None,
        }
    }

    /// nginx's own directives of the newest snapshot (including unreleased
    /// commits).
    pub const fn latest() -> Self {
        Self::nginx(UNRELEASED)
    }

    /// Also accept the directives of third-party module set `label` (one of
    /// [`THIRD_PARTY_SOURCES`]); `None` for an unknown label.
    pub fn with_third_party(mut self, label: &str) -> Option<Self> {
        let idx = THIRD_PARTY_SOURCES
            .iter()
            .position(|(l, _, _)| *l == label)?;
        self.third_party |= 1 << idx;
        Some(self)
    }

    /// Also accept every third-party module set.
    pub fn with_all_third_party(mut self) -> Self {
        self.third_party = (1u64 << THIRD_PARTY_SOURCES.len()) - 1;
        self
    }

    /// Keep only entries for which `keep` returns true (e.g. drop modules that
    /// a given nginx build lacks: `|d| d.module != "ngx_http_perl_module"`).
    pub fn with_filter(mut self, keep: fn(&DirectiveSpec) -> bool) -> Self {
        self.filter = Some(keep);
        self
    }

    /// The nginx version this set models.
    pub const fn version(&self) -> u32 {
        self.version
    }

    /// Whether `spec` is part of this set.
    pub fn contains(&self, spec: &DirectiveSpec) -> bool {
        let source_ok = match spec.source {
            Source::Nginx => spec.exists_in(self.version),
            Source::ThirdParty(label) => THIRD_PARTY_SOURCES
                .iter()
                .position(|(l, _, _)| *l == label)
                .is_some_and(|i| self.third_party & (1 << i) != 0),
        };
        source_ok
            && match self.filter {
                Some(keep) => keep(spec),
                None => true,
            }
    }

    /// The entries named `name` in this set, nginx's first, then third-party
    /// ones (the order `ngx_conf_handler` would try them in; within nginx no
    /// two entries of one version overlap in kind and context).
    pub fn candidates<'n>(
        &self,
        name: &'n str,
    ) -> impl Iterator<Item = &'static DirectiveSpec> + 'n {
        let set = *self;
        let (nginx, third_party) = Index::get(name);
        nginx
            .iter()
            .chain(third_party)
            .filter(move |d| set.contains(d))
    }

    /// Whether `name` exists at all in this set (any context).
    pub fn is_known(&self, name: &str) -> bool {
        self.candidates(name).next().is_some()
    }

    /// The entry nginx would use for `name` in `ctx`, ignoring terminator and
    /// argument count (steps 1-3 of `ngx_conf_handler`).
    pub fn resolve(&self, name: &str, ctx: Context) -> Option<&'static DirectiveSpec> {
        self.candidates(name).find(|d| d.allowed_in(ctx))
    }

    /// What the body of block directive `name` holds in `parent` (the entry
    /// [`resolve`](Self::resolve) picks); `None` if there is none or it is
    /// not a block.
    pub fn block_body(&self, name: &str, parent: Context) -> Option<BlockBody> {
        self.resolve(name, parent)?.block_body(parent)
    }

    /// `ngx_conf_handler`'s verdict for directive `name` with `nargs`
    /// arguments (not counting the name) in block `ctx`, ended by `term`.
    /// On success returns the entry (use [`DirectiveSpec::block_body`] for
    /// what a block opens, [`DirectiveSpec::check_flag_value`] for `on`/`off`).
    pub fn check(
        &self,
        name: &str,
        ctx: Context,
        nargs: usize,
        term: Terminator,
    ) -> Result<&'static DirectiveSpec, DirectiveError> {
        self.check_with(name, ctx, nargs, term, |_| true)
    }

    /// [`DirectiveSet::check`] considering only the entries `loaded` accepts
    /// (the modules a given nginx binary has, say with `load_module`).
    pub fn check_with(
        &self,
        name: &str,
        ctx: Context,
        nargs: usize,
        term: Terminator,
        loaded: impl Fn(&DirectiveSpec) -> bool,
    ) -> Result<&'static DirectiveSpec, DirectiveError> {
        let mut found = false;
        for spec in self.candidates(name).filter(|d| loaded(d)) {
            found = true;
            if !spec.allowed_in(ctx) {
                continue;
            }
            if !spec.is_block() && term != Terminator::Semicolon {
                return Err(DirectiveError::NotTerminated {
                    name: name.to_owned(),
                });
            }
            if spec.is_block() && term != Terminator::BlockStart {
                return Err(DirectiveError::NoOpeningBrace {
                    name: name.to_owned(),
                });
            }
            if !spec.accepts_arg_count(nargs) {
                return Err(DirectiveError::InvalidArgCount {
                    name: name.to_owned(),
                });
            }
            return Ok(spec);
        }
        let name = name.to_owned();
        Err(if found {
            DirectiveError::NotAllowedHere { name }
        } else {
            DirectiveError::Unknown { name }
        })
    }
}

/// [`DirectiveSet::check`] with [`DirectiveSet::latest`] (nginx only).
pub fn check(
    name: &str,
    ctx: Context,
    nargs: usize,
    term: Terminator,
) -> Result<&'static DirectiveSpec, DirectiveError> {
    DirectiveSet::latest().check(name, ctx, nargs, term)
}
