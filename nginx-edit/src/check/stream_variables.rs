//! `unknown "x" variable` in a `stream` block: nginx's stream modules keep
//! their own variables (`ngx_stream_variables_init_vars`, once the block
//! is read, after its merge and upstream checks). Only the arguments the
//! stream modules of nginx 1.22 compile are read for `$name` (a positive
//! list: an argument it does not know is never a refusal).

use std::collections::HashSet;

use super::variables::{references, script_error};
use super::{log_format, Walker};
use crate::directives::Context;
use crate::document::Directive;

#[path = "stream_variable_table.rs"]
mod table;

/// Every stream variable name of nginx's own modules, for tests.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    table::STREAM_VARIABLES.iter().map(|&(name, ..)| name)
}

/// The arguments (by index) a stream directive compiles as complex
/// values, from the stream modules' sources.
fn compiled(name: &str, args: &[(String, usize)]) -> Vec<usize> {
    match name {
        "set" => vec![1],
        "map"
        | "split_clients"
        | "return"
        | "proxy_pass"
        | "proxy_ssl_name"
        | "proxy_ssl_certificate"
        | "proxy_ssl_certificate_key"
        | "proxy_upload_rate"
        | "proxy_download_rate"
        | "limit_conn_zone"
        | "hash" => vec![0],
        "proxy_bind" if args.first().is_some_and(|(a, _)| a != "off") => vec![0],
        "access_log" => (0..args.len())
            .filter(|&i| i == 0 || args[i].0.starts_with("if="))
            .collect(),
        _ => Vec::new(),
    }
}

/// Directives that define a stream variable, and which argument names it.
fn defined_by(name: &str, args: usize) -> Option<usize> {
    match name {
        "set" | "js_set" | "js_var" => Some(0),
        "map" | "split_clients" => Some(1),
        "geo" => Some(args.saturating_sub(1)),
        _ => None,
    }
}

/// The stream variables nginx lets a configuration define again
/// (`NGX_STREAM_VAR_CHANGEABLE`: the TLS ones); any other built-in one is
/// `the duplicate "remote_addr" variable`.
const CHANGEABLE: &[&str] = &[
    "ssl_alpn_protocol",
    "ssl_cipher",
    "ssl_ciphers",
    "ssl_client_cert",
    "ssl_client_escaped_cert",
    "ssl_client_fingerprint",
    "ssl_client_i_dn",
    "ssl_client_raw_cert",
    "ssl_client_s_dn",
    "ssl_client_serial",
    "ssl_client_v_end",
    "ssl_client_v_remain",
    "ssl_client_v_start",
    "ssl_client_verify",
    "ssl_curve",
    "ssl_curves",
    "ssl_protocol",
    "ssl_server_name",
    "ssl_session_id",
    "ssl_session_reused",
];

/// The modules the binary has (by name), and whether it is newer than 1.22.
pub type Binary<'a> = (&'a dyn Fn(&str) -> bool, bool);

/// `ngx_stream_add_variable`'s refusal of `name`, if a module of the
/// binary defines it and does not let it change.
fn fixed(name: &str, (has_module, newer): Binary<'_>) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    if CHANGEABLE.binary_search(&lower.as_str()).is_ok() {
        return Ok(());
    }
    let builtin = table::STREAM_VARIABLES
        .iter()
        .any(|&(var, module, prefix, is_newer)| {
            var == lower && !prefix && (newer || !is_newer) && has_module(module)
        });
    if builtin {
        Err(format!("the duplicate \"{name}\" variable"))
    } else {
        Ok(())
    }
}

/// The variables of one `stream` block (what it defines, what it uses) and
/// its log formats; both known only when the walk starts at a main config.
#[derive(Debug, Default)]
pub struct StreamVariables {
    defined: HashSet<String>,
    /// (name, file, byte offset) in the order met.
    uses: Vec<(String, usize, usize)>,
    formats: Vec<String>,
    /// `ssl_certificate` and `ssl_certificate_key` of the stream level,
    /// then of the server being read: compiled only for a server that
    /// listens with `ssl` (`ngx_stream_ssl_merge_conf`).
    tls: [Certificates; 2],
    listen_ssl: bool,
}

/// The (text, file, offset) of certificates and of keys.
type Certificates = [Vec<(String, usize, usize)>; 2];

