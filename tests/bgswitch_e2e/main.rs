//! bgswitch end to end: a real nginx on loopback, two pools of real app
//! processes behind real health-sidecars, and the `bgswitch` binary run as
//! a user runs it, through switches and faults. Traffic goes only to
//! 127.0.0.1 and every wait is bounded. One module per topic; the lab
//! helpers are `e2e::lab`.
#![allow(clippy::unwrap_used)]

mod files;
mod no_pid_file;
mod nothing_changed;
mod rolled_back;
mod status;
mod zero_downtime;
