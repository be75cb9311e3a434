//! Round trip over every real config in `../shared/corpus` (when the
//! folder is there): each file nginx's tokenizer accepts comes back byte
//! for byte; each file it rejects fails with nginx's message and line.
//!
//! `fixtures/corpus-rejected.tsv` lists what nginx 1.22 itself says of the
//! broken files; `tests/nginx_tokenizer.rs` at the workspace root checks
//! that list against the real nginx.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use nginx_edit::Document;

mod support;
use support::{corpus, files, read};

/// Corpus files nginx rejects at the token level: (path suffix, line,
/// message), from `fixtures/corpus-rejected.tsv`.
fn rejected() -> Vec<(String, usize, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/corpus-rejected.tsv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let (p, n, m) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            (p.to_string(), n.parse().unwrap(), m.to_string())
        })
        .collect()
}

#[test]
fn every_corpus_file_round_trips_or_fails_like_nginx() {
    let Some(root) = corpus() else {
        eprintln!("../shared/corpus is not here; nothing to check");
        return;
    };
    let mut all = Vec::new();
    files(&root, &mut all);
    all.sort();
    assert!(
        all.len() > 300,
        "corpus looks incomplete: {} files",
        all.len()
    );
    let expected_rejects = rejected();
    let (mut ok, mut rejected) = (0, 0);
    for path in &all {
        let bytes = read(path);
        let name = path.to_string_lossy();
        let expected = expected_rejects
            .iter()
            .find(|(suffix, _, _)| name.ends_with(suffix.as_str()));
        match (Document::parse(&bytes), expected) {
            (Ok(doc), None) => {
                assert!(doc.to_bytes() == bytes, "{name} does not round-trip");
                ok += 1;
            }
            (Err(e), Some((_, line, message))) => {
                assert_eq!((e.message(), e.line), (message.clone(), *line), "{name}");
                rejected += 1;
            }
            (Ok(_), Some(_)) => panic!("{name} parsed, but nginx rejects it"),
            (Err(e), None) => panic!("{name}: {e}, but nginx accepts it"),
        }
    }
    eprintln!("{ok} files round-trip, {rejected} rejected as nginx does");
    assert!(rejected >= expected_rejects.len());
}

#[test]
fn every_corpus_file_survives_edits_elsewhere() {
    // An edit splices bytes and re-parses; applying an empty edit list must
    // give back the same bytes for every file.
    let Some(root) = corpus() else { return };
    let mut all = Vec::new();
    files(&root, &mut all);
    for path in all {
        let bytes = read(&path);
        if let Ok(doc) = Document::parse(&bytes) {
            assert_eq!(doc.apply(&[]).unwrap().as_bytes(), &bytes[..]);
        }
    }
}
