//! Differential test: mutants of configs the real nginx accepts (the
//! valid fixtures, `../shared/corpus` when it is there, and the folders
//! `$NGINX_EDIT_MUTATION_CONFIGS` names), each through the real `nginx -t`
//! and `nginx-edit check`. Where nginx's message is one the checker models,
//! the verdict, the message and the line must be the same; a config nginx
//! accepts must pass the checker too. The rest is counted in the summary.
//!
//! `NGINX_EDIT_MUTATION_CONFIGS=DIR[:DIR...]`: more configs (each
//! `DIR/*/nginx.conf` and `DIR/*.conf`), e.g. nginx-tests' configs
//! extracted outside the repo. `NGINX_EDIT_MUTATION_KEEP=DIR`: the mutants
//! that disagree are written there. `NGINX_EDIT_MUTATION_SEED=N`: other
//! mutants (the default seed is fixed, so runs are repeatable).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use e2e::check::{collect_mains, modelled, ours_at, same};
use e2e::mutate::{mutate, seed_of, Rng, KINDS};
use e2e::{nginx_test_file, require_nginx, Verdict};
use nginx_edit::Document;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whole configs to mutate: main files, by where they are.
fn sources() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/check"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    let corpus = root().join("../shared/corpus");
    if corpus.is_dir() {
        collect_mains(&corpus, &mut out);
    }
    if let Some(dirs) = std::env::var_os("NGINX_EDIT_MUTATION_CONFIGS") {
        for dir in std::env::split_paths(&dirs) {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.join("nginx.conf").is_file() {
                    out.push(p.join("nginx.conf"));
                } else if p.extension().is_some_and(|x| x == "conf") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// Copies `from` (a config's folder) into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else if src.is_file() {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[derive(Default)]
struct Tally {
    mutants: usize,
    agree: usize,
    unmodelled: usize,
    disagree: usize,
}

struct Disagreement {
    source: String,
    kind: &'static str,
    what: String,
    theirs: Verdict,
    mine: Verdict,
}

#[test]
fn mutants_get_nginx_verdict() {
    let Some(nginx) = require_nginx() else { return };
    let base: u64 = std::env::var("NGINX_EDIT_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(22);
    let keep = std::env::var_os("NGINX_EDIT_MUTATION_KEEP").map(PathBuf::from);
    let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut unmodelled: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong: Vec<Disagreement> = Vec::new();
    let (mut accepted, mut refused_sources) = (0, Vec::new());
    // One copy of each config's folder; mutants are written next to it.
    let mut copies: BTreeMap<PathBuf, tempfile::TempDir> = BTreeMap::new();
    for source in sources() {
        let dir = source.parent().unwrap().to_path_buf();
        let copy = copies.entry(dir.clone()).or_insert_with(|| {
            let t = tempfile::tempdir().unwrap();
            copy_dir(&dir, t.path());
            std::fs::create_dir_all(t.path().join("logs")).unwrap();
            t
        });
        let prefix = copy.path().to_path_buf();
        let original = prefix.join(source.file_name().unwrap());
        if nginx_test_file(&nginx, &prefix, &original) != Verdict::Ok {
            continue;
        }
        accepted += 1;
        let label = source
            .strip_prefix(root())
            .unwrap_or(&source)
            .display()
            .to_string();
        if ours_at(&original, &prefix) != Verdict::Ok {
            refused_sources.push(format!("{label}: {:?}", ours_at(&original, &prefix)));
            continue;
        }
        let text = std::fs::read(&original).unwrap();
        let Ok(doc) = Document::parse(&text) else {
            continue;
        };
        let mut rng = Rng::new(seed_of(&label, base));
        let path = prefix.join(".mutant.conf");
        for &kind in KINDS {
            let Some(m) = mutate(&doc, kind, &mut rng) else {
                continue;
            };
            std::fs::write(&path, &m.text).unwrap();
            let theirs = nginx_test_file(&nginx, &prefix, &path);
            let mine = ours_at(&path, &prefix);
            let t = tally.entry(kind).or_default();
            t.mutants += 1;
            if same(&theirs, &mine) {
                t.agree += 1;
                continue;
            }
            if let Verdict::Error { message, .. } = &theirs {
                if !modelled(message) {
                    t.unmodelled += 1;
                    // the temporary prefix differs from mutant to mutant
                    let shown = message.replace(&*prefix.to_string_lossy(), "PREFIX");
                    *unmodelled.entry(shown).or_default() += 1;
                    continue;
                }
            }
            t.disagree += 1;
            if let Some(k) = &keep {
                std::fs::create_dir_all(k).unwrap();
                let name = format!("{}-{kind}.conf", label.replace('/', "_"));
                std::fs::write(k.join(name), &m.text).unwrap();
            }
            wrong.push(Disagreement {
                source: label.clone(),
                kind,
                what: m.what,
                theirs,
                mine,
            });
        }
    }
    let total: usize = tally.values().map(|t| t.mutants).sum();
    eprintln!("{accepted} configs nginx accepts, {total} mutants");
    eprintln!(
        "{:<24}{:>8}{:>8}{:>11}{:>10}",
        "kind", "mutants", "agree", "unmodelled", "disagree"
    );
    for (kind, t) in &tally {
        eprintln!(
            "{kind:<24}{:>8}{:>8}{:>11}{:>10}",
            t.mutants, t.agree, t.unmodelled, t.disagree
        );
    }
    for (message, n) in &unmodelled {
        eprintln!("unmodelled ({n}): {message}");
    }
    for s in &refused_sources {
        eprintln!("false positive on a config nginx accepts: {s}");
    }
    for d in &wrong {
        eprintln!(
            "{} [{}] {}:\n  nginx: {:?}\n  ours:  {:?}",
            d.source, d.kind, d.what, d.theirs, d.mine
        );
    }
    assert!(accepted >= 10, "only {accepted} configs nginx accepts");
    assert!(total >= 100, "only {total} mutants");
    assert!(
        wrong.is_empty() && refused_sources.is_empty(),
        "{} disagreements on modelled messages, {} false positives on accepted configs",
        wrong.len(),
        refused_sources.len()
    );
}
