//! Statement and block structure, as `ngx_conf_parse` and
//! `ngx_conf_read_token` build it: tokens up to `;`, `{` or `}`, blocks
//! nested with an explicit stack (no recursion, so deep nesting cannot
//! overflow the stack), map-like bodies that refuse `{`, and Lua blocks.
//!
//! The output is a flat pre-order arena of nodes holding byte ranges into
//! the source; nothing is copied, so printing is the source itself.

mod arena;

pub use arena::BodyKind;
pub(crate) use arena::{Arena, Node, NodeKind};
use arena::{COUNT_BITS, COUNT_MASK, SPLIT_BY_COMMENT};

use crate::error::{ErrorKind, ParseError};
use crate::lex::{self, Quoted};
use crate::lua;

/// Marker for "no offset" in `u32` fields.
pub(crate) const NONE: u32 = u32::MAX;

/// nginx reads the configuration through a 4 KiB buffer
/// (`NGX_CONF_BUFFER`); a token that does not fit is an error.
const CONF_BUFFER: usize = 4096;

/// Directives whose `{ ... }` body is read by a custom handler as a list of
/// `key value;` entries rather than as directives: nested blocks are
/// refused there with `unexpected "{"`.
pub const KEY_VALUE_BLOCKS: &[&str] = &[
    "map",
    "types",
    "geo",
    "split_clients",
    "charset_map",
    "match",
    // ngx_http_geoip2_module reads its block with a custom handler too
    "geoip2",
];

/// Whether a directive's block body is Lua source (lua-nginx-module).
pub fn is_lua_block(name: &[u8]) -> bool {
    name.ends_with(b"_by_lua_block")
}

/// Length of the raw token (quotes included) or comment starting at
/// `start`. Tokens are stored as their start offset only: the same lexer
/// rule that found a token finds its end again, which halves the arena.
pub(crate) fn token_len(src: &[u8], start: usize) -> usize {
    let rest = &src[start..];
    match rest.first() {
        Some(b'"' | b'\'') => match lex::quoted(rest) {
            Quoted::Closed(n) => n,
            Quoted::Unterminated => rest.len(),
        },
        Some(b'#') => lex::comment(rest).map_or(1, |(_, c)| c.len()),
        Some(_) => lex::bare(rest).map_or(1, |(_, t)| t.len()),
        None => 0,
    }
}

/// Whether the input is a whole file or the body of a map-like block (a
/// file included from inside `map { }` is read by the map's handler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    #[default]
    Directives,
    KeyValue,
}

pub(crate) struct Parsed {
    /// Start offsets of tokens and comments.
    pub tokens: Vec<u32>,
    pub nodes: Vec<Node>,
    /// (node index, end offset) of each block that can hold children, in
    /// node order.
    pub block_ends: Vec<(u32, u32)>,
}

/// A statement as `ngx_conf_read_token` returns it.
enum Stmt {
    /// Tokens ended by `;` at the offset.
    Semi(usize),
    /// Tokens ended by `{` at the offset.
    Open(usize),
    /// `}` at the offset.
    Close(usize),
    Eof,
}

struct Frame {
    node: usize,
    /// Index of this block in `block_ends`.
    block: usize,
    kv: bool,
    /// Comments found between this block directive's arguments.
    comments: Vec<(u32, u32)>,
}

struct Parser<'s> {
    src: &'s [u8],
    pos: usize,
    tokens: Vec<u32>,
    nodes: Vec<Node>,
    block_ends: Vec<(u32, u32)>,
    /// Comments between the arguments of the statement being read.
    arg_comments: Vec<(u32, u32)>,
    /// The blocks open, innermost last.
    stack: Vec<Frame>,
}

pub(crate) fn parse(src: &[u8], mode: ParseMode) -> Result<Parsed, ParseError> {
    match parse_until_error(src, mode) {
        (parsed, None) => Ok(parsed),
        (_, Some(cut)) => Err(cut.error),
    }
}

/// Where a parse stopped: the error, and the blocks still open then
/// (outermost first), which the partial arena closes at the error.
#[derive(Debug, Clone)]
pub(crate) struct Cut {
    pub error: ParseError,
    pub open: Vec<u32>,
}

/// Parses up to the first error. Without one, the whole input; with one,
/// the statements nginx read (and handled) before it, every block still
/// open closed at the error: nginx runs each directive's handler as it
/// reads it, so a directive it refuses before the syntax error is what
/// `nginx -t` reports.
pub(crate) fn parse_until_error(src: &[u8], mode: ParseMode) -> (Parsed, Option<Cut>) {
    let mut p = Parser {
        src,
        pos: 0,
        tokens: Vec::with_capacity(src.len() / 12),
        nodes: Vec::with_capacity(src.len() / 40),
        block_ends: Vec::new(),
        arg_comments: Vec::new(),
        stack: Vec::new(),
    };
    let cut = if src.len() >= NONE as usize {
        let error = ParseError::new(ErrorKind::TooLongParameter(src[..10].to_vec()), 0);
        Some(Cut {
            error: error.locate(src),
            open: Vec::new(),
        })
    } else {
        p.run(mode).err().map(|e| p.cut(e.locate(src)))
    };
    p.tokens.shrink_to_fit();
    p.nodes.shrink_to_fit();
    p.block_ends.shrink_to_fit();
    let parsed = Parsed {
        tokens: p.tokens,
        nodes: p.nodes,
        block_ends: p.block_ends,
    };
    (parsed, cut)
}

