//! `nginx-edit parse --format json`: the document as a JSON tree, written
//! straight to the output (no intermediate value tree), so a multi-MB
//! config streams out in one pass.
//!
//! ```json
//! {"file": "nginx.conf", "status": "ok", "config": [
//!   {"directive": "http", "args": [], "line": 1, "column": 1, "span": [0, 42],
//!    "block": [ ... ]},
//!   {"comment": " a comment", "line": 2, "column": 5, "span": [10, 21]},
//!   {"directive": "content_by_lua_block", "args": [], "line": 3, "column": 5,
//!    "span": [..], "lua": " ngx.say('hi') "}
//! ]}
//! ```
//! `args` are the values nginx sees (quotes removed, escapes decoded);
//! bytes that are not UTF-8 become U+FFFD. `span` is the byte range of the
//! directive in the file. Comments appear only when asked for.

use std::io::{self, Write};

use crate::document::{Document, Item, Items};

/// Writes the JSON tree of `doc` to `out`.
pub fn write_json<W: Write>(
    out: &mut W,
    file: &str,
    doc: &Document,
    include_comments: bool,
) -> io::Result<()> {
    out.write_all(b"{\"file\":")?;
    write_str(out, file.as_bytes())?;
    out.write_all(b",\"status\":\"ok\",\"config\":")?;
    let mut lines = LineCursor::new(doc.as_bytes());
    write_items(out, doc.items(), &mut lines, include_comments)?;
    out.write_all(b"}\n")
}

fn write_items<W: Write>(
    out: &mut W,
    items: Items<'_>,
    lines: &mut LineCursor<'_>,
    comments: bool,
) -> io::Result<()> {
    out.write_all(b"[")?;
    let mut first = true;
    for item in items {
        match item {
            Item::Comment(c) => {
                if !comments {
                    continue;
                }
                sep(out, &mut first)?;
                let span = c.span();
                out.write_all(b"{\"comment\":")?;
                write_str(out, c.text())?;
                write_position(out, lines, span)?;
                out.write_all(b"}")?;
            }
            Item::Directive(d) => {
                sep(out, &mut first)?;
                out.write_all(b"{\"directive\":")?;
                write_str(out, &d.name())?;
                out.write_all(b",\"args\":[")?;
                for (i, a) in d.args().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    write_str(out, &a.value())?;
                }
                out.write_all(b"]")?;
                write_position(out, lines, d.span())?;
                if let Some(lua) = d.lua_body() {
                    out.write_all(b",\"lua\":")?;
                    write_str(out, lua)?;
                }
                if let Some(block) = d.block() {
                    out.write_all(b",\"block\":")?;
                    write_items(out, block, lines, comments)?;
                }
                out.write_all(b"}")?;
            }
        }
    }
    out.write_all(b"]")
}

fn sep<W: Write>(out: &mut W, first: &mut bool) -> io::Result<()> {
    if !*first {
        out.write_all(b",")?;
    }
    *first = false;
    Ok(())
}

fn write_position<W: Write>(
    out: &mut W,
    lines: &mut LineCursor<'_>,
    span: std::ops::Range<usize>,
) -> io::Result<()> {
    let (line, column) = lines.at(span.start);
    write!(
        out,
        ",\"line\":{line},\"column\":{column},\"span\":[{},{}]",
        span.start, span.end
    )
}

/// Line and column of increasing offsets in one forward pass (comments
/// stored after their directive step back a little; that is handled).
pub(crate) struct LineCursor<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineCursor<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        LineCursor {
            src,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    pub(crate) fn at(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.pos {
            *self = LineCursor::new(self.src);
        }
        for (i, &c) in self.src[self.pos..offset].iter().enumerate() {
            if c == b'\n' {
                self.line += 1;
                self.line_start = self.pos + i + 1;
            }
        }
        self.pos = offset;
        let column = self.src[self.line_start..offset]
            .iter()
            .filter(|&&c| (c & 0xC0) != 0x80)
            .count()
            + 1;
        (self.line, column)
    }
}

/// A JSON string from bytes (invalid UTF-8 replaced).
pub(crate) fn write_str<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    let text = String::from_utf8_lossy(bytes);
    serde_json::to_writer(&mut *out, &*text).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tree_with_comments_and_lua() {
        let src =
            b"# top\nhttp {\n  a \"x y\" 'z'; # t\n  content_by_lua_block { ngx.say(\"}\") }\n}\n";
        let doc = Document::parse(src).unwrap();
        let mut out = Vec::new();
        write_json(&mut out, "f.conf", &doc, true).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["config"][0]["comment"], " top");
        let http = &v["config"][1];
        assert_eq!(http["directive"], "http");
        assert_eq!(http["line"], 2);
        assert_eq!(http["block"][0]["args"], serde_json::json!(["x y", "z"]));
        assert_eq!(http["block"][1]["comment"], " t");
        assert_eq!(http["block"][2]["lua"], " ngx.say(\"}\") ");
        assert_eq!(http["block"][2]["line"], 4);
        assert_eq!(http["block"][2]["column"], 3);
        let mut out = Vec::new();
        write_json(&mut out, "f.conf", &doc, false).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["config"][0]["directive"], "http");
    }
}
