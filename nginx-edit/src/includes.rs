//! Loading a configuration with its `include`s: the set of files nginx
//! would read, each parsed in the mode its include site needs, so that an
//! edit can target a directive in any of them and only changed files are
//! written back.
//!
//! Paths resolve as nginx resolves them: absolute as written, relative
//! against the prefix (by default the directory of the main file, nginx's
//! `conf_prefix`). Globs (`*`, `?`, `[`) expand sorted, skip dot files, and
//! may match nothing; a plain path that does not exist is reported, not
//! fatal, so a config can be edited on a machine without `/etc/nginx`.

use std::path::{Path, PathBuf};

use crate::document::{BodyKind, Document};
use crate::edit::EditError;
use crate::error::ParseError;
use crate::parse::ParseMode;

/// One file of a configuration.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The path as resolved (not canonicalized: symlinks are kept).
    pub path: PathBuf,
    doc: Document,
    /// The bytes read from disk, kept once the document is replaced (a
    /// file nobody edits is held in memory once, not twice).
    original: Option<Vec<u8>>,
}

impl ConfigFile {
    /// The current document.
    pub fn doc(&self) -> &Document {
        &self.doc
    }

    /// Replaces the document with an edited one.
    pub fn set_doc(&mut self, doc: Document) {
        let old = std::mem::replace(&mut self.doc, doc);
        if self.original.is_none() {
            self.original = Some(old.into_bytes());
        }
    }

    /// Whether the document differs from what was read from disk.
    pub fn changed(&self) -> bool {
        self.original
            .as_deref()
            .is_some_and(|o| o != self.doc.as_bytes())
    }

    /// The bytes read from disk.
    pub fn original(&self) -> &[u8] {
        self.original.as_deref().unwrap_or(self.doc.as_bytes())
    }
}

/// An include that did not resolve to a readable file.
#[derive(Debug, Clone)]
pub struct UnresolvedInclude {
    /// The file and position of the `include` directive.
    pub from: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The path as resolved.
    pub path: PathBuf,
    pub reason: String,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{}:{}: {}", path.display(), error.line, error.column, error.message())]
    Parse { path: PathBuf, error: ParseError },
    #[error("{}:{line}:{column}: include cycle: {}", from.display(), chain_text(chain))]
    Cycle {
        from: PathBuf,
        line: usize,
        column: usize,
        chain: Vec<PathBuf>,
    },
}

fn chain_text(chain: &[PathBuf]) -> String {
    chain
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// How includes resolve.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Directory relative includes resolve against (default: the main
    /// file's directory).
    pub prefix: Option<PathBuf>,
    /// Absolute prefixes mapped onto local folders, for checking a config
    /// kept in a repository: `("/etc/nginx", "./nginx")`.
    pub roots: Vec<(PathBuf, PathBuf)>,
    /// Record include cycles in [`ConfigSet::cycles`] and go on (for
    /// `check`, which reports them after what nginx would report first)
    /// instead of failing the load.
    pub tolerate_cycles: bool,
    /// Record included files that do not parse in
    /// [`ConfigSet::unparsable`] and go on without them (for a deploy step
    /// that edits one file and leaves the verdict on the others to
    /// `nginx -t`) instead of failing the load. The main file must parse.
    pub tolerate_parse_errors: bool,
    /// Keep a file that does not parse as the statements before its error
    /// ([`Document::parse_prefix`]) and follow the includes among them, as
    /// nginx does before it reaches the error (for `check`, which reports
    /// the error where nginx would). The load then fails only on I/O.
    pub keep_partial: bool,
}

/// An include that would include a file already being read.
#[derive(Debug, Clone)]
pub struct IncludeCycle {
    pub from: PathBuf,
    pub line: usize,
    pub column: usize,
    pub chain: Vec<PathBuf>,
}

/// A main file and every file it includes.
#[derive(Debug, Clone)]
pub struct ConfigSet {
    pub prefix: PathBuf,
    roots: Vec<(PathBuf, PathBuf)>,
    /// Files in the order nginx reads them; the main file first.
    pub files: Vec<ConfigFile>,
    pub unresolved: Vec<UnresolvedInclude>,
    /// Include cycles, when loaded with `tolerate_cycles`.
    pub cycles: Vec<IncludeCycle>,
    tolerate_cycles: bool,
    /// Included files that did not parse, when loaded with
    /// `tolerate_parse_errors`, and why.
    pub unparsable: Vec<(PathBuf, ParseError)>,
    tolerate_parse_errors: bool,
    keep_partial: bool,
    /// For each `include` directive (file index, byte offset of the
    /// directive), the indices of the files it resolved to, in order.
    edges: Vec<(usize, usize, Vec<usize>)>,
}

