//! nginx-edit: a lossless nginx config parser and editor.
//!
//! [`Document::parse`] accepts exactly the token syntax of nginx's own
//! tokenizer and [`Document::to_bytes`] returns the input byte for byte.
//! Edits change only the bytes of the directives they touch.

pub mod check;
pub mod cli;
pub mod crossplane;
pub mod directives;
mod document;
pub mod edit;
pub mod error;
pub mod includes;
pub mod json;
mod lex;
mod lua;
mod map;
mod parse;
mod upstream;
pub mod write;

pub use document::{BodyKind, Comment, Directive, Document, Item, Items, Token};
pub use edit::{EditError, Splice};
pub use error::{ErrorKind, ParseError};
pub use map::Map;
pub use parse::{is_lua_block, ParseMode, KEY_VALUE_BLOCKS};
pub use upstream::{DisableStyle, ServerState, Upstream, UpstreamServer};
