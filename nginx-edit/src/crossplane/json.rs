//! The JSON Python's `json.dumps` writes (crossplane's output): compact or
//! indented, ASCII-only strings.

/// A JSON writer that prints what Python's `json.dumps` prints: compact
/// (`,` and `:`) without indent, else one item per line with `, ` → `,`
/// and `: ` after keys; strings ASCII-only (`\uXXXX`, surrogate pairs).
/// It appends to a byte buffer (small appends to a `Vec` inline; through
/// `io::Write` each one is a call).
pub(super) struct Json<'b> {
    pub(super) out: &'b mut Vec<u8>,
    indent: Option<usize>,
    depth: usize,
    /// Nothing written yet in the innermost open container.
    fresh: bool,
}

impl<'b> Json<'b> {
    pub(super) fn new(out: &'b mut Vec<u8>, indent: Option<usize>, depth: usize) -> Self {
        Json {
            out,
            indent,
            depth,
            fresh: false,
        }
    }

    fn newline(&mut self) {
        if let Some(n) = self.indent {
            self.out.push(b'\n');
            self.out.resize(self.out.len() + n * self.depth, b' ');
        }
    }

    pub(super) fn open(&mut self, c: u8) {
        self.out.push(c);
        self.depth += 1;
        self.fresh = true;
    }

    pub(super) fn close(&mut self, c: u8) {
        self.depth -= 1;
        if !self.fresh {
            self.newline();
        }
        self.fresh = false;
        self.out.push(c);
    }

    /// Starts an array item or an object member.
    pub(super) fn item(&mut self) {
        if !self.fresh {
            self.out.push(b',');
        }
        self.fresh = false;
        self.newline();
    }

    /// Starts an object member: separator, then `"k":` (`"k": ` when
    /// indented).
    pub(super) fn key(&mut self, k: &str) {
        self.item();
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        if self.indent.is_some() {
            self.out.extend_from_slice(b"\": ");
        } else {
            self.out.extend_from_slice(b"\":");
        }
    }

    /// Bytes already in JSON form: a literal.
    pub(super) fn raw_value(&mut self, v: &[u8]) {
        self.out.extend_from_slice(v);
    }

    pub(super) fn line(&mut self, line: Option<usize>) {
        match line {
            Some(mut n) => {
                let mut buf = [0u8; 20];
                let mut i = buf.len();
                loop {
                    i -= 1;
                    buf[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                self.out.extend_from_slice(&buf[i..]);
            }
            None => self.out.extend_from_slice(b"null"),
        }
    }

    pub(super) fn str(&mut self, bytes: &[u8]) {
        write_py_str(self.out, bytes);
    }
}

/// Whether Python's `json.dumps` (ASCII-only) writes the byte other than as
/// itself: controls, DEL, `"`, `\\` and every non-ASCII byte.
#[inline]
fn needs_escape(b: u8) -> bool {
    !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\'
}

/// A JSON string as Python's `json.dumps` (with `ensure_ascii`) writes it;
/// bytes that are not UTF-8 become U+FFFD, as crossplane's
/// `errors='replace'` makes them.
fn write_py_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    if !bytes.iter().any(|&b| needs_escape(b)) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    let s = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if !needs_escape(b) {
            i += 1;
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        if b >= 0x80 {
            let c = text[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                push_u_escape(out, *u);
            }
            i += c.len_utf8();
        } else {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => push_u_escape(out, u16::from(b)),
            }
            i += 1;
        }
        start = i;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// `\uXXXX` with lowercase hex digits, as Python writes it.
fn push_u_escape(out: &mut Vec<u8>, u: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((u >> shift) & 0xf)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(indent: Option<usize>) -> String {
        let mut buf = Vec::new();
        let mut j = Json::new(&mut buf, indent, 0);
        j.open(b'{');
        j.key("a");
        j.open(b'[');
        j.close(b']');
        j.key("b");
        j.open(b'[');
        j.item();
        j.line(Some(0));
        j.item();
        j.line(None);
        j.item();
        j.str(b"x");
        j.close(b']');
        j.close(b'}');
        String::from_utf8(buf).unwrap_or_default()
    }

    #[test]
    fn layout_as_json_dumps() {
        assert_eq!(render(None), r#"{"a":[],"b":[0,null,"x"]}"#);
        assert_eq!(
            render(Some(2)),
            "{\n  \"a\": [],\n  \"b\": [\n    0,\n    null,\n    \"x\"\n  ]\n}"
        );
        assert_eq!(
            render(Some(0)),
            "{\n\"a\": [],\n\"b\": [\n0,\nnull,\n\"x\"\n]\n}"
        );
    }

    #[test]
    fn strings_as_json_dumps_with_ensure_ascii() {
        let mut out = Vec::new();
        write_py_str(
            &mut out,
            b"a\"\\\n\r\t\x08\x0c\x01\x7f \xc3\xa9 \xf0\x9f\x98\x80 \xff~",
        );
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            r#""a\"\\\n\r\t\b\f\u0001\u007f \u00e9 \ud83d\ude00 \ufffd~""#
        );
    }
}
