//! The walk itself, as `ngx_conf_parse` reads a configuration: block by
//! block, directive by directive, following includes into the context of
//! the `include` line; each directive through `ngx_conf_handler`'s rules,
//! then its handler's own checks (`rules`), then its block.

use super::{
    args_of, debian, directive_args, handlers, networks, url, variables, zones, Refusal, Walker,
};
use crate::directives::{
    BlockBody, Context, DirectiveSet, DirectiveSpec, ModuleKind, Source, Terminator, ValueRule,
};
use crate::document::{BodyKind, Directive, Item, Items};

impl Walker<'_> {
    /// The first context in which every top-level directive of a file is
    /// allowed: `Main` for an `nginx.conf`, `Http` for a `conf.d` file of
    /// `server` blocks, and so on.
    pub(super) fn guess_context(&self, items: Items<'_>) -> Context {
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
    pub(super) fn saw_events(&self, file: usize, items: Items<'_>) -> bool {
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
    pub(super) fn walk(&mut self, file: usize, items: Items<'_>, ctx: Context) -> usize {
        self.blocks.push(Vec::new());
        let servers = self.walk_items(file, items, ctx);
        self.blocks.pop();
        servers
    }

    /// Checks directives of the current block (a block's own, or an
    /// included file's).
    pub(super) fn walk_items(&mut self, file: usize, items: Items<'_>, ctx: Context) -> usize {
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
    pub(super) fn directive(
        &mut self,
        file: usize,
        d: Directive<'_>,
        name: &str,
        ctx: Context,
    ) -> usize {
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
                if let Err(message) = vars.directive(file, name, &args) {
                    self.error(file, at, message);
                    return 0;
                }
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
        if kind == ModuleKind::Http && (name.ends_with("_pass") || name.contains("_ssl_")) {
            self.upstream_tls.directive(name, &args_of(d), (file, at));
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
                    .and_then(|url| url::parse_url(url.as_bytes(), url::LISTEN_NO_PORT).ok())
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
                    let tls_level = matches!(
                        inner,
                        Context::Http
                            | Context::HttpServer
                            | Context::HttpLocation
                            | Context::HttpLif
                            | Context::HttpLmt
                    );
                    if tls_level {
                        self.upstream_tls.open();
                    }
                    let servers = self.walk(file, block, inner);
                    if tls_level && !d.cut_by_error() {
                        self.upstream_tls.close();
                    }
                    if inner == Context::Http {
                        // ngx_http_block: the upstreams' init, the servers'
                        // merge, the location trees, the modules'
                        // postconfiguration, then the variables.
                        self.upstreams_init();
                        self.ssl_checks(true);
                        self.unknown_cache(file, d.span().end - 1);
                        self.upstream_tls_checks();
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
    pub(super) fn handler_values(
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
        if directive_args::handles(spec.set, name) {
            directive_args::check(spec.set, name, &args_of(d))?;
        }
        Ok(())
    }

    /// Follows an include into the context of the `include` line.
    pub(super) fn include(&mut self, file: usize, d: Directive<'_>, ctx: Context) -> usize {
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

    /// The checks of a `map`-like body's own handler.
    pub(super) fn custom_body(&mut self, file: usize, d: Directive<'_>, name: &str) {
        if name == "split_clients" {
            let entries: Vec<_> = d.children().collect();
            let keys: Vec<String> = entries.iter().map(|e| e.name_token().text()).collect();
            if let Err((i, message)) =
                directive_args::split_clients(keys.iter().map(String::as_str))
            {
                let at = match i.and_then(|i| entries.get(i)) {
                    Some(e) => e.span().end - 1,
                    None => d.span().end - 1,
                };
                self.error(file, at, message);
                return;
            }
        }
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
                    let value = value.as_ref().map(|(t, o)| (t.as_str(), *o));
                    if let Err(message) = vars.map_entry(file, &key, value) {
                        let at = entry.span().end - 1;
                        self.error(file, at, message);
                        return;
                    }
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
