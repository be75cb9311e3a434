//! The shared real-config corpus (`../shared/corpus`, next to the
//! workspace), for the tests that walk it.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};

/// The corpus folder, when it is there.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    p.is_dir().then_some(p)
}

/// Every file below `dir` but JSON and Markdown, recursively.
pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if !matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "md")) {
            out.push(p);
        }
    }
}

/// A file's bytes, decompressing `.bz2`.
pub fn read(p: &Path) -> Vec<u8> {
    if p.extension().is_some_and(|e| e == "bz2") {
        let out = std::process::Command::new("bzip2")
            .args(["-dc"])
            .arg(p)
            .output()
            .expect("bzip2 is needed to read the compressed corpus config");
        assert!(out.status.success());
        out.stdout
    } else {
        std::fs::read(p).unwrap()
    }
}
