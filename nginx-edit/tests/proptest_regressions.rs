//! Inputs found by the property tests (`proptest_args.rs`) and the fuzz
//! targets (`fuzz/`), kept as plain tests. An `#[ignore]`d test is a bug
//! that is reported and not fixed yet: run them with
//! `cargo test -p nginx-edit --test proptest_regressions -- --include-ignored`.

#![allow(clippy::unwrap_used)]

use nginx_edit::{Document, ServerState};

/// Found by `commented_upstream_replace_*` (minimal input `new = "\n!"`):
/// `upstream_replace` on a commented-out server writes the new address
/// quoted into the comment, raw LF included; the LF ends the comment, and
/// the rest of the line becomes a live directive (`!" weight=2;`), so the
/// edit changes what nginx loads instead of being refused.
#[test]
#[ignore = "bug reported: upstream_replace on a commented server with an LF in the new address"]
fn commented_server_replace_with_lf_is_refused_or_kept_in_the_comment() {
    let src =
        "upstream app {\n    server 10.0.0.1:3000;\n    # server 10.0.0.2:3000 weight=2;\n}\n";
    let doc = Document::parse(src.as_bytes()).unwrap();
    if let Ok(edited) = doc.upstream_replace("app", "10.0.0.2:3000", "\n!") {
        let live: Vec<_> = edited.walk().map(|d| d.name().into_owned()).collect();
        assert_eq!(
            live,
            vec![b"upstream".to_vec(), b"server".to_vec()],
            "the edit added live directives: {:?}",
            String::from_utf8_lossy(edited.as_bytes())
        );
        let servers = edited.upstream("app").unwrap().servers();
        assert!(servers
            .iter()
            .any(|s| s.state == ServerState::Commented && s.address == "\n!"));
    }
}
