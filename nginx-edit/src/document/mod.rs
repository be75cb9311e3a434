//! The parsed document: the source bytes plus a read-only tree of byte
//! ranges over them. Printing returns the source, so a document that is
//! not edited prints exactly as it was read; edits (see `edit.rs`) splice
//! new bytes in and parse the result again.

use std::sync::OnceLock;

use crate::error::ParseError;
use crate::lex;
use crate::parse::{self, Arena, Node, NodeKind, ParseMode};

mod items;

pub use items::{BodyKind, Comment, Directive, Item, Items, Token};

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
    /// For [`Document::parse_prefix`]: where the parse stopped.
    cut: Option<Box<parse::Cut>>,
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
            cut: self.cut.clone(),
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
        Ok(Self::from_parsed(src, mode, parsed, None))
    }

    /// Parses up to the first syntax error, as nginx reads a file: the
    /// document holds every statement read before the error (blocks still
    /// open end at the error, see [`Directive::cut_by_error`]), and
    /// [`Document::parse_error`] gives the error. Without an error it is
    /// [`Document::parse_owned`]'s document. Either way `to_bytes()` is the
    /// whole input; only a document without error is one that edits keep
    /// valid.
    pub fn parse_prefix(src: Vec<u8>, mode: ParseMode) -> Document {
        let (parsed, cut) = parse::parse_until_error(&src, mode);
        Self::from_parsed(src, mode, parsed, cut.map(Box::new))
    }

    fn from_parsed(
        src: Vec<u8>,
        mode: ParseMode,
        parsed: parse::Parsed,
        cut: Option<Box<parse::Cut>>,
    ) -> Document {
        Document {
            src,
            mode,
            tokens: parsed.tokens,
            nodes: parsed.nodes,
            block_ends: parsed.block_ends,
            lines: OnceLock::new(),
            cut,
        }
    }

    /// The syntax error a [`Document::parse_prefix`] stopped at.
    pub fn parse_error(&self) -> Option<&ParseError> {
        self.cut.as_ref().map(|c| &c.error)
    }

    /// The innermost block still open at the parse error (`None`: the
    /// error is at the top level, or there is none).
    pub fn cut_block(&self) -> Option<Directive<'_>> {
        let id = *self.cut.as_ref()?.open.last()?;
        Some(Directive { doc: self, id })
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
            v.extend(memchr::memchr_iter(b'\n', &self.src).map(|i| i as u32 + 1));
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

    /// The `k`-th token (0: the name) of directive `node`.
    ///
    /// Between two tokens of a directive nginx allows only whitespace (and
    /// comments, which the node flags), and a leaf directive's last token
    /// is followed by whitespace and its `;`. So a token ends where the
    /// whitespace before the next one starts, unless that whitespace is
    /// escaped: found without lexing the token again, which reading every
    /// argument (`parse --format json`) would otherwise do.
    fn directive_token(&self, node: &Node, k: u32) -> Token<'_> {
        let i = (node.tok_first + k) as usize;
        let start = self.tokens[i] as usize;
        let follower = if node.split_by_comment() {
            None
        } else if k + 1 < node.tok_count() {
            Some(self.tokens[i + 1] as usize)
        } else if node.kind() == NodeKind::Directive(BodyKind::None) {
            // the `;`
            node.leaf_end().map(|end| end as usize - 1)
        } else {
            None
        };
        let end = follower.and_then(|next| {
            let before = &self.src[start..next];
            let kept = before.len()
                - before
                    .iter()
                    .rev()
                    .take_while(|&&c| lex::is_space(c))
                    .count();
            // `a\ ;` ends in an escaped space: lex it
            (kept > 0 && before[kept - 1] != b'\\').then_some(start + kept)
        });
        let end = end.unwrap_or_else(|| start + parse::token_len(&self.src, start));
        Token {
            raw: &self.src[start..end],
            start,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every directive token [`Document::directive_token`] finds without
    /// lexing is the token lexing finds.
    fn assert_tokens_are_the_lexed_ones(src: &[u8], what: &str) {
        let Ok(doc) = Document::parse(src) else {
            return;
        };
        for node in doc.nodes.iter() {
            if !matches!(node.kind(), NodeKind::Directive(_)) {
                continue;
            }
            for k in 0..node.tok_count() {
                let token = doc.directive_token(node, k);
                let lexed = parse::token_len(&doc.src, token.start);
                assert_eq!(
                    token.raw,
                    &doc.src[token.start..token.start + lexed],
                    "{what}: token {k} of the directive at {}",
                    doc.node_start(node)
                );
            }
        }
    }

    #[test]
    fn directive_tokens_end_where_lexing_ends_them() {
        let cases: &[&[u8]] = &[
            b"a b c;",
            b"a\tb\r\n  c  ;",
            b"a b\\ ;",    // an escaped space ends the last token
            b"a b\\  c;",  // ... and a middle one
            b"a b\\\\ c;", // an escaped backslash does not escape the space
            b"a \"q u\" 'r'\n;",
            b"if ($a = \"x\") { return 204; }",
            b"a ${b}c d${ e;",
            b"a b} c};",
            b"a # c\n b # d\n ;",
            b"location # c\n / { }",
            b"server {} http { x y; }",
            b"content_by_lua_block { ngx.say('}') }",
            b"map $a $b { default 1; ~x\\; 2; }",
        ];
        for src in cases {
            assert_tokens_are_the_lexed_ones(src, &String::from_utf8_lossy(src));
        }
    }

    /// The same over the shared corpus of real configs, when it is here.
    #[test]
    fn directive_tokens_of_the_corpus_are_the_lexed_ones() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        if !root.is_dir() {
            return;
        }
        let mut dirs = vec![root];
        let mut files = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "conf") {
                    let src = std::fs::read(&path).unwrap();
                    assert_tokens_are_the_lexed_ones(&src, &path.display().to_string());
                    files += 1;
                }
            }
        }
        assert!(files > 100, "only {files} corpus configs");
    }
}
