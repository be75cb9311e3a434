//! Byte-exact edits: an edit is a set of splices (byte range replaced by new
//! bytes); everything outside those ranges is kept as it was. The result is
//! parsed again, so an edit can never produce a document nginx's tokenizer
//! would reject without saying so.

use std::ops::Range;

use crate::document::Document;
use crate::error::ParseError;

/// Replace `range` of the document with `bytes` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub range: Range<usize>,
    pub bytes: Vec<u8>,
}

impl Splice {
    pub fn insert(at: usize, bytes: impl Into<Vec<u8>>) -> Self {
        Splice {
            range: at..at,
            bytes: bytes.into(),
        }
    }

    pub fn replace(range: Range<usize>, bytes: impl Into<Vec<u8>>) -> Self {
        Splice {
            range,
            bytes: bytes.into(),
        }
    }

    pub fn delete(range: Range<usize>) -> Self {
        Splice {
            range,
            bytes: Vec::new(),
        }
    }
}

/// Why an edit could not be made. Nothing is changed when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    #[error("upstream \"{0}\" not found")]
    UpstreamNotFound(String),
    #[error("server \"{server}\" not found in upstream \"{upstream}\"")]
    ServerNotFound { upstream: String, server: String },
    #[error("no map sets \"{0}\"")]
    MapNotFound(String),
    #[error("\"{name}\" is defined more than once ({places}); edit the file that holds the one you mean")]
    Ambiguous { name: String, places: String },
    #[error(
        "refusing to leave upstream \"{upstream}\" with no enabled server \
         (nginx rejects an upstream with no servers); use --force to do it anyway"
    )]
    LastServer { upstream: String },
    #[error("cannot comment out server \"{server}\" (line {line}): {reason}; use --style down")]
    CannotComment {
        server: String,
        line: usize,
        reason: &'static str,
    },
    #[error("invalid value: {0}")]
    InvalidValue(String),
    #[error("splices overlap at byte {0}")]
    Overlap(usize),
    /// The edited text does not parse: a bug in an edit operation, reported
    /// instead of writing a broken file.
    #[error("the edited configuration would not parse ({0}); nothing was changed")]
    Reparse(ParseError),
}

impl EditError {
    /// Whether the error means "the named thing is not there" (exit code 4).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            EditError::UpstreamNotFound(_)
                | EditError::ServerNotFound { .. }
                | EditError::MapNotFound(_)
        )
    }
}

/// Applies splices to bytes. Splices must not overlap (two inserts at the
/// same offset are applied in the order given).
pub fn splice_bytes(src: &[u8], splices: &[Splice]) -> Result<Vec<u8>, EditError> {
    let mut order: Vec<&Splice> = splices.iter().collect();
    order.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out = Vec::with_capacity(src.len() + 64);
    let mut pos = 0;
    for s in order {
        if s.range.start < pos || s.range.end > src.len() || s.range.start > s.range.end {
            return Err(EditError::Overlap(s.range.start));
        }
        out.extend_from_slice(&src[pos..s.range.start]);
        out.extend_from_slice(&s.bytes);
        pos = s.range.end;
    }
    out.extend_from_slice(&src[pos..]);
    Ok(out)
}

impl Document {
    /// Returns a new document with the splices applied. The document itself
    /// is unchanged; an empty list returns an identical copy.
    pub fn apply(&self, splices: &[Splice]) -> Result<Document, EditError> {
        let bytes = splice_bytes(self.as_bytes(), splices)?;
        Document::parse_owned(bytes, self.mode()).map_err(EditError::Reparse)
    }

    /// The line ending this document uses for new lines: CRLF when its
    /// first line ends with one, LF otherwise.
    pub fn newline(&self) -> &'static [u8] {
        let src = self.as_bytes();
        match src.iter().position(|&c| c == b'\n') {
            Some(p) if p > 0 && src[p - 1] == b'\r' => b"\r\n",
            _ => b"\n",
        }
    }
}

/// A unified diff of two versions of `path`, with `a/` and `b/` headers.
pub fn unified_diff(path: &std::path::Path, old: &[u8], new: &[u8]) -> String {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let name = path.display().to_string();
    let name = name.trim_start_matches('/');
    similar::TextDiff::from_lines(&*old, &*new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Renders a value as one token: bare when nginx would read it back
/// unchanged, otherwise double-quoted with `"` and `\` escaped.
pub fn render_token(value: &[u8]) -> Vec<u8> {
    let bare_ok = !value.is_empty()
        && !matches!(value[0], b'#' | b'}' | b'"' | b'\'')
        && !value
            .iter()
            .any(|&c| crate::lex::is_space(c) || matches!(c, b';' | b'{' | b'\\'));
    if bare_ok {
        return value.to_vec();
    }
    quote_with(value, b'"')
}

/// `value` inside `q` quotes, escaping `q` and backslashes, and writing
/// line breaks as `\n` and `\r` (nginx decodes both inside a token): a
/// rendered token never spans lines, so it cannot end a comment it sits in.
pub fn quote_with(value: &[u8], q: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(q);
    for &c in value {
        match c {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            c if c == q || c == b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Renders `value` to replace a token written as `old_raw`, keeping its
/// quoting style.
pub fn render_like(old_raw: &[u8], value: &[u8]) -> Vec<u8> {
    match old_raw.first() {
        Some(&q @ (b'"' | b'\'')) => quote_with(value, q),
        _ => render_token(value),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rendered_tokens_read_back_as_the_value() {
        for v in [
            &b"app_blue"[..],
            b"",
            b"a b",
            b"a;b",
            b"#x",
            b"}x",
            b"\"q\"",
            b"back\\slash",
            b"${x}",
            b"{",
            b"a\nb\r",
            b"\n!",
        ] {
            let src = [&b"k "[..], &render_token(v), b";"].concat();
            let doc = Document::parse(&src).unwrap();
            let d = doc.directives().next().unwrap();
            assert_eq!(
                &*d.arg(0).unwrap().value(),
                v,
                "{:?}",
                String::from_utf8_lossy(&src)
            );
        }
    }

    #[test]
    fn overlapping_splices_are_refused() {
        let e = splice_bytes(b"abcdef", &[Splice::delete(1..3), Splice::delete(2..4)]);
        assert!(matches!(e, Err(EditError::Overlap(2))));
    }
}
