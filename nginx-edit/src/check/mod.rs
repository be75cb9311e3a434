//! Offline validation (`nginx-edit check`): what `nginx -t` would report
//! after a successful parse, in nginx's own words and at nginx's line.
//!
//! Syntax errors come from the parser and include cycles from the loader;
//! this module walks the parsed files as `ngx_conf_parse` does: directive
//! by directive, in the block context each one opens, following includes
//! into the context of the `include` line. Each directive goes through
//! `ngx_conf_handler`'s rules (see `directives`), with the modules a real
//! nginx binary has: Debian's package by default (http modules built in;
//! stream, mail, geoip, perl, xslt, image_filter only after `load_module`),
//! or every standard module.

mod access_log;
mod bodies;
mod buffers;
mod cache_args;
mod cache_path;
mod charsets;
mod core_args;
pub mod debian;
mod directive_args;
mod facts;
mod handler_values;
mod handlers;
mod hash_keys;
mod header_hashes;
mod lazy_args;
mod limits;
mod listen;
mod literal_args;
mod locations;
mod log_format;
mod machine;
mod main_conf;
mod modules;
mod networks;
mod numbers;
mod patterns;
mod post;
mod proxy_args;
mod proxy_tls;
mod referers;
mod regex;
mod rules;
mod server_names;
mod ssl;
mod stream_variables;
mod syslog;
mod tcp;
mod top_level;
mod upstream_args;
mod upstream_tls;
mod upstreams;
mod url;
mod variables;
mod walk;
mod zones;

pub use stream_variables::builtin_names as builtin_stream_variables;
pub use variables::builtin_names as builtin_http_variables;

use crate::directives::{Context, DirectiveSet};
use crate::document::Directive;
use crate::includes::ConfigSet;
use locations::Location;

/// A finding of the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// `"error"` or `"warning"`.
    pub severity: &'static str,
    pub message: String,
}

/// Which modules the nginx being modelled has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Modules {
    /// Debian's `nginx` package: the http modules it builds in, plus the
    /// dynamic modules a `load_module` line loads.
    #[default]
    Debian,
    /// Every module of nginx's source tree, built in.
    All,
}

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// nginx release to model, as `directives::nginx_version` gives it.
    pub nginx_version: u32,
    pub modules: Modules,
    /// Accept directives no module of the table knows (third-party
    /// modules not in it); they and their blocks are not checked.
    pub allow_unknown: bool,
    /// The block the file's top level sits in; `None` guesses it (a main
    /// `nginx.conf`, or a snippet included in `http`, `server` ...).
    pub context: Option<Context>,
    /// Look up host names as `nginx -t` does (upstream `server NAME`,
    /// `proxy_pass http://NAME` that names no upstream block), with this
    /// machine's resolver.
    pub resolve: bool,
    /// nginx's prefix (`nginx -p`), that nginx joins relative paths to
    /// and prints them so (`the same path name "/usr/share/nginx/cache"`);
    /// Debian's build: `/usr/share/nginx/`.
    pub nginx_prefix: String,
}

/// Debian's `--prefix`, nginx's prefix when `-p` is not given.
pub const DEBIAN_PREFIX: &str = "/usr/share/nginx/";

/// `ngx_conf_full_name` (not the conf prefix): `name` joined to `prefix`
/// unless it is absolute.
fn full_name<'n>(prefix: &str, name: &'n str) -> std::borrow::Cow<'n, str> {
    if name.starts_with('/') {
        return name.into();
    }
    let slash = if prefix.ends_with('/') { "" } else { "/" };
    format!("{prefix}{slash}{name}").into()
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            nginx_version: crate::directives::nginx_version(1, 22, 1),
            modules: Modules::Debian,
            allow_unknown: false,
            context: None,
            resolve: true,
            nginx_prefix: DEBIAN_PREFIX.to_string(),
        }
    }
}

