//! Parse errors with nginx's own wording and a byte offset; line and column
//! are computed from the offset when the error is built, so every error can
//! be displayed as `FILE:LINE:COL: error: MESSAGE`.

use std::fmt;

/// What went wrong, worded exactly as nginx words it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `unexpected "X"`: a byte nginx does not allow here (a `;` or `{`
    /// with no directive name, a byte glued to a closing quote, ...).
    Unexpected(u8),
    /// `unexpected end of file, expecting ";" or "}"`.
    EofInStatement,
    /// `unexpected end of file, expecting "}"`.
    EofInBlock,
    /// `too long parameter "XXXXXXXXXX..." started`: nginx's 4 KiB token buffer.
    TooLongParameter(Vec<u8>),
    /// `too long parameter, probably missing terminating "Q" character`.
    TooLongQuoted(u8),
    /// `unexpected end of file, expecting terminating characters for lua code block`.
    LuaEof,
    /// `Lua code block missing the closing long bracket "]]", ...`.
    LuaLongBracket(String),
    /// The input is larger than 4 GiB (not an nginx message: nginx itself
    /// has no such limit, but no real config comes near it).
    TooLarge,
}

/// A syntax error at a byte offset of the parsed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ErrorKind,
    /// Byte offset of the offending byte (the input length at end of file).
    pub offset: usize,
    /// 1-based line, counted as nginx counts it.
    pub line: usize,
    /// 1-based column in characters (UTF-8 continuation bytes not counted).
    pub column: usize,
}

impl ParseError {
    /// An error whose line and column are filled in by [`ParseError::locate`].
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Self {
        ParseError {
            kind,
            offset,
            line: 0,
            column: 0,
        }
    }

    /// Computes line and column for this error's offset in `src`.
    pub(crate) fn locate(mut self, src: &[u8]) -> Self {
        let (line, column) = line_col(src, self.offset);
        self.line = line;
        self.column = column;
        self
    }

    /// The message alone, in nginx's words.
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Unexpected(c) => format!("unexpected \"{}\"", char::from(*c)),
            ErrorKind::EofInStatement => "unexpected end of file, expecting \";\" or \"}\"".into(),
            ErrorKind::EofInBlock => "unexpected end of file, expecting \"}\"".into(),
            ErrorKind::TooLongParameter(start) => format!(
                "too long parameter \"{}...\" started",
                String::from_utf8_lossy(start)
            ),
            ErrorKind::TooLongQuoted(q) => format!(
                "too long parameter, probably missing terminating \"{}\" character",
                char::from(*q)
            ),
            ErrorKind::LuaEof => {
                "unexpected end of file, expecting terminating characters for lua code block".into()
            }
            ErrorKind::TooLarge => "file too large (4 GiB or more)".into(),
            ErrorKind::LuaLongBracket(close) => format!(
                "Lua code block missing the closing long bracket \"{close}\", \
                 the inlined Lua code may be too long"
            ),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message())
    }
}

impl std::error::Error for ParseError {}

/// 1-based line and character column of a byte offset.
pub fn line_col(src: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let column = before[line_start..]
        .iter()
        .filter(|&&c| (c & 0xC0) != 0x80)
        .count()
        + 1;
    (line, column)
}

/// The text of the 1-based line `line` of `src`, without its line ending.
pub fn line_text(src: &[u8], line: usize) -> &[u8] {
    let text = src
        .split(|&c| c == b'\n')
        .nth(line.saturating_sub(1))
        .unwrap_or(&[]);
    text.strip_suffix(b"\r").unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_col(b"ab\n", 3), (2, 1));
        assert_eq!(line_col("é;".as_bytes(), 2), (1, 2));
    }
}
