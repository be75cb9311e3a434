//! Token-level rules of nginx's configuration syntax, one nom function per
//! rule of `ngx_conf_read_token` (src/core/ngx_conf_file.c).
//!
//! Each function recognises a byte range and returns it unchanged: the
//! document keeps raw byte ranges, never decoded copies, so printing is
//! lossless. The statement-level state machine lives in `parse.rs`.

use nom::bytes::complete::{tag, take_till, take_while, take_while1};

use nom::combinator::recognize;
use nom::{IResult, Parser};

pub(crate) type In<'a> = &'a [u8];

/// "whitespace is only space, tab, CR, LF": nginx tests exactly these four
/// bytes; form feed and vertical tab are ordinary token bytes.
#[inline]
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// A run of whitespace.
pub(crate) fn space(i: In) -> IResult<In, In> {
    take_while1(is_space)(i)
}

/// `#` at the start of a token opens a comment that runs to the end of the
/// line (the LF is not part of it). Inside a token `#` is an ordinary byte.
pub(crate) fn comment(i: In) -> IResult<In, In> {
    recognize((tag(&b"#"[..]), take_till(|c| c == b'\n'))).parse(i)
}

/// A backslash makes the next byte part of the token whatever it is
/// (`a\;b` is one token, `\"` does not close a quote). A backslash as the
/// last byte of the file is taken alone; the caller then reports the
/// unexpected end of file, as nginx does.
fn escape(i: In) -> IResult<In, In> {
    let (rest, _) = tag(&b"\\"[..])(i)?;
    let n = if rest.is_empty() { 1 } else { 2 };
    Ok((&i[n..], &i[..n]))
}

/// `$` followed by `{`: nginx keeps `{` inside the token when it directly
/// follows `$` (or another such `{`), so `${var}` does not open a block.
fn variable(i: In) -> IResult<In, In> {
    recognize((tag(&b"$"[..]), take_while(|c| c == b'{'))).parse(i)
}

/// Bytes that end an unquoted token: whitespace, `;` and `{`. Not `}`:
/// `b}` is a valid argument. `\` and `$` are handled by their own rules.
const fn is_plain(c: u8) -> bool {
    !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b'\\' | b'$')
}

/// An unquoted token: escapes, `$`-prefixed braces and plain bytes, up to
/// (not including) whitespace, `;` or `{`. Quotes, `#` and `}` inside it
/// are ordinary bytes. The caller guarantees the first byte may start a
/// token (not whitespace, `;`, `{`, `}`, `#`, or a quote).
pub(crate) fn bare(i: In) -> IResult<In, In> {
    let mut rest = i;
    loop {
        // Runs of plain bytes are the common case: a table lookup per byte.
        let plain = rest.iter().take_while(|&&c| PLAIN[c as usize]).count();
        rest = &rest[plain..];
        let step = match rest.first() {
            Some(b'\\') => escape(rest),
            Some(b'$') => variable(rest),
            _ => break,
        };
        match step {
            Ok((r, _)) => rest = r,
            Err(_) => break,
        }
    }
    let len = i.len() - rest.len();
    if len == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::TakeWhile1,
        )));
    }
    Ok((rest, &i[..len]))
}

/// [`is_plain`] for every byte.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = is_plain(c as u8);
        c += 1;
    }
    t
};

/// Result of scanning a quoted token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Quoted {
    /// The whole token including both quotes.
    Closed(usize),
    /// No closing quote before the end of input.
    Unterminated,
}

/// A quoted token: the opening quote (`"` or `'`), then any bytes, where a
/// backslash escapes the next byte, up to the same quote. Quoted strings may
/// span lines. Returns the length including both quotes.
pub(crate) fn quoted(i: In) -> Quoted {
    let Some(&q) = i.first() else {
        return Quoted::Unterminated;
    };
    let mut rest = &i[1..];
    loop {
        let step: IResult<In, In> = if rest.first() == Some(&b'\\') {
            escape(rest)
        } else {
            take_while1(|c| c != q && c != b'\\')(rest)
        };
        match step {
            Ok((r, _)) => rest = r,
            Err(_) => break,
        }
    }
    match rest.first() {
        Some(&c) if c == q => Quoted::Closed(i.len() - rest.len() + 1),
        _ => Quoted::Unterminated,
    }
}

