//! `unknown "x" variable`: nginx compiles `$name` in most http arguments
//! into an index of variables, and once the whole `http` block is read
//! (`ngx_http_variables_init_vars`) every indexed name must be one a module
//! defines, a prefix variable (`$http_...`, `$arg_...`), or one the
//! configuration defines (`set`, `map`, `geo`, regex named captures ...).
//! nginx names no file or line; the checker points at the first use.

use std::collections::HashSet;

#[path = "variable_table.rs"]
mod table;

/// Every variable name of nginx's own http modules (any release, any
/// module; prefixes like `http_` included), for tests against a real nginx.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    table::HTTP_VARIABLES.iter().map(|&(name, ..)| name)
}

/// Directives whose arguments nginx keeps as literal text (or as regular
/// expressions), so a `$` in them is not a variable.
const LITERAL_ARGS: &[&str] = &[
    "error_log",
    "fastcgi_split_path_info",
    "grpc_ssl_ciphers",
    "include",
    "load_module",
    "location",
    "lock_file",
    "pid",
    "proxy_ssl_ciphers",
    "secure_link_secret",
    "server_name",
    "ssl_ciphers",
    "ssl_conf_command",
    "ssl_password_file",
    "userid_domain",
    "userid_name",
    "userid_p3p",
    "userid_path",
    "uwsgi_ssl_ciphers",
    "valid_referers",
];

/// Directives whose handler indexes a variable of its own, which the
/// configuration must then define (`set $memcached_key ...`).
pub const IMPLIED: &[(&str, &str)] = &[("memcached_pass", "memcached_key")];

/// Directives that define a variable, and which argument names it.
fn defined_by(name: &str, args: usize) -> Option<usize> {
    match name {
        "set" | "perl_set" | "js_set" | "auth_request_set" => Some(0),
        "map" | "split_clients" => Some(1),
        "geo" => Some(args.saturating_sub(1)),
        n if n.starts_with("set_by_lua") => Some(0),
        _ => None,
    }
}

/// The variables of one `http` block: what it defines, what it uses.
#[derive(Debug, Default)]
pub struct HttpVariables {
    defined: HashSet<String>,
    /// (name, file, byte offset of the argument) in the order met.
    uses: Vec<(String, usize, usize)>,
}

impl HttpVariables {
    /// Records a directive of nginx's own modules: its definitions, and the
    /// variables its compiled arguments use. `args` are (text, offset).
    pub fn directive(
        &mut self,
        file: usize,
        name: &str,
        args: &[(String, usize)],
    ) -> Result<(), String> {
        if let Some((_, var)) = IMPLIED.iter().find(|(n, _)| *n == name) {
            let offset = args.first().map_or(0, |(_, o)| *o);
            self.uses.push((var.to_string(), file, offset));
        }
        for (text, _) in args {
            self.captures(text);
        }
        if let Some(i) = defined_by(name, args.len()) {
            if let Some(var) = args.get(i).and_then(|(t, _)| t.strip_prefix('$')) {
                self.defined.insert(var.to_ascii_lowercase());
            }
        }
        if LITERAL_ARGS.contains(&name) {
            return Ok(());
        }
        // Compiled when the block is merged (headers and params), or by
        // the log module's own compiler: malformed references are refused
        // elsewhere, in other words; only their variables are recorded.
        let compiled_later =
            name.ends_with("_set_header") || name.ends_with("_param") || name == "log_format";
        // Arguments from this index on are regular expressions: an `if`'s
        // right side after `~`; the first of `rewrite` (and of
        // `proxy_redirect ~...`).
        let regex_from = match name {
            "if" => args
                .iter()
                .position(|(t, _)| matches!(t.as_str(), "~" | "~*" | "!~" | "!~*"))
                .map(|op| op + 1),
            _ => None,
        };
        let regex_first = match name {
            "rewrite" => true,
            "proxy_redirect" | "proxy_cookie_path" | "proxy_cookie_domain" => {
                args.first().is_some_and(|(t, _)| t.starts_with('~'))
            }
            _ => false,
        };
        for (i, (text, offset)) in args.iter().enumerate() {
            let regex = (i == 0 && regex_first) || regex_from.is_some_and(|from| i >= from);
            if !regex && text.contains('$') {
                match self.uses_in(text, file, *offset) {
                    Err(_) if compiled_later => {
                        for name in references(text) {
                            self.uses.push((name.to_ascii_lowercase(), file, *offset));
                        }
                    }
                    other => other?,
                }
            }
        }
        Ok(())
    }

