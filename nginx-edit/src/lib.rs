//! nginx-edit: a lossless nginx config parser and editor.
//!
//! [`Document::parse`] accepts exactly the token syntax of nginx's own
//! tokenizer and [`Document::to_bytes`] returns the input byte for byte.
//! Edits change only the bytes of the directives they touch.

pub mod directives;
mod document;
pub mod error;
mod lex;
mod lua;
mod parse;

pub use document::{BodyKind, Comment, Directive, Document, Item, Items, Token};
pub use error::{ErrorKind, ParseError};
pub use parse::{is_lua_block, ParseMode, KEY_VALUE_BLOCKS};
