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
    /// module order (stream: core, proxy, upstream, ssl; mail: core, ssl,
    /// auth_http).
    pub(super) fn tcp_checks(&mut self, inner: Context, close: super::ssl::Place) {
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
                    .or_else(|| self.stream.proxy_merge(close))
                    .or_else(|| {
                        let lookups = self.options.resolve.then_some(&self.resolver);
                        std::mem::take(&mut self.stream_upstreams).init(true, lookups)
                    })
                    .or_else(|| self.stream.ssl_merge())
            }
            Context::Mail => self
                .mail
                .mail_no_protocol()
                .or_else(|| self.mail.mail_ssl_merge())
                .or_else(|| self.mail.mail_no_auth_http()),
            _ => None,
        };
        if let Some(((file, at), message)) = found {
            self.error(file, at, message);
        }
    }

    /// After a whole http block, first of its merge: the types hash.
    pub(super) fn types_hash(&mut self, close: (usize, usize)) {
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }
        if let Some(message) = self.header_hashes.types_first() {
            self.error(close.0, close.1, message);
        }
    }

    /// After a whole http block: the buffer sizes the proxy, fastcgi,
    /// uwsgi and scgi merges refuse, then their header hashes (a buffer
    /// refusal comes first), at the block's `}`.
    pub(super) fn buffer_checks(&mut self, file: usize, close: usize) {
        let first = self.buffers.take_first();
        let hashes = self.header_hashes.take_first();
        let first = first.or(hashes);
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }
        if let Some(message) = first {
            self.error(file, close, message);
        }
    }

    /// After the variables: the server names hash of each address with
    /// more than one server (`ngx_http_optimize_servers`).
    pub(super) fn server_names_hash(&mut self, file: usize, close: usize) {
        if !self.set.unresolved.is_empty() {
            return;
        }
        let sizes = (
            self.hash_setting("server_names_hash_max_size"),
            self.hash_setting("server_names_hash_bucket_size"),
        );
        if let Some(message) = self.server_names.check(self.http_listens.groups(), sizes) {
            self.error(file, close, message);
        }
    }

    /// After a whole http block, as the locations merge: a `*_cache` zone
    /// nothing declares, reported at the block's `}`. An http block
    /// without servers merges nothing, so its zones are never looked up.
    pub(super) fn unknown_cache(&mut self, file: usize, close: usize, servers: bool) {
        let first = self.zones.unknown_cache();
        if !self.from_main || !self.set.unresolved.is_empty() || !servers {
            return;
        }
        if let Some(message) = first {
            self.error(file, close, message);
        }
    }

    /// After an http block (or a snippet): what nginx refuses as it sets
    /// the upstreams up.
    pub(super) fn upstreams_init(&mut self) {
        // A snippet's `*_pass` names may be upstreams of the config that
        // includes it: only a whole config's are judged, but for names
        // with a port, which no block can take.
        let implicit = self.from_main;
        let lookups = self.options.resolve;
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

    /// Once the configuration is read (`ngx_event_init_conf`): the
    /// connections (`worker_connections`, 512 by default) must cover every
    /// listening socket of the http, stream and mail blocks, plus one.
    /// nginx names no place: the `worker_connections` line stands in.
    pub(super) fn listening_sockets(&mut self) {
        let sockets = self.http_listens.sockets(self.server_names.listenless())
            + self.stream_listens.sockets()
            + self.mail_listens.sockets();
        let (at, connections) = self.worker_connections.unwrap_or(((0, 0), 512));
        if connections < sockets + 1 {
            let message = format!(
                "{connections} worker_connections are not enough for {sockets} listening sockets"
            );
            self.error(at.0, at.1, message);
        }
    }

    /// After an `http` block: the variables it uses that nothing defines,
    /// then the variables hash (`ngx_http_variables_init_vars`; nginx
    /// names no place for the hash, the block's `}` stands in).
    pub(super) fn unknown_variables(&mut self, file: usize, close: usize) {
        let Some(mut vars) = self.variables.take() else {
            return;
        };
        if let Some(message) = vars.merged_error() {
            self.error(file, close, message.to_string());
            return;
        }
        let tls = self.ssl.certificate_variables().into_iter();
        vars.merged_uses(tls.map(|((file, at), name)| (name, file, at)));
        let newer = self.options.nginx_version > crate::directives::nginx_version(1, 22, 1);
        let unknown = vars.unknown(|module| self.has_module_named(module), newer);
        self.unknown_then_variables_hash(unknown, vars.longest_name(), (file, close));
    }

    /// The last value of a `*_hash_max_size` / `*_hash_bucket_size`
    /// setting the block gave so far.
    pub(super) fn hash_setting(&self, name: &str) -> Option<i64> {
        let found = self.hash_buckets.iter().rev().find(|(n, _)| n == name);
        found.map(|&(_, v)| v)
    }

    /// `ngx_http_variables_init_vars` (stream's alike): every unknown
    /// variable (nginx stops at the first; a user fixing them wants the
    /// list), else the variables hash, at `close` (nginx names no place).
    pub(super) fn unknown_then_variables_hash(
        &mut self,
        unknown: Vec<(usize, usize, String)>,
        longest_name: usize,
        close: (usize, usize),
    ) {
        if !unknown.is_empty() {
            for (file, offset, message) in unknown {
                self.error(file, offset, message);
            }
            return;
        }
        let max = self.hash_setting("variables_hash_max_size");
        let bucket = self.hash_setting("variables_hash_bucket_size");
        if let Err(message) = super::hash_keys::variables_hash(max, bucket, longest_name) {
            self.error(close.0, close.1, message);
        }
    }
}
