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
use crate::lex;

/// Writes the JSON tree of `doc` to `out`.
pub fn write_json<W: Write>(
    out: &mut W,
    file: &str,
    doc: &Document,
    include_comments: bool,
) -> io::Result<()> {
    let mut w = Writer {
        buf: Vec::with_capacity(FLUSH_AT + 4096),
        out,
        lines: LineCursor::new(doc.as_bytes()),
        comments: include_comments,
    };
    w.raw(b"{\"file\":");
    w.str(file.as_bytes());
    w.raw(b",\"status\":\"ok\",\"config\":");
    w.items(doc.items())?;
    w.raw(b"}\n");
    w.flush()
}

/// Output is built in a buffer and handed to the writer in large pieces:
/// thousands of tiny `write` calls cost more than the JSON itself.
const FLUSH_AT: usize = 1 << 14;

struct Writer<'a, 's, W: Write> {
    buf: Vec<u8>,
    out: &'a mut W,
    lines: LineCursor<'s>,
    comments: bool,
}

impl<W: Write> Writer<'_, '_, W> {
    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn items(&mut self, items: Items<'_>) -> io::Result<()> {
        self.raw(b"[");
        let mut first = true;
        for item in items {
            match item {
                Item::Comment(c) => {
                    if !self.comments {
                        continue;
                    }
                    self.sep(&mut first);
                    self.raw(b"{\"comment\":");
                    self.str(c.text());
                    self.position(c.span());
                    self.raw(b"}");
                }
                Item::Directive(d) => {
                    self.sep(&mut first);
                    self.raw(b"{\"directive\":");
                    self.token(d.name_token().raw());
                    self.raw(b",\"args\":[");
                    for (i, a) in d.args().enumerate() {
                        if i > 0 {
                            self.raw(b",");
                        }
                        self.token(a.raw());
                    }
                    self.raw(b"]");
                    self.position(d.span());
                    if let Some(lua) = d.lua_body() {
                        self.raw(b",\"lua\":");
                        self.str(lua);
                    }
                    if let Some(block) = d.block() {
                        self.raw(b",\"block\":");
                        self.items(block)?;
                    }
                    self.raw(b"}");
                }
            }
            if self.buf.len() >= FLUSH_AT {
                self.flush()?;
            }
        }
        self.raw(b"]");
        Ok(())
    }

    fn sep(&mut self, first: &mut bool) {
        if !*first {
            self.raw(b",");
        }
        *first = false;
    }

    fn position(&mut self, span: std::ops::Range<usize>) {
        let (line, column) = self.lines.at(span.start);
        self.raw(b",\"line\":");
        self.num(line);
        self.raw(b",\"column\":");
        self.num(column);
        self.raw(b",\"span\":[");
        self.num(span.start);
        self.raw(b",");
        self.num(span.end);
        self.raw(b"]");
    }

    fn num(&mut self, n: usize) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    /// A JSON string (invalid UTF-8 replaced by U+FFFD).
    fn str(&mut self, bytes: &[u8]) {
        self.buf.reserve(bytes.len() + 2);
        self.buf.push(b'"');
        if let Err(Stop::NonAscii(at)) = escape_ascii_into::<false>(&mut self.buf, bytes) {
            self.finish_non_ascii(&bytes[at..]);
        }
        self.buf.push(b'"');
    }

    /// A token's value (what nginx sees) as a JSON string. A bare token
    /// with no backslash is its own value: written in the one pass that
    /// escapes it, rather than scanned for escapes first.
    fn token(&mut self, raw: &[u8]) {
        if !matches!(raw.first(), Some(b'"' | b'\'')) {
            let mark = self.buf.len();
            self.buf.reserve(raw.len() + 2);
            self.buf.push(b'"');
            match escape_ascii_into::<true>(&mut self.buf, raw) {
                Ok(()) => return self.buf.push(b'"'),
                Err(Stop::NonAscii(at)) => {
                    // (a backslash after it is escaped as JSON needs; its
                    // nginx escape is then decoded below)
                    if !raw[at..].contains(&b'\\') {
                        self.finish_non_ascii(&raw[at..]);
                        return self.buf.push(b'"');
                    }
                }
                Err(Stop::Backslash) => {}
            }
            self.buf.truncate(mark);
        }
        self.str(&lex::unescape(raw));
    }

