//! crossplane's analyzer: the context and argument-count checks `crossplane
//! parse` runs on every directive (its `analyzer.py`), with its own table
//! ([`super::table`]) and its own idea of contexts. A directive that fails
//! is dropped from `parsed` and reported in `errors`; the caller decides
//! what happens to its block (see `crossplane.rs`).
//!
//! crossplane checks a directive only when it knows both the directive and
//! the context (one of the 14 below); anything else passes unchecked.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::table::DIRECTIVES;

// Argument bits (as in nginx).
const NOARGS: u32 = 0x0000_0001;
const BLOCK: u32 = 0x0000_0100;
const FLAG: u32 = 0x0000_0200;
const ANY: u32 = 0x0000_0400;
const MORE1: u32 = 0x0000_0800;
const MORE2: u32 = 0x0000_1000;

/// A block context as crossplane tracks it: the chain of block directive
/// names from the top of the main file, except that a `location` anywhere
/// under `http` is always `http > location`. Only the first 14 are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    Main,
    Events,
    Mail,
    MailServer,
    Stream,
    StreamServer,
    StreamUpstream,
    Http,
    HttpServer,
    HttpLocation,
    HttpUpstream,
    /// `http > server > if`
    HttpServerIf,
    /// `http > location > if`
    HttpLocationIf,
    /// `http > location > limit_except`
    HttpLimitExcept,
    /// Any other chain; `http_root` says whether it starts with `http` (a
    /// `location` inside it is then `http > location` again).
    Other {
        http_root: bool,
    },
}

impl Ctx {
    /// crossplane's context bit for this context, if it checks it.
    fn bit(self) -> Option<u32> {
        Some(match self {
            Ctx::Main => 0x0004_0000,
            Ctx::Events => 0x0008_0000,
            Ctx::Mail => 0x0010_0000,
            Ctx::MailServer => 0x0020_0000,
            Ctx::Stream => 0x0040_0000,
            Ctx::StreamServer => 0x0080_0000,
            Ctx::StreamUpstream => 0x0100_0000,
            Ctx::Http => 0x0200_0000,
            Ctx::HttpServer => 0x0400_0000,
            Ctx::HttpLocation => 0x0800_0000,
            Ctx::HttpUpstream => 0x1000_0000,
            Ctx::HttpServerIf => 0x2000_0000,
            Ctx::HttpLocationIf => 0x4000_0000,
            Ctx::HttpLimitExcept => 0x8000_0000,
            Ctx::Other { .. } => return None,
        })
    }

    fn http_root(self) -> bool {
        match self {
            Ctx::Http
            | Ctx::HttpServer
            | Ctx::HttpLocation
            | Ctx::HttpUpstream
            | Ctx::HttpServerIf
            | Ctx::HttpLocationIf
            | Ctx::HttpLimitExcept => true,
            Ctx::Other { http_root } => http_root,
            _ => false,
        }
    }

    /// The context inside the block of directive `name` (crossplane's
    /// `enter_block_ctx`).
    pub(super) fn enter(self, name: &[u8]) -> Ctx {
        let http_root = self.http_root();
        if http_root && name == b"location" {
            return Ctx::HttpLocation;
        }
        match (self, name) {
            (Ctx::Main, b"events") => Ctx::Events,
            (Ctx::Main, b"mail") => Ctx::Mail,
            (Ctx::Main, b"stream") => Ctx::Stream,
            (Ctx::Main, b"http") => Ctx::Http,
            (Ctx::Mail, b"server") => Ctx::MailServer,
            (Ctx::Stream, b"server") => Ctx::StreamServer,
            (Ctx::Stream, b"upstream") => Ctx::StreamUpstream,
            (Ctx::Http, b"server") => Ctx::HttpServer,
            (Ctx::Http, b"upstream") => Ctx::HttpUpstream,
            (Ctx::HttpServer, b"if") => Ctx::HttpServerIf,
            (Ctx::HttpLocation, b"if") => Ctx::HttpLocationIf,
            (Ctx::HttpLocation, b"limit_except") => Ctx::HttpLimitExcept,
            // `()` + `http` needs the name to be exactly `http`; an unknown
            // first element is never http-rooted.
            _ => Ctx::Other { http_root },
        }
    }
}

/// How a statement ended, as crossplane's parser saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Term {
    /// `;` (a Lua block counts as `;`: crossplane's Lua lexer emits one).
    Semi,
    /// `{`
    Open,
}

