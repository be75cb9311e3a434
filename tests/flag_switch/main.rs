//! `kind = "flag"` end to end: a real nginx whose selector tests a flag
//! file on every request, switched by creating and removing that file, no
//! reload. Zero failures for every client kind (keep-alive clients that
//! never retry included), the old pool drained, `kill -9` at many moments
//! of a switch, and every refusal (exit 2, file:line, nothing changed).
//! Traffic goes only to 127.0.0.1; every wait is bounded.
#![allow(clippy::unwrap_used)]

mod kill;
mod refusals;
mod zero_failures;

use std::path::Path;

use bgswitch::lab::Lab;

/// The names in the lab's flag directory, sorted.
fn flag_files(lab: &Lab) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(&lab.flag_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The pool the flags select, as nginx evaluates the lab's selector.
fn selected(lab: &Lab) -> &'static str {
    if Path::new(&lab.flag_dir.join("green")).is_file() {
        "green"
    } else {
        "blue"
    }
}
