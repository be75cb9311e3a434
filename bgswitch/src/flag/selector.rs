//! The flag selector as nginx reads it: in every `server` that proxies
//! with `$VAR`, `set $VAR DEFAULT;` then `if (-f DIR/NAME) { set $VAR
//! VALUE; }` lines, evaluated in order on every request (the default, then
//! each test that matches overrides). The one place that reads selectors:
//! `init` finds them with [`read_server`], the switch with [`Selector::read`].

use std::path::{Path, PathBuf};

use nginx_edit::includes::ConfigSet;
use nginx_edit::{Directive, Document};

use crate::init::servers::{descendants, proxied_targets, virtual_servers};

/// The form a selector must have, shown when one does not.
pub const EXPECTED: &str = "expected, in the server (or location) that proxies: `set $backend app_blue;` then `if (-f /var/lib/bgswitch/app/green) { set $backend app_green; }`";

/// A selector line that bgswitch refuses, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct SelectorError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// `if (-f PATH) { set $VAR VALUE; }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagTest {
    /// The path as written (absolute, no variables).
    pub path: String,
    pub value: String,
    pub line: usize,
}

impl FlagTest {
    /// The directory and the flag file's name.
    pub fn dir_and_name(&self) -> (&str, &str) {
        self.path.rsplit_once('/').unwrap_or(("", &self.path))
    }
}

/// The selector of one `server` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSelector {
    /// Index into the config set's files, and its path.
    pub file: usize,
    pub path: PathBuf,
    pub server_line: usize,
    pub default: String,
    pub default_line: usize,
    pub tests: Vec<FlagTest>,
    /// `open_file_cache` in effect where the tests run: its file and line.
    pub open_file_cache: Option<(PathBuf, usize)>,
}

impl ServerSelector {
    /// What must agree between servers.
    fn meaning(&self) -> (&str, Vec<(&str, &str)>) {
        (
            &self.default,
            self.tests
                .iter()
                .map(|t| (t.path.as_str(), t.value.as_str()))
                .collect(),
        )
    }
}

/// The selector of `server` (a `server { }` block of file `file`) for
/// `var`: `Ok(None)` when the server sets `var` nowhere; an error when it
/// does, but not in the expected form.
pub fn read_server(
    set: &ConfigSet,
    file: usize,
    server: Directive<'_>,
    var: &str,
) -> Result<Option<ServerSelector>, SelectorError> {
    let doc = set.files[file].doc();
    let path = set.files[file].path.clone();
    let at = |line: usize, message: String| SelectorError {
        file: path.clone(),
        line,
        message: format!("{message}; {EXPECTED}"),
    };
    let inner = descendants(server);
    let sets_var = |d: &Directive<'_>| d.is("set") && d.arg(0).is_some_and(|a| a.text() == var);
    let sets: Vec<&Directive<'_>> = inner.iter().filter(|d| sets_var(d)).collect();
    if sets.is_empty() {
        return Ok(None);
    }
    for s in &sets {
        if s.arg_count() != 2 {
            return Err(at(s.line(), format!("`set {var}` takes exactly one value")));
        }
    }
    let parent_of = |d: &Directive<'_>| enclosing(&inner, server, d);
    let defaults: Vec<&&Directive<'_>> = sets.iter().filter(|s| !parent_of(s).is("if")).collect();
    let default = match defaults.as_slice() {
        [one] => **one,
        [] => {
            return Err(at(
                server.line(),
                format!("this server sets {var} only inside `if`: no default (`set {var} VALUE;`)"),
            ))
        }
        [_, second, ..] => {
            return Err(at(
                second.line(),
                format!("a second `set {var}` outside an `if`: one default only"),
            ))
        }
    };
    let block = parent_of(default);
    let mut tests = Vec::new();
    for s in sets.iter().filter(|s| parent_of(s).is("if")) {
        let cond = parent_of(s);
        let line = cond.line();
        let path = flag_test(&cond).ok_or_else(|| {
            at(
                line,
                format!("`if` that sets {var} does not test `-f PATH`"),
            )
        })?;
        if path.contains('$') || !path.starts_with('/') {
            return Err(at(
                line,
                format!("flag path \"{path}\": write an absolute path without variables"),
            ));
        }
        if cond.children().count() != 1 {
            return Err(at(
                line,
                format!("the `if (-f {path})` block holds more than `set {var} VALUE;`"),
            ));
        }
        if enclosing(&inner, server, &cond).span() != block.span() {
            return Err(at(
                line,
                format!(
                    "this flag test is in another block than `set {var}` (line {}): nginx would evaluate them apart",
                    default.line()
                ),
            ));
        }
        if cond.span().start < default.span().start {
            return Err(at(
                line,
                format!(
                    "this flag test comes before the default (line {}), which would override it",
                    default.line()
                ),
            ));
        }
        tests.push(FlagTest {
            path,
            value: s.arg(1).map(|a| a.text()).unwrap_or_default(),
            line,
        });
    }
    if tests.is_empty() {
        return Err(at(
            default.line(),
            format!("`set {var}` but no `if (-f PATH) {{ set {var} VALUE; }}`"),
        ));
    }
    let default_value = default.arg(1).map(|a| a.text()).unwrap_or_default();
    for (i, t) in tests.iter().enumerate() {
        if t.value == default_value || tests[..i].iter().any(|o| o.value == t.value) {
            return Err(at(
                t.line,
                format!(
                    "\"{}\" is already selected by an earlier line: one flag per value, none for the default",
                    t.value
                ),
            ));
        }
    }
    Ok(Some(ServerSelector {
        file,
        open_file_cache: open_file_cache(set, file, doc, default),
        path,
        server_line: server.line(),
        default: default_value,
        default_line: default.line(),
        tests,
    }))
}

