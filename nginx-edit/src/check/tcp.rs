//! The server rules of the `stream` and `mail` blocks that nginx checks
//! once a block is read: a `server` with no `listen` (at its `}`:
//! `ngx_stream_core_server`, `ngx_mail_core_server`), then in the merge
//! functions a stream server with no handler (`proxy_pass`, `return`), a
//! mail server whose protocol is unknown or that has no `auth_http`, and
//! `listen ... ssl` (mail: `starttls`) without a certificate.

use super::proxy_tls::ProxyTls;
use super::ssl::{Place, SslConf};
use super::{url, Walker};
use crate::directives::Context;

/// One `server` of a stream or mail block.
#[derive(Debug)]
pub struct TcpServer {
    /// Where its `{` is (`cscf->file_name`, `cscf->line`).
    pub brace: Place,
    pub listen: bool,
    /// Stream: a content handler. Mail: a protocol (`protocol`, or one
    /// guessed from a `listen` port).
    pub handler: bool,
    /// Mail: `auth_http`.
    pub auth_http: bool,
    pub ssl: SslConf,
    /// Stream: TLS to the upstream.
    pub proxy: ProxyTls,
}

/// A stream or mail block's servers and its own level's settings.
#[derive(Debug, Default)]
pub struct TcpBlock {
    pub top: SslConf,
    pub top_proxy: ProxyTls,
    pub auth_http: bool,
    pub servers: Vec<TcpServer>,
}

/// Directives of third-party stream modules that set a content handler.
const STREAM_HANDLERS: &[&str] = &[
    "proxy_pass",
    "return",
    "pass",
    "content_by_lua",
    "content_by_lua_block",
    "content_by_lua_file",
];

/// The ports `ngx_mail_core_listen` guesses a protocol from (imap, pop3
/// and smtp's default ports).
const MAIL_PORTS: &[u16] = &[143, 993, 110, 995, 25, 465, 587];

impl TcpBlock {
    /// A new `server {` at `brace`.
    pub fn open_server(&mut self, brace: Place) {
        self.servers.push(TcpServer {
            brace,
            listen: false,
            handler: false,
            auth_http: false,
            ssl: SslConf::default(),
            proxy: ProxyTls::default(),
        });
    }

    /// A directive of the block's own level (mail: `ssl` and `starttls`
    /// may conflict).
    pub fn top_directive(
        &mut self,
        name: &str,
        args: &[String],
        here: Place,
        mail: bool,
    ) -> Result<(), String> {
        if name == "auth_http" {
            self.auth_http = true;
        } else if name.starts_with("proxy_ssl") {
            self.top_proxy.directive(name, args);
        } else if !(mail && self.top.mail_mode(name, args, here)?) {
            self.top.directive(name, args, here);
        }
        Ok(())
    }

    /// A directive of the current stream server.
    pub fn stream_directive(&mut self, name: &str, args: &[String], here: Place) {
        let Some(s) = self.servers.last_mut() else {
            return;
        };
        if name == "listen" {
            s.listen = true;
            if args.iter().skip(1).any(|p| p == "ssl") {
                s.ssl.listen_ssl(here);
            }
        } else if STREAM_HANDLERS.contains(&name) {
            s.handler = true;
        } else if name.starts_with("proxy_ssl") {
            s.proxy.directive(name, args);
        } else {
            s.ssl.directive(name, args, here);
        }
    }

    /// A directive of the current mail server; `port` is a `listen`'s.
    pub fn mail_directive(
        &mut self,
        name: &str,
        args: &[String],
        here: Place,
        port: Option<u16>,
    ) -> Result<(), String> {
        let Some(s) = self.servers.last_mut() else {
            return Ok(());
        };
        match name {
            "listen" => {
                s.listen = true;
                s.handler |= port.is_some_and(|p| MAIL_PORTS.contains(&p));
                if args.iter().skip(1).any(|p| p == "ssl") {
                    s.ssl.listen_ssl(here);
                }
            }
            "protocol" => s.handler = true,
            "auth_http" => s.auth_http = true,
            _ => {
                if !s.ssl.mail_mode(name, args, here)? {
                    s.ssl.directive(name, args, here);
                }
            }
        }
        Ok(())
    }

    /// At a server's `}`: nginx wants a `listen` there.
    pub fn close_server(&self) -> Option<(Place, String)> {
        let s = self.servers.last()?;
        (!s.listen).then(|| (s.brace, "no \"listen\" is defined for server".to_string()))
    }

    /// `ngx_stream_core_merge_srv_conf`: each server needs a handler.
    pub fn stream_no_handler(&self) -> Option<(Place, String)> {
        let s = self.servers.iter().find(|s| !s.handler)?;
        Some((s.brace, "no handler for server".into()))
    }

    /// `ngx_stream_proxy_merge_srv_conf`: `proxy_ssl on` needs a key for
    /// its certificate and a CA to verify with (no place given: the
    /// block's `}` stands in).
    pub fn proxy_merge(&self, close: Place) -> Option<(Place, String)> {
        self.servers
            .iter()
            .find_map(|s| s.proxy.merge(&self.top_proxy))
            .map(|m| (close, m))
    }

    /// The ssl modules' merge: `listen ... ssl` needs a certificate.
    pub fn ssl_merge(&self) -> Option<(Place, String)> {
        self.servers
            .iter()
            .find_map(|s| s.ssl.merged(&self.top).listen_merge())
    }

    /// `ngx_mail_ssl_merge_conf`: a server whose TLS mode is on needs a
    /// certificate.
    pub fn mail_ssl_merge(&self) -> Option<(Place, String)> {
        self.servers
            .iter()
            .find_map(|s| s.ssl.merged(&self.top).mail_merge())
    }

    /// `ngx_mail_core_merge_srv_conf`: a protocol for each server.
    pub fn mail_no_protocol(&self) -> Option<(Place, String)> {
        let s = self.servers.iter().find(|s| !s.handler)?;
        Some((s.brace, "unknown mail protocol for server".into()))
    }

    /// `ngx_mail_auth_http_merge_conf`: an `auth_http` for each server.
    pub fn mail_no_auth_http(&self) -> Option<(Place, String)> {
        if self.auth_http {
            return None;
        }
        let s = self.servers.iter().find(|s| !s.auth_http)?;
        Some((s.brace, "no \"auth_http\" is defined for server".into()))
    }
}

impl Walker<'_> {
    /// A directive of a stream or mail block or server, for the checks
    /// made once the block is read; `Err` is a refusal made right away
    /// (mail's `ssl` and `starttls` conflicts).
    pub(super) fn tcp_directive(
        &mut self,
        ctx: Context,
        name: &str,
        args: &[String],
        here: Place,
    ) -> Result<(), String> {
        match ctx {
            Context::Stream => self.stream.top_directive(name, args, here, false),
            Context::StreamServer => {
                self.stream.stream_directive(name, args, here);
                Ok(())
            }
            Context::Mail => self.mail.top_directive(name, args, here, true),
            Context::MailServer => {
                let port = (name == "listen")
                    .then(|| args.first())
                    .flatten()
                    .and_then(|url| url::parse_url(url.as_bytes(), url::LISTEN_NO_PORT).ok())
                    .map(|u| u.port);
                self.mail.mail_directive(name, args, here, port)
            }
            _ => Ok(()),
        }
    }
}
