//! Snapshot tests of every edit on the seed styles: the exact bytes after
//! each edit, and the promise that nothing else changes.
#![allow(clippy::unwrap_used)]

use nginx_edit::{DisableStyle, Document, EditError, ServerState};

fn fixture(name: &str) -> Document {
    let path = format!("{}/../fixtures/seed/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    Document::parse(&bytes).unwrap()
}

/// The lines that differ between two texts, as (old, new) pairs.
fn changed_lines(a: &[u8], b: &[u8]) -> Vec<(String, String)> {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let (a, b): (Vec<_>, Vec<_>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(a.len(), b.len(), "line count changed");
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect()
}

#[test]
fn map_flip_changes_exactly_one_line() {
    let doc = fixture("map-default.conf");
    assert_eq!(
        doc.map("$backend").unwrap().default().as_deref(),
        Some("app_blue")
    );
    let out = doc.map_set_default("$backend", "app_green").unwrap();
    assert_eq!(
        changed_lines(doc.as_bytes(), out.as_bytes()),
        vec![(
            "    default app_blue;".to_string(),
            "    default app_green;".to_string()
        )]
    );
    // the look-alike comment and the other map are untouched
    assert_eq!(
        out.map("canary_backend").unwrap().default().as_deref(),
        Some("app_blue")
    );
    assert_eq!(
        out.map("backend").unwrap().default().as_deref(),
        Some("app_green")
    );
}

#[test]
fn map_set_default_to_same_value_changes_nothing() {
    let doc = fixture("map-default.conf");
    let out = doc.map_set_default("backend", "app_blue").unwrap();
    assert_eq!(out.as_bytes(), doc.as_bytes());
}

#[test]
fn map_default_keeps_quotes_and_crlf() {
    let doc = fixture("crlf.conf");
    let out = doc.map_set_default("$backend", "app_green").unwrap();
    assert_eq!(
        out.as_bytes(),
        b"# CRLF line endings and a tab-indented map\r\nmap $host $backend {\r\n\tdefault \"app_green\";\r\n}\r\n"
    );
}

#[test]
fn map_without_default_gets_one_after_the_last_entry() {
    let doc = Document::parse(b"map $a $b {\n    x 1; # one\n    y 2;\n}\n").unwrap();
    let out = doc.map_set_default("$b", "z z").unwrap();
    assert_eq!(
        out.as_bytes(),
        b"map $a $b {\n    x 1; # one\n    y 2;\n    default \"z z\";\n}\n"
    );
    let doc = Document::parse(b"map $a $b { x 1; }").unwrap();
    let out = doc.map_set_default("$b", "v").unwrap();
    assert_eq!(out.as_bytes(), b"map $a $b { x 1; default v; }");
    let doc = Document::parse(b"http {\n\tmap $a $b {\n\t}\n}\n").unwrap();
    let out = doc.map_set_default("$b", "v").unwrap();
    assert_eq!(
        out.as_bytes(),
        b"http {\n\tmap $a $b {\n\t\tdefault v;\n\t}\n}\n"
    );
    let doc = Document::parse(b"map $a $b {}").unwrap();
    let out = doc.map_set_default("$b", "v").unwrap();
    assert_eq!(out.as_bytes(), b"map $a $b { default v; }");
}

#[test]
fn missing_map_is_not_found() {
    let doc = fixture("map-default.conf");
    let e = doc.map_set_default("$nope", "x").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.to_string(), "no map sets \"$nope\"");
}

#[test]
fn commented_style_is_detected_and_listed() {
    let doc = fixture("upstream-commented.conf");
    let up = doc.upstream("app").unwrap();
    let servers = up.servers();
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].address, "127.0.0.1:3001");
    assert_eq!(servers[0].state, ServerState::Enabled);
    assert_eq!(servers[0].params, vec!["max_fails=3", "fail_timeout=5s"]);
    assert_eq!(servers[1].address, "127.0.0.1:3002");
    assert_eq!(servers[1].state, ServerState::Commented);
    assert_eq!(servers[1].line, 4);
    assert_eq!(up.detected_style(), Some(DisableStyle::Comment));
}

#[test]
fn only_flips_commented_style() {
    let doc = fixture("upstream-commented.conf");
    let out = doc.upstream_only("app", "127.0.0.1:3002", None).unwrap();
    assert_eq!(
        changed_lines(doc.as_bytes(), out.as_bytes()),
        vec![
            (
                "    server 127.0.0.1:3001 max_fails=3 fail_timeout=5s; # blue".into(),
                "    # server 127.0.0.1:3001 max_fails=3 fail_timeout=5s; # blue".into()
            ),
            (
                "    # server 127.0.0.1:3002 max_fails=3 fail_timeout=5s; # green".into(),
                "    server 127.0.0.1:3002 max_fails=3 fail_timeout=5s; # green".into()
            ),
        ]
    );
    // and back: byte-identical to the original
    let back = out.upstream_only("app", "127.0.0.1:3001", None).unwrap();
    assert_eq!(back.as_bytes(), doc.as_bytes());
}

