//! Upstream blocks and their servers: reading their state and the
//! blue-green edits (enable, disable, only, replace).
//!
//! A server is *enabled* (`server A;`), *down* (`server A down;`) or
//! *commented* (`# server A;` on a line of its own inside the upstream).
//! Servers are matched on their address as written.

use crate::document::{Comment, Directive, Document, Item};
use crate::edit::{render_like, EditError, Splice};

/// How a server is switched off, or on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    Enabled,
    Down,
    Commented,
}

impl ServerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Enabled => "enabled",
            ServerState::Down => "down",
            ServerState::Commented => "commented",
        }
    }
}

/// How to disable a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisableStyle {
    /// `server A;` becomes `# server A;`.
    Comment,
    /// `server A;` becomes `server A down;`.
    Down,
}

/// An `upstream NAME { ... }` block.
#[derive(Debug, Clone, Copy)]
pub struct Upstream<'a> {
    directive: Directive<'a>,
}

/// One `server` line of an upstream, live or commented out.
#[derive(Debug, Clone)]
pub struct UpstreamServer {
    /// The address as nginx reads it (`127.0.0.1:3001`, `unix:/run/a.sock`).
    pub address: String,
    pub state: ServerState,
    /// Parameters after the address, as written (`weight=5`, `backup` ...),
    /// `down` excluded.
    pub params: Vec<String>,
    /// 1-based line.
    pub line: usize,
    /// Absolute byte ranges of the address token and of each `down` token
    /// (with the whitespace before it), and of the directive.
    address_span: std::ops::Range<usize>,
    address_raw: Vec<u8>,
    down_spans: Vec<std::ops::Range<usize>>,
    /// End of the last argument (where ` down` goes).
    args_end: usize,
    directive_span: std::ops::Range<usize>,
    /// For a commented server: the range from the start of its line to the
    /// start of the `server` word inside the comment.
    comment_prefix: Option<std::ops::Range<usize>>,
}

impl<'a> Upstream<'a> {
    /// The upstream's name.
    pub fn name(&self) -> String {
        self.directive.arg(0).map(|t| t.text()).unwrap_or_default()
    }

