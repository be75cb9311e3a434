//! Deterministic mutants of a config nginx accepts: each breaks one rule
//! `nginx -t` enforces (a `;` dropped, a name misspelt, a directive in the
//! wrong block ...), so that comparing `nginx-edit check` with the real
//! nginx on them tests the checker on errors nobody wrote a fixture for.
//!
//! Mutations keep the line count (insertions go on the line they follow)
//! so a mutant's lines are the original's.

use nginx_edit::{BodyKind, Directive, Document};

/// The kinds of mutation, by name (the summary counts them by kind).
pub const KINDS: &[&str] = &[
    "drop-semicolon",
    "drop-brace",
    "misspell",
    "wrong-context",
    "duplicate",
    "no-args",
    "extra-args",
    "drop-arg",
    "bad-flag",
    "bad-number",
    "bad-listen",
    "unknown-variable",
    "bad-location-modifier",
    "duplicate-location",
    "duplicate-upstream",
    "regex-proxy-pass-uri",
    "empty-arg",
    "bad-word",
    "block-for-semicolon",
    "semicolon-for-block",
    "open-quote",
    "transplant",
];

/// A small seeded generator (SplitMix64): the same seed, the same mutants.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// One of `items`, or `None` when there are none.
    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> Option<&'t T> {
        if items.is_empty() {
            return None;
        }
        let i = (self.next_u64() % items.len() as u64) as usize;
        items.get(i)
    }
}

/// A seed from a name (FNV-1a), so a source's mutants do not change when
/// other sources come and go.
pub fn seed_of(name: &str, base: u64) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ base, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One mutant: its kind, what was done, and the mutated text.
#[derive(Debug)]
pub struct Mutant {
    pub kind: &'static str,
    pub what: String,
    pub text: Vec<u8>,
}

/// A directive with the name of the block it sits in (`main` at the top).
struct Site<'a> {
    parent: String,
    /// Whether it is inside a `stream` block.
    stream: bool,
    d: Directive<'a>,
}

fn sites(doc: &Document) -> Vec<Site<'_>> {
    doc.walk_with_parents()
        .into_iter()
        .map(|(parents, d)| Site {
            parent: parents.last().map_or("main".into(), |p| {
                String::from_utf8_lossy(&p.name()).into_owned()
            }),
            stream: parents.iter().any(|p| p.is("stream")),
            d,
        })
        .collect()
}

fn name(d: &Directive<'_>) -> String {
    String::from_utf8_lossy(&d.name()).into_owned()
}

fn splice(src: &[u8], at: std::ops::Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + with.len());
    out.extend_from_slice(&src[..at.start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&src[at.end..]);
    out
}

/// Directives inserted into a block they may not be in, by the blocks
/// that are wrong for them.
const MISPLACED: &[(&str, &[&str])] = &[
    (
        "listen 127.0.0.1:18999;",
        &["http", "location", "events", "main"],
    ),
    ("server_name probe.test;", &["location", "http", "main"]),
    ("worker_connections 64;", &["http", "server", "main"]),
    ("proxy_pass http://127.0.0.1:9;", &["server", "http"]),
    ("root /tmp;", &["events", "upstream", "main"]),
    ("keepalive 4;", &["server", "location"]),
    ("location /probe {}", &["http", "upstream", "main"]),
    ("server_tokens off;", &["events", "main", "upstream"]),
    ("events {}", &["http", "server"]),
    ("user nobody;", &["http", "events"]),
    (
        "upstream probe { server 127.0.0.1:9; }",
        &["server", "location"],
    ),
    ("if ($uri) { return 404; }", &["http", "main"]),
    ("worker_processes 2;", &["http", "events"]),
    (
        "limit_req_zone $binary_remote_addr zone=probe:1m rate=1r/s;",
        &["server", "location"],
    ),
    ("ssl_session_cache shared:PROBE:1m;", &["location"]),
    (
        "server { listen 127.0.0.1:18998; }",
        &["server", "location"],
    ),
];

/// Values nginx's slots refuse for a number, size, time or offset.
const BAD_NUMBERS: &[&str] = &["12q", "abc", "-1", "1.5", "10ss"];

/// Parameters `listen` refuses.
const BAD_LISTEN: &[&str] = &[
    "bogus",
    "backlog=x",
    "rcvbuf=zz",
    "sndbuf=",
    "so_keepalive=x",
    "fastopen=x",
    "ipv6only=maybe",
    "deferred=on",
];

