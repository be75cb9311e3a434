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
mod json;
mod py;
mod table;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use crate::document::{Directive, Document, Item, Items};
use crate::error::ParseError;
use crate::parse::{BodyKind, ParseMode};
use analyzer::{analyze, is_not_terminated, Ctx, Term};
use json::Json;
use py::{
    check_readable, has_magic, py_dirname, py_glob, py_join, py_lstrip, py_rstrip, read_config,
};

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

/// A file to parse: its path as crossplane spells it, and the context
/// (crossplane's, and nginx's key/value mode) of its first `include`.
struct FileJob {
    name: String,
    ctx: Ctx,
    mode: ParseMode,
}

struct XpError {
    message: String,
    line: Option<usize>,
}

struct FileResult {
    errors: Vec<XpError>,
    /// The rendered `parsed` array; `None` when the file failed as a whole.
    parsed: Option<Vec<u8>>,
}

struct Run<'o> {
    opts: &'o Options,
    config_dir: String,
    files: Vec<FileJob>,
    included: HashMap<String, usize>,
    status: Status,
}

/// Depth of a file's `parsed` array in the payload (for `--indent`).
const PARSED_DEPTH: usize = 3;

impl Run<'_> {
    fn file(&mut self, index: usize) -> FileResult {
        let name = self.files[index].name.clone();
        let mut errors = Vec::new();
        let failed = |errors| FileResult {
            errors,
            parsed: None,
        };
        let bytes = match read_config(&name) {
            Ok(b) => b,
            Err(message) => {
                self.worsen(if index == 0 {
                    Status::Unreadable
                } else {
                    Status::Failed
                });
                errors.push(XpError {
                    message,
                    line: None,
                });
                return failed(errors);
            }
        };
        let doc = match Document::parse_owned(bytes, self.files[index].mode) {
            Ok(doc) => doc,
            Err(e) => {
                self.worsen(Status::Syntax);
                errors.push(syntax_error(&name, &e));
                return failed(errors);
            }
        };
        let ctx = self.files[index].ctx;
        // JSON is about twice the size of the config.
        let mut parsed = Vec::with_capacity(doc.as_bytes().len() * 2);
        let outcome = self.simulate(&doc, &name, ctx, &mut parsed, &mut errors);
        if !errors.is_empty() {
            self.worsen(Status::Failed);
        }
        match outcome {
            Ok(()) => FileResult {
                errors,
                parsed: Some(parsed),
            },
            Err(Fatal(message)) => {
                self.worsen(Status::Failed);
                errors.push(XpError {
                    message,
                    line: None,
                });
                failed(errors)
            }
        }
    }

    fn worsen(&mut self, s: Status) {
        self.status = self.status.max(s);
    }

    /// crossplane's `_parse` over the statements of `doc`, writing the
    /// `parsed` array into `buf`.
    fn simulate(
        &mut self,
        doc: &Document,
        file: &str,
        ctx: Ctx,
        buf: &mut Vec<u8>,
        errors: &mut Vec<XpError>,
    ) -> Result<(), Fatal> {
        let mut j = Json::new(buf, self.opts.indent, PARSED_DEPTH);
        let mut lines = Lines::new(doc.as_bytes());
        let mut frames = vec![Frame {
            ctx,
            consume: false,
            after: None,
            named: None,
        }];
        // nginx's view: whether each open block is a map-like body.
        let mut kv = vec![doc.mode() == ParseMode::KeyValue];
        let events = Events {
            stack: vec![doc.items()],
        };
        // Reused for every directive.
        let mut args: Vec<Cow<'_, [u8]>> = Vec::new();
        j.open(b'[');
        for ev in events {
            match ev {
                Ev::Close => {
                    kv.pop();
                    let Some(frame) = frames.pop() else { break };
                    if frames.is_empty() {
                        // A `}` that closes the file's own level: crossplane
                        // stops reading the file here.
                        break;
                    }
                    if !frame.consume {
                        j.close(b']');
                        j.close(b'}');
                        if let Some((after, line)) = frame.after {
                            arg_comments(&mut j, after, line);
                        }
                    }
                }
                Ev::Comment(c) => {
                    let consume = frames.last().is_some_and(|f| f.consume);
                    if consume || !self.opts.include_comments {
                        continue;
                    }
                    let line = lines.at(c.span().start);
                    comment(&mut j, line, c.text());
                }
                Ev::Stmt(d, after) => {
                    let block = matches!(d.body_kind(), BodyKind::Block | BodyKind::KeyValue);
                    if block {
                        kv.push(d.body_kind() == BodyKind::KeyValue);
                    }
                    let Some(frame) = frames.last() else { break };
                    if frame.consume {
                        if block {
                            frames.push(Frame::consume());
                        }
                        continue;
                    }
                    let ctx = frame.ctx;
                    // crossplane's `_parse` reuses its `fname` variable as the
                    // loop variable over included files, so after an `include`
                    // its messages name the last file included (`file` keys
                    // stay right). Kept for identical output.
                    let named = frame.named.as_deref().unwrap_or(file);
                    let line = lines.at(d.span().start);
                    let name = xp_arg(d.name_token().raw());
                    args.clear();
                    args.extend(d.args().map(|t| xp_arg(t.raw())));
                    if let Some(lua) = d.lua_body() {
                        args.push(Cow::Borrowed(lua));
                    }
                    if &*name == b"if" {
                        prepare_if_args(&mut args);
                    }
                    let term = if block { Term::Open } else { Term::Semi };
                    if let Err(reason) = analyze(ctx, &name, &args, term) {
                        errors.push(XpError {
                            message: format!("{reason} in {named}:{line}"),
                            line: Some(line),
                        });
                        if block && is_not_terminated(&reason) {
                            frames.push(Frame::consume());
                        }
                        continue;
                    }
                    j.item();
                    j.open(b'{');
                    j.key("directive");
                    j.str(&name);
                    j.key("line");
                    j.line(Some(line));
                    j.key("args");
                    j.open(b'[');
                    for a in &args {
                        j.item();
                        j.str(a);
                    }
                    j.close(b']');
                    if !self.opts.single_file && &*name == b"include" {
                        // crossplane reads `args[0]` unchecked: an `include`
                        // without arguments in a context it does not check
                        // fails the whole file with Python's IndexError.
                        let Some(arg) = args.first() else {
                            return Err(Fatal("list index out of range".into()));
                        };
                        let mode = if kv.last().copied().unwrap_or(false) {
                            ParseMode::KeyValue
                        } else {
                            ParseMode::Directives
                        };
                        let targets = self.include(arg, ctx, mode, line, errors);
                        if let (Some(&last), Some(frame)) = (targets.last(), frames.last_mut()) {
                            frame.named = Some(self.files[last].name.clone());
                        }
                        j.key("includes");
                        j.open(b'[');
                        for t in targets {
                            j.item();
                            j.line(Some(t));
                        }
                        j.close(b']');
                    }
                    if block {
                        j.key("block");
                        j.open(b'[');
                        frames.push(Frame {
                            ctx: ctx.enter(&name),
                            consume: false,
                            after: Some((after, line)),
                            named: None,
                        });
                    } else {
                        j.close(b'}');
                        arg_comments(&mut j, after, line);
                    }
                }
            }
        }
        // Blocks still open when the file ended early (crossplane stopped at
        // a `}`): nothing more is written inside them, but the JSON must
        // close. Only the root can be open here (see `Frame`).
        j.close(b']');
        Ok(())
    }

    /// Resolves an `include` as crossplane does and queues new files;
    /// returns the indices of the included files.
    fn include(
        &mut self,
        arg: &[u8],
        ctx: Ctx,
        mode: ParseMode,
        line: usize,
        errors: &mut Vec<XpError>,
    ) -> Vec<usize> {
        let arg = String::from_utf8_lossy(arg);
        let pattern = if arg.starts_with('/') {
            arg.into_owned()
        } else {
            py_join(&self.config_dir, &arg)
        };
        let names = if has_magic(&pattern) {
            py_glob(&pattern)
        } else {
            match check_readable(&pattern) {
                Ok(()) => vec![pattern],
                Err(message) => {
                    errors.push(XpError {
                        message,
                        line: Some(line),
                    });
                    Vec::new()
                }
            }
        };
        names
            .into_iter()
            .map(|name| {
                if let Some(&i) = self.included.get(&name) {
                    return i;
                }
                let i = self.files.len();
                self.included.insert(name.clone(), i);
                self.files.push(FileJob { name, ctx, mode });
                i
            })
            .collect()
    }
}

