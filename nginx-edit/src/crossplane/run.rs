//! One `crossplane parse` run: the files in the order crossplane reads
//! them, each file's statements walked as crossplane's parser walks them
//! (the analyzer's drops, blocks read in place), written as it goes.

use std::borrow::Cow;
use std::collections::HashMap;

use super::analyzer::{analyze, is_not_terminated, Ctx, Term};
use super::args::{prepare_if_args, xp_arg};
use super::json::Json;
use super::py::{check_readable, has_magic, py_glob, py_join, read_config};
use super::{Options, Status};
use crate::document::{Directive, Document, Item, Items};
use crate::error::ParseError;
use crate::parse::{BodyKind, ParseMode};

/// A file to parse: its path as crossplane spells it, and the context
/// (crossplane's, and nginx's key/value mode) of its first `include`.
pub(super) struct FileJob {
    pub(super) name: String,
    pub(super) ctx: Ctx,
    pub(super) mode: ParseMode,
}

pub(super) struct XpError {
    pub(super) message: String,
    pub(super) line: Option<usize>,
}

pub(super) struct FileResult {
    pub(super) errors: Vec<XpError>,
    /// The rendered `parsed` array; `None` when the file failed as a whole.
    pub(super) parsed: Option<Vec<u8>>,
}

pub(super) struct Run<'o> {
    pub(super) opts: &'o Options,
    pub(super) config_dir: String,
    pub(super) files: Vec<FileJob>,
    pub(super) included: HashMap<String, usize>,
    pub(super) status: Status,
}

/// Depth of a file's `parsed` array in the payload (for `--indent`).
pub(super) const PARSED_DEPTH: usize = 3;

impl Run<'_> {
    pub(super) fn file(&mut self, index: usize) -> FileResult {
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

    pub(super) fn worsen(&mut self, s: Status) {
        self.status = self.status.max(s);
    }

    /// crossplane's `_parse` over the statements of `doc`, writing the
    /// `parsed` array into `buf`.
    pub(super) fn simulate(
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
    pub(super) fn include(
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
pub(super) struct Fatal(String);

/// One level of crossplane's recursive `_parse`.
pub(super) struct Frame<'a> {
    pub(super) ctx: Ctx,
    /// Skipping a dropped directive's block.
    pub(super) consume: bool,
    /// The in-argument comments of the block directive that opened this
    /// level (written after its block closes) and its line.
    pub(super) after: Option<(Items<'a>, usize)>,
    /// The file name crossplane's messages use at this level, once an
    /// `include` has rebound it.
    pub(super) named: Option<String>,
}

impl Frame<'_> {
    pub(super) fn consume() -> Self {
        Frame {
            ctx: Ctx::Main,
            consume: true,
            after: None,
            named: None,
        }
    }
}

/// The statements of a document as crossplane's parser pulls them.
pub(super) enum Ev<'a> {
    /// A comment that does not sit between arguments.
    Comment(crate::Comment<'a>),
    /// A directive; the `Items` are positioned at what follows it (its
    /// in-argument comments first).
    Stmt(Directive<'a>, Items<'a>),
    /// The `}` of a block.
    Close,
}

pub(super) struct Events<'a> {
    pub(super) stack: Vec<Items<'a>>,
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
pub(super) fn arg_comments(j: &mut Json<'_>, mut after: Items<'_>, line: usize) {
    while let Some(Item::Comment(c)) = after.next() {
        if !c.in_args() {
            break;
        }
        comment(j, line, c.text());
    }
}

pub(super) fn comment(j: &mut Json<'_>, line: usize, text: &[u8]) {
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

/// A syntax error in crossplane's shape: `MESSAGE in FILE:LINE`, with
/// nginx's message and line.
pub(super) fn syntax_error(file: &str, e: &ParseError) -> XpError {
    XpError {
        message: format!("{} in {file}:{}", e.message(), e.line),
        line: Some(e.line),
    }
}

/// Line numbers of increasing offsets, in one forward pass.
pub(super) struct Lines<'a> {
    pub(super) src: &'a [u8],
    pub(super) pos: usize,
    pub(super) line: usize,
}

impl<'a> Lines<'a> {
    pub(super) fn new(src: &'a [u8]) -> Self {
        Lines {
            src,
            pos: 0,
            line: 1,
        }
    }

    pub(super) fn at(&mut self, offset: usize) -> usize {
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
