//! `unknown "x" variable`: nginx compiles `$name` in most http arguments
//! into an index of variables, and once the whole `http` block is read
//! (`ngx_http_variables_init_vars`) every indexed name must be one a module
//! defines, a prefix variable (`$http_...`, `$arg_...`), or one the
//! configuration defines (`set`, `map`, `geo`, regex named captures ...).
//! nginx names no file or line; the checker points at the first use.

use super::literal_args::{literal_handler, LITERAL_ARGS};
use std::borrow::Cow;
use std::collections::HashSet;

use crate::directives::FastHash;

#[path = "variable_table.rs"]
pub(super) mod table;

/// Every variable name of nginx's own http modules (any release, any
/// module; prefixes like `http_` included), for tests against a real nginx.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    table::HTTP_VARIABLES.iter().map(|&(name, ..)| name)
}

/// The variables of nginx's own http modules that a `set`, a `map` or a
/// named group may define again (`NGX_HTTP_VAR_CHANGEABLE`); any other
/// built-in one is `the duplicate "host" variable` there.
const CHANGEABLE: &[&str] = &[
    "ancient_browser",
    "args",
    "invalid_referer",
    "limit_rate",
    "modern_browser",
    "msie",
    "proxy_host",
    "proxy_port",
    "ssl_alpn_protocol",
    "ssl_cipher",
    "ssl_ciphers",
    "ssl_client_cert",
    "ssl_client_escaped_cert",
    "ssl_client_fingerprint",
    "ssl_client_i_dn",
    "ssl_client_i_dn_legacy",
    "ssl_client_raw_cert",
    "ssl_client_s_dn",
    "ssl_client_s_dn_legacy",
    "ssl_client_serial",
    "ssl_client_v_end",
    "ssl_client_v_remain",
    "ssl_client_v_start",
    "ssl_client_verify",
    "ssl_curve",
    "ssl_curves",
    "ssl_early_data",
    "ssl_protocol",
    "ssl_server_name",
    "ssl_session_id",
    "ssl_session_reused",
    "uid_reset",
];

/// Whether `name` (any case) is a built-in http variable of a module the
/// binary has that the configuration may not define again.
pub fn fixed_builtin(name: &str, has_module: impl Fn(&str) -> bool, newer: bool) -> bool {
    let lower = crate::lex::ascii_lowercase(name);
    let lower = lower.as_ref();
    if CHANGEABLE.binary_search(&lower).is_ok() {
        return false;
    }
    // The table is sorted by name (a test says so): the entries named
    // `lower` are one run of it.
    let table = table::HTTP_VARIABLES;
    let from = table.partition_point(|&(var, ..)| var < lower);
    table[from..]
        .iter()
        .take_while(|&&(var, ..)| var == lower)
        .any(|&(_, module, prefix, is_newer)| !prefix && (newer || !is_newer) && has_module(module))
}

/// Directives whose handler indexes a variable of its own, which the
/// configuration must then define (`set $memcached_key ...`).
pub const IMPLIED: &[(&str, &str)] = &[("memcached_pass", "memcached_key")];

/// Directives that define a variable, and which argument names it.
pub(super) fn defined_by(name: &str, args: usize) -> Option<usize> {
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
    defined: HashSet<String, FastHash>,
    /// (name, file, byte offset of the argument) in the order met.
    uses: Vec<(String, usize, usize)>,
    /// The uses of arguments compiled when the servers are merged
    /// (`*_set_header`, `*_param`), after every handler has run: those
    /// of the http level (compiled only if a server inherits them), then
    /// the others.
    http_merged: Vec<(String, usize, usize)>,
    merged: Vec<(String, usize, usize)>,
    /// Whether the http block has a server (a merge to compile in).
    servers: bool,
    /// The first malformed merged argument: (of the http level, refusal).
    merged_error: Option<(bool, String)>,
}

