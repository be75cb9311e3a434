//! The checks some directives' own handlers make as nginx reads them:
//! `listen` addresses and parameters, upstream `server`s, `proxy_pass`
//! and the other `*_pass` URLs, `location` nesting, `upstream` names, log
//! formats, `resolver`, the `user`.

use super::lazy_args::LazyArgs;
use super::locations::Location;
use super::{
    access_log, listen, log_format, machine, networks, syslog, upstream_args, url, Refusal, Walker,
};
use crate::directives::{Context, ModuleKind};
use crate::document::{BodyKind, Directive};

impl Walker<'_> {
    /// The checks some directives' own handlers make as they are read, in
    /// nginx's words: location nesting, duplicate upstreams, log formats,
    /// `listen` addresses, `proxy_pass` URLs.
    pub(super) fn handler_rules(
        &mut self,
        d: Directive<'_>,
        lazy_args: &LazyArgs<'_>,
        name: &str,
        ctx: Context,
        here: (usize, usize),
    ) -> Result<(), Refusal> {
        match name {
            "listen" if ctx == Context::HttpServer => self.http_listen(lazy_args.get())?,
            "alias" if self.locations.last().is_some_and(|l| l.named) => {
                return Err(
                    "the \"alias\" directive cannot be used inside the named location"
                        .to_string()
                        .into(),
                );
            }
            "aio" if ctx.module_kind() == ModuleKind::Http => self.aio_pool(lazy_args.get(), here),
            // ngx_http_core_root, after its duplicate and named checks
            "root" | "alias" if ctx.module_kind() == ModuleKind::Http => {
                if let Some(path) = d.arg(0).map(|a| a.text()) {
                    for var in ["document_root", "realpath_root"] {
                        if path.contains(&format!("${var}"))
                            || path.contains(&format!("${{{var}}}"))
                        {
                            return Err(format!(
                                "the ${var} variable cannot be used in the \"{name}\" directive"
                            )
                            .into());
                        }
                    }
                }
            }
            "charset" | "source_charset" | "charset_map"
                if ctx.module_kind() == ModuleKind::Http =>
            {
                self.charsets.directive(name, lazy_args.get())?;
            }
            "worker_connections" if ctx == Context::Event => {
                let n = d
                    .arg(0)
                    .and_then(|a| super::numbers::atoi(a.text().as_bytes()));
                if let Some(n) = n.and_then(|n| usize::try_from(n).ok()) {
                    self.worker_connections = Some((here, n));
                }
            }
            "user" if ctx == Context::Main && self.options.resolve => {
                machine::user_exists(lazy_args.get())?;
            }
            "server" if ctx == Context::HttpUpstream => self.upstream_server(lazy_args.get())?,
            // The balancing methods that drop NGX_HTTP_UPSTREAM_BACKUP.
            "hash" | "ip_hash" | "random" if ctx == Context::HttpUpstream => {
                upstream_args::balancer(name, lazy_args.get())?;
                self.upstream_backup = false;
            }
            "least_conn" if ctx == Context::HttpUpstream => self.upstream_backup = true,
            "listen" if ctx == Context::StreamServer => self.stream_listen(lazy_args.get())?,
            "listen" if ctx == Context::MailServer => self.mail_listen(lazy_args.get())?,
            // ngx_mail_core_resolver: `off` is no resolver.
            "resolver"
                if ctx.module_kind() == ModuleKind::Mail
                    && d.arg(0).is_some_and(|a| a.text() == "off") => {}
            "auth_http" => self.auth_http(lazy_args.get())?,
            "proxy_bind" | "fastcgi_bind" | "uwsgi_bind" | "scgi_bind" | "memcached_bind"
            | "grpc_bind" => upstream_args::bind(lazy_args.get())?,
            "set_real_ip_from" | "debug_connection" => self.real_ip_from(name, lazy_args.get())?,
            "resolver" => {
                let lookup = |host: &str| self.resolver.resolves(host);
                let lookups: Option<&dyn Fn(&str) -> bool> =
                    self.options.resolve.then_some(&lookup);
                networks::resolver(lazy_args.get(), self.options.nginx_version, lookups)?;
            }
            "server" if ctx == Context::StreamUpstream => {
                self.stream_upstream_server(lazy_args.get())?;
            }
            "hash" | "random" if ctx == Context::StreamUpstream => {
                upstream_args::balancer(name, lazy_args.get())?;
                self.upstream_backup = false;
            }
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
                let loc = Location::from_args(lazy_args.get())?;
                if ctx == Context::HttpLocation {
                    if let Some(parent) = self.locations.last() {
                        loc.nested_in(parent)?;
                    }
                }
                self.pending_location = Some(loc);
            }
            "upstream" if d.body_kind() == BodyKind::Block => {
                let http = ctx.module_kind() == crate::directives::ModuleKind::Http;
                let name = lazy_args.get().first().cloned().unwrap_or_default();
                let key = (http, name.to_ascii_lowercase());
                if self.upstreams.contains(&key) {
                    return Err(Refusal::Here(format!("duplicate upstream \"{name}\"")));
                }
                let list = if http {
                    &mut self.upstreams_by_name
                } else {
                    &mut self.stream_upstreams
                };
                list.block(&name, here)
                    .map_err(|((file, at), message)| Refusal::At(file, at, message))?;
                self.upstreams.insert(key);
            }
            n if ctx.module_kind() == ModuleKind::Http
                && (n.ends_with("_cache_path") || n.ends_with("_temp_path")) =>
            {
                self.named_path(d, name, ctx, here)?;
            }
            "valid_referers" if ctx.module_kind() == ModuleKind::Http => {
                self.valid_referers(d, here);
            }
            "referer_hash_max_size" | "referer_hash_bucket_size" => {
                self.referer_hash_size(name, d);
            }
            "log_format" if matches!(ctx, Context::Http | Context::Stream) => {
                let formats = if ctx == Context::Http {
                    &mut self.log_formats
                } else {
                    &mut self.stream_log_formats
                };
                if let Some(n) = lazy_args.get().first() {
                    // ngx_http_log_set_format compares names exactly
                    // (`combined` is predefined); access_log, ignoring case.
                    if formats.contains(n) {
                        return Err(format!("duplicate \"log_format\" name \"{n}\"").into());
                    }
                    formats.push(n.clone());
                }
                log_format::compile(lazy_args.get().get(1..).unwrap_or_default())?;
            }
            "access_log" if matches!(ctx.module_kind(), ModuleKind::Http | ModuleKind::Stream) => {
                let stream = ctx.module_kind() == ModuleKind::Stream;
                let formats = if stream {
                    &self.stream_log_formats
                } else {
                    &self.log_formats
                };
                let known = |f: &str| formats.iter().any(|n| n.eq_ignore_ascii_case(f));
                // A snippet's formats may come from the nginx.conf that
                // includes it: only a walk that starts at a main config
                // knows them all.
                let known: Option<&dyn Fn(&str) -> bool> = self.from_main.then_some(&known);
                let args = lazy_args.get();
                if let Some(dest) = args.first().filter(|a| a.starts_with("syslog:")) {
                    let lookup = |host: &str| self.resolver.resolves(host);
                    let lookups: Option<&dyn Fn(&str) -> bool> =
                        self.options.resolve.then_some(&lookup);
                    syslog::syslog(dest, lookups)?;
                }
                let prefix = &self.options.nginx_prefix;
                access_log::check(args, stream, known, prefix, &mut self.log_buffers)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `ngx_http_core_listen`: the address, the parameters, then each
    /// address:port against the other servers' (`ngx_http_add_listen`).
    pub(super) fn http_listen(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        let kind = url::UrlKind {
            listen: true,
            uri_part: false,
            default_port: 80,
        };
        let u = url::parse_url(url.as_bytes(), kind)
            .map_err(|e| format!("{e} in \"{url}\" of the \"listen\" directive"))?;
        let addrs = self.listen_addrs(url, &u)?;
        // 1.25 added `quic`: parameters are checked up to 1.24.
        let params = if self.options.nginx_version < crate::directives::nginx_version(1, 25, 0) {
            listen::http_params(params)?
        } else {
            listen::HttpParams {
                ssl: params.iter().any(|p| p == "ssl"),
                ..Default::default()
            }
        };
        for addr in &addrs {
            for port in u.port..=u.last_port.max(u.port) {
                self.http_listens.add(self.server_id, addr, port, params)?;
            }
        }
        Ok(())
    }

    /// `ngx_http_upstream_server`: the parameters, then the address
    /// (host names are resolved by nginx: not checked).
    pub(super) fn upstream_server(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        if self.options.nginx_version < crate::directives::nginx_version(1, 27, 3) {
            upstream_args::upstream_server(params, self.upstream_backup)?;
        }
        let kind = url::UrlKind {
            listen: false,
            uri_part: false,
            default_port: 80,
        };
        let u = url::parse_url(url.as_bytes(), kind)
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
    pub(super) fn stream_upstream_server(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        upstream_args::upstream_server(params, self.upstream_backup)?;
        let u = url::parse_url(url.as_bytes(), url::NO_PORT)
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
    pub(super) fn stream_proxy_pass(
        &mut self,
        d: Directive<'_>,
        here: (usize, usize),
    ) -> Result<(), String> {
        let Some(arg) = d.arg(0).filter(|a| !a.raw().contains(&b'$')) else {
            return Ok(());
        };
        let url: &[u8] = &arg.value();
        let u = url::parse_url(url, url::NO_PORT)
            .map_err(|e| format!("{e} in upstream \"{}\"", String::from_utf8_lossy(url)))?;
        if let Some((host, literal)) = u.upstream_host() {
            self.stream_upstreams
                .pass((&host, literal), u.port, u.no_port, here)?;
        }
        Ok(())
    }

    /// `ngx_mail_auth_http`: an `http://` URL (the scheme may be left
    /// out), its host looked up as it is read.
    fn auth_http(&self, args: &[String]) -> Result<(), String> {
        let Some(url) = args.first() else {
            return Ok(());
        };
        let url = url.strip_prefix("http://").unwrap_or(url);
        let kind = url::UrlKind {
            listen: false,
            uri_part: true,
            default_port: 80,
        };
        let u = url::parse_url(url.as_bytes(), kind)
            .map_err(|e| format!("{e} in auth_http \"{url}\""))?;
        let host = String::from_utf8_lossy(&u.host);
        if self.options.resolve && !host.is_empty() && !self.resolver.resolves(&host) {
            return Err(format!("host not found in auth_http \"{url}\""));
        }
        Ok(())
    }

    /// `set_real_ip_from` (http, stream and mail realip) and
    /// `debug_connection`: `unix:`, a network, else a host name looked up
    /// as it is read.
    fn real_ip_from(&self, name: &str, args: &[String]) -> Result<(), String> {
        let Some(from) = args.first() else {
            return Ok(());
        };
        if !self.options.resolve || from == "unix:" || networks::cidr(from.as_bytes()) {
            return Ok(());
        }
        if self.resolver.resolves(from) {
            return Ok(());
        }
        Err(format!("host not found in {name} \"{from}\""))
    }

    /// `ngx_parse_url` resolves a `listen` host name as it reads it: the
    /// addresses it listens on (none known without lookups).
    fn listen_addrs(&self, url: &str, u: &url::Url) -> Result<Vec<url::Addr>, String> {
        if let Some(addr) = &u.addr {
            return Ok(vec![addr.clone()]);
        }
        if !self.options.resolve || u.host.is_empty() {
            return Ok(Vec::new());
        }
        let host = String::from_utf8_lossy(&u.host);
        let found = self.resolver.addresses(&host);
        if found.is_empty() {
            return Err(format!(
                "host not found in \"{url}\" of the \"listen\" directive"
            ));
        }
        Ok(found
            .into_iter()
            .map(|a| match a {
                std::net::IpAddr::V4(v4) => url::Addr::V4(v4.octets()),
                std::net::IpAddr::V6(v6) => url::Addr::V6(v6.octets()),
            })
            .collect())
    }

    /// `ngx_stream_core_listen`: the address (no default port), the
    /// parameters, then each address:port against the block's others.
    pub(super) fn stream_listen(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        let kind = url::UrlKind {
            listen: true,
            uri_part: false,
            default_port: 0,
        };
        let u = url::parse_url(url.as_bytes(), kind)
            .map_err(|e| format!("{e} in \"{url}\" of the \"listen\" directive"))?;
        let addrs = self.listen_addrs(url, &u)?;
        let params = listen::stream_params(params)?;
        for addr in &addrs {
            for port in u.port..=u.last_port.max(u.port) {
                self.stream_listens.add(params, addr, port)?;
            }
        }
        Ok(())
    }

    /// `ngx_mail_core_listen`: the address, the parameters, then the
    /// address:port against every other `listen` of the mail block.
    pub(super) fn mail_listen(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        let u = url::parse_url(url.as_bytes(), url::LISTEN_NO_PORT)
            .map_err(|e| format!("{e} in \"{url}\" of the \"listen\" directive"))?;
        let addrs = self.listen_addrs(url, &u)?;
        let bind = listen::mail_params(params)?;
        let params = listen::StreamParams { udp: false, bind };
        for addr in &addrs {
            for port in u.port..=u.last_port.max(u.port) {
                self.mail_listens.add(params, addr, port)?;
            }
        }
        Ok(())
    }

    /// `ngx_http_proxy_pass` for a URL without variables: its scheme, its
    /// address (`ngx_http_upstream_add`) and where a URI part may be.
    pub(super) fn proxy_pass(
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
        let kind = url::UrlKind {
            listen: false,
            uri_part: true,
            default_port: port,
        };
        let rest = b.get(skip..).unwrap_or_default();
        let u = url::parse_url(rest, kind).map_err(|e| {
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
        if let Some((host, literal)) = u.upstream_host() {
            // ngx_http_upstream_add: an upstream of that name, else a new
            // one resolved once the http block is read.
            self.upstreams_by_name
                .pass((&host, literal), u.port, u.no_port, here)?;
        }
        Ok(())
    }

    /// `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass` and
    /// `memcached_pass` without variables: an address with no default port
    /// (after an optional `grpc://`, `uwsgi://` ... scheme) that names an
    /// upstream, as their handlers give it to `ngx_http_upstream_add`.
    pub(super) fn upstream_pass(
        &mut self,
        d: Directive<'_>,
        name: &str,
        here: (usize, usize),
    ) -> Result<(), String> {
        // memcached_pass has no variables: a `$` is part of the name
        let Some(arg) = d
            .arg(0)
            .filter(|a| name == "memcached_pass" || !a.raw().contains(&b'$'))
        else {
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
        let kind = url::UrlKind {
            listen: false,
            uri_part: false,
            default_port: 0,
        };
        let u = url::parse_url(rest, kind)
            .map_err(|e| format!("{e} in upstream \"{}\"", String::from_utf8_lossy(rest)))?;
        if let Some((host, literal)) = u.upstream_host() {
            self.upstreams_by_name
                .pass((&host, literal), u.port, u.no_port, here)?;
        }
        Ok(())
    }
}
