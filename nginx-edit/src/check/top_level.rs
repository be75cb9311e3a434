//! What the top level of a file tells before the walk: the context a
//! snippet is checked in, and whether a main config has its `events`.

use super::Walker;
use crate::directives::Context;
use crate::document::{Item, Items};

impl Walker<'_> {
    /// The first context in which every known top-level directive of a
    /// file is allowed: `Main` for an `nginx.conf`, `Http` for a `conf.d`
    /// file of `server` blocks, and so on. Unknown names (a third-party
    /// module's) are left out: nginx rejects them in every context, so
    /// they must not push a snippet of `gzip` lines to `Main`. A directive
    /// only the main level takes (`events`, `http`, `worker_processes`)
    /// makes it a main config whatever else is wrong, as `nginx -t` reads
    /// it; otherwise, when no context takes them all, the one that takes
    /// the most.
    pub(super) fn guess_context(&self, items: Items<'_>) -> Context {
        const ORDER: [Context; 6] = [
            Context::Main,
            Context::Http,
            Context::HttpServer,
            Context::HttpLocation,
            Context::Stream,
            Context::StreamServer,
        ];
        let names: Vec<String> = items
            .filter_map(Item::into_directive)
            .map(|d| crate::lex::as_text(&d.name()).into_owned())
            .filter(|n| self.directives.is_known(n))
            .collect();
        let fits = |n: &str, ctx: Context| self.directives.candidates(n).any(|d| d.allowed_in(ctx));
        let main_only = |n: &str| fits(n, Context::Main) && !ORDER[1..].iter().any(|&c| fits(n, c));
        if names.iter().any(|n| main_only(n)) {
            return Context::Main;
        }
        let allowed = |ctx: Context| names.iter().filter(|n| fits(n, ctx)).count();
        let mut best = (Context::Main, 0);
        for ctx in ORDER {
            let n = allowed(ctx);
            if n == names.len() {
                return ctx;
            }
            if n > best.1 {
                best = (ctx, n);
            }
        }
        best.0
    }

    /// Whether an `events` block is at the top level (or in a top-level
    /// include).
    pub(super) fn saw_events(&self, file: usize, items: Items<'_>) -> bool {
        items.filter_map(Item::into_directive).any(|d| {
            d.is("events")
                || (d.is("include")
                    && self
                        .set
                        .include_targets(file, d.span().start)
                        .iter()
                        .any(|&t| self.saw_events(t, self.set.files[t].doc().items())))
        })
    }
}
