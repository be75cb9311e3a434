//! `nginx-edit parse --format crossplane`: the JSON `crossplane parse`
//! (nginxinc/crossplane 0.5.8) prints, so crossplane users can switch.
//!
//! Tokens come from nginx's own tokenizer ([`Document`]); where crossplane's
//! lexer reads a file differently, nginx wins (docs/crossplane.md lists each
//! case). Everything above the tokens follows crossplane:
//!
//! - argument strings as crossplane reports them: quotes removed and only
//!   `\<same quote>` decoded inside a quoted token, every other backslash pair
//!   kept; unquoted tokens as written;
//! - `if` arguments lose their parentheses;
//! - its analyzer ([`analyzer`]): a directive in the wrong context or with a
//!   wrong argument count is dropped from `parsed` and reported in `errors`.
//!   A dropped block directive's block is skipped when the error is
//!   `is not terminated by ";"`; otherwise its contents are read as if they
//!   were written in place of the directive, and its `}` ends the enclosing
//!   block (at the top of a file: the rest of the file is not read);
//! - includes: `os.path.join(dirname(main), arg)`, globs sorted, each file
//!   parsed once (by path string), in the order first met, after the file
//!   that includes it, in the context of its first `include`;
//! - comments found between a directive's arguments are always reported,
//!   after the directive, with its line; other comments only when asked;
//! - key order and formatting of Python's `json.dumps` (compact by default,
//!   `--indent N` as crossplane's `-i N`; non-ASCII escaped as `\uXXXX`).
//!
//! Output is written straight into byte buffers (one per file, since a
//! file's `status` and `errors` precede its `parsed`), never through a
//! value tree.

mod analyzer;
mod args;
mod json;
mod py;
mod run;
mod table;

pub use args::xp_arg;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use crate::parse::ParseMode;
use analyzer::Ctx;
use json::Json;
use py::py_dirname;
use run::{FileJob, Run};

/// What to print.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Report every comment (crossplane's `--include-comments`); comments
    /// between a directive's arguments are reported either way.
    pub include_comments: bool,
    /// Do not follow includes and print no `includes` keys (`--single-file`).
    pub single_file: bool,
    /// Pretty-print with this many spaces (crossplane's `-i N`); compact when
    /// `None`, as crossplane prints by default.
    pub indent: Option<usize>,
}

/// The outcome, worst case over every file read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// `"status": "ok"`.
    Ok,
    /// `"status": "failed"` because of crossplane's analyzer or an include
    /// that could not be read; every file parsed.
    Failed,
    /// A file does not parse (nginx's tokenizer rejects it).
    Syntax,
    /// The main file could not be read.
    Unreadable,
}

/// Parses `main` (and, unless `single_file`, what it includes) and writes
/// crossplane's JSON payload, followed by a newline, to `out`.
pub fn write_crossplane<W: Write>(out: &mut W, main: &Path, opts: &Options) -> io::Result<Status> {
    let main = main.to_string_lossy().into_owned();
    let mut run = Run {
        opts,
        config_dir: py_dirname(&main).to_string(),
        files: vec![FileJob {
            name: main.clone(),
            ctx: Ctx::Main,
            mode: ParseMode::Directives,
        }],
        included: HashMap::from([(main, 0)]),
        status: Status::Ok,
    };
    // Every file first: crossplane prints `status` and `errors` before
    // `parsed`. (Rendering twice instead, a dry pass for the errors, costs
    // more than this buffer.)
    let mut results = Vec::new();
    let mut i = 0;
    while i < run.files.len() {
        results.push(run.file(i));
        i += 1;
    }
    // The small parts go through `head`; each file's `parsed` is written
    // from its buffer.
    let mut head = Vec::with_capacity(4096);
    let mut j = Json::new(&mut head, opts.indent, 0);
    j.open(b'{');
    j.key("status");
    j.raw_value(if run.status == Status::Ok {
        b"\"ok\""
    } else {
        b"\"failed\""
    });
    j.key("errors");
    j.open(b'[');
    for (job, result) in run.files.iter().zip(&results) {
        for e in &result.errors {
            j.item();
            j.open(b'{');
            j.key("file");
            j.str(job.name.as_bytes());
            j.key("error");
            j.str(e.message.as_bytes());
            j.key("line");
            j.line(e.line);
            j.close(b'}');
        }
    }
    j.close(b']');
    j.key("config");
    j.open(b'[');
    for (i, result) in results.iter().enumerate() {
        let name = &run.files[i].name;
        j.item();
        j.open(b'{');
        j.key("file");
        j.str(name.as_bytes());
        j.key("status");
        j.raw_value(if result.errors.is_empty() {
            b"\"ok\""
        } else {
            b"\"failed\""
        });
        j.key("errors");
        j.open(b'[');
        for e in &result.errors {
            j.item();
            j.open(b'{');
            j.key("error");
            j.str(e.message.as_bytes());
            j.key("line");
            j.line(e.line);
            j.close(b'}');
        }
        j.close(b']');
        j.key("parsed");
        match &result.parsed {
            Some(parsed) => {
                out.write_all(j.out)?;
                j.out.clear();
                out.write_all(parsed)?;
            }
            None => {
                j.open(b'[');
                j.close(b']');
            }
        }
        j.close(b'}');
    }
    j.close(b']');
    j.close(b'}');
    j.out.push(b'\n');
    out.write_all(j.out)?;
    Ok(run.status)
}
