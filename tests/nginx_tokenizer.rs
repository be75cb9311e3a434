//! nginx-edit's parser against the real nginx: the same verdict (accept,
//! or the same message on the same line) on the tokenizer fixtures, on the
//! broken corpus files, and on thousands of generated token soups.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use e2e::{nginx_test, nginx_test_file, require_nginx, Verdict};
use nginx_edit::Document;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ours(bytes: &[u8]) -> Verdict {
    match Document::parse(bytes) {
        Ok(doc) => {
            assert_eq!(doc.to_bytes(), bytes, "parsed but did not round-trip");
            Verdict::Ok
        }
        Err(e) => Verdict::Error {
            message: e.message(),
            line: e.line,
        },
    }
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join("fixtures/tokenizer").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn valid_fixtures_pass_nginx_and_round_trip() {
    let Some(nginx) = require_nginx() else { return };
    let files = fixtures("valid");
    assert!(files.len() >= 4);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert_eq!(
            nginx_test(&nginx, &bytes),
            Verdict::Ok,
            "nginx on {}",
            f.display()
        );
        assert_eq!(ours(&bytes), Verdict::Ok, "{}", f.display());
    }
}

#[test]
fn invalid_fixtures_fail_with_nginx_message_and_line() {
    let Some(nginx) = require_nginx() else { return };
    let files = fixtures("invalid");
    assert!(files.len() >= 10);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let theirs = nginx_test(&nginx, &bytes);
        assert!(matches!(theirs, Verdict::Error { .. }), "{}", f.display());
        assert_eq!(ours(&bytes), theirs, "{}", f.display());
    }
}

#[test]
fn rejected_corpus_list_is_what_nginx_says() {
    let Some(nginx) = require_nginx() else { return };
    let corpus = root().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("../shared/corpus is not here; nothing to check");
        return;
    }
    let list = std::fs::read_to_string(root().join("fixtures/corpus-rejected.tsv")).unwrap();
    let mut checked = 0;
    for l in list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut f = l.splitn(3, '\t');
        let (suffix, line, message) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let expected = Verdict::Error {
            message: message.to_string(),
            line: line.parse().unwrap(),
        };
        for dir in ["crossplane", "go-crossplane"] {
            let path = corpus.join(dir).join(suffix);
            if !path.is_file() {
                continue;
            }
            // Only the file itself: a scratch copy, so nginx's semantic
            // checks of includes and users cannot come first.
            let bytes = std::fs::read(&path).unwrap();
            let verdict = ours(&bytes);
            assert_eq!(verdict, expected, "nginx-edit on {}", path.display());
            let t = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(t.path().join("logs")).unwrap();
            let copy = t.path().join("nginx.conf");
            std::fs::write(&copy, neutralize(&bytes)).unwrap();
            match nginx_test_file(&nginx, t.path(), &copy) {
                // A directive's meaning failed before the syntax error was
                // reached (a module that is not here, a duplicate): nginx's
                // tokenizer accepted everything up to that line.
                Verdict::Error { message, line } if is_semantic(&message) => {
                    let Verdict::Error { line: ours, .. } = expected else {
                        unreachable!()
                    };
                    assert!(
                        line < ours,
                        "{}: nginx stopped at {line}: {message}",
                        path.display()
                    );
                }
                theirs => assert_eq!(theirs, expected, "nginx on {}", path.display()),
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} corpus files checked");
}

/// Blanks out the `user` directive of a corpus file (a user that does not
/// exist here is nginx's first error otherwise), keeping every line.
fn neutralize(bytes: &[u8]) -> Vec<u8> {
    bytes
        .split_inclusive(|&c| c == b'\n')
        .flat_map(|line| {
            let trimmed = line.iter().skip_while(|c| c.is_ascii_whitespace());
            if trimmed.take(5).eq(b"user ".iter()) {
                b"\n".to_vec()
            } else {
                line.to_vec()
            }
        })
        .collect()
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Token shapes that exercise every tokenizer rule, valid or not.
const PIECES: &[&str] = &[
    "a",
    "b}",
    "a#b",
    "a\\;b",
    "${remote_addr}",
    "$remote_addr",
    "x\"y",
    "x'y",
    "\\\"",
    "a\\ b",
    "\"q q\"",
    "'s s'",
    "\"\"",
    "\"a\\\"b\"",
    "\"multi\nline\"",
    "\"${remote_addr}\"",
    "\"a\"b",
    "'a'#",
    "\"x\")",
    ")",
    "(",
    "a{b",
    "}",
    "{",
    ";",
    "#c\n",
    " #c\n",
    "\\",
    "\x0c",
    "\"unterminated",
    "\t",
    "\r\n",
    "\n",
    "  ",
];
const SEPARATORS: &[&str] = &[" ", " ", " ", "\t", "\n", "\r\n", " #comment\n"];

#[test]
fn generated_token_soups_match_nginx() {
    let Some(nginx) = require_nginx() else { return };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut same_error, mut both_ok, mut semantic) = (0, 0, 0);
    for case in 0..400 {
        let mut conf = String::from("events {}\nhttp {\n");
        for i in 0..(1 + rng.next() % 3) {
            conf.push_str(&format!("    log_format f{case}_{i}"));
            for _ in 0..(1 + rng.next() % 5) {
                conf.push_str(rng.pick(SEPARATORS));
                conf.push_str(rng.pick(PIECES));
            }
            conf.push_str(if rng.next().is_multiple_of(4) {
                "\n"
            } else {
                ";\n"
            });
        }
        conf.push_str("}\n");
        let theirs = nginx_test(&nginx, conf.as_bytes());
        let mine = ours(conf.as_bytes());
        match (&theirs, &mine) {
            (Verdict::Error { message, .. }, _) if is_semantic(message) => {
                // nginx judged the directive's meaning before the syntax
                // could go wrong; the tokens themselves were accepted up to
                // that line, which is all this test can say.
                semantic += 1;
                continue;
            }
            (Verdict::Ok, Verdict::Ok) => both_ok += 1,
            _ => {
                assert_eq!(mine, theirs, "case {case}:\n{conf}");
                same_error += 1;
            }
        }
    }
    eprintln!(
        "{both_ok} accepted by both, {same_error} same error, {semantic} semantic errors first"
    );
    assert!(both_ok > 20 && same_error > 100, "generator too one-sided");
    assert!(
        semantic < 200,
        "too many cases never reached the tokenizer verdict"
    );
}

/// Errors nginx reports from a directive handler, not from the tokenizer.
fn is_semantic(message: &str) -> bool {
    !(message.starts_with("unexpected") || message.starts_with("too long parameter"))
}
