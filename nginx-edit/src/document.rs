//! The parsed document: the source bytes plus a read-only tree of byte
//! ranges over them. Printing returns the source, so a document that is
//! not edited prints exactly as it was read; edits (see `edit.rs`) splice
//! new bytes in and parse the result again.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use crate::error::ParseError;
use crate::lex;
use crate::parse::{self, Arena, Node, NodeKind, ParseMode};

pub use crate::parse::BodyKind;

/// A parsed nginx configuration file.
pub struct Document {
    src: Vec<u8>,
    mode: ParseMode,
    /// Start offsets of tokens and comments.
    tokens: Vec<u32>,
    nodes: Vec<Node>,
    /// See [`parse::Parsed::block_ends`].
    block_ends: Vec<(u32, u32)>,
    /// Offsets of line starts, built on first use.
    lines: OnceLock<Vec<u32>>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("bytes", &self.src.len())
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

impl Clone for Document {
    fn clone(&self) -> Self {
        Document {
            src: self.src.clone(),
            mode: self.mode,
            tokens: self.tokens.clone(),
            nodes: self.nodes.clone(),
            block_ends: self.block_ends.clone(),
            lines: OnceLock::new(),
        }
    }
}

impl Arena for Document {
    fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    fn block_ends(&self) -> &[(u32, u32)] {
        &self.block_ends
    }
}

impl Document {
    /// Parses a whole configuration file. Accepts exactly the token syntax
    /// nginx accepts; errors carry nginx's wording, offset, line and column.
    pub fn parse(src: &[u8]) -> Result<Document, ParseError> {
        Self::parse_owned(src.to_vec(), ParseMode::Directives)
    }

    /// Parses `src` (taking ownership) in the given mode: `KeyValue` for a
    /// file included from inside a `map`-like block.
    pub fn parse_owned(src: Vec<u8>, mode: ParseMode) -> Result<Document, ParseError> {
        let parsed = parse::parse(&src, mode)?;
        Ok(Document {
            src,
            mode,
            tokens: parsed.tokens,
            nodes: parsed.nodes,
            block_ends: parsed.block_ends,
            lines: OnceLock::new(),
        })
    }

    /// The document's bytes: the input, byte for byte, plus any edits.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.src.clone()
    }

    /// The document's bytes, consuming it.
    pub fn into_bytes(self) -> Vec<u8> {
        self.src
    }

    /// The document's bytes without copying.
    pub fn as_bytes(&self) -> &[u8] {
        &self.src
    }

    /// The mode this document was parsed in.
    pub fn mode(&self) -> ParseMode {
        self.mode
    }

    /// The top-level items (directives and comments) in source order.
    pub fn items(&self) -> Items<'_> {
        Items {
            doc: self,
            next: 0,
            end: self.nodes.len() as u32,
        }
    }

    /// The top-level directives.
    pub fn directives(&self) -> impl Iterator<Item = Directive<'_>> {
        self.items().filter_map(Item::into_directive)
    }

    /// Every directive, depth first, in source order.
    pub fn walk(&self) -> impl Iterator<Item = Directive<'_>> {
        (0..self.nodes.len() as u32)
            .filter(|&i| matches!(self.nodes[i as usize].kind(), NodeKind::Directive(_)))
            .map(|id| Directive { doc: self, id })
    }

    /// Every directive with the chain of block directives that contain it
    /// (outermost first), depth first.
    pub fn walk_with_parents(&self) -> Vec<(Vec<Directive<'_>>, Directive<'_>)> {
        let mut out = Vec::new();
        let mut parents: Vec<Directive<'_>> = Vec::new();
        for d in self.walk() {
            while parents.last().is_some_and(|p| self.next_of(p.id) <= d.id) {
                parents.pop();
            }
            out.push((parents.clone(), d));
            if self.next_of(d.id) > d.id + 1 {
                parents.push(d);
            }
        }
        out
    }

    /// Offsets of line starts, built once.
    fn line_starts(&self) -> &[u32] {
        self.lines.get_or_init(|| {
            let mut v = vec![0u32];
            v.extend(
                self.src
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c == b'\n')
                    .map(|(i, _)| i as u32 + 1),
            );
            v
        })
    }

    /// The text of 1-based line `line`, without its line ending (empty past
    /// the end).
    pub fn line_text(&self, line: usize) -> &[u8] {
        let lines = self.line_starts();
        let Some(&start) = lines.get(line.wrapping_sub(1)) else {
            return &[];
        };
        let end = lines.get(line).map_or(self.src.len(), |&e| e as usize - 1);
        let text = &self.src[start as usize..end];
        text.strip_suffix(b"\r").unwrap_or(text)
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let lines = self.line_starts();
        let line = lines.partition_point(|&s| s as usize <= offset);
        let start = lines[line - 1] as usize;
        let end = offset.min(self.src.len());
        let col = self.src[start..end]
            .iter()
            .filter(|&&c| (c & 0xC0) != 0x80)
            .count()
            + 1;
        (line, col)
    }

    /// The whitespace that starts the line holding `offset`, if only
    /// whitespace precedes `offset` on that line.
    pub fn indent_before(&self, offset: usize) -> Option<&[u8]> {
        let line_start = self.line_start(offset);
        let lead = &self.src[line_start..offset];
        lead.iter()
            .all(|&c| c == b' ' || c == b'\t')
            .then_some(lead)
    }

    /// Offset of the start of the line holding `offset`.
    pub fn line_start(&self, offset: usize) -> usize {
        self.src[..offset]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1)
    }

    /// Offset of the end of the line holding `offset` (the LF, or the end).
    pub fn line_end(&self, offset: usize) -> usize {
        self.src[offset..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.src.len(), |p| p + offset)
    }

    fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    /// Where a node starts: its first token, or its `#`.
    fn node_start(&self, node: &Node) -> usize {
        self.tokens[node.tok_first as usize] as usize
    }

    /// The raw token starting at token index `i`.
    fn token_at(&self, i: u32) -> Token<'_> {
        let start = self.tokens[i as usize] as usize;
        let len = parse::token_len(&self.src, start);
        Token {
            raw: &self.src[start..start + len],
            start,
        }
    }
}