    /// The rest of a string from its first non-ASCII byte, validated.
    fn finish_non_ascii(&mut self, rest: &[u8]) {
        match std::str::from_utf8(rest) {
            Ok(_) => escape_into(&mut self.buf, rest),
            Err(_) => escape_into(&mut self.buf, String::from_utf8_lossy(rest).as_bytes()),
        }
    }
}

/// Why [`escape_ascii_into`] stopped early.
enum Stop {
    /// At this index, the first byte that is not ASCII (everything before
    /// it written).
    NonAscii(usize),
    /// At a backslash, asked to (what was written is to be dropped).
    Backslash,
}

/// [`escape_into`] for ASCII text in one pass; stops at the first byte
/// that is not ASCII, and with `AT_BACKSLASH` at the first backslash.
fn escape_ascii_into<const AT_BACKSLASH: bool>(buf: &mut Vec<u8>, text: &[u8]) -> Result<(), Stop> {
    let mut start = 0;
    for (i, &c) in text.iter().enumerate() {
        if CLASS[c as usize] == PLAIN {
            continue;
        }
        if AT_BACKSLASH && c == b'\\' {
            return Err(Stop::Backslash);
        }
        buf.extend_from_slice(&text[start..i]);
        if CLASS[c as usize] == NON_ASCII {
            return Err(Stop::NonAscii(i));
        }
        escape_byte(buf, c);
        start = i + 1;
    }
    buf.extend_from_slice(&text[start..]);
    Ok(())
}

/// Appends valid UTF-8 `text` with JSON's escapes; runs of bytes that need
/// none are copied at once.
fn escape_into(buf: &mut Vec<u8>, text: &[u8]) {
    let mut start = 0;
    for (i, &c) in text.iter().enumerate() {
        if CLASS[c as usize] != ESCAPE {
            continue;
        }
        buf.extend_from_slice(&text[start..i]);
        escape_byte(buf, c);
        start = i + 1;
    }
    buf.extend_from_slice(&text[start..]);
}

/// JSON's escape of one ASCII byte.
fn escape_byte(buf: &mut Vec<u8>, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        b'"' => buf.extend_from_slice(b"\\\""),
        b'\\' => buf.extend_from_slice(b"\\\\"),
        b'\n' => buf.extend_from_slice(b"\\n"),
        b'\r' => buf.extend_from_slice(b"\\r"),
        b'\t' => buf.extend_from_slice(b"\\t"),
        _ => {
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[(c >> 4) as usize]);
            buf.push(HEX[(c & 0xf) as usize]);
        }
    }
}

const PLAIN: u8 = 0;
const ESCAPE: u8 = 1;
const NON_ASCII: u8 = 2;

/// What each byte needs in a JSON string: nothing, an escape, or (bytes
/// from 0x80) a UTF-8 check.
static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = if c >= 0x80 {
            NON_ASCII
        } else if c < 0x20 || c == 0x7f || c == b'"' as usize || c == b'\\' as usize {
            ESCAPE
        } else {
            PLAIN
        };
        c += 1;
    }
    t
};

/// Line and column of increasing offsets in one forward pass (comments
/// stored after their directive step back a little: a step back scans
/// only the bytes it undoes).
pub(crate) struct LineCursor<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    /// Column at `pos`.
    column: usize,
}

/// Characters in `text`: its bytes when ASCII, else the bytes that start
/// a UTF-8 sequence (columns count characters, as editors do).
fn chars(text: &[u8]) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.iter().filter(|&&c| (c & 0xC0) != 0x80).count()
    }
}

