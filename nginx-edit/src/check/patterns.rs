//! The walk's side of regular expressions: a directive's patterns go
//! through PCRE2 (`regex`) when its handler runs, and the variables a
//! handler adds (named groups, `set`, `map` ...) must not be built-in
//! ones nginx does not let a configuration define again
//! (`ngx_http_add_variable`: `the duplicate "host" variable`).

use super::{regex, variables, Walker};
use crate::directives::{DirectiveSpec, ModuleKind, Source};

/// Handlers of nginx's http modules that compile patterns as they read
/// their directive (`if` is handled with its condition).
const COMPILING: &[&str] = &[
    "ngx_http_core_location",
    "ngx_http_core_server_name",
    "ngx_http_fastcgi_split_path_info",
    "ngx_http_gzip_disable",
    "ngx_http_proxy_cookie_domain",
    "ngx_http_proxy_cookie_flags",
    "ngx_http_proxy_cookie_path",
    "ngx_http_proxy_redirect",
    "ngx_http_rewrite",
    "ngx_http_valid_referers",
];

/// Handlers that add the variable their argument names, and which one.
fn defines(set: &str, args: usize) -> Option<usize> {
    match set {
        "ngx_http_rewrite_set" | "ngx_http_auth_request_set" | "ngx_http_perl_set" => Some(0),
        "ngx_http_map_block" | "ngx_conf_split_clients_block" => Some(1),
        "ngx_http_geo_block" => Some(args.saturating_sub(1)),
        _ => None,
    }
}

/// Whether [`Walker::patterns`] has anything to do for this entry (the
/// walk asks once per entry, see `facts`).
pub(super) fn applies(spec: &DirectiveSpec) -> bool {
    spec.kind == ModuleKind::Http
        && spec.source == Source::Nginx
        && (COMPILING.binary_search(&spec.set).is_ok() || defines(spec.set, 1).is_some())
}

impl Walker<'_> {
    /// The patterns of directive `name`, compiled as its handler compiles
    /// them, and the variables the handler adds.
    pub(super) fn patterns(
        &mut self,
        spec: &DirectiveSpec,
        name: &str,
        args: &[String],
    ) -> Result<(), String> {
        if spec.kind != ModuleKind::Http || spec.source != Source::Nginx {
            return Ok(());
        }
        if COMPILING.binary_search(&spec.set).is_ok() {
            let names = regex::directive(name, args)?;
            self.add_variables(names.iter().map(String::as_str))?;
        }
        if let Some(i) = defines(spec.set, args.len()) {
            if let Some(var) = args.get(i).and_then(|a| a.strip_prefix('$')) {
                self.add_variables(std::iter::once(var))?;
            }
        }
        Ok(())
    }

    /// `ngx_http_add_variable` for each name: refused when a module of the
    /// binary defines it and does not let it change; otherwise the http
    /// block defines it (named groups: `set` and the like are recorded with
    /// their directive).
    pub(super) fn add_variables<'n>(
        &mut self,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Result<(), String> {
        let newer = self.options.nginx_version > crate::directives::nginx_version(1, 22, 1);
        for n in names {
            if variables::fixed_builtin(n, |m| self.has_module_named(m), newer) {
                return Err(format!("the duplicate \"{n}\" variable"));
            }
            if let Some(vars) = self.variables.as_mut() {
                vars.define(n);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn compiling_is_sorted_for_binary_search() {
        assert!(super::COMPILING.windows(2).all(|w| w[0] < w[1]));
    }
}