/// A directive or a comment.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Directive(Directive<'a>),
    Comment(Comment<'a>),
}

impl<'a> Item<'a> {
    pub fn into_directive(self) -> Option<Directive<'a>> {
        match self {
            Item::Directive(d) => Some(d),
            Item::Comment(_) => None,
        }
    }
}

/// The items of one block (or of the top level), in source order.
#[derive(Debug, Clone)]
pub struct Items<'a> {
    doc: &'a Document,
    next: u32,
    end: u32,
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;
    fn next(&mut self) -> Option<Item<'a>> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        let node = self.doc.node(id);
        self.next = self.doc.next_of(id);
        Some(match node.kind() {
            NodeKind::Directive(_) => Item::Directive(Directive { doc: self.doc, id }),
            NodeKind::Comment { .. } => Item::Comment(Comment { doc: self.doc, id }),
        })
    }
}

/// A directive: a name, arguments, and how it ends (`;`, a block, a
/// key/value block or a Lua block).
#[derive(Clone, Copy)]
pub struct Directive<'a> {
    doc: &'a Document,
    id: u32,
}

impl std::fmt::Debug for Directive<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Directive({:?})", String::from_utf8_lossy(self.raw()))
    }
}

impl PartialEq for Directive<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.doc, other.doc) && self.id == other.id
    }
}