impl<'a> LineCursor<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        LineCursor {
            src,
            pos: 0,
            line: 1,
            line_start: 0,
            column: 1,
        }
    }

    pub(crate) fn at(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.pos {
            // Back to an earlier offset: undo the newlines passed.
            let back = &self.src[offset..self.pos];
            self.line -= memchr::memchr_iter(b'\n', back).count();
            self.line_start = memchr::memrchr(b'\n', &self.src[..offset]).map_or(0, |i| i + 1);
            self.column = chars(&self.src[self.line_start..offset]) + 1;
            self.pos = offset;
            return (self.line, self.column);
        }
        let seg = &self.src[self.pos..offset];
        match memchr::memrchr(b'\n', seg) {
            Some(last) => {
                // usually the only newline: count the others only when
                // there are some (a plain count vectorises; memchr's
                // iterator costs more to set up than these few bytes take)
                let before = &seg[..last];
                let others = match memchr::memchr(b'\n', before) {
                    Some(first) => 1 + before[first + 1..].iter().filter(|&&c| c == b'\n').count(),
                    None => 0,
                };
                self.line += 1 + others;
                self.line_start = self.pos + last + 1;
                self.column = chars(&self.src[self.line_start..offset]) + 1;
            }
            None => self.column += chars(seg),
        }
        self.pos = offset;
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn strings_escape_controls_and_replace_invalid_utf8() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain", r#""plain""#),
            (b"q\"b\\s\n\r\t\x01\x7f", r#""q\"b\\s\n\r\t\u0001\u007f""#),
            ("café \"x\"".as_bytes(), r#""café \"x\"""#),
            (b"a\xffb\x02", "\"a\u{fffd}b\\u0002\""),
            (b"\xe9t\xe9", "\"\u{fffd}t\u{fffd}\""),
        ];
        for (input, want) in cases {
            let mut out = Vec::new();
            let mut w = Writer {
                buf: Vec::new(),
                out: &mut out,
                lines: LineCursor::new(b""),
                comments: false,
            };
            w.str(input);
            w.flush().unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), *want, "{input:?}");
        }
    }

    /// A token is written as the JSON string of its value, whichever way
    /// it gets there (bare and plain, escapes, quotes, non-ASCII).
    #[test]
    fn tokens_are_written_as_their_values() {
        let raws: &[&[u8]] = &[
            b"plain",
            b"a\\;b",
            b"a\\\\b",
            b"\"q\\\"x\"",
            b"'s\\n'",
            "caf\u{e9}\\tx".as_bytes(),
            "caf\u{e9}x".as_bytes(),
            b"a\x01b\x7f",
            b"\xff\\t",
            b"b}",
            b"$x{y}",
        ];
        for raw in raws {
            let mut got = Vec::new();
            let mut want = Vec::new();
            for (out, fast) in [(&mut got, true), (&mut want, false)] {
                let mut w = Writer {
                    buf: Vec::new(),
                    out,
                    lines: LineCursor::new(b""),
                    comments: false,
                };
                if fast {
                    w.token(raw);
                } else {
                    w.str(&lex::unescape(raw));
                }
                w.flush().unwrap();
            }
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap(),
                "{raw:?}"
            );
        }
    }

    /// Line and column by counting from the start, for any order of offsets.
    fn naive(src: &[u8], offset: usize) -> (usize, usize) {
        let before = &src[..offset];
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        let column = 1 + src[line_start..offset]
            .iter()
            .filter(|&&c| (c & 0xC0) != 0x80)
            .count();
        (line, column)
    }

    #[test]
    fn line_cursor_agrees_with_counting_forward_and_back() {
        let src = "a b;\n\n  caf\u{e9} x; # \u{e9}t\u{e9}\n\tz {\n}\n\nend".as_bytes();
        let mut c = LineCursor::new(src);
        // every offset forward, then a zigzag with steps back over lines
        let mut offsets: Vec<usize> = (0..=src.len()).collect();
        offsets.extend([30, 3, 17, 16, 0, src.len(), 9, 8, 25, 6]);
        for o in offsets {
            assert_eq!(c.at(o), naive(src, o), "offset {o}");
        }
    }

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
        // escapes and invalid UTF-8
        let escaped = Document::parse(b"a \"q\\\"\x01\t\" caf\xe9;\n").unwrap();
        let mut bytes = Vec::new();
        write_json(&mut bytes, "f\"x", &escaped, false).unwrap();
        let e: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(e["file"], "f\"x");
        assert_eq!(
            e["config"][0]["args"],
            serde_json::json!(["q\"\u{1}\t", "caf\u{fffd}"])
        );
        assert_eq!(http["block"][2]["line"], 4);
        assert_eq!(http["block"][2]["column"], 3);
        let mut out = Vec::new();
        write_json(&mut out, "f.conf", &doc, false).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["config"][0]["directive"], "http");
    }
}
