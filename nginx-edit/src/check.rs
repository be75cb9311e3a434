//! Offline validation (`nginx-edit check`): the problems `nginx -t` would
//! report after a successful parse, in nginx's own words.
//!
//! Syntax errors are found by the parser and include cycles by the loader;
//! this module walks the parsed files with their block context.

use crate::document::{BodyKind, Directive, Document};
use crate::includes::ConfigSet;

/// A finding of the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// `"error"` or `"warning"`.
    pub severity: &'static str,
    pub message: String,
}

/// Checks every file of a loaded configuration.
pub fn check_set(set: &ConfigSet, _allow_unknown: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in &set.files {
        let file = f.path.display().to_string();
        check_document(f.doc(), &file, &mut out);
    }
    out
}

/// Checks one document.
pub fn check_document(doc: &Document, file: &str, out: &mut Vec<Finding>) {
    let error = |d: &Directive<'_>, offset: usize, message: String| {
        let (line, column) = d.document().line_col(offset);
        Finding {
            file: file.to_string(),
            line,
            column,
            severity: "error",
            message,
        }
    };
    for d in doc.walk() {
        if d.is("map") && d.body_kind() == BodyKind::KeyValue {
            let defaults: Vec<_> = d.children().filter(|e| e.is("default")).collect();
            for dup in defaults.iter().skip(1) {
                out.push(error(
                    dup,
                    dup.span().start,
                    "duplicate default map parameter".into(),
                ));
            }
        }
        if d.is("upstream") && d.body_kind() == BodyKind::Block {
            let has_server = d.children().any(|c| c.is("server"));
            if !has_server {
                // nginx reports it when the block ends, at the `}` line.
                out.push(error(
                    &d,
                    d.span().end - 1,
                    "no servers are inside upstream".into(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn findings(src: &str) -> Vec<(usize, String)> {
        let doc = Document::parse(src.as_bytes()).unwrap();
        let mut out = Vec::new();
        check_document(&doc, "t.conf", &mut out);
        out.into_iter().map(|f| (f.line, f.message)).collect()
    }

    #[test]
    fn empty_upstream_and_duplicate_default() {
        assert_eq!(
            findings("upstream a {\n  # server x;\n}\nmap $a $b {\n default 1;\n default 2;\n}\n"),
            vec![
                (3, "no servers are inside upstream".to_string()),
                (6, "duplicate default map parameter".to_string())
            ]
        );
        assert!(findings("upstream a { server x:1; }").is_empty());
    }
}
