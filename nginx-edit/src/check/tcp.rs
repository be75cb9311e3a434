//! The server rules of the `stream` and `mail` blocks that nginx checks
//! once a block is read: a `server` with no `listen` (at its `}`:
//! `ngx_stream_core_server`, `ngx_mail_core_server`), then in the merge
//! functions a stream server with no handler (`proxy_pass`, `return`), a
//! mail server whose protocol is unknown or that has no `auth_http`, and
//! `listen ... ssl` (mail: `starttls`) without a certificate.

use super::ssl::{Place, SslConf};

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
}

/// A stream or mail block's servers and its own level's settings.
#[derive(Debug, Default)]
pub struct TcpBlock {
    pub top: SslConf,
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
        });
    }

    /// A directive of the block's own level.
    pub fn top_directive(&mut self, name: &str, args: &[String], here: Place) {
        if name == "auth_http" {
            self.auth_http = true;
        } else {
            self.top.directive(name, args, here);
        }
    }

    /// A directive of the current stream server.
    pub fn stream_directive(&mut self, name: &str, args: &[String], here: Place) {
        let Some(s) = self.servers.last_mut() else {
            return;
        };
        if name == "listen" {
            s.listen = true;
            if args.iter().skip(1).any(|p| p == "ssl") {
                s.ssl.listen = Some((here, "listen ... ssl"));
            }
        } else if STREAM_HANDLERS.contains(&name) {
            s.handler = true;
        } else {
            s.ssl.directive(name, args, here);
        }
    }

    /// A directive of the current mail server; `port` is a `listen`'s.
    pub fn mail_directive(&mut self, name: &str, args: &[String], here: Place, port: Option<u16>) {
        let Some(s) = self.servers.last_mut() else {
            return;
        };
        match name {
            "listen" => {
                s.listen = true;
                s.handler |= port.is_some_and(|p| MAIL_PORTS.contains(&p));
                if args.iter().skip(1).any(|p| p == "ssl") {
                    s.ssl.listen = Some((here, "listen ... ssl"));
                }
            }
            "protocol" => s.handler = true,
            "auth_http" => s.auth_http = true,
            "starttls" if args.first().is_some_and(|a| a != "off") => {
                if s.ssl.listen.is_none() {
                    s.ssl.listen = Some((here, "starttls"));
                }
            }
            "ssl" if args.first().is_some_and(|a| a == "on") => {
                if s.ssl.listen.is_none_or(|(_, what)| what == "starttls") {
                    s.ssl.listen = Some((here, "ssl"));
                }
            }
            _ => {
                s.ssl.directive(name, args, here);
            }
        }
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

    /// The ssl modules' merge: `listen ... ssl` needs a certificate.
    pub fn ssl_merge(&self) -> Option<(Place, String)> {
        self.servers
            .iter()
            .find_map(|s| s.ssl.merged(&self.top).listen_merge())
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
