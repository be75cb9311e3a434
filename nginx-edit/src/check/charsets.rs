//! The charset filter as nginx 1.22.1 reads it
//! (`src/http/modules/ngx_http_charset_filter_module.c`): `charset_map`
//! between two charsets once (`ngx_http_charset_map_block`), and once the
//! http block is read, a map for every pair a merged location recodes
//! (`charset` and `source_charset` both set, not `off`, not variables,
//! not the same: `ngx_http_charset_merge_loc_conf`, then
//! `ngx_http_charset_postconfiguration`).

use super::Walker;
use crate::directives::Context;

/// A `charset` or `source_charset` value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// `charset off` (`source_charset off` names a charset "off").
    Off,
    /// `$name`: chosen per request.
    Variable,
    /// A charset, by its number in the order nginx first met the names.
    Charset(usize),
}

/// One level that nginx merges: the http block, a server, a location, an
/// `if` or `limit_except` block.
#[derive(Debug)]
struct Level {
    parent: Option<usize>,
    charset: Option<Value>,
    source: Option<Value>,
}

/// The charsets of one http block.
#[derive(Debug, Default)]
pub(super) struct Charsets {
    /// Charset names as first written (nginx compares them without case).
    names: Vec<String>,
    /// `charset_map` pairs.
    tables: Vec<(usize, usize)>,
    /// Levels in the order nginx merges them (as they open); `open` is
    /// the path to the innermost one being read.
    levels: Vec<Level>,
    open: Vec<usize>,
}

impl Charsets {
    /// `ngx_http_add_charset`: the charset's number.
    fn add(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        }
    }

    /// A block of context `ctx` opens.
    pub(super) fn open(&mut self, ctx: Context) {
        match ctx {
            Context::Http => *self = Charsets::default(),
            Context::HttpServer
            | Context::HttpLocation
            | Context::HttpSif
            | Context::HttpLif
            | Context::HttpLmt => {}
            _ => return,
        }
        self.levels.push(Level {
            parent: self.open.last().copied(),
            charset: None,
            source: None,
        });
        self.open.push(self.levels.len() - 1);
    }

    /// A block of context `ctx` closes.
    pub(super) fn close(&mut self, ctx: Context) {
        if matches!(
            ctx,
            Context::Http
                | Context::HttpServer
                | Context::HttpLocation
                | Context::HttpSif
                | Context::HttpLif
                | Context::HttpLmt
        ) {
            let Some(i) = self.open.pop() else { return };
            // A location that sets neither and kept no level below it
            // recodes what its parent does, which is counted already (a
            // big config has a level per block). Servers are kept: the
            // http level above them is not counted.
            let level = &self.levels[i];
            let bare = level.charset.is_none() && level.source.is_none();
            if bare
                && i + 1 == self.levels.len()
                && !matches!(ctx, Context::Http | Context::HttpServer)
            {
                self.levels.pop();
            }
        }
    }

    /// `charset`, `source_charset` or `charset_map` as its handler reads it.
    pub(super) fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        if name == "charset_map" {
            let [a, b] = args else {
                return Ok(());
            };
            let (src, dst) = (self.add(a), self.add(b));
            if src == dst {
                return Err(format!(
                    "\"charset_map\" between the same charsets \"{a}\" and \"{b}\""
                ));
            }
            if self.tables.contains(&(src, dst)) || self.tables.contains(&(dst, src)) {
                return Err(format!(
                    "duplicate \"charset_map\" between \"{a}\" and \"{b}\""
                ));
            }
            self.tables.push((src, dst));
            return Ok(());
        }
        let Some(v) = args.first() else {
            return Ok(());
        };
        let value = if name == "charset" && v == "off" {
            Value::Off
        } else if v.starts_with('$') {
            Value::Variable
        } else {
            Value::Charset(self.add(v))
        };
        if let Some(level) = self.open.last().and_then(|&i| self.levels.get_mut(i)) {
            match name {
                "charset" => level.charset = Some(value),
                "source_charset" => level.source = Some(value),
                _ => {}
            }
        }
        Ok(())
    }

    /// The value a level has once merged with its parents.
    fn merged(&self, mut i: usize, pick: fn(&Level) -> &Option<Value>) -> Value {
        loop {
            let level = &self.levels[i];
            if let Some(v) = pick(level) {
                return v.clone();
            }
            match level.parent {
                Some(p) => i = p,
                None => return Value::Off,
            }
        }
    }

    /// The first pair a merged level recodes that no `charset_map` maps
    /// (the http level itself is never merged: only servers and below).
    pub(super) fn missing_map(&self) -> Option<String> {
        let mut recodes: Vec<(usize, usize)> = Vec::new();
        for i in 1..self.levels.len() {
            let charset = self.merged(i, |l| &l.charset);
            let source = self.merged(i, |l| &l.source);
            if let (Value::Charset(dst), Value::Charset(src)) = (charset, source) {
                if src != dst && !recodes.contains(&(src, dst)) {
                    recodes.push((src, dst));
                }
            }
        }
        recodes
            .into_iter()
            .find(|&(s, d)| !self.tables.contains(&(s, d)) && !self.tables.contains(&(d, s)))
            .map(|(s, d)| {
                format!(
                    "no \"charset_map\" between the charsets \"{}\" and \"{}\"",
                    self.names[s], self.names[d]
                )
            })
    }
}

