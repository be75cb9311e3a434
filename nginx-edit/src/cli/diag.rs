//! Diagnostics as rustc prints them (`FILE:LINE:COL: error: MESSAGE`, the
//! source line, a caret) and the `check` command that produces them.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::line_text;
use crate::includes::{ConfigSet, LoadError, LoadOptions};
use crate::ParseError;

use super::args::{CheckArgs, CheckFormat, ContextArg, ModulesArg};
use super::{Exit, Failure};
use crate::check::{CheckOptions, Modules, DEBIAN_PREFIX};
use crate::directives::{nginx_version, Context};

/// One finding of `check`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: &'static str,
    pub message: String,
}

impl Diagnostic {
    /// The text form: the location line, then the source line (given) and
    /// a caret.
    pub fn render(&self, line: Option<&[u8]>) -> String {
        let mut s = String::new();
        self.render_into(line, &mut s);
        s
    }

    /// [`render`](Self::render) appended to `s`, piece by piece (a config
    /// can have thousands of findings: no `format!` per line).
    pub fn render_into(&self, line: Option<&[u8]>, s: &mut String) {
        let (mut line_digits, mut column_digits) = (itoa::Buffer::new(), itoa::Buffer::new());
        let line_number = line_digits.format(self.line);
        let width = line_number.len();
        s.push_str(&self.file);
        s.push(':');
        s.push_str(line_number);
        s.push(':');
        s.push_str(column_digits.format(self.column));
        s.push_str(": ");
        s.push_str(self.severity);
        s.push_str(": ");
        s.push_str(&self.message);
        s.push('\n');
        let Some(line) = line else {
            return;
        };
        spaces(s, width);
        s.push_str(" |\n");
        s.push_str(line_number);
        s.push_str(" | ");
        let text = crate::lex::as_text(line);
        if memchr::memchr(b'\t', text.as_bytes()).is_none() {
            s.push_str(&text);
        } else {
            // A tab is one column wide, as the caret counts it.
            for (i, part) in text.split('\t').enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(part);
            }
        }
        s.push('\n');
        spaces(s, width);
        s.push_str(" | ");
        spaces(s, self.column.saturating_sub(1));
        s.push_str("^\n");
    }
}

/// `n` spaces appended, a slice at a time.
fn spaces(s: &mut String, mut n: usize) {
    const RUN: &str = "                                                                ";
    while n > 0 {
        let k = n.min(RUN.len());
        s.push_str(&RUN[..k]);
        n -= k;
    }
}

/// A parse error of `path` rendered as a diagnostic with its source line.
pub fn render_parse_error(path: &Path, src: &[u8], e: &ParseError) -> String {
    parse_diagnostic(path, e).render(Some(line_text(src, e.line)))
}

fn parse_diagnostic(path: &Path, e: &ParseError) -> Diagnostic {
    Diagnostic {
        file: path.display().to_string(),
        line: e.line,
        column: e.column,
        severity: "error",
        message: e.message(),
    }
}

/// `--include-root /etc/nginx=./nginx` into a pair of paths.
fn parse_root(spec: &str) -> Result<(PathBuf, PathBuf), Failure> {
    match spec.split_once('=') {
        Some((abs, dir)) if abs.starts_with('/') && !dir.is_empty() => {
            Ok((PathBuf::from(abs), PathBuf::from(dir)))
        }
        _ => Err(Failure::new(
            Exit::Usage,
            format!("error: --include-root expects ABSOLUTE_PREFIX=DIR, got \"{spec}\""),
        )),
    }
}

/// `1.22.1` into nginx's version number.
fn parse_version(text: &str) -> Result<u32, Failure> {
    let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => Ok(nginx_version(*a, *b, *c)),
        [Some(a), Some(b)] => Ok(nginx_version(*a, *b, 0)),
        _ => Err(Failure::new(
            Exit::Usage,
            format!("error: --nginx-version expects X.Y.Z, got \"{text}\""),
        )),
    }
}

fn check_options(a: &CheckArgs) -> Result<CheckOptions, Failure> {
    Ok(CheckOptions {
        nginx_version: parse_version(&a.nginx_version)?,
        modules: match a.modules {
            ModulesArg::Debian => Modules::Debian,
            ModulesArg::All => Modules::All,
        },
        allow_unknown: a.allow_unknown,
        resolve: !a.no_resolve,
        nginx_prefix: a
            .nginx_prefix
            .as_ref()
            .map_or_else(|| DEBIAN_PREFIX.to_string(), |p| p.display().to_string()),
        context: a.context.map(|c| match c {
            ContextArg::Main => Context::Main,
            ContextArg::Events => Context::Event,
            ContextArg::Http => Context::Http,
            ContextArg::Server => Context::HttpServer,
            ContextArg::Location => Context::HttpLocation,
            ContextArg::Upstream => Context::HttpUpstream,
            ContextArg::Stream => Context::Stream,
            ContextArg::StreamServer => Context::StreamServer,
            ContextArg::Mail => Context::Mail,
        }),
    })
}