    /// The `upstream` directive.
    pub fn directive(&self) -> Directive<'a> {
        self.directive
    }

    /// 1-based line of the `upstream` directive.
    pub fn line(&self) -> usize {
        self.directive.line()
    }

    /// Its servers in source order, commented ones included.
    pub fn servers(&self) -> Vec<UpstreamServer> {
        let doc = self.directive.document();
        let mut out = Vec::new();
        for item in self.directive.block().into_iter().flatten() {
            match item {
                Item::Directive(d) if d.is("server") && d.arg_count() >= 1 => {
                    out.push(live_server(d));
                }
                Item::Comment(c) => {
                    if let Some(s) = commented_server(doc, c) {
                        out.push(s);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The disable style the upstream already uses: `Comment` if it has a
    /// commented-out server, `Down` if it has a `down` server, else `None`.
    pub fn detected_style(&self) -> Option<DisableStyle> {
        let servers = self.servers();
        if servers.iter().any(|s| s.state == ServerState::Commented) {
            Some(DisableStyle::Comment)
        } else if servers.iter().any(|s| s.state == ServerState::Down) {
            Some(DisableStyle::Down)
        } else {
            None
        }
    }
}

fn live_server(d: Directive<'_>) -> UpstreamServer {
    let args: Vec<_> = d.args().collect();
    let mut params = Vec::new();
    let mut down_spans = Vec::new();
    for (i, a) in args.iter().enumerate().skip(1) {
        if &*a.value() == b"down" {
            down_spans.push(args[i - 1].span().end..a.span().end);
        } else {
            params.push(a.text());
        }
    }
    let state = if down_spans.is_empty() {
        ServerState::Enabled
    } else {
        ServerState::Down
    };
    UpstreamServer {
        address: args[0].text(),
        state,
        params,
        line: d.line(),
        address_span: args[0].span(),
        address_raw: args[0].raw().to_vec(),
        down_spans,
        args_end: args[args.len() - 1].span().end,
        directive_span: d.span(),
        comment_prefix: None,
    }
}

/// A comment on a line of its own whose text is exactly one `server ADDR
/// [params];` directive (optionally followed by a comment) is a server that
/// was commented out.
fn commented_server(doc: &Document, c: Comment<'_>) -> Option<UpstreamServer> {
    if !c.starts_line() || c.in_args() {
        return None;
    }
    let text = c.text();
    let inner = Document::parse(text).ok()?;
    let mut directives = inner.directives();
    let d = directives.next()?;
    if directives.next().is_some() || !d.is("server") || d.arg_count() == 0 || d.block().is_some() {
        return None;
    }
    if d.body_kind() != crate::BodyKind::None {
        return None;
    }
    let base = c.span().start + 1;
    let mut s = live_server(d);
    let shift = |r: std::ops::Range<usize>| r.start + base..r.end + base;
    s.address_span = shift(s.address_span);
    s.down_spans = s.down_spans.into_iter().map(shift).collect();
    s.args_end += base;
    s.directive_span = shift(s.directive_span);
    s.state = ServerState::Commented;
    s.line = c.line();
    s.comment_prefix = Some(doc.line_start(c.span().start)..s.directive_span.start);
    Some(s)
}

impl Document {
    /// Every `upstream` block, in source order.
    pub fn upstreams(&self) -> Vec<Upstream<'_>> {
        self.walk()
            .filter(|d| d.is("upstream") && d.block().is_some() && d.arg_count() >= 1)
            .map(|directive| Upstream { directive })
            .collect()
    }

    /// The upstream called `name`. Two upstreams with that name (say one in
    /// `http` and one in `stream`) are ambiguous.
    pub fn upstream(&self, name: &str) -> Result<Upstream<'_>, EditError> {
        let found: Vec<_> = self
            .upstreams()
            .into_iter()
            .filter(|u| u.name() == name)
            .collect();
        match found.len() {
            0 => Err(EditError::UpstreamNotFound(name.to_string())),
            1 => Ok(found[0]),
            _ => Err(EditError::Ambiguous {
                name: format!("upstream {name}"),
                places: lines_of(found.iter().map(|u| u.line())),
            }),
        }
    }

    /// Enables `server` in `upstream`: removes its `down` flag or
    /// uncomments it (the uncommented line takes its neighbours' indent).
    pub fn upstream_enable(&self, upstream: &str, server: &str) -> Result<Document, EditError> {
        let plan = Plan::new(self, upstream)?;
        let targets = plan.matching(server)?;
        let mut splices = Vec::new();
        for s in targets {
            plan.enable(s, &mut splices);
        }
        self.apply(&splices)
    }

    /// Disables `server` in `upstream`. `style` `None` follows the style the
    /// upstream already uses (`down` when it uses neither). Refuses to leave
    /// the upstream with no enabled server unless `force`.
    pub fn upstream_disable(
        &self,
        upstream: &str,
        server: &str,
        style: Option<DisableStyle>,
        force: bool,
    ) -> Result<Document, EditError> {
        let plan = Plan::new(self, upstream)?;
        let targets = plan.matching(server)?;
        let style = plan.style(style);
        let mut splices = Vec::new();
        for s in &targets {
            plan.disable(s, style, &mut splices)?;
        }
        let remaining = plan
            .servers
            .iter()
            .filter(|s| {
                s.state == ServerState::Enabled && !targets.iter().any(|t| std::ptr::eq(*t, *s))
            })
            .count();
        if remaining == 0 && !force && !splices.is_empty() {
            return Err(EditError::LastServer {
                upstream: upstream.to_string(),
            });
        }
        self.apply(&splices)
    }

    /// Enables `server` and disables every other server of `upstream`: the
    /// one-step blue-green flip.
    pub fn upstream_only(
        &self,
        upstream: &str,
        server: &str,
        style: Option<DisableStyle>,
    ) -> Result<Document, EditError> {
        let plan = Plan::new(self, upstream)?;
        let targets = plan.matching(server)?;
        let style = plan.style(style);
        let mut splices = Vec::new();
        for s in &plan.servers {
            if targets.iter().any(|t| std::ptr::eq(*t, s)) {
                plan.enable(s, &mut splices);
            } else if s.address != server {
                plan.disable(s, style, &mut splices)?;
            }
        }
        self.apply(&splices)
    }

    /// Replaces the address `old` with `new` in `upstream`, keeping the
    /// server's parameters, state and quoting. Enabled servers are edited;
    /// when none has `old`, commented ones are.
    pub fn upstream_replace(
        &self,
        upstream: &str,
        old: &str,
        new: &str,
    ) -> Result<Document, EditError> {
        if new.is_empty() {
            return Err(EditError::InvalidValue("the new address is empty".into()));
        }
        let plan = Plan::new(self, upstream)?;
        let chosen = plan.matching(old)?;
        let splices: Vec<Splice> = chosen
            .iter()
            .map(|s| {
                Splice::replace(
                    s.address_span.clone(),
                    render_like(&s.address_raw, new.as_bytes()),
                )
            })
            .collect();
        self.apply(&splices)
    }
}

fn lines_of(lines: impl Iterator<Item = usize>) -> String {
    let v: Vec<String> = lines.map(|l| format!("line {l}")).collect();
    v.join(", ")
}

/// The servers of one upstream and the context an edit needs.
struct Plan<'a> {
    doc: &'a Document,
    upstream: Upstream<'a>,
    servers: Vec<UpstreamServer>,
}

impl<'a> Plan<'a> {
    fn new(doc: &'a Document, name: &str) -> Result<Self, EditError> {
        let upstream = doc.upstream(name)?;
        Ok(Plan {
            doc,
            upstream,
            servers: upstream.servers(),
        })
    }

    /// The servers with `address`: the live ones when there are any (a
    /// commented duplicate of a live server is left alone), else the
    /// commented ones.
    fn matching(&self, address: &str) -> Result<Vec<&UpstreamServer>, EditError> {
        let found: Vec<_> = self
            .servers
            .iter()
            .filter(|s| s.address == address)
            .collect();
        if found.is_empty() {
            return Err(EditError::ServerNotFound {
                upstream: self.upstream.name(),
                server: address.to_string(),
            });
        }
        let live: Vec<_> = found
            .iter()
            .copied()
            .filter(|s| s.state != ServerState::Commented)
            .collect();
        Ok(if live.is_empty() { found } else { live })
    }

    fn style(&self, asked: Option<DisableStyle>) -> DisableStyle {
        asked
            .or_else(|| self.upstream.detected_style())
            .unwrap_or(DisableStyle::Down)
    }

    /// The indentation of the live server lines nearest to `offset`.
    fn neighbour_indent(&self, offset: usize) -> Option<Vec<u8>> {
        let mut best: Option<(usize, Vec<u8>)> = None;
        for d in self.upstream.directive.children() {
            let start = d.span().start;
            if let Some(indent) = self.doc.indent_before(start) {
                let dist = start.abs_diff(offset);
                if best.as_ref().is_none_or(|(b, _)| dist < *b) {
                    best = Some((dist, indent.to_vec()));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    fn enable(&self, s: &UpstreamServer, splices: &mut Vec<Splice>) {
        for d in &s.down_spans {
            splices.push(Splice::delete(d.clone()));
        }
        if let Some(prefix) = &s.comment_prefix {
            let line = &self.doc.as_bytes()[prefix.clone()];
            let own = &line[..line.len() - trim_start(line).len()];
            let indent = self
                .neighbour_indent(prefix.start)
                .unwrap_or_else(|| own.to_vec());
            splices.push(Splice::replace(prefix.clone(), indent));
        }
    }

    fn disable(
        &self,
        s: &UpstreamServer,
        style: DisableStyle,
        splices: &mut Vec<Splice>,
    ) -> Result<(), EditError> {
        if s.state != ServerState::Enabled {
            return Ok(());
        }
        match style {
            DisableStyle::Down => splices.push(Splice::insert(s.args_end, &b" down"[..])),
            DisableStyle::Comment => {
                let start = s.directive_span.start;
                let end = s.directive_span.end;
                let cannot = |reason| EditError::CannotComment {
                    server: s.address.clone(),
                    line: s.line,
                    reason,
                };
                if self.doc.indent_before(start).is_none() {
                    return Err(cannot("something precedes it on its line"));
                }
                if self.doc.as_bytes()[start..end].contains(&b'\n') {
                    return Err(cannot("it spans several lines"));
                }
                let rest = &self.doc.as_bytes()[end..self.doc.line_end(end)];
                let rest = trim_start(rest);
                if !(rest.is_empty() || rest == b"\r" || rest.starts_with(b"#")) {
                    return Err(cannot("something follows it on its line"));
                }
                splices.push(Splice::insert(start, &b"# "[..]));
            }
        }
        Ok(())
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &b[n..]
}
