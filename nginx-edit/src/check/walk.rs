//! The walk itself, as `ngx_conf_parse` reads a configuration: block by
//! block, directive by directive, following includes into the context of
//! the `include` line; each directive through `ngx_conf_handler`'s rules,
//! then its set-handler's checks (`handler_values`) and its module's own
//! (`rules`), then its block.

use super::lazy_args::LazyArgs;
use super::{debian, variables, Refusal, Walker};
use crate::directives::{
    BlockBody, Context, DirectiveSet, ModuleKind, Source, Terminator, ValueRule,
};
use crate::document::{BodyKind, Directive, Item, Items};

impl<'a> Walker<'a> {
    /// Checks a block's directives; returns how many `server` directives it
    /// holds (directly or through includes), for `upstream`.
    pub(super) fn walk(&mut self, file: usize, items: Items<'a>, ctx: Context) -> usize {
        self.blocks.push(Vec::new());
        self.referers_open();
        self.charsets.open(ctx);
        let servers = self.walk_items(file, items, ctx);
        self.blocks.pop();
        self.referers_close(ctx);
        self.charsets.close(ctx);
        servers
    }

    /// Checks directives of the current block (a block's own, or an
    /// included file's).
    pub(super) fn walk_items(&mut self, file: usize, items: Items<'a>, ctx: Context) -> usize {
        let mut servers = 0;
        for d in items.filter_map(Item::into_directive) {
            let raw_name = d.name();
            let name = crate::lex::as_text(&raw_name);
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
        d: Directive<'a>,
        name: &str,
        ctx: Context,
    ) -> usize {
        let args = LazyArgs::new(d, self.arg_buffers.take());
        let servers = self.directive_with(file, d, name, ctx, &args);
        self.arg_buffers.give_back(args.into_buffers());
        servers
    }

    /// [`directive`](Self::directive), its arguments read (when a check
    /// needs them) into the walk's reused buffers.
    fn directive_with(
        &mut self,
        file: usize,
        d: Directive<'a>,
        name: &str,
        ctx: Context,
        args: &LazyArgs<'_>,
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
        if ctx == Context::Main || name == "error_log" {
            if let Err(message) = self.main_handlers(spec, args.get(), (file, at)) {
                self.error(file, at, message);
                return 0;
            }
        }
        if let Err(message) = self.handler_values(spec, name, args) {
            self.error(file, at, message);
            return 0;
        }
        if spec.on_off {
            if let Some(arg) = args.get().first() {
                if let Err(e) = spec.check_flag_value(arg) {
                    self.error(file, at, e.to_string());
                    return 0;
                }
            }
        }
        // ngx_conf_set_enum_slot / ngx_conf_set_bitmask_slot, after their
        // duplicate check above.
        if spec.value_rule() != ValueRule::None {
            let version = self.options.nginx_version;
            if let Err(e) = spec.check_values(args.get().iter().map(String::as_str), version) {
                self.error(file, at, e.to_string());
                return 0;
            }
        }
        // A cheap first test on the header's bytes, before any argument is
        // read (a `$` or `(?` in a comment among them only costs the read).
        let may_use_variables = || {
            let header = &d.document().as_bytes()[d.header_span()];
            variables::IMPLIED.iter().any(|(n, _)| *n == name)
                || memchr::memchr(b'$', header).is_some()
                || memchr::memchr_iter(b'(', header).any(|i| header.get(i + 1) == Some(&b'?'))
        };
        if self.variables.is_some() && may_use_variables() {
            if spec.source == Source::Nginx {
                let Some(vars) = self.variables.as_mut() else {
                    return 0;
                };
                let http_level = ctx == Context::Http;
                let texts: Vec<_> = args
                    .get()
                    .iter()
                    .map(|t| std::borrow::Cow::Borrowed(t.as_str()))
                    .zip(d.arg_offsets())
                    .collect();
                if let Err(message) = vars.directive(file, (spec.set, name), &texts, http_level) {
                    self.error(file, at, message);
                    return 0;
                }
            } else if let Some(vars) = self.variables.as_mut() {
                if name.starts_with("set_by_lua") || name == "js_set" || name == "js_var" {
                    vars.define(&d.arg(0).map(|a| a.text()).unwrap_or_default());
                }
            }
        }
        if ctx.module_kind() == ModuleKind::Stream {
            if let Err(message) = self.stream_variables_of(file, d, name, ctx) {
                self.error(file, at, message);
                return 0;
            }
        }
        if name == "load_module" {
            if let Err(message) = self.load_module(d) {
                self.error(file, at, message);
                return 0;
            }
        }
        if ctx == Context::HttpServer && (name == "listen" || name == "server_name") {
            let id = self.server_id;
            if name == "listen" {
                self.server_names.listen(id);
            } else {
                self.server_names.names(id, args.get());
            }
        }
        if name.ends_with("_hash_bucket_size") || name.ends_with("_hash_max_size") {
            if let Some(n) = d
                .arg(0)
                .and_then(|a| super::numbers::atoi(a.text().as_bytes()))
            {
                self.hash_buckets.push((name.to_string(), n));
            }
        }
        if name == "include" {
            return self.include(file, d, ctx);
        }
        match self.handler_rules(d, args, name, ctx, (file, at)) {
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
        let facts = self.facts.get(spec);
        if matches!(
            kind,
            ModuleKind::Http | ModuleKind::Stream | ModuleKind::Mail
        ) && facts.zone
        {
            let stream = kind == ModuleKind::Stream;
            let named = if kind == ModuleKind::Mail {
                self.zones.mail_directive(name, args.get(), (file, at))
            } else {
                self.zones.directive(name, stream, args.get(), (file, at))
            };
            if let Err(message) = named {
                self.error(file, at, message);
                return 0;
            }
        }
        if kind == ModuleKind::Http && facts.upstream_tls {
            self.upstream_tls.directive(name, args.get(), (file, at));
        }
        if kind == ModuleKind::Http && facts.buffers {
            self.buffers.directive(name, args.get());
        }
        if kind == ModuleKind::Http && super::header_hashes::HeaderHashes::reads(name) {
            self.header_hashes.directive(name, args.get());
        }
        // (most directives are none of these: no argument copies for them)
        let tls = name == "ssl" || name.starts_with("ssl_");
        match ctx {
            Context::Http | Context::HttpServer if !tls => {}
            Context::Http => {
                self.ssl.http.directive(name, args.get(), (file, at));
            }
            Context::HttpServer => {
                let id = self.server_id;
                self.ssl
                    .server(id, (file, at))
                    .directive(name, args.get(), (file, at));
            }
            Context::Stream | Context::StreamServer | Context::Mail | Context::MailServer => {
                if let Err(message) = self.tcp_directive(ctx, name, args.get(), (file, at)) {
                    self.error(file, at, message);
                    return 0;
                }
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
                    // ngx_count_modules, as each of these blocks starts
                    self.modules_used |= matches!(
                        inner,
                        Context::Event | Context::Http | Context::Stream | Context::Mail
                    );
                    match inner {
                        Context::HttpServer => {
                            if let Some(vars) = self.variables.as_mut() {
                                vars.server();
                            }
                            self.server_id += 1;
                            self.server_names.server(self.server_id);
                            self.ssl.server(self.server_id, (file, at));
                            tree_node = Some(self.location_tree.server());
                        }
                        Context::Http => {
                            self.paths.open_http(self.server_id);
                            self.hash_buckets.clear();
                            self.server_names = Default::default();
                            self.ssl = Default::default();
                            self.http_listens = Default::default();
                            self.location_tree = Default::default();
                            self.upstreams_by_name = Default::default();
                        }
                        Context::Stream => {
                            self.stream_variables = self.from_main.then(Default::default);
                            self.hash_buckets.clear();
                            self.stream_listens = Default::default();
                            self.stream = Default::default();
                            self.stream_upstreams = Default::default();
                        }
                        Context::StreamServer => self.stream.open_server((file, at)),
                        Context::Mail => {
                            self.mail = Default::default();
                            self.mail_listens = Default::default();
                        }
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
                    let merged_level = tls_level || inner == Context::HttpSif;
                    if merged_level {
                        self.buffers.open();
                        self.header_hashes.open(inner == Context::HttpServer);
                    }
                    let servers = self.walk(file, block, inner);
                    if d.cut_by_error() {
                        // The syntax error ends the block: nginx stops
                        // there, before the block's own end checks.
                        self.parse_error(file);
                    }
                    if tls_level && !d.cut_by_error() {
                        self.upstream_tls.close();
                    }
                    if merged_level && !d.cut_by_error() {
                        self.buffers.close(inner != Context::Http);
                        self.header_hashes.close(inner != Context::Http);
                    }
                    if inner == Context::Http {
                        // ngx_http_block: the upstreams' init, the servers'
                        // merge, the location trees, the modules'
                        // postconfiguration, then the variables.
                        self.types_hash((file, d.span().end - 1));
                        self.upstreams_init();
                        self.default_temp_paths(file, d.span().end - 1);
                        self.referers_merge((file, d.span().end - 1));
                        self.ssl_checks(true);
                        self.buffer_checks(file, d.span().end - 1);
                        self.unknown_cache(file, d.span().end - 1, servers > 0);
                        self.upstream_tls_checks();
                        self.duplicate_location();
                        self.ssl_checks(false);
                        self.charset_checks((file, d.span().end - 1));
                    }
                    if http {
                        self.unknown_variables(file, d.span().end - 1);
                        self.server_names_hash(file, d.span().end - 1);
                    }
                    self.tcp_checks(inner, (file, d.span().end - 1));
                    self.unknown_stream_variables(inner, (file, d.span().end - 1));
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
            Some(BlockBody::Custom) => self.custom_body(file, d, name, ctx),
            Some(BlockBody::RawLua) | None => {}
        }
        0
    }

    /// Follows an include into the context of the `include` line.
    pub(super) fn include(&mut self, file: usize, d: Directive<'a>, ctx: Context) -> usize {
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
}