pub fn check(a: &CheckArgs) -> Result<Exit, Failure> {
    let check_opts = check_options(a)?;
    let roots = a
        .include_root
        .iter()
        .map(|s| parse_root(s))
        .collect::<Result<Vec<_>, _>>()?;
    // Text goes out as it is found, each with its source line borrowed
    // from the loaded files (a big config can have thousands of findings:
    // no copies of them); JSON is one list at the end. Buffered: stdout
    // is line-buffered.
    let mut out = Output {
        json: a.format == CheckFormat::Json,
        list: Vec::new(),
        text: String::new(),
        errors: false,
        stdout: io::BufWriter::new(io::stdout().lock()),
    };
    for file in &a.files {
        let options = LoadOptions {
            prefix: a.prefix.clone(),
            roots: roots.clone(),
            tolerate_cycles: true,
            keep_partial: true,
            ..LoadOptions::default()
        };
        match ConfigSet::load_with(file, &options) {
            Ok(set) => {
                let names: Vec<String> = set
                    .files
                    .iter()
                    .map(|f| f.path.display().to_string())
                    .collect();
                let line_of = |file: &str, line: usize| {
                    let at = names.iter().position(|n| n == file)?;
                    Some(set.files[at].doc().line_text(line))
                };
                for u in &set.unresolved {
                    let from = u.from.display().to_string();
                    let src = line_of(&from, u.line);
                    let d = Diagnostic {
                        file: from,
                        line: u.line,
                        column: u.column,
                        severity: "warning",
                        message: format!(
                            "include \"{}\" does not resolve: {}",
                            u.path.display(),
                            u.reason
                        ),
                    };
                    out.emit(d, src)?;
                }
                let cycles = set.cycles.iter().map(|c| crate::check::Finding {
                    file: c.from.display().to_string(),
                    line: c.line,
                    column: c.column,
                    severity: "error",
                    message: format!(
                        "include cycle: {}",
                        c.chain
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(" -> ")
                    ),
                });
                for d in crate::check::check_set(&set, &check_opts)
                    .into_iter()
                    .chain(cycles)
                {
                    let src = line_of(&d.file, d.line);
                    let d = Diagnostic {
                        file: d.file,
                        line: d.line,
                        column: d.column,
                        severity: d.severity,
                        message: d.message,
                    };
                    out.emit(d, src)?;
                }
            }
            Err(LoadError::Io { path, source }) => {
                return Err(Failure::new(
                    Exit::Usage,
                    format!("error: cannot read {}: {source}", path.display()),
                ));
            }
            Err(LoadError::Parse { path, error }) => {
                let src = std::fs::read(&path).ok();
                let line = src.as_deref().map(|s| line_text(s, error.line));
                out.emit(parse_diagnostic(&path, &error), line)?;
            }
            Err(LoadError::Cycle {
                from,
                line,
                column,
                chain,
            }) => {
                let src = std::fs::read(&from).ok();
                let text = src.as_deref().map(|s| line_text(s, line));
                let chain: Vec<_> = chain.iter().map(|p| p.display().to_string()).collect();
                let d = Diagnostic {
                    file: from.display().to_string(),
                    line,
                    column,
                    severity: "error",
                    message: format!("include cycle: {}", chain.join(" -> ")),
                };
                out.emit(d, text)?;
            }
        }
    }
    out.finish()
}

/// Where `check`'s diagnostics go, in the chosen format.
struct Output<W: Write> {
    json: bool,
    /// The JSON list, written at the end.
    list: Vec<Diagnostic>,
    /// One rendered text diagnostic (the buffer is reused).
    text: String,
    errors: bool,
    stdout: W,
}

impl<W: Write> Output<W> {
    fn emit(&mut self, d: Diagnostic, line: Option<&[u8]>) -> io::Result<()> {
        self.errors |= d.severity == "error";
        if self.json {
            self.list.push(d);
            return Ok(());
        }
        self.text.clear();
        d.render_into(line, &mut self.text);
        self.stdout.write_all(self.text.as_bytes())
    }

    fn finish(mut self) -> Result<Exit, Failure> {
        if self.json {
            serde_json::to_writer_pretty(&mut self.stdout, &self.list).map_err(io::Error::other)?;
            writeln!(self.stdout)?;
        }
        self.stdout.flush()?;
        Ok(if self.errors {
            Exit::Problems
        } else {
            Exit::Done
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_with_caret_tabs_and_wide_line_numbers() {
        let d = Diagnostic {
            file: "a.conf".into(),
            line: 120,
            column: 5,
            severity: "error",
            message: "unknown directive \"x\"".into(),
        };
        assert_eq!(
            d.render(Some(b"\tx\xff;")),
            "a.conf:120:5: error: unknown directive \"x\"\n    |\n120 |  x\u{fffd};\n    |     ^\n"
        );
        assert_eq!(
            Diagnostic {
                line: 7,
                column: 1,
                ..d
            }
            .render(None),
            "a.conf:7:1: error: unknown directive \"x\"\n"
        );
    }
}