impl ConfigSet {
    /// Reads one file alone, not following its includes.
    pub fn single(path: &Path) -> Result<ConfigSet, LoadError> {
        let file = read_file(path, ParseMode::Directives, false)?;
        Ok(ConfigSet {
            prefix: parent_dir(path),
            roots: Vec::new(),
            files: vec![file],
            unresolved: Vec::new(),
            cycles: Vec::new(),
            tolerate_cycles: false,
            unparsable: Vec::new(),
            tolerate_parse_errors: false,
            keep_partial: false,
            edges: Vec::new(),
        })
    }

    /// Reads `main` and, recursively, every file it includes. `prefix` is
    /// the directory relative includes resolve against (default: the
    /// directory of `main`).
    pub fn load(main: &Path, prefix: Option<&Path>) -> Result<ConfigSet, LoadError> {
        let options = LoadOptions {
            prefix: prefix.map(Path::to_path_buf),
            ..LoadOptions::default()
        };
        Self::load_with(main, &options)
    }

    /// [`ConfigSet::load`] with absolute include prefixes mapped to folders.
    pub fn load_with(main: &Path, options: &LoadOptions) -> Result<ConfigSet, LoadError> {
        let prefix = options.prefix.clone().unwrap_or_else(|| parent_dir(main));
        let mut set = ConfigSet {
            prefix,
            roots: options.roots.clone(),
            files: Vec::new(),
            unresolved: Vec::new(),
            cycles: Vec::new(),
            tolerate_cycles: options.tolerate_cycles,
            unparsable: Vec::new(),
            tolerate_parse_errors: options.tolerate_parse_errors,
            keep_partial: options.keep_partial,
            edges: Vec::new(),
        };
        let mut stack = Vec::new();
        set.visit(main, ParseMode::Directives, &mut stack)?;
        Ok(set)
    }

    /// Loads `path` and what it includes; returns its index in `files`.
    fn visit(
        &mut self,
        path: &Path,
        mode: ParseMode,
        stack: &mut Vec<PathBuf>,
    ) -> Result<usize, LoadError> {
        let file = read_file(path, mode, self.keep_partial)?;
        let index = self.files.len();
        let includes = include_sites(file.doc());
        self.files.push(file);
        stack.push(canonical(path));
        for site in includes {
            let pattern = self.resolve(&site.arg);
            let (line, column) = self.files[index].doc().line_col(site.offset);
            let targets = match expand(&pattern) {
                Ok(t) => t,
                Err(reason) => {
                    self.unresolved.push(UnresolvedInclude {
                        from: path.to_path_buf(),
                        line,
                        column,
                        path: pattern,
                        reason,
                    });
                    continue;
                }
            };
            let mut resolved = Vec::with_capacity(targets.len());
            for target in targets {
                let canon = canonical(&target);
                if let Some(pos) = stack.iter().position(|p| *p == canon) {
                    let mut chain: Vec<PathBuf> = stack[pos..].to_vec();
                    chain.push(canon);
                    if self.tolerate_cycles {
                        self.cycles.push(IncludeCycle {
                            from: path.to_path_buf(),
                            line,
                            column,
                            chain,
                        });
                        continue;
                    }
                    return Err(LoadError::Cycle {
                        from: path.to_path_buf(),
                        line,
                        column,
                        chain,
                    });
                }
                let mode = if site.key_value {
                    ParseMode::KeyValue
                } else {
                    ParseMode::Directives
                };
                let already = self
                    .files
                    .iter()
                    .position(|f| canonical(&f.path) == canon && f.doc().mode() == mode);
                let target_index = match already {
                    Some(i) => i,
                    None => match self.visit(&target, mode, stack) {
                        Ok(i) => i,
                        Err(LoadError::Parse { path, error }) if self.tolerate_parse_errors => {
                            self.unparsable.push((path, error));
                            continue;
                        }
                        Err(e) => return Err(e),
                    },
                };
                resolved.push(target_index);
            }
            self.edges.push((index, site.offset, resolved));
        }
        stack.pop();
        Ok(index)
    }

    /// The files the `include` directive at byte `offset` of file `file`
    /// resolved to (empty when it did not resolve or is not an include).
    pub fn include_targets(&self, file: usize, offset: usize) -> &[usize] {
        self.edges
            .iter()
            .find(|(f, o, _)| *f == file && *o == offset)
            .map_or(&[], |(_, _, t)| t.as_slice())
    }

    fn resolve(&self, arg: &str) -> PathBuf {
        let p = Path::new(arg);
        if p.is_absolute() {
            for (abs, local) in &self.roots {
                if let Ok(rest) = p.strip_prefix(abs) {
                    return local.join(rest);
                }
            }
            p.to_path_buf()
        } else {
            self.prefix.join(p)
        }
    }

