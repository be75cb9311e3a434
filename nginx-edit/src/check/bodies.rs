//! The checks of `map`-like bodies' own handlers, entry by entry:
//! `split_clients` percentages, `geo` ranges and networks, `charset_map`
//! bytes, `map` parameters and the variables their values use.

use super::{args_of, core_args, directive_args, hash_keys, networks, regex, Walker};
use crate::directives::{Context, ModuleKind};
use crate::document::{Directive, Item};
use crate::includes::ConfigSet;

/// A map entry: its file, itself, the place nginx's map `cf` is at.
type MapEntry<'s> = (usize, Directive<'s>, (usize, usize));

impl<'s> Walker<'s> {
    /// The checks of a `map`-like body's own handler.
    pub(super) fn custom_body(&mut self, file: usize, d: Directive<'s>, name: &str, ctx: Context) {
        if name == "split_clients" {
            let entries: Vec<_> = d.children().collect();
            let keys: Vec<String> = entries.iter().map(|e| e.name_token().text()).collect();
            if let Err((i, message)) =
                directive_args::split_clients(keys.iter().map(String::as_str))
            {
                let at = match i.and_then(|i| entries.get(i)) {
                    Some(e) => e.span().end - 1,
                    None => d.span().end - 1,
                };
                self.error(file, at, message);
                return;
            }
        }
        if name == "charset_map" {
            let utf8 = d
                .arg(1)
                .is_some_and(|a| a.text().eq_ignore_ascii_case("utf-8"));
            for entry in d.children() {
                let key = entry.name_token().text();
                if let Err(message) = core_args::charset_map_entry(&key, &args_of(entry), utf8) {
                    self.error(file, entry.span().end - 1, message);
                    return;
                }
            }
        }
        if name == "geo" {
            // (`include` parses its file with the geo handler: its entries
            // are read in its place, their errors at their own lines)
            let mut geo = networks::Geo::new(ctx.module_kind() == ModuleKind::Stream);
            let mut entries = Vec::new();
            self.map_entries(file, d.children(), &mut entries, None, 0);
            for (file, entry, _) in entries {
                let key = entry.name_token().text();
                if let Err(message) = geo.entry(&key, &args_of(entry)) {
                    self.error(file, entry.span().end - 1, message);
                    return;
                }
            }
        }
        if name == "geoip2" {
            d.children()
                .for_each(|entry| self.define_anywhere(&entry.name_token().text()));
        }
        if name == "map" {
            self.map_body(file, d, ctx.module_kind() == ModuleKind::Http);
        }
        if name == "types" {
            // the types hash's keys: the extensions, included ones too
            let mut entries = Vec::new();
            self.map_entries(file, d.children(), &mut entries, None, 0);
            // (ngx_http_core_type: an `include` takes one file name)
            let include = entries
                .iter()
                .find(|(_, e, _)| e.arg_count() != 1 && e.name_token().text() == "include");
            if let Some((file, e, _)) = include {
                let message = "invalid number of arguments in \"include\" directive";
                self.error(*file, e.span().end - 1, message.into());
                return;
            }
            let longest = entries
                .iter()
                .flat_map(|(_, e, _)| e.args().map(|a| a.text().len()))
                .max();
            self.header_hashes.types(longest);
        }
    }

    /// `ngx_http_map` (`ngx_stream_map`) entry by entry: the parameter
    /// count, an `include` (its file's entries are read as its own), the
    /// value (a script), `default` once, then the key: a `~` key's
    /// pattern, whose named groups become variables, or a literal one
    /// added to the map's hash.
    fn map_body(&mut self, file: usize, d: Directive<'s>, http: bool) {
        // ngx_http_map_block gives the hash sizes their defaults: set now
        for field in ["map_hash_bucket_size", "map_hash_max_size"] {
            if let Some(block) = self.blocks.last_mut() {
                if !block.iter().any(|(k, _)| k == field) {
                    block.push((field.into(), field.into()));
                }
            }
        }
        let bucket = self.hash_setting("map_hash_bucket_size");
        let mut has_default = false;
        let mut hostnames = false;
        let mut keys = hash_keys::Keys::default();
        let mut entries = Vec::new();
        self.map_entries(file, d.children(), &mut entries, None, 0);
        for (file, entry, outer) in entries {
            let end = entry.span().end - 1;
            let n = entry.arg_count() + 1;
            let key = entry.name_token().text();
            if n == 1 && (key == "hostnames" || key == "volatile") {
                hostnames |= key == "hostnames";
                continue;
            }
            if n != 2 {
                self.error(file, end, "invalid number of the map parameters".into());
                return;
            }
            let value = entry.arg(0).map(|a| (a.text(), a.span().start));
            let value = value.as_ref().map(|(t, o)| (t.as_str(), *o));
            if let Some(vars) = self.variables.as_mut().filter(|_| http) {
                if let Err(message) = vars.map_entry(file, value) {
                    self.error(outer.0, outer.1, message);
                    return;
                }
            }
            if let (Some(vars), Some((text, offset))) = (self.stream_variables.as_mut(), value) {
                vars.value(file, text, offset);
            }
            if key == "default" {
                if has_default {
                    self.error(file, end, "duplicate default map parameter".into());
                    return;
                }
                has_default = true;
                continue;
            }
            // a regex is compiled with the map block's own `cf` (nginx's
            // ctx->cf): an included entry's error is put at the include
            let checked = if key.starts_with('~') {
                match regex::map_key(&key) {
                    Ok(names) if http => self.add_variables(names.iter().map(String::as_str)),
                    Ok(names) => self.stream_captures(&names),
                    Err(message) => Err(message),
                }
                .map_err(|message| (outer, message))
            } else {
                let literal = key.strip_prefix('\\').unwrap_or(&key);
                keys.add(literal.as_bytes(), hostnames)
                    .map_err(|message| ((file, end), message))
            };
            if let Err(((file, at), message)) = checked {
                self.error(file, at, message);
                return;
            }
        }
        // nginx names no line: the map's `}` it is
        // (only a map with keys builds its hash)
        let max = self.hash_setting("map_hash_max_size");
        if keys.is_empty() {
            return;
        }
        if let Err(message) = hash_keys::hash_init("map_hash", max, bucket, keys.longest_key()) {
            self.error(file, d.span().end - 1, message);
        }
    }

    /// A map body's entries as nginx reads them: an `include` of two
    /// parameters reads its files' entries in its place (the map's own
    /// handler reads them, so their `include`s too).
    /// Each entry comes with the place of the map's own file nginx is
    /// at meanwhile (the entry, or the top `include` it came through).
    fn map_entries(
        &self,
        file: usize,
        entries: impl Iterator<Item = Directive<'s>>,
        out: &mut Vec<MapEntry<'s>>,
        outer: Option<(usize, usize)>,
        depth: usize,
    ) {
        for entry in entries {
            let at = outer.unwrap_or((file, entry.span().end - 1));
            let include = entry.arg_count() == 1 && entry.name_token().text() == "include";
            if !include || depth > 64 {
                out.push((file, entry, at));
                continue;
            }
            let set: &'s ConfigSet = self.set;
            for &target in set.include_targets(file, entry.span().start) {
                let doc = set.files[target].doc();
                // (map includes are read as key/value files)
                if doc.mode() == crate::ParseMode::KeyValue {
                    let items = doc.items().filter_map(Item::into_directive);
                    self.map_entries(target, items, out, Some(at), depth + 1);
                }
            }
        }
    }
}
