//! `bgswitch history`: the journal of switches and deploys.

use std::io::Write;

use crate::config::Config;
use crate::switch::exit;

/// Prints the journal: its JSON lines as they are, or one line a run.
pub fn run(cfg: &Config, as_json: bool) -> u8 {
    let entries = match super::journal(cfg) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut out = std::io::stdout().lock();
    for e in entries {
        if as_json {
            let _ = writeln!(out, "{}", serde_json::to_string(&e).unwrap_or_default());
        } else {
            let version = e
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let stopped = e
                .stopped
                .as_deref()
                .map(|p| format!("  stopped {p}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}  {:<8}{version} {} -> {}  {}  {} ms  {}{stopped}",
                e.time,
                e.command,
                e.from.as_deref().unwrap_or("-"),
                e.to.as_deref().unwrap_or("-"),
                e.result,
                e.ms,
                e.file
            );
        }
    }
    exit::OK
}
