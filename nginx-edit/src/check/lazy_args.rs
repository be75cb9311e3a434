//! A directive's arguments, read for the walk's checks once and only if
//! one needs them, into strings the walk reuses from one directive to the
//! next (a fresh `String` per argument was a sixth of check's time, in
//! malloc and free).

use std::cell::{Cell, OnceCell};

use crate::document::Directive;

/// A directive's arguments as nginx sees them, read once and only when a
/// check needs them (most directives need none).
pub(super) struct LazyArgs<'d> {
    directive: Directive<'d>,
    /// The buffers to read into until they are read ([`ArgBuffers::take`]).
    spare: Cell<Vec<String>>,
    /// The buffers and how many of them hold this directive's arguments.
    texts: OnceCell<(Vec<String>, usize)>,
}

impl<'d> LazyArgs<'d> {
    /// Reads `directive`'s arguments, when asked, into `buffers` (strings
    /// kept from earlier directives, their capacity reused).
    pub(super) fn new(directive: Directive<'d>, buffers: Vec<String>) -> Self {
        LazyArgs {
            directive,
            spare: Cell::new(buffers),
            texts: OnceCell::new(),
        }
    }

    pub(super) fn get(&self) -> &[String] {
        let (texts, n) = self.texts.get_or_init(|| {
            let mut texts = self.spare.take();
            let mut n = 0;
            for (i, arg) in self.directive.args().enumerate() {
                let text = arg.text_cow();
                match texts.get_mut(i) {
                    Some(t) => {
                        t.clear();
                        t.push_str(&text);
                    }
                    None => texts.push(text.into_owned()),
                }
                n = i + 1;
            }
            (texts, n)
        });
        &texts[..*n]
    }

    /// The buffers back, for the next directive.
    pub(super) fn into_buffers(self) -> Vec<String> {
        match self.texts.into_inner() {
            Some((texts, _)) => texts,
            None => self.spare.into_inner(),
        }
    }
}

/// Argument buffers for the directives being read: one set per open
/// block level (a block's directive is still being checked while its
/// inner directives are read).
#[derive(Default)]
pub(super) struct ArgBuffers(Vec<Vec<String>>);

impl ArgBuffers {
    pub(super) fn take(&mut self) -> Vec<String> {
        self.0.pop().unwrap_or_default()
    }

    pub(super) fn give_back(&mut self, buffers: Vec<String>) {
        self.0.push(buffers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    #[test]
    fn reused_buffers_hold_only_this_directives_arguments() {
        let doc = Document::parse(b"a one two \"thr ee\";\nb x;\nc;\n").expect("parses");
        let mut pool = ArgBuffers::default();
        let mut seen = Vec::new();
        for d in doc.directives() {
            let args = LazyArgs::new(d, pool.take());
            seen.push(args.get().to_vec());
            pool.give_back(args.into_buffers());
        }
        assert_eq!(seen, [vec!["one", "two", "thr ee"], vec!["x"], vec![]]);
    }
}