/// Checks one directive; `Err` carries crossplane's reason (without the
/// ` in FILE:LINE` suffix). `args` are crossplane's argument strings.
pub(super) fn analyze<A: AsRef<[u8]>>(
    ctx: Ctx,
    name: &[u8],
    args: &[A],
    term: Term,
) -> Result<(), String> {
    let Some(bit) = ctx.bit() else {
        return Ok(());
    };
    let Some(masks) = lookup(name) else {
        return Ok(());
    };
    #[derive(Clone, Copy)]
    enum Reason {
        NoOpening,
        NotTerminated,
        InvalidValue,
        InvalidCount,
    }
    let n = args.len();
    let mut reason = None;
    for &mask in masks.iter().rev().filter(|&&m| m & bit != 0) {
        if mask & BLOCK != 0 && term != Term::Open {
            reason = Some(Reason::NoOpening);
            continue;
        }
        if mask & BLOCK == 0 && term != Term::Semi {
            reason = Some(Reason::NotTerminated);
            continue;
        }
        let flag_value_ok = n == 1 && is_on_off(args[0].as_ref());
        if (n <= 7 && (mask >> n) & NOARGS != 0)
            || (mask & FLAG != 0 && flag_value_ok)
            || mask & ANY != 0
            || (mask & MORE1 != 0 && n >= 1)
            || (mask & MORE2 != 0 && n >= 2)
        {
            return Ok(());
        }
        reason = Some(if mask & FLAG != 0 && n == 1 {
            Reason::InvalidValue
        } else {
            Reason::InvalidCount
        });
    }
    let directive = String::from_utf8_lossy(name);
    Err(match reason {
        // No mask for this context.
        None => format!("\"{directive}\" directive is not allowed here"),
        Some(Reason::NoOpening) => format!("directive \"{directive}\" has no opening \"{{\""),
        Some(Reason::NotTerminated) => {
            format!("directive \"{directive}\" is not terminated by \";\"")
        }
        Some(Reason::InvalidValue) => format!(
            "invalid value \"{}\" in \"{directive}\" directive, it must be \"on\" or \"off\"",
            String::from_utf8_lossy(args[0].as_ref())
        ),
        Some(Reason::InvalidCount) => {
            format!("invalid number of arguments in \"{directive}\" directive")
        }
    })
}

/// Whether crossplane's error for a directive means "it had a block but
/// should not have": its block is then skipped, not parsed.
pub(super) fn is_not_terminated(reason: &str) -> bool {
    reason.ends_with(" is not terminated by \";\"")
}

fn lookup(name: &[u8]) -> Option<&'static [u32]> {
    static INDEX: OnceLock<HashMap<&'static [u8], &'static [u32], BuildHasherDefault<WordHash>>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| DIRECTIVES.iter().map(|(k, v)| (k.as_bytes(), *v)).collect())
        .get(name)
        .copied()
}

/// A multiply-rotate hash over 8-byte words: directive names are short,
/// and SipHash (or a byte-at-a-time hash) costs more than the lookup it
/// serves, once per directive of a config.
#[derive(Default)]
struct WordHash(u64);

impl Hasher for WordHash {
    fn finish(&self) -> u64 {
        let h = self.0;
        (h ^ (h >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(w))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
        self.0 = h;
    }

    fn write_usize(&mut self, n: usize) {
        self.0 ^= n as u64;
    }
}

/// crossplane's `x.lower() in ('on', 'off')`.
fn is_on_off(arg: &[u8]) -> bool {
    arg.eq_ignore_ascii_case(b"on") || arg.eq_ignore_ascii_case(b"off")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NO_ARGS: &[&[u8]] = &[];

    #[test]
    fn table_names_are_sorted_and_unique() {
        assert!(DIRECTIVES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(lookup(b"gzip"), Some(&[0x4e00_0200u32][..]));
        assert_eq!(lookup(b"gzi"), None);
    }

    #[test]
    fn contexts_follow_crossplane() {
        let loc = Ctx::Main.enter(b"http").enter(b"server").enter(b"location");
        assert_eq!(loc, Ctx::HttpLocation);
        assert_eq!(loc.enter(b"location"), Ctx::HttpLocation);
        assert_eq!(loc.enter(b"if"), Ctx::HttpLocationIf);
        let map = Ctx::Main.enter(b"http").enter(b"map");
        assert_eq!(map, Ctx::Other { http_root: true });
        assert_eq!(map.enter(b"location"), Ctx::HttpLocation);
        assert_eq!(Ctx::Main.enter(b"server"), Ctx::Other { http_root: false });
        assert_eq!(
            Ctx::Main.enter(b"server").enter(b"location"),
            Ctx::Other { http_root: false }
        );
    }

    #[test]
    fn checks_and_wording() {
        let http = Ctx::Main.enter(b"http");
        assert_eq!(analyze(http, b"gzip", &[b"on"], Term::Semi), Ok(()));
        assert_eq!(
            analyze(http, b"gzip", &[b"yes"], Term::Semi).unwrap_err(),
            "invalid value \"yes\" in \"gzip\" directive, it must be \"on\" or \"off\""
        );
        assert_eq!(
            analyze(Ctx::Main, b"listen", &[b"80"], Term::Semi).unwrap_err(),
            "\"listen\" directive is not allowed here"
        );
        assert_eq!(
            analyze(http, b"server", NO_ARGS, Term::Semi).unwrap_err(),
            "directive \"server\" has no opening \"{\""
        );
        let e = analyze(http, b"server_tokens", &[b"on"], Term::Open).unwrap_err();
        assert!(is_not_terminated(&e), "{e}");
        assert_eq!(
            analyze(http, b"keepalive_timeout", NO_ARGS, Term::Semi).unwrap_err(),
            "invalid number of arguments in \"keepalive_timeout\" directive"
        );
        // unknown directive, unknown context: unchecked
        assert_eq!(analyze(http, b"no_such_thing", NO_ARGS, Term::Open), Ok(()));
        let map = http.enter(b"map");
        assert_eq!(analyze(map, b"listen", NO_ARGS, Term::Open), Ok(()));
    }
}
