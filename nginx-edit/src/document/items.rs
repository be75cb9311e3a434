//! Views into a [`Document`]: items, directives, comments and tokens,
//! each a document reference and a node index.

use std::borrow::Cow;
use std::ops::Range;

use super::Document;
use crate::lex;
use crate::parse::{self, Arena, Node, NodeKind};

pub use crate::parse::BodyKind;

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
    pub(super) doc: &'a Document,
    pub(super) next: u32,
    pub(super) end: u32,
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
    pub(super) doc: &'a Document,
    pub(super) id: u32,
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
        self.doc.directive_token(self.node(), i)
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
        let src = &self.doc.src[self.start()..];
        match src.first() {
            Some(b'"' | b'\'') => &*self.name() == name.as_bytes(),
            // Unquoted, without lexing the token: the escapes nginx decodes
            // give bytes no directive name has, so the token must be `name`
            // as written, followed by a byte that ends a bare token.
            _ if name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') => {
                src.starts_with(name.as_bytes())
                    && src
                        .get(name.len())
                        .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{'))
            }
            _ => &*self.name() == name.as_bytes(),
        }
    }

    /// Where each argument starts (the offsets of [`args`](Self::args)'
    /// spans, without reading the tokens).
    pub fn arg_offsets(&self) -> impl ExactSizeIterator<Item = usize> + 'a {
        let this = *self;
        (1..self.node().tok_count())
            .map(move |i| this.doc.tokens[(this.node().tok_first + i) as usize] as usize)
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

    /// Whether its block was still open at the syntax error a
    /// [`Document::parse_prefix`] stopped at (its span ends there).
    pub fn cut_by_error(&self) -> bool {
        self.doc
            .cut
            .as_ref()
            .is_some_and(|c| c.open.contains(&self.id))
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
    pub(super) raw: &'a [u8],
    pub(super) start: usize,
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
        self.text_cow().into_owned()
    }

    /// [`text`](Self::text), borrowed from the source when the token has
    /// no quotes to drop or escapes to decode.
    pub fn text_cow(&self) -> Cow<'a, str> {
        match self.value() {
            Cow::Borrowed(b) => lex::as_text(b),
            Cow::Owned(v) => Cow::Owned(
                String::from_utf8(v)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::document::Document;

    /// `is` without lexing agrees with comparing the decoded name.
    #[test]
    fn is_compares_the_name_nginx_sees() {
        let src = "include a;\ninclude\tb;\n\"include\" c;\n'include' d;\ninclude{}\n\
                   includes e;\ninclude# x\n;\ninclude}x;\ninc\\lude f;\ninclude\\\\ g;\n\
                   include$x h;\nincludE i;\n";
        let doc = Document::parse(src.as_bytes()).unwrap();
        let got: Vec<bool> = doc.walk().map(|d| d.is("include")).collect();
        let decoded: Vec<bool> = doc.walk().map(|d| &*d.name() == b"include").collect();
        assert_eq!(got, decoded);
        for d in doc.walk() {
            let spans: Vec<usize> = d.args().map(|a| a.span().start).collect();
            assert_eq!(d.arg_offsets().collect::<Vec<_>>(), spans);
        }
        assert_eq!(
            got,
            [true, true, true, true, true, false, false, false, false, false, false, false]
        );
    }
}
