//! The parser's structure: spans, siblings, prefixes cut by an error.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::document::{Document, Item};

#[test]
fn nodes_are_twelve_bytes() {
    assert_eq!(std::mem::size_of::<Node>(), 12);
}

#[test]
fn spans_and_siblings_of_every_kind() {
    let src: &[u8] = b"a 1; # c\nhttp { map $a $b { default x; } e {} \
        server { listen 1; } content_by_lua_block { x = '}' } }\nb;\n";
    let doc = Document::parse(src).unwrap();
    let spans: Vec<&[u8]> = doc.walk().map(|d| &src[d.span()]).collect();
    assert_eq!(
        spans,
        [
            &b"a 1;"[..],
            b"http { map $a $b { default x; } e {} server { listen 1; } content_by_lua_block { x = '}' } }",
            b"map $a $b { default x; }",
            b"default x;",
            b"e {}",
            b"server { listen 1; }",
            b"listen 1;",
            b"content_by_lua_block { x = '}' }",
            b"b;",
        ]
    );
    let top: Vec<String> = doc
        .items()
        .map(|i| match i {
            Item::Directive(d) => String::from_utf8_lossy(&d.name()).into_owned(),
            Item::Comment(c) => String::from_utf8_lossy(c.raw()).into_owned(),
        })
        .collect();
    assert_eq!(top, ["a", "# c", "http", "b"]);
    let http = doc.directives().nth(1).unwrap();
    let inner: Vec<String> = http
        .block()
        .unwrap()
        .filter_map(Item::into_directive)
        .map(|d| String::from_utf8_lossy(&d.name()).into_owned())
        .collect();
    assert_eq!(inner, ["map", "e", "server", "content_by_lua_block"]);
    assert_eq!(doc.to_bytes(), src);
}

#[test]
fn a_prefix_holds_the_statements_before_the_error() {
    let src: &[u8] = b"a 1;\nb {\n  c;\n  d x {\n    e \"unterminated";
    assert!(Document::parse(src).is_err());
    let doc = Document::parse_prefix(src.to_vec(), ParseMode::Directives);
    let e = doc.parse_error().unwrap();
    assert_eq!(
        e.message(),
        "unexpected end of file, expecting \";\" or \"}\""
    );
    let names: Vec<String> = doc
        .walk()
        .map(|d| String::from_utf8_lossy(&d.name()).into_owned())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    let cut: Vec<bool> = doc.walk().map(|d| d.cut_by_error()).collect();
    assert_eq!(cut, [false, true, false, true]);
    assert!(doc.cut_block().unwrap().is("d"));
    let d = doc.walk().nth(3).unwrap();
    assert_eq!(d.arg_count(), 1);
    assert_eq!(d.children().count(), 0);
    assert_eq!(&src[d.span()], b"d x {\n    e \"unterminated"); // ends at the error
    assert_eq!(doc.to_bytes(), src);
    // a clean input parses as `parse` parses it
    let whole = Document::parse_prefix(b"a; b { c; }".to_vec(), ParseMode::Directives);
    assert!(whole.parse_error().is_none() && whole.cut_block().is_none());
    assert_eq!(whole.walk().count(), 3);
    // an error at the top level cuts no block
    let top = Document::parse_prefix(b"a { }\n}\n".to_vec(), ParseMode::Directives);
    assert_eq!(top.parse_error().unwrap().line, 2);
    assert!(top.cut_block().is_none());
    assert!(!top.walk().next().unwrap().cut_by_error());
}
