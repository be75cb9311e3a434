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

pub mod debian;
mod handlers;
mod listen;
mod locations;
mod machine;
mod networks;
mod ssl;
mod tcp;
mod upstreams;
mod variables;
mod zones;

pub use variables::builtin_names as builtin_http_variables;

use crate::directives::{
    BlockBody, Context, DirectiveSet, DirectiveSpec, ModuleKind, Source, Terminator, ValueRule,
};
use crate::document::{BodyKind, Directive, Item, Items};
use crate::includes::ConfigSet;

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
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            nginx_version: crate::directives::nginx_version(1, 22, 1),
            modules: Modules::Debian,
            allow_unknown: false,
            context: None,
            resolve: true,
        }
    }
}

/// Modules Debian's nginx 1.22 package builds as dynamic modules (each is
/// usable only after `load_module`), by the file that holds them.
fn shared_object(spec: &DirectiveSpec) -> Option<String> {
    let module = spec.module;
    if let Source::ThirdParty(_) = spec.source {
        return Some(module.replace("_core_module", "_module"));
    }
    const OWN_FILE: &[&str] = &[
        "ngx_http_geoip_module",
        "ngx_stream_geoip_module",
        "ngx_http_image_filter_module",
        "ngx_http_perl_module",
        "ngx_http_xslt_filter_module",
    ];
    if OWN_FILE.contains(&module) {
        Some(module.to_string())
    } else if module.starts_with("ngx_stream_") {
        Some("ngx_stream_module".into())
    } else if module.starts_with("ngx_mail_") {
        Some("ngx_mail_module".into())
    } else {
        None
    }
}

/// Modules of nginx's tree that Debian's package does not build at all.
const NOT_BUILT: &[&str] = &[
    "ngx_http_degradation_module",
    "ngx_google_perftools_module",
    "ngx_kqueue_module",
    "ngx_devpoll_module",
    "ngx_eventport_module",
    "ngx_iocp_module",
];