impl HttpVariables {
    /// Records a directive of nginx's own modules: its definitions, and the
    /// variables its compiled arguments use. `args` are (text, offset).
    /// `http_level`: the directive sits in the http block itself.
    pub fn directive(
        &mut self,
        file: usize,
        (set, name): (&str, &str),
        args: &[(Cow<'_, str>, usize)],
        http_level: bool,
    ) -> Result<(), String> {
        if let Some((_, var)) = IMPLIED.iter().find(|(n, _)| *n == name) {
            let offset = args.first().map_or(0, |(_, o)| *o);
            self.used_at(var, file, offset);
        }
        let defining = defined_by(name, args.len());
        if let Some(i) = defining {
            if let Some(var) = args.get(i).and_then(|(t, _)| t.strip_prefix('$')) {
                self.defined.insert(var.to_ascii_lowercase());
            }
        }
        // an `if`'s `$name` operand is one name to its end
        let operand = (name == "if").then(|| if_operand(args)).flatten();
        if let Some((i, var)) = &operand {
            self.used_at(var, file, args[*i].1);
        }
        if LITERAL_ARGS.contains(&name) || literal_handler(set, name) {
            return Ok(());
        }
        // add_header's, *_set_header's and *_param's names are text; their
        // values are compiled
        let args = match set {
            "ngx_http_headers_add"
            | "ngx_conf_set_keyval_slot"
            | "ngx_http_upstream_param_set_slot" => args.get(1..).unwrap_or_default(),
            // a script, then flags (`consistent`, `transparent`)
            "ngx_http_upstream_hash" | "ngx_http_upstream_bind_set_slot" => {
                args.get(..1).unwrap_or_default()
            }
            "ngx_http_upstream_random" => &[],
            // the path, the format's name (text), then `if=`'s condition
            "ngx_http_log_set_log" => {
                let path = args.first().into_iter().map(|(t, o)| (t.as_ref(), *o));
                let conditions = args
                    .iter()
                    .filter_map(|(t, o)| Some((t.strip_prefix("if=")?, *o)));
                for (text, offset) in path.chain(conditions) {
                    if text.contains('$') {
                        self.uses_in(text, file, offset)?;
                    }
                }
                return Ok(());
            }
            // geo's source is a variable's name, not a script
            "ngx_http_geo_block" => {
                if let [(source, offset), _] = args {
                    if let Some(var) = source.strip_prefix('$').filter(|v| !v.is_empty()) {
                        self.used_at(var, file, *offset);
                    }
                }
                return Ok(());
            }
            // `$name` is one variable name to its end (ngx_http_set_charset_slot)
            "ngx_http_set_charset_slot" => {
                if let Some((var, offset)) = args
                    .first()
                    .and_then(|(t, o)| Some((t.strip_prefix('$')?, *o)))
                {
                    self.used_at(var, file, offset);
                }
                return Ok(());
            }
            _ => args,
        };
        if name == "log_format" {
            // its own compiler (which refuses malformed references itself)
            let parts: Vec<String> = args.iter().skip(1).map(|(t, _)| t.to_string()).collect();
            let offset = args.get(1).map_or(0, |(_, o)| *o);
            for var in super::log_format::compile(&parts).unwrap_or_default() {
                self.uses.push((var.to_ascii_lowercase(), file, offset));
            }
            return Ok(());
        }
        // Compiled when the block is merged (headers and params), or by
        // the log module's own compiler: malformed references are refused
        // elsewhere, in other words; only their variables are recorded.
        let merged =
            name.ends_with("_set_header") || name.ends_with("_param") || name == "proxy_set_body";
        let compiled_later = merged;
        // Arguments from this index on are regular expressions: an `if`'s
        // right side after `~`; the first of `rewrite` (and of
        // `proxy_redirect ~...`).
        let regex_from = match name {
            "if" => args
                .iter()
                .position(|(t, _)| matches!(t.as_ref(), "~" | "~*" | "!~" | "!~*"))
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
            // a defined name, or an `if` operand: names, not scripts
            let named = defining == Some(i) || operand.as_ref().is_some_and(|(at, _)| *at == i);
            if !regex && !named && text.contains('$') {
                let before = self.uses.len();
                match self.uses_in(text, file, *offset) {
                    Err(message) if compiled_later => {
                        if self.merged_error.is_none() {
                            self.merged_error = Some((http_level, message));
                        }
                        for name in references(text) {
                            self.used_at(name, file, *offset);
                        }
                    }
                    other => other?,
                }
                if merged {
                    let uses = self.uses.split_off(before);
                    if http_level {
                        self.http_merged.extend(uses);
                    } else {
                        self.merged.extend(uses);
                    }
                }
            }
        }
        Ok(())
    }

    /// The refusal of a merged argument nginx compiles (an http level one
    /// only with a server to inherit it), at the http block's end.
    pub fn merged_error(&self) -> Option<&str> {
        let (http_level, message) = self.merged_error.as_ref()?;
        (!http_level || self.servers).then_some(message.as_str())
    }

    /// Variables compiled when the servers are merged, found outside
    /// (`ssl_certificate`'s).
    pub fn merged_uses(&mut self, uses: impl IntoIterator<Item = (String, usize, usize)>) {
        self.merged.extend(uses);
    }

    /// A `map` entry's value, compiled (its key is literal, or a regex).
    pub fn map_entry(&mut self, file: usize, value: Option<(&str, usize)>) -> Result<(), String> {
        match value {
            Some((text, offset)) => self.uses_in(text, file, offset),
            None => Ok(()),
        }
    }

    /// `$name` (a `geoip2` body entry) or `name` (a named group) defined.
    pub fn define(&mut self, name: &str) {
        let var = crate::lex::ascii_lowercase(name.strip_prefix('$').unwrap_or(name));
        if !self.defined.contains(var.as_ref()) {
            self.defined.insert(var.into_owned());
        }
    }

    /// Records the variables `text` uses (nginx lowercases names); `Err`
    /// is `ngx_http_script_compile`'s refusal of a malformed reference.
    /// An http `server` block: the http level's merged arguments get
    /// compiled.
    pub fn server(&mut self) {
        self.servers = true;
    }

    fn uses_in(&mut self, text: &str, file: usize, offset: usize) -> Result<(), String> {
        script_error(text)?;
        for name in references(text) {
            self.used_at(name, file, offset);
        }
        Ok(())
    }

    /// Records a use of `name` (nginx lowercases it). The core module's
    /// variables are always known: not recorded (most uses are theirs, and
    /// a big config has thousands).
    fn used_at(&mut self, name: &str, file: usize, offset: usize) {
        let name = crate::lex::ascii_lowercase(name);
        if !always_known(&name) {
            self.uses.push((name.into_owned(), file, offset));
        }
    }

    /// The longest name the variables hash holds: a defined one, or a
    /// builtin's (`ngx_http_variables_init_vars` hashes every non-prefix
    /// variable).
    pub fn longest_name(&self) -> usize {
        let builtin = table::HTTP_VARIABLES
            .iter()
            .filter(|&&(_, _, prefix, newer)| !prefix && !newer)
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
        // What the modelled binary defines, worked out once per module.
        let mut modules: Vec<(&str, bool)> = Vec::new();
        let mut exact: HashSet<&str, FastHash> = HashSet::default();
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
        let http_merged = self.http_merged.iter().filter(|_| self.servers);
        self.uses
            .iter()
            .chain(http_merged)
            .chain(&self.merged)
            .filter(|(name, _, _)| !known(name) && reported.insert(name.clone()))
            .map(|(name, file, offset)| (*file, *offset, format!("unknown \"{name}\" variable")))
            .collect()
    }
}

/// Whether `name` (lowercase) is a variable of `ngx_http_core_module`
/// in 1.22, which every build has: never unknown.
fn always_known(name: &str) -> bool {
    static CORE: std::sync::OnceLock<(HashSet<&str, FastHash>, Vec<&str>)> =
        std::sync::OnceLock::new();
    let (exact, prefixes) = CORE.get_or_init(|| {
        let mut exact = HashSet::default();
        let mut prefixes = Vec::new();
        for &(var, module, prefix, newer) in table::HTTP_VARIABLES {
            if module == "ngx_http_core_module" && !newer {
                if prefix {
                    prefixes.push(var);
                } else {
                    exact.insert(var);
                }
            }
        }
        (exact, prefixes)
    });
    exact.contains(name) || prefixes.iter().any(|p| name.starts_with(p))
}

/// `ngx_http_rewrite_if_condition`'s variable operand: the argument after
/// `(` (its own or a separate one), up to a `)` that ends the condition,
/// when it starts with `$` and has a name; (its index, the name).
fn if_operand(args: &[(Cow<'_, str>, usize)]) -> Option<(usize, String)> {
    let first = args.first()?.0.strip_prefix('(')?;
    let (at, text) = if first.is_empty() {
        (1, args.get(1)?.0.as_ref())
    } else {
        (0, first)
    };
    let text = if at + 1 == args.len() {
        text.strip_suffix(')')?
    } else {
        text
    };
    let var = text.strip_prefix('$').filter(|v| !v.is_empty())?;
    Some((at, var.to_string()))
}

/// `ngx_http_script_compile`'s refusals of a `$` reference: no name
/// (`$`, `$-`, `${}`), or `${name` without its `}`.
pub fn script_error(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
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
        match reference(text, i) {
            Reference::Name(_, end) => i = end,
            Reference::Unclosed(name) => return Err(unclosed(name)),
            Reference::Empty => return Err("invalid variable name".into()),
        }
    }
    Ok(())
}

/// A `$` reference as nginx's compilers read it (the script compiler and
/// `log_format`'s own), from just after the `$`.
pub enum Reference<'t> {
    /// `name` or `{name}`, and the offset after it.
    Name(&'t str, usize),
    /// `${name` without its `}` (checked before an empty name: `${-`).
    Unclosed(&'t str),
    /// No name: nothing after the `$` (or `${`), or no name byte.
    Empty,
}

/// Reads the reference of `text` whose `$` ends just before `i`.
pub fn reference(text: &str, mut i: usize) -> Reference<'_> {
    let b = text.as_bytes();
    let bracket = b.get(i) == Some(&b'{');
    if bracket {
        i += 1;
    }
    if i >= b.len() {
        return Reference::Empty;
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    let name = &text[start..i];
    if bracket {
        if b.get(i) != Some(&b'}') {
            return Reference::Unclosed(name);
        }
        i += 1;
    }
    if name.is_empty() {
        return Reference::Empty;
    }
    Reference::Name(name, i)
}

/// Both compilers' message for [`Reference::Unclosed`].
pub fn unclosed(name: &str) -> String {
    format!("the closing bracket in \"{name}\" variable is missing")
}

/// The variable names `ngx_http_script_compile` would index in `text`:
/// `$name` and `${name}`; `$1`..`$9` are regex captures, not variables.
pub fn references(text: &str) -> impl Iterator<Item = &str> {
    let b = text.as_bytes();
    let name_byte = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(at) = memchr::memchr(b'$', &b[i..]) {
            i += at + 1;
            match b.get(i) {
                Some(b'1'..=b'9') => i += 1,
                Some(b'{') => {
                    let start = i + 1;
                    let end = start + b[start..].iter().take_while(|&&c| name_byte(c)).count();
                    i = end;
                    if b.get(end) == Some(&b'}') && end > start {
                        return Some(&text[start..end]);
                    }
                }
                Some(_) => {
                    let start = i;
                    let end = i + b[i..].iter().take_while(|&&c| name_byte(c)).count();
                    i = end;
                    if end > start {
                        return Some(&text[start..end]);
                    }
                }
                None => {}
            }
        }
        i = b.len();
        None
    })
}

#[cfg(test)]
#[path = "variables_tests.rs"]
mod tests;
