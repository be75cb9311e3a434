//! nginx-edit: a lossless nginx config parser and editor.
pub mod directives;