/// Bytes as text, invalid UTF-8 replaced: `from_utf8_lossy` with the
/// standard library's fast check first (configs are nearly all ASCII, and
/// the lossy path checks byte by byte).
pub(crate) fn as_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// `text` lowercased (ASCII, as nginx compares names), borrowed when it
/// has no capital.
pub(crate) fn ascii_lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|c| c.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The value nginx sees for a raw token: quotes removed, and the escapes
/// nginx decodes (`\"`, `\'`, `\\`, `\t`, `\r`, `\n`) replaced; any other
/// backslash pair is kept as written.
pub(crate) fn unescape(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let inner = match raw.first() {
        Some(b'"') | Some(b'\'') if raw.len() >= 2 => &raw[1..raw.len() - 1],
        _ => raw,
    };
    // (most tokens are a few bytes: `contains` beats memchr's AVX2 set-up)
    if !inner.contains(&b'\\') {
        return std::borrow::Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut k = 0;
    while k < inner.len() {
        let c = inner[k];
        if c == b'\\' && k + 1 < inner.len() {
            match inner[k + 1] {
                b'"' | b'\'' | b'\\' => {
                    out.push(inner[k + 1]);
                    k += 2;
                    continue;
                }
                b't' => {
                    out.push(b'\t');
                    k += 2;
                    continue;
                }
                b'r' => {
                    out.push(b'\r');
                    k += 2;
                    continue;
                }
                b'n' => {
                    out.push(b'\n');
                    k += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        k += 1;
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn space_is_only_four_bytes() {
        assert_eq!(space(b" \t\r\nx").unwrap(), (&b"x"[..], &b" \t\r\n"[..]));
        assert!(space(b"\x0bx").is_err());
        assert!(space(b"\x0cx").is_err());
    }

    #[test]
    fn comment_stops_before_lf() {
        assert_eq!(comment(b"# hi; {\nx").unwrap().1, b"# hi; {");
        assert_eq!(comment(b"#").unwrap().1, b"#");
    }

    #[test]
    fn bare_token_rules() {
        // `#` inside a token is a plain byte
        assert_eq!(bare(b"a#b c").unwrap().1, b"a#b");
        // `}` does not end a token
        assert_eq!(bare(b"b};").unwrap().1, b"b}");
        // backslash escapes `;`
        assert_eq!(bare(b"a\\;b;").unwrap().1, b"a\\;b");
        // `${` does not end a token, `{` elsewhere does
        assert_eq!(bare(b"${a}b{").unwrap().1, b"${a}b");
        assert_eq!(bare(b"a{b").unwrap().1, b"a");
        assert_eq!(bare(b"$${{x{").unwrap().1, b"$${{x");
        // quotes inside a token are plain
        assert_eq!(bare(b"a\"b' c").unwrap().1, b"a\"b'");
        // escaped whitespace stays in the token
        assert_eq!(bare(b"a\\ b c").unwrap().1, b"a\\ b");
        // trailing backslash at end of input
        assert_eq!(bare(b"a\\").unwrap().1, b"a\\");
    }

    #[test]
    fn quoted_rules() {
        assert_eq!(quoted(b"\"a b\";"), Quoted::Closed(5));
        assert_eq!(quoted(b"\"\";"), Quoted::Closed(2));
        assert_eq!(quoted(b"'a\\'b'"), Quoted::Closed(6));
        assert_eq!(quoted(b"\"a\nb\""), Quoted::Closed(5));
        assert_eq!(quoted(b"\"a'b\""), Quoted::Closed(5));
        assert_eq!(quoted(b"\"abc"), Quoted::Unterminated);
        assert_eq!(quoted(b"\"abc\\\""), Quoted::Unterminated);
    }

    #[test]
    fn unescape_matches_nginx() {
        assert_eq!(&*unescape(b"\"a\\\"b\""), b"a\"b");
        assert_eq!(&*unescape(b"a\\tb"), b"a\tb");
        assert_eq!(&*unescape(b"a\\;b"), b"a\\;b");
        assert_eq!(&*unescape(b"'x\\\\y'"), b"x\\y");
        assert_eq!(&*unescape(b"\"\""), b"");
    }
}
