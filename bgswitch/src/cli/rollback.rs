//! `bgswitch rollback`: the journal says which pool was live before the
//! last switch; the switch's own steps take it back there.

use crate::config::Config;
use crate::report::Reporter;
use crate::switch::{self, exit, SwitchOptions};

/// Switches back to the pool before the last switch (its `start` first
/// when `deploy` stopped it); any failure of its own is exit 7.
pub fn run(cfg: &Config, as_json: bool) -> u8 {
    let entries = match super::journal(cfg) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let Some(last) = entries.iter().rev().find(|e| e.result == "switched") else {
        eprintln!(
            "error: {}: no switch to roll back",
            cfg.state.journal.display()
        );
        return exit::CONFIG;
    };
    let Some(previous) = last.from.clone() else {
        eprintln!("error: the last switch had no previous pool to go back to");
        return exit::CONFIG;
    };
    // A deploy that stopped the old pool: start it again with the version
    // the journal recorded for it, then gate (on that version) and switch.
    let version = match &last.stopped {
        Some(stopped) if *stopped == previous => match last.versions.get(&previous) {
            Some(v) => Some(v.clone()),
            None => {
                eprintln!(
                    "error: {}: the last deploy stopped {previous}, but the journal has no version for it: start it by hand (pools.{previous}.start), then run rollback again",
                    cfg.state.journal.display()
                );
                return exit::CONFIG;
            }
        },
        _ => None,
    };
    let opts = SwitchOptions {
        to: Some(previous),
        command: "rollback".into(),
        no_stop: true,
        version,
        ..SwitchOptions::default()
    };
    let outcome = switch::run(cfg, &opts, &mut Reporter::new(as_json));
    match outcome.result {
        // A rollback whose own steps failed and were undone leaves the
        // new pool live: the rollback failed.
        "rolled_back" | "failed" => exit::ROLLBACK_FAILED,
        _ => outcome.code,
    }
}
