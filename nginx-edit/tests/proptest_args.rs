//! Property tests for tokens, round trips and edits.
//!
//! - a value rendered by `render_token` / `quote_with` reads back as itself;
//! - a generated tree of directives, blocks, comments and whitespace parses
//!   to that tree and prints byte for byte;
//! - any bytes: the parser never panics, and what parses prints unchanged;
//! - `map_set_default` and `upstream_replace` with any value read back.
//!
//! Case counts stay at proptest's default (256) so the suite is fast.

#![allow(clippy::unwrap_used)]

use nginx_edit::edit::{quote_with, render_token};
use nginx_edit::{Document, ParseMode, ServerState};
use proptest::prelude::*;

/// Values up to a few hundred bytes: far below nginx's 4 KiB token limit.
fn any_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        // bytes that mean something to the tokenizer, densely
        prop::collection::vec(
            prop::sample::select(b" \t\r\n;{}#\"'\\$()ab".to_vec()),
            0..32
        ),
    ]
}

/// How an argument is written.
#[derive(Debug, Clone, Copy)]
enum Quoting {
    Render,
    Double,
    Single,
}

fn render(value: &[u8], q: Quoting) -> Vec<u8> {
    match q {
        Quoting::Render => render_token(value),
        Quoting::Double => quote_with(value, b'"'),
        Quoting::Single => quote_with(value, b'\''),
    }
}

fn any_quoting() -> impl Strategy<Value = Quoting> {
    prop_oneof![
        Just(Quoting::Render),
        Just(Quoting::Double),
        Just(Quoting::Single)
    ]
}

/// Whitespace nginx accepts between tokens, or a comment (which must end
/// its line, and needs whitespace before its `#`).
fn any_sep() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec![" ", "  ", "\t", "\n", "\r\n", " \n\t", "\n\n    "])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => "[ -~]{0,20}".prop_map(|t| format!(" #{t}\n").into_bytes()),
    ]
}

/// Directive names: plain words, not the key/value or Lua block names
/// (those bodies follow other rules, tested elsewhere).
fn any_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,11}".prop_filter("plain block name", |n| {
        !nginx_edit::KEY_VALUE_BLOCKS.contains(&n.as_str())
            && !nginx_edit::is_lua_block(n.as_bytes())
    })
}

#[derive(Debug, Clone)]
enum GenItem {
    /// A comment on its own line (text without LF).
    Comment(String),
    Directive {
        name: String,
        args: Vec<(Vec<u8>, Quoting)>,
        /// Separators before each argument and before `;`/`{`.
        seps: Vec<Vec<u8>>,
        block: Option<Vec<GenItem>>,
    },
}

fn any_items() -> impl Strategy<Value = Vec<GenItem>> {
    let leaf = prop_oneof![
        1 => "[ -~]{0,30}".prop_map(GenItem::Comment),
        4 => directive(Just(None)),
    ];
    let item = leaf.prop_recursive(4, 64, 6, |inner| {
        directive(prop::collection::vec(inner, 0..6).prop_map(Some))
    });
    prop::collection::vec(item, 0..8)
}

fn directive(block: impl Strategy<Value = Option<Vec<GenItem>>>) -> impl Strategy<Value = GenItem> {
    (
        any_name(),
        prop::collection::vec((any_value(), any_quoting()), 0..4),
        prop::collection::vec(any_sep(), 5),
        block,
    )
        .prop_map(|(name, args, seps, block)| GenItem::Directive {
            name,
            args,
            seps,
            block,
        })
}