/// Checks every file of a loaded configuration, starting at its main file.
pub fn check_set(set: &ConfigSet, options: &CheckOptions) -> Vec<Finding> {
    let mut walker = Walker {
        set,
        options,
        directives: DirectiveSet::nginx(options.nginx_version).with_all_third_party(),
        loaded: Vec::new(),
        findings: Vec::new(),
        depth: 0,
        locations: Vec::new(),
        upstreams: Vec::new(),
        log_formats: vec!["combined".into()],
        from_main: false,
        blocks: Vec::new(),
        variables: None,
        module_cache: Default::default(),
        server_id: 0,
        http_listens: Default::default(),
        stream_listens: Default::default(),
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
    findings: Vec<Finding>,
    /// Include nesting, bounded against pathological include fan-out.
    depth: usize,
    /// The `location` blocks we are inside, innermost last.
    locations: Vec<Location>,
    /// Upstream blocks defined so far, as (module kind, lowercased name).
    upstreams: Vec<(bool, String)>,
    /// http `log_format` names defined so far, lowercased.
    log_formats: Vec<String>,
    /// Whether the walk starts at a whole nginx.conf (not a snippet).
    from_main: bool,
    /// For each open block, innermost last: the set-once fields filled so
    /// far, as (field key, directive name).
    blocks: Vec<Vec<(String, String)>>,
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

/// A `location`'s name as `ngx_http_core_location` records it.
#[derive(Debug, Clone)]
struct Location {
    name: String,
    exact: bool,
    named: bool,
    regex: bool,
}

impl Location {
    /// `location [=|~|~*|^~] name` or `location @name`; `Err` is nginx's
    /// message for a bad modifier.
    fn from_args(args: &[String]) -> Result<Location, String> {
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
    fn tree_kind(&self) -> locations::Kind {
        if self.regex || self.named {
            locations::Kind::Other
        } else if self.exact {
            locations::Kind::Exact
        } else {
            locations::Kind::Prefix
        }
    }

    /// `ngx_http_core_location`'s rules for a location inside `parent`.
    fn nested_in(&self, parent: &Location) -> Result<(), String> {
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

impl Walker<'_> {
    /// Whether the binary being modelled has the module of `spec`,
    /// remembered per module until the next `load_module`.
    fn has_module(&self, spec: &DirectiveSpec) -> bool {
        let mut cache = self.module_cache.borrow_mut();
        if let Some(&(_, has)) = cache.iter().find(|(m, _)| std::ptr::eq(*m, spec.module)) {
            return has;
        }
        let has = self.has_module_uncached(spec);
        cache.push((spec.module, has));
        has
    }

    fn has_module_uncached(&self, spec: &DirectiveSpec) -> bool {
        if NOT_BUILT.contains(&spec.module) {
            return false;
        }
        match (self.options.modules, shared_object(spec)) {
            (_, Some(so)) if matches!(spec.source, Source::ThirdParty(_)) => {
                self.loaded.contains(&so)
            }
            (Modules::All, _) | (Modules::Debian, None) => true,
            (Modules::Debian, Some(so)) => self.loaded.contains(&so),
        }
    }

    /// Whether the directives Debian's package backports exist: its own
    /// release with `--modules debian`.
    fn backports(&self) -> bool {
        self.options.modules == Modules::Debian
            && self.options.nginx_version == debian::UPSTREAM_VERSION
    }

    /// Whether the binary being modelled has one of nginx's own modules.
    fn has_module_named(&self, module: &str) -> bool {
        crate::directives::nginx_table()
            .iter()
            .find(|spec| spec.module == module)
            .map_or(!NOT_BUILT.contains(&module), |spec| self.has_module(spec))
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
            message,
        });
    }

    /// The first context in which every top-level directive of a file is
    /// allowed: `Main` for an `nginx.conf`, `Http` for a `conf.d` file of
    /// `server` blocks, and so on.
    fn guess_context(&self, items: Items<'_>) -> Context {
        const ORDER: [Context; 6] = [
            Context::Main,
            Context::Http,
            Context::HttpServer,
            Context::HttpLocation,
            Context::Stream,
            Context::StreamServer,
        ];
        let names: Vec<String> = items
            .filter_map(Item::into_directive)
            .map(|d| String::from_utf8_lossy(&d.name()).into_owned())
            .collect();
        ORDER
            .into_iter()
            .find(|&ctx| {
                names
                    .iter()
                    .all(|n| self.directives.candidates(n).any(|d| d.allowed_in(ctx)))
            })
            .unwrap_or(Context::Main)
    }

    /// Whether an `events` block is at the top level (or in a top-level
    /// include).
    fn saw_events(&self, file: usize, items: Items<'_>) -> bool {
        items.filter_map(Item::into_directive).any(|d| {
            d.is("events")
                || (d.is("include")
                    && self
                        .set
                        .include_targets(file, d.span().start)
                        .iter()
                        .any(|&t| self.saw_events(t, self.set.files[t].doc().items())))
        })
    }

    /// Checks a block's directives; returns how many `server` directives it
    /// holds (directly or through includes), for `upstream`.
    fn walk(&mut self, file: usize, items: Items<'_>, ctx: Context) -> usize {
        self.blocks.push(Vec::new());
        let servers = self.walk_items(file, items, ctx);
        self.blocks.pop();
        servers
    }

    /// The syntax error of `file`, where the walk reaches it: after the
    /// statements read before it (see `Document::parse_prefix`).
    fn parse_error(&mut self, file: usize) {
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

    /// Checks directives of the current block (a block's own, or an
    /// included file's).
    fn walk_items(&mut self, file: usize, items: Items<'_>, ctx: Context) -> usize {
        let mut servers = 0;
        for d in items.filter_map(Item::into_directive) {
            let raw_name = d.name();
            let name = String::from_utf8_lossy(&raw_name);
            if self.stopped {
                break;
            }
            if name == "server" {
                servers += 1;
            }
            servers += self.directive(file, d, &name, ctx);
            if d.cut_by_error() {
                self.parse_error(file);
            }
        }
        servers
    }

    /// Checks one directive; returns the `server` count of included files.
    fn directive(&mut self, file: usize, d: Directive<'_>, name: &str, ctx: Context) -> usize {
        let (term, at) = match d.body_kind() {
            BodyKind::None => (Terminator::Semicolon, d.span().end - 1),
            _ => (
                Terminator::BlockStart,
                d.open_brace().unwrap_or(d.span().start),
            ),
        };
        let directives = self.directives;
        let spec =
            match directives.check_with(name, ctx, d.arg_count(), term, |s| self.has_module(s)) {
                Ok(spec) => spec,
                Err(crate::directives::DirectiveError::Unknown { .. })
                    if self.backports() && debian::backport(name).is_some() =>
                {
                    // Upstream's entry, from the release that added it.
                    let since = debian::backport(name).map_or(0, |b| b.since);
                    let set = DirectiveSet::nginx(since);
                    match set.check_with(name, ctx, d.arg_count(), term, |s| s.name == name) {
                        Ok(spec) => spec,
                        Err(e) => {
                            self.error(file, at, e.to_string());
                            return 0;
                        }
                    }
                }
                Err(crate::directives::DirectiveError::Unknown { .. })
                    if self.options.allow_unknown =>
                {
                    return 0;
                }
                Err(e) => {
                    self.error(file, at, e.to_string());
                    return 0;
                }
            };
        if let Err(message) = self.handler_values(spec, d, name) {
            self.error(file, at, message);
            return 0;
        }
        if spec.on_off {
            if let Some(arg) = d.arg(0) {
                if let Err(e) = spec.check_flag_value(&arg.text()) {
                    self.error(file, at, e.to_string());
                    return 0;
                }
            }
        }
        // ngx_conf_set_enum_slot / ngx_conf_set_bitmask_slot, after their
        // duplicate check above.
        if spec.value_rule() != ValueRule::None {
            let args = args_of(d);
            let version = self.options.nginx_version;
            if let Err(e) = spec.check_values(args.iter().map(String::as_str), version) {
                self.error(file, at, e.to_string());
                return 0;
            }
        }
        let may_use_variables = || {
            variables::IMPLIED.iter().any(|(n, _)| *n == name)
                || d.args().any(|a| {
                    let raw = a.raw();
                    raw.contains(&b'$') || raw.windows(2).any(|w| w == b"(?")
                })
        };
        if let Some(vars) = self.variables.as_mut().filter(|_| may_use_variables()) {
            if spec.source == Source::Nginx {
                let args: Vec<(String, usize)> =
                    d.args().map(|a| (a.text(), a.span().start)).collect();
                vars.directive(file, name, &args);
            } else if name.starts_with("set_by_lua") {
                vars.define(&d.arg(0).map(|a| a.text()).unwrap_or_default());
            }
        }
        if name == "load_module" {
            if let Some(arg) = d.arg(0) {
                let path = arg.text();
                let stem = path.rsplit('/').next().unwrap_or(&path);
                self.loaded.push(stem.trim_end_matches(".so").to_string());
                self.module_cache.borrow_mut().clear();
            }
        }
        if name == "include" {
            return self.include(file, d, ctx);
        }
        match self.handler_rules(d, name, ctx, (file, at)) {
            Ok(()) => {}
            Err(Refusal::Here(message)) => {
                self.error(file, at, message);
                return 0;
            }
            Err(Refusal::At(file, at, message)) => {
                self.error(file, at, message);
                return 0;
            }
        }
        let kind = ctx.module_kind();
        if matches!(kind, ModuleKind::Http | ModuleKind::Stream) && zones::may_name_a_zone(name) {
            let stream = kind == ModuleKind::Stream;
            if let Err(message) = self.zones.directive(name, stream, &args_of(d), (file, at)) {
                self.error(file, at, message);
                return 0;
            }
        }
        // (most directives are none of these: no argument copies for them)
        let tls = name == "ssl" || name.starts_with("ssl_");
        match ctx {
            Context::Http | Context::HttpServer if !tls => {}
            Context::Http => {
                self.ssl.http.directive(name, &args_of(d), (file, at));
            }
            Context::HttpServer => {
                let id = self.server_id;
                self.ssl
                    .server(id, (file, at))
                    .directive(name, &args_of(d), (file, at));
            }
            Context::Stream => self.stream.top_directive(name, &args_of(d), (file, at)),
            Context::StreamServer => self.stream.stream_directive(name, &args_of(d), (file, at)),
            Context::Mail => self.mail.top_directive(name, &args_of(d), (file, at)),
            Context::MailServer => {
                let args = args_of(d);
                let port = (name == "listen")
                    .then(|| args.first())
                    .flatten()
                    .and_then(|url| listen::parse_url(url.as_bytes(), listen::LISTEN_NO_PORT).ok())
                    .map(|u| u.port);
                self.mail.mail_directive(name, &args, (file, at), port);
            }
            _ => {}
        }
        // Read by handler_rules above.
        let location = self.pending_location.take();
        match spec.block_body(ctx) {
            Some(BlockBody::Directives(inner)) => {
                if let Some(block) = d.block() {
                    let location =
                        location.filter(|_| name == "location" && inner == Context::HttpLocation);
                    let pushed = location.is_some();
                    let mut tree_node = None;
                    if let Some(loc) = location {
                        if let Some(&parent) = self.location_parents.last() {
                            let brace = (file, at);
                            let kind = loc.tree_kind();
                            tree_node =
                                Some(self.location_tree.location(parent, &loc.name, kind, brace));
                        }
                        self.locations.push(loc);
                    }
                    match inner {
                        Context::HttpServer => {
                            self.server_id += 1;
                            self.ssl.server(self.server_id, (file, at));
                            tree_node = Some(self.location_tree.server());
                        }
                        Context::Http => {
                            self.ssl = Default::default();
                            self.http_listens = Default::default();
                            self.location_tree = Default::default();
                            self.upstreams_by_name = Default::default();
                        }
                        Context::Stream => {
                            self.stream_listens = Default::default();
                            self.stream = Default::default();
                            self.stream_upstreams = Default::default();
                        }
                        Context::StreamServer => self.stream.open_server((file, at)),
                        Context::Mail => self.mail = Default::default(),
                        Context::MailServer => self.mail.open_server((file, at)),
                        Context::HttpUpstream | Context::StreamUpstream => {
                            self.upstream_backup = true;
                        }
                        _ => {}
                    }
                    if let Some(node) = tree_node {
                        self.location_parents.push(node);
                    }
                    let http = inner == Context::Http && self.from_main;
                    if http {
                        self.variables = Some(Default::default());
                    }
                    let servers = self.walk(file, block, inner);
                    if inner == Context::Http {
                        // ngx_http_block: the upstreams' init, the servers'
                        // merge, the location trees, the modules'
                        // postconfiguration, then the variables.
                        self.upstreams_init();
                        self.ssl_checks(true);
                        self.unknown_cache(file, d.span().end - 1);
                        self.duplicate_location();
                        self.ssl_checks(false);
                    }
                    if http {
                        self.unknown_variables();
                    }
                    self.tcp_checks(inner);
                    if tree_node.is_some() {
                        self.location_parents.pop();
                    }
                    if pushed {
                        self.locations.pop();
                    }
                    let is_upstream =
                        matches!(inner, Context::HttpUpstream | Context::StreamUpstream);
                    if is_upstream && servers == 0 {
                        // nginx says so when the block ends, at its `}`.
                        self.error(
                            file,
                            d.span().end - 1,
                            "no servers are inside upstream".into(),
                        );
                    }
                }
            }
            Some(BlockBody::Custom) => self.custom_body(file, d, name),
            Some(BlockBody::RawLua) | None => {}
        }
        0
    }

    /// The first checks of a set-handler: a field set twice in one block,
    /// a number, size or time that does not parse, an `if` condition.
    fn handler_values(
        &mut self,
        spec: &DirectiveSpec,
        d: Directive<'_>,
        name: &str,
    ) -> Result<(), String> {
        if handlers::set_once(spec.set) {
            let key = handlers::field_key(spec.set, name);
            if let Some(block) = self.blocks.last_mut() {
                if let Some((_, earlier)) = block.iter().find(|(k, _)| k == key) {
                    return Err(handlers::duplicate_message(name, earlier));
                }
                block.push((key.to_string(), name.to_string()));
            }
        }
        if handlers::has_slot_value(spec.set) {
            if let Err(e) = handlers::slot_value(spec.set, &args_of(d)) {
                return Err(format!("\"{name}\" directive {e}"));
            }
        }
        match spec.set {
            "ngx_http_rewrite_if" => handlers::if_condition(&args_of(d))?,
            "ngx_http_rewrite_return" => handlers::return_code(&args_of(d))?,
            "ngx_http_core_error_page" => handlers::error_page(&args_of(d))?,
            "ngx_conf_set_access_slot" => handlers::access(&args_of(d))?,
            "ngx_http_upstream_keepalive" => {
                handlers::keepalive(&args_of(d), spec.accepts_arg_count(2))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The checks some directives' own handlers make as they are read, in
    /// nginx's words: location nesting, duplicate upstreams, log formats,
    /// `listen` addresses, `proxy_pass` URLs.
    fn handler_rules(
        &mut self,
        d: Directive<'_>,
        name: &str,
        ctx: Context,
        here: (usize, usize),
    ) -> Result<(), Refusal> {
        match name {
            "listen" if ctx == Context::HttpServer => self.http_listen(&args_of(d))?,
            "user" if ctx == Context::Main && self.options.resolve => {
                machine::user_exists(&args_of(d))?;
            }
            "server" if ctx == Context::HttpUpstream => self.upstream_server(&args_of(d))?,
            // The balancing methods that drop NGX_HTTP_UPSTREAM_BACKUP.
            "hash" | "ip_hash" | "random" if ctx == Context::HttpUpstream => {
                self.upstream_backup = false;
            }
            "least_conn" if ctx == Context::HttpUpstream => self.upstream_backup = true,
            "listen" if ctx == Context::StreamServer => self.stream_listen(&args_of(d))?,
            "resolver" => {
                let lookup = |host: &str| self.resolver.resolves(host);
                let lookups: Option<&dyn Fn(&str) -> bool> =
                    self.options.resolve.then_some(&lookup);
                networks::resolver(&args_of(d), self.options.nginx_version, lookups)?;
            }
            "server" if ctx == Context::StreamUpstream => {
                self.stream_upstream_server(&args_of(d))?;
            }
            "hash" | "random" if ctx == Context::StreamUpstream => self.upstream_backup = false,
            "least_conn" if ctx == Context::StreamUpstream => self.upstream_backup = true,
            "proxy_pass" if ctx == Context::StreamServer => self.stream_proxy_pass(d, here)?,
            "proxy_pass" if ctx.module_kind() == crate::directives::ModuleKind::Http => {
                self.proxy_pass(d, ctx, here)?;
            }
            "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass" | "memcached_pass"
                if ctx.module_kind() == crate::directives::ModuleKind::Http =>
            {
                self.upstream_pass(d, name, here)?;
            }
            "location" if matches!(ctx, Context::HttpServer | Context::HttpLocation) => {
                let loc = Location::from_args(&args_of(d))?;
                if ctx == Context::HttpLocation {
                    if let Some(parent) = self.locations.last() {
                        loc.nested_in(parent)?;
                    }
                }
                self.pending_location = Some(loc);
            }
            "upstream" if d.body_kind() == BodyKind::Block => {
                let http = ctx.module_kind() == crate::directives::ModuleKind::Http;
                let key = (
                    http,
                    args_of(d)
                        .first()
                        .cloned()
                        .unwrap_or_default()
                        .to_ascii_lowercase(),
                );
                if self.upstreams.contains(&key) {
                    return Err(Refusal::Here(format!(
                        "duplicate upstream \"{}\"",
                        args_of(d).first().cloned().unwrap_or_default()
                    )));
                }
                let name = args_of(d).first().cloned().unwrap_or_default();
                let list = if http {
                    &mut self.upstreams_by_name
                } else {
                    &mut self.stream_upstreams
                };
                list.block(&name, here)
                    .map_err(|((file, at), message)| Refusal::At(file, at, message))?;
                self.upstreams.push(key);
            }
            "log_format" if ctx == Context::Http => {
                if let Some(n) = args_of(d).first() {
                    self.log_formats.push(n.to_ascii_lowercase());
                }
            }
            // A snippet's formats may come from the nginx.conf that includes
            // it: only a walk that starts at a main config knows them all.
            "access_log"
                if self.from_main && ctx.module_kind() == crate::directives::ModuleKind::Http =>
            {
                let args = args_of(d);
                if args.len() >= 2 && args[0] != "off" {
                    let format = &args[1];
                    if !self.log_formats.contains(&format.to_ascii_lowercase()) {
                        return Err(format!("unknown log format \"{format}\"").into());
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `ngx_http_core_listen`: the address, the parameters, then each
    /// address:port against the other servers' (`ngx_http_add_listen`).
    fn http_listen(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        let kind = listen::UrlKind {
            listen: true,
            uri_part: false,
            default_port: 80,
        };
        let u = listen::parse_url(url.as_bytes(), kind)
            .map_err(|e| format!("{e} in \"{url}\" of the \"listen\" directive"))?;
        // 1.25 added `quic`: parameters are checked up to 1.24.
        let params = if self.options.nginx_version < crate::directives::nginx_version(1, 25, 0) {
            listen::http_params(params)?
        } else {
            listen::HttpParams {
                ssl: params.iter().any(|p| p == "ssl"),
                ..Default::default()
            }
        };
        let Some(addr) = u.addr else {
            return Ok(());
        };
        for port in u.port..=u.last_port.max(u.port) {
            self.http_listens.add(self.server_id, &addr, port, params)?;
        }
        Ok(())
    }

    /// `ngx_http_upstream_server`: the parameters, then the address
    /// (host names are resolved by nginx: not checked).
    fn upstream_server(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        if self.options.nginx_version < crate::directives::nginx_version(1, 27, 3) {
            handlers::upstream_server(params, self.upstream_backup)?;
        }
        let kind = listen::UrlKind {
            listen: false,
            uri_part: false,
            default_port: 80,
        };
        let u = listen::parse_url(url.as_bytes(), kind)
            .map_err(|e| format!("{e} in upstream \"{url}\""))?;
        self.upstreams_by_name.server(params);
        // ngx_parse_url resolves the name right away (not with `resolve`).
        let later = params.iter().any(|p| p == "resolve");
        if self.options.resolve && !later && !u.host.is_empty() {
            let host = String::from_utf8_lossy(&u.host).into_owned();
            if !self.resolver.resolves(&host) {
                return Err(format!("host not found in upstream \"{url}\""));
            }
        }
        Ok(())
    }

    /// `ngx_stream_upstream_server`: the parameters, the address (looked
    /// up as it is read), which must have a port.
    fn stream_upstream_server(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        handlers::upstream_server(params, self.upstream_backup)?;
        let u = listen::parse_url(url.as_bytes(), listen::NO_PORT)
            .map_err(|e| format!("{e} in upstream \"{url}\""))?;
        if self.options.resolve && !u.host.is_empty() {
            let host = String::from_utf8_lossy(&u.host).into_owned();
            if !self.resolver.resolves(&host) {
                return Err(format!("host not found in upstream \"{url}\""));
            }
        }
        if u.no_port {
            return Err(format!("no port in upstream \"{url}\""));
        }
        self.stream_upstreams.server(params);
        Ok(())
    }

    /// `ngx_stream_proxy_pass` without variables: the address names an
    /// upstream block or makes one (checked once the block is read).
    fn stream_proxy_pass(&mut self, d: Directive<'_>, here: (usize, usize)) -> Result<(), String> {
        let Some(arg) = d.arg(0).filter(|a| !a.raw().contains(&b'$')) else {
            return Ok(());
        };
        let url: &[u8] = &arg.value();
        let u = listen::parse_url(url, listen::NO_PORT)
            .map_err(|e| format!("{e} in upstream \"{}\"", String::from_utf8_lossy(url)))?;
        if !u.host.is_empty() {
            let host = String::from_utf8_lossy(&u.host);
            self.stream_upstreams.pass(&host, u.port, u.no_port, here)?;
        }
        Ok(())
    }

    /// `ngx_stream_core_listen`: the address (no default port), the
    /// parameters, then each address:port against the block's others.
    fn stream_listen(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        let kind = listen::UrlKind {
            listen: true,
            uri_part: false,
            default_port: 0,
        };
        let u = listen::parse_url(url.as_bytes(), kind)
            .map_err(|e| format!("{e} in \"{url}\" of the \"listen\" directive"))?;
        let udp = listen::stream_params(params)?;
        let Some(addr) = u.addr else {
            return Ok(());
        };
        for port in u.port..=u.last_port.max(u.port) {
            self.stream_listens.add(udp, &addr, port)?;
        }
        Ok(())
    }

    /// After a whole http block: `ngx_http_ssl_merge_srv_conf`'s refusals
    /// (`merge`) or `ngx_http_ssl_init`'s. Not for a snippet, nor when an
    /// include did not resolve: the certificates may be elsewhere.
    fn ssl_checks(&mut self, merge: bool) {
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }

        let found = if merge {
            self.ssl.merge()
        } else {
            self.ssl.listen_init(&self.http_listens.ssl_addrs())
        };
        if let Some(((file, at), message)) = found {
            self.error(file, at, message);
        }
    }

    /// At the end of a stream or mail `server` (no `listen`), and after a
    /// whole stream or mail block: the merge functions' refusals, in
    /// module order (stream: core, upstream, ssl; mail: core, ssl,
    /// auth_http).
    fn tcp_checks(&mut self, inner: Context) {
        let found = match inner {
            Context::StreamServer => self.stream.close_server(),
            Context::MailServer => self.mail.close_server(),
            _ if !self.from_main || !self.set.unresolved.is_empty() => None,
            Context::Stream => {
                let no_handler = if self.options.allow_unknown {
                    None
                } else {
                    self.stream.stream_no_handler()
                };
                no_handler
                    .or_else(|| {
                        let lookups = self.options.resolve.then_some(&self.resolver);
                        std::mem::take(&mut self.stream_upstreams).init(true, lookups)
                    })
                    .or_else(|| self.stream.ssl_merge())
            }
            Context::Mail => self
                .mail
                .mail_no_protocol()
                .or_else(|| self.mail.ssl_merge())
                .or_else(|| self.mail.mail_no_auth_http()),
            _ => None,
        };
        if let Some(((file, at), message)) = found {
            self.error(file, at, message);
        }
    }

    /// After a whole http block, as the locations merge: a `*_cache` zone
    /// nothing declares, reported at the block's `}`.
    fn unknown_cache(&mut self, file: usize, close: usize) {
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }
        if let Some(message) = self.zones.unknown_cache() {
            self.error(file, close, message);
        }
    }

    /// After an http block (or a snippet): what nginx refuses as it sets
    /// the upstreams up.
    fn upstreams_init(&mut self) {
        // A snippet's `*_pass` names may be upstreams of the config that
        // includes it: only a whole config's are judged.
        let implicit = self.from_main;
        let lookups = implicit && self.options.resolve;
        let list = std::mem::take(&mut self.upstreams_by_name);
        if let Some(((file, at), message)) = list.init(implicit, lookups.then_some(&self.resolver))
        {
            self.error(file, at, message);
        }
    }

    /// `ngx_http_proxy_pass` for a URL without variables: its scheme, its
    /// address (`ngx_http_upstream_add`) and where a URI part may be.
    fn proxy_pass(
        &mut self,
        d: Directive<'_>,
        ctx: Context,
        here: (usize, usize),
    ) -> Result<(), String> {
        // An escape cannot make a `$`: the raw bytes tell.
        let Some(url) = d.arg(0).filter(|u| !u.raw().contains(&b'$')) else {
            return Ok(());
        };
        let b: &[u8] = &url.value();
        let (skip, port) = if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
            (7, 80)
        } else if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
            (8, 443)
        } else {
            return Err("invalid URL prefix".into());
        };
        let kind = listen::UrlKind {
            listen: false,
            uri_part: true,
            default_port: port,
        };
        let rest = b.get(skip..).unwrap_or_default();
        let u = listen::parse_url(rest, kind).map_err(|e| {
            let rest = String::from_utf8_lossy(rest);
            format!("{e} in upstream \"{rest}\"")
        })?;
        // `if` and `limit_except` blocks are locations without a name.
        let unnamed = matches!(ctx, Context::HttpLif | Context::HttpLmt);
        let regex_or_named = ctx == Context::HttpLocation
            && self.locations.last().is_some_and(|l| l.regex || l.named);
        if u.has_uri && (unnamed || regex_or_named) {
            return Err(
                "\"proxy_pass\" cannot have URI part in location given by regular \
                 expression, or inside named location, or inside \"if\" statement, or \
                 inside \"limit_except\" block"
                    .into(),
            );
        }
        if !u.host.is_empty() {
            // ngx_http_upstream_add: an upstream of that name, else a new
            // one resolved once the http block is read.
            let host = String::from_utf8_lossy(&u.host);
            self.upstreams_by_name
                .pass(&host, u.port, u.no_port, here)?;
        }
        Ok(())
    }

    /// `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass` and
    /// `memcached_pass` without variables: an address with no default port
    /// (after an optional `grpc://`, `uwsgi://` ... scheme) that names an
    /// upstream, as their handlers give it to `ngx_http_upstream_add`.
    fn upstream_pass(
        &mut self,
        d: Directive<'_>,
        name: &str,
        here: (usize, usize),
    ) -> Result<(), String> {
        let Some(arg) = d.arg(0).filter(|a| !a.raw().contains(&b'$')) else {
            return Ok(());
        };
        let value: &[u8] = &arg.value();
        let schemes: &[&[u8]] = match name {
            "grpc_pass" => &[b"grpc://", b"grpcs://"],
            "uwsgi_pass" => &[b"uwsgi://", b"suwsgi://"],
            _ => &[],
        };
        let skip = schemes
            .iter()
            .find(|s| value.len() >= s.len() && value[..s.len()].eq_ignore_ascii_case(s))
            .map_or(0, |s| s.len());
        let rest = &value[skip..];
        let kind = listen::UrlKind {
            listen: false,
            uri_part: false,
            default_port: 0,
        };
        let u = listen::parse_url(rest, kind)
            .map_err(|e| format!("{e} in upstream \"{}\"", String::from_utf8_lossy(rest)))?;
        if !u.host.is_empty() {
            let host = String::from_utf8_lossy(&u.host);
            self.upstreams_by_name
                .pass(&host, u.port, u.no_port, here)?;
        }
        Ok(())
    }

    /// Follows an include into the context of the `include` line.
    fn include(&mut self, file: usize, d: Directive<'_>, ctx: Context) -> usize {
        if self.depth > 64 {
            return 0;
        }
        self.depth += 1;
        let mut servers = 0;
        for &target in self.set.include_targets(file, d.span().start) {
            let doc = self.set.files[target].doc();
            if doc.mode() == crate::ParseMode::Directives {
                servers += self.walk_items(target, doc.items(), ctx);
                self.parse_error(target);
            }
        }
        self.depth -= 1;
        servers
    }

    /// After an `http` block (or a snippet): the first location nginx
    /// would call a duplicate.
    fn duplicate_location(&mut self) {
        if let Some((message, (file, offset))) = self.location_tree.take_duplicate() {
            self.error(file, offset, message);
        }
    }

    /// After an `http` block: the variables it uses that nothing defines.
    fn unknown_variables(&mut self) {
        let Some(vars) = self.variables.take() else {
            return;
        };
        let newer = self.options.nginx_version > crate::directives::nginx_version(1, 22, 1);
        let unknown = vars.unknown(|module| self.has_module_named(module), newer);
        for (file, offset, message) in unknown {
            self.error(file, offset, message);
        }
    }

    /// The checks of a `map`-like body's own handler.
    fn custom_body(&mut self, file: usize, d: Directive<'_>, name: &str) {
        if name == "geo" {
            let mut geo = networks::Geo::default();
            for entry in d.children() {
                let key = entry.name_token().text();
                if let Err(message) = geo.entry(&key, &args_of(entry)) {
                    self.error(file, entry.span().end - 1, message);
                    return;
                }
            }
        }
        if let Some(vars) = self.variables.as_mut() {
            for entry in d.children() {
                let key = entry.name_token().text();
                if name == "map" {
                    let value = entry.arg(0).map(|a| (a.text(), a.span().start));
                    vars.map_entry(file, &key, value.as_ref().map(|(t, o)| (t.as_str(), *o)));
                } else if name == "geoip2" {
                    vars.define(&key);
                }
            }
        }
        if name != "map" {
            return;
        }
        let mut has_default = false;
        for entry in d.children() {
            let end = entry.span().end - 1;
            let n = entry.arg_count() + 1;
            let key = entry.name();
            if n == 1 && (&*key == b"hostnames" || &*key == b"volatile") {
                continue;
            }
            if n != 2 {
                self.error(file, end, "invalid number of the map parameters".into());
                return;
            }
            if &*key == b"default" {
                if has_default {
                    self.error(file, end, "duplicate default map parameter".into());
                    return;
                }
                has_default = true;
            }
        }
    }
}

/// A directive's arguments as nginx sees them.
fn args_of(d: Directive<'_>) -> Vec<String> {
    d.args().map(|a| a.text()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::includes::ConfigSet;

    fn findings_with(src: &str, options: &CheckOptions) -> Vec<(usize, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, src).unwrap();
        let set = ConfigSet::load(&path, None).unwrap();
        check_set(&set, options)
            .into_iter()
            .map(|f| (f.line, f.message))
            .collect()
    }

    /// Findings without host lookups (the tests of lookups say so).
    fn findings(src: &str) -> Vec<(usize, String)> {
        let offline = CheckOptions {
            resolve: false,
            ..CheckOptions::default()
        };
        findings_with(src, &offline)
    }

    fn findings_resolving(src: &str) -> Vec<(usize, String)> {
        findings_with(src, &CheckOptions::default())
    }

    fn one(line: usize, message: &str) -> Vec<(usize, String)> {
        vec![(line, message.to_string())]
    }

    #[test]
    fn clean_config_has_no_findings() {
        assert_eq!(
            findings("events {}\nhttp {\n  upstream a { server 127.0.0.1:1; }\n  server { listen 80; location / { proxy_pass http://a; } }\n}\n"),
            vec![]
        );
    }

    #[test]
    fn handler_errors_in_nginx_words_at_the_terminator_line() {
        assert_eq!(
            findings("events {}\nhttp {\n  prox_pass x;\n}\n"),
            one(3, "unknown directive \"prox_pass\"")
        );
        assert_eq!(
            findings("events {}\nhttp {\n  proxy_pass\n    x;\n}\n"),
            one(4, "\"proxy_pass\" directive is not allowed here")
        );
        assert_eq!(
            findings("events {}\nhttp {\n  sendfile yes;\n}\n"),
            one(
                3,
                "invalid value \"yes\" in \"sendfile\" directive, it must be \"on\" or \"off\""
            )
        );
        assert_eq!(
            findings("events {}\nhttp {\n  server { listen; }\n}\n"),
            one(3, "invalid number of arguments in \"listen\" directive")
        );
        assert_eq!(
            findings("events {}\nhttp {\n  server;\n}\n"),
            one(3, "directive \"server\" has no opening \"{\"")
        );
    }

    #[test]
    fn enum_and_bitmask_values_after_the_duplicate_check() {
        let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
        assert_eq!(
            findings(&http("server_tokens bogus;")),
            one(3, "invalid value \"bogus\"")
        );
        assert_eq!(
            findings(&http("ssl_protocols TLSv1.2\n  TLSv1.4;")),
            one(4, "invalid value \"TLSv1.4\"")
        );
        assert_eq!(
            findings(&http("server_tokens off;\nserver_tokens bogus;")),
            one(4, "\"server_tokens\" directive is duplicate")
        );
        assert_eq!(
            findings(&http("proxy_next_upstream error timeout HTTP_502;\ngzip_proxied any;\nproxy_http_version 1.1;")),
            vec![]
        );
    }

    #[test]
    fn handler_values_of_return_error_page_and_keepalive() {
        let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
        assert_eq!(
            findings(&http("server { location / { return /x; } }")),
            one(3, "invalid return code \"/x\"")
        );
        assert_eq!(
            findings(&http("server { error_page 200 /x; }")),
            one(3, "value \"200\" must be between 300 and 599")
        );
        assert_eq!(
            findings(&http("upstream a { server 127.0.0.1:1; keepalive 0; }")),
            one(3, "invalid value \"0\" in \"keepalive\" directive")
        );
    }

    #[test]
    fn listen_addresses_across_servers() {
        let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
        assert_eq!(
            findings(&http(
                "server { listen 80 default_server; }\nserver { listen *:80 default; }"
            )),
            one(4, "a duplicate default server for 0.0.0.0:80")
        );
        assert_eq!(
            findings(&http("server { listen 8080; listen 80 spdy; }")),
            one(3, "invalid parameter \"spdy\"")
        );
        assert_eq!(
            findings(&http("server { listen 127.0.0.1:http; }")),
            one(
                3,
                "invalid port in \"127.0.0.1:http\" of the \"listen\" directive"
            )
        );
        // Host names need DNS; another http block starts afresh.
        assert_eq!(
            findings(&http(
                "server { listen localhost:80; listen localhost:80; }"
            )),
            vec![]
        );
        let newer = CheckOptions {
            nginx_version: crate::directives::nginx_version(1, 25, 1),
            ..CheckOptions::default()
        };
        assert_eq!(
            findings_with(&http("server { listen 443 quic; }"), &newer),
            vec![]
        );
    }

    #[test]
    fn upstream_servers_and_proxy_pass_urls() {
        let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
        assert_eq!(
            findings(&http("upstream a { ip_hash; server 127.0.0.1:1 backup; }")),
            one(3, "balancing method does not support parameter \"backup\"")
        );
        assert_eq!(
            findings(&http(
                "upstream a { server 127.0.0.1:1 backup; least_conn; server 127.0.0.1:2 backup; server 127.0.0.1:3; }"
            )),
            vec![]
        );
        assert_eq!(
            findings(&http("server { location ~ x { proxy_pass http://a/; } }")),
            one(
                3,
                "\"proxy_pass\" cannot have URI part in location given by regular expression, \
                 or inside named location, or inside \"if\" statement, or inside \
                 \"limit_except\" block"
            )
        );
        assert_eq!(
            findings(&http("server { location /x/ { proxy_pass http://a/y/; } location ~ y { proxy_pass http://$host/y; } }")),
            vec![]
        );
        assert_eq!(
            findings(&http("server { location / { proxy_pass a:1; } }")),
            one(3, "invalid URL prefix")
        );
    }

    #[test]
    fn duplicate_locations_after_the_http_block_before_variables() {
        let conf = "events {}\nhttp {\n server {\n  location /a { set $x $nope; }\n  location /a { }\n }\n}\n";
        assert_eq!(
            findings(conf),
            vec![
                (5, "duplicate location \"/a\"".to_string()),
                (4, "unknown \"nope\" variable".to_string())
            ]
        );
        // A snippet of locations shares one parent.
        assert_eq!(
            findings("location = /x { }\nlocation /x { }\nlocation = /x { }\n"),
            one(3, "duplicate location \"/x\"")
        );
    }

    #[test]
    fn upstream_map_and_events() {
        assert_eq!(
            findings("events {}\nhttp {\n  upstream a {\n  # server x;\n  }\n}\n"),
            one(5, "no servers are inside upstream")
        );
        assert_eq!(
            findings("events {}\nhttp {\n map $uri $b {\n default 1;\n default 2;\n }\n}\n"),
            one(5, "duplicate default map parameter")
        );
        assert_eq!(
            findings("events {}\nhttp {\n map $uri $b {\n a b c;\n }\n}\n"),
            one(4, "invalid number of the map parameters")
        );
        assert_eq!(
            findings("http {}\n"),
            one(1, "no \"events\" section in configuration")
        );
    }

    #[test]
    fn location_nesting_upstreams_and_log_formats() {
        let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
        assert_eq!(
            findings(&http("server {\n location /a {\n  location /b { }\n }\n}")),
            one(5, "location \"/b\" is outside location \"/a\"")
        );
        assert_eq!(
            findings(&http(
                "server {\n location = /a {\n  location /a/b { }\n }\n}"
            )),
            one(
                5,
                "location \"/a/b\" cannot be inside the exact location \"/a\""
            )
        );
        assert_eq!(
            findings(&http("server {\n location /a {\n  location @x { }\n }\n}")),
            one(5, "named location \"@x\" can be on the server level only")
        );
        assert_eq!(
            findings(&http(
                "server {\n location /a {\n  location ~ \\.php$ { }\n  location /a/b { }\n }\n}"
            )),
            vec![]
        );
        assert_eq!(
            findings(&http("server { location foo /a { } }")),
            one(3, "invalid location modifier \"foo\"")
        );
        assert_eq!(
            findings(&http(
                "upstream a { server x:1; }\nupstream A { server x:2; }"
            )),
            one(4, "duplicate upstream \"A\"")
        );
        assert_eq!(
            findings(&http("access_log /x main;\nlog_format main $remote_addr;\naccess_log /y main;\naccess_log /z combined;")),
            one(3, "unknown log format \"main\"")
        );
    }

    #[test]
    fn upstream_names_and_host_lookups_as_nginx_t() {
        let http = |body: &str| format!("events {{}}\nhttp {{\n{body}\n}}\n");
        // a name no upstream block has is looked up once the block is read
        assert_eq!(
            findings_resolving(&http(
                "server {\n location / { proxy_pass http://nope.invalid; }\n}"
            )),
            one(4, "host not found in upstream \"nope.invalid\"")
        );
        // a block defined after it is found, in any case
        assert_eq!(
            findings_resolving(&http("server { location / { proxy_pass http://App; } }\nupstream app { server 127.0.0.1:1; }")),
            vec![]
        );
        // a port on a name that is an upstream block, in either order
        assert_eq!(
            findings_resolving(&http("upstream app { server 127.0.0.1:1; }\nserver { location / {\n proxy_pass http://app:80; } }")),
            one(5, "upstream \"app\" may not have port 80")
        );
        assert_eq!(
            findings_resolving(&http("server { location / {\n proxy_pass http://app:8080; } }\nupstream app { server 127.0.0.1:1; }")),
            one(4, "upstream \"app\" may not have port 8080")
        );
        // the other *_pass: an address without a default port
        assert_eq!(
            findings(&http("server { location / {\n fastcgi_pass php; } }")),
            one(4, "no port in upstream \"php\"")
        );
        assert_eq!(
            findings(&http("server { location / { grpc_pass grpc://app; uwsgi_pass unix:/x.sock; } }\nupstream app { server 127.0.0.1:1; }")),
            vec![]
        );
        assert_eq!(
            findings(&http("server { location / { fastcgi_pass http://x:1; } }")),
            one(3, "invalid host in upstream \"http://x:1\"")
        );
        // only backup servers: found when the upstreams are set up
        assert_eq!(
            findings(&http("upstream a {\n server 127.0.0.1:1 backup;\n}\nupstream b { server 127.0.0.1:2; server 127.0.0.1:3 backup; }")),
            one(3, "no servers in upstream \"a\"")
        );
        // an upstream server's name is looked up as it is read
        assert_eq!(
            findings_resolving(&http(
                "upstream app {\n server localhost:1;\n server nope.invalid:2;\n}"
            )),
            one(5, "host not found in upstream \"nope.invalid:2\"")
        );
        let offline = CheckOptions {
            resolve: false,
            ..CheckOptions::default()
        };
        assert_eq!(
            findings_with(&http("upstream a { server nope.invalid; }\nserver { location / { proxy_pass http://nope2.invalid; } }"), &offline),
            vec![]
        );
        // a snippet's upstreams may be in the config that includes it
        assert_eq!(
            findings("location / { proxy_pass http://backend.invalid; }\n"),
            vec![]
        );
    }

    #[test]
    fn a_snippet_may_use_formats_of_the_main_config() {
        assert_eq!(findings("server {\n  access_log /x main;\n}\n"), vec![]);
    }

    #[test]
    fn events_may_sit_in_an_include_that_does_not_resolve() {
        assert_eq!(
            findings("include /nonexistent/events.conf;\nhttp {}\n"),
            vec![]
        );
    }

    #[test]
    fn stream_needs_load_module_on_debian() {
        let conf = "events {}\nstream {\n  server { listen 1234; proxy_pass 127.0.0.1:1; }\n}\n";
        assert_eq!(findings(conf), one(2, "unknown directive \"stream\""));
        let loaded = format!("load_module modules/ngx_stream_module.so;\n{conf}");
        assert_eq!(findings(&loaded), vec![]);
        let all = CheckOptions {
            modules: Modules::All,
            ..CheckOptions::default()
        };
        assert_eq!(findings_with(conf, &all), vec![]);
    }

    #[test]
    fn snippets_get_their_context_guessed() {
        assert_eq!(
            findings("server { listen 80; location / { return 204; } }\n"),
            vec![]
        );
        assert_eq!(findings("location / { proxy_pass http://a; }\n"), vec![]);
        assert_eq!(findings("proxy_set_header Host $host;\n"), vec![]);
    }

    #[test]
    fn lua_is_unknown_unless_loaded_or_allowed() {
        let conf = "events {}\nhttp {\n server { location / { content_by_lua_block { ngx.say(\"}\") } } }\n}\n";
        assert_eq!(
            findings(conf),
            one(3, "unknown directive \"content_by_lua_block\"")
        );
        let allowed = CheckOptions {
            allow_unknown: true,
            ..CheckOptions::default()
        };
        assert_eq!(findings_with(conf, &allowed), vec![]);
        let loaded = format!("load_module modules/ngx_http_lua_module.so;\n{conf}");
        assert_eq!(findings(&loaded), vec![]);
    }
}
