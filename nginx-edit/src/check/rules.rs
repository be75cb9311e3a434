//! The checks some directives' own handlers make as nginx reads them:
//! `listen` addresses and parameters, upstream `server`s, `proxy_pass`
//! and the other `*_pass` URLs, `location` nesting, `upstream` names, log
//! formats, `resolver`, the `user`.

use super::locations::Location;
use super::{args_of, handlers, listen, machine, networks, url, Refusal, Walker};
use crate::directives::Context;
use crate::document::{BodyKind, Directive};

impl Walker<'_> {
    /// The checks some directives' own handlers make as they are read, in
    /// nginx's words: location nesting, duplicate upstreams, log formats,
    /// `listen` addresses, `proxy_pass` URLs.
    pub(super) fn handler_rules(
        &mut self,
        d: Directive<'_>,
        name: &str,
        ctx: Context,
        here: (usize, usize),
    ) -> Result<(), Refusal> {
        match name {
            "listen" if ctx == Context::HttpServer => self.http_listen(&args_of(d))?,
            "alias" if self.locations.last().is_some_and(|l| l.named) => {
                return Err(
                    "the \"alias\" directive cannot be used inside the named location"
                        .to_string()
                        .into(),
                );
            }
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
                self.upstreams.insert(key);
            }
            "log_format" if ctx == Context::Http => {
                if let Some(n) = args_of(d).first() {
                    // ngx_http_log_set_format compares names exactly
                    // (`combined` is predefined); access_log, ignoring case.
                    if self.log_formats.contains(n) {
                        return Err(format!("duplicate \"log_format\" name \"{n}\"").into());
                    }
                    self.log_formats.push(n.clone());
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
                    if !self
                        .log_formats
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(format))
                    {
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
    pub(super) fn upstream_server(&mut self, args: &[String]) -> Result<(), String> {
        let Some((url, params)) = args.split_first() else {
            return Ok(());
        };
        if self.options.nginx_version < crate::directives::nginx_version(1, 27, 3) {
            handlers::upstream_server(params, self.upstream_backup)?;
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
        handlers::upstream_server(params, self.upstream_backup)?;
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
        if !u.host.is_empty() {
            let host = String::from_utf8_lossy(&u.host);
            self.stream_upstreams.pass(&host, u.port, u.no_port, here)?;
        }
        Ok(())
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
        let udp = listen::stream_params(params)?;
        let Some(addr) = u.addr else {
            return Ok(());
        };
        for port in u.port..=u.last_port.max(u.port) {
            self.stream_listens.add(udp, &addr, port)?;
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
    pub(super) fn upstream_pass(
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
        let kind = url::UrlKind {
            listen: false,
            uri_part: false,
            default_port: 0,
        };
        let u = url::parse_url(rest, kind)
            .map_err(|e| format!("{e} in upstream \"{}\"", String::from_utf8_lossy(rest)))?;
        if !u.host.is_empty() {
            let host = String::from_utf8_lossy(&u.host);
            self.upstreams_by_name
                .pass(&host, u.port, u.no_port, here)?;
        }
        Ok(())
    }
}
