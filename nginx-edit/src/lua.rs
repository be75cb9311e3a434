//! The body of a `*_by_lua_block { ... }` directive is Lua, not nginx
//! tokens. lua-nginx-module reads it with its own lexer
//! (`ngx_http_lua_conf_read_lua_token`): it counts `{` and `}` but skips
//! Lua strings, comments and long brackets, so `"}"`, `-- }` and `[[ } ]]`
//! do not close the block.

use crate::error::{ErrorKind, ParseError};

/// Scans a Lua block body starting just after its opening `{` (at `pos`)
/// and returns the offset of the `}` that closes it.
pub(crate) fn scan_block(src: &[u8], open: usize) -> Result<usize, ParseError> {
    let mut depth = 1usize;
    // nginx reports an unterminated block at the line of the last `{` seen.
    let mut last_open = open;
    let mut k = open + 1;
    while k < src.len() {
        match src[k] {
            b'{' => {
                depth += 1;
                last_open = k;
                k += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(k);
                }
                k += 1;
            }
            b'"' | b'\'' => k = skip_string(src, k),
            b'-' if src.get(k + 1) == Some(&b'-') => {
                if let Some(level) = long_bracket_level(&src[k + 2..]) {
                    k = skip_long_bracket(src, k + 2, level)?;
                } else {
                    k = memchr_lf(src, k).map_or(src.len(), |lf| lf + 1);
                }
            }
            b'[' => {
                if let Some(level) = long_bracket_level(&src[k..]) {
                    k = skip_long_bracket(src, k, level)?;
                } else {
                    k += 1;
                }
            }
            _ => k += 1,
        }
    }
    Err(ParseError::new(ErrorKind::LuaEof, last_open))
}

fn memchr_lf(src: &[u8], from: usize) -> Option<usize> {
    src[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map(|p| p + from)
}

/// A quoted Lua string with backslash escapes. An unterminated string is
/// skipped to the end of input, where the block reports the missing `}`.
fn skip_string(src: &[u8], start: usize) -> usize {
    let q = src[start];
    let mut k = start + 1;
    while k < src.len() {
        match src[k] {
            b'\\' => k += 2,
            c if c == q => return k + 1,
            _ => k += 1,
        }
    }
    src.len()
}

/// `[`, any number of `=`, `[`: returns the number of `=`.
fn long_bracket_level(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'[') {
        return None;
    }
    let eq = s[1..].iter().take_while(|&&c| c == b'=').count();
    (s.get(1 + eq) == Some(&b'[')).then_some(eq)
}

/// Skips a long bracket opened at `start` and returns the offset after its
/// closing `]=*]`.
fn skip_long_bracket(src: &[u8], start: usize, level: usize) -> Result<usize, ParseError> {
    let body = start + level + 2;
    let mut close = Vec::with_capacity(level + 2);
    close.push(b']');
    close.extend(std::iter::repeat_n(b'=', level));
    close.push(b']');
    let found = src.get(body..).and_then(|rest| {
        rest.windows(close.len())
            .position(|w| w == close.as_slice())
    });
    match found {
        Some(p) => Ok(body + p + close.len()),
        None => Err(ParseError::new(
            ErrorKind::LuaLongBracket(String::from_utf8_lossy(&close).into_owned()),
            start,
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn close_of(s: &str) -> Result<usize, ParseError> {
        scan_block(s.as_bytes(), 0)
    }

    #[test]
    fn braces_nest() {
        assert_eq!(close_of("{ local t = {1, {2}} }").unwrap(), 21);
    }

    #[test]
    fn strings_comments_and_long_brackets_hide_braces() {
        let s = "{ a = \"}\" b = '}' -- }\n c = [[ } ]] --[==[ } ]==] }";
        assert_eq!(close_of(s).unwrap(), s.len() - 1);
        let s = "{ a = \"\\\"}\" }";
        assert_eq!(close_of(s).unwrap(), s.len() - 1);
    }

    #[test]
    fn unterminated_reports_last_open_brace() {
        let e = close_of("{ x = {\n").unwrap_err();
        assert_eq!(e.offset, 6);
        assert!(e
            .message()
            .contains("terminating characters for lua code block"));
    }

    #[test]
    fn unclosed_long_bracket() {
        let e = close_of("{ x = [==[ abc }").unwrap_err();
        assert!(e.message().contains("\"]==]\""), "{}", e.message());
    }
}