/// Checks every file of a loaded configuration, starting at its main file.
pub fn check_set(set: &ConfigSet, options: &CheckOptions) -> Vec<Finding> {
    let mut walker = Walker {
        set,
        options,
        directives: DirectiveSet::nginx(options.nginx_version).with_all_third_party(),
        loaded: Vec::new(),
        modules_used: false,
        findings: Vec::new(),
        depth: 0,
        locations: Vec::new(),
        upstreams: Default::default(),
        log_formats: vec!["combined".into()],
        stream_log_formats: Vec::new(),
        log_buffers: Default::default(),
        from_main: false,
        blocks: Vec::new(),
        arg_buffers: Default::default(),
        variables: None,
        module_cache: Default::default(),
        server_id: 0,
        http_listens: Default::default(),
        stream_listens: Default::default(),
        mail_listens: Default::default(),
        upstream_backup: true,
        location_tree: Default::default(),
        location_parents: Vec::new(),
        pending_location: None,
        file_names: Vec::new(),
        upstreams_by_name: Default::default(),
        resolver: Default::default(),
        stopped: false,
        ssl: Default::default(),
        stream: Default::default(),
        mail: Default::default(),
        stream_upstreams: Default::default(),
        zones: Default::default(),
        upstream_tls: Default::default(),
        facts: Default::default(),
        paths: Default::default(),
        stream_variables: None,
        referers: Default::default(),
        buffers: Default::default(),
        header_hashes: Default::default(),
        hash_buckets: Vec::new(),
        server_names: Default::default(),
        thread_pools: Default::default(),
        charsets: Default::default(),
        priority_set: false,
        worker_connections: None,
    };
    let Some(main) = set.files.first() else {
        return Vec::new();
    };
    let ctx = options
        .context
        .unwrap_or_else(|| walker.guess_context(main.doc().items()));
    walker.from_main = ctx == Context::Main;
    if matches!(ctx, Context::HttpServer | Context::HttpLocation) {
        // A snippet's locations share the parent that includes them.
        let root = walker.location_tree.server();
        walker.location_parents.push(root);
    }
    walker.walk(0, main.doc().items(), ctx);
    walker.parse_error(0);
    walker.upstreams_init();
    walker.duplicate_location();
    // An include that did not resolve may hold the `events` block.
    let unresolved_top = set.unresolved.iter().any(|u| u.from == main.path);
    if ctx == Context::Main && !unresolved_top && !walker.saw_events(0, main.doc().items()) {
        walker.findings.push(Finding {
            file: main.path.display().to_string(),
            line: 1,
            column: 1,
            severity: "error",
            message: "no \"events\" section in configuration".into(),
        });
    }
    // ngx_event_init_conf: a connection for each listening socket, and
    // one for the master's channel.
    if walker.from_main && set.unresolved.is_empty() && !walker.has_errors() {
        walker.listening_sockets();
    }
    // ngx_thread_pool_init_conf (after the events module's): a pool
    // `aio threads=` named that no `thread_pool` defined.
    if walker.from_main && set.unresolved.is_empty() {
        if let Some(((file, at), message)) = walker.thread_pools.unknown() {
            walker.error(file, at, message);
        }
    }
    // ngx_init_cycle, once every block is read: zones without a size.
    if walker.from_main && set.unresolved.is_empty() {
        if let Some(((file, at), message)) = walker.zones.zero_size() {
            walker.error(file, at, message);
        }
    }
    // A file the walk did not read (an include in a map, say) that does
    // not parse: nginx reads every file, so it fails too.
    if let Some(i) = (0..set.files.len()).find(|&i| set.files[i].doc().parse_error().is_some()) {
        walker.parse_error(i);
    }
    walker.findings
}