#[test]
fn uncommented_line_takes_neighbour_indent() {
    let doc = Document::parse(b"upstream app {\n    server a:1;\n#server b:1;\n}\n").unwrap();
    let out = doc.upstream_enable("app", "b:1").unwrap();
    assert_eq!(
        out.as_bytes(),
        b"upstream app {\n    server a:1;\n    server b:1;\n}\n"
    );
}

#[test]
fn down_style_flip_and_back() {
    let doc = fixture("upstream-down.conf");
    assert_eq!(
        doc.upstream("app").unwrap().detected_style(),
        Some(DisableStyle::Down)
    );
    let out = doc.upstream_only("app", "api-green:3000", None).unwrap();
    assert_eq!(
        changed_lines(doc.as_bytes(), out.as_bytes()),
        vec![
            (
                "\tserver api-blue:3000 weight=5;".into(),
                "\tserver api-blue:3000 weight=5 down;".into()
            ),
            (
                "\tserver api-green:3000 weight=5 down;".into(),
                "\tserver api-green:3000 weight=5;".into()
            ),
            (
                "\tserver unix:/run/app-canary.sock backup;".into(),
                "\tserver unix:/run/app-canary.sock backup down;".into()
            ),
        ]
    );
    let back = out.upstream_enable("app", "api-blue:3000").unwrap();
    let back = back
        .upstream_enable("app", "unix:/run/app-canary.sock")
        .unwrap();
    let back = back
        .upstream_disable("app", "api-green:3000", None, false)
        .unwrap();
    assert_eq!(back.as_bytes(), doc.as_bytes());
}

#[test]
fn explicit_style_overrides_detection() {
    let doc = fixture("upstream-down.conf");
    let out = doc
        .upstream_disable("app", "api-blue:3000", Some(DisableStyle::Comment), false)
        .unwrap();
    assert_eq!(
        changed_lines(doc.as_bytes(), out.as_bytes()),
        vec![(
            "\tserver api-blue:3000 weight=5;".into(),
            "\t# server api-blue:3000 weight=5;".into()
        )]
    );
    // enable undoes either style
    let back = out.upstream_enable("app", "api-blue:3000").unwrap();
    assert_eq!(back.as_bytes(), doc.as_bytes());
}

#[test]
fn disabling_the_last_server_is_refused_unless_forced() {
    let doc = fixture("upstream-replace.conf");
    let e = doc
        .upstream_disable("app", "10.0.1.10:3000", None, false)
        .unwrap_err();
    assert!(matches!(e, EditError::LastServer { .. }), "{e}");
    let forced = doc
        .upstream_disable("app", "10.0.1.10:3000", None, true)
        .unwrap();
    assert!(forced
        .as_bytes()
        .windows(20)
        .any(|w| w == b"10.0.1.10:3000 down;"));
}

#[test]
fn replace_swaps_only_the_address() {
    let doc = fixture("upstream-replace.conf");
    let out = doc
        .upstream_replace("app", "10.0.1.10:3000", "10.0.2.10:3000")
        .unwrap();
    assert_eq!(
        changed_lines(doc.as_bytes(), out.as_bytes()),
        vec![(
            "    server 10.0.1.10:3000;".into(),
            "    server 10.0.2.10:3000;".into()
        )]
    );
    let doc = fixture("upstream-commented.conf");
    let out = doc
        .upstream_replace("app", "127.0.0.1:3002", "127.0.0.1:4002")
        .unwrap();
    assert_eq!(
        changed_lines(doc.as_bytes(), out.as_bytes()),
        vec![(
            "    # server 127.0.0.1:3002 max_fails=3 fail_timeout=5s; # green".into(),
            "    # server 127.0.0.1:4002 max_fails=3 fail_timeout=5s; # green".into()
        )]
    );
}

#[test]
fn unknown_upstream_and_server_are_not_found() {
    let doc = fixture("upstream-down.conf");
    assert!(doc.upstream_enable("nope", "x").unwrap_err().is_not_found());
    let e = doc.upstream_enable("app", "10.9.9.9:1").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(
        e.to_string(),
        "server \"10.9.9.9:1\" not found in upstream \"app\""
    );
}

#[test]
fn comment_style_refuses_shared_lines() {
    let doc = Document::parse(b"upstream app { server a:1; server b:1; }").unwrap();
    let e = doc
        .upstream_disable("app", "b:1", Some(DisableStyle::Comment), false)
        .unwrap_err();
    assert!(matches!(e, EditError::CannotComment { .. }), "{e}");
    // down style works on one-liners
    let out = doc.upstream_disable("app", "b:1", None, false).unwrap();
    assert_eq!(
        out.as_bytes(),
        b"upstream app { server a:1; server b:1 down; }"
    );
}

#[test]
fn look_alike_comments_are_not_servers() {
    let doc = Document::parse(
        b"upstream app {\n    server a:1;\n    # server b:1; server c:1;\n    ## server d:1;\n    # server e:1 { }\n}\n",
    )
    .unwrap();
    let servers = doc.upstream("app").unwrap().servers();
    assert_eq!(servers.len(), 1);
}
