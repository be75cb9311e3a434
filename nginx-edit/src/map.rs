//! `map SOURCE $RESULT { default VALUE; key value; ... }` blocks, found by
//! their result variable, and the blue-green edit of their `default`.

use crate::document::{Directive, Document, Item};
use crate::edit::{render_like, render_token, EditError, Splice};

/// A `map` block.
#[derive(Debug, Clone, Copy)]
pub struct Map<'a> {
    directive: Directive<'a>,
}

impl<'a> Map<'a> {
    /// The variable the map sets, with its `$` (`$backend`).
    pub fn variable(&self) -> String {
        self.directive.arg(1).map(|t| t.text()).unwrap_or_default()
    }

    /// The source expression (`$http_x_deploy_color`).
    pub fn source(&self) -> String {
        self.directive.arg(0).map(|t| t.text()).unwrap_or_default()
    }

    /// The `map` directive.
    pub fn directive(&self) -> Directive<'a> {
        self.directive
    }

    /// The `default` entries (nginx allows one; a second is its error).
    pub fn default_entries(&self) -> Vec<Directive<'a>> {
        self.directive
            .children()
            .filter(|d| d.is("default") && d.arg_count() == 1)
            .collect()
    }

    /// The default value as nginx reads it; `None` when the map has no
    /// `default` line (nginx then uses an empty string).
    pub fn default(&self) -> Option<String> {
        self.default_entries()
            .first()
            .and_then(|d| d.arg(0))
            .map(|t| t.text())
    }

    /// The `key value` entries other than `default`, `hostnames`,
    /// `volatile` and `include`, as (key, value) pairs.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.directive
            .children()
            .filter(|d| d.arg_count() == 1 && !d.is("default") && !d.is("include"))
            .map(|d| {
                (
                    d.name_token().text(),
                    d.arg(0).map(|t| t.text()).unwrap_or_default(),
                )
            })
            .collect()
    }
}

/// `$backend` and `backend` both name the variable `$backend`.
fn normalize(variable: &str) -> String {
    if variable.starts_with('$') {
        variable.to_string()
    } else {
        format!("${variable}")
    }
}

impl Document {
    /// Every `map` block, in source order.
    pub fn maps(&self) -> Vec<Map<'_>> {
        self.walk()
            .filter(|d| d.is("map") && d.arg_count() == 2 && d.block().is_some())
            .map(|directive| Map { directive })
            .collect()
    }

    /// The map whose result variable is `variable` (`$backend` or `backend`).
    pub fn map(&self, variable: &str) -> Result<Map<'_>, EditError> {
        let var = normalize(variable);
        let found: Vec<_> = self
            .maps()
            .into_iter()
            .filter(|m| m.variable() == var)
            .collect();
        match found.len() {
            0 => Err(EditError::MapNotFound(var)),
            1 => Ok(found[0]),
            _ => Err(EditError::Ambiguous {
                name: format!("map {var}"),
                places: found
                    .iter()
                    .map(|m| format!("line {}", m.directive.line()))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Sets the map's `default` value, keeping its quoting; adds a
    /// `default` line after the last entry when there is none.
    pub fn map_set_default(&self, variable: &str, value: &str) -> Result<Document, EditError> {
        let map = self.map(variable)?;
        let defaults = map.default_entries();
        let mut splices = Vec::new();
        for d in &defaults {
            if let Some(tok) = d.arg(0) {
                if &*tok.value() != value.as_bytes() {
                    splices.push(Splice::replace(
                        tok.span(),
                        render_like(tok.raw(), value.as_bytes()),
                    ));
                }
            }
        }
        if defaults.is_empty() {
            splices.push(self.new_default_line(map, value));
        }
        self.apply(&splices)
    }

    /// Where and how to add `default VALUE;` to a map that has none.
    fn new_default_line(&self, map: Map<'_>, value: &str) -> Splice {
        let line = [&b"default "[..], &render_token(value.as_bytes()), b";"].concat();
        let src = self.as_bytes();
        let nl = self.newline();
        let last_entry = map
            .directive
            .block()
            .into_iter()
            .flatten()
            .filter_map(|i| match i {
                Item::Directive(d) => Some(d.span()),
                Item::Comment(c) => (c.starts_line() && !c.in_args()).then(|| c.span()),
            })
            .last();
        if let Some(last) = last_entry {
            let line_end = self.line_end(last.end);
            let rest = &src[last.end..line_end];
            let rest_is_trivia = rest
                .iter()
                .position(|&c| c != b' ' && c != b'\t' && c != b'\r')
                .is_none_or(|p| rest[p] == b'#');
            if let (true, Some(indent)) = (rest_is_trivia, self.indent_before(last.start)) {
                // After the last entry's line (and its trailing comment).
                let at = if line_end > 0 && src.get(line_end - 1) == Some(&b'\r') {
                    line_end - 1
                } else {
                    line_end
                };
                return Splice::insert(at, [nl, indent, &line].concat());
            }
            return Splice::insert(last.end, [&b" "[..], &line].concat());
        }
        // An empty map: put the line inside the braces.
        let open = map.directive.open_brace().unwrap_or(0);
        let close = map.directive.span().end - 1;
        if src[open..close].contains(&b'\n') {
            let indent = self
                .indent_before(map.directive.span().start)
                .unwrap_or(b"");
            let unit: &[u8] = if indent.starts_with(b"\t") {
                b"\t"
            } else {
                b"    "
            };
            Splice::insert(open + 1, [nl, indent, unit, &line].concat())
        } else {
            Splice::insert(open + 1, [&b" "[..], &line, b" "].concat())
        }
    }
}