fn write_items(items: &[GenItem], depth: usize, out: &mut Vec<u8>) {
    let indent = b"    ".repeat(depth);
    for item in items {
        out.extend_from_slice(&indent);
        match item {
            GenItem::Comment(t) => {
                out.push(b'#');
                out.extend_from_slice(t.as_bytes());
                out.push(b'\n');
            }
            GenItem::Directive {
                name,
                args,
                seps,
                block,
            } => {
                out.extend_from_slice(name.as_bytes());
                for (i, (v, q)) in args.iter().enumerate() {
                    // a token needs whitespace before it; a comment brings its own
                    out.extend_from_slice(&seps[i]);
                    out.extend_from_slice(&render(v, *q));
                }
                let last = &seps[args.len()];
                match block {
                    None => {
                        // whitespace and comments may sit before `;`
                        out.extend_from_slice(last);
                        out.extend_from_slice(b";\n");
                    }
                    Some(children) => {
                        out.extend_from_slice(last);
                        out.extend_from_slice(b"{\n");
                        write_items(children, depth + 1, out);
                        out.extend_from_slice(&indent);
                        out.extend_from_slice(b"}\n");
                    }
                }
            }
        }
    }
}

/// A directive's name, argument values, and whether it has a block.
type Shape = (Vec<u8>, Vec<Vec<u8>>, bool);

/// The directives of a generated tree, depth first.
fn expected(items: &[GenItem], out: &mut Vec<Shape>) {
    for item in items {
        if let GenItem::Directive {
            name, args, block, ..
        } = item
        {
            out.push((
                name.as_bytes().to_vec(),
                args.iter().map(|(v, _)| v.clone()).collect(),
                block.is_some(),
            ));
            if let Some(children) = block {
                expected(children, out);
            }
        }
    }
}

fn first_arg(src: &[u8]) -> Vec<u8> {
    let doc =
        Document::parse(src).unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(src)));
    let d = doc.walk().last().unwrap();
    d.arg(0).unwrap().value().into_owned()
}

