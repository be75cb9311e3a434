//! `docs/config.md` lists every `bgswitch.toml` key the parser accepts,
//! and no other. The parser's keys are read from its own refusals: each
//! section is given an unknown key, and its "expected one of ..." list is
//! what that section accepts.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

const GOOD: &str = r#"
[nginx]
config = "app.conf"
[switch]
kind = "map"
map = "$backend"
[pools.blue]
target = "app_blue"
[pools.green]
target = "app_green"
"#;

/// The names in an "unknown field `x`, expected one of `a`, `b`" message
/// (serde), or "expected one of a, b" (the smoke table's own check).
fn expected(message: &str) -> BTreeSet<String> {
    let (_, list) = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("no list of keys in {message:?}"));
    if list.contains('`') {
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    } else {
        list.trim_start_matches(" one of")
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect()
    }
}

fn refusal(text: &str) -> String {
    bgswitch::config::parse(text, Path::new("b.toml"))
        .err()
        .unwrap_or_else(|| panic!("accepted:\n{text}"))
        .message
}

/// Every key the parser accepts, dotted as the page writes them.
fn parser_keys() -> BTreeSet<String> {
    let top = expected(&refusal("zz_unknown = 1\n"));
    let mut keys = BTreeSet::new();
    for section in &top {
        let (header, prefix) = match section.as_str() {
            "pools" => ("[pools.blue]".to_string(), "pools.NAME.".to_string()),
            s => (format!("[{s}]"), format!("{s}.")),
        };
        let text = if GOOD.contains(&format!("{header}\n")) {
            GOOD.replace(&header, &format!("{header}\nzz_unknown = 1"))
        } else {
            format!("{GOOD}\n{header}\nzz_unknown = 1\n")
        };
        for k in expected(&refusal(&text)) {
            keys.insert(format!("{prefix}{k}"));
        }
    }
    // the table form of a smoke request is checked after serde
    let text = format!("{GOOD}\n[smoke]\nrequests = [{{ path = \"/\", zz_unknown = 1 }}]\n");
    for k in expected(&refusal(&text)) {
        keys.insert(format!("smoke.requests[].{k}"));
    }
    keys
}

/// The first cell of each table row of docs/config.md: `` `key` ``.
fn documented_keys() -> BTreeSet<String> {
    let page = include_str!("../../docs/config.md");
    page.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn docs_config_md_lists_exactly_the_keys_the_parser_accepts() {
    let parsed = parser_keys();
    let documented = documented_keys();
    assert!(parsed.len() > 40, "too few keys read: {parsed:?}");
    let undocumented: Vec<_> = parsed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "keys the parser accepts that docs/config.md does not list: {undocumented:?}"
    );
    let refused: Vec<_> = documented.difference(&parsed).collect();
    assert!(
        refused.is_empty(),
        "keys docs/config.md lists that the parser refuses: {refused:?}"
    );
}
