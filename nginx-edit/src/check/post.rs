//! What nginx refuses once a block is read, where it refuses it: after
//! an http block the upstreams' init, the servers' merge (TLS, cache
//! zones), the location trees, the modules' postconfiguration (`listen
//! ... ssl`), the variables; after stream and mail blocks their merge.

use super::Walker;
use crate::directives::Context;

impl Walker<'_> {
    /// After a whole http block, as the proxy, uwsgi and grpc modules
    /// merge their locations: TLS to upstreams without its key or CA.
    pub(super) fn upstream_tls_checks(&mut self) {
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }
        if let Some(((file, at), message)) = self.upstream_tls.take_first() {
            self.error(file, at, message);
        }
    }

    /// After a whole http block: `ngx_http_ssl_merge_srv_conf`'s refusals
    /// (`merge`) or `ngx_http_ssl_init`'s. Not for a snippet, nor when an
    /// include did not resolve: the certificates may be elsewhere.
    pub(super) fn ssl_checks(&mut self, merge: bool) {
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
    pub(super) fn tcp_checks(&mut self, inner: Context) {
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
    pub(super) fn unknown_cache(&mut self, file: usize, close: usize) {
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }
        if let Some(message) = self.zones.unknown_cache() {
            self.error(file, close, message);
        }
    }

    /// After an http block (or a snippet): what nginx refuses as it sets
    /// the upstreams up.
    pub(super) fn upstreams_init(&mut self) {
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

    /// After an `http` block (or a snippet): the first location nginx
    /// would call a duplicate.
    pub(super) fn duplicate_location(&mut self) {
        if let Some((message, (file, offset))) = self.location_tree.take_duplicate() {
            self.error(file, offset, message);
        }
    }

    /// After an `http` block: the variables it uses that nothing defines.
    pub(super) fn unknown_variables(&mut self) {
        let Some(vars) = self.variables.take() else {
            return;
        };
        let newer = self.options.nginx_version > crate::directives::nginx_version(1, 22, 1);
        let unknown = vars.unknown(|module| self.has_module_named(module), newer);
        for (file, offset, message) in unknown {
            self.error(file, offset, message);
        }
    }
}