proptest! {
    #[test]
    fn rendered_value_reads_back(value in any_value(), q in any_quoting()) {
        let tok = render(&value, q);
        // alone, before another argument, and inside a block
        for src in [
            [&b"k "[..], &tok, b";"].concat(),
            [&b"k "[..], &tok, b" next;"].concat(),
            [&b"http {\n\tk\t"[..], &tok, b"\n\t;\n}\n"].concat(),
        ] {
            prop_assert_eq!(first_arg(&src), value.clone());
        }
    }

    #[test]
    fn rendered_value_in_a_map_reads_back(value in any_value(), q in any_quoting()) {
        let tok = render(&value, q);
        let src = [&b"map $a $b {\n    key "[..], &tok, b";\n    default x;\n}\n"].concat();
        let doc = Document::parse(&src).unwrap();
        let map = doc.directives().next().unwrap();
        let entry = map.children().next().unwrap();
        prop_assert_eq!(entry.arg(0).unwrap().value().into_owned(), value);
    }

    #[test]
    fn generated_tree_round_trips(items in any_items()) {
        let mut src = Vec::new();
        write_items(&items, 0, &mut src);
        let doc = Document::parse(&src)
            .map_err(|e| TestCaseError::fail(format!("{e}: {:?}", String::from_utf8_lossy(&src))))?;
        prop_assert_eq!(doc.to_bytes(), src.clone());
        let mut want = Vec::new();
        expected(&items, &mut want);
        let got: Vec<_> = doc
            .walk()
            .map(|d| {
                (
                    d.name().into_owned(),
                    d.args().map(|a| a.value().into_owned()).collect::<Vec<_>>(),
                    d.block().is_some(),
                )
            })
            .collect();
        prop_assert_eq!(got, want);
        // an empty edit is the identity too
        prop_assert_eq!(doc.apply(&[]).unwrap().to_bytes(), src);
    }

    #[test]
    fn any_bytes_never_panic(src in prop::collection::vec(any::<u8>(), 0..512)) {
        check_bytes(&src)?;
    }

    #[test]
    fn config_like_bytes_never_panic(
        src in prop::collection::vec(
            prop::sample::select(b" \t\r\n;{}#\"'\\$()ab_".to_vec()),
            0..256,
        ).prop_map(|mut v| {
            // salt with a Lua block header or a map header now and then
            let n = v.len();
            if n > 8 && v[0] == b'a' {
                v.splice(0..0, b"content_by_lua_block ".iter().copied());
            } else if n > 8 && v[0] == b'b' {
                v.splice(0..0, b"map $a $b ".iter().copied());
            }
            v
        })
    ) {
        check_bytes(&src)?;
    }

    #[test]
    fn map_set_default_reads_back(value in "(?s).{0,40}", shape in 0usize..5) {
        let src = [
            "map $host $backend {\n    default app_blue;\n    blue app_blue;\n}\n",
            "map $host $backend {\n    default \"app blue\";\n}\n",
            "map $host $backend {\n    default 'x';  # live\n    # comment\n}\n",
            "map $host $backend {\n    blue app_blue;\n    # last\n}\n",
            "http {\n\tmap $host $backend {\r\n\t\tgreen g;\r\n\t}\r\n}\n",
        ][shape];
        let doc = Document::parse(src.as_bytes()).unwrap();
        let edited = doc.map_set_default("$backend", &value).unwrap();
        let again = Document::parse(edited.as_bytes()).unwrap();
        prop_assert_eq!(again.map("$backend").unwrap().default(), Some(value.clone()));
        // setting it again changes nothing
        let twice = again.map_set_default("backend", &value).unwrap();
        prop_assert_eq!(twice.as_bytes(), edited.as_bytes());
    }

    #[test]
    fn upstream_replace_reads_back(new in "\\PC{1,40}|[ -~]{1,40}", which in 0usize..3) {
        let src = "upstream app {\n    server 10.0.0.1:3000 weight=5;\n    \
                   server '10.0.0.2:3000' down;\n    server \"unix:/run/a b.sock\" backup; # old\n}\n";
        let old = ["10.0.0.1:3000", "10.0.0.2:3000", "unix:/run/a b.sock"][which];
        let doc = Document::parse(src.as_bytes()).unwrap();
        let before = doc.upstream("app").unwrap().servers();
        let edited = doc.upstream_replace("app", old, &new).unwrap();
        let after = edited.upstream("app").unwrap().servers();
        prop_assert_eq!(after.len(), before.len());
        for (b, a) in before.iter().zip(&after) {
            let want = if b.address == old { new.as_str() } else { b.address.as_str() };
            prop_assert_eq!(&a.address, want);
            prop_assert_eq!(&a.params, &b.params);
            prop_assert_eq!(a.state, b.state);
        }
    }

    #[test]
    fn commented_upstream_replace_reads_back(new in "[ -~\t\r\n]{1,20}") {
        let src = "upstream app {\n    server 10.0.0.1:3000;\n    # server 10.0.0.2:3000 weight=2;\n}\n";
        let doc = Document::parse(src.as_bytes()).unwrap();
        // Either refused, or the commented server now has the new address
        // (an LF in it must not end the comment: tests/proptest_regressions.rs).
        if let Ok(edited) = doc.upstream_replace("app", "10.0.0.2:3000", &new) {
            let servers = edited.upstream("app").unwrap().servers();
            let commented: Vec<_> = servers
                .iter()
                .filter(|s| s.state == ServerState::Commented)
                .collect();
            prop_assert_eq!(commented.len(), 1, "{:?}", String::from_utf8_lossy(edited.as_bytes()));
            prop_assert_eq!(&commented[0].address, &new);
            prop_assert_eq!(&commented[0].params, &vec!["weight=2".to_string()]);
        }
    }
}

fn check_bytes(src: &[u8]) -> Result<(), TestCaseError> {
    match Document::parse(src) {
        Ok(doc) => {
            prop_assert_eq!(doc.to_bytes(), src.to_vec());
            // walking and reading every token must not panic either
            for d in doc.walk() {
                let _ = (
                    d.name(),
                    d.args().count(),
                    d.span(),
                    d.line_col(),
                    d.lua_body(),
                );
                let _ = d.header_span();
            }
        }
        Err(e) => {
            prop_assert!(e.offset <= src.len(), "{e:?}");
            let _ = e.to_string();
        }
    }
    if let Ok(doc) = Document::parse_owned(src.to_vec(), ParseMode::KeyValue) {
        prop_assert_eq!(doc.as_bytes(), src);
    }
    Ok(())
}
