//! `ngx_conf_handler`'s refusals of a directive, worded as nginx words them.

use std::fmt;

/// The `ngx_conf_handler` errors, with nginx's exact wording as `Display`
/// (nginx prints them as `[emerg] <message> in <file>:<line>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectiveError {
    /// `unknown directive "X"`
    Unknown {
        /// Directive name.
        name: String,
    },
    /// `"X" directive is not allowed here`
    NotAllowedHere {
        /// Directive name.
        name: String,
    },
    /// `directive "X" is not terminated by ";"`
    NotTerminated {
        /// Directive name.
        name: String,
    },
    /// `directive "X" has no opening "{"`
    NoOpeningBrace {
        /// Directive name.
        name: String,
    },
    /// `invalid number of arguments in "X" directive`
    InvalidArgCount {
        /// Directive name.
        name: String,
    },
    /// `invalid value "V" in "X" directive, it must be "on" or "off"`
    /// (from `ngx_conf_set_flag_slot`, not `ngx_conf_handler`).
    InvalidFlagValue {
        /// Directive name.
        name: String,
        /// The offending value.
        value: String,
    },
    /// `invalid value "V"`: an argument that the enum or bitmask handler
    /// does not list (`ssl_protocols TLSv1.4`); nginx logs it itself, so
    /// the message does not name the directive.
    InvalidValue {
        /// Directive name.
        name: String,
        /// The offending value.
        value: String,
    },
}

impl DirectiveError {
    /// The directive name the error is about.
    pub fn name(&self) -> &str {
        match self {
            DirectiveError::Unknown { name }
            | DirectiveError::NotAllowedHere { name }
            | DirectiveError::NotTerminated { name }
            | DirectiveError::NoOpeningBrace { name }
            | DirectiveError::InvalidArgCount { name }
            | DirectiveError::InvalidFlagValue { name, .. }
            | DirectiveError::InvalidValue { name, .. } => name,
        }
    }
}

impl fmt::Display for DirectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectiveError::Unknown { name } => write!(f, "unknown directive \"{name}\""),
            DirectiveError::NotAllowedHere { name } => {
                write!(f, "\"{name}\" directive is not allowed here")
            }
            DirectiveError::NotTerminated { name } => {
                write!(f, "directive \"{name}\" is not terminated by \";\"")
            }
            DirectiveError::NoOpeningBrace { name } => {
                write!(f, "directive \"{name}\" has no opening \"{{\"")
            }
            DirectiveError::InvalidArgCount { name } => {
                write!(f, "invalid number of arguments in \"{name}\" directive")
            }
            DirectiveError::InvalidFlagValue { name, value } => write!(
                f,
                "invalid value \"{value}\" in \"{name}\" directive, it must be \"on\" or \"off\""
            ),
            DirectiveError::InvalidValue { value, .. } => write!(f, "invalid value \"{value}\""),
        }
    }
}

impl std::error::Error for DirectiveError {}