    /// The index of the one file that contains what `has` looks for.
    /// `what` names it for errors.
    pub fn locate(
        &self,
        what: &str,
        not_found: EditError,
        has: impl Fn(&Document) -> bool,
    ) -> Result<usize, EditError> {
        let found: Vec<usize> = (0..self.files.len())
            .filter(|&i| has(self.files[i].doc()))
            .collect();
        match found.len() {
            0 => Err(not_found),
            1 => Ok(found[0]),
            _ => Err(EditError::Ambiguous {
                name: what.to_string(),
                places: found
                    .iter()
                    .map(|&i| self.files[i].path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The files whose document differs from what was read.
    pub fn changed(&self) -> impl Iterator<Item = &ConfigFile> {
        self.files.iter().filter(|f| f.changed())
    }
}

/// An `include` directive's argument and whether it sits in a map-like
/// body (its file then holds key/value entries).
struct IncludeSite {
    arg: String,
    offset: usize,
    key_value: bool,
}

fn include_sites(doc: &Document) -> Vec<IncludeSite> {
    // A recursive walk: a directive's parent is the block being read, so
    // no chain of parents is kept per directive.
    fn visit(items: crate::document::Items<'_>, key_value: bool, out: &mut Vec<IncludeSite>) {
        for d in items.filter_map(crate::document::Item::into_directive) {
            if d.arg_count() == 1 && d.is("include") {
                out.push(IncludeSite {
                    arg: d.arg(0).map(|t| t.text()).unwrap_or_default(),
                    offset: d.span().start,
                    key_value,
                });
            }
            if let Some(block) = d.block() {
                visit(block, d.body_kind() == BodyKind::KeyValue, out);
            }
        }
    }
    let mut out = Vec::new();
    visit(doc.items(), doc.mode() == ParseMode::KeyValue, &mut out);
    out
}

fn read_file(path: &Path, mode: ParseMode, partial: bool) -> Result<ConfigFile, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if partial {
        return Ok(ConfigFile {
            path: path.to_path_buf(),
            doc: Document::parse_prefix(bytes, mode),
            original: None,
        });
    }
    let doc = Document::parse_owned(bytes, mode).map_err(|error| LoadError::Parse {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(ConfigFile {
        path: path.to_path_buf(),
        doc,
        original: None,
    })
}

/// Expands an include pattern the way nginx does: a path with no glob
/// characters must exist; a glob may match nothing.
fn expand(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let text = pattern.to_string_lossy();
    if !text.contains(['*', '?', '[']) {
        return match std::fs::metadata(pattern) {
            Ok(m) if m.is_file() => Ok(vec![pattern.to_path_buf()]),
            Ok(_) => Err("not a regular file".into()),
            Err(e) => Err(e.to_string()),
        };
    }
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let paths = glob::glob_with(&text, options).map_err(|e| e.to_string())?;
    let mut out: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::fs;

    #[test]
    fn follows_globs_relative_to_prefix_and_in_maps() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("conf.d")).unwrap();
        fs::write(
            d.join("nginx.conf"),
            "http {\n    include conf.d/*.conf;\n    map $a $b {\n        include maps/b.map;\n    }\n    include missing.conf;\n}\n",
        )
        .unwrap();
        fs::write(d.join("conf.d/b.conf"), "upstream b { server b:1; }\n").unwrap();
        fs::write(d.join("conf.d/a.conf"), "upstream a { server a:1; }\n").unwrap();
        fs::write(d.join("conf.d/.hidden.conf"), "broken {").unwrap();
        fs::create_dir_all(d.join("maps")).unwrap();
        fs::write(d.join("maps/b.map"), "default x;\nk v;\n").unwrap();
        let set = ConfigSet::load(&d.join("nginx.conf"), None).unwrap();
        let names: Vec<_> = set
            .files
            .iter()
            .map(|f| f.path.strip_prefix(d).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            ["nginx.conf", "conf.d/a.conf", "conf.d/b.conf", "maps/b.map"]
        );
        assert_eq!(set.files[3].doc().mode(), ParseMode::KeyValue);
        assert_eq!(set.unresolved.len(), 1);
        assert_eq!(set.unresolved[0].line, 6);
        let i = set
            .locate(
                "upstream b",
                EditError::UpstreamNotFound("b".into()),
                |doc| doc.upstream("b").is_ok(),
            )
            .unwrap();
        assert_eq!(i, 2);
    }

    #[test]
    fn cycles_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("a.conf"), "include b.conf;\n").unwrap();
        fs::write(d.join("b.conf"), "\n\ninclude a.conf;\n").unwrap();
        let e = ConfigSet::load(&d.join("a.conf"), None).unwrap_err();
        match e {
            LoadError::Cycle { line, chain, .. } => {
                assert_eq!(line, 3);
                assert_eq!(chain.len(), 3);
            }
            other => panic!("{other}"),
        }
    }
}
