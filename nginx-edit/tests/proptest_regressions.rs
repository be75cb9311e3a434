//! Inputs found by the property tests (`proptest_args.rs`) and the fuzz
//! targets (`fuzz/`), kept as plain tests.

#![allow(clippy::unwrap_used)]

use nginx_edit::{Document, ServerState};

/// Found by `commented_upstream_replace_*` (minimal input `new = "\n!"`):
/// `upstream_replace` on a commented-out server writes the new address
/// quoted into the comment, raw LF included; the LF ends the comment, and
/// the rest of the line becomes a live directive (`!" weight=2;`), so the
/// edit changes what nginx loads instead of being refused.
#[test]
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

/// Found by the `edit_roundtrip` fuzz target (minimized to
/// `map \x06 $e{w\n#\n1;}`): a map without `default` whose last entry has a
/// comment between its key and value. The comment is stored after the
/// entry and starts its line, so it was taken as the last entry and the new
/// `default` line went inside the entry (`w # default app_green; 1;`):
/// no default, and a three-token entry nginx rejects.
#[test]
fn map_default_added_after_an_entry_with_a_comment_between_its_tokens() {
    for (src, want) in [
        (
            &b"map \x06 $e{w\n#\n1;}"[..],
            &b"map \x06 $e{w\n#\n1; default app_green;}"[..],
        ),
        (
            b"map $a $e {\n    w # key\n      1;\n}\n",
            b"map $a $e {\n    w # key\n      1;\n    default app_green;\n}\n",
        ),
    ] {
        let doc = Document::parse(src).unwrap();
        let edited = doc.map_set_default("$e", "app_green").unwrap();
        assert_eq!(
            String::from_utf8_lossy(edited.as_bytes()),
            String::from_utf8_lossy(want)
        );
        let map = edited.map("$e").unwrap();
        assert_eq!(map.default().as_deref(), Some("app_green"));
        assert_eq!(map.entries(), vec![("w".to_string(), "1".to_string())]);
    }
}