impl Parser<'_> {
    /// Drops the tokens of the statement the error cut short and closes
    /// the open blocks at the error.
    fn cut(&mut self, error: ParseError) -> Cut {
        let kept = self.nodes.last().map_or(0, |n| {
            let count = match n.kind() {
                NodeKind::Directive(_) => n.tok_count(),
                NodeKind::Comment { .. } => 1,
            };
            (n.tok_first + count) as usize
        });
        self.tokens.truncate(kept);
        let next = self.nodes.len() as u32;
        let end = error.offset.min(self.src.len()) as u32;
        let mut open = Vec::with_capacity(self.stack.len());
        for frame in self.stack.drain(..) {
            self.nodes[frame.node].link = next;
            self.block_ends[frame.block].1 = end;
            open.push(frame.node as u32);
        }
        Cut { error, open }
    }

    fn run(&mut self, mode: ParseMode) -> Result<(), ParseError> {
        let mut stack = std::mem::take(&mut self.stack);
        let result = self.run_with(mode, &mut stack);
        self.stack = stack;
        result
    }

    fn run_with(&mut self, mode: ParseMode, stack: &mut Vec<Frame>) -> Result<(), ParseError> {
        let top_kv = mode == ParseMode::KeyValue;
        loop {
            let (stmt, first_tok) = self.statement()?;
            let in_kv = stack.last().map_or(top_kv, |f| f.kv);
            match stmt {
                Stmt::Eof => {
                    if !stack.is_empty() {
                        return Err(ParseError::new(ErrorKind::EofInBlock, self.src.len()));
                    }
                    return Ok(());
                }
                Stmt::Close(at) => {
                    let Some(frame) = stack.pop() else {
                        return Err(ParseError::new(ErrorKind::Unexpected(b'}'), at));
                    };
                    let next = self.nodes.len() as u32;
                    self.nodes[frame.node].link = next;
                    self.block_ends[frame.block].1 = at as u32 + 1;
                    self.push_comments(&frame.comments, true);
                }
                Stmt::Semi(at) => {
                    let comments = std::mem::take(&mut self.arg_comments);
                    let split = !comments.is_empty();
                    self.push_directive(first_tok, BodyKind::None, at as u32 + 1, split)?;
                    self.push_comments(&comments, true);
                }
                Stmt::Open(at) => {
                    if in_kv {
                        return Err(ParseError::new(ErrorKind::Unexpected(b'{'), at));
                    }
                    let comments = std::mem::take(&mut self.arg_comments);
                    let split = !comments.is_empty();
                    let name = lex::unescape(self.tok_bytes(first_tok)).into_owned();
                    if is_lua_block(&name) {
                        let close = lua::scan_block(self.src, at)?;
                        self.pos = close + 1;
                        self.push_directive(first_tok, BodyKind::Lua, close as u32 + 1, split)?;
                        self.push_comments(&comments, true);
                    } else {
                        let kv = KEY_VALUE_BLOCKS.iter().any(|k| k.as_bytes() == &*name);
                        let body = if kv {
                            BodyKind::KeyValue
                        } else {
                            BodyKind::Block
                        };
                        let node = self.push_directive(first_tok, body, NONE, split)?;
                        let block = self.block_ends.len();
                        self.block_ends.push((node as u32, NONE));
                        stack.push(Frame {
                            node,
                            block,
                            kv,
                            comments,
                        });
                    }
                }
            }
        }
    }

    fn tok_bytes(&self, i: usize) -> &[u8] {
        let start = self.tokens[i] as usize;
        &self.src[start..start + token_len(self.src, start)]
    }

    /// Pushes a directive node; `end` is its end offset, or for a block
    /// that can hold children a placeholder its `}` replaces. `split`: a
    /// comment sits between its tokens.
    fn push_directive(
        &mut self,
        first_tok: usize,
        body: BodyKind,
        end: u32,
        split: bool,
    ) -> Result<usize, ParseError> {
        let count = (self.tokens.len() - first_tok) as u32;
        if count > COUNT_MASK {
            return Err(ParseError::new(
                ErrorKind::TooLarge,
                self.tokens[first_tok] as usize,
            ));
        }
        let idx = self.nodes.len();
        self.nodes.push(Node {
            tok_first: first_tok as u32,
            meta: (NodeKind::Directive(body).code() << COUNT_BITS)
                | count
                | if split { SPLIT_BY_COMMENT } else { 0 },
            link: end,
        });
        Ok(idx)
    }

    fn push_comments(&mut self, comments: &[(u32, u32)], in_args: bool) {
        for &(start, end) in comments {
            self.nodes.push(Node {
                tok_first: self.tokens.len() as u32,
                meta: NodeKind::Comment { in_args }.code() << COUNT_BITS,
                link: end,
            });
            self.tokens.push(start);
        }
    }

    /// Reads tokens up to the end of one statement, recording comments.
    /// Returns the statement and the index of its first token.
    fn statement(&mut self) -> Result<(Stmt, usize), ParseError> {
        let src = self.src;
        let mut first_tok = self.tokens.len();
        loop {
            let rest = &src[self.pos..];
            let ntok = self.tokens.len() - first_tok;
            let Some(&c) = rest.first() else {
                if ntok > 0 {
                    return Err(ParseError::new(ErrorKind::EofInStatement, src.len()));
                }
                return Ok((Stmt::Eof, first_tok));
            };
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    let n = lex::space(rest).map_or(1, |(_, s)| s.len());
                    self.pos += n;
                }
                b'#' => {
                    let n = lex::comment(rest).map_or(1, |(_, s)| s.len());
                    let start = self.pos;
                    self.check_length(start, start + n, None)?;
                    self.pos += n;
                    let span = (start as u32, (start + n) as u32);
                    if ntok > 0 {
                        self.arg_comments.push(span);
                    } else {
                        self.push_comments(&[span], false);
                        first_tok = self.tokens.len();
                    }
                }
                b';' | b'{' => {
                    if ntok == 0 {
                        return Err(ParseError::new(ErrorKind::Unexpected(c), self.pos));
                    }
                    let at = self.pos;
                    self.pos += 1;
                    let stmt = if c == b';' {
                        Stmt::Semi(at)
                    } else {
                        Stmt::Open(at)
                    };
                    return Ok((stmt, first_tok));
                }
                b'}' => {
                    if ntok != 0 {
                        return Err(ParseError::new(ErrorKind::Unexpected(b'}'), self.pos));
                    }
                    let at = self.pos;
                    self.pos += 1;
                    return Ok((Stmt::Close(at), first_tok));
                }
                b'"' | b'\'' => {
                    let start = self.pos;
                    let n = match lex::quoted(rest) {
                        Quoted::Closed(n) => n,
                        Quoted::Unterminated => {
                            self.check_length(start + 1, src.len(), Some(c))?;
                            return Err(ParseError::new(ErrorKind::EofInStatement, src.len()));
                        }
                    };
                    let after = start + n;
                    // After a closing quote nginx needs whitespace, `;`, `{`
                    // or `)` (which then starts the next token).
                    let needed = match src.get(after) {
                        None => return Err(ParseError::new(ErrorKind::EofInStatement, src.len())),
                        Some(&b) if lex::is_space(b) => after + 1,
                        Some(b';' | b'{' | b')') => after,
                        Some(&b) => return Err(ParseError::new(ErrorKind::Unexpected(b), after)),
                    };
                    // (a 4095-byte string fills the buffer with its closing
                    // quote: nginx runs out after it, no longer quoted)
                    let open = start + 1 + CONF_BUFFER < after;
                    self.check_length(start + 1, needed, open.then_some(c))?;
                    self.tokens.push(start as u32);
                    self.pos = after;
                }
                _ => {
                    let start = self.pos;
                    let n = lex::bare(rest).map_or(1, |(_, s)| s.len());
                    let end = start + n;
                    let needed = match src.get(end) {
                        Some(&b) if lex::is_space(b) => end + 1,
                        _ => end,
                    };
                    self.check_length(start, needed, None)?;
                    self.tokens.push(start as u32);
                    self.pos = end;
                }
            }
        }
    }

    /// nginx keeps a token in a 4 KiB buffer from its start; it fails when
    /// it must read the byte at `start + 4096` (and that byte exists) before
    /// the token is done. `last_needed` is the last offset nginx reads while
    /// the token is current.
    fn check_length(
        &self,
        start: usize,
        last_needed: usize,
        quote: Option<u8>,
    ) -> Result<(), ParseError> {
        let limit = start + CONF_BUFFER;
        if last_needed < limit || limit >= self.src.len() {
            return Ok(());
        }
        let kind = match quote {
            Some(q) => ErrorKind::TooLongQuoted(q),
            None => ErrorKind::TooLongParameter(self.src[start..start + 10].to_vec()),
        };
        // nginx reports the line where the token started; for quotes, the
        // offset of the opening quote.
        let at = if quote.is_some() { start - 1 } else { start };
        Err(ParseError::new(kind, at))
    }
}

#[cfg(test)]
mod tests;