/// The innermost block among `inner` (or `server`) that holds `d`.
fn enclosing<'a>(
    inner: &[Directive<'a>],
    server: Directive<'a>,
    d: &Directive<'_>,
) -> Directive<'a> {
    inner
        .iter()
        .filter(|p| {
            p.block().is_some() && p.span().start < d.span().start && d.span().end <= p.span().end
        })
        .max_by_key(|p| p.span().start)
        .copied()
        .unwrap_or(server)
}

/// `if (-f PATH)` (spaces inside the parentheses or not): PATH.
pub fn flag_test(d: &Directive<'_>) -> Option<String> {
    if !d.is("if") {
        return None;
    }
    let cond: Vec<String> = d.args().map(|a| a.text()).collect();
    let cond = cond.join(" ");
    let cond = cond.trim().strip_prefix('(')?.strip_suffix(')')?.trim();
    let path = cond.strip_prefix("-f")?;
    if !path.starts_with([' ', '\t']) {
        return None;
    }
    Some(path.trim().trim_matches(['"', '\'']).to_string())
}

/// The `open_file_cache` that applies where `at` runs: the nearest one in
/// its enclosing blocks; when the file is included and has no `http`
/// block of its own, one at `http` level in another file of the set.
/// `open_file_cache off;` is no cache.
fn open_file_cache(
    set: &ConfigSet,
    file: usize,
    doc: &Document,
    at: &Directive<'_>,
) -> Option<(PathBuf, usize)> {
    let all = doc.walk_with_parents();
    let parents = all
        .iter()
        .find(|(_, d)| d.span() == at.span())
        .map(|(p, _)| p.clone())
        .unwrap_or_default();
    for p in parents.iter().rev() {
        if let Some(c) = p.children().find(|c| c.is("open_file_cache")) {
            return cache_on(&set.files[file].path, &c);
        }
    }
    if parents.iter().any(|p| p.is("http")) {
        return None;
    }
    for (i, f) in set.files.iter().enumerate() {
        if i == file {
            continue;
        }
        for (ps, d) in f.doc().walk_with_parents() {
            if d.is("open_file_cache") && ps.len() == 1 && ps[0].is("http") {
                return cache_on(&f.path, &d);
            }
        }
    }
    None
}

fn cache_on(path: &Path, d: &Directive<'_>) -> Option<(PathBuf, usize)> {
    let off = d.arg(0).is_some_and(|a| a.text() == "off");
    (!off).then(|| (path.to_path_buf(), d.line()))
}

/// Every server's selector for one variable, agreeing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub var: String,
    pub default: String,
    pub tests: Vec<FlagTest>,
    pub servers: Vec<ServerSelector>,
}

impl Selector {
    /// Reads the selector of `var` from every `server` of `set` that
    /// proxies with it, and refuses (naming the line) servers without
    /// one, selectors not in the expected form, selectors that disagree,
    /// and an `open_file_cache` where the tests run.
    pub fn read(set: &ConfigSet, var: &str) -> Result<Selector, SelectorError> {
        let mut servers: Vec<ServerSelector> = Vec::new();
        for (i, f) in set.files.iter().enumerate() {
            for server in virtual_servers(f.doc()) {
                if !proxied_targets(&descendants(server))
                    .iter()
                    .any(|t| t == var)
                {
                    continue;
                }
                match read_server(set, i, server, var)? {
                    Some(s) => servers.push(s),
                    None => {
                        return Err(SelectorError {
                            file: f.path.clone(),
                            line: server.line(),
                            message: format!(
                            "this server proxies with {var} but has no flag selector; {EXPECTED}"
                        ),
                        })
                    }
                }
            }
        }
        let Some(first) = servers.first().cloned() else {
            let file = set
                .files
                .first()
                .map(|f| f.path.clone())
                .unwrap_or_default();
            return Err(SelectorError {
                file,
                line: 1,
                message: format!("no server proxies with {var} (proxy_pass http://{var})"),
            });
        };
        for s in &servers {
            if let Some((file, line)) = &s.open_file_cache {
                return Err(SelectorError {
                    file: file.clone(),
                    line: *line,
                    message: format!(
                        "open_file_cache is in effect where the flag test of {}:{} runs: nginx would cache the test and see a switch late; add `open_file_cache off;` to that server",
                        s.path.display(),
                        s.default_line
                    ),
                });
            }
            if s.meaning() != first.meaning() {
                return Err(SelectorError {
                    file: s.path.clone(),
                    line: s.default_line,
                    message: format!(
                        "this selector ({}) disagrees with the one at {}:{} ({}): every server must select alike",
                        describe(s),
                        first.path.display(),
                        first.default_line,
                        describe(&first)
                    ),
                });
            }
        }
        Ok(Selector {
            var: var.to_string(),
            default: first.default.clone(),
            tests: first.tests.clone(),
            servers,
        })
    }

    /// The value nginx yields for the flags on disk: the default, then
    /// each test that finds a regular file (`-f` follows symlinks) overrides.
    pub fn value(&self) -> &str {
        self.tests
            .iter()
            .rfind(|t| Path::new(&t.path).is_file())
            .map_or(self.default.as_str(), |t| t.value.as_str())
    }

    /// Where the first server's selector is, for messages.
    pub fn at(&self) -> String {
        self.servers
            .first()
            .map(|s| format!("{}:{}", s.path.display(), s.default_line))
            .unwrap_or_default()
    }
}

fn describe(s: &ServerSelector) -> String {
    let tests: Vec<String> = s
        .tests
        .iter()
        .map(|t| format!("-f {} -> {}", t.path, t.value))
        .collect();
    format!("default {}, {}", s.default, tests.join(", "))
}
