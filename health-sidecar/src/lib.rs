//! health-sidecar: lifecycle status, drain and supervision beside an app.
//!
//! The binary is a thin `main` over [`daemon::main_with_args`]; the modules
//! are public so integration tests can drive the router and the state
//! machine directly.

pub mod auth;
pub mod cli;
pub mod client;
pub mod conns;
pub mod daemon;
pub mod http;
pub mod metrics;
pub mod monitor;
pub mod probe;
pub mod procstats;
pub mod shared;
pub mod sockdiag;
pub mod state;
pub mod supervise;
mod sys;
pub mod worker;
