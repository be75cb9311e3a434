//! Argument strings as crossplane reports them: quotes removed and only
//! `\<same quote>` decoded inside a quoted token, every other backslash
//! pair kept; unquoted tokens as written; `if` arguments without their
//! parentheses.

use std::borrow::Cow;

use super::py::{py_lstrip, py_rstrip};

/// A token as crossplane reports it: a quoted token loses its quotes and
/// `\<quote>` becomes the quote; every other backslash pair stays as
/// written. Unquoted tokens are kept as written.
pub fn xp_arg(raw: &[u8]) -> Cow<'_, [u8]> {
    let q = match raw.first() {
        Some(&q @ (b'"' | b'\'')) if raw.len() >= 2 => q,
        _ => return Cow::Borrowed(raw),
    };
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains(&b'\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut k = 0;
    while k < inner.len() {
        if inner[k] == b'\\' && k + 1 < inner.len() {
            if inner[k + 1] == q {
                out.push(q);
            } else {
                out.extend_from_slice(&inner[k..k + 2]);
            }
            k += 2;
        } else {
            out.push(inner[k]);
            k += 1;
        }
    }
    Cow::Owned(out)
}

/// crossplane's `_prepare_if_args`: `(` and `)` around the condition are
/// removed, with the whitespace next to them, and arguments left empty by
/// that are dropped.
pub(super) fn prepare_if_args(args: &mut Vec<Cow<'_, [u8]>>) {
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return;
    };
    if !(first.starts_with(b"(") && last.ends_with(b")")) {
        return;
    }
    let first = py_lstrip(&args[0][1..]).to_vec();
    args[0] = Cow::Owned(first);
    let n = args.len();
    let last = &args[n - 1];
    let trimmed = py_rstrip(&last[..last.len().saturating_sub(1)]).to_vec();
    args[n - 1] = Cow::Owned(trimmed);
    let start = usize::from(args[0].is_empty());
    let end = n - usize::from(args[n - 1].is_empty());
    if start >= end {
        args.clear();
    } else {
        args.truncate(end);
        args.drain(..start);
    }
}