impl<'a> Directive<'a> {
    fn node(&self) -> &'a Node {
        self.doc.node(self.id)
    }

    fn token(&self, i: u32) -> Token<'a> {
        self.doc.token_at(self.node().tok_first + i)
    }

    fn start(&self) -> usize {
        self.doc.node_start(self.node())
    }

    /// The name token.
    pub fn name_token(&self) -> Token<'a> {
        self.token(0)
    }

    /// The name as nginx sees it (unquoted, unescaped).
    pub fn name(&self) -> Cow<'a, [u8]> {
        self.token(0).value()
    }

    /// Whether the name is `name` (as nginx sees it).
    pub fn is(&self, name: &str) -> bool {
        &*self.name() == name.as_bytes()
    }

    /// The arguments, name excluded.
    pub fn args(&self) -> impl ExactSizeIterator<Item = Token<'a>> + 'a {
        let this = *self;
        (1..self.node().tok_count()).map(move |i| this.token(i))
    }

    /// The `i`-th argument (0-based, name excluded).
    pub fn arg(&self, i: usize) -> Option<Token<'a>> {
        (i + 1 < self.node().tok_count() as usize).then(|| self.token(i as u32 + 1))
    }

    /// Number of arguments, name excluded.
    pub fn arg_count(&self) -> usize {
        self.node().tok_count() as usize - 1
    }

    /// How the directive ends.
    pub fn body_kind(&self) -> BodyKind {
        match self.node().kind() {
            NodeKind::Directive(b) => b,
            NodeKind::Comment { .. } => BodyKind::None,
        }
    }

    /// The items of its block (directives, or key/value entries), if it has
    /// one. A Lua block has no items; see [`Directive::lua_body`].
    pub fn block(&self) -> Option<Items<'a>> {
        match self.body_kind() {
            BodyKind::Block | BodyKind::KeyValue => Some(Items {
                doc: self.doc,
                next: self.id + 1,
                end: self.doc.next_of(self.id),
            }),
            BodyKind::None | BodyKind::Lua => None,
        }
    }

    /// The directives of its block (none when it has no block).
    pub fn children(&self) -> impl Iterator<Item = Directive<'a>> {
        self.block()
            .into_iter()
            .flatten()
            .filter_map(Item::into_directive)
    }

    /// The Lua source between the braces of a `*_by_lua_block`.
    pub fn lua_body(&self) -> Option<&'a [u8]> {
        let open = self.open_brace()?;
        (self.body_kind() == BodyKind::Lua)
            .then(|| &self.doc.src[open + 1..self.doc.end_of(self.id) as usize - 1])
    }

    /// Byte range from the name to the closing `;` or `}` included.
    pub fn span(&self) -> Range<usize> {
        self.start()..self.doc.end_of(self.id) as usize
    }

    /// Byte range of the header: name and arguments, before `;` or `{`.
    pub fn header_span(&self) -> Range<usize> {
        let last = self.token(self.node().tok_count() - 1);
        self.start()..last.span().end
    }

    /// Offset of the opening `{`, if it has a block.
    pub fn open_brace(&self) -> Option<usize> {
        if self.body_kind() == BodyKind::None {
            return None;
        }
        // Only whitespace and comments sit between the header and `{`.
        let src = &self.doc.src;
        let mut k = self.header_span().end;
        while k < src.len() {
            match src[k] {
                b'{' => return Some(k),
                b'#' => k += parse::token_len(src, k),
                _ => k += 1,
            }
        }
        None
    }

    /// The raw source of the whole directive.
    pub fn raw(&self) -> &'a [u8] {
        &self.doc.src[self.span()]
    }

    /// 1-based line of the name.
    pub fn line(&self) -> usize {
        self.doc.line_col(self.start()).0
    }

    /// 1-based line and column of the name.
    pub fn line_col(&self) -> (usize, usize) {
        self.doc.line_col(self.start())
    }

    /// The document this directive belongs to.
    pub fn document(&self) -> &'a Document {
        self.doc
    }
}

/// A `#` comment.
#[derive(Clone, Copy)]
pub struct Comment<'a> {
    doc: &'a Document,
    id: u32,
}

impl std::fmt::Debug for Comment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Comment({:?})", String::from_utf8_lossy(self.raw()))
    }
}

impl<'a> Comment<'a> {
    fn node(&self) -> &'a Node {
        self.doc.node(self.id)
    }

    /// The comment including its `#`.
    pub fn raw(&self) -> &'a [u8] {
        &self.doc.src[self.span()]
    }

    /// The text after `#` (a trailing CR of a CRLF line excluded).
    pub fn text(&self) -> &'a [u8] {
        let t = &self.raw()[1..];
        t.strip_suffix(b"\r").unwrap_or(t)
    }

    /// Byte range from `#` to the end of the line (LF excluded).
    pub fn span(&self) -> Range<usize> {
        self.doc.node_start(self.node())..self.doc.end_of(self.id) as usize
    }

    /// Whether it sits between the arguments of a directive.
    pub fn in_args(&self) -> bool {
        matches!(self.node().kind(), NodeKind::Comment { in_args: true })
    }

    /// Whether only whitespace precedes it on its line.
    pub fn starts_line(&self) -> bool {
        self.doc.indent_before(self.span().start).is_some()
    }

    /// 1-based line of the `#`.
    pub fn line(&self) -> usize {
        self.doc.line_col(self.span().start).0
    }
}

/// One token (a directive name or argument) as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    raw: &'a [u8],
    start: usize,
}

impl<'a> Token<'a> {
    /// The bytes as written, quotes included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The value nginx sees: quotes removed, escapes decoded.
    pub fn value(&self) -> Cow<'a, [u8]> {
        lex::unescape(self.raw)
    }

    /// The value as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.value()).into_owned()
    }

    /// The quote character, if the token is quoted.
    pub fn quote(&self) -> Option<u8> {
        match self.raw.first() {
            Some(&q @ (b'"' | b'\'')) => Some(q),
            _ => None,
        }
    }

    /// Byte range in the document.
    pub fn span(&self) -> Range<usize> {
        self.start..self.start + self.raw.len()
    }
}