impl StreamVariables {
    /// A directive of the stream block (`args` are text and offset), in
    /// its handler's order; `Err` is nginx's refusal at the directive.
    pub fn directive(
        &mut self,
        file: usize,
        name: &str,
        args: &[(String, usize)],
        binary: Binary<'_>,
    ) -> Result<(), String> {
        if name == "log_format" {
            let Some((format, _)) = args.first() else {
                return Ok(());
            };
            if self.formats.contains(format) {
                return Err(format!("duplicate \"log_format\" name \"{format}\""));
            }
            self.formats.push(format.clone());
            let parts: Vec<String> = args.iter().skip(1).map(|(t, _)| t.clone()).collect();
            let offset = args.get(1).map_or(0, |(_, o)| *o);
            for var in log_format::compile(&parts).unwrap_or_default() {
                self.uses.push((var.to_ascii_lowercase(), file, offset));
            }
            return Ok(());
        }
        let defines = defined_by(name, args.len())
            .and_then(|i| args.get(i))
            .and_then(|(t, _)| t.strip_prefix('$'));
        // `set` adds its variable before it compiles the value; the blocks
        // compile their source first.
        if name == "set" {
            if let Some(var) = defines {
                fixed(var, binary)?;
            }
        }
        // `geo $source $name`: the source is a variable's name.
        if name == "geo" && args.len() == 2 {
            if let Some((src, offset)) = args.first() {
                if let Some(var) = src.strip_prefix('$') {
                    self.uses.push((var.to_ascii_lowercase(), file, *offset));
                }
            }
        }
        for i in compiled(name, args) {
            if let Some((text, offset)) = args.get(i) {
                script_error(text)?;
                self.uses_in(text, file, *offset);
            }
        }
        if name == "access_log" && args.first().is_some_and(|(p, _)| p != "off") {
            let Some((format, _)) = args.get(1) else {
                return Err("log format is not specified".into());
            };
            if !self.formats.iter().any(|f| f.eq_ignore_ascii_case(format)) {
                return Err(format!("unknown log format \"{format}\""));
            }
        }
        if let Some(var) = defines {
            fixed(var, binary)?;
            self.define(var);
        }
        Ok(())
    }

    /// `listen ... ssl`, `ssl_certificate`, `ssl_certificate_key`, at the
    /// stream level or in a server.
    pub fn tls(&mut self, file: usize, name: &str, args: &[(String, usize)], in_server: bool) {
        let level = usize::from(in_server);
        match name {
            "listen" => self.listen_ssl |= args.iter().skip(1).any(|(a, _)| a == "ssl"),
            "ssl_certificate" | "ssl_certificate_key" => {
                let kind = usize::from(name == "ssl_certificate_key");
                if let Some((text, offset)) = args.first() {
                    self.tls[level][kind].push((text.clone(), file, *offset));
                }
            }
            _ => {}
        }
    }

    /// A server's end: its certificates (or the stream level's) are
    /// compiled when it listens with `ssl`.
    pub fn close_server(&mut self) {
        let server = std::mem::take(&mut self.tls[1]);
        if std::mem::take(&mut self.listen_ssl) {
            let top = self.tls[0].clone();
            for (own, top) in server.iter().zip(&top) {
                let list = if own.is_empty() { top } else { own };
                for (text, file, offset) in list {
                    self.uses_in(text, *file, *offset);
                }
            }
        }
    }

    /// A named group of a stream `map` key: a variable, unless built in.
    pub fn capture(&mut self, name: &str, binary: Binary<'_>) -> Result<(), String> {
        fixed(name, binary)?;
        self.define(name);
        Ok(())
    }

    /// A `map` entry's value (a complex value).
    pub fn value(&mut self, file: usize, text: &str, offset: usize) {
        self.uses_in(text, file, offset);
    }

    /// A variable the block defines (`set`, a named group ...).
    pub fn define(&mut self, name: &str) {
        self.defined
            .insert(name.trim_start_matches('$').to_ascii_lowercase());
    }

    fn uses_in(&mut self, text: &str, file: usize, offset: usize) {
        if text.contains('$') {
            for name in references(text) {
                self.uses.push((name.to_ascii_lowercase(), file, offset));
            }
        }
    }

    /// The longest name the variables hash holds: the block's own
    /// variables and the built-in ones (not the prefixes).
    pub fn longest_name(&self) -> usize {
        let builtin = table::STREAM_VARIABLES
            .iter()
            .filter(|&&(_, _, prefix, _)| !prefix)
            .map(|&(name, ..)| name.len());
        self.defined
            .iter()
            .map(String::len)
            .chain(builtin)
            .max()
            .unwrap_or(0)
    }

    /// The first use of each unknown variable, with nginx's message.
    pub fn unknown(
        &self,
        has_module: impl Fn(&str) -> bool,
        newer: bool,
    ) -> Vec<(usize, usize, String)> {
        let known = |name: &str| {
            self.defined.contains(name)
                || table::STREAM_VARIABLES
                    .iter()
                    .any(|&(var, module, prefix, is_newer)| {
                        let hit = if prefix {
                            name.starts_with(var)
                        } else {
                            name == var
                        };
                        hit && (newer || !is_newer) && has_module(module)
                    })
        };
        let mut reported = HashSet::new();
        self.uses
            .iter()
            .filter(|(name, _, _)| !known(name) && reported.insert(name.clone()))
            .map(|(name, file, offset)| (*file, *offset, format!("unknown \"{name}\" variable")))
            .collect()
    }
}

