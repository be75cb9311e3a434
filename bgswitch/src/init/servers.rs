//! The `server { ... }` blocks of a config and what their `proxy_pass`
//! lines send traffic to: how `init` finds the front of the switch.

use nginx_edit::includes::ConfigSet;
use nginx_edit::{Directive, Document};

/// `server { ... }` blocks (virtual servers, not upstream `server` lines).
pub fn virtual_servers(doc: &Document) -> Vec<Directive<'_>> {
    doc.walk()
        .filter(|d| d.is("server") && d.block().is_some())
        .collect()
}

/// Every directive inside `d`, depth first.
pub fn descendants<'a>(d: Directive<'a>) -> Vec<Directive<'a>> {
    let mut out = Vec::new();
    for c in d.children() {
        out.push(c);
        out.extend(descendants(c));
    }
    out
}

/// What the `proxy_pass http://X...` lines among `inner` proxy to: an
/// upstream name or a variable (`$backend`), in order, once each.
pub fn proxied_targets(inner: &[Directive<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for d in inner.iter().filter(|d| d.is("proxy_pass")) {
        if let Some(t) = d.arg(0).and_then(|a| proxy_target(&a.text())) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// `http://$backend/health` -> `$backend`; `https://app:8080` -> `app`.
pub fn proxy_target(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    if let Some(v) = rest.strip_prefix("${") {
        return v.split_once('}').map(|(n, _)| format!("${n}"));
    }
    let end = rest
        .char_indices()
        .skip(1)
        .find(|&(_, c)| {
            if rest.starts_with('$') {
                !(c.is_ascii_alphanumeric() || c == '_')
            } else {
                c == '/' || c == ':'
            }
        })
        .map_or(rest.len(), |(i, _)| i);
    let t = &rest[..end];
    (!t.is_empty() && t != "$").then(|| t.to_string())
}

/// A `server` block that proxies to something `refers` accepts.
#[derive(Debug, Clone)]
pub struct ProxyingServer {
    pub file: usize,
    pub line: usize,
    /// Lines of the matching `proxy_pass` directives.
    pub proxy_lines: Vec<usize>,
}

/// Every `server` block in the set with a `proxy_pass` to a target
/// `refers` accepts.
pub fn proxying_servers(set: &ConfigSet, refers: impl Fn(&str) -> bool) -> Vec<ProxyingServer> {
    let mut out = Vec::new();
    for (file, f) in set.files.iter().enumerate() {
        for server in virtual_servers(f.doc()) {
            let proxy_lines: Vec<usize> = descendants(server)
                .iter()
                .filter(|d| d.is("proxy_pass"))
                .filter(|d| {
                    d.arg(0)
                        .and_then(|a| proxy_target(&a.text()))
                        .is_some_and(|t| refers(&t))
                })
                .map(|d| d.line())
                .collect();
            if !proxy_lines.is_empty() {
                out.push(ProxyingServer {
                    file,
                    line: server.line(),
                    proxy_lines,
                });
            }
        }
    }
    out
}
