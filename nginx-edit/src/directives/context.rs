//! Where a directive sits (nginx's module and command types), what a
//! block directive's body holds, and how a directive's tokens ended.

use super::bits::*;
use super::ModuleKind;

/// The block a directive appears in: nginx's pair (`cf->module_type`,
/// `cf->cmd_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// Top level of the main file (`NGX_CORE_MODULE`, `NGX_MAIN_CONF`; core
    /// directives are `NGX_MAIN_CONF` or `NGX_DIRECT_CONF|NGX_MAIN_CONF`).
    Main,
    /// `events { }` (`NGX_EVENT_CONF`).
    Event,
    /// `http { }` (`NGX_HTTP_MAIN_CONF`).
    Http,
    /// `server { }` in http (`NGX_HTTP_SRV_CONF`).
    HttpServer,
    /// `location { }`, also nested (`NGX_HTTP_LOC_CONF`).
    HttpLocation,
    /// `upstream { }` in http (`NGX_HTTP_UPS_CONF`).
    HttpUpstream,
    /// `if { }` directly in an http server (`NGX_HTTP_SIF_CONF`).
    HttpSif,
    /// `if { }` in a location (`NGX_HTTP_LIF_CONF`).
    HttpLif,
    /// `limit_except { }` (`NGX_HTTP_LMT_CONF`).
    HttpLmt,
    /// `mail { }` (`NGX_MAIL_MAIN_CONF`).
    Mail,
    /// `server { }` in mail (`NGX_MAIL_SRV_CONF`).
    MailServer,
    /// `stream { }` (`NGX_STREAM_MAIN_CONF`).
    Stream,
    /// `server { }` in stream (`NGX_STREAM_SRV_CONF`).
    StreamServer,
    /// `upstream { }` in stream (`NGX_STREAM_UPS_CONF`).
    StreamUpstream,
}

impl Context {
    /// All contexts.
    pub const ALL: [Context; 14] = [
        Context::Main,
        Context::Event,
        Context::Http,
        Context::HttpServer,
        Context::HttpLocation,
        Context::HttpUpstream,
        Context::HttpSif,
        Context::HttpLif,
        Context::HttpLmt,
        Context::Mail,
        Context::MailServer,
        Context::Stream,
        Context::StreamServer,
        Context::StreamUpstream,
    ];

    /// `cf->module_type` in this block.
    pub const fn module_kind(self) -> ModuleKind {
        match self {
            Context::Main => ModuleKind::Core,
            Context::Event => ModuleKind::Event,
            Context::Http
            | Context::HttpServer
            | Context::HttpLocation
            | Context::HttpUpstream
            | Context::HttpSif
            | Context::HttpLif
            | Context::HttpLmt => ModuleKind::Http,
            Context::Mail | Context::MailServer => ModuleKind::Mail,
            Context::Stream | Context::StreamServer | Context::StreamUpstream => ModuleKind::Stream,
        }
    }

    /// `cf->cmd_type` in this block (one context bit).
    pub const fn cmd_type(self) -> u32 {
        match self {
            Context::Main => NGX_MAIN_CONF,
            Context::Event => NGX_EVENT_CONF,
            Context::Http => NGX_HTTP_MAIN_CONF,
            Context::HttpServer => NGX_HTTP_SRV_CONF,
            Context::HttpLocation => NGX_HTTP_LOC_CONF,
            Context::HttpUpstream => NGX_HTTP_UPS_CONF,
            Context::HttpSif => NGX_HTTP_SIF_CONF,
            Context::HttpLif => NGX_HTTP_LIF_CONF,
            Context::HttpLmt => NGX_HTTP_LMT_CONF,
            Context::Mail => NGX_MAIL_MAIN_CONF,
            Context::MailServer => NGX_MAIL_SRV_CONF,
            Context::Stream => NGX_STREAM_MAIN_CONF,
            Context::StreamServer => NGX_STREAM_SRV_CONF,
            Context::StreamUpstream => NGX_STREAM_UPS_CONF,
        }
    }

    /// Name of the block as written in configs (`"main"` for the top level).
    pub const fn name(self) -> &'static str {
        match self {
            Context::Main => "main",
            Context::Event => "events",
            Context::Http => "http",
            Context::HttpServer | Context::MailServer | Context::StreamServer => "server",
            Context::HttpLocation => "location",
            Context::HttpUpstream | Context::StreamUpstream => "upstream",
            Context::HttpSif | Context::HttpLif => "if",
            Context::HttpLmt => "limit_except",
            Context::Mail => "mail",
            Context::Stream => "stream",
        }
    }
}

/// What the body of a block directive contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockBody {
    /// Ordinary directives, checked in this context.
    Directives(Context),
    /// Lines handed to the module's custom handler (`cf->handler`): `types`,
    /// `map`, `geo`, `split_clients`, `charset_map`, geoip2's `geoip2` (see
    /// [`CUSTOM_BODY_BLOCKS`]; NGINX Plus's `match` is not in this table). Entries are `key value ...;`
    /// lists, not directives; a `{` inside is the error `unexpected "{"`; the
    /// handlers themselves treat `include file;` (and, per module, keywords
    /// such as `default`, `hostnames`, `volatile`, `ranges`, `delete`, `proxy`)
    /// specially.
    Custom,
    /// Raw Lua source (lua-nginx-module / stream-lua `*_by_lua_block`), read by
    /// the module's own Lua-aware lexer, not nginx's tokenizer.
    RawLua,
}

/// Names of the block directives (other than `*_by_lua_block`) whose body is
/// read by a custom handler, across nginx and the third-party modules of the
/// table: [`DirectiveSpec::custom_body`] is the per-entry truth, extracted
/// from the sources; this list is for parsers that only have a name.
pub const CUSTOM_BODY_BLOCKS: &[&str] = &[
    "charset_map",
    "geo",
    "geoip2",
    "map",
    "split_clients",
    "types",
];

/// How the directive's token list ended (`ngx_conf_read_token`'s result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// `;` (`NGX_OK`).
    Semicolon,
    /// `{` (`NGX_CONF_BLOCK_START`).
    BlockStart,
}
