//! The edit commands on every upstream server and every map of the real
//! configs in `../shared/corpus` (when the folder is there): each edit
//! changes the state it means to and nothing else, the result parses, and
//! undoing it gives back the original bytes.
#![allow(clippy::unwrap_used)]

use nginx_edit::{DisableStyle, Document, ServerState};

mod support;
use support::{corpus, files};

/// Every parsable corpus config, with its name.
fn documents() -> Vec<(String, Vec<u8>, Document)> {
    let Some(root) = corpus() else {
        eprintln!("../shared/corpus is not here; nothing to check");
        return Vec::new();
    };
    let mut paths = Vec::new();
    files(&root, &mut paths);
    // (the 1.3 MB compressed config is left to the round-trip test)
    paths.retain(|p| p.extension().is_none_or(|e| e != "bz2"));
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let doc = Document::parse(&bytes).ok()?;
            Some((p.display().to_string(), bytes, doc))
        })
        .collect()
}

/// (address, state, params) of an upstream's servers, as the library
/// reads them.
type ServerView = Vec<(String, ServerState, Vec<String>)>;

fn servers(doc: &Document, upstream_index: usize) -> ServerView {
    doc.upstreams()[upstream_index]
        .servers()
        .into_iter()
        .map(|s| (s.address, s.state, s.params))
        .collect()
}

/// Lines that differ between two versions of a file of the same length in
/// lines (edits here never add or remove a line).
fn changed_lines(a: &[u8], b: &[u8]) -> usize {
    let (a, b): (Vec<&[u8]>, Vec<&[u8]>) = (
        a.split(|&c| c == b'\n').collect(),
        b.split(|&c| c == b'\n').collect(),
    );
    assert_eq!(a.len(), b.len(), "an edit added or removed lines");
    a.iter().zip(&b).filter(|(x, y)| x != y).count()
}

#[test]
fn disable_enable_and_replace_every_corpus_upstream_server() {
    let (mut disabled, mut replaced) = (0, 0);
    for (name, bytes, doc) in documents() {
        for (u, upstream) in doc.upstreams().iter().enumerate() {
            let up = upstream.name();
            // Only upstreams that name resolves to one block, with
            // distinct addresses (a shared address edits several lines).
            if doc.upstream(&up).is_err() {
                continue;
            }
            let before = servers(&doc, u);
            let enabled = before
                .iter()
                .filter(|s| s.1 == ServerState::Enabled)
                .count();
            for (i, (addr, state, params)) in before.iter().enumerate() {
                if before.iter().filter(|s| &s.0 == addr).count() > 1 {
                    continue;
                }
                if *state == ServerState::Enabled && enabled >= 2 {
                    for style in [DisableStyle::Comment, DisableStyle::Down] {
                        let off = doc
                            .upstream_disable(&up, addr, Some(style), false)
                            .unwrap_or_else(|e| panic!("{name}: disable {up} {addr}: {e}"));
                        let reparsed = Document::parse(off.as_bytes())
                            .unwrap_or_else(|e| panic!("{name}: disable {up} {addr}: {e}"));
                        let after = servers(&reparsed, u);
                        let want = match style {
                            DisableStyle::Comment => ServerState::Commented,
                            DisableStyle::Down => ServerState::Down,
                        };
                        let mut expected = before.clone();
                        expected[i].1 = want;
                        assert_eq!(after, expected, "{name}: disable {up} {addr} {style:?}");
                        assert_eq!(changed_lines(&bytes, off.as_bytes()), 1, "{name}: {addr}");
                        let on = reparsed.upstream_enable(&up, addr).unwrap();
                        assert!(
                            on.as_bytes() == &bytes[..],
                            "{name}: enable after disable {up} {addr} {style:?} is not the original"
                        );
                        disabled += 1;
                    }
                }
                if *state == ServerState::Enabled {
                    let new = "10.99.99.99:65000";
                    let moved = doc.upstream_replace(&up, addr, new).unwrap();
                    let after = servers(&Document::parse(moved.as_bytes()).unwrap(), u);
                    assert_eq!(
                        after[i],
                        (new.to_string(), *state, params.clone()),
                        "{name}"
                    );
                    let back = Document::parse(moved.as_bytes())
                        .unwrap()
                        .upstream_replace(&up, new, addr)
                        .unwrap();
                    assert!(
                        back.as_bytes() == &bytes[..],
                        "{name}: replace {addr} and back"
                    );
                    replaced += 1;
                }
            }
        }
    }
    eprintln!("{disabled} disable/enable round trips, {replaced} replace round trips");
    if corpus().is_some() {
        assert!(disabled >= 20 && replaced >= 20, "{disabled} {replaced}");
    }
}

#[test]
fn set_every_corpus_map_default_and_back() {
    let mut flipped = 0;
    for (name, bytes, doc) in documents() {
        for map in doc.maps() {
            let var = map.variable();
            if doc.map(&var).is_err() || map.default_entries().len() != 1 {
                continue;
            }
            let old = map.default().unwrap();
            let set = doc.map_set_default(&var, "zz_other_pool").unwrap();
            let reparsed = Document::parse(set.as_bytes()).unwrap();
            assert_eq!(
                reparsed.map(&var).unwrap().default().as_deref(),
                Some("zz_other_pool"),
                "{name}: {var}"
            );
            assert_eq!(changed_lines(&bytes, set.as_bytes()), 1, "{name}: {var}");
            let entries = |d: &Document| {
                let mut e = d.map(&var).unwrap().entries();
                e.retain(|(k, _)| k != "default");
                e
            };
            assert_eq!(entries(&reparsed), entries(&doc), "{name}: {var}");
            let back = reparsed.map_set_default(&var, &old).unwrap();
            assert!(
                back.as_bytes() == &bytes[..],
                "{name}: {var} back to {old:?}"
            );
            flipped += 1;
        }
    }
    eprintln!("{flipped} map defaults set and set back");
    if corpus().is_some() {
        assert!(flipped >= 5, "{flipped}");
    }
}