/// An error that makes crossplane give up on a whole file (`parsed` empty).
struct Fatal(String);

/// One level of crossplane's recursive `_parse`.
struct Frame<'a> {
    ctx: Ctx,
    /// Skipping a dropped directive's block.
    consume: bool,
    /// The in-argument comments of the block directive that opened this
    /// level (written after its block closes) and its line.
    after: Option<(Items<'a>, usize)>,
    /// The file name crossplane's messages use at this level, once an
    /// `include` has rebound it.
    named: Option<String>,
}

impl Frame<'_> {
    fn consume() -> Self {
        Frame {
            ctx: Ctx::Main,
            consume: true,
            after: None,
            named: None,
        }
    }
}

/// The statements of a document as crossplane's parser pulls them.
enum Ev<'a> {
    /// A comment that does not sit between arguments.
    Comment(crate::Comment<'a>),
    /// A directive; the `Items` are positioned at what follows it (its
    /// in-argument comments first).
    Stmt(Directive<'a>, Items<'a>),
    /// The `}` of a block.
    Close,
}

struct Events<'a> {
    stack: Vec<Items<'a>>,
}

impl<'a> Iterator for Events<'a> {
    type Item = Ev<'a>;

    fn next(&mut self) -> Option<Ev<'a>> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                None => {
                    self.stack.pop();
                    return (!self.stack.is_empty()).then_some(Ev::Close);
                }
                Some(Item::Comment(c)) if c.in_args() => continue,
                Some(Item::Comment(c)) => return Some(Ev::Comment(c)),
                Some(Item::Directive(d)) => {
                    let after = top.clone();
                    if let Some(block) = d.block() {
                        self.stack.push(block);
                    }
                    return Some(Ev::Stmt(d, after));
                }
            }
        }
    }
}