impl Walker<'_> {
    /// Records a directive of a stream block read from a main config;
    /// `Err` is its handler's refusal.
    pub(super) fn stream_variables_of(
        &mut self,
        file: usize,
        d: Directive<'_>,
        name: &str,
        ctx: Context,
    ) -> Result<(), String> {
        let Some(mut vars) = self.stream_variables.take() else {
            return Ok(());
        };
        let args: Vec<(String, usize)> = d.args().map(|a| (a.text(), a.span().start)).collect();
        vars.tls(file, name, &args, ctx == Context::StreamServer);
        let has = |m: &str| self.has_module_named(m);
        let result = vars.directive(file, name, &args, (&has, self.newer()));
        self.stream_variables = Some(vars);
        result
    }

    /// The named groups of a stream `map` key.
    pub(super) fn stream_captures(&mut self, names: &[String]) -> Result<(), String> {
        let Some(mut vars) = self.stream_variables.take() else {
            return Ok(());
        };
        let has = |m: &str| self.has_module_named(m);
        let newer = self.newer();
        let result = names
            .iter()
            .try_for_each(|n| vars.capture(n, (&has, newer)));
        self.stream_variables = Some(vars);
        result
    }

    /// A variable a third-party block defines (`geoip2`), in the http or
    /// the stream block being read.
    pub(super) fn define_anywhere(&mut self, var: &str) {
        if let Some(vars) = self.variables.as_mut() {
            vars.define(var);
        }
        if let Some(vars) = self.stream_variables.as_mut() {
            vars.define(var);
        }
    }

    fn newer(&self) -> bool {
        self.options.nginx_version > crate::directives::nginx_version(1, 22, 1)
    }

    /// At a block's end: a stream server's certificates, a stream block's
    /// unknown variables (after its merge and upstream checks).
    /// After a stream block: unknown variables, then the variables hash
    /// (`ngx_stream_variables_init_vars`; nginx names no place for the
    /// hash, the block's `}` stands in).
    pub(super) fn unknown_stream_variables(&mut self, inner: Context, close: (usize, usize)) {
        if inner == Context::StreamServer {
            if let Some(vars) = self.stream_variables.as_mut() {
                vars.close_server();
            }
        }
        if inner != Context::Stream {
            return;
        }
        let Some(vars) = self.stream_variables.take() else {
            return;
        };
        let unknown = vars.unknown(|m| self.has_module_named(m), self.newer());
        self.unknown_then_variables_hash(unknown, vars.longest_name(), close);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(list: &[&str]) -> Vec<(String, usize)> {
        list.iter().map(|s| (s.to_string(), 0)).collect()
    }

    const ALL: Binary<'static> = (&|_| true, false);

    #[test]
    fn uses_and_definitions() {
        let mut v = StreamVariables::default();
        let mut run = |name: &str, list: &[&str]| v.directive(0, name, &args(list), ALL);
        run("set", &["$backend", "$remote_addr:$server_port"]).unwrap();
        run("proxy_pass", &["$backend"]).unwrap();
        run("return", &["$upstream_adr $http_host"]).unwrap();
        run("map", &["$ssl_preread_server_name", "$name"]).unwrap();
        run("log_format", &["x", "$name $1 $protocol"]).unwrap();
        run("resolver", &["$not_compiled"]).unwrap();
        assert_eq!(
            run("set", &["$Remote_Addr", "1"]),
            Err("the duplicate \"Remote_Addr\" variable".into())
        );
        run("set", &["$ssl_protocol", "1"]).unwrap();
        assert_eq!(run("return", &["$"]), Err("invalid variable name".into()));
        assert_eq!(
            run("access_log", &["logs/a.log"]),
            Err("log format is not specified".into())
        );
        assert_eq!(
            run("access_log", &["logs/a.log", "combined"]),
            Err("unknown log format \"combined\"".into())
        );
        run("access_log", &["logs/a.log", "X"]).unwrap();
        run("access_log", &["off"]).unwrap();
        assert_eq!(
            run("log_format", &["x", "$uri"]),
            Err("duplicate \"log_format\" name \"x\"".into())
        );
        let names: Vec<String> = v
            .unknown(|_| true, false)
            .into_iter()
            .map(|(_, _, m)| m)
            .collect();
        assert_eq!(
            names,
            vec![
                "unknown \"upstream_adr\" variable",
                "unknown \"http_host\" variable",
                "unknown \"1\" variable"
            ]
        );
    }

    #[test]
    fn modules_and_newer_variables() {
        let mut v = StreamVariables::default();
        v.directive(
            0,
            "return",
            &args(&["$geoip_city $ssl_sigalg $ssl_preread_protocol"]),
            ALL,
        )
        .unwrap();
        let names = |newer| -> Vec<String> {
            v.unknown(|m| m != "ngx_stream_geoip_module", newer)
                .into_iter()
                .map(|(_, _, m)| m)
                .collect()
        };
        assert_eq!(
            names(false),
            vec![
                "unknown \"geoip_city\" variable",
                "unknown \"ssl_sigalg\" variable"
            ]
        );
        assert_eq!(names(true), vec!["unknown \"geoip_city\" variable"]);
        assert!(builtin_names().any(|n| n == "ssl_preread_server_name"));
    }
}