    /// A `map` entry: the key is literal (or a regex), the value compiled.
    pub fn map_entry(
        &mut self,
        file: usize,
        key: &str,
        value: Option<(&str, usize)>,
    ) -> Result<(), String> {
        self.captures(key);
        match value {
            Some((text, offset)) => self.uses_in(text, file, offset),
            None => Ok(()),
        }
    }

    /// A `geoip2` body entry `$name source ...` defines `$name`.
    pub fn define(&mut self, name: &str) {
        if let Some(var) = name.strip_prefix('$') {
            self.defined.insert(var.to_ascii_lowercase());
        }
    }

    /// Records the variables `text` uses (nginx lowercases names); `Err`
    /// is `ngx_http_script_compile`'s refusal of a malformed reference.
    fn uses_in(&mut self, text: &str, file: usize, offset: usize) -> Result<(), String> {
        script_error(text)?;
        for name in references(text) {
            self.uses.push((name.to_ascii_lowercase(), file, offset));
        }
        Ok(())
    }

    fn captures(&mut self, text: &str) {
        if text.contains("(?") {
            self.defined.extend(
                named_captures(text)
                    .into_iter()
                    .map(|n| n.to_ascii_lowercase()),
            );
        }
    }

    /// The first use of each unknown variable, with nginx's message.
    pub fn unknown(
        &self,
        has_module: impl Fn(&str) -> bool,
        newer: bool,
    ) -> Vec<(usize, usize, String)> {
        // What the modelled binary defines, worked out once per module.
        let mut modules: Vec<(&str, bool)> = Vec::new();
        let mut exact: HashSet<&str> = HashSet::new();
        let mut prefixes: Vec<&str> = Vec::new();
        for &(var, module, prefix, is_newer) in table::HTTP_VARIABLES {
            let has = match modules.iter().find(|(m, _)| *m == module) {
                Some(&(_, has)) => has,
                None => {
                    let has = has_module(module);
                    modules.push((module, has));
                    has
                }
            };
            if has && (newer || !is_newer) {
                if prefix {
                    prefixes.push(var);
                } else {
                    exact.insert(var);
                }
            }
        }
        let known = |name: &str| {
            self.defined.contains(name)
                || exact.contains(name)
                || prefixes.iter().any(|p| name.starts_with(p))
        };
        let mut reported = HashSet::new();
        self.uses
            .iter()
            .filter(|(name, _, _)| !known(name) && reported.insert(name.clone()))
            .map(|(name, file, offset)| (*file, *offset, format!("unknown \"{name}\" variable")))
            .collect()
    }
}

/// `ngx_http_script_compile`'s refusals of a `$` reference: no name
/// (`$`, `$-`, `${}`), or `${name` without its `}`.
pub fn script_error(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let name_byte = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        i += 1;
        if matches!(b.get(i), Some(b'1'..=b'9')) {
            i += 1;
            continue;
        }
        let bracket = b.get(i) == Some(&b'{');
        if bracket {
            i += 1;
        }
        let start = i;
        while i < b.len() && name_byte(b[i]) {
            i += 1;
        }
        let name = &text[start..i];
        if bracket {
            if b.get(i) != Some(&b'}') {
                return Err(format!(
                    "the closing bracket in \"{name}\" variable is missing"
                ));
            }
            i += 1;
        }
        if name.is_empty() {
            return Err("invalid variable name".into());
        }
    }
    Ok(())
}

/// The variable names `ngx_http_script_compile` would index in `text`:
/// `$name` and `${name}`; `$1`..`$9` are regex captures, not variables.
pub fn references(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let name_byte = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        i += 1;
        match b.get(i) {
            Some(b'1'..=b'9') => i += 1,
            Some(b'{') => {
                let start = i + 1;
                let end = start + b[start..].iter().take_while(|&&c| name_byte(c)).count();
                if b.get(end) == Some(&b'}') && end > start {
                    out.push(&text[start..end]);
                }
                i = end;
            }
            Some(_) => {
                let end = i + b[i..].iter().take_while(|&&c| name_byte(c)).count();
                if end > i {
                    out.push(&text[i..end]);
                }
                i = end;
            }
            None => {}
        }
    }
    out
}