/// Writes the comments that sit between a directive's arguments.
fn arg_comments(j: &mut Json<'_>, mut after: Items<'_>, line: usize) {
    while let Some(Item::Comment(c)) = after.next() {
        if !c.in_args() {
            break;
        }
        comment(j, line, c.text());
    }
}

fn comment(j: &mut Json<'_>, line: usize, text: &[u8]) {
    j.item();
    j.open(b'{');
    j.key("directive");
    j.raw_value(b"\"#\"");
    j.key("line");
    j.line(Some(line));
    j.key("args");
    j.open(b'[');
    j.close(b']');
    j.key("comment");
    j.str(text);
    j.close(b'}');
}

/// A token as crossplane reports it: a quoted token loses its quotes and
/// `\<quote>` becomes the quote; every other backslash pair stays as
/// written. Unquoted tokens are kept as written.
pub fn xp_arg(raw: &[u8]) -> Cow<'_, [u8]> {
    let q = match raw.first() {
        Some(&q @ (b'"' | b'\'')) if raw.len() >= 2 => q,
        _ => return Cow::Borrowed(raw),
    };
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains(&b'\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut k = 0;
    while k < inner.len() {
        if inner[k] == b'\\' && k + 1 < inner.len() {
            if inner[k + 1] == q {
                out.push(q);
            } else {
                out.extend_from_slice(&inner[k..k + 2]);
            }
            k += 2;
        } else {
            out.push(inner[k]);
            k += 1;
        }
    }
    Cow::Owned(out)
}

/// crossplane's `_prepare_if_args`: `(` and `)` around the condition are
/// removed, with the whitespace next to them, and arguments left empty by
/// that are dropped.
fn prepare_if_args(args: &mut Vec<Cow<'_, [u8]>>) {
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return;
    };
    if !(first.starts_with(b"(") && last.ends_with(b")")) {
        return;
    }
    let first = py_lstrip(&args[0][1..]).to_vec();
    args[0] = Cow::Owned(first);
    let n = args.len();
    let last = &args[n - 1];
    let trimmed = py_rstrip(&last[..last.len().saturating_sub(1)]).to_vec();
    args[n - 1] = Cow::Owned(trimmed);
    let start = usize::from(args[0].is_empty());
    let end = n - usize::from(args[n - 1].is_empty());
    if start >= end {
        args.clear();
    } else {
        args.truncate(end);
        args.drain(..start);
    }
}

/// A syntax error in crossplane's shape: `MESSAGE in FILE:LINE`, with
/// nginx's message and line.
fn syntax_error(file: &str, e: &ParseError) -> XpError {
    XpError {
        message: format!("{} in {file}:{}", e.message(), e.line),
        line: Some(e.line),
    }
}

/// Line numbers of increasing offsets, in one forward pass.
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(src: &'a [u8]) -> Self {
        Lines {
            src,
            pos: 0,
            line: 1,
        }
    }

    fn at(&mut self, offset: usize) -> usize {
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.src[self.pos..offset]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        self.pos = offset;
        self.line
    }
}
