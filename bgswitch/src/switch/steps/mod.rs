//! The steps of a switch, one function each: from the run's context to
//! what it did ([`Ended`](super::context::Ended)) or why it failed
//! ([`Failed`](super::context::Failed)). A step records each change it
//! makes in `run.record`; it may add notes and progress, but its own
//! line is written by the runner, and it never undoes anything.

pub mod drain;
pub mod edit;
pub mod flag;
pub mod gate;
pub mod journal;
pub mod preflight;
pub mod prepare;
pub mod reload;
pub mod repair;
pub mod sees;
pub mod soak;
pub mod start;
pub mod stop;
pub mod verify;