/// Named groups of a PCRE pattern (`(?<n>`, `(?P<n>`, `(?'n'`): nginx
/// makes each a variable when it compiles the regex.
pub fn named_captures(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [("(?<", '>'), ("(?P<", '>'), ("(?'", '\'')] {
        let mut rest = text;
        while let Some(at) = rest.find(open) {
            rest = &rest[at + open.len()..];
            if let Some(end) = rest.find(close) {
                let name = &rest[..end];
                if !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn references_as_the_script_compiler_reads_them() {
        assert_eq!(references("$host"), vec!["host"]);
        assert_eq!(references("${host}x$uri/"), vec!["host", "uri"]);
        assert_eq!(references("/x/$1/$2$is_args$args"), vec!["is_args", "args"]);
        assert_eq!(references("^/(.*)$"), Vec::<&str>::new());
        assert_eq!(references("cost: $"), Vec::<&str>::new());
        assert_eq!(references("a$b-c"), vec!["b"]);
    }

    #[test]
    fn named_groups() {
        assert_eq!(
            named_captures("^/(?<user>[^/]+)/(?P<repo>.+)/(?'rest'.*)$"),
            vec!["user", "repo", "rest"]
        );
        assert!(named_captures("^/(?:x)(?=y)").is_empty());
    }

    fn unknown_of(v: &HttpVariables) -> Vec<String> {
        v.unknown(|_| true, false)
            .into_iter()
            .map(|(_, _, m)| m)
            .collect()
    }

    fn args(list: &[&str]) -> Vec<(String, usize)> {
        list.iter().map(|s| (s.to_string(), 0)).collect()
    }

    #[test]
    fn definitions_builtins_and_prefixes() {
        let mut v = HttpVariables::default();
        v.directive(0, "proxy_set_header", &args(&["X-Real-IP", "$remote_adr"]))
            .unwrap();
        v.directive(0, "return", &args(&["200", "$later $http_x_y $arg_q $arg"]))
            .unwrap();
        v.directive(0, "set", &args(&["$later", "1"])).unwrap();
        v.directive(0, "location", &args(&["~", "^/(?<slug>.+)$x"]))
            .unwrap();
        v.directive(0, "return", &args(&["200", "$slug"])).unwrap();
        v.directive(0, "rewrite", &args(&["^/a$b", "/c"])).unwrap();
        v.directive(0, "if", &args(&["($uri", "~", "$nope)"]))
            .unwrap();
        assert_eq!(
            unknown_of(&v),
            vec![
                "unknown \"remote_adr\" variable",
                "unknown \"arg\" variable"
            ]
        );
    }

    #[test]
    fn newer_variables_and_missing_modules() {
        let mut v = HttpVariables::default();
        v.directive(0, "return", &args(&["200", "$ssl_sigalg $geoip_city"]))
            .unwrap();
        let modules = |m: &str| m != "ngx_http_geoip_module";
        let names = |newer| -> Vec<String> {
            v.unknown(modules, newer)
                .into_iter()
                .map(|(_, _, m)| m)
                .collect()
        };
        assert_eq!(
            names(false),
            vec![
                "unknown \"ssl_sigalg\" variable",
                "unknown \"geoip_city\" variable"
            ]
        );
        assert_eq!(names(true), vec!["unknown \"geoip_city\" variable"]);
    }

    #[test]
    fn malformed_references_as_the_script_compiler_refuses_them() {
        assert_eq!(script_error("$host ${host}x $1 $arg_a"), Ok(()));
        assert_eq!(script_error("x$"), Err("invalid variable name".into()));
        assert_eq!(script_error("${}"), Err("invalid variable name".into()));
        assert_eq!(
            script_error("${a b}"),
            Err("the closing bracket in \"a\" variable is missing".into())
        );
    }
}