struct Walker<'a> {
    set: &'a ConfigSet,
    options: &'a CheckOptions,
    directives: DirectiveSet,
    /// Shared objects named by `load_module` so far.
    loaded: Vec<String>,
    /// Whether a block that counts the modules (`events`, `http`, `stream`,
    /// `mail`) was opened: `load_module` is too late after it.
    modules_used: bool,
    findings: Vec<Finding>,
    /// Include nesting, bounded against pathological include fan-out.
    depth: usize,
    /// The `location` blocks we are inside, innermost last.
    locations: Vec<Location>,
    /// Upstream blocks defined so far, as (module kind, lowercased name).
    upstreams: std::collections::HashSet<(bool, String)>,
    /// http `log_format` names defined so far, lowercased.
    log_formats: Vec<String>,
    /// The stream block's `log_format` names (stream has no `combined`).
    stream_log_formats: Vec<String>,
    /// The buffered log files so far (http and stream share them).
    log_buffers: access_log::Buffers,
    /// Whether the walk starts at a whole nginx.conf (not a snippet).
    from_main: bool,
    /// For each open block, innermost last: the set-once fields filled so
    /// far, as (field key, directive name).
    /// (Borrowed from the directive table where the key is a field.)
    blocks: Vec<proxy_args::Block>,
    /// Strings the directives' arguments are read into, reused.
    arg_buffers: lazy_args::ArgBuffers,
    /// The variables of the `http` block being read, when the walk started
    /// at a main config (a snippet's variables may come from elsewhere).
    variables: Option<variables::HttpVariables>,
    /// [`Walker::has_module`]'s answers by module name (pointer-compared:
    /// the names are the table's own strings).
    module_cache: std::cell::RefCell<Vec<(&'static str, bool)>>,
    /// Number of the http `server` block being read (1 for the first).
    server_id: usize,
    /// The addresses the http `listen`s opened so far.
    http_listens: listen::HttpListens,
    /// The addresses the stream `listen`s opened so far.
    stream_listens: listen::StreamListens,
    /// The mail block's `listen` addresses (one list for all its servers).
    mail_listens: listen::StreamListens,
    /// Whether the http `upstream` being read still allows `backup`
    /// servers (no `hash`, `ip_hash` or `random` so far).
    upstream_backup: bool,
    /// The http block's upstreams by name, as `ngx_http_upstream_add`
    /// keeps them: `upstream` blocks and those a `proxy_pass` made.
    upstreams_by_name: upstreams::Upstreams,
    resolver: machine::Resolver,
    /// Each server's locations, for `duplicate location`.
    location_tree: locations::Tree,
    /// Nodes of `location_tree` we are inside, innermost last.
    location_parents: Vec<usize>,
    /// The `location` handler_rules just read, for its block.
    pending_location: Option<Location>,
    /// Each file's path as findings show it, once one has.
    file_names: Vec<Option<String>>,
    /// Whether the walk reached a syntax error: nginx stops there, so
    /// nothing after it (post-block checks included) is reported.
    stopped: bool,
    /// The TLS settings of the http block being read.
    ssl: ssl::HttpSsl,
    /// The servers of the stream and mail blocks being read.
    stream: tcp::TcpBlock,
    mail: tcp::TcpBlock,
    /// The stream block's upstreams by name (`ngx_stream_upstream_add`).
    stream_upstreams: upstreams::Upstreams,
    /// The shared memory zones named so far.
    zones: zones::Zones,
    /// The http block's TLS settings for upstreams, by level.
    upstream_tls: upstream_tls::UpstreamTls,
    /// What the walk asks of each table entry, once per entry.
    facts: facts::FactsCache,
    /// The directories `*_cache_path` and `*_temp_path` named so far.
    paths: cache_path::Paths,
    /// The variables of the stream block being read (from a main config).
    stream_variables: Option<stream_variables::StreamVariables>,
    /// The `valid_referers` of the blocks being read.
    referers: referers::Referers,
    /// The proxy, fastcgi, uwsgi and scgi buffer sizes, level by level.
    buffers: buffers::Buffers,
    /// The proxy, fastcgi ... header hashes of the http block's levels.
    header_hashes: header_hashes::HeaderHashes,
    /// The `*_hash_bucket_size` values of the http (or stream) block so far.
    hash_buckets: Vec<(String, i64)>,
    /// The http block's servers, their names and `listen`s.
    server_names: server_names::ServerNames,
    /// The http block's charsets, maps and the levels that set them.
    charsets: charsets::Charsets,
    /// `thread_pool`s and the pools `aio threads=` named.
    thread_pools: main_conf::ThreadPools,
    /// Whether a `worker_priority` set a priority other than 0.
    priority_set: bool,
    /// `worker_connections`: where, and its number.
    worker_connections: Option<((usize, usize), usize)>,
}

/// Why a handler refused a directive, and where nginx says so.
enum Refusal {
    /// At the directive itself.
    Here(String),
    /// Elsewhere (file index, byte offset): an earlier directive's line.
    At(usize, usize, String),
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Refusal::Here(message)
    }
}

/// nginx's buffer for a configuration message (`NGX_MAX_CONF_ERRSTR`
/// in `ngx_conf_log_error`): what is longer is cut there.
const ERRSTR: usize = 1024;

/// `message` as nginx prints it: at most [`ERRSTR`] bytes (a quoted
/// argument that swallowed half a file is cut, mid-word).
fn errstr(mut message: String) -> String {
    if message.len() > ERRSTR {
        let mut cut = ERRSTR;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    message
}

impl Walker<'_> {
    fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == "error")
    }

    fn error(&mut self, file: usize, offset: usize, message: String) {
        if self.stopped {
            return;
        }
        let f = &self.set.files[file];
        let (line, column) = f.doc().line_col(offset);
        // Paths are shown once per file, then copied.
        if self.file_names.len() <= file {
            self.file_names.resize(file + 1, None);
        }
        let name = self.file_names[file].get_or_insert_with(|| f.path.display().to_string());
        self.findings.push(Finding {
            file: name.clone(),
            line,
            column,
            severity: "error",
            message: errstr(message),
        });
    }

    /// The syntax error of `file`, where the walk reaches it: after the
    /// statements read before it (see `Document::parse_prefix`).
    pub(super) fn parse_error(&mut self, file: usize) {
        let Some(e) = self.set.files[file].doc().parse_error() else {
            return;
        };
        let message = e.message();
        let (line, column) = (e.line, e.column);
        if self.stopped {
            return;
        }
        if self.file_names.len() <= file {
            self.file_names.resize(file + 1, None);
        }
        let path = &self.set.files[file].path;
        let name = self.file_names[file].get_or_insert_with(|| path.display().to_string());
        self.findings.push(Finding {
            file: name.clone(),
            line,
            column,
            severity: "error",
            message,
        });
        self.stopped = true;
    }
}

/// A directive's arguments as nginx sees them.
fn args_of(d: Directive<'_>) -> Vec<String> {
    d.args().map(|a| a.text()).collect()
}

#[cfg(test)]
mod tests;

/// Arguments as a directive's checks take them, for unit tests.
#[cfg(test)]
fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}
