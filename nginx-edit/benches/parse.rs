//! Parse, print and edit throughput (`cargo bench -p nginx-edit --bench parse`).
//!
//! Inputs: the 1.3 MB NGINX Controller config of the go-crossplane corpus
//! (`../shared/corpus/go-crossplane/large-config/nginx.conf.bz2`,
//! decompressed with `bzip2 -dc` at start), or a 2 MB generated config when
//! the corpus is absent; and an 8 MB config from
//! `scripts/gen-large-config.py` for parse and print at a larger size.
//! Throughput is in input bytes, so criterion prints MB/s (10^6 bytes, as
//! `scripts/bench-parse.sh` does).
//!
//! The edits are the blue-green ones: `map_set_default` on the first map and
//! `upstream_only` on the first upstream; each one finds its target, splices
//! and parses the whole file again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nginx_edit::Document;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate inside the workspace")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", out.status);
    out.stdout
}

/// A config from `scripts/gen-large-config.py` of about `mb` MB.
fn generated(mb: u32) -> Vec<u8> {
    let script = workspace_root().join("scripts/gen-large-config.py");
    run(Command::new("python3")
        .arg(script)
        .args(["--mb", &mb.to_string(), "-"]))
}

/// The corpus config (name, bytes), or a generated one without the corpus.
fn corpus_input() -> (&'static str, Vec<u8>) {
    let bz2 = workspace_root().join("../shared/corpus/go-crossplane/large-config/nginx.conf.bz2");
    if bz2.exists() {
        (
            "corpus-1.3MB",
            run(Command::new("bzip2").arg("-dc").arg(&bz2)),
        )
    } else {
        eprintln!("{} is absent: using a generated 2 MB config", bz2.display());
        ("generated-2MB", generated(2))
    }
}

fn parse_and_print(c: &mut Criterion, name: &str, src: &[u8], samples: usize) {
    let doc = Document::parse(src).expect("benchmark input parses");
    assert_eq!(doc.as_bytes(), src);
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.throughput(Throughput::BytesDecimal(src.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| Document::parse(black_box(src)).unwrap())
    });
    g.bench_function("parse_owned", |b| {
        b.iter_batched(
            || src.to_vec(),
            |v| Document::parse_owned(v, nginx_edit::ParseMode::Directives).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("to_bytes", |b| b.iter(|| black_box(&doc).to_bytes()));
    g.bench_function("json", |b| {
        let mut out = Vec::with_capacity(src.len() * 3);
        b.iter(|| {
            out.clear();
            nginx_edit::json::write_json(&mut out, "nginx.conf", black_box(&doc), false).unwrap();
        })
    });
    g.finish();
}

fn edits(c: &mut Criterion, name: &str, src: &[u8]) {
    let doc = Document::parse(src).expect("benchmark input parses");
    let variable = doc
        .maps()
        .first()
        .map(|m| m.variable())
        .expect("input has a map");
    let (upstream, server) = doc
        .upstreams()
        .iter()
        .find_map(|u| Some((u.name(), u.servers().first()?.address.clone())))
        .expect("input has an upstream with a server");
    // The edits must succeed, or the benchmark measures an error path.
    doc.map_set_default(&variable, "app_green").unwrap();
    doc.upstream_only(&upstream, &server, None).unwrap();

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::BytesDecimal(src.len() as u64));
    g.bench_function("map_set_default", |b| {
        b.iter(|| {
            doc.map_set_default(black_box(&variable), "app_green")
                .unwrap()
        })
    });
    g.bench_function("upstream_only", |b| {
        b.iter(|| {
            doc.upstream_only(black_box(&upstream), &server, None)
                .unwrap()
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let (name, src) = corpus_input();
    parse_and_print(c, name, &src, 50);
    edits(c, name, &src);
    let big = generated(8);
    parse_and_print(c, "generated-8MB", &big, 10);
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
