//! A directive's arguments, read for the walk's checks once and only if
//! one needs them.

use super::args_of;
use crate::document::Directive;

/// A directive's arguments as nginx sees them, read once and only when a
/// check needs them (most directives need none).
pub(super) struct LazyArgs<'d> {
    directive: Directive<'d>,
    texts: std::cell::OnceCell<Vec<String>>,
}

impl<'d> LazyArgs<'d> {
    pub(super) fn new(directive: Directive<'d>) -> Self {
        LazyArgs {
            directive,
            texts: std::cell::OnceCell::new(),
        }
    }

    pub(super) fn get(&self) -> &[String] {
        self.texts.get_or_init(|| args_of(self.directive))
    }
}