impl Walker<'_> {
    /// After the http block's modules' postconfiguration order reaches the
    /// charset filter: a recoded pair without a map (no line in nginx).
    pub(super) fn charset_checks(&mut self, at: (usize, usize)) {
        if !self.from_main || !self.set.unresolved.is_empty() {
            return;
        }
        if let Some(message) = self.charsets.missing_map() {
            self.error(at.0, at.1, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn maps_and_recodes() {
        let mut c = Charsets::default();
        c.open(Context::Http);
        assert_eq!(c.directive("charset_map", &words("koi8-r utf-8")), Ok(()));
        assert_eq!(
            c.directive("charset_map", &words("UTF-8 KOI8-R")),
            Err("duplicate \"charset_map\" between \"UTF-8\" and \"KOI8-R\"".into())
        );
        assert_eq!(
            c.directive("charset_map", &words("a A")),
            Err("\"charset_map\" between the same charsets \"a\" and \"A\"".into())
        );
        c.directive("charset", &words("utf-8")).ok();
        c.directive("source_charset", &words("koi8-r")).ok();
        // no server: the http level is not merged
        assert_eq!(c.missing_map(), None);
        c.open(Context::HttpServer);
        assert_eq!(c.missing_map(), None);
        c.open(Context::HttpLocation);
        c.directive("source_charset", &words("windows-1251")).ok();
        assert_eq!(
            c.missing_map(),
            Some("no \"charset_map\" between the charsets \"windows-1251\" and \"utf-8\"".into())
        );
        c.directive("charset", &words("off")).ok();
        assert_eq!(c.missing_map(), None);
    }

    /// A location that sets neither and holds no kept level recodes what
    /// its parent does: dropped at its close, the verdict unchanged.
    #[test]
    fn bare_locations_are_dropped() {
        let mut c = Charsets::default();
        c.open(Context::Http);
        c.open(Context::HttpServer);
        c.directive("charset", &words("utf-8")).ok();
        c.directive("source_charset", &words("koi8-r")).ok();
        let missing = c.missing_map();
        assert!(missing.is_some());
        c.open(Context::HttpLocation);
        c.open(Context::HttpLif);
        c.close(Context::HttpLif);
        c.close(Context::HttpLocation);
        assert_eq!(c.levels.len(), 2, "http and the server");
        c.open(Context::HttpLocation);
        c.directive("charset", &words("off")).ok();
        c.close(Context::HttpLocation);
        assert_eq!(c.levels.len(), 3, "a location that sets one is kept");
        c.close(Context::HttpServer);
        assert_eq!(c.levels.len(), 3, "a server is kept");
        assert_eq!(c.missing_map(), missing);
    }
}