fn is_number(v: &str) -> bool {
    let digits = v.trim_end_matches(|c: char| "kKmMgGsdhyw".contains(c));
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// One mutant of `kind`, or `None` when the config has no place for it.
pub fn mutate(doc: &Document, kind: &'static str, rng: &mut Rng) -> Option<Mutant> {
    let src = doc.as_bytes();
    let all = sites(doc);
    let simple: Vec<&Site> = all
        .iter()
        .filter(|s| s.d.body_kind() == BodyKind::None)
        .collect();
    let blocks: Vec<&Site> = all
        .iter()
        .filter(|s| s.d.body_kind() == BodyKind::Block)
        .collect();
    let mutant = |what: String, text: Vec<u8>| Some(Mutant { kind, what, text });
    // Inserting after a block's `{` (or at the file's start for `main`).
    let insert_into = |parent: &str, rng: &mut Rng| -> Option<usize> {
        if parent == "main" {
            return Some(0);
        }
        let opens: Vec<usize> = blocks
            .iter()
            .filter(|s| name(&s.d) == parent)
            .filter_map(|s| s.d.open_brace())
            .collect();
        rng.pick(&opens).map(|o| o + 1)
    };
    match kind {
        "drop-semicolon" => {
            let s = rng.pick(&simple)?;
            let end = s.d.span().end;
            mutant(
                format!("`;` of {} dropped", name(&s.d)),
                splice(src, end - 1..end, b" "),
            )
        }
        "drop-brace" => {
            let s = rng.pick(&blocks)?;
            let end = s.d.span().end;
            mutant(
                format!("`}}` of {} dropped", name(&s.d)),
                splice(src, end - 1..end, b" "),
            )
        }
        "misspell" => {
            let s = rng.pick(&all)?;
            let tok = s.d.name_token().span();
            if tok.len() < 3 {
                return None;
            }
            let cut = tok.start + 1 + (rng.next_u64() as usize) % (tok.len() - 2);
            mutant(
                format!("{} misspelt", name(&s.d)),
                splice(src, cut..cut + 1, b""),
            )
        }
        "wrong-context" => {
            let (snippet, wrong) = rng.pick(MISPLACED)?;
            let parent = rng.pick(wrong)?;
            let at = insert_into(parent, rng)?;
            let text = format!(" {snippet} ");
            mutant(
                format!("`{snippet}` in {parent}"),
                splice(src, at..at, text.as_bytes()),
            )
        }
        "duplicate" => {
            let s = rng.pick(&simple)?;
            let end = s.d.span().end;
            let copy = [b" ", s.d.raw()].concat();
            mutant(
                format!("{} twice", name(&s.d)),
                splice(src, end..end, &copy),
            )
        }
        "no-args" => {
            let s = rng.pick(&simple)?;
            let head = s.d.header_span();
            let name_end = s.d.name_token().span().end;
            mutant(
                format!("{} without arguments", name(&s.d)),
                splice(src, name_end..head.end, b""),
            )
        }
        "extra-args" => {
            let s = rng.pick(&simple)?;
            let head = s.d.header_span();
            let extra = b" x1 x2 x3 x4 x5 x6 x7 x8 x9";
            mutant(
                format!("{} with 9 more arguments", name(&s.d)),
                splice(src, head.end..head.end, extra),
            )
        }
        "drop-arg" => {
            let with_args: Vec<&&Site> = simple.iter().filter(|s| s.d.arg_count() > 0).collect();
            let s = rng.pick(&with_args)?;
            let last = s.d.arg(s.d.arg_count() - 1)?.span();
            mutant(
                format!("{}'s last argument dropped", name(&s.d)),
                splice(src, last, b""),
            )
        }
        "bad-flag" => {
            let flags: Vec<(String, std::ops::Range<usize>)> = simple
                .iter()
                .filter(|s| s.d.arg_count() == 1)
                .filter_map(|s| {
                    let a = s.d.arg(0)?;
                    matches!(&*a.value(), b"on" | b"off").then(|| (name(&s.d), a.span()))
                })
                .collect();
            let (n, span) = rng.pick(&flags)?.clone();
            mutant(format!("{n} yes"), splice(src, span, b"yes"))
        }
        "bad-number" => {
            let numbers: Vec<(String, std::ops::Range<usize>)> = simple
                .iter()
                .filter(|s| !s.d.is("listen") && !s.d.is("return") && !s.d.is("error_page"))
                .flat_map(|s| {
                    s.d.args()
                        .filter(|a| is_number(&a.text()))
                        .map(|a| (name(&s.d), a.span()))
                        .collect::<Vec<_>>()
                })
                .collect();
            let (n, span) = rng.pick(&numbers)?.clone();
            let bad = rng.pick(BAD_NUMBERS)?;
            mutant(format!("{n} {bad}"), splice(src, span, bad.as_bytes()))
        }
        "bad-listen" => {
            let listens: Vec<&&Site> = simple.iter().filter(|s| s.d.is("listen")).collect();
            let s = rng.pick(&listens)?;
            let end = s.d.header_span().end;
            let bad = rng.pick(BAD_LISTEN)?;
            mutant(
                format!("listen ... {bad}"),
                splice(src, end..end, format!(" {bad}").as_bytes()),
            )
        }
        "unknown-variable" => {
            let uses: Vec<(String, usize)> = simple
                .iter()
                .filter(|s| !s.d.is("log_format"))
                .flat_map(|s| {
                    let place = if s.stream { " (stream)" } else { "" };
                    s.d.args()
                        .filter_map(|a| {
                            let raw = a.raw();
                            let i = raw.iter().position(|&b| b == b'$')?;
                            let next = raw.get(i + 1)?;
                            let what = format!("$foo_bar in {}{place}", name(&s.d));
                            next.is_ascii_alphabetic()
                                .then(|| (what, a.span().start + i + 1))
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            if let Some((what, at)) = rng.pick(&uses) {
                return mutant(what.clone(), splice(src, *at..*at, b"foo_bar_"));
            }
            let at = insert_into("location", rng)?;
            mutant(
                "set $probe $foo_bar in location".into(),
                splice(src, at..at, b" set $probe $foo_bar; "),
            )
        }
        "bad-location-modifier" => {
            let at = insert_into("server", rng)?;
            let bad = rng.pick(&[
                "~~ /probe",
                "=~ /probe",
                "^ /probe",
                "!~ /probe",
                "@ /probe",
            ])?;
            let text = format!(" location {bad} {{}} ");
            mutant(
                format!("location {bad}"),
                splice(src, at..at, text.as_bytes()),
            )
        }
        "duplicate-location" => {
            let locations: Vec<&&Site> = blocks
                .iter()
                .filter(|s| s.d.is("location") && s.parent == "server")
                .collect();
            let s = rng.pick(&locations)?;
            let end = s.d.span().end;
            let head = &src[s.d.header_span()];
            let copy = [b" ", head, b" {}"].concat();
            mutant(
                format!("{} twice", String::from_utf8_lossy(head)),
                splice(src, end..end, &copy),
            )
        }
        "duplicate-upstream" => {
            let upstreams: Vec<&&Site> = blocks.iter().filter(|s| s.d.is("upstream")).collect();
            if let Some(s) = rng.pick(&upstreams) {
                let end = s.d.span().end;
                let copy = [b" ", s.d.raw()].concat();
                return mutant("upstream twice".into(), splice(src, end..end, &copy));
            }
            let at = insert_into("http", rng)?;
            let two =
                b" upstream probe { server 127.0.0.1:9; } upstream probe { server 127.0.0.1:9; } ";
            mutant("upstream probe twice".into(), splice(src, at..at, two))
        }
        "regex-proxy-pass-uri" => {
            let at = insert_into("server", rng)?;
            let text = b" location ~ \\.probe$ { proxy_pass http://127.0.0.1:9/uri; } ";
            mutant(
                "proxy_pass with URI in a regex location".into(),
                splice(src, at..at, text),
            )
        }
        "empty-arg" => {
            let with_args: Vec<&&Site> = simple.iter().filter(|s| s.d.arg_count() > 0).collect();
            let s = rng.pick(&with_args)?;
            let i = (rng.next_u64() as usize) % s.d.arg_count();
            let span = s.d.arg(i)?.span();
            mutant(
                format!("{} argument {} empty", name(&s.d), i + 1),
                splice(src, span, b"\"\""),
            )
        }
        "bad-word" => {
            let with_args: Vec<&&Site> = simple.iter().filter(|s| s.d.arg_count() > 0).collect();
            let s = rng.pick(&with_args)?;
            let i = (rng.next_u64() as usize) % s.d.arg_count();
            let span = s.d.arg(i)?.span();
            mutant(
                format!("{} argument {} bogus", name(&s.d), i + 1),
                splice(src, span, b"bogus_word"),
            )
        }
        "block-for-semicolon" => {
            let s = rng.pick(&simple)?;
            let end = s.d.span().end;
            mutant(
                format!("{} with a block", name(&s.d)),
                splice(src, end - 1..end, b" {}"),
            )
        }
        "semicolon-for-block" => {
            // The block's body becomes blanks (its newlines kept).
            let s = rng.pick(&blocks)?;
            let open = s.d.open_brace()?;
            let end = s.d.span().end;
            let body: Vec<u8> = src[open..end]
                .iter()
                .enumerate()
                .map(|(i, &b)| match (i, b) {
                    (0, _) => b';',
                    (_, b'\n') => b'\n',
                    _ => b' ',
                })
                .collect();
            mutant(
                format!("{} without its block", name(&s.d)),
                splice(src, open..end, &body),
            )
        }
        "open-quote" => {
            let with_args: Vec<&&Site> = simple.iter().filter(|s| s.d.arg_count() > 0).collect();
            let s = rng.pick(&with_args)?;
            let at = s.d.arg(0)?.span().start;
            mutant(
                format!("a lone quote before {}'s argument", name(&s.d)),
                splice(src, at..at, b"\""),
            )
        }
        "transplant" => {
            // A directive copied into another block (often one it may
            // not be in).
            let s = rng.pick(&simple)?;
            let target = rng.pick(&blocks)?;
            let at = target.d.open_brace()? + 1;
            let copy = [b" ", s.d.raw(), b" "].concat();
            mutant(
                format!("{} copied into {}", name(&s.d), name(&target.d)),
                splice(src, at..at, &copy),
            )
        }
        _ => None,
    }
}
